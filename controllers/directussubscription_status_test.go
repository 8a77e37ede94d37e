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
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// statusNow has sub-second precision on purpose: status times are whole
// seconds.
var statusNow = time.Date(2026, 11, 27, 10, 0, 0, 987654321, time.UTC)

func subscriptionAt(generation int64) *v1alpha1.DirectusSubscription {
	obj := &v1alpha1.DirectusSubscription{}
	obj.Name, obj.Namespace, obj.Generation = "feed", "apps", generation
	obj.Spec.Collection = "messages"
	return obj
}

// healthy is what a runner reports when everything works.
func healthy(generation int64) subscriptions.Status {
	return subscriptions.Status{
		Generation: generation, Target: "ConfigMap/feed",
		ConnState: v1alpha1.ConnectionStateConnected, ConnReason: v1alpha1.ReasonConnected, ConnMessage: "connected and authenticated",
		Subscribed: true, SubReason: v1alpha1.ReasonSubscribed, SubMessage: "subscribed to messages",
		Synced: metav1.ConditionTrue, SyncReason: v1alpha1.ReasonSynced, SyncMessage: "3 items written",
	}
}

func condition(g Gomega, obj *v1alpha1.DirectusSubscription, typ string) metav1.Condition {
	c := meta.FindStatusCondition(obj.Status.Conditions, typ)
	g.ExpectWithOffset(1, c).NotTo(BeNil(), "condition %s", typ)
	return *c
}

func TestApplyRunnerStatusClaimsAGenerationOnlyOnceTheRunnerRunsIt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		objGen, runner   int64
		previousObserved int64
		wantObserved     int64
	}{
		{name: "the runner runs this generation", objGen: 3, runner: 3, previousObserved: 2, wantObserved: 3},
		{name: "the runner still runs the previous generation", objGen: 3, runner: 2, previousObserved: 2, wantObserved: 2},
		{name: "a fresh object whose runner has not caught up claims nothing", objGen: 1, runner: 0, previousObserved: 0, wantObserved: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(tc.objGen)
			obj.Status.ObservedGeneration = tc.previousObserved
			applyRunnerStatus(obj, healthy(tc.runner), "")
			g.Expect(obj.Status.ObservedGeneration).To(Equal(tc.wantObserved))
			for _, c := range obj.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(tc.objGen), "condition %s", c.Type)
			}
		})
	}
}

func TestApplyRunnerStatusMapsTheRunnersStateToConditions(t *testing.T) {
	t.Parallel()
	type want struct {
		status          metav1.ConditionStatus
		reason, message string
	}
	// progress is the kstatus condition that goes with the state, True:
	// Reconciling while the subscription can get Ready by itself, Stalled
	// when it cannot; none when it is Ready.
	type progress struct {
		typ             string
		reason, message string
	}
	cases := []struct {
		name                          string
		mutate                        func(st *subscriptions.Status)
		connected, subscribed, synced want
		ready                         want
		progress                      *progress
	}{
		{
			name:       "all working is Ready",
			mutate:     func(*subscriptions.Status) {},
			connected:  want{metav1.ConditionTrue, v1alpha1.ReasonConnected, "connected and authenticated"},
			subscribed: want{metav1.ConditionTrue, v1alpha1.ReasonSubscribed, "subscribed to messages"},
			synced:     want{metav1.ConditionTrue, v1alpha1.ReasonSynced, "3 items written"},
			ready:      want{metav1.ConditionTrue, v1alpha1.ReasonReady, "mirroring messages into ConfigMap/feed"},
		},
		{
			name: "reconnecting is not Connected, and Ready names it",
			mutate: func(st *subscriptions.Status) {
				st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonServerUnreachable, "cannot reach Directus"
			},
			connected:  want{metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable, "cannot reach Directus"},
			subscribed: want{metav1.ConditionTrue, v1alpha1.ReasonSubscribed, "subscribed to messages"},
			synced:     want{metav1.ConditionTrue, v1alpha1.ReasonSynced, "3 items written"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable, "Connected: cannot reach Directus"},
			progress:   &progress{v1alpha1.ConditionReconciling, v1alpha1.ReasonServerUnreachable, "Connected: cannot reach Directus"},
		},
		{
			name: "connecting is not Connected",
			mutate: func(st *subscriptions.Status) {
				st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateConnecting, v1alpha1.ReasonConnecting, "connecting to Directus"
			},
			connected:  want{metav1.ConditionFalse, v1alpha1.ReasonConnecting, "connecting to Directus"},
			subscribed: want{metav1.ConditionTrue, v1alpha1.ReasonSubscribed, "subscribed to messages"},
			synced:     want{metav1.ConditionTrue, v1alpha1.ReasonSynced, "3 items written"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonConnecting, "Connected: connecting to Directus"},
			progress:   &progress{v1alpha1.ConditionReconciling, v1alpha1.ReasonConnecting, "Connected: connecting to Directus"},
		},
		{
			name: "a refused subscription is not Subscribed, and Ready names it",
			mutate: func(st *subscriptions.Status) {
				st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonForbidden, "no permission"
			},
			connected:  want{metav1.ConditionTrue, v1alpha1.ReasonConnected, "connected and authenticated"},
			subscribed: want{metav1.ConditionFalse, v1alpha1.ReasonForbidden, "no permission"},
			synced:     want{metav1.ConditionTrue, v1alpha1.ReasonSynced, "3 items written"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonForbidden, "Subscribed: no permission"},
			progress:   &progress{v1alpha1.ConditionStalled, v1alpha1.ReasonForbidden, "Subscribed: no permission"},
		},
		{
			name: "a failed write is not Synced, and Ready names it",
			mutate: func(st *subscriptions.Status) {
				st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonTooLarge, "too large"
			},
			connected:  want{metav1.ConditionTrue, v1alpha1.ReasonConnected, "connected and authenticated"},
			subscribed: want{metav1.ConditionTrue, v1alpha1.ReasonSubscribed, "subscribed to messages"},
			synced:     want{metav1.ConditionFalse, v1alpha1.ReasonTooLarge, "too large"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonTooLarge, "Synced: too large"},
			progress:   &progress{v1alpha1.ConditionStalled, v1alpha1.ReasonTooLarge, "Synced: too large"},
		},
		{
			name: "an unknown sync is Unknown and keeps Ready False",
			mutate: func(st *subscriptions.Status) {
				st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionUnknown, v1alpha1.ReasonSyncing, "waiting for the first snapshot"
			},
			connected:  want{metav1.ConditionTrue, v1alpha1.ReasonConnected, "connected and authenticated"},
			subscribed: want{metav1.ConditionTrue, v1alpha1.ReasonSubscribed, "subscribed to messages"},
			synced:     want{metav1.ConditionUnknown, v1alpha1.ReasonSyncing, "waiting for the first snapshot"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonSyncing, "Synced: waiting for the first snapshot"},
			progress:   &progress{v1alpha1.ConditionReconciling, v1alpha1.ReasonSyncing, "Synced: waiting for the first snapshot"},
		},
		{
			name: "with everything down Ready names Connected first",
			mutate: func(st *subscriptions.Status) {
				st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateDisconnected, v1alpha1.ReasonAuthFailed, "bad token"
				st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonReconnecting, "waiting for the connection"
				st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonSnapshotFailed, "read failed"
			},
			connected:  want{metav1.ConditionFalse, v1alpha1.ReasonAuthFailed, "bad token"},
			subscribed: want{metav1.ConditionFalse, v1alpha1.ReasonReconnecting, "waiting for the connection"},
			synced:     want{metav1.ConditionFalse, v1alpha1.ReasonSnapshotFailed, "read failed"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonAuthFailed, "Connected: bad token"},
			progress:   &progress{v1alpha1.ConditionStalled, v1alpha1.ReasonAuthFailed, "Connected: bad token"},
		},
		{
			name: "with Subscribed and Synced down Ready names Subscribed",
			mutate: func(st *subscriptions.Status) {
				st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonInvalidQuery, "bad filter"
				st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonSnapshotFailed, "read failed"
			},
			connected:  want{metav1.ConditionTrue, v1alpha1.ReasonConnected, "connected and authenticated"},
			subscribed: want{metav1.ConditionFalse, v1alpha1.ReasonInvalidQuery, "bad filter"},
			synced:     want{metav1.ConditionFalse, v1alpha1.ReasonSnapshotFailed, "read failed"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonInvalidQuery, "Subscribed: bad filter"},
			progress:   &progress{v1alpha1.ConditionStalled, v1alpha1.ReasonInvalidQuery, "Subscribed: bad filter"},
		},
		{
			name: "a terminal reason behind a transient one still stalls: reconnecting cannot fix it",
			mutate: func(st *subscriptions.Status) {
				st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonServerUnreachable, "cannot reach Directus"
				st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonTooLarge, "too large"
			},
			connected:  want{metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable, "cannot reach Directus"},
			subscribed: want{metav1.ConditionTrue, v1alpha1.ReasonSubscribed, "subscribed to messages"},
			synced:     want{metav1.ConditionFalse, v1alpha1.ReasonTooLarge, "too large"},
			ready:      want{metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable, "Connected: cannot reach Directus"},
			progress:   &progress{v1alpha1.ConditionStalled, v1alpha1.ReasonTooLarge, "Synced: too large"},
		},
		{
			name: "an unknown reason is taken as transient: the operator retries it",
			mutate: func(st *subscriptions.Status) {
				st.Subscribed, st.SubReason, st.SubMessage = false, "SomethingNew", "a failure named later"
			},
			connected:  want{metav1.ConditionTrue, v1alpha1.ReasonConnected, "connected and authenticated"},
			subscribed: want{metav1.ConditionFalse, "SomethingNew", "a failure named later"},
			synced:     want{metav1.ConditionTrue, v1alpha1.ReasonSynced, "3 items written"},
			ready:      want{metav1.ConditionFalse, "SomethingNew", "Subscribed: a failure named later"},
			progress:   &progress{v1alpha1.ConditionReconciling, "SomethingNew", "Subscribed: a failure named later"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(2)
			obj.Status.Target = "ConfigMap/feed" // as after the first report; see TestApplyRunnerStatusReadyNamesTheTargetOnTheFirstReport
			st := healthy(2)
			tc.mutate(&st)
			applyRunnerStatus(obj, st, "")
			conditions := 4
			if tc.progress != nil {
				conditions = 5
				c := condition(g, obj, tc.progress.typ)
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s status", c.Type)
				g.Expect(c.Reason).To(Equal(tc.progress.reason), "%s reason", c.Type)
				g.Expect(c.Message).To(Equal(tc.progress.message), "%s message", c.Type)
				g.Expect(c.ObservedGeneration).To(Equal(obj.Generation), "%s observedGeneration", c.Type)
			}
			g.Expect(obj.Status.Conditions).To(HaveLen(conditions), "Reconciling and Stalled are never both there")
			for typ, w := range map[string]want{
				v1alpha1.ConditionConnected: tc.connected, v1alpha1.ConditionSubscribed: tc.subscribed,
				v1alpha1.ConditionSynced: tc.synced, v1alpha1.ConditionReady: tc.ready,
			} {
				c := condition(g, obj, typ)
				g.Expect(c.Status).To(Equal(w.status), "%s status", typ)
				g.Expect(c.Reason).To(Equal(w.reason), "%s reason", typ)
				g.Expect(c.Message).To(Equal(w.message), "%s message", typ)
			}
		})
	}
}

func TestApplyRunnerStatusPutsTheInsecureTLSWarningFirstInReady(t *testing.T) {
	t.Parallel()
	const warning = "tls.insecureSkipVerify is set"
	cases := []struct {
		name   string
		mutate func(st *subscriptions.Status)
		want   string
	}{
		{name: "while Ready", mutate: func(*subscriptions.Status) {},
			want: "WARNING: tls.insecureSkipVerify is set; mirroring messages into ConfigMap/feed"},
		{name: "while not Ready", mutate: func(st *subscriptions.Status) {
			st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonTLSError, "untrusted"
		}, want: "WARNING: tls.insecureSkipVerify is set; Connected: untrusted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(1)
			obj.Status.Target = "ConfigMap/feed" // as after the first report
			st := healthy(1)
			tc.mutate(&st)
			applyRunnerStatus(obj, st, warning)
			g.Expect(condition(g, obj, v1alpha1.ConditionReady).Message).To(Equal(tc.want))
			g.Expect(condition(g, obj, v1alpha1.ConditionConnected).Message).NotTo(ContainSubstring("WARNING"), "only Ready carries the warning")
		})
	}
}

func TestApplyRunnerStatusReadyNamesTheTargetOnTheFirstReport(t *testing.T) {
	t.Parallel()
	cases := []struct{ previous, target string }{
		{previous: "", target: "ConfigMap/feed"},
		{previous: "ConfigMap/old", target: "ConfigMap/feed"},
		{previous: "ConfigMap/feed", target: "Events"},
	}
	for _, tc := range cases {
		t.Run(tc.previous+"->"+tc.target, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(1)
			obj.Status.Target = tc.previous
			st := healthy(1)
			st.Target = tc.target
			applyRunnerStatus(obj, st, "")
			g.Expect(condition(g, obj, v1alpha1.ConditionReady).Message).To(Equal("mirroring messages into " + tc.target))
		})
	}
}

func TestApplyRunnerStatusCopiesCountersAndWholeSecondTimes(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	obj := subscriptionAt(4)
	st := healthy(4)
	st.ConnSince = statusNow.Add(-time.Hour)
	st.LastMessage = statusNow.Add(-time.Minute)
	st.LastSync = statusNow
	st.Reconnects, st.EventsReceived, st.EventsFolded, st.Items = 2, 40, 7, 12
	st.LastError = "the connection closed (code 1006)"
	applyRunnerStatus(obj, st, "")

	s := obj.Status
	g.Expect(s.Target).To(Equal("ConfigMap/feed"))
	g.Expect(s.Connection.State).To(Equal(v1alpha1.ConnectionStateConnected))
	g.Expect(s.Connection.Reconnects).To(Equal(int64(2)))
	g.Expect(s.EventsReceived).To(Equal(int64(40)))
	g.Expect(s.EventsFolded).To(Equal(int64(7)))
	g.Expect(s.Items).To(Equal(int64(12)))
	g.Expect(s.LastError).To(Equal("the connection closed (code 1006)"))
	g.Expect(s.Connection.Since).NotTo(BeNil())
	g.Expect(s.Connection.Since.Time).To(Equal(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)))
	g.Expect(s.Connection.LastMessageTime).NotTo(BeNil())
	g.Expect(s.Connection.LastMessageTime.Time).To(Equal(time.Date(2026, 11, 27, 9, 59, 0, 0, time.UTC)))
	g.Expect(s.LastSyncTime).NotTo(BeNil())
	g.Expect(s.LastSyncTime.Time).To(Equal(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)))
}

func TestApplyRunnerStatusLeavesTimesTheRunnerHasNotSeenUnset(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	obj := subscriptionAt(1)
	// A previous runner had seen messages; the one now running has not.
	then := metav1.NewTime(statusNow.Add(-time.Hour).Truncate(time.Second))
	obj.Status.Connection.LastMessageTime, obj.Status.LastSyncTime, obj.Status.Connection.Since = &then, &then, &then
	obj.Status.EventsReceived = 99
	st := healthy(1) // zero times, zero counters
	applyRunnerStatus(obj, st, "")
	g.Expect(obj.Status.Connection.Since).To(BeNil())
	g.Expect(obj.Status.Connection.LastMessageTime).To(BeNil())
	g.Expect(obj.Status.LastSyncTime).To(BeNil())
	g.Expect(obj.Status.EventsReceived).To(BeZero())
}

func TestApplyRunnerStatusTrimsLongMessages(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	obj := subscriptionAt(1)
	st := healthy(1)
	st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonServerUnreachable, strings.Repeat("x", 5000)
	applyRunnerStatus(obj, st, "")
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionReady} {
		msg := condition(g, obj, typ).Message
		g.Expect(msg).To(HaveLen(1024), typ)
		g.Expect(msg).To(HaveSuffix("…"), typ)
	}
}

func TestMarkStalledStopsEveryConditionWithTheReasonAndIsStalled(t *testing.T) {
	t.Parallel()
	cases := []struct{ reason, message string }{
		{v1alpha1.ReasonSecretNotFound, "Secret apps/directus not found"},
		{v1alpha1.ReasonInvalidSpec, "tls.ca holds no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(5)
			obj.Status.ObservedGeneration = 4
			applyRunnerStatus(obj, healthy(4), "") // it was working before
			markStalled(obj, tc.reason, tc.message)

			g.Expect(obj.Status.ObservedGeneration).To(Equal(int64(5)))
			g.Expect(obj.Status.Conditions).To(HaveLen(5))
			for _, c := range obj.Status.Conditions {
				wantStatus := metav1.ConditionFalse
				if c.Type == v1alpha1.ConditionStalled {
					wantStatus = metav1.ConditionTrue
				}
				g.Expect(c.Status).To(Equal(wantStatus), c.Type)
				g.Expect(c.Reason).To(Equal(tc.reason), c.Type)
				g.Expect(c.Message).To(Equal(tc.message), c.Type)
				g.Expect(c.ObservedGeneration).To(Equal(int64(5)), c.Type)
			}
			g.Expect(obj.Status.Connection.State).To(Equal(v1alpha1.ConnectionStateDisconnected))
			g.Expect(obj.Status.LastError).To(Equal(tc.message))
		})
	}
}

func TestMarkSuspendedSetsSinceOnlyOnTheTransition(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	obj := subscriptionAt(3)
	st := healthy(2)
	st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionTrue, v1alpha1.ReasonSynced, "3 items written"
	applyRunnerStatus(obj, st, "")

	first := statusNow
	markSuspended(obj, first)
	g.Expect(obj.Status.ObservedGeneration).To(Equal(int64(3)))
	g.Expect(obj.Status.Connection.State).To(Equal(v1alpha1.ConnectionStateSuspended))
	g.Expect(obj.Status.Connection.Since).NotTo(BeNil())
	g.Expect(obj.Status.Connection.Since.Time.Equal(first)).To(BeTrue())

	markSuspended(obj, first.Add(time.Minute))
	g.Expect(obj.Status.Connection.Since.Time.Equal(first)).To(BeTrue(), "a later reconcile while suspended keeps Since")
}

func TestMarkSuspendedIsReadyAsItsSpecAsksWithTheConnectionClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		before func(obj *v1alpha1.DirectusSubscription)
	}{
		{name: "suspending a working subscription", before: func(obj *v1alpha1.DirectusSubscription) {
			applyRunnerStatus(obj, healthy(2), "")
		}},
		{name: "suspending a stalled subscription", before: func(obj *v1alpha1.DirectusSubscription) {
			markStalled(obj, v1alpha1.ReasonSecretNotFound, "Secret apps/directus not found")
		}},
		{name: "suspending a reconnecting subscription", before: func(obj *v1alpha1.DirectusSubscription) {
			st := healthy(2)
			st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonServerUnreachable, "cannot reach Directus"
			applyRunnerStatus(obj, st, "")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(3)
			tc.before(obj)
			markSuspended(obj, statusNow)

			ready := condition(g, obj, v1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "suspended is as the spec asks: neither failing nor in progress")
			g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonSuspended))
			for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed} {
				c := condition(g, obj, typ)
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse), "%s: the connection is closed", typ)
				g.Expect(c.Reason).To(Equal(v1alpha1.ReasonSuspended), typ)
			}
			for _, c := range []metav1.Condition{ready, condition(g, obj, v1alpha1.ConditionConnected)} {
				g.Expect(c.Message).To(ContainSubstring("spec.suspend is true"), c.Type)
				g.Expect(c.ObservedGeneration).To(Equal(int64(3)), c.Type)
			}
			g.Expect(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReconciling)).To(BeNil())
			g.Expect(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionStalled)).To(BeNil())
			sc := condition(g, obj, v1alpha1.ConditionSynced)
			g.Expect(sc.Status).To(Equal(metav1.ConditionUnknown), "nothing follows Directus while suspended: the target keeps its content, but is not known to be current")
			g.Expect(sc.Reason).To(Equal(v1alpha1.ReasonSuspended))
		})
	}
}

func TestTheKstatusConditionsFollowTheSubscriptionThroughItsLife(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	obj := subscriptionAt(1)
	kstatus := func() (reconciling, stalled string) {
		if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReconciling); c != nil {
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Reconciling is only ever there while True")
			reconciling = c.Reason
		}
		if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionStalled); c != nil {
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Stalled is only ever there while True")
			stalled = c.Reason
		}
		return reconciling, stalled
	}

	markStalled(obj, v1alpha1.ReasonSecretNotFound, "Secret apps/directus not found")
	r, s := kstatus()
	g.Expect([]string{r, s}).To(Equal([]string{"", v1alpha1.ReasonSecretNotFound}), "the Secret is missing")

	st := healthy(1)
	st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateConnecting, v1alpha1.ReasonConnecting, "connecting to Directus"
	st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionUnknown, v1alpha1.ReasonSyncing, "waiting for the first snapshot"
	applyRunnerStatus(obj, st, "")
	r, s = kstatus()
	g.Expect([]string{r, s}).To(Equal([]string{v1alpha1.ReasonConnecting, ""}), "the Secret was created: connecting")

	applyRunnerStatus(obj, healthy(1), "")
	r, s = kstatus()
	g.Expect([]string{r, s}).To(Equal([]string{"", ""}), "Ready")

	st = healthy(1)
	st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, v1alpha1.ReasonAuthFailed, "bad token"
	applyRunnerStatus(obj, st, "")
	r, s = kstatus()
	g.Expect([]string{r, s}).To(Equal([]string{"", v1alpha1.ReasonAuthFailed}), "the token was revoked")

	markSuspended(obj, statusNow)
	r, s = kstatus()
	g.Expect([]string{r, s}).To(Equal([]string{"", ""}), "suspended")
}

func TestTrimMessageCapsAt1024BytesWithAnEllipsis(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		trimmed bool
	}{
		{name: "empty", in: "", trimmed: false},
		{name: "short", in: "connected and authenticated", trimmed: false},
		{name: "exactly the cap", in: strings.Repeat("a", 1024), trimmed: false},
		{name: "one over the cap", in: strings.Repeat("a", 1025), trimmed: true},
		{name: "far over the cap", in: strings.Repeat("a", 40000), trimmed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := trimMessage(tc.in)
			if !tc.trimmed {
				g.Expect(got).To(Equal(tc.in))
				return
			}
			g.Expect(got).To(HaveLen(1024))
			g.Expect(got).To(HaveSuffix("…"))
			g.Expect(got).To(Equal(tc.in[:1024-len("…")] + "…"))
		})
	}
}

func TestRecordingSinceIsTheLastChangeOrWhenThePreviousRunSubscribed(t *testing.T) {
	t.Parallel()
	subscribed := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	changed := subscribed.Add(time.Hour)
	cases := []struct {
		name       string
		subscribed metav1.ConditionStatus
		lastSync   *time.Time
		want       time.Time
	}{
		{name: "never subscribed, nothing recorded: no warning", subscribed: metav1.ConditionFalse},
		{name: "subscribed, no change recorded yet: since it subscribed", subscribed: metav1.ConditionTrue, want: subscribed},
		{name: "a change recorded after it subscribed: since that change", subscribed: metav1.ConditionTrue, lastSync: &changed, want: changed},
		{name: "a change recorded, no longer subscribed: since that change", subscribed: metav1.ConditionFalse, lastSync: &changed, want: changed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := subscriptionAt(1)
			obj.Status.Conditions = []metav1.Condition{{
				Type: v1alpha1.ConditionSubscribed, Status: tc.subscribed, Reason: "Any",
				LastTransitionTime: metav1.NewTime(subscribed),
			}}
			if tc.lastSync != nil {
				obj.Status.LastSyncTime = &metav1.Time{Time: *tc.lastSync}
			}
			g.Expect(recordingSince(obj)).To(BeTemporally("==", tc.want))
		})
	}
}
