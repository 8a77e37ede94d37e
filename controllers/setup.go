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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/controllers/resolve"
)

// Scheme holds the types the operator reads and writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// CacheOptions makes the manager's cache hold only the ConfigMaps the
// operator writes, not every ConfigMap of the cluster, only the watched
// namespaces (all when none are given), and no managedFields. Secrets are
// cached as metadata only (see ClientOptions), and that without annotations
// either: see StripSecretMetadata.
//
// A shard (--watch-label-selector) caches only the DirectusSubscriptions
// its selector matches: the informer lists and watches them with that
// selector, so a subscription whose label moves it to another shard leaves
// this cache as if deleted. Connection objects are cached whole, since a
// subscription of any shard may name any connection.
func CacheOptions(watchNamespaces []string, shard labels.Selector) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue})
	opts := cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&v1alpha1.DirectusSubscription{}: {Label: shard},
			&corev1.ConfigMap{}:              {Label: managed},
			// Keyed by GVK, so it applies to the metadata-only informer of
			// WatchesMetadata too. It replaces DefaultTransform for Secrets
			// and strips managedFields itself.
			&corev1.Secret{}: {Transform: StripSecretMetadata},
		},
		// managedFields are often the largest part of an object and the
		// operator never reads them: at a thousand subscriptions and their
		// ConfigMaps, keeping them would cost memory for nothing.
		DefaultTransform: cache.TransformStripManagedFields(),
	}
	if len(watchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range watchNamespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// StripSecretMetadata is the cache transform for Secrets. The operator
// watches the metadata of every Secret in the watched namespaces to learn
// when one a subscription names changes, and needs only its name, namespace
// and resourceVersion for that. Annotations can hold the Secret's data:
// kubectl.kubernetes.io/last-applied-configuration of a Secret created by
// client-side kubectl apply is the whole object, values included. Managed
// fields are dropped as well, and the data of a full Secret, should one ever
// reach the cache. Labels are kept.
func StripSecretMetadata(in any) (any, error) {
	if s, ok := in.(*corev1.Secret); ok {
		s.Data, s.StringData = nil, nil
	}
	if obj, err := meta.Accessor(in); err == nil {
		obj.SetAnnotations(nil)
		obj.SetManagedFields(nil)
	}
	return in, nil
}

// ClientOptions keeps Secrets out of the cache: they are read on demand.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// InlineConnections says whether a subscription may set its own url; see
// resolve.InlineConnections.
type InlineConnections = resolve.InlineConnections

// The values of InlineConnections.
const (
	InlineAllow = resolve.InlineAllow
	InlineDeny  = resolve.InlineDeny
)

// Options tune the operator.
type Options struct {
	// Hub tunes the connections and subscriptions; see hub.Options.
	Hub hub.Options
	// MaxConcurrentReconciles defaults to 4.
	MaxConcurrentReconciles int
	// InlineConnections is Allow (the default) or Deny: see
	// InlineConnections.
	InlineConnections InlineConnections
	// Shard selects the DirectusSubscriptions, DirectusConnections and
	// ClusterDirectusConnections this operator reconciles (nil: all). It
	// must be the selector given to CacheOptions.
	Shard labels.Selector
}

// Setup adds the DirectusSubscription controller and its Hub to mgr.
//
// The Kubernetes API budget (the manager's QPS and burst) is not shared
// by everything the operator writes: status patches and reads use the
// manager's client, ConfigMap writes a client with a budget of the same
// size, and Events one with a quarter of it. A thousand busy subscriptions
// then cannot starve the mirrors of their writes with status patches or
// Events.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) (*hub.Hub, error) {
	rc := mgr.GetConfig()
	writes, err := budgetClient(mgr, rc.QPS, rc.Burst)
	if err != nil {
		return nil, err
	}
	if o.Hub.EventsClient == nil {
		if o.Hub.EventsClient, err = budgetClient(mgr, max(rc.QPS/4, 1), max(rc.Burst/4, 1)); err != nil {
			return nil, err
		}
	}
	h := hub.NewHub(writes, mgr.GetAPIReader(), ctrl.Log.WithName("subscriptions"), o.Hub)
	r := &DirectusSubscriptionReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Cache: mgr.GetCache(), Hub: h,
		Recorder: mgr.GetEventRecorder("directus-operator"), MaxConcurrentReconciles: cmp.Or(o.MaxConcurrentReconciles, 4),
		InlineConnections: cmp.Or(o.InlineConnections, InlineAllow),
	}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("set up the DirectusSubscription controller: %w", err)
	}
	if err := warmInformers(ctx, mgr); err != nil {
		return nil, err
	}
	for _, kind := range []string{v1alpha1.KindDirectusConnection, v1alpha1.KindClusterDirectusConnection} {
		cr := &ConnectionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Hub: h, Kind: kind, Shard: o.Shard}
		if err := cr.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("set up the %s controller: %w", kind, err)
		}
	}
	return h, nil
}

// budgetClient is a client like the manager's (same scheme, mapper and
// cache for reads) with a client-side rate limit of its own.
func budgetClient(mgr ctrl.Manager, qps float32, burst int) (client.Client, error) {
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.QPS, cfg.Burst, cfg.RateLimiter = qps, burst, nil
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 20, 30 // controller-runtime's defaults
	}
	opts := ClientOptions()
	opts.Scheme, opts.Mapper = mgr.GetScheme(), mgr.GetRESTMapper()
	opts.Cache.Reader = mgr.GetCache()
	c, err := client.New(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("create a client with its own API budget: %w", err)
	}
	return c, nil
}

// warmInformers asks the cache now for every informer the controllers
// watch through, so that they start with the cache, before the leader
// election, and a standby replica keeps them in sync while it waits. Without
// this, the informers of a controller's own watches (mirrors, Secret and
// Namespace metadata) would be created and listed only once the replica
// became the leader, and the mirrors would wait for those lists after a
// failover. The field indexes already do this for the DirectusSubscription
// and connection informers.
func warmInformers(ctx context.Context, mgr ctrl.Manager) error {
	for _, obj := range []client.Object{&corev1.ConfigMap{}, coreMetadata("Secret"), coreMetadata("Namespace")} {
		if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("informer of %T: %w", obj, err)
		}
	}
	return nil
}
