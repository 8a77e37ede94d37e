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
	"math/rand/v2"
	"time"

	"github.com/directus-operator/directus-operator/realtime"
)

// alarm is one timer armed for the earliest of several deadlines, so that
// a sink's retries, resyncs and write floors cost no goroutine: the
// runner's select waits on C.
type alarm struct {
	t  *time.Timer
	at time.Time
}

// C returns a channel that fires at the earliest non-zero deadline, or nil
// when there is none.
func (a *alarm) C(deadlines ...time.Time) <-chan time.Time {
	var next time.Time
	for _, d := range deadlines {
		if !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if next.IsZero() {
		a.stop()
		return nil
	}
	if a.t != nil && a.at.Equal(next) {
		return a.t.C
	}
	a.stop()
	a.at = next
	a.t = time.NewTimer(max(time.Until(next), 0))
	return a.t.C
}

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
		a.t = nil
	}
	a.at = time.Time{}
}

// fired forgets the timer that just fired, so the next C arms a new one.
func (a *alarm) fired() { a.t, a.at = nil, time.Time{} }

// maxRetryDelay caps the retries of reads and writes.
const maxRetryDelay = 30 * time.Second

// retryBackoff is the data plane's one backoff for its retries (full
// reads, writes, Events, primary-key lookups): realtime.Backoff, the
// socket's own, doubling from a floor up to maxRetryDelay and spread by
// its jitter, so that many subscriptions failing at once do not retry in
// lockstep. It counts the attempts since the last success.
type retryBackoff struct{ attempts int }

// next is the delay before the next attempt, from floor.
func (b *retryBackoff) next(floor time.Duration) time.Duration {
	b.attempts++
	return realtime.Backoff(realtime.ReconnectOptions{InitialDelay: floor, MaxDelay: maxRetryDelay}, b.attempts, rand.Float64)
}

// reset starts again from the floor, after a success.
func (b *retryBackoff) reset() { b.attempts = 0 }
