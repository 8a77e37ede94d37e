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
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

func TestWaitForTakesKubectlsConditionSyntax(t *testing.T) {
	for _, tc := range []struct {
		in     string
		typ    string
		status metav1.ConditionStatus
		err    string
	}{
		{in: "condition=Ready", typ: "Ready", status: metav1.ConditionTrue},
		{in: "condition=Stalled=False", typ: "Stalled", status: metav1.ConditionFalse},
		{in: "condition=Synced=Unknown", typ: "Synced", status: metav1.ConditionUnknown},
		{in: "delete", err: "want condition=TYPE"},
		{in: "condition=", err: "want condition=TYPE"},
		{in: "condition=Ready=yes", err: "True, False or Unknown"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			g := NewWithT(t)
			typ, status, err := parseFor(tc.in)
			if tc.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
				g.Expect(exitCodeOf(err)).To(Equal(exitUsage))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(typ).To(Equal(tc.typ))
			g.Expect(status).To(Equal(tc.status))
		})
	}
}

func TestAConditionOfAnOlderGenerationDoesNotCount(t *testing.T) {
	g := NewWithT(t)
	obj := &v1alpha1.DirectusSubscription{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	obj.Status.ObservedGeneration = 1
	obj.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReady}}
	g.Expect(conditionIs(obj, v1alpha1.ConditionReady, metav1.ConditionTrue)).To(BeFalse(), "Ready of generation 1 says nothing of the spec of generation 2")
	obj.Status.ObservedGeneration = 2
	g.Expect(conditionIs(obj, v1alpha1.ConditionReady, metav1.ConditionTrue)).To(BeTrue())
}

func TestStatusExplainsEachReasonThatIsNotHealthyOnce(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	obj := &v1alpha1.DirectusSubscription{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", Generation: 3}}
	obj.Spec.Collection = "orders"
	obj.Status.ObservedGeneration = 3
	obj.Status.Connection.State = v1alpha1.ConnectionStateReconnecting
	obj.Status.Connection.Since = &metav1.Time{Time: now.Add(-90 * time.Second)}
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionReady} {
		obj.Status.Conditions = append(obj.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonAuthFailed,
			Message: "refused", LastTransitionTime: metav1.Time{Time: now.Add(-time.Minute)}})
	}
	obj.Status.Conditions = append(obj.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSynced, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSynced})
	var b strings.Builder
	g.Expect(printStatus(&b, obj, now)).To(Succeed())
	out := b.String()
	info, _ := reasonInfo(v1alpha1.ReasonAuthFailed)
	g.Expect(strings.Count(out, fmt.Sprintf("AuthFailed (%s): %s", info.Class, info.Description))).To(Equal(1), out)
	g.Expect(out).NotTo(ContainSubstring("Synced (Healthy)"))
	g.Expect(out).To(MatchRegexp(`Connection:\s+Reconnecting for 90s`))
	g.Expect(out).To(MatchRegexp(`Connected\s+False\s+AuthFailed\s+60s\s+refused`))
	g.Expect(out).To(MatchRegexp(`Collection:\s+orders \(event: all\)`))
}
