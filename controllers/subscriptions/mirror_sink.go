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
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
)

// MirrorOptions configure a MirrorSink.
type MirrorOptions struct {
	// Store receives the mirror.
	Store Store
	// KeyField names items; empty means the collection's primary key.
	KeyField string
	Layout   mirror.Layout
	ListKey  string
	// Template, when set, renders the mirror in place of Layout.
	Template *mirror.Template
	// ResyncInterval is the period of full reads; 0 turns them off.
	ResyncInterval time.Duration
	// MinWriteInterval, when positive, is the least time between two
	// writes; changes arriving meanwhile are merged. 0 writes as soon as
	// the previous write is done.
	MinWriteInterval time.Duration
	// MaxWriteBytesPerSecond bounds the API server's work for this target:
	// a write costs the whole object's size (the API server and etcd store
	// all of it), so a large mirror under a stream of changes is written
	// less often, with the changes merged, while a small one is written at
	// once. 0 means no bound.
	MaxWriteBytesPerSecond int
	// MinRefreshInterval is the least time between two full reads that
	// changes cause (windows, foreign keys, nameless items), so that a busy
	// collection does not turn into polling. Defaults to 1s.
	MinRefreshInterval time.Duration
}

// MirrorSink keeps a live copy of a query's result and writes it into a
// Store. It is exact while Synced is True: it holds a complete full read
// plus every change since, and the Store holds all of it.
type MirrorSink struct {
	o    MirrorOptions
	m    *mirror.Mirror
	plan queryPlan
	env  sinkEnv

	// Runner goroutine only.
	seenInit bool
	// primed: the mirror holds a full read. Writing before would empty a
	// target that consumers rely on.
	primed bool
	// current: a complete read plus every change since.
	current bool
	// pending is the reason of a full read to take when idle.
	pending string
	// readStarted is when the last full read began: messages received
	// before it are already in it, and applying them after it would put
	// back an older state.
	readStarted time.Time
	lastRead    time.Time
	readRetry   retryBackoff
	readAt      time.Time // no full read before
	resyncAt    time.Time
	dirty       bool
	verifyReq   bool
	lastWrite   time.Time
	writeRetry  retryBackoff
	writeAt     time.Time // no write before
	missing     int
	missingWhy  string
	changes     []pendingChange
	alarm       alarm
	budget      *rate.Limiter
	// resyncAsked is the last resync request, resyncRead the one the last
	// full read began after.
	resyncAsked, resyncRead string
	// exits holds the mirrored items updated since the last exit check, by
	// key, with the key's raw JSON value.
	exits map[string]json.RawMessage

	mu sync.Mutex
	st SinkStatus
}

// pendingChange remembers when the change with mirror sequence seq
// arrived, for the event-to-write latency histogram.
type pendingChange struct {
	seq uint64
	at  time.Time
}

// NewMirrorSink returns a sink that mirrors into o.Store.
func NewMirrorSink(o MirrorOptions) *MirrorSink {
	if o.MinRefreshInterval <= 0 {
		o.MinRefreshInterval = time.Second
	}
	var budget *rate.Limiter
	if o.MaxWriteBytesPerSecond > 0 {
		budget = rate.NewLimiter(rate.Limit(o.MaxWriteBytesPerSecond), max(o.MaxWriteBytesPerSecond, mirror.MaxDataSize))
	}
	return &MirrorSink{
		o: o, m: mirror.New(o.Layout, o.ListKey).WithTemplate(o.Template), budget: budget,
		st: SinkStatus{Target: o.Store.Name(), Synced: metav1.ConditionUnknown, Reason: v1alpha1.ReasonSyncing, Message: "waiting for the first full read"},
	}
}

func (s *MirrorSink) planInput() planInput {
	return planInput{keyField: s.o.KeyField, storesItems: true}
}

func (s *MirrorSink) start(plan queryPlan, env sinkEnv) { s.plan, s.env = plan, env }

func (s *MirrorSink) status() SinkStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *MirrorSink) setStatus(fn func(st *SinkStatus)) {
	s.mu.Lock()
	fn(&s.st)
	s.mu.Unlock()
	s.env.changed()
}

func (s *MirrorSink) init(_ context.Context, _ realtime.Message) {
	// Nothing is replayed: changes made while not subscribed are only in
	// a full read. A realtime init cannot stand in for one, even a short
	// one: it is capped at QUERY_LIMIT_DEFAULT items (100 unless the server
	// sets another), empty when an event is set, and Directus 12 reads it
	// before it registers the subscription (websocket/handlers/subscribe.js),
	// so a change committed in between is in neither the init nor an event.
	// The full read starts after the init arrived, when the subscription is
	// registered.
	s.seenInit = true
	s.stale(v1alpha1.ReasonSyncing, "reading the collection after subscribing", "connect", false)
}

func (s *MirrorSink) lost(_ context.Context, reason, why string) {
	s.stale(reason, why+"; reading the collection again", "gap", true)
}

// stale records that the mirror may miss changes until the next full read:
// Synced turns False, and writes until then do not turn it True. Before the
// first read it stays Unknown, unless changes were lost (loss).
func (s *MirrorSink) stale(reason, why, readReason string, loss bool) {
	s.current = false
	if s.pending == "" {
		s.pending = readReason
	}
	s.setStatus(func(st *SinkStatus) {
		if loss || st.Synced != metav1.ConditionUnknown {
			st.Synced, st.Reason, st.Message = metav1.ConditionFalse, reason, why
		}
		if loss {
			st.LastError = timedText{why, time.Now()}
		}
	})
}

func (s *MirrorSink) change(_ context.Context, m realtime.Message) {
	if m.Received.Before(s.readStarted) {
		return // already in the last full read
	}
	changed := false
	switch m.Kind {
	case realtime.KindDelete:
		for _, k := range m.Keys {
			changed = s.m.Delete(k) || changed
		}
	default:
		for _, item := range m.Items {
			key, stored, err := s.itemEntry(item)
			if err != nil {
				s.env.log.Info("Item left out of the mirror", "error", err.Error())
				s.missing++
				s.missingWhy = err.Error()
				continue
			}
			changed = s.m.Upsert(key, stored) || changed
		}
	}
	switch {
	case s.plan.refresh:
		s.requestRead("refresh")
	case s.missing > 0:
		// Only a full read can tell whether a nameless item got a key or
		// went away.
		s.requestRead("missing")
	}
	if changed {
		s.markDirty(m.Received)
	}
}

// requestRead asks for a full read without marking the mirror stale: the
// change itself is applied, the read makes the rest exact.
func (s *MirrorSink) requestRead(reason string) {
	if s.pending == "" {
		s.pending = reason
	}
}

func (s *MirrorSink) markDirty(at time.Time) {
	s.dirty = true
	if len(s.changes) < 100000 {
		s.changes = append(s.changes, pendingChange{seq: s.m.Seq(), at: at})
	}
}

func (s *MirrorSink) verify() { s.verifyReq = true }

func (s *MirrorSink) resync(request string) {
	if request == s.resyncAsked {
		return
	}
	s.resyncAsked = request
	s.requestRead("requested")
}

func (s *MirrorSink) timer() <-chan time.Time {
	var read, write time.Time
	if s.pending != "" {
		read = s.readAt
	}
	if (s.dirty || s.verifyReq) && s.primed {
		write = s.writeAt
	}
	return s.alarm.C(read, write, s.resyncAt)
}

func (s *MirrorSink) tick(_ context.Context) {
	s.alarm.fired()
	if !s.resyncAt.IsZero() && !time.Now().Before(s.resyncAt) {
		s.resyncAt = time.Time{}
		s.requestRead("periodic")
	}
}

// idle takes a pending full read or exit check, then writes what changed.
func (s *MirrorSink) idle(ctx context.Context) {
	now := time.Now()
	if s.pending != "" && !now.Before(s.readAt) {
		s.read(ctx)
	}
	if len(s.exits) > 0 && s.pending == "" {
		s.checkExits(ctx)
	}
	if (s.dirty || s.verifyReq) && s.primed && !time.Now().Before(s.writeAt) {
		s.write(ctx)
	}
}

// read replaces the mirror with a full read.
func (s *MirrorSink) read(ctx context.Context) {
	reason, asked := s.pending, s.resyncAsked
	resyncsTotal.WithLabelValues(reason).Inc()
	start := time.Now()
	losses := s.env.losses()
	var rows []json.RawMessage
	var err error
	if s.plan.limited {
		rows, err = s.env.readAll(ctx, s.plan.snapshotQuery(), "")
	} else {
		// Paging by key: a write during the read cannot shift an item out
		// of the pages, as it could with limit/offset.
		rows, err = s.env.readAll(ctx, s.plan.query, s.plan.keyField)
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r, msg := classifySnapshotError(err)
		s.env.log.Info("Full read failed", "reason", r, "error", err.Error())
		s.current = false
		delay := s.readRetry.next(time.Second)
		if over, after := realtime.Overloaded(err); over {
			delay = max(delay, after)
		}
		s.readAt = time.Now().Add(delay)
		s.setStatus(func(st *SinkStatus) {
			st.Synced, st.Reason, st.Message, st.LastError = metav1.ConditionFalse, r, msg, timedText{msg, time.Now()}
		})
		return
	}
	items := make(map[string]json.RawMessage, len(rows))
	s.missing, s.missingWhy = 0, ""
	for _, row := range rows {
		key, stored, err := s.itemEntry(row)
		if err != nil {
			s.missing++
			s.missingWhy = err.Error()
			continue
		}
		items[key] = stored
	}
	s.m.Replace(items)
	s.env.log.V(1).Info("Full read", "reason", reason, "items", len(items), "duration", time.Since(start).String())
	s.pending, s.resyncRead = "", asked
	s.readRetry.reset()
	s.readStarted, s.lastRead = start, time.Now()
	s.readAt = s.lastRead.Add(s.o.MinRefreshInterval)
	s.primed = true
	// A frame that could not be read during the read may have been a
	// change the read did not see yet.
	s.current = s.seenInit && s.env.losses() == losses
	s.markDirty(start)
	s.verifyReq = true
	if s.o.ResyncInterval > 0 {
		jitter := time.Duration(rand.Float64() * 0.1 * float64(s.o.ResyncInterval))
		s.resyncAt = time.Now().Add(s.o.ResyncInterval + jitter)
	}
}

// itemEntry names an item and shapes what the mirror stores for it.
func (s *MirrorSink) itemEntry(item json.RawMessage) (string, json.RawMessage, error) {
	key, err := mirror.ItemKey(item, s.plan.keyField)
	if err != nil {
		return "", nil, err
	}
	if s.o.Layout != mirror.List && s.o.Template == nil {
		if _, err := mirror.KeyToDataKey(key); err != nil {
			return "", nil, err
		}
	}
	if s.plan.strip {
		if item, err = mirror.WithoutField(item, s.plan.keyField); err != nil {
			return "", nil, err
		}
	}
	return key, item, nil
}
