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
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/singleflight"

	"github.com/directus-operator/directus-operator/realtime"
)

// What a connection reads from Directus besides its socket's messages: a
// collection's primary key and the server's version (its lookups), and
// full reads of a query.

// lookups are what a connection asks Directus once and keeps: each
// collection's primary key, and the server's version, read after the first
// authentication for the status of connection objects.
type lookups struct {
	rest *realtime.REST
	log  logr.Logger
	// authOnce closes authed on the first authentication.
	authOnce sync.Once
	authed   chan struct{}
	// wg waits for the version read.
	wg sync.WaitGroup

	mu sync.Mutex
	// cancel ends the version read.
	cancel      context.CancelFunc
	primaryKeys map[string]string
	pkFlight    singleflight.Group
}

func newLookups(rest *realtime.REST, log logr.Logger) *lookups {
	return &lookups{rest: rest, log: log, authed: make(chan struct{}), cancel: func() {}, primaryKeys: map[string]string{}}
}

// start reads the server's version once the socket first authenticates
// (see authenticated), until ctx ends or stop, and hands it to set.
func (l *lookups) start(ctx context.Context, set func(version string)) {
	ctx, cancel := context.WithCancel(ctx)
	l.mu.Lock()
	l.cancel = cancel
	l.mu.Unlock()
	l.wg.Go(func() {
		select {
		case <-l.authed:
		case <-ctx.Done():
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		v, err := l.rest.ServerVersion(ctx)
		if err != nil {
			l.log.V(1).Info("Reading the Directus version failed", "error", err.Error())
			return
		}
		set(v)
	})
}

// authenticated says Directus accepted the socket's credentials.
func (l *lookups) authenticated() { l.authOnce.Do(func() { close(l.authed) }) }

// stop ends the version read and waits for it.
func (l *lookups) stop() {
	l.mu.Lock()
	cancel := l.cancel
	l.mu.Unlock()
	cancel()
	l.wg.Wait()
}

// primaryKey returns the collection's primary key field, asked once per
// connection. The user may not read the collection's fields (most API users
// may not): then Directus's default, id, is the best guess, and an item
// without it is reported, not dropped silently. Only a network error is
// returned, for the caller to retry.
func (l *lookups) primaryKey(ctx context.Context, collection string) (string, error) {
	l.mu.Lock()
	pk, ok := l.primaryKeys[collection]
	l.mu.Unlock()
	if ok {
		return pk, nil
	}
	// Every runner on a new connection asks at once: one request answers
	// them all (a thousand lookups were seconds of Directus's time after a
	// restart).
	ch := l.pkFlight.DoChan(collection, func() (any, error) {
		return l.lookupPrimaryKey(context.WithoutCancel(ctx), collection)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (l *lookups) lookupPrimaryKey(ctx context.Context, collection string) (string, error) {
	pk, err := l.rest.PrimaryKey(ctx, collection)
	switch {
	case err == nil:
	case isNetworkError(err):
		return "", err
	default:
		l.log.V(1).Info("Primary key lookup failed, assuming id", "collection", collection, "error", err.Error())
		pk = "id"
	}
	l.mu.Lock()
	l.primaryKeys[collection] = pk
	l.mu.Unlock()
	return pk, nil
}

// readAll reads a query's full result, through the server's gate. With a
// key, it pages by key; without one (a window: sort and limit define it) it
// pages by offset.
//
// The pages travel over the socket when it is up: Directus answers an
// "items" read there with the socket's identity, the one its events are
// read with, and without authenticating an HTTP request, which makes it
// cost the server about a third less than a GET (make bench-scale measures
// both; docs/benchmarks.md). A thousand subscriptions reading after a
// restart spend much of Directus's time on it. Without a
// socket, or for a query that names no order (REST looks the primary key up
// to page by it), the read goes over REST.
func (c *Connection) readAll(ctx context.Context, collection string, query json.RawMessage, key string) ([]json.RawMessage, error) {
	if c.gate != nil {
		release, err := c.gate.Acquire(ctx, PriorityRead)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	overSocket := key != "" || hasSort(query)
	opts := realtime.ReadOptions{Key: key}
	var rows []json.RawMessage
	var err error
	if overSocket {
		rows, err = c.client.ReadAll(ctx, collection, query, opts)
	}
	if !overSocket || errors.Is(err, realtime.ErrNotConnected) {
		rows, err = c.rest.ReadAll(ctx, collection, query, opts)
	}
	if over, after := realtime.Overloaded(err); over && c.gate != nil {
		// Directus is under pressure (429, 503, a rate-limited socket):
		// hold every read of this server back, not only this one.
		c.gate.Pause(max(after, time.Second))
	}
	return rows, err
}

func hasSort(query json.RawMessage) bool {
	var q struct {
		Sort json.RawMessage `json:"sort"`
	}
	return json.Unmarshal(query, &q) == nil && len(q.Sort) > 0 && string(q.Sort) != "null"
}
