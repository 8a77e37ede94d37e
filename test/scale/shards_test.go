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
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/directustest"
)

// shardKey is the label the chart's shards select on, Flux's.
const shardKey = "sharding.fluxcd.io/key"

// shard is one operator of a sharded install, started as the chart starts
// it: with a --watch-label-selector, and named by its own user agent so that
// a test can tell its writes from the other shard's (the API server names a
// write's field manager after it).
type shard struct {
	manager string
	hub     *hub.Hub
	stop    func()
}

func startShard(t *testing.T, manager, selector string) *shard {
	t.Helper()
	sel, err := labels.Parse(selector)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	c := rest.CopyConfig(cfg)
	c.UserAgent = manager + "/test"
	h, stop := startOperatorWith(t, c, controllers.Options{Shard: sel, Hub: hub.Options{StatusInterval: 200 * time.Millisecond}})
	return &shard{manager: manager, hub: h, stop: stop}
}

// runs says whether the shard's Hub runs the subscription.
func (s *shard) runs(ns, name string) bool {
	_, ok := s.hub.Status(types.NamespacedName{Namespace: ns, Name: name})
	return ok
}

// Two shards on one control plane, as the chart deploys them: one for the
// subscriptions labelled b, one for those of no shard, sharing a
// DirectusConnection of no shard. Each runs only its own subscriptions and
// only the connection's shard writes its status; a subscription relabelled
// into the other shard is let go by one and taken by the other with nothing
// lost; stopping a shard leaves the other's subscriptions as they were.
func TestShardsRunTheirOwnSubscriptionsAndHandOneOverWhenItsLabelMoves(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	dx, ns := newWorld(t, "shards")
	dx.Create("messages", map[string]any{"text": "a", "user": "plain"}, map[string]any{"text": "b", "user": "moved"})
	g.Expect(k8s.Create(ctx, &v1alpha1.DirectusConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: ns},
		Spec: v1alpha1.ConnectionSpec{DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
			URL:  dx.URL(),
			Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
		}},
	})).To(Succeed())

	unlabelled := startShard(t, "shard-none", "!"+shardKey)
	b := startShard(t, "shard-b", shardKey+"=b")
	mirror := v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}}
	events := v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 600}}
	for _, s := range []struct {
		name, user, shard string
		target            v1alpha1.TargetSpec
	}{{"plain-1", "plain", "", mirror}, {"plain-2", "plain", "", mirror}, {"moved", "moved", "b", mirror}, {"audit", "moved", "b", events}} {
		obj := &v1alpha1.DirectusSubscription{
			ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: ns},
			Spec: v1alpha1.DirectusSubscriptionSpec{
				ConnectionRef: &v1alpha1.ConnectionReference{Name: "directus"},
				Collection:    "messages",
				Query:         byUserQuery(s.user),
				Target:        s.target,
			},
		}
		if s.shard != "" {
			obj.Labels = map[string]string{shardKey: s.shard}
		}
		g.Expect(k8s.Create(ctx, obj)).To(Succeed())
	}
	waitAllReady(t, k8s, ns, 4, time.Time{})
	mirrors(t, dx, ns, "plain-1", "plain")
	mirrors(t, dx, ns, "moved", "moved")
	g.Expect([]bool{unlabelled.runs(ns, "plain-1"), unlabelled.runs(ns, "plain-2"), unlabelled.runs(ns, "moved")}).To(Equal([]bool{true, true, false}))
	g.Expect([]bool{b.runs(ns, "plain-1"), b.runs(ns, "plain-2"), b.runs(ns, "moved")}).To(Equal([]bool{false, false, true}))

	// The connection object is of no shard: its status counts the
	// unlabelled shard's two subscriptions (not shard b's two), and shard b never writes it,
	// though it resolves the connection and its Hub holds a socket for it.
	conn := func(g Gomega) *v1alpha1.DirectusConnection {
		c := &v1alpha1.DirectusConnection{}
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus"}, c)).To(Succeed())
		return c
	}
	g.Eventually(func(g Gomega) int32 { return conn(g).Status.Subscriptions }, time.Minute, 50*time.Millisecond).Should(BeEquivalentTo(2))
	g.Expect(managers(conn(g).ManagedFields)).NotTo(ContainElement(b.manager), "shard b wrote the connection's status")
	g.Expect(managers(conn(g).ManagedFields)).To(ContainElement(unlabelled.manager))

	// Relabel "moved" and "audit" into the unlabelled shard while changes
	// come in.
	since := get(t, ns, "plain-1").Status.Connection.Since
	for _, name := range []string{"moved", "audit"} {
		obj := get(t, ns, name)
		delete(obj.Labels, shardKey)
		g.Expect(k8s.Update(ctx, obj)).To(Succeed())
	}
	for i := range 5 {
		dx.Create("messages", map[string]any{"text": fmt.Sprintf("during the move %d", i), "user": "moved"})
	}
	g.Eventually(func() []bool { return []bool{unlabelled.runs(ns, "moved"), b.runs(ns, "moved")} }, time.Minute, 50*time.Millisecond).
		Should(Equal([]bool{true, false}), "the unlabelled shard runs it, shard b has let go")
	mirrors(t, dx, ns, "moved", "moved")
	g.Eventually(func(g Gomega) int32 { return conn(g).Status.Subscriptions }, time.Minute, 50*time.Millisecond).Should(BeEquivalentTo(4))
	// Directus replays nothing: the Events target is told of the hand-over.
	g.Eventually(func(g Gomega) []string {
		list := &corev1.EventList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var reasons []string
		for _, e := range list.Items {
			if e.InvolvedObject.Name == "audit" {
				reasons = append(reasons, e.Reason)
			}
		}
		return reasons
	}, time.Minute, 50*time.Millisecond).Should(ContainElement(subscriptions.ReasonChangesLost), "the moved Events target warns of the hand-over")

	// Shard b stops: the unlabelled shard's subscriptions, the moved one
	// among them, follow on the same socket.
	b.stop()
	dx.Create("messages", map[string]any{"text": "after shard b stopped", "user": "plain"}, map[string]any{"text": "after shard b stopped", "user": "moved"})
	mirrors(t, dx, ns, "plain-1", "plain")
	mirrors(t, dx, ns, "plain-2", "plain")
	mirrors(t, dx, ns, "moved", "moved")
	g.Expect(get(t, ns, "plain-1").Status.Connection.Since).To(Equal(since), "plain-1's socket stayed up throughout")
	g.Expect(managers(conn(g).ManagedFields)).NotTo(ContainElement(b.manager), "shard b wrote the connection's status")
}

func byUserQuery(user string) *v1alpha1.DirectusQuery {
	return &v1alpha1.DirectusQuery{Filter: &apiextensionsv1.JSON{Raw: []byte(fmt.Sprintf(`{"user":{"_eq":%q}}`, user))}}
}

func get(t *testing.T, ns, name string) *v1alpha1.DirectusSubscription {
	t.Helper()
	obj := &v1alpha1.DirectusSubscription{}
	NewWithT(t).Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj)).To(Succeed())
	return obj
}

// mirrors waits until the ConfigMap name holds exactly the user's items,
// each under <id>.json.
func mirrors(t *testing.T, dx *fakedirectus.Server, ns, name, user string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) []int {
		want := map[string]any{}
		for _, it := range dx.Items("messages") {
			if it["user"] == user {
				want[fmt.Sprint(it["id"])+".json"] = it
			}
		}
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, cm)).To(Succeed())
		lost, phantom, stale := directustest.Diff(want, directustest.Decoded(g, cm.Data))
		return []int{lost, phantom, stale}
	}, time.Minute, 50*time.Millisecond).Should(Equal([]int{0, 0, 0}), "%s: lost, phantom, stale", name)
}

// managers are the field managers of an object's status.
func managers(fields []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, f := range fields {
		if f.Subresource == "status" {
			out = append(out, f.Manager)
		}
	}
	return out
}
