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

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
)

// classifyConnError names why a connection failed, in words a person can act
// on. Directus closes sockets without a close code, so the realtime client
// hands over the error frame that came before the close; TLS and network
// errors come from the dial.
func classifyConnError(err error) (reason, message string) {
	var se *realtime.ServerError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case err == nil:
		return v1alpha1.ReasonConnected, ""
	case errors.Is(err, realtime.ErrRealtimeDisabled):
		return v1alpha1.ReasonRealtimeDisabled, "Directus has no realtime endpoint at this URL (the upgrade got HTTP 404): " +
			"set WEBSOCKETS_ENABLED=true on the server, or fix websocketPath"
	case errors.Is(err, realtime.ErrUnauthorized):
		return v1alpha1.ReasonAuthFailed, "Directus refused the access token on the upgrade request (HTTP 401): check the token in the Secret"
	case errors.Is(err, realtime.ErrConnectionLimit):
		return v1alpha1.ReasonConnectionLimit, "Directus refused the connection (HTTP 403): its WEBSOCKETS_REST_CONN_LIMIT is reached"
	case errors.Is(err, realtime.ErrRedirectRefused):
		return v1alpha1.ReasonServerUnreachable,
			fmt.Sprintf("%v (the operator never follows a redirect to another host, so credentials stay with the url's host)", err)
	case errors.Is(err, realtime.ErrResponseTooLarge):
		return v1alpha1.ReasonServerUnreachable, fmt.Sprintf("Directus answered with more than the operator reads: %v; check that the url points at Directus", err)
	case errors.As(err, &se) && se.Code == realtime.CodeAuthFailed:
		return v1alpha1.ReasonAuthFailed, fmt.Sprintf("Directus refused the credentials: %s", se.Message)
	case errors.As(err, &se) && (se.Code == realtime.CodeTokenExpired || se.Code == realtime.CodeAuthTimeout):
		return v1alpha1.ReasonTokenExpired, fmt.Sprintf("the access token expired and could not be renewed in time: %s", se.Message)
	case errors.As(err, &se) && se.Code == realtime.CodeRequestsExceeded:
		return v1alpha1.ReasonRateLimited, fmt.Sprintf("Directus is rate limiting this client: %s", se.Message)
	case errors.As(err, &se):
		return v1alpha1.ReasonServerUnreachable, fmt.Sprintf("Directus closed the connection after %s: %s", se.Code, se.Message)
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return v1alpha1.ReasonTLSError, fmt.Sprintf("the server certificate was not trusted: %v (set tls.ca to the issuing CA)", err)
	case errors.As(err, &opErr), errors.As(err, &netErr):
		return v1alpha1.ReasonServerUnreachable, fmt.Sprintf("cannot reach Directus: %v", err)
	default:
		return v1alpha1.ReasonServerUnreachable, err.Error()
	}
}

// classifySubError names why Directus refused or broke a subscription.
// Directus answers FORBIDDEN both for a collection the user may not read and
// for one that does not exist; its message says so and is kept.
func classifySubError(se *realtime.ServerError) (reason, message string) {
	switch se.Code {
	case realtime.CodeForbidden:
		return v1alpha1.ReasonForbidden, se.Message
	case realtime.CodeInvalidCollection:
		return v1alpha1.ReasonCollectionNotFound, se.Message
	case realtime.CodeInvalidQuery, realtime.CodeInvalidPayload:
		return v1alpha1.ReasonInvalidQuery, se.Message
	case realtime.CodeTokenExpired:
		return v1alpha1.ReasonTokenExpired, se.Message
	default:
		return v1alpha1.ReasonSubscribeFailed, fmt.Sprintf("%s: %s", se.Code, se.Message)
	}
}

// classifySnapshotError names why a full read failed.
func classifySnapshotError(err error) (reason, message string) {
	if errors.Is(err, realtime.ErrResponseTooLarge) {
		return v1alpha1.ReasonResponseTooLarge, fmt.Sprintf("reading the collection failed: %v; narrow spec.query (fields, filter, limit)", err)
	}
	if se, ok := errors.AsType[*realtime.ServerError](err); ok {
		switch se.Code {
		case realtime.CodeForbidden, "INVALID_CREDENTIALS", "TOKEN_EXPIRED", "INVALID_TOKEN":
			return v1alpha1.ReasonForbidden, fmt.Sprintf("reading the collection failed: %s", se.Message)
		case realtime.CodeInvalidQuery, realtime.CodeInvalidPayload:
			return v1alpha1.ReasonInvalidQuery, fmt.Sprintf("reading the collection failed: %s", se.Message)
		}
	}
	return v1alpha1.ReasonSnapshotFailed, fmt.Sprintf("reading the collection failed: %v", err)
}
