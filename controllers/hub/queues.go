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

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Source feeds the reconciler: runners enqueue their subscription when its
// status has something new to show, and the Hub when a runner stops.
// Adding to a workqueue never blocks and merges duplicates.
func (h *Hub) Source() source.Source {
	return h.queues.source(subscriptionQueue)
}

// enqueue asks for a reconcile of name at the priority of the initial list
// (controller-runtime's priority queue serves higher ones first). After a
// restart the first reconcile of each subscription starts its runner, while
// the runners already started ask for status writes that wait on the API
// budget: at a higher priority those would hold back the start of every
// subscription behind them, and with it the whole restart.
func (h *Hub) enqueue(name types.NamespacedName) {
	q := h.queues.get(subscriptionQueue)
	if q == nil {
		return
	}
	req := reconcile.Request{NamespacedName: name}
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(handler.LowPriority)}, req)
		return
	}
	q.Add(req)
}

// subscriptionQueue names the DirectusSubscription reconciler's queue
// among the connection objects' (which go by their kind).
const subscriptionQueue = ""

// queues are the workqueues of the reconcilers the Hub feeds, by the kind
// of object they reconcile; each is known once its controller started.
type queues struct {
	mu     sync.RWMutex
	byKind map[string]workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// source is the source.Source that hands the Hub the queue of kind.
func (qs *queues) source(kind string) source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		qs.mu.Lock()
		defer qs.mu.Unlock()
		if qs.byKind == nil {
			qs.byKind = map[string]workqueue.TypedRateLimitingInterface[reconcile.Request]{}
		}
		qs.byKind[kind] = q
		return nil
	})
}

// get is the queue of kind, or nil before its controller started.
func (qs *queues) get(kind string) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	qs.mu.RLock()
	defer qs.mu.RUnlock()
	return qs.byKind[kind]
}
