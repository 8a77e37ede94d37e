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
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Error codes Directus puts in the "code" field of a {"status":"error"} frame.
const (
	CodeAuthFailed        = "AUTH_FAILED"
	CodeAuthTimeout       = "AUTH_TIMEOUT"
	CodeTokenExpired      = "TOKEN_EXPIRED"
	CodeInvalidPayload    = "INVALID_PAYLOAD"
	CodeInvalidCollection = "INVALID_COLLECTION"
	CodeInvalidQuery      = "INVALID_QUERY"
	CodeForbidden         = "FORBIDDEN"
	CodeRequestsExceeded  = "REQUESTS_EXCEEDED"
	// CodeInvalidCredentials is what the REST API answers for a bad login or refresh token.
	CodeInvalidCredentials = "INVALID_CREDENTIALS"
	// CodeRouteNotFound is what Directus answers on /websocket when realtime is disabled.
	CodeRouteNotFound = "ROUTE_NOT_FOUND"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrRealtimeDisabled means the upgrade was answered with 404: WEBSOCKETS_ENABLED is false
	// (or the path is wrong).
	ErrRealtimeDisabled = errors.New("directus: realtime is disabled (404 on upgrade)")
	// ErrUnauthorized means the upgrade was answered with 401: a bad ?access_token=, or strict
	// mode without a token.
	ErrUnauthorized = errors.New("directus: upgrade unauthorized (401)")
	// ErrConnectionLimit means the upgrade was answered with 403: WEBSOCKETS_REST_CONN_LIMIT reached.
	ErrConnectionLimit = errors.New("directus: connection limit reached (403 on upgrade)")
	// ErrClosed is returned by calls on a client that was closed with Close.
	ErrClosed = errors.New("directus: client closed")
	// ErrNotConnected is returned by request/reply calls (Items, Ping) while no authenticated
	// connection is up, and to pending calls whose connection was lost before the reply came.
	ErrNotConnected = errors.New("directus: not connected")
	// ErrGaveUp is the reason a client stopped after Reconnect.MaxAttempts failed attempts or
	// with reconnects disabled; Err wraps it together with the last error.
	ErrGaveUp = errors.New("directus: gave up reconnecting")
	// ErrPongTimeout is the reason a connection was dropped when nothing arrived within
	// PongTimeout after our JSON ping.
	ErrPongTimeout = errors.New("directus: no reply to ping (dead peer)")
	// ErrBadFrame is reported (EventError) for a frame that was skipped: over ReadLimit, not
	// JSON, binary, or of an unknown type. The connection stays up, but if the frame carried a
	// change, that change is lost: callers that mirror data should resynchronise.
	ErrBadFrame = errors.New("directus: bad frame")
	// ErrAlreadyStarted is returned by a second Connect.
	ErrAlreadyStarted = errors.New("directus: Connect already called")
	// ErrResponseTooLarge is what a *ResponseTooLargeError is: a REST answer, or the pages of
	// one full read, larger than the client's limit (RESTOptions.MaxResponseBytes).
	ErrResponseTooLarge = errors.New("directus: response too large")
	// ErrRedirectRefused is what a *RedirectError is: the server redirected a request to
	// another host (or from https to http), which the client does not follow so that
	// credentials never travel there.
	ErrRedirectRefused = errors.New("directus: redirect refused")
)

// ResponseTooLargeError is a REST answer that exceeded the client's limit. The body is not
// read past Limit, so a hostile or broken endpoint cannot exhaust memory.
type ResponseTooLargeError struct {
	// Request is the method and path, e.g. "GET /items/messages".
	Request string
	// Limit is the limit that was exceeded, in bytes.
	Limit int64
	// Total is true when the limit was exceeded by the pages of one full read together
	// rather than by one response.
	Total bool
}

func (e *ResponseTooLargeError) Error() string {
	if e.Total {
		return fmt.Sprintf("directus: %s: the pages of the full read exceed %d bytes together", e.Request, e.Limit)
	}
	return fmt.Sprintf("directus: %s: response larger than %d bytes", e.Request, e.Limit)
}

// Is makes errors.Is(err, ErrResponseTooLarge) true.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// RedirectError is a redirect the client refused to follow.
type RedirectError struct {
	// From is the URL of the request that was redirected, without its query.
	From string
	// To is where the server redirected it, without its query.
	To string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("directus: refused to follow a redirect from %s to %s: "+
		"credentials are only sent to the url's own host; set the url to the final address", e.From, e.To)
}

// Is makes errors.Is(err, ErrRedirectRefused) true.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirectRefused }

// ServerError is any {"status":"error"} frame Directus sent, or a REST error body
// ({"errors":[{"message":...,"extensions":{"code":...}}]}).
type ServerError struct {
	// Type is the frame type the error came with: "auth", "subscribe", "items", "server", ...
	// For REST errors it is "http".
	Type string
	// Code is the Directus error code, e.g. FORBIDDEN.
	Code string
	// Message is the human readable message, e.g. `Token expired.`.
	Message string
	// UID is the uid the frame carried, if any, as a string.
	UID string
	// StatusCode is the HTTP status of a REST error; 0 for WebSocket frames.
	StatusCode int
	// RetryAfter is the server's Retry-After of a REST error (429, 503), or 0.
	RetryAfter time.Duration
}

// Overloaded reports whether err says the server is overloaded or rate limiting this client
// (HTTP 429, or 503 "Under pressure"): the caller should back off, not retry at once. It
// returns the wait the server asked for, or 0 when it named none.
func Overloaded(err error) (bool, time.Duration) {
	var se *ServerError
	if !errors.As(err, &se) {
		return false, 0
	}
	if se.StatusCode == http.StatusTooManyRequests || se.StatusCode == http.StatusServiceUnavailable || se.Code == CodeRequestsExceeded {
		return true, se.RetryAfter
	}
	return false, 0
}

func (e *ServerError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("directus: %s: %s (HTTP %d)", e.Code, e.Message, e.StatusCode)
	}
	return fmt.Sprintf("directus: %s: %s", e.Code, e.Message)
}

// HandshakeError is a refused WebSocket upgrade: Directus answered with an HTTP status
// instead of 101.
type HandshakeError struct {
	// StatusCode is the HTTP status of the refusal (401, 403, 404, ...).
	StatusCode int
	// Code and Message come from a Directus JSON error body, when there was one
	// (404 gives ROUTE_NOT_FOUND; 401 has an empty body).
	Code, Message string
}

func (e *HandshakeError) Error() string {
	s := fmt.Sprintf("directus: websocket upgrade refused: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is maps the HTTP status to ErrRealtimeDisabled (404), ErrUnauthorized (401) and
// ErrConnectionLimit (403).
func (e *HandshakeError) Is(target error) bool {
	switch target {
	case ErrRealtimeDisabled:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrConnectionLimit:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

// IsCode reports whether err is, or wraps, a *ServerError with the given code.
func IsCode(err error, code string) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Code == code
}

// redact removes secrets from error texts (coder/websocket puts the URL, with
// ?access_token=, into dial errors).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, v := range []string{s, url.QueryEscape(s)} {
			if strings.Contains(msg, v) {
				msg = strings.ReplaceAll(msg, v, "REDACTED")
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// closeCause explains the end of a connection: the error frame that preceded the close if
// there was one (Directus closes with 1005 and puts the cause in that frame), our pong
// timeout, or the read error.
func closeCause(cn *conn, err error) (code websocket.StatusCode, reason string, cause error) {
	code = websocket.CloseStatus(err)
	if ce, ok := errors.AsType[websocket.CloseError](err); ok {
		reason = ce.Reason
	}
	if code == -1 {
		code = websocket.StatusAbnormalClosure
	}
	if cn.dead.Load() {
		return websocket.StatusAbnormalClosure, "", ErrPongTimeout
	}
	if se := cn.lastErr.Load(); se != nil {
		return code, reason, se
	}
	return code, reason, err
}
