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

package controllers_test

import (
	"maps"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// series returns the value of the series of metric name whose labels
// include labels, and whether there is one.
func series(g Gomega, name string, labels map[string]string) (float64, bool) {
	families, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestEachSubscriptionHasItsConditionsItemsBytesAndTimesAsMetrics(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "a", "user": "u"}, map[string]any{"text": "b", "user": "u"})
	obj := w.subscription("measured", nil)
	w.ready("measured")
	before := time.Now()
	w.dx.Create("messages", map[string]any{"text": "c", "user": "u"})
	data := w.mirrorData("measured", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(3)) })
	me := map[string]string{"namespace": w.ns, "name": "measured"}
	with := func(k, v string, more ...string) map[string]string {
		l := map[string]string{"namespace": w.ns, "name": "measured", k: v}
		for i := 0; i+1 < len(more); i += 2 {
			l[more[i]] = more[i+1]
		}
		return l
	}

	w.g.Eventually(func(g Gomega) {
		v, ok := series(g, "directus_operator_subscription_condition", with("type", v1alpha1.ConditionReady, "status", "True"))
		g.Expect(ok).To(BeTrue())
		g.Expect(v).To(Equal(1.0))
		_, ok = series(g, "directus_operator_subscription_condition", with("type", v1alpha1.ConditionReady, "status", "False"))
		g.Expect(ok).To(BeFalse(), "one series per condition: its current status's")
		_, ok = series(g, "directus_operator_subscription_condition", with("type", v1alpha1.ConditionStalled))
		g.Expect(ok).To(BeFalse(), "a condition the status does not have has no series")
		v, _ = series(g, "directus_operator_subscription_items", me)
		g.Expect(v).To(Equal(3.0))
		v, _ = series(g, "directus_operator_subscription_bytes", me)
		g.Expect(v).To(BeEquivalentTo(mirror.DataSize(data)))
		v, ok = series(g, "directus_operator_subscription_last_message_timestamp_seconds", me)
		g.Expect(ok).To(BeTrue())
		g.Expect(v).To(BeNumerically(">=", float64(before.UnixMilli())/1000-1))
		g.Expect(v).To(BeNumerically("<=", float64(time.Now().UnixMilli())/1000))
		_, ok = series(g, "directus_operator_subscription_last_sync_timestamp_seconds", me)
		g.Expect(ok).To(BeTrue())
	}, timeout, 50*time.Millisecond).Should(Succeed())

	w.g.Expect(k8s.Delete(w.ctx, obj)).To(Succeed())
	w.g.Eventually(func(g Gomega) {
		for _, name := range []string{"directus_operator_subscription_condition", "directus_operator_subscription_items",
			"directus_operator_subscription_bytes", "directus_operator_subscription_last_message_timestamp_seconds",
			"directus_operator_subscription_last_sync_timestamp_seconds"} {
			_, ok := series(g, name, me)
			g.Expect(ok).To(BeFalse(), "%s is removed with the subscription", name)
		}
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func TestAStalledSubscriptionShowsInTheConditionMetric(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("nosecret", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Auth.Token.Name = "missing" })
	w.condition("nosecret", v1alpha1.ConditionStalled, "True", v1alpha1.ReasonSecretNotFound)
	w.g.Eventually(func(g Gomega) {
		v, _ := series(g, "directus_operator_subscription_condition",
			map[string]string{"namespace": w.ns, "name": "nosecret", "type": v1alpha1.ConditionStalled, "status": "True"})
		g.Expect(v).To(Equal(1.0))
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func TestEachConnectionObjectHasItsConditionsSocketsAndSubscriptionsAsMetrics(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	conn := w.directusConnection("measured", 0)
	w.subscriptionUsing(w.ns, "s", v1alpha1.KindDirectusConnection, "measured")
	w.ready("s")
	labels := map[string]string{"kind": v1alpha1.KindDirectusConnection, "namespace": w.ns, "name": "measured"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		maps.Copy(out, labels)
		maps.Copy(out, extra)
		return out
	}
	w.g.Eventually(func(g Gomega) {
		v, ok := series(g, "directus_operator_connection_condition", with(map[string]string{"type": "Ready", "status": "True"}))
		g.Expect(ok).To(BeTrue())
		g.Expect(v).To(Equal(1.0))
		v, _ = series(g, "directus_operator_connection_sockets", labels)
		g.Expect(v).To(Equal(1.0))
		v, _ = series(g, "directus_operator_connection_subscriptions", labels)
		g.Expect(v).To(Equal(1.0))
	}, timeout, 50*time.Millisecond).Should(Succeed())

	w.g.Expect(k8s.Delete(w.ctx, conn)).To(Succeed())
	w.g.Eventually(func(g Gomega) {
		for _, name := range []string{"directus_operator_connection_condition", "directus_operator_connection_sockets", "directus_operator_connection_subscriptions"} {
			_, ok := series(g, name, labels)
			g.Expect(ok).To(BeFalse(), "%s of a deleted connection", name)
		}
	}, timeout, 50*time.Millisecond).Should(Succeed())
}
