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

package resolve

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

func TestConfigCacheReadsSecretsOnlyWhenTheirInputsChange(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(secret(tokenSecret, map[string]string{"token": "t-1"})).Build()
	secretReads := 0
	counting := countingSecretReads(c, &secretReads)
	cache := &ConfigCache{Metadata: c}
	obj := tokenSubscription(nil)

	first, _, err := cache.Config(ctx, Credentials{Reader: counting}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	_, _, err = cache.Config(ctx, Credentials{Reader: counting}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secretReads).To(Equal(1), "the same generation and Secret version: no second read")

	s := &corev1.Secret{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: tokenSecret}, s)).To(Succeed())
	s.Data = map[string][]byte{"token": []byte("t-2")}
	g.Expect(c.Update(ctx, s)).To(Succeed())
	rotated, _, err := cache.Config(ctx, Credentials{Reader: counting}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secretReads).To(Equal(2), "a new Secret version is read")
	g.Expect(rotated.Realtime.Auth.AccessToken).To(Equal("t-2"))
	g.Expect(rotated.Hash).NotTo(Equal(first.Hash))

	obj.Generation++
	_, _, err = cache.Config(ctx, Credentials{Reader: counting}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secretReads).To(Equal(3), "a new generation is built again")
}

func TestConfigCacheDoesNotKeepFailures(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(testScheme()).Build()
	cache := &ConfigCache{Metadata: c}
	obj := tokenSubscription(nil)
	_, _, err := cache.Config(ctx, Credentials{Reader: c}, obj, InlineSource(obj))
	g.Expect(err).To(HaveOccurred())
	g.Expect(c.Create(ctx, secret(tokenSecret, map[string]string{"token": "t"}))).To(Succeed())
	cfg, _, err := cache.Config(ctx, Credentials{Reader: c}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.Realtime.Auth.AccessToken).To(Equal("t"))
}

func TestConfigCacheNoticesANewCABundleInAConfigMap(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(
		secret(tokenSecret, map[string]string{"token": "t"}),
		configMap("ca", map[string]string{"ca.crt": string(testCAPEM(t))}),
	).Build()
	clock := time.Now()
	cache := &ConfigCache{Metadata: c, APIReader: c, now: func() time.Time { return clock }}
	obj := tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.TLS = &v1alpha1.TLSSpec{CA: &v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: "ca", Key: "ca.crt"}}}
	})
	first, _, err := cache.Config(ctx, Credentials{Reader: c}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())

	cm := &corev1.ConfigMap{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: "ca"}, cm)).To(Succeed())
	cm.Data["ca.crt"] = string(testCAPEM(t))
	g.Expect(c.Update(ctx, cm)).To(Succeed())
	same, _, err := cache.Config(ctx, Credentials{Reader: c}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(same.Hash).To(Equal(first.Hash), "within a minute the CA ConfigMap is not read again")

	clock = clock.Add(caCheckTTL)
	second, _, err := cache.Config(ctx, Credentials{Reader: c}, obj, InlineSource(obj))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(second.Hash).NotTo(Equal(first.Hash), "a new CA bundle builds a new config, which restarts the connection")
}

func TestManySubscriptionsNamingOneSecretReadItOncePerVersion(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(secret(tokenSecret, map[string]string{"token": "t-1"})).Build()
	secretReads := 0
	counting := countingSecretReads(c, &secretReads)
	cr := Credentials{Reader: counting, Values: &SecretValues{Metadata: c}}
	for i := range 100 {
		obj := tokenSubscription(nil)
		obj.Name = obj.Name + "-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		cfg, _, err := buildConfig(ctx, cr, obj)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(cfg.Realtime.Auth.AccessToken).To(Equal("t-1"))
	}
	g.Expect(secretReads).To(Equal(1), "one read for 100 subscriptions of one Secret version")

	s := &corev1.Secret{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: testNS, Name: tokenSecret}, s)).To(Succeed())
	s.Data = map[string][]byte{"token": []byte("t-2")}
	g.Expect(c.Update(ctx, s)).To(Succeed())
	cfg, _, err := buildConfig(ctx, cr, tokenSubscription(nil))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.Realtime.Auth.AccessToken).To(Equal("t-2"), "a new version is read again")
	g.Expect(secretReads).To(Equal(2))
}

// countingSecretReads is a client that reads through c and counts the
// Secrets it reads in *n.
func countingSecretReads(c client.Client, n *int) client.Client {
	return fake.NewClientBuilder().WithScheme(testScheme()).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				*n++
			}
			return c.Get(ctx, key, obj, opts...)
		},
	}).Build()
}
