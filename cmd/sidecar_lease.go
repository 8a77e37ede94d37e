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
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leaseTimings are the ConfigMap lease's durations. The defaults are
// client-go's usual ones: a leader that vanishes without releasing the lease
// is replaced within LeaseDuration plus RetryPeriod.
type leaseTimings struct {
	Duration, RenewDeadline, RetryPeriod time.Duration
}

var defaultLeaseTimings = leaseTimings{Duration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}

// leaseSuffix makes the Lease's name from the ConfigMap's, so that each
// ConfigMap has one writer and an application's own Leases are left alone.
const leaseSuffix = "-directus-sidecar"

func leaseName(configMap string) string { return configMap + leaseSuffix }

// runElected runs mirror while this pod holds the ConfigMap's Lease and
// stands by while another replica does, until ctx ends. Only the holder
// writes, so replicas never fight over the ConfigMap. On shutdown the
// mirror stops first and the Lease is released after its last write, so
// the next replica takes over at once and never races a write of ours.
func runElected(ctx context.Context, log logr.Logger, leases coordinationv1client.LeasesGetter, pod *podRef, configMap string,
	t leaseTimings, st *sidecarState, mirror func(ctx context.Context),
) error {
	name := leaseName(configMap)
	log = log.WithValues("lease", name)
	var (
		mu       sync.Mutex
		stopping bool
		running  chan struct{} // closed when the current term's mirror stopped
	)
	waitMirror := func() {
		mu.Lock()
		done := running
		mu.Unlock()
		if done != nil {
			<-done
		}
	}
	electCtx, cancelElect := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelElect()
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		stopping = true
		mu.Unlock()
		waitMirror()
		cancelElect() // releases the Lease
	})
	defer stop()

	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: pod.Namespace, Name: name},
			Client:     leases,
			LockConfig: resourcelock.ResourceLockConfig{Identity: pod.Name},
		},
		LeaseDuration: t.Duration, RenewDeadline: t.RenewDeadline, RetryPeriod: t.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leading context.Context) {
				mu.Lock()
				if stopping {
					mu.Unlock()
					return
				}
				done := make(chan struct{})
				running = done
				mu.Unlock()
				defer close(done)
				log.Info("Leading: this replica writes the ConfigMap", "ConfigMap", configMap)
				st.setRole(roleLeader, pod.Name)
				mctx, cancel := context.WithCancel(leading)
				defer cancel()
				defer context.AfterFunc(ctx, cancel)()
				mirror(mctx)
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id == pod.Name {
					return
				}
				log.Info("Standing by: another replica writes the ConfigMap", "ConfigMap", configMap, "leader", id)
				st.standBy(id)
			},
		},
	})
	if err != nil {
		return err
	}
	st.standBy("")
	for {
		le.Run(electCtx) // returns when leadership is lost, or on shutdown
		waitMirror()
		if ctx.Err() != nil {
			return nil
		}
		log.Info("Lost the ConfigMap's lease; standing by", "ConfigMap", configMap)
		st.standBy("")
	}
}
