#!/usr/bin/env bash
# release.sh is `make release VERSION=v0.1.0`: it builds, into one folder,
# every artifact of a release, each stamped with VERSION:
#
#   directus-operator-VERSION-image.tar   the OCI image (hack/image, reproducible)
#   directus-operator-X.Y.Z.tgz           the Helm chart (version X.Y.Z, appVersion VERSION)
#   install.yaml                          the three CRDs and the operator (config/default),
#                                         pointing at IMAGE
#   SHA256SUMS                            sha256sum -c checks the three above
#
# Environment: VERSION (required, vX.Y.Z), COMMIT (default: git rev-parse
# HEAD), IMAGE (default ghcr.io/directus-operator/directus-operator:VERSION),
# OUT (default dist/release/VERSION), KUBECTL and HELM (the tools; default
# from PATH), SOURCE_DATE_EPOCH (default: the last commit's time).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${VERSION:?set VERSION, e.g. VERSION=v0.1.0}"
if [[ ! $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release: VERSION must look like v1.2.3 (or v1.2.3-rc.1), got $VERSION" >&2
  exit 2
fi
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo none)}
IMAGE=${IMAGE:-ghcr.io/directus-operator/directus-operator:$VERSION}
OUT=${OUT:-dist/release/$VERSION}
KUBECTL=${KUBECTL:-kubectl}
HELM=${HELM:-helm}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
chart_version=${VERSION#v}

mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "release: $VERSION ($COMMIT) into $OUT"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath \
  -ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" -o "$work/directus-operator" ./cmd
go run ./hack/image -binary "$work/directus-operator" -tag "$IMAGE" -version "$VERSION" -revision "$COMMIT" \
  -out "$OUT/directus-operator-$VERSION-image.tar"

"$HELM" package charts/directus-operator --version "$chart_version" --app-version "$VERSION" \
  --destination "$OUT" >/dev/null

"$KUBECTL" kustomize config/default | sed "s|controller:latest|$IMAGE|" >"$work/install.yaml"
if grep -q "controller:latest" "$work/install.yaml" || ! grep -q "image: $IMAGE\$" "$work/install.yaml"; then
  echo "release: install.yaml does not point at $IMAGE" >&2
  exit 1
fi
mv "$work/install.yaml" "$OUT/install.yaml"

(cd "$OUT" && rm -f SHA256SUMS && sha256sum "directus-operator-$VERSION-image.tar" "directus-operator-$chart_version.tgz" install.yaml >SHA256SUMS)
ls -l "$OUT"
