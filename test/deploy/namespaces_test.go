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
	"fmt"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// TestWatchNamespacesConfinesTheOperator runs the real binary with the
// chart's args for watchNamespaces: [one namespace], as the chart's
// ServiceAccount with only the chart's RBAC (a Role in that namespace, no
// cluster-wide right on its objects), against a fake Directus: a
// subscription there becomes Ready, one elsewhere is not touched.
func TestWatchNamespacesConfinesTheOperator(t *testing.T) {
	g := NewWithT(t)
	bin, real := buildOperatorBinary(t, t.TempDir())
	if !real {
		t.Skip("./cmd does not build yet; nothing to run")
	}
	home, watched, other := uniqueNS("dop-ns-home"), uniqueNS("dop-ns-watched"), uniqueNS("dop-ns-other")
	for _, ns := range []string{home, watched, other} {
		ensureNamespace(t, ns)
	}
	dx := fakedirectus.New(fakedirectus.Options{})
	t.Cleanup(dx.Close)
	dx.AddCollection("messages", "id", "text")
	dx.AddUser(fakedirectus.User{StaticToken: "ns-token", Read: []string{"messages"}})

	health, metrics := freePort(t), freePort(t)
	// The chart's ClusterRoles are created for real under a name of their own.
	objs := helmTemplate(t, home, fmt.Sprintf("fullnameOverride: %s\nwatchNamespaces: [%s]\nhealth: {port: %d}\nmetrics: {port: %d}\nlogFormat: text\n",
		home, watched, health, metrics))
	c := onlyDeployment(t, g, objs).Spec.Template.Spec.Containers[0]
	g.Expect(c.Args).To(ContainElement("--watch-namespaces=" + watched))
	applyRBAC(t, objs)
	op := startBinary(t, bin, c.Args, "POD_NAMESPACE="+home, "KUBECONFIG="+serviceAccountKubeconfig(t, home, home))

	ctx := context.Background()
	for _, ns := range []string{watched, other} {
		g.Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: ns}, StringData: map[string]string{"token": "ns-token"},
		})).To(Succeed())
		sub := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "realtime.directus-operator.io/v1alpha1", "kind": "DirectusSubscription",
			"metadata": map[string]any{"name": "messages", "namespace": ns},
			"spec": map[string]any{
				"url": dx.URL(), "auth": map[string]any{"token": map[string]any{"name": "directus", "key": "token"}},
				"collection": "messages", "target": map[string]any{"configMap": map[string]any{}},
			},
		}}
		g.Expect(k8sClient.Create(ctx, sub)).To(Succeed())
	}
	readyStatus := func(ns string) func() (string, error) {
		return func() (string, error) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("realtime.directus-operator.io/v1alpha1")
			u.SetKind("DirectusSubscription")
			if err := k8sClient.Get(ctx, keyOf(ns, "messages"), u); err != nil {
				return "", err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Ready" {
					return fmt.Sprint(m["status"]), nil
				}
			}
			return fmt.Sprintf("no Ready condition; finalizers %v", u.GetFinalizers()), nil
		}
	}
	g.Eventually(readyStatus(watched)).WithTimeout(60*time.Second).WithPolling(100*time.Millisecond).
		Should(Equal("True"), "operator output:\n%s", op.output)
	g.Consistently(readyStatus(other)).WithTimeout(2*time.Second).WithPolling(100*time.Millisecond).
		Should(Equal("no Ready condition; finalizers []"), "a subscription outside watchNamespaces is not touched")
	g.Expect(dx.Connections()).To(Equal(1), "one connection: the watched namespace's")

	g.Expect(op.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Expect(op.err()).NotTo(HaveOccurred(), "the operator exits cleanly on SIGTERM:\n%s", op.output)
}
