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
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestAReleaseHoldsEveryArtifactAndEachWorks runs hack/release.sh, the
// script behind `make release`, into a folder and checks what a user
// downloads: SHA256SUMS matches the files, the image's version label and
// the binary's `version` agree, the chart installs, and install.yaml
// applies.
func TestAReleaseHoldsEveryArtifactAndEachWorks(t *testing.T) {
	g := NewWithT(t)
	const (
		version = "v0.1.0"
		commit  = "0123456789abcdef0123456789abcdef01234567"
		image   = "ghcr.io/directus-operator/directus-operator:" + version
	)
	out := t.TempDir()
	stdout, stderr, err := runInDir(repoRoot, []string{"VERSION=" + version, "COMMIT=" + commit, "OUT=" + out,
		"KUBECTL=" + kubectlBin, "HELM=" + helmBin}, filepath.Join(repoRoot, "hack", "release.sh"))
	g.Expect(err).NotTo(HaveOccurred(), "hack/release.sh: %s%s", stdout, stderr)

	imageTar, chartTgz, bundle := "directus-operator-"+version+"-image.tar", "directus-operator-0.1.0.tgz", "install.yaml"
	entries, err := os.ReadDir(out)
	g.Expect(err).NotTo(HaveOccurred())
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	g.Expect(names).To(ConsistOf(imageTar, chartTgz, bundle, "SHA256SUMS"), "the release folder holds the artifacts and nothing else")

	// SHA256SUMS: the format sha256sum -c reads, one line per artifact.
	sums := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(readFile(t, filepath.Join(out, "SHA256SUMS")))), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		g.Expect(ok).To(BeTrue(), "a SHA256SUMS line is '<sum>  <name>': %q", line)
		sums[name] = "sha256:" + sum
	}
	g.Expect(sums).To(HaveLen(3))
	for _, name := range []string{imageTar, chartTgz, bundle} {
		g.Expect(sums).To(HaveKeyWithValue(name, sha256Digest(readFile(t, filepath.Join(out, name)))), "SHA256SUMS matches %s", name)
	}

	// The image: its labels and the binary inside it tell the same version.
	labels, bin := imageLabelsAndBinary(t, g, filepath.Join(out, imageTar))
	g.Expect(labels).To(HaveKeyWithValue("org.opencontainers.image.version", version))
	g.Expect(labels).To(HaveKeyWithValue("org.opencontainers.image.revision", commit))
	binPath := filepath.Join(t.TempDir(), "directus-operator")
	g.Expect(os.WriteFile(binPath, bin, 0o755)).To(Succeed())
	stdout, stderr, err = run("", binPath, "version")
	g.Expect(err).NotTo(HaveOccurred(), "directus-operator version: %s", stderr)
	g.Expect(strings.Fields(stdout)).To(ContainElement(ContainSubstring(labels["org.opencontainers.image.version"])),
		"the binary's version agrees with the image's label")
	g.Expect(stdout).To(ContainSubstring("commit "+labels["org.opencontainers.image.revision"]),
		"the binary's commit agrees with the image's revision label")

	// The chart: its versions, and it installs.
	chartYAML, stderr, err := run("", helmBin, "show", "chart", filepath.Join(out, chartTgz))
	g.Expect(err).NotTo(HaveOccurred(), stderr)
	var chart struct{ Version, AppVersion string }
	g.Expect(yaml.Unmarshal([]byte(chartYAML), &chart)).To(Succeed())
	g.Expect(chart.Version).To(Equal("0.1.0"))
	g.Expect(chart.AppVersion).To(Equal(version))
	ns := uniqueNS("dop-release")
	ensureNamespace(t, ns)
	home := t.TempDir()
	helmEnv := []string{"HELM_CONFIG_HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_DATA_HOME=" + home}
	stdout, stderr, err = runEnv(helmEnv, helmBin, "install", "release-test", filepath.Join(out, chartTgz), "--namespace", ns, "--kubeconfig", kubeconfig)
	g.Expect(err).NotTo(HaveOccurred(), "helm install the packaged chart: %s%s", stdout, stderr)
	t.Cleanup(func() {
		_, _, _ = runEnv(helmEnv, helmBin, "uninstall", "release-test", "--namespace", ns, "--kubeconfig", kubeconfig)
	})
	dep := &appsv1.Deployment{}
	g.Expect(k8sClient.Get(context.Background(), keyOf(ns, "release-test-directus-operator"), dep)).To(Succeed())
	g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal(image), "the chart runs the release's image")

	// The bundle: the three CRDs and the operator on the release's image,
	// applied for real.
	objs := decodeObjects(t, string(readFile(t, filepath.Join(out, bundle))))
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	g.Expect(kinds).To(HaveKeyWithValue("CustomResourceDefinition", 3))
	g.Expect(kinds).To(HaveKeyWithValue("Deployment", 1))
	g.Expect(typed[appsv1.Deployment](t, ofKind(objs, "Deployment")[0]).Spec.Template.Spec.Containers[0].Image).To(Equal(image))
	ensureNamespace(t, kustomizeNamespace)
	stdout, stderr, err = run("", kubectlBin, "--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts",
		"--field-manager=release-test", "-f", filepath.Join(out, bundle))
	g.Expect(err).NotTo(HaveOccurred(), "kubectl apply -f install.yaml: %s%s", stdout, stderr)
	g.Expect(stderr).NotTo(ContainSubstring("Warning"))
	t.Cleanup(func() { deleteAllBut(objs, "Namespace", "CustomResourceDefinition") })
	g.Expect(strings.Count(stdout, "serverside-applied")).To(Equal(len(objs)), "every object of install.yaml is applied:\n%s", stdout)
}

// deleteAllBut deletes objs, except those of the kinds kept: the other
// tests share the CRDs and the namespace, and envtest runs no namespace
// controller to finish deleting one.
func deleteAllBut(objs []*unstructured.Unstructured, keep ...string) {
	var stream strings.Builder
	for _, o := range objs {
		if slices.Contains(keep, o.GetKind()) {
			continue
		}
		data, _ := yaml.Marshal(o.Object)
		stream.WriteString("---\n")
		stream.Write(data)
	}
	_, _, _ = run(stream.String(), kubectlBin, "--kubeconfig", kubeconfig, "delete", "--ignore-not-found", "-f", "-")
}

// imageLabelsAndBinary reads an image tarball's config labels and the
// operator binary from its layer.
func imageLabelsAndBinary(t *testing.T, g Gomega, path string) (map[string]string, []byte) {
	t.Helper()
	l := readImageTar(t, path)
	var index struct{ Manifests []ociDescriptor }
	g.Expect(json.Unmarshal(l.files["index.json"], &index)).To(Succeed())
	g.Expect(index.Manifests).To(HaveLen(1))
	var manifest struct {
		Config ociDescriptor
		Layers []ociDescriptor
	}
	g.Expect(json.Unmarshal(l.blob(g, index.Manifests[0].Digest), &manifest)).To(Succeed())
	var config struct {
		Config struct{ Labels map[string]string }
	}
	g.Expect(json.Unmarshal(l.blob(g, manifest.Config.Digest), &config)).To(Succeed())
	g.Expect(manifest.Layers).To(HaveLen(1))
	zr, err := gzip.NewReader(bytes.NewReader(l.blob(g, manifest.Layers[0].Digest)))
	g.Expect(err).NotTo(HaveOccurred())
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("the image's layer has no directus-operator binary")
		}
		g.Expect(err).NotTo(HaveOccurred())
		if h.Name == "directus-operator" {
			bin, err := io.ReadAll(tr)
			g.Expect(err).NotTo(HaveOccurred())
			return config.Config.Labels, bin
		}
	}
}
