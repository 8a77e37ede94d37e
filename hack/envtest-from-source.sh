#!/usr/bin/env bash
# envtest-from-source.sh builds the control-plane binaries that envtest needs
# (kube-apiserver, etcd and, optionally, kubectl) plus the project's tools
# (controller-gen, helm, golangci-lint) from Go module sources, because
# release downloads (setup-envtest, GitHub releases) are unreachable here and
# at many air-gapped users. Only the Go module proxy is used.
#
# Output follows setup-envtest's layout so other tooling finds it:
#   $DEST/k8s/$K8S_VERSION-linux-amd64/{kube-apiserver,etcd,kubectl}
#   $DEST/bin/{controller-gen,helm,golangci-lint}
# A binary is rebuilt only when its stamp (version + flags + Go version)
# changes, so a warm re-run takes well under a second. The last line printed
# is the KUBEBUILDER_ASSETS directory.
#
# Knobs (environment):
#   DEST               cache root (default ~/.cache/directus-operator/envtest)
#   K8S_VERSION        k8s.io/kubernetes version (default 1.37.2)
#   ETCD_VERSION       go.etcd.io/etcd/server/v3 version (default 3.7.3)
#   CONTROLLER_TOOLS_VERSION  (default v0.23.0)
#   HELM_VERSION       (default v3.22.0)
#   GOLANGCI_LINT_VERSION     (default v2.15.0)
#   TOOLS              subset to build (default "kube-apiserver etcd kubectl controller-gen helm";
#                      kube-controller-manager kube-scheduler kube-proxy kubelet for make cluster);
#                      golangci-lint is built only when named (make lint does), so
#                      `make envtest` and CI's first step don't pay for it
set -euo pipefail

DEST=${DEST:-$HOME/.cache/directus-operator/envtest}
K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.7.3}
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
GOLANGCI_LINT_VERSION=${GOLANGCI_LINT_VERSION:-v2.15.0}
TOOLS=${TOOLS:-"kube-apiserver etcd kubectl controller-gen helm"}

k8s_minor=${K8S_VERSION#*.}; k8s_minor=${k8s_minor%%.*}
staging_version="v0.${k8s_minor}.${K8S_VERSION##*.}"
assets="$DEST/k8s/${K8S_VERSION}-linux-amd64"
bindir="$DEST/bin"
work="$DEST/src"
mkdir -p "$assets" "$bindir" "$work"

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=${GOTOOLCHAIN:-local}
goversion=$(go env GOVERSION)

log() { printf '[envtest-from-source] %s\n' "$*" >&2; }

# fresh NAME STAMP: true when $NAME must be (re)built.
fresh() {
  local out=$1 stamp=$2
  [[ -x "$out" && -f "$out.stamp" && "$(cat "$out.stamp")" == "$stamp" ]] && return 1
  return 0
}
done_stamp() { printf '%s' "$2" >"$1.stamp"; }

wants() { [[ " $TOOLS " == *" $1 "* ]]; }

# k8s_module prepares a throwaway module whose replace list is generated from
# k8s.io/kubernetes's own go.mod: that go.mod requires k8s.io/* v0.0.0 with
# replace => ./staging/..., which does not apply to dependents, so a plain
# `go install k8s.io/kubernetes/cmd/...@v` fails.
k8s_module() {
  local dir="$work/kubernetes-$K8S_VERSION"
  if [[ -f "$dir/.ready" ]]; then echo "$dir"; return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f "$gomod" ]] || { log "cannot download k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
  {
    echo "module envtestbuild"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//').0"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    grep -Eo 'k8s\.io/[A-Za-z0-9._/-]+ => \./staging/src/k8s\.io/[A-Za-z0-9._/-]+' "$gomod" |
      awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package envtestbuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
  log "resolving the k8s.io/kubernetes@v$K8S_VERSION module graph ($(grep -c '=>' "$dir/go.mod") staging replaces)"
  (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; cd "$dir" && go get "k8s.io/kubernetes@v$K8S_VERSION" >/dev/null && go mod download all >/dev/null 2>&1 || true)
  touch "$dir/.ready"
  echo "$dir"
}

k8s_ldflags() {
  local dir=$1 date
  date=$(cd "$dir" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "k8s.io/kubernetes")
  local x=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=${K8S_VERSION%%.*} -X $pkg.gitMinor=$k8s_minor"
    x+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "-s -w$x"
}

build_k8s() {
  local name=$1 out="$assets/$1"
  local stamp="$name k8s=$K8S_VERSION $goversion trimpath -s -w selinux,notest,grpcnotrace"
  fresh "$out" "$stamp" || return 0
  local dir; dir=$(k8s_module)
  log "building $name v$K8S_VERSION (cold: kube-apiserver ~6-16 min on 2 cores)"
  local start=$SECONDS
  (cd "$dir" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$(k8s_ldflags "$dir")" \
    -o "$out.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$out.tmp" "$out"; done_stamp "$out" "$stamp"
  log "built $name in $((SECONDS - start)) s"
}

build_etcd() {
  local out="$assets/etcd" stamp="etcd=$ETCD_VERSION $goversion trimpath -s -w"
  fresh "$out" "$stamp" || return 0
  # etcd's server module has `replace ../api`, so `go install` refuses it; a
  # throwaway module that requires it builds fine.
  local dir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  printf 'module etcdbuild\n\ngo 1.26.0\n' >"$dir/go.mod"
  printf '//go:build tools\n\npackage etcdbuild\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$dir/tools.go"
  log "building etcd v$ETCD_VERSION"
  local start=$SECONDS
  (cd "$dir" && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1 &&
    go build -trimpath -ldflags "-s -w" -o "$out.tmp" go.etcd.io/etcd/server/v3)
  mv "$out.tmp" "$out"; done_stamp "$out" "$stamp"
  log "built etcd in $((SECONDS - start)) s"
}

build_tool() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-"-s -w"}
  local out="$bindir/$name" stamp="$name=$version $goversion trimpath $ldflags"
  fresh "$out" "$stamp" || return 0
  log "building $name $version"
  local start=$SECONDS
  GOBIN="$work/gobin-$name" go install -trimpath -ldflags "$ldflags" "$pkg@$version"
  mv "$work/gobin-$name/$name" "$out"; done_stamp "$out" "$stamp"
  log "built $name in $((SECONDS - start)) s"
}

wants etcd && build_etcd
wants kube-apiserver && build_k8s kube-apiserver
wants kubectl && build_k8s kubectl
# The rest of a node, for `make cluster` (hack/cluster.sh): built only when named.
for part in kube-controller-manager kube-scheduler kube-proxy kubelet; do
  if wants "$part"; then build_k8s "$part"; fi
done
wants controller-gen && build_tool controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen "$CONTROLLER_TOOLS_VERSION"
if wants helm; then
  # Without these flags helm assumes Kubernetes v1.20 for .Capabilities and lint.
  hv="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for p in chartutil lint/rules; do
    hv+=" -X helm.sh/helm/v3/pkg/$p.k8sVersionMajor=${K8S_VERSION%%.*} -X helm.sh/helm/v3/pkg/$p.k8sVersionMinor=$k8s_minor"
  done
  build_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "$hv"
fi
# golangci-lint's go.mod has no replace directives, so `go install pkg@version`
# works as is. Its `version` command reads the module version from the build
# info, which `go install` records.
wants golangci-lint && build_tool golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
echo "$assets"
