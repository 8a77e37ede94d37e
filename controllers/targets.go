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

package controllers

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// retireTargets deletes the targets this subscription owns other than the
// one named keep (status.target's form, "Secret/<name>"; "" retires all
// of them), as after a rename, a switch of target or the subscription's
// deletion. Under deletionPolicy Retain it releases them instead: see
// release. The runner that wrote them must have stopped.
func (r *DirectusSubscriptionReconciler) retireTargets(ctx context.Context, obj *v1alpha1.DirectusSubscription, keep string) error {
	owned, err := r.ownedTargets(ctx, obj)
	if err != nil {
		return err
	}
	for _, t := range owned {
		if targetName(t) == keep {
			continue
		}
		if obj.Spec.Target.DeletionPolicy == v1alpha1.DeletionPolicyRetain {
			err = r.release(ctx, obj, t)
		} else {
			uid := t.GetUID()
			err = client.IgnoreNotFound(r.Delete(ctx, t, client.Preconditions{UID: &uid}))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ownedTargets lists the ConfigMaps and Secrets this subscription controls
// and labelled as its targets.
func (r *DirectusSubscriptionReconciler) ownedTargets(ctx context.Context, obj *v1alpha1.DirectusSubscription) ([]client.Object, error) {
	mine := []client.ListOption{client.InNamespace(obj.Namespace), client.MatchingLabels{v1alpha1.LabelSubscription: obj.Name}}
	cms := &corev1.ConfigMapList{}
	if err := r.List(ctx, cms, mine...); err != nil {
		return nil, err
	}
	// Secrets are cached as metadata only: that is all this needs.
	secrets := &metav1.PartialObjectMetadataList{}
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := r.Cache.List(ctx, secrets, mine...); err != nil {
		return nil, err
	}
	var owned []client.Object
	for i := range cms.Items {
		if metav1.IsControlledBy(&cms.Items[i], obj) {
			owned = append(owned, &cms.Items[i])
		}
	}
	for i := range secrets.Items {
		if s := &secrets.Items[i]; metav1.IsControlledBy(s, obj) {
			s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
			owned = append(owned, s)
		}
	}
	return owned, nil
}

// coreMetadata is an empty object of a core kind (Secret, Namespace) as a
// metadata-only watch caches it.
func coreMetadata(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}

// release leaves a target to whoever wants it, with its last content: the
// subscription's owner reference goes (so the garbage collector keeps it),
// the operator's labels go (so it no longer counts as the operator's), and
// LabelRetainedFrom says where it came from. A subscription created later
// under the same name does not take it back (it reports it as not owned):
// that is for someone to decide, by deleting it.
func (r *DirectusSubscriptionReconciler) release(ctx context.Context, obj *v1alpha1.DirectusSubscription, t client.Object) error {
	base, ok := t.DeepCopyObject().(client.Object)
	if !ok {
		return nil
	}
	t.SetOwnerReferences(slices.DeleteFunc(t.GetOwnerReferences(), func(ref metav1.OwnerReference) bool { return ref.UID == obj.UID }))
	labels := t.GetLabels()
	delete(labels, v1alpha1.LabelManagedBy)
	delete(labels, v1alpha1.LabelSubscription)
	labels[v1alpha1.LabelRetainedFrom] = obj.Name
	t.SetLabels(labels)
	return client.IgnoreNotFound(r.Patch(ctx, t, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})))
}

// targetName names an object as status.target does.
func targetName(t client.Object) string {
	switch t.(type) {
	case *corev1.ConfigMap:
		return "ConfigMap/" + t.GetName()
	default:
		return "Secret/" + t.GetName()
	}
}
