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
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// Retries double from their floor up to maxRetryDelay, each spread by the
// realtime backoff's jitter (±20%) so that subscriptions failing together
// do not retry together; a success starts again from the floor.
func TestRetriesDoubleFromTheFloorWithJitterUpToTheCap(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	var b retryBackoff
	want := time.Second
	for attempt := 1; attempt <= 8; attempt++ {
		d := b.next(time.Second)
		g.Expect(d).To(BeNumerically(">=", time.Duration(float64(want)*0.8)), "attempt %d", attempt)
		g.Expect(d).To(BeNumerically("<=", min(time.Duration(float64(want)*1.2), maxRetryDelay)), "attempt %d", attempt)
		want = min(want*2, maxRetryDelay)
	}
	g.Expect(b.next(time.Second)).To(BeNumerically(">=", time.Duration(float64(maxRetryDelay)*0.8)))

	spread := map[time.Duration]bool{}
	for range 20 {
		var fresh retryBackoff
		fresh.next(time.Second)
		spread[fresh.next(time.Second)] = true
	}
	g.Expect(len(spread)).To(BeNumerically(">", 1), "the delays are spread, not in lockstep")

	b.reset()
	g.Expect(b.next(time.Second)).To(BeNumerically("<=", 1200*time.Millisecond))
}
