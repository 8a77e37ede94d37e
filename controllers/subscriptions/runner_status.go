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

// What a Runner reports: its subscription's own state, the Status where the
// connection's, the subscription's and the sink's meet, and when a change of
// it is worth a reconcile (changed, Tick).

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// timedText is a message and when it was set, so that the newest of
// several can be shown.
type timedText struct {
	text string
	at   time.Time
}

func newer(a, b timedText) timedText {
	if b.at.After(a.at) {
		return b
	}
	return a
}

func (r *Runner) setSubscribed(epoch uint64) {
	r.mu.Lock()
	changed := !r.subscribed || r.subEpoch != epoch
	r.subscribed, r.subEpoch = true, epoch
	r.subReason, r.subMessage = v1alpha1.ReasonSubscribed, "subscribed to "+r.o.Collection
	r.mu.Unlock()
	if changed {
		r.changed()
	}
}

func (r *Runner) setSub(ok bool, reason, msg string) {
	r.mu.Lock()
	r.subscribed, r.subReason, r.subMessage = ok, reason, msg
	if !ok {
		r.lastError = timedText{msg, time.Now()}
	}
	r.mu.Unlock()
	r.changed()
}

// Status assembles what the subscription shows: the connection's state,
// the subscription's own, and the sink's Synced. It is the one place
// where the three meet.
func (r *Runner) Status() Status {
	cs := r.conn.Status()
	ss := r.sink.status()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{
		Hash: r.o.Hash, Generation: r.generation, Target: ss.Target,
		ConnState: cs.State, ConnSince: cs.Since, ConnReason: cs.Reason, ConnMessage: cs.Message,
		Reconnects: max(cs.Reconnects-r.baseReconnects, 0), LastMessage: r.lastMessage,
		Synced: ss.Synced, SyncReason: ss.Reason, SyncMessage: ss.Message, LastSync: ss.LastSync,
		EventsReceived: r.received, EventsFolded: ss.Folded, Items: ss.Items, Bytes: ss.Bytes,
		LastError: newer(newer(cs.lastError(), r.lastError), ss.LastError).text, Resynced: ss.Resynced,
	}
	switch {
	case cs.State != v1alpha1.ConnectionStateConnected:
		st.SubReason, st.SubMessage = v1alpha1.ReasonReconnecting, "waiting for the connection"
		if r.subReason != v1alpha1.ReasonSubscribed && r.subReason != v1alpha1.ReasonSubscribing {
			// Keep a refusal visible while reconnecting.
			st.SubReason, st.SubMessage = r.subReason, r.subMessage
		}
	case !r.subscribed:
		st.SubReason, st.SubMessage = r.subReason, r.subMessage
		if st.SubReason == v1alpha1.ReasonSubscribing {
			st.SubMessage = "waiting for Directus to confirm the subscription"
		}
	case r.subEpoch != cs.Epoch:
		st.SubReason, st.SubMessage = v1alpha1.ReasonSubscribing, "waiting for Directus to confirm the subscription on the new connection"
	default:
		st.Subscribed, st.SubReason, st.SubMessage = true, r.subReason, r.subMessage
	}
	st.Settling = time.Since(r.started) < r.o.SettleTime && st.Synced != metav1.ConditionTrue &&
		(st.ConnReason == v1alpha1.ReasonConnecting || st.ConnReason == v1alpha1.ReasonConnected) &&
		(st.SubReason == v1alpha1.ReasonSubscribing || st.SubReason == v1alpha1.ReasonSubscribed || st.SubReason == v1alpha1.ReasonReconnecting) &&
		st.SyncReason == v1alpha1.ReasonSyncing
	return st
}

// changed asks for a status update when something a condition shows has
// changed since the last one, and for any other change (the item count
// after a write) when the last update is older than StatusInterval: a
// status that lags the target it describes until the next Tick shows
// ITEMS one behind the ConfigMap beside it.
func (r *Runner) changed() {
	st := r.Status()
	now := time.Now()
	r.mu.Lock()
	notify := st.transition() != r.notified.transition() ||
		(st != r.notified && now.Sub(r.notifiedAt) >= r.o.StatusInterval)
	if notify {
		r.notified, r.notifiedAt = st, now
	}
	r.mu.Unlock()
	if notify {
		r.o.Notify()
	}
}

// Tick asks for a status update when anything moved since the last one:
// counters, times, messages. It compares the whole Status rather than a
// list of the fields the status shows, so that no field can be left out of
// the periodic update (lastSyncTime was, once: a write lands a round trip
// after the change it carries was counted). A field the status does not
// show costs at most a reconcile that finds nothing to write.
func (r *Runner) Tick() {
	st := r.Status()
	now := time.Now()
	r.mu.Lock()
	notify := st != r.notified
	r.notified = st
	if notify {
		r.notifiedAt = now
	}
	r.mu.Unlock()
	if notify {
		r.o.Notify()
	}
}

func (cs ConnStatus) lastError() timedText {
	if cs.LastError == "" {
		return timedText{}
	}
	return timedText{cs.LastError, cs.Since}
}
