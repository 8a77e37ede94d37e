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
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// printTable prints subs as kubectl get dsub does (its columns are the
// CRD's printer columns); wide adds those of -o wide, allNamespaces the
// NAMESPACE column.
func printTable(w io.Writer, subs []v1alpha1.DirectusSubscription, wide, allNamespaces bool, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	row := func(namespace string, cells ...string) {
		if allNamespaces {
			cells = append([]string{namespace}, cells...)
		}
		_, _ = fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if wide {
		row("NAMESPACE", "NAME", "COLLECTION", "EVENT", "TARGET", "READY", "REASON", "ITEMS", "CONNECTION", "LAST MESSAGE", "AGE")
	} else {
		row("NAMESPACE", "NAME", "COLLECTION", "TARGET", "READY", "REASON", "ITEMS", "AGE")
	}
	for i := range subs {
		s := &subs[i]
		ready, reason := "", ""
		if c := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			ready, reason = string(c.Status), c.Reason
		}
		items, age := fmt.Sprint(s.Status.Items), since(&s.CreationTimestamp, now)
		if wide {
			row(s.Namespace, s.Name, s.Spec.Collection, string(s.Spec.Event), s.Status.Target, ready, reason, items,
				string(s.Status.Connection.State), since(s.Status.Connection.LastMessageTime, now), age)
		} else {
			row(s.Namespace, s.Name, s.Spec.Collection, s.Status.Target, ready, reason, items, age)
		}
	}
	return tw.Flush()
}

// since is how long ago t was, as kubectl prints ages; "" for none.
func since(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// readySummary is Ready's status and reason, e.g. "True (Ready)".
func readySummary(obj *v1alpha1.DirectusSubscription) string {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil {
		return "unknown (no status yet)"
	}
	return fmt.Sprintf("%s (%s)", c.Status, c.Reason)
}

// reasonInfo is the entry of the reasons table (docs/status.md) for reason.
func reasonInfo(reason string) (v1alpha1.ReasonInfo, bool) {
	for _, r := range v1alpha1.Reasons {
		if r.Reason == reason {
			return r, true
		}
	}
	return v1alpha1.ReasonInfo{}, false
}

// printStatus prints what a person operating a subscription wants to see:
// its conditions, what each reason that is not healthy means and how to
// fix it, its counters and its connection.
func printStatus(w io.Writer, obj *v1alpha1.DirectusSubscription, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field := func(name, format string, args ...any) {
		_, _ = fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{name}, args...)...)
	}
	st := &obj.Status
	field("DirectusSubscription", "%s/%s", obj.Namespace, obj.Name)
	field("Collection", "%s (event: %s)", obj.Spec.Collection, cmp.Or(string(obj.Spec.Event), "all"))
	field("Target", "%s", cmp.Or(st.Target, "<none yet>"))
	field("Ready", "%s", readySummary(obj))
	if !current(obj) {
		field("Generation", "%d, but the status shows %d: the operator has not processed the latest spec yet", obj.Generation, st.ObservedGeneration)
	}
	if obj.Spec.Suspend {
		field("Suspended", "yes (spec.suspend): resume with the resume command")
	}
	conn := cmp.Or(string(st.Connection.State), "<none>")
	if st.Connection.Since != nil {
		conn += " for " + since(st.Connection.Since, now)
	}
	field("Connection", "%s", conn)
	if st.Connection.Ref != "" {
		field("Connection object", "%s", st.Connection.Ref)
	}
	field("Reconnects", "%d", st.Connection.Reconnects)
	field("Last message", "%s", agoOrNever(st.Connection.LastMessageTime, now))
	field("Items", "%d", st.Items)
	field("Events received", "%d", st.EventsReceived)
	if st.EventsFolded > 0 {
		field("Events folded", "%d", st.EventsFolded)
	}
	field("Last sync", "%s", agoOrNever(st.LastSyncTime, now))
	if req := obj.Annotations[v1alpha1.AnnotationRequestedAt]; req != "" && req != st.LastHandledResyncAt {
		field("Resync", "requested at %s, not handled yet", req)
	}
	if st.LastError != "" {
		field("Last error", "%s", st.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	_, _ = fmt.Fprintln(w, "\nConditions:")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tAGE\tMESSAGE")
	var fixes []v1alpha1.ReasonInfo
	for _, c := range st.Conditions {
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, since(&c.LastTransitionTime, now), c.Message)
		if info, ok := reasonInfo(c.Reason); ok && info.Class != v1alpha1.ClassHealthy && !containsReason(fixes, c.Reason) {
			fixes = append(fixes, info)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fixes) > 0 {
		_, _ = fmt.Fprintln(w, "\nWhat the reasons mean:")
		for _, r := range fixes {
			_, _ = fmt.Fprintf(w, "  %s (%s): %s\n", r.Reason, r.Class, r.Description)
		}
	}
	return nil
}

func containsReason(list []v1alpha1.ReasonInfo, reason string) bool {
	for _, r := range list {
		if r.Reason == reason {
			return true
		}
	}
	return false
}

// agoOrNever is the time t with how long ago it was, or "never".
func agoOrNever(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), since(t, now))
}
