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

// What the client receives: reading frames, and handing replies,
// subscription messages and error frames to whoever waits for them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// resendAwaitingInit re-sends subscriptions that got no init on cn (their subscribe may have
// been dropped by the rate limiter). Re-subscribing with the same uid replaces, so this is safe.
func (c *Client) resendAwaitingInit(ctx context.Context, cn *conn) {
	c.mu.Lock()
	var subs []*Subscription
	for _, s := range c.subs {
		if s.awaitingInit(cn.epoch) {
			subs = append(subs, s)
		}
	}
	c.mu.Unlock()
	for _, s := range subs {
		c.log.V(4).Info("Re-sending subscribe after rate limiting", "uid", s.uid)
		_ = c.send(ctx, cn, s.frame())
	}
}

// read is the connection's only reader. It never blocks on consumers: subscription messages
// go to bounded queues, replies to buffered channels, pings are answered at once.
func (c *Client) read(ctx context.Context, cn *conn) {
	defer close(cn.readerDone)
	for {
		b, err := c.readFrame(ctx, cn.ws)
		if err != nil {
			if bf, ok := errors.AsType[*badFrameError](err); ok {
				cn.touch()
				if bf.replyUID != "" && c.deliverReply(bf.replyUID, reply{err: &ResponseTooLargeError{Request: "items reply " + bf.replyUID, Limit: c.opts.ReadLimit}}) {
					// Too large an answer to one of our requests: that
					// request fails, and no subscription lost anything.
					continue
				}
				c.log.V(4).Info("Skipped a bad frame", "error", err.Error())
				c.emit(Event{Kind: EventError, State: StateConnected, Err: err, Epoch: cn.epoch})
				continue
			}
			cn.readErr = err
			return
		}
		cn.touch()
		c.handle(cn, b)
	}
}

// badFrameError is a frame that was skipped; the connection is fine.
type badFrameError struct {
	msg string
	// replyUID is set when the frame was too large and looks like the
	// answer to a request (an "items" frame, whose uid Directus writes
	// last), so that only that request fails.
	replyUID string
}

func (e *badFrameError) Error() string { return "directus: bad frame: " + e.msg }

// Is makes errors.Is(err, ErrBadFrame) true.
func (e *badFrameError) Is(target error) bool { return target == ErrBadFrame }

func (c *Client) readFrame(ctx context.Context, ws *websocket.Conn) ([]byte, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, c.opts.ReadLimit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > c.opts.ReadLimit {
		tail := tailWriter{buf: append([]byte(nil), b[len(b)-min(len(b), tailSize):]...)}
		if _, err := io.Copy(&tail, r); err != nil {
			return nil, err
		}
		bf := &badFrameError{msg: fmt.Sprintf("larger than ReadLimit (%d bytes)", c.opts.ReadLimit)}
		// Directus writes "type" first and "uid" last; a re-encoding
		// proxy may have moved "type" to the end.
		if itemsFrameRE.Match(b) || itemsTypeRE.Match(tail.buf) {
			if m := tailUIDRE.FindSubmatch(tail.buf); m != nil {
				bf.replyUID = string(m[1])
			}
		}
		return nil, bf
	}
	if typ != websocket.MessageText {
		return nil, &badFrameError{msg: "binary message"}
	}
	return b, nil
}

// tailSize is how much of the end of an oversized frame is kept, to find
// its uid.
const tailSize = 256

var (
	itemsFrameRE = regexp.MustCompile(`^\s*\{\s*"type"\s*:\s*"items"`)
	itemsTypeRE  = regexp.MustCompile(`"type"\s*:\s*"items"`)
	tailUIDRE    = regexp.MustCompile(`"uid"\s*:\s*"([^"\\]{1,128})"\s*\}\s*$`)
)

// tailWriter discards what it is given but the last tailSize bytes.
type tailWriter struct{ buf []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// handle dispatches one frame.
func (c *Client) handle(cn *conn, b []byte) {
	f, err := decodeFrame(b)
	if err != nil {
		c.emit(Event{Kind: EventError, State: StateConnected, Err: &badFrameError{msg: err.Error()}, Epoch: cn.epoch})
		return
	}
	switch f.Type {
	case "ping":
		// Answer at once; the server closes sockets that stay silent for one period.
		pong := pingFrame{Type: "pong"}
		if f.UID.set {
			pong.UID = f.UID.s
		}
		if err := c.write(cn, pong); err != nil {
			c.log.V(4).Info("Could not answer ping", "error", err.Error())
		}
		return
	case "subscription":
		c.handleSubscription(cn, &f)
		return
	}
	if se := f.serverError(); se != nil {
		c.handleError(cn, &f, se)
		return
	}
	if f.UID.set && c.deliverReply(f.UID.s, reply{f: f}) {
		return
	}
	switch f.Type {
	case "pong", "auth", "items":
		c.log.V(4).Info("Reply for no pending request", "type", f.Type, "uid", f.UID.s)
	default:
		c.emit(Event{Kind: EventError, State: StateConnected, Err: &badFrameError{msg: fmt.Sprintf("unexpected frame type %q", f.Type)}, Epoch: cn.epoch})
	}
}

func (c *Client) deliverReply(uid string, r reply) bool {
	c.mu.Lock()
	ch, ok := c.pending[uid]
	if ok {
		delete(c.pending, uid)
	}
	c.mu.Unlock()
	if ok {
		ch <- r // buffered, one reply per request
	}
	return ok
}

func (c *Client) handleSubscription(cn *conn, f *frame) {
	if f.Event == "unsubscribe" {
		c.mu.Lock()
		if w, ok := c.unsubWait[f.UID.s]; ok {
			close(w)
			delete(c.unsubWait, f.UID.s)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	s := c.subs[f.UID.s]
	c.mu.Unlock()
	if s == nil {
		c.log.V(4).Info("Message for an unknown subscription", "uid", f.UID.s, "event", f.Event)
		return
	}
	m, err := subscriptionMessage(f, cn.epoch, time.Now())
	if err != nil {
		c.emit(Event{Kind: EventError, State: StateConnected, Err: &badFrameError{msg: err.Error()}, Epoch: cn.epoch})
		return
	}
	if m.Kind == KindInit {
		s.markInit(cn.epoch)
	}
	s.enqueue(m)
}

var retryAfterRE = regexp.MustCompile(`(\d+)\s*ms`)

func (c *Client) handleError(cn *conn, f *frame, se *ServerError) {
	now := time.Now()
	switch se.Code {
	case CodeTokenExpired:
		c.mu.Lock()
		c.tokenExpired = true
		c.mu.Unlock()
		c.log.Info("Access token expired, re-authenticating")
		select {
		case cn.expired <- struct{}{}:
		default:
		}
		c.emit(Event{Kind: EventError, State: StateConnected, Err: se, Epoch: cn.epoch})
		return
	case CodeRequestsExceeded:
		d := time.Second
		if m := retryAfterRE.FindStringSubmatch(se.Message); m != nil {
			if ms, err := strconv.Atoi(m[1]); err == nil {
				d = time.Duration(ms) * time.Millisecond
			}
		}
		c.mu.Lock()
		if until := now.Add(d); until.After(c.throttleUntil) {
			c.throttleUntil = until
		}
		c.mu.Unlock()
		cn.resubAt.Store(now.Add(d).UnixNano())
		c.log.Info("Rate limited by Directus, slowing down", "retryAfter", d)
		if f.UID.set {
			c.deliverReply(f.UID.s, reply{f: *f, err: se})
		}
		c.emit(Event{Kind: EventError, State: StateConnected, Err: se, Epoch: cn.epoch})
		return
	}
	if f.UID.set {
		if f.Type == "auth" {
			cn.lastErr.Store(se) // a failed re-auth: Directus closes next
		}
		if c.deliverReply(f.UID.s, reply{f: *f, err: se}) {
			return
		}
		c.mu.Lock()
		s := c.subs[f.UID.s]
		expired := c.tokenExpired
		c.mu.Unlock()
		if s != nil {
			if expired && se.Code == CodeForbidden {
				// An event lost while the token is expired; a gap follows the re-auth.
				c.log.V(4).Info("Event lost while the token is expired", "uid", s.uid)
				return
			}
			s.markInit(cn.epoch)
			s.enqueue(Message{Kind: KindError, UID: s.uid, Err: se, Epoch: cn.epoch, Received: now})
			return
		}
		c.emit(Event{Kind: EventError, State: StateConnected, Err: se, Epoch: cn.epoch})
		return
	}
	if f.Type == "subscribe" {
		// Schema-validation errors carry no uid: blame the oldest subscribe still waiting for
		// its init on this connection.
		if s := c.oldestAwaitingInit(cn.epoch); s != nil {
			s.markInit(cn.epoch)
			se.UID = s.uid
			s.enqueue(Message{Kind: KindError, UID: s.uid, Err: se, Epoch: cn.epoch, Received: now})
			return
		}
	}
	// An error not tied to a request: if the server closes next, this is why.
	cn.lastErr.Store(se)
	c.emit(Event{Kind: EventError, State: StateConnected, Err: se, Epoch: cn.epoch})
}

func (c *Client) oldestAwaitingInit(epoch uint64) *Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *Subscription
	var bestAt time.Time
	for _, s := range c.subs {
		s.mu.Lock()
		ok := s.sentEpoch == epoch && s.initEpoch != epoch
		at := s.sentAt
		s.mu.Unlock()
		if ok && (best == nil || at.Before(bestAt)) {
			best, bestAt = s, at
		}
	}
	return best
}
