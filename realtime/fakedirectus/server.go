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
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// normalize deep-copies v through JSON, so numbers become float64 like decoded payloads.
func normalize(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("fakedirectus: item is not JSON: %v", err))
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func normalizeAny(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// insertLocked stores one item and returns its key.
func (c *collection) insertLocked(item map[string]any) any {
	row := normalize(item)
	if c.declared {
		for k := range row {
			if !c.fieldSet[k] {
				delete(row, k)
			}
		}
		for _, f := range c.fields {
			if _, ok := row[f]; !ok && f != c.pk {
				row[f] = nil
			}
		}
		if c.fieldSet["date_created"] && row["date_created"] == nil {
			row["date_created"] = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		}
	} else {
		for k := range row {
			c.fieldSet[k] = true
		}
	}
	if row[c.pk] == nil {
		row[c.pk] = float64(c.nextID)
		c.nextID++
	} else if f, ok := number(row[c.pk]); ok && int64(f) >= c.nextID {
		c.nextID = int64(f) + 1
	}
	if i, _ := c.find(row[c.pk]); i >= 0 {
		c.rows[i] = row
	} else {
		c.rows = append(c.rows, row)
	}
	return row[c.pk]
}

func (s *Server) coll(name string) *collection {
	c := s.collections[name]
	if c == nil {
		panic(fmt.Sprintf("fakedirectus: no collection %q", name))
	}
	return c
}

// Create creates items like REST POST /items/<collection> and emits one create event per item.
// It returns the keys.
func (s *Server) Create(collection string, items ...map[string]any) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	keys := make([]any, 0, len(items))
	for _, it := range items {
		k := c.insertLocked(it)
		keys = append(keys, k)
		s.emitLocked(c, "create", []any{k})
	}
	return keys
}

// Update patches the items with these keys and emits one update event carrying them all (as
// PATCH /items/<collection> {keys,data} does). A string key matches item subscriptions, like
// PATCH /items/<collection>/<key>.
func (s *Server) Update(collection string, keys []any, patch map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	s.updateLocked(c, keys, patch)
	s.emitLocked(c, "update", keys)
}

func (s *Server) updateLocked(c *collection, keys []any, patch map[string]any) {
	p := normalize(patch)
	for _, k := range keys {
		if _, row := c.find(k); row != nil {
			for f, v := range p {
				if f == c.pk || (c.declared && !c.fieldSet[f]) {
					continue
				}
				row[f] = v
				c.fieldSet[f] = true
			}
		}
	}
}

// Delete deletes items and emits a delete event with the keys as given (numbers, like a WS or
// body delete). The filter of subscriptions does not apply.
func (s *Server) Delete(collection string, keys ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	s.deleteLocked(c, keys)
	s.emitLocked(c, "delete", keys)
}

// DeleteByURL deletes one item like DELETE /items/<collection>/<key>: the event's keys are
// strings (["44"]).
func (s *Server) DeleteByURL(collection string, key any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	s.deleteLocked(c, []any{key})
	s.emitLocked(c, "delete", []any{keyString(key)})
}

func (s *Server) deleteLocked(c *collection, keys []any) {
	for _, k := range keys {
		if i, _ := c.find(k); i >= 0 {
			c.rows = slices.Delete(c.rows, i, i+1)
		}
	}
}

// SetSilently creates or replaces items without emitting events (a write behind Directus's
// back).
func (s *Server) SetSilently(collection string, items ...map[string]any) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	keys := make([]any, 0, len(items))
	for _, it := range items {
		keys = append(keys, c.insertLocked(it))
	}
	return keys
}

// DeleteSilently deletes items without emitting events.
func (s *Server) DeleteSilently(collection string, keys ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(s.coll(collection), keys)
}

// Items returns a copy of the collection's rows in insertion order.
func (s *Server) Items(collection string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.coll(collection)
	out := make([]map[string]any, 0, len(c.rows))
	for _, r := range c.rows {
		out = append(out, normalize(r))
	}
	return out
}

// RevokeToken makes a static, access or refresh token unusable for new authentications.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[token] = true
	delete(s.tokens, token)
	delete(s.refresh, token)
}

// SetRealtimeEnabled switches /websocket between working and 404 ROUTE_NOT_FOUND. Open
// connections are not affected.
func (s *Server) SetRealtimeEnabled(on bool) {
	s.mu.Lock()
	s.disabled = !on
	s.mu.Unlock()
}

// RefuseUpgrades answers every upgrade with this HTTP status (403 is the connection limit,
// 401 a refused token) until called with 0.
func (s *Server) RefuseUpgrades(status int) {
	s.mu.Lock()
	s.refuse = status
	s.mu.Unlock()
}

// DropConnections cuts every connection without a close frame; clients see 1006, like a
// Directus restart.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
}

// Stall makes the server ignore every socket for d: inbound frames are dropped unprocessed,
// nothing is sent (no replies, no pongs, no heartbeat, no events), like a hung peer.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	s.stallUntil = time.Now().Add(d)
	s.mu.Unlock()
}

func (s *Server) stalledLocked() bool { return time.Now().Before(s.stallUntil) }

// SendRaw sends frame, verbatim, to every socket.
func (s *Server) SendRaw(frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.connList() {
		c.sendRawLocked([]byte(frame))
	}
}

// ExpireTokens makes the access token of every socket authenticated with an issued (JWT-like)
// token expire now: TOKEN_EXPIRED, then AUTH_TIMEOUT and a close without re-auth. Sockets on
// static tokens are not affected.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.connList() {
		if c.user != nil && !c.expires.IsZero() {
			c.expireLocked()
		}
	}
}

// RejectMessages makes the rate limiter reject the next n inbound WebSocket messages (any
// socket) with {"type":"server","status":"error","error":{"code":"REQUESTS_EXCEEDED",
// "message":"Too many messages, retry after <retryAfter>ms."}}; the messages are dropped.
func (s *Server) RejectMessages(n int, retryAfter time.Duration) {
	s.mu.Lock()
	s.reject, s.rejectAfter = n, retryAfter
	s.mu.Unlock()
}

// Connections returns the number of open sockets.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Subscriptions returns the number of subscriptions over all open sockets.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		n += len(c.subs)
	}
	return n
}

// FailedLogins returns how many email+password logins were refused.
func (s *Server) FailedLogins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failedLogins
}

// Logouts returns how many refresh tokens were revoked with POST /auth/logout.
func (s *Server) Logouts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logouts
}

// Logins returns how many email+password logins succeeded (REST and WebSocket).
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Frames returns a copy of every frame so far, in both directions.
func (s *Server) Frames() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames)
}

func (s *Server) logFrameLocked(conn int, fromClient bool, data []byte) {
	s.frames = append(s.frames, Frame{Conn: conn, FromClient: fromClient, Data: string(data), Time: time.Now()})
}

// ---- identities and tokens ----

func randToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issueLocked creates an access token (a JWT-shaped string with iat and exp) and a refresh
// token for u.
func (s *Server) issueLocked(u *User) (access, refresh string, ttl time.Duration) {
	now := time.Now()
	exp := now.Add(s.opts.AccessTokenTTL)
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	claims, _ := json.Marshal(map[string]any{"id": hex.EncodeToString(id), "iat": now.Unix(), "exp": exp.Unix(), "iss": "directus"})
	access = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(claims) + "." + randToken()[:22]
	refresh = randToken()
	s.tokens[access] = &issued{user: u, expires: exp}
	s.refresh[refresh] = u
	return access, refresh, s.opts.AccessTokenTTL
}

// errExpired is returned by userForTokenLocked for an expired issued token.
var errExpired = &apiError{"TOKEN_EXPIRED", "Token expired."}
var errCredentials = &apiError{"INVALID_CREDENTIALS", "Invalid user credentials."}

// userForTokenLocked resolves a static or issued access token. expires is zero for static tokens.
func (s *Server) userForTokenLocked(tok string) (*User, time.Time, *apiError) {
	if tok == "" || s.revoked[tok] {
		return nil, time.Time{}, errCredentials
	}
	for _, u := range s.users {
		if u.StaticToken != "" && u.StaticToken == tok {
			return u, time.Time{}, nil
		}
	}
	if is, ok := s.tokens[tok]; ok {
		if time.Now().After(is.expires) {
			return nil, time.Time{}, errExpired
		}
		return is.user, is.expires, nil
	}
	return nil, time.Time{}, errCredentials
}

func (s *Server) loginLocked(email, password string) (*User, *apiError) {
	for _, u := range s.users {
		if u.Email != "" && u.Email == email && u.Password == password {
			s.logins++
			return u, nil
		}
	}
	s.failedLogins++
	return nil, errCredentials
}

// rotateLocked spends a refresh token and issues new tokens.
func (s *Server) rotateLocked(rt string) (*User, *apiError) {
	u, ok := s.refresh[rt]
	if !ok || s.revoked[rt] {
		return nil, errCredentials
	}
	delete(s.refresh, rt)
	return u, nil
}

func (s *Server) canReadLocked(u *User, coll string) bool {
	if _, ok := s.collections[coll]; !ok {
		return false
	}
	if u == nil {
		return slices.Contains(s.opts.PublicRead, coll)
	}
	return u.Admin || slices.Contains(u.Read, coll)
}

func (s *Server) canWriteLocked(u *User, coll string) bool {
	if _, ok := s.collections[coll]; !ok {
		return false
	}
	return u != nil && (u.Admin || slices.Contains(u.Write, coll))
}

// readLocked runs q over c: filter, search, sort, offset, limit (DefaultLimit unless set),
// projection.
func (s *Server) readLocked(c *collection, q query, keys []any) []map[string]any {
	var rows []map[string]any
	if keys != nil {
		for _, k := range keys {
			if _, r := c.find(k); r != nil {
				rows = append(rows, r)
			}
		}
	} else {
		rows = slices.Clone(c.rows)
	}
	out := rows[:0:0]
	for _, r := range rows {
		if matchFilter(r, q.filter) && matchSearch(r, q.search) {
			out = append(out, r)
		}
	}
	sortRows(out, q.sort)
	if q.offset > 0 {
		if q.offset >= len(out) {
			out = nil
		} else {
			out = out[q.offset:]
		}
	}
	limit := s.opts.DefaultLimit
	if q.hasLim {
		limit = q.limit
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	res := make([]map[string]any, 0, len(out))
	for _, r := range out {
		res = append(res, project(r, q.fields))
	}
	return res
}

// metaLocked builds "meta" for q.meta.
func metaFor(q query, c *collection, filtered int) map[string]any {
	if q.meta == "" {
		return nil
	}
	m := map[string]any{}
	for _, k := range stringList(q.meta) {
		switch k {
		case "total_count", "*":
			m["total_count"] = len(c.rows)
		}
		if k == "filter_count" || k == "*" {
			m["filter_count"] = filtered
		}
	}
	return m
}

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
