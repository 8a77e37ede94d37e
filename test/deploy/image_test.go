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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/test/testutil"
)

// buildOperatorBinary builds the real ./cmd as a static Linux binary, or,
// while ./cmd does not exist or does not build yet, a tiny stand-in.
func buildOperatorBinary(t *testing.T, dir string) (path string, real bool) {
	t.Helper()
	path = filepath.Join(dir, "directus-operator")
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}
	if _, err := os.Stat(filepath.Join(repoRoot, "cmd")); err == nil {
		_, stderr, err := runInDir(repoRoot, env, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", path, "./cmd")
		if err == nil {
			return path, true
		}
		t.Logf("./cmd does not build yet, testing the image with a stand-in binary:\n%s", stderr)
	}
	_, stderr, err := runInDir(filepath.Join(repoRoot, "test", "deploy"), env, "go", "build", "-trimpath", "-o", path, "./testdata/standin")
	if err != nil {
		t.Fatalf("build the stand-in binary: %v\n%s", err, stderr)
	}
	return path, false
}

// imageLayout is an image tarball read into memory.
type imageLayout struct {
	files map[string][]byte
}

func readImageTar(t *testing.T, path string) imageLayout {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	l := imageLayout{files: map[string][]byte{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return l
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		l.files[h.Name] = data
	}
}

// blob returns a blob by digest after checking the content matches it.
func (l imageLayout) blob(g Gomega, digest string) []byte {
	data, ok := l.files["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")]
	g.ExpectWithOffset(1, ok).To(BeTrue(), "blob %s is in the layout", digest)
	g.ExpectWithOffset(1, sha256Digest(data)).To(Equal(digest), "blob content matches its digest")
	return data
}

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	} `json:"platform"`
}

func TestDaemonlessImageIsReproducibleAndRunnable(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	bin, real := buildOperatorBinary(t, dir)
	binData, err := os.ReadFile(bin)
	g.Expect(err).NotTo(HaveOccurred())

	tool := filepath.Join(dir, "image-tool")
	_, stderr, err := runInDir(repoRoot, nil, "go", "build", "-o", tool, "./hack/image")
	g.Expect(err).NotTo(HaveOccurred(), "build hack/image: %s", stderr)

	const ref = "ghcr.io/directus-operator/directus-operator:v1.2.3"
	build := func(out string) string {
		stdout, stderr, err := runInDir(repoRoot, []string{"SOURCE_DATE_EPOCH=1767225600"}, tool,
			"-binary", bin, "-tag", ref, "-revision", "0123abcd", "-out", out)
		g.Expect(err).NotTo(HaveOccurred(), "hack/image: %s", stderr)
		m := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindString(stdout)
		g.Expect(m).NotTo(BeEmpty(), "hack/image prints the digest: %q", stdout)
		return m
	}
	first, second := filepath.Join(dir, "one.tar"), filepath.Join(dir, "two.tar")
	digest := build(first)
	g.Expect(build(second)).To(Equal(digest), "two builds give the same manifest digest")
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	g.Expect(bytes.Equal(a, b)).To(BeTrue(), "two builds give byte-identical tarballs")

	l := readImageTar(t, first)
	g.Expect(l.files).To(HaveKeyWithValue("oci-layout", MatchJSON(`{"imageLayoutVersion":"1.0.0"}`)))

	var index struct {
		SchemaVersion int             `json:"schemaVersion"`
		Manifests     []ociDescriptor `json:"manifests"`
	}
	g.Expect(json.Unmarshal(l.files["index.json"], &index)).To(Succeed())
	g.Expect(index.SchemaVersion).To(Equal(2))
	g.Expect(index.Manifests).To(HaveLen(1))
	g.Expect(index.Manifests[0].Digest).To(Equal(digest))
	g.Expect(index.Manifests[0].MediaType).To(Equal("application/vnd.oci.image.manifest.v1+json"))
	g.Expect(index.Manifests[0].Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", "v1.2.3"))
	g.Expect(index.Manifests[0].Platform).NotTo(BeNil())
	g.Expect(index.Manifests[0].Platform.OS).To(Equal("linux"))
	g.Expect(index.Manifests[0].Platform.Architecture).To(Equal("amd64"))

	var manifest struct {
		Config ociDescriptor   `json:"config"`
		Layers []ociDescriptor `json:"layers"`
	}
	g.Expect(json.Unmarshal(l.blob(g, digest), &manifest)).To(Succeed())
	g.Expect(manifest.Layers).To(HaveLen(1))
	g.Expect(manifest.Layers[0].MediaType).To(Equal("application/vnd.oci.image.layer.v1.tar+gzip"))

	var config struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			User       string            `json:"User"`
			Entrypoint []string          `json:"Entrypoint"`
			Labels     map[string]string `json:"Labels"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	g.Expect(json.Unmarshal(l.blob(g, manifest.Config.Digest), &config)).To(Succeed())
	g.Expect(config.OS).To(Equal("linux"))
	g.Expect(config.Architecture).To(Equal("amd64"))
	g.Expect(config.Config.User).To(Equal("65532:65532"))
	g.Expect(config.Config.Entrypoint).To(Equal([]string{"/directus-operator"}))
	g.Expect(config.Config.Labels).To(And(
		HaveKeyWithValue("org.opencontainers.image.title", "directus-operator"),
		HaveKeyWithValue("org.opencontainers.image.source", "https://github.com/directus-operator/directus-operator"),
		HaveKeyWithValue("org.opencontainers.image.licenses", "Apache-2.0"),
		HaveKeyWithValue("org.opencontainers.image.version", "v1.2.3"),
		HaveKeyWithValue("org.opencontainers.image.revision", "0123abcd"),
		HaveKeyWithValue("org.opencontainers.image.created", "2026-01-01T00:00:00Z"),
	))

	// The layer: the binary (0755, byte for byte), passwd with nonroot, /tmp.
	gz := l.blob(g, manifest.Layers[0].Digest)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	g.Expect(err).NotTo(HaveOccurred())
	layer, err := io.ReadAll(zr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(config.RootFS.DiffIDs).To(Equal([]string{sha256Digest(layer)}), "diff_id is the digest of the uncompressed layer")

	entries := map[string]*tar.Header{}
	contents := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		g.Expect(err).NotTo(HaveOccurred())
		entries[h.Name] = h
		contents[h.Name], _ = io.ReadAll(tr)
	}
	g.Expect(entries).To(HaveKey("directus-operator"))
	h := entries["directus-operator"]
	g.Expect(h.Typeflag).To(Equal(byte(tar.TypeReg)))
	g.Expect(h.FileInfo().Mode().Perm()).To(Equal(os.FileMode(0o755)))
	g.Expect(bytes.Equal(contents["directus-operator"], binData)).To(BeTrue(), "the layer holds the binary unchanged")
	g.Expect(string(contents["etc/passwd"])).To(ContainSubstring("nonroot:x:65532:65532:"))
	g.Expect(entries).To(HaveKey("tmp/"))
	g.Expect(entries["tmp/"].FileInfo().Mode() & os.ModeSticky).NotTo(BeZero())
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		g.Expect(contents).To(HaveKey("etc/ssl/certs/ca-certificates.crt"))
	}
	for name, h := range entries {
		g.Expect(h.ModTime.Unix()).To(BeEquivalentTo(1767225600), "%s has the fixed mtime", name)
	}

	// docker load and podman load read manifest.json.
	var docker []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	g.Expect(json.Unmarshal(l.files["manifest.json"], &docker)).To(Succeed())
	g.Expect(docker).To(HaveLen(1))
	g.Expect(docker[0].RepoTags).To(Equal([]string{ref}))
	g.Expect(docker[0].Config).To(Equal("blobs/sha256/" + strings.TrimPrefix(manifest.Config.Digest, "sha256:")))

	// The binary from the layer runs (static, executable).
	extracted := filepath.Join(dir, "extracted")
	g.Expect(os.WriteFile(extracted, contents["directus-operator"], h.FileInfo().Mode().Perm())).To(Succeed())
	stdout, stderr, err := run("", extracted, "version")
	g.Expect(err).NotTo(HaveOccurred(), "directus-operator version: %s%s", stdout, stderr)
	if !real {
		g.Expect(stdout).To(ContainSubstring("stand-in"))
	}
}

// TestDockerfileMatchesDaemonlessImage keeps the Dockerfile and hack/image in
// step: same base contract (static binary, nonroot user, entrypoint).
func TestDockerfileMatchesDaemonlessImage(t *testing.T) {
	g := NewWithT(t)
	dockerfile := string(readRepoFile(t, "Dockerfile"))
	for _, want := range []string{
		"FROM --platform=$BUILDPLATFORM golang:1.26 AS builder",
		"CGO_ENABLED=0",
		`go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /directus-operator ./cmd`,
		`org.opencontainers.image.version="$VERSION"`,
		`org.opencontainers.image.revision="$COMMIT"`,
		"FROM gcr.io/distroless/static:nonroot",
		"COPY --from=builder /directus-operator /directus-operator",
		"USER 65532:65532",
		`ENTRYPOINT ["/directus-operator"]`,
		"org.opencontainers.image.source=",
		"org.opencontainers.image.licenses=",
	} {
		g.Expect(dockerfile).To(ContainSubstring(want))
	}
	var ignore []string
	for line := range strings.SplitSeq(string(readRepoFile(t, ".dockerignore")), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			ignore = append(ignore, line)
		}
	}
	for _, needed := range []string{"go.mod", "go.sum", "cmd/", "api/", "controllers/", "realtime/", "*", "**/*.go"} {
		g.Expect(ignore).NotTo(ContainElement(needed), ".dockerignore must not exclude %s", needed)
	}
}

// runningBinary is the operator binary running against the envtest API
// server.
type runningBinary struct {
	cmd     *exec.Cmd
	output  *testutil.SyncBuffer
	done    chan struct{}
	waitErr error
}

// err is the process's exit error, once done is closed.
func (r *runningBinary) err() error {
	<-r.done
	return r.waitErr
}

// startBinary runs bin with args against the envtest API server and kills
// it when the test ends, if it has not stopped by then.
func startBinary(t *testing.T, bin string, args []string, env ...string) *runningBinary {
	t.Helper()
	r := &runningBinary{cmd: exec.Command(bin, args...), output: &testutil.SyncBuffer{}, done: make(chan struct{})}
	r.cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), env...)
	r.cmd.Stdout, r.cmd.Stderr = r.output, r.output
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.waitErr = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// freePort returns a TCP port nobody listens on right now.
func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return int32(l.Addr().(*net.TCPAddr).Port)
}
