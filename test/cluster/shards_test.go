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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/directustest"
)

const shardKey = "sharding.fluxcd.io/key"

// count is the number of writes seen between from and to.
func (w *writes) count(from, to time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, at := range w.times {
		if at.After(from) && !at.After(to) {
			n++
		}
	}
	return n
}

func connectionSince(t *testing.T, ns, name string) time.Time {
	t.Helper()
	var s v1alpha1.DirectusSubscription
	NewWithT(t).Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &s)).To(Succeed())
	NewWithT(t).Expect(s.Status.Connection.Since).NotTo(BeNil(), name)
	return s.Status.Connection.Since.Time
}

// The chart with one shard ("a") beside the default Deployment, and a
// stream of 10 changes a second into a subscription of each. Shard a's
// process is killed: the default shard's mirror goes on following on the
// same socket while shard a's stops until its container is back, and then
// holds everything. Then shard a's subscription is relabelled into the
// default shard and shard a scaled to zero: its mirror stops following only
// for the hand-over, follows with shard a gone (so the default shard took
// it), and loses nothing.
func TestShardsFailApartAndASubscriptionMovesBetweenThem(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := namespace(t, "operator")
	helmInstall(t, ns, "--set", "sharding.shards={a}")
	shardA := &operator{namespace: ns, selector: shardSelector("a")}
	shardA.available(t)

	app := namespace(t, "app")
	user := fmt.Sprintf("shards-%d", time.Now().UnixNano())
	subscribe(t, app, "plain", user)
	subscribe(t, app, "sharded", user, shardKey+"=a")
	ready(t, app, "plain")
	ready(t, app, "sharded")
	plain, sharded := watchWrites(t, app, "plain"), watchWrites(t, app, "sharded")
	stream := directustest.StartChanges(admin, user)
	t.Cleanup(stream.Stop)
	stream.Await(t, 20, timeout)
	since := connectionSince(t, app, "plain")

	// Shard a crashes; the kubelet restarts its container, which takes
	// the Lease once the dead process's has expired.
	pid := process(t, shardA.available(t), "manager")
	lost := time.Now()
	out, err := exec.Command("kill", "-KILL", pid).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "kill: %s", out)
	g.Eventually(func() bool { return sharded.last().After(lost.Add(time.Second)) }, timeout, poll).Should(BeTrue(),
		"shard a's mirror follows again")
	back := time.Now()
	stream.Await(t, 20, timeout)
	gap := sharded.gap(lost, time.Now())
	figure(t, "shard process killed (its mirrors)", gap)
	figure(t, "shard process killed (the other shard's mirrors)", plain.gap(lost, time.Now()))
	t.Logf("cluster: shards: shard a's process killed: its mirror stopped following for %s; the default shard's mirror wrote %d times meanwhile, its longest gap %s",
		gap.Round(time.Millisecond), plain.count(lost, back), plain.gap(lost, back).Round(time.Millisecond))
	g.Expect(plain.count(lost, lost.Add(gap))).To(BeNumerically(">", 0), "the default shard's mirror kept following while shard a was down")
	g.Expect(connectionSince(t, app, "plain")).To(BeTemporally("==", since), "the default shard's socket stayed up")
	exact(t, app, "plain", user)
	exact(t, app, "sharded", user)

	// Relabel "sharded" into the default shard, while the stream goes on.
	var obj v1alpha1.DirectusSubscription
	g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: app, Name: "sharded"}, &obj)).To(Succeed())
	base := obj.DeepCopy()
	delete(obj.Labels, shardKey)
	moved := time.Now()
	g.Expect(k8s.Patch(ctx, &obj, client.MergeFrom(base))).To(Succeed())
	stream.Await(t, 20, timeout)
	moveGap := sharded.gap(moved, time.Now())
	figure(t, "subscription moved between shards", moveGap)

	// Shard a goes; the moved subscription does not go with it.
	var dep appsv1.Deployment
	g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "directus-operator-a"}, &dep)).To(Succeed())
	depBase := dep.DeepCopy()
	dep.Spec.Replicas = new(int32)
	g.Expect(k8s.Patch(ctx, &dep, client.MergeFrom(depBase))).To(Succeed())
	shardA.gone(t)
	gone := time.Now()
	stream.Await(t, 20, timeout)
	stream.Stop()
	g.Expect(sharded.count(gone, time.Now())).To(BeNumerically(">", 0), "the moved subscription follows with shard a gone")
	exact(t, app, "plain", user)
	exact(t, app, "sharded", user)
	ready(t, app, "plain")
	ready(t, app, "sharded")
	t.Logf("cluster: shards: a subscription relabelled into the default shard: its mirror stopped following for %s; %d changes in all; lost 0, phantom 0, stale 0",
		moveGap.Round(time.Millisecond), stream.Done())
}
