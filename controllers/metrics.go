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

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// Per-subscription metrics, in the style of External Secrets': one series
// per object, removed when the object goes. docs/metrics.md documents them.
var (
	conditionGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "directus_operator_subscription_condition",
		Help: "The conditions of each DirectusSubscription: one series per condition type, labelled with its current status (True, False or Unknown), at 1.",
	}, []string{labelNamespace, labelName, "type", "status"})
	lastMessageGauge = objectGauge("directus_operator_subscription_last_message_timestamp_seconds",
		"When the last subscription message from Directus arrived, as a Unix time; absent before the first.")
	lastSyncGauge = objectGauge("directus_operator_subscription_last_sync_timestamp_seconds",
		"When the target last became current (a complete read plus every change since, written), as a Unix time; absent before the first.")
	itemsGauge = objectGauge("directus_operator_subscription_items",
		"Items in the subscription's target as of its last write (0 for an events target).")
	bytesGauge = objectGauge("directus_operator_subscription_bytes",
		"Bytes of data (keys and values) in the subscription's target as of its last write; the limit is 1 MiB.")

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

// objectGauge is a gauge with one series per subscription.
func objectGauge(name, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{labelNamespace, labelName})
}

func init() {
	metrics.Registry.MustRegister(conditionGauge, lastMessageGauge, lastSyncGauge, itemsGauge, bytesGauge,
		connectionConditionGauge, connectionSocketsGauge, connectionSubscriptionsGauge)
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// recordConditions exports the object's conditions as they are about to be
// written. A condition the status no longer has (Reconciling, Stalled)
// loses its series.
func recordConditions(obj *v1alpha1.DirectusSubscription) {
	recordConditionSeries(conditionGauge, []string{obj.Namespace, obj.Name}, obj.Status.Conditions,
		v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced,
		v1alpha1.ConditionReady, v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled)
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
	ns, name := key.Namespace, key.Name
	if !st.LastMessage.IsZero() {
		lastMessageGauge.WithLabelValues(ns, name).Set(float64(st.LastMessage.UnixMilli()) / 1000)
	}
	if !st.LastSync.IsZero() {
		lastSyncGauge.WithLabelValues(ns, name).Set(float64(st.LastSync.UnixMilli()) / 1000)
	}
	itemsGauge.WithLabelValues(ns, name).Set(float64(st.Items))
	bytesGauge.WithLabelValues(ns, name).Set(float64(st.Bytes))
}

// forgetMetrics removes every series of a subscription that is gone.
func forgetMetrics(key types.NamespacedName) {
	labels := prometheus.Labels{labelNamespace: key.Namespace, labelName: key.Name}
	for _, g := range []*prometheus.GaugeVec{conditionGauge, lastMessageGauge, lastSyncGauge, itemsGauge, bytesGauge} {
		g.DeletePartialMatch(labels)
	}
}

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
