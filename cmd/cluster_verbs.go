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
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

func newGetCommand(c *cli) *cobra.Command {
	var (
		k      kubeFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "get [NAME...]",
		Short: "List DirectusSubscriptions, as kubectl get dsub does",
		Long: "Lists the DirectusSubscriptions of the namespace (-A: of every namespace), or those named, " +
			"with the columns of kubectl get dsub; -o wide adds the event, the connection and the last message.",
		Example:           "  directus-operator get -A -o wide",
		GroupID:           groupCluster,
		ValidArgsFunction: completeNames(&k),
		RunE: func(cmd *cobra.Command, names []string) error {
			if output != "" && output != "wide" {
				return usagef("--output %q: want wide or nothing", output)
			}
			if k.AllNamespaces && len(names) > 0 {
				return usagef("name subscriptions or use --all-namespaces, not both")
			}
			cl, ns, err := k.client()
			if err != nil {
				return err
			}
			subs, err := list(cmd.Context(), cl, ns, k.AllNamespaces, names)
			if err != nil {
				return err
			}
			if len(subs) == 0 {
				where := fmt.Sprintf(" in %s namespace", ns)
				if k.AllNamespaces {
					where = ""
				}
				_, _ = fmt.Fprintf(c.stderr, "No DirectusSubscriptions found%s.\n", where)
				return nil
			}
			return printTable(c.stdout, subs, output == "wide", k.AllNamespaces, time.Now())
		},
	}
	k.bind(cmd.Flags(), true)
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide for more columns")
	return cmd
}

// list reads the named subscriptions of ns, or all of ns or of the
// cluster, ordered by namespace and name.
func list(ctx context.Context, cl client.Client, ns string, all bool, names []string) ([]v1alpha1.DirectusSubscription, error) {
	if len(names) > 0 {
		var subs []v1alpha1.DirectusSubscription
		for _, name := range names {
			obj, err := get(ctx, cl, types.NamespacedName{Namespace: ns, Name: name})
			if err != nil {
				return nil, err
			}
			subs = append(subs, *obj)
		}
		return subs, nil
	}
	var opts []client.ListOption
	if !all {
		opts = append(opts, client.InNamespace(ns))
	}
	l := &v1alpha1.DirectusSubscriptionList{}
	if err := cl.List(ctx, l, opts...); err != nil {
		return nil, err
	}
	slices.SortFunc(l.Items, func(a, b v1alpha1.DirectusSubscription) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return l.Items, nil
}

func newStatusCommand(c *cli) *cobra.Command {
	var k kubeFlags
	return nameCommand("status NAME", "Show a DirectusSubscription's conditions, what to do about them, its counters and connection",
		"Shows the conditions of a DirectusSubscription with, for each reason that is not healthy, what it means and how to fix it "+
			"(the reasons of docs/status.md), its counters and its connection.", &k,
		func(ctx context.Context, cl client.WithWatch, key types.NamespacedName) error {
			obj, err := get(ctx, cl, key)
			if err != nil {
				return err
			}
			return printStatus(c.stdout, obj, time.Now())
		})
}

func newResyncCommand(c *cli) *cobra.Command {
	var (
		k       kubeFlags
		timeout time.Duration
		noWait  bool
	)
	cmd := nameCommand("resync NAME", "Rebuild a DirectusSubscription's target from a full read, and wait until done",
		"Sets the "+v1alpha1.AnnotationRequestedAt+" annotation to the current time, which asks the operator "+
			"for a full read of the collection now, then waits until status.lastHandledResyncAt shows it handled. "+
			"Exits 3 when --timeout passes first.", &k,
		func(ctx context.Context, cl client.WithWatch, key types.NamespacedName) error {
			obj, err := get(ctx, cl, key)
			if err != nil {
				return err
			}
			if obj.Spec.Suspend {
				return fmt.Errorf("DirectusSubscription %s is suspended: resume it first", key)
			}
			requested := time.Now().UTC().Format(time.RFC3339Nano)
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.AnnotationRequestedAt, requested)
			if err := cl.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
				return fmt.Errorf("request a resync: %w", err)
			}
			if noWait {
				_, _ = fmt.Fprintf(c.stdout, "DirectusSubscription %s: resync requested\n", key)
				return nil
			}
			ctx, cancel := withTimeout(ctx, timeout)
			defer cancel()
			obj, err = waitFor(ctx, cl, key, func(o *v1alpha1.DirectusSubscription) bool { return o.Status.LastHandledResyncAt == requested })
			if err != nil {
				return fmt.Errorf("resync of %s: %w", key, err)
			}
			_, _ = fmt.Fprintf(c.stdout, "DirectusSubscription %s resynced: %d items, Ready %s\n", key, obj.Status.Items, readySummary(obj))
			return nil
		})
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for the operator to handle the resync")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "only request the resync; do not wait for it")
	return cmd
}

// newSuspendCommand is suspend, or with suspend false resume.
func newSuspendCommand(c *cli, suspend bool) *cobra.Command {
	var (
		k       kubeFlags
		timeout time.Duration
	)
	verb, short, long, patch := "suspend", "Stop a DirectusSubscription (spec.suspend: true); its target keeps its content",
		"Sets spec.suspend to true, then waits until the operator has closed the subscription (Ready reason Suspended).",
		`{"spec":{"suspend":true}}`
	done := func(o *v1alpha1.DirectusSubscription) bool {
		return current(o) && readyReason(o) == v1alpha1.ReasonSuspended
	}
	if !suspend {
		verb, short, long, patch = "resume", "Start a suspended DirectusSubscription again",
			"Removes spec.suspend, then waits until the operator has taken the subscription up again (Ready reason no longer Suspended); "+
				"wait --for=condition=Ready waits for it to be Ready.",
			`{"spec":{"suspend":null}}`
		done = func(o *v1alpha1.DirectusSubscription) bool {
			return current(o) && readyReason(o) != v1alpha1.ReasonSuspended
		}
	}
	cmd := nameCommand(verb+" NAME", short, long+" Exits 3 when --timeout passes first.", &k,
		func(ctx context.Context, cl client.WithWatch, key types.NamespacedName) error {
			obj, err := get(ctx, cl, key)
			if err != nil {
				return err
			}
			if err := cl.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			ctx, cancel := withTimeout(ctx, timeout)
			defer cancel()
			if obj, err = waitFor(ctx, cl, key, done); err != nil {
				return fmt.Errorf("%s %s: %w", verb, key, err)
			}
			_, _ = fmt.Fprintf(c.stdout, "DirectusSubscription %s %s: Ready %s\n", key, strings.TrimSuffix(verb, "e")+"ed", readySummary(obj))
			return nil
		})
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for the operator to take the change up")
	return cmd
}

func newWaitCommand(c *cli) *cobra.Command {
	var (
		k       kubeFlags
		forCond string
		timeout time.Duration
	)
	cmd := nameCommand("wait NAME --for=condition=TYPE[=STATUS]", "Wait until a DirectusSubscription's condition has a status",
		"Waits until the condition TYPE (Ready, Connected, Subscribed, Synced, Reconciling, Stalled) of the current generation "+
			"has STATUS (True when left out), as kubectl wait does. Exits 0 when it has, 3 when --timeout passes first.", &k,
		func(ctx context.Context, cl client.WithWatch, key types.NamespacedName) error {
			typ, status, _ := parseFor(forCond) // checked before connecting
			ctx, cancel := withTimeout(ctx, timeout)
			defer cancel()
			if _, err := waitFor(ctx, cl, key, func(o *v1alpha1.DirectusSubscription) bool { return conditionIs(o, typ, status) }); err != nil {
				return fmt.Errorf("wait for %s of %s: %w", forCond, key, err)
			}
			_, _ = fmt.Fprintf(c.stdout, "DirectusSubscription %s condition met\n", key)
			return nil
		})
	cmd.PreRunE = func(*cobra.Command, []string) error { _, _, err := parseFor(forCond); return err }
	cmd.Flags().StringVar(&forCond, "for", "condition=Ready", "condition=TYPE or condition=TYPE=STATUS")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	return cmd
}
