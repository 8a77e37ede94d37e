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
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 5 * time.Second

// fake starts a fake Directus with the transcripts' fixture: messages(id,text,user),
// secrets(id,value), the bot (static token "bot-static-token", read/write messages) and an admin.
func fake(t *testing.T, o fakedirectus.Options) *fakedirectus.Server {
	t.Helper()
	s := fakedirectus.New(o)
	t.Cleanup(s.Close)
	s.AddCollection("messages", "id", "text", "user")
	s.AddCollection("secrets", "id", "value")
	s.AddUser(fakedirectus.User{Email: "bot@example.com", Password: "bot-password", StaticToken: "bot-static-token",
		Read: []string{"messages"}, Write: []string{"messages"}})
	s.AddUser(fakedirectus.User{Email: "admin@example.com", Password: "admin-password", StaticToken: "admin-token", Admin: true})
	return s
}

// events records lifecycle events.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

// waitFor polls until an event matches.
func (e *events) waitFor(t *testing.T, what string, match func(Event) bool) Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for _, ev := range e.evs {
			if match(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		<-tick.C
	}
	t.Fatalf("no %s event within %s", what, wait)
	return Event{}
}

func (e *events) count(match func(Event) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.evs {
		if match(ev) {
			n++
		}
	}
	return n
}

// client builds a connected-ready client against s with the bot's static token, fast
// reconnects and a recorder of events; edit adjusts the options.
func client(t *testing.T, s *fakedirectus.Server, edit func(*Options)) (*Client, *events) {
	t.Helper()
	ev := &events{}
	o := Options{
		Server: Server{
			URL:  s.URL(),
			Auth: Auth{AccessToken: "bot-static-token"},
		},
		Reconnect: ReconnectOptions{InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond},
		OnEvent:   ev.add,
	}
	if edit != nil {
		edit(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, ev
}

func connect(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
}

func subscribe(t *testing.T, c *Client, o SubscribeOptions) *Subscription {
	t.Helper()
	s, err := c.Subscribe(context.Background(), o)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return s
}

// next returns the subscription's next message.
func next(t *testing.T, s *Subscription) Message {
	t.Helper()
	select {
	case m, ok := <-s.C():
		if !ok {
			t.Fatalf("subscription %s closed", s.UID())
		}
		return m
	case <-time.After(wait):
		t.Fatalf("no message on %s within %s", s.UID(), wait)
	}
	return Message{}
}

// nextOf skips messages until one of kind arrives.
func nextOf(t *testing.T, s *Subscription, kind MessageKind) Message {
	t.Helper()
	for {
		if m := next(t, s); m.Kind == kind {
			return m
		}
	}
}

func field(t *testing.T, raw json.RawMessage, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("row %s: %v", raw, err)
	}
	return m[name]
}

func TestConnectAuthenticatesInEveryMode(t *testing.T) {
	restLogin := func(t *testing.T, s *fakedirectus.Server) string {
		t.Helper()
		r, err := NewREST(RESTOptions{Server: Server{URL: s.URL(), Auth: Auth{Email: "bot@example.com", Password: "bot-password"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadAll(context.Background(), "messages", nil, ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		return r.refresh
	}
	for _, tc := range []struct {
		name   string
		server fakedirectus.Options
		edit   func(t *testing.T, s *fakedirectus.Server, o *Options)
		logins int
	}{
		{name: "handshake with a static token", edit: func(*testing.T, *fakedirectus.Server, *Options) {}},
		{name: "static token in the URL", edit: func(_ *testing.T, _ *fakedirectus.Server, o *Options) { o.TokenInURL = true }},
		{name: "strict mode", server: fakedirectus.Options{AuthMode: "strict"},
			edit: func(_ *testing.T, _ *fakedirectus.Server, o *Options) { o.AuthMode = AuthStrict }},
		{name: "strict mode with email and password", server: fakedirectus.Options{AuthMode: "strict"}, logins: 1,
			edit: func(_ *testing.T, _ *fakedirectus.Server, o *Options) {
				o.AuthMode = AuthStrict
				o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"}
			}},
		{name: "email and password", logins: 1, edit: func(_ *testing.T, _ *fakedirectus.Server, o *Options) {
			o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"}
		}},
		{name: "refresh token", logins: 1, edit: func(t *testing.T, s *fakedirectus.Server, o *Options) {
			t.Helper()
			o.Auth = Auth{RefreshToken: restLogin(t, s)}
		}},
		{name: "public mode, then elevated by an auth frame", server: fakedirectus.Options{AuthMode: "public"},
			edit: func(_ *testing.T, _ *fakedirectus.Server, o *Options) { o.AuthMode = AuthPublic }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := fake(t, tc.server)
			c, _ := client(t, s, func(o *Options) { tc.edit(t, s, o) })
			sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create", Query: json.RawMessage(`{"fields":["id","text"]}`)})
			connect(t, c)
			g.Expect(c.State()).To(Equal(StateConnected))
			g.Expect(next(t, sub).Kind).To(Equal(KindInit))
			s.Create("messages", map[string]any{"text": "hello", "user": "alice"})
			m := next(t, sub)
			g.Expect(m.Kind).To(Equal(KindCreate))
			g.Expect(m.Items).To(HaveLen(1))
			g.Expect(m.Items[0]).To(MatchJSON(`{"id":1,"text":"hello"}`))
			g.Expect(s.Logins()).To(Equal(tc.logins))
		})
	}
}

func TestRefreshTokensRotate(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, func(o *Options) { o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"} })
	connect(t, c)
	first := c.RefreshToken()
	g.Expect(first).NotTo(BeEmpty())
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// A re-auth on the open socket rotates the refresh token.
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	g.Expect(c.reauth(ctx, cn, "test")).To(Succeed())
	g.Expect(c.RefreshToken()).NotTo(BeEmpty())
	g.Expect(c.RefreshToken()).NotTo(Equal(first))
	// The old one is spent.
	_, err := authRequest(ctx, http.DefaultClient, s.URL(), "/auth/refresh", map[string]string{"refresh_token": first, "mode": "json"})
	g.Expect(IsCode(err, CodeInvalidCredentials)).To(BeTrue(), "old refresh token refused: %v", err)
}

func TestConnectReturnsTypedErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server fakedirectus.Options
		setup  func(*fakedirectus.Server)
		edit   func(*Options)
		check  func(g Gomega, err error)
	}{
		{name: "realtime disabled: 404", server: fakedirectus.Options{RealtimeDisabled: true}, check: func(g Gomega, err error) {
			g.Expect(err).To(MatchError(ErrRealtimeDisabled))
			var he *HandshakeError
			g.Expect(errors.As(err, &he)).To(BeTrue())
			g.Expect(he.Code).To(Equal(CodeRouteNotFound))
		}},
		{name: "bad token in the URL: 401", edit: func(o *Options) { o.Auth.AccessToken, o.TokenInURL = "not-a-valid-token", true },
			check: func(g Gomega, err error) {
				g.Expect(err).To(MatchError(ErrUnauthorized))
				g.Expect(err.Error()).NotTo(ContainSubstring("not-a-valid-token"))
			}},
		{name: "connection limit: 403", setup: func(s *fakedirectus.Server) { s.RefuseUpgrades(403) },
			check: func(g Gomega, err error) { g.Expect(err).To(MatchError(ErrConnectionLimit)) }},
		{name: "bad static token: AUTH_FAILED", edit: func(o *Options) { o.Auth.AccessToken = "not-a-valid-token" },
			check: func(g Gomega, err error) {
				var se *ServerError
				g.Expect(errors.As(err, &se)).To(BeTrue(), "%v", err)
				g.Expect(se.Code).To(Equal(CodeAuthFailed))
				g.Expect(se.Message).To(Equal("Authentication handshake failed."))
			}},
		{name: "wrong password: AUTH_FAILED", edit: func(o *Options) { o.Auth = Auth{Email: "bot@example.com", Password: "wrong-password"} },
			check: func(g Gomega, err error) {
				g.Expect(IsCode(err, CodeAuthFailed)).To(BeTrue(), "%v", err)
				g.Expect(err.Error()).NotTo(ContainSubstring("wrong-password"))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := fake(t, tc.server)
			if tc.setup != nil {
				tc.setup(s)
			}
			c, _ := client(t, s, tc.edit)
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			err := c.Connect(ctx)
			g.Expect(err).To(HaveOccurred())
			tc.check(g, err)
			g.Expect(c.State()).To(Equal(StateIdle))
		})
	}
}

func TestReconnectAfterDropGivesFreshInitWithNextEpoch(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	s.SetSilently("messages", map[string]any{"text": "seed", "user": "x"})
	c, ev := client(t, s, nil)
	connect(t, c)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", UID: "all"})
	init1 := next(t, sub)
	g.Expect(init1.Kind).To(Equal(KindInit))
	g.Expect(init1.Epoch).To(Equal(uint64(1)))
	g.Expect(init1.Items).To(HaveLen(1))

	s.DropConnections()
	// Written while the client is away: nothing is replayed, the new init shows it.
	s.SetSilently("messages", map[string]any{"text": "while away", "user": "x"})
	init2 := nextOf(t, sub, KindInit)
	g.Expect(init2.Epoch).To(Equal(uint64(2)))
	g.Expect(init2.Items).To(HaveLen(2))
	closeEv := ev.waitFor(t, "close", func(e Event) bool { return e.Kind == EventClose })
	g.Expect(closeEv.CloseCode).To(Equal(websocket.StatusAbnormalClosure))
	ev.waitFor(t, "reconnecting", func(e Event) bool { return e.Kind == EventReconnecting && e.Attempt == 1 })

	s.Create("messages", map[string]any{"text": "after", "user": "x"})
	m := next(t, sub)
	g.Expect(m.Kind).To(Equal(KindCreate))
	g.Expect(m.Epoch).To(Equal(uint64(2)))
	g.Expect(c.State()).To(Equal(StateConnected))
}

func TestCloseEventCarriesTheErrorFrameBeforeIt(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, ev := client(t, s, func(o *Options) { o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"} })
	connect(t, c)
	// The re-auth after expiry uses a revoked refresh token: Directus answers AUTH_FAILED and
	// closes without a status code.
	s.RevokeToken(c.RefreshToken())
	s.ExpireTokens()
	closeEv := ev.waitFor(t, "close", func(e Event) bool { return e.Kind == EventClose })
	g.Expect(closeEv.CloseCode).To(Equal(websocket.StatusNoStatusRcvd))
	g.Expect(IsCode(closeEv.Err, CodeAuthFailed)).To(BeTrue(), "close cause: %v", closeEv.Err)
	// It recovers: the refused refresh token is dropped and the client logs in again.
	g.Eventually(c.Epoch, wait).Should(Equal(uint64(2)))
}

func TestProactiveReauthBeforeExpiry(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{AccessTokenTTL: 1200 * time.Millisecond})
	c, _ := client(t, s, func(o *Options) { o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"} })
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	connect(t, c)
	next(t, sub) // init
	refreshes := func() int {
		n := 0
		for _, f := range s.Frames() {
			if f.FromClient && strings.Contains(f.Data, `"refresh_token"`) {
				n++
			}
		}
		return n
	}
	g.Eventually(refreshes, wait, 20*time.Millisecond).Should(BeNumerically(">=", 2), "two proactive refreshes")
	for _, f := range s.Frames() {
		g.Expect(f.Data).NotTo(ContainSubstring(CodeTokenExpired))
	}
	s.Create("messages", map[string]any{"text": "still delivered"})
	g.Expect(next(t, sub).Kind).To(Equal(KindCreate))
	g.Expect(c.Epoch()).To(Equal(uint64(1)))
	g.Expect(s.Logins()).To(Equal(1))
}

func TestTokenExpiredRecoversOnTheSameSocketAndEmitsGap(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{AuthTimeout: 2 * time.Second})
	c, _ := client(t, s, func(o *Options) { o.Auth = Auth{Email: "bot@example.com", Password: "bot-password"} })
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	connect(t, c)
	next(t, sub)
	s.ExpireTokens()
	gap := next(t, sub)
	g.Expect(gap.Kind).To(Equal(KindGap))
	s.Create("messages", map[string]any{"text": "after re-auth"})
	m := next(t, sub)
	g.Expect(m.Kind).To(Equal(KindCreate))
	g.Expect(c.Epoch()).To(Equal(uint64(1)), "no reconnect")
	g.Expect(s.Connections()).To(Equal(1))
}

func TestSubscriptionErrorGoesToThatSubscriptionOnly(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	connect(t, c)
	forbidden := subscribe(t, c, SubscribeOptions{Collection: "secrets", UID: "forbidden"})
	badQuery := subscribe(t, c, SubscribeOptions{Collection: "messages", Query: json.RawMessage(`{"filter":{"text":{"_bogus":"x"}}}`)})
	good := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})

	m := next(t, forbidden)
	g.Expect(m.Kind).To(Equal(KindError))
	g.Expect(m.Err.Code).To(Equal(CodeForbidden))
	m = next(t, badQuery)
	g.Expect(m.Kind).To(Equal(KindError))
	g.Expect(m.Err.Code).To(Equal(CodeInvalidQuery))
	g.Expect(next(t, good).Kind).To(Equal(KindInit))
	s.Create("messages", map[string]any{"text": "x"})
	g.Expect(next(t, good).Kind).To(Equal(KindCreate))
}

func TestUIDlessSubscribeErrorIsAttributedToTheOldestPendingSubscribe(t *testing.T) {
	g := NewWithT(t)
	c, err := New(Options{Server: Server{URL: "http://127.0.0.1:1", Auth: Auth{AccessToken: "x"}}})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = c.Close() }()
	first := subscribe(t, c, SubscribeOptions{Collection: "a", UID: "first"})
	second := subscribe(t, c, SubscribeOptions{Collection: "b", UID: "second"})
	first.markSent(1)
	second.markSent(1)
	second.mu.Lock()
	second.sentAt = first.sentAt.Add(time.Millisecond)
	second.mu.Unlock()
	cn := &conn{epoch: 1, expired: make(chan struct{}, 1), readerDone: make(chan struct{})}
	c.handle(cn, []byte(`{"type":"subscribe","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error"}}`))
	m := next(t, first)
	g.Expect(m.Kind).To(Equal(KindError))
	g.Expect(m.Err.Code).To(Equal(CodeInvalidPayload))
	g.Expect(m.Err.UID).To(Equal("first"))
	c.handle(cn, []byte(`{"type":"subscribe","status":"error","error":{"code":"INVALID_PAYLOAD","message":"Validation error"}}`))
	g.Expect(next(t, second).Err.UID).To(Equal("second"))
}

func TestBadFramesDoNotKillTheConnection(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, ev := client(t, s, func(o *Options) { o.ReadLimit = 1024 })
	connect(t, c)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	next(t, sub)
	s.SendRaw(`{"type":"subscription",`)
	s.SendRaw(`[1,2,3]`)
	s.SendRaw(`{"type":"bogus"}`)
	s.SendRaw(`{"type":"subscription","event":"create","data":[{"text":"` + strings.Repeat("x", 4096) + `"}],"uid":"` + sub.UID() + `"}`)
	g.Eventually(func() int {
		return ev.count(func(e Event) bool { return e.Kind == EventError && errors.Is(e.Err, ErrBadFrame) })
	}, wait).Should(BeNumerically(">=", 4), "each skipped frame is reported as ErrBadFrame")
	s.Create("messages", map[string]any{"text": "fine"})
	m := next(t, sub)
	g.Expect(m.Kind).To(Equal(KindCreate))
	g.Expect(m.Epoch).To(Equal(uint64(1)))
	g.Expect(s.Connections()).To(Equal(1))
}

func TestRequestsExceededSlowsDownAndResendsTheDroppedSubscribe(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, ev := client(t, s, nil)
	connect(t, c)
	s.RejectMessages(1, 300*time.Millisecond)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create", UID: "m"})
	m := next(t, sub)
	g.Expect(m.Kind).To(Equal(KindInit))
	ev.waitFor(t, "rate limit", func(e Event) bool { return IsCode(e.Err, CodeRequestsExceeded) })
	var sends []time.Time
	for _, f := range s.Frames() {
		if f.FromClient && f.Type() == "subscribe" {
			sends = append(sends, f.Time)
		}
	}
	g.Expect(sends).To(HaveLen(2))
	g.Expect(sends[1].Sub(sends[0])).To(BeNumerically(">=", 250*time.Millisecond))
	g.Expect(c.Ping(context.Background())).To(Succeed())
}

func TestDeadPeerIsDetectedAndReplaced(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, ev := client(t, s, func(o *Options) {
		o.PingInterval, o.PongTimeout, o.AuthTimeout = 100*time.Millisecond, 150*time.Millisecond, 200*time.Millisecond
	})
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	connect(t, c)
	next(t, sub)
	s.Stall(400 * time.Millisecond)
	closeEv := ev.waitFor(t, "close", func(e Event) bool { return e.Kind == EventClose })
	g.Expect(closeEv.Err).To(MatchError(ErrPongTimeout))
	m := nextOf(t, sub, KindInit)
	g.Expect(m.Epoch).To(BeNumerically(">=", 2))
}

func TestHeartbeatPingsAreAnswered(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{HeartbeatPeriod: 50 * time.Millisecond})
	c, _ := client(t, s, nil)
	connect(t, c)
	pongs := func() int {
		n := 0
		for _, f := range s.Frames() {
			if f.FromClient && f.Type() == "pong" {
				n++
			}
		}
		return n
	}
	g.Eventually(pongs, wait, 10*time.Millisecond).Should(BeNumerically(">=", 5))
	g.Expect(c.Epoch()).To(Equal(uint64(1)), "never closed for silence")
	g.Expect(s.Connections()).To(Equal(1))
}

func TestSlowConsumerGetsAGapAndDoesNotBlockOthers(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, func(o *Options) { o.SubscriptionBuffer = 4 })
	connect(t, c)
	slow := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create", UID: "slow"})
	fast := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create", UID: "fast"})
	g.Expect(next(t, fast).Kind).To(Equal(KindInit))
	for i := range 20 {
		s.Create("messages", map[string]any{"text": fmt.Sprint(i)})
		// The fast consumer keeps up although slow never reads.
		g.Expect(next(t, fast).Kind).To(Equal(KindCreate))
	}
	var kinds []MessageKind
	for len(kinds) < 20 {
		select {
		case m := <-slow.C():
			kinds = append(kinds, m.Kind)
			continue
		case <-time.After(100 * time.Millisecond):
		}
		break
	}
	g.Expect(kinds).To(ContainElement(KindGap))
	g.Expect(len(kinds)).To(BeNumerically("<=", 6))
}

func TestItemsRepliesAreMatchedByUID(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	connect(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			data, err := c.CreateItem(ctx, "messages", map[string]any{"text": fmt.Sprint("n", i)})
			if err != nil {
				t.Errorf("CreateItem %d: %v", i, err)
				return
			}
			if got := field(t, data, "text"); got != fmt.Sprint("n", i) {
				t.Errorf("reply for create %d has text %v", i, got)
			}
		})
	}
	wg.Wait()
	data, err := c.Items(ctx, ItemsRequest{Collection: "messages", Action: "read", Query: json.RawMessage(`{"sort":["-id"],"limit":2,"fields":["id"]}`)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(MatchJSON(`[{"id":10},{"id":9}]`))
	_, err = c.Items(ctx, ItemsRequest{Collection: "secrets", Action: "read"})
	var se *ServerError
	g.Expect(errors.As(err, &se)).To(BeTrue())
	g.Expect(se.Code).To(Equal(CodeForbidden))
	g.Expect(c.Ping(ctx)).To(Succeed())
}

func TestUnsubscribeClosesTheChannelAndTellsTheServer(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	connect(t, c)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	next(t, sub)
	g.Expect(s.Subscriptions()).To(Equal(1))
	g.Expect(sub.Unsubscribe(context.Background())).To(Succeed())
	g.Expect(s.Subscriptions()).To(Equal(0))
	_, open := <-sub.C()
	g.Expect(open).To(BeFalse())
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, ev := client(t, s, func(o *Options) { o.Reconnect.MaxAttempts = 2 })
	connect(t, c)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	s.SetRealtimeEnabled(false)
	s.DropConnections()
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatal("client did not give up")
	}
	g.Expect(c.Err()).To(MatchError(ErrGaveUp))
	g.Expect(c.Err()).To(MatchError(ErrRealtimeDisabled))
	g.Expect(c.State()).To(Equal(StateClosed))
	g.Expect(ev.count(func(e Event) bool { return e.Kind == EventReconnecting })).To(Equal(2))
	g.Eventually(sub.C(), wait).Should(BeClosed())
	_, err := c.Subscribe(context.Background(), SubscribeOptions{Collection: "messages"})
	g.Expect(err).To(MatchError(ErrGaveUp))
}

func TestCloseStopsEverything(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages"})
	connect(t, c)
	g.Expect(c.Close()).To(Succeed())
	g.Expect(c.Close()).To(Succeed())
	g.Expect(c.Done()).To(BeClosed())
	g.Expect(c.Err()).To(MatchError(ErrClosed))
	g.Expect(c.State()).To(Equal(StateClosed))
	g.Eventually(sub.C(), wait).Should(BeClosed())
	g.Expect(c.Connect(context.Background())).To(MatchError(ErrClosed))
	_, err := c.Items(context.Background(), ItemsRequest{Collection: "messages", Action: "read"})
	g.Expect(err).To(MatchError(ErrClosed))
	g.Eventually(s.Connections, wait).Should(BeZero())
}

// A frame write is bounded by the client's lifetime, not only by WriteTimeout: Close cuts
// short a write that a server which stopped reading holds up.
func TestCloseCutsShortAWriteTheServerStoppedReading(t *testing.T) {
	g := NewWithT(t)
	begun, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = ws.CloseNow() }()
		ws.SetReadLimit(-1)
		if _, rd, err := ws.Reader(r.Context()); err == nil {
			if _, err := io.ReadFull(rd, make([]byte, 1)); err == nil {
				close(begun)
			}
		}
		<-release // and nothing more is read
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(Options{Server: Server{URL: srv.URL}, AuthMode: AuthPublic, WriteTimeout: time.Minute})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Connect(context.Background())).To(Succeed())
	created := make(chan error, 1)
	go func() {
		// Far more than the socket buffers hold: the write blocks once they are full.
		_, err := c.CreateItem(context.Background(), "messages", map[string]any{"text": strings.Repeat("x", 8<<20)})
		created <- err
	}()
	g.Eventually(begun, wait).Should(BeClosed())
	start := time.Now()
	g.Expect(c.Close()).To(Succeed())
	g.Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second), "Close waited for the write instead of ending it")
	g.Eventually(created, wait).Should(Receive(HaveOccurred()))
}

func TestNewValidatesOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no URL", Options{Server: Server{Auth: Auth{AccessToken: "t"}}}},
		{"bad scheme", Options{Server: Server{URL: "ftp://x", Auth: Auth{AccessToken: "t"}}}},
		{"no credentials in handshake mode", Options{Server: Server{URL: "http://x"}}},
		{"email without password", Options{Server: Server{URL: "http://x", Auth: Auth{Email: "a@b"}}}},
		{"unknown mode", Options{Server: Server{URL: "http://x", Auth: Auth{AccessToken: "t"}}, AuthMode: "magic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct{ in, ws, rest string }{
		{"http://h:8055", "ws://h:8055/websocket", "http://h:8055"},
		{"https://h/cms/", "wss://h/cms/websocket", "https://h/cms"},
		{"wss://h/cms/websocket", "wss://h/cms/websocket", "https://h/cms"},
	} {
		ws, rest, err := endpoints(tc.in, defaultPath)
		if err != nil || ws.String() != tc.ws || rest.String() != tc.rest {
			t.Errorf("endpoints(%q) = %v, %v, %v; want %s, %s", tc.in, ws, rest, err, tc.ws, tc.rest)
		}
	}
}

func TestBackoff(t *testing.T) {
	o := ReconnectOptions{InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second, Multiplier: 2, Jitter: 0.2}
	for _, tc := range []struct {
		attempt int
		rnd     func() float64
		want    time.Duration
	}{
		{1, nil, 100 * time.Millisecond},
		{0, nil, 100 * time.Millisecond},
		{2, nil, 200 * time.Millisecond},
		{4, nil, 800 * time.Millisecond},
		{5, nil, time.Second},
		{100, nil, time.Second},
		{1, func() float64 { return 0 }, 80 * time.Millisecond},
		{1, func() float64 { return 1 }, 120 * time.Millisecond},
		{3, func() float64 { return 0.5 }, 400 * time.Millisecond},
		{10, func() float64 { return 0.99 }, time.Second},
		{10, func() float64 { return 0 }, 800 * time.Millisecond},
	} {
		if got := Backoff(o, tc.attempt, tc.rnd); got != tc.want {
			t.Errorf("Backoff(attempt %d) = %s, want %s", tc.attempt, got, tc.want)
		}
	}
	if got := Backoff(ReconnectOptions{}, 1, nil); got != 500*time.Millisecond {
		t.Errorf("default first delay = %s, want 500ms", got)
	}
}

func TestDrainTakesEveryQueuedMessageInOrderWithoutAGoroutine(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	c, _ := client(t, s, nil)
	connect(t, c)
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages", Event: "create"})
	var got []Message
	wantCreates := 50
	created := false
	g.Eventually(func() int {
		select {
		case <-sub.Ready():
		case <-time.After(20 * time.Millisecond):
		}
		got = append(got, sub.Drain()...)
		if !created && len(got) > 0 && got[0].Kind == KindInit {
			items := make([]map[string]any, wantCreates)
			for i := range items {
				items[i] = map[string]any{"text": strconv.Itoa(i)}
			}
			for _, it := range items {
				s.Create("messages", it)
			}
			created = true
		}
		return len(got)
	}, wait).Should(Equal(1 + wantCreates))
	for i, m := range got[1:] {
		g.Expect(m.Kind).To(Equal(KindCreate))
		g.Expect(field(t, m.Items[0], "text")).To(Equal(strconv.Itoa(i)), "in order")
	}
	g.Expect(sub.Unsubscribe(context.Background())).To(Succeed())
	g.Expect(sub.Done()).To(BeClosed())
	g.Expect(sub.C()).To(BeClosed(), "C is closed even though it was never read")
}

func TestRetryOnFailedConnectHandsTheFirstFailureToTheReconnectLoop(t *testing.T) {
	g := NewWithT(t)
	s := fake(t, fakedirectus.Options{})
	s.RefuseUpgrades(503)
	c, ev := client(t, s, func(o *Options) { o.RetryOnFailedConnect = true })
	sub := subscribe(t, c, SubscribeOptions{Collection: "messages"})
	g.Expect(c.Connect(context.Background())).To(Succeed(), "the failure is reported as an event, not returned")
	ev.waitFor(t, "the first failure", func(e Event) bool { return e.Kind == EventError && e.Err != nil })
	g.Expect(c.State()).To(Equal(StateReconnecting))
	s.RefuseUpgrades(0)
	g.Expect(nextOf(t, sub, KindInit).Epoch).To(Equal(uint64(1)), "the loop connects once the server takes upgrades")
}
