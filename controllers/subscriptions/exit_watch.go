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
	"fmt"
	"sync"
	"time"

	"github.com/directus-operator/directus-operator/realtime"
)

// exitWatch is the one subscription per socket and collection that names
// every updated item by its key: Directus sends nothing on a filtered
// subscription when an update moves an item out of the filter, so a mirror
// with a filter learns of it here. Its query (every update, the key field
// only) is the same for every filtered mirror of the collection, so one
// subscription serves them all: Directus reads each update once for the
// socket instead of once per mirror, and a restart subscribes once per
// collection instead of once per mirror.
type exitWatch struct {
	sub   *realtime.Subscription
	feeds map[*exitFeed]struct{}
	done  chan struct{}
}

// exitFeed is one runner's copy of an exit watch's messages, read like a
// realtime.Subscription with Ready and Drain.
type exitFeed struct {
	key    string
	mu     sync.Mutex
	queue  []realtime.Message
	notify chan struct{}
}

// maxExitFeed bounds a feed's queue; past it the queue becomes one gap,
// which makes the runner read the collection again.
const maxExitFeed = 4096

// Ready is signalled when messages wait for Drain.
func (f *exitFeed) Ready() <-chan struct{} {
	if f == nil {
		return nil
	}
	return f.notify
}

// Drain returns the waiting messages, in order.
func (f *exitFeed) Drain() []realtime.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue
	f.queue = nil
	return q
}

func (f *exitFeed) push(msgs []realtime.Message) {
	f.mu.Lock()
	if len(f.queue)+len(msgs) > maxExitFeed {
		last := msgs[len(msgs)-1]
		f.queue = append(f.queue[:0], realtime.Message{Kind: realtime.KindGap, Epoch: last.Epoch, Received: last.Received})
	} else {
		f.queue = append(f.queue, msgs...)
	}
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// exitWatches are a socket's exit watches, by collection and key field.
type exitWatches struct {
	client *realtime.Client
	// wg waits for the watches' fan-out goroutines.
	wg sync.WaitGroup

	// mu is held while subscribing a new watch, so that two runners cannot
	// open two.
	mu    sync.Mutex
	byKey map[string]*exitWatch
	seq   int
}

func newExitWatches(client *realtime.Client) *exitWatches {
	return &exitWatches{client: client, byKey: map[string]*exitWatch{}}
}

// join returns a feed of the exit watch of collection, keyed by keyField,
// subscribing it on the socket when this is its first runner.
func (x *exitWatches) join(ctx context.Context, collection, keyField string) (*exitFeed, error) {
	key := collection + "\x00" + keyField
	f := &exitFeed{key: key, notify: make(chan struct{}, 1)}
	x.mu.Lock()
	defer x.mu.Unlock()
	if w, ok := x.byKey[key]; ok {
		w.feeds[f] = struct{}{}
		return f, nil
	}
	x.seq++
	// A new uid each time: the unsubscribe of a watch that just lost its
	// last runner may still be on its way and must not cancel this one.
	sub, err := x.client.Subscribe(ctx, realtime.SubscribeOptions{
		Collection: collection, Event: "update", UID: fmt.Sprintf("exits:%d:%s", x.seq, collection),
		Query: queryPlan{keyField: keyField}.exitWatchQuery(),
	})
	if err != nil {
		return nil, err
	}
	w := &exitWatch{sub: sub, feeds: map[*exitFeed]struct{}{f: {}}, done: make(chan struct{})}
	x.byKey[key] = w
	x.wg.Go(func() { x.fanOut(w) })
	return f, nil
}

// leave removes f from its watch and unsubscribes the watch when f was its
// last runner.
func (x *exitWatches) leave(ctx context.Context, f *exitFeed) {
	x.mu.Lock()
	w := x.byKey[f.key]
	if w == nil {
		x.mu.Unlock()
		return
	}
	delete(w.feeds, f)
	last := len(w.feeds) == 0
	if last {
		delete(x.byKey, f.key)
	}
	x.mu.Unlock()
	if last {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = w.sub.Unsubscribe(uctx)
		<-w.done
	}
}

// wait waits for every watch to end (the client closes them all).
func (x *exitWatches) wait() { x.wg.Wait() }

// fanOut copies each batch of the watch's messages to every feed, until
// the watch is unsubscribed or the client closes.
func (x *exitWatches) fanOut(w *exitWatch) {
	defer close(w.done)
	for {
		select {
		case <-w.sub.Ready():
		case <-w.sub.Done():
			return
		}
		msgs := w.sub.Drain()
		if len(msgs) == 0 {
			continue
		}
		x.mu.Lock()
		feeds := make([]*exitFeed, 0, len(w.feeds))
		for f := range w.feeds {
			feeds = append(feeds, f)
		}
		x.mu.Unlock()
		for _, f := range feeds {
			f.push(msgs)
		}
	}
}
