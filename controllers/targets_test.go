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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// retained waits until name has been released by subscription from, and
// returns it.
func (w *world) retained(name, from string) *corev1.ConfigMap {
	w.t.Helper()
	var cm *corev1.ConfigMap
	w.g.Eventually(func(g Gomega) {
		cm = w.configMap(name)
		g.Expect(cm).NotTo(BeNil(), "the ConfigMap is kept")
		g.Expect(cm.Labels).To(HaveKeyWithValue(v1alpha1.LabelRetainedFrom, from))
	}, timeout, 50*time.Millisecond).Should(Succeed())
	// envtest runs no garbage collector: an owner reference left behind
	// would not show as a deletion here, so it is checked itself.
	w.g.Expect(cm.OwnerReferences).To(BeEmpty(), "no owner reference is left for the garbage collector to follow")
	w.g.Expect(cm.Labels).NotTo(HaveKey(v1alpha1.LabelManagedBy), "the operator no longer claims it")
	w.g.Expect(cm.Labels).NotTo(HaveKey(v1alpha1.LabelSubscription))
	return cm
}

func TestRetainKeepsTheConfigMapWithItsContentWhenTheSubscriptionIsDeleted(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "keep me", "user": "u"})
	obj := w.subscription("keeper", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target.DeletionPolicy = v1alpha1.DeletionPolicyRetain
		s.Target.ConfigMap.Labels = map[string]v1alpha1.LabelValue{"team": "web"}
	})
	w.ready("keeper")
	before := w.mirrorData("keeper", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })

	w.g.Expect(k8s.Delete(w.ctx, obj)).To(Succeed())
	w.g.Eventually(func() bool { return w.exists("keeper") }, timeout, 50*time.Millisecond).Should(BeFalse())
	cm := w.retained("keeper", "keeper")
	w.g.Expect(cm.Data).To(Equal(before), "the target is never emptied")
	w.g.Expect(cm.Labels).To(HaveKeyWithValue("team", "web"), "the user's labels stay")

	// A change in Directus no longer reaches it.
	w.dx.Create("messages", map[string]any{"text": "after", "user": "u"})
	w.g.Consistently(func() map[string]string { return w.configMap("keeper").Data }, time.Second, 100*time.Millisecond).Should(Equal(before))
}

func TestRetainReleasesTheOldConfigMapOnARename(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "a", "user": "u"})
	w.subscription("mover", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target.DeletionPolicy = v1alpha1.DeletionPolicyRetain
		s.Target.ConfigMap.Name = "first"
	})
	w.ready("mover")
	w.update("mover", func(s *v1alpha1.DirectusSubscription) { s.Spec.Target.ConfigMap.Name = "second" })
	w.ready("mover")
	w.mirrorData("second", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })
	w.g.Expect(w.retained("first", "mover").Data).To(HaveLen(1))
}

func TestARetainedConfigMapIsNotTakenBackByANewSubscriptionOfTheSameName(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	obj := w.subscription("again", func(s *v1alpha1.DirectusSubscriptionSpec) { s.Target.DeletionPolicy = v1alpha1.DeletionPolicyRetain })
	w.ready("again")
	w.g.Expect(k8s.Delete(w.ctx, obj)).To(Succeed())
	w.g.Eventually(func() bool { return w.exists("again") }, timeout, 50*time.Millisecond).Should(BeFalse())
	w.retained("again", "again")

	w.subscription("again", nil)
	w.condition("again", v1alpha1.ConditionSynced, "False", v1alpha1.ReasonConfigMapNotOwned)
}

// exists tells whether the subscription is still stored.
func (w *world) exists(name string) bool {
	err := k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, &v1alpha1.DirectusSubscription{})
	w.g.Expect(client.IgnoreNotFound(err)).To(Succeed())
	return err == nil
}
