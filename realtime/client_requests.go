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

// What the client sends: writes, request/reply round trips (items, ping)
// and subscribe/unsubscribe.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

type pingFrame struct {
	Type string `json:"type"`
	UID  string `json:"uid,omitempty"`
}

// write sends v on cn at once (no throttling), bounded by WriteTimeout and by the client's
// lifetime, whoever asks: a caller's context would close the connection if it ended in
// the middle of a frame.
func (c *Client) write(cn *conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("directus: encode frame: %w", err)
	}
	ctx, cancel := context.WithTimeout(c.lifeContext(), c.opts.WriteTimeout)
	defer cancel()
	if err := cn.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("directus: write frame: %w", err)
	}
	return nil
}

// send waits out any rate limiting (bounded by ctx), then writes v.
func (c *Client) send(ctx context.Context, cn *conn, v any) error {
	c.mu.Lock()
	until := c.throttleUntil
	c.mu.Unlock()
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-cn.readerDone:
			t.Stop()
			return fmt.Errorf("%w: connection lost", ErrNotConnected)
		case <-t.C:
		}
	}
	return c.write(cn, v)
}

func (c *Client) nextUID(prefix string) string {
	return prefix + strconv.FormatUint(c.seq.Add(1), 10)
}

// request sends v (whose uid is id) and waits for the frame answering it.
func (c *Client) request(ctx context.Context, id string, v any) (frame, error) {
	return c.requestWithin(ctx, id, v, 0)
}

// requestWithin is request that also gives up after timeout (0: never). A
// timer bounds the wait rather than a context derived from ctx: a context
// derived from a long-lived one leaves a map of children in it, which a
// thousand subscriptions reading now and then would each keep.
func (c *Client) requestWithin(ctx context.Context, id string, v any, timeout time.Duration) (frame, error) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return frame{}, ErrClosed
	}
	cn := c.cur
	if cn == nil {
		c.mu.Unlock()
		return frame{}, ErrNotConnected
	}
	ch := make(chan reply, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	if err := c.send(ctx, cn, v); err != nil {
		return frame{}, err
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-expired:
		return frame{}, fmt.Errorf("directus: no reply within %s: %w", timeout, context.DeadlineExceeded)
	case r := <-ch:
		if r.err != nil {
			return r.f, r.err
		}
		return r.f, nil
	case <-ctx.Done():
		return frame{}, ctx.Err()
	case <-cn.readerDone:
		return frame{}, fmt.Errorf("%w: connection lost before the reply", ErrNotConnected)
	}
}

// ItemsRequest is an "items" action over the socket.
type ItemsRequest struct {
	// Collection is required.
	Collection string
	// Action is "create", "read", "update" or "delete". Required.
	Action string
	// ID addresses one item (read, update, delete).
	ID any
	// IDs addresses several items.
	IDs []any
	// Data is the payload of create (an object or a slice of objects) and update.
	Data any
	// Query is nil or a JSON object (fields, filter, sort, limit, ...).
	Query json.RawMessage
}

type itemsFrame struct {
	Type       string          `json:"type"`
	Collection string          `json:"collection"`
	Action     string          `json:"action"`
	ID         any             `json:"id,omitempty"`
	IDs        []any           `json:"ids,omitempty"`
	Data       any             `json:"data,omitempty"`
	Query      json.RawMessage `json:"query,omitempty"`
	UID        string          `json:"uid"`
}

// Items runs an items action and returns the reply's "data". The reply is matched by uid; a
// server error is returned as *ServerError. It needs a connection (ErrNotConnected otherwise).
// Give ctx a deadline: a request dropped by the server's rate limiter gets no reply.
func (c *Client) Items(ctx context.Context, r ItemsRequest) (json.RawMessage, error) {
	return c.items(ctx, r, 0)
}

// items is Items that gives up after timeout (0: never).
func (c *Client) items(ctx context.Context, r ItemsRequest, timeout time.Duration) (json.RawMessage, error) {
	if r.Collection == "" {
		return nil, errors.New("directus: ItemsRequest.Collection is required")
	}
	switch r.Action {
	case "create", "read", "update", "delete":
	default:
		return nil, fmt.Errorf("directus: ItemsRequest.Action %q is not create, read, update or delete", r.Action)
	}
	if err := validQuery(r.Query); err != nil {
		return nil, err
	}
	q := r.Query
	if isNull(q) {
		q = nil
	}
	id := c.nextUID("_rq")
	fr := itemsFrame{Type: "items", Collection: r.Collection, Action: r.Action, ID: r.ID, IDs: r.IDs, Data: r.Data, Query: q, UID: id}
	f, err := c.requestWithin(ctx, id, fr, timeout)
	if err != nil {
		return nil, err
	}
	return f.Data, nil
}

// CreateItem creates one item (data is an object) or several (a slice) and returns the
// created row(s), like the SDK's createItem.
func (c *Client) CreateItem(ctx context.Context, collection string, data any) (json.RawMessage, error) {
	return c.Items(ctx, ItemsRequest{Collection: collection, Action: "create", Data: data})
}

// Ping sends {"type":"ping"} and waits for the matching pong.
func (c *Client) Ping(ctx context.Context) error {
	id := c.nextUID("_ping")
	_, err := c.request(ctx, id, pingFrame{Type: "ping", UID: id})
	return err
}

// Subscribe registers a subscription and, when connected, sends it; otherwise it is sent on
// connect. It does not wait for the init message, which arrives on the subscription's C like
// everything else (a subscribe the server rejects delivers a KindError). With a
// SubscribeGate, it first waits for the gate while connected; ctx bounds that wait.
func (c *Client) Subscribe(ctx context.Context, o SubscribeOptions) (*Subscription, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closing {
		err := c.err
		c.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return nil, err
	}
	if o.UID == "" {
		o.UID = c.nextUID("sub")
	}
	if _, dup := c.subs[o.UID]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("directus: a subscription with uid %q exists", o.UID)
	}
	gated := c.opts.SubscribeGate != nil && c.cur != nil
	c.mu.Unlock()
	var slot func()
	if gated {
		// Wait for a slot before taking the uid, so that a subscribe that
		// gives up waiting leaves nothing behind.
		release, err := c.opts.SubscribeGate(ctx)
		if err != nil {
			return nil, err
		}
		slot = release
	}
	c.mu.Lock()
	if _, dup := c.subs[o.UID]; dup || c.closing {
		c.mu.Unlock()
		if slot != nil {
			slot()
		}
		if dup {
			return nil, fmt.Errorf("directus: a subscription with uid %q exists", o.UID)
		}
		return nil, ErrClosed
	}
	s := newSubscription(c, o, c.opts.SubscriptionBuffer, c.opts.SubscriptionBufferBytes)
	c.subs[o.UID] = s
	cn := c.cur
	if cn != nil {
		s.markSent(cn.epoch)
	}
	c.mu.Unlock()
	if cn == nil {
		// Sent on connect (through the gate, if any).
		if slot != nil {
			slot()
		}
		return s, nil
	}
	if slot != nil && !s.holdSlot(cn.epoch, slot) {
		return s, nil
	}
	if err := c.send(ctx, cn, s.frame()); err != nil {
		if ctx.Err() != nil {
			c.drop(s)
			return nil, err
		}
		// The connection is going away; the subscription is re-sent after reconnecting.
		c.log.V(4).Info("Could not send subscribe", "uid", s.uid, "error", err.Error())
		s.releaseSlot(cn.epoch)
	}
	return s, nil
}

func (c *Client) drop(s *Subscription) {
	c.mu.Lock()
	if c.subs[s.uid] == s {
		delete(c.subs, s.uid)
	}
	c.mu.Unlock()
	s.shutdown()
}

func (c *Client) unsubscribe(ctx context.Context, s *Subscription) error {
	c.mu.Lock()
	if c.subs[s.uid] != s {
		c.mu.Unlock()
		s.shutdown()
		return nil
	}
	delete(c.subs, s.uid)
	cn := c.cur
	var w chan struct{}
	if cn != nil {
		w = make(chan struct{})
		c.unsubWait[s.uid] = w
	}
	c.mu.Unlock()
	s.shutdown()
	if cn == nil {
		return nil
	}
	defer func() {
		c.mu.Lock()
		if c.unsubWait[s.uid] == w {
			delete(c.unsubWait, s.uid)
		}
		c.mu.Unlock()
	}()
	if err := c.send(ctx, cn, pingFrame{Type: "unsubscribe", UID: s.uid}); err != nil {
		return err
	}
	select {
	case <-w:
		return nil
	case <-cn.readerDone:
		return nil // subscriptions do not survive the connection
	case <-ctx.Done():
		return ctx.Err()
	}
}
