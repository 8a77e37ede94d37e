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
	"encoding/json"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
)

// Config is everything a subscription needs; the reconciler builds it from the
// spec and the Secrets it names.
type Config struct {
	// Name and UID identify the DirectusSubscription.
	Name types.NamespacedName
	UID  types.UID
	// Generation is the spec generation this config was built from.
	Generation int64
	// Hash covers every input below, credentials included: a runner is
	// restarted only when it changes.
	Hash string
	// ConnectionKey covers the socket's settings (URL, path, auth mode,
	// credentials, TLS, heartbeat, reconnect): subscriptions with the same
	// key share connections.
	ConnectionKey string
	// ConnectionRef is the connection object (Kind/name) the subscription
	// uses, "" for an inline connection; ConnectionObject identifies it.
	ConnectionRef    string
	ConnectionObject ConnectionObject
	// MaxPerSocket and MaxConcurrentReads are the connection object's caps;
	// 0 means the Hub's defaults.
	MaxPerSocket, MaxConcurrentReads int

	// Realtime carries URL, path, credentials, auth mode, TLS, heartbeat and
	// reconnect settings. Logger and OnEvent are set by the connection.
	Realtime realtime.Options

	Collection string
	// Event is "", create, update or delete.
	Event string
	// Query is the user's query object, or nil.
	Query json.RawMessage

	// ConfigMap is set for the ConfigMap target, Secret for the Secret
	// target, Events for the events target.
	ConfigMap *MirrorTarget
	Secret    *MirrorTarget
	Events    *EventsTarget

	// ResyncInterval is the period of full resyncs; 0 turns them off.
	ResyncInterval time.Duration
}

// ConnectionObject names a DirectusConnection (with its namespace) or a
// ClusterDirectusConnection; the zero value is an inline connection.
type ConnectionObject struct {
	Kind string
	Key  types.NamespacedName
}

// MirrorTarget configures the mirror, written into a ConfigMap or a Secret
// (Kind says which).
type MirrorTarget struct {
	Name string
	// KeyField names items; empty means the collection's primary key.
	KeyField string
	Layout   mirror.Layout
	ListKey  string
	// Template, when set, renders the mirror in place of Layout.
	Template    *mirror.Template
	Labels      map[string]string
	Annotations map[string]string
}

// EventsTarget configures the events sink.
type EventsTarget struct {
	MaxPerMinute int
	// Since is when the subscription last recorded a change, as its status
	// says (zero for a new one). A new runner warns that changes made since
	// then may be missing: Directus replays nothing. It is not part of the
	// Hash.
	Since time.Time
}

// TargetName is what status.target shows.
func (c *Config) TargetName() string {
	if t, kind := c.Mirror(); t != nil {
		return kind.name() + "/" + t.Name
	}
	return "Events"
}

// Mirror is the mirror's target and the kind of object it writes; nil
// for the events target.
func (c *Config) Mirror() (*MirrorTarget, TargetKind) {
	if c.Secret != nil {
		return c.Secret, TargetSecret
	}
	return c.ConfigMap, TargetConfigMap
}
