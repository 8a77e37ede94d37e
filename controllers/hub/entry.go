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

// One subscription's entry in the Hub: what newEntry builds for it (its
// runner, its sink, the store a mirror writes) and its runner's life,
// starting → running → stopping → stopped, each move made under Hub.mu.

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// runState is where a subscription's runner is in its life. It only moves
// forward: starting → running → stopping → stopped (a runner that ends on
// its own, after a refused subscription, goes from running to stopped).
type runState int

const (
	// runStarting: the runner waits for the Hub to start, or for the runner
	// it replaces to stop.
	runStarting runState = iota
	// runRunning: the runner runs.
	runRunning
	// runStopping: the runner was told to stop and has not yet finished.
	runStopping
	// runStopped: the runner has finished; it writes nothing any more.
	runStopped
)

var runStateNames = [...]string{"starting", "running", "stopping", "stopped"}

func (s runState) String() string { return runStateNames[s] }

// entry is one subscription's runner, where it runs and how far it is.
// state, cancel and prev are guarded by Hub.mu.
type entry struct {
	cfg    subscriptions.Config
	runner *subscriptions.Runner
	conn   *pooledConn
	state  runState
	// cancel stops the runner; nil until Start started it.
	cancel context.CancelFunc
	// done is closed when the runner reaches runStopped.
	done chan struct{}
	// prev is the entry this one replaced, until it has stopped.
	prev *entry
}

// stopLocked tells e's started runner to stop; its goroutine moves it to
// runStopped.
func (h *Hub) stopLocked(e *entry) {
	if e.state != runStopped {
		e.state = runStopping
	}
	e.cancel()
}

// dropLocked retires e, whose runner never started, at once. It returns
// e's connection when no subscription uses it any more, for the caller to
// close outside the lock.
func (h *Hub) dropLocked(e *entry) *subscriptions.Connection {
	e.state = runStopped
	close(e.done)
	if h.releaseLocked(e.conn) {
		return e.conn.conn
	}
	return nil
}

func (h *Hub) newEntry(cfg subscriptions.Config) (*entry, error) {
	p, err := h.acquire(cfg)
	if err != nil {
		return nil, err
	}
	log := subscriptions.WithValues(h.log, "DirectusSubscription", cfg.Name.String())
	var sink subscriptions.Sink
	if t, kind := cfg.Mirror(); t != nil {
		sink = subscriptions.NewMirrorSink(subscriptions.MirrorOptions{
			Store: h.store(cfg.Name, cfg.UID, t, kind), KeyField: t.KeyField, Layout: t.Layout, ListKey: t.ListKey, Template: t.Template,
			ResyncInterval: cfg.ResyncInterval, MinWriteInterval: h.opts.MinWriteInterval,
			MaxWriteBytesPerSecond: h.opts.MaxWriteBytesPerSecond,
		})
	} else {
		sink = subscriptions.NewEventsSink(subscriptions.EventsOptions{
			Client: h.opts.EventsClient, MaxPerMinute: cfg.Events.MaxPerMinute, Since: cfg.Events.Since,
			Object: corev1.ObjectReference{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription",
				Namespace: cfg.Name.Namespace, Name: cfg.Name.Name, UID: cfg.UID,
			},
		})
	}
	name := cfg.Name
	runner := subscriptions.NewRunner(subscriptions.RunnerOptions{
		Collection: cfg.Collection, Event: cfg.Event, Query: cfg.Query,
		// Unique per socket, and new for each config, so that a replaced
		// runner's unsubscribe cannot cancel its successor.
		UID:  fmt.Sprintf("%s/%s#%s", name.Namespace, name.Name, cfg.Hash[:min(8, len(cfg.Hash))]),
		Hash: cfg.Hash, Generation: cfg.Generation,
		Notify:      func() { h.enqueue(name) },
		OnReconnect: func() { subscriptions.CountReconnect(name.Namespace, name.Name) },
		Log:         log, SettleTime: h.opts.SettleTime, StatusInterval: h.opts.StatusInterval,
	}, p.conn, sink)
	return &entry{cfg: cfg, runner: runner, conn: p, state: runStarting, done: make(chan struct{})}, nil
}

// start runs e once its predecessor (the entry it replaces, if any) has
// fully stopped, so two runners never write the same target at once. It
// runs under the lock.
func (h *Hub) start(ctx context.Context, e *entry) {
	ctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	prev := e.prev
	go func() {
		defer h.stopped(e)
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
		if !h.moveTo(e, runRunning) {
			return
		}
		e.runner.Run(ctx)
	}()
}

// moveTo moves e forward to s, unless it is already there or past it. It
// reports whether e moved.
func (h *Hub) moveTo(e *entry, s runState) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.state >= s {
		return false
	}
	e.state = s
	return true
}

// stopped is the end of e's runner: it gives back e's place on its
// connection (closing the connection when it was the last), marks e
// stopped and asks for a reconcile, which finds the runner gone. An entry
// that was told to stop leaves the Hub here.
func (h *Hub) stopped(e *entry) {
	h.mu.Lock()
	last := h.releaseLocked(e.conn)
	h.mu.Unlock()
	if last {
		e.conn.conn.Close()
	}
	h.mu.Lock()
	if e.state == runStopping && h.state.subs[e.cfg.Name] == e {
		delete(h.state.subs, e.cfg.Name)
	}
	e.state = runStopped
	close(e.done)
	h.mu.Unlock()
	h.enqueue(e.cfg.Name)
}

// store is where a subscription's mirror goes: the ConfigMap or Secret t
// names, owned by the DirectusSubscription.
func (h *Hub) store(name types.NamespacedName, uid types.UID, t *subscriptions.MirrorTarget, kind subscriptions.TargetKind) subscriptions.Store {
	return &subscriptions.ObjectStore{
		Kind: kind, Client: h.client, Reader: h.reader,
		Key: types.NamespacedName{Namespace: name.Namespace, Name: t.Name},
		Owner: metav1.OwnerReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "DirectusSubscription", Name: name.Name, UID: uid,
		},
		Subscription: name.Name, Labels: t.Labels, Annotations: t.Annotations,
	}
}
