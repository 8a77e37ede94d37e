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

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kinds of connection object a subscription can name.
const (
	KindDirectusConnection        = "DirectusConnection"
	KindClusterDirectusConnection = "ClusterDirectusConnection"
)

// ConditionAuthenticated is a condition of connection objects: True once a
// socket of the connection authenticated with its credentials, False when
// Directus refused them.
const ConditionAuthenticated = "Authenticated"

// Reasons only connection objects set. The others they share with
// subscriptions (Reasons): Connected, Reconnecting, ServerUnreachable,
// AuthFailed, TLSError, SecretNotFound, InvalidSpec and the rest.
const (
	// ReasonIdle: no subscription uses the connection, so no socket is
	// open; its settings and Secrets resolve.
	ReasonIdle = "Idle"
	// ReasonAuthenticated: a socket authenticated with the connection's
	// credentials.
	ReasonAuthenticated = "Authenticated"
)

// ConnectionReasons lists the reasons only connection objects set, with
// their class, for docs/status.md.
var ConnectionReasons = []ReasonInfo{
	{ReasonIdle, ClassHealthy, []string{ConditionReady, ConditionConnected, ConditionAuthenticated},
		"No subscription uses the connection, so no socket is open (Connected and Authenticated are Unknown); its settings and Secrets resolve. It connects when a subscription names it."},
	{ReasonAuthenticated, ClassHealthy, []string{ConditionAuthenticated},
		"A socket of the connection authenticated with its credentials."},
}

// ConnectionReference names the connection object a subscription uses.
type ConnectionReference struct {
	// Kind is DirectusConnection (in the subscription's namespace) or
	// ClusterDirectusConnection. Defaults to DirectusConnection.
	// +optional
	// +kubebuilder:default=DirectusConnection
	// +kubebuilder:validation:Enum=DirectusConnection;ClusterDirectusConnection
	Kind string `json:"kind,omitempty"`
	// Name of the connection object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",message="connectionRef.name must be a valid object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`
}

// ConnectionSpec is the spec of a DirectusConnection: where Directus is,
// who to be there, and how many subscriptions one socket carries.
// +kubebuilder:validation:XValidation:rule="has(self.url) && has(self.auth)",message="a connection needs url and auth"
type ConnectionSpec struct {
	// DirectusConnectionSpec is inlined: url, websocketPath, auth, tls,
	// heartbeat and reconnect, as in an inline DirectusSubscription.
	DirectusConnectionSpec `json:",inline"`

	// MaxSubscriptionsPerSocket caps the subscriptions one realtime socket
	// of this connection carries; more open another socket. Defaults to the
	// operator's --max-subscriptions-per-connection (100).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	MaxSubscriptionsPerSocket int32 `json:"maxSubscriptionsPerSocket,omitempty"`

	// MaxConcurrentReads bounds the logins, subscribes and full reads this
	// connection runs at once, so that a reconnect of many subscriptions does
	// not flood Directus: logins go first, then reads, then subscribes.
	// Defaults to the operator's
	// --max-concurrent-reads-per-server (4).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxConcurrentReads int32 `json:"maxConcurrentReads,omitempty"`
}

// ClusterDirectusConnectionSpec is a ConnectionSpec whose Secret and
// ConfigMap references name their namespace, and that says which
// namespaces may use it.
type ClusterDirectusConnectionSpec struct {
	ConnectionSpec `json:",inline"`

	// Conditions say which namespaces' subscriptions may use this
	// connection: a namespace may if any condition matches it. Empty means
	// every namespace may.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Conditions []ClusterConnectionCondition `json:"conditions,omitempty"`
}

// ClusterConnectionCondition matches namespaces, as External Secrets'
// ClusterSecretStore conditions do: a namespace matches when the selector,
// any of the names or any of the regular expressions matches it.
// +kubebuilder:validation:XValidation:rule="has(self.namespaceSelector) || has(self.namespaces) || has(self.namespaceRegexes)",message="a condition needs namespaceSelector, namespaces or namespaceRegexes"
type ClusterConnectionCondition struct {
	// NamespaceSelector matches namespaces by their labels.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// Namespaces lists namespaces by name.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	Namespaces []string `json:"namespaces,omitempty"`
	// NamespaceRegexes match namespace names (RE2 syntax, unanchored: use ^
	// and $ to match a whole name). CEL cannot check a regular expression
	// at apply time; one that does not compile makes the connection's Ready
	// False with reason InvalidSpec and matches nothing.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	NamespaceRegexes []string `json:"namespaceRegexes,omitempty"`
}

// DirectusConnectionStatus is what the operator observes of a connection.
type DirectusConnectionStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Connected and Authenticated, with the reasons of
	// subscriptions (docs/status.md), and Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// Sockets is the number of realtime sockets open or opening.
	// +optional
	Sockets int32 `json:"sockets,omitempty"`

	// Subscriptions is the number of subscriptions the connection serves.
	// +optional
	Subscriptions int32 `json:"subscriptions,omitempty"`

	// ServerVersion is the Directus version, when the credentials may read
	// it (Directus shows it to administrators only).
	// +optional
	ServerVersion string `json:"serverVersion,omitempty"`

	// LastError is the last connection error, in words.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// DirectusConnection defines once how to reach a Directus server and who to
// be there, for the subscriptions of its namespace that name it in
// spec.connectionRef. They share its sockets and never see its credentials.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dconn,categories=directus
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Sockets",type=integer,JSONPath=`.status.sockets`
// +kubebuilder:printcolumn:name="Subscriptions",type=integer,JSONPath=`.status.subscriptions`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.serverVersion`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DirectusConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	// +kubebuilder:validation:XValidation:rule=`(!has(self.auth.token) || !has(self.auth.token.namespace)) && (!has(self.auth.credentials) || !has(self.auth.credentials.namespace))`,message="a DirectusConnection reads Secrets from its own namespace: remove auth.*.namespace (only a ClusterDirectusConnection names namespaces)",reason=FieldValueForbidden
	// +kubebuilder:validation:XValidation:rule=`!has(self.tls) || !has(self.tls.ca) || ((!has(self.tls.ca.secretKeyRef) || !has(self.tls.ca.secretKeyRef.namespace)) && (!has(self.tls.ca.configMapKeyRef) || !has(self.tls.ca.configMapKeyRef.namespace)))`,message="a DirectusConnection reads its CA bundle from its own namespace: remove tls.ca.*.namespace",reason=FieldValueForbidden
	Spec ConnectionSpec `json:"spec"`

	// +optional
	Status DirectusConnectionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DirectusConnectionList is a list of DirectusConnections.
type DirectusConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DirectusConnection `json:"items"`
}

// ClusterDirectusConnection is a DirectusConnection for the whole cluster,
// defined by the platform team: its Secrets live in namespaces it names,
// which the subscriptions using it cannot read, and spec.conditions say
// which namespaces may use it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cdconn,categories=directus
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Sockets",type=integer,JSONPath=`.status.sockets`
// +kubebuilder:printcolumn:name="Subscriptions",type=integer,JSONPath=`.status.subscriptions`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.serverVersion`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterDirectusConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	// +kubebuilder:validation:XValidation:rule=`(!has(self.auth.token) || has(self.auth.token.namespace)) && (!has(self.auth.credentials) || has(self.auth.credentials.namespace))`,message="a ClusterDirectusConnection must name the namespace of each Secret: set auth.token.namespace or auth.credentials.namespace"
	// +kubebuilder:validation:XValidation:rule=`!has(self.tls) || !has(self.tls.ca) || ((!has(self.tls.ca.secretKeyRef) || has(self.tls.ca.secretKeyRef.namespace)) && (!has(self.tls.ca.configMapKeyRef) || has(self.tls.ca.configMapKeyRef.namespace)))`,message="a ClusterDirectusConnection must name the namespace of its CA bundle: set tls.ca.secretKeyRef.namespace or tls.ca.configMapKeyRef.namespace"
	Spec ClusterDirectusConnectionSpec `json:"spec"`

	// +optional
	Status DirectusConnectionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterDirectusConnectionList is a list of ClusterDirectusConnections.
type ClusterDirectusConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterDirectusConnection `json:"items"`
}
