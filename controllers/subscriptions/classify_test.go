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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/testutil"
)

func TestClassifyConnErrorNamesTheCauseAPersonCanActOn(t *testing.T) {
	t.Parallel()
	cert, _ := testutil.SelfSignedCert(t, "example.test", false)
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8055},
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name       string
		err        error
		reason     string
		msgContain []string
	}{
		{name: "no error means connected", err: nil, reason: v1alpha1.ReasonConnected},
		{name: "upgrade answered 404 means realtime is disabled",
			err: &realtime.HandshakeError{StatusCode: 404, Code: realtime.CodeRouteNotFound}, reason: v1alpha1.ReasonRealtimeDisabled,
			msgContain: []string{"WEBSOCKETS_ENABLED=true", "websocketPath"}},
		{name: "a wrapped 404 is still realtime disabled",
			err: fmt.Errorf("dial: %w", &realtime.HandshakeError{StatusCode: 404}), reason: v1alpha1.ReasonRealtimeDisabled},
		{name: "the sentinel itself is realtime disabled", err: realtime.ErrRealtimeDisabled, reason: v1alpha1.ReasonRealtimeDisabled},
		{name: "upgrade answered 401 is an auth failure",
			err: &realtime.HandshakeError{StatusCode: 401}, reason: v1alpha1.ReasonAuthFailed, msgContain: []string{"HTTP 401", "token"}},
		{name: "a wrapped 401 is an auth failure",
			err: fmt.Errorf("connect: %w", &realtime.HandshakeError{StatusCode: 401}), reason: v1alpha1.ReasonAuthFailed},
		{name: "upgrade answered 403 is the connection limit",
			err: &realtime.HandshakeError{StatusCode: 403}, reason: v1alpha1.ReasonConnectionLimit, msgContain: []string{"WEBSOCKETS_REST_CONN_LIMIT"}},
		{name: "a wrapped 403 is the connection limit",
			err: fmt.Errorf("connect: %w", &realtime.HandshakeError{StatusCode: 403}), reason: v1alpha1.ReasonConnectionLimit},
		{name: "upgrade answered 500 is the server being unreachable",
			err: &realtime.HandshakeError{StatusCode: 500}, reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"HTTP 500"}},
		{name: "AUTH_FAILED frame is an auth failure and keeps Directus's words",
			err:    &realtime.ServerError{Type: "auth", Code: realtime.CodeAuthFailed, Message: "Invalid user credentials."},
			reason: v1alpha1.ReasonAuthFailed, msgContain: []string{"Invalid user credentials."}},
		{name: "a wrapped AUTH_FAILED frame is an auth failure",
			err: fmt.Errorf("session: %w", &realtime.ServerError{Code: realtime.CodeAuthFailed, Message: "nope"}), reason: v1alpha1.ReasonAuthFailed},
		{name: "TOKEN_EXPIRED frame is an expired token",
			err:    &realtime.ServerError{Code: realtime.CodeTokenExpired, Message: "Token expired."},
			reason: v1alpha1.ReasonTokenExpired, msgContain: []string{"Token expired."}},
		{name: "AUTH_TIMEOUT frame is an expired token",
			err:    &realtime.ServerError{Code: realtime.CodeAuthTimeout, Message: "Auth timed out."},
			reason: v1alpha1.ReasonTokenExpired, msgContain: []string{"Auth timed out."}},
		{name: "REQUESTS_EXCEEDED frame is rate limiting",
			err:    &realtime.ServerError{Code: realtime.CodeRequestsExceeded, Message: "Too many requests."},
			reason: v1alpha1.ReasonRateLimited, msgContain: []string{"Too many requests."}},
		{name: "any other frame is the server closing, with its code and message",
			err:    &realtime.ServerError{Code: "INTERNAL_SERVER_ERROR", Message: "boom"},
			reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"INTERNAL_SERVER_ERROR", "boom"}},
		{name: "an unknown authority is a TLS error with the tls.ca hint",
			err: x509.UnknownAuthorityError{Cert: cert}, reason: v1alpha1.ReasonTLSError, msgContain: []string{"unknown authority", "tls.ca"}},
		{name: "a wrapped unknown authority is a TLS error",
			err: fmt.Errorf("dial wss://example.test: %w", x509.UnknownAuthorityError{}), reason: v1alpha1.ReasonTLSError},
		{name: "a hostname mismatch is a TLS error",
			err: x509.HostnameError{Certificate: cert, Host: "directus.example.com"}, reason: v1alpha1.ReasonTLSError,
			msgContain: []string{"directus.example.com", "tls.ca"}},
		{name: "a failed certificate verification is a TLS error",
			err:    &tls.CertificateVerificationError{UnverifiedCertificates: []*x509.Certificate{cert}, Err: x509.UnknownAuthorityError{Cert: cert}},
			reason: v1alpha1.ReasonTLSError, msgContain: []string{"tls.ca"}},
		{name: "a TLS error inside a dial error is a TLS error, not unreachable",
			err:    &net.OpError{Op: "remote error", Net: "tcp", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
			reason: v1alpha1.ReasonTLSError},
		{name: "a refused dial is the server being unreachable",
			err: refused, reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"cannot reach Directus", "connection refused"}},
		{name: "a wrapped refused dial is the server being unreachable",
			err: fmt.Errorf("dial: %w", refused), reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"cannot reach Directus"}},
		{name: "a DNS failure is the server being unreachable",
			err:    &net.DNSError{Err: "no such host", Name: "directus.invalid", IsNotFound: true},
			reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"cannot reach Directus", "directus.invalid"}},
		{name: "a redirect to another host is refused and says so",
			err:    fmt.Errorf("dial: %w", &realtime.RedirectError{From: "https://d.example.com/websocket", To: "https://login.example.com/"}),
			reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"https://login.example.com/", "never follows a redirect to another host", "set the url to the final address"}},
		{name: "a login answer over the limit is the server not being Directus",
			err:    &realtime.ResponseTooLargeError{Request: "POST /auth/login", Limit: 1 << 20},
			reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{"POST /auth/login", "check that the url points at Directus"}},
		{name: "anything else is the server being unreachable with the error's words",
			err: realtime.ErrPongTimeout, reason: v1alpha1.ReasonServerUnreachable, msgContain: []string{realtime.ErrPongTimeout.Error()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			reason, msg := classifyConnError(tc.err)
			g.Expect(reason).To(Equal(tc.reason))
			if tc.err == nil {
				g.Expect(msg).To(BeEmpty())
			} else {
				g.Expect(msg).NotTo(BeEmpty())
			}
			for _, s := range tc.msgContain {
				g.Expect(msg).To(ContainSubstring(s))
			}
		})
	}
}

func TestClassifySubErrorKeepsDirectusMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code, message string
		reason        string
		wantMessage   string
	}{
		{realtime.CodeForbidden, "You don't have permission to access collection \"secret\" or it does not exist.",
			v1alpha1.ReasonForbidden, "You don't have permission to access collection \"secret\" or it does not exist."},
		{realtime.CodeInvalidCollection, "Collection \"nope\" does not exist.", v1alpha1.ReasonCollectionNotFound, "Collection \"nope\" does not exist."},
		{realtime.CodeInvalidQuery, "Invalid query. \"limit\" must be a number.", v1alpha1.ReasonInvalidQuery, "Invalid query. \"limit\" must be a number."},
		{realtime.CodeInvalidPayload, "\"query\" must be of type object.", v1alpha1.ReasonInvalidQuery, "\"query\" must be of type object."},
		{realtime.CodeTokenExpired, "Token expired.", v1alpha1.ReasonTokenExpired, "Token expired."},
		{"SERVICE_UNAVAILABLE", "Try later.", v1alpha1.ReasonSubscribeFailed, "SERVICE_UNAVAILABLE: Try later."},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			g := NewWithT(t)
			reason, msg := classifySubError(&realtime.ServerError{Type: "subscribe", Code: tc.code, Message: tc.message})
			g.Expect(reason).To(Equal(tc.reason))
			g.Expect(msg).To(Equal(tc.wantMessage))
		})
	}
}

func TestClassifySnapshotErrorSaysTheRESTReadFailed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		reason     string
		msgContain string
	}{
		{"FORBIDDEN is forbidden", &realtime.ServerError{Type: "http", Code: realtime.CodeForbidden, Message: "no access", StatusCode: 403},
			v1alpha1.ReasonForbidden, "no access"},
		{"INVALID_CREDENTIALS is forbidden", &realtime.ServerError{Code: realtime.CodeInvalidCredentials, Message: "Invalid user credentials.", StatusCode: 401},
			v1alpha1.ReasonForbidden, "Invalid user credentials."},
		{"TOKEN_EXPIRED is forbidden", &realtime.ServerError{Code: realtime.CodeTokenExpired, Message: "Token expired.", StatusCode: 401},
			v1alpha1.ReasonForbidden, "Token expired."},
		{"INVALID_TOKEN is forbidden", &realtime.ServerError{Code: "INVALID_TOKEN", Message: "Invalid token.", StatusCode: 401},
			v1alpha1.ReasonForbidden, "Invalid token."},
		{"a wrapped FORBIDDEN is forbidden", fmt.Errorf("read page 2: %w", &realtime.ServerError{Code: realtime.CodeForbidden, Message: "no access"}),
			v1alpha1.ReasonForbidden, "no access"},
		{"INVALID_QUERY is an invalid query", &realtime.ServerError{Code: realtime.CodeInvalidQuery, Message: "bad filter", StatusCode: 400},
			v1alpha1.ReasonInvalidQuery, "bad filter"},
		{"INVALID_PAYLOAD is an invalid query", &realtime.ServerError{Code: realtime.CodeInvalidPayload, Message: "bad payload", StatusCode: 400},
			v1alpha1.ReasonInvalidQuery, "bad payload"},
		{"another server error is a failed snapshot with the whole error", &realtime.ServerError{Code: "INTERNAL", Message: "boom", StatusCode: 500},
			v1alpha1.ReasonSnapshotFailed, "directus: INTERNAL: boom (HTTP 500)"},
		{"a network error is a failed snapshot", errors.New("dial tcp 127.0.0.1:8055: connect: connection refused"),
			v1alpha1.ReasonSnapshotFailed, "connection refused"},
		{"an answer over the limit is too large", &realtime.ResponseTooLargeError{Request: "GET /items/messages", Limit: 64 << 20},
			v1alpha1.ReasonResponseTooLarge, "GET /items/messages: response larger than 67108864 bytes; narrow spec.query"},
		{"pages over the limit together are too large", fmt.Errorf("resync: %w", &realtime.ResponseTooLargeError{Request: "GET /items/messages", Limit: 64 << 20, Total: true}),
			v1alpha1.ReasonResponseTooLarge, "the pages of the full read exceed 67108864 bytes together"},
		{"a refused redirect is a failed snapshot that says why", &realtime.RedirectError{From: "http://d.example.com/items/m", To: "http://evil.example.com/items/m"},
			v1alpha1.ReasonSnapshotFailed, "refused to follow a redirect from http://d.example.com/items/m to http://evil.example.com/items/m"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			reason, msg := classifySnapshotError(tc.err)
			g.Expect(reason).To(Equal(tc.reason))
			g.Expect(msg).To(HavePrefix("reading the collection failed: "))
			g.Expect(msg).To(ContainSubstring(tc.msgContain))
		})
	}
}
