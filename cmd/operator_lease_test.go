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
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// A restarted container frees the Lease its own previous process held, and
// only that: a holder in another pod (even one whose name begins with this
// pod's) is a live standby's business, and a missing Lease is nothing to do.
func TestARestartedContainerTakesTheLeaseOfItsOwnPreviousProcessOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		holder   string
		released bool
	}{
		{"operator-7d9f-abcde_1b4e28ba-2fa1-11d2-883f-0016d3cca427", true},
		{"operator-7d9f-xyz12_1b4e28ba-2fa1-11d2-883f-0016d3cca427", false},
		{"operator-7d9f-abcde2_1b4e28ba-2fa1-11d2-883f-0016d3cca427", false},
		{"", false},
	} {
		t.Run(tc.holder, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ctx := context.Background()
			lease := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: defaultLeaderElectionID},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: new(tc.holder), LeaseDurationSeconds: new(int32(15))},
			}
			cs := fake.NewClientset(lease)
			g.Expect(takeOverFromPredecessor(ctx, cs.CoordinationV1(), "ops", defaultLeaderElectionID, "operator-7d9f-abcde", logr.Discard())).To(Succeed())
			got, err := cs.CoordinationV1().Leases("ops").Get(ctx, defaultLeaderElectionID, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			if tc.released {
				g.Expect(*got.Spec.HolderIdentity).To(BeEmpty(), "released, as client-go releases a Lease")
				g.Expect(*got.Spec.LeaseDurationSeconds).To(BeEquivalentTo(1))
				return
			}
			g.Expect(got.Spec).To(Equal(lease.Spec), "left alone")
		})
	}
	g := NewWithT(t)
	g.Expect(takeOverFromPredecessor(context.Background(), fake.NewClientset().CoordinationV1(), "ops", defaultLeaderElectionID, "operator-7d9f-abcde", logr.Discard())).
		To(Succeed(), "no Lease yet")
}
