//go:build cluster

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

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/directustest"
)

// operator is one install of the operator: the namespace it runs in and the
// labels that select its pods.
type operator struct {
	namespace string
	selector  client.MatchingLabels
}

// helmInstall installs the chart as a user would, waits for it, and
// uninstalls it (waiting for its pods to go) when the test ends.
func helmInstall(t *testing.T, ns string, args ...string) *operator {
	t.Helper()
	helm(t, append([]string{"install", "directus-operator", "charts/directus-operator", "-n", ns, "--wait", "--timeout", "3m"}, args...)...)
	op := &operator{namespace: ns, selector: shardSelector("")}
	t.Cleanup(func() {
		if _, err := toolErr("", helmBin, "uninstall", "directus-operator", "-n", ns, "--wait", "--timeout", "2m"); err == nil {
			// Every shard's pods, not only the default Deployment's.
			(&operator{namespace: ns, selector: client.MatchingLabels{"app.kubernetes.io/instance": "directus-operator"}}).gone(t)
		}
	})
	return op
}

// shardSelector selects the chart's Deployment of a shard and its pods
// ("": the default Deployment).
func shardSelector(shard string) client.MatchingLabels {
	component := "controller-manager"
	if shard != "" {
		component += "-" + shard
	}
	return client.MatchingLabels{"app.kubernetes.io/instance": "directus-operator", "app.kubernetes.io/component": component}
}

// gone waits until none of the operator's pods is left.
func (op *operator) gone(t *testing.T) {
	t.Helper()
	NewWithT(t).Eventually(func() []corev1.Pod { return op.pods(t) }, timeout, poll).Should(BeEmpty())
}

func (op *operator) pods(t *testing.T) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	NewWithT(t).Expect(k8s.List(context.Background(), &pods, client.InNamespace(op.namespace), op.selector)).To(Succeed())
	return pods.Items
}

// available waits until the operator's Deployment is Available with every
// replica updated, and returns its one running pod.
func (op *operator) available(t *testing.T) corev1.Pod {
	t.Helper()
	return op.replicas(t, 1)[0]
}

// replicas waits until the operator's Deployment is Available with its n
// replicas updated and ready, and returns their pods.
func (op *operator) replicas(t *testing.T, n int) []corev1.Pod {
	t.Helper()
	g := NewWithT(t)
	var ready []corev1.Pod
	g.Eventually(func(g Gomega) {
		var deps appsv1.DeploymentList
		g.Expect(k8s.List(context.Background(), &deps, client.InNamespace(op.namespace), op.selector)).To(Succeed())
		g.Expect(deps.Items).To(HaveLen(1))
		d := deps.Items[0]
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		g.Expect(*d.Spec.Replicas).To(BeEquivalentTo(n))
		g.Expect(d.Status.UpdatedReplicas).To(Equal(*d.Spec.Replicas))
		g.Expect(d.Status.AvailableReplicas).To(Equal(*d.Spec.Replicas))
		g.Expect(d.Status.Replicas).To(Equal(*d.Spec.Replicas), "old pods are gone")
		var available bool
		for _, c := range d.Status.Conditions {
			available = available || c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue
		}
		g.Expect(available).To(BeTrue(), "Deployment Available")
		ready = nil
		for _, p := range op.pods(t) {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				ready = append(ready, p)
			}
		}
		g.Expect(ready).To(HaveLen(n))
	}, timeout, poll).Should(Succeed())
	return ready
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// subscribe creates a DirectusSubscription of messages by user against the
// suite's Directus with the bot's token, with a ConfigMap target named after
// it, and no periodic resync that could hide a loss.
func subscribe(t *testing.T, ns, name, user string, labels ...string) {
	t.Helper()
	subscription(t, ns, name, user, v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}}, &metav1.Duration{}, labels...)
}

// subscription creates a DirectusSubscription of messages by user against
// the suite's Directus with the bot's token, labelled with the key=value
// pairs of labels.
func subscription(t *testing.T, ns, name, user string, target v1alpha1.TargetSpec, resync *metav1.Duration, labels ...string) {
	t.Helper()
	set := map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		set[k] = v
	}
	obj := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: set},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  directusURL,
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
			},
			Collection:     "messages",
			Query:          byUser(user),
			ResyncInterval: resync,
			Target:         target,
		},
	}
	NewWithT(t).Expect(k8s.Create(context.Background(), obj)).To(Succeed())
}

func byUser(user string) *v1alpha1.DirectusQuery {
	return &v1alpha1.DirectusQuery{Filter: &apiextensionsv1.JSON{Raw: []byte(fmt.Sprintf(`{"user":{"_eq":%q}}`, user))}}
}

func filterOf(user string) string { return fmt.Sprintf(`{"filter":{"user":{"_eq":%q}}}`, user) }

// ready waits until the subscription's current generation is Ready.
func ready(t *testing.T, ns, name string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		var s v1alpha1.DirectusSubscription
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &s)).To(Succeed())
		g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
		c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(string(c.Status)+"/"+c.Reason).To(Equal("True/"+v1alpha1.ReasonReady), "Ready: %s", c.Message)
	}, timeout, poll).Should(Succeed())
}

// exact waits until the ConfigMap mirror holds exactly the user's messages:
// nothing lost, nothing phantom, nothing stale.
func exact(t *testing.T, ns, name, user string) {
	t.Helper()
	var lost, phantom, stale int
	NewWithT(t).Eventually(func(g Gomega) {
		var cm corev1.ConfigMap
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &cm)).To(Succeed())
		lost, phantom, stale = directustest.Diff(directustest.Collection(g, bot, filterOf(user)), directustest.Decoded(g, cm.Data))
		g.Expect([]int{lost, phantom, stale}).To(Equal([]int{0, 0, 0}), "lost, phantom, stale")
	}, timeout, poll).Should(Succeed())
}

// follows makes a create, an update and a delete in Directus, and checks
// that the mirror equals the collection after each.
func follows(t *testing.T, ns, name, user string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	var created []map[string]any
	g.Expect(bot.Do(ctx, "POST", "/items/messages", []map[string]any{{"text": "one", "user": user}, {"text": "two", "user": user}}, &created)).To(Succeed())
	exact(t, ns, name, user)
	g.Expect(bot.Do(ctx, "PATCH", fmt.Sprintf("/items/messages/%v", created[0]["id"]), map[string]any{"text": "one, edited"}, nil)).To(Succeed())
	exact(t, ns, name, user)
	g.Expect(bot.Do(ctx, "DELETE", fmt.Sprintf("/items/messages/%v", created[1]["id"]), nil, nil)).To(Succeed())
	exact(t, ns, name, user)
}

// process is what the node runs for a container: its host PID, read from
// containerd.
func process(t *testing.T, pod corev1.Pod, container string) string {
	t.Helper()
	var id string
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container {
			id = strings.TrimPrefix(s.ContainerID, "containerd://")
		}
	}
	if id == "" {
		t.Fatalf("pod %s has no container %s", pod.Name, container)
	}
	out, err := exec.Command("ctr", "--address", env["CLUSTER_CONTAINERD_SOCK"], "-n", "k8s.io", "tasks", "ls").CombinedOutput()
	if err != nil {
		t.Fatalf("ctr tasks ls: %v\n%s", err, out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == id {
			return f[1]
		}
	}
	t.Fatalf("containerd runs no task for container %s:\n%s", id, out)
	return ""
}

// runsRestricted checks, on the node, that the container's process is not
// root and that its root filesystem is mounted read-only.
func runsRestricted(t *testing.T, pod corev1.Pod, container string) {
	t.Helper()
	g := NewWithT(t)
	pid := process(t, pod, container)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	g.Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") {
			g.Expect(f[1:]).NotTo(ContainElement("0"), "%s of the process (real, effective, saved, fs)", f[0])
		}
		if f := strings.Fields(line); len(f) == 2 && f[0] == "CapEff:" {
			g.Expect(f[1]).To(Equal("0000000000000000"), "no capabilities")
		}
	}
	mounts, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	g.Expect(err).NotTo(HaveOccurred())
	var rootOpts string
	for line := range strings.SplitSeq(string(mounts), "\n") {
		// id parent major:minor root mount-point options ...
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			rootOpts = f[5]
		}
	}
	g.Expect(strings.Split(rootOpts, ",")).To(ContainElement("ro"), "the root filesystem's mount options")
}

// The chart's defaults, installed into a namespace that enforces the
// restricted Pod Security Standard, as a user would: the operator runs as a
// pod that passes its probes, not as root, on a read-only root filesystem;
// a subscription against a real Directus becomes Ready and its ConfigMap
// follows; its metrics answer through the Service only to a token with the
// reader role.
func TestTheChartsDefaultsRunRestrictedAndMirror(t *testing.T) {
	ns := namespace(t, "operator")
	op := helmInstall(t, ns)
	pod := op.available(t)

	t.Run("the pod passes its probes and runs restricted", func(t *testing.T) {
		g := NewWithT(t)
		var ready bool
		for _, c := range pod.Status.Conditions {
			ready = ready || c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
		}
		g.Expect(ready).To(BeTrue(), "readiness probe passes")
		for _, s := range pod.Status.ContainerStatuses {
			g.Expect(s.RestartCount).To(BeZero(), "container %s restarted (liveness probe or crash)", s.Name)
		}
		runsRestricted(t, pod, "manager")
	})

	t.Run("a subscription becomes Ready and its ConfigMap follows Directus", func(t *testing.T) {
		app := namespace(t, "app")
		user := fmt.Sprintf("chart-%d", time.Now().UnixNano())
		subscribe(t, app, "messages", user)
		ready(t, app, "messages")
		follows(t, app, "messages", user)
	})

	t.Run("metrics through the Service: 200 with the reader role, 401 without a token, 403 without the role", func(t *testing.T) {
		scrapeMetrics(t, op)
	})
}

// scrapeMetrics runs a pod per caller that scrapes the operator's metrics
// Service from inside the cluster, and checks what each is answered.
func scrapeMetrics(t *testing.T, op *operator) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	var svcs corev1.ServiceList
	g.Expect(k8s.List(ctx, &svcs, client.InNamespace(op.namespace), op.selector)).To(Succeed())
	var url string
	for _, s := range svcs.Items {
		for _, p := range s.Spec.Ports {
			if p.Name == "https" || p.Name == "metrics" || p.Port == 8443 {
				url = fmt.Sprintf("https://%s:%d/metrics", s.Spec.ClusterIP, p.Port)
			}
		}
	}
	g.Expect(url).NotTo(BeEmpty(), "a metrics Service among %d Services", len(svcs.Items))
	reader := op.clusterRole(t, "-metrics-reader")

	scrapers := namespace(t, "scrapers")
	for _, sa := range []string{"reader", "stranger"} {
		g.Expect(k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: scrapers}})).To(Succeed())
	}
	bindClusterRole(t, reader, scrapers, "reader")

	const token = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	for _, c := range []struct {
		sa, want string
		args     []string
	}{
		{"reader", "status=200", []string{"probe", url, token}},
		{"stranger", "status=403", []string{"probe", url, token}},
		{"default", "status=401", []string{"probe", url}},
	} {
		out := runToCompletion(t, scrapers, "scrape-as-"+c.sa, c.sa, c.args)
		g.Expect(out).To(HavePrefix(c.want+"\n"), "scraped as %s", c.sa)
		if c.want == "status=200" {
			g.Expect(out).To(ContainSubstring("# TYPE directus_operator_"), "the operator's own metrics")
		}
	}
}

// clusterRole returns the name of the install's ClusterRole ending in suffix.
func (op *operator) clusterRole(t *testing.T, suffix string) string {
	t.Helper()
	out := kubectl(t, "get", "clusterroles", "-o", "name")
	for name := range strings.FieldsSeq(out) {
		if n := strings.TrimPrefix(name, "clusterrole.rbac.authorization.k8s.io/"); strings.HasPrefix(n, "directus-operator") && strings.HasSuffix(n, suffix) {
			return n
		}
	}
	t.Fatalf("no ClusterRole *%s among:\n%s", suffix, out)
	return ""
}

// bindClusterRole binds a ClusterRole to a ServiceAccount until the test ends.
func bindClusterRole(t *testing.T, role, ns, sa string) {
	t.Helper()
	name := ns + "-" + sa
	kubectl(t, "create", "clusterrolebinding", name, "--clusterrole", role, "--serviceaccount", ns+":"+sa)
	t.Cleanup(func() { _, _ = toolErr("", kubectlBin, "delete", "clusterrolebinding", name) })
}

// restricted is the container security context the restricted Pod Security
// Standard asks for.
func restricted() *corev1.SecurityContext {
	no := false
	yes := true
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no,
		RunAsNonRoot:             &yes,
		ReadOnlyRootFilesystem:   &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// runToCompletion runs testapp with args in a pod as the ServiceAccount sa
// and returns its output once it has ended.
func runToCompletion(t *testing.T, ns, name, sa string, args []string) string {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	automount := sa != "default"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			ServiceAccountName:           sa,
			AutomountServiceAccountToken: &automount,
			Containers: []corev1.Container{{
				Name: "testapp", Image: testappImage, ImagePullPolicy: corev1.PullNever,
				Args: args, SecurityContext: restricted(),
			}},
		},
	}
	g.Expect(k8s.Create(ctx, pod)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		g.Expect(pod.Status.Phase).To(BeElementOf(corev1.PodSucceeded, corev1.PodFailed))
	}, timeout, poll).Should(Succeed())
	out, err := clientset.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pod.Status.Phase).To(Equal(corev1.PodSucceeded), "pod %s: %s", name, out)
	return string(out)
}

// kustomize installs the operator with kubectl apply -k, as the README's
// kustomize install does, with the image that make cluster imported, and
// removes all of it but the CRDs when the test ends.
func kustomize(t *testing.T, dir string) *operator {
	t.Helper()
	rendered := strings.ReplaceAll(kubectl(t, "kustomize", dir), "controller:latest", env["CLUSTER_OPERATOR_IMAGE"])
	tool(t, rendered, kubectlBin, "apply", "--server-side", "-f", "-")
	op := &operator{namespace: "directus-operator-system", selector: client.MatchingLabels{"control-plane": "controller-manager"}}
	t.Cleanup(func() {
		var keep []string
		for doc := range strings.SplitSeq(rendered, "\n---\n") {
			if !strings.Contains(doc, "kind: CustomResourceDefinition") {
				keep = append(keep, doc)
			}
		}
		_, _ = toolErr(strings.Join(keep, "\n---\n"), kubectlBin, "delete", "--ignore-not-found", "--wait", "-f", "-")
		op.gone(t)
	})
	return op
}

// kubectl apply -k of the default and the namespaced overlay gives what the
// chart gives: a restricted pod that passes its probes, and a subscription
// that becomes Ready and follows Directus.
func TestKustomizeInstallsRunRestrictedAndMirror(t *testing.T) {
	for _, c := range []struct{ dir, watched string }{
		{"config/default", ""},
		{"config/namespaced", "default"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			op := kustomize(t, c.dir)
			pod := op.available(t)
			runsRestricted(t, pod, "manager")
			app := c.watched
			if app == "" {
				app = namespace(t, "app")
			} else {
				ensureToken(t, app)
			}
			user := fmt.Sprintf("kustomize-%d", time.Now().UnixNano())
			name := "messages-" + strings.ReplaceAll(c.dir, "/", "-")
			subscribe(t, app, name, user)
			t.Cleanup(func() { deleteSubscription(t, app, name) })
			ready(t, app, name)
			follows(t, app, name, user)
		})
	}
}

// ensureToken puts the bot's token in a Secret named directus in an
// existing namespace.
func ensureToken(t *testing.T, ns string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: ns}, StringData: map[string]string{"token": botToken}}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), s) })
}

// deleteSubscription deletes a subscription and waits until its finalizer
// has run, while its operator still runs.
func deleteSubscription(t *testing.T, ns, name string) {
	t.Helper()
	s := &v1alpha1.DirectusSubscription{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	_ = k8s.Delete(context.Background(), s)
	NewWithT(t).Eventually(func() error {
		return k8s.Get(context.Background(), client.ObjectKeyFromObject(s), s)
	}, timeout, poll).Should(MatchError(ContainSubstring("not found")))
}
