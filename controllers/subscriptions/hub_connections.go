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

// The Hub's pool of connections: sharing sockets by connection key up to a
// cap, the read gates per server, token rotation in place, and what the
// Hub reports per connection object.

import (
	"cmp"
	"context"
	"net/url"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// acquire returns a connection for cfg with room for one more
// subscription, opening one when none has.
func (h *Hub) acquire(cfg Config) (*Connection, error) {
	key := cfg.ConnectionKey
	limit := cmp.Or(cfg.MaxPerSocket, h.opts.MaxSubscriptionsPerConnection)
	for _, c := range h.conns[key] {
		if h.refs[c] < limit {
			h.refs[c]++
			h.objectChanged(cfg.ConnectionObject)
			h.rotate(c, cfg)
			return c, nil
		}
	}
	c, err := NewConnection(ConnectionOptions{
		Realtime: cfg.Realtime, Gate: h.gate(cfg),
		Log: h.log.WithValues("connection", shortKey(key), "url", redactedURL(cfg.Realtime.URL)),
	})
	if err != nil {
		return nil, err
	}
	h.conns[key] = append(h.conns[key], c)
	h.refs[c], h.keys[c] = 1, key
	if obj := cfg.ConnectionObject; obj.Kind != "" {
		h.objects[c] = obj
		c.watch(&objectWatcher{notify: func() { h.objectChanged(obj) }})
		h.objectChanged(obj)
	}
	if h.ctx != nil {
		c.Start(h.ctx)
	}
	return c, nil
}

// rotate moves c to cfg's static token when the connection key leaves the
// token out (a connection object's): the socket re-authenticates in place
// and its subscriptions read again, instead of every runner restarting on
// a new socket. Other connections never see another token under one key.
func (h *Hub) rotate(c *Connection, cfg Config) {
	tok := cfg.Realtime.Auth.AccessToken
	if cfg.ConnectionObject.Kind == "" || tok == "" {
		return
	}
	if err := c.SetAccessToken(tok); err != nil {
		h.log.Error(err, "Moving a connection to a rotated token failed", "connection", shortKey(cfg.ConnectionKey))
	}
}

// release gives back a subscription's place on c, closing c when it was
// the last.
func (h *Hub) release(c *Connection) {
	h.mu.Lock()
	last := h.releaseLocked(c)
	h.mu.Unlock()
	if last {
		c.Close()
	}
}

// releaseLocked drops one reference; it reports whether c must be closed.
func (h *Hub) releaseLocked(c *Connection) bool {
	h.refs[c]--
	obj := h.objects[c]
	defer h.objectChanged(obj)
	if h.refs[c] > 0 {
		return false
	}
	key := h.keys[c]
	delete(h.refs, c)
	delete(h.keys, c)
	delete(h.objects, c)
	list := h.conns[key]
	for i, x := range list {
		if x == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(h.conns, key)
	} else {
		h.conns[key] = list
	}
	return true
}

// gate returns the gate of cfg's Directus server. Subscriptions of a
// connection object share one gate per server with the object's
// concurrency; inline ones share the server's.
func (h *Hub) gate(cfg Config) *Gate {
	server := cfg.Realtime.URL
	if u, err := url.Parse(server); err == nil {
		server = u.Host
	}
	if obj := cfg.ConnectionObject; obj.Kind != "" {
		server += "|" + obj.Kind + "/" + obj.Key.String()
	}
	g, ok := h.gates[server]
	if !ok {
		g = NewGate(cmp.Or(cfg.MaxConcurrentReads, h.opts.MaxConcurrentReadsPerServer))
		h.gates[server] = g
	}
	return g
}

// Sockets returns the number of connections open or being opened.
func (h *Hub) Sockets() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.refs)
}

func shortKey(key string) string { return key[:min(8, len(key))] }

// redactedURL drops any user information from a URL for logs.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// objectWatcher tells a connection object's reconciler when a socket of
// the object changes state.
type objectWatcher struct{ notify func() }

func (w *objectWatcher) connectionChanged() { w.notify() }

func (w *objectWatcher) badFrame(error) {}

// ObjectStats is what the Hub runs for one connection object.
type ObjectStats struct {
	// Sockets counts the connections open or opening; Subscriptions the
	// subscriptions they carry.
	Sockets, Subscriptions int
	// Conns are the sockets' states.
	Conns []ConnStatus
}

// ObjectStats reports on the sockets of a connection object.
func (h *Hub) ObjectStats(obj ConnectionObject) ObjectStats {
	h.mu.Lock()
	var st ObjectStats
	var conns []*Connection
	for c, o := range h.objects {
		if o == obj {
			st.Sockets++
			st.Subscriptions += h.refs[c]
			conns = append(conns, c)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		st.Conns = append(st.Conns, c.Status())
	}
	return st
}

// ObjectSource feeds the reconciler of one kind of connection object: the
// Hub enqueues an object when its sockets or their subscriptions change.
func (h *Hub) ObjectSource(kind string) source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		h.objectQueues.Store(kind, q)
		return nil
	})
}

func (h *Hub) objectChanged(obj ConnectionObject) {
	if obj.Kind == "" {
		return
	}
	if q, ok := h.objectQueues.Load(obj.Kind); ok {
		q.(workqueue.TypedRateLimitingInterface[reconcile.Request]).Add(reconcile.Request{NamespacedName: obj.Key})
	}
}
