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

package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// hubWorld is a fake Directus with one user, and a Hub writing into a fake
// Kubernetes client: the Hub's parts without an API server.
type hubWorld struct {
	t   *testing.T
	g   *WithT
	dx  *fakedirectus.Server
	k8s client.Client
	hub *Hub
}

func newHubWorld(t *testing.T, opts Options) *hubWorld {
	t.Helper()
	w := &hubWorld{t: t, g: NewWithT(t)}
	w.dx = fakedirectus.New(fakedirectus.Options{})
	t.Cleanup(w.dx.Close)
	w.dx.AddCollection("messages", "id", "text", "user")
	for _, tok := range []string{"token-a", "token-b"} {
		w.dx.AddUser(fakedirectus.User{Email: tok + "@example.com", Password: "pw", StaticToken: tok, Read: []string{"messages"}})
	}
	w.k8s = fake.NewClientBuilder().Build()
	w.hub = NewHub(w.k8s, w.k8s, logr.Discard(), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.hub.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return w
}

// config is subscription i of user token, mirroring that user's items.
func (w *hubWorld) config(i int, token string) subscriptions.Config {
	return subscriptions.Config{
		Name: types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("sub-%d", i)}, UID: types.UID(fmt.Sprintf("uid-%d", i)),
		Generation: 1, Hash: fmt.Sprintf("hash-%d-%s", i, token), ConnectionKey: "key-" + token,
		Realtime: realtime.Options{Server: realtime.Server{URL: w.dx.URL(), Auth: realtime.Auth{AccessToken: token}},
			Reconnect: realtime.ReconnectOptions{InitialDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond}},
		Collection: "messages", Query: json.RawMessage(fmt.Sprintf(`{"filter":{"user":{"_eq":"u%d"}}}`, i)),
		ConfigMap: &subscriptions.MirrorTarget{Name: fmt.Sprintf("sub-%d", i), Layout: mirror.PerItem},
	}
}

// subscriptions gives users u0 to u<n-1> an item each and returns the
// configs of their subscriptions under token-a (see config), not yet run.
func (w *hubWorld) subscriptions(n int) []subscriptions.Config {
	cfgs := make([]subscriptions.Config, 0, n)
	for i := range n {
		w.dx.Create("messages", map[string]any{"text": "hello", "user": fmt.Sprintf("u%d", i)})
		cfgs = append(cfgs, w.config(i, "token-a"))
	}
	return cfgs
}

// run makes the Hub run cfgs.
func (w *hubWorld) run(cfgs ...subscriptions.Config) {
	w.t.Helper()
	for _, cfg := range cfgs {
		w.g.Expect(w.hub.Ensure(cfg)).To(Succeed())
	}
}

// ready waits until every named subscription is connected, subscribed and
// synced, with the items of its user in its ConfigMap.
func (w *hubWorld) ready(cfgs ...subscriptions.Config) {
	w.t.Helper()
	w.g.Eventually(func(g Gomega) {
		for _, cfg := range cfgs {
			st, ok := w.hub.Status(cfg.Name)
			g.Expect(ok).To(BeTrue())
			g.Expect(st.ConnState).To(Equal(v1alpha1.ConnectionStateConnected), cfg.Name.Name)
			g.Expect(st.Subscribed).To(BeTrue(), "%s: %s", cfg.Name.Name, st.SubMessage)
			g.Expect(st.Synced).To(Equal(metav1.ConditionTrue), "%s: %s", cfg.Name.Name, st.SyncMessage)
			cm := &corev1.ConfigMap{}
			g.Expect(w.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: cfg.ConfigMap.Name}, cm)).To(Succeed())
			g.Expect(cm.Data).To(HaveLen(1), cfg.Name.Name)
		}
	}, 30*time.Second, 20*time.Millisecond).Should(Succeed())
}

func TestSubscriptionsOfOneIdentityShareSocketsUpToTheCap(t *testing.T) {
	w := newHubWorld(t, Options{MaxSubscriptionsPerConnection: 10})
	cfgs := w.subscriptions(25)
	w.run(cfgs...)
	w.ready(cfgs...)
	w.g.Expect(w.hub.Sockets()).To(Equal(3), "ceil(25 / 10)")
	w.g.Expect(w.dx.Connections()).To(Equal(3), "Directus sees the same sockets")

	// Another identity gets a socket of its own.
	w.dx.Create("messages", map[string]any{"text": "hello", "user": "u99"})
	other := w.config(99, "token-b")
	w.g.Expect(w.hub.Ensure(other)).To(Succeed())
	w.ready(other)
	w.g.Expect(w.dx.Connections()).To(Equal(4))
}

func TestAddingOrRemovingASubscriptionNeverReconnectsTheOthers(t *testing.T) {
	w := newHubWorld(t, Options{MaxSubscriptionsPerConnection: 10})
	cfgs := w.subscriptions(5)
	w.run(cfgs...)
	w.ready(cfgs...)

	// Remove one, change another's query, add a new one.
	w.g.Eventually(func() bool { return w.hub.Remove(cfgs[0].Name) }, 10*time.Second).Should(BeTrue())
	changed := cfgs[1]
	changed.Hash, changed.Generation = "hash-1-changed", 2
	changed.Query = json.RawMessage(`{"filter":{"user":{"_eq":"u1"}},"fields":["id","user"]}`)
	w.g.Expect(w.hub.Ensure(changed)).To(Succeed())
	w.dx.Create("messages", map[string]any{"text": "hello", "user": "u5"})
	added := w.config(5, "token-a")
	w.g.Expect(w.hub.Ensure(added)).To(Succeed())
	w.ready(append([]subscriptions.Config{changed, added}, cfgs[2:]...)...)

	w.g.Expect(w.dx.Connections()).To(Equal(1))
	for _, cfg := range append([]subscriptions.Config{changed, added}, cfgs[2:]...) {
		st, _ := w.hub.Status(cfg.Name)
		w.g.Expect(st.Reconnects).To(BeZero(), "%s was not reconnected", cfg.Name.Name)
	}
	st, _ := w.hub.Status(changed.Name)
	w.g.Expect(st.Generation).To(Equal(int64(2)))
}

// A changed subscription takes its new place before it leaves the old one,
// so that it never stops delivering: with every socket full, that place is
// on one more socket. The place it leaves is taken by the next subscription
// that comes, not by yet another socket.
func TestAChangeOnFullSocketsOpensOneMoreAndTheNextSubscriptionFillsItsHole(t *testing.T) {
	w := newHubWorld(t, Options{MaxSubscriptionsPerConnection: 2})
	cfgs := w.subscriptions(3)
	w.run(cfgs[:2]...)
	w.ready(cfgs[:2]...)
	w.g.Expect(w.hub.Sockets()).To(Equal(1))

	changed := cfgs[1]
	changed.Hash, changed.Generation = "hash-1-changed", 2
	w.g.Expect(w.hub.Ensure(changed)).To(Succeed())
	w.ready(cfgs[0], changed)
	w.g.Eventually(func() bool { return w.hub.Replacing(changed.Name) }, 10*time.Second).Should(BeFalse())
	w.g.Expect(w.hub.Sockets()).To(Equal(2), "the change opened one more; the old place is free again")

	w.g.Expect(w.hub.Ensure(cfgs[2])).To(Succeed())
	w.ready(cfgs[0], changed, cfgs[2])
	w.g.Expect(w.hub.Sockets()).To(Equal(2), "the new subscription took the freed place: ceil(3 / 2)")
	w.g.Eventually(w.dx.Connections, 10*time.Second).Should(Equal(2))
}

func TestTheLastSubscriptionToLeaveClosesTheSocket(t *testing.T) {
	w := newHubWorld(t, Options{})
	w.dx.Create("messages", map[string]any{"text": "hello", "user": "u0"})
	cfg := w.config(0, "token-a")
	w.g.Expect(w.hub.Ensure(cfg)).To(Succeed())
	w.ready(cfg)
	w.g.Eventually(func() bool { return w.hub.Remove(cfg.Name) }, 10*time.Second).Should(BeTrue())
	w.g.Expect(w.hub.Sockets()).To(BeZero())
	w.g.Eventually(w.dx.Connections, 10*time.Second).Should(BeZero())
}

func TestASocketDropIsReportedToEverySubscriptionOnItAndRecovers(t *testing.T) {
	w := newHubWorld(t, Options{StatusInterval: 50 * time.Millisecond})
	cfgs := w.subscriptions(3)
	w.run(cfgs...)
	w.ready(cfgs...)
	w.dx.DropConnections()
	w.g.Eventually(func(g Gomega) {
		for _, cfg := range cfgs {
			st, _ := w.hub.Status(cfg.Name)
			g.Expect(st.Reconnects).To(Equal(int64(1)), cfg.Name.Name)
		}
	}, 30*time.Second, 20*time.Millisecond).Should(Succeed())
	w.ready(cfgs...)
}

func TestFilteredSubscriptionsOnOneSocketShareOneExitWatch(t *testing.T) {
	w := newHubWorld(t, Options{})
	const n = 5
	keys := make([]any, 0, n)
	cfgs := make([]subscriptions.Config, 0, n)
	for i := range n {
		keys = append(keys, w.dx.Create("messages", map[string]any{"text": "hello", "user": fmt.Sprintf("u%d", i)})...)
		cfgs = append(cfgs, w.config(i, "token-a"))
		w.g.Expect(w.hub.Ensure(cfgs[i])).To(Succeed())
	}
	w.ready(cfgs...)
	w.g.Expect(w.dx.Subscriptions()).To(Equal(n+1), "one subscription per mirror and one exit watch for all of them")

	// One update moves every item out of its filter: Directus says nothing
	// on the filtered subscriptions, yet each mirror drops its item.
	w.dx.Update("messages", keys, map[string]any{"user": "nobody"})
	w.emptied(cfgs...)

	// The watch lives as long as one mirror needs it, and still serves it.
	for _, cfg := range cfgs[1:] {
		w.g.Eventually(func() bool { return w.hub.Remove(cfg.Name) }, 10*time.Second).Should(BeTrue())
	}
	w.g.Eventually(w.dx.Subscriptions, 10*time.Second).Should(Equal(2))
	back := w.dx.Create("messages", map[string]any{"text": "again", "user": "u0"})
	w.ready(cfgs[0])
	w.dx.Update("messages", back, map[string]any{"user": "nobody"})
	w.emptied(cfgs[0])
}

// emptied waits until every named subscription's ConfigMap holds no item
// while its status still says Synced.
func (w *hubWorld) emptied(cfgs ...subscriptions.Config) {
	w.t.Helper()
	w.g.Eventually(func(g Gomega) {
		for _, cfg := range cfgs {
			cm := &corev1.ConfigMap{}
			g.Expect(w.k8s.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: cfg.ConfigMap.Name}, cm)).To(Succeed())
			g.Expect(cm.Data).To(BeEmpty(), cfg.Name.Name)
			st, _ := w.hub.Status(cfg.Name)
			g.Expect(st.Synced).To(Equal(metav1.ConditionTrue), "%s: %s", cfg.Name.Name, st.SyncMessage)
		}
	}, 30*time.Second, 20*time.Millisecond).Should(Succeed())
}

// After a restart, every subscription's first reconcile starts its runner
// and comes from the initial list, at controller-runtime's low priority.
// The runners already started ask for status writes, which wait on the API
// budget: they must queue behind those first reconciles, not ahead.
func TestStatusUpdatesQueueBehindTheInitialList(t *testing.T) {
	w := newHubWorld(t, Options{})
	q := priorityqueue.New[reconcile.Request]("test")
	t.Cleanup(q.ShutDown)
	w.g.Expect(w.hub.Source().Start(context.Background(), q)).To(Succeed())
	w.dx.Create("messages", map[string]any{"text": "hello", "user": "u0"})
	cfg := w.config(0, "token-a")
	w.g.Expect(w.hub.Ensure(cfg)).To(Succeed())

	req, priority, _ := q.GetWithPriority()
	w.g.Expect(req.NamespacedName).To(Equal(cfg.Name))
	w.g.Expect(priority).To(Equal(handler.LowPriority))
}

// A new runner's status may wait for its outcome while it is on its way
// with nothing wrong (after a restart, so that each status is written once),
// but not for longer than SettleTime: its end asks for a status write by
// itself, with no polling.
func TestTheEndOfSettlingAsksForAStatusWrite(t *testing.T) {
	w := newHubWorld(t, Options{SettleTime: 500 * time.Millisecond, StatusInterval: time.Hour})
	q := priorityqueue.New[reconcile.Request]("test")
	t.Cleanup(q.ShutDown)
	w.g.Expect(w.hub.Source().Start(context.Background(), q)).To(Succeed())
	w.dx.Stall(time.Minute) // Directus never answers the login: the runner stays on its way
	cfg := w.config(0, "token-a")
	w.g.Expect(w.hub.Ensure(cfg)).To(Succeed())
	st, _ := w.hub.Status(cfg.Name)
	w.g.Expect(st.Settling).To(BeTrue())
	req, _, _ := q.GetWithPriority()
	q.Done(req)

	w.g.Eventually(func(g Gomega) {
		g.Expect(q.Len()).To(Equal(1), "a reconcile is asked for")
		st, _ := w.hub.Status(cfg.Name)
		g.Expect(st.Settling).To(BeFalse())
		g.Expect(st.ConnReason).To(Equal(v1alpha1.ReasonConnecting))
	}, 10*time.Second, 20*time.Millisecond).Should(Succeed())
}

// drained is a queue fed by the Hub, emptied of what the start of cfgs
// asked for.
func (w *hubWorld) drained(cfgs ...subscriptions.Config) priorityqueue.PriorityQueue[reconcile.Request] {
	w.t.Helper()
	q := priorityqueue.New[reconcile.Request]("test")
	w.t.Cleanup(q.ShutDown)
	w.g.Expect(w.hub.Source().Start(context.Background(), q)).To(Succeed())
	w.run(cfgs...)
	w.ready(cfgs...)
	for q.Len() > 0 {
		req, _, _ := q.GetWithPriority()
		q.Done(req)
	}
	return q
}

// A runner told to stop asks for a reconcile once it has stopped: the
// reconciler that waits for it (to delete the target, or to show the
// subscription suspended) needs no timer of its own.
func TestAStoppedRunnerAsksForAReconcile(t *testing.T) {
	w := newHubWorld(t, Options{StatusInterval: time.Hour})
	cfg := w.subscriptions(1)[0]
	q := w.drained(cfg)

	w.g.Expect(w.hub.Remove(cfg.Name)).To(BeFalse(), "the runner is still on its way out")
	w.g.Eventually(q.Len, 10*time.Second, 10*time.Millisecond).Should(Equal(1))
	req, _, _ := q.GetWithPriority()
	w.g.Expect(req.NamespacedName).To(Equal(cfg.Name))
	w.g.Expect(w.hub.Remove(cfg.Name)).To(BeTrue(), "the reconcile comes once the runner has stopped")
	_, ok := w.hub.Status(cfg.Name)
	w.g.Expect(ok).To(BeFalse())
}

// A changed subscription's old runner asks for a reconcile once it has
// stopped, when the reconciler may retire what it wrote.
func TestAReplacedRunnerAsksForAReconcileWhenItStops(t *testing.T) {
	w := newHubWorld(t, Options{StatusInterval: time.Hour})
	cfg := w.subscriptions(1)[0]
	q := w.drained(cfg)

	changed := cfg
	changed.Hash, changed.Generation = "hash-0-changed", 2
	w.g.Expect(w.hub.Ensure(changed)).To(Succeed())
	w.g.Eventually(func() bool {
		if q.Len() == 0 {
			return false
		}
		req, _, _ := q.GetWithPriority()
		q.Done(req)
		return !w.hub.Replacing(changed.Name)
	}, 10*time.Second, 10*time.Millisecond).Should(BeTrue(), "a reconcile comes after the old runner stopped")
	w.ready(changed)
}
