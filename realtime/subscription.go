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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SubscribeOptions describes a subscription.
type SubscribeOptions struct {
	// Collection to subscribe to. Required.
	Collection string
	// Event limits the subscription to "create", "update" or "delete". Empty means all
	// events, and then the init message carries the current rows (at most 100 unless
	// Query sets "limit", because Directus applies QUERY_LIMIT_DEFAULT).
	Event string
	// Query is nil or a JSON object: fields, filter, sort, limit, deep, meta. The filter
	// applies to create and update events, not to deletes; "limit" also truncates update events.
	Query json.RawMessage
	// Item subscribes to a single item (the "item" field). Directus only delivers its updates
	// when they were made by key from a URL; prefer a filter. Optional.
	Item any
	// UID identifies the subscription on the wire. Generated when empty.
	UID string
}

func (o SubscribeOptions) validate() error {
	if o.Collection == "" {
		return errors.New("directus: SubscribeOptions.Collection is required")
	}
	switch MessageKind(o.Event) {
	case "", KindCreate, KindUpdate, KindDelete:
	default:
		return fmt.Errorf("directus: SubscribeOptions.Event %q is not create, update or delete", o.Event)
	}
	return validQuery(o.Query)
}

func validQuery(q json.RawMessage) error {
	q = bytes.TrimSpace(q)
	if len(q) == 0 || bytes.Equal(q, []byte("null")) {
		return nil
	}
	if q[0] != '{' || !json.Valid(q) {
		return errors.New("directus: query must be a JSON object")
	}
	return nil
}

// Subscription is a live subscription. Its messages wait, in order, in a bounded queue: a slow
// reader never blocks the connection or other subscriptions; if the queue overflows, it is
// cleared and a KindGap message takes its place. Across reconnects the subscription is re-sent
// and delivers a fresh KindInit (new Epoch).
//
// Read the messages one at a time from C (a goroutine of the subscription's own feeds it), or
// in batches with Ready and Drain (no goroutine): a consumer that writes somewhere slow takes
// everything queued at once and merges it into one write. Use one way or the other, not both.
type Subscription struct {
	c    *Client
	uid  string
	opts SubscribeOptions
	out  chan Message

	mu        sync.Mutex
	queue     []Message
	limit     int
	bytes     int64 // of the queued messages' items and keys
	byteLimit int64
	closed    bool
	sentEpoch uint64 // epoch of the connection the subscribe frame was last sent on
	initEpoch uint64 // epoch of the last init received
	sentAt    time.Time
	// slot is what Options.SubscribeGate gave the subscribe frame last sent (on the
	// connection with slotEpoch), held until the init arrives.
	slot      func()
	slotEpoch uint64
	notify    chan struct{}
	stop      chan struct{}
	done      chan struct{}
	delivery  sync.Once // starts the goroutine behind C
}

func newSubscription(c *Client, o SubscribeOptions, limit int, byteLimit int64) *Subscription {
	s := &Subscription{
		c: c, uid: o.UID, opts: o, limit: limit, byteLimit: byteLimit,
		out:    make(chan Message),
		notify: make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	return s
}

// UID returns the subscription's uid.
func (s *Subscription) UID() string { return s.uid }

// Options returns the options the subscription was made with (UID filled in).
func (s *Subscription) Options() SubscribeOptions { return s.opts }

// C delivers the subscription's messages. It is closed after Unsubscribe or when the client
// stops; queued messages are then discarded.
func (s *Subscription) C() <-chan Message {
	s.delivery.Do(func() { go s.deliver() })
	return s.out
}

// Ready is signalled when messages are queued for Drain. It holds at most one signal, so a
// consumer drains until Drain returns nothing before it waits on Ready again.
func (s *Subscription) Ready() <-chan struct{} { return s.notify }

// Drain returns every queued message, in order, and empties the queue.
func (s *Subscription) Drain() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue, s.bytes = nil, 0
	return q
}

// Done is closed after Unsubscribe or when the client stops.
func (s *Subscription) Done() <-chan struct{} { return s.stop }

// Unsubscribe stops the subscription: C is closed at once, and if connected the server is
// told with {"type":"unsubscribe"} and its acknowledgement awaited (bounded by ctx).
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	return s.c.unsubscribe(ctx, s)
}

// enqueue adds m to the queue without ever blocking. On overflow the queue is replaced by a
// single gap marker.
func (s *Subscription) enqueue(m Message) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	size := m.size()
	if len(s.queue) >= s.limit || (s.byteLimit > 0 && s.bytes+size > s.byteLimit && len(s.queue) > 0) {
		s.queue = s.queue[:0]
		s.bytes = 0
		s.queue = append(s.queue, Message{Kind: KindGap, UID: s.uid, Epoch: m.Epoch, Received: m.Received})
		s.mu.Unlock()
		s.c.log.V(4).Info("Subscription queue overflowed, queued a gap", "uid", s.uid)
		s.wake()
		return
	}
	s.queue = append(s.queue, m)
	s.bytes += size
	s.mu.Unlock()
	s.wake()
}

// size is what a message holds in memory, roughly: its items and keys.
func (m *Message) size() int64 {
	var n int64
	for _, it := range m.Items {
		n += int64(len(it))
	}
	for _, k := range m.Keys {
		n += int64(len(k))
	}
	return n
}

// gap queues a KindGap unless one is already last in the queue.
func (s *Subscription) gap(epoch uint64) {
	s.mu.Lock()
	if s.closed || (len(s.queue) > 0 && s.queue[len(s.queue)-1].Kind == KindGap) {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.enqueue(Message{Kind: KindGap, UID: s.uid, Epoch: epoch, Received: time.Now()})
}

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Subscription) deliver() {
	defer close(s.done)
	defer close(s.out)
	for {
		s.mu.Lock()
		var m Message
		ok := len(s.queue) > 0
		if ok {
			m = s.queue[0]
			s.bytes -= m.size()
			s.queue[0] = Message{}
			s.queue = s.queue[1:]
			if len(s.queue) == 0 {
				s.queue = nil
			}
		}
		s.mu.Unlock()
		if !ok {
			select {
			case <-s.notify:
				continue
			case <-s.stop:
				return
			}
		}
		select {
		case s.out <- m:
		case <-s.stop:
			return
		}
	}
}

// shutdown closes C and waits for the delivery goroutine. Safe to call more than once.
func (s *Subscription) shutdown() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.closed = true
	s.queue = nil
	s.mu.Unlock()
	s.releaseSlot(0)
	close(s.stop)
	s.delivery.Do(func() {
		// C was never used: there is no goroutine to close it.
		close(s.out)
		close(s.done)
	})
	<-s.done
}

// markSent records that the subscribe frame went out on the connection with this epoch.
func (s *Subscription) markSent(epoch uint64) {
	s.mu.Lock()
	s.sentEpoch = epoch
	s.sentAt = time.Now()
	s.mu.Unlock()
}

func (s *Subscription) awaitingInit(epoch uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentEpoch == epoch && s.initEpoch != epoch
}

func (s *Subscription) markInit(epoch uint64) {
	s.mu.Lock()
	s.initEpoch = epoch
	s.mu.Unlock()
	s.releaseSlot(epoch)
}

// subscribeFrame is the wire form of a subscribe message.
type subscribeFrame struct {
	Type       string          `json:"type"`
	Collection string          `json:"collection"`
	Event      string          `json:"event,omitempty"`
	Item       any             `json:"item,omitempty"`
	Query      json.RawMessage `json:"query,omitempty"`
	UID        string          `json:"uid"`
}

func (s *Subscription) frame() subscribeFrame {
	q := bytes.TrimSpace(s.opts.Query)
	if isNull(q) {
		q = nil
	}
	return subscribeFrame{Type: "subscribe", Collection: s.opts.Collection, Event: s.opts.Event, Item: s.opts.Item, Query: q, UID: s.uid}
}
