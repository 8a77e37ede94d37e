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
	"context"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	kustomizeNamespace = "directus-operator-system"
	kustomizePrefix    = "directus-operator-"
)

// kustomize renders a kustomization folder of the repository.
func kustomize(t *testing.T, dir string) (string, []*unstructured.Unstructured) {
	t.Helper()
	stdout, stderr, err := run("", kubectlBin, "kustomize", filepath.Join(repoRoot, dir))
	if err != nil {
		t.Fatalf("kubectl kustomize %s failed: %v\n%s", dir, err, stderr)
	}
	return stdout, decodeObjects(t, stdout)
}

func TestKustomizeDefaultPassesServerDryRun(t *testing.T) {
	g := NewWithT(t)
	raw, objs := kustomize(t, "config/default")

	// make deploy replaces this image with $(IMG) using sed.
	g.Expect(strings.Count(raw, "controller:latest")).To(Equal(1), "make deploy seds exactly one controller:latest")

	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		g.Expect(u.GetName()).To(Or(HavePrefix(kustomizePrefix), HaveSuffix(".realtime.directus-operator.io")), "%s %s has the name prefix", u.GetKind(), u.GetName())
		if clusterScoped[u.GetKind()] {
			continue
		}
		g.Expect(u.GetNamespace()).To(Equal(kustomizeNamespace), "%s %s", u.GetKind(), u.GetName())
	}
	g.Expect(kinds).To(Equal(map[string]int{
		"Namespace": 1, "CustomResourceDefinition": 3, "ServiceAccount": 1, "Deployment": 1, "Service": 1,
		"ClusterRole": 8, "ClusterRoleBinding": 2, "Role": 1, "RoleBinding": 1,
	}))
	g.Expect(ofKind(objs, "Namespace")[0].GetName()).To(Equal(kustomizeNamespace))

	dep := typed[appsv1.Deployment](t, ofKind(objs, "Deployment")[0])
	g.Expect(dep.Name).To(Equal(kustomizePrefix + "controller-manager"))
	g.Expect(dep.Spec.Template.Spec.ServiceAccountName).To(Equal(kustomizePrefix + "controller-manager"))
	g.Expect(dep.Spec.Template.Spec.Containers).To(HaveLen(1))
	c := dep.Spec.Template.Spec.Containers[0]
	g.Expect(c.Image).To(Equal("controller:latest"))
	g.Expect(c.Args[0]).To(Equal("operator"))
	g.Expect(c.Args).To(ContainElements("--leader-elect=true", "--metrics-bind-address=:8443"))
	g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--metrics-secure")), "https with authentication, the default")
	g.Expect(c.Env).To(ContainElement(HaveField("Name", "POD_NAMESPACE")))
	assertRestricted(g, dep.Spec.Template.Spec)
	assertProbes(g, c)

	svc := typed[corev1.Service](t, ofKind(objs, "Service")[0])
	g.Expect(labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels))).To(BeTrue(), "metrics Service selects the pods")
	g.Expect(svc.Spec.Ports).To(ConsistOf(And(HaveField("Name", "https"), HaveField("Port", BeEquivalentTo(8443)), HaveField("TargetPort.StrVal", "metrics"))))
	g.Expect(c.Ports).To(ContainElement(And(HaveField("Name", "metrics"), HaveField("ContainerPort", BeEquivalentTo(8443)))))
	assertMetricsRBAC(t, g, objs, kustomizeMetricsRBAC)

	roles := map[string]*rbacv1.ClusterRole{}
	for _, u := range ofKind(objs, "ClusterRole") {
		cr := typed[rbacv1.ClusterRole](t, u)
		roles[cr.Name] = cr
		assertSecretsBounded(g, cr.Rules, "ClusterRole "+cr.Name)
	}
	g.Expect(roles).To(HaveKey(kustomizePrefix + "manager-role"))
	g.Expect(normalizeRules(roles[kustomizePrefix+"manager-role"].Rules)).To(Equal(normalizeRules(generatedManagerRules(t))))
	g.Expect(roles).To(HaveKeyWithValue(kustomizePrefix+"directussubscription-editor-role",
		HaveField("Labels", HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-edit", "true"))))
	g.Expect(roles).To(HaveKeyWithValue(kustomizePrefix+"directussubscription-viewer-role",
		HaveField("Labels", HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-view", "true"))))
	// Connections decide what the operator dials: namespace admins edit
	// them (not edit), the cluster kind is bound explicitly.
	g.Expect(roles).To(HaveKeyWithValue(kustomizePrefix+"directusconnection-editor-role", HaveField("Labels", And(
		HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-admin", "true"), Not(HaveKey("rbac.authorization.k8s.io/aggregate-to-edit"))))))
	g.Expect(roles).To(HaveKeyWithValue(kustomizePrefix+"directusconnection-viewer-role",
		HaveField("Labels", HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-view", "true"))))
	g.Expect(roles).To(HaveKeyWithValue(kustomizePrefix+"clusterdirectusconnection-admin-role",
		HaveField("Labels", Not(HaveKey(HavePrefix("rbac.authorization.k8s.io/aggregate-to"))))))

	crb := namespaced[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding", "", kustomizePrefix+"manager-rolebinding")
	g.Expect(crb.RoleRef.Name).To(Equal(kustomizePrefix + "manager-role"))
	g.Expect(crb.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: kustomizePrefix + "controller-manager", Namespace: kustomizeNamespace}))
	rb := typed[rbacv1.RoleBinding](t, ofKind(objs, "RoleBinding")[0])
	g.Expect(rb.RoleRef.Name).To(Equal(kustomizePrefix + "leader-election-role"))
	g.Expect(rb.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: kustomizePrefix + "controller-manager", Namespace: kustomizeNamespace}))
	le := typed[rbacv1.Role](t, ofKind(objs, "Role")[0])
	g.Expect(normalizeRules(le.Rules)).To(ContainElements("coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create", "coordination.k8s.io/leases:update"))

	ensureNamespace(t, kustomizeNamespace)
	serverDryRun(t, objs)
	podDryRun(t, kustomizeNamespace, dep.Spec.Template)
}

// kustomizeMetricsRBAC are config/rbac's objects for the metrics endpoint.
var kustomizeMetricsRBAC = metricsRBAC{
	authRole: kustomizePrefix + "metrics-auth-role", authBinding: kustomizePrefix + "metrics-auth-rolebinding",
	reader:   kustomizePrefix + "metrics-reader",
	operator: rbacv1.Subject{Kind: "ServiceAccount", Name: kustomizePrefix + "controller-manager", Namespace: kustomizeNamespace},
}

// TestKustomizeNamespacedGrantsNothingClusterWideOnTheWatchedObjects renders
// config/namespaced: the manager's rules are a Role in the watched namespace
// only, the operator is told to watch that namespace, and no ClusterRole
// that a ClusterRoleBinding gives the operator touches ConfigMaps, Secrets,
// Events or DirectusSubscriptions.
func TestKustomizeNamespacedGrantsNothingClusterWideOnTheWatchedObjects(t *testing.T) {
	g := NewWithT(t)
	const watched = "default"
	raw, objs := kustomize(t, "config/namespaced")
	g.Expect(strings.Count(raw, "controller:latest")).To(Equal(1), "make deploy seds exactly one controller:latest")

	dep := typed[appsv1.Deployment](t, ofKind(objs, "Deployment")[0])
	c := dep.Spec.Template.Spec.Containers[0]
	g.Expect(c.Args).To(ContainElement("--watch-namespaces=" + watched))

	role := namespaced[rbacv1.Role](t, objs, "Role", watched, kustomizePrefix+"manager-role")
	g.Expect(normalizeRules(role.Rules)).To(Equal(normalizeRules(generatedManagerRules(t))), "the generated manager rules, as a Role")
	rb := namespaced[rbacv1.RoleBinding](t, objs, "RoleBinding", watched, kustomizePrefix+"manager-rolebinding")
	g.Expect(rb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name}))
	g.Expect(rb.Subjects).To(ConsistOf(kustomizeMetricsRBAC.operator))
	for _, u := range ofKind(objs, "Role") {
		if u.GetName() == role.Name {
			g.Expect(u.GetNamespace()).To(Equal(watched), "the manager Role exists only in the watched namespace")
		}
	}

	clusterRoles := map[string]*rbacv1.ClusterRole{}
	for _, u := range ofKind(objs, "ClusterRole") {
		cr := typed[rbacv1.ClusterRole](t, u)
		clusterRoles[cr.Name] = cr
		// The user roles aggregated into admin/edit/view name only the
		// operator's kinds; no ClusterRole grants namespaced core objects.
		g.Expect(normalizeRules(cr.Rules)).NotTo(ContainElement(And(HavePrefix("/"), Not(HavePrefix("/namespaces:")))),
			"ClusterRole %s grants namespaced core resources", cr.Name)
	}
	g.Expect(clusterRoles).NotTo(HaveKey(kustomizePrefix+"manager-role"), "no cluster-wide copy of the manager's rules")
	// Cluster-wide, the operator may read only what Kubernetes has only
	// cluster-wide: namespace labels and ClusterDirectusConnections.
	clusterScoped := Or(HavePrefix("/namespaces:"), HavePrefix("realtime.directus-operator.io/clusterdirectusconnections"))
	for _, u := range ofKind(objs, "ClusterRoleBinding") {
		crb := typed[rbacv1.ClusterRoleBinding](t, u)
		g.Expect(clusterRoles).To(HaveKey(crb.RoleRef.Name))
		g.Expect(normalizeRules(clusterRoles[crb.RoleRef.Name].Rules)).To(HaveEach(Or(clusterScoped, Not(Or(
			HavePrefix("/"), HavePrefix("events.k8s.io/"), HavePrefix("realtime.directus-operator.io/"),
		)))), "ClusterRoleBinding %s grants the operator watched objects cluster-wide", crb.Name)
	}
	g.Expect(ofKind(objs, "ClusterRoleBinding")).To(HaveLen(2), "the metrics endpoint's and the cluster-scoped objects', nothing else")
	assertMetricsRBAC(t, g, objs, kustomizeMetricsRBAC)

	// The rest is config/default's.
	_, defaults := kustomize(t, "config/default")
	g.Expect(objs).To(HaveLen(len(defaults)+2), "config/namespaced turns a ClusterRole and its binding into a Role and a RoleBinding, "+
		"and adds the cluster-scoped objects' ClusterRole and binding")

	ensureNamespace(t, kustomizeNamespace)
	serverDryRun(t, objs)
	podDryRun(t, kustomizeNamespace, dep.Spec.Template)
}

func TestKustomizePrometheusMonitorSelectsMetricsService(t *testing.T) {
	g := NewWithT(t)
	_, defaults := kustomize(t, "config/default")
	_, monitors := kustomize(t, "config/prometheus")
	g.Expect(monitors).To(HaveLen(1))
	sm := monitors[0]
	g.Expect(sm.GetKind()).To(Equal("ServiceMonitor"))
	svc := typed[corev1.Service](t, ofKind(defaults, "Service")[0])
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	g.Expect(labels.SelectorFromSet(sel).Matches(labels.Set(svc.Labels))).To(BeTrue(), "the ServiceMonitor selects the metrics Service")
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	g.Expect(eps).To(ConsistOf(And(
		HaveKeyWithValue("port", svc.Spec.Ports[0].Name),
		HaveKeyWithValue("scheme", "https"),
		HaveKeyWithValue("bearerTokenFile", "/var/run/secrets/kubernetes.io/serviceaccount/token"),
		HaveKeyWithValue("tlsConfig", map[string]any{"insecureSkipVerify": true}),
	)), "scrapes https with Prometheus's token; the operator's certificate is self-signed")

	sm.SetNamespace(kustomizeNamespace)
	ensureNamespace(t, kustomizeNamespace)
	serverDryRun(t, monitors)
}

// TestSamplesApplyAndReadBack applies config/samples for real, as the docs
// tell users to, and reads every subscription and connection back.
func TestSamplesApplyAndReadBack(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const ns = "default"
	_, samples := kustomize(t, "config/samples")
	g.Expect(samples).NotTo(BeEmpty())

	for _, args := range [][]string{
		{"apply", "-n", ns, "-f", filepath.Join(repoRoot, "config/samples/secrets_example.yaml")},
		{"apply", "-n", ns, "-k", filepath.Join(repoRoot, "config/samples")},
	} {
		stdout, stderr, err := run("", kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		g.Expect(err).NotTo(HaveOccurred(), "kubectl %s\n%s%s", strings.Join(args, " "), stdout, stderr)
		g.Expect(stderr).NotTo(ContainSubstring("Warning"))
	}
	t.Cleanup(func() {
		_, _, _ = run("", kubectlBin, "--kubeconfig", kubeconfig, "delete", "-n", ns, "--ignore-not-found", "-k", filepath.Join(repoRoot, "config/samples"))
	})

	for _, want := range samples {
		g.Expect(want.GetKind()).To(BeElementOf("DirectusSubscription", "DirectusConnection", "ClusterDirectusConnection"))
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		key := keyOf(ns, want.GetName())
		if want.GetKind() == "ClusterDirectusConnection" {
			key = keyOf("", want.GetName())
		}
		g.Expect(k8sClient.Get(ctx, key, got)).To(Succeed(), "read back %s %s", want.GetKind(), want.GetName())
		for _, field := range []string{"url", "collection"} {
			w, _, _ := unstructured.NestedString(want.Object, "spec", field)
			v, _, _ := unstructured.NestedString(got.Object, "spec", field)
			g.Expect(v).To(Equal(w), "%s spec.%s", want.GetName(), field)
		}
		wantQuery, _, _ := unstructured.NestedMap(want.Object, "spec", "query")
		gotQuery, _, _ := unstructured.NestedMap(got.Object, "spec", "query")
		for k, v := range wantQuery {
			g.Expect(gotQuery).To(HaveKeyWithValue(k, v), "%s spec.query.%s", want.GetName(), k)
		}
	}
	secret := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, keyOf(ns, "directus-token"), secret)).To(Succeed())
	g.Expect(secret.Data).To(HaveKey("token"))
}
