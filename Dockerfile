# syntax=docker/dockerfile:1
# The directus-operator image: one static binary on distroless, non-root.
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) \
#     -t ghcr.io/directus-operator/directus-operator:v0.1.0 .
# (make docker-build passes both.)
# Without a Docker engine, `make image` builds the same layout daemonless
# (hack/image) into dist/image.tar.

FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /workspace

# Dependencies first, so source edits do not invalidate the module cache layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# Stamped into the binary: `directus-operator version` prints them.
ARG VERSION=dev
ARG COMMIT=none
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /directus-operator ./cmd

FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG COMMIT=none
LABEL org.opencontainers.image.title="directus-operator" \
      org.opencontainers.image.description="Mirrors Directus Realtime subscriptions into Kubernetes ConfigMaps, Secrets and Events" \
      org.opencontainers.image.source="https://github.com/directus-operator/directus-operator" \
      org.opencontainers.image.url="https://github.com/directus-operator/directus-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="The directus-operator Authors" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$COMMIT"
WORKDIR /
COPY --from=builder /directus-operator /directus-operator
USER 65532:65532
ENTRYPOINT ["/directus-operator"]
