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

package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

func TestASocketReadPagesByKeyThroughEverythingTheQueryMatches(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 1500)
	c, _ := client(t, s, nil)
	connect(t, c)

	rows, err := c.ReadAll(context.Background(), "messages", json.RawMessage(`{"fields":["id","user"],"filter":{"user":{"_eq":"alice"}},"sort":["-id"],"limit":3}`), ReadOptions{Key: "id"})
	g.Expect(err).NotTo(HaveOccurred())
	got := ids(t, rows)
	g.Expect(got).To(HaveLen(500), "every third of 1500, over two pages; the query's sort and limit do not apply to a set")
	for i, id := range got {
		g.Expect(id).To(Equal(3*i+1), "in key order")
	}
}

func TestASocketReadHonoursLimitOffsetAndSortLikeREST(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	seed(s, 1500)
	c, _ := client(t, s, nil)
	connect(t, c)
	r, _ := restClient(t, s, Auth{AccessToken: "bot-static-token"})

	for _, q := range []string{
		`{"fields":["id"],"sort":["id"],"limit":1234}`,
		`{"fields":["id","user"],"filter":{"_and":[{"user":{"_eq":"alice"}},{"id":{"_gt":1400}}]},"sort":["-id"]}`,
		`{"fields":["id"],"sort":["-id"],"offset":700,"limit":-1}`,
	} {
		overSocket, err := c.ReadAll(context.Background(), "messages", json.RawMessage(q), ReadOptions{})
		g.Expect(err).NotTo(HaveOccurred(), q)
		overREST, err := r.ReadAll(context.Background(), "messages", json.RawMessage(q), ReadOptions{})
		g.Expect(err).NotTo(HaveOccurred(), q)
		g.Expect(ids(t, overSocket)).To(Equal(ids(t, overREST)), q)
		g.Expect(overSocket).NotTo(BeEmpty(), q)
	}
}

func TestASocketReadNeedsAConnection(t *testing.T) {
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	_, err := c.ReadAll(context.Background(), "messages", json.RawMessage(`{"sort":["id"]}`), ReadOptions{})
	NewWithT(t).Expect(err).To(MatchError(ErrNotConnected))
}

func TestAnAnswerTooLargeForTheSocketFailsOnlyItsReadAndLosesNoChange(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	big := strings.Repeat("x", 2000)
	for range 40 {
		s.SetSilently("messages", map[string]any{"text": big, "user": "alice"})
	}
	c, ev := client(t, s, func(o *Options) { o.ReadLimit = 32 << 10 })
	connect(t, c)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create", UID: "creates"})
	g.Expect(nextOf(t, sub, KindInit).Kind).To(Equal(KindInit))

	_, err := c.ReadAll(context.Background(), "messages", nil, ReadOptions{Key: "id"})
	g.Expect(err).To(MatchError(ErrResponseTooLarge), "40 items of 2 KB do not fit a 32 KiB frame")
	var tooLarge *ResponseTooLargeError
	g.Expect(errors.As(err, &tooLarge)).To(BeTrue())
	g.Expect(tooLarge.Limit).To(BeEquivalentTo(32 << 10))

	s.Create("messages", map[string]any{"text": "small", "user": "bob"})
	m := nextOf(t, sub, KindCreate)
	g.Expect(m.Items).To(HaveLen(1))
	g.Expect(ev.count(func(e Event) bool { return e.Kind == EventError && errors.Is(e.Err, ErrBadFrame) })).To(BeZero(),
		"the oversized answer was ours: no subscription is told it may have lost a change")
	g.Expect(sub.Drain()).NotTo(ContainElement(HaveField("Kind", KindGap)))
}

// countingGate lets n holders in at once and remembers the most it saw.
type countingGate struct {
	slots        chan struct{}
	mu           sync.Mutex
	held, most   int
	acquisitions int
}

func newCountingGate(n int) *countingGate { return &countingGate{slots: make(chan struct{}, n)} }

func (g *countingGate) acquire(ctx context.Context) (func(), error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	g.held++
	g.acquisitions++
	g.most = max(g.most, g.held)
	g.mu.Unlock()
	return sync.OnceFunc(func() {
		g.mu.Lock()
		g.held--
		g.mu.Unlock()
		<-g.slots
	}), nil
}

func (g *countingGate) state() (held, most, acquisitions int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held, g.most, g.acquisitions
}

func TestASubscribeGateSendsSubscribesOneSlotAtATimeAndGetsEverySlotBack(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	// One gate for logins and subscribes, as an operator shares it among
	// the sockets to one server.
	gate := newCountingGate(2)
	c, _ := client(t, s, func(o *Options) { o.Gate, o.SubscribeGate = gate.acquire, gate.acquire })
	var subs []*Subscription
	for i := range 6 {
		subs = append(subs, subscribe(t, c, SubscribeOptions{Collection: "messages", UID: fmt.Sprint("before-", i)}))
	}
	connect(t, c)
	subs = append(subs, subscribe(t, c, SubscribeOptions{Collection: "messages", UID: "after"}))
	for _, sub := range subs {
		g.Expect(nextOf(t, sub, KindInit).Kind).To(Equal(KindInit), sub.UID())
	}
	g.Eventually(func() int { held, _, _ := gate.state(); return held }).Should(BeZero(), "every init gave its slot back")
	_, most, n := gate.state()
	g.Expect(most).To(Equal(2), "never more subscribes waiting for their init than the gate allows")
	g.Expect(n).To(Equal(8), "a login and 7 subscribes")

	// A subscribe whose init never comes holds its slot until the connection
	// ends; the reconnect's login needs it back, and then every subscription
	// is sent again through the gate.
	s.Stall(time.Hour)
	subs = append(subs, subscribe(t, c, SubscribeOptions{Collection: "messages", UID: "unanswered"}))
	subs = append(subs, subscribe(t, c, SubscribeOptions{Collection: "messages", UID: "unanswered too"}))
	g.Consistently(func() int { held, _, _ := gate.state(); return held }, 200*time.Millisecond).Should(Equal(2), "both slots held")
	s.Stall(0)
	s.DropConnections()
	for _, sub := range subs {
		g.Expect(nextOf(t, sub, KindInit).Kind).To(Equal(KindInit), sub.UID())
	}
	g.Eventually(func() int { held, _, _ := gate.state(); return held }).Should(BeZero(),
		"the ended connection gave back the slot of the unanswered subscribe (its own timeout is 30 s)")
	_, most, _ = gate.state()
	g.Expect(most).To(Equal(2))
}

func TestARequestThatGetsNoReplyGivesUpAfterItsTimeout(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	connect(t, c)
	s.Stall(time.Hour) // like Directus's rate limiter: the request is dropped without a reply
	defer s.Stall(0)
	start := time.Now()
	_, err := c.items(context.Background(), ItemsRequest{Collection: "messages", Action: "read"}, 200*time.Millisecond)
	g.Expect(err).To(MatchError(context.DeadlineExceeded))
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
}
