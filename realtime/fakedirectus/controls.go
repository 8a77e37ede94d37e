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

// The test's controls of the fake: faults to inject (revoked tokens, dropped
// or stalled sockets, raw frames, shed messages) and what it observed.

import (
	"slices"
	"time"
)

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
