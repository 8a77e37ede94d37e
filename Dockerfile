# syntax=docker/dockerfile:1
# The directus-operator image: one static binary on distroless, non-root.
#   docker build -t ghcr.io/directus-operator/directus-operator:dev .
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
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /directus-operator ./cmd

FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="directus-operator" \
      org.opencontainers.image.description="Mirrors Directus Realtime subscriptions into Kubernetes ConfigMaps and Events" \
      org.opencontainers.image.source="https://github.com/directus-operator/directus-operator" \
      org.opencontainers.image.url="https://github.com/directus-operator/directus-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="The directus-operator Authors" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION"
WORKDIR /
COPY --from=builder /directus-operator /directus-operator
USER 65532:65532
ENTRYPOINT ["/directus-operator"]
