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
	r1, err := gate.Acquire(context.Background(), PriorityRead)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = gate.Acquire(context.Background(), PriorityRead)
	g.Expect(err).NotTo(HaveOccurred())

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = gate.Acquire(ctx, PriorityRead)
	g.Expect(err).To(MatchError(context.DeadlineExceeded), "a third holder waits")

	got := make(chan error, 1)
	go func() {
		_, err := gate.Acquire(context.Background(), PriorityRead)
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
	release, err := gate.Acquire(context.Background(), PriorityRead)
	g.Expect(err).NotTo(HaveOccurred())
	release()
	g.Expect(time.Since(start)).To(BeNumerically(">=", 150*time.Millisecond))
}

func TestAGateLetsLoginsInBeforeTheReadsThatWaitedLonger(t *testing.T) {
	g := NewWithT(t)
	gate := NewGate(1)
	hold, err := gate.Acquire(context.Background(), PriorityRead)
	g.Expect(err).NotTo(HaveOccurred())

	order := make(chan string, 3)
	wait := func(name string, p Priority) {
		release, err := gate.Acquire(context.Background(), p)
		if err == nil {
			order <- name
			release()
		}
	}
	go wait("read 1", PriorityRead)
	g.Eventually(gate.queued).Should(Equal(1))
	go wait("read 2", PriorityRead)
	g.Eventually(gate.queued).Should(Equal(2))
	go wait("login", PriorityLogin)
	g.Eventually(gate.queued).Should(Equal(3))

	hold()
	got := make([]string, 0, 3)
	for range 3 {
		var name string
		g.Eventually(order, 5*time.Second).Should(Receive(&name))
		got = append(got, name)
	}
	g.Expect(got).To(Equal([]string{"login", "read 1", "read 2"}))
}

func TestAWaiterThatGivesUpLeavesTheQueueAndNoSlotIsLost(t *testing.T) {
	g := NewWithT(t)
	gate := NewGate(1)
	hold, err := gate.Acquire(context.Background(), PriorityRead)
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := gate.Acquire(ctx, PriorityLogin)
		gaveUp <- err
	}()
	g.Eventually(gate.queued).Should(Equal(1))
	cancel()
	g.Eventually(gaveUp, 5*time.Second).Should(Receive(MatchError(context.Canceled)))
	g.Expect(gate.queued()).To(Equal(0))

	hold()
	hold() // a second release of the same slot does nothing
	r1, err := gate.Acquire(context.Background(), PriorityRead)
	g.Expect(err).NotTo(HaveOccurred(), "the slot came back")
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	_, err = gate.Acquire(short, PriorityRead)
	g.Expect(err).To(MatchError(context.DeadlineExceeded), "and only one slot: the double release freed nothing")
	r1()
}

// queued counts the waiters.
func (g *Gate) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, q := range g.waiting {
		n += len(q)
	}
	return n
}
