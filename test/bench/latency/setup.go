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
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// startControlPlane starts envtest, finds its API server and etcd for the
// CPU figures, and adds the user the operator and the naive mirror connect
// as (through the counting proxy unless BENCH_PROXY=off).
func (h *harness) startControlPlane() (controlPlane, error) {
	logf("starting the control plane (envtest)")
	env, restCfg, err := envtestutil.Start()
	if err != nil {
		return controlPlane{}, err
	}
	h.onExit(func() {
		if err := env.Stop(); err != nil {
			logf("stop the control plane: %v", err)
		}
	})
	if h.apiPID, err = childByName(os.Getpid(), "kube-apiserver"); err != nil {
		logf("API-server CPU will be n/a: %v", err)
	}
	if h.etcdPID, err = childByName(os.Getpid(), "etcd"); err != nil {
		logf("etcd CPU will be n/a: %v", err)
	}
	user, err := env.AddUser(envtest.User{Name: "bench-operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return controlPlane{}, fmt.Errorf("add a control-plane user for the operator: %w", err)
	}
	kubeconfig, naiveCfg, err := h.userAccess(user)
	if err != nil {
		return controlPlane{}, err
	}
	kubeconfigPath := filepath.Join(h.work, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return controlPlane{}, err
	}
	return controlPlane{admin: restCfg, naive: naiveCfg, kubeconfigPath: kubeconfigPath}, nil
}

// userAccess is the kubeconfig of user for the operator, and the rest
// config for the naive mirror: through the counting proxy, which it starts,
// when BENCH_PROXY is on, else direct.
func (h *harness) userAccess(user *envtest.AuthenticatedUser) ([]byte, *rest.Config, error) {
	if !h.cfg.proxy {
		kubeconfig, err := user.KubeConfig()
		if err != nil {
			return nil, nil, err
		}
		return kubeconfig, rest.CopyConfig(user.Config()), nil
	}
	var err error
	if h.proxy, err = startProxy(user.Config()); err != nil {
		return nil, nil, fmt.Errorf("start the counting proxy: %w", err)
	}
	h.onExit(h.proxy.Close)
	kubeconfig := kubeconfigFor(h.proxy.url)
	naiveCfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	logf("the operator and the naive mirror reach the API server through %s (counts ConfigMap writes)", h.proxy.url)
	return kubeconfig, naiveCfg, nil
}

// startDirectus starts a real Directus and creates a fresh collection for
// each subject and phase that needs one.
func (h *harness) startDirectus(ctx context.Context, res *results) error {
	cfg := h.cfg
	logf("starting a real Directus on port %d (state %s)", cfg.directusPort, cfg.directusState)
	var err error
	if h.dx, err = startDirectus(ctx, h.root, cfg.directusPort, cfg.directusState, cfg.directusEnv); err != nil {
		return err
	}
	h.onExit(h.dx.Stop)
	res.directus = fmt.Sprintf("real Directus (hack/directus.sh) at %s", h.dx.URL())
	var colls []string
	for _, s := range cfg.subjects {
		for _, ph := range subjectPhases(s) {
			if ph.fresh {
				colls = append(colls, collectionName(s, ph))
			}
		}
	}
	if err := h.dx.createCollections(ctx, colls); err != nil {
		return err
	}
	logf("created collections %s", strings.Join(colls, ", "))
	return nil
}

// setUpClients makes the harness's own clients (direct, admin), and the
// namespace and the Secret with the bot's token. It returns the scheme the
// clients use.
func (h *harness) setUpClients(ctx context.Context, admin *rest.Config) (*k8sruntime.Scheme, error) {
	harnessCfg := rest.CopyConfig(admin)
	harnessCfg.QPS, harnessCfg.Burst = 1000, 2000
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	var err error
	if h.k8s, err = client.New(harnessCfg, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	if h.cs, err = kubernetes.NewForConfig(harnessCfg); err != nil {
		return nil, err
	}
	if err := h.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return nil, err
	}
	if err := h.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: namespace},
		StringData: map[string]string{"token": h.dx.Token()},
	}); err != nil {
		return nil, err
	}
	return scheme, nil
}

// startOperator runs the operator as a subprocess, on free metrics and
// probe ports unless BENCH_OPERATOR_ARGS says otherwise, and waits until it
// is healthy.
func (h *harness) startOperator(ctx context.Context, kubeconfigPath string) error {
	metricsPort, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	probePort, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	// Plain http metrics on loopback, asked for explicitly: an
	// authenticated scrape would add TokenReviews and SubjectAccessReviews
	// to the API requests the bench counts.
	args := slices.Concat([]string{subjectOperator, "--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort), "--metrics-secure=false",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort)},
		h.cfg.operatorArgs)
	h.metricsAddr, _ = benchkit.FlagValue(args, "metrics-bind-address")
	probeAddr, _ := benchkit.FlagValue(args, "health-probe-bind-address")
	logf("operator flags: %s", strings.Join(args[1:], " "))
	logPath := filepath.Join(h.work, "operator.log")
	if h.op, err = startProc(subjectOperator, h.bin, args, []string{"KUBECONFIG=" + kubeconfigPath}, logPath); err != nil {
		return err
	}
	h.onExit(func() { h.op.Terminate(10 * time.Second) })
	if err := h.op.waitOK(ctx, "http://"+benchkit.Loopback(probeAddr)+"/healthz", 2*time.Minute); err != nil {
		return err
	}
	logf("operator up (pid %d), log %s", h.op.PID(), h.op.LogPath)
	return nil
}

// connectRaw connects the raw subscriber.
func (h *harness) connectRaw(ctx context.Context) error {
	var err error
	if h.raw, err = realtime.New(h.realtimeOptions("raw subscriber")); err != nil {
		return err
	}
	if err := h.raw.Connect(ctx); err != nil {
		return fmt.Errorf("raw subscriber: connect: %w", err)
	}
	h.onExit(func() { _ = h.raw.Close() })
	return nil
}

// measureIdle measures the API server's and etcd's CPU at rest over the
// idle window, into res.
func (h *harness) measureIdle(ctx context.Context, res *results) error {
	logf("idle window: %s (the API server's CPU at rest)", h.cfg.idle)
	a0, e0 := cpuOrZero(h.apiPID), cpuOrZero(h.etcdPID)
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(h.cfg.idle):
	}
	res.idle = time.Since(t0)
	res.idleAPI, res.idleEtcd = cpuOrZero(h.apiPID)-a0, cpuOrZero(h.etcdPID)-e0
	res.idleOK = true
	logf("idle: API server %s, etcd %s of CPU in %s", ms(res.idleAPI), ms(res.idleEtcd), ms(res.idle))
	return nil
}

// newSubject makes the subject called name. The naive mirror gets its own
// client, with no client-side rate limit, from naiveCfg.
func (h *harness) newSubject(name string, naiveCfg *rest.Config, scheme *k8sruntime.Scheme) (subject, error) {
	switch name {
	case subjectOperator:
		return &operatorSubject{h: h, stops: map[string]func(){}}, nil
	case subjectNaive:
		c, err := client.New(withoutRateLimit(naiveCfg), client.Options{Scheme: scheme})
		if err != nil {
			return nil, err
		}
		return &naiveSubject{h: h, client: c, runs: map[string]*naiveRun{}}, nil
	case subjectSidecar:
		return &sidecarSubject{h: h, runs: map[string]*sidecarRun{}}, nil
	case subjectSecond:
		return &secondSubject{h: h, runs: map[string]*secondRun{}}, nil
	}
	return nil, fmt.Errorf("unknown subject %q", name)
}

// realtimeOptions are the options of the harness's own realtime clients
// (the raw subscriber, the naive mirror): the bot's token, and a patient
// heartbeat. On this 2-core machine Directus can be busy for tens of
// seconds with a 2,000-item POST; a client that dropped the socket then
// would lose messages (Directus replays nothing) and the phase could not
// be timed. The operator keeps its defaults: what it does then is part of
// what is measured.
func (h *harness) realtimeOptions(who string) realtime.Options {
	return realtime.Options{
		Server: realtime.Server{
			URL:  h.dx.URL(),
			Auth: realtime.Auth{AccessToken: h.dx.Token()},
		},
		PingInterval: 30 * time.Second,
		PongTimeout:  5 * time.Minute,
		AuthTimeout:  time.Minute,
		OnEvent: func(e realtime.Event) {
			switch e.Kind {
			case realtime.EventReconnecting, realtime.EventGaveUp:
				logf("%s: %s (%v)", who, e.Kind, e.Err)
			}
		},
	}
}

func withoutRateLimit(c *rest.Config) *rest.Config {
	c = rest.CopyConfig(c)
	c.QPS, c.Burst = 10000, 20000
	return c
}

func cpuOrZero(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	d, err := benchkit.CPUTime(pid)
	if err != nil {
		return 0
	}
	return d
}
