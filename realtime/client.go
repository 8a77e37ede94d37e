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
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/go-logr/logr"
)

// Client is a Directus realtime client: one WebSocket connection, kept alive, authenticated
// and re-established, carrying any number of subscriptions. It is safe for concurrent use.
// Always call Close.
type Client struct {
	opts    Options
	wsURL   *url.URL
	restURL *url.URL
	log     logr.Logger
	events  *eventQueue
	rnd     func() float64

	// quit is the client's own lifetime, not a caller's: halt closes it, once, when Close
	// begins or reconnecting gives up. The goroutines the client starts are handed it as a
	// context (lifeContext) and end with it, and every frame write is cut short by it.
	quit   chan struct{}
	halt   func()
	wg     sync.WaitGroup // the supervisor goroutine
	done   chan struct{}
	finish sync.Once

	seq atomic.Uint64

	mu            sync.Mutex
	state         State
	closing       bool
	err           error
	cur           *conn
	epoch         uint64
	subs          map[string]*Subscription
	pending       map[string]chan reply
	unsubWait     map[string]chan struct{}
	throttleUntil time.Time
	tokenExpired  bool

	// Credentials, guarded by mu. refresh is the newest refresh token.
	refresh       string
	refreshBad    bool
	access        string
	accessExpires time.Time
	lifetime      time.Duration
	// token is the static access token (Options.Auth.AccessToken until
	// SetAccessToken replaces it); retired are those it replaced, still
	// redacted from errors.
	token   string
	retired []string
	// credsChanged tells the serving loop that SetAccessToken ran.
	credsChanged chan struct{}
}

// conn is one WebSocket connection and what belongs to it.
type conn struct {
	ws         *websocket.Conn
	epoch      uint64
	lastRecv   atomic.Int64 // unix nanos of the last frame received
	lastErr    atomic.Pointer[ServerError]
	dead       atomic.Bool
	expired    chan struct{} // TOKEN_EXPIRED arrived
	readerDone chan struct{}
	readErr    error
	// expires is the socket identity's expiry (zero: unknown or never), set after each auth;
	// guarded by Client.mu.
	expires time.Time
	// resubAt: resend subscriptions still waiting for init at this time (REQUESTS_EXCEEDED).
	resubAt atomic.Int64
	// token is the static access token the socket authenticated with; guarded by Client.mu.
	token string
}

func (cn *conn) touch() { cn.lastRecv.Store(time.Now().UnixNano()) }

type reply struct {
	f   frame
	err error // a *ServerError, or a *ResponseTooLargeError for an oversized answer
}

// New validates opts, applies defaults and returns an idle client. It does no network I/O.
func New(opts Options) (*Client, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	wsURL, restURL, err := endpoints(opts.URL, opts.Path)
	if err != nil {
		return nil, err
	}
	quit := make(chan struct{})
	c := &Client{
		opts: opts, wsURL: wsURL, restURL: restURL,
		log:       opts.Logger.WithName("directus-realtime"),
		events:    newEventQueue(opts.OnEvent),
		rnd:       opts.rand,
		quit:      quit,
		halt:      sync.OnceFunc(func() { close(quit) }),
		done:      make(chan struct{}),
		subs:      map[string]*Subscription{},
		pending:   map[string]chan reply{},
		unsubWait: map[string]chan struct{}{},
		refresh:   opts.Auth.RefreshToken,

		token:        opts.Auth.AccessToken,
		credsChanged: make(chan struct{}, 1),
	}
	if c.rnd == nil {
		c.rnd = rand.Float64
	}
	if c.rotating() && opts.Auth.AccessToken != "" {
		// A JWT given together with a way to refresh it: use it while it is valid.
		if iat, exp, ok := jwtTimes(opts.Auth.AccessToken); ok {
			c.access, c.accessExpires, c.lifetime = opts.Auth.AccessToken, exp, exp.Sub(iat)
		}
	}
	return c, nil
}

// rotating reports whether the credentials are refreshable (email+password or refresh token).
func (c *Client) rotating() bool {
	return c.opts.Auth.login() || c.opts.Auth.RefreshToken != ""
}

// State returns the current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Epoch returns the number of the current (or last) connection; 0 before the first.
func (c *Client) Epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// RefreshToken returns the newest refresh token the client holds (they rotate on every use),
// or "" when it has none.
func (c *Client) RefreshToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refresh
}

// Done is closed when the client stops for good: after Close, or when reconnecting gave up.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped (ErrClosed, or an error wrapping ErrGaveUp and the last
// error), or nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Client) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if !c.events.emit(ev) {
		c.log.V(4).Info("Dropped a lifecycle event", "kind", ev.Kind)
	}
}

// Connect dials, upgrades and authenticates, synchronously. On failure it returns a typed
// error (*HandshakeError, *ServerError such as AUTH_FAILED, or a network error) and the
// client stays idle, so Connect may be called again. On success a background loop reads,
// answers heartbeats, refreshes tokens and reconnects; subscriptions made before Connect are
// sent now.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closing || c.state == StateClosed:
		c.mu.Unlock()
		return ErrClosed
	case c.state != StateIdle:
		c.mu.Unlock()
		return ErrAlreadyStarted
	}
	c.state = StateConnecting
	c.mu.Unlock()
	c.log.Info("Connecting to Directus", "url", c.wsURL.Redacted())

	life := c.lifeContext()
	ctx, stop := mergeCancel(ctx, life)
	defer stop()
	cn, err := c.dial(ctx)
	if err != nil {
		c.mu.Lock()
		retry := c.opts.RetryOnFailedConnect && !c.closing && life.Err() == nil && !c.opts.Reconnect.Disabled
		switch {
		case retry:
			// Like nats' RetryOnFailedConnect: the first failure is reported and the
			// reconnect loop takes over, so the caller has one loop to watch, not two.
			c.state = StateReconnecting
			c.wg.Add(1)
		case c.state == StateConnecting:
			c.state = StateIdle
		}
		c.mu.Unlock()
		if retry {
			c.log.Info("Could not connect to Directus, retrying", "error", err.Error())
			c.emit(Event{Kind: EventError, State: StateReconnecting, Err: err})
			go c.loop(life, nil, nil, err)
			return nil
		}
		if life.Err() != nil {
			return ErrClosed
		}
		return err
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		_ = cn.ws.CloseNow()
		return ErrClosed
	}
	c.wg.Add(1)
	c.mu.Unlock()
	subs := c.attach(cn)
	go c.loop(life, cn, subs, nil)
	return nil
}

// lifeContext is the client's lifetime as a context, for the calls that take one: it is done
// once quit is closed, with Err context.Canceled.
func (c *Client) lifeContext() context.Context { return quitContext(c.quit) }

// quitContext is a channel that is closed once, as a context.Context: done when the
// channel is closed, with no deadline and no values.
type quitContext <-chan struct{}

func (q quitContext) Deadline() (time.Time, bool) { return time.Time{}, false }

func (q quitContext) Done() <-chan struct{} { return q }

func (q quitContext) Err() error {
	select {
	case <-q:
		return context.Canceled
	default:
		return nil
	}
}

func (q quitContext) Value(any) any { return nil }

// mergeCancel returns a context that is cancelled when either a or b is.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

// attach makes cn the current connection and returns the subscriptions to (re)send on it.
func (c *Client) attach(cn *conn) []*Subscription {
	c.mu.Lock()
	c.epoch++
	cn.epoch = c.epoch
	c.cur = cn
	c.state = StateConnected
	c.tokenExpired = false
	subs := make([]*Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		s.markSent(cn.epoch)
		subs = append(subs, s)
	}
	c.mu.Unlock()
	c.log.Info("Connected to Directus", "epoch", cn.epoch, "subscriptions", len(subs))
	c.emit(Event{Kind: EventAuthenticated, State: StateConnected, Epoch: cn.epoch})
	return subs
}

// detach forgets cn as the current connection.
func (c *Client) detach(cn *conn) {
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
	}
	if !c.closing && c.state != StateClosed {
		c.state = StateReconnecting
	}
	for uid, w := range c.unsubWait {
		close(w)
		delete(c.unsubWait, uid)
	}
	c.mu.Unlock()
}

// loop supervises connections until ctx, the client's lifetime, ends (Close) or until
// reconnecting gives up. It is the client's only reconnect loop; with a nil cn it starts by
// reconnecting (the first dial failed with last, and RetryOnFailedConnect is set).
func (c *Client) loop(ctx context.Context, cn *conn, subs []*Subscription, last error) {
	defer c.wg.Done()
	for {
		if cn == nil {
			var ok bool
			if cn, subs, ok = c.reconnect(ctx, last); !ok {
				return
			}
		}
		err := c.serve(ctx, cn, subs)
		c.detach(cn)
		if ctx.Err() != nil {
			return
		}
		code, reason, cause := closeCause(cn, err)
		c.log.Info("Connection to Directus lost", "epoch", cn.epoch, "code", int(code), "reason", errString(cause))
		c.emit(Event{Kind: EventClose, State: StateReconnecting, CloseCode: code, CloseReason: reason, Err: cause, Epoch: cn.epoch})
		if c.opts.Reconnect.Disabled {
			c.giveUp(cause)
			return
		}
		cn, last = nil, cause
	}
}

// reconnect dials with backoff until it succeeds (ok), ctx ends (the client closes), or it
// gives up.
func (c *Client) reconnect(ctx context.Context, last error) (*conn, []*Subscription, bool) {
	for attempt := 1; ; attempt++ {
		if c.opts.Reconnect.MaxAttempts > 0 && attempt > c.opts.Reconnect.MaxAttempts {
			c.giveUp(last)
			return nil, nil, false
		}
		delay := Backoff(c.opts.Reconnect, attempt, c.rnd)
		c.emit(Event{Kind: EventReconnecting, State: StateReconnecting, Attempt: attempt, Delay: delay, Err: last})
		c.log.V(4).Info("Reconnecting", "attempt", attempt, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, false
		case <-t.C:
		}
		cn, err := c.dial(ctx)
		if err == nil {
			return cn, c.attach(cn), true
		}
		if ctx.Err() != nil {
			return nil, nil, false
		}
		last = err
		c.log.Info("Reconnect attempt failed", "attempt", attempt, "error", err.Error())
		c.emit(Event{Kind: EventError, State: StateReconnecting, Attempt: attempt, Err: err})
	}
}

func (c *Client) giveUp(last error) {
	err := fmt.Errorf("%w: %w", ErrGaveUp, last)
	if last == nil {
		err = ErrGaveUp
	}
	c.log.Info("Gave up reconnecting to Directus", "error", err.Error())
	c.emit(Event{Kind: EventGaveUp, State: StateClosed, Err: err})
	c.stop(err)
}

// stop ends the client for good: state Closed, subscriptions closed, Done closed.
func (c *Client) stop(err error) {
	c.finish.Do(func() {
		c.mu.Lock()
		c.state = StateClosed
		c.err = err
		c.closing = true
		subs := make([]*Subscription, 0, len(c.subs))
		for _, s := range c.subs {
			subs = append(subs, s)
		}
		c.subs = map[string]*Subscription{}
		c.mu.Unlock()
		c.halt()
		for _, s := range subs {
			s.shutdown()
		}
		close(c.done)
		c.events.close()
	})
}

// Close closes the connection with StatusNormalClosure, stops reconnecting, closes every
// subscription and waits for every goroutine the client started. It returns nil; calling it
// again is harmless.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.halt()
	c.wg.Wait()
	c.emit(Event{Kind: EventClose, State: StateClosed, CloseCode: websocket.StatusNormalClosure, Err: ErrClosed})
	c.stop(ErrClosed)
	return nil
}
