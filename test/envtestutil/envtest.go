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

// Package envtestutil starts a real kube-apiserver and etcd (envtest) for the
// project's tests, from the binaries that hack/envtest-from-source.sh builds.
package envtestutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
)

// The operator binary's default API budget; cmd/operator.go's flags must
// default to the same (a test there checks it).
const (
	DefaultKubeAPIQPS   = 100
	DefaultKubeAPIBurst = 300
)

// K8sVersion is the control-plane version the tests run against; keep it in
// step with ENVTEST_K8S_VERSION in the Makefile.
const K8sVersion = "1.37.2"

// RepoRoot is the repository's top folder, found from this file's location so
// tests work from any package directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// AssetsDir returns the folder holding kube-apiserver, etcd and kubectl:
// KUBEBUILDER_ASSETS when set, else the cache that make envtest fills.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(home, ".cache", "directus-operator", "envtest", "k8s", K8sVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("no envtest binaries in %s: run 'make envtest' (builds them from source) or set KUBEBUILDER_ASSETS", dir)
	}
	return dir, nil
}

// Tool returns the path of a binary built by hack/envtest-from-source.sh
// (kubectl, helm, controller-gen), honouring an environment override such as
// KUBECTL or HELM.
func Tool(name, envOverride string) (string, error) {
	if p := os.Getenv(envOverride); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	assets, err := AssetsDir()
	if err != nil {
		return "", err
	}
	for _, p := range []string{filepath.Join(assets, name), filepath.Join(assets, "..", "..", "bin", name)} {
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
	}
	return "", fmt.Errorf("%s not found next to %s: run 'make envtest'", name, assets)
}

// StartOperator runs the operator's manager in-process against cfg, as the
// operator binary sets it up but without metrics, probes or leader election.
// stop cancels it and returns its error.
func StartOperator(cfg *rest.Config, opts controllers.Options) (stop func() error, err error) {
	_, stop, err = StartOperatorHub(cfg, opts)
	return stop, err
}

// StartOperatorHub is StartOperator, and also returns the operator's Hub,
// for tests that compare what it reports with the objects' status.
func StartOperatorHub(cfg *rest.Config, opts controllers.Options) (h *hub.Hub, stop func() error, err error) {
	// The API budget the operator binary has by default (--kube-api-qps,
	// --kube-api-burst), not client-go's.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = DefaultKubeAPIQPS, DefaultKubeAPIBurst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  controllers.Scheme(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controllers.CacheOptions(nil, opts.Shard),
		Client:  controllers.ClientOptions(),
		// Tests start the operator again in one process, as a restart.
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	h, err = controllers.Setup(ctx, mgr, opts)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return h, func() error {
		cancel()
		return <-done
	}, nil
}

// Start starts a control plane with the project's CRDs installed. Stop it
// with env.Stop().
func Start() (*envtest.Environment, *rest.Config, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		// Start can fail after the control plane is up (a CRD the API
		// server refuses): stop it, or kube-apiserver and etcd outlive us.
		_ = env.Stop()
		return nil, nil, fmt.Errorf("start envtest (binaries in %s): %w", assets, err)
	}
	return env, cfg, nil
}
