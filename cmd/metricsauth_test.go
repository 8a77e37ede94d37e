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
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/cache"
)

// A fake API server's answers: the token "reader" belongs to a user who may
// get /metrics, "stranger" to one who may not; anything else is unknown.
func fakeMetricsGate(reviews, accesses *atomic.Int32) *metricsGate {
	return &metricsGate{
		review: func(_ context.Context, token string) (*authenticationv1.TokenReviewStatus, error) {
			reviews.Add(1)
			switch token {
			case "reader", "stranger":
				return &authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: token, UID: token + "-uid"}}, nil
			}
			return &authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}, nil
		},
		access: func(_ context.Context, spec authorizationv1.SubjectAccessReviewSpec) (bool, error) {
			accesses.Add(1)
			return spec.User == "reader" && spec.NonResourceAttributes.Verb == "get" && spec.NonResourceAttributes.Path == "/metrics", nil
		},
		users:   cache.NewLRUExpireCache(metricsCacheSize),
		allowed: cache.NewLRUExpireCache(metricsCacheSize),
	}
}

func TestTheMetricsGateLetsInOnlyWhoMayGetMetricsAndAsksTheAPIServerOncePerCaller(t *testing.T) {
	g := NewWithT(t)
	var reviews, accesses atomic.Int32
	h, err := fakeMetricsGate(&reviews, &accesses).filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("directus_operator_connections 1"))
	}))
	g.Expect(err).NotTo(HaveOccurred())
	scrape := func(auth string) int {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	g.Expect(scrape("")).To(Equal(http.StatusUnauthorized), "no token")
	g.Expect(scrape("Basic cmVhZGVyOng=")).To(Equal(http.StatusUnauthorized), "not a bearer token")
	g.Expect(scrape("Bearer not-a-token")).To(Equal(http.StatusUnauthorized), "a token the API server does not accept")
	g.Expect(scrape("Bearer stranger")).To(Equal(http.StatusForbidden), "a user without the right")
	for range 5 {
		g.Expect(scrape("Bearer reader")).To(Equal(http.StatusOK))
	}
	g.Expect(reviews.Load()).To(BeEquivalentTo(3), "one TokenReview per token, then the cache")
	g.Expect(accesses.Load()).To(BeEquivalentTo(2), "one SubjectAccessReview per user and path")
}

func TestTheMetricsGateForgetsTheOldestCallersPastItsBound(t *testing.T) {
	g := NewWithT(t)
	var reviews, accesses atomic.Int32
	gate := fakeMetricsGate(&reviews, &accesses)
	for i := range 3 * metricsCacheSize {
		_, err := gate.user(context.Background(), fmt.Sprint("unknown-", i))
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(gate.users.Keys()).To(HaveLen(metricsCacheSize), "many tokens cannot grow the cache")
	g.Expect(reviews.Load()).To(BeEquivalentTo(3 * metricsCacheSize))
}

// RBAC may grant /metrics to a group: the same user name seen with other
// groups (another token, a group added since) is asked about again, not
// answered from the cache.
func TestTheMetricsGateAsksAgainForTheSameUserWithOtherGroups(t *testing.T) {
	g := NewWithT(t)
	var reviews, accesses atomic.Int32
	gate := fakeMetricsGate(&reviews, &accesses)
	gate.access = func(_ context.Context, spec authorizationv1.SubjectAccessReviewSpec) (bool, error) {
		accesses.Add(1)
		return slices.Contains(spec.Groups, "metrics-readers"), nil
	}
	ctx := context.Background()
	member := &authenticationv1.UserInfo{Username: "ci", UID: "ci-uid", Groups: []string{"metrics-readers"}}
	outsider := &authenticationv1.UserInfo{Username: "ci", UID: "ci-uid"}

	ok, err := gate.authorized(ctx, member, "get", "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())
	ok, err = gate.authorized(ctx, outsider, "get", "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeFalse(), "not let in on the cached answer of the group's member")
	g.Expect(accesses.Load()).To(BeEquivalentTo(2))
}
