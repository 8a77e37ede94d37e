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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// audit is an Events subscription to messages and what it shows.
type audit struct {
	t    *testing.T
	dx   *fakedirectus.Server
	ns   string
	opts controllers.Options
}

// newAudit creates the Events subscription "audit" and starts an operator.
func newAudit(t *testing.T, prefix string) (*audit, func()) {
	t.Helper()
	dx, ns := newWorld(t, prefix)
	a := &audit{t: t, dx: dx, ns: ns, opts: controllers.Options{Hub: hub.Options{StatusInterval: 200 * time.Millisecond}}}
	_, stop := startOperator(t, a.opts)
	NewWithT(t).Expect(k8s.Create(context.Background(), &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: "audit", Namespace: ns},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  dx.URL(),
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
			},
			Collection: "messages",
			Target:     v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 600}},
		},
	})).To(Succeed())
	return a, stop
}

// events are the messages of the namespace's Events with reason.
func (a *audit) events(reason string) []string {
	list := &corev1.EventList{}
	NewWithT(a.t).Expect(k8s.List(context.Background(), list, client.InNamespace(a.ns))).To(Succeed())
	var msgs []string
	for _, e := range list.Items {
		if e.Reason == reason {
			msgs = append(msgs, e.Message)
		}
	}
	return msgs
}

func (a *audit) get() *v1alpha1.DirectusSubscription {
	obj := &v1alpha1.DirectusSubscription{}
	NewWithT(a.t).Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: a.ns, Name: "audit"}, obj)).To(Succeed())
	return obj
}

// warnsSince waits for the ChangesLost Warning that names since.
func (a *audit) warnsSince(since time.Time) {
	a.t.Helper()
	NewWithT(a.t).Eventually(func() []string { return a.events(subscriptions.ReasonChangesLost) }, time.Minute, 200*time.Millisecond).
		Should(ContainElement(And(ContainSubstring("since "+since.UTC().Format(time.RFC3339)), ContainSubstring("may not have been recorded"))))
	a.t.Log(strings.Join(a.events(subscriptions.ReasonChangesLost), "\n"))
}

// TestAnEventsTargetWarnsOfChangesMadeWhileTheOperatorWasDown: Directus
// replays nothing, so a change made while no operator ran can never become
// its Event; the restarted operator must say so, naming since when.
func TestAnEventsTargetWarnsOfChangesMadeWhileTheOperatorWasDown(t *testing.T) {
	g := NewWithT(t)
	a, stop := newAudit(t, "events-restart")
	dx, events := a.dx, a.events
	lastSync := func() *metav1.Time { return a.get().Status.LastSyncTime }

	// Before the restart: a change becomes an Event, and the status
	// remembers when.
	g.Eventually(func() []string {
		if len(events("ItemCreated")) == 0 && dx.Connections() > 0 {
			dx.Create("messages", map[string]any{"text": "before", "user": "u"})
		}
		return events("ItemCreated")
	}, time.Minute, 200*time.Millisecond).ShouldNot(BeEmpty())
	g.Eventually(lastSync, time.Minute, 100*time.Millisecond).ShouldNot(BeNil())
	g.Expect(events(subscriptions.ReasonChangesLost)).To(BeEmpty(), "nothing is lost while it runs")
	since := lastSync().Time

	// Down: a change nobody records.
	stop()
	dx.Create("messages", map[string]any{"text": "while down", "user": "u"})

	startOperator(t, a.opts)
	a.warnsSince(since)
}

// An events target that was subscribed but had recorded no change yet has a
// gap across a restart too: the warning names when the previous run was
// subscribed, and the three changes made meanwhile never become Events.
func TestAnEventsTargetWarnsOfChangesMadeWhileTheOperatorWasDownBeforeItsFirstChange(t *testing.T) {
	g := NewWithT(t)
	a, stop := newAudit(t, "events-first")
	var since time.Time
	g.Eventually(func(g Gomega) {
		c := meta.FindStatusCondition(a.get().Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		s := meta.FindStatusCondition(a.get().Status.Conditions, v1alpha1.ConditionSubscribed)
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Status).To(Equal(metav1.ConditionTrue))
		since = s.LastTransitionTime.Time
	}, time.Minute, 100*time.Millisecond).Should(Succeed())
	g.Expect(a.get().Status.LastSyncTime).To(BeNil(), "no change recorded yet")

	stop()
	for i := range 3 {
		a.dx.Create("messages", map[string]any{"text": fmt.Sprintf("while down %d", i), "user": "u"})
	}
	startOperator(t, a.opts)
	a.warnsSince(since)
	g.Eventually(func() metav1.ConditionStatus {
		c := meta.FindStatusCondition(a.get().Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || a.get().Status.ObservedGeneration != a.get().Generation {
			return metav1.ConditionUnknown
		}
		return c.Status
	}, time.Minute, 100*time.Millisecond).Should(Equal(metav1.ConditionTrue), "Ready again")
	g.Expect(a.events("ItemCreated")).To(BeEmpty(), "what Directus did not replay is not made up")
}
