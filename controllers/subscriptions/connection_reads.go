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
	"time"

	"github.com/directus-operator/directus-operator/realtime"
)

// What a connection reads from Directus besides its socket's messages: a
// collection's primary key, full reads of a query, the server's version.

// primaryKey returns the collection's primary key field, asked once per
// connection. The user may not read the collection's fields (most API users
// may not): then Directus's default, id, is the best guess, and an item
// without it is reported, not dropped silently. Only a network error is
// returned, for the caller to retry.
func (c *Connection) primaryKey(ctx context.Context, collection string) (string, error) {
	c.mu.Lock()
	pk, ok := c.primaryKeys[collection]
	c.mu.Unlock()
	if ok {
		return pk, nil
	}
	// Every runner on a new connection asks at once: one request answers
	// them all (a thousand lookups were seconds of Directus's time after a
	// restart).
	ch := c.pkLookups.DoChan(collection, func() (any, error) {
		return c.lookupPrimaryKey(context.WithoutCancel(ctx), collection)
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

func (c *Connection) lookupPrimaryKey(ctx context.Context, collection string) (string, error) {
	pk, err := c.rest.PrimaryKey(ctx, collection)
	switch {
	case err == nil:
	case isNetworkError(err):
		return "", err
	default:
		c.log.V(1).Info("Primary key lookup failed, assuming id", "collection", collection, "error", err.Error())
		pk = "id"
	}
	c.mu.Lock()
	c.primaryKeys[collection] = pk
	c.mu.Unlock()
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
	var rows []json.RawMessage
	var err error
	if overSocket {
		rows, err = readWith(ctx, c.client, collection, query, key)
	}
	if !overSocket || errors.Is(err, realtime.ErrNotConnected) {
		rows, err = readWith(ctx, c.rest, collection, query, key)
	}
	if over, after := realtime.Overloaded(err); over && c.gate != nil {
		// Directus is under pressure (429, 503, a rate-limited socket):
		// hold every read of this server back, not only this one.
		c.gate.Pause(max(after, time.Second))
	}
	return rows, err
}

// fullReader is what the socket (realtime.Client) and REST both offer.
type fullReader interface {
	ReadAll(ctx context.Context, collection string, query json.RawMessage) ([]json.RawMessage, error)
	ReadAllByKey(ctx context.Context, collection string, query json.RawMessage, key string) ([]json.RawMessage, error)
}

// readWith pages by key when there is one, else by offset.
func readWith(ctx context.Context, r fullReader, collection string, query json.RawMessage, key string) ([]json.RawMessage, error) {
	if key == "" {
		return r.ReadAll(ctx, collection, query)
	}
	return r.ReadAllByKey(ctx, collection, query, key)
}

func hasSort(query json.RawMessage) bool {
	var q struct {
		Sort json.RawMessage `json:"sort"`
	}
	return json.Unmarshal(query, &q) == nil && len(q.Sort) > 0 && string(q.Sort) != "null"
}

// readVersion asks Directus for its version once, for the status of
// connection objects; a failure leaves it unknown.
func (c *Connection) readVersion() {
	defer c.bg.Done()
	ctx, cancel := context.WithTimeout(c.bgCtx, 10*time.Second)
	defer cancel()
	v, err := c.rest.ServerVersion(ctx)
	if err != nil {
		c.log.V(1).Info("Reading the Directus version failed", "error", err.Error())
		return
	}
	c.update(func(st *ConnStatus) { st.ServerVersion = v })
}
