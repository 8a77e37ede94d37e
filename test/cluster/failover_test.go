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
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/directustest"
)

// leaseName is the operator's leader election Lease (cmd/operator.go).
const leaseName = "directus-operator.realtime.directus-operator.io"

// leader is the pod among pods that holds the operator's Lease, and the
// holder's identity (the pod's name and a new UUID each time its process
// starts). With no pods, any holder will do.
func (op *operator) leader(t *testing.T, pods []corev1.Pod) (corev1.Pod, string) {
	t.Helper()
	var leader corev1.Pod
	var holder string
	NewWithT(t).Eventually(func(g Gomega) {
		var lease coordinationv1.Lease
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: op.namespace, Name: leaseName}, &lease)).To(Succeed())
		g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
		holder = *lease.Spec.HolderIdentity
		g.Expect(holder).NotTo(BeEmpty(), "the Lease is held")
		if pods == nil {
			return
		}
		for _, p := range pods {
			if strings.HasPrefix(holder, p.Name+"_") {
				leader = p
				return
			}
		}
		g.Expect(holder).To(BeEmpty(), "a holder among %d pods", len(pods))
	}, timeout, poll).Should(Succeed())
	return leader, holder
}

// subscribeEvents creates an Events subscription of the user's messages.
func subscribeEvents(t *testing.T, ns, name, user string) {
	t.Helper()
	subscription(t, ns, name, user, v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: 6000}}, nil)
}

var sinceRE = regexp.MustCompile(`changes made since (\S+) may not have been recorded`)

// warnedSince is the time each ChangesLost Warning of name recorded after
// after names.
func warnedSince(t *testing.T, ns, name string, after time.Time) []time.Time {
	t.Helper()
	var list corev1.EventList
	NewWithT(t).Expect(k8s.List(context.Background(), &list, client.InNamespace(ns))).To(Succeed())
	var out []time.Time
	for _, e := range list.Items {
		// Event times are whole seconds.
		if e.InvolvedObject.Name != name || e.Reason != "ChangesLost" || e.CreationTimestamp.Before(&metav1.Time{Time: after.Truncate(time.Second)}) {
			continue
		}
		if m := sinceRE.FindStringSubmatch(e.Message); m != nil {
			if at, err := time.Parse(time.RFC3339, m[1]); err == nil {
				out = append(out, at)
			}
		}
	}
	return out
}

// signal sends a signal to a process of the node.
func signal(t *testing.T, pid, sig string) {
	t.Helper()
	out, err := exec.Command("kill", "-"+sig, pid).CombinedOutput()
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), "kill -%s %s: %s", sig, pid, out)
}

// Two replicas, a stream of 10 changes a second into a mirror and into an
// Events target. The leader pod is deleted (graceful: it releases the
// Lease, the standby takes it on its next try); the next leader's process
// is killed (a crash: its container restarts and, its previous process being
// known dead, takes the Lease at once); the next leader's process is frozen
// (hung, as a node that stops answering: the standby takes the Lease once it
// expires). Each time, how long the mirror stopped following is measured,
// nothing is lost, phantom or stale once it follows again, and the Events
// target warns of the gap from the time the previous run last recorded.
func TestALeaderLostGracefullyOrByACrashLosesNothing(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "operator")
	op := helmInstall(t, ns, "--set", "replicas=2")
	pods := op.replicas(t, 2)
	app := namespace(t, "app")
	user := fmt.Sprintf("failover-%d", time.Now().UnixNano())
	subscribe(t, app, "messages", user)
	subscribeEvents(t, app, "audit", user)
	ready(t, app, "messages")
	ready(t, app, "audit")

	written := watchWrites(t, app, "messages")
	stream := directustest.StartChanges(admin, user)
	t.Cleanup(stream.Stop)
	stream.Await(t, 20, timeout)

	var frozen string
	for _, c := range []struct {
		name, phase string
		lose        func(t *testing.T, leader corev1.Pod)
		// after, if any, runs once another process leads.
		after func(t *testing.T)
	}{
		{"graceful (pod deleted)", "leader pod deleted (graceful)", func(t *testing.T, leader corev1.Pod) {
			t.Helper()
			NewWithT(t).Expect(k8s.Delete(context.Background(), &leader)).To(Succeed())
		}, nil},
		{"crash (container killed)", "leader process killed (crash)", func(t *testing.T, leader corev1.Pod) {
			t.Helper()
			signal(t, process(t, leader, "manager"), "KILL")
		}, nil},
		{"hung (process frozen)", "leader process frozen (hung, as a lost node)", func(t *testing.T, leader corev1.Pod) {
			t.Helper()
			frozen = process(t, leader, "manager")
			signal(t, frozen, "STOP")
		}, func(t *testing.T) {
			t.Helper()
			signal(t, frozen, "KILL") // the kubelet restarts it, now a standby
		}},
	} {
		leader, holder := op.leader(t, pods)
		at := time.Now()
		c.lose(t, leader)
		// The mirror follows again once another process holds the Lease
		// and writes (a write in flight at the loss does not count); then
		// 20 more changes.
		g.Eventually(func() string { _, h := op.leader(t, nil); return h }, timeout, poll).ShouldNot(Equal(holder))
		tookOver := time.Now()
		if c.after != nil {
			c.after(t)
		}
		g.Eventually(func() bool { return written.last().After(tookOver) }, timeout, poll).Should(BeTrue())
		stream.Await(t, 20, timeout)
		gap := written.gap(at, time.Now())
		pods = op.replicas(t, 2)
		g.Eventually(func() []time.Time { return warnedSince(t, app, "audit", at) }, timeout, poll).ShouldNot(BeEmpty(),
			"the Events target warns of the gap")
		since := warnedSince(t, app, "audit", at)
		figure(t, c.phase, gap)
		t.Logf("cluster: failover, %s: the mirror stopped following for %s; the Events warning names %s (the loss at %s)",
			c.name, gap.Round(time.Millisecond), since[0].UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		g.Expect(since).To(HaveEach(And(BeTemporally("<=", at), BeTemporally(">=", at.Add(-10*time.Second)))),
			"each warning made after the loss names a time just before it")
	}
	stream.Stop()
	exact(t, app, "messages", user)
	ready(t, app, "messages")
	ready(t, app, "audit")
}
