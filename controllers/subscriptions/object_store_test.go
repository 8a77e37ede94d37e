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
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// laggingStore is a ObjectStore whose cached reads can be frozen at an
// old version, as an informer cache that has not seen the last write yet;
// it records the bodies of the patches it sends.
type laggingStore struct {
	store     *ObjectStore
	server    client.WithWatch
	frozen    *corev1.ConfigMap
	patches   []string
	updates   int
	conflicts int
}

func newLaggingStore(t *testing.T) *laggingStore {
	t.Helper()
	l := &laggingStore{server: fake.NewClientBuilder().Build()}
	cached := interceptor.NewClient(l.server, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if l.frozen != nil {
				l.frozen.DeepCopyInto(obj.(*corev1.ConfigMap))
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			b, _ := patch.Data(obj)
			l.patches = append(l.patches, string(b))
			return c.Patch(ctx, obj, patch, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			l.updates++
			err := c.Update(ctx, obj, opts...)
			if apierrors.IsConflict(err) {
				l.conflicts++
			}
			return err
		},
	})
	l.store = &ObjectStore{
		Client: cached, Reader: l.server, Key: types.NamespacedName{Namespace: "ns", Name: "mirror"},
		Owner:        metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "p", UID: "uid-1"},
		Subscription: "sub",
	}
	return l
}

func renderItems(t *testing.T, items map[string]string) mirror.Rendered {
	t.Helper()
	m := mirror.New(mirror.PerItem, "")
	raw := map[string]json.RawMessage{}
	for k, v := range items {
		raw[k] = json.RawMessage(v)
	}
	m.Replace(raw)
	r, err := m.Render()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (l *laggingStore) data(t *testing.T) map[string]string {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := l.server.Get(context.Background(), l.store.Key, cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data
}

func TestAConfigMapWriteSendsOnlyTheKeysThatChanged(t *testing.T) {
	g := NewWithT(t)
	l := newLaggingStore(t)
	ctx := context.Background()
	big := `{"id":1,"text":"a long item that does not change"}`
	_, err := l.store.Apply(ctx, renderItems(t, map[string]string{"1": big, "2": `{"id":2}`}))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = l.store.Apply(ctx, renderItems(t, map[string]string{"1": big, "2": `{"id":2,"v":2}`, "3": `{"id":3}`}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(l.patches).To(HaveLen(1))
	g.Expect(l.patches[0]).To(ContainSubstring(`"2.json"`))
	g.Expect(l.patches[0]).To(ContainSubstring(`"3.json"`))
	g.Expect(l.patches[0]).NotTo(ContainSubstring(`1.json`), "an unchanged item does not travel")
	g.Expect(l.data(t)).To(HaveLen(3))
}

func TestACacheThatLagsBehindTheLastWriteCannotLeaveAStaleKeyOrValue(t *testing.T) {
	g := NewWithT(t)
	l := newLaggingStore(t)
	ctx := context.Background()
	_, err := l.store.Apply(ctx, renderItems(t, map[string]string{"1": `{"id":1}`}))
	g.Expect(err).NotTo(HaveOccurred())
	cm := &corev1.ConfigMap{}
	g.Expect(l.server.Get(ctx, l.store.Key, cm)).To(Succeed())
	l.frozen = cm // the cache stops here

	_, err = l.store.Apply(ctx, renderItems(t, map[string]string{"1": `{"id":1}`, "2": `{"id":2}`}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(l.data(t)).To(HaveKey("2.json"))

	// The cache still shows only item 1, which is what is wanted now: the
	// store must still remove item 2, which it wrote itself.
	result, err := l.store.Apply(ctx, renderItems(t, map[string]string{"1": `{"id":1}`}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(resultSuccess), "not skipped on the cache's word")
	g.Expect(l.data(t)).To(Equal(map[string]string{"1.json": `{"id":1}`}))
}

// largeItems returns items just past MergePatchMaxBytes once rendered: a
// mirror the store writes whole.
func largeItems(t *testing.T) map[string]string {
	t.Helper()
	items := map[string]string{}
	for i := 0; mirror.DataSize(renderItems(t, items).Data) < MergePatchMaxBytes; i++ {
		items[fmt.Sprint(i)] = fmt.Sprintf(`{"id":%d,"text":"%s"}`, i, strings.Repeat("x", 200))
	}
	return items
}

// A large mirror is written whole: the API server spends less CPU on an
// Update than on patching a large object (make bench-floor), and its CPU
// is what every tenant shares.
func TestALargeMirrorIsWrittenWholeNotPatched(t *testing.T) {
	g := NewWithT(t)
	l := newLaggingStore(t)
	ctx := context.Background()
	items := largeItems(t)
	_, err := l.store.Apply(ctx, renderItems(t, items))
	g.Expect(err).NotTo(HaveOccurred())
	items["new"] = `{"id":"new"}`
	_, err = l.store.Apply(ctx, renderItems(t, items))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(l.patches).To(BeEmpty(), "no merge patch past MergePatchMaxBytes")
	g.Expect(l.updates).To(Equal(1))
	g.Expect(l.data(t)).To(HaveKey("new.json"))
	g.Expect(l.data(t)).To(HaveLen(len(items)))
}

// Writes that follow each other closely meet no conflict although the
// cache has not seen the previous one: the store writes on top of its own
// last write. One that someone else changed meanwhile is still read again,
// never overwritten blindly.
func TestALaggingCacheCostsNoConflictAndAForeignWriteIsNotLost(t *testing.T) {
	g := NewWithT(t)
	l := newLaggingStore(t)
	ctx := context.Background()
	items := largeItems(t)
	_, err := l.store.Apply(ctx, renderItems(t, items))
	g.Expect(err).NotTo(HaveOccurred())
	cm := &corev1.ConfigMap{}
	g.Expect(l.server.Get(ctx, l.store.Key, cm)).To(Succeed())
	l.frozen = cm // the cache stops here
	for _, k := range []string{"a", "b", "c"} {
		items[k] = fmt.Sprintf(`{"id":%q}`, k)
		_, err = l.store.Apply(ctx, renderItems(t, items))
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(l.updates).To(Equal(3))
	g.Expect(l.conflicts).To(BeZero(), "no write met a conflict")
	g.Expect(l.data(t)).To(HaveLen(len(items)))

	// Someone else labels it: the next write conflicts, reads again, and
	// keeps their label.
	fresh := &corev1.ConfigMap{}
	g.Expect(l.server.Get(ctx, l.store.Key, fresh)).To(Succeed())
	fresh.Labels["team"] = "web"
	g.Expect(l.server.Update(ctx, fresh)).To(Succeed())
	items["d"] = `{"id":"d"}`
	_, err = l.store.Apply(ctx, renderItems(t, items))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(l.conflicts).To(Equal(1))
	g.Expect(l.server.Get(ctx, l.store.Key, fresh)).To(Succeed())
	g.Expect(fresh.Labels).To(HaveKeyWithValue("team", "web"))
	g.Expect(fresh.Data).To(HaveKey("d.json"))
}

// The store is the one place that retries conflicts: a target that keeps
// changing under it is read again and written on top, a few times, before
// the conflict goes to the sink (which retries with backoff).
func TestTheStoreRetriesConflictsOnFreshReadsAndThenGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		conflicts int
		ok        bool
	}{
		{"a few conflicts", maxConflictRetries, true},
		{"one conflict too many", maxConflictRetries + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			l := newLaggingStore(t)
			ctx := context.Background()
			items := largeItems(t) // past MergePatchMaxBytes: written by Update
			_, err := l.store.Apply(ctx, renderItems(t, items))
			g.Expect(err).NotTo(HaveOccurred())
			items["a"] = `{"id":"a"}`
			updates := 0
			l.store.Client = interceptor.NewClient(l.server, interceptor.Funcs{
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					updates++
					if updates <= tc.conflicts {
						return apierrors.NewConflict(corev1.Resource("configmaps"), obj.GetName(), fmt.Errorf("changed"))
					}
					return c.Update(ctx, obj, opts...)
				},
			})
			_, err = l.store.Apply(ctx, renderItems(t, items))
			if tc.ok {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(updates).To(Equal(maxConflictRetries + 1))
				g.Expect(l.data(t)).To(HaveKey("a.json"))
				return
			}
			g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
			g.Expect(updates).To(Equal(maxConflictRetries + 1))
		})
	}
}
