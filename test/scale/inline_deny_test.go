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

package scale

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
)

// TestDenyingInlineConnectionsStopsThemAndKeepsTheirTargets restarts the
// operator with --inline-connections=Deny under a subscription that carries
// its own url: it must stop it without opening a socket, say what to use
// instead, and leave its ConfigMap as it was, while a subscription naming a
// DirectusConnection keeps working.
func TestDenyingInlineConnectionsStopsThemAndKeepsTheirTargets(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	dx, ns := newWorld(t, "governance")
	dx.Create("messages", map[string]any{"text": "a"})
	token := v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}}
	g.Expect(k8s.Create(ctx, &v1alpha1.DirectusConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "cms", Namespace: ns},
		Spec:       v1alpha1.ConnectionSpec{DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{URL: dx.URL(), Auth: token}},
	})).To(Succeed())
	target := v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}}
	g.Expect(k8s.Create(ctx, &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: "inline", Namespace: ns},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{URL: dx.URL(), Auth: token},
			Collection:             "messages", Target: target,
		},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: "named", Namespace: ns},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			ConnectionRef: &v1alpha1.ConnectionReference{Kind: v1alpha1.KindDirectusConnection, Name: "cms"},
			Collection:    "messages", Target: target,
		},
	})).To(Succeed())

	_, stop := startOperator(t, controllers.Options{})
	waitAllReady(t, k8s, ns, 2, time.Time{})
	g.Expect(dx.Connections()).To(Equal(2), "one socket per identity: the inline one and the connection's")
	stop()

	startOperator(t, controllers.Options{InlineConnections: controllers.InlineDeny})
	g.Eventually(func(g Gomega) {
		obj := &v1alpha1.DirectusSubscription{}
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "inline"}, obj)).To(Succeed())
		ready := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonInlineConnectionDenied))
		g.Expect(ready.Message).To(ContainSubstring("spec.connectionRef"))
		g.Expect(meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionStalled)).To(BeTrue())
	}, time.Minute, 50*time.Millisecond).Should(Succeed())
	dx.Create("messages", map[string]any{"text": "b"})
	g.Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "named"}, cm)).To(Succeed())
		g.Expect(cm.Data).To(HaveLen(2), "the named connection keeps working")
	}, time.Minute, 50*time.Millisecond).Should(Succeed())
	g.Expect(dx.Connections()).To(Equal(1), "no socket for the denied inline subscription")
	cm := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "inline"}, cm)).To(Succeed())
	g.Expect(cm.Data).To(HaveLen(1), "the denied subscription's target keeps its content")
}
