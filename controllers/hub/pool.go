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

package hub

// The Hub's pool of connections: sharing sockets by connection key up to a
// cap, the read gates per server, token rotation in place, and what the
// Hub reports per connection object.

import (
	"cmp"
	"net/url"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// acquire returns a pooled connection for cfg with room for one more
// subscription, opening one when none has. It runs under the lock.
func (h *Hub) acquire(cfg subscriptions.Config) (*pooledConn, error) {
	key := cfg.ConnectionKey
	limit := cmp.Or(cfg.MaxPerSocket, h.opts.MaxSubscriptionsPerConnection)
	for _, p := range h.state.pool[key] {
		if p.refs < limit {
			p.refs++
			h.objectChanged(p.object)
			h.rotate(p.conn, cfg)
			return p, nil
		}
	}
	gate := h.gate(cfg)
	obj := cfg.ConnectionObject
	var onChange func()
	if obj.Kind != "" {
		// The connection object's reconciler shows its sockets' states.
		onChange = func() { h.objectChanged(obj) }
	}
	c, err := subscriptions.NewConnection(subscriptions.ConnectionOptions{
		Realtime: cfg.Realtime, Gate: gate, OnChange: onChange,
		Log: h.log.WithValues("connection", shortKey(key), "url", redactedURL(cfg.Realtime.URL)),
	})
	if err != nil {
		return nil, err
	}
	p := &pooledConn{conn: c, key: key, refs: 1, object: obj, gate: gate}
	h.state.pool[key] = append(h.state.pool[key], p)
	h.objectChanged(obj)
	h.poke()
	return p, nil
}

// rotate moves c to cfg's static token when the connection key leaves the
// token out (a connection object's): the socket re-authenticates in place
// and its subscriptions read again, instead of every runner restarting on
// a new socket. Other connections never see another token under one key.
func (h *Hub) rotate(c *subscriptions.Connection, cfg subscriptions.Config) {
	tok := cfg.Realtime.Auth.AccessToken
	if cfg.ConnectionObject.Kind == "" || tok == "" {
		return
	}
	if err := c.SetAccessToken(tok); err != nil {
		h.log.Error(err, "Moving a connection to a rotated token failed", "connection", shortKey(cfg.ConnectionKey))
	}
}

// releaseLocked gives back one subscription's place on p; it reports
// whether that was the last, in which case p has left the pool and the
// caller closes its connection outside the lock.
func (h *Hub) releaseLocked(p *pooledConn) bool {
	p.refs--
	defer h.objectChanged(p.object)
	if p.refs > 0 {
		return false
	}
	list := slices.DeleteFunc(h.state.pool[p.key], func(x *pooledConn) bool { return x == p })
	if len(list) == 0 {
		delete(h.state.pool, p.key)
	} else {
		h.state.pool[p.key] = list
	}
	return true
}

// gate returns the gate of cfg's Directus server. Subscriptions of a
// connection object share one gate per server with the object's
// concurrency; inline ones share the server's.
func (h *Hub) gate(cfg subscriptions.Config) *subscriptions.Gate {
	server := cfg.Realtime.URL
	if u, err := url.Parse(server); err == nil {
		server = u.Host
	}
	if obj := cfg.ConnectionObject; obj.Kind != "" {
		server += "|" + obj.Kind + "/" + obj.Key.String()
	}
	g, ok := h.state.gates[server]
	if !ok {
		g = subscriptions.NewGate(cmp.Or(cfg.MaxConcurrentReads, h.opts.MaxConcurrentReadsPerServer))
		h.state.gates[server] = g
	}
	return g
}

// Sockets returns the number of connections open or being opened.
func (h *Hub) Sockets() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, list := range h.state.pool {
		n += len(list)
	}
	return n
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

// ObjectStats is what the Hub runs for one connection object.
type ObjectStats struct {
	// Sockets counts the connections open or opening; Subscriptions the
	// subscriptions they carry.
	Sockets, Subscriptions int
	// Conns are the sockets' states.
	Conns []subscriptions.ConnStatus
}

// ObjectStats reports on the sockets of a connection object.
func (h *Hub) ObjectStats(obj subscriptions.ConnectionObject) ObjectStats {
	h.mu.Lock()
	var st ObjectStats
	var conns []*subscriptions.Connection
	for _, list := range h.state.pool {
		for _, p := range list {
			if p.object == obj {
				st.Sockets++
				st.Subscriptions += p.refs
				conns = append(conns, p.conn)
			}
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
	return h.queues.source(kind)
}

func (h *Hub) objectChanged(obj subscriptions.ConnectionObject) {
	if obj.Kind == "" {
		return
	}
	if q := h.queues.get(obj.Kind); q != nil {
		q.Add(reconcile.Request{NamespacedName: obj.Key})
	}
}
