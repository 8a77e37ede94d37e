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

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// kubeFlags choose the cluster and the namespace as kubectl does.
type kubeFlags struct {
	Kubeconfig    string
	Context       string
	Namespace     string
	AllNamespaces bool
}

// bind registers --kubeconfig, --context and -n/--namespace, and with
// allNamespaces -A/--all-namespaces.
func (k *kubeFlags) bind(fs *pflag.FlagSet, allNamespaces bool) {
	fs.StringVar(&k.Kubeconfig, "kubeconfig", "", "path of the kubeconfig file; defaults to $KUBECONFIG, then ~/.kube/config")
	fs.StringVar(&k.Context, "context", "", "kubeconfig context; defaults to its current context")
	fs.StringVarP(&k.Namespace, "namespace", "n", "", "namespace; defaults to the context's, then default")
	if allNamespaces {
		fs.BoolVarP(&k.AllNamespaces, "all-namespaces", "A", false, "every namespace")
	}
}

// client connects to the cluster the flags name, and returns the namespace
// to use.
func (k *kubeFlags) client() (client.WithWatch, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.Context}
	overrides.Context.Namespace = k.Namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, "", err
	}
	cl, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client: %w", err)
	}
	return cl, ns, nil
}

// completeNames completes a DirectusSubscription name from the namespace.
func completeNames(k *kubeFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cl, ns, err := k.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		list := &v1alpha1.DirectusSubscriptionList{}
		if err := cl.List(cmd.Context(), list, client.InNamespace(ns)); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []cobra.Completion
		for _, s := range list.Items {
			names = append(names, s.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// nameCommand is a command on one DirectusSubscription, NAME, with the
// kubeconfig flags; run gets the client and the object's key.
func nameCommand(use, short, long string, k *kubeFlags, run func(ctx context.Context, cl client.WithWatch, key types.NamespacedName) error) *cobra.Command {
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long,
		GroupID:           groupCluster,
		Args:              oneName,
		ValidArgsFunction: completeNames(k),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, ns, err := k.client()
			if err != nil {
				return err
			}
			return run(cmd.Context(), cl, types.NamespacedName{Namespace: ns, Name: args[0]})
		},
	}
	k.bind(cmd.Flags(), false)
	return cmd
}

// current is the part of the status that describes the spec as it is: the
// operator has processed this generation.
func current(obj *v1alpha1.DirectusSubscription) bool {
	return obj.Status.ObservedGeneration == obj.Generation
}

// conditionIs tells whether the condition typ of the current status has
// status want.
func conditionIs(obj *v1alpha1.DirectusSubscription, typ string, want metav1.ConditionStatus) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, typ)
	return current(obj) && c != nil && c.Status == want
}

// readyReason is the reason of the Ready condition, or "".
func readyReason(obj *v1alpha1.DirectusSubscription) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}

// waitFor returns the subscription once done says so, watching it from
// the API server. It returns errTimeout (exit 3), with the Ready condition
// last seen, when ctx's timeout, made by withTimeout, passes first, and an
// error when the subscription is not found or goes away.
func waitFor(ctx context.Context, cl client.WithWatch, key types.NamespacedName,
	done func(*v1alpha1.DirectusSubscription) bool) (*v1alpha1.DirectusSubscription, error) {
	var last *v1alpha1.DirectusSubscription
	seen := func(obj *v1alpha1.DirectusSubscription) bool { last = obj; return done(obj) }
	obj, err := watchFor(ctx, cl, key, seen)
	if errors.Is(err, errTimeout) && last != nil {
		return nil, fmt.Errorf("%w; Ready is %s", err, readySummary(last))
	}
	return obj, err
}

func watchFor(ctx context.Context, cl client.WithWatch, key types.NamespacedName,
	done func(*v1alpha1.DirectusSubscription) bool) (*v1alpha1.DirectusSubscription, error) {
	byName := fields.OneTermEqualSelector("metadata.name", key.Name)
	for {
		list := &v1alpha1.DirectusSubscriptionList{}
		if err := cl.List(ctx, list, &client.ListOptions{Namespace: key.Namespace, FieldSelector: byName}); err != nil {
			return nil, timedOut(ctx, err)
		}
		if len(list.Items) == 0 {
			return nil, notFound(key)
		}
		if obj := &list.Items[0]; done(obj) {
			return obj, nil
		}
		w, err := cl.Watch(ctx, &v1alpha1.DirectusSubscriptionList{}, &client.ListOptions{
			Namespace: key.Namespace, FieldSelector: byName, Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion},
		})
		if err != nil {
			return nil, timedOut(ctx, err)
		}
		obj, err := watchUntil(ctx, w, key, done)
		w.Stop()
		if obj != nil || err != nil {
			return obj, err
		}
		// The watch ended (the server closes watches now and then, or
		// the resourceVersion is too old): list again.
	}
}

// watchUntil reads w until done, the object's deletion, ctx's end, or the
// end of the watch (nil, nil).
func watchUntil(ctx context.Context, w watch.Interface, key types.NamespacedName,
	done func(*v1alpha1.DirectusSubscription) bool) (*v1alpha1.DirectusSubscription, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, timedOut(ctx, ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return nil, nil
			}
			obj, isSub := ev.Object.(*v1alpha1.DirectusSubscription)
			switch {
			case !isSub:
			case ev.Type == watch.Deleted:
				return nil, fmt.Errorf("DirectusSubscription %s was deleted", key)
			case done(obj):
				return obj, nil
			}
		}
	}
}

func notFound(key types.NamespacedName) error {
	return fmt.Errorf("DirectusSubscription %q not found in namespace %q", key.Name, key.Namespace)
}

// withTimeout bounds ctx by the --timeout of wait, resync, suspend and
// resume; its end is errTimeout.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, errTimeout)
}

// timedOut is errTimeout when ctx ended by its timeout, else err.
func timedOut(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errTimeout) {
		return errTimeout
	}
	return err
}

// get reads one subscription; a missing one is an error that names it.
func get(ctx context.Context, cl client.Client, key types.NamespacedName) (*v1alpha1.DirectusSubscription, error) {
	obj := &v1alpha1.DirectusSubscription{}
	if err := cl.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFound(key)
		}
		return nil, err
	}
	return obj, nil
}

// parseFor reads wait's --for: condition=TYPE or condition=TYPE=STATUS
// (True, False or Unknown; True when left out), as kubectl wait does.
func parseFor(s string) (typ string, status metav1.ConditionStatus, err error) {
	rest, ok := strings.CutPrefix(s, "condition=")
	if !ok || rest == "" {
		return "", "", usagef("--for %q: want condition=TYPE or condition=TYPE=STATUS, e.g. condition=Ready", s)
	}
	typ, st, hasStatus := strings.Cut(rest, "=")
	status = metav1.ConditionTrue
	if hasStatus {
		status = metav1.ConditionStatus(st)
	}
	switch status {
	case metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown:
	default:
		return "", "", usagef("--for %q: the status must be True, False or Unknown", s)
	}
	return typ, status, nil
}
