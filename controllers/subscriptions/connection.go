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
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
)

// ConnStatus is what a connection reports about its socket; every
// subscription on it shows the same.
type ConnStatus struct {
	State      v1alpha1.ConnectionState
	Since      time.Time
	Reason     string
	Message    string
	Reconnects int64
	// LastError is the last failure in words, kept after recovery.
	LastError string
	// Epoch numbers the sockets: it grows with each (re)connection.
	Epoch uint64
	// Authenticated is true once Directus accepted the credentials, until
	// it refuses them.
	Authenticated bool
	// ServerVersion is the Directus version, once read (when the
	// credentials may read it).
	ServerVersion string
}

// connWatcher is told what happens to a connection's socket: a subscription
// on it reports the state and resynchronises after a bad frame.
type connWatcher interface {
	connectionChanged()
	badFrame(err error)
}

// Connection is one Directus realtime socket and the REST client beside it,
// shared by the subscriptions that use the same Directus identity. It owns
// the only reconnect loop (the realtime client's, which also retries a
// failed first connect) and turns its lifecycle events into a ConnStatus.
// What it asks Directus once (primary keys, the server version) is in its
// lookups, the watches of items leaving a filter in its exits; the
// socket's life and status are under mu, in state.
type Connection struct {
	client *realtime.Client
	rest   *realtime.REST
	gate   *Gate
	url    string
	log    logr.Logger
	// login is true for email and password: such a connection makes
	// sessions of its own (logged out on Close), and a refused login is not
	// retried, since Directus locks an account after repeated failures.
	login bool
	// onChange is ConnectionOptions.OnChange.
	onChange func()
	lookups  *lookups
	exits    *exitWatches
	// done is closed when the client's Connect returns, once started.
	done chan struct{}

	mu    sync.Mutex
	state lockedState
}

// lockedState is what changes in a Connection's life, under its mu.
type lockedState struct {
	st       ConnStatus
	watchers map[connWatcher]struct{}
	started  bool
	// everConnected is set on the first authentication: the next ones are
	// reconnects.
	everConnected bool
	// halted is set once Directus refused an email and password: no event
	// changes the status any more.
	halted bool
}

// ConnectionOptions configure a Connection.
type ConnectionOptions struct {
	// Realtime are the socket's settings. Logger, OnEvent, Gate and
	// RetryOnFailedConnect are set by the connection.
	Realtime realtime.Options
	// Gate bounds the logins and full reads that run at once against this
	// Directus server; nil means no bound.
	Gate *Gate
	// Log receives the connection's logs.
	Log logr.Logger
	// OnChange, if set, is called outside any lock whenever the status
	// changes, as a subscription on the connection is told.
	OnChange func()
}

// NewConnection returns an idle connection; Start dials.
func NewConnection(o ConnectionOptions) (*Connection, error) {
	c := &Connection{
		gate: o.Gate, url: o.Realtime.URL, log: o.Log, onChange: o.OnChange, done: make(chan struct{}),
		state: lockedState{
			watchers: map[connWatcher]struct{}{},
			st: ConnStatus{
				State: v1alpha1.ConnectionStateConnecting, Since: time.Now(),
				Reason: v1alpha1.ReasonConnecting, Message: "connecting to Directus",
			},
		},
	}
	opts := o.Realtime
	opts.Logger = o.Log.WithName("realtime")
	opts.OnEvent = c.onEvent
	opts.RetryOnFailedConnect = true
	if o.Gate != nil {
		opts.Gate = o.Gate.AcquireLogin
		opts.SubscribeGate = o.Gate.AcquireSubscribe
	}
	client, err := realtime.New(opts)
	if err != nil {
		return nil, err
	}
	server := opts.Server
	server.Logger = o.Log.WithName("rest")
	rest, err := realtime.NewREST(realtime.RESTOptions{Server: server})
	if err != nil {
		return nil, err
	}
	c.client, c.rest = client, rest
	c.lookups = newLookups(rest, o.Log)
	c.exits = newExitWatches(client)
	c.login = opts.Auth.Email != ""
	connectionsGauge.WithLabelValues(string(c.state.st.State)).Inc()
	return c, nil
}

// Start dials in the background; failures are retried by the realtime
// client's loop and show in Status. It runs until ctx ends or Close.
func (c *Connection) Start(ctx context.Context) {
	c.mu.Lock()
	if c.state.started {
		c.mu.Unlock()
		return
	}
	c.state.started = true
	c.mu.Unlock()
	c.lookups.start(ctx, func(v string) { c.update(func(st *ConnStatus) { st.ServerVersion = v }) })
	go func() {
		defer close(c.done)
		if err := c.client.Connect(ctx); err != nil && !errors.Is(err, realtime.ErrClosed) {
			// Only a closed client or bad options get here: RetryOnFailedConnect
			// hands every dial failure to the reconnect loop.
			c.update(func(st *ConnStatus) {
				reason, msg := classifyConnError(err)
				st.State, st.Reason, st.Message, st.LastError = v1alpha1.ConnectionStateDisconnected, reason, msg, msg
			})
		}
	}()
}

// Close closes the socket, waits for the client's goroutines and, for
// email and password, logs the sessions it made out.
func (c *Connection) Close() {
	_ = c.client.Close()
	c.lookups.stop()
	if c.login {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.rest.Logout(ctx, c.client.RefreshToken()); err != nil {
			c.log.V(1).Info("Logging out of Directus failed", "error", err.Error())
		}
		cancel()
	}
	c.mu.Lock()
	started := c.state.started
	state := c.state.st.State
	c.mu.Unlock()
	if started {
		<-c.done
	}
	c.exits.wait()
	connectionsGauge.WithLabelValues(string(state)).Dec()
}

// Status returns the socket's state.
func (c *Connection) Status() ConnStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.st
}

func (c *Connection) watch(w connWatcher) {
	c.mu.Lock()
	c.state.watchers[w] = struct{}{}
	c.mu.Unlock()
}

func (c *Connection) unwatch(w connWatcher) {
	c.mu.Lock()
	delete(c.state.watchers, w)
	c.mu.Unlock()
}

// subscribe sends a subscription on the socket (now, or when it connects).
func (c *Connection) subscribe(ctx context.Context, o realtime.SubscribeOptions) (*realtime.Subscription, error) {
	return c.client.Subscribe(ctx, o)
}

// primaryKey returns the collection's primary key field (see
// lookups.primaryKey).
func (c *Connection) primaryKey(ctx context.Context, collection string) (string, error) {
	return c.lookups.primaryKey(ctx, collection)
}

// joinExits returns a feed of the socket's exit watch of collection (see
// exitWatches.join).
func (c *Connection) joinExits(ctx context.Context, collection, keyField string) (*exitFeed, error) {
	return c.exits.join(ctx, collection, keyField)
}

// leaveExits gives f back (see exitWatches.leave).
func (c *Connection) leaveExits(ctx context.Context, f *exitFeed) { c.exits.leave(ctx, f) }

// update changes the status and tells every watcher when something a
// condition shows changed.
func (c *Connection) update(fn func(st *ConnStatus)) {
	c.mu.Lock()
	before := c.state.st
	fn(&c.state.st)
	st := &c.state.st
	if st.Reason == v1alpha1.ReasonAuthFailed {
		st.Authenticated = false
	}
	if st.State != before.State {
		st.Since = time.Now()
		connectionsGauge.WithLabelValues(string(before.State)).Dec()
		connectionsGauge.WithLabelValues(string(st.State)).Inc()
	}
	changed := *st != before
	watchers := c.watcherList()
	c.mu.Unlock()
	if changed {
		for _, w := range watchers {
			w.connectionChanged()
		}
		if c.onChange != nil {
			c.onChange()
		}
	}
}

// watcherList runs under mu.
func (c *Connection) watcherList() []connWatcher {
	ws := make([]connWatcher, 0, len(c.state.watchers))
	for w := range c.state.watchers {
		ws = append(ws, w)
	}
	return ws
}

// haltLogins stops the client after Directus refused an email and password:
// every retry would be one more failed login, and Directus suspends the user
// after its login-attempts limit (25 by default, never reset by time), which
// would break every other client of that account. A new Secret makes a new
// connection.
func (c *Connection) haltLogins(msg string) {
	c.mu.Lock()
	if c.state.halted {
		c.mu.Unlock()
		return
	}
	c.state.halted = true
	c.mu.Unlock()
	c.log.Info("Directus refused the email and password; not logging in again until the Secret changes")
	c.update(func(st *ConnStatus) {
		st.State, st.Reason, st.LastError = v1alpha1.ConnectionStateDisconnected, v1alpha1.ReasonAuthFailed, msg
		st.Message = msg + "; no more login attempts until the Secret changes, so that Directus does not lock the account"
	})
	// Not on this goroutine: Close waits for the event goroutine.
	go func() { _ = c.client.Close() }()
}

// onEvent turns the realtime client's lifecycle events into the status,
// one function per kind. It runs on the client's event goroutine, one event
// at a time.
func (c *Connection) onEvent(ev realtime.Event) {
	c.mu.Lock()
	halted := c.state.halted
	c.mu.Unlock()
	if halted || c.refusedLogin(ev) {
		return
	}
	switch ev.Kind {
	case realtime.EventAuthenticated:
		c.onAuthenticated(ev)
	case realtime.EventClose:
		c.onClose(ev)
	case realtime.EventReconnecting:
		c.onReconnecting(ev)
	case realtime.EventError:
		c.onError(ev)
	case realtime.EventGaveUp:
		reason, msg := classifyConnError(ev.Err)
		c.update(func(st *ConnStatus) {
			st.State, st.Reason, st.Message = v1alpha1.ConnectionStateDisconnected, reason, msg
		})
	}
}

// refusedLogin halts the logins of an email and password that Directus
// refused (see haltLogins); it reports whether it did.
func (c *Connection) refusedLogin(ev realtime.Event) bool {
	if !c.login || (ev.Kind != realtime.EventError && ev.Kind != realtime.EventClose) || ev.Err == nil {
		return false
	}
	reason, msg := classifyConnError(ev.Err)
	if reason != v1alpha1.ReasonAuthFailed {
		return false
	}
	c.haltLogins(msg)
	return true
}

// onAuthenticated is a socket Directus accepted: connected, and a
// reconnect when it is not the first.
func (c *Connection) onAuthenticated(ev realtime.Event) {
	c.mu.Lock()
	again := c.state.everConnected
	c.state.everConnected = true
	c.mu.Unlock()
	c.lookups.authenticated()
	c.log.V(1).Info("Authenticated to Directus", "url", c.url, "epoch", ev.Epoch)
	c.update(func(st *ConnStatus) {
		if again && ev.Epoch != st.Epoch {
			st.Reconnects++
		}
		st.Epoch = ev.Epoch
		st.State, st.Reason, st.Message = v1alpha1.ConnectionStateConnected, v1alpha1.ReasonConnected, "connected and authenticated"
		st.Authenticated = true
	})
}

// onClose is a socket that closed; the client's loop reconnects.
func (c *Connection) onClose(ev realtime.Event) {
	reason, msg := v1alpha1.ReasonReconnecting, fmt.Sprintf("the connection closed (code %d)", ev.CloseCode)
	if ev.Err != nil {
		reason, msg = classifyConnError(ev.Err)
	}
	c.update(func(st *ConnStatus) {
		st.State, st.Reason, st.Message = v1alpha1.ConnectionStateReconnecting, reason, msg
		if ev.Err != nil && !errors.Is(ev.Err, realtime.ErrClosed) {
			st.LastError = msg
		}
	})
}

// onReconnecting is the client's loop waiting for its next attempt.
func (c *Connection) onReconnecting(ev realtime.Event) {
	c.update(func(st *ConnStatus) {
		st.State = v1alpha1.ConnectionStateReconnecting
		if st.Reason == v1alpha1.ReasonConnected || st.Reason == v1alpha1.ReasonConnecting {
			st.Reason = v1alpha1.ReasonReconnecting
		}
		if ev.Attempt > 0 && ev.Err != nil {
			_, msg := classifyConnError(ev.Err)
			st.Message = fmt.Sprintf("%s (attempt %d, next in %s)", msg, ev.Attempt, ev.Delay.Round(time.Millisecond))
		}
	})
}

// onError is a failure on the socket: a frame that could not be read,
// which every subscription on it must hear of, or a dial or protocol error.
func (c *Connection) onError(ev realtime.Event) {
	if ev.Err == nil {
		return
	}
	if errors.Is(ev.Err, realtime.ErrBadFrame) {
		// A frame on a shared socket may have belonged to any
		// subscription on it: each one resynchronises.
		c.log.Info("Directus sent a frame that could not be read", "error", ev.Err.Error())
		c.mu.Lock()
		watchers := c.watcherList()
		c.mu.Unlock()
		for _, w := range watchers {
			w.badFrame(ev.Err)
		}
		return
	}
	reason, msg := classifyConnError(ev.Err)
	c.log.V(1).Info("Directus connection error", "reason", reason, "error", ev.Err.Error())
	c.update(func(st *ConnStatus) {
		st.LastError = msg
		if ev.State == realtime.StateReconnecting {
			// A dial failed (the first one too): the loop retries.
			st.State = v1alpha1.ConnectionStateReconnecting
		}
		if st.State != v1alpha1.ConnectionStateConnected {
			st.Reason, st.Message = reason, msg
		}
	})
}

// SetAccessToken moves the connection to a new static access token (a
// rotated Secret) without dropping it: the socket re-authenticates in place
// and its subscriptions read again, REST requests use the new token, and the
// old one is not sent again. It fails with realtime.ErrNotStaticToken for
// other credentials.
func (c *Connection) SetAccessToken(token string) error {
	if err := c.rest.SetAccessToken(token); err != nil {
		return err
	}
	return c.client.SetAccessToken(token)
}
