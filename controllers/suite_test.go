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

package controllers_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/envtestutil"
	"github.com/directus-operator/directus-operator/test/testutil"
)

// k8s talks to the envtest API server directly (no cache), so tests see
// what is really stored.
var (
	k8s     client.Client
	watcher client.WithWatch
	// restConfig reaches the envtest API server, for tests that build a
	// cache or client of their own.
	restConfig *rest.Config
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// logs holds everything the operator logged during the suite, up to the
// highest verbosity its --log-level allows (5), so that the suite can check
// that no credential ever reached a log.
var logs testutil.SyncBuffer

func run(m *testing.M) int {
	var out io.Writer = &logs
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		out = io.MultiWriter(&logs, os.Stderr)
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(out), zap.Level(zapcore.Level(-5))))
	env, cfg, err := envtestutil.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restConfig = cfg

	stop, err := envtestutil.StartOperator(cfg, controllers.Options{Hub: hub.Options{StatusInterval: 500 * time.Millisecond}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	watcher, err = client.NewWithWatch(cfg, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	k8s = watcher
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if leaked := credentialsIn(logs.String()); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: credentials reached the operator's logs: %v\n", leaked)
		for line := range strings.SplitSeq(logs.String(), "\n") {
			if len(credentialsIn(line)) > 0 {
				fmt.Fprintln(os.Stderr, "  ", line)
			}
		}
		code = 1
	}
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

const (
	botToken = "bot-static-token"
	// timeout bounds every wait for the operator; polls are every 50ms.
	timeout = 30 * time.Second
)

var nsCounter atomic.Int64

// world is one test's namespace, fake Directus and Secret.
type world struct {
	t   *testing.T
	g   *WithT
	ns  string
	dx  *fakedirectus.Server
	ctx context.Context
}

// newWorld makes a namespace, a fake Directus with the quickstart's world
// (collection messages; bot@example.com with a static token that may read
// and write it; collection secrets it may not read), and a Secret holding
// the token.
func newWorld(t *testing.T, opts fakedirectus.Options) *world {
	t.Helper()
	t.Parallel()
	w := &world{t: t, g: NewWithT(t), ctx: context.Background()}
	w.ns = fmt.Sprintf("t%d", nsCounter.Add(1))
	w.g.Expect(k8s.Create(w.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.ns}})).To(Succeed())
	w.dx = fakedirectus.New(opts)
	t.Cleanup(w.dx.Close)
	w.dx.AddCollection("messages", "id", "text", "user", "date_created")
	w.dx.AddCollection("secrets", "id", "text")
	w.dx.AddUser(fakedirectus.User{Email: "bot@example.com", Password: "bot-password", StaticToken: botToken,
		Read: []string{"messages"}, Write: []string{"messages"}})
	w.secret("directus", map[string]string{"token": botToken, "email": "bot@example.com", "password": "bot-password"})
	return w
}

func (w *world) secret(name string, data map[string]string) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns}, StringData: data}
	err := k8s.Create(w.ctx, s)
	if apierrors.IsAlreadyExists(err) {
		cur := &corev1.Secret{}
		w.g.Expect(k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, cur)).To(Succeed())
		cur.StringData = data
		cur.Data = nil
		err = k8s.Update(w.ctx, cur)
	}
	w.g.Expect(err).NotTo(HaveOccurred())
}

// subscription creates a DirectusSubscription for messages with a static
// token and a ConfigMap target, changed by mutate.
func (w *world) subscription(name string, mutate func(s *v1alpha1.DirectusSubscriptionSpec)) *v1alpha1.DirectusSubscription {
	obj := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  w.dx.URL(),
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
				Reconnect: &v1alpha1.ReconnectSpec{
					InitialDelay: &metav1.Duration{Duration: 50 * time.Millisecond},
					MaxDelay:     &metav1.Duration{Duration: time.Second},
				},
			},
			Collection: "messages",
			Target:     v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
		},
	}
	if mutate != nil {
		mutate(&obj.Spec)
	}
	w.g.Expect(k8s.Create(w.ctx, obj)).To(Succeed())
	return obj
}

// get reads the subscription as stored.
func (w *world) get(name string) *v1alpha1.DirectusSubscription {
	obj := &v1alpha1.DirectusSubscription{}
	w.g.Expect(k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, obj)).To(Succeed())
	return obj
}

// update changes the subscription's spec, retrying on conflicts.
func (w *world) update(name string, mutate func(s *v1alpha1.DirectusSubscription)) {
	w.g.Eventually(func() error {
		obj := w.get(name)
		mutate(obj)
		return k8s.Update(w.ctx, obj)
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

// condition waits until the current generation is observed and the
// condition has the status and reason.
func (w *world) condition(name, typ string, status metav1.ConditionStatus, reason string) *v1alpha1.DirectusSubscription {
	w.t.Helper()
	var obj *v1alpha1.DirectusSubscription
	w.g.Eventually(func(g Gomega) {
		obj = &v1alpha1.DirectusSubscription{}
		g.Expect(k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, obj)).To(Succeed())
		g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation), "observedGeneration")
		c := meta.FindStatusCondition(obj.Status.Conditions, typ)
		g.Expect(c).NotTo(BeNil(), "condition %s", typ)
		g.Expect(c.ObservedGeneration).To(Equal(obj.Generation))
		g.Expect(string(c.Status)+"/"+c.Reason).To(Equal(string(status)+"/"+reason), "condition %s: %s", typ, c.Message)
	}, timeout, 50*time.Millisecond).Should(Succeed())
	return obj
}

func (w *world) ready(name string) *v1alpha1.DirectusSubscription {
	w.t.Helper()
	return w.condition(name, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady)
}

// configMap reads a ConfigMap; nil when it does not exist.
func (w *world) configMap(name string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{}
	err := k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	w.g.Expect(err).NotTo(HaveOccurred())
	return cm
}

// mirrorData waits until the ConfigMap's data satisfies match.
func (w *world) mirrorData(name string, match func(g Gomega, data map[string]string)) map[string]string {
	w.t.Helper()
	var data map[string]string
	w.g.Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, cm)).To(Succeed())
		data = cm.Data
		match(g, cm.Data)
	}, timeout, 50*time.Millisecond).Should(Succeed())
	return data
}

// countWrites counts the writes of a ConfigMap after resourceVersion from,
// up to its current version, by watching its history.
func countWrites(t *testing.T, w *world, name, from string) int {
	t.Helper()
	final := w.configMap(name).ResourceVersion
	wi, err := watcher.Watch(w.ctx, &corev1.ConfigMapList{}, client.InNamespace(w.ns),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: from, FieldSelector: "metadata.name=" + name}})
	w.g.Expect(err).NotTo(HaveOccurred())
	defer wi.Stop()
	deadline := time.After(timeout)
	n := 0
	for {
		select {
		case ev, ok := <-wi.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			cm, isCM := ev.Object.(*corev1.ConfigMap)
			if !isCM {
				continue
			}
			n++
			if cm.ResourceVersion == final {
				return n
			}
		case <-deadline:
			t.Fatalf("saw %d writes but not version %s", n, final)
		}
	}
}

func rawJSON(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

// credentials are every secret value the tests hand to the operator.
var credentials = []string{botToken, "bot-password", "not-the-password", "second-token", "not-a-token", "articles-token"}

// credentialsIn returns the credentials that appear in text.
func credentialsIn(text string) []string {
	var found []string
	for _, c := range credentials {
		if strings.Contains(text, c) {
			found = append(found, c)
		}
	}
	return found
}

func TestTheLogsAreCapturedForTheCredentialCheck(t *testing.T) {
	// The suite's final check is only worth something if the operator's
	// logs, debug levels included, really reach the buffer.
	NewWithT(t).Eventually(func() string { return logs.String() }, timeout, 50*time.Millisecond).
		Should(ContainSubstring("Starting Controller"))
	NewWithT(t).Expect(credentialsIn("x " + botToken + " y")).To(Equal([]string{botToken}))
}
