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

package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// run runs a tool and returns its stdout and stderr.
func run(stdin string, bin string, args ...string) (string, string, error) {
	return runIn(stdin, "", nil, bin, args...)
}

// runEnv runs a tool with extra environment variables.
func runEnv(env []string, bin string, args ...string) (string, string, error) {
	return runIn("", "", env, bin, args...)
}

// runInDir runs a tool in a folder with extra environment variables.
func runInDir(dir string, env []string, bin string, args ...string) (string, string, error) {
	return runIn("", dir, env, bin, args...)
}

func runIn(stdin, dir string, env []string, bin string, args ...string) (string, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// helmTemplate renders the chart as release "directus-operator" in namespace
// ns with the given values (YAML) and returns its objects.
func helmTemplate(t *testing.T, ns, values string) []*unstructured.Unstructured {
	t.Helper()
	out, stderr, err := helmTemplateRaw(ns, values)
	if err != nil {
		t.Fatalf("helm template failed: %v\n%s", err, stderr)
	}
	return decodeObjects(t, out)
}

func helmTemplateRaw(ns, values string, extraArgs ...string) (string, string, error) {
	args := append([]string{"template", "directus-operator", chartDir, "--namespace", ns, "-f", "-"}, extraArgs...)
	return run(values, helmBin, args...)
}

// decodeObjects splits a multi-document YAML stream into objects, skipping
// empty documents.
func decodeObjects(t *testing.T, stream string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decode rendered YAML: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// ofKind returns the objects of one kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// typed converts an object into a typed API struct, failing the test on error.
func typed[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		t.Fatalf("convert %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return out
}

// ensureNamespace creates a namespace that enforces, and warns about, the
// "restricted" Pod Security Standard.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	}}}
	if err := k8sClient.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// serverDryRun sends objects to the API server with `kubectl apply
// --server-side --dry-run=server`, as a user would apply them, and fails on
// an error, on any warning (the namespaces warn on Pod Security violations)
// or when an object was not applied.
func serverDryRun(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	var stream strings.Builder
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatalf("marshal %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		stream.WriteString("---\n")
		stream.Write(data)
	}
	stdout, stderr, err := run(stream.String(), kubectlBin, "--kubeconfig", kubeconfig,
		"apply", "--server-side", "--dry-run=server", "--field-manager=deploy-test", "-f", "-")
	if err != nil {
		t.Fatalf("server-side dry-run failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if strings.Contains(stderr, "Warning") {
		t.Errorf("server-side dry-run warned:\n%s", stderr)
	}
	applied := strings.Count(stdout, "serverside-applied (server dry run)")
	if applied != len(objs) {
		t.Errorf("server-side dry-run applied %d of %d objects:\n%s", applied, len(objs), stdout)
	}
}

// podDryRun creates, with server-side dry-run, a Pod from a pod template in a
// namespace that enforces the restricted Pod Security Standard: the Pod
// Security admission rejects any violation.
func podDryRun(t *testing.T, ns string, tmpl corev1.PodTemplateSpec) {
	t.Helper()
	if err := createPodDryRun(ns, tmpl); err != nil {
		t.Fatalf("a Pod from the pod template is rejected in a restricted namespace: %v", err)
	}
}

func createPodDryRun(ns string, tmpl corev1.PodTemplateSpec) error {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "template-", Namespace: ns, Labels: tmpl.Labels, Annotations: tmpl.Annotations}, Spec: tmpl.Spec}
	return k8sClient.Create(context.Background(), pod, client.DryRunAll)
}

// assertRestricted checks, field by field, the security settings the
// "restricted" Pod Security Standard asks for (and a few it does not:
// read-only root, the nonroot uid 65532).
func assertRestricted(g Gomega, spec corev1.PodSpec) {
	psc := spec.SecurityContext
	g.Expect(psc).NotTo(BeNil(), "pod securityContext")
	g.Expect(psc.RunAsNonRoot).To(Equal(new(true)), "pod runAsNonRoot")
	g.Expect(psc.RunAsUser).To(Equal(new(int64(65532))), "pod runAsUser")
	g.Expect(psc.SeccompProfile).To(Equal(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}), "pod seccompProfile")
	g.Expect(spec.HostNetwork || spec.HostPID || spec.HostIPC).To(BeFalse(), "host namespaces")
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		g.Expect(sc).NotTo(BeNil(), "container %s securityContext", c.Name)
		g.Expect(sc.AllowPrivilegeEscalation).To(Equal(new(false)), "container %s allowPrivilegeEscalation", c.Name)
		g.Expect(sc.ReadOnlyRootFilesystem).To(Equal(new(true)), "container %s readOnlyRootFilesystem", c.Name)
		g.Expect(sc.RunAsNonRoot).To(Equal(new(true)), "container %s runAsNonRoot", c.Name)
		g.Expect(sc.RunAsUser).To(Equal(new(int64(65532))), "container %s runAsUser", c.Name)
		g.Expect(sc.Privileged).To(Or(BeNil(), Equal(new(false))), "container %s privileged", c.Name)
		g.Expect(sc.Capabilities).NotTo(BeNil(), "container %s capabilities", c.Name)
		g.Expect(sc.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), "container %s capabilities.drop", c.Name)
		g.Expect(sc.Capabilities.Add).To(BeEmpty(), "container %s capabilities.add", c.Name)
		g.Expect(sc.SeccompProfile).To(Equal(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}), "container %s seccompProfile", c.Name)
	}
}

// assertProbes checks the liveness (/healthz) and readiness (/readyz) probes
// on the health port 8081.
func assertProbes(g Gomega, c corev1.Container) {
	port := -1
	for _, p := range c.Ports {
		if p.Name == "health" {
			port = int(p.ContainerPort)
		}
	}
	g.Expect(port).To(Equal(8081), "health port")
	g.Expect(c.Args).To(ContainElement("--health-probe-bind-address=:8081"))
	g.Expect(c.LivenessProbe).NotTo(BeNil())
	g.Expect(c.LivenessProbe.HTTPGet).NotTo(BeNil())
	g.Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
	g.Expect(c.LivenessProbe.HTTPGet.Port.String()).To(Equal("health"))
	g.Expect(c.ReadinessProbe).NotTo(BeNil())
	g.Expect(c.ReadinessProbe.HTTPGet).NotTo(BeNil())
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
	g.Expect(c.ReadinessProbe.HTTPGet.Port.String()).To(Equal("health"))
}

// assertSecretsBounded checks that no rule grants more on Secrets than the
// secret target needs: read, and create, update, patch and delete (the
// code writes only Secrets it owns); never deletecollection or a wildcard.
func assertSecretsBounded(g Gomega, rules []rbacv1.PolicyRule, where string) {
	for _, r := range rules {
		if !slices.Contains(r.APIGroups, "") && !slices.Contains(r.APIGroups, "*") {
			continue
		}
		if !slices.Contains(r.Resources, "secrets") && !slices.Contains(r.Resources, "*") {
			continue
		}
		g.Expect(r.Resources).NotTo(ContainElement("*"), "%s: resources", where)
		g.Expect(r.Verbs).To(HaveEach(BeElementOf("get", "list", "watch", "create", "update", "patch", "delete")), "%s: verbs on secrets", where)
	}
}

// metricsRBAC names the objects that let the metrics endpoint check its
// callers, and the operator's ServiceAccount.
type metricsRBAC struct {
	authRole, authBinding, reader string
	operator                      rbacv1.Subject
}

// assertMetricsRBAC checks the RBAC of the authenticated metrics endpoint:
// through its binding the operator may create TokenReviews and
// SubjectAccessReviews and nothing else, and the metrics-reader ClusterRole,
// bound to nobody, grants get on /metrics and nothing else.
func assertMetricsRBAC(t *testing.T, g Gomega, objs []*unstructured.Unstructured, want metricsRBAC) {
	t.Helper()
	roles := map[string]*rbacv1.ClusterRole{}
	for _, u := range ofKind(objs, "ClusterRole") {
		roles[u.GetName()] = typed[rbacv1.ClusterRole](t, u)
	}
	g.Expect(roles).To(HaveKey(want.authRole))
	g.Expect(normalizeRules(roles[want.authRole].Rules)).To(Equal([]string{
		"authentication.k8s.io/tokenreviews:create", "authorization.k8s.io/subjectaccessreviews:create"}))
	g.Expect(roles).To(HaveKey(want.reader))
	g.Expect(roles[want.reader].Rules).To(Equal([]rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}))
	found := false
	for _, u := range ofKind(objs, "ClusterRoleBinding") {
		b := typed[rbacv1.ClusterRoleBinding](t, u)
		g.Expect(b.RoleRef.Name).NotTo(Equal(want.reader), "metrics-reader is bound to nobody")
		if b.Name == want.authBinding {
			found = true
			g.Expect(b.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: want.authRole}))
			g.Expect(b.Subjects).To(ConsistOf(want.operator))
		}
	}
	g.Expect(found).To(BeTrue(), "ClusterRoleBinding %s", want.authBinding)
}

// generatedManagerRules reads the rules controller-gen writes to
// config/rbac/role.yaml from the +kubebuilder:rbac markers.
func generatedManagerRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	data := readRepoFile(t, "config/rbac/role.yaml")
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatalf("parse config/rbac/role.yaml: %v", err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("config/rbac/role.yaml has no rules")
	}
	return role.Rules
}

// normalizeRules expands rules into sorted "group/resource:verb" strings so
// two rule lists can be compared however they are grouped.
func normalizeRules(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, g+"/"+res+":"+v)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readRepoFile reads a file relative to the repository root.
func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	return readFile(t, filepath.Join(repoRoot, rel))
}

// readFile reads a file, failing the test on error.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// clusterScoped are the kinds rendered without a namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "PriorityClass": true,
}

// keyOf is the key of an object.
func keyOf(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

var nsRuns atomic.Int64

// uniqueNS gives a test a namespace of its own on every run, so that tests
// which leave objects behind on purpose (a CRD-kept subscription) also pass
// with -count=N against the same API server.
func uniqueNS(base string) string { return fmt.Sprintf("%s-%d", base, nsRuns.Add(1)) }
