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

// ReasonClass says what a condition reason means for the subscription's
// progress: whether it is done, on its way, or stuck until someone acts.
// GitOps tools read the class through the Reconciling and Stalled
// conditions, which the operator derives from it.
type ReasonClass string

const (
	// ClassHealthy is a reason of a True condition.
	ClassHealthy ReasonClass = "Healthy"
	// ClassProgressing is a step on the way to Ready with nothing wrong:
	// connecting, waiting for the first snapshot.
	ClassProgressing ReasonClass = "Progressing"
	// ClassTransient is a failure that can clear without anyone changing
	// anything (a server that is down, a rate limit, a failed write): the
	// operator retries with backoff. Reconciling stays True.
	ClassTransient ReasonClass = "Transient"
	// ClassTerminal is a failure that retrying cannot fix: it lasts until
	// someone changes the spec, a Secret or ConfigMap, or Directus's
	// permissions or configuration. Stalled turns True. The operator still
	// retries where it holds a connection, so a fix made on the Directus side
	// is picked up without a change in Kubernetes.
	ClassTerminal ReasonClass = "Terminal"
	// ClassSuspended is spec.suspend.
	ClassSuspended ReasonClass = "Suspended"
)

// ReasonInfo describes one condition reason the operator sets.
// +kubebuilder:object:generate=false
type ReasonInfo struct {
	Reason string
	Class  ReasonClass
	// Conditions are the condition types that carry the reason. Ready also
	// takes the reason of the first of Connected, Subscribed and Synced
	// that is not True, so every reason can show on Ready.
	Conditions []string
	// Description says what happened and, for failures, what to do.
	Description string
}

// Reasons lists every condition reason the operator sets on a
// DirectusSubscription, with its class. It is the one source of truth for
// the Reconciling and Stalled conditions and for the reason table of
// docs/status.md, which a test keeps in step with it.
var Reasons = []ReasonInfo{
	{ReasonReady, ClassHealthy, []string{ConditionReady},
		"Connected, Subscribed and Synced are all True: the target follows the collection."},
	{ReasonConnected, ClassHealthy, []string{ConditionConnected},
		"The realtime socket is open and authenticated."},
	{ReasonSubscribed, ClassHealthy, []string{ConditionSubscribed},
		"Directus confirmed the subscription on the current connection."},
	{ReasonSynced, ClassHealthy, []string{ConditionSynced},
		"The ConfigMap holds a complete read plus every change since."},
	{ReasonEventsRecorded, ClassHealthy, []string{ConditionSynced},
		"Events target: each change becomes a Kubernetes Event."},

	{ReasonConnecting, ClassProgressing, []string{ConditionConnected},
		"The first connection is being opened and authenticated."},
	{ReasonSubscribing, ClassProgressing, []string{ConditionSubscribed},
		"Waiting for the first connection, or for Directus to confirm the subscription."},
	{ReasonSyncing, ClassProgressing, []string{ConditionSynced},
		"Waiting for the first snapshot, or for the full read that follows a reconnect or a lost message."},
	{ReasonNotReady, ClassProgressing, []string{ConditionReady},
		"A condition has not been reported yet."},

	{ReasonReconnecting, ClassTransient, []string{ConditionConnected, ConditionSubscribed},
		"The connection closed; the operator reconnects with backoff (spec.reconnect)."},
	{ReasonServerUnreachable, ClassTransient, []string{ConditionConnected},
		"Directus cannot be reached or closed the connection; the operator reconnects with backoff. Check the url and that Directus runs."},
	{ReasonTokenExpired, ClassTransient, []string{ConditionConnected, ConditionSubscribed},
		"The access token expired before it could be renewed. With auth.credentials the next connection logs in again; Directus static tokens do not expire, so with auth.token put a static token, not a short-lived access token, in the Secret."},
	{ReasonConnectionLimit, ClassTransient, []string{ConditionConnected},
		"Directus refused the connection: its WEBSOCKETS_REST_CONN_LIMIT is reached. Retried with backoff."},
	{ReasonRateLimited, ClassTransient, []string{ConditionConnected},
		"Directus is rate limiting this client. Retried with backoff."},
	{ReasonSubscribeFailed, ClassTransient, []string{ConditionSubscribed},
		"Directus refused the subscription with an error that has no better name; the message has Directus's code."},
	{ReasonSnapshotFailed, ClassTransient, []string{ConditionSynced},
		"The full read failed (network, server error); retried with backoff up to 30s."},
	{ReasonWriteFailed, ClassTransient, []string{ConditionSynced},
		"Writing the ConfigMap or an Event failed (API server error); retried."},
	{ReasonBadFrame, ClassTransient, []string{ConditionSynced},
		"Directus sent a frame that could not be read; the mirror is rebuilt from a full read."},

	{ReasonAuthFailed, ClassTerminal, []string{ConditionConnected},
		"Directus refused the token or the email and password. Fix the Secret (or the user in Directus)."},
	{ReasonRealtimeDisabled, ClassTerminal, []string{ConditionConnected},
		"Directus has no realtime endpoint at this URL (HTTP 404). Set WEBSOCKETS_ENABLED=true on the server, or fix spec.websocketPath."},
	{ReasonTLSError, ClassTerminal, []string{ConditionConnected},
		"The server certificate is not trusted. Set spec.tls.ca to the issuing CA, or fix the server's certificate."},
	{ReasonSecretNotFound, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"A Secret the spec names does not exist. Create it; the operator watches it."},
	{ReasonSecretKeyNotFound, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"A Secret the spec names lacks the key, or it is empty. Add the key."},
	{ReasonCANotFound, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"The ConfigMap or key named by spec.tls.ca does not exist. Create it (a ConfigMap is checked again every 5 minutes, a Secret at once)."},
	{ReasonInvalidSpec, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"The spec passed validation but cannot be used (a CA bundle without a PEM certificate, a query that is not a JSON object). Fix the spec."},
	{ReasonInlineConnectionDenied, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"The operator runs with --inline-connections=Deny and the subscription sets url. Remove url and auth and name a DirectusConnection or ClusterDirectusConnection in spec.connectionRef. No socket is opened; the target keeps its last content."},
	{ReasonConnectionNotFound, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"spec.connectionRef names a DirectusConnection (in the subscription's namespace) or ClusterDirectusConnection that does not exist, or was deleted. Create it or fix the name; the operator watches it. The target keeps its last content."},
	{ReasonConnectionNotAllowed, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"The ClusterDirectusConnection's spec.conditions do not allow the subscription's namespace. Its owners can add the namespace (or a label that a namespaceSelector matches); no socket is opened and the target keeps its last content."},
	{ReasonInvalidTemplate, ClassTerminal, []string{ConditionConnected, ConditionSubscribed, ConditionSynced, ConditionReady},
		"The target's template does not parse (the message names the line); nothing runs until it does. Fix spec.target.configMap.template (or secret.template)."},
	{ReasonForbidden, ClassTerminal, []string{ConditionSubscribed, ConditionSynced},
		"The user may not read the collection, or it does not exist (Directus answers FORBIDDEN for both). Grant read access in Directus, or fix spec.collection."},
	{ReasonCollectionNotFound, ClassTerminal, []string{ConditionSubscribed},
		"The collection does not exist. Fix spec.collection."},
	{ReasonInvalidQuery, ClassTerminal, []string{ConditionSubscribed, ConditionSynced},
		"Directus refused the query. Fix spec.query."},
	{ReasonTooLarge, ClassTerminal, []string{ConditionSynced},
		"The mirror exceeds the 1 MiB limit of a ConfigMap or Secret; nothing was written and the target keeps its last content. Narrow spec.query (fields, filter, limit)."},
	{ReasonResponseTooLarge, ClassTerminal, []string{ConditionSynced},
		"A Directus REST answer, or the pages of one full read together, exceeded the operator's 64 MiB limit; it was not read further and the target keeps its last content. Narrow spec.query (fields, filter, limit), or check that the url points at Directus."},
	{ReasonConfigMapNotOwned, ClassTerminal, []string{ConditionSynced},
		"A ConfigMap of that name exists and belongs to someone else; it is never taken over. Delete it or choose another spec.target.configMap.name."},
	{ReasonSecretNotOwned, ClassTerminal, []string{ConditionSynced},
		"A Secret of that name exists and belongs to someone else; it is never taken over. Delete it or choose another spec.target.secret.name."},
	{ReasonTemplateFailed, ClassTerminal, []string{ConditionSynced},
		"The target's template failed on the data (the message names the line and column); the target keeps its last content. Fix the template, or the items; every change tries again."},
	{ReasonMissingKey, ClassTerminal, []string{ConditionSynced},
		"Some items have no usable key and are left out of the ConfigMap. Fix spec.target.configMap.keyField or spec.query.fields, or the items."},

	{ReasonSuspended, ClassSuspended, []string{ConditionConnected, ConditionSubscribed, ConditionReady},
		"spec.suspend is true: the connection is closed and the target keeps its last content. Ready is True: the subscription is as its spec asks."},
}

// ClassOf returns the class of reason. A reason it does not know is
// Transient: the operator retries it, and a GitOps tool waits for it rather
// than failing on a guess.
func ClassOf(reason string) ReasonClass {
	for _, r := range Reasons {
		if r.Reason == reason {
			return r.Class
		}
	}
	return ClassTransient
}
