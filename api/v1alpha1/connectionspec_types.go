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

package v1alpha1

// The settings of a connection to Directus, shared by a DirectusSubscription
// (inline) and the connection kinds (their spec).

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DirectusConnectionSpec says how to reach a Directus server and who to be
// there. A DirectusSubscription either inlines it (url, auth, ...) or names
// a DirectusConnection or ClusterDirectusConnection, whose spec carries it,
// in connectionRef.
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || !has(self.tls.insecureSkipVerify) || !self.tls.insecureSkipVerify || (has(self.url) && self.url.startsWith('https://'))",message="tls.insecureSkipVerify only makes sense for an https:// url"
type DirectusConnectionSpec struct {
	// URL is the base URL of the Directus server, for example
	// https://directus.example.com or http://directus.cms.svc:8055. The
	// realtime socket is reached at this URL plus websocketPath, over ws:// for
	// http:// and wss:// for https://.
	// Required, except in a DirectusSubscription that names a connection in
	// connectionRef.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	//
	// The rules that may see credentials (user info, a query string) report
	// Forbidden, which does not echo the value back into kubectl's output;
	// the first rule leaves a url with user info to the rule that forbids it.
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^:/?#]+://[^/?#]*@') || (isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != '')",message="url must be an http:// or https:// URL with a host, for example https://directus.example.com"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="url must not contain a query string or fragment; put credentials in auth, not in the url",reason=FieldValueForbidden
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/?#]+://[^/?#]*@')",message="url must not contain a user or password (user:password@host); put credentials in a Secret and name it in auth",reason=FieldValueForbidden
	URL string `json:"url,omitempty"`

	// WebSocketPath is the path of Directus's realtime endpoint, as set by its
	// WEBSOCKETS_REST_PATH. Defaults to /websocket. (The default is the
	// operator's, not the API server's, so that a subscription naming a
	// connection has none of these fields set.)
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/[^?#\s]*$`
	WebSocketPath string `json:"websocketPath,omitempty"`

	// Auth says how to authenticate. Exactly one of token, credentials or
	// public must be set. Required wherever url is set.
	// +optional
	Auth DirectusAuth `json:"auth,omitzero"`

	// TLS configures how the server certificate of an https:// URL is
	// verified. By default the system roots are used.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// Heartbeat tunes how a dead connection is detected.
	// +optional
	Heartbeat *HeartbeatSpec `json:"heartbeat,omitempty"`

	// Reconnect tunes the backoff between reconnection attempts.
	// +optional
	Reconnect *ReconnectSpec `json:"reconnect,omitempty"`
}

// AuthMode is the realtime authentication mode of the Directus server, as set
// by its WEBSOCKETS_REST_AUTH.
// +kubebuilder:validation:Enum=handshake;strict
type AuthMode string

const (
	// AuthModeHandshake sends the credentials in the first message after the
	// socket opens. Directus's default.
	AuthModeHandshake AuthMode = "handshake"
	// AuthModeStrict sends the access token on the upgrade request, as
	// Directus requires with WEBSOCKETS_REST_AUTH=strict.
	AuthModeStrict AuthMode = "strict"
)

// DirectusAuth selects one way to authenticate against Directus.
// +kubebuilder:validation:XValidation:rule="(has(self.token) ? 1 : 0) + (has(self.credentials) ? 1 : 0) + (has(self.public) ? 1 : 0) == 1",message="auth: set exactly one of token, credentials or public"
// +kubebuilder:validation:XValidation:rule="!has(self.public) || !has(self.mode) || self.mode != 'strict'",message="auth.mode strict needs a token or credentials; public access cannot be used with strict mode"
type DirectusAuth struct {
	// Token authenticates with a static token (set on a Directus user) or any
	// access token, read from a key of a Secret in the subscription's
	// namespace. This is the Directus realtime quickstart's way.
	// +optional
	Token *SecretKeySelector `json:"token,omitempty"`

	// Credentials logs in with an email and a password read from a Secret in
	// the subscription's namespace; the operator then refreshes the access
	// token before it expires.
	// +optional
	Credentials *CredentialsAuth `json:"credentials,omitempty"`

	// Public connects without credentials, with the permissions of Directus's
	// Public policy. Set it to {} to opt in.
	// +optional
	Public *PublicAuth `json:"public,omitempty"`

	// Mode is the server's realtime authentication mode (its
	// WEBSOCKETS_REST_AUTH): handshake (the credentials are the first message)
	// or strict (the access token is sent on the upgrade request). Defaults to
	// handshake.
	// +optional
	// +kubebuilder:default=handshake
	Mode AuthMode `json:"mode,omitempty"`
}

// SecretKeySelector names one key of a Secret in the object's namespace.
type SecretKeySelector struct {
	// Namespace of the Secret: required in a ClusterDirectusConnection,
	// refused everywhere else (a subscription or a namespaced connection
	// reads Secrets of its own namespace only).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Label().validate(self).hasValue()",message="namespace must be a valid namespace name"
	Namespace string `json:"namespace,omitempty"`
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",message="name must be a valid Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`
	// Key in the Secret's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// CredentialsAuth reads an email and a password from one Secret.
type CredentialsAuth struct {
	// Namespace of the Secret: required in a ClusterDirectusConnection,
	// refused everywhere else.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Label().validate(self).hasValue()",message="namespace must be a valid namespace name"
	Namespace string `json:"namespace,omitempty"`
	// SecretName is the Secret holding the email and the password.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",message="secretName must be a valid Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	SecretName string `json:"secretName"`
	// EmailKey is the Secret key holding the email. Defaults to email.
	// +optional
	// +kubebuilder:default=email
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	EmailKey string `json:"emailKey,omitempty"`
	// PasswordKey is the Secret key holding the password. Defaults to password.
	// +optional
	// +kubebuilder:default=password
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	PasswordKey string `json:"passwordKey,omitempty"`
}

// PublicAuth selects unauthenticated access. It has no fields.
type PublicAuth struct{}

// TLSSpec configures verification of the server's certificate.
// +kubebuilder:validation:XValidation:rule="!(has(self.ca) && has(self.insecureSkipVerify) && self.insecureSkipVerify)",message="tls: set either ca or insecureSkipVerify, not both"
type TLSSpec struct {
	// CA is a PEM bundle of certificate authorities to trust instead of the
	// system roots, read from a Secret or a ConfigMap key.
	// +optional
	CA *CABundleSource `json:"ca,omitempty"`

	// ServerName overrides the name checked against the server certificate
	// (and sent as SNI): a DNS name such as directus.example.com, or an IP
	// address.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="isIP(self) || !format.dns1123Subdomain().validate(self.lowerAscii()).hasValue()",message="tls.serverName must be a DNS name (letters, digits, '-' and '.', for example directus.example.com) or an IP address, without scheme, port or path"
	ServerName string `json:"serverName,omitempty"`

	// InsecureSkipVerify turns off verification of the server's certificate.
	// DANGEROUS: anyone on the network path can read the credentials and
	// forge data. Meant only for a lab; the operator reports it as a Warning
	// event and in the Ready condition's message while it is set.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// CABundleSource reads a PEM bundle from exactly one of a Secret or a
// ConfigMap key.
// +kubebuilder:validation:XValidation:rule="has(self.secretKeyRef) != has(self.configMapKeyRef)",message="tls.ca: set exactly one of secretKeyRef or configMapKeyRef"
type CABundleSource struct {
	// SecretKeyRef names a Secret key holding the PEM bundle.
	// +optional
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
	// ConfigMapKeyRef names a ConfigMap key holding the PEM bundle.
	// +optional
	ConfigMapKeyRef *ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
}

// ConfigMapKeySelector names one key of a ConfigMap in the object's namespace.
type ConfigMapKeySelector struct {
	// Namespace of the ConfigMap: required in a ClusterDirectusConnection,
	// refused everywhere else.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Label().validate(self).hasValue()",message="namespace must be a valid namespace name"
	Namespace string `json:"namespace,omitempty"`
	// Name of the ConfigMap.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",message="name must be a valid ConfigMap name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`
	// Key in the ConfigMap's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// HeartbeatSpec tunes dead-peer detection. Directus answers only JSON pings,
// so the operator sends {"type":"ping"} when the socket has been quiet.
type HeartbeatSpec struct {
	// Interval is how long the socket may be quiet before the operator sends
	// a ping. Defaults to 15s.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="heartbeat.interval must be between 1s and 10m"
	Interval *metav1.Duration `json:"interval,omitempty"`
	// Timeout is how long to wait for any frame after a ping before the
	// connection is declared dead and re-established. Defaults to 10s.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="heartbeat.timeout must be between 1s and 10m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// ReconnectSpec tunes the capped exponential backoff (with jitter) between
// reconnection attempts.
// +kubebuilder:validation:XValidation:rule="!has(self.initialDelay) || !has(self.maxDelay) || duration(self.initialDelay) <= duration(self.maxDelay)",message="reconnect.initialDelay must not exceed reconnect.maxDelay"
type ReconnectSpec struct {
	// InitialDelay is the wait before the first reconnection attempt.
	// Defaults to 500ms.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10ms')",message="reconnect.initialDelay must be at least 10ms"
	InitialDelay *metav1.Duration `json:"initialDelay,omitempty"`
	// MaxDelay caps the wait between attempts. Defaults to 1m.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100ms') && duration(self) <= duration('1h')",message="reconnect.maxDelay must be between 100ms and 1h"
	MaxDelay *metav1.Duration `json:"maxDelay,omitempty"`
}
