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

package fakedirectus

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/coder/websocket"
)

// wsConn is one realtime socket. Its fields are guarded by Server.mu.
type wsConn struct {
	s  *Server
	id int
	ws *websocket.Conn

	user          *User
	expires       time.Time // zero: static or public
	handshakeDone bool
	expired       bool
	authGen       int
	subs          []*sub
	awaitingPong  bool
	closing       bool
	authTimer     *time.Timer

	out    [][]byte // nil element: close without status (1005)
	notify chan struct{}
	done   chan struct{}
}

type sub struct {
	uid        string
	hasUID     bool
	collection string
	event      string
	item       any
	query      map[string]any
}

func (c *wsConn) authedLocked() bool {
	return c.user != nil || c.s.opts.AuthMode == "public" || c.handshakeDone
}

func (c *wsConn) needsHandshakeLocked() bool {
	return c.s.opts.AuthMode == "handshake" && !c.handshakeDone
}

func (c *wsConn) sendLocked(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	c.sendRawLocked(b)
}

func (c *wsConn) sendRawLocked(b []byte) {
	if c.closing || c.s.stalledLocked() {
		return
	}
	c.s.logFrameLocked(c.id, false, b)
	c.out = append(c.out, b)
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// closeLocked closes the socket after what is queued, with a close frame without status code,
// as Directus does (clients see 1005).
func (c *wsConn) closeLocked() {
	if c.closing {
		return
	}
	c.out = append(c.out, nil)
	c.closing = true
	c.stopTimersLocked()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *wsConn) stopTimersLocked() {
	if c.authTimer != nil {
		c.authTimer.Stop()
		c.authTimer = nil
	}
	c.authGen++
}

// abort cuts the TCP connection (1006 for the client).
func (c *wsConn) abort() { _ = c.ws.CloseNow() }

func (c *wsConn) writer() {
	defer c.s.wg.Done()
	for {
		c.s.mu.Lock()
		q := c.out
		c.out = nil
		c.s.mu.Unlock()
		for _, b := range q {
			if b == nil {
				_ = c.ws.Close(websocket.StatusNoStatusRcvd, "")
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				_ = c.ws.CloseNow()
				return
			}
		}
		select {
		case <-c.notify:
		case <-c.done:
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errorBody(code, message string, ext map[string]any) map[string]any {
	e := map[string]any{"code": code}
	maps.Copy(e, ext)
	return map[string]any{"errors": []any{map[string]any{"message": message, "extensions": e}}}
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	disabled, refuse, closed := s.disabled, s.refuse, s.closed
	var user *User
	var expires time.Time
	tokenAuthed := false
	tok := r.URL.Query().Get("access_token")
	var authErr *apiError
	if tok != "" {
		user, expires, authErr = s.userForTokenLocked(tok)
		tokenAuthed = authErr == nil
	}
	s.mu.Unlock()
	switch {
	case closed:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case disabled:
		writeJSON(w, http.StatusNotFound, errorBody("ROUTE_NOT_FOUND", "Route /websocket doesn't exist.", map[string]any{"path": "/websocket"}))
		return
	case refuse != 0:
		w.WriteHeader(refuse)
		return
	case authErr != nil, s.opts.AuthMode == "strict" && !tokenAuthed:
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(4 << 20)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	s.nextConn++
	c := &wsConn{s: s, id: s.nextConn, ws: ws, notify: make(chan struct{}, 1), done: make(chan struct{})}
	s.conns[c] = struct{}{}
	if tokenAuthed {
		c.handshakeDone = true
		c.setIdentityLocked(user, expires)
	} else if c.needsHandshakeLocked() {
		gen := c.authGen
		c.authTimer = time.AfterFunc(s.opts.AuthTimeout, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c.authGen == gen && !c.handshakeDone {
				c.handshakeFailLocked()
			}
		})
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go c.writer()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		c.closing = true
		c.stopTimersLocked()
		s.mu.Unlock()
		close(c.done)
		_ = ws.CloseNow()
	}()
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		s.handle(c, data)
	}
}

func (c *wsConn) handshakeFailLocked() {
	c.sendLocked(map[string]any{"type": "auth", "status": "error", "error": map[string]any{"code": "AUTH_FAILED", "message": "Authentication handshake failed."}})
	c.closeLocked()
}

func (c *wsConn) setIdentityLocked(u *User, expires time.Time) {
	c.stopTimersLocked()
	c.user, c.expires, c.expired = u, expires, false
	if expires.IsZero() {
		return
	}
	gen := c.authGen
	c.authTimer = time.AfterFunc(time.Until(expires), func() {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		if c.authGen == gen {
			c.expireLocked()
		}
	})
}

// expireLocked: TOKEN_EXPIRED now, the socket becomes Public, and AUTH_TIMEOUT + close follow
// after AuthTimeout unless an auth frame comes (public mode stays open).
func (c *wsConn) expireLocked() {
	if c.closing {
		return
	}
	c.stopTimersLocked()
	c.user, c.expires, c.expired = nil, time.Time{}, true
	c.sendLocked(map[string]any{"type": "auth", "status": "error", "error": map[string]any{"code": "TOKEN_EXPIRED", "message": "Token expired."}})
	if c.s.opts.AuthMode == "public" {
		return
	}
	gen := c.authGen
	c.authTimer = time.AfterFunc(c.s.opts.AuthTimeout, func() {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		if c.authGen == gen && c.expired {
			c.sendLocked(map[string]any{"type": "auth", "status": "error", "error": map[string]any{"code": "AUTH_TIMEOUT", "message": "Authentication timed out."}})
			c.closeLocked()
		}
	})
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "object"
}

func errFrame(typ, code, message string, uid any, hasUID bool) map[string]any {
	f := map[string]any{"type": typ, "status": "error", "error": map[string]any{"code": code, "message": message}}
	if hasUID {
		f["uid"] = uid
	}
	return f
}

// uidString is how Directus stores subscription uids: as strings.
func uidString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return keyString(v)
}

func (s *Server) handle(c *wsConn, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logFrameLocked(c.id, true, data)
	if s.stalledLocked() || c.closing {
		return
	}
	c.awaitingPong = false
	if s.reject > 0 {
		s.reject--
		c.sendLocked(errFrame("server", "REQUESTS_EXCEEDED", fmt.Sprintf("Too many messages, retry after %dms.", s.rejectAfter.Milliseconds()), nil, false))
		return
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		if c.needsHandshakeLocked() {
			c.handshakeFailLocked()
			return
		}
		c.sendLocked(errFrame("server", "INVALID_PAYLOAD", "Unable to parse the incoming message.", nil, false))
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if c.needsHandshakeLocked() {
			c.handshakeFailLocked()
			return
		}
		c.sendLocked(errFrame("server", "INVALID_PAYLOAD", "Validation error: Invalid input: expected object, received "+jsonKind(v), nil, false))
		return
	}
	typ, ok := obj["type"].(string)
	if !ok {
		if c.needsHandshakeLocked() {
			c.handshakeFailLocked()
			return
		}
		c.sendLocked(errFrame("server", "INVALID_PAYLOAD", `Validation error: Invalid input: expected string, received undefined at "type"`, nil, false))
		return
	}
	uid, hasUID := obj["uid"]
	if typ == "auth" {
		s.handleAuthLocked(c, obj, uid, hasUID)
		return
	}
	if c.needsHandshakeLocked() {
		c.handshakeFailLocked()
		return
	}
	switch typ {
	case "ping":
		f := map[string]any{"type": "pong"}
		if hasUID {
			f["uid"] = uid
		}
		c.sendLocked(f)
	case "subscribe":
		s.handleSubscribeLocked(c, obj, uid, hasUID)
	case "unsubscribe":
		if hasUID {
			u := uidString(uid)
			c.subs = slices.DeleteFunc(c.subs, func(x *sub) bool { return x.hasUID && x.uid == u })
			c.sendLocked(map[string]any{"type": "subscription", "event": "unsubscribe", "uid": u})
		} else {
			c.subs = nil
			c.sendLocked(map[string]any{"type": "subscription", "event": "unsubscribe"})
		}
	case "items":
		s.handleItemsLocked(c, obj, uid, hasUID)
	}
	// "pong" and unknown types get no reply.
}

func (s *Server) handleAuthLocked(c *wsConn, obj map[string]any, uid any, hasUID bool) {
	str := func(k string) string { v, _ := obj[k].(string); return v }
	var u *User
	var expires time.Time
	var refreshOut string
	var err *apiError
	switch {
	case str("access_token") != "":
		u, expires, err = s.userForTokenLocked(str("access_token"))
	case str("email") != "" || str("password") != "":
		u, err = s.loginLocked(str("email"), str("password"))
		if err == nil {
			var access string
			access, refreshOut, _ = s.issueLocked(u)
			expires = s.tokens[access].expires
		}
	case str("refresh_token") != "":
		u, err = s.rotateLocked(str("refresh_token"))
		if err == nil {
			var access string
			access, refreshOut, _ = s.issueLocked(u)
			expires = s.tokens[access].expires
		}
	default:
		err = errCredentials
	}
	if err != nil {
		if c.needsHandshakeLocked() {
			c.handshakeFailLocked()
			return
		}
		c.sendLocked(errFrame("auth", "AUTH_FAILED", "Authentication failed.", uid, hasUID))
		if s.opts.AuthMode != "public" {
			c.closeLocked()
		}
		return
	}
	c.handshakeDone = true
	c.setIdentityLocked(u, expires)
	f := map[string]any{"type": "auth", "status": "ok"}
	if hasUID {
		f["uid"] = uid
	}
	if refreshOut != "" {
		f["refresh_token"] = refreshOut
	}
	c.sendLocked(f)
}
