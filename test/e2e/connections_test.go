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
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// TestTwoHundredSubscriptionsShareTwoSocketsAndARotationLosesNothing runs
// 200 subscriptions in two namespaces through one ClusterDirectusConnection
// with a cap of 100 per socket, counts the realtime sockets at the TCP level
// (a proxy in front of Directus), and rotates the token behind the
// connection while a stream of changes flows.
func TestTwoHundredSubscriptionsShareTwoSocketsAndARotationLosesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const perNamespace = 100
	platform := ns(t) // holds the token Secret; no subscription lives here
	tenants := []string{ns(t), ns(t)}
	user := "shared-" + platform
	p, err := newProxy(dx.url())
	g.Expect(err).NotTo(HaveOccurred())
	defer p.close()

	createREST(t, map[string]any{"text": "seed 1", "user": user}, map[string]any{"text": "seed 2", "user": user})
	query := fmt.Sprintf(`{"fields":["id","text","user"],"filter":{"user":{"_eq":%q}}}`, user)
	conn := &v1alpha1.ClusterDirectusConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-" + platform},
		Spec: v1alpha1.ClusterDirectusConnectionSpec{
			ConnectionSpec: v1alpha1.ConnectionSpec{
				DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
					URL:  p.url(),
					Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Namespace: platform, Name: "directus", Key: "token"}},
					Reconnect: &v1alpha1.ReconnectSpec{
						InitialDelay: &metav1.Duration{Duration: 200 * time.Millisecond},
						MaxDelay:     &metav1.Duration{Duration: 2 * time.Second},
					},
				},
				MaxSubscriptionsPerSocket: 100,
			},
			Conditions: []v1alpha1.ClusterConnectionCondition{{Namespaces: tenants}},
		},
	}
	g.Expect(k8s.Create(ctx, conn)).To(Succeed())
	t.Cleanup(func() {
		// The subscriptions stop with their connection; the bot gets its
		// token back for the tests that follow.
		_ = k8s.Delete(ctx, conn)
		setBotToken(t, botToken)
	})
	for _, tenant := range tenants {
		for i := range perNamespace {
			g.Expect(k8s.Create(ctx, &v1alpha1.DirectusSubscription{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("m%03d", i), Namespace: tenant},
				Spec: v1alpha1.DirectusSubscriptionSpec{
					ConnectionRef:  &v1alpha1.ConnectionReference{Kind: v1alpha1.KindClusterDirectusConnection, Name: conn.Name},
					Collection:     "messages",
					Query:          &v1alpha1.DirectusQuery{Fields: []string{"id", "text", "user"}, Filter: rawJSON(fmt.Sprintf(`{"user":{"_eq":%q}}`, user))},
					Target:         v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
					ResyncInterval: &metav1.Duration{}, // no periodic resync to hide a loss
				},
			})).To(Succeed())
		}
	}
	start := time.Now()
	allExact := func(what string) {
		t.Helper()
		var behind int
		NewWithT(t).Eventually(func(g Gomega) {
			want := collectionAs(g, admin, query) // the bot's token changes; the administrator's does not
			behind = 0
			for _, tenant := range tenants {
				list := &corev1.ConfigMapList{}
				g.Expect(k8s.List(ctx, list, client.InNamespace(tenant))).To(Succeed())
				got := map[string]map[string]string{}
				for _, cm := range list.Items {
					got[cm.Name] = cm.Data
				}
				for i := range perNamespace {
					d, ok := got[fmt.Sprintf("m%03d", i)]
					if !ok || !equalMirror(g, d, want) {
						behind++
					}
				}
			}
			g.Expect(behind).To(BeZero(), "mirrors that differ from the collection")
		}, 4*timeout, time.Second).Should(Succeed(), what)
		t.Logf("e2e connection: %s: all %d mirrors exact %s after the start", what, len(tenants)*perNamespace, time.Since(start).Round(time.Millisecond))
	}
	allExact("first sync")
	g.Expect(p.openWebSockets()).To(Equal(2), "200 subscriptions, a cap of 100: exactly 2 realtime sockets at the TCP level")
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, types.NamespacedName{Name: conn.Name}, conn)).To(Succeed())
		g.Expect(conn.Status.Sockets).To(BeNumerically("==", 2))
		g.Expect(conn.Status.Subscriptions).To(BeNumerically("==", 200))
		g.Expect(conn.Status.ServerVersion).To(MatchRegexp(`^\d+\.\d+\.\d+`), "the version of the real Directus")
	}, timeout, poll).Should(Succeed())

	// Rotate the token while changes flow: Directus gets the new token,
	// then the Secret does.
	stream := startChanges(t, user)
	defer stream.stop()
	stream.await(t, 5)
	rotated := "rotated-" + platform
	setBotToken(t, rotated)
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: platform, Name: "directus"}, secret)).To(Succeed())
	secret.Data = map[string][]byte{"token": []byte(rotated)}
	g.Expect(k8s.Update(ctx, secret)).To(Succeed())
	stream.await(t, 10)
	// Every socket must now hold the new token: cut them all, and only a
	// reconnect with it brings the mirrors back.
	p.cut()
	p.restore()
	stream.await(t, 5)
	stream.stop()
	allExact("after the rotation and a cut")
	g.Eventually(p.openWebSockets, timeout, poll).Should(Equal(2), "still exactly 2 sockets")
}

// equalMirror tells whether ConfigMap data holds exactly want.
func equalMirror(g Gomega, data map[string]string, want map[string]any) bool {
	have := decoded(g, data)
	if len(have) != len(want) {
		return false
	}
	for k, v := range want {
		if hv, ok := have[k]; !ok || fmt.Sprint(hv) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}
