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
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
)

// inClusterNamespaceFile is where a pod finds its namespace, as
// controller-runtime does when no leader election namespace is given.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// takeOverFromPredecessor frees the leader election Lease when the process
// holding it was an earlier run of this very pod: the operator's identity is
// its hostname (the pod's name), "_" and a UUID new each run, and the kubelet
// restarts a container only once the previous one has exited. So when the
// leader crashes and its container restarts, the holder is known to be dead
// and the new run need not wait out the Lease (15 s by default) as a standby
// in another pod must: it takes the Lease at once, as after a graceful stop.
// The Lease is released as client-go releases one, with an update that fails
// if anyone changed it since it was read. Any other holder is left alone.
func takeOverFromPredecessor(ctx context.Context, leases coordinationv1client.LeasesGetter, namespace, name, hostname string, log logr.Logger) error {
	lease, err := leases.Leases(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the leader election Lease %s/%s: %w", namespace, name, err)
	}
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if hostname == "" || !strings.HasPrefix(holder, hostname+"_") {
		return nil
	}
	now := metav1.NewMicroTime(time.Now())
	lease.Spec.HolderIdentity = new("")
	lease.Spec.LeaseDurationSeconds = new(int32(1))
	lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
	if _, err := leases.Leases(namespace).Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return nil // someone else has it now: leader election sorts it out
		}
		return fmt.Errorf("release the leader election Lease %s/%s of this pod's previous process: %w", namespace, name, err)
	}
	log.Info("Released the leader election Lease held by this pod's previous process, which has exited", "lease", namespace+"/"+name, "holder", holder)
	return nil
}

// releasePredecessorsLease runs takeOverFromPredecessor for the operator's
// Lease, when leader election is on and the namespace is known. A failure
// is logged, not fatal: leader election then waits for the Lease to expire.
func releasePredecessorsLease(ctx context.Context, cfg *rest.Config, o OperatorOptions, log logr.Logger) {
	if !o.LeaderElect {
		return
	}
	ns := o.leaseNamespace()
	if ns == "" {
		if b, err := os.ReadFile(inClusterNamespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	hostname, err := os.Hostname()
	if ns == "" || err != nil {
		return
	}
	c, err := coordinationv1client.NewForConfig(cfg)
	if err == nil {
		err = takeOverFromPredecessor(ctx, c, ns, o.LeaderElectionID, hostname, log)
	}
	if err != nil {
		log.Error(err, "Could not check the leader election Lease; waiting for it as a standby would")
	}
}
