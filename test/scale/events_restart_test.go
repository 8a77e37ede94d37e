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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// TestAnEventsTargetWarnsOfChangesMadeWhileTheOperatorWasDown: Directus
// replays nothing, so a change made while no operator ran can never become
// its Event; the restarted operator must say so, naming since when.
func TestAnEventsTargetWarnsOfChangesMadeWhileTheOperatorWasDown(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	dx, ns := newWorld(t, "events-restart")
	opts := controllers.Options{Hub: hub.Options{StatusInterval: 200 * time.Millisecond}}
	_, stop := startOperator(t, opts)

	g.Expect(k8s.Create(ctx, &v1alpha1.DirectusSubscription{
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
	events := func(reason string) []string {
		list := &corev1.EventList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var msgs []string
		for _, e := range list.Items {
			if e.Reason == reason {
				msgs = append(msgs, e.Message)
			}
		}
		return msgs
	}
	lastSync := func() *metav1.Time {
		obj := &v1alpha1.DirectusSubscription{}
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "audit"}, obj)).To(Succeed())
		return obj.Status.LastSyncTime
	}

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
	since := lastSync().UTC().Format(time.RFC3339)

	// Down: a change nobody records.
	stop()
	dx.Create("messages", map[string]any{"text": "while down", "user": "u"})

	startOperator(t, opts)
	g.Eventually(func() []string { return events(subscriptions.ReasonChangesLost) }, time.Minute, 200*time.Millisecond).
		Should(ContainElement(And(ContainSubstring("since "+since), ContainSubstring("may not have been recorded"))))
	t.Log(strings.Join(events(subscriptions.ReasonChangesLost), "\n"))
}
