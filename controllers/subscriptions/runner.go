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
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
)

// RunnerOptions describe one subscription.
type RunnerOptions struct {
	Collection string
	// Event is "", create, update or delete.
	Event string
	// Query is the user's query object, or nil.
	Query json.RawMessage
	// UID names the subscription on the socket, which it may share with
	// others: it must be unique per connection.
	UID string
	// Hash and Generation are reported back in Status, so the caller can
	// tell which configuration the status is about.
	Hash       string
	Generation int64
	// Notify is called, outside any lock, when the status has something
	// new that a condition shows. Counters wait for Tick, unless the last
	// Notify is older than StatusInterval.
	Notify func()
	// OnReconnect, if set, is called each time the connection under the
	// subscription is re-established.
	OnReconnect func()
	Log         logr.Logger
	// SettleTime bounds how long the status of a new runner that is on its
	// way with nothing wrong may wait for its outcome; see Status.Settling.
	// Defaults to 30s.
	SettleTime time.Duration
	// StatusInterval is the period of Tick. A change of counters or times
	// (a write that changed the item count) is notified at once when the
	// last notification is older than this, and otherwise left to the next
	// Tick, so a busy subscription brings at most one such update per
	// interval. Defaults to 2s.
	StatusInterval time.Duration
}

// Runner runs one subscription on a Connection and hands what arrives to
// its Sink. It runs in one goroutine (Run) and takes the messages the
// realtime subscription queued in batches, so a slow sink never blocks the
// socket and a burst becomes one write.
type Runner struct {
	o    RunnerOptions
	conn *Connection
	sink Sink
	log  logr.Logger

	// wake tells Run that a bad frame arrived or that a verify was asked.
	wake       chan struct{}
	losses     atomic.Uint64
	lossesSeen uint64 // Run's goroutine only
	verifyReq  atomic.Bool
	resyncReq  atomic.Pointer[string]

	mu          sync.Mutex
	generation  int64
	subscribed  bool
	subEpoch    uint64
	subReason   string
	subMessage  string
	lastError   timedText
	received    int64
	lastMessage time.Time
	// notified is the status as of the last Notify, notifiedAt its time.
	notified   Status
	notifiedAt time.Time
	reconnects int64
	// baseReconnects is the connection's count when this runner joined it.
	baseReconnects int64
	started        time.Time
}

// settleTime is the default of RunnerOptions.SettleTime. After an operator
// restart the runners of a thousand subscriptions queue for logins and full
// reads behind each other, which can take tens of seconds: a shorter bound
// would write most statuses twice (an interim one, then the outcome) and
// spend the API budget on steps nobody needs to see. A runner that meets a
// problem stops settling at once, whatever the bound.
const settleTime = 30 * time.Second

// NewRunner returns a runner for o on conn, feeding sink.
func NewRunner(o RunnerOptions, conn *Connection, sink Sink) *Runner {
	if o.Notify == nil {
		o.Notify = func() {}
	}
	if o.SettleTime <= 0 {
		o.SettleTime = settleTime
	}
	if o.StatusInterval <= 0 {
		o.StatusInterval = 2 * time.Second
	}
	return &Runner{
		o: o, conn: conn, sink: sink, log: o.Log, wake: make(chan struct{}, 1), generation: o.Generation, started: time.Now(),
		subReason: v1alpha1.ReasonSubscribing, subMessage: "waiting for the connection",
	}
}

// SetGeneration records that the subscription's spec moved to a new
// generation without a change the runner must act on.
func (r *Runner) SetGeneration(g int64) {
	r.mu.Lock()
	r.generation = g
	r.mu.Unlock()
	r.changed()
}

// Verify asks the sink to compare its target with what it holds and
// correct it, as after someone edited or deleted the target.
func (r *Runner) Verify() {
	r.verifyReq.Store(true)
	r.poke()
}

// Resync asks the sink for a full read on demand; request names it (see
// SinkStatus.Resynced).
func (r *Runner) Resync(request string) {
	r.resyncReq.Store(&request)
	r.poke()
}

func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// connectionChanged implements connWatcher.
func (r *Runner) connectionChanged() {
	n := r.conn.Status().Reconnects
	r.mu.Lock()
	delta := n - r.reconnects
	r.reconnects = n
	r.mu.Unlock()
	for ; delta > 0 && r.o.OnReconnect != nil; delta-- {
		r.o.OnReconnect()
	}
	r.changed()
}

// badFrame implements connWatcher: the frame may have been one of this
// subscription's changes.
func (r *Runner) badFrame(err error) {
	r.mu.Lock()
	r.lastError = timedText{fmt.Sprintf("Directus sent a frame that could not be read (%v); a change may be lost", err), time.Now()}
	r.mu.Unlock()
	r.losses.Add(1)
	r.poke()
}

// Run subscribes and feeds the sink until ctx ends, then unsubscribes.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	r.reconnects = r.conn.Status().Reconnects
	r.baseReconnects = r.reconnects
	r.mu.Unlock()
	r.conn.watch(r)
	defer r.conn.unwatch(r)
	// The end of the settling window is a transition of its own: the
	// status waiting for it is written then.
	settled := time.AfterFunc(time.Until(r.started.Add(r.o.SettleTime)), r.changed)
	defer settled.Stop()
	r.changed()
	plan, ok := r.plan(ctx)
	if !ok {
		return
	}
	// The exit watch first: Directus then registers it before the
	// subscription, so no update between the two goes unseen.
	exits := r.watchExits(ctx, plan)
	if exits != nil {
		defer r.conn.leaveExits(ctx, exits)
	}
	sub, err := r.conn.subscribe(ctx, realtime.SubscribeOptions{
		Collection: r.o.Collection, Event: r.o.Event, Query: plan.query, UID: r.o.UID,
	})
	if err != nil {
		if ctx.Err() == nil {
			r.setSub(false, v1alpha1.ReasonSubscribeFailed, fmt.Sprintf("subscribing failed: %v", err))
		}
		return
	}
	defer unsubscribe(ctx, sub)
	r.sink.start(plan, sinkEnv{
		collection: r.o.Collection, log: r.log, changed: r.changed,
		readAll: func(ctx context.Context, query json.RawMessage, key string) ([]json.RawMessage, error) {
			return r.conn.readAll(ctx, r.o.Collection, query, key)
		},
		losses: r.losses.Load,
	})
	r.feed(ctx, sub, exits)
}

// feed hands the subscription's messages (and the exit watch's) to the
// sink until ctx ends or the subscription does, and the sink's own work
// when no message waits.
func (r *Runner) feed(ctx context.Context, sub *realtime.Subscription, exits *exitFeed) {
	for {
		// Apply everything queued before anything slow (a full read, a
		// write): changes that arrive meanwhile are merged into one write.
		if msgs := sub.Drain(); len(msgs) > 0 {
			for _, m := range msgs {
				r.handle(ctx, m)
			}
			continue
		}
		if exits != nil {
			if msgs := exits.Drain(); len(msgs) > 0 {
				r.handleExits(ctx, msgs)
				continue
			}
		}
		r.checkLosses(ctx)
		if s, ok := r.sink.(idler); ok {
			s.idle(ctx)
		}
		var timer <-chan time.Time
		if s, ok := r.sink.(timed); ok {
			timer = s.timer()
		}
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-sub.Ready():
		case <-exits.Ready():
		case <-timer:
			r.sink.(timed).tick(ctx)
		case <-r.wake:
			r.woken(ctx)
		}
	}
}

// woken passes on what woke the runner: bad frames, a verify or a resync
// request.
func (r *Runner) woken(ctx context.Context) {
	r.checkLosses(ctx)
	if s, ok := r.sink.(verifier); r.verifyReq.Swap(false) && ok {
		s.verify()
	}
	if s, ok := r.sink.(resyncer); ok {
		if req := r.resyncReq.Swap(nil); req != nil {
			s.resync(*req)
		}
	}
}

func unsubscribe(ctx context.Context, sub *realtime.Subscription) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = sub.Unsubscribe(uctx)
}

// watchExits joins the connection's watch of every update of the
// collection (key field only), when the plan needs it: Directus sends
// nothing on the filtered subscription when an item leaves the filter. One
// watch per socket and collection serves every runner that needs it. It
// returns nil when the plan does not need it.
func (r *Runner) watchExits(ctx context.Context, plan queryPlan) *exitFeed {
	if !plan.watchExits {
		return nil
	}
	f, err := r.conn.joinExits(ctx, r.o.Collection, plan.keyField)
	if err != nil {
		r.log.Info("Could not watch items leaving the filter; the periodic resync removes them", "error", err.Error())
		return nil
	}
	return f
}

// handleExits passes the exit watch's updates to the sink. Its own gaps
// and errors mean an exit may have gone unseen: only a full read can tell.
func (r *Runner) handleExits(ctx context.Context, msgs []realtime.Message) {
	for _, m := range msgs {
		switch m.Kind {
		case realtime.KindUpdate:
			if s, ok := r.sink.(exitTracker); ok {
				s.touched(m.Items)
			}
		case realtime.KindGap:
			r.sink.lost(ctx, v1alpha1.ReasonSyncing, "updates that may move items out of the filter were lost")
		case realtime.KindError:
			if m.Err != nil {
				r.log.Info("Directus refused the watch of items leaving the filter", "code", m.Err.Code)
			}
		}
	}
}

// plan waits for the collection's primary key (the connection asks once
// per collection) and shapes the query; it retries while Directus cannot
// be reached.
func (r *Runner) plan(ctx context.Context) (queryPlan, bool) {
	var retry retryBackoff
	for {
		pk, err := r.conn.primaryKey(ctx, r.o.Collection)
		if err == nil {
			var in planInput
			if s, ok := r.sink.(planner); ok {
				in = s.planInput()
			}
			in.event = r.o.Event
			p, err := makePlan(r.o.Query, pk, in)
			if err != nil {
				r.setSub(false, v1alpha1.ReasonInvalidQuery, err.Error())
				return p, false
			}
			return p, true
		}
		if ctx.Err() != nil {
			return queryPlan{}, false
		}
		r.log.V(1).Info("Waiting for Directus to read the collection's primary key", "error", err.Error())
		t := time.NewTimer(retry.next(500 * time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return queryPlan{}, false
		case <-t.C:
		}
	}
}

// checkLosses tells the sink about bad frames seen since the last check.
func (r *Runner) checkLosses(ctx context.Context) {
	if n := r.losses.Load(); n != r.lossesSeen {
		r.lossesSeen = n
		r.sink.lost(ctx, v1alpha1.ReasonBadFrame, "Directus sent a frame that could not be read; a change may be lost")
	}
}

// handle passes one message to the sink and keeps the Subscribed state.
func (r *Runner) handle(ctx context.Context, m realtime.Message) {
	eventsReceived.WithLabelValues(r.o.Collection, string(m.Kind)).Inc()
	r.mu.Lock()
	r.received++
	r.lastMessage = m.Received
	r.mu.Unlock()
	switch m.Kind {
	case realtime.KindInit:
		r.log.Info("Subscribed to collection", "collection", r.o.Collection, "event", r.o.Event, "epoch", m.Epoch)
		r.setSubscribed(m.Epoch)
		r.sink.init(ctx, m)
	case realtime.KindCreate, realtime.KindUpdate, realtime.KindDelete:
		r.setSubscribed(m.Epoch)
		r.sink.change(ctx, m)
	case realtime.KindError:
		if m.Err == nil {
			return
		}
		reason, text := classifySubError(m.Err)
		r.log.Info("Directus refused the subscription", "reason", reason, "code", m.Err.Code)
		r.mu.Lock()
		wasActive := r.subscribed
		r.mu.Unlock()
		r.setSub(false, reason, text)
		if wasActive {
			// Directus sent this instead of a change (e.g. FORBIDDEN while a
			// policy was briefly withdrawn): that change is lost.
			r.sink.lost(ctx, v1alpha1.ReasonSyncing, "a change may have been lost: "+text)
		}
	case realtime.KindGap:
		r.log.Info("Messages may have been lost, resynchronising", "collection", r.o.Collection)
		r.sink.lost(ctx, v1alpha1.ReasonSyncing, "messages may have been lost (the subscription fell behind)")
	}
}
