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
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// Options tune the Owner.
type Options struct {
	// MinWriteInterval is the least time between two writes of one
	// ConfigMap. A change that finds the writer idle for longer is written at
	// once; changes arriving meanwhile are merged into the next write, which
	// bounds a burst to about one write per interval. Defaults to 100ms.
	MinWriteInterval time.Duration
	// StatusInterval is how often counters (events received, items) are
	// brought to the status when nothing else changed. Defaults to 2s.
	StatusInterval time.Duration
}

// Owner keeps one worker per DirectusSubscription. It is a manager
// Runnable that needs leader election: a subscription must run once per
// cluster, not once per replica.
type Owner struct {
	client client.Client
	reader client.Reader
	log    logr.Logger
	opts   Options

	mu      sync.Mutex
	ctx     context.Context
	workers map[types.NamespacedName]*worker
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
}

var (
	_ manager.Runnable               = (*Owner)(nil)
	_ manager.LeaderElectionRunnable = (*Owner)(nil)
)

// NewOwner returns an Owner that writes with c (cached reads) and reads
// objects the cache does not hold with reader.
func NewOwner(c client.Client, reader client.Reader, log logr.Logger, opts Options) *Owner {
	if opts.MinWriteInterval <= 0 {
		opts.MinWriteInterval = 100 * time.Millisecond
	}
	if opts.StatusInterval <= 0 {
		opts.StatusInterval = 2 * time.Second
	}
	return &Owner{client: c, reader: reader, log: log, opts: opts, workers: map[types.NamespacedName]*worker{}}
}

// NeedLeaderElection is true: only the leader holds connections.
func (o *Owner) NeedLeaderElection() bool { return true }

// Start runs workers until ctx ends, then stops them all and waits.
func (o *Owner) Start(ctx context.Context) error {
	o.mu.Lock()
	o.ctx = ctx
	for _, w := range o.workers {
		w.start(ctx, nil)
	}
	o.mu.Unlock()
	<-ctx.Done()
	o.mu.Lock()
	workers := make([]*worker, 0, len(o.workers))
	for _, w := range o.workers {
		workers = append(workers, w)
	}
	o.mu.Unlock()
	for _, w := range workers {
		if w.cancel != nil {
			w.stop()
			<-w.done
		}
	}
	return nil
}

// Ensure makes a worker run cfg. It is idempotent and never blocks: a worker
// whose Hash matches is kept; otherwise the old one is stopped and the new
// one starts once the old one has finished.
func (o *Owner) Ensure(cfg Config) {
	o.mu.Lock()
	defer o.mu.Unlock()
	prev := o.workers[cfg.Name]
	// A worker told to stop (its Secret went missing, its object was
	// deleted) is replaced even for the same config; so is one that served
	// an earlier object of the same name.
	if prev != nil && prev.cfg.Hash == cfg.Hash && prev.cfg.UID == cfg.UID && !prev.stopping.Load() {
		prev.mu.Lock()
		prev.st.Generation = cfg.Generation
		prev.cfg.Generation = cfg.Generation
		prev.mu.Unlock()
		return
	}
	w := newWorker(o, cfg)
	o.workers[cfg.Name] = w
	if prev != nil {
		if !prev.stopping.Load() {
			o.log.Info("Restarting subscription, its spec or credentials changed", "DirectusSubscription", cfg.Name.String())
		}
		if prev.cancel != nil {
			prev.stop()
		} else {
			prev = nil
		}
	}
	if o.ctx != nil {
		w.start(o.ctx, prev)
	}
}

// Remove stops the worker of name. It reports whether no worker runs any
// more; callers that must not race the worker (deleting its ConfigMap) try
// again later when it is false.
func (o *Owner) Remove(name types.NamespacedName) bool {
	o.mu.Lock()
	w := o.workers[name]
	if w == nil {
		o.mu.Unlock()
		return true
	}
	if w.cancel == nil { // never started: the manager is not running yet
		delete(o.workers, name)
		o.mu.Unlock()
		return true
	}
	o.mu.Unlock()
	w.stop()
	if !w.stopped() {
		return false
	}
	o.mu.Lock()
	if o.workers[name] == w {
		delete(o.workers, name)
	}
	o.mu.Unlock()
	return true
}

// Status returns the status of name's worker.
func (o *Owner) Status(name types.NamespacedName) (Status, bool) {
	o.mu.Lock()
	w := o.workers[name]
	o.mu.Unlock()
	if w == nil {
		return Status{}, false
	}
	return w.status(), true
}

// Verify asks name's worker to compare its target with the mirror and
// correct it, as after someone edited or deleted the ConfigMap.
func (o *Owner) Verify(name types.NamespacedName) {
	o.mu.Lock()
	w := o.workers[name]
	o.mu.Unlock()
	if w == nil {
		return
	}
	select {
	case w.verifyC <- struct{}{}:
	default:
	}
}

// Source feeds the reconciler: workers enqueue their subscription when its
// status has something new to show. Adding to a workqueue never blocks and
// merges duplicates.
func (o *Owner) Source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		o.mu.Lock()
		o.queue = q
		o.mu.Unlock()
		return nil
	})
}

// store is where cfg's mirror goes: cfg.Store, or the ConfigMap it names,
// owned by the DirectusSubscription.
func (o *Owner) store(cfg Config) Store {
	if cfg.Store != nil {
		return cfg.Store
	}
	return &ConfigMapStore{
		Client: o.client, Reader: o.reader,
		Key: types.NamespacedName{Namespace: cfg.Name.Namespace, Name: cfg.ConfigMap.Name},
		Owner: metav1.OwnerReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription", Name: cfg.Name.Name, UID: cfg.UID,
		},
		Subscription: cfg.Name.Name, Labels: cfg.ConfigMap.Labels, Annotations: cfg.ConfigMap.Annotations,
	}
}

func (o *Owner) notify(name types.NamespacedName) {
	o.mu.Lock()
	q := o.queue
	o.mu.Unlock()
	if q != nil {
		q.Add(reconcile.Request{NamespacedName: name})
	}
}
