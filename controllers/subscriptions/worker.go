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
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
)

// subscriptionUID is the uid the operator gives its subscription on each
// connection (one subscription per connection).
const subscriptionUID = "directus-operator"

// worker runs one DirectusSubscription: a connection loop, a consumer that
// applies messages to the mirror or the event sink, and a writer.
type worker struct {
	cfg   Config
	owner *Owner
	log   logr.Logger

	cancel context.CancelFunc
	done   chan struct{}
	// stopping is set once the worker was told to stop: it must not be
	// kept by Ensure, even for the same config.
	stopping atomic.Bool
	// current is true while the mirror holds a complete read plus every
	// change since; Synced turns True only then.
	current atomic.Bool
	verifyC chan struct{}
	// badFrameC asks the consumer to resynchronise: Directus sent a frame
	// that could not be read, and it may have carried a change.
	badFrameC chan struct{}

	mirror *mirror.Mirror
	cm     *mirrorWriter
	ev     *eventsWriter

	mu          sync.Mutex
	st          Status
	missing     int
	missingWhy  string
	notifiedKey transitionKey
	notifiedCnt counters
	// everConnected survives sessions, so every connection after the
	// first counts as a reconnect.
	everConnected bool
}

func newWorker(o *Owner, cfg Config) *worker {
	w := &worker{
		cfg:     cfg,
		owner:   o,
		log:     o.log.WithValues("DirectusSubscription", cfg.Name.String()),
		done:    make(chan struct{}),
		verifyC: make(chan struct{}, 1),

		badFrameC: make(chan struct{}, 1),
	}
	w.st = Status{
		Hash: cfg.Hash, Generation: cfg.Generation, Target: cfg.TargetName(),
		ConnState: v1alpha1.ConnectionStateConnecting, ConnSince: time.Now(), ConnReason: v1alpha1.ReasonConnecting,
		ConnMessage: "connecting to Directus", SubReason: v1alpha1.ReasonSubscribing, SubMessage: "waiting for the connection",
		Synced: metav1.ConditionUnknown, SyncReason: v1alpha1.ReasonSyncing, SyncMessage: "waiting for the first snapshot",
	}
	if cfg.ConfigMap != nil {
		w.mirror = mirror.New(cfg.ConfigMap.Layout, cfg.ConfigMap.ListKey)
		w.cm = newMirrorWriter(w, o.store(cfg))
	} else {
		w.ev = newEventsWriter(w)
		w.st.Synced, w.st.SyncReason, w.st.SyncMessage = metav1.ConditionTrue, v1alpha1.ReasonEventsRecorded, "each change becomes a Kubernetes Event on this object"
	}
	return w
}

// start runs the worker once prev (a worker it replaces, or nil) has fully
// stopped, so two workers never write the same target at once.
func (w *worker) start(ctx context.Context, prev *worker) {
	ctx, w.cancel = context.WithCancel(ctx)
	go func() {
		defer close(w.done)
		if prev != nil {
			// Even when this worker is cancelled first, it is done only
			// once its predecessor is: whoever waits for it (deleting the
			// ConfigMap, a new leader) must not race a writer still alive.
			select {
			case <-prev.done:
			case <-ctx.Done():
				<-prev.done
				return
			}
		}
		w.run(ctx)
	}()
}

func (w *worker) stop() {
	w.stopping.Store(true)
	w.cancel()
}

func (w *worker) stopped() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *worker) status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.st
	if w.missing > 0 && st.Synced == metav1.ConditionTrue {
		st.Synced, st.SyncReason = metav1.ConditionFalse, v1alpha1.ReasonMissingKey
		st.SyncMessage = fmt.Sprintf("%d item(s) could not be named and are not in the ConfigMap: %s", w.missing, w.missingWhy)
	}
	return st
}

// update changes the status and asks for a reconcile when a condition may
// have changed; counters alone wait for the periodic status tick.
func (w *worker) update(fn func(st *Status)) {
	w.mu.Lock()
	prevState := w.st.ConnState
	fn(&w.st)
	if w.st.ConnState != prevState {
		w.st.ConnSince = time.Now()
		connectionsGauge.WithLabelValues(string(prevState)).Dec()
		connectionsGauge.WithLabelValues(string(w.st.ConnState)).Inc()
	}
	key := w.st.transition()
	changed := key != w.notifiedKey
	if changed {
		w.notifiedKey, w.notifiedCnt = key, w.st.counters()
	}
	w.mu.Unlock()
	if changed {
		w.owner.notify(w.cfg.Name)
	}
}

// tick asks for a reconcile when counters moved since the last one.
func (w *worker) tick() {
	w.mu.Lock()
	cnt := w.st.counters()
	changed := cnt != w.notifiedCnt
	w.notifiedCnt = cnt
	w.mu.Unlock()
	if changed {
		w.owner.notify(w.cfg.Name)
	}
}

func (w *worker) run(ctx context.Context) {
	connectionsGauge.WithLabelValues(string(v1alpha1.ConnectionStateConnecting)).Inc()
	defer func() {
		w.mu.Lock()
		connectionsGauge.WithLabelValues(string(w.st.ConnState)).Dec()
		w.mu.Unlock()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	if w.cm != nil {
		wg.Go(func() { w.cm.run(ctx) })
	}
	wg.Go(func() {
		t := time.NewTicker(w.owner.opts.StatusInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.tick()
			}
		}
	})

	reconnect := w.cfg.Realtime.Reconnect
	for attempt := 0; ctx.Err() == nil; {
		connected, err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			attempt = 0
		}
		attempt++
		reason, msg := classifyConnError(err)
		delay := realtime.Backoff(reconnect, attempt, rand.Float64)
		w.log.Info("Directus connection failed, retrying", "reason", reason, "attempt", attempt, "delay", delay.Round(time.Millisecond).String(), "error", errString(err))
		w.update(func(st *Status) {
			st.ConnState, st.ConnReason = v1alpha1.ConnectionStateReconnecting, reason
			st.ConnMessage = fmt.Sprintf("%s (attempt %d, next in %s)", msg, attempt, delay.Round(time.Millisecond))
			st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonReconnecting, "waiting for the connection"
			st.LastError = msg
		})
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// queryPlan is the query sent to Directus and what the mirror does with it.
type queryPlan struct {
	query    json.RawMessage
	keyField string
	// strip removes keyField from stored items: the operator added it to a
	// fields list that did not ask for it.
	strip bool
	// refresh keeps the mirror exact by snapshots (coalesced) after
	// changes instead of patching it event by event: for a query with a
	// limit, since Directus truncates events to the limit and says nothing
	// about rows pushed out of the window; and for a key field other than
	// the primary key, since delete events carry primary keys only.
	refresh bool
	// limited is a query with a limit: its full read must honour the sort
	// and the limit that define the window.
	limited bool
}

// session runs one realtime client from dial to its end. It reports whether
// the client got connected at least once.
func (w *worker) session(ctx context.Context) (bool, error) {
	opts := w.cfg.Realtime
	opts.Logger = w.log.WithName("realtime")
	opts.OnEvent = w.onClientEvent
	client, err := realtime.New(opts)
	if err != nil {
		return false, err
	}
	defer func() { _ = client.Close() }()

	rest, err := realtime.NewREST(realtime.RESTOptions{
		URL: opts.URL, Auth: opts.Auth, TLSConfig: opts.TLSConfig, HTTPClient: opts.HTTPClient,
		Logger: w.log.WithName("rest"),
	})
	if err != nil {
		return false, err
	}
	plan, err := w.plan(ctx, rest)
	if err != nil {
		return false, err
	}

	w.update(func(st *Status) {
		if st.ConnState != v1alpha1.ConnectionStateReconnecting {
			st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateConnecting, v1alpha1.ReasonConnecting, "connecting to Directus"
		}
	})
	sub, err := client.Subscribe(ctx, realtime.SubscribeOptions{
		Collection: w.cfg.Collection, Event: w.cfg.Event, Query: plan.query, UID: subscriptionUID,
	})
	if err != nil {
		return false, err
	}
	if err := client.Connect(ctx); err != nil {
		return false, err
	}
	w.consume(ctx, sub, rest, plan)
	if ctx.Err() != nil {
		return true, ctx.Err()
	}
	return true, client.Err()
}

// plan decides the key field and the query the mirror subscribes with.
func (w *worker) plan(ctx context.Context, rest *realtime.REST) (queryPlan, error) {
	p := queryPlan{query: w.cfg.Query}
	explicit := ""
	if w.cfg.ConfigMap != nil {
		explicit = w.cfg.ConfigMap.KeyField
	}
	pk, err := rest.PrimaryKey(ctx, w.cfg.Collection)
	switch {
	case err == nil:
	case isNetworkError(err):
		return p, err
	default:
		// The user may not read the collection's fields (most API users
		// may not); Directus's default primary key is the best guess, and
		// an item without it is reported, not dropped silently.
		w.log.V(1).Info("Primary key lookup failed, assuming id", "error", err.Error())
		pk = "id"
	}
	p.keyField = pk
	if explicit != "" && explicit != pk {
		// Delete events name primary keys, and an update can change the
		// key field: a mirror keyed by another field follows snapshots.
		p.keyField, p.refresh = explicit, true
	}
	var q map[string]json.RawMessage
	if len(w.cfg.Query) > 0 {
		if err := json.Unmarshal(w.cfg.Query, &q); err != nil {
			return p, fmt.Errorf("query is not a JSON object: %w", err)
		}
	}
	if raw, ok := q["limit"]; ok && string(raw) != "-1" {
		p.refresh, p.limited = true, true
	}
	if w.cfg.ConfigMap == nil {
		return p, nil
	}
	if raw, ok := q["fields"]; ok {
		var fields []string
		if err := json.Unmarshal(raw, &fields); err == nil && !slices.Contains(fields, p.keyField) && !slices.ContainsFunc(fields, allTopLevel) {
			q["fields"], _ = json.Marshal(append(fields, p.keyField))
			p.strip = true
			p.query, _ = json.Marshal(q)
		}
	}
	return p, nil
}

// allTopLevel tells whether a fields entry already returns every top-level
// field: "*", "*.*", "*.author"...
func allTopLevel(field string) bool { return field == "*" || strings.HasPrefix(field, "*.") }

// snapshotQuery is the query of full reads: the subscription's, sorted by
// the key field when it names no order, so that paging is stable.
func (p queryPlan) snapshotQuery() json.RawMessage {
	if p.keyField == "" {
		return p.query
	}
	q := map[string]json.RawMessage{}
	if len(p.query) > 0 {
		if err := json.Unmarshal(p.query, &q); err != nil {
			return p.query
		}
	}
	if _, ok := q["sort"]; ok {
		return p.query
	}
	q["sort"], _ = json.Marshal([]string{p.keyField})
	out, _ := json.Marshal(q)
	return out
}

func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

func (w *worker) onClientEvent(ev realtime.Event) {
	switch ev.Kind {
	case realtime.EventAuthenticated:
		w.mu.Lock()
		again := w.everConnected
		w.everConnected = true
		w.mu.Unlock()
		if again {
			reconnectsTotal.WithLabelValues(w.cfg.Name.Namespace, w.cfg.Name.Name).Inc()
		}
		w.log.Info("Connected to Directus", "url", w.cfg.Realtime.URL, "reconnect", again)
		w.update(func(st *Status) {
			if again {
				st.Reconnects++
			}
			if st.ConnState != v1alpha1.ConnectionStateConnected {
				st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateConnected, v1alpha1.ReasonConnected, "connected and authenticated"
			}
		})
	case realtime.EventClose:
		reason, msg := v1alpha1.ReasonReconnecting, fmt.Sprintf("the connection closed (code %d)", ev.CloseCode)
		if ev.Err != nil {
			reason, msg = classifyConnError(ev.Err)
		}
		w.log.Info("Directus connection closed", "code", int(ev.CloseCode), "reason", reason)
		w.update(func(st *Status) {
			st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateReconnecting, reason, msg
			st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonReconnecting, "waiting for the connection"
			if ev.Err != nil {
				st.LastError = msg
			}
		})
	case realtime.EventReconnecting:
		w.update(func(st *Status) {
			st.ConnState = v1alpha1.ConnectionStateReconnecting
			if st.ConnReason == v1alpha1.ReasonConnected {
				st.ConnReason = v1alpha1.ReasonReconnecting
			}
		})
	case realtime.EventError:
		if ev.Err == nil {
			return
		}
		if errors.Is(ev.Err, realtime.ErrBadFrame) {
			w.badFrame(ev.Err)
			return
		}
		reason, msg := classifyConnError(ev.Err)
		w.log.V(1).Info("Directus connection error", "reason", reason, "error", ev.Err.Error())
		w.update(func(st *Status) {
			st.LastError = msg
			if st.ConnState != v1alpha1.ConnectionStateConnected {
				st.ConnReason, st.ConnMessage = reason, msg
			}
		})
	case realtime.EventGaveUp:
		reason, msg := classifyConnError(ev.Err)
		w.update(func(st *Status) {
			st.ConnState, st.ConnReason, st.ConnMessage = v1alpha1.ConnectionStateDisconnected, reason, msg
		})
	}
}

// badFrame reports a frame that could not be read and, for a mirror, has it
// rebuilt from a full read: the frame may have been one of its changes.
func (w *worker) badFrame(err error) {
	w.log.Info("Directus sent a frame that could not be read", "error", err.Error())
	if w.mirror != nil {
		w.current.Store(false)
	}
	msg := fmt.Sprintf("Directus sent a frame that could not be read (%v); a change may be lost", err)
	w.update(func(st *Status) {
		st.LastError = msg
		if w.mirror != nil {
			st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonBadFrame, msg+", so the mirror is rebuilt from a full read"
		}
	})
	select {
	case w.badFrameC <- struct{}{}:
	default:
	}
}

// consume applies subscription messages in order. It never runs in the
// socket's read loop: the realtime client queues messages per
// subscription, so a slow Kubernetes write cannot delay a heartbeat.
func (w *worker) consume(ctx context.Context, sub *realtime.Subscription, rest *realtime.REST, plan queryPlan) {
	var resync <-chan time.Time
	var resyncTimer *time.Timer
	armResync := func() {
		if resyncTimer != nil {
			resyncTimer.Stop()
		}
		if w.cfg.ResyncInterval <= 0 || w.mirror == nil {
			return
		}
		d := w.cfg.ResyncInterval + time.Duration(rand.Float64()*0.1*float64(w.cfg.ResyncInterval))
		resyncTimer = time.NewTimer(d)
		resync = resyncTimer.C
	}
	defer func() {
		if resyncTimer != nil {
			resyncTimer.Stop()
		}
	}()
	var retry <-chan time.Time
	retryDelay := time.Second
	var flush <-chan time.Time
	if w.ev != nil {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		flush = t.C
	}

	pending := "" // reason for a snapshot to take once the queue is drained
	for {
		if pending != "" && retry == nil {
			select {
			case msg, ok := <-sub.C():
				if !ok {
					return
				}
				pending = w.handle(ctx, msg, plan, pending)
				continue
			default:
			}
			if err := w.snapshot(ctx, rest, plan, pending); err != nil {
				if ctx.Err() != nil {
					return
				}
				retry = time.After(retryDelay)
				retryDelay = min(retryDelay*2, 30*time.Second)
			} else {
				pending, retryDelay = "", time.Second
				armResync()
			}
		}
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-sub.C():
			if !ok {
				return
			}
			pending = w.handle(ctx, msg, plan, pending)
		case <-resync:
			resync = nil
			if pending == "" {
				pending = "periodic"
			}
		case <-retry:
			retry = nil
			if pending == "" {
				pending = "retry"
			}
		case <-w.verifyC:
			if w.cm != nil {
				w.cm.kick()
			}
		case <-w.badFrameC:
			if w.mirror != nil && pending == "" {
				pending = "gap"
			}
		case <-flush:
			w.ev.flushFolded(ctx)
		}
	}
}

// handle applies one message and returns the pending snapshot reason.
func (w *worker) handle(ctx context.Context, msg realtime.Message, plan queryPlan, pending string) string {
	eventsReceived.WithLabelValues(w.cfg.Collection, string(msg.Kind)).Inc()
	w.update(func(st *Status) {
		st.EventsReceived++
		st.LastMessage = msg.Received
	})
	switch msg.Kind {
	case realtime.KindInit:
		w.log.Info("Subscribed to collection", "collection", w.cfg.Collection, "event", w.cfg.Event, "epoch", msg.Epoch)
		w.subscribed()
		if w.ev != nil && msg.Epoch > 1 {
			// Nothing is replayed: what changed while reconnecting is gone.
			w.ev.lost(ctx)
		}
		if w.mirror != nil {
			// Changes made while disconnected are only in a full read.
			w.markStale("reading the collection after connecting")
			return firstReason(pending, "connect")
		}
	case realtime.KindCreate, realtime.KindUpdate:
		if w.ev != nil {
			w.ev.record(ctx, msg.Kind, keysOf(msg.Items, plan.keyField), msg.Received)
			return pending
		}
		w.subscribed()
		changed := false
		for _, item := range msg.Items {
			key, stored, err := w.itemEntry(item, plan)
			if err != nil {
				w.reportMissing(err)
				continue
			}
			changed = w.mirror.Upsert(key, stored) || changed
		}
		if plan.refresh {
			return firstReason(pending, "refresh")
		}
		if w.hasMissing() {
			// Only a full read can tell whether a nameless item got a key
			// or went away.
			return firstReason(pending, "missing")
		}
		if changed {
			w.cm.changed(msg.Received)
		}
	case realtime.KindDelete:
		if w.ev != nil {
			w.ev.record(ctx, msg.Kind, msg.Keys, msg.Received)
			return pending
		}
		w.subscribed()
		changed := false
		for _, k := range msg.Keys {
			changed = w.mirror.Delete(k) || changed
		}
		if plan.refresh {
			return firstReason(pending, "refresh")
		}
		if w.hasMissing() {
			return firstReason(pending, "missing")
		}
		if changed {
			w.cm.changed(msg.Received)
		}
	case realtime.KindError:
		if msg.Err == nil {
			return pending
		}
		reason, text := classifySubError(msg.Err)
		w.log.Info("Directus refused the subscription", "reason", reason, "code", msg.Err.Code)
		w.mu.Lock()
		wasActive := w.st.Subscribed
		w.mu.Unlock()
		w.update(func(st *Status) {
			st.Subscribed, st.SubReason, st.SubMessage, st.LastError = false, reason, text, text
		})
		if wasActive && w.mirror != nil {
			// Directus sent this instead of a change (e.g. FORBIDDEN while
			// a policy was briefly withdrawn): that change is lost.
			w.markStale("a change may have been lost: " + text)
			return firstReason(pending, "gap")
		}
	case realtime.KindGap:
		w.log.Info("Messages may have been lost, resynchronising", "collection", w.cfg.Collection)
		if w.ev != nil {
			w.ev.lost(ctx)
			return pending
		}
		w.markStale("messages may have been lost; reading the collection again")
		return firstReason(pending, "gap")
	}
	return pending
}

// subscribed records that the subscription delivers: its init, or any
// change after an error frame.
func (w *worker) subscribed() {
	w.update(func(st *Status) {
		if !st.Subscribed {
			st.Subscribed, st.SubReason, st.SubMessage = true, v1alpha1.ReasonSubscribed, fmt.Sprintf("subscribed to %s", w.cfg.Collection)
		}
	})
}

// markStale records that the mirror may miss changes until the next full
// read: Synced turns False (unless it is still Unknown, before the first
// read), and writes until then do not turn it True.
func (w *worker) markStale(why string) {
	w.current.Store(false)
	w.update(func(st *Status) {
		if st.Synced != metav1.ConditionUnknown {
			st.Synced, st.SyncReason, st.SyncMessage = metav1.ConditionFalse, v1alpha1.ReasonSyncing, why
		}
	})
}

func (w *worker) hasMissing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.missing > 0
}

func firstReason(pending, reason string) string {
	if pending != "" {
		return pending
	}
	return reason
}

// itemEntry names an item and shapes what the mirror stores for it.
func (w *worker) itemEntry(item json.RawMessage, plan queryPlan) (string, json.RawMessage, error) {
	key, err := mirror.ItemKey(item, plan.keyField)
	if err != nil {
		return "", nil, err
	}
	if w.cfg.ConfigMap.Layout != mirror.List {
		if _, err := mirror.KeyToDataKey(key); err != nil {
			return "", nil, err
		}
	}
	if plan.strip {
		if item, err = mirror.WithoutField(item, plan.keyField); err != nil {
			return "", nil, err
		}
	}
	return key, item, nil
}

func (w *worker) reportMissing(err error) {
	w.log.Info("Item left out of the mirror", "error", err.Error())
	w.mu.Lock()
	w.missing++
	w.missingWhy = err.Error()
	w.mu.Unlock()
	w.owner.notify(w.cfg.Name)
}

// keysOf names the items of an event for the events target; items whose
// key field was not requested are left unnamed.
func keysOf(items []json.RawMessage, field string) []string {
	keys := make([]string, 0, len(items))
	for _, it := range items {
		if k, err := mirror.ItemKey(it, field); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// snapshot replaces the mirror with a full read over REST. A realtime init
// is capped at the server's default limit (100) and empty when an event is
// set, so it cannot be trusted as a snapshot.
func (w *worker) snapshot(ctx context.Context, rest *realtime.REST, plan queryPlan, reason string) error {
	resyncsTotal.WithLabelValues(reason).Inc()
	start := time.Now()
	var rows []json.RawMessage
	var err error
	if plan.limited {
		rows, err = rest.ReadAll(ctx, w.cfg.Collection, plan.snapshotQuery())
	} else {
		// Paging by key: a write during the read cannot shift an item out
		// of the pages, as it could with limit/offset.
		rows, err = rest.ReadAllByKey(ctx, w.cfg.Collection, plan.query, plan.keyField)
	}
	if err != nil {
		r, msg := classifySnapshotError(err)
		w.log.Info("Snapshot failed", "reason", r, "error", err.Error())
		w.current.Store(false)
		w.update(func(st *Status) {
			st.Synced, st.SyncReason, st.SyncMessage, st.LastError = metav1.ConditionFalse, r, msg, msg
		})
		return err
	}
	items := make(map[string]json.RawMessage, len(rows))
	missing, why := 0, ""
	for _, row := range rows {
		key, stored, err := w.itemEntry(row, plan)
		if err != nil {
			missing++
			why = err.Error()
			continue
		}
		items[key] = stored
	}
	w.mirror.Replace(items)
	w.mu.Lock()
	w.missing, w.missingWhy = missing, why
	w.mu.Unlock()
	w.log.V(1).Info("Snapshot read", "reason", reason, "items", len(items), "duration", time.Since(start).String())
	w.current.Store(true)
	w.cm.prime()
	w.cm.changed(start)
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
