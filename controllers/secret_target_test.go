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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// secretTarget makes a subscription's target a Secret.
func secretTarget(s *v1alpha1.DirectusSubscriptionSpec) {
	s.Target = v1alpha1.TargetSpec{Secret: &v1alpha1.ConfigMapTarget{}}
	s.Query = &v1alpha1.DirectusQuery{Fields: []string{"id", "text", "user"}}
}

// secretObj reads a Secret; nil when it does not exist.
func (w *world) secretObj(name string) *corev1.Secret {
	s := &corev1.Secret{}
	err := k8s.Get(w.ctx, types.NamespacedName{Namespace: w.ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return nil
	}
	w.g.Expect(err).NotTo(HaveOccurred())
	return s
}

// secretData waits until the Secret's data satisfies match.
func (w *world) secretData(name string, match func(g Gomega, data map[string]string)) {
	w.t.Helper()
	w.g.Eventually(func(g Gomega) {
		s := w.secretObj(name)
		g.Expect(s).NotTo(BeNil())
		data := map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		match(g, data)
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func TestSecretTargetMirrorsCreatesUpdatesAndDeletes(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "before", "user": "Ben"})
	w.subscription("private", secretTarget)
	obj := w.ready("private")
	w.g.Expect(obj.Status.Target).To(Equal("Secret/private"))
	w.secretData("private", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(1))
		g.Expect(d["1.json"]).To(MatchJSON(item(1, "before", "Ben")))
	})

	w.dx.Create("messages", map[string]any{"text": "Hello", "user": "Ben"}, map[string]any{"text": "World", "user": "Rijk"})
	w.dx.Update("messages", []any{1}, map[string]any{"text": "after"})
	w.dx.Delete("messages", 2)
	w.secretData("private", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveLen(2))
		g.Expect(d["1.json"]).To(MatchJSON(item(1, "after", "Ben")))
		g.Expect(d["3.json"]).To(MatchJSON(item(3, "World", "Rijk")))
	})
	s := w.secretObj("private")
	w.g.Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
	w.g.Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.LabelManagedBy, v1alpha1.ManagedByValue))
	w.g.Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.LabelSubscription, "private"))
	w.g.Expect(s.Annotations).To(HaveKey(v1alpha1.AnnotationContentHash))
	w.g.Expect(metav1.IsControlledBy(s, w.get("private"))).To(BeTrue(), "the Secret is owned by the subscription")
	w.g.Expect(w.configMap("private")).To(BeNil(), "nothing lands in a ConfigMap")
}

func TestForeignSecretIsNotTakenOver(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.secret("theirs", map[string]string{"keep": "me"})
	w.dx.Create("messages", map[string]any{"text": "x", "user": "y"})
	w.subscription("taker", func(s *v1alpha1.DirectusSubscriptionSpec) {
		secretTarget(s)
		s.Target.Secret.Name = "theirs"
	})
	obj := w.condition("taker", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonSecretNotOwned)
	w.g.Expect(cond(obj, v1alpha1.ConditionSynced).Message).To(ContainSubstring("Secret theirs exists and is not owned"))
	w.g.Expect(w.secretObj("theirs").Data).To(Equal(map[string][]byte{"keep": []byte("me")}))
}

func TestADeletedSecretTargetIsWrittenAgain(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "x", "user": "y"})
	w.subscription("again", secretTarget)
	w.ready("again")
	first := w.secretObj("again")
	w.g.Expect(k8s.Delete(w.ctx, first)).To(Succeed())
	w.g.Eventually(func(g Gomega) {
		s := w.secretObj("again")
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.UID).NotTo(Equal(first.UID))
		g.Expect(s.Data).To(HaveLen(1))
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func TestSwitchingFromAConfigMapToASecretRemovesTheConfigMap(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "x", "user": "y"})
	w.subscription("switch", nil)
	w.ready("switch")
	w.g.Expect(w.configMap("switch")).NotTo(BeNil())
	w.update("switch", func(s *v1alpha1.DirectusSubscription) { secretTarget(&s.Spec) })
	w.ready("switch")
	w.secretData("switch", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveLen(1)) })
	w.g.Eventually(func() *corev1.ConfigMap { return w.configMap("switch") }, timeout, 50*time.Millisecond).Should(BeNil(),
		"the content does not stay readable in a ConfigMap")
}

func TestDeletingASubscriptionRemovesItsSecretOrRetainsIt(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "x", "user": "y"})
	gone := w.subscription("gone", secretTarget)
	kept := w.subscription("kept", func(s *v1alpha1.DirectusSubscriptionSpec) {
		secretTarget(s)
		s.Target.DeletionPolicy = v1alpha1.DeletionPolicyRetain
	})
	w.ready("gone")
	w.ready("kept")
	w.g.Expect(k8s.Delete(w.ctx, gone)).To(Succeed())
	w.g.Expect(k8s.Delete(w.ctx, kept)).To(Succeed())
	// envtest runs no garbage collector: a Secret still here was not
	// deleted by the operator.
	w.g.Eventually(func() *corev1.Secret { return w.secretObj("gone") }, timeout, 50*time.Millisecond).Should(BeNil())
	w.g.Eventually(func(g Gomega) {
		s := w.secretObj("kept")
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.LabelRetainedFrom, "kept"))
		g.Expect(s.Labels).NotTo(HaveKey(v1alpha1.LabelManagedBy))
		g.Expect(s.OwnerReferences).To(BeEmpty())
		g.Expect(s.Data).To(HaveLen(1))
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

func TestASecretTargetWhoseLabelsWereRemovedIsRepaired(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "x", "user": "y"})
	w.subscription("labelled", secretTarget)
	w.ready("labelled")
	s := w.secretObj("labelled")
	delete(s.Labels, v1alpha1.LabelManagedBy)
	s.Data["phantom"] = []byte("added by hand")
	w.g.Expect(k8s.Update(w.ctx, s)).To(Succeed())
	w.g.Eventually(func(g Gomega) {
		s := w.secretObj("labelled")
		g.Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.LabelManagedBy, v1alpha1.ManagedByValue))
		g.Expect(s.Data).NotTo(HaveKey("phantom"), "the data is rewritten with the labels")
	}, timeout, 50*time.Millisecond).Should(Succeed())
}
