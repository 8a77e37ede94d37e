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
	"crypto/sha256"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsAuth guards /metrics as controller-runtime's
// filters.WithAuthenticationAndAuthorization does: the caller's bearer token
// is authenticated with a TokenReview, then "get" on the request's path is
// authorised for that user with a SubjectAccessReview; both answers are
// cached for a while. It is written on client-go's typed clients because the
// stock filter builds on k8s.io/apiserver, which links gRPC, OpenTelemetry
// and CEL into the binary: 16 MB of its 79 MB, most of it mapped into the
// operator's memory (docs/benchmarks.md).
func metricsAuth(cfg *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationclient.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	authz, err := authorizationclient.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	g := &metricsGate{
		review: func(ctx context.Context, token string) (*authenticationv1.TokenReviewStatus, error) {
			r, err := authn.TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
			if err != nil {
				return nil, err
			}
			return &r.Status, nil
		},
		access: func(ctx context.Context, spec authorizationv1.SubjectAccessReviewSpec) (bool, error) {
			r, err := authz.SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			return r.Status.Allowed, nil
		},
		users:   cache.NewLRUExpireCache(metricsCacheSize),
		allowed: cache.NewLRUExpireCache(metricsCacheSize),
	}
	return g.filter, nil
}

// How long answers are kept: an allowed caller is not reviewed at every
// scrape, a refused one can retry soon after an RBAC fix.
const (
	metricsAllowTTL  = time.Minute
	metricsDenyTTL   = 10 * time.Second
	metricsCacheSize = 1024
)

// metricsGate is the state behind metricsAuth.
type metricsGate struct {
	review func(ctx context.Context, token string) (*authenticationv1.TokenReviewStatus, error)
	access func(ctx context.Context, spec authorizationv1.SubjectAccessReviewSpec) (bool, error)
	// users holds the user of each token (a nil *UserInfo: not
	// authenticated), by the token's digest; allowed holds each user and
	// path's answer. Both are bounded, least recently used out first, so
	// that callers sending many tokens cannot grow them.
	users   *cache.LRUExpireCache
	allowed *cache.LRUExpireCache
}

func (g *metricsGate) filter(log logr.Logger, next http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		token, ok := bearerToken(r)
		if !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		user, err := g.user(ctx, token)
		if err != nil {
			log.Error(err, "Authenticating a metrics request failed")
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		if user == nil {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		ok, err = g.authorized(ctx, user, strings.ToLower(r.Method), r.URL.Path)
		if err != nil {
			log.Error(err, "Authorizing a metrics request failed", "user", user.Username)
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		if !ok {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	}), nil
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// user returns who token belongs to, or nil when the API server does not
// know it.
func (g *metricsGate) user(ctx context.Context, token string) (*authenticationv1.UserInfo, error) {
	sum := sha256.Sum256([]byte(token))
	key := string(sum[:]) // never keep the token itself
	if u, ok := g.users.Get(key); ok {
		return u.(*authenticationv1.UserInfo), nil
	}
	st, err := g.review(ctx, token)
	if err != nil {
		return nil, err
	}
	// A token the API server does not accept is refused (401), whether or
	// not it says why (it does for one it cannot parse).
	var u *authenticationv1.UserInfo
	ttl := metricsDenyTTL
	if st.Authenticated {
		u, ttl = &st.User, metricsAllowTTL
	}
	g.users.Add(key, u, ttl)
	return u, nil
}

func (g *metricsGate) authorized(ctx context.Context, u *authenticationv1.UserInfo, verb, path string) (bool, error) {
	// Everything the review is asked about is in the key: the same user
	// with other groups may get another answer.
	key := strings.Join(append([]string{u.UID, u.Username, verb, path}, u.Groups...), "\x00")
	if ok, hit := g.allowed.Get(key); hit {
		return ok.(bool), nil
	}
	extra := make(map[string]authorizationv1.ExtraValue, len(u.Extra))
	for k, v := range u.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	ok, err := g.access(ctx, authorizationv1.SubjectAccessReviewSpec{
		User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	})
	if err != nil {
		return false, err
	}
	ttl := metricsDenyTTL
	if ok {
		ttl = metricsAllowTTL
	}
	g.allowed.Add(key, ok, ttl)
	return ok, nil
}
