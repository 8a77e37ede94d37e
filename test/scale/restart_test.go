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

// Package scale holds the tests that need many objects at once or a restart
// of the operator: what only shows when it serves hundreds of subscriptions,
// or when it comes back. Each test starts (and restarts) its own operator
// against one shared control plane; they do not run in parallel.
package scale

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

var (
	cfg *rest.Config
	k8s client.Client
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	env, c, err := envtestutil.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg = c
	if k8s, err = client.New(cfg, client.Options{Scheme: controllers.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// subscriptionCount is how many subscriptions the test runs; SCALE_SUBSCRIPTIONS
// overrides it.
func subscriptionCount() int {
	if n, err := strconv.Atoi(os.Getenv("SCALE_SUBSCRIPTIONS")); err == nil && n > 0 {
		return n
	}
	return 500
}

// TestEveryStatusIsTrueAfterAManagerRestartAtScale restarts the operator
// under hundreds of subscriptions and checks every one: once the new
// process runs, each status must say what its connection and sink report,
// written by the new process, and none may stay frozen on a stale view.
func TestEveryStatusIsTrueAfterAManagerRestartAtScale(t *testing.T) {
	g := NewWithT(t)
	n := subscriptionCount()
	ctx := context.Background()

	dx, ns := newWorld(t, "scale")
	for i := range n {
		user := fmt.Sprintf("u%d", i)
		dx.Create("messages", map[string]any{"text": "a", "user": user}, map[string]any{"text": "b", "user": user})
	}

	opts := controllers.Options{MaxConcurrentReconciles: 8, Hub: hub.Options{StatusInterval: time.Second}}
	_, stop := startOperator(t, opts)

	createAll(t, k8s, ns, n, dx.URL())
	start := time.Now()
	waitAllReady(t, k8s, ns, n, time.Time{})
	t.Logf("%d subscriptions Ready in %s", n, time.Since(start).Round(time.Millisecond))

	stop()
	restarted := time.Now().Truncate(time.Second)
	h, _ := startOperator(t, opts)

	waitAllReady(t, k8s, ns, n, restarted)
	t.Logf("%d subscriptions Ready again %s after the restart", n, time.Since(restarted).Round(time.Millisecond))
	g.Expect(h.Sockets()).To(Equal((n+99)/100), "one socket per 100 subscriptions of one identity")

	// Every status says what the new process's connection and sink report.
	list := &v1alpha1.DirectusSubscriptionList{}
	g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	for i := range list.Items {
		obj := &list.Items[i]
		st, ok := h.Status(client.ObjectKeyFromObject(obj))
		g.Expect(ok).To(BeTrue(), obj.Name)
		g.Expect(obj.Status.Connection.State).To(Equal(st.ConnState), obj.Name)
		g.Expect(meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionSubscribed)).To(Equal(st.Subscribed), obj.Name)
		g.Expect(meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionSynced).Reason).To(Equal(st.SyncReason), obj.Name)
		g.Expect(obj.Status.Items).To(Equal(int64(2)), obj.Name)
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: obj.Name}, cm)).To(Succeed())
		g.Expect(cm.Data).To(HaveLen(2), obj.Name)
	}
}

func createAll(t *testing.T, k8s client.Client, ns string, n int, url string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			obj := &v1alpha1.DirectusSubscription{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i), Namespace: ns},
				Spec: v1alpha1.DirectusSubscriptionSpec{
					DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
						URL:  url,
						Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
						Reconnect: &v1alpha1.ReconnectSpec{
							InitialDelay: &metav1.Duration{Duration: 50 * time.Millisecond},
							MaxDelay:     &metav1.Duration{Duration: time.Second},
						},
					},
					Collection: "messages",
					Query:      &v1alpha1.DirectusQuery{Filter: &apiextensionsv1.JSON{Raw: []byte(fmt.Sprintf(`{"user":{"_eq":"u%d"}}`, i))}},
					Target:     v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
				},
			}
			errs <- k8s.Create(context.Background(), obj)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
	}
}

// waitAllReady waits until every subscription of ns is Ready for its
// generation, with a connection state written at or after since.
func waitAllReady(t *testing.T, k8s client.Client, ns string, n int, since time.Time) {
	t.Helper()
	var notReady []string
	NewWithT(t).Eventually(func() []string {
		list := &v1alpha1.DirectusSubscriptionList{}
		if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return []string{err.Error()}
		}
		notReady = notReady[:0]
		for i := range list.Items {
			obj := &list.Items[i]
			c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
			fresh := obj.Status.Connection.Since != nil && !obj.Status.Connection.Since.Time.Before(since)
			if c == nil || c.Status != metav1.ConditionTrue || obj.Status.ObservedGeneration != obj.Generation || !fresh {
				why := "no Ready condition"
				if c != nil {
					why = c.Reason + ": " + c.Message
				}
				notReady = append(notReady, obj.Name+" ("+why+")")
			}
		}
		if len(list.Items) != n {
			return append(notReady, fmt.Sprintf("%d of %d exist", len(list.Items), n))
		}
		return notReady
	}, 5*time.Minute, 500*time.Millisecond).Should(BeEmpty(), "subscriptions not Ready")
}
