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
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestAGateLetsInAtMostItsSlotsUntilOneIsReleased(t *testing.T) {
	g := NewWithT(t)
	gate := NewGate(2)
	r1, err := gate.Acquire(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	_, err = gate.Acquire(context.Background())
	g.Expect(err).NotTo(HaveOccurred())

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = gate.Acquire(ctx)
	g.Expect(err).To(MatchError(context.DeadlineExceeded), "a third holder waits")

	got := make(chan error, 1)
	go func() {
		_, err := gate.Acquire(context.Background())
		got <- err
	}()
	r1()
	g.Eventually(got, 5*time.Second).Should(Receive(BeNil()), "a released slot lets the next one in")
}

func TestAPausedGateHoldsNewWorkBackForThePause(t *testing.T) {
	g := NewWithT(t)
	gate := NewGate(4)
	gate.Pause(200 * time.Millisecond)
	gate.Pause(10 * time.Millisecond) // a shorter pause does not cut a longer one
	start := time.Now()
	release, err := gate.Acquire(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	release()
	g.Expect(time.Since(start)).To(BeNumerically(">=", 150*time.Millisecond))
}
