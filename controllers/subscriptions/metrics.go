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

package subscriptions

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// Metrics on the controller-runtime metrics endpoint; docs/metrics.md
// documents them.
var (
	connectionsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "directus_operator_connections",
		Help: "Realtime sockets by state; subscriptions with the same Directus identity share sockets.",
	}, []string{"state"})
	eventsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "directus_operator_events_received_total",
		Help: "Subscription messages received from Directus, by collection and event (init, create, update, delete, error, gap).",
	}, []string{"collection", "event"})
	reconnectsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "directus_operator_reconnects_total",
		Help: "Realtime connections re-established under a subscription, by subscription (a shared socket counts once for each subscription on it).",
	}, []string{"namespace", "name"})
	targetWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "directus_operator_target_writes_total",
		Help: "Writes to targets (ConfigMap, Secret and directory updates, Events), by target and result (success, error, skipped).",
	}, []string{labelTarget, "result"})
	writeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "directus_operator_write_errors_total",
		Help: "Target writes that failed, by target and reason.",
	}, []string{labelTarget, "reason"})
	eventToWrite = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "directus_operator_event_to_write_seconds",
		Help:    "Time from receiving a Directus message to the successful target write that contains it.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{labelTarget})
	exitChecksTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "directus_operator_exit_checks_total",
		Help: "Reads that check whether updated items of a filtered mirror still match its filter (Directus sends nothing when an item leaves it).",
	})
	resyncsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "directus_operator_resyncs_total",
		Help: "Full reads of a collection into a mirror, by reason (connect, periodic, gap, refresh, missing, retry, requested).",
	}, []string{"reason"})
)

// CountReconnect counts a reconnect under the subscription namespace/name
// (directus_operator_reconnects_total).
func CountReconnect(namespace, name string) {
	reconnectsTotal.WithLabelValues(namespace, name).Inc()
}

func init() {
	metrics.Registry.MustRegister(exitChecksTotal, connectionsGauge, eventsReceived, reconnectsTotal, targetWrites, writeErrors, eventToWrite, resyncsTotal)
	for _, s := range []v1alpha1.ConnectionState{v1alpha1.ConnectionStateConnecting, v1alpha1.ConnectionStateConnected,
		v1alpha1.ConnectionStateReconnecting, v1alpha1.ConnectionStateDisconnected} {
		connectionsGauge.WithLabelValues(string(s))
	}
}

const (
	labelTarget  = "target"
	targetEvents = "events"
)
