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
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
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
	Hub       *subscriptions.Hub
	Kind      string

	secrets secretValues
}

func (r *ConnectionReconciler) newObject() client.Object {
	if r.Kind == v1alpha1.KindClusterDirectusConnection {
		return &v1alpha1.ClusterDirectusConnection{}
	}
	return &v1alpha1.DirectusConnection{}
}

// describe returns what the reconciler needs of either kind: where its
// settings are, its status, and what is wrong in its conditions.
func describe(obj client.Object) (connectionSource, *v1alpha1.DirectusConnectionStatus, []string) {
	switch c := obj.(type) {
	case *v1alpha1.ClusterDirectusConnection:
		return clusterSource(c), &c.Status, conditionErrors(c)
	case *v1alpha1.DirectusConnection:
		return namespacedSource(c), &c.Status, nil
	}
	panic(fmt.Sprintf("not a connection object: %T", obj))
}

// Reconcile brings a connection object's status in line with its settings
// and with the sockets the Hub holds for it.
func (r *ConnectionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			forgetConnection(r.Kind, req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	patchBase := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	src, st, condErrs := describe(obj)
	before := st.DeepCopy()

	_, _, warning, err := buildRealtime(ctx, credentialReader{reader: r.APIReader, values: &r.secrets}, src)
	if err == nil {
		if errs := condErrs; len(errs) > 0 {
			err = &stalledError{v1alpha1.ReasonInvalidSpec, strings.Join(errs, "; ") + " (such a condition matches no namespace)"}
		}
	}
	stalled, isStalled := errors.AsType[*stalledError](err)
	if err != nil && !isStalled {
		return reconcile.Result{}, err
	}
	stats := r.Hub.ObjectStats(subscriptions.ConnectionObject{Kind: r.Kind, Key: req.NamespacedName})
	setConnectionStatus(st, obj.GetGeneration(), stats, stalled, warning)
	recordConnection(r.Kind, req.NamespacedName, st)
	if equality.Semantic.DeepEqual(before, st) {
		return reconcile.Result{}, nil
	}
	if err := r.Status().Patch(ctx, obj, patchBase); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, nil
}

// setConnectionStatus writes the conditions and counters of a connection
// object: stalled, when its settings or Secrets do not resolve; otherwise
// what its sockets report.
func setConnectionStatus(st *v1alpha1.DirectusConnectionStatus, generation int64, stats subscriptions.ObjectStats, stalled *stalledError, warning string) {
	st.ObservedGeneration = generation
	st.Sockets, st.Subscriptions = int32(stats.Sockets), int32(stats.Subscriptions) //nolint:gosec // counts far below 2^31
	set := func(typ string, status metav1.ConditionStatus, reason, message string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: trimMessage(message), ObservedGeneration: generation,
		})
	}
	connected, authenticated := connectionConditions(stats)
	ready := metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReady,
		Message: fmt.Sprintf("%d of %d sockets connected, serving %d subscriptions", stats.Sockets, stats.Sockets, stats.Subscriptions)}
	switch {
	case stalled != nil:
		connected = metav1.Condition{Status: metav1.ConditionFalse, Reason: stalled.reason, Message: stalled.message}
		authenticated = connected
		ready = connected
	case stats.Sockets == 0:
		ready = metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonIdle, Message: connected.Message}
	case connected.Status != metav1.ConditionTrue:
		ready = metav1.Condition{Status: metav1.ConditionFalse, Reason: connected.Reason, Message: connected.Message}
	}
	set(v1alpha1.ConditionConnected, connected.Status, connected.Reason, connected.Message)
	set(v1alpha1.ConditionAuthenticated, authenticated.Status, authenticated.Reason, authenticated.Message)
	set(v1alpha1.ConditionReady, ready.Status, ready.Reason, withWarning(ready.Message, warning))

	// Reconciling and Stalled, as on subscriptions (kstatus).
	meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionStalled)
	switch v1alpha1.ClassOf(ready.Reason) {
	case v1alpha1.ClassTerminal:
		set(v1alpha1.ConditionStalled, metav1.ConditionTrue, ready.Reason, ready.Message)
	case v1alpha1.ClassProgressing, v1alpha1.ClassTransient:
		if ready.Status != metav1.ConditionTrue {
			set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, ready.Reason, ready.Message)
		}
	}

	st.ServerVersion = ""
	for _, c := range stats.Conns {
		st.ServerVersion = cmp.Or(st.ServerVersion, c.ServerVersion)
	}
	st.LastError = ""
	if stalled != nil {
		st.LastError = stalled.message
	}
	for _, c := range stats.Conns {
		if c.LastError != "" {
			st.LastError = c.LastError
		}
	}
}

// connectionConditions sums up the sockets: Connected is True when all are
// connected, otherwise it carries the first one's reason; Authenticated is
// True when any socket was accepted, False when Directus refused the
// credentials.
func connectionConditions(stats subscriptions.ObjectStats) (connected, authenticated metav1.Condition) {
	if stats.Sockets == 0 {
		idle := metav1.Condition{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonIdle,
			Message: "no subscription uses this connection, so no socket is open; its settings and Secrets resolve"}
		return idle, idle
	}
	connected = metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonConnected,
		Message: fmt.Sprintf("%d of %d sockets connected", stats.Sockets, stats.Sockets)}
	up := 0
	for _, c := range stats.Conns {
		if c.State == v1alpha1.ConnectionStateConnected {
			up++
		} else if connected.Status == metav1.ConditionTrue {
			connected = metav1.Condition{Status: metav1.ConditionFalse, Reason: c.Reason, Message: c.Message}
		}
	}
	if connected.Status != metav1.ConditionTrue {
		connected.Message = fmt.Sprintf("%d of %d sockets connected; %s", up, stats.Sockets, connected.Message)
	}
	authenticated = metav1.Condition{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonConnecting, Message: "no socket has authenticated yet"}
	for _, c := range stats.Conns {
		switch {
		case c.Authenticated:
			return connected, metav1.Condition{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAuthenticated,
				Message: "Directus accepted the connection's credentials"}
		case c.Reason == v1alpha1.ReasonAuthFailed:
			authenticated = metav1.Condition{Status: metav1.ConditionFalse, Reason: c.Reason, Message: c.Message}
		}
	}
	return connected, authenticated
}

// Secret references of connection objects, indexed as namespace/name.
const connectionSecretIndexKey = ".spec.secrets"

func connectionSecretIndex(obj client.Object) []string {
	src, _, _ := describe(obj)
	secrets := src.secrets()
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
		For(r.newObject(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, forSecret, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WatchesRawSource(r.Hub.ObjectSource(r.Kind)).
		Named(strings.ToLower(r.Kind)).
		Complete(r)
}
