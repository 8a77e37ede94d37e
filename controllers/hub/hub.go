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

package hub

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// Options tune the Hub.
type Options struct {
	// MinWriteInterval, when positive, is the least time between two writes
	// of one ConfigMap. 0 (the default) writes as soon as the previous
	// write is done; changes that arrive during a write are merged into the
	// next one.
	MinWriteInterval time.Duration
	// StatusInterval is how often counters (events received, items) are
	// brought to the status when nothing else changed; a change of them
	// comes at once when the last update is older. Defaults to 2s.
	StatusInterval time.Duration
	// SettleTime is each runner's; see RunnerOptions. Defaults to 30s.
	SettleTime time.Duration
	// MaxSubscriptionsPerConnection caps the subscriptions one socket
	// carries; more open another socket. Defaults to 100.
	MaxSubscriptionsPerConnection int
	// MaxConcurrentReadsPerServer bounds the logins and full reads that run
	// at once against one Directus server. Defaults to 4.
	MaxConcurrentReadsPerServer int
	// MaxWriteBytesPerSecond bounds each ConfigMap's writes by their size;
	// see MirrorOptions. 0 means no bound.
	MaxWriteBytesPerSecond int
	// EventsClient creates the Events of events targets, with a budget of
	// its own so that busy events targets cannot starve ConfigMap writes.
	// Defaults to the Hub's client.
	EventsClient client.Client
}

// Hub runs every DirectusSubscription: it shares realtime connections
// between the subscriptions that use the same Directus identity (up to a
// cap per socket), runs one Runner per subscription on its connection, and
// feeds the reconciler a reconcile request whenever a status has something
// new to show or a runner has started or stopped. It is a manager Runnable
// that needs leader election: a subscription must run once per cluster, not
// once per replica.
type Hub struct {
	client client.Client
	reader client.Reader
	log    logr.Logger
	opts   Options
	queues queues
	// wake tells Start that runners or connections wait to be started.
	wake chan struct{}

	mu    sync.Mutex
	state hubState
}

// hubState is everything of the Hub that changes, under Hub.mu.
type hubState struct {
	// running is true while Start runs: only then do runners and
	// connections start.
	running bool
	subs    map[types.NamespacedName]*entry
	// pool holds the connections by connection key.
	pool  map[string][]*pooledConn
	gates map[string]*subscriptions.Gate
}

// pooledConn is one connection of the pool and what the Hub knows of it.
type pooledConn struct {
	conn *subscriptions.Connection
	// key is the connection key it is pooled under.
	key string
	// refs counts the subscriptions it carries.
	refs int
	// object is the connection object it serves; its Kind is "" for an
	// inline connection.
	object subscriptions.ConnectionObject
	gate   *subscriptions.Gate
	// started is set once Start dialled it.
	started bool
}

var (
	_ manager.Runnable               = (*Hub)(nil)
	_ manager.LeaderElectionRunnable = (*Hub)(nil)
)

// NewHub returns a Hub that writes with c (cached reads) and reads objects
// the cache does not hold with reader.
func NewHub(c client.Client, reader client.Reader, log logr.Logger, opts Options) *Hub {
	if opts.StatusInterval <= 0 {
		opts.StatusInterval = 2 * time.Second
	}
	if opts.MaxSubscriptionsPerConnection <= 0 {
		opts.MaxSubscriptionsPerConnection = 100
	}
	if opts.MaxConcurrentReadsPerServer <= 0 {
		opts.MaxConcurrentReadsPerServer = 4
	}
	if opts.EventsClient == nil {
		opts.EventsClient = c
	}
	return &Hub{
		client: c, reader: reader, log: log, opts: opts, wake: make(chan struct{}, 1),
		state: hubState{subs: map[types.NamespacedName]*entry{}, pool: map[string][]*pooledConn{}, gates: map[string]*subscriptions.Gate{}},
	}
}

// NeedLeaderElection is true: only the leader holds connections.
func (h *Hub) NeedLeaderElection() bool { return true }

// Start runs the subscriptions until ctx ends, then stops them all, closes
// the connections and waits. Runners and connections added meanwhile are
// started here, with ctx: the Hub keeps no context of its own.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	h.state.running = true
	h.mu.Unlock()
	h.startWaiting(ctx)

	t := time.NewTicker(h.opts.StatusInterval)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-h.wake:
			h.startWaiting(ctx)
		case <-t.C:
			for _, r := range h.runners() {
				r.Tick()
			}
		}
	}
	h.shutdown()
	return nil
}

// poke tells Start that something waits to be started.
func (h *Hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// startWaiting dials the connections not yet started and starts the
// runners not yet started.
func (h *Hub) startWaiting(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.state.running {
		return
	}
	for _, list := range h.state.pool {
		for _, p := range list {
			if !p.started {
				p.started = true
				p.conn.Start(ctx)
			}
		}
	}
	for _, e := range h.state.subs {
		if e.cancel == nil {
			h.start(ctx, e)
		}
	}
}

// shutdown waits for every runner Start started (and for the runner a
// new one waits for), then closes every connection.
func (h *Hub) shutdown() {
	h.mu.Lock()
	h.state.running = false
	var wait []chan struct{}
	for _, e := range h.state.subs {
		switch {
		case e.cancel != nil:
			wait = append(wait, e.done)
		case e.prev != nil:
			wait = append(wait, e.prev.done)
		}
	}
	h.mu.Unlock()
	for _, done := range wait {
		<-done
	}
	h.mu.Lock()
	var conns []*subscriptions.Connection
	for _, list := range h.state.pool {
		for _, p := range list {
			conns = append(conns, p.conn)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (h *Hub) runners() []*subscriptions.Runner {
	h.mu.Lock()
	defer h.mu.Unlock()
	rs := make([]*subscriptions.Runner, 0, len(h.state.subs))
	for _, e := range h.state.subs {
		rs = append(rs, e.runner)
	}
	return rs
}

// Ensure makes a runner run cfg. It is idempotent and never blocks on the
// network: a runner whose Hash matches is kept; otherwise the old one is
// stopped and the new one starts once the old one has finished (which
// brings a reconcile of cfg.Name). Only the changed subscription moves: the
// others on its connection are untouched.
func (h *Hub) Ensure(cfg subscriptions.Config) error {
	h.mu.Lock()
	unused, err := h.ensureLocked(cfg)
	h.mu.Unlock()
	if unused != nil {
		unused.Close()
	}
	return err
}

// ensureLocked is Ensure under the lock. It returns a connection that no
// subscription uses any more, for the caller to close.
func (h *Hub) ensureLocked(cfg subscriptions.Config) (*subscriptions.Connection, error) {
	prev := h.state.subs[cfg.Name]
	// A runner told to stop (its Secret went missing, its object was
	// deleted) is replaced even for the same config; so is one that served
	// an earlier object of the same name.
	if prev != nil && prev.cfg.Hash == cfg.Hash && prev.cfg.UID == cfg.UID && prev.state != runStopping {
		if prev.cfg.Generation != cfg.Generation {
			prev.cfg.Generation = cfg.Generation
			prev.runner.SetGeneration(cfg.Generation)
		}
		h.rotate(prev.conn.conn, cfg)
		prev.cfg.Realtime = cfg.Realtime
		return nil, nil
	}
	e, err := h.newEntry(cfg)
	if err != nil {
		return nil, err
	}
	h.state.subs[cfg.Name] = e
	h.poke()
	if prev == nil {
		return nil, nil
	}
	if prev.state != runStopping {
		h.log.Info("Restarting subscription, its spec or credentials changed", "DirectusSubscription", cfg.Name.String())
	}
	if prev.cancel == nil {
		// It never started: there is nothing to wait for.
		return h.dropLocked(prev), nil
	}
	e.prev = prev
	h.stopLocked(prev)
	return nil, nil
}

// Replacing tells whether name's previous runner (a replaced config) may
// still be running, and so still write its target. When it stops, the Hub
// asks for a reconcile of name.
func (h *Hub) Replacing(name types.NamespacedName) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.state.subs[name]
	if e == nil || e.prev == nil {
		return false
	}
	if e.prev.state == runStopped {
		e.prev = nil
		return false
	}
	return true
}

// Remove stops the runner of name. It reports whether no runner runs any
// more; when it is false, the Hub asks for a reconcile of name once the
// runner has stopped, so that callers that must not race the runner
// (deleting its ConfigMap) try again then.
func (h *Hub) Remove(name types.NamespacedName) bool {
	h.mu.Lock()
	e := h.state.subs[name]
	if e == nil {
		h.mu.Unlock()
		return true
	}
	switch {
	case e.cancel == nil: // never started: the manager is not running yet
		delete(h.state.subs, name)
		unused := h.dropLocked(e)
		h.mu.Unlock()
		if unused != nil {
			unused.Close()
		}
		return true
	case e.state == runStopped:
		delete(h.state.subs, name)
		h.mu.Unlock()
		return true
	}
	h.stopLocked(e)
	h.mu.Unlock()
	return false
}

// Status returns the status of name's subscription.
func (h *Hub) Status(name types.NamespacedName) (subscriptions.Status, bool) {
	h.mu.Lock()
	e := h.state.subs[name]
	h.mu.Unlock()
	if e == nil {
		return subscriptions.Status{}, false
	}
	return e.runner.Status(), true
}

// Verify asks name's sink to compare its target with what it holds and
// correct it, as after someone edited or deleted the ConfigMap.
func (h *Hub) Verify(name types.NamespacedName) {
	if r := h.runner(name); r != nil {
		r.Verify()
	}
}

// Resync asks name's sink for a full read on demand (see Runner.Resync).
func (h *Hub) Resync(name types.NamespacedName, request string) {
	if r := h.runner(name); r != nil {
		r.Resync(request)
	}
}

// runner is name's runner, or nil.
func (h *Hub) runner(name types.NamespacedName) *subscriptions.Runner {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.state.subs[name]; e != nil {
		return e.runner
	}
	return nil
}
