//go:build e2e

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

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/directustest"
)

// startChanges streams changes to the messages of user as the admin; see
// directustest.Changes.
func startChanges(t *testing.T, user string) *changes {
	t.Helper()
	return &changes{directustest.StartChanges(admin, user)}
}

// changes is directustest.Changes with the suite's timeout.
type changes struct{ *directustest.Changes }

// await waits until n more changes were accepted.
func (c *changes) await(t *testing.T, n int64) { t.Helper(); c.Await(t, n, 2*timeout) }

func (c *changes) stop() { c.Stop() }

// setBotToken changes the bot user's static token, as an administrator
// revoking or restoring it would.
func setBotToken(t *testing.T, token string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	var users []map[string]any
	g.Expect(admin.Do(ctx, "GET", "/users?filter[email][_eq]="+botEmail+"&fields=id", nil, &users)).To(Succeed())
	g.Expect(users).To(HaveLen(1))
	g.Expect(admin.Do(ctx, "PATCH", fmt.Sprintf("/users/%v", users[0]["id"]), map[string]any{"token": token}, nil)).To(Succeed())
}

// fault is one way the world fails while changes flow.
type fault struct {
	name string
	// spec adjusts the subscription (it reaches Directus through p).
	spec func(s *v1alpha1.DirectusSubscriptionSpec)
	// inject starts the fault; it returns once the operator can tell.
	inject func(t *testing.T, f *faultRun)
	// heal ends it.
	heal func(t *testing.T, f *faultRun)
}

type faultRun struct {
	namespace, name string
	p               *proxy
}

// TestFaultsLoseNothing runs each fault while a stream of creates,
// updates and deletes flows, then checks that the mirror converges to
// exactly the collection (0 lost, 0 phantom, 0 stale) and is Ready, and
// prints how long that took after the fault ended.
func TestFaultsLoseNothing(t *testing.T) {
	faults := []fault{
		{name: "socket cut",
			inject: func(t *testing.T, f *faultRun) {
				t.Helper()
				f.p.cut()
				condition(t, f.namespace, f.name, v1alpha1.ConditionConnected, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable)
			},
			heal: func(_ *testing.T, f *faultRun) { f.p.restore() }},
		{name: "silent stall",
			spec: func(s *v1alpha1.DirectusSubscriptionSpec) {
				s.Heartbeat = &v1alpha1.HeartbeatSpec{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: time.Second}}
			},
			inject: func(t *testing.T, f *faultRun) {
				t.Helper()
				f.p.stall()
				condition(t, f.namespace, f.name, v1alpha1.ConditionConnected, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable)
			},
			heal: func(_ *testing.T, f *faultRun) { f.p.restore() }},
		{name: "Directus restart",
			inject: func(t *testing.T, _ *faultRun) { t.Helper(); dx.restart(t) },
			heal:   func(*testing.T, *faultRun) {}},
		{name: "API server unreachable",
			inject: func(_ *testing.T, _ *faultRun) { apiProxy.cut() },
			heal:   func(*testing.T, *faultRun) { apiProxy.restore() }},
		{name: "operator stopped mid-stream",
			inject: func(t *testing.T, _ *faultRun) { t.Helper(); NewWithT(t).Expect(stopOperator()).To(Succeed()) },
			heal:   func(t *testing.T, _ *faultRun) { t.Helper(); NewWithT(t).Expect(startOperator()).To(Succeed()) }},
		{name: "token revoked, then restored",
			inject: func(t *testing.T, f *faultRun) {
				t.Helper()
				setBotToken(t, "revoked-"+f.namespace)
				// An open socket keeps its authentication: drop it, so the
				// next one presents the revoked token.
				f.p.cut()
				f.p.restore()
				condition(t, f.namespace, f.name, v1alpha1.ConditionConnected, metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
			},
			heal: func(t *testing.T, _ *faultRun) { t.Helper(); setBotToken(t, botToken) }},
		{name: "ConfigMap deleted",
			inject: func(t *testing.T, f *faultRun) {
				t.Helper()
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: f.name}}
				NewWithT(t).Expect(k8s.Delete(context.Background(), cm)).To(Succeed())
			},
			heal: func(*testing.T, *faultRun) {}},
		{name: "ConfigMap edited",
			inject: func(t *testing.T, f *faultRun) {
				t.Helper()
				cm := &corev1.ConfigMap{}
				g := NewWithT(t)
				g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: f.namespace, Name: f.name}, cm)).To(Succeed())
				cm.Data["phantom.json"] = `{"id":"phantom"}`
				for k := range cm.Data {
					if k != "phantom.json" {
						cm.Data[k] = `{"stale":true}`
						break
					}
				}
				g.Expect(k8s.Update(context.Background(), cm)).To(Succeed())
			},
			heal: func(*testing.T, *faultRun) {}},
	}
	for _, fl := range faults {
		t.Run(fl.name, func(t *testing.T) {
			g := NewWithT(t)
			namespace := ns(t)
			user := "fault-" + namespace
			p, err := newProxy(dx.url())
			g.Expect(err).NotTo(HaveOccurred())
			defer p.close()
			createREST(t, map[string]any{"text": "seed 1", "user": user}, map[string]any{"text": "seed 2", "user": user})
			filtered := fmt.Sprintf(`{"filter":{"user":{"_eq":%q}}}`, user)
			subscribe(t, namespace, "mirror", func(s *v1alpha1.DirectusSubscriptionSpec) {
				s.URL = p.url()
				s.Query = &v1alpha1.DirectusQuery{Filter: rawJSON(fmt.Sprintf(`{"user":{"_eq":%q}}`, user))}
				s.ResyncInterval = &metav1.Duration{} // no periodic resync to hide a loss
				if fl.spec != nil {
					fl.spec(s)
				}
			})
			ready(t, namespace, "mirror")
			run := &faultRun{namespace: namespace, name: "mirror", p: p}

			stream := startChanges(t, user)
			defer stream.stop()
			stream.await(t, 5)
			fl.inject(t, run)
			stream.await(t, 10) // changes made during the fault
			fl.heal(t, run)
			healed := time.Now()
			stream.await(t, 5)
			stream.stop()

			var lost, phantom, stale int
			configMapData(t, namespace, "mirror", func(g Gomega, d map[string]string) {
				lost, phantom, stale = directustest.Diff(collection(g, filtered), decoded(g, d))
				g.Expect([]int{lost, phantom, stale}).To(Equal([]int{0, 0, 0}), "lost, phantom, stale")
			})
			converged := time.Since(healed)
			ready(t, namespace, "mirror")
			t.Logf("e2e fault %q: %d changes, converged %s after the fault ended; lost %d, phantom %d, stale %d",
				fl.name, stream.Done(), converged.Round(time.Millisecond), lost, phantom, stale)
		})
	}
}

// Directus replays nothing: a change made while no operator runs can never
// become its Event. The restarted operator says so, naming since when.
func TestAnEventsTargetWarnsOfChangesMadeWhileTheOperatorWasStopped(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	namespace := ns(t)
	subscribe(t, namespace, "audit", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 600}}
	})
	ready(t, namespace, "audit")
	reasons := func() map[string]string {
		list := &corev1.EventList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(namespace))).To(Succeed())
		out := map[string]string{}
		for _, e := range list.Items {
			out[e.Reason] = e.Message
		}
		return out
	}
	createREST(t, map[string]any{"text": "recorded", "user": "audit"})
	g.Eventually(reasons, timeout, poll).Should(HaveKey("ItemCreated"))
	g.Eventually(func() *metav1.Time {
		obj := &v1alpha1.DirectusSubscription{}
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "audit"}, obj)).To(Succeed())
		return obj.Status.LastSyncTime
	}, timeout, poll).ShouldNot(BeNil())

	g.Expect(stopOperator()).To(Succeed())
	createREST(t, map[string]any{"text": "never recorded", "user": "audit"})
	g.Expect(startOperator()).To(Succeed())
	g.Eventually(reasons, timeout, poll).Should(HaveKeyWithValue("ChangesLost", ContainSubstring("may not have been recorded")))
	t.Logf("e2e: after the restart: %s", reasons()["ChangesLost"])
}
