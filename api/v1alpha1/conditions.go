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

// Condition types of a DirectusSubscription.
const (
	// ConditionConnected is True while the realtime socket is open and
	// authenticated.
	ConditionConnected = "Connected"
	// ConditionSubscribed is True while Directus has confirmed the
	// subscription (its init message arrived) on the current connection.
	ConditionSubscribed = "Subscribed"
	// ConditionSynced is True when the target holds everything received; it
	// never turns True before the write it describes has succeeded.
	ConditionSynced = "Synced"
	// ConditionReady is True when Connected, Subscribed and Synced all are,
	// and while spec.suspend is true (reason Suspended): the subscription is
	// then as its spec asks.
	ConditionReady = "Ready"
	// ConditionReconciling is True, with the reason of Ready, while the
	// subscription works its way to Ready by itself: connecting, the first
	// snapshot, or retrying a transient failure. It follows the kstatus
	// conventions and is absent otherwise.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True, with the reason, while the subscription
	// cannot get Ready without a change of its spec, a Secret or ConfigMap,
	// or Directus's permissions or configuration (a terminal reason, see
	// Reasons). It follows the kstatus conventions and is absent otherwise.
	ConditionStalled = "Stalled"
)

// Condition reasons. Each names a cause a person can act on; Reasons says
// which are terminal and which heal by themselves.
const (
	ReasonConnected         = "Connected"
	ReasonConnecting        = "Connecting"
	ReasonReconnecting      = "Reconnecting"
	ReasonServerUnreachable = "ServerUnreachable"
	ReasonRealtimeDisabled  = "RealtimeDisabled"
	ReasonAuthFailed        = "AuthFailed"
	ReasonTokenExpired      = "TokenExpired"
	ReasonConnectionLimit   = "ConnectionLimit"
	ReasonRateLimited       = "RateLimited"
	ReasonTLSError          = "TLSError"
	ReasonSecretNotFound    = "SecretNotFound"
	ReasonSecretKeyNotFound = "SecretKeyNotFound"
	ReasonCANotFound        = "CANotFound"
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonSuspended         = "Suspended"
	// ReasonInlineConnectionDenied is a subscription with its own url while
	// the operator runs with --inline-connections=Deny.
	ReasonInlineConnectionDenied = "InlineConnectionDenied"
	// ReasonConnectionNotFound is a connectionRef naming no object.
	ReasonConnectionNotFound = "ConnectionNotFound"
	// ReasonConnectionNotAllowed is a ClusterDirectusConnection whose
	// conditions do not match the subscription's namespace.
	ReasonConnectionNotAllowed = "ConnectionNotAllowed"

	ReasonSubscribed         = "Subscribed"
	ReasonSubscribing        = "Subscribing"
	ReasonForbidden          = "Forbidden"
	ReasonCollectionNotFound = "CollectionNotFound"
	ReasonInvalidQuery       = "InvalidQuery"
	// ReasonSubscribeFailed covers subscription errors with no better name.
	ReasonSubscribeFailed = "SubscribeFailed"

	ReasonSynced         = "Synced"
	ReasonSyncing        = "Syncing"
	ReasonSnapshotFailed = "SnapshotFailed"
	ReasonTooLarge       = "TooLarge"
	// ReasonResponseTooLarge is a Directus REST answer over the operator's
	// limit (realtime.DefaultMaxResponseBytes).
	ReasonResponseTooLarge  = "ResponseTooLarge"
	ReasonConfigMapNotOwned = "ConfigMapNotOwned"
	ReasonSecretNotOwned    = "SecretNotOwned"
	ReasonInvalidTemplate   = "InvalidTemplate"
	ReasonTemplateFailed    = "TemplateFailed"
	ReasonWriteFailed       = "WriteFailed"
	ReasonMissingKey        = "MissingKey"
	ReasonBadFrame          = "BadFrame"
	ReasonEventsRecorded    = "EventsRecorded"

	ReasonReady    = "Ready"
	ReasonNotReady = "NotReady"
)

// Labels and annotations the operator puts on what it writes.
const (
	// LabelManagedBy marks objects written by the operator; its cache only
	// sees ConfigMaps that carry it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is LabelManagedBy's value.
	ManagedByValue = "directus-operator"
	// LabelSubscription names the DirectusSubscription that owns an object.
	LabelSubscription = "realtime.directus-operator.io/subscription"
	// LabelRetainedFrom names the DirectusSubscription a target was
	// released from under deletionPolicy Retain; the operator no longer
	// writes it.
	LabelRetainedFrom = "realtime.directus-operator.io/retained-from"
	// AnnotationRequestedAt asks for a full read of the collection now, in
	// the style of Flux's reconcile.fluxcd.io/requestedAt: set it to any new
	// value (a timestamp), and status.lastHandledResyncAt takes that value
	// once the read has been done and written. Its change is the request.
	AnnotationRequestedAt = "realtime.directus-operator.io/requestedAt"
	// AnnotationContentHash is a hash of a ConfigMap's data: writes that
	// would not change it are skipped, and tools such as Reloader can roll
	// the workloads that mount it when it really changes.
	AnnotationContentHash = "realtime.directus-operator.io/content-hash"
	// Finalizer lets the operator stop the connection and remove the
	// ConfigMap before the subscription goes away.
	Finalizer = "realtime.directus-operator.io/finalizer"
)
