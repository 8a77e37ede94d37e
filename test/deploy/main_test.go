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

// Package deploy tests how users install the operator: the Helm chart, the
// kustomize config, the samples and the container image. Everything rendered
// is sent to a real kube-apiserver (envtest) with server-side dry-run, in
// namespaces that enforce the "restricted" Pod Security Standard.
package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/directus-operator/directus-operator/test/envtestutil"
)

var (
	// k8sClient talks to the envtest API server as an admin.
	k8sClient client.Client
	// kubeconfig is a file for kubectl pointing at the envtest API server.
	kubeconfig string
	// kubectlBin and helmBin are the tools built by hack/envtest-from-source.sh.
	kubectlBin, helmBin string
	// repoRoot is the repository's top folder.
	repoRoot = envtestutil.RepoRoot()
	// chartDir is the Helm chart under test.
	chartDir = filepath.Join(repoRoot, "charts", "directus-operator")
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	if kubectlBin, err = envtestutil.Tool("kubectl", "KUBECTL"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if helmBin, err = envtestutil.Tool("helm", "HELM"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env, cfg, err := envtestutil.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}()

	// The chart's ServiceMonitor needs prometheus-operator's CRD; a subset
	// of it lives in testdata.
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join("testdata", "crds")}, ErrorIfPathMissing: true,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "install testdata CRDs:", err)
		return 1
	}

	tmp, err := os.MkdirTemp("", "deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if kubeconfig, err = writeKubeconfig(env, tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// writeKubeconfig adds an admin user to the envtest control plane and writes
// its kubeconfig, for kubectl, into dir.
func writeKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "deploy-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("add envtest user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("kubeconfig for envtest user: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}
