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

package controllers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

func item(id int, text, user string) string {
	return fmt.Sprintf(`{"id":%d,"text":%q,"user":%q}`, id, text, user)
}

func TestConfigMapMirrorsCreatesUpdatesAndDeletes(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "before", "user": "Ben"})
	w.subscription("mirror", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"id", "text", "user"}}
	})
	obj := w.ready("mirror")
	w.g.Expect(obj.Status.Target).To(Equal("ConfigMap/mirror"))
	w.mirrorData("mirror", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(1))
		g.Expect(d["1.json"]).To(MatchJSON(item(1, "before", "Ben")))
	})

	w.dx.Create("messages", map[string]any{"text": "Hello World!", "user": "Ben"}, map[string]any{"text": "Hello Universe!", "user": "Rijk"})
	w.dx.Update("messages", []any{1}, map[string]any{"text": "after"})
	w.dx.Delete("messages", 2)
	data := w.mirrorData("mirror", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(2))
		g.Expect(d).NotTo(HaveKey("2.json"))
		g.Expect(d["1.json"]).To(MatchJSON(item(1, "after", "Ben")))
		g.Expect(d["3.json"]).To(MatchJSON(item(3, "Hello Universe!", "Rijk")))
	})
	cm := w.configMap("mirror")
	w.g.Expect(cm.Labels).To(HaveKeyWithValue(v1alpha1.LabelManagedBy, v1alpha1.ManagedByValue))
	w.g.Expect(cm.Labels).To(HaveKeyWithValue(v1alpha1.LabelSubscription, "mirror"))
	w.g.Expect(cm.Annotations).To(HaveKey(v1alpha1.AnnotationContentHash))
	w.g.Expect(metav1.IsControlledBy(cm, w.get("mirror"))).To(BeTrue(), "the ConfigMap is owned by the subscription")
	w.g.Eventually(func() int64 { return w.get("mirror").Status.Items }, timeout, 50*time.Millisecond).Should(BeEquivalentTo(len(data)))
	w.g.Expect(w.get("mirror").Status.EventsReceived).To(BeNumerically(">=", 4))
}

func TestListLayoutHoldsOneJSONArrayOrderedByKey(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "a", "user": "x"}, map[string]any{"text": "b", "user": "y"})
	w.subscription("list", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target.ConfigMap = &v1alpha1.ConfigMapTarget{Name: "all-messages", Layout: v1alpha1.LayoutList, ListKey: "messages.json"}
	})
	w.ready("list")
	w.dx.Create("messages", map[string]any{"text": "c", "user": "z"})
	w.dx.Delete("messages", 1)
	w.mirrorData("all-messages", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(1))
		var items []map[string]any
		g.Expect(json.Unmarshal([]byte(d["messages.json"]), &items)).To(Succeed())
		g.Expect(items).To(HaveLen(2))
		g.Expect(items[0]["text"]).To(Equal("b"))
		g.Expect(items[1]["text"]).To(Equal("c"))
	})
}

func TestEventsTargetRecordsEachChangeOnTheSubscription(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("audit", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 600}}
	})
	obj := w.ready("audit")
	w.g.Expect(obj.Status.Target).To(Equal("Events"))
	keys := w.dx.Create("messages", map[string]any{"text": "x", "user": "Ben"})
	w.dx.Update("messages", keys, map[string]any{"text": "y"})
	w.dx.Delete("messages", keys...)
	w.g.Eventually(func(g Gomega) {
		list := &corev1.EventList{}
		g.Expect(k8s.List(w.ctx, list, client.InNamespace(w.ns))).To(Succeed())
		reasons := map[string]string{}
		for _, e := range list.Items {
			if e.InvolvedObject.Name == "audit" && e.InvolvedObject.Kind == "DirectusSubscription" {
				reasons[e.Reason] = e.Message
			}
		}
		g.Expect(reasons).To(HaveKeyWithValue("ItemCreated", "messages: item 1 created"))
		g.Expect(reasons).To(HaveKeyWithValue("ItemUpdated", "messages: item 1 updated"))
		g.Expect(reasons).To(HaveKeyWithValue("ItemDeleted", "messages: item 1 deleted"))
	}, timeout, 50*time.Millisecond).Should(Succeed())
	w.g.Expect(w.configMap("audit")).To(BeNil(), "the events target writes no ConfigMap")
}

func TestEventsTargetWarnsThatChangesDuringAReconnectAreLost(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("gap", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 600}}
	})
	w.ready("gap")
	w.dx.DropConnections()
	w.g.Eventually(func(g Gomega) {
		list := &corev1.EventList{}
		g.Expect(k8s.List(w.ctx, list, client.InNamespace(w.ns))).To(Succeed())
		var lost []string
		for _, e := range list.Items {
			if e.Reason == "ChangesLost" && e.Type == corev1.EventTypeWarning {
				lost = append(lost, e.Message)
			}
		}
		g.Expect(lost).NotTo(BeEmpty())
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func TestEventsTargetFoldsABurstBeyondItsRate(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("burst", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 6}}
	})
	w.ready("burst")
	for i := range 20 {
		w.dx.Create("messages", map[string]any{"text": fmt.Sprint(i), "user": "Ben"})
	}
	w.g.Eventually(func() int64 { return w.get("burst").Status.EventsFolded }, timeout, 50*time.Millisecond).Should(BeNumerically(">=", 15))
	list := &corev1.EventList{}
	w.g.Expect(k8s.List(w.ctx, list, client.InNamespace(w.ns))).To(Succeed())
	created := 0
	for _, e := range list.Items {
		if e.Reason == "ItemCreated" {
			created++
		}
	}
	w.g.Expect(created).To(BeNumerically("<=", 5), "at most a burst's worth of Events")
}

func TestReconnectResyncRemovesItemsDeletedWhileDisconnected(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "keep", "user": "a"}, map[string]any{"text": "gone", "user": "b"})
	w.subscription("resync", nil)
	w.ready("resync")
	w.mirrorData("resync", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(2)) })

	// Directus goes away; meanwhile an item is deleted and one created,
	// and nobody is connected to hear it.
	w.dx.RefuseUpgrades(503)
	w.dx.DropConnections()
	w.condition("resync", v1alpha1.ConditionConnected, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable)
	w.dx.Delete("messages", 2)
	w.dx.Create("messages", map[string]any{"text": "new", "user": "c"})
	w.dx.RefuseUpgrades(0)

	obj := w.ready("resync")
	w.g.Expect(obj.Status.Connection.Reconnects).To(BeNumerically(">=", 1))
	w.mirrorData("resync", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveKey("1.json"))
		g.Expect(d).NotTo(HaveKey("2.json"))
		g.Expect(d).To(HaveKey("3.json"))
	})
}

func TestABurstOfCreatesLandsInFarFewerWritesThanEvents(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("burst", nil)
	w.ready("burst")
	w.mirrorData("burst", func(g Gomega, d map[string]string) { g.Expect(d).To(BeEmpty()) })
	start := w.configMap("burst").ResourceVersion

	const n = 1000
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"text": fmt.Sprintf("burst %d", i), "user": "Ben"}
	}
	w.dx.Create("messages", items...)
	w.mirrorData("burst", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(n)) })

	// Count the writes: every write of the ConfigMap is one watch event.
	writes := countWrites(t, w, "burst", start)
	t.Logf("%d create events landed in %d ConfigMap writes", n, writes)
	w.g.Expect(writes).To(BeNumerically("<", n/10), "writes must be coalesced")
}

func TestAStreamOfChangesDoesNotCauseAStormOfStatusWrites(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("steady", nil)
	w.ready("steady")
	obj := w.get("steady")
	wi, err := watcher.Watch(w.ctx, &v1alpha1.DirectusSubscriptionList{}, client.InNamespace(w.ns))
	w.g.Expect(err).NotTo(HaveOccurred())
	defer wi.Stop()

	// 150 changes spread over about 3 s: several status intervals.
	const n = 150
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		w.dx.Create("messages", map[string]any{"text": fmt.Sprint(i), "user": "u"})
	}
	w.g.Eventually(func() int64 { return w.get("steady").Status.Items }, timeout, 50*time.Millisecond).Should(BeEquivalentTo(n))
	final := w.get("steady").ResourceVersion
	writes := 0
	for ev := range wi.ResultChan() {
		o, ok := ev.Object.(*v1alpha1.DirectusSubscription)
		if !ok || o.ResourceVersion == obj.ResourceVersion {
			continue
		}
		writes++
		if o.ResourceVersion == final {
			break
		}
	}
	t.Logf("%d changes, %d writes of the subscription", n, writes)
	w.g.Expect(writes).To(BeNumerically("<", 30), "status follows counters periodically, not per change")
}

func TestDeletingTheSubscriptionStopsTheConnectionAndRemovesTheConfigMap(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	obj := w.subscription("bye", nil)
	w.ready("bye")
	w.g.Expect(w.configMap("bye")).NotTo(BeNil())
	w.g.Expect(w.dx.Connections()).To(Equal(1))

	w.g.Expect(k8s.Delete(w.ctx, obj)).To(Succeed())
	w.g.Eventually(func() bool { return w.configMap("bye") == nil }, timeout, 50*time.Millisecond).Should(BeTrue())
	w.g.Eventually(w.dx.Connections, timeout, 50*time.Millisecond).Should(BeZero())
	w.g.Eventually(func() error {
		return k8s.Get(w.ctx, client.ObjectKeyFromObject(obj), &v1alpha1.DirectusSubscription{})
	}, timeout, 50*time.Millisecond).ShouldNot(Succeed())
}

func TestSuspendClosesTheConnectionAndResumeCatchesUp(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("pause", nil)
	w.ready("pause")
	w.update("pause", func(s *v1alpha1.DirectusSubscription) { s.Spec.Suspend = true })
	obj := w.condition("pause", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSuspended)
	w.g.Expect(obj.Status.Connection.State).To(Equal(v1alpha1.ConnectionStateSuspended))
	w.g.Eventually(w.dx.Connections, timeout, 50*time.Millisecond).Should(BeZero())

	w.dx.Create("messages", map[string]any{"text": "while suspended", "user": "a"})
	w.update("pause", func(s *v1alpha1.DirectusSubscription) { s.Spec.Suspend = false })
	w.ready("pause")
	w.mirrorData("pause", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey("1.json")) })
}

func TestAWrongTokenIsAuthFailedAndATokenRotationRecovers(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.secret("wrong", map[string]string{"token": "not-a-token"})
	w.subscription("auth", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Auth.Token.Name = "wrong"
	})
	obj := w.condition("auth", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
	w.g.Expect(cond(obj, v1alpha1.ConditionConnected).Reason).To(Equal(v1alpha1.ReasonAuthFailed))
	w.g.Expect(obj.Status.LastError).NotTo(ContainSubstring("not-a-token"), "credentials never appear in status")
	for _, c := range obj.Status.Conditions {
		w.g.Expect(c.Message).NotTo(ContainSubstring("not-a-token"))
	}

	// Rotating the Secret's value reconnects with the new one.
	w.secret("wrong", map[string]string{"token": botToken})
	w.ready("auth")
}

func TestRevokedTokenIsReportedAndTheMirrorConvergesOnceItIsBack(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.AddUser(fakedirectus.User{Email: "second@example.com", StaticToken: "second-token", Read: []string{"messages"}})
	w.secret("rotating", map[string]string{"token": "second-token"})
	w.subscription("revoked", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Auth.Token.Name = "rotating" })
	w.ready("revoked")

	w.dx.RevokeToken("second-token")
	w.dx.DropConnections()
	w.condition("revoked", v1alpha1.ConditionConnected, metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
	w.dx.Create("messages", map[string]any{"text": "missed", "user": "a"})

	w.secret("rotating", map[string]string{"token": botToken})
	w.ready("revoked")
	w.mirrorData("revoked", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey("1.json")) })
}

func TestMissingSecretIsReportedThenRecovered(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("nosecret", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Auth.Token.Name = "later" })
	obj := w.condition("nosecret", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	w.g.Expect(cond(obj, v1alpha1.ConditionReady).Message).To(ContainSubstring("Secret " + w.ns + "/later not found"))

	w.secret("later", map[string]string{"nokey": "x"})
	w.condition("nosecret", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretKeyNotFound)

	w.secret("later", map[string]string{"token": botToken})
	w.ready("nosecret")
}

func TestASecretDeletedAndRestoredResumesTheSubscription(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("restored", nil)
	w.ready("restored")
	secret := &corev1.Secret{}
	w.g.Expect(k8s.Get(w.ctx, client.ObjectKey{Namespace: w.ns, Name: "directus"}, secret)).To(Succeed())
	w.g.Expect(k8s.Delete(w.ctx, secret)).To(Succeed())
	w.condition("restored", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	w.g.Eventually(w.dx.Connections, timeout, 50*time.Millisecond).Should(BeZero(), "the credentials are gone: so is the connection")

	// The same token comes back (a restore, a re-created ExternalSecret).
	w.secret("directus", map[string]string{"token": botToken})
	w.ready("restored")
	w.dx.Create("messages", map[string]any{"text": "after the restore", "user": "a"})
	w.mirrorData("restored", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey("1.json")) })
}

func TestForbiddenCollectionIsReported(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("forbidden", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Collection = "secrets" })
	obj := w.condition("forbidden", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonForbidden)
	w.g.Expect(cond(obj, v1alpha1.ConditionSubscribed).Message).To(ContainSubstring(`permission to access collection "secrets"`))
	w.g.Expect(cond(obj, v1alpha1.ConditionConnected).Status).To(Equal(metav1.ConditionTrue), "the connection itself is fine")
}

func TestInvalidQueryIsReported(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("badquery", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Filter: rawJSON(`{"text":{"_bogus":"x"}}`)}
	})
	w.condition("badquery", v1alpha1.ConditionSubscribed, metav1.ConditionFalse, v1alpha1.ReasonInvalidQuery)
}

func TestRealtimeDisabledIsReported(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{RealtimeDisabled: true})
	w.subscription("disabled", nil)
	obj := w.condition("disabled", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonRealtimeDisabled)
	w.g.Expect(cond(obj, v1alpha1.ConditionConnected).Message).To(ContainSubstring("WEBSOCKETS_ENABLED=true"))
	w.dx.SetRealtimeEnabled(true)
	w.ready("disabled")
}

func TestUnreachableServerIsReported(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("unreachable", func(s *v1alpha1.DirectusSubscriptionSpec) { s.URL = "http://127.0.0.1:9" })
	w.condition("unreachable", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonServerUnreachable)
	w.g.Expect(w.get("unreachable").Status.Connection.State).To(Equal(v1alpha1.ConnectionStateReconnecting))
}

func TestForeignConfigMapIsNotTakenOver(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: w.ns}, Data: map[string]string{"keep": "me"}}
	w.g.Expect(k8s.Create(w.ctx, foreign)).To(Succeed())
	w.dx.Create("messages", map[string]any{"text": "x", "user": "y"})
	w.subscription("taker", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target.ConfigMap = &v1alpha1.ConfigMapTarget{Name: "theirs"}
	})
	obj := w.condition("taker", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonConfigMapNotOwned)
	w.g.Expect(cond(obj, v1alpha1.ConditionSynced).Message).To(ContainSubstring("not owned"))
	w.g.Expect(w.configMap("theirs").Data).To(Equal(map[string]string{"keep": "me"}))
}

func TestABadFrameIsReportedAndTheMirrorIsRebuilt(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("garbage", nil)
	w.ready("garbage")
	// A change Directus made without telling (as if its frame were the
	// one lost), then a frame that cannot be read.
	w.dx.SetSilently("messages", map[string]any{"text": "only a full read finds me", "user": "x"})
	w.dx.SendRaw(`{"type":"subscription","event":"create","data":[{"id":1,`)
	w.mirrorData("garbage", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveKey("1.json"), "the bad frame triggered a full read")
	})
	w.g.Eventually(func() string { return w.get("garbage").Status.LastError }, timeout, 50*time.Millisecond).
		Should(ContainSubstring("could not be read"))
	w.ready("garbage")
}

func TestAMirrorTooLargeForAConfigMapIsNotWrittenAndResumesWhenItFits(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	keys := w.dx.Create("messages", map[string]any{"text": "a", "user": "a"}, map[string]any{"text": "b", "user": "b"},
		map[string]any{"text": "c", "user": "c"}, map[string]any{"text": "d", "user": "d"})
	w.subscription("big", nil)
	w.ready("big")
	small := w.mirrorData("big", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(4)) })

	// One update event makes all four items 300 KiB: 1.2 MiB in all.
	big := strings.Repeat("x", 300<<10)
	w.dx.Update("messages", keys, map[string]any{"text": big})
	obj := w.condition("big", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonTooLarge)
	w.g.Expect(cond(obj, v1alpha1.ConditionSynced).Message).To(ContainSubstring("over the limit of 1048576 bytes of ConfigMap/big"))
	w.g.Expect(w.configMap("big").Data).To(Equal(small), "nothing partial was written: the ConfigMap keeps its last content")

	w.dx.Update("messages", keys[:2], map[string]any{"text": "small again"})
	w.ready("big")
	w.mirrorData("big", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(4))
		g.Expect(d["4.json"]).To(ContainSubstring(big))
	})
}

func TestManualEditsAndDeletionOfTheConfigMapAreCorrected(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "truth", "user": "a"})
	w.subscription("edited", nil)
	w.ready("edited")
	want := w.mirrorData("edited", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })

	cm := w.configMap("edited")
	cm.Data = map[string]string{"1.json": `{"id":1,"text":"tampered"}`, "extra": "x"}
	w.g.Expect(k8s.Update(w.ctx, cm)).To(Succeed())
	w.mirrorData("edited", func(g Gomega, d map[string]string) { g.Expect(d).To(Equal(want)) })

	w.g.Expect(k8s.Delete(w.ctx, w.configMap("edited"))).To(Succeed())
	w.mirrorData("edited", func(g Gomega, d map[string]string) { g.Expect(d).To(Equal(want)) })
}

func TestACollectionOf1500ItemsIsMirroredWhole(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	items := make([]map[string]any, 1500)
	for i := range items {
		items[i] = map[string]any{"text": fmt.Sprint(i), "user": "u"}
	}
	w.dx.SetSilently("messages", items...)
	w.subscription("large", nil)
	w.ready("large")
	w.mirrorData("large", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(1500), "the realtime init is capped at 100 items; the snapshot is not")
		g.Expect(d).To(HaveKey("1500.json"))
	})
	w.g.Eventually(func() int64 { return w.get("large").Status.Items }, timeout, 50*time.Millisecond).Should(BeEquivalentTo(1500))
}

func TestAnEventCreateSubscriptionIsSeededFromREST(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "old", "user": "a"})
	w.subscription("creates", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Event = v1alpha1.EventCreate
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"user", "text"}}
	})
	w.ready("creates")
	w.dx.Create("messages", map[string]any{"text": "Hello World!", "user": "Ben"})
	w.mirrorData("creates", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(2), "the init of an event subscription is empty; the item created before comes from REST")
		g.Expect(d["1.json"]).To(MatchJSON(`{"user":"a","text":"old"}`))
		g.Expect(d["2.json"]).To(MatchJSON(`{"user":"Ben","text":"Hello World!"}`), "fields without the key: mirrored by key, stored as asked")
	})
}

func TestAnItemUpdatedOutOfTheFilterLeavesTheMirrorWithoutAResync(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "a", "user": "Ben"}, map[string]any{"text": "b", "user": "Ben"},
		map[string]any{"text": "c", "user": "Rijk"})
	w.subscription("filtered", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Filter: rawJSON(`{"user":{"_eq":"Ben"}}`)}
		s.ResyncInterval = &metav1.Duration{} // no periodic resync to fall back on
	})
	w.ready("filtered")
	w.mirrorData("filtered", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(2)) })

	// Directus sends nothing on the filtered subscription when a row leaves
	// the filter; the exit watch names it and one read settles it.
	w.dx.Update("messages", []any{1}, map[string]any{"user": "Rijk"})
	w.mirrorData("filtered", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey("2.json")); g.Expect(d).To(HaveLen(1)) })
	// Updates of rows the mirror does not hold cost no read; a row that
	// comes back into the filter comes back into the mirror.
	w.dx.Update("messages", []any{3}, map[string]any{"text": "still Rijk's"})
	w.dx.Update("messages", []any{1}, map[string]any{"user": "Ben"})
	w.mirrorData("filtered", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(2)); g.Expect(d).To(HaveKey("1.json")) })
	w.condition("filtered", v1alpha1.ConditionSynced, metav1.ConditionTrue, v1alpha1.ReasonSynced)
}

func TestAMirrorKeyedByAnotherFieldFollowsDeletesAndRenames(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.AddCollection("articles", "id", "slug", "title")
	w.dx.AddUser(fakedirectus.User{StaticToken: "articles-token", Read: []string{"articles"}})
	w.secret("articles", map[string]string{"token": "articles-token"})
	keys := w.dx.Create("articles", map[string]any{"slug": "hello", "title": "Hello"}, map[string]any{"slug": "bye", "title": "Bye"})
	w.subscription("articles", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Auth.Token.Name = "articles"
		s.Collection = "articles"
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"title"}}
		s.Target.ConfigMap = &v1alpha1.ConfigMapTarget{KeyField: "slug"}
	})
	w.ready("articles")
	w.mirrorData("articles", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveKeyWithValue("hello.json", `{"title":"Hello"}`))
		g.Expect(d).To(HaveKey("bye.json"))
	})
	// A delete event names the primary key (2), not the slug; an update
	// may change the slug itself.
	w.dx.Delete("articles", keys[1])
	w.dx.Update("articles", keys[:1], map[string]any{"slug": "hello-again"})
	w.mirrorData("articles", func(g Gomega, d map[string]string) {
		g.Expect(d).To(Equal(map[string]string{"hello-again.json": `{"title":"Hello"}`}))
	})
}

func TestAWindowQueryIsKeptExactBySnapshots(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	for i := range 5 {
		w.dx.Create("messages", map[string]any{"text": fmt.Sprint(i), "user": "u"})
	}
	w.subscription("latest", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Sort: []string{"-id"}, Limit: ptr.To[int64](3)}
	})
	w.ready("latest")
	w.mirrorData("latest", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(3))
		g.Expect(d).To(HaveKey("5.json"))
		g.Expect(d).To(HaveKey("3.json"))
	})
	w.dx.Create("messages", map[string]any{"text": "newest", "user": "u"})
	w.mirrorData("latest", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(3), "item 3 was pushed out of the window")
		g.Expect(d).To(HaveKey("6.json"))
		g.Expect(d).NotTo(HaveKey("3.json"))
	})
}

func TestEmailAndPasswordAuthSurvivesTokenExpiry(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{AccessTokenTTL: 2 * time.Second, AuthTimeout: 2 * time.Second})
	w.subscription("login", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Auth = v1alpha1.DirectusAuth{Credentials: &v1alpha1.CredentialsAuth{SecretName: "directus", EmailKey: "email", PasswordKey: "password"}}
	})
	w.ready("login")
	// Across several token lifetimes (each ended by a re-auth with the
	// rotating refresh token), changes keep arriving.
	reauths := func() int {
		n := 0
		for _, f := range w.dx.Frames() {
			if f.FromClient && f.Type() == "auth" && strings.Contains(f.Data, "refresh_token") {
				n++
			}
		}
		return n
	}
	for i := range 3 {
		before := reauths()
		w.g.Eventually(reauths, timeout, 50*time.Millisecond).Should(BeNumerically(">", before))
		w.dx.Create("messages", map[string]any{"text": fmt.Sprint(i), "user": "u"})
		n := i + 1
		w.mirrorData("login", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(n)) })
	}
	w.ready("login")
}

func cond(obj *v1alpha1.DirectusSubscription, typ string) metav1.Condition {
	for _, c := range obj.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

func TestARefusedPasswordIsNotTriedAgainUntilTheSecretChanges(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.secret("login", map[string]string{"email": "bot@example.com", "password": "not-the-password"})
	obj := w.subscription("lockout", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Auth = v1alpha1.DirectusAuth{Credentials: &v1alpha1.CredentialsAuth{SecretName: "login"}}
	})
	ready := w.condition("lockout", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthFailed)
	w.g.Expect(cond(ready, v1alpha1.ConditionConnected).Message).To(ContainSubstring("until the Secret changes"))
	failed := w.dx.FailedLogins()
	w.g.Expect(failed).To(BeNumerically(">=", 1))
	// With a reconnect delay of 50ms, retrying would add a failed login
	// every few hundred milliseconds; Directus suspends the user at 25.
	w.g.Consistently(w.dx.FailedLogins, 2*time.Second, 100*time.Millisecond).Should(Equal(failed))

	w.secret("login", map[string]string{"email": "bot@example.com", "password": "bot-password"})
	w.ready("lockout")

	// Deleting the subscription logs its sessions out.
	w.g.Expect(k8s.Delete(w.ctx, obj)).To(Succeed())
	w.g.Eventually(w.dx.Logouts, timeout, 50*time.Millisecond).Should(BeNumerically(">=", 1))
}

func TestRenamingTheTargetConfigMapLeavesNoOrphanBehind(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "a", "user": "u"})
	w.subscription("rename", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Target.ConfigMap.Name = "old-name" })
	w.ready("rename")
	w.mirrorData("old-name", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })

	// Changes keep flowing while the target moves: the old runner must be
	// gone before its ConfigMap is deleted, or it would write it again. A
	// later reconcile would delete such an orphan again, so the watch of
	// its history is what tells.
	wi, err := watcher.Watch(w.ctx, &corev1.ConfigMapList{}, client.InNamespace(w.ns),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: w.configMap("old-name").ResourceVersion, FieldSelector: "metadata.name=old-name"}})
	w.g.Expect(err).NotTo(HaveOccurred())
	defer wi.Stop()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				w.dx.Create("messages", map[string]any{"text": fmt.Sprint(i), "user": "u"})
			}
		}
	}()
	w.update("rename", func(s *v1alpha1.DirectusSubscription) { s.Spec.Target.ConfigMap.Name = "new-name" })
	w.ready("rename")
	close(stop)
	<-done
	n := len(w.dx.Items("messages"))
	w.mirrorData("new-name", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(n)) })
	w.g.Eventually(func() *corev1.ConfigMap { return w.configMap("old-name") }, timeout, 50*time.Millisecond).Should(BeNil())
	var history []watch.EventType
	for deleted := false; !deleted; {
		select {
		case ev := <-wi.ResultChan():
			history = append(history, ev.Type)
			deleted = ev.Type == watch.Deleted
		case <-time.After(timeout):
			t.Fatalf("no deletion of the old ConfigMap in its history: %v", history)
		}
	}
	w.g.Consistently(wi.ResultChan(), time.Second).ShouldNot(Receive(HaveField("Type", watch.Added)), "the old ConfigMap is not written again once deleted")
}
