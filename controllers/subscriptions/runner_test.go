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

	"github.com/directus-operator/directus-operator/realtime"
)

// An Event (or a ConfigMap write) lands a round trip after the runner
// counted the change that caused it, so the periodic update may run in
// between and carry the count without the write. The next periodic update
// must carry the write's time: nothing else would bring lastSyncTime to the
// status until another change arrives.
func TestAWriteThatLandsAfterAPeriodicUpdateIsCarriedByTheNext(t *testing.T) {
	g := NewWithT(t)
	conn, err := NewConnection(ConnectionOptions{Realtime: realtime.Options{URL: "http://directus.invalid", Auth: realtime.Auth{AccessToken: "t"}}, Log: logr.Discard()})
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
