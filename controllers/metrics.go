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

package controllers

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// Per-subscription metrics, in the style of External Secrets': one series
// per object, removed when the object goes. docs/metrics.md documents them.
// They are made when scraped from a small record per subscription
// (subscriptionSeries), not kept as series: at a thousand subscriptions,
// eight series each held as client_golang metrics took several MiB of the
// operator's heap.
var subscriptionMetrics = newSubscriptionCollector()

var (
	conditionDesc = prometheus.NewDesc("directus_operator_subscription_condition",
		"The conditions of each DirectusSubscription: one series per condition type, labelled with its current status (True, False or Unknown), at 1.",
		[]string{labelNamespace, labelName, "type", "status"}, nil)
	lastMessageDesc = objectDesc("directus_operator_subscription_last_message_timestamp_seconds",
		"When the last subscription message from Directus arrived, as a Unix time; absent before the first.")
	lastSyncDesc = objectDesc("directus_operator_subscription_last_sync_timestamp_seconds",
		"When the target last became current (a complete read plus every change since, written), as a Unix time; absent before the first.")
	itemsDesc = objectDesc("directus_operator_subscription_items",
		"Items in the subscription's target as of its last write (0 for an events target).")
	bytesDesc = objectDesc("directus_operator_subscription_bytes",
		"Bytes of data (keys and values) in the subscription's target as of its last write; the limit is 1 MiB.")
)

var (
	// Per connection object: kind is DirectusConnection or
	// ClusterDirectusConnection (namespace "").
	connectionConditionGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "directus_operator_connection_condition",
		Help: "The conditions of each DirectusConnection and ClusterDirectusConnection: one series per condition type, labelled with its current status, at 1.",
	}, []string{labelKind, labelNamespace, labelName, "type", "status"})
	connectionSocketsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "directus_operator_connection_sockets",
		Help: "Realtime sockets open or opening for each connection object.",
	}, []string{labelKind, labelNamespace, labelName})
	connectionSubscriptionsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "directus_operator_connection_subscriptions",
		Help: "Subscriptions each connection object serves.",
	}, []string{labelKind, labelNamespace, labelName})
)

const (
	labelKind      = "kind"
	labelNamespace = "namespace"
	labelName      = "name"
)

// objectDesc describes a gauge with one series per subscription.
func objectDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{labelNamespace, labelName}, nil)
}

func init() {
	metrics.Registry.MustRegister(subscriptionMetrics,
		connectionConditionGauge, connectionSocketsGauge, connectionSubscriptionsGauge)
}

// subscriptionConditionTypes are the condition types the condition metric
// shows, in this order.
var subscriptionConditionTypes = [...]string{
	v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced,
	v1alpha1.ConditionReady, v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled,
}

// subscriptionSeries is what the metrics of one subscription show.
type subscriptionSeries struct {
	// conditions holds the status of each of subscriptionConditionTypes,
	// "" when the object does not have it.
	conditions            [len(subscriptionConditionTypes)]metav1.ConditionStatus
	lastMessage, lastSync time.Time
	items, bytes          int64
	hasTarget             bool
}

// subscriptionCollector makes the per-subscription series at each scrape.
type subscriptionCollector struct {
	mu   sync.Mutex
	subs map[types.NamespacedName]*subscriptionSeries
}

func newSubscriptionCollector() *subscriptionCollector {
	return &subscriptionCollector{subs: map[types.NamespacedName]*subscriptionSeries{}}
}

// Describe implements prometheus.Collector.
func (c *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{conditionDesc, lastMessageDesc, lastSyncDesc, itemsDesc, bytesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *subscriptionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, s := range c.subs {
		ns, name := key.Namespace, key.Name
		for i, st := range s.conditions {
			if st != "" {
				ch <- prometheus.MustNewConstMetric(conditionDesc, prometheus.GaugeValue, 1, ns, name, subscriptionConditionTypes[i], string(st))
			}
		}
		if !s.lastMessage.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastMessageDesc, prometheus.GaugeValue, unixSeconds(s.lastMessage), ns, name)
		}
		if !s.lastSync.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, unixSeconds(s.lastSync), ns, name)
		}
		if s.hasTarget {
			ch <- prometheus.MustNewConstMetric(itemsDesc, prometheus.GaugeValue, float64(s.items), ns, name)
			ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.GaugeValue, float64(s.bytes), ns, name)
		}
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// update changes the record of key, making it if needed.
func (c *subscriptionCollector) update(key types.NamespacedName, fn func(s *subscriptionSeries)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.subs[key]
	if !ok {
		s = &subscriptionSeries{}
		c.subs[key] = s
	}
	fn(s)
}

func (c *subscriptionCollector) forget(key types.NamespacedName) {
	c.mu.Lock()
	delete(c.subs, key)
	c.mu.Unlock()
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// recordConditions exports the object's conditions as they are about to be
// written. A condition the status no longer has (Reconciling, Stalled)
// loses its series.
func recordConditions(obj *v1alpha1.DirectusSubscription) {
	subscriptionMetrics.update(client.ObjectKeyFromObject(obj), func(s *subscriptionSeries) {
		for i, typ := range subscriptionConditionTypes {
			s.conditions[i] = ""
			if c := meta.FindStatusCondition(obj.Status.Conditions, typ); c != nil {
				s.conditions[i] = c.Status
			}
		}
	})
}

// recordConditionSeries keeps, for each condition type, one series: the
// one of its current status, at 1; the series of the other statuses, and
// of a type the conditions do not have, are removed. PromQL selects on the
// status label (status="False") as it would with 0/1 series for every
// status, at a third of the series: at a thousand subscriptions that is the
// difference between 4,000 series and 12,000 in the operator's memory and
// in every scrape. labels are the object's label values, before type and
// status.
func recordConditionSeries(g *prometheus.GaugeVec, labels []string, conds []metav1.Condition, conditionTypes ...string) {
	for _, typ := range conditionTypes {
		var current metav1.ConditionStatus
		for _, c := range conds {
			if c.Type == typ {
				current = c.Status
			}
		}
		for _, s := range conditionStatuses {
			values := append(slices.Clone(labels), typ, string(s))
			if s == current {
				g.WithLabelValues(values...).Set(1)
			} else {
				g.DeleteLabelValues(values...)
			}
		}
	}
}

// recordTarget exports what the Hub reports of the subscription's
// messages and target.
func recordTarget(key types.NamespacedName, st subscriptions.Status) {
	subscriptionMetrics.update(key, func(s *subscriptionSeries) {
		if !st.LastMessage.IsZero() {
			s.lastMessage = st.LastMessage
		}
		if !st.LastSync.IsZero() {
			s.lastSync = st.LastSync
		}
		s.items, s.bytes, s.hasTarget = st.Items, st.Bytes, true
	})
}

// forgetMetrics removes every series of a subscription that is gone.
func forgetMetrics(key types.NamespacedName) { subscriptionMetrics.forget(key) }

// recordConnection exports a connection object's conditions and counts.
func recordConnection(kind string, key types.NamespacedName, st *v1alpha1.DirectusConnectionStatus) {
	labels := []string{kind, key.Namespace, key.Name}
	recordConditionSeries(connectionConditionGauge, labels, st.Conditions,
		v1alpha1.ConditionConnected, v1alpha1.ConditionAuthenticated, v1alpha1.ConditionReady,
		v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled)
	connectionSocketsGauge.WithLabelValues(labels...).Set(float64(st.Sockets))
	connectionSubscriptionsGauge.WithLabelValues(labels...).Set(float64(st.Subscriptions))
}

// forgetConnection removes every series of a connection object that is
// gone.
func forgetConnection(kind string, key types.NamespacedName) {
	labels := prometheus.Labels{labelKind: kind, labelNamespace: key.Namespace, labelName: key.Name}
	for _, g := range []*prometheus.GaugeVec{connectionConditionGauge, connectionSocketsGauge, connectionSubscriptionsGauge} {
		g.DeletePartialMatch(labels)
	}
}
