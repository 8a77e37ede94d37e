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

// Package hub is the Hub: the leader-elected manager Runnable that owns
// every connection and runner of the operator.
//
// It owns the pool of connections (shared by the subscriptions of one
// Directus identity, up to a cap per socket), the read gates per server,
// one entry per subscription whose runner moves starting → running →
// stopping → stopped, and the reconcilers' workqueues: it enqueues a
// subscription when its status has something new to show or its runner
// stopped, and a connection object when its sockets change. It runs what
// the reconcilers declare (Ensure, Remove) and reports it (Status,
// Replacing, ObjectStats).
//
// It must not write any object's status (the reconcilers do), nor reach
// into the data plane's parts: it builds them from package subscriptions
// and calls their methods. It keeps no context: what it starts runs under
// the one Start was given.
package hub
