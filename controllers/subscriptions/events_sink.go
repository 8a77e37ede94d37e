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
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
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

// maxEventRetries bounds the Events kept for a retry after a failed write.
const maxEventRetries = 100

// EventsOptions configure an EventsSink.
type EventsOptions struct {
	// Client creates the Events.
	Client client.Client
	// Object is what the Events are about: the DirectusSubscription.
	Object corev1.ObjectReference
	// MaxPerMinute bounds the Events per minute; what the limit holds back
	// is counted and summarised. Defaults to 60.
	MaxPerMinute int
	// Since is when an earlier run last recorded a change, or zero: the
	// first subscription then warns that changes made since may be missing.
	Since time.Time
}

// EventsSink turns changes into Kubernetes Events on the subscription,
// rate-limited so a burst cannot flood the API server.
type EventsSink struct {
	o       EventsOptions
	env     sinkEnv
	keyName string
	limiter *rate.Limiter

	// Runner goroutine only.
	seenInit bool
	folded   int64 // not yet summarised
	flushAt  time.Time
	retries  []*corev1.Event
	retryAt  time.Time
	retryGap retryBackoff
	dropped  int
	lastErr  string
	alarm    alarm

	mu sync.Mutex
	st SinkStatus
}

// NewEventsSink returns a sink that records each change as an Event.
func NewEventsSink(o EventsOptions) *EventsSink {
	if o.MaxPerMinute <= 0 {
		o.MaxPerMinute = 60
	}
	burst := max(1, o.MaxPerMinute/6)
	return &EventsSink{
		o: o, limiter: rate.NewLimiter(rate.Limit(float64(o.MaxPerMinute)/60), burst),
		st: SinkStatus{Target: "Events", Synced: metav1.ConditionTrue, Reason: v1alpha1.ReasonEventsRecorded, Message: eventsRecordedMessage},
	}
}

const eventsRecordedMessage = "each change becomes a Kubernetes Event on this object"

func (s *EventsSink) start(plan queryPlan, env sinkEnv) { s.keyName, s.env = plan.keyField, env }

func (s *EventsSink) status() SinkStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *EventsSink) init(ctx context.Context, _ realtime.Message) {
	switch {
	case s.seenInit:
		// Nothing is replayed: what changed while reconnecting is gone.
		s.lost(ctx, "", "")
	case !s.o.Since.IsZero():
		// A new run (an operator restart, a leader change, a new spec or
		// Secret): what changed since the last recorded change is gone.
		s.emit(ctx, corev1.EventTypeWarning, ReasonChangesLost, fmt.Sprintf(
			"%s: changes made since %s may not have been recorded: the subscription restarted "+
				"(operator restart, leader change, new spec or Secret) and Directus replays nothing",
			s.env.collection, s.o.Since.UTC().Format(time.RFC3339)))
	}
	s.seenInit = true
}

// lost records that changes were lost (a reconnect, a queue overflow, an
// expired token): an events target cannot replay them.
func (s *EventsSink) lost(ctx context.Context, _, _ string) {
	s.emit(ctx, corev1.EventTypeWarning, ReasonChangesLost,
		fmt.Sprintf("%s: some changes may not have been recorded (the connection was lost, the subscription fell behind, or its token expired)", s.env.collection))
}

func (s *EventsSink) change(ctx context.Context, m realtime.Message) {
	reason, verb, keys := ReasonItemUpdated, "updated", m.Keys
	switch m.Kind {
	case realtime.KindCreate:
		reason, verb = ReasonItemCreated, "created"
	case realtime.KindDelete:
		reason, verb = ReasonItemDeleted, "deleted"
	}
	if m.Kind != realtime.KindDelete {
		keys = keysOf(m.Items, s.keyName)
	}
	if !s.limiter.Allow() {
		s.folded++
		if s.flushAt.IsZero() {
			s.flushAt = time.Now().Add(10 * time.Second)
		}
		s.mu.Lock()
		s.st.Folded++
		s.mu.Unlock()
		return
	}
	if s.emit(ctx, corev1.EventTypeNormal, reason, describeChange(s.env.collection, verb, keys)) {
		eventToWrite.WithLabelValues(targetEvents).Observe(time.Since(m.Received).Seconds())
	}
}

// resync has nothing to read: an events target holds no copy. It is
// handled at once.
func (s *EventsSink) resync(request string) {
	s.mu.Lock()
	s.st.Resynced = request
	s.mu.Unlock()
	s.env.changed()
}

func (s *EventsSink) timer() <-chan time.Time { return s.alarm.C(s.flushAt, s.retryAt) }

func (s *EventsSink) tick(ctx context.Context) {
	s.alarm.fired()
	now := time.Now()
	if !s.retryAt.IsZero() && !now.Before(s.retryAt) {
		s.retry(ctx)
	}
	if !s.flushAt.IsZero() && !now.Before(s.flushAt) {
		s.flushFolded(ctx)
	}
}

// flushFolded summarises folded changes once the limit allows one Event.
func (s *EventsSink) flushFolded(ctx context.Context) {
	if s.folded == 0 {
		s.flushAt = time.Time{}
		return
	}
	if !s.limiter.Allow() {
		s.flushAt = time.Now().Add(10 * time.Second)
		return
	}
	n := s.folded
	s.folded, s.flushAt = 0, time.Time{}
	s.emit(ctx, corev1.EventTypeNormal, ReasonChangesFolded,
		fmt.Sprintf("%s: %d more change(s) were not recorded one by one (target.events.maxPerMinute is %d)", s.env.collection, n, s.o.MaxPerMinute))
}

// emit creates one Event. A failed write is kept for a bounded retry, and
// Synced stays False until every kept Event is written.
func (s *EventsSink) emit(ctx context.Context, typ, reason, message string) bool {
	now := metav1.NewTime(time.Now())
	ref := s.o.Object
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%s", ref.Name, utilrand.String(10)), Namespace: ref.Namespace},
		InvolvedObject: ref,
		Type:           typ, Reason: reason, Message: message,
		Source:         corev1.EventSource{Component: v1alpha1.ManagedByValue},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "realtime.directus-operator.io/directus-operator",
		ReportingInstance:   v1alpha1.ManagedByValue,
	}
	if len(s.retries) > 0 {
		s.keep(ev, nil)
		return false
	}
	return s.create(ctx, ev)
}

func (s *EventsSink) create(ctx context.Context, ev *corev1.Event) bool {
	if err := s.o.Client.Create(ctx, ev); err != nil {
		if ctx.Err() != nil {
			return false
		}
		s.keep(ev, err)
		return false
	}
	targetWrites.WithLabelValues(targetEvents, resultSuccess).Inc()
	s.mu.Lock()
	s.st.LastSync = time.Now()
	s.mu.Unlock()
	return true
}

// keep queues ev for a retry; beyond maxEventRetries the oldest is dropped
// and counted.
func (s *EventsSink) keep(ev *corev1.Event, err error) {
	if err != nil {
		targetWrites.WithLabelValues(targetEvents, "error").Inc()
		writeErrors.WithLabelValues(targetEvents, "CreateFailed").Inc()
	}
	if len(s.retries) >= maxEventRetries {
		s.retries = s.retries[1:]
		s.dropped++
	}
	s.retries = append(s.retries, ev)
	if s.retryAt.IsZero() {
		s.retryAt = time.Now().Add(s.retryGap.next(time.Second))
	}
	if err != nil {
		s.lastErr = err.Error()
	}
	msg := fmt.Sprintf("recording an Event failed: %s; %d Event(s) wait for a retry", s.lastErr, len(s.retries))
	s.setSynced(metav1.ConditionFalse, v1alpha1.ReasonWriteFailed, msg, err != nil)
}

// retry writes the kept Events in order, stopping at the first failure.
func (s *EventsSink) retry(ctx context.Context) {
	s.retryAt = time.Time{}
	for len(s.retries) > 0 {
		ev := s.retries[0]
		ev.ResourceVersion = ""
		if err := s.o.Client.Create(ctx, ev); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.retryAt = time.Now().Add(s.retryGap.next(time.Second))
			s.lastErr = err.Error()
			msg := fmt.Sprintf("recording an Event failed: %s; %d Event(s) wait for a retry", s.lastErr, len(s.retries))
			s.setSynced(metav1.ConditionFalse, v1alpha1.ReasonWriteFailed, msg, true)
			return
		}
		targetWrites.WithLabelValues(targetEvents, resultSuccess).Inc()
		s.retries = s.retries[1:]
	}
	s.retryGap.reset()
	if s.dropped > 0 {
		msg := fmt.Sprintf("%d Event(s) could not be written and were dropped while the API server refused them", s.dropped)
		s.dropped = 0
		s.setSynced(metav1.ConditionFalse, v1alpha1.ReasonWriteFailed, msg, true)
		return
	}
	s.setSynced(metav1.ConditionTrue, v1alpha1.ReasonEventsRecorded, eventsRecordedMessage, false)
}

func (s *EventsSink) setSynced(status metav1.ConditionStatus, reason, msg string, isErr bool) {
	s.mu.Lock()
	s.st.Synced, s.st.Reason, s.st.Message = status, reason, msg
	if isErr {
		s.st.LastError = timedText{msg, time.Now()}
	}
	s.mu.Unlock()
	s.env.changed()
}

// keysOf names the items of an event; items whose key field was not
// requested are left unnamed.
func keysOf(items []json.RawMessage, field string) []string {
	keys := make([]string, 0, len(items))
	for _, it := range items {
		if k, err := mirror.ItemKey(it, field); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
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
