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

package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

const wait = 10 * time.Second

// startSidecar runs the sidecar until the test ends and returns the probe
// server's base URL.
func startSidecar(t *testing.T, args []string, e env, hooks sidecarHooks) (string, *run) {
	t.Helper()
	addr := make(chan net.Addr, 1)
	hooks.listening = func(a net.Addr) { addr <- a }
	args = append([]string{"--health-probe-bind-address", "127.0.0.1:0", "--reconnect-initial-delay", "20ms", "--reconnect-max-delay", "100ms",
		"--mirror-min-write-interval", "1ms", "--log-level", "error"}, args...)
	r := start(t, func(ctx context.Context) int { return runSidecar(ctx, args, e.get, io.Discard, hooks) })
	select {
	case a := <-addr:
		return "http://" + a.String(), r
	case <-r.done:
		t.Fatalf("the sidecar exited with %d before listening", r.code)
	case <-time.After(wait):
		t.Fatal("the sidecar did not listen")
	}
	return "", nil
}

// probe returns the status code and body of a probe endpoint.
func probe(url string) (int, string) {
	resp, err := http.Get(url) //nolint:gosec // test server
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func fileContent(dir, name string) func() string {
	return func() string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
}

func TestSidecarMirrorsIntoADirectoryAndBecomesReady(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	s.SetSilently("messages", map[string]any{"text": "one", "user": "a"}, map[string]any{"text": "two", "user": "b"})
	s.SetRealtimeEnabled(false)
	dir := filepath.Join(t.TempDir(), "data")

	base, sc := startSidecar(t, []string{"--url", s.URL(), "--collection", "messages", "--target-dir", dir}, env{"DIRECTUS_TOKEN": botToken}, sidecarHooks{})

	code, body := probe(base + "/healthz")
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(body).To(Equal("ok\n"))
	g.Eventually(func(g Gomega) {
		code, body := probe(base + "/healthz/directus")
		g.Expect(code).To(Equal(http.StatusServiceUnavailable))
		var h directusHealth
		g.Expect(json.Unmarshal([]byte(body), &h)).To(Succeed())
		g.Expect(h.Reasons).To(ContainElement(HavePrefix(v1alpha1.ReasonRealtimeDisabled)))
	}).WithTimeout(wait).Should(Succeed())
	code, body = probe(base + "/readyz")
	g.Expect(code).To(Equal(http.StatusServiceUnavailable), "before the first complete snapshot")
	var r readiness
	g.Expect(json.Unmarshal([]byte(body), &r)).To(Succeed())
	g.Expect(r.Ready).To(BeFalse())
	g.Expect(r.Reasons).To(HaveLen(4))
	g.Expect(r.Reasons[0]).To(HavePrefix(reasonNoSnapshot), "first why not ready, then why Directus is not in sync")
	g.Expect(r.Reasons[1]).To(HavePrefix(v1alpha1.ReasonRealtimeDisabled))
	g.Expect(filepath.Join(dir, "1.json")).NotTo(BeAnExistingFile())

	s.SetRealtimeEnabled(true)
	// Ready as soon as index.json is written; the item count follows the
	// write's status a moment later.
	g.Eventually(func(g Gomega) {
		code, body := probe(base + "/readyz")
		g.Expect(code).To(Equal(http.StatusOK))
		g.Expect(body).To(MatchJSON(`{"ready":true,"target":"Directory:` + dir + `","items":2}`))
	}).WithTimeout(wait).Should(Succeed())
	g.Expect(fileContent(dir, "1.json")()).To(Equal(`{"id":1,"text":"one","user":"a"}`))
	g.Expect(fileContent(dir, "2.json")()).To(Equal(`{"id":2,"text":"two","user":"b"}`))
	code, body = probe(base + "/healthz/directus")
	g.Expect(code).To(Equal(http.StatusOK))
	var h directusHealth
	g.Expect(json.Unmarshal([]byte(body), &h)).To(Succeed())
	h.LastSync = ""
	g.Expect(h).To(Equal(directusHealth{Healthy: true, Connection: "Connected", Subscribed: true, Synced: "True",
		LastError: "Directus has no realtime endpoint at this URL (the upgrade got HTTP 404): set WEBSOCKETS_ENABLED=true on the server, or fix websocketPath"}))

	keys := s.Create("messages", map[string]any{"text": "three", "user": "c"})
	g.Eventually(fileContent(dir, "3.json")).WithTimeout(wait).Should(Equal(`{"id":3,"text":"three","user":"c"}`))
	s.Update("messages", []any{1}, map[string]any{"text": "one, edited"})
	g.Eventually(fileContent(dir, "1.json")).WithTimeout(wait).Should(Equal(`{"id":1,"text":"one, edited","user":"a"}`))
	s.DeleteByURL("messages", keys[0])
	s.Delete("messages", 2)
	g.Eventually(func(g Gomega) {
		g.Expect(filepath.Join(dir, "3.json")).NotTo(BeAnExistingFile())
		g.Expect(filepath.Join(dir, "2.json")).NotTo(BeAnExistingFile())
		idx, err := (&subscriptions.DirectoryStore{Dir: dir}).ReadIndex()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(idx.Keys).To(Equal([]string{"1.json"}))
	}).WithTimeout(wait).Should(Succeed())

	g.Expect(sc.stop(t)).To(Equal(0), "SIGTERM exits 0")
	code, _ = probe(base + "/healthz")
	g.Expect(code).To(BeZero(), "the probe server is closed")
}

func TestSidecarRendersATemplateIntoOneFile(t *testing.T) {
	g := NewWithT(t)
	s := fixture(t)
	s.SetSilently("messages", map[string]any{"text": "one", "user": "b"}, map[string]any{"text": "two", "user": "a"})
	dir := filepath.Join(t.TempDir(), "data")
	tmpl := writeNamedFile(t, "users.env.tmpl", `{{ range sortBy "user" .Items }}{{ .user }}={{ quote .text }}
{{ end }}`)

	startSidecar(t, []string{"--url", s.URL(), "--collection", "messages", "--target-dir", dir, "--template-file", tmpl}, env{"DIRECTUS_TOKEN": botToken}, sidecarHooks{})
	g.Eventually(fileContent(dir, "users.env")).WithTimeout(wait).Should(Equal("a=\"two\"\nb=\"one\"\n"))
	s.Update("messages", []any{1}, map[string]any{"text": "uno"})
	g.Eventually(fileContent(dir, "users.env")).WithTimeout(wait).Should(Equal("a=\"two\"\nb=\"uno\"\n"))
	idx, err := (&subscriptions.DirectoryStore{Dir: dir}).ReadIndex()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(idx.Keys).To(Equal([]string{"users.env"}), "the one file, nothing per item")
}

func TestSidecarConfigurationErrorsExit2(t *testing.T) {
	const secretValue = "tok-secret"
	base := []string{"--url", "http://127.0.0.1:1", "--collection", "messages", "--health-probe-bind-address", "127.0.0.1:0"}
	token := env{"DIRECTUS_TOKEN": secretValue}
	for _, tc := range []struct {
		name   string
		args   []string
		env    env
		stderr string
	}{
		{"no target", nil, token, "set --target-dir or --target-configmap"},
		{"two targets", []string{"--target-dir", "/tmp/x", "--target-configmap", "x"}, token, "exclusive"},
		{"bad layout", []string{"--target-dir", "/tmp/x", "--layout", "Tree"}, token, `--layout "Tree"`},
		{"bad list key", []string{"--target-dir", "/tmp/x", "--layout", "List", "--list-key", "../x"}, token, "--list-key"},
		{"no credentials", []string{"--target-dir", "/tmp/x"}, nil, "no credentials"},
		{"ConfigMap without the downward API", []string{"--target-configmap", "x"}, env{"DIRECTUS_TOKEN": secretValue, "POD_NAMESPACE": "apps"}, "missing: POD_NAME, POD_UID"},
		{"bad ConfigMap name", []string{"--target-configmap", "Not_Valid"}, token, "not a valid ConfigMap name"},
		{"ConfigMap name too long for its Lease", []string{"--target-configmap", strings.Repeat("a", 250)}, token, "too long for its Lease"},
		{"a resync interval the CRD refuses", []string{"--target-dir", "/tmp/x", "--resync-interval", "1s"}, token, "--resync-interval: resync interval must be 0s (off) or at least 30s"},
		{"no token file interval", []string{"--target-dir", "/tmp/x", "--token-file-check-interval", "0s"}, token, "--token-file-check-interval must be positive"},
		{"unknown flag", []string{"--target-dir", "/tmp/x", "--token", "x"}, token, "unknown flag: --token"},
		{"a template that does not parse", []string{"--target-dir", "/tmp/x", "--template-file", writeNamedFile(t, "app.yaml.tmpl", "a: {{ .Items ")}, token, "app.yaml:1"},
		{"a template key with a leading dot", []string{"--target-dir", "/tmp/x", "--template-file", writeNamedFile(t, "x.tmpl", "x"), "--template-key", ".env"}, token, "--template-key"},
		{"a missing template file", []string{"--target-dir", "/tmp/x", "--template-file", "/nonexistent/app.tmpl"}, token, "--template-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			stderr := &syncBuffer{}
			hooks := sidecarHooks{
				listening:  func(net.Addr) { t.Error("the sidecar started") },
				kubeConfig: func() (*rest.Config, error) { t.Error("the sidecar made a client"); return nil, nil },
			}
			code := runSidecar(context.Background(), append(append([]string{}, base...), tc.args...), tc.env.get, stderr, hooks)
			g.Expect(code).To(Equal(2))
			g.Expect(stderr.String()).To(ContainSubstring(tc.stderr))
			g.Expect(stderr.String()).NotTo(ContainSubstring(secretValue))
		})
	}
}

func TestDirectusHealthNeedsConnectionSubscriptionAndSync(t *testing.T) {
	ready := subscriptions.Status{
		Target: "Directory/data", Items: 3, ConnState: v1alpha1.ConnectionStateConnected, ConnReason: v1alpha1.ReasonConnected,
		Subscribed: true, SubReason: v1alpha1.ReasonSubscribed, Synced: metav1.ConditionTrue, SyncReason: v1alpha1.ReasonSynced,
	}
	for _, tc := range []struct {
		name    string
		change  func(st *subscriptions.Status)
		reasons []string
	}{
		{"all good", func(*subscriptions.Status) {}, nil},
		{"reconnecting", func(st *subscriptions.Status) {
			st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonAuthFailed, "refused"
			st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonReconnecting, "waiting for the connection"
		}, []string{"AuthFailed: refused", "Reconnecting: waiting for the connection"}},
		{"forbidden", func(st *subscriptions.Status) {
			st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonForbidden, "no access"
		}, []string{"Forbidden: no access"}},
		{"too large", func(st *subscriptions.Status) {
			st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonTooLarge, "too big"
		}, []string{"TooLarge: too big"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			st := ready
			tc.change(&st)
			h := directusHealthOf(view{running: true, st: st})
			g.Expect(h.Healthy).To(Equal(tc.reasons == nil))
			g.Expect(h.Reasons).To(Equal(tc.reasons))
		})
	}
	g := NewWithT(t)
	g.Expect(directusHealthOf(view{}).Healthy).To(BeFalse(), "a mirror that has not started is not in sync")
	standby := directusHealthOf(view{role: roleStandby, leader: "web-1"})
	g.Expect(standby.Healthy).To(BeTrue(), "a replica standing by is not failing")
	g.Expect(standby.Message).To(ContainSubstring("standing by"))
}

// sampleSidecar parses the sidecar container of a sample pod spec, with
// the Secrets and the downward API filled in, into its flags.
func sampleSidecar(g Gomega, spec corev1.PodSpec) (*corev1.Container, sidecarSetup, *podRef, *connFlags, *sidecarFlags) {
	var c *corev1.Container
	for i := range spec.Containers {
		if len(spec.Containers[i].Args) > 0 && spec.Containers[i].Args[0] == "sidecar" {
			c = &spec.Containers[i]
		}
	}
	g.Expect(c).NotTo(BeNil(), "a container runs the sidecar")
	e := env{}
	for _, v := range c.Env {
		switch {
		case v.ValueFrom == nil:
			e[v.Name] = v.Value
		case v.ValueFrom.SecretKeyRef != nil:
			e[v.Name] = "from-a-secret"
		case v.ValueFrom.FieldRef != nil:
			e[v.Name] = "from-the-downward-api"
		}
	}
	fs := pflag.NewFlagSet("sidecar", pflag.ContinueOnError)
	var cf connFlags
	cf.bind(fs, true)
	cf.bindLongLived(fs)
	var sf sidecarFlags
	sf.bind(fs)
	g.Expect(parseFlags(fs, c.Args[1:], e.get)).To(Succeed())
	if cf.TokenFile != "" {
		// The Secret volume's file, as kubelet would mount it.
		cf.TokenFile = writeSecretFile(g, "from-a-secret")
	}
	cfg, pod, err := sidecarConfig(&cf, &sf, e.get, io.Discard)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"), "readiness: the target holds a complete snapshot")
	return c, cfg, pod, &cf, &sf
}

func writeSecretFile(g Gomega, content string) string {
	f, err := os.CreateTemp("", "token")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = f.WriteString(content)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.Close()).To(Succeed())
	return f.Name()
}

// TestSidecarSamplePodIsAValidConfiguration keeps config/samples/sidecar-pod.yaml
// in step with the flags: its args and env, with the Secret and the downward
// API filled in, make a valid sidecar configuration.
func TestSidecarSamplePodIsAValidConfiguration(t *testing.T) {
	g := NewWithT(t)
	b, err := os.ReadFile(filepath.Join("..", "config", "samples", "sidecar-pod.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	pod := &corev1.Pod{}
	g.Expect(yaml.UnmarshalStrict(b, pod)).To(Succeed())
	c, cfg, ref, _, sf := sampleSidecar(g, pod.Spec)
	g.Expect(c.Env).To(ContainElement(HaveField("Name", envToken)), "the token comes from a Secret")
	g.Expect(ref).To(BeNil(), "the sample writes into a directory")
	g.Expect(cfg.Collection).To(Equal("messages"))
	g.Expect(c.VolumeMounts).To(ContainElement(HaveField("MountPath", sf.TargetDir)))
}

// TestSidecarConfigMapSampleIsAValidConfiguration keeps
// config/samples/sidecar-configmap.yaml in step with the flags: two replicas
// on one ConfigMap, the token from a Secret volume (re-read when rotated),
// and a Role that names the ConfigMap and its Lease. The envtest test runs
// the sidecar with that Role.
func TestSidecarConfigMapSampleIsAValidConfiguration(t *testing.T) {
	g := NewWithT(t)
	docs := sampleDocs(t, "sidecar-configmap.yaml")
	g.Expect(docs).To(HaveLen(4))
	dep := &appsv1.Deployment{}
	g.Expect(yaml.UnmarshalStrict(docs[3], dep)).To(Succeed())
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeNumerically(">", 1)))
	c, cfg, ref, cf, sf := sampleSidecar(g, dep.Spec.Template.Spec)
	defer func() { _ = os.Remove(cf.TokenFile) }()
	g.Expect(ref).NotTo(BeNil(), "the sample writes a ConfigMap")
	g.Expect(cfg.Collection).To(Equal("messages"))
	g.Expect(c.VolumeMounts).To(ContainElement(HaveField("MountPath", "/var/run/secrets/directus")))
	role := &rbacv1.Role{}
	g.Expect(yaml.UnmarshalStrict(docs[1], role)).To(Succeed())
	var names []string
	for _, r := range role.Rules {
		names = append(names, r.ResourceNames...)
	}
	g.Expect(names).To(ConsistOf(sf.TargetConfigMap, leaseName(sf.TargetConfigMap)))
}
