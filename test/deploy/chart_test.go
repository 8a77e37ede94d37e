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
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const (
	// release is the Helm release name in every test; the chart's full name
	// is then just "directus-operator".
	release    = "directus-operator"
	fullname   = "directus-operator"
	imageRepo  = "ghcr.io/directus-operator/directus-operator"
	testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestHelmLintPassesStrict(t *testing.T) {
	stdout, stderr, err := run("", helmBin, "lint", "--strict", chartDir)
	if err != nil {
		t.Fatalf("helm lint --strict failed: %v\n%s%s", err, stdout, stderr)
	}
	// The same with every optional object on, so their templates are linted too.
	stdout, stderr, err = run("", helmBin, "lint", "--strict", chartDir,
		"--set", "serviceMonitor.enabled=true,podDisruptionBudget.enabled=true,grafana.dashboard.enabled=true,networkPolicy.enabled=true",
		"--set", "watchNamespaces={a,b}")
	if err != nil {
		t.Fatalf("helm lint --strict with optional objects failed: %v\n%s%s", err, stdout, stderr)
	}
}

// chartCase is one set of values the chart is rendered with.
type chartCase struct {
	name      string
	namespace string
	values    string
	// extraNamespaces must exist before the dry-run (watched namespaces).
	extraNamespaces []string
	check           func(t *testing.T, g Gomega, objs []*unstructured.Unstructured)
}

func TestChartRendersValidObjects(t *testing.T) {
	// The production case uses a PriorityClass; the Priority admission plugin
	// needs it to exist for the Pod dry-run.
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "directus-operator-test"}, Value: 1000}
	if err := k8sClient.Create(context.Background(), pc); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	cases := []chartCase{
		{
			name:      "defaults watch every namespace",
			namespace: "dop-defaults",
			values:    "{}",
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				dep := onlyDeployment(t, g, objs)
				g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
				c := dep.Spec.Template.Spec.Containers[0]
				g.Expect(c.Image).To(Equal(imageRepo + ":" + chartAppVersion(t)))
				g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullIfNotPresent))
				g.Expect(c.Args).To(ContainElements("--leader-elect=true", "--metrics-bind-address=:8443", "--metrics-secure=true",
					"--log-level=info", "--log-format=json", "--max-concurrent-reconciles=4", "--mirror-min-write-interval=0s", "--mirror-max-write-bytes-per-second=10485760",
					"--max-subscriptions-per-connection=100", "--max-concurrent-reads-per-server=4", "--kube-api-qps=100", "--kube-api-burst=300",
					"--inline-connections=Allow"))
				g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--watch-namespaces")))
				g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--metrics-cert-path")), "a self-signed certificate by default")
				g.Expect(c.Resources.Requests).NotTo(BeEmpty(), "resource requests")
				g.Expect(c.Resources.Limits.Memory().IsZero()).To(BeFalse(), "memory limit")

				g.Expect(ofKind(objs, "ServiceAccount")).To(HaveLen(1))
				g.Expect(ofKind(objs, "ServiceMonitor")).To(BeEmpty())
				g.Expect(ofKind(objs, "PodDisruptionBudget")).To(BeEmpty())
				g.Expect(ofKind(objs, "ConfigMap")).To(BeEmpty())

				manager := clusterRoleNamed(t, g, objs, fullname+"-manager")
				g.Expect(normalizeRules(manager.Rules)).To(Equal(normalizeRules(generatedManagerRules(t))),
					"the chart's manager rules differ from config/rbac/role.yaml (generated from the +kubebuilder:rbac markers)")
				g.Expect(ofKind(objs, "ClusterRoleBinding")).To(HaveLen(2), "the manager's and the metrics endpoint's")
				crb := namespaced[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding", "", fullname+"-manager")
				g.Expect(crb.RoleRef.Name).To(Equal(fullname + "-manager"))
				g.Expect(crb.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: fullname, Namespace: "dop-defaults"}))
				assertChartMetricsRBAC(t, g, objs, "dop-defaults")

				svc := onlyService(t, g, objs)
				g.Expect(labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels))).To(BeTrue(), "metrics Service selects the pods")
				g.Expect(svc.Spec.Ports).To(ConsistOf(And(HaveField("TargetPort.StrVal", "metrics"), HaveField("Name", "https"), HaveField("Port", BeEquivalentTo(8443)))))
				g.Expect(ofKind(objs, "NetworkPolicy")).To(BeEmpty(), "no NetworkPolicy unless asked for")

				editor := clusterRoleNamed(t, g, objs, fullname+"-directussubscription-editor")
				g.Expect(editor.Labels).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-edit", "true"))
				g.Expect(editor.Labels).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-admin", "true"))
				viewer := clusterRoleNamed(t, g, objs, fullname+"-directussubscription-viewer")
				g.Expect(viewer.Labels).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-view", "true"))
			},
		},
		{
			name:            "watchNamespaces list gives a Role per namespace and no cluster-wide manager access",
			namespace:       "dop-namespaced",
			values:          "watchNamespaces: [dop-team-a, dop-team-b]\n",
			extraNamespaces: []string{"dop-team-a", "dop-team-b"},
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				dep := onlyDeployment(t, g, objs)
				g.Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--watch-namespaces=dop-team-a,dop-team-b"))

				// Cluster-wide bindings in list mode: the metrics endpoint's
				// (TokenReviews and SubjectAccessReviews exist only cluster-wide)
				// and the cluster-scoped objects' (namespace labels and
				// ClusterDirectusConnections, which a Role cannot grant); none
				// for the manager's namespaced rules.
				g.Expect(ofKind(objs, "ClusterRoleBinding")).To(ConsistOf(
					HaveField("Object", HaveKeyWithValue("roleRef", HaveKeyWithValue("name", fullname+"-metrics-auth"))),
					HaveField("Object", HaveKeyWithValue("roleRef", HaveKeyWithValue("name", fullname+"-cluster-scoped")))))
				assertChartMetricsRBAC(t, g, objs, "dop-namespaced")
				g.Expect(normalizeRules(clusterRoleNamed(t, g, objs, fullname+"-cluster-scoped").Rules)).To(ConsistOf(
					"/namespaces:get", "/namespaces:list", "/namespaces:watch",
					"realtime.directus-operator.io/clusterdirectusconnections:get", "realtime.directus-operator.io/clusterdirectusconnections:list",
					"realtime.directus-operator.io/clusterdirectusconnections:watch", "realtime.directus-operator.io/clusterdirectusconnections/status:get",
					"realtime.directus-operator.io/clusterdirectusconnections/status:patch", "realtime.directus-operator.io/clusterdirectusconnections/status:update"))
				for _, u := range ofKind(objs, "ClusterRole") {
					cr := typed[rbacv1.ClusterRole](t, u)
					g.Expect(normalizeRules(cr.Rules)).NotTo(ContainElement(And(HavePrefix("/"), Not(HavePrefix("/namespaces:")))),
						"ClusterRole %s grants namespaced core resources in list mode", cr.Name)
				}
				want := normalizeRules(generatedManagerRules(t))
				for _, ns := range []string{"dop-team-a", "dop-team-b"} {
					role := namespaced[rbacv1.Role](t, objs, "Role", ns, fullname+"-manager")
					g.Expect(normalizeRules(role.Rules)).To(Equal(want), "manager Role in %s", ns)
					rb := namespaced[rbacv1.RoleBinding](t, objs, "RoleBinding", ns, fullname+"-manager")
					g.Expect(rb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: fullname + "-manager"}))
					g.Expect(rb.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: fullname, Namespace: "dop-namespaced"}))
				}
				// The manager rules exist only in the watched namespaces.
				for _, u := range ofKind(objs, "Role") {
					if u.GetName() == fullname+"-manager" {
						g.Expect(u.GetNamespace()).To(BeElementOf("dop-team-a", "dop-team-b"))
					}
				}
			},
		},
		{
			name:      "production values: replicas, digest, PDB, ServiceMonitor, dashboard, scheduling, extras",
			namespace: "dop-production",
			values: `replicas: 2
image:
  digest: ` + testDigest + `
  pullPolicy: Always
imagePullSecrets: [{name: regcred}]
extraArgs: ["--max-concurrent-reconciles=8"]
extraEnv: [{name: GOMEMLIMIT, value: 200MiB}]
podAnnotations: {example.com/owner: platform}
podLabels: {team: platform}
serviceAccount: {annotations: {example.com/role: directus-operator}}
priorityClassName: directus-operator-test
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: operators, effect: NoSchedule}]
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector: {matchLabels: {app.kubernetes.io/name: directus-operator}}
topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}]
logLevel: debug
logFormat: text
podDisruptionBudget: {enabled: true}
serviceMonitor: {enabled: true, labels: {release: prometheus}, interval: 15s, scrapeTimeout: 10s}
grafana: {dashboard: {enabled: true, annotations: {grafana_folder: Operators}}}
`,
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				dep := onlyDeployment(t, g, objs)
				pod := dep.Spec.Template
				c := pod.Spec.Containers[0]
				g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
				g.Expect(c.Image).To(Equal(imageRepo + "@" + testDigest))
				g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullAlways))
				g.Expect(c.Args[len(c.Args)-1]).To(Equal("--max-concurrent-reconciles=8"), "extraArgs come last so they win")
				g.Expect(c.Args).To(ContainElements("--log-level=debug", "--log-format=text", "--leader-elect=true"))
				g.Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "GOMEMLIMIT", Value: "200MiB"}))
				g.Expect(pod.Spec.ImagePullSecrets).To(ConsistOf(corev1.LocalObjectReference{Name: "regcred"}))
				g.Expect(pod.Annotations).To(HaveKeyWithValue("example.com/owner", "platform"))
				g.Expect(pod.Labels).To(HaveKeyWithValue("team", "platform"))
				g.Expect(pod.Spec.PriorityClassName).To(Equal("directus-operator-test"))
				g.Expect(pod.Spec.NodeSelector).To(HaveKeyWithValue("kubernetes.io/os", "linux"))
				g.Expect(pod.Spec.Tolerations).To(HaveLen(1))
				g.Expect(pod.Spec.Affinity).NotTo(BeNil())
				g.Expect(pod.Spec.TopologySpreadConstraints).To(HaveLen(1))
				tsc := pod.Spec.TopologySpreadConstraints[0]
				g.Expect(tsc.LabelSelector).NotTo(BeNil(), "the chart fills in the labelSelector")
				g.Expect(labels.SelectorFromSet(tsc.LabelSelector.MatchLabels).Matches(labels.Set(pod.Labels))).To(BeTrue())

				sa := typed[corev1.ServiceAccount](t, ofKind(objs, "ServiceAccount")[0])
				g.Expect(sa.Annotations).To(HaveKeyWithValue("example.com/role", "directus-operator"))

				pdbs := ofKind(objs, "PodDisruptionBudget")
				g.Expect(pdbs).To(HaveLen(1))
				pdb := typed[policyv1.PodDisruptionBudget](t, pdbs[0])
				g.Expect(pdb.Spec.MaxUnavailable).NotTo(BeNil())
				g.Expect(pdb.Spec.MaxUnavailable.IntValue()).To(Equal(1))
				g.Expect(pdb.Spec.MinAvailable).To(BeNil())
				sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(sel.Matches(labels.Set(pod.Labels))).To(BeTrue(), "PDB selects the pods")

				svc := onlyService(t, g, objs)
				sms := ofKind(objs, "ServiceMonitor")
				g.Expect(sms).To(HaveLen(1))
				sm := sms[0]
				g.Expect(sm.GetLabels()).To(HaveKeyWithValue("release", "prometheus"))
				smSel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
				g.Expect(labels.SelectorFromSet(smSel).Matches(labels.Set(svc.Labels))).To(BeTrue(), "ServiceMonitor selects the metrics Service")
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				g.Expect(eps).To(HaveLen(1))
				g.Expect(eps[0]).To(HaveKeyWithValue("port", svc.Spec.Ports[0].Name))
				g.Expect(eps[0]).To(HaveKeyWithValue("interval", "15s"))
				g.Expect(eps[0]).To(HaveKeyWithValue("scheme", "https"))
				g.Expect(eps[0]).To(HaveKeyWithValue("bearerTokenFile", "/var/run/secrets/kubernetes.io/serviceaccount/token"))
				g.Expect(eps[0]).To(HaveKeyWithValue("tlsConfig", map[string]any{"insecureSkipVerify": true}), "the self-signed certificate cannot be verified")

				cms := ofKind(objs, "ConfigMap")
				g.Expect(cms).To(HaveLen(1))
				cm := typed[corev1.ConfigMap](t, cms[0])
				g.Expect(cm.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"))
				g.Expect(cm.Annotations).To(HaveKeyWithValue("grafana_folder", "Operators"))
				dashboard := readRepoFile(t, "charts/directus-operator/dashboards/directus-operator.json")
				g.Expect(cm.Data["directus-operator.json"]).To(Equal(strings.TrimRight(string(dashboard), "\n")))
			},
		},
		{
			name:      "metrics with a certificate from a Secret, verified by the ServiceMonitor",
			namespace: "dop-metrics-cert",
			values: `metrics: {certSecret: operator-metrics-tls}
serviceMonitor:
  enabled: true
  tlsConfig:
    ca: {secret: {name: operator-metrics-tls, key: ca.crt}}
    serverName: directus-operator-metrics.dop-metrics-cert.svc
`,
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				pod := onlyDeployment(t, g, objs).Spec.Template
				c := pod.Spec.Containers[0]
				g.Expect(c.Args).To(ContainElements("--metrics-secure=true", "--metrics-cert-path=/var/run/directus-operator/metrics-certs"))
				g.Expect(c.VolumeMounts).To(ContainElement(corev1.VolumeMount{Name: "metrics-certs", MountPath: "/var/run/directus-operator/metrics-certs", ReadOnly: true}))
				g.Expect(pod.Spec.Volumes).To(ContainElement(And(HaveField("Name", "metrics-certs"),
					HaveField("Secret.SecretName", "operator-metrics-tls"),
					HaveField("Secret.Items", ConsistOf(corev1.KeyToPath{Key: "tls.crt", Path: "tls.crt"}, corev1.KeyToPath{Key: "tls.key", Path: "tls.key"})))))
				eps, _, _ := unstructured.NestedSlice(ofKind(objs, "ServiceMonitor")[0].Object, "spec", "endpoints")
				g.Expect(eps).To(ConsistOf(HaveKeyWithValue("tlsConfig", map[string]any{
					"ca":         map[string]any{"secret": map[string]any{"name": "operator-metrics-tls", "key": "ca.crt"}},
					"serverName": "directus-operator-metrics.dop-metrics-cert.svc",
				})), "the user's tlsConfig replaces insecureSkipVerify")
			},
		},
		{
			name:      "plain http metrics, only when asked for",
			namespace: "dop-metrics-http",
			values:    "metrics: {secure: false, certSecret: ignored-when-plain}\nserviceMonitor: {enabled: true}\n",
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				c := onlyDeployment(t, g, objs).Spec.Template.Spec.Containers[0]
				g.Expect(c.Args).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=false"))
				g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--metrics-cert-path")))
				g.Expect(c.VolumeMounts).NotTo(ContainElement(HaveField("Name", "metrics-certs")))
				svc := onlyService(t, g, objs)
				g.Expect(svc.Spec.Ports).To(ConsistOf(HaveField("Name", "http-metrics")))
				eps, _, _ := unstructured.NestedSlice(ofKind(objs, "ServiceMonitor")[0].Object, "spec", "endpoints")
				g.Expect(eps).To(ConsistOf(And(HaveKeyWithValue("port", "http-metrics"), HaveKeyWithValue("scheme", "http"),
					Not(HaveKey("bearerTokenFile")), Not(HaveKey("tlsConfig")))))
				for _, u := range ofKind(objs, "ClusterRole") {
					g.Expect(u.GetName()).NotTo(ContainSubstring("metrics"), "no metrics roles without authentication")
				}
			},
		},
		{
			name:      "NetworkPolicy: metrics from the monitoring namespace, egress to DNS, the API server and Directus",
			namespace: "dop-netpol",
			values: `networkPolicy:
  enabled: true
  metricsNamespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
  metricsPodSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}
  egress:
    enabled: true
    apiServer: {cidrs: [10.0.0.1/32]}
    directus: {cidrs: [10.20.0.0/16, 192.0.2.10/32], ports: [8055]}
    extraRules: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: cms}}}], ports: [{port: 8055}]}]
`,
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				nps := ofKind(objs, "NetworkPolicy")
				g.Expect(nps).To(HaveLen(1))
				np := typed[networkingv1.NetworkPolicy](t, nps[0])
				pod := onlyDeployment(t, g, objs).Spec.Template
				sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(sel.Matches(labels.Set(pod.Labels))).To(BeTrue(), "the NetworkPolicy selects the operator pods")
				g.Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))

				tcp := corev1.ProtocolTCP
				port := func(p intstr.IntOrString) networkingv1.NetworkPolicyPort {
					return networkingv1.NetworkPolicyPort{Port: &p, Protocol: &tcp}
				}
				g.Expect(np.Spec.Ingress).To(ConsistOf(
					networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("health"))}},
					networkingv1.NetworkPolicyIngressRule{
						Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("metrics"))},
						From: []networkingv1.NetworkPolicyPeer{{
							NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}},
							PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}},
						}},
					},
				), "ingress: the metrics port only from the chosen namespace's Prometheus; the health port for probes")
				g.Expect(pod.Spec.Containers[0].Ports).To(ContainElements(HaveField("Name", "metrics"), HaveField("Name", "health")),
					"the policy's named ports exist on the container")

				g.Expect(np.Spec.Egress).To(HaveLen(4))
				g.Expect(np.Spec.Egress[0].To).To(ConsistOf(HaveField("PodSelector.MatchLabels", HaveKeyWithValue("k8s-app", "kube-dns"))))
				g.Expect(np.Spec.Egress[0].Ports).To(HaveLen(2), "DNS over UDP and TCP")
				g.Expect(np.Spec.Egress[1]).To(Equal(networkingv1.NetworkPolicyEgressRule{
					To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.1/32"}}},
					Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(443)), port(intstr.FromInt32(6443))},
				}), "the API server")
				g.Expect(np.Spec.Egress[2]).To(Equal(networkingv1.NetworkPolicyEgressRule{
					To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.20.0.0/16"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.10/32"}}},
					Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(8055))},
				}), "Directus")
				g.Expect(np.Spec.Egress[3].To).To(ConsistOf(HaveField("NamespaceSelector.MatchLabels", HaveKeyWithValue("kubernetes.io/metadata.name", "cms"))))
			},
		},
		{
			name:      "NetworkPolicy without egress limits ingress only",
			namespace: "dop-netpol-ingress",
			values:    "networkPolicy: {enabled: true}\n",
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				np := typed[networkingv1.NetworkPolicy](t, ofKind(objs, "NetworkPolicy")[0])
				g.Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress))
				g.Expect(np.Spec.Egress).To(BeEmpty())
				g.Expect(np.Spec.Ingress).To(ContainElement(HaveField("From", ConsistOf(networkingv1.NetworkPolicyPeer{
					NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{},
				}))), "the default selectors ({}) admit every namespace's pods, as Kubernetes reads them")
			},
		},
		{
			name:      "existing ServiceAccount, metrics off, no user roles, numeric log level",
			namespace: "dop-minimal",
			values: `serviceAccount: {create: false, name: custom-sa}
metrics: {enabled: false}
rbac: {aggregateToDefaultRoles: false}
logLevel: 4
inlineConnections: Deny
`,
			check: func(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
				t.Helper()
				dep := onlyDeployment(t, g, objs)
				c := dep.Spec.Template.Spec.Containers[0]
				g.Expect(dep.Spec.Template.Spec.ServiceAccountName).To(Equal("custom-sa"))
				g.Expect(c.Args).To(ContainElements("--metrics-bind-address=0", "--log-level=4", "--inline-connections=Deny"))
				g.Expect(c.Ports).NotTo(ContainElement(HaveField("Name", "metrics")))
				g.Expect(ofKind(objs, "ServiceAccount")).To(BeEmpty())
				g.Expect(ofKind(objs, "Service")).To(BeEmpty())
				g.Expect(ofKind(objs, "ClusterRole")).To(HaveLen(1), "only the manager ClusterRole")
				for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
					for _, u := range ofKind(objs, kind) {
						g.Expect(u.Object["subjects"]).To(ConsistOf(HaveKeyWithValue("name", "custom-sa")), "%s %s", kind, u.GetName())
					}
				}
			},
		},
		{
			name:      "sharding.shards gives each shard a Deployment, a Lease and a PodDisruptionBudget of its own",
			namespace: "dop-shards",
			values:    "replicas: 2\nsharding: {shards: [shard1, shard2]}\npodDisruptionBudget: {enabled: true}\n",
			check:     checkShards,
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			objs := helmTemplate(t, tc.namespace, tc.values)
			g.Expect(objs).NotTo(BeEmpty())

			assertCommonChartObjects(t, g, objs, tc.namespace)
			tc.check(t, g, objs)

			for _, ns := range append([]string{tc.namespace}, tc.extraNamespaces...) {
				ensureNamespace(t, ns)
			}
			serverDryRun(t, objs)
			for _, u := range ofKind(objs, "Deployment") {
				podDryRun(t, tc.namespace, typed[appsv1.Deployment](t, u).Spec.Template)
			}
		})
	}
}

// checkShards: three Deployments (the default one keeps the selector it has
// without shards, so that turning sharding on is an upgrade), none selecting
// another's pods, each with its own Lease and a --watch-label-selector that
// the operator parses; every object is reconciled by exactly one of them
// (one of no shard, or of a shard this release does not run, by the
// default); one metrics Service for all their pods; a PodDisruptionBudget
// per Deployment.
func checkShards(t *testing.T, g Gomega, objs []*unstructured.Unstructured) {
	t.Helper()
	deps := map[string]*appsv1.Deployment{}
	for _, u := range ofKind(objs, "Deployment") {
		deps[u.GetName()] = typed[appsv1.Deployment](t, u)
	}
	g.Expect(deps).To(HaveLen(3))
	g.Expect(deps).To(HaveKey(fullname))
	g.Expect(deps[fullname].Spec.Selector.MatchLabels).To(Equal(map[string]string{
		"app.kubernetes.io/name": "directus-operator", "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "controller-manager",
	}), "the default Deployment's selector is the one it has without shards")
	svc := onlyService(t, g, objs)
	selectors := map[string]labels.Selector{}
	leases := map[string]bool{}
	for name, dep := range deps {
		g.Expect(*dep.Spec.Replicas).To(BeEquivalentTo(2), name)
		own, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
		g.Expect(err).NotTo(HaveOccurred())
		for other, o := range deps {
			g.Expect(own.Matches(labels.Set(o.Spec.Template.Labels))).To(Equal(name == other), "%s's selector and %s's pods", name, other)
		}
		g.Expect(labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels))).To(BeTrue(), "the metrics Service selects %s's pods", name)
		var selector string
		for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
			if v, ok := strings.CutPrefix(a, "--leader-election-id="); ok {
				leases[v] = true
			}
			if v, ok := strings.CutPrefix(a, "--watch-label-selector="); ok {
				selector = v
			}
		}
		sel, err := labels.Parse(selector)
		g.Expect(err).NotTo(HaveOccurred(), "%s: --watch-label-selector=%s", name, selector)
		selectors[name] = sel
		pdb := namespaced[policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget", "dop-shards", name)
		g.Expect(pdb.Spec.Selector).To(Equal(dep.Spec.Selector), name)
	}
	g.Expect(leases).To(HaveLen(3), "a Lease per Deployment")
	g.Expect(leases).To(HaveKey("directus-operator.realtime.directus-operator.io"), "the default Deployment keeps its Lease")
	for objLabels, want := range map[string]string{
		"": fullname, "sharding.fluxcd.io/key=shard1": fullname + "-shard1", "sharding.fluxcd.io/key=shard2": fullname + "-shard2",
		"sharding.fluxcd.io/key=shard3": fullname, "team=a": fullname,
	} {
		set, err := labels.ConvertSelectorToLabelsMap(objLabels)
		g.Expect(err).NotTo(HaveOccurred())
		var by []string
		for name, sel := range selectors {
			if sel.Matches(set) {
				by = append(by, name)
			}
		}
		g.Expect(by).To(ConsistOf(want), "an object labelled %q", objLabels)
	}
}

// assertCommonChartObjects checks what holds for every set of values: every
// namespaced object names its namespace, pods meet the restricted profile and
// have probes, Secrets are read-only, leader election is namespaced.
func assertCommonChartObjects(t *testing.T, g Gomega, objs []*unstructured.Unstructured, ns string) {
	t.Helper()
	for _, u := range objs {
		if clusterScoped[u.GetKind()] {
			g.Expect(u.GetNamespace()).To(BeEmpty(), "%s %s", u.GetKind(), u.GetName())
			continue
		}
		g.Expect(u.GetNamespace()).NotTo(BeEmpty(), "%s %s has no namespace: it would land in the user's current namespace", u.GetKind(), u.GetName())
		g.Expect(u.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"), "%s %s", u.GetKind(), u.GetName())
	}

	g.Expect(ofKind(objs, "Deployment")).NotTo(BeEmpty())
	for _, u := range ofKind(objs, "Deployment") {
		dep := typed[appsv1.Deployment](t, u)
		g.Expect(dep.Spec.Template.Spec.Containers).To(HaveLen(1))
		assertRestricted(g, dep.Spec.Template.Spec)
		c := dep.Spec.Template.Spec.Containers[0]
		assertProbes(g, c)
		g.Expect(c.Args[0]).To(Equal("operator"), "the binary's subcommand comes first")
		g.Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}))
		g.Expect(dep.Spec.Selector.MatchLabels).To(HaveKeyWithValue("app.kubernetes.io/instance", release))
	}

	for _, u := range ofKind(objs, "ClusterRole") {
		assertSecretsBounded(g, typed[rbacv1.ClusterRole](t, u).Rules, "ClusterRole "+u.GetName())
	}
	for _, u := range ofKind(objs, "Role") {
		assertSecretsBounded(g, typed[rbacv1.Role](t, u).Rules, "Role "+u.GetName())
	}
	le := namespaced[rbacv1.Role](t, objs, "Role", ns, fullname+"-leader-election")
	g.Expect(normalizeRules(le.Rules)).To(ContainElements("coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create", "coordination.k8s.io/leases:update"))
	leb := namespaced[rbacv1.RoleBinding](t, objs, "RoleBinding", ns, fullname+"-leader-election")
	g.Expect(leb.RoleRef.Name).To(Equal(le.Name))
}

// assertChartMetricsRBAC checks the chart's RBAC for the authenticated
// metrics endpoint.
func assertChartMetricsRBAC(t *testing.T, g Gomega, objs []*unstructured.Unstructured, ns string) {
	t.Helper()
	assertMetricsRBAC(t, g, objs, metricsRBAC{
		authRole: fullname + "-metrics-auth", authBinding: fullname + "-metrics-auth", reader: fullname + "-metrics-reader",
		operator: rbacv1.Subject{Kind: "ServiceAccount", Name: fullname, Namespace: ns},
	})
}

func onlyDeployment(t *testing.T, g Gomega, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	deps := ofKind(objs, "Deployment")
	g.Expect(deps).To(HaveLen(1))
	dep := typed[appsv1.Deployment](t, deps[0])
	g.Expect(dep.Spec.Template.Spec.Containers).To(HaveLen(1))
	return dep
}

func onlyService(t *testing.T, g Gomega, objs []*unstructured.Unstructured) *corev1.Service {
	t.Helper()
	svcs := ofKind(objs, "Service")
	g.Expect(svcs).To(HaveLen(1))
	return typed[corev1.Service](t, svcs[0])
}

func clusterRoleNamed(t *testing.T, g Gomega, objs []*unstructured.Unstructured, name string) *rbacv1.ClusterRole {
	t.Helper()
	for _, u := range ofKind(objs, "ClusterRole") {
		if u.GetName() == name {
			return typed[rbacv1.ClusterRole](t, u)
		}
	}
	g.Expect(name).To(BeEmpty(), "no ClusterRole %s", name)
	return nil
}

func namespaced[T any](t *testing.T, objs []*unstructured.Unstructured, kind, ns, name string) *T {
	t.Helper()
	for _, u := range ofKind(objs, kind) {
		if u.GetNamespace() == ns && u.GetName() == name {
			return typed[T](t, u)
		}
	}
	t.Fatalf("no %s %s/%s rendered", kind, ns, name)
	return nil
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "charts/directus-operator/Chart.yaml"), &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("read appVersion from Chart.yaml: %v", err)
	}
	return chart.AppVersion
}

func TestChartCRDsEqualGeneratedCRDs(t *testing.T) {
	g := NewWithT(t)
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join(repoRoot, dir))
		g.Expect(err).NotTo(HaveOccurred())
		var out []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".yaml") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	generated := names("config/crd/bases")
	g.Expect(generated).NotTo(BeEmpty())
	g.Expect(names("charts/directus-operator/crds")).To(Equal(generated),
		"charts/directus-operator/crds must hold exactly the CRDs of config/crd/bases: run 'make manifests'")
	for _, name := range generated {
		want := readRepoFile(t, filepath.Join("config/crd/bases", name))
		got := readRepoFile(t, filepath.Join("charts/directus-operator/crds", name))
		g.Expect(bytes.Equal(got, want)).To(BeTrue(),
			"charts/directus-operator/crds/%s differs from config/crd/bases/%s: run 'make manifests'", name, name)
	}
}

func TestValuesSchemaRejectsBadValues(t *testing.T) {
	cases := []struct {
		name   string
		values string
		want   []string
	}{
		{"replicas as a string", `replicas: "2"`, []string{"at '/replicas'", "got string, want integer"}},
		{"unknown log level", `logLevel: verbose`, []string{"at '/logLevel'", "'debug', 'info', 'error'"}},
		{"unknown log format", `logFormat: xml`, []string{"at '/logFormat'", "'json', 'text'"}},
		{"pull policy outside the enum", `image: {pullPolicy: Sometimes}`, []string{"at '/image/pullPolicy'", "'Always', 'IfNotPresent', 'Never'"}},
		{"misspelt top-level key", `replica: 2`, []string{"additional properties 'replica' not allowed"}},
		{"misspelt nested key", `serviceMonitor: {enable: true}`, []string{"at '/serviceMonitor'", "additional properties 'enable' not allowed"}},
		{"digest without algorithm", `image: {digest: "0123abc"}`, []string{"at '/image/digest'", "does not match pattern"}},
		{"invalid namespace name", `watchNamespaces: [Team_A]`, []string{"at '/watchNamespaces/0'"}},
		{"duration without unit", `mirrorMinWriteInterval: "100"`, []string{"at '/mirrorMinWriteInterval'"}},
		{"ServiceMonitor without metrics", "serviceMonitor: {enabled: true}\nmetrics: {enabled: false}", []string{"serviceMonitor.enabled needs metrics.enabled"}},
		{"NetworkPolicy egress without the API server", "networkPolicy: {enabled: true, egress: {enabled: true}}", []string{"networkPolicy.egress.enabled needs networkPolicy.egress.apiServer.cidrs"}},
		{"NetworkPolicy CIDR without a prefix length", "networkPolicy: {egress: {directus: {cidrs: [10.0.0.1]}}}", []string{"at '/networkPolicy/egress/directus/cidrs/0'", "does not match pattern"}},
		{"metrics certificate Secret with a bad name", "metrics: {certSecret: Metrics_TLS}", []string{"at '/metrics/certSecret'"}},
		{"shard name that is no label value", "sharding: {shards: [Shard_1]}", []string{"at '/sharding/shards/0'", "does not match pattern"}},
		{"the same shard twice", "sharding: {shards: [a, a]}", []string{"at '/sharding/shards'"}},
		{"lease duration without unit", "leaderElection: {leaseDuration: \"15\"}", []string{"at '/leaderElection/leaseDuration'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, stderr, err := helmTemplateRaw("default", tc.values)
			g.Expect(err).To(HaveOccurred(), "helm template accepted %q", tc.values)
			for _, w := range tc.want {
				g.Expect(stderr).To(ContainSubstring(w))
			}
		})
	}
	t.Run("good values pass", func(t *testing.T) {
		for _, v := range []string{`logLevel: 5`, `logLevel: error`, `podDisruptionBudget: {enabled: true, minAvailable: "50%"}`, `image: {tag: v9.9.9}`} {
			if _, stderr, err := helmTemplateRaw("default", v); err != nil {
				t.Errorf("helm template rejected %q: %s", v, stderr)
			}
		}
	})
}

// TestHelmInstallUpgradeUninstallKeepsCRDs installs the chart for real, as a
// user does, upgrades it, and uninstalls it: the CRD and the users'
// DirectusSubscriptions survive the uninstall.
func TestHelmInstallUpgradeUninstallKeepsCRDs(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := uniqueNS("dop-helm-install")
	ensureNamespace(t, ns)
	home := t.TempDir()
	helm := func(args ...string) string {
		t.Helper()
		args = append(args, "--kubeconfig", kubeconfig)
		stdout, stderr, err := runEnv([]string{"HELM_CONFIG_HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_DATA_HOME=" + home}, helmBin, args...)
		g.Expect(err).NotTo(HaveOccurred(), "helm %s\n%s%s", strings.Join(args, " "), stdout, stderr)
		return stdout
	}

	notes := helm("install", release, chartDir, "--namespace", ns)
	g.Expect(notes).To(ContainSubstring("kubectl -n default create secret generic directus-token"))
	g.Expect(notes).To(ContainSubstring("kind: DirectusSubscription"))
	g.Expect(notes).To(ContainSubstring("get dsub -w"))
	// The DirectusSubscription the notes tell users to apply is valid.
	manifest := notesManifest(t, notes)
	g.Expect(manifest).To(ContainSubstring("url:"))
	stdout, stderr, err := run(manifest, kubectlBin, "--kubeconfig", kubeconfig, "apply", "-n", ns, "--dry-run=server", "-f", "-")
	g.Expect(err).NotTo(HaveOccurred(), "apply the notes' DirectusSubscription: %s%s", stdout, stderr)
	g.Expect(stdout).To(ContainSubstring("directussubscription.realtime.directus-operator.io/messages created (server dry run)"))
	dep := &appsv1.Deployment{}
	g.Expect(k8sClient.Get(ctx, keyOf(ns, fullname), dep)).To(Succeed())
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))

	helm("upgrade", release, chartDir, "--namespace", ns, "--reuse-values", "--set", "replicas=2")
	g.Expect(k8sClient.Get(ctx, keyOf(ns, fullname), dep)).To(Succeed())
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))

	sub := sampleSubscription(t, ns)
	g.Expect(k8sClient.Create(ctx, sub)).To(Succeed())

	helm("uninstall", release, "--namespace", ns)
	err = k8sClient.Get(ctx, keyOf(ns, fullname), &appsv1.Deployment{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Deployment is gone after uninstall: %v", err)
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	g.Expect(k8sClient.Get(ctx, keyOf("", "directussubscriptions.realtime.directus-operator.io"), crd)).To(Succeed(), "the CRD survives helm uninstall")
	g.Expect(k8sClient.Get(ctx, keyOf(ns, sub.GetName()), sub.DeepCopy())).To(Succeed(), "the DirectusSubscription survives helm uninstall")
}

// notesManifest returns the YAML that the chart's notes pipe into kubectl
// apply with a heredoc.
func notesManifest(t *testing.T, notes string) string {
	t.Helper()
	_, manifest, found := strings.Cut(notes, "<<'YAML' | kubectl -n default apply -f -\n")
	if !found {
		t.Fatalf("the notes have no heredoc to apply:\n%s", notes)
	}
	manifest, _, found = strings.Cut(manifest, "\nYAML\n")
	if !found {
		t.Fatalf("the notes' heredoc does not end with YAML at the start of a line:\n%s", notes)
	}
	return manifest
}

// TestTheNotesSampleNamesAConnectionWhenInlineConnectionsAreDenied: with
// inlineConnections: Deny a subscription with a url is refused, so the
// notes show a DirectusConnection and a subscription that names it.
func TestTheNotesSampleNamesAConnectionWhenInlineConnectionsAreDenied(t *testing.T) {
	g := NewWithT(t)
	ns := uniqueNS("dop-notes-deny")
	ensureNamespace(t, ns)
	notes, stderr, err := run("", helmBin, "install", "directus-operator", chartDir, "--namespace", ns,
		"--dry-run=client", "--set", "inlineConnections=Deny", "--kubeconfig", kubeconfig)
	g.Expect(err).NotTo(HaveOccurred(), "helm install --dry-run: %s", stderr)
	_, notes, found := strings.Cut(notes, "NOTES:\n")
	g.Expect(found).To(BeTrue(), "helm prints the notes")
	objs := decodeObjects(t, notesManifest(t, notes))
	g.Expect(objs).To(HaveLen(2))
	g.Expect(objs[0].GetKind()).To(Equal("DirectusConnection"))
	g.Expect(objs[1].GetKind()).To(Equal("DirectusSubscription"))
	g.Expect(objs[1].Object["spec"]).NotTo(HaveKey("url"), "Deny refuses a url in a subscription")
	g.Expect(objs[1].Object["spec"]).To(HaveKeyWithValue("connectionRef", map[string]any{"kind": "DirectusConnection", "name": objs[0].GetName()}))
	for _, o := range objs {
		o.SetNamespace(ns)
	}
	serverDryRun(t, objs)
}

// TestTheInstallGuideNamesEveryClusterRoleTheChartCreates: docs/install.md
// lists the chart's ClusterRoles as `<release>-…` and says there are eight
// in either install mode; the list is the ClusterRoles of a cluster-wide
// and of a namespaced render, no more and no fewer.
func TestTheInstallGuideNamesEveryClusterRoleTheChartCreates(t *testing.T) {
	g := NewWithT(t)
	rendered := map[string]bool{}
	for _, values := range []string{"{}\n", "watchNamespaces: [team-a]\n"} {
		roles := ofKind(helmTemplate(t, "dop-docs-rbac", values), "ClusterRole")
		g.Expect(roles).To(HaveLen(8), "install.md says eight ClusterRoles with %s", values)
		for _, u := range roles {
			rendered["<release>"+strings.TrimPrefix(u.GetName(), fullname)] = true
		}
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(<release>-[a-z-]+)`").FindAllStringSubmatch(string(readRepoFile(t, "docs/install.md")), -1) {
		documented[m[1]] = true
	}
	g.Expect(documented).To(Equal(rendered))
}

// sampleSubscription reads the first sample DirectusSubscription into ns.
func sampleSubscription(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	objs := decodeObjects(t, string(readRepoFile(t, "config/samples/realtime_v1alpha1_directussubscription.yaml")))
	if len(objs) != 1 {
		t.Fatalf("want one object in the sample, got %d", len(objs))
	}
	objs[0].SetNamespace(ns)
	return objs[0]
}

func TestChartReadmeDocumentsEveryValue(t *testing.T) {
	var values map[string]any
	if err := yaml.Unmarshal(readRepoFile(t, "charts/directus-operator/values.yaml"), &values); err != nil {
		t.Fatal(err)
	}
	readme := string(readRepoFile(t, "charts/directus-operator/README.md"))
	// Maps documented as a whole rather than key by key.
	whole := map[string]bool{
		"podSecurityContext": true, "securityContext": true, "resources": true,
		"livenessProbe": true, "readinessProbe": true, "grafana.dashboard.labels": true,
	}
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			path := prefix + k
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !whole[path] {
				walk(path+".", sub)
				continue
			}
			keys = append(keys, path)
		}
	}
	walk("", values)
	slices.Sort(keys)
	for _, k := range keys {
		if !strings.Contains(readme, fmt.Sprintf("| `%s` |", k)) {
			t.Errorf("charts/directus-operator/README.md has no row for the value %s", k)
		}
	}
}

// TestRestrictedChecksCatchAnUnsafePod is the negative control of the checks
// above: with privilege escalation allowed and NET_RAW kept, the field checks
// fail, the API server warns on the Deployment and rejects the Pod.
func TestRestrictedChecksCatchAnUnsafePod(t *testing.T) {
	g := NewWithT(t)
	const ns = "dop-unsafe"
	objs := helmTemplate(t, ns, "securityContext: {allowPrivilegeEscalation: true, capabilities: {drop: [NET_RAW]}}\n")
	dep := onlyDeployment(t, g, objs)

	var failures []string
	recorder := NewGomega(func(message string, _ ...int) { failures = append(failures, message) })
	assertRestricted(recorder, dep.Spec.Template.Spec)
	g.Expect(failures).To(ContainElements(ContainSubstring("allowPrivilegeEscalation"), ContainSubstring("capabilities.drop")))

	ensureNamespace(t, ns)
	err := createPodDryRun(ns, dep.Spec.Template)
	g.Expect(err).To(MatchError(ContainSubstring(`violates PodSecurity "restricted:latest"`)))

	var deployment strings.Builder
	data, _ := yaml.Marshal(ofKind(objs, "Deployment")[0].Object)
	deployment.Write(data)
	_, stderr, err := run(deployment.String(), kubectlBin, "--kubeconfig", kubeconfig,
		"apply", "--server-side", "--dry-run=server", "-f", "-")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stderr).To(ContainSubstring(`would violate PodSecurity "restricted:latest"`))
}
