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
)

// Priority orders the work waiting at a Gate.
type Priority int

const (
	// PriorityLogin is a socket's login: it goes before every waiting
	// read, since a socket that is not up holds back all the subscriptions
	// on it (their subscribes, and the reads that follow).
	PriorityLogin Priority = iota
	// PriorityRead is a full read. It goes before the subscribes still
	// waiting: a subscription that has its init is one read away from
	// Synced, and serving it first makes subscriptions become Synced one
	// after the other, their statuses written as they come, instead of all
	// at the end of a restart.
	PriorityRead
	// PrioritySubscribe is a subscribe frame, held until its init: Directus
	// checks its permissions and reads its init when it arrives.
	PrioritySubscribe
	priorities
)

// Gate bounds the work that runs at once against one Directus server:
// logins, subscribes and full reads. After an operator restart, a leader change or a
// Directus restart, every subscription wants a full read at the same moment;
// the gate turns that herd into a queue the server can serve. Logins are
// served first, then reads, then subscribes, each in the order they came.
type Gate struct {
	mu    sync.Mutex
	slots int
	held  int
	// waiting holds, per priority, the waiters in arrival order; a waiter
	// is handed its slot by closing its channel.
	waiting [priorities][]chan struct{}
	// pauseUntil is the time before which no work starts: the server said
	// it is overloaded (HTTP 429 or 503).
	pauseUntil time.Time
}

// NewGate returns a gate that lets n holders in at once (at least 1).
func NewGate(n int) *Gate {
	return &Gate{slots: max(n, 1)}
}

// Acquire waits for a slot (and for any pause the server asked for to end)
// and returns its release.
func (g *Gate) Acquire(ctx context.Context, p Priority) (func(), error) {
	g.mu.Lock()
	if g.held < g.slots {
		g.held++
		g.mu.Unlock()
	} else {
		w := make(chan struct{})
		g.waiting[p] = append(g.waiting[p], w)
		g.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			if !g.leave(p, w) {
				g.release() // the slot was handed over meanwhile
			}
			return nil, ctx.Err()
		}
	}
	g.mu.Lock()
	until := g.pauseUntil
	g.mu.Unlock()
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			g.release()
			return nil, ctx.Err()
		}
	}
	return sync.OnceFunc(g.release), nil
}

// AcquireLogin is Acquire at PriorityLogin, in the form realtime.Options.Gate
// takes.
func (g *Gate) AcquireLogin(ctx context.Context) (func(), error) {
	return g.Acquire(ctx, PriorityLogin)
}

// AcquireSubscribe is Acquire at PrioritySubscribe, in the form
// realtime.Options.SubscribeGate takes.
func (g *Gate) AcquireSubscribe(ctx context.Context) (func(), error) {
	return g.Acquire(ctx, PrioritySubscribe)
}

// leave removes w from the queue; false means it was already handed a slot.
func (g *Gate) leave(p Priority, w chan struct{}) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.waiting[p] {
		if x == w {
			g.waiting[p] = append(g.waiting[p][:i], g.waiting[p][i+1:]...)
			return true
		}
	}
	return false
}

// release hands the slot to the first waiter of the highest priority, or
// frees it.
func (g *Gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p := range g.waiting {
		if q := g.waiting[p]; len(q) > 0 {
			g.waiting[p] = q[1:]
			close(q[0])
			return
		}
	}
	g.held--
}

// Pause keeps new work out for d: the server said it is overloaded.
func (g *Gate) Pause(d time.Duration) {
	g.mu.Lock()
	if next := time.Now().Add(d); next.After(g.pauseUntil) {
		g.pauseUntil = next
	}
	g.mu.Unlock()
}
