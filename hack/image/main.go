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

// Command image builds the directus-operator container image without a
// container engine: it packs a static binary into one gzip layer and writes an
// OCI image layout as a tarball (oci-layout, index.json, blobs/sha256/...),
// plus a Docker-style manifest.json so `docker load` and `podman load` accept
// it too. Push it with `skopeo copy oci-archive:dist/image.tar docker://REF`
// or `crane push dist/image.tar REF`.
//
// The image mirrors the Dockerfile's distroless/static:nonroot result: the
// binary at /directus-operator (0755), the build machine's CA bundle at
// /etc/ssl/certs/ca-certificates.crt when present, /etc/passwd and /etc/group
// with the nonroot user 65532, /home/nonroot and a sticky /tmp. It runs as
// 65532:65532 with ENTRYPOINT ["/directus-operator"].
//
// The output is reproducible: every timestamp is SOURCE_DATE_EPOCH (the Unix
// epoch when unset), entries are written in a fixed order and JSON is
// marshalled from structs, so the same inputs give the same digest.
//
// Give -version and -revision what the binary was stamped with (-X
// main.version, -X main.commit), so that the image's labels and
// `directus-operator version` agree; the Makefile and hack/release.sh pass
// one VERSION and COMMIT to both.
//
// Usage (see the Makefile's image target and hack/release.sh):
//
//	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=v0.1.0 -X main.commit=$(git rev-parse HEAD)" -o dist/directus-operator ./cmd
//	go run ./hack/image -binary dist/directus-operator -tag ghcr.io/directus-operator/directus-operator:v0.1.0 \
//	  -version v0.1.0 -revision $(git rev-parse HEAD) -out dist/image.tar
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"

	// defaultEntrypoint is where the binary lives in the image.
	defaultEntrypoint = "/directus-operator"
	// nonroot is the uid and gid the image runs as (distroless's nonroot).
	nonroot = 65532
)

// options are the command-line flags.
type options struct {
	binary   string
	out      string
	ref      string
	version  string
	revision string
	arch     string
	caBundle string
	// entrypoint is the binary's path in the image. hack/cluster.sh packs
	// its pause binary and the cluster tests' helper apps with the same tool.
	entrypoint string
	created    time.Time
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "dist/directus-operator", "static linux binary to package as -entrypoint")
	flag.StringVar(&o.entrypoint, "entrypoint", defaultEntrypoint, "absolute path of the binary in the image, run as its ENTRYPOINT")
	flag.StringVar(&o.out, "out", "dist/image.tar", "OCI layout tarball to write")
	flag.StringVar(&o.ref, "tag", "ghcr.io/directus-operator/directus-operator:dev", "image reference recorded in index.json and manifest.json")
	flag.StringVar(&o.version, "version", "", "org.opencontainers.image.version label: the binary's -X main.version. Defaults to the tag of -tag")
	flag.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision label: the binary's -X main.commit (a git commit)")
	flag.StringVar(&o.arch, "arch", "amd64", "image architecture; must match the binary")
	flag.StringVar(&o.caBundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt",
		"CA certificates to copy to /etc/ssl/certs/ca-certificates.crt; skipped when the file does not exist")
	flag.Parse()

	created, err := sourceDateEpoch()
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(2)
	}
	o.created = created
	if o.version == "" {
		o.version = tagOf(o.ref)
	}

	digest, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %s %s\n", o.out, o.ref, digest)
}

// sourceDateEpoch returns SOURCE_DATE_EPOCH (https://reproducible-builds.org)
// as a time, or the Unix epoch when it is unset.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse SOURCE_DATE_EPOCH %q: %w", v, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// tagOf returns the tag of an image reference ("dev" for "repo/name:dev"), or
// "" when it has none.
func tagOf(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ""
	}
	return ref[i+1:]
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type imageConfig struct {
	Created      string         `json:"created"`
	Architecture string         `json:"architecture"`
	OS           string         `json:"os"`
	Config       runtimeConfig  `json:"config"`
	RootFS       rootFS         `json:"rootfs"`
	History      []historyEntry `json:"history"`
}

type runtimeConfig struct {
	User       string            `json:"User"`
	Entrypoint []string          `json:"Entrypoint"`
	Env        []string          `json:"Env"`
	WorkingDir string            `json:"WorkingDir"`
	Labels     map[string]string `json:"Labels"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type historyEntry struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
	Comment   string `json:"comment,omitempty"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// dockerManifest is one entry of the manifest.json that `docker load` reads.
type dockerManifest struct {
	Config   string
	RepoTags []string `json:",omitempty"`
	Layers   []string
}

// blob is content addressed by its sha256 digest.
type blob struct {
	digest string
	data   []byte
}

func newBlob(data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{digest: "sha256:" + hex.EncodeToString(sum[:]), data: data}
}

func (b blob) path() string { return "blobs/sha256/" + strings.TrimPrefix(b.digest, "sha256:") }

// build writes the image tarball and returns the manifest digest.
func build(o options) (string, error) {
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return "", fmt.Errorf("read binary: %w", err)
	}
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		return "", fmt.Errorf("%s is not a Linux (ELF) binary: build it with GOOS=linux CGO_ENABLED=0", o.binary)
	}
	ca, err := os.ReadFile(o.caBundle)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read CA bundle: %w", err)
	}
	if ca == nil {
		fmt.Fprintf(os.Stderr, "image: %s not found; the image has no CA certificates\n", o.caBundle)
	}

	layerTar, err := rootfsTar(o.entrypoint, bin, ca, o.created)
	if err != nil {
		return "", err
	}
	diffID := newBlob(layerTar).digest
	gz, err := gzipBytes(layerTar)
	if err != nil {
		return "", err
	}
	layer := newBlob(gz)

	created := o.created.Format(time.RFC3339)
	cfg, err := json.Marshal(imageConfig{
		Created:      created,
		Architecture: o.arch,
		OS:           "linux",
		Config: runtimeConfig{
			User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
			Entrypoint: []string{o.entrypoint},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			},
			WorkingDir: "/",
			Labels:     labels(o),
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History: []historyEntry{{Created: created, CreatedBy: "hack/image", Comment: "directus-operator static binary, daemonless build"}},
	})
	if err != nil {
		return "", fmt.Errorf("marshal image config: %w", err)
	}
	config := newBlob(cfg)

	man, err := json.Marshal(manifest{
		SchemaVersion: 2,
		MediaType:     mediaTypeManifest,
		Config:        descriptor{MediaType: mediaTypeConfig, Digest: config.digest, Size: int64(len(config.data))},
		Layers:        []descriptor{{MediaType: mediaTypeLayer, Digest: layer.digest, Size: int64(len(layer.data))}},
	})
	if err != nil {
		return "", fmt.Errorf("marshal manifest: %w", err)
	}
	mf := newBlob(man)

	annotations := map[string]string{"io.containerd.image.name": o.ref}
	if tag := tagOf(o.ref); tag != "" {
		annotations["org.opencontainers.image.ref.name"] = tag
	}
	idx, err := json.Marshal(index{
		SchemaVersion: 2,
		MediaType:     mediaTypeIndex,
		Manifests: []descriptor{{
			MediaType: mediaTypeManifest, Digest: mf.digest, Size: int64(len(mf.data)),
			Annotations: annotations,
			Platform:    &platform{Architecture: o.arch, OS: "linux"},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("marshal index: %w", err)
	}
	dm := dockerManifest{Config: config.path(), Layers: []string{layer.path()}}
	if tagOf(o.ref) != "" && !strings.Contains(o.ref, "@") {
		dm.RepoTags = []string{o.ref}
	}
	docker, err := json.Marshal([]dockerManifest{dm})
	if err != nil {
		return "", fmt.Errorf("marshal manifest.json: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return "", err
	}
	tmp := o.out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer func() { _ = os.Remove(tmp) }() // gone after the rename below: nothing to report
	tw := newTarWriter(f, o.created)
	tw.file("oci-layout", 0o644, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	tw.file("index.json", 0o644, idx)
	tw.file("manifest.json", 0o644, docker)
	tw.dir("blobs", 0o755)
	tw.dir("blobs/sha256", 0o755)
	for _, b := range []blob{config, layer, mf} {
		tw.file(b.path(), 0o644, b.data)
	}
	if err := tw.close(); err != nil {
		_ = f.Close() // the write error is the one to report
		return "", fmt.Errorf("write %s: %w", o.out, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, o.out); err != nil {
		return "", err
	}
	return mf.digest, nil
}

// labels are the OCI annotations (org.opencontainers.image.*) on the image,
// the same as the Dockerfile's LABEL.
func labels(o options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "directus-operator",
		"org.opencontainers.image.description": "Mirrors Directus Realtime subscriptions into Kubernetes ConfigMaps, Secrets and Events",
		"org.opencontainers.image.source":      "https://github.com/directus-operator/directus-operator",
		"org.opencontainers.image.url":         "https://github.com/directus-operator/directus-operator",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.vendor":      "The directus-operator Authors",
		"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
	}
	if o.version != "" {
		l["org.opencontainers.image.version"] = o.version
	}
	if o.revision != "" {
		l["org.opencontainers.image.revision"] = o.revision
	}
	return l
}

// rootfsTar returns the uncompressed layer: the root filesystem of the image.
func rootfsTar(entrypoint string, bin, ca []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := newTarWriter(&buf, mtime)
	tw.file(strings.TrimPrefix(entrypoint, "/"), 0o755, bin)
	tw.dir("etc", 0o755)
	tw.file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n"))
	tw.file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
	if ca != nil {
		tw.dir("etc/ssl", 0o755)
		tw.dir("etc/ssl/certs", 0o755)
		tw.file("etc/ssl/certs/ca-certificates.crt", 0o644, ca)
	}
	tw.dir("home", 0o755)
	tw.entry(&tar.Header{Typeflag: tar.TypeDir, Name: "home/nonroot/", Mode: 0o700, Uid: nonroot, Gid: nonroot}, nil)
	tw.dir("tmp", 0o1777)
	if err := tw.close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses data with a header that carries no name or time, so
// the result depends only on data.
func gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}
	return buf.Bytes(), nil
}

// tarWriter writes entries owned by root with one fixed mtime and keeps the
// first error, so callers check once at close.
type tarWriter struct {
	tw    *tar.Writer
	mtime time.Time
	err   error
}

func newTarWriter(w io.Writer, mtime time.Time) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), mtime: mtime}
}

func (t *tarWriter) entry(h *tar.Header, data []byte) {
	if t.err != nil {
		return
	}
	h.ModTime = t.mtime
	h.Format = tar.FormatPAX
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(data))
	}
	if t.err = t.tw.WriteHeader(h); t.err != nil {
		return
	}
	if len(data) > 0 {
		_, t.err = t.tw.Write(data)
	}
}

func (t *tarWriter) file(name string, mode int64, data []byte) {
	t.entry(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, data)
}

func (t *tarWriter) dir(name string, mode int64) {
	t.entry(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}, nil)
}

func (t *tarWriter) close() error {
	if t.err != nil {
		return t.err
	}
	return t.tw.Close()
}
