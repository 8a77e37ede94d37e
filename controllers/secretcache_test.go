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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/controllers"
)

// clientSideApplied is a Secret as `kubectl apply` (client-side) creates
// it: its last-applied-configuration annotation is the whole manifest,
// stringData in clear and data in base64.
func clientSideApplied(ns, name, value string) *corev1.Secret {
	manifest := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"stringData": map[string]string{"token": value},
		"data":       map[string]string{"password": base64.StdEncoding.EncodeToString([]byte(value))},
	}
	last, _ := json.Marshal(manifest)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"team": "a"},
			Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: string(last)}},
		StringData: map[string]string{"token": value, "password": value},
	}
}

func TestTheOperatorsCacheHoldsNoSecretDataFromLastAppliedConfiguration(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := t.Context()
	ns := fmt.Sprintf("t%d", nsCounter.Add(1))
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	const value = "v3ry-s3cret-t0ken-in-last-applied"
	leaks := make([]string, 0, 3)
	leaks = append(leaks, value, base64.StdEncoding.EncodeToString([]byte(value)))
	g.Expect(k8s.Create(ctx, clientSideApplied(ns, "directus", value))).To(Succeed())

	// The cache as the operator's manager builds it.
	opts := controllers.CacheOptions(nil, nil)
	opts.Scheme = controllers.Scheme()
	c, err := cache.New(restConfig, opts)
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = c.Start(ctx) }()
	g.Expect(c.WaitForCacheSync(ctx)).To(BeTrue())

	// What WatchesMetadata(&corev1.Secret{}) caches.
	secretMeta := func() *metav1.PartialObjectMetadata {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		return m
	}
	expectNoLeak := func(what string, obj any) {
		t.Helper()
		b, err := json.Marshal(obj)
		g.Expect(err).NotTo(HaveOccurred())
		for _, s := range leaks {
			g.Expect(string(b)).NotTo(ContainSubstring(s), "%s in the cache holds the Secret's value", what)
		}
	}
	cached := secretMeta()
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus"}, cached)).To(Succeed())
	g.Expect(cached.ResourceVersion).NotTo(BeEmpty(), "the operator needs the resourceVersion")
	g.Expect(cached.Labels).To(HaveKeyWithValue("team", "a"), "labels are kept")
	g.Expect(cached.Annotations).To(BeEmpty())
	g.Expect(cached.ManagedFields).To(BeEmpty())
	expectNoLeak("the Secret's metadata", cached)

	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	g.Expect(c.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	g.Expect(list.Items).NotTo(BeEmpty())
	expectNoLeak("a list of Secrets' metadata", list)

	// An update goes through the transform too.
	const newValue = "an0ther-s3cret-after-an-update"
	leaks = append(leaks, newValue)
	cur := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus"}, cur)).To(Succeed())
	cur.Annotations = clientSideApplied(ns, "directus", newValue).Annotations
	cur.StringData = map[string]string{"token": newValue}
	g.Expect(k8s.Update(ctx, cur)).To(Succeed())
	g.Eventually(func(g Gomega) {
		m := secretMeta()
		g.Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus"}, m)).To(Succeed())
		g.Expect(m.ResourceVersion).To(Equal(cur.ResourceVersion))
	}, timeout, 50*time.Millisecond).Should(Succeed())
	cached = secretMeta()
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus"}, cached)).To(Succeed())
	expectNoLeak("the updated Secret's metadata", cached)

	// Should anything ever read a full Secret through this cache, it holds
	// no data either.
	full := &corev1.Secret{}
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus"}, full)).To(Succeed())
	g.Expect(full.Data).To(BeEmpty())
	expectNoLeak("a full Secret", full)
}
