//go:build cluster

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

package cluster

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/directustest"
)

// writes records when a ConfigMap changed, from a watch, so that a test can
// tell how long the mirror stopped following Directus.
type writes struct {
	mu    sync.Mutex
	times []time.Time
}

// watchWrites records every change of a ConfigMap until the test ends.
func watchWrites(t *testing.T, ns, name string) *writes {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := clientset.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &writes{}
	go func() {
		for ev := range w.ResultChan() {
			if ev.Type == watch.Modified || ev.Type == watch.Added {
				rec.mu.Lock()
				rec.times = append(rec.times, time.Now())
				rec.mu.Unlock()
			}
		}
	}()
	return rec
}

// last is the time of the last write seen.
func (w *writes) last() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.times) == 0 {
		return time.Time{}
	}
	return w.times[len(w.times)-1]
}

// gap is the longest time without a write between from and to, counting from
// the last write before from: how long the mirror stopped following a steady
// stream of changes.
func (w *writes) gap(from, to time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	prev := time.Time{}
	for _, at := range w.times {
		if at.After(to) {
			break
		}
		if !prev.IsZero() && at.After(from) && at.Sub(prev) > longest {
			longest = at.Sub(prev)
		}
		prev = at
	}
	return longest
}

// A helm upgrade to an image of another version while changes stream in: the
// new pod takes over, the mirror stops following only for a measured gap, and
// nothing is lost. helm uninstall then leaves the CRDs and the subscriptions
// (with their mirrors); a reinstall picks them up and catches up with what
// changed while no operator ran.
func TestHelmUpgradeAndReinstallLoseNothing(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "operator")
	op := helmInstall(t, ns)
	op.available(t)
	app := namespace(t, "app")
	user := fmt.Sprintf("upgrade-%d", time.Now().UnixNano())
	subscribe(t, app, "messages", user)
	ready(t, app, "messages")

	next := nextImage(t)
	written := watchWrites(t, app, "messages")
	stream := directustest.StartChanges(admin, user)
	t.Cleanup(stream.Stop)
	stream.Await(t, 20, timeout)

	started := time.Now()
	helm(t, "upgrade", "directus-operator", "charts/directus-operator", "-n", ns, "--reuse-values",
		"--set", "image.tag="+next, "--wait", "--timeout", "3m")
	pod := op.available(t)
	g.Expect(pod.Spec.Containers[0].Image).To(HaveSuffix(":"+next), "the new pod runs the new image")
	stream.Await(t, 30, timeout)
	stream.Stop()
	gap := written.gap(started, time.Now())
	figure(t, "helm upgrade", gap)
	exact(t, app, "messages", user)
	ready(t, app, "messages")
	t.Logf("cluster: helm upgrade: %d changes, longest gap between mirror writes %s (upgrade took %s); lost 0, phantom 0, stale 0",
		stream.Done(), gap.Round(time.Millisecond), time.Since(started).Round(time.Second))

	helm(t, "uninstall", "directus-operator", "-n", ns, "--wait", "--timeout", "2m")
	op.gone(t)
	for _, crd := range []string{"directussubscriptions", "directusconnections", "clusterdirectusconnections"} {
		_, err := toolErr("", kubectlBin, "get", "crd", crd+".realtime.directus-operator.io")
		g.Expect(err).NotTo(HaveOccurred(), "helm uninstall leaves the CRD %s", crd)
	}
	var sub v1alpha1.DirectusSubscription
	g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: app, Name: "messages"}, &sub)).To(Succeed(), "the subscription stays")
	g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: app, Name: "messages"}, &corev1.ConfigMap{})).To(Succeed(), "its mirror stays")

	// Changes made while no operator runs.
	stream = directustest.StartChanges(admin, user)
	stream.Await(t, 20, timeout)
	stream.Stop()

	helmInstall(t, ns, "--set", "image.tag="+next).available(t)
	exact(t, app, "messages", user)
	ready(t, app, "messages")
}

// nextImage builds the operator with another version and imports it into the
// node under the chart's repository, tagged with that version.
func nextImage(t *testing.T) string {
	t.Helper()
	ref := env["CLUSTER_OPERATOR_IMAGE"]
	repo := ref[:strings.LastIndex(ref, ":")]
	next := ref[strings.LastIndex(ref, ":")+1:] + "-next"
	dir := t.TempDir()
	if err := imageFrom(dir, "./cmd", "/directus-operator", repo+":"+next, []string{"-X", "main.version=" + next}); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(dir)
	return next
}
