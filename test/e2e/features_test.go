//go:build e2e

/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// byUser narrows a subscription to one test's messages: the collection is
// shared by the whole suite.
func byUser(user string) *v1alpha1.DirectusQuery {
	return &v1alpha1.DirectusQuery{
		Fields: []string{"id", "text", "user"},
		Filter: rawJSON(fmt.Sprintf(`{"user":{"_eq":%q}}`, user)),
	}
}

// secretData reads a Secret's data as strings.
func secretData(g Gomega, namespace, name string) map[string]string {
	s := &corev1.Secret{}
	g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, s)).To(Succeed())
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

func TestASecretTargetMirrorsTheCollection(t *testing.T) {
	namespace := ns(t)
	user := "secret-" + namespace
	createREST(t, map[string]any{"text": "first", "user": user})
	subscribe(t, namespace, "private", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Secret: &v1alpha1.ConfigMapTarget{}}
		s.Query = byUser(user)
	})
	obj := ready(t, namespace, "private")
	NewWithT(t).Expect(obj.Status.Target).To(Equal("Secret/private"))
	keys := createREST(t, map[string]any{"text": "second", "user": user})
	NewWithT(t).Expect(bot.Do(context.Background(), "PATCH", fmt.Sprintf("/items/messages/%v", keys[0]), map[string]any{"text": "second, edited"}, nil)).To(Succeed())
	query := fmt.Sprintf(`{"fields":["id","text","user"],"filter":{"user":{"_eq":%q}}}`, user)
	NewWithT(t).Eventually(func(g Gomega) {
		want := collection(g, query)
		g.Expect(want).To(HaveLen(2))
		g.Expect(decoded(g, secretData(g, namespace, "private"))).To(Equal(want))
	}, timeout, poll).Should(Succeed())
	cm := &corev1.ConfigMap{}
	NewWithT(t).Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "private"}, cm)).NotTo(Succeed(),
		"nothing lands in a ConfigMap")
}

// readEnvFile parses KEY="value" lines, as a consumer of a rendered .env
// would.
func readEnvFile(g Gomega, path string) map[string]string {
	f, err := os.Open(path)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		g.Expect(ok).To(BeTrue(), "line %q", sc.Text())
		uq, err := strconv.Unquote(v)
		g.Expect(err).NotTo(HaveOccurred(), "line %q", sc.Text())
		out[k] = uq
	}
	return out
}

// A pod's sidecar renders a template into a shared directory; the app
// beside it reads the file back.
func TestATemplatedFileIsReadBackByItsConsumer(t *testing.T) {
	g := NewWithT(t)
	user := fmt.Sprintf("tmpl-%d", time.Now().UnixNano())
	createREST(t, map[string]any{"text": `say "hi"`, "user": user})
	dir := t.TempDir()
	tmpl := filepath.Join(t.TempDir(), "app.env.tmpl")
	g.Expect(os.WriteFile(tmpl, []byte(`{{ range .Items }}MESSAGE_{{ .id }}={{ quote .text }}
{{ end }}`), 0o600)).To(Succeed())
	port := freePort(t)
	sidecar := exec.Command(binary(t), "sidecar", "--collection", "messages", "--target-dir", dir, "--template-file", tmpl,
		"--query", fmt.Sprintf(`{"fields":["id","text"],"filter":{"user":{"_eq":%q}}}`, user),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", port))
	sidecar.Env = cliEnv()
	sidecar.Stderr = os.Stderr
	g.Expect(sidecar.Start()).To(Succeed())
	defer func() { _ = sidecar.Process.Kill() }()
	g.Eventually(func() int {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}, timeout, poll).Should(Equal(http.StatusOK))

	keys := createREST(t, map[string]any{"text": "line one\nline two", "user": user})
	file := filepath.Join(dir, "app.env")
	g.Eventually(func(g Gomega) {
		env := readEnvFile(g, file)
		g.Expect(env).To(HaveLen(2))
		g.Expect(env).To(HaveKeyWithValue(fmt.Sprintf("MESSAGE_%v", keys[0]), "line one\nline two"))
		g.Expect(env).To(ContainElement(`say "hi"`))
	}, timeout, poll).Should(Succeed())
	entries, err := os.ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	g.Expect(names).To(ConsistOf("app.env", "index.json"), "one rendered file, no file per item")

	g.Expect(sidecar.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Expect(sidecar.Wait()).To(Succeed())
}

func TestRetainKeepsTheConfigMapAcrossADelete(t *testing.T) {
	g := NewWithT(t)
	namespace := ns(t)
	user := "retain-" + namespace
	createREST(t, map[string]any{"text": "kept", "user": user})
	subscribe(t, namespace, "keeper", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = byUser(user)
		s.Target.DeletionPolicy = v1alpha1.DeletionPolicyRetain
	})
	ready(t, namespace, "keeper")
	before := configMapData(t, namespace, "keeper", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })

	obj := &v1alpha1.DirectusSubscription{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "keeper"}}
	g.Expect(k8s.Delete(context.Background(), obj)).To(Succeed())
	g.Eventually(func() error {
		return k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "keeper"}, &v1alpha1.DirectusSubscription{})
	}, timeout, poll).ShouldNot(Succeed())
	cm := &corev1.ConfigMap{}
	g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "keeper"}, cm)).To(Succeed())
	g.Expect(cm.Data).To(Equal(before))
	g.Expect(cm.OwnerReferences).To(BeEmpty())
	g.Expect(cm.Labels).To(HaveKeyWithValue(v1alpha1.LabelRetainedFrom, "keeper"))

	createREST(t, map[string]any{"text": "after the delete", "user": user})
	g.Consistently(func(g Gomega) map[string]string {
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "keeper"}, cm)).To(Succeed())
		return cm.Data
	}, 2*time.Second, poll).Should(Equal(before), "no one writes a retained ConfigMap")
}

// insertBehindDirectusBack writes a message straight into Directus's
// SQLite database: no hook runs, so no realtime event is sent.
func insertBehindDirectusBack(t *testing.T, text, user string) {
	t.Helper()
	db := filepath.Join(dx.state, "data.db")
	stmt := fmt.Sprintf("INSERT INTO messages (text, user) VALUES ('%s', '%s');",
		strings.ReplaceAll(text, "'", "''"), strings.ReplaceAll(user, "'", "''"))
	out, err := exec.Command("sqlite3", "-cmd", ".timeout 5000", db, stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s: %v\n%s (the sqlite3 command-line tool is needed: apt-get install sqlite3)", db, err, out)
	}
}

func TestARequestedResyncPicksUpAWriteStraightIntoTheDatabase(t *testing.T) {
	g := NewWithT(t)
	namespace := ns(t)
	user := "resync-" + namespace
	createREST(t, map[string]any{"text": "announced", "user": user})
	subscribe(t, namespace, "ondemand", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = byUser(user)
		s.ResyncInterval = &metav1.Duration{} // only the request reads again
	})
	ready(t, namespace, "ondemand")
	configMapData(t, namespace, "ondemand", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })

	insertBehindDirectusBack(t, "behind its back", user)
	query := fmt.Sprintf(`{"fields":["id","text","user"],"filter":{"user":{"_eq":%q}}}`, user)
	g.Expect(collection(g, query)).To(HaveLen(2), "Directus serves the row over REST")
	g.Consistently(func(g Gomega) int {
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "ondemand"}, cm)).To(Succeed())
		return len(cm.Data)
	}, 2*time.Second, poll).Should(Equal(1), "no event announced it")

	requested := time.Now().UTC().Format(time.RFC3339Nano)
	g.Eventually(func() error {
		obj := &v1alpha1.DirectusSubscription{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "ondemand"}, obj); err != nil {
			return err
		}
		if obj.Annotations == nil {
			obj.Annotations = map[string]string{}
		}
		obj.Annotations[v1alpha1.AnnotationRequestedAt] = requested
		return k8s.Update(context.Background(), obj)
	}, timeout, poll).Should(Succeed())
	configMapData(t, namespace, "ondemand", func(g Gomega, d map[string]string) {
		g.Expect(decoded(g, d)).To(Equal(collection(g, query)))
	})
	g.Eventually(func(g Gomega) string {
		obj := &v1alpha1.DirectusSubscription{}
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: "ondemand"}, obj)).To(Succeed())
		return obj.Status.LastHandledResyncAt
	}, timeout, poll).Should(Equal(requested))
}
