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
	"time"
)

// Gate bounds the work that runs at once against one Directus server:
// logins and full reads. After an operator restart, a leader change or a
// Directus restart, every subscription wants a full read at the same moment;
// the gate turns that herd into a queue the server can serve.
type Gate struct {
	slots chan struct{}
	// pauseUntil holds the time before which no work starts: the server
	// said it is overloaded (HTTP 429 or 503).
	pause chan time.Time
}

// NewGate returns a gate that lets n holders in at once (at least 1).
func NewGate(n int) *Gate {
	g := &Gate{slots: make(chan struct{}, max(n, 1)), pause: make(chan time.Time, 1)}
	g.pause <- time.Time{}
	return g
}

// Acquire waits for a slot (and for any pause the server asked for to end)
// and returns its release.
func (g *Gate) Acquire(ctx context.Context) (func(), error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	until := <-g.pause
	g.pause <- until
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			<-g.slots
			return nil, ctx.Err()
		}
	}
	return func() { <-g.slots }, nil
}

// Pause keeps new work out for d: the server said it is overloaded.
func (g *Gate) Pause(d time.Duration) {
	until := <-g.pause
	if next := time.Now().Add(d); next.After(until) {
		until = next
	}
	g.pause <- until
}
