//go:build e2e

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

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/directustest"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// collection reads messages over REST as the bot and lays it out as the
// PerItem ConfigMap data the mirror must equal.
func collection(g Gomega, query string) map[string]any { return collectionAs(g, bot, query) }

// collectionAs is collection read with another identity's REST client.
func collectionAs(g Gomega, as *realtime.REST, query string) map[string]any {
	return directustest.Collection(g, as, query)
}

func decoded(g Gomega, data map[string]string) map[string]any { return directustest.Decoded(g, data) }

// mirrorsCollection waits until the ConfigMap equals the collection.
func mirrorsCollection(t *testing.T, namespace, name string) {
	t.Helper()
	configMapData(t, namespace, name, func(g Gomega, d map[string]string) {
		g.Expect(decoded(g, d)).To(Equal(collection(g, "")))
	})
}

func createREST(t *testing.T, items ...map[string]any) []any {
	t.Helper()
	var out []map[string]any
	NewWithT(t).Expect(bot.Do(context.Background(), "POST", "/items/messages", items, &out)).To(Succeed())
	keys := make([]any, len(out))
	for i, o := range out {
		keys[i] = o["id"]
	}
	return keys
}

// The Directus realtime quickstart, translated: a subscription to created
// messages with fields user and text, and three createItem calls over a
// realtime connection of our own.
func TestQuickstartMessagesLandInTheConfigMap(t *testing.T) {
	namespace := ns(t)
	subscribe(t, namespace, "quickstart", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Event = v1alpha1.EventCreate
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"user", "text"}}
	})
	ready(t, namespace, "quickstart")

	ctx := context.Background()
	c, err := realtime.New(realtime.Options{Server: realtime.Server{URL: dx.url(), Auth: realtime.Auth{AccessToken: botToken}}})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	NewWithT(t).Expect(c.Connect(ctx)).To(Succeed())
	defer func() { _ = c.Close() }()
	sent := []map[string]any{
		{"text": "Hello World!", "user": "Ben"},
		{"text": "Hello Universe!", "user": "Rijk"},
		{"text": "Hello Everyone Everywhere All At Once!", "user": "Kevin"},
	}
	for _, m := range sent {
		_, err := c.CreateItem(ctx, "messages", m)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
	}
	configMapData(t, namespace, "quickstart", func(g Gomega, d map[string]string) {
		values := slices.Collect(maps.Values(decoded(g, d)))
		for _, m := range sent {
			g.Expect(values).To(ContainElement(map[string]any{"text": m["text"], "user": m["user"]}))
		}
	})
}

func TestUpdatesAndDeletesSingleAndBatchAreMirroredExactly(t *testing.T) {
	namespace := ns(t)
	subscribe(t, namespace, "all", nil)
	ready(t, namespace, "all")
	mirrorsCollection(t, namespace, "all")

	ctx := context.Background()
	g := NewWithT(t)
	keys := createREST(t, map[string]any{"text": "one", "user": "a"}, map[string]any{"text": "two", "user": "b"},
		map[string]any{"text": "three", "user": "c"}, map[string]any{"text": "four", "user": "d"})
	g.Expect(bot.Do(ctx, "PATCH", fmt.Sprintf("/items/messages/%v", keys[0]), map[string]any{"text": "one, edited"}, nil)).To(Succeed())
	g.Expect(bot.Do(ctx, "PATCH", "/items/messages", map[string]any{"keys": keys[1:3], "data": map[string]any{"user": "batch"}}, nil)).To(Succeed())
	g.Expect(bot.Do(ctx, "DELETE", fmt.Sprintf("/items/messages/%v", keys[0]), nil, nil)).To(Succeed())
	g.Expect(bot.Do(ctx, "DELETE", "/items/messages", []any{keys[1], keys[3]}, nil)).To(Succeed())
	mirrorsCollection(t, namespace, "all")
	data := configMapData(t, namespace, "all", func(g Gomega, d map[string]string) {})
	k2, _ := mirror.KeyToDataKey(fmt.Sprint(keys[2]))
	g.Expect(data[k2]).To(ContainSubstring(`"user":"batch"`))
}

func TestFilterAndFieldsAreHonoured(t *testing.T) {
	namespace := ns(t)
	subscribe(t, namespace, "bens", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"text"}, Filter: rawJSON(`{"user":{"_eq":"Ben-filter"}}`)}
	})
	ready(t, namespace, "bens")
	keys := createREST(t, map[string]any{"text": "mine", "user": "Ben-filter"}, map[string]any{"text": "not mine", "user": "Rijk"})
	k0, _ := mirror.KeyToDataKey(fmt.Sprint(keys[0]))
	configMapData(t, namespace, "bens", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(1))
		g.Expect(d[k0]).To(MatchJSON(`{"text":"mine"}`))
	})
}

// Directus sends nothing on a filtered subscription when an update moves a
// row out of the filter (transcript g-subscriptions). With no periodic
// resync to fall back on, the row must still leave the mirror.
func TestAnItemThatLeavesTheFilterLeavesTheMirror(t *testing.T) {
	namespace := ns(t)
	user := "leaver-" + namespace
	subscribe(t, namespace, "leavers", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Filter: rawJSON(fmt.Sprintf(`{"user":{"_eq":%q}}`, user))}
		s.ResyncInterval = &metav1.Duration{}
	})
	ready(t, namespace, "leavers")
	keys := createREST(t, map[string]any{"text": "stays", "user": user}, map[string]any{"text": "leaves", "user": user})
	filtered := fmt.Sprintf(`{"filter":{"user":{"_eq":%q}}}`, user)
	configMapData(t, namespace, "leavers", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(2)) })

	start := time.Now()
	NewWithT(t).Expect(bot.Do(context.Background(), "PATCH", fmt.Sprintf("/items/messages/%v", keys[1]), map[string]any{"user": "elsewhere"}, nil)).To(Succeed())
	configMapData(t, namespace, "leavers", func(g Gomega, d map[string]string) {
		g.Expect(decoded(g, d)).To(Equal(collection(g, filtered)))
	})
	t.Logf("e2e: the item left the mirror %s after the update", time.Since(start).Round(time.Millisecond))
	condition(t, namespace, "leavers", v1alpha1.ConditionSynced, metav1.ConditionTrue, v1alpha1.ReasonSynced)
}

// More items than one page of the full read (500) and than the realtime
// init's cap (100): the mirror still holds them all.
func TestAThousandItemsAreMirroredWhole(t *testing.T) {
	namespace := ns(t)
	for b := range 3 {
		batch := make([]map[string]any, 400)
		for i := range batch {
			batch[i] = map[string]any{"text": fmt.Sprintf("bulk %d", b*400+i), "user": "bulk"}
		}
		createREST(t, batch...)
	}
	subscribe(t, namespace, "bulk", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"text", "user"}, Filter: rawJSON(`{"user":{"_eq":"bulk"}}`)}
	})
	ready(t, namespace, "bulk")
	configMapData(t, namespace, "bulk", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(1200))
		want := collection(g, `{"fields":["id","text","user"],"filter":{"user":{"_eq":"bulk"}}}`)
		g.Expect(d).To(HaveLen(len(want)))
		for k := range want {
			g.Expect(d).To(HaveKey(k))
		}
	})
}

func TestEventsTargetRecordsEachChange(t *testing.T) {
	namespace := ns(t)
	subscribe(t, namespace, "audit", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 600}}
	})
	ready(t, namespace, "audit")
	ctx := context.Background()
	recorded := func(reason, message string) {
		t.Helper()
		NewWithT(t).Eventually(func(g Gomega) {
			list := &corev1.EventList{}
			g.Expect(k8s.List(ctx, list, client.InNamespace(namespace))).To(Succeed())
			msgs := map[string]string{}
			for _, e := range list.Items {
				msgs[e.Reason] = e.Message
			}
			g.Expect(msgs).To(HaveKeyWithValue(reason, message))
		}, timeout, poll).Should(Succeed())
	}
	// Each change waits for its Event before the next: Directus reads the
	// row when it dispatches an event, one subscription after another, so
	// an update followed at once by a delete can reach a subscription late
	// in its list as the delete alone (seen against Directus 12 with eight
	// subscriptions on the collection).
	keys := createREST(t, map[string]any{"text": "audited", "user": "a"})
	key := fmt.Sprint(keys[0])
	recorded("ItemCreated", "messages: item "+key+" created")
	NewWithT(t).Expect(bot.Do(ctx, "PATCH", fmt.Sprintf("/items/messages/%v", keys[0]), map[string]any{"text": "audited twice"}, nil)).To(Succeed())
	recorded("ItemUpdated", "messages: item "+key+" updated")
	NewWithT(t).Expect(bot.Do(ctx, "DELETE", fmt.Sprintf("/items/messages/%v", keys[0]), nil, nil)).To(Succeed())
	recorded("ItemDeleted", "messages: item "+key+" deleted")
}

func TestACutConnectionReconnectsAndTheMirrorCatchesUp(t *testing.T) {
	namespace := ns(t)
	p, err := newProxy(dx.url())
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	defer p.close()
	keys := createREST(t, map[string]any{"text": "doomed", "user": "cut"})
	subscribe(t, namespace, "cut", func(s *v1alpha1.DirectusSubscriptionSpec) { s.URL = p.url() })
	ready(t, namespace, "cut")
	mirrorsCollection(t, namespace, "cut")

	p.cut()
	condition(t, namespace, "cut", v1alpha1.ConditionConnected, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable)
	// While the operator is cut off, the collection changes: Directus has
	// no replay, so only the snapshot after reconnecting can tell.
	NewWithT(t).Expect(bot.Do(context.Background(), "DELETE", fmt.Sprintf("/items/messages/%v", keys[0]), nil, nil)).To(Succeed())
	createREST(t, map[string]any{"text": "born while cut", "user": "cut"})
	p.restore()

	obj := ready(t, namespace, "cut")
	NewWithT(t).Expect(obj.Status.Connection.State).To(Equal(v1alpha1.ConnectionStateConnected))
	mirrorsCollection(t, namespace, "cut")
}

func TestDirectusRestartReconnectsAndTheMirrorEqualsTheCollection(t *testing.T) {
	namespace := ns(t)
	subscribe(t, namespace, "restart", nil)
	ready(t, namespace, "restart")
	mirrorsCollection(t, namespace, "restart")

	dx.restart(t)
	createREST(t, map[string]any{"text": "after restart", "user": "r"})
	NewWithT(t).Eventually(func() int64 {
		obj := &v1alpha1.DirectusSubscription{}
		_ = k8s.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: "restart"}, obj)
		return obj.Status.Connection.Reconnects
	}, timeout, poll).Should(BeNumerically(">=", 1))
	ready(t, namespace, "restart")
	mirrorsCollection(t, namespace, "restart")
}

func TestAWrongTokenIsAuthFailed(t *testing.T) {
	namespace := ns(t)
	NewWithT(t).Expect(k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "wrong", Namespace: namespace}, StringData: map[string]string{"token": "wrong-token"},
	})).To(Succeed())
	subscribe(t, namespace, "wrong", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Auth.Token.Name = "wrong" })
	obj := condition(t, namespace, "wrong", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
	NewWithT(t).Expect(fmt.Sprint(obj.Status)).NotTo(ContainSubstring("wrong-token"))
}

func TestACollectionTheUserMayNotReadIsForbidden(t *testing.T) {
	namespace := ns(t)
	subscribe(t, namespace, "secrets", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Collection = "secrets" })
	condition(t, namespace, "secrets", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonForbidden)
}

func TestRealtimeDisabledOnTheServerIsReported(t *testing.T) {
	namespace := ns(t)
	dx.restart(t, "WEBSOCKETS_ENABLED=false")
	subscribe(t, namespace, "disabled", nil)
	condition(t, namespace, "disabled", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonRealtimeDisabled)
	dx.restart(t)
	ready(t, namespace, "disabled")
}

// A short access-token TTL with email and password: the subscription must
// stay alive, and keep delivering, across several expiries.
func TestEmailAndPasswordSurviveSeveralTokenExpiries(t *testing.T) {
	const ttl = 10 * time.Second
	short := &lab{port: dx.port + 1, state: dx.state + "-ttl", env: []string{"ACCESS_TOKEN_TTL=10s"}}
	NewWithT(t).Expect(short.start()).To(Succeed())
	defer func() { _ = short.stop() }()
	shortBot, err := realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: short.url(), Auth: realtime.Auth{AccessToken: botToken}}})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())

	namespace := ns(t)
	NewWithT(t).Expect(k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "login", Namespace: namespace},
		StringData: map[string]string{"email": botEmail, "password": fmt.Sprintf("bot-password-%d", short.port)},
	})).To(Succeed())
	subscribe(t, namespace, "login", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.URL = short.url()
		s.Auth = v1alpha1.DirectusAuth{Credentials: &v1alpha1.CredentialsAuth{SecretName: "login"}}
	})
	ready(t, namespace, "login")
	start := time.Now()
	for i := range 4 {
		var out map[string]any
		NewWithT(t).Expect(shortBot.Do(context.Background(), "POST", "/items/messages", map[string]any{"text": fmt.Sprintf("tick %d", i), "user": "ttl"}, &out)).To(Succeed())
		key, _ := mirror.KeyToDataKey(fmt.Sprint(out["id"]))
		configMapData(t, namespace, "login", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey(key)) })
		// The passing of time is the behaviour under test: let the
		// access token reach its expiry before the next change.
		<-time.After(ttl)
	}
	t.Logf("delivered across %s, %d access-token lifetimes", time.Since(start).Round(time.Second), int(time.Since(start)/ttl))
	obj := ready(t, namespace, "login")
	NewWithT(t).Expect(obj.Status.Connection.State).To(Equal(v1alpha1.ConnectionStateConnected))
}

// How much later than a raw WebSocket subscriber does the ConfigMap show a
// change? A figure for the README, not an assertion.
func TestLatencyComparedToARawSubscriber(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	namespace := ns(t)

	// The earlier tests' subscriptions mirror the same collection; with
	// them, every create costs several writes of large ConfigMaps on this
	// one small API server, and that is what would be measured. This test
	// measures the operator's path: it runs alone.
	others := &v1alpha1.DirectusSubscriptionList{}
	g.Expect(k8s.List(ctx, others)).To(Succeed())
	for i := range others.Items {
		g.Expect(client.IgnoreNotFound(k8s.Delete(ctx, &others.Items[i]))).To(Succeed())
	}
	g.Eventually(func() int {
		g.Expect(k8s.List(ctx, others)).To(Succeed())
		return len(others.Items)
	}, timeout, poll).Should(BeZero())

	// Directus serves subscriptions one by one in subscription order: the
	// raw subscriber subscribes first.
	raw, err := realtime.New(realtime.Options{Server: realtime.Server{URL: dx.url(), Auth: realtime.Auth{AccessToken: botToken}}})
	g.Expect(err).NotTo(HaveOccurred())
	sub, err := raw.Subscribe(ctx, realtime.SubscribeOptions{Collection: "messages", Event: "create", Query: json.RawMessage(`{"fields":["id"]}`)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(raw.Connect(ctx)).To(Succeed())
	defer func() { _ = raw.Close() }()
	rawSeen := map[string]time.Time{}
	rawDone := make(chan struct{})
	go func() {
		defer close(rawDone)
		for m := range sub.C() {
			for _, it := range m.Items {
				if k, err := mirror.ItemKey(it, "id"); err == nil {
					rawSeen[k] = m.Received
				}
			}
		}
	}()

	subscribe(t, namespace, "latency", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Event = v1alpha1.EventCreate
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"id", "text"}}
	})
	ready(t, namespace, "latency")
	w, err := k8s.Watch(ctx, &corev1.ConfigMapList{}, client.InNamespace(namespace))
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()
	cmSeen := map[string]time.Time{}
	cmDone := make(chan struct{})
	go func() {
		defer close(cmDone)
		for ev := range w.ResultChan() {
			cm, ok := ev.Object.(*corev1.ConfigMap)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			now := time.Now()
			for dk := range cm.Data {
				k, err := mirror.DataKeyToKey(dk)
				if _, seen := cmSeen[k]; err == nil && !seen {
					cmSeen[k] = now
				}
			}
		}
	}()

	// Below what Directus on SQLite holds here (~20/s).
	const n, rate = 100, 10
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	keys := make([]string, 0, n)
	for i := range n {
		<-tick.C
		ks := createREST(t, map[string]any{"text": fmt.Sprintf("latency %d", i), "user": "lat"})
		keys = append(keys, fmt.Sprint(ks[0]))
	}
	last, _ := mirror.KeyToDataKey(keys[len(keys)-1])
	configMapData(t, namespace, "latency", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey(last)) })
	_ = raw.Close()
	<-rawDone
	w.Stop()
	<-cmDone

	var diffs []time.Duration
	for _, k := range keys {
		r, ok1 := rawSeen[k]
		c, ok2 := cmSeen[k]
		if ok1 && ok2 {
			diffs = append(diffs, c.Sub(r))
		}
	}
	g.Expect(len(diffs)).To(BeNumerically(">=", n*9/10), "most items were seen by both")
	slices.Sort(diffs)
	pct := func(p float64) time.Duration { return diffs[min(len(diffs)-1, int(p*float64(len(diffs))))] }
	report := fmt.Sprintf("raw subscriber → ConfigMap, %d creates at %d/s against a real Directus: p50 %s, p90 %s, p99 %s, max %s\n",
		len(diffs), rate, pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), slices.Max(diffs).Round(time.Millisecond))
	fmt.Print("e2e latency: " + report)
	dir := filepath.Join(envtestutil.RepoRoot(), "test", "e2e", "report")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, "latency.txt"), []byte(report), 0o644)
}
