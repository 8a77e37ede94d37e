//go:build cluster

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

// Package cluster installs the operator the way users do (helm install,
// kubectl apply -k, a sidecar beside an app) on the real single-node cluster
// of `make cluster`, and checks what a user would see, against a real
// Directus that pods reach on the host's bridge address.
//
// The cluster must be up (make cluster); the suite fails, never skips, when
// it is not. Tests run one after another and each removes what it installed,
// so one operator at a time watches the cluster.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

const (
	botToken = "bot-static-token"
	// directusPort is where the suite's Directus listens on the bridge.
	directusPort = 18255
	timeout      = 3 * time.Minute
	poll         = 200 * time.Millisecond
	testappImage = "localhost/directus-operator/testapp:cluster"
)

var (
	// env is what hack/cluster.sh env prints: CLUSTER_DIR, CLUSTER_KUBECONFIG,
	// CLUSTER_HOST_IP, CLUSTER_NODE, CLUSTER_OPERATOR_IMAGE.
	env       map[string]string
	k8s       client.Client
	clientset *kubernetes.Clientset
	admin     *realtime.REST
	bot       *realtime.REST
	// directusURL is the suite's Directus as pods reach it.
	directusURL string
	// helmBin and kubectlBin are the ones hack/envtest-from-source.sh
	// built, or $HELM and $KUBECTL.
	helmBin, kubectlBin string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	defer func() { _ = directus("stop") }()
	return m.Run()
}

func setup() error {
	var err error
	if helmBin, err = envtestutil.Tool("helm", "HELM"); err != nil {
		return err
	}
	if kubectlBin, err = envtestutil.Tool("kubectl", "KUBECTL"); err != nil {
		return err
	}
	out, err := exec.Command(filepath.Join(envtestutil.RepoRoot(), "hack", "cluster.sh"), "env").Output()
	if err != nil {
		return fmt.Errorf("hack/cluster.sh env: %w", err)
	}
	env = map[string]string{}
	for line := range strings.SplitSeq(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", env["CLUSTER_KUBECONFIG"])
	if err != nil {
		return fmt.Errorf("the cluster is not up (run make cluster first): %w", err)
	}
	if clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, err := clientset.CoreV1().Nodes().Get(ctx, env["CLUSTER_NODE"], metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("the cluster is not up (run make cluster first): %w", err)
	}
	if !nodeReady(node) {
		return fmt.Errorf("node %s is not Ready: see hack/cluster.sh status and the kubelet log in %s/logs", node.Name, env["CLUSTER_DIR"])
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: controllers.Scheme()}); err != nil {
		return err
	}
	start := time.Now()
	if err := directus("start"); err != nil {
		return err
	}
	directusURL = fmt.Sprintf("http://%s:%d", env["CLUSTER_HOST_IP"], directusPort)
	fmt.Printf("cluster: a real Directus is up at %s after %s\n", directusURL, time.Since(start).Round(time.Second))
	adminAuth := realtime.Auth{Email: "admin@example.com", Password: fmt.Sprintf("admin-password-%d", directusPort)}
	if admin, err = realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: directusURL, Auth: adminAuth}}); err != nil {
		return err
	}
	if bot, err = realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: directusURL, Auth: realtime.Auth{AccessToken: botToken}}}); err != nil {
		return err
	}
	return buildTestapp()
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// directus runs hack/directus.sh with the suite's address, port and state.
func directus(cmd string) error {
	c := exec.Command(filepath.Join(envtestutil.RepoRoot(), "hack", "directus.sh"), cmd)
	c.Env = append(os.Environ(), "DIRECTUS_HOST="+env["CLUSTER_HOST_IP"], fmt.Sprintf("DIRECTUS_PORT=%d", directusPort),
		fmt.Sprintf("DIRECTUS_STATE=%s/directus-operator-cluster-%d", os.TempDir(), directusPort))
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("hack/directus.sh %s: %w\n%s", cmd, err, out)
	}
	return nil
}

// buildTestapp builds test/cluster/testapp into an image and imports it into
// the node, as make cluster does with the operator's.
func buildTestapp() error {
	dir, err := os.MkdirTemp("", "testapp")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	return imageFrom(dir, "./test/cluster/testapp", "/testapp", testappImage, nil)
}

// imageFrom builds pkg (with ldflags) into an image named ref whose
// entrypoint is entrypoint, and imports it into the node.
func imageFrom(dir, pkg, entrypoint, ref string, ldflags []string) error {
	root := envtestutil.RepoRoot()
	bin := filepath.Join(dir, "bin")
	args := []string{"build", "-trimpath", "-ldflags", strings.Join(append([]string{"-s", "-w"}, ldflags...), " "), "-o", bin, pkg}
	steps := [][]string{
		append([]string{"go"}, args...),
		{"go", "run", "./hack/image", "-binary", bin, "-entrypoint", entrypoint, "-tag", ref, "-out", filepath.Join(dir, "image.tar")},
		{filepath.Join(root, "hack", "cluster.sh"), "import", filepath.Join(dir, "image.tar")},
	}
	for _, s := range steps {
		c := exec.Command(s[0], s[1:]...)
		c.Dir = root
		c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(s, " "), err, out)
		}
	}
	return nil
}

// tool runs helm or kubectl against the cluster and fails the test when it
// fails.
func tool(t *testing.T, stdin string, bin string, args ...string) string {
	t.Helper()
	out, err := toolErr(stdin, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return out
}

func toolErr(stdin string, bin string, args ...string) (string, error) {
	c := exec.Command(bin, args...)
	c.Dir = envtestutil.RepoRoot()
	c.Env = append(os.Environ(), "KUBECONFIG="+env["CLUSTER_KUBECONFIG"])
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

func helm(t *testing.T, args ...string) {
	t.Helper()
	tool(t, "", helmBin, args...)
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return tool(t, "", kubectlBin, args...)
}

// namespace creates a namespace that enforces the restricted Pod Security
// Standard, with the bot's token in a Secret named directus, and deletes it
// when the test ends.
func namespace(t *testing.T, prefix string) string {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	name := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}})).To(Succeed())
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: name},
		StringData: map[string]string{"token": botToken},
	})).To(Succeed())
	return name
}

// podLogs follows a container's log (through the API server and the
// kubelet) and sends each line, until ctx ends.
func podLogs(ctx context.Context, t *testing.T, ns, pod, container string) <-chan string {
	t.Helper()
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		for ctx.Err() == nil {
			req := clientset.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true})
			s, err := req.Stream(ctx)
			if err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(poll): // the container may not be running yet
				}
				continue
			}
			sc := bufio.NewScanner(s)
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				case <-ctx.Done():
				}
			}
			_ = s.Close()
			return
		}
	}()
	return lines
}

// figure appends a measured gap to the file CLUSTER_FIGURES names, if any,
// as a line "phase<TAB>seconds": make bench-failover runs the suite's
// failover tests and prints these as a table.
func figure(t *testing.T, phase string, d time.Duration) {
	t.Helper()
	path := os.Getenv("CLUSTER_FIGURES")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("CLUSTER_FIGURES: %v", err)
	}
	defer func() { _ = f.Close() }()
	if _, err := fmt.Fprintf(f, "%s\t%.3f\n", phase, d.Seconds()); err != nil {
		t.Fatalf("CLUSTER_FIGURES: %v", err)
	}
}
