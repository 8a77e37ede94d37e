//go:build e2e

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

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/realtime"
)

// socketClient connects a realtime client as the bot; edit adjusts its
// options, and events receives what it reports.
func socketClient(t *testing.T, edit func(*realtime.Options), events func(realtime.Event)) *realtime.Client {
	t.Helper()
	o := realtime.Options{Server: realtime.Server{URL: dx.url(), Auth: realtime.Auth{AccessToken: botToken}}, OnEvent: events}
	if edit != nil {
		edit(&o)
	}
	c, err := realtime.New(o)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	NewWithT(t).Expect(c.Connect(ctx)).To(Succeed())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func keysOf(g Gomega, rows []json.RawMessage) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		var item map[string]any
		g.Expect(json.Unmarshal(r, &item)).To(Succeed())
		out[i] = item["id"]
	}
	return out
}

// Full reads travel over the socket (an "items" read) because Directus
// serves them there for about a third less than a GET. They must
// return exactly what REST returns, page for page.
func TestAReadOverTheSocketReturnsWhatRESTReturns(t *testing.T) {
	g := NewWithT(t)
	user := fmt.Sprintf("socket-read-%d", time.Now().UnixNano())
	for b := range 3 {
		batch := make([]map[string]any, 400)
		for i := range batch {
			batch[i] = map[string]any{"text": fmt.Sprintf("read %d", b*400+i), "user": user}
		}
		createREST(t, batch...)
	}
	c := socketClient(t, nil, nil)
	ctx := context.Background()
	filter := fmt.Sprintf(`{"user":{"_eq":%q}}`, user)

	bySocket, err := c.ReadAll(ctx, "messages", json.RawMessage(`{"fields":["id","text"],"filter":`+filter+`}`), realtime.ReadOptions{Key: "id"})
	g.Expect(err).NotTo(HaveOccurred())
	byREST, err := bot.ReadAll(ctx, "messages", json.RawMessage(`{"fields":["id","text"],"filter":`+filter+`}`), realtime.ReadOptions{Key: "id"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bySocket).To(HaveLen(1200), "three pages of 500, by key")
	g.Expect(keysOf(g, bySocket)).To(Equal(keysOf(g, byREST)))

	window := json.RawMessage(`{"fields":["id"],"filter":` + filter + `,"sort":["-id"],"offset":100,"limit":700}`)
	bySocket, err = c.ReadAll(ctx, "messages", window, realtime.ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	byREST, err = bot.ReadAll(ctx, "messages", window, realtime.ReadOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bySocket).To(HaveLen(700), "a window over two pages, by offset")
	g.Expect(keysOf(g, bySocket)).To(Equal(keysOf(g, byREST)))
}

// Directus writes an "items" answer as {"type":"items","data":...,"uid":...},
// uid last: an answer over the client's frame limit fails that read alone,
// and no subscription on the socket is told it may have lost a change.
func TestAnAnswerTooLargeForTheSocketFailsOnlyThatRead(t *testing.T) {
	g := NewWithT(t)
	user := fmt.Sprintf("too-large-%d", time.Now().UnixNano())
	big := make([]byte, 2000)
	for i := range big {
		big[i] = 'x'
	}
	items := make([]map[string]any, 40)
	for i := range items {
		items[i] = map[string]any{"text": string(big), "user": user}
	}
	createREST(t, items...)

	var mu sync.Mutex
	var badFrames int
	c := socketClient(t, func(o *realtime.Options) { o.ReadLimit = 32 << 10 }, func(e realtime.Event) {
		if e.Kind == realtime.EventError && errors.Is(e.Err, realtime.ErrBadFrame) {
			mu.Lock()
			badFrames++
			mu.Unlock()
		}
	})
	ctx := context.Background()
	sub, err := c.Subscribe(ctx, realtime.SubscribeOptions{Collection: "messages", Event: "create", UID: "creates",
		Query: json.RawMessage(fmt.Sprintf(`{"fields":["id","user"],"filter":{"user":{"_eq":%q}}}`, user))})
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(sub.C(), 30*time.Second).Should(Receive(HaveField("Kind", realtime.KindInit)))

	_, err = c.ReadAll(ctx, "messages", json.RawMessage(fmt.Sprintf(`{"filter":{"user":{"_eq":%q}}}`, user)), realtime.ReadOptions{Key: "id"})
	g.Expect(err).To(MatchError(realtime.ErrResponseTooLarge), "40 items of 2 KB do not fit a 32 KiB frame")

	keys := createREST(t, map[string]any{"text": "small", "user": user})
	// Directus may still be delivering the creates of the 40 items made
	// before the subscription (its dispatch runs after the REST answer and
	// visits subscriptions registered meanwhile): skip them.
	raw := func(b json.RawMessage) string { return string(b) }
	key, err := json.Marshal(keys[0])
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(sub.C(), 30*time.Second).Should(Receive(SatisfyAll(
		HaveField("Kind", realtime.KindCreate),
		HaveField("Items", ContainElement(WithTransform(raw, ContainSubstring(`"id":`+string(key))))),
	)), "the socket still delivers")
	mu.Lock()
	defer mu.Unlock()
	g.Expect(badFrames).To(BeZero(), "the oversized answer was the read's own")
}
