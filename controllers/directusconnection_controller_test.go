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
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// connectionSpec is the world's Directus with its token Secret; ns names
// the Secret's namespace (for a cluster connection) and cap the
// subscriptions per socket.
func (w *world) connectionSpec(ns string, perSocket int32) v1alpha1.ConnectionSpec {
	return v1alpha1.ConnectionSpec{
		DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
			URL:  w.dx.URL(),
			Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Namespace: ns, Name: "directus", Key: "token"}},
			Reconnect: &v1alpha1.ReconnectSpec{
				InitialDelay: &metav1.Duration{Duration: 50 * time.Millisecond},
				MaxDelay:     &metav1.Duration{Duration: time.Second},
			},
		},
		MaxSubscriptionsPerSocket: perSocket,
	}
}

// directusConnection creates a DirectusConnection in the world's namespace.
func (w *world) directusConnection(name string, perSocket int32) *v1alpha1.DirectusConnection {
	c := &v1alpha1.DirectusConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns}, Spec: w.connectionSpec("", perSocket)}
	w.g.Expect(k8s.Create(w.ctx, c)).To(Succeed())
	return c
}

// clusterConnection creates a ClusterDirectusConnection (named after the
// world, cluster-scoped names are shared by parallel tests) reading the
// world's Secret.
func (w *world) clusterConnection(conditions ...v1alpha1.ClusterConnectionCondition) *v1alpha1.ClusterDirectusConnection {
	c := &v1alpha1.ClusterDirectusConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-" + w.ns},
		Spec:       v1alpha1.ClusterDirectusConnectionSpec{ConnectionSpec: w.connectionSpec(w.ns, 0), Conditions: conditions},
	}
	w.g.Expect(k8s.Create(w.ctx, c)).To(Succeed())
	w.t.Cleanup(func() { _ = k8s.Delete(w.ctx, c) })
	return c
}

// namespace creates another namespace with labels.
func (w *world) namespace(suffix string, labels map[string]string) string {
	name := w.ns + "-" + suffix
	w.g.Expect(k8s.Create(w.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})).To(Succeed())
	return name
}

// subscriptionUsing creates a subscription in ns that names a connection
// instead of carrying its own.
func (w *world) subscriptionUsing(ns, name, kind, connection string) {
	obj := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			ConnectionRef: &v1alpha1.ConnectionReference{Kind: kind, Name: connection},
			Collection:    "messages",
			Target:        v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
		},
	}
	w.g.Expect(k8s.Create(w.ctx, obj)).To(Succeed())
}

// readyIn waits for the Ready condition of subscription "m" in another
// namespace.
func (w *world) readyIn(ns string, status metav1.ConditionStatus, reason string) *v1alpha1.DirectusSubscription {
	w.t.Helper()
	other := *w
	other.ns = ns
	return other.condition("m", v1alpha1.ConditionReady, status, reason)
}

// connectionStatus waits until the connection object's status satisfies
// match.
func (w *world) connectionStatus(obj client.Object, match func(g Gomega, st v1alpha1.DirectusConnectionStatus)) {
	w.t.Helper()
	w.g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(w.ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		var st v1alpha1.DirectusConnectionStatus
		switch c := obj.(type) {
		case *v1alpha1.DirectusConnection:
			st = c.Status
		case *v1alpha1.ClusterDirectusConnection:
			st = c.Status
		}
		g.Expect(st.ObservedGeneration).To(Equal(obj.GetGeneration()))
		match(g, st)
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func haveCondition(typ string, status metav1.ConditionStatus, reason string) OmegaMatcher {
	return WithTransform(func(cs []metav1.Condition) string {
		c := meta.FindStatusCondition(cs, typ)
		if c == nil {
			return "absent"
		}
		return string(c.Status) + "/" + c.Reason
	}, Equal(string(status)+"/"+reason))
}

func TestSubscriptionsShareTheSocketsOfTheirDirectusConnection(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "hello"})
	conn := w.directusConnection("cms", 2)
	for i := range 3 {
		w.subscriptionUsing(w.ns, fmt.Sprintf("s%d", i), v1alpha1.KindDirectusConnection, "cms")
	}
	for i := range 3 {
		obj := w.ready(fmt.Sprintf("s%d", i))
		w.g.Expect(obj.Status.Connection.Ref).To(Equal("DirectusConnection/cms"))
		w.mirrorData(fmt.Sprintf("s%d", i), func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(1)) })
	}
	w.g.Expect(w.dx.Connections()).To(Equal(2), "3 subscriptions with a cap of 2 per socket: 2 sockets")
	w.connectionStatus(conn, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Sockets).To(BeNumerically("==", 2))
		g.Expect(st.Subscriptions).To(BeNumerically("==", 3))
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady))
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionConnected, metav1.ConditionTrue, v1alpha1.ReasonConnected))
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionAuthenticated, metav1.ConditionTrue, v1alpha1.ReasonAuthenticated))
		g.Expect(st.ServerVersion).To(Equal("12.4.1"), "GET /server/info's data.version")
	})

	// Removing one subscription moves no other: the sockets stay as they
	// are, the count follows.
	opened := len(socketsOpened(w.dx))
	w.g.Expect(k8s.Delete(w.ctx, w.get("s2"))).To(Succeed())
	w.connectionStatus(conn, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Subscriptions).To(BeNumerically("==", 2))
	})
	w.dx.Create("messages", map[string]any{"text": "after"})
	for i := range 2 {
		w.mirrorData(fmt.Sprintf("s%d", i), func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(2)) })
	}
	w.g.Expect(socketsOpened(w.dx)).To(HaveLen(opened), "no socket was opened again")

	// Its credentials are nowhere in what a tenant can read.
	for _, obj := range []client.Object{w.get("s0"), conn} {
		w.g.Expect(credentialsIn(fmt.Sprintf("%+v", obj))).To(BeEmpty())
	}
}

func TestAConnectionNobodyUsesIsIdleAndOneWithAMissingSecretIsStalled(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	idle := w.directusConnection("idle", 0)
	w.connectionStatus(idle, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonIdle))
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionConnected, metav1.ConditionUnknown, v1alpha1.ReasonIdle))
		g.Expect(st.Sockets).To(BeZero())
	})
	broken := &v1alpha1.DirectusConnection{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: w.ns}, Spec: w.connectionSpec("", 0)}
	broken.Spec.Auth.Token.Name = "missing"
	w.g.Expect(k8s.Create(w.ctx, broken)).To(Succeed())
	w.connectionStatus(broken, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound))
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound))
	})
	// The Secret appears: the connection resolves (the Secret is watched).
	w.secret("missing", map[string]string{"token": botToken})
	w.connectionStatus(broken, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonIdle))
	})
}

func TestASubscriptionWaitsForItsConnectionAndKeepsItsTargetWhenTheConnectionGoes(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "kept"})
	w.subscriptionUsing(w.ns, "early", v1alpha1.KindDirectusConnection, "later")
	obj := w.condition("early", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonConnectionNotFound)
	w.g.Expect(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady).Message).To(ContainSubstring(`DirectusConnection "later" not found`))
	w.g.Expect(w.dx.Connections()).To(BeZero(), "no socket without a connection")

	conn := w.directusConnection("later", 0)
	w.ready("early")
	w.mirrorData("early", func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(1)) })

	// Deleting the connection stops its subscriptions, as External
	// Secrets does with a deleted store, and never empties their targets.
	w.g.Expect(k8s.Delete(w.ctx, conn)).To(Succeed())
	w.condition("early", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonConnectionNotFound)
	w.g.Eventually(w.dx.Connections, timeout, 50*time.Millisecond).Should(BeZero(), "the socket closes")
	w.g.Expect(w.configMap("early").Data).To(HaveLen(1), "the target keeps its content")

	// It comes back with the connection, and catches up with what changed.
	w.dx.Create("messages", map[string]any{"text": "while away"})
	w.directusConnection("later", 0)
	w.ready("early")
	w.mirrorData("early", func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(2)) })
}

func TestAClusterConnectionServesOnlyTheNamespacesItsConditionsAllow(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "hello"})
	label := "directus-" + w.ns
	conn := w.clusterConnection(
		v1alpha1.ClusterConnectionCondition{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{label: "allowed"}}},
		v1alpha1.ClusterConnectionCondition{NamespaceRegexes: []string{"^" + w.ns + "-team-"}},
	)
	byLabel := w.namespace("labelled", map[string]string{label: "allowed"})
	byRegex := w.namespace("team-a", nil)
	outside := w.namespace("other", nil)
	for _, ns := range []string{byLabel, byRegex, outside} {
		w.subscriptionUsing(ns, "m", v1alpha1.KindClusterDirectusConnection, conn.Name)
	}
	w.readyIn(byLabel, metav1.ConditionTrue, v1alpha1.ReasonReady)
	w.readyIn(byRegex, metav1.ConditionTrue, v1alpha1.ReasonReady)
	denied := w.readyIn(outside, metav1.ConditionFalse, v1alpha1.ReasonConnectionNotAllowed)
	w.g.Expect(meta.FindStatusCondition(denied.Status.Conditions, v1alpha1.ConditionReady).Message).To(ContainSubstring(fmt.Sprintf("does not allow namespace %q", outside)))
	w.g.Expect(denied.Status.Connection.Ref).To(Equal("ClusterDirectusConnection/" + conn.Name))
	w.connectionStatus(conn, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Subscriptions).To(BeNumerically("==", 2), "the denied subscription is not served")
	})

	// Relabelling a namespace in use takes the connection away from it: the
	// subscription stops, its ConfigMap keeps its content.
	other := *w
	other.ns = byLabel
	other.mirrorData("m", func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(1)) })
	ns := &corev1.Namespace{}
	w.g.Expect(k8s.Get(w.ctx, types.NamespacedName{Name: byLabel}, ns)).To(Succeed())
	ns.Labels[label] = "revoked"
	w.g.Expect(k8s.Update(w.ctx, ns)).To(Succeed())
	w.readyIn(byLabel, metav1.ConditionFalse, v1alpha1.ReasonConnectionNotAllowed)
	w.connectionStatus(conn, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Subscriptions).To(BeNumerically("==", 1))
	})
	w.g.Expect(other.configMap("m").Data).To(HaveLen(1), "the target keeps its content")

	// And labelling it again gives it back.
	w.g.Expect(k8s.Get(w.ctx, types.NamespacedName{Name: byLabel}, ns)).To(Succeed())
	ns.Labels[label] = "allowed"
	w.g.Expect(k8s.Update(w.ctx, ns)).To(Succeed())
	w.readyIn(byLabel, metav1.ConditionTrue, v1alpha1.ReasonReady)
}

func TestAClusterConnectionWithABadRegexSaysSo(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	conn := w.clusterConnection(v1alpha1.ClusterConnectionCondition{NamespaceRegexes: []string{"team-("}})
	w.connectionStatus(conn, func(g Gomega, st v1alpha1.DirectusConnectionStatus) {
		g.Expect(st.Conditions).To(haveCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec))
		g.Expect(st.LastError).To(ContainSubstring("conditions[0].namespaceRegexes"))
	})
}

func TestRotatingTheSecretOfAConnectionMovesEverySubscriptionToTheNewToken(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.AddUser(fakedirectus.User{Email: "bot2@example.com", StaticToken: "second-token", Read: []string{"messages"}})
	w.dx.Create("messages", map[string]any{"text": "one"})
	w.directusConnection("cms", 0)
	for i := range 3 {
		w.subscriptionUsing(w.ns, fmt.Sprintf("s%d", i), v1alpha1.KindDirectusConnection, "cms")
	}
	for i := range 3 {
		w.ready(fmt.Sprintf("s%d", i))
	}

	opened := socketsOpened(w.dx)
	w.secret("directus", map[string]string{"token": "second-token"})
	w.dx.Create("messages", map[string]any{"text": "two"})
	w.g.Eventually(func(g Gomega) {
		g.Expect(authTokens(w.dx)).To(ContainElement("second-token"))
	}, timeout, 50*time.Millisecond).Should(Succeed())
	for i := range 3 {
		w.mirrorData(fmt.Sprintf("s%d", i), func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(2)) })
	}
	// Directus takes a new token on a live socket: the connection
	// re-authenticated in place, no socket was opened for it.
	w.g.Expect(socketsOpened(w.dx)).To(Equal(opened))

	// The old token stops working and every socket is cut: only
	// subscriptions that moved to the new token come back.
	w.dx.RevokeToken(botToken)
	w.dx.DropConnections()
	w.dx.Create("messages", map[string]any{"text": "three"})
	for i := range 3 {
		w.ready(fmt.Sprintf("s%d", i))
		w.mirrorData(fmt.Sprintf("s%d", i), func(g Gomega, data map[string]string) { g.Expect(data).To(HaveLen(3)) })
	}
}

// socketsOpened lists the fake's connection numbers that sent a frame.
func socketsOpened(dx *fakedirectus.Server) map[int]bool {
	seen := map[int]bool{}
	for _, f := range dx.Frames() {
		seen[f.Conn] = true
	}
	return seen
}

// authTokens lists the access tokens clients authenticated with.
func authTokens(dx *fakedirectus.Server) []string {
	var toks []string
	for _, f := range dx.Frames() {
		if f.FromClient && f.Type() == "auth" {
			if i := strings.Index(f.Data, `"access_token":"`); i >= 0 {
				rest := f.Data[i+len(`"access_token":"`):]
				toks = append(toks, rest[:strings.IndexByte(rest, '"')])
			}
		}
	}
	return toks
}
