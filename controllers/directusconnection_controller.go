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
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/resolve"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// ConnectionReconciler reports on DirectusConnections or, with Kind
// ClusterDirectusConnection, on ClusterDirectusConnections. Connection
// objects run nothing themselves: the Hub opens their sockets for the
// subscriptions that name them. The reconciler checks that the settings
// and Secrets resolve, and shows what the Hub runs for the object.
type ConnectionReconciler struct {
	client.Client
	// APIReader reads Secrets and CA ConfigMaps without caching them.
	APIReader client.Reader
	Hub       *hub.Hub
	Kind      string
	// Shard selects the objects of Kind this operator reports on (nil:
	// all). Every shard reads every connection object, since a subscription
	// of any shard may name any connection, but only the shard whose selector
	// matches one writes its status, so that shards never fight over it.
	Shard labels.Selector

	secrets resolve.SecretValues
}

func (r *ConnectionReconciler) newObject() client.Object {
	if r.Kind == v1alpha1.KindClusterDirectusConnection {
		return &v1alpha1.ClusterDirectusConnection{}
	}
	return &v1alpha1.DirectusConnection{}
}

// describe returns what the reconciler needs of either kind: where its
// settings are, its status, and what is wrong in its conditions.
func describe(obj client.Object) (resolve.Source, *v1alpha1.DirectusConnectionStatus, []string, error) {
	switch c := obj.(type) {
	case *v1alpha1.ClusterDirectusConnection:
		return resolve.ClusterSource(c), &c.Status, resolve.ConditionErrors(c), nil
	case *v1alpha1.DirectusConnection:
		return resolve.NamespacedSource(c), &c.Status, nil, nil
	}
	return resolve.Source{}, nil, nil, fmt.Errorf("not a connection object: %T", obj)
}

// Reconcile brings a connection object's status in line with its settings
// and with the sockets the Hub holds for it, with one status patch.
func (r *ConnectionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (_ reconcile.Result, retErr error) {
	obj := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			forgetConnection(r.Kind, req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if r.Shard != nil && !r.Shard.Matches(labels.Set(obj.GetLabels())) {
		// Another shard's: the Hub asks for it when subscriptions of
		// this shard use it, but its status is not ours to write.
		forgetConnection(r.Kind, req.NamespacedName)
		return reconcile.Result{}, nil
	}
	src, st, condErrs, err := describe(obj)
	if err != nil {
		return reconcile.Result{}, err
	}
	base := obj.DeepCopyObject().(client.Object)
	before := st.DeepCopy()
	defer func() {
		if equality.Semantic.DeepEqual(before, st) {
			return
		}
		if err := r.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, err)
		}
	}()
	return reconcile.Result{}, r.reconcile(ctx, req.NamespacedName, obj.GetGeneration(), src, st, condErrs)
}

// reconcile resolves the object's settings and Secrets and sets st from
// them and from what the Hub runs for the object. Settings that do not
// resolve are not an error: the status says so (Stalled).
func (r *ConnectionReconciler) reconcile(
	ctx context.Context, key types.NamespacedName, generation int64, src resolve.Source, st *v1alpha1.DirectusConnectionStatus, condErrs []string,
) error {
	_, _, warning, err := resolve.BuildRealtime(ctx, resolve.Credentials{Reader: r.APIReader, Values: &r.secrets}, src)
	if err == nil && len(condErrs) > 0 {
		err = &resolve.StalledError{Reason: v1alpha1.ReasonInvalidSpec, Message: strings.Join(condErrs, "; ") + " (such a condition matches no namespace)"}
	}
	stalled, isStalled := errors.AsType[*resolve.StalledError](err)
	if err != nil && !isStalled {
		return err
	}
	stats := r.Hub.ObjectStats(subscriptions.ConnectionObject{Kind: r.Kind, Key: key})
	setConnectionStatus(st, generation, stats, stalled, warning)
	recordConnection(r.Kind, key, st)
	return nil
}

// Secret references of connection objects, indexed as namespace/name.
const connectionSecretIndexKey = ".spec.secrets"

func connectionSecretIndex(obj client.Object) []string {
	src, _, _, err := describe(obj)
	if err != nil {
		return nil
	}
	secrets := src.Secrets()
	keys := make([]string, 0, len(secrets))
	for _, k := range secrets {
		keys = append(keys, k.String())
	}
	return keys
}

func indexConnectionSecrets(ctx context.Context, mgr manager.Manager) error {
	for _, obj := range []client.Object{&v1alpha1.DirectusConnection{}, &v1alpha1.ClusterDirectusConnection{}} {
		if err := mgr.GetFieldIndexer().IndexField(ctx, obj, connectionSecretIndexKey, connectionSecretIndex); err != nil {
			return err
		}
	}
	return nil
}

// connectionsNaming lists the connection objects that read a Secret.
func connectionsNaming(ctx context.Context, c client.Reader, secret types.NamespacedName) []subscriptions.ConnectionObject {
	var out []subscriptions.ConnectionObject
	nsList := &v1alpha1.DirectusConnectionList{}
	if err := c.List(ctx, nsList, client.InNamespace(secret.Namespace), client.MatchingFields{connectionSecretIndexKey: secret.String()}); err == nil {
		for _, o := range nsList.Items {
			out = append(out, subscriptions.ConnectionObject{Kind: v1alpha1.KindDirectusConnection, Key: client.ObjectKeyFromObject(&o)})
		}
	}
	clList := &v1alpha1.ClusterDirectusConnectionList{}
	if err := c.List(ctx, clList, client.MatchingFields{connectionSecretIndexKey: secret.String()}); err == nil {
		for _, o := range clList.Items {
			out = append(out, subscriptions.ConnectionObject{Kind: v1alpha1.KindClusterDirectusConnection, Key: client.ObjectKeyFromObject(&o)})
		}
	}
	return out
}

// SetupWithManager registers the reconciler of r.Kind. The field index of
// connection Secrets is registered by the subscription reconciler.
func (r *ConnectionReconciler) SetupWithManager(mgr manager.Manager) error {
	forSecret := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, s client.Object) []reconcile.Request {
		var reqs []reconcile.Request
		for _, o := range connectionsNaming(ctx, r.Client, client.ObjectKeyFromObject(s)) {
			if o.Kind == r.Kind {
				reqs = append(reqs, reconcile.Request{NamespacedName: o.Key})
			}
		}
		return reqs
	})
	return builder.ControllerManagedBy(mgr).
		// A label change can move the object into or out of this shard.
		For(r.newObject(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		WatchesMetadata(&corev1.Secret{}, forSecret, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WatchesRawSource(r.Hub.ObjectSource(r.Kind)).
		Named(strings.ToLower(r.Kind)).
		Complete(r)
}
