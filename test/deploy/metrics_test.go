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

package deploy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestChartArgsStartTheRealOperator runs the real binary with the exact
// arguments and environment the chart renders, as the chart's
// ServiceAccount with only the chart's RBAC, against the envtest API server:
// every flag is accepted, /readyz answers on the health port, and /metrics
// is https and serves the operator's metrics only to a caller whose token
// may get /metrics.
func TestChartArgsStartTheRealOperator(t *testing.T) {
	g := NewWithT(t)
	bin, real := buildOperatorBinary(t, t.TempDir())
	if !real {
		t.Skip("./cmd does not build yet; nothing to run")
	}
	// The chart's ClusterRoles are created for real: a name of their own
	// keeps them apart from the other tests' releases.
	name := uniqueNS("dop-run")
	ensureNamespace(t, name)
	health, metrics := freePort(t), freePort(t)
	objs := helmTemplate(t, name, fmt.Sprintf("fullnameOverride: %s\nhealth: {port: %d}\nmetrics: {port: %d}\nlogFormat: text\n", name, health, metrics))
	c := onlyDeployment(t, g, objs).Spec.Template.Spec.Containers[0]
	applyRBAC(t, objs)

	// Prometheus is bound to the chart's metrics-reader before the first
	// scrape (a denial would be cached for 30 s); a stranger is not.
	prometheus := serviceAccountToken(t, name, "prometheus")
	stranger := serviceAccountToken(t, name, "stranger")
	createForTest(t, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-prometheus"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name + "-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: name}},
	})

	op := startBinary(t, bin, c.Args, "POD_NAMESPACE="+name, "KUBECONFIG="+serviceAccountKubeconfig(t, name, name))
	exited := func() error {
		select {
		case <-op.done:
			return StopTrying(fmt.Sprintf("the operator exited (%v):\n%s", op.err(), op.output))
		default:
			return nil
		}
	}
	get := func(url, token string) func() (string, error) {
		return func() (string, error) {
			if err := exited(); err != nil {
				return "", err
			}
			status, body, err := scrape(url, token)
			if err != nil {
				return "", err
			}
			if status != http.StatusOK {
				return "", fmt.Errorf("%s: %d %s", url, status, body)
			}
			return body, nil
		}
	}
	status := func(url, token string) func() (int, error) {
		return func() (int, error) {
			if err := exited(); err != nil {
				return 0, err
			}
			status, _, err := scrape(url, token)
			return status, err
		}
	}
	metricsURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", metrics)
	g.Eventually(get(fmt.Sprintf("http://127.0.0.1:%d/readyz", health), "")).WithTimeout(60*time.Second).Should(Equal("ok"), "operator output:\n%s", op.output)
	g.Eventually(get(fmt.Sprintf("http://127.0.0.1:%d/healthz", health), "")).Should(Equal("ok"))

	g.Eventually(get(metricsURL, prometheus)).WithTimeout(30*time.Second).Should(ContainSubstring("directus_operator_connections"),
		"a ServiceAccount bound to metrics-reader scrapes the metrics; operator output:\n%s", op.output)
	g.Eventually(status(metricsURL, "")).Should(Equal(http.StatusUnauthorized), "no token: 401")
	// The API server's TokenReview reports an error for a token it cannot
	// parse; that is a refusal like any other (controller-runtime's stock
	// filter answered it with 500).
	code, body, err := scrape(metricsURL, "not-a-token")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(http.StatusUnauthorized), "a token the API server does not know is refused")
	g.Expect(body).NotTo(ContainSubstring("directus_operator"))
	g.Eventually(status(metricsURL, stranger)).Should(Equal(http.StatusForbidden), "a valid token not allowed to get /metrics: 403")
	// Go's TLS server answers plain http with 400 and closes the
	// connection, which the client may see first as a reset.
	code, body, err = scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics), prometheus)
	g.Expect(err != nil || code == http.StatusBadRequest).To(BeTrue(), "plain http to the https endpoint is refused: %d %s", code, body)
	g.Expect(body).NotTo(ContainSubstring("directus_operator"))

	g.Expect(op.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Eventually(op.done).WithTimeout(30*time.Second).Should(BeClosed(), "the operator stops on SIGTERM:\n%s", op.output)
	g.Expect(op.err()).NotTo(HaveOccurred(), "the operator exits cleanly on SIGTERM:\n%s", op.output)
}

// scrape GETs url with a bearer token ("" for none) and returns the status
// and the body. The operator's metrics certificate is self-signed, made at
// its start; what is under test here is who may read, not the certificate.
func scrape(url, token string) (int, string, error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the operator's self-signed certificate, on loopback
	}}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// applyRBAC creates, for real, the ServiceAccount and the RBAC objects among
// objs, and deletes the cluster-scoped ones when the test ends.
func applyRBAC(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		switch u.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			createForTest(t, u.DeepCopy())
		}
	}
}

// createForTest creates obj and, if it is cluster-scoped, deletes it when
// the test ends (namespaced objects go with the test's namespace).
func createForTest(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
	if obj.GetNamespace() == "" {
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })
	}
}

// serviceAccountToken creates a ServiceAccount, if needed, and returns a
// token for it from the TokenRequest API, as the kubelet mounts one.
func serviceAccountToken(t *testing.T, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := k8sClient.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))}}
	if err := k8sClient.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("request a token for ServiceAccount %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// serviceAccountKubeconfig writes a kubeconfig for the envtest API server
// that authenticates as a ServiceAccount, as a pod's in-cluster config does.
func serviceAccountKubeconfig(t *testing.T, ns, name string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range cfg.AuthInfos {
		auth.ClientCertificate, auth.ClientCertificateData, auth.ClientKey, auth.ClientKeyData = "", nil, "", nil
		auth.Token = serviceAccountToken(t, ns, name)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
