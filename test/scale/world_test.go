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

package scale

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// newWorld starts a fake Directus with collection messages and a bot that
// may read it with the static token bot-token, and makes a namespace with
// that token in Secret directus, whose subscriptions are deleted when the
// test ends (leaveNoSubscriptions). The namespace is named after base with a
// random suffix, so that the package can run again (-count) on its control
// plane.
func newWorld(t *testing.T, base string) (dx *fakedirectus.Server, ns string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	dx = fakedirectus.New(fakedirectus.Options{})
	t.Cleanup(dx.Close)
	dx.AddCollection("messages", "id", "text", "user")
	dx.AddUser(fakedirectus.User{Email: "bot@example.com", Password: "pw", StaticToken: "bot-token", Read: []string{"messages"}})
	ns = base + "-" + utilrand.String(5)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: ns},
		StringData: map[string]string{"token": "bot-token"}})).To(Succeed())
	leaveNoSubscriptions(t, ns)
	return dx, ns
}

// leaveNoSubscriptions deletes the subscriptions of ns when the test ends,
// once its operators have stopped, and takes their finalizers off itself:
// the tests share the control plane, and the next test's operator must
// not run them, however this test ended.
func leaveNoSubscriptions(t *testing.T, ns string) {
	t.Helper()
	t.Cleanup(func() {
		g := NewWithT(t)
		ctx := context.Background()
		g.Expect(k8s.DeleteAllOf(ctx, &v1alpha1.DirectusSubscription{}, client.InNamespace(ns))).To(Succeed())
		g.Eventually(func(g Gomega) []v1alpha1.DirectusSubscription {
			list := &v1alpha1.DirectusSubscriptionList{}
			g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			for i := range list.Items {
				obj := &list.Items[i]
				if controllerutil.RemoveFinalizer(obj, v1alpha1.Finalizer) {
					g.Expect(client.IgnoreNotFound(k8s.Update(ctx, obj))).To(Succeed())
				}
			}
			return list.Items
		}, 2*time.Minute, 100*time.Millisecond).Should(BeEmpty())
	})
}

// startOperator starts an operator on the shared control plane. The
// returned stop may be called mid-test (a restart); whatever happens, the
// operator is stopped when the test ends, so that a failed test cannot
// leave it running the next tests' subscriptions.
func startOperator(t *testing.T, opts controllers.Options) (h *hub.Hub, stop func()) {
	t.Helper()
	return startOperatorWith(t, cfg, opts)
}

// startOperatorWith is startOperator with a rest config of its own.
func startOperatorWith(t *testing.T, c *rest.Config, opts controllers.Options) (h *hub.Hub, stop func()) {
	t.Helper()
	h, stopFn, err := envtestutil.StartOperatorHub(c, opts)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := stopFn(); err != nil {
				t.Errorf("stopping the operator: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return h, stop
}
