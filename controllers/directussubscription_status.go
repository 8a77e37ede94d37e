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
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// setCondition sets one condition for the object's current generation.
func setCondition(obj *v1alpha1.DirectusSubscription, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: trimMessage(message), ObservedGeneration: obj.Generation,
	})
}

func trimMessage(s string) string { return subscriptions.Truncate(s, 1024) }

func boolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

// applyWorkerStatus turns what the subscription's worker reports into the
// object's status. The status claims a generation only once the worker runs
// that generation's config.
func applyWorkerStatus(obj *v1alpha1.DirectusSubscription, st subscriptions.Status, warning string) {
	s := &obj.Status
	if st.Generation == obj.Generation {
		s.ObservedGeneration = obj.Generation
	}
	connected := st.ConnState == v1alpha1.ConnectionStateConnected
	setCondition(obj, v1alpha1.ConditionConnected, boolStatus(connected), st.ConnReason, st.ConnMessage)
	setCondition(obj, v1alpha1.ConditionSubscribed, boolStatus(st.Subscribed), st.SubReason, st.SubMessage)
	setCondition(obj, v1alpha1.ConditionSynced, st.Synced, st.SyncReason, st.SyncMessage)
	s.Target = st.Target
	setReady(obj, warning)

	s.Connection.State = st.ConnState
	s.Connection.Since = timeOrNil(st.ConnSince)
	s.Connection.LastMessageTime = timeOrNil(st.LastMessage)
	s.Connection.Reconnects = st.Reconnects
	s.EventsReceived = st.EventsReceived
	s.EventsFolded = st.EventsFolded
	s.Items = st.Items
	s.LastSyncTime = timeOrNil(st.LastSync)
	s.LastError = st.LastError
}

// setReady derives Ready from the three others: True when all are, else
// False with the reason of the first that is not.
func setReady(obj *v1alpha1.DirectusSubscription, warning string) {
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced} {
		c := meta.FindStatusCondition(obj.Status.Conditions, typ)
		if c == nil || c.Status != metav1.ConditionTrue {
			reason, msg := v1alpha1.ReasonNotReady, typ+" is unknown"
			if c != nil {
				reason, msg = c.Reason, fmt.Sprintf("%s: %s", typ, c.Message)
			}
			setCondition(obj, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, withWarning(msg, warning))
			return
		}
	}
	msg := fmt.Sprintf("mirroring %s into %s", obj.Spec.Collection, obj.Status.Target)
	setCondition(obj, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady, withWarning(msg, warning))
}

func withWarning(msg, warning string) string {
	if warning == "" {
		return msg
	}
	return "WARNING: " + warning + "; " + msg
}

// markStalled reports a problem only a change of spec or Secret can fix: the
// subscription does not run, and every condition says why.
func markStalled(obj *v1alpha1.DirectusSubscription, reason, message string) {
	obj.Status.ObservedGeneration = obj.Generation
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced, v1alpha1.ConditionReady} {
		setCondition(obj, typ, metav1.ConditionFalse, reason, message)
	}
	obj.Status.Connection.State = v1alpha1.ConnectionStateDisconnected
	obj.Status.LastError = message
}

// markSuspended reports spec.suspend.
func markSuspended(obj *v1alpha1.DirectusSubscription, now time.Time) {
	obj.Status.ObservedGeneration = obj.Generation
	msg := "spec.suspend is true: the connection is closed and the target keeps its last content"
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionReady} {
		setCondition(obj, typ, metav1.ConditionFalse, v1alpha1.ReasonSuspended, msg)
	}
	if obj.Status.Connection.State != v1alpha1.ConnectionStateSuspended {
		obj.Status.Connection.State = v1alpha1.ConnectionStateSuspended
		obj.Status.Connection.Since = &metav1.Time{Time: now}
	}
}

func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// statusBehind tells whether obj's status shows other conditions (type,
// status, reason), another generation or another connection state than a
// status built from st would.
func statusBehind(obj *v1alpha1.DirectusSubscription, st subscriptions.Status) bool {
	want := obj.DeepCopy()
	applyWorkerStatus(want, st, "")
	if want.Status.ObservedGeneration != obj.Status.ObservedGeneration || want.Status.Connection.State != obj.Status.Connection.State ||
		len(want.Status.Conditions) != len(obj.Status.Conditions) {
		return true
	}
	for _, c := range want.Status.Conditions {
		have := meta.FindStatusCondition(obj.Status.Conditions, c.Type)
		if have == nil || have.Status != c.Status || have.Reason != c.Reason || have.ObservedGeneration != c.ObservedGeneration {
			return true
		}
	}
	return false
}
