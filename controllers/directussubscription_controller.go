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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/controllers/resolve"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
)

// DirectusSubscriptionReconciler declares, for each DirectusSubscription,
// which subscription the Hub runs, and reports in the status how it goes.
// It never talks to Directus itself.
type DirectusSubscriptionReconciler struct {
	client.Client
	// APIReader reads Secrets and foreign objects without caching them.
	APIReader client.Reader
	Hub       *hub.Hub
	Recorder  events.EventRecorder
	// Cache reads Secret metadata from the manager's cache, so that
	// reconciles which only bring status updates read no Secret.
	Cache client.Reader
	// MaxConcurrentReconciles defaults to 4.
	MaxConcurrentReconciles int
	// InlineConnections says whether a subscription may set its own url
	// (Allow, the default) or must name a connection object (Deny).
	InlineConnections InlineConnections

	configs resolve.ConfigCache
	secrets resolve.SecretValues
}

// Reconcile moves one DirectusSubscription towards its spec.
func (r *DirectusSubscriptionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &v1alpha1.DirectusSubscription{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.Hub.Remove(req.NamespacedName)
			r.configs.Forget(req.NamespacedName)
			forgetMetrics(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, obj)
	}
	// The finalizer update does not change the generation, so no event
	// would bring us back: carry on in the same pass.
	if controllerutil.AddFinalizer(obj, v1alpha1.Finalizer) {
		if err := r.Update(ctx, obj); err != nil {
			return ctrl.Result{}, err
		}
	}

	base := obj.DeepCopy()
	defer func() {
		r.recordReadyTransition(base, obj)
		recordConditions(obj)
		if equality.Semantic.DeepEqual(base.Status, obj.Status) {
			return
		}
		if err := r.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, err)
		}
	}()
	return r.reconcile(ctx, obj)
}

func (r *DirectusSubscriptionReconciler) reconcile(ctx context.Context, obj *v1alpha1.DirectusSubscription) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(obj)
	if obj.Spec.Suspend {
		if !r.Hub.Remove(key) {
			// The Hub asks for a reconcile once the runner has stopped.
			return ctrl.Result{}, nil
		}
		markSuspended(obj, time.Now())
		return ctrl.Result{}, nil
	}

	obj.Status.Connection.Ref = resolve.ConnectionRef(obj)
	src, err := resolve.Resolver{Reader: r.Client, Inline: r.InlineConnections}.Resolve(ctx, obj)
	var cfg subscriptions.Config
	var warning string
	if err == nil {
		cfg, warning, err = r.configs.Config(ctx, resolve.Credentials{Reader: r.APIReader, Values: &r.secrets}, obj, src)
	}
	if stalled, ok := errors.AsType[*resolve.StalledError](err); ok {
		// The connection is not ours to use, or its credentials are gone
		// or wrong: stop the runner; the target keeps its content.
		r.Hub.Remove(key)
		markStalled(obj, stalled.Reason, stalled.Message)
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return r.run(ctx, obj, cfg, warning, src)
}

// run makes the Hub run cfg and reports how it goes.
func (r *DirectusSubscriptionReconciler) run(
	ctx context.Context, obj *v1alpha1.DirectusSubscription, cfg subscriptions.Config, warning string, src resolve.Source,
) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(obj)
	if since := recordingSince(obj); cfg.Events != nil && !since.IsZero() {
		// The cached Config is shared: change a copy.
		target := *cfg.Events
		target.Since = since
		cfg.Events = &target
	}
	if err := r.Hub.Ensure(cfg); err != nil {
		// Options the realtime client refuses: only a spec change helps.
		markStalled(obj, v1alpha1.ReasonInvalidSpec, err.Error())
		return ctrl.Result{}, nil
	}
	if r.Hub.Replacing(key) {
		// The previous runner may still write its target: a renamed
		// ConfigMap is deleted only once it has stopped, which brings a
		// reconcile from the Hub.
		return ctrl.Result{}, nil
	}
	if err := r.retireTargets(ctx, obj, cfg.TargetName()); err != nil {
		return ctrl.Result{}, err
	}
	if req := obj.Annotations[v1alpha1.AnnotationRequestedAt]; req != "" && req != obj.Status.LastHandledResyncAt {
		// Asked again until the status shows it handled: a runner
		// restarted meanwhile has not seen it.
		r.Hub.Resync(key, req)
	}
	return r.report(ctx, obj, cfg, warning, src), nil
}

// report brings what the Hub reports into the status, and asks the runner
// to repair its ConfigMap when someone changed it.
func (r *DirectusSubscriptionReconciler) report(
	ctx context.Context, obj *v1alpha1.DirectusSubscription, cfg subscriptions.Config, warning string, src resolve.Source,
) ctrl.Result {
	key := client.ObjectKeyFromObject(obj)
	if r.targetTampered(ctx, obj.Namespace, cfg) {
		r.Hub.Verify(key)
	}
	st, ok := r.Hub.Status(key)
	if !ok {
		return ctrl.Result{}
	}
	if st.Settling && obj.Status.ObservedGeneration == obj.Generation && st.Generation == obj.Generation {
		// The status already shows this spec; the runner, new after a
		// restart, reports its outcome soon (the end of its settling is a
		// transition, which brings us back), and the status is written
		// once, not per step.
		return ctrl.Result{}
	}
	applyRunnerStatus(obj, st, warning)
	recordTarget(key, st)
	switch {
	case st.SyncReason == v1alpha1.ReasonConfigMapNotOwned || st.SyncReason == v1alpha1.ReasonSecretNotOwned:
		// Deleting an object we do not own sends us no watch event.
		return ctrl.Result{RequeueAfter: 30 * time.Second}
	case resolve.HasCAConfigMap(src):
		// Nor does a change of the ConfigMap holding the CA bundle.
		return ctrl.Result{RequeueAfter: resolve.CARecheckInterval}
	}
	return ctrl.Result{}
}

// reconcileDelete stops the subscription and retires its target (deletes
// it, or releases it under deletionPolicy Retain) before letting the object
// go. The owner reference alone would let the garbage collector delete it,
// but not before the runner stopped writing, and Retain must drop the
// reference before the object goes: so every subscription has the
// finalizer, whatever its policy.
func (r *DirectusSubscriptionReconciler) reconcileDelete(ctx context.Context, obj *v1alpha1.DirectusSubscription) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if !r.Hub.Remove(client.ObjectKeyFromObject(obj)) {
		// The Hub asks for a reconcile once the runner has stopped.
		return ctrl.Result{}, nil
	}
	if err := r.retireTargets(ctx, obj, ""); err != nil {
		return ctrl.Result{}, err
	}
	controllerutil.RemoveFinalizer(obj, v1alpha1.Finalizer)
	forgetMetrics(client.ObjectKeyFromObject(obj))
	return ctrl.Result{}, client.IgnoreNotFound(r.Update(ctx, obj))
}

// needsReconcile passes spec changes, deletion, a resync request, and status updates that
// leave the status behind what the Hub reports. The last matters because a
// reconcile compares the desired status with the cache, which can lag
// behind the last patch (right after a restart it may still hold the
// previous process's status): a reconcile that found nothing to change must
// run again once the cache catches up, or the status would stay frozen on
// what the cache showed. Our own patches, which wrote what the Hub
// reported, bring no reconcile: counters that move with every message would
// otherwise turn each patch into the next.
func (r *DirectusSubscriptionReconciler) needsReconcile(e event.UpdateEvent) bool {
	if e.ObjectNew.GetGeneration() != e.ObjectOld.GetGeneration() || !e.ObjectNew.GetDeletionTimestamp().IsZero() ||
		e.ObjectNew.GetAnnotations()[v1alpha1.AnnotationRequestedAt] != e.ObjectOld.GetAnnotations()[v1alpha1.AnnotationRequestedAt] {
		return true
	}
	obj, ok := e.ObjectNew.(*v1alpha1.DirectusSubscription)
	if !ok {
		return true
	}
	st, running := r.Hub.Status(client.ObjectKeyFromObject(obj))
	return running && statusBehind(obj, st)
}

// recordReadyTransition tells people, as an Event on the object, when the
// subscription becomes ready or stops being ready, and why.
func (r *DirectusSubscriptionReconciler) recordReadyTransition(base, obj *v1alpha1.DirectusSubscription) {
	if r.Recorder == nil {
		return
	}
	before := meta.FindStatusCondition(base.Status.Conditions, v1alpha1.ConditionReady)
	after := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	if after == nil || (before != nil && before.Status == after.Status && before.Reason == after.Reason) {
		return
	}
	typ := corev1.EventTypeNormal
	if after.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(obj, nil, typ, after.Reason, "Reconcile", "%s", after.Message)
}

// notOurWrite passes ConfigMap events that the operator did not cause:
// deletions, and updates that tampered with what it wrote. The operator's
// own writes, one per burst of changes, would otherwise each bring a
// reconcile and a status write.
var notOurWrite = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		cm, ok := e.ObjectNew.(*corev1.ConfigMap)
		return !ok || tampered(cm)
	},
	CreateFunc: func(event.CreateEvent) bool { return false },
}

// notOurSecretWrite passes Secret events other than the operator's own
// writes of a Secret target, which would otherwise each bring a reconcile.
// Of a target's updates it passes those that took its labels away: its
// data is not in the metadata the cache holds (see targetTampered).
var notOurSecretWrite = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		ref := metav1.GetControllerOf(e.ObjectNew)
		if ref == nil || ref.Kind != "DirectusSubscription" || ref.APIVersion != v1alpha1.GroupVersion.String() {
			return true
		}
		return e.ObjectNew.GetLabels()[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue
	},
}

// tampered tells whether someone changed a ConfigMap the operator wrote:
// its data no longer matches the content hash written with it, or its
// labels are gone.
func tampered(cm *corev1.ConfigMap) bool {
	return cm.Annotations[v1alpha1.AnnotationContentHash] != mirror.Hash(cm.Data) ||
		cm.Labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue
}

// targetTampered tells whether the target must be rewritten from the
// mirror: it is missing, or someone changed it. Most reconciles only carry
// status updates; they leave the writer alone. Both reads come from the
// cache. A Secret is cached as metadata without annotations (see
// StripSecretMetadata), so only its deletion and the loss of its labels
// show here; an edit of its data is repaired by the next resync.
func (r *DirectusSubscriptionReconciler) targetTampered(ctx context.Context, namespace string, cfg subscriptions.Config) bool {
	t, kind := cfg.Mirror()
	if t == nil {
		return false
	}
	key := types.NamespacedName{Namespace: namespace, Name: t.Name}
	if kind == subscriptions.TargetSecret {
		m := coreMetadata("Secret")
		if err := r.Cache.Get(ctx, key, m); err != nil {
			return true
		}
		return m.Labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue
	}
	cm := &corev1.ConfigMap{}
	if err := r.Get(ctx, key, cm); err != nil {
		return true
	}
	return tampered(cm)
}

const secretIndexKey = ".spec.secretNames"

// secretNames lists the Secrets a subscription reads.
func secretNames(obj client.Object) []string {
	keys := resolve.InlineSource(obj.(*v1alpha1.DirectusSubscription)).Secrets()
	names := make([]string, 0, len(keys))
	for _, key := range keys {
		names = append(names, key.Name)
	}
	return names
}

// subscriptionsForSecret maps a Secret to the subscriptions that read it
// (by naming it inline, or through a connection object that names it), and
// to the one whose target it is.
func (r *DirectusSubscriptionReconciler) subscriptionsForSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	reqs := r.list(ctx, client.InNamespace(secret.GetNamespace()), client.MatchingFields{secretIndexKey: secret.GetName()})
	if ref := metav1.GetControllerOf(secret); ref != nil && ref.Kind == "DirectusSubscription" && ref.APIVersion == v1alpha1.GroupVersion.String() {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: secret.GetNamespace(), Name: ref.Name}})
	}
	for _, ref := range connectionsNaming(ctx, r.Client, client.ObjectKeyFromObject(secret)) {
		reqs = append(reqs, r.subscriptionsOf(ctx, ref)...)
	}
	return reqs
}

// subscriptionsOf lists the subscriptions that name a connection object.
func (r *DirectusSubscriptionReconciler) subscriptionsOf(ctx context.Context, obj subscriptions.ConnectionObject) []reconcile.Request {
	opts := []client.ListOption{client.MatchingFields{connectionRefIndexKey: obj.Kind + "/" + obj.Key.Name}}
	if obj.Key.Namespace != "" {
		opts = append(opts, client.InNamespace(obj.Key.Namespace))
	}
	return r.list(ctx, opts...)
}

// subscriptionsInNamespace lists a namespace's subscriptions that use a
// ClusterDirectusConnection, whose conditions may match the namespace's
// labels.
func (r *DirectusSubscriptionReconciler) subscriptionsInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	list := &v1alpha1.DirectusSubscriptionList{}
	if err := r.List(ctx, list, client.InNamespace(ns.GetName())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing subscriptions failed", "namespace", ns.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for _, s := range list.Items {
		if ref := s.Spec.ConnectionRef; ref != nil && ref.Kind == v1alpha1.KindClusterDirectusConnection {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
		}
	}
	return reqs
}

func (r *DirectusSubscriptionReconciler) list(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &v1alpha1.DirectusSubscriptionList{}
	if err := r.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing subscriptions failed")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, s := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
	}
	return reqs
}

const connectionRefIndexKey = ".spec.connectionRef"

// connectionRefIndex indexes subscriptions by the connection object they
// name, as Kind/name.
func connectionRefIndex(obj client.Object) []string {
	if ref := resolve.ConnectionRef(obj.(*v1alpha1.DirectusSubscription)); ref != "" {
		return []string{ref}
	}
	return nil
}

// SetupWithManager registers the controller and the Hub.
func (r *DirectusSubscriptionReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	r.configs.Metadata, r.configs.APIReader = r.Cache, r.APIReader
	r.secrets.Metadata = r.Cache
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.DirectusSubscription{}, secretIndexKey, secretNames); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.DirectusSubscription{}, connectionRefIndexKey, connectionRefIndex); err != nil {
		return err
	}
	if err := indexConnectionSecrets(ctx, mgr); err != nil {
		return err
	}
	if err := mgr.Add(r.Hub); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.DirectusSubscription{}, builder.WithPredicates(predicate.Funcs{UpdateFunc: r.needsReconcile})).
		Owns(&corev1.ConfigMap{}, builder.WithPredicates(notOurWrite)).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.subscriptionsForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}, notOurSecretWrite)).
		Watches(&v1alpha1.DirectusConnection{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.subscriptionsOf(ctx, subscriptions.ConnectionObject{Kind: v1alpha1.KindDirectusConnection, Key: client.ObjectKeyFromObject(o)})
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.ClusterDirectusConnection{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.subscriptionsOf(ctx, subscriptions.ConnectionObject{Kind: v1alpha1.KindClusterDirectusConnection, Key: client.ObjectKeyFromObject(o)})
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.subscriptionsInNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(r.Hub.Source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Named("directussubscription").
		Complete(r)
}
