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
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
)

// Event reasons of the events target.
const (
	ReasonItemCreated   = "ItemCreated"
	ReasonItemUpdated   = "ItemUpdated"
	ReasonItemDeleted   = "ItemDeleted"
	ReasonChangesFolded = "ChangesFolded"
	ReasonChangesLost   = "ChangesLost"
)

// maxEventMessage trims Event messages: the API server accepts 1 KiB-ish
// notes comfortably and kubectl describe stays readable.
const maxEventMessage = 512

// eventsWriter turns changes into Kubernetes Events on the subscription,
// rate-limited so a burst cannot flood the API server. What the limit
// holds back is counted and summarised in one Event.
type eventsWriter struct {
	w       *worker
	limiter *rate.Limiter
	folded  int64 // not yet summarised
}

func newEventsWriter(w *worker) *eventsWriter {
	perMinute := w.cfg.Events.MaxPerMinute
	if perMinute <= 0 {
		perMinute = 60
	}
	burst := max(1, perMinute/6)
	return &eventsWriter{w: w, limiter: rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)}
}

func (ew *eventsWriter) record(ctx context.Context, kind realtime.MessageKind, keys []string, received time.Time) {
	reason, verb := ReasonItemUpdated, "updated"
	switch kind {
	case realtime.KindCreate:
		reason, verb = ReasonItemCreated, "created"
	case realtime.KindDelete:
		reason, verb = ReasonItemDeleted, "deleted"
	}
	if !ew.limiter.Allow() {
		ew.folded++
		ew.w.update(func(st *Status) { st.EventsFolded++ })
		return
	}
	ew.emit(ctx, corev1.EventTypeNormal, reason, describeChange(ew.w.cfg.Collection, verb, keys))
	eventToWrite.WithLabelValues(targetEvents).Observe(time.Since(received).Seconds())
}

// lost records that changes were lost (a queue overflow or an expired
// token): an events target cannot replay them.
func (ew *eventsWriter) lost(ctx context.Context) {
	ew.emit(ctx, corev1.EventTypeWarning, ReasonChangesLost,
		fmt.Sprintf("%s: some changes may not have been recorded (the connection was lost, the subscription fell behind, or its token expired)", ew.w.cfg.Collection))
}

// flushFolded summarises folded changes once the limit allows one Event.
func (ew *eventsWriter) flushFolded(ctx context.Context) {
	if ew.folded == 0 || !ew.limiter.Allow() {
		return
	}
	n := ew.folded
	ew.folded = 0
	ew.emit(ctx, corev1.EventTypeNormal, ReasonChangesFolded,
		fmt.Sprintf("%s: %d more change(s) were not recorded one by one (target.events.maxPerMinute is %d)", ew.w.cfg.Collection, n, ew.w.cfg.Events.MaxPerMinute))
}

func describeChange(collection, verb string, keys []string) string {
	var msg string
	switch len(keys) {
	case 0:
		msg = fmt.Sprintf("%s: item %s", collection, verb)
	case 1:
		msg = fmt.Sprintf("%s: item %s %s", collection, keys[0], verb)
	default:
		msg = fmt.Sprintf("%s: %d items %s: %s", collection, len(keys), verb, strings.Join(keys, ", "))
	}
	return Truncate(msg, maxEventMessage)
}

// Truncate cuts s to at most n bytes, ending in "…" when it was cut, and
// never inside a UTF-8 character.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (ew *eventsWriter) emit(ctx context.Context, typ, reason, message string) {
	w := ew.w
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%s", w.cfg.Name.Name, utilrand.String(10)),
			Namespace: w.cfg.Name.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription",
			Namespace: w.cfg.Name.Namespace, Name: w.cfg.Name.Name, UID: w.cfg.UID,
		},
		Type: typ, Reason: reason, Message: message,
		Source:         corev1.EventSource{Component: v1alpha1.ManagedByValue},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "realtime.directus-operator.io/directus-operator",
		ReportingInstance:   v1alpha1.ManagedByValue,
	}
	if err := w.owner.client.Create(ctx, ev); err != nil {
		targetWrites.WithLabelValues(targetEvents, "error").Inc()
		writeErrors.WithLabelValues(targetEvents, "CreateFailed").Inc()
		msg := fmt.Sprintf("recording an Event failed: %v", err)
		w.update(func(st *Status) {
			st.Synced, st.SyncReason, st.SyncMessage, st.LastError = metav1.ConditionFalse, v1alpha1.ReasonWriteFailed, msg, msg
		})
		return
	}
	targetWrites.WithLabelValues(targetEvents, "success").Inc()
	w.update(func(st *Status) {
		st.Synced, st.SyncReason = metav1.ConditionTrue, v1alpha1.ReasonEventsRecorded
		st.SyncMessage = "each change becomes a Kubernetes Event on this object"
		st.LastSync = now.Time
	})
}
