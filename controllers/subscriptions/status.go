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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// Status is what a runner reports about its subscription. The reconciler
// turns it into conditions; it holds no secrets.
type Status struct {
	// Hash and Generation are those of the Config the runner runs.
	Hash       string
	Generation int64
	Target     string

	ConnState   v1alpha1.ConnectionState
	ConnSince   time.Time
	ConnReason  string
	ConnMessage string
	Reconnects  int64
	LastMessage time.Time

	Subscribed bool
	SubReason  string
	SubMessage string

	Synced      metav1.ConditionStatus
	SyncReason  string
	SyncMessage string
	LastSync    time.Time

	// Settling is true for a runner started moments ago that is still on
	// its way to Ready with nothing wrong so far: a status that already
	// shows this configuration may wait for its outcome instead of showing
	// every step (after an operator restart, a thousand subscriptions would
	// otherwise each be written twice). Its end, by outcome, by a problem or
	// by settleTime, is a transition.
	Settling bool

	EventsReceived int64
	EventsFolded   int64
	Items          int64
	Bytes          int64
	LastError      string
	// Resynced is the last resync request handled (see Runner.Resync).
	Resynced string
}

// transitionKey is the part of Status whose change deserves a reconcile at
// once; the rest (counters, times, messages) waits for the periodic update
// (Runner.Tick).
type transitionKey struct {
	conn                  v1alpha1.ConnectionState
	connReason, subReason string
	subscribed            bool
	synced                metav1.ConditionStatus
	syncReason            string
	lastError             string
	settling              bool
	resynced              string
}

func (s *Status) transition() transitionKey {
	return transitionKey{s.ConnState, s.ConnReason, s.SubReason, s.Subscribed, s.Synced, s.SyncReason, s.LastError, s.Settling, s.Resynced}
}
