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
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
)

// memStore is a Store in memory that counts its writes.
type memStore struct {
	mu     sync.Mutex
	data   map[string]string
	writes int
}

func (m *memStore) Name() string { return "Memory/test" }

func (m *memStore) Apply(_ context.Context, r mirror.Rendered) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if maps.Equal(m.data, r.Data) {
		return "skipped", nil
	}
	m.data = maps.Clone(r.Data)
	m.writes++
	return "success", nil
}

func (m *memStore) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.data))
	for k := range m.data {
		keys = append(keys, k)
	}
	mirror.SortKeys(keys)
	return keys
}

// scriptedEnv is a sinkEnv whose full reads return rows and may run a hook
// while they "run", to interleave events with a read deterministically.
type scriptedEnv struct {
	rows    []string
	during  func()
	lossCnt uint64
}

func (e *scriptedEnv) env() sinkEnv {
	return sinkEnv{
		collection: "messages", log: logr.Discard(), changed: func() {},
		readAll: func(context.Context, json.RawMessage, string) ([]json.RawMessage, error) {
			if e.during != nil {
				e.during()
			}
			out := make([]json.RawMessage, len(e.rows))
			for i, r := range e.rows {
				out[i] = json.RawMessage(r)
			}
			return out, nil
		},
		losses: func() uint64 { return e.lossCnt },
	}
}

func newTestMirror(t *testing.T, env *scriptedEnv) (*MirrorSink, *memStore) {
	t.Helper()
	store := &memStore{}
	s := NewMirrorSink(MirrorOptions{Store: store, Layout: mirror.PerItem})
	s.start(queryPlan{keyField: "id"}, env.env())
	return s, store
}

func msg(kind realtime.MessageKind, at time.Time, items ...string) realtime.Message {
	m := realtime.Message{Kind: kind, Received: at, Epoch: 1}
	for _, it := range items {
		if kind == realtime.KindDelete {
			m.Keys = append(m.Keys, it)
		} else {
			m.Items = append(m.Items, json.RawMessage(it))
		}
	}
	return m
}

func TestAMirrorIsSyncedOnlyAfterAFullReadThatFollowsTheInit(t *testing.T) {
	g := NewWithT(t)
	env := &scriptedEnv{rows: []string{`{"id":1}`, `{"id":2}`}}
	s, store := newTestMirror(t, env)
	ctx := context.Background()
	g.Expect(s.status().Synced).To(Equal(metav1.ConditionUnknown))

	s.idle(ctx)
	g.Expect(store.writes).To(Equal(0), "nothing is written before a full read: it would empty the target")

	s.init(ctx, msg(realtime.KindInit, time.Now()))
	s.idle(ctx)
	g.Expect(store.keys()).To(Equal([]string{"1.json", "2.json"}))
	g.Expect(s.status().Synced).To(Equal(metav1.ConditionTrue))
	g.Expect(s.status().Items).To(Equal(int64(2)))
}

func TestAChangeReceivedBeforeAFullReadIsNotAppliedAfterIt(t *testing.T) {
	// Directus deleted item 2 and then the read ran: the read no longer has
	// it. A create of item 2 that was received before the read began, but
	// handled after it, must not put it back.
	g := NewWithT(t)
	env := &scriptedEnv{rows: []string{`{"id":1}`}}
	s, store := newTestMirror(t, env)
	ctx := context.Background()
	before := time.Now()
	s.init(ctx, msg(realtime.KindInit, before))
	s.idle(ctx)

	s.change(ctx, msg(realtime.KindCreate, before, `{"id":2}`))
	s.idle(ctx)
	g.Expect(store.keys()).To(Equal([]string{"1.json"}), "the create is older than the read")

	s.change(ctx, msg(realtime.KindCreate, time.Now(), `{"id":3}`))
	s.idle(ctx)
	g.Expect(store.keys()).To(Equal([]string{"1.json", "3.json"}), "a change received after the read began is applied")
}

func TestABadFrameDuringAFullReadKeepsTheMirrorFromClaimingSynced(t *testing.T) {
	g := NewWithT(t)
	env := &scriptedEnv{rows: []string{`{"id":1}`}}
	env.during = func() { env.lossCnt++ } // a frame that could not be read arrives mid-read
	s, _ := newTestMirror(t, env)
	ctx := context.Background()
	s.init(ctx, msg(realtime.KindInit, time.Now()))
	s.idle(ctx)
	g.Expect(s.status().Synced).NotTo(Equal(metav1.ConditionTrue), "the read may have missed what the bad frame carried")

	env.during = nil
	s.lost(ctx, v1alpha1.ReasonBadFrame, "bad frame")
	g.Expect(s.status().Reason).To(Equal(v1alpha1.ReasonBadFrame))
	g.Eventually(s.timer(), 5*time.Second).Should(Receive(), "the read waits for MinRefreshInterval after the last one")
	s.tick(ctx)
	s.idle(ctx)
	g.Expect(s.status().Synced).To(Equal(metav1.ConditionTrue), "the next full read makes it current again")
}

func TestAWindowReadsAtMostOncePerRefreshIntervalHoweverBusy(t *testing.T) {
	g := NewWithT(t)
	reads := 0
	env := &scriptedEnv{rows: []string{`{"id":1}`}}
	env.during = func() { reads++ }
	store := &memStore{}
	s := NewMirrorSink(MirrorOptions{Store: store, Layout: mirror.PerItem, MinRefreshInterval: time.Hour})
	s.start(queryPlan{keyField: "id", refresh: true, limited: true}, env.env())
	ctx := context.Background()
	s.init(ctx, msg(realtime.KindInit, time.Now()))
	s.idle(ctx)
	for i := range 50 {
		s.change(ctx, msg(realtime.KindUpdate, time.Now(), `{"id":1,"n":`+string(rune('0'+i%10))+`}`))
		s.idle(ctx)
	}
	g.Expect(reads).To(Equal(1), "changes in a window ask for a read, but not more often than MinRefreshInterval")
	g.Expect(s.timer()).NotTo(BeNil(), "the pending read is scheduled, not dropped")
}

func TestEventsSinkRetriesAFailedEventAndSaysSoUntilItIsWritten(t *testing.T) {
	g := NewWithT(t)
	failures := 2
	var mu sync.Mutex
	var created []string
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			mu.Lock()
			defer mu.Unlock()
			if failures > 0 {
				failures--
				return errors.New("the API server is away")
			}
			created = append(created, obj.(*corev1.Event).Message)
			return cl.Create(ctx, obj, opts...)
		},
	}).Build()
	s := NewEventsSink(EventsOptions{Client: c, Object: corev1.ObjectReference{Namespace: "ns", Name: "sub"}, MaxPerMinute: 600})
	s.start(queryPlan{keyField: "id"}, (&scriptedEnv{}).env())
	ctx := context.Background()

	s.change(ctx, msg(realtime.KindCreate, time.Now(), `{"id":1}`))
	s.change(ctx, msg(realtime.KindCreate, time.Now(), `{"id":2}`))
	g.Expect(s.status().Synced).To(Equal(metav1.ConditionFalse))
	g.Expect(s.status().Reason).To(Equal(v1alpha1.ReasonWriteFailed))
	g.Expect(s.status().Message).To(ContainSubstring("2 Event(s) wait for a retry"))

	g.Eventually(func() []string {
		select {
		case <-s.timer():
			s.tick(ctx)
		case <-time.After(50 * time.Millisecond):
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), created...)
	}, 10*time.Second).Should(Equal([]string{"messages: item 1 created", "messages: item 2 created"}), "kept Events are written in order")
	g.Expect(s.status().Synced).To(Equal(metav1.ConditionTrue))
}
