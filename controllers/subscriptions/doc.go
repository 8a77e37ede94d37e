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

// Package subscriptions is the data plane: everything that runs one
// Directus realtime subscription, without Kubernetes controllers around
// it. The data path is
//
//	Connection (one socket, shared) → Runner (one per subscription) → Sink (mirror or Events) → Status
//
// A Connection is one realtime client with its only reconnect loop, shared
// by the subscriptions with the same Directus identity. A Runner subscribes
// on it and hands each message to its Sink, which alone decides its Synced
// condition. A MirrorSink writes into a Store (a ConfigMap or Secret
// through a client, or a directory); the Gate bounds the logins and reads
// that run at once per server; the plan shapes each query. Runner.Status
// assembles the connection's state, the subscription's and the sink's.
//
// The operator's Hub (package hub) and the sidecar (cmd) both build these
// parts; the sidecar uses a Connection, a Runner and a MirrorSink with no
// Kubernetes object around them.
//
// It must not import the controller-runtime manager, sources, workqueues
// or reconcile requests, nor write any object's status: a runner reports
// only through the callbacks it is given (RunnerOptions.Notify). Stores
// reach the API server through a client interface only.
package subscriptions
