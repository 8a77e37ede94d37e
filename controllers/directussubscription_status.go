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

// conditionsOf writes obj's conditions for its current generation.
func conditionsOf(obj *v1alpha1.DirectusSubscription) conditions {
	return conditions{list: &obj.Status.Conditions, generation: obj.Generation}
}

// applyRunnerStatus turns what the subscription's runner reports into the
// object's status. The status claims a generation only once the runner runs
// that generation's config.
func applyRunnerStatus(obj *v1alpha1.DirectusSubscription, st subscriptions.Status, warning string) {
	s := &obj.Status
	if st.Generation == obj.Generation {
		s.ObservedGeneration = obj.Generation
	}
	connected := st.ConnState == v1alpha1.ConnectionStateConnected
	conds := conditionsOf(obj)
	conds.set(v1alpha1.ConditionConnected, boolStatus(connected), st.ConnReason, st.ConnMessage)
	conds.set(v1alpha1.ConditionSubscribed, boolStatus(st.Subscribed), st.SubReason, st.SubMessage)
	conds.set(v1alpha1.ConditionSynced, st.Synced, st.SyncReason, st.SyncMessage)
	s.Target = st.Target
	setReady(obj, warning)
	setProgress(obj)

	s.Connection.State = st.ConnState
	s.Connection.Since = timeOrNil(st.ConnSince)
	s.Connection.LastMessageTime = timeOrNil(st.LastMessage)
	s.Connection.Reconnects = st.Reconnects
	s.EventsReceived = st.EventsReceived
	s.EventsFolded = st.EventsFolded
	s.Items = st.Items
	s.LastSyncTime = timeOrNil(st.LastSync)
	s.LastError = st.LastError
	if st.Resynced != "" {
		// A runner new since the last request reports none: the status
		// keeps the last one handled.
		s.LastHandledResyncAt = st.Resynced
	}
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
			conditionsOf(obj).set(v1alpha1.ConditionReady, metav1.ConditionFalse, reason, withWarning(msg, warning))
			return
		}
	}
	msg := fmt.Sprintf("mirroring %s into %s", obj.Spec.Collection, obj.Status.Target)
	conditionsOf(obj).set(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady, withWarning(msg, warning))
}

// setProgress sets the kstatus conditions (see conditions.setProgress):
// Stalled when one of Connected, Subscribed, Synced has a terminal reason
// (see v1alpha1.Reasons), Reconciling while Ready is not True otherwise.
func setProgress(obj *v1alpha1.DirectusSubscription) {
	var stalledBy *metav1.Condition
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced} {
		c := meta.FindStatusCondition(obj.Status.Conditions, typ)
		if c != nil && c.Status != metav1.ConditionTrue && v1alpha1.ClassOf(c.Reason) == v1alpha1.ClassTerminal {
			stalledBy = &metav1.Condition{Reason: c.Reason, Message: fmt.Sprintf("%s: %s", typ, c.Message)}
			break
		}
	}
	conditionsOf(obj).setProgress(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady), stalledBy)
}

// markStalled reports a problem only a change of spec or Secret can fix: the
// subscription does not run, every condition says why, and Stalled is True
// whatever the reason's class, since nothing runs that could heal it.
func markStalled(obj *v1alpha1.DirectusSubscription, reason, message string) {
	obj.Status.ObservedGeneration = obj.Generation
	conds := conditionsOf(obj)
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced, v1alpha1.ConditionReady} {
		conds.set(typ, metav1.ConditionFalse, reason, message)
	}
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionReconciling)
	conds.set(v1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	obj.Status.Connection.State = v1alpha1.ConnectionStateDisconnected
	obj.Status.LastError = message
}

// markSuspended reports spec.suspend as Flux users expect of a suspended
// object: it is not marked as failing or in progress. Ready is True with
// reason Suspended (the subscription is as its spec asks, so a GitOps health
// wait on it passes), while Connected and Subscribed say that the connection
// is closed and Synced keeps what it last said of the target.
func markSuspended(obj *v1alpha1.DirectusSubscription, now time.Time) {
	obj.Status.ObservedGeneration = obj.Generation
	msg := "spec.suspend is true: the connection is closed and the target keeps its last content"
	conds := conditionsOf(obj)
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed} {
		conds.set(typ, metav1.ConditionFalse, v1alpha1.ReasonSuspended, msg)
	}
	// Nothing follows Directus while suspended: the target is not known to
	// be current.
	conds.set(v1alpha1.ConditionSynced, metav1.ConditionUnknown, v1alpha1.ReasonSuspended, msg)
	conds.set(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSuspended, msg)
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionStalled)
	if obj.Status.Connection.State != v1alpha1.ConnectionStateSuspended {
		obj.Status.Connection.State = v1alpha1.ConnectionStateSuspended
		obj.Status.Connection.Since = &metav1.Time{Time: now}
	}
}

// recordingSince is the last moment an earlier run is known to have been
// recording changes, as the status it left says: its last recorded change or,
// when it recorded none, when it was subscribed. A new runner of an events
// target warns that changes made since then may be lost (Directus replays
// nothing). Zero when no run was ever subscribed.
func recordingSince(obj *v1alpha1.DirectusSubscription) time.Time {
	var since time.Time
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionSubscribed); c != nil && c.Status == metav1.ConditionTrue {
		since = c.LastTransitionTime.Time
	}
	if t := obj.Status.LastSyncTime; t != nil && t.After(since) {
		since = t.Time
	}
	return since
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
	applyRunnerStatus(want, st, "")
	if want.Status.ObservedGeneration != obj.Status.ObservedGeneration || want.Status.Connection.State != obj.Status.Connection.State ||
		want.Status.LastHandledResyncAt != obj.Status.LastHandledResyncAt ||
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
