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
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
)

// An Event (or a ConfigMap write) lands a round trip after the runner
// counted the change that caused it, so the periodic update may run in
// between and carry the count without the write. The next periodic update
// must carry the write's time: nothing else would bring lastSyncTime to the
// status until another change arrives.
func TestAWriteThatLandsAfterAPeriodicUpdateIsCarriedByTheNext(t *testing.T) {
	g := NewWithT(t)
	conn, err := NewConnection(ConnectionOptions{Realtime: realtime.Options{Server: realtime.Server{URL: "http://directus.invalid", Auth: realtime.Auth{AccessToken: "t"}}}, Log: logr.Discard()})
	g.Expect(err).NotTo(HaveOccurred())
	sink := NewEventsSink(EventsOptions{Client: fake.NewClientBuilder().Build(), Object: corev1.ObjectReference{Namespace: "ns", Name: "sub"}})
	sink.start(queryPlan{keyField: "id"}, (&scriptedEnv{}).env())
	notified := 0
	r := NewRunner(RunnerOptions{Collection: "messages", Notify: func() { notified++ }, Log: logr.Discard()}, conn, sink)

	r.Tick()
	before := notified
	r.Tick()
	g.Expect(notified).To(Equal(before), "nothing moved, nothing to write")

	sink.change(context.Background(), msg(realtime.KindCreate, time.Now(), `{"id":1}`))
	g.Expect(sink.status().LastSync).NotTo(BeZero())
	r.Tick()
	g.Expect(notified).To(Equal(before+1), "the Event's time reaches the status")
	r.Tick()
	g.Expect(notified).To(Equal(before+1), "once")
}

// `kubectl get dsub` printed beside the ConfigMap showed ITEMS one behind
// it: the write that changed the count waited for the periodic update. A
// write reaches the status at once unless an update was made less than
// StatusInterval ago; then the next periodic update carries it, so a busy
// mirror still costs at most one such update per interval.
func TestAWriteThatChangesTheItemCountReachesTheStatusAtOnce(t *testing.T) {
	g := NewWithT(t)
	conn, err := NewConnection(ConnectionOptions{Realtime: realtime.Options{Server: realtime.Server{URL: "http://directus.invalid", Auth: realtime.Auth{AccessToken: "t"}}}, Log: logr.Discard()})
	g.Expect(err).NotTo(HaveOccurred())
	sink := NewMirrorSink(MirrorOptions{Store: &memStore{}, Layout: mirror.PerItem})
	notified := 0
	r := NewRunner(RunnerOptions{Collection: "messages", Notify: func() { notified++ }, Log: logr.Discard(), StatusInterval: time.Hour}, conn, sink)
	env := (&scriptedEnv{rows: []string{`{"id":1}`}}).env()
	env.changed = r.changed
	sink.start(queryPlan{keyField: "id"}, env)
	ctx := context.Background()
	sink.init(ctx, msg(realtime.KindInit, time.Now()))
	sink.idle(ctx)
	g.Expect(r.Status().Items).To(Equal(int64(1)))
	r.Tick()
	// The last update is an interval old.
	r.mu.Lock()
	r.notifiedAt = r.notifiedAt.Add(-time.Hour)
	r.mu.Unlock()

	before := notified
	sink.change(ctx, msg(realtime.KindCreate, time.Now(), `{"id":2}`))
	sink.idle(ctx)
	g.Expect(notified).To(Equal(before+1), "the write that made it 2 items asks for a status update")
	g.Expect(r.notified.Items).To(Equal(int64(2)))

	sink.change(ctx, msg(realtime.KindCreate, time.Now(), `{"id":3}`))
	sink.idle(ctx)
	g.Expect(notified).To(Equal(before+1), "within the interval the next write waits")
	r.Tick()
	g.Expect(notified).To(Equal(before+2), "the periodic update carries it")
	g.Expect(r.notified.Items).To(Equal(int64(3)))
}
