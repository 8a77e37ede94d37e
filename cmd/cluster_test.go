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
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// cluster is a namespace of the shared API server with the operator
// running in-process, a fake Directus, and a kubeconfig file for the CLI
// whose context's namespace is that namespace.
type cluster struct {
	t          *testing.T
	ns         string
	kubeconfig string
	k8s        client.Client
	dx         *fakedirectus.Server
}

var clusterNamespaces atomic.Int32

func newCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := kubeConfig(t)
	k8s, err := client.New(cfg, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, ns: fmt.Sprintf("cli-%d", clusterNamespaces.Add(1)), k8s: k8s, dx: fixture(t)}
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.ns}}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: c.ns}, StringData: map[string]string{"token": botToken}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	stop, err := envtestutil.StartOperator(cfg, controllers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("operator: %v", err)
		}
	})

	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: c.ns}
	kc.CurrentContext = "test"
	c.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, c.kubeconfig); err != nil {
		t.Fatal(err)
	}
	return c
}

// cli runs the CLI against the cluster with the kubeconfig, in the
// context's namespace unless args say otherwise.
func (c *cluster) cli(args ...string) (int, string, string) {
	return runCLI("kubectl-directus", env{}, append(args, "--kubeconfig", c.kubeconfig)...)
}

// subscription creates a DirectusSubscription of messages into a
// ConfigMap, with the Secret named secret holding the token.
func (c *cluster) subscription(name, secret string) {
	c.t.Helper()
	obj := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ns},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  c.dx.URL(),
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: secret, Key: "token"}},
			},
			Collection: "messages",
			Target:     v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
		},
	}
	if err := c.k8s.Create(context.Background(), obj); err != nil {
		c.t.Fatal(err)
	}
}

// orders reads the subscription every test of the verbs works on.
func (c *cluster) orders() *v1alpha1.DirectusSubscription {
	const name = "orders"
	c.t.Helper()
	obj := &v1alpha1.DirectusSubscription{}
	if err := c.k8s.Get(context.Background(), types.NamespacedName{Namespace: c.ns, Name: name}, obj); err != nil {
		c.t.Fatal(err)
	}
	return obj
}

// ordersReady waits with the CLI's own wait until orders is Ready.
func (c *cluster) ordersReady() {
	const name = "orders"
	c.t.Helper()
	code, stdout, stderr := c.cli("wait", name, "--for=condition=Ready", "--timeout=60s")
	if code != exitOK {
		c.t.Fatalf("wait %s: exit %d: %s%s", name, code, stdout, stderr)
	}
}

func TestWaitReturnsOnceTheConditionHoldsAndExits3AtItsTimeout(t *testing.T) {
	c := newCluster(t)
	g := NewWithT(t)
	c.subscription("orders", "directus")
	code, stdout, stderr := c.cli("wait", "orders", "--for=condition=Ready", "--timeout=60s")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(ContainSubstring("condition met"))
	obj := c.orders()
	g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
	g.Expect(meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue(), "wait returned before Ready")

	c.subscription("no-secret", "missing")
	code, _, stderr = c.cli("wait", "no-secret", "--for=condition=Stalled", "--timeout=60s")
	g.Expect(code).To(Equal(exitOK), stderr)
	start := time.Now()
	code, _, stderr = c.cli("wait", "no-secret", "--for=condition=Ready", "--timeout=1s")
	g.Expect(code).To(Equal(exitTimeout), stderr)
	g.Expect(stderr).To(ContainSubstring("timed out; Ready is False (SecretNotFound)"))
	g.Expect(time.Since(start)).To(BeNumerically(">=", time.Second), "it waited for its timeout")

	code, _, stderr = c.cli("wait", "nonexistent", "--timeout=5s")
	g.Expect(code).To(Equal(exitError))
	g.Expect(stderr).To(ContainSubstring(`"nonexistent" not found in namespace "` + c.ns + `"`))
}

func TestGetPrintsTheColumnsOfKubectlGetDsub(t *testing.T) {
	c := newCluster(t)
	g := NewWithT(t)
	c.subscription("orders", "directus")
	c.ordersReady()

	code, stdout, stderr := c.cli("get")
	g.Expect(code).To(Equal(exitOK), stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	g.Expect(lines).To(HaveLen(2))
	g.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "COLLECTION", "TARGET", "READY", "REASON", "ITEMS", "AGE"}))
	g.Expect(strings.Fields(lines[1])[:6]).To(Equal([]string{"orders", "messages", "ConfigMap/orders", "True", "Ready", "0"}))

	code, stdout, stderr = c.cli("get", "-o", "wide")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(MatchRegexp(`NAME\s+COLLECTION\s+EVENT\s+TARGET\s+READY\s+REASON\s+ITEMS\s+CONNECTION\s+LAST MESSAGE\s+AGE`))
	g.Expect(stdout).To(ContainSubstring("Connected"))

	code, stdout, stderr = c.cli("get", "-A")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(MatchRegexp(`(?m)^NAMESPACE\s+NAME`))
	g.Expect(stdout).To(MatchRegexp(`(?m)^` + c.ns + `\s+orders\s+messages`))

	code, _, stderr = c.cli("get", "-n", "default")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stderr).To(ContainSubstring("No DirectusSubscriptions found in default namespace"), "-n wins over the context's namespace")

	code, _, stderr = c.cli("get", "orders", "missing")
	g.Expect(code).To(Equal(exitError))
	g.Expect(stderr).To(ContainSubstring(`"missing" not found`))
}

func TestStatusShowsConditionsWhatTheReasonMeansCountersAndConnection(t *testing.T) {
	c := newCluster(t)
	g := NewWithT(t)
	c.dx.SetSilently("messages", map[string]any{"text": "hello", "user": "ben"})
	c.subscription("orders", "directus")
	c.ordersReady()
	g.Eventually(func() int64 { return c.orders().Status.Items }, 30*time.Second, 50*time.Millisecond).Should(BeEquivalentTo(1))
	code, stdout, stderr := c.cli("status", "orders")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(ContainSubstring("DirectusSubscription:  " + c.ns + "/orders"))
	g.Expect(stdout).To(MatchRegexp(`Connection:\s+Connected for`))
	g.Expect(stdout).To(MatchRegexp(`Items:\s+1\n`))
	g.Expect(stdout).To(MatchRegexp(`Ready\s+True\s+Ready`))
	g.Expect(stdout).NotTo(ContainSubstring("What the reasons mean"), "a healthy subscription needs no fix")

	c.subscription("no-secret", "missing")
	code, _, stderr = c.cli("wait", "no-secret", "--for=condition=Stalled", "--timeout=60s")
	g.Expect(code).To(Equal(exitOK), stderr)
	code, stdout, stderr = c.cli("status", "no-secret")
	g.Expect(code).To(Equal(exitOK), stderr)
	info, ok := reasonInfo(v1alpha1.ReasonSecretNotFound)
	g.Expect(ok).To(BeTrue())
	g.Expect(stdout).To(MatchRegexp(`Ready\s+False\s+SecretNotFound`))
	g.Expect(stdout).To(ContainSubstring("SecretNotFound (Terminal): " + info.Description))
}

func TestResyncReturnsOnceTheOperatorHasDoneTheFullRead(t *testing.T) {
	c := newCluster(t)
	g := NewWithT(t)
	c.subscription("orders", "directus")
	c.ordersReady()
	// Directus announces nothing for this write: only a full read finds it.
	c.dx.SetSilently("messages", map[string]any{"text": "written past the hooks", "user": "ben"})

	code, stdout, stderr := c.cli("resync", "orders")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(ContainSubstring("resynced"))
	obj := c.orders()
	requested := obj.Annotations[v1alpha1.AnnotationRequestedAt]
	g.Expect(requested).NotTo(BeEmpty())
	g.Expect(obj.Status.LastHandledResyncAt).To(Equal(requested), "resync returned before the status showed it handled")
	cm := &corev1.ConfigMap{}
	g.Expect(c.k8s.Get(context.Background(), types.NamespacedName{Namespace: c.ns, Name: "orders"}, cm)).To(Succeed())
	g.Expect(cm.Data).To(ContainElement(ContainSubstring("written past the hooks")), "the full read was written")
}

func TestSuspendShowsSuspendedAndResumeTakesTheSubscriptionUpAgain(t *testing.T) {
	c := newCluster(t)
	g := NewWithT(t)
	c.subscription("orders", "directus")
	c.ordersReady()

	code, stdout, stderr := c.cli("suspend", "orders")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(ContainSubstring("suspended: Ready True (Suspended)"))
	obj := c.orders()
	g.Expect(obj.Spec.Suspend).To(BeTrue())
	g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
	g.Expect(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady).Reason).To(Equal(v1alpha1.ReasonSuspended))
	g.Expect(obj.Status.Connection.State).To(Equal(v1alpha1.ConnectionStateSuspended))

	code, stdout, _ = c.cli("get")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(stdout).To(MatchRegexp(`orders\s+messages\s+ConfigMap/orders\s+True\s+Suspended`))
	code, _, stderr = c.cli("resync", "orders")
	g.Expect(code).To(Equal(exitError))
	g.Expect(stderr).To(ContainSubstring("is suspended: resume it first"))

	code, stdout, stderr = c.cli("resume", "orders")
	g.Expect(code).To(Equal(exitOK), stderr)
	g.Expect(stdout).To(ContainSubstring("DirectusSubscription " + c.ns + "/orders resumed"))
	obj = c.orders()
	g.Expect(obj.Spec.Suspend).To(BeFalse())
	g.Expect(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady).Reason).NotTo(Equal(v1alpha1.ReasonSuspended))
	c.ordersReady()
}
