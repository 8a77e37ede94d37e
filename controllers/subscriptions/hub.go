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
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
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
// new to show. It is a manager Runnable that needs leader election: a
// subscription must run once per cluster, not once per replica.
type Hub struct {
	client client.Client
	reader client.Reader
	log    logr.Logger
	opts   Options
	queue  atomic.Pointer[workqueue.TypedRateLimitingInterface[reconcile.Request]]

	mu      sync.Mutex
	ctx     context.Context
	entries map[types.NamespacedName]*entry
	// conns holds the connections by connection key; refs counts the
	// subscriptions each one carries.
	conns map[string][]*Connection
	refs  map[*Connection]int
	keys  map[*Connection]string
	gates map[string]*Gate
	// objects names the connection object of each connection that has one.
	objects map[*Connection]ConnectionObject
	// objectQueues feed the reconcilers of connection objects, by kind.
	objectQueues sync.Map // kind → workqueue
}

// entry is one subscription's runner and where it runs.
type entry struct {
	cfg      Config
	runner   *Runner
	conn     *Connection
	cancel   context.CancelFunc
	done     chan struct{}
	stopping bool
	// prev is the entry this one replaced, until it has stopped.
	prev *entry
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
		client: c, reader: reader, log: log, opts: opts,
		entries: map[types.NamespacedName]*entry{},
		conns:   map[string][]*Connection{}, refs: map[*Connection]int{}, keys: map[*Connection]string{},
		gates: map[string]*Gate{}, objects: map[*Connection]ConnectionObject{},
	}
}

// NeedLeaderElection is true: only the leader holds connections.
func (h *Hub) NeedLeaderElection() bool { return true }

// Start runs the subscriptions until ctx ends, then stops them all, closes
// the connections and waits.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	h.ctx = ctx
	for c := range h.refs {
		c.Start(ctx)
	}
	for _, e := range h.entries {
		h.start(e, nil)
	}
	h.mu.Unlock()

	t := time.NewTicker(h.opts.StatusInterval)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-t.C:
			for _, r := range h.runners() {
				r.Tick()
			}
		}
	}

	h.mu.Lock()
	entries := make([]*entry, 0, len(h.entries))
	for _, e := range h.entries {
		entries = append(entries, e)
	}
	h.mu.Unlock()
	for _, e := range entries {
		if e.cancel != nil {
			<-e.done
		}
	}
	h.mu.Lock()
	conns := make([]*Connection, 0, len(h.refs))
	for c := range h.refs {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return nil
}

func (h *Hub) runners() []*Runner {
	h.mu.Lock()
	defer h.mu.Unlock()
	rs := make([]*Runner, 0, len(h.entries))
	for _, e := range h.entries {
		rs = append(rs, e.runner)
	}
	return rs
}

// Ensure makes a runner run cfg. It is idempotent and never blocks on the
// network: a runner whose Hash matches is kept; otherwise the old one is
// stopped and the new one starts once the old one has finished. Only the
// changed subscription moves: the others on its connection are untouched.
func (h *Hub) Ensure(cfg Config) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.entries[cfg.Name]
	// A runner told to stop (its Secret went missing, its object was
	// deleted) is replaced even for the same config; so is one that served
	// an earlier object of the same name.
	if prev != nil && prev.cfg.Hash == cfg.Hash && prev.cfg.UID == cfg.UID && !prev.stopping {
		if prev.cfg.Generation != cfg.Generation {
			prev.cfg.Generation = cfg.Generation
			prev.runner.SetGeneration(cfg.Generation)
		}
		h.rotate(prev.conn, cfg)
		prev.cfg.Realtime = cfg.Realtime
		return nil
	}
	e, err := h.newEntry(cfg)
	if err != nil {
		return err
	}
	h.entries[cfg.Name] = e
	if prev != nil {
		wasStopping := prev.stopping
		prev.stopping = true
		if !wasStopping {
			h.log.Info("Restarting subscription, its spec or credentials changed", "DirectusSubscription", cfg.Name.String())
		}
		if prev.cancel != nil {
			prev.cancel()
		} else {
			h.releaseLocked(prev.conn)
			prev = nil
		}
	}
	e.prev = prev
	if h.ctx != nil {
		h.start(e, prev)
	}
	return nil
}

// Replacing tells whether name's previous runner (a replaced config) may
// still be running, and so still write its target.
func (h *Hub) Replacing(name types.NamespacedName) bool {
	h.mu.Lock()
	e := h.entries[name]
	var prev *entry
	if e != nil {
		prev = e.prev
	}
	h.mu.Unlock()
	if prev == nil {
		return false
	}
	select {
	case <-prev.done:
		h.mu.Lock()
		e.prev = nil
		h.mu.Unlock()
		return false
	default:
		return true
	}
}

func (h *Hub) newEntry(cfg Config) (*entry, error) {
	conn, err := h.acquire(cfg)
	if err != nil {
		return nil, err
	}
	log := withValues(h.log, "DirectusSubscription", cfg.Name.String())
	var sink Sink
	if t, kind := cfg.Mirror(); t != nil {
		sink = NewMirrorSink(MirrorOptions{
			Store: h.store(cfg.Name, cfg.UID, t, kind), KeyField: t.KeyField, Layout: t.Layout, ListKey: t.ListKey, Template: t.Template,
			ResyncInterval: cfg.ResyncInterval, MinWriteInterval: h.opts.MinWriteInterval,
			MaxWriteBytesPerSecond: h.opts.MaxWriteBytesPerSecond,
		})
	} else {
		sink = NewEventsSink(EventsOptions{
			Client: h.opts.EventsClient, MaxPerMinute: cfg.Events.MaxPerMinute, Since: cfg.Events.Since,
			Object: corev1.ObjectReference{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription",
				Namespace: cfg.Name.Namespace, Name: cfg.Name.Name, UID: cfg.UID,
			},
		})
	}
	name := cfg.Name
	runner := NewRunner(RunnerOptions{
		Collection: cfg.Collection, Event: cfg.Event, Query: cfg.Query,
		// Unique per socket, and new for each config, so that a replaced
		// runner's unsubscribe cannot cancel its successor.
		UID:  fmt.Sprintf("%s/%s#%s", name.Namespace, name.Name, cfg.Hash[:min(8, len(cfg.Hash))]),
		Hash: cfg.Hash, Generation: cfg.Generation,
		Notify:      func() { h.enqueue(name) },
		OnReconnect: func() { reconnectsTotal.WithLabelValues(name.Namespace, name.Name).Inc() },
		Log:         log, SettleTime: h.opts.SettleTime, StatusInterval: h.opts.StatusInterval,
	}, conn, sink)
	return &entry{cfg: cfg, runner: runner, conn: conn, done: make(chan struct{})}, nil
}

// start runs e once prev (an entry it replaces, or nil) has fully stopped,
// so two runners never write the same target at once.
func (h *Hub) start(e *entry, prev *entry) {
	ctx, cancel := context.WithCancel(h.ctx)
	e.cancel = cancel
	go func() {
		defer close(e.done)
		defer h.release(e.conn)
		if prev != nil {
			// Even when this runner is cancelled first, it is done only once
			// its predecessor is: whoever waits for it (deleting the
			// ConfigMap, a new leader) must not race a writer still alive.
			select {
			case <-prev.done:
			case <-ctx.Done():
				<-prev.done
				return
			}
		}
		e.runner.Run(ctx)
	}()
}

// Remove stops the runner of name. It reports whether no runner runs any
// more; callers that must not race the runner (deleting its ConfigMap) try
// again later when it is false.
func (h *Hub) Remove(name types.NamespacedName) bool {
	h.mu.Lock()
	e := h.entries[name]
	if e == nil {
		h.mu.Unlock()
		return true
	}
	e.stopping = true
	if e.cancel == nil { // never started: the manager is not running yet
		delete(h.entries, name)
		last := h.releaseLocked(e.conn)
		h.mu.Unlock()
		if last {
			e.conn.Close()
		}
		return true
	}
	h.mu.Unlock()
	e.cancel()
	select {
	case <-e.done:
	default:
		return false
	}
	h.mu.Lock()
	if h.entries[name] == e {
		delete(h.entries, name)
	}
	h.mu.Unlock()
	return true
}

// Status returns the status of name's subscription.
func (h *Hub) Status(name types.NamespacedName) (Status, bool) {
	h.mu.Lock()
	e := h.entries[name]
	h.mu.Unlock()
	if e == nil {
		return Status{}, false
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
func (h *Hub) runner(name types.NamespacedName) *Runner {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.entries[name]; e != nil {
		return e.runner
	}
	return nil
}

// Source feeds the reconciler: runners enqueue their subscription when its
// status has something new to show. Adding to a workqueue never blocks and
// merges duplicates.
func (h *Hub) Source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		h.queue.Store(&q)
		return nil
	})
}

// enqueue asks for a reconcile of name at the priority of the initial list
// (controller-runtime's priority queue serves higher ones first). After a
// restart the first reconcile of each subscription starts its runner, while
// the runners already started ask for status writes that wait on the API
// budget: at a higher priority those would hold back the start of every
// subscription behind them, and with it the whole restart.
func (h *Hub) enqueue(name types.NamespacedName) {
	q := h.queue.Load()
	if q == nil {
		return
	}
	req := reconcile.Request{NamespacedName: name}
	if pq, ok := (*q).(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(handler.LowPriority)}, req)
		return
	}
	(*q).Add(req)
}

// store is where a subscription's mirror goes: the ConfigMap or Secret t
// names, owned by the DirectusSubscription.
func (h *Hub) store(name types.NamespacedName, uid types.UID, t *ConfigMapTarget, kind Kind) Store {
	return &ObjectStore{
		Kind: kind, Client: h.client, Reader: h.reader,
		Key: types.NamespacedName{Namespace: name.Namespace, Name: t.Name},
		Owner: metav1.OwnerReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription", Name: name.Name, UID: uid,
		},
		Subscription: name.Name, Labels: t.Labels, Annotations: t.Annotations,
	}
}
