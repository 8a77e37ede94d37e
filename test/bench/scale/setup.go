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
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// setUp builds the operator, starts the control plane and Directus, seeds
// Directus, and starts the harness's client and informers.
func (h *harness) setUp(ctx context.Context, root string) error {
	var err error
	if h.work, err = os.MkdirTemp("", "directus-operator-bench-"); err != nil {
		return err
	}
	logf("N=%d, Directus %s, work directory %s", h.cfg.n, h.cfg.mode, h.work)

	// The operator binary first: a compile error should not wait for
	// Directus.
	logf("building the operator (go build ./cmd)")
	if h.bin, err = benchkit.BuildOperator(ctx, root, h.work); err != nil {
		return err
	}
	h.atExit(func() { _ = os.Remove(h.bin) })

	restCfg, err := h.startControlPlane()
	if err != nil {
		return err
	}
	if err := h.startDirectus(ctx, root); err != nil {
		return err
	}
	if err := h.measureReads(ctx); err != nil {
		return err
	}
	return h.startClient(ctx, restCfg)
}

// startControlPlane starts envtest with the CRD installed, and writes a
// kubeconfig for the operator (a system:masters user).
func (h *harness) startControlPlane() (*rest.Config, error) {
	logf("starting the control plane (envtest)")
	env, restCfg, err := envtestutil.Start()
	if err != nil {
		return nil, err
	}
	h.atExit(func() {
		if err := env.Stop(); err != nil {
			logf("stop the control plane: %v", err)
		}
	})
	user, err := env.AddUser(envtest.User{Name: "bench-operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("add a control-plane user for the operator: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	h.kubeconfig = filepath.Join(h.work, "kubeconfig")
	if err := os.WriteFile(h.kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	return restCfg, nil
}

// startDirectus starts Directus (real or fake) and seeds two messages for
// each subscription, recording what each ConfigMap must hold.
func (h *harness) startDirectus(ctx context.Context, root string) error {
	cfg := h.cfg
	if cfg.mode == modeFake {
		h.dx = startFakeDirectus()
	} else {
		logf("starting a real Directus on port %d (state %s)", cfg.directusPort, cfg.directusState)
		dx, err := startRealDirectus(ctx, root, cfg.directusPort, cfg.directusState, cfg.directusEnv)
		if err != nil {
			return err
		}
		h.dx = dx
	}
	h.atExit(h.dx.Stop)
	h.res.directus = h.dx.Describe()
	seedStart := time.Now()
	keys, err := h.dx.Seed(ctx, cfg.n)
	if err != nil {
		return fmt.Errorf("seed Directus: %w", err)
	}
	h.expected = make(map[string]expectation, cfg.n)
	for i, k := range keys {
		if len(k) != itemsPerUser {
			return fmt.Errorf("seed Directus: user u%d has %d items, want %d", i, len(k), itemsPerUser)
		}
		e := expectation{user: fmt.Sprintf("u%d", i)}
		for _, key := range k {
			e.keys = append(e.keys, benchkit.DataKey(key))
		}
		slices.Sort(e.keys)
		h.expected[subName(i)] = e
	}
	logf("seeded %d messages in %s", cfg.n*itemsPerUser, seconds(time.Since(seedStart)))
	return nil
}

// startClient creates the harness's own client, the namespace and the
// Secret with the Directus token, and starts the informers.
func (h *harness) startClient(ctx context.Context, restCfg *rest.Config) error {
	harnessCfg := rest.CopyConfig(restCfg)
	harnessCfg.QPS, harnessCfg.Burst = 1000, 2000
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	k8s, err := client.New(harnessCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	h.k8s = k8s
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	if err := k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: namespace},
		StringData: map[string]string{"token": h.dx.Token()},
	}); err != nil {
		return err
	}
	h.bearer = metricsToken(ctx, k8s, restCfg.BearerToken)
	h.tr = newTracker(h.expected)
	trCtx, stopTracker := context.WithCancel(ctx)
	h.atExit(stopTracker)
	return h.tr.start(trCtx, harnessCfg, scheme, namespace)
}

// startFirstOperator picks the operator's flags and runs it as a
// subprocess until /healthz answers.
func (h *harness) startFirstOperator(ctx context.Context) (*operatorProc, error) {
	metricsPort, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	probePort, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	h.args = make([]string, 0, 4+len(h.cfg.operatorArgs))
	// Plain http metrics on loopback, asked for explicitly: an
	// authenticated scrape would add TokenReviews and SubjectAccessReviews
	// to the API requests the bench counts. BENCH_OPERATOR_ARGS may turn it
	// back on; scrapeMetrics then uses https and h.bearer.
	h.args = append(h.args, "--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort), "--metrics-secure=false",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort))
	h.args = append(h.args, h.cfg.operatorArgs...)
	h.metricsAddr = flagValue(h.args, "metrics-bind-address")
	h.probeAddr = flagValue(h.args, "health-probe-bind-address")
	h.res.subsPerSocket = defaultSubsPerSocket
	if v := flagValue(h.args, "max-subscriptions-per-connection"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--max-subscriptions-per-connection=%q: want a positive integer", v)
		}
		h.res.subsPerSocket = n
	}
	if strings.HasPrefix(h.probeAddr, ":") {
		h.probeAddr = "127.0.0.1" + h.probeAddr
	}
	logf("operator flags: %s", strings.Join(h.args, " "))
	h.res.firstLog = filepath.Join(h.work, "operator-1.log")
	op, err := startOperator(h.bin, h.kubeconfig, h.args, h.res.firstLog)
	if err != nil {
		return nil, err
	}
	h.atExit(func() { op.Terminate(10 * time.Second) })
	if err := op.waitHealthy(ctx, h.probeAddr, 2*time.Minute); err != nil {
		return nil, err
	}
	logf("operator up (pid %d), log %s", op.PID(), h.res.firstLog)
	return op, nil
}

// metricsToken returns a bearer token that may read /metrics should the
// operator serve them over https with authentication: the envtest admin's
// token when it has one, else a token of a ServiceAccount bound to
// cluster-admin. Best effort: "" when neither works.
func metricsToken(ctx context.Context, k8s client.Client, adminToken string) string {
	if adminToken != "" {
		return adminToken
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bench-metrics-reader", Namespace: namespace}}
	if err := k8s.Create(ctx, sa); err != nil {
		return ""
	}
	if err := k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: namespace}},
	}); err != nil {
		return ""
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600 * 6)}}
	if err := k8s.SubResource("token").Create(ctx, sa, tr); err != nil {
		return ""
	}
	return tr.Status.Token
}
