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
	"cmp"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/resolve"
)

// setConnectionStatus writes the conditions and counters of a connection
// object: stalled, when its settings or Secrets do not resolve; otherwise
// what its sockets report.
func setConnectionStatus(st *v1alpha1.DirectusConnectionStatus, generation int64, stats hub.ObjectStats, stalled *resolve.StalledError, warning string) {
	st.ObservedGeneration = generation
	st.Sockets, st.Subscriptions = int32(stats.Sockets), int32(stats.Subscriptions) //nolint:gosec // counts far below 2^31
	conds := conditions{list: &st.Conditions, generation: generation}
	connected, authenticated := connectionConditions(stats)
	ready := metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReady,
		Message: fmt.Sprintf("%d of %d sockets connected, serving %d subscriptions", stats.Sockets, stats.Sockets, stats.Subscriptions)}
	switch {
	case stalled != nil:
		connected = metav1.Condition{Status: metav1.ConditionFalse, Reason: stalled.Reason, Message: stalled.Message}
		authenticated = connected
		ready = connected
	case stats.Sockets == 0:
		ready = metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonIdle, Message: connected.Message}
	case connected.Status != metav1.ConditionTrue:
		ready = metav1.Condition{Status: metav1.ConditionFalse, Reason: connected.Reason, Message: connected.Message}
	}
	conds.set(v1alpha1.ConditionConnected, connected.Status, connected.Reason, connected.Message)
	conds.set(v1alpha1.ConditionAuthenticated, authenticated.Status, authenticated.Reason, authenticated.Message)
	conds.set(v1alpha1.ConditionReady, ready.Status, ready.Reason, withWarning(ready.Message, warning))
	var stalledBy *metav1.Condition
	if v1alpha1.ClassOf(ready.Reason) == v1alpha1.ClassTerminal {
		stalledBy = &ready
	}
	conds.setProgress(&ready, stalledBy)

	st.ServerVersion = ""
	for _, c := range stats.Conns {
		st.ServerVersion = cmp.Or(st.ServerVersion, c.ServerVersion)
	}
	st.LastError = ""
	if stalled != nil {
		st.LastError = stalled.Message
	}
	for _, c := range stats.Conns {
		if c.LastError != "" {
			st.LastError = c.LastError
		}
	}
}

// connectionConditions sums up the sockets: Connected is True when all are
// connected, otherwise it carries the first one's reason; Authenticated is
// True when any socket was accepted, False when Directus refused the
// credentials.
func connectionConditions(stats hub.ObjectStats) (connected, authenticated metav1.Condition) {
	if stats.Sockets == 0 {
		idle := metav1.Condition{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonIdle,
			Message: "no subscription uses this connection, so no socket is open; its settings and Secrets resolve"}
		return idle, idle
	}
	connected = metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonConnected,
		Message: fmt.Sprintf("%d of %d sockets connected", stats.Sockets, stats.Sockets)}
	up := 0
	for _, c := range stats.Conns {
		if c.State == v1alpha1.ConnectionStateConnected {
			up++
		} else if connected.Status == metav1.ConditionTrue {
			connected = metav1.Condition{Status: metav1.ConditionFalse, Reason: c.Reason, Message: c.Message}
		}
	}
	if connected.Status != metav1.ConditionTrue {
		connected.Message = fmt.Sprintf("%d of %d sockets connected; %s", up, stats.Sockets, connected.Message)
	}
	authenticated = metav1.Condition{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonConnecting, Message: "no socket has authenticated yet"}
	for _, c := range stats.Conns {
		switch {
		case c.Authenticated:
			return connected, metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAuthenticated,
				Message: "Directus accepted the connection's credentials"}
		case c.Reason == v1alpha1.ReasonAuthFailed:
			authenticated = metav1.Condition{Status: metav1.ConditionFalse, Reason: c.Reason, Message: c.Message}
		}
	}
	return connected, authenticated
}
