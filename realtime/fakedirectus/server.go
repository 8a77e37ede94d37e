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

// Package fakedirectus is an in-process fake of the Directus 12 realtime (WebSocket) and REST
// APIs, built on httptest and github.com/coder/websocket, for tests.
//
// It reproduces the frames recorded from a real Directus 12.4 server message for message
// (frame shapes, uid echo rules, error codes and messages, closes without a status code
// (1005), refused upgrades with the recorded status and body) and the semantics that matter to
// a client: no replay, init capped at DefaultLimit, payloads re-read at dispatch time with
// the subscription's query and the socket's current identity, filters applied to create and
// update but not delete, update events truncated by limit, token expiry, rotating refresh
// tokens, heartbeat. Test controls (DropConnections, Stall, RefuseUpgrades, ExpireTokens,
// RejectMessages, SendRaw, ...) inject failures.
//
// A Server is safe for concurrent use. Writes made through its methods (Create, Update,
// Delete) emit events like writes made through REST or the WebSocket items action; SetSilently
// and DeleteSilently change data without events, like SQL behind Directus's back.
package fakedirectus

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// Options configures a Server. The zero value is a default Directus: handshake auth with a 10s
// timeout, no heartbeat, 15m access tokens, QUERY_LIMIT_DEFAULT 100.
type Options struct {
	// AuthMode is WEBSOCKETS_REST_AUTH: "handshake" (default), "strict" or "public".
	AuthMode string
	// AuthTimeout is WEBSOCKETS_REST_AUTH_TIMEOUT: the handshake window, and the re-auth window
	// after TOKEN_EXPIRED. Defaults to 10s.
	AuthTimeout time.Duration
	// HeartbeatPeriod: when > 0 every socket gets {"type":"ping"} each period and sockets that
	// sent nothing during a period after a ping are closed (1005). 0 turns the heartbeat off.
	HeartbeatPeriod time.Duration
	// AccessTokenTTL is ACCESS_TOKEN_TTL for tokens issued by login and refresh (over REST or
	// the socket). When one expires on a socket: TOKEN_EXPIRED, then AUTH_TIMEOUT and a close
	// if no re-auth comes within AuthTimeout. Static tokens never expire. Defaults to 15m.
	AccessTokenTTL time.Duration
	// DefaultLimit is QUERY_LIMIT_DEFAULT. Defaults to 100.
	DefaultLimit int
	// RealtimeDisabled answers /websocket with 404 ROUTE_NOT_FOUND (WEBSOCKETS_ENABLED=false).
	RealtimeDisabled bool
	// PublicRead lists collections the Public role may read.
	PublicRead []string
	// Version is what GET /server/info reports as data.version to an
	// authenticated user, as Directus 12.4.1 does for any user. Defaults
	// to "12.4.1".
	Version string
}

// User is a Directus user with a policy: Read and Write list the collections it may read and
// write (create, update, delete); Admin may do everything.
type User struct {
	Email, Password string
	// StaticToken is the user's static token (never expires).
	StaticToken string
	Read, Write []string
	Admin       bool
	// ReadFields lets a non-admin read /fields (directus_fields), as a
	// policy with app access does. Plain API users cannot.
	ReadFields bool
}

// Frame is one WebSocket frame the server received (FromClient) or sent.
type Frame struct {
	// Conn numbers the connection, from 1.
	Conn       int
	FromClient bool
	Data       string
	Time       time.Time
}

// Type returns the frame's "type" field, or "".
func (f Frame) Type() string {
	var v struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal([]byte(f.Data), &v)
	return v.Type
}

// Server is a fake Directus.
type Server struct {
	opts Options
	ts   *httptest.Server
	wg   sync.WaitGroup
	stop chan struct{}

	mu          sync.Mutex
	users       []*User
	tokens      map[string]*issued // access tokens issued by login/refresh
	refresh     map[string]*User
	revoked     map[string]bool
	collections map[string]*collection
	conns       map[*wsConn]struct{}
	nextConn    int
	logins      int
	// failedLogins counts refused email+password logins; Directus suspends
	// a user after its login-attempts limit.
	failedLogins int
	logouts      int
	disabled     bool
	refuse       int
	stallUntil   time.Time
	reject       int
	rejectAfter  time.Duration
	frames       []Frame
	closed       bool
}

type issued struct {
	user    *User
	expires time.Time
}

type collection struct {
	name     string
	pk       string
	fields   []string
	fieldSet map[string]bool
	declared bool
	rows     []map[string]any
	nextID   int64
}

func (c *collection) hasField(f string) bool { return f == c.pk || c.fieldSet[f] }

func (c *collection) find(key any) (int, map[string]any) {
	k := keyString(key)
	for i, r := range c.rows {
		if keyString(r[c.pk]) == k {
			return i, r
		}
	}
	return -1, nil
}

// New starts a fake Directus on a local port. Close it when done.
func New(o Options) *Server {
	if o.AuthMode == "" {
		o.AuthMode = "handshake"
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = 10 * time.Second
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = 15 * time.Minute
	}
	if o.DefaultLimit <= 0 {
		o.DefaultLimit = 100
	}
	s := &Server{
		opts:        o,
		stop:        make(chan struct{}),
		tokens:      map[string]*issued{},
		refresh:     map[string]*User{},
		revoked:     map[string]bool{},
		collections: map[string]*collection{},
		conns:       map[*wsConn]struct{}{},
		disabled:    o.RealtimeDisabled,
		rejectAfter: time.Second,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/websocket", s.serveWS)
	s.routes(mux)
	s.ts = httptest.NewServer(mux)
	if o.HeartbeatPeriod > 0 {
		s.wg.Add(1)
		go s.heartbeat()
	}
	return s
}

// URL is the base URL (http://127.0.0.1:port); the realtime endpoint is URL()+"/websocket".
func (s *Server) URL() string { return s.ts.URL }

// Close drops every connection and stops the server, waiting for its goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
	s.ts.Close()
	s.wg.Wait()
}

func (s *Server) connList() []*wsConn {
	out := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *wsConn) int { return a.id - b.id })
	return out
}

// AddUser adds a user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uu := u
	s.users = append(s.users, &uu)
}

// AddCollection creates a collection. Items without the primary key get integer
// auto-increment keys. fields, when given, declares the schema: unknown fields are then
// dropped on create and FORBIDDEN in queries (a field named "date_created" is filled in on
// create); without them the schema grows with the fields written.
func (s *Server) AddCollection(name, primaryKey string, fields ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &collection{name: name, pk: primaryKey, fieldSet: map[string]bool{primaryKey: true}, nextID: 1}
	if len(fields) > 0 {
		c.declared = true
		c.fields = append([]string{primaryKey}, fields...)
		for _, f := range fields {
			c.fieldSet[f] = true
		}
	}
	s.collections[name] = c
}

func (s *Server) logFrameLocked(conn int, fromClient bool, data []byte) {
	s.frames = append(s.frames, Frame{Conn: conn, FromClient: fromClient, Data: string(data), Time: time.Now()})
}

// ---- identities and tokens ----

// errExpired is returned by userForTokenLocked for an expired issued token.
var errExpired = &apiError{"TOKEN_EXPIRED", "Token expired."}
var errCredentials = &apiError{"INVALID_CREDENTIALS", "Invalid user credentials."}

func (s *Server) heartbeat() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.HeartbeatPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if !s.stalledLocked() {
			for _, c := range s.connList() {
				if !c.authedLocked() {
					continue
				}
				if c.awaitingPong {
					c.closeLocked()
					continue
				}
				c.awaitingPong = true
				c.sendLocked(map[string]any{"type": "ping"})
			}
		}
		s.mu.Unlock()
	}
}
