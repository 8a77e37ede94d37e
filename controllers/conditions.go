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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// conditions writes the conditions of one object's status, each for the
// generation it was read at. Subscriptions and connection objects share
// it, and with it the kstatus rule (see setProgress).
type conditions struct {
	list       *[]metav1.Condition
	generation int64
}

// set sets one condition.
func (c conditions) set(typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(c.list, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: trimMessage(message), ObservedGeneration: c.generation,
	})
}

// setProgress sets the kstatus conditions, Reconciling and Stalled, from
// ready (Ready as the object shows it, or nil when unknown), so that Flux, kpt, kubectl and Argo CD can tell an object on its
// way from one that waits for someone:
//   - Ready True: neither.
//   - stalled, the condition behind Ready, is not nil (its reason is
//     terminal, see v1alpha1.Reasons): Stalled True with its reason and
//     message. A GitOps wait fails fast instead of running into its timeout.
//   - otherwise Reconciling True with Ready's reason: connecting, the first
//     snapshot, or retrying a failure that can clear by itself; unless
//     Ready's reason says neither (healthy, suspended).
//
// The two are removed rather than set False when they do not hold, as Flux
// does: kstatus reads a missing one as False.
func (c conditions) setProgress(ready, stalled *metav1.Condition) {
	if ready != nil {
		r := *ready // it may point into the list, which changes below
		ready = &r
	}
	switch {
	case ready != nil && ready.Status == metav1.ConditionTrue:
	case stalled != nil:
		meta.RemoveStatusCondition(c.list, v1alpha1.ConditionReconciling)
		c.set(v1alpha1.ConditionStalled, metav1.ConditionTrue, stalled.Reason, stalled.Message)
		return
	case ready == nil:
		meta.RemoveStatusCondition(c.list, v1alpha1.ConditionStalled)
		c.set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonNotReady, "Ready is unknown")
		return
	case v1alpha1.ClassOf(ready.Reason) == v1alpha1.ClassProgressing || v1alpha1.ClassOf(ready.Reason) == v1alpha1.ClassTransient:
		meta.RemoveStatusCondition(c.list, v1alpha1.ConditionStalled)
		c.set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, ready.Reason, ready.Message)
		return
	}
	meta.RemoveStatusCondition(c.list, v1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(c.list, v1alpha1.ConditionStalled)
}

func trimMessage(s string) string { return subscriptions.Truncate(s, 1024) }

func boolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

func withWarning(msg, warning string) string {
	if warning == "" {
		return msg
	}
	return "WARNING: " + warning + "; " + msg
}
