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
	"context"
	"encoding/json"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/realtime"
)

// SinkStatus is what a sink reports: its Synced condition and counters.
type SinkStatus struct {
	Target  string
	Synced  metav1.ConditionStatus
	Reason  string
	Message string
	// LastSync is when the target last became current.
	LastSync time.Time
	Items    int64
	// Bytes is the size of the target's data as of its last write.
	Bytes     int64
	Folded    int64
	LastError timedText
	// Resynced is the last resync request (see Sink.resync) it handled.
	Resynced string
}

// sinkEnv is what a sink may use of its runner and connection.
type sinkEnv struct {
	collection string
	log        logr.Logger
	// changed reports that the sink's status changed.
	changed func()
	// readAll reads the query's full result (over the socket, or REST), through the gate.
	readAll func(ctx context.Context, query json.RawMessage, key string) ([]json.RawMessage, error)
	// losses counts the bad frames seen so far: a full read that overlaps
	// one is not current.
	losses func() uint64
}

// Sink is where a subscription's messages go: a mirror written into a
// Store, or Kubernetes Events. Its methods run on the runner's goroutine,
// except status, which must be safe to call from any. A sink is the only
// place that decides its Synced condition.
//
// Sink is what every sink does; what only some do is in the optional
// interfaces below (planner, idler, timed, verifier, resyncer,
// exitTracker), which the runner finds by type assertion.
type Sink interface {
	// start is called once, with the plan, before any message.
	start(plan queryPlan, env sinkEnv)
	// init is a (re)subscription's first message on a socket: nothing
	// that happened while it was not subscribed is replayed.
	init(ctx context.Context, m realtime.Message)
	// change is a create, update or delete.
	change(ctx context.Context, m realtime.Message)
	// lost says changes may have been lost, with a Synced reason.
	lost(ctx context.Context, reason, why string)
	status() SinkStatus
}

// planner is a sink that shapes the query it is fed (see makePlan).
type planner interface {
	planInput() planInput
}

// idler is a sink with pending work to do when no message waits.
type idler interface {
	idle(ctx context.Context)
}

// timed is a sink with work due at a time of its own: retries, resyncs,
// write floors.
type timed interface {
	// timer fires when the sink wants tick; nil when it does not.
	timer() <-chan time.Time
	tick(ctx context.Context)
}

// verifier is a sink that can compare its target with what it holds.
type verifier interface {
	// verify makes the next idle compare the target with what the sink
	// holds.
	verify()
}

// resyncer is a sink that reads everything again on demand.
type resyncer interface {
	// resync asks for a full read on demand; request names it, and the
	// status's Resynced shows it once it has been handled. Asking again
	// with the same request does nothing.
	resync(request string)
}

// exitTracker is a sink that follows items out of its filter
// (plan.watchExits).
type exitTracker interface {
	// touched names items an update changed, whether or not they still
	// match the query.
	touched(items []json.RawMessage)
}

var (
	_ planner     = (*MirrorSink)(nil)
	_ idler       = (*MirrorSink)(nil)
	_ timed       = (*MirrorSink)(nil)
	_ verifier    = (*MirrorSink)(nil)
	_ resyncer    = (*MirrorSink)(nil)
	_ exitTracker = (*MirrorSink)(nil)
	_ timed       = (*EventsSink)(nil)
	_ resyncer    = (*EventsSink)(nil)
)
