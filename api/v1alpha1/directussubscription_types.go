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

// Event is a Directus realtime event type.
// +kubebuilder:validation:Enum=create;update;delete
type Event string

const (
	EventCreate Event = "create"
	EventUpdate Event = "update"
	EventDelete Event = "delete"
)

// DirectusSubscriptionSpec declares one Directus realtime subscription and
// where its data goes.
// +kubebuilder:validation:XValidation:rule="has(self.url) != has(self.connectionRef)",message="set exactly one of url (with auth: a connection of this subscription's own) or connectionRef (a DirectusConnection or ClusterDirectusConnection)"
// +kubebuilder:validation:XValidation:rule="!has(self.url) || has(self.auth)",message="auth is required with url: name a token or credentials Secret, or set public: {}"
// +kubebuilder:validation:XValidation:rule="!has(self.connectionRef) || !(has(self.auth) || has(self.tls) || has(self.websocketPath) || has(self.heartbeat) || has(self.reconnect))",message="with connectionRef, auth, tls, websocketPath, heartbeat and reconnect come from the connection: remove them from the subscription"
// +kubebuilder:validation:XValidation:rule=`!has(self.auth) || ((!has(self.auth.token) || !has(self.auth.token.namespace)) && (!has(self.auth.credentials) || !has(self.auth.credentials.namespace)))`,message="a subscription reads Secrets from its own namespace: remove auth.*.namespace (a ClusterDirectusConnection can name Secrets elsewhere)",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule=`!has(self.tls) || !has(self.tls.ca) || ((!has(self.tls.ca.secretKeyRef) || !has(self.tls.ca.secretKeyRef.namespace)) && (!has(self.tls.ca.configMapKeyRef) || !has(self.tls.ca.configMapKeyRef.namespace)))`,message="a subscription reads its CA bundle from its own namespace: remove tls.ca.*.namespace",reason=FieldValueForbidden
type DirectusSubscriptionSpec struct {
	// DirectusConnectionSpec is inlined: url, websocketPath, auth, tls,
	// heartbeat and reconnect. Set url and auth, or connectionRef.
	DirectusConnectionSpec `json:",inline"`

	// ConnectionRef names a DirectusConnection in this namespace or a
	// ClusterDirectusConnection that allows this namespace, instead of an
	// inline url and auth. The subscription then shares that connection's
	// sockets and credentials, which it never sees.
	// +optional
	ConnectionRef *ConnectionReference `json:"connectionRef,omitempty"`

	// Collection is the Directus collection to subscribe to, for example
	// messages.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.trim() == self && self != ''",message="collection must be a collection name without surrounding spaces"
	Collection string `json:"collection"`

	// Event limits the subscription to one kind of change: create, update or
	// delete. Unset means all of them. With a configMap target and an event,
	// the mirror holds a full read of the query plus the changes of that kind;
	// the others show up at the next resync.
	// +optional
	Event Event `json:"event,omitempty"`

	// Query is the Directus query object passed to the subscription as is:
	// fields, filter, sort, limit, search, deep, alias, and any other key
	// Directus understands. For example
	// {"fields": ["id", "text"], "filter": {"status": {"_eq": "published"}}}.
	// With a limit the mirror is a window ("the latest 10") and is refreshed
	// from a snapshot after changes.
	// +optional
	Query *DirectusQuery `json:"query,omitempty"`

	// Target is where received data goes. Exactly one of configMap, secret
	// or events must be set.
	// +required
	Target TargetSpec `json:"target"`

	// ResyncInterval is how often the target is rebuilt from a full read of
	// the collection, with up to 10% jitter. Directus has no replay, sends
	// nothing when an item leaves the query's filter, and misses writes that
	// bypass its hooks; a periodic resync repairs all three. 0s turns it off.
	// Defaults to 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || duration(self) >= duration('30s')",message="resyncInterval must be 0s (off) or at least 30s"
	ResyncInterval *metav1.Duration `json:"resyncInterval,omitempty"`

	// Suspend stops the subscription and closes its connection; the target
	// keeps its last content. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// TargetSpec selects where data goes.
// +kubebuilder:validation:XValidation:rule="(has(self.configMap) ? 1 : 0) + (has(self.secret) ? 1 : 0) + (has(self.events) ? 1 : 0) == 1",message="target: set exactly one of configMap, secret or events"
type TargetSpec struct {
	// ConfigMap keeps a live, exact mirror of the query result in a ConfigMap
	// in the subscription's namespace, owned by the subscription.
	// +optional
	ConfigMap *ConfigMapTarget `json:"configMap,omitempty"`

	// Secret keeps the same live, exact mirror in a Secret (type Opaque)
	// instead, for content that should not be readable by everyone who may
	// read ConfigMaps (the built-in view role may). It takes the same fields
	// as configMap.
	// +optional
	Secret *ConfigMapTarget `json:"secret,omitempty"`

	// Events records each received change as a Kubernetes Event on the
	// subscription.
	// +optional
	Events *EventsTarget `json:"events,omitempty"`

	// DeletionPolicy says what becomes of the target ConfigMap when the
	// subscription is deleted, or stops writing it (renamed, or switched to
	// another target): Delete removes it; Retain keeps it with its last
	// content, no longer owned by the subscription and labelled
	// realtime.directus-operator.io/retained-from: <subscription name>.
	// Defaults to Delete.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// DeletionPolicy is what becomes of a target the subscription stops writing.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

const (
	// DeletionPolicyDelete removes the target.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyRetain keeps the target, released from the subscription.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// ConfigMapLayout is how items are laid out in the ConfigMap.
// +kubebuilder:validation:Enum=PerItem;List
type ConfigMapLayout string

const (
	// LayoutPerItem stores each item as JSON under its own key,
	// "<escaped key>.json".
	LayoutPerItem ConfigMapLayout = "PerItem"
	// LayoutList stores all items as one JSON array under listKey.
	LayoutList ConfigMapLayout = "List"
)

// ConfigMapTarget mirrors the query result into a ConfigMap, or into a
// Secret (target.secret).
// +kubebuilder:validation:XValidation:rule="!has(self.template) || !has(self.layout) || self.layout == 'PerItem'",message="template replaces layout: leave layout unset (or PerItem) when template is set"
type ConfigMapTarget struct {
	// Name of the ConfigMap (or Secret). Defaults to the subscription's name.
	// The operator creates it and refuses to take over one it does not own.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Subdomain().validate(self).hasValue()",message="name must be a valid ConfigMap or Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name,omitempty"`

	// KeyField is the item field whose value names the item in the mirror.
	// Defaults to the collection's primary key. When the query's fields do
	// not include it, the operator requests it anyway and leaves it out of
	// the stored item.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	KeyField string `json:"keyField,omitempty"`

	// Layout is PerItem (one key per item, "<escaped key>.json") or List (one
	// JSON array under listKey, ordered by key). Defaults to PerItem.
	// +optional
	// +kubebuilder:default=PerItem
	Layout ConfigMapLayout `json:"layout,omitempty"`

	// ListKey is the data key of the List layout. Defaults to items.json.
	// +optional
	// +kubebuilder:default="items.json"
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	ListKey string `json:"listKey,omitempty"`

	// Template renders the whole mirror into one data key with a Go
	// text/template, in place of the layout: an app.yaml from a settings
	// collection, a .env, an nginx map. docs/templates.md lists what the
	// template sees and its functions. A template that does not parse is
	// reported as InvalidTemplate; one that fails on the data as
	// TemplateFailed, and the target keeps its last content.
	// +optional
	Template *TemplateSpec `json:"template,omitempty"`

	// Labels are added to the ConfigMap (or Secret), for example to select it from a
	// workload or a tool such as Reloader. Keys and values follow
	// Kubernetes' label rules.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k).hasValue())",messageExpression="'labels: invalid label key ' + self.filter(k, format.qualifiedName().validate(k).hasValue())[0] + ': a key is an optional DNS subdomain prefix and a slash, then a name of at most 63 letters, digits, dashes, underscores or dots that starts and ends with a letter or digit, for example app.kubernetes.io/part-of'"
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// Annotations are added to the ConfigMap (or Secret). Keys follow Kubernetes'
	// annotation rules; keys and values together must fit in 256 KiB.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, !format.qualifiedName().validate(k.lowerAscii()).hasValue())",messageExpression="'annotations: invalid annotation key ' + self.filter(k, format.qualifiedName().validate(k.lowerAscii()).hasValue())[0] + ': a key is an optional DNS subdomain prefix and a slash, then a name of at most 63 letters, digits, dashes, underscores or dots that starts and ends with a letter or digit, for example example.com/owner'"
	// +kubebuilder:validation:XValidation:rule="self.map(k, size(k) + size(self[k])).sum() <= 262144",message="annotations: keys and values together must not exceed 256 KiB (262144 bytes), Kubernetes' limit for an object's annotations"
	Annotations map[string]string `json:"annotations,omitempty"`
}

// TemplateSpec is a Go text/template and the data key it renders into.
type TemplateSpec struct {
	// Key is the data key (the file name, when mounted) of the rendered
	// template, for example app.yaml or .env.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
	// Text is the template, in Go text/template syntax.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=262144
	Text string `json:"text"`
}

// LabelValue is the value of a label on the target ConfigMap or Secret. It is a type
// of its own so that the CRD bounds its length, which keeps the cost of the
// check below within the API server's CEL budget.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:XValidation:rule="!format.labelValue().validate(self).hasValue()",message="a label value is empty or at most 63 letters, digits, dashes, underscores or dots that starts and ends with a letter or digit; put longer text in annotations"
type LabelValue string

// EventsTarget records changes as Kubernetes Events.
type EventsTarget struct {
	// MaxPerMinute bounds how many Events are recorded per minute, so a burst
	// cannot flood the API server; changes beyond it are folded into one
	// summary Event and counted in status.eventsFolded. Defaults to 60.
	// +optional
	// +kubebuilder:default=60
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=6000
	MaxPerMinute int32 `json:"maxPerMinute,omitempty"`
}

// ConnectionState is the state of the realtime connection.
type ConnectionState string

const (
	ConnectionStateConnecting   ConnectionState = "Connecting"
	ConnectionStateConnected    ConnectionState = "Connected"
	ConnectionStateReconnecting ConnectionState = "Reconnecting"
	ConnectionStateDisconnected ConnectionState = "Disconnected"
	ConnectionStateSuspended    ConnectionState = "Suspended"
)

// ConnectionStatus describes the realtime connection.
type ConnectionStatus struct {
	// Ref is the connection object the subscription uses, as Kind/name
	// (DirectusConnection/cms or ClusterDirectusConnection/shared); empty
	// for an inline connection.
	// +optional
	Ref string `json:"ref,omitempty"`
	// State is Connecting, Connected, Reconnecting, Disconnected or Suspended.
	// +optional
	State ConnectionState `json:"state,omitempty"`
	// Since is when the connection entered State.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// LastMessageTime is when the last subscription message arrived.
	// +optional
	LastMessageTime *metav1.Time `json:"lastMessageTime,omitempty"`
	// Reconnects counts connections re-established since the operator
	// started serving this subscription.
	// +optional
	Reconnects int64 `json:"reconnects,omitempty"`
}

// DirectusSubscriptionStatus is the observed state of a DirectusSubscription.
type DirectusSubscriptionStatus struct {
	// ObservedGeneration is the generation whose spec the status describes;
	// -1 until the operator has run any. kstatus (Flux, kpt, cli-utils)
	// reports a subscription as in progress until it equals
	// metadata.generation, including right after it is created.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Connected, Subscribed, Synced and Ready (all three true,
	// or suspended), and, following the kstatus conventions, Reconciling
	// while the subscription works its way to Ready and Stalled while it
	// cannot get there without a change by someone. docs/status.md lists
	// every reason.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// Connection describes the realtime connection.
	// +optional
	Connection ConnectionStatus `json:"connection,omitempty"`

	// Target names what the data goes to: ConfigMap/<name>, Secret/<name>
	// or Events.
	// +optional
	Target string `json:"target,omitempty"`

	// EventsReceived counts subscription messages received.
	// +optional
	EventsReceived int64 `json:"eventsReceived,omitempty"`

	// EventsFolded counts changes folded into summary Events by the events
	// target's rate limit.
	// +optional
	EventsFolded int64 `json:"eventsFolded,omitempty"`

	// Items is the number of items in the target ConfigMap or Secret as of its last
	// write (0 for the events target). Counters are brought to the status
	// every few seconds (the operator's status interval, 2s by default), so
	// they can lag the ConfigMap by that much.
	// +optional
	// +kubebuilder:default=0
	Items int64 `json:"items,omitempty"`

	// LastSyncTime is when the target last matched the received data.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// LastHandledResyncAt is the value of the
	// realtime.directus-operator.io/requestedAt annotation whose full read
	// has been done and written (or refused with a condition). A request is
	// pending while the two differ.
	// +optional
	LastHandledResyncAt string `json:"lastHandledResyncAt,omitempty"`

	// LastError is the most recent error, in words.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// DirectusSubscription mirrors a Directus Realtime subscription into a
// ConfigMap (a live, exact copy of the query result) or into Kubernetes
// Events.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dsub;dsubs,categories=directus
// +kubebuilder:printcolumn:name="Collection",type=string,JSONPath=`.spec.collection`
// +kubebuilder:printcolumn:name="Event",type=string,JSONPath=`.spec.event`,priority=1
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.status.target`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Items",type=integer,JSONPath=`.status.items`
// +kubebuilder:printcolumn:name="Connection",type=string,JSONPath=`.status.connection.state`,priority=1
// +kubebuilder:printcolumn:name="Last Message",type=date,JSONPath=`.status.connection.lastMessageTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DirectusSubscription struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec DirectusSubscriptionSpec `json:"spec"`
	// Status is what the operator observed. It defaults to observedGeneration
	// -1, so a subscription the operator has not seen yet reads as not
	// observed (kstatus: InProgress), not as Current.
	// +optional
	// +kubebuilder:default={"observedGeneration":-1}
	Status DirectusSubscriptionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// DirectusSubscriptionList contains a list of DirectusSubscription.
type DirectusSubscriptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DirectusSubscription `json:"items"`
}
