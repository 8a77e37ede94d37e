# directus-operator Makefile (kubebuilder v4 conventions).

IMG ?= ghcr.io/directus-operator/directus-operator:dev
# Stamped into the binary (directus-operator version) and the image labels.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo none)
LDFLAGS ?= -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Cache of tools and envtest binaries built from Go module sources (see
# hack/envtest-from-source.sh). Shared by every checkout on the machine.
CACHE_DIR ?= $(HOME)/.cache/directus-operator
ENVTEST_DEST ?= $(CACHE_DIR)/envtest
ENVTEST_K8S_VERSION ?= 1.37.2
ENVTEST_TOOLS ?= kube-apiserver etcd kubectl controller-gen helm
LOCALBIN ?= $(ENVTEST_DEST)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
HELM ?= $(LOCALBIN)/helm
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
GOLANGCI_LINT_VERSION ?= v2.15.0
KUBEBUILDER_ASSETS ?= $(ENVTEST_DEST)/k8s/$(ENVTEST_K8S_VERSION)-linux-amd64
KUBECTL ?= $(KUBEBUILDER_ASSETS)/kubectl
GO_TEST_FLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the three CRDs and the RBAC (config/crd/bases, config/rbac/role.yaml) and copy the CRDs into the Helm chart.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@if [ -d charts/directus-operator/crds ]; then cp config/crd/bases/*.yaml charts/directus-operator/crds/; fi

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (.golangci.yml); builds it from source on first use.
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply the fixes it can make.
	$(GOLANGCI_LINT) run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Check .golangci.yml against golangci-lint's schema.
	$(GOLANGCI_LINT) config verify

.PHONY: verify
verify: manifests generate ## Fail when generated files are stale (regenerates, then git diff).
	@git diff --exit-code -- api config charts || { echo "Generated files are stale: run 'make manifests generate' and commit the result."; exit 1; }

.PHONY: test
test: manifests generate fmt vet envtest ## Run the unit and envtest suites (builds envtest binaries from source on first use).
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" KUBECTL="$(KUBECTL)" HELM="$(HELM)" \
	  go test $(GO_TEST_FLAGS) -race -count=1 ./...

.PHONY: test-e2e
test-e2e: envtest ## Run the end-to-end suite against a real Directus (installed from npm on first use).
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" KUBECTL="$(KUBECTL)" HELM="$(HELM)" \
	  go test -tags e2e -count=1 -timeout 40m -v ./test/e2e/... 2>&1 | tee /tmp/directus-operator-e2e.log | grep --line-buffered -E '^(=== RUN|--- |PASS|FAIL|ok|panic|e2e[: ]|    [a-z_]+\.go:)' || exit 1

# A real single-node cluster on this machine (hack/cluster.sh, docs/cluster.md):
# the envtest version's etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet and kube-proxy built from module sources; containerd,
# runc and the CNI plugins from Debian. Needs root.
CLUSTER_DIR ?= $(HOME)/.local/state/directus-operator/cluster
export CLUSTER_DIR

.PHONY: cluster
cluster: ## Start a real single-node cluster (pods, Services) with the operator image built from this checkout; prints its kubeconfig. Needs root.
	./hack/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop what make cluster started and undo its network setup.
	./hack/cluster.sh down

.PHONY: test-cluster
test-cluster: ## Run the suite that installs the operator as users do (helm, kustomize, a sidecar pod) on the cluster of make cluster, against a real Directus.
	./hack/directus.sh install
	HELM="$(HELM)" KUBECTL="$(KUBECTL)" \
	  go test -tags cluster -count=1 -timeout 45m -v ./test/cluster/... 2>&1 | tee /tmp/directus-operator-cluster.log | grep --line-buffered -E '^(=== RUN|--- |PASS|FAIL|ok|panic|cluster[: ]|    [a-z_]+\.go:)' || exit 1

.PHONY: bench
bench: envtest ## Latency and API-cost benchmark (not part of test): the operator vs a naive mirror, both timed against a raw WebSocket subscriber on a real Directus; prints a table, writes bin/bench.md. See docs/benchmarks.md.
	./hack/directus.sh install
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" go run ./test/bench/latency

.PHONY: bench-floor
bench-floor: envtest ## Latency floor (not part of test): what this machine allows under the latency targets, whatever the mirror does: Directus's delay to a second subscriber, and the API server's write-to-watch delay; prints a table, writes bin/bench-floor.md. See docs/benchmarks.md.
	./hack/directus.sh install
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" BENCH_SUBJECTS=floor go run ./test/bench/latency

.PHONY: bench-failover
bench-failover: cluster ## Failover benchmark (not part of test): on the cluster of make cluster, runs the failover, upgrade and shard tests BENCH_RUNS (3) times with a stream of changes; prints the gaps as a table, writes bin/bench-failover.md. See docs/benchmarks.md.
	./hack/directus.sh install
	HELM="$(HELM)" KUBECTL="$(KUBECTL)" go run ./test/bench/failover

.PHONY: bench-scale
bench-scale: envtest ## Scale benchmark (not part of test): BENCH_SUBSCRIPTIONS (1000) subscriptions against a real Directus (BENCH_DIRECTUS=fake: the in-repo fake); prints a table, writes bin/bench-scale.md. See docs/benchmarks.md.
	@if [ "$${BENCH_DIRECTUS:-real}" = real ]; then ./hack/directus.sh install; fi
	KUBEBUILDER_ASSETS="$(KUBEBUILDER_ASSETS)" go run ./test/bench/scale

##@ Build

.PHONY: build
build: fmt vet ## Build the directus-operator binary (operator, sidecar and CLI).
	CGO_ENABLED=0 go build -trimpath -ldflags="$(LDFLAGS)" -o bin/directus-operator ./cmd

.PHONY: run
run: manifests generate fmt vet ## Run the operator against the cluster in ~/.kube/config.
	go run ./cmd operator

PLUGIN_DIR ?= $(HOME)/.local/bin

.PHONY: install-plugin
install-plugin: build ## Install the binary as the kubectl plugin "kubectl directus": a symlink kubectl-directus in PLUGIN_DIR (~/.local/bin), which must be on $PATH.
	@mkdir -p "$(PLUGIN_DIR)"
	ln -sf "$(abspath bin/directus-operator)" "$(PLUGIN_DIR)/kubectl-directus"

.PHONY: demo
demo: ## The main job on a fresh machine: local control plane, real Directus, operator, a sample subscription, items flowing into a ConfigMap.
	./hack/demo.sh

.PHONY: docker-build
docker-build: ## Build the container image with a Docker engine.
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMG) .

.PHONY: image
image: ## Build the container image without a daemon, into dist/image.tar (OCI layout tarball, reproducible).
	@mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="$(LDFLAGS)" -o dist/directus-operator ./cmd
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || echo 0)} \
	  go run ./hack/image -binary dist/directus-operator -tag $(IMG) \
	    -version $(VERSION) -revision $(COMMIT) -out dist/image.tar

# The image a release's chart and install.yaml point at.
RELEASE_IMAGE ?= ghcr.io/directus-operator/directus-operator
RELEASE_DIR ?= dist/release/$(VERSION)

.PHONY: release
release: envtest ## Build a release into dist/release/$(VERSION): the image tarball, the chart .tgz, install.yaml and SHA256SUMS. Set VERSION (e.g. v0.1.0).
	VERSION="$(VERSION)" COMMIT="$(COMMIT)" IMAGE="$(RELEASE_IMAGE):$(VERSION)" OUT="$(RELEASE_DIR)" \
	  KUBECTL="$(KUBECTL)" HELM="$(HELM)" ./hack/release.sh

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests envtest ## Install the three CRDs into the cluster in ~/.kube/config.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: manifests envtest ## Remove the three CRDs from the cluster (and with them every subscription and connection).
	$(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f config/crd/bases

# config/default: cluster-wide; config/namespaced: one watched namespace, no
# cluster-wide rights on its objects (docs/security.md).
KUSTOMIZE_DIR ?= config/default

.PHONY: deploy
deploy: manifests envtest ## Deploy the operator with kustomize (KUSTOMIZE_DIR: config/default, or config/namespaced for one namespace) using IMG.
	$(KUBECTL) kustomize $(KUSTOMIZE_DIR) | sed "s|controller:latest|$(IMG)|" | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: envtest ## Remove what deploy created.
	$(KUBECTL) kustomize $(KUSTOMIZE_DIR) | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd, kubectl, controller-gen and helm from Go module sources into $(ENVTEST_DEST).
	@DEST="$(ENVTEST_DEST)" K8S_VERSION="$(ENVTEST_K8S_VERSION)" TOOLS="$(ENVTEST_TOOLS)" ./hack/envtest-from-source.sh >/dev/null

.PHONY: controller-gen
controller-gen: ## Build controller-gen from source if needed.
	@DEST="$(ENVTEST_DEST)" TOOLS=controller-gen ./hack/envtest-from-source.sh >/dev/null

.PHONY: helm
helm: ## Build helm from source if needed.
	@DEST="$(ENVTEST_DEST)" TOOLS=helm ./hack/envtest-from-source.sh >/dev/null

# Not in ENVTEST_TOOLS: `make envtest` (CI's first step) does not wait for it.
.PHONY: golangci-lint
golangci-lint: ## Build golangci-lint $(GOLANGCI_LINT_VERSION) from source if needed (~3 min cold).
	@DEST="$(ENVTEST_DEST)" TOOLS=golangci-lint GOLANGCI_LINT_VERSION="$(GOLANGCI_LINT_VERSION)" ./hack/envtest-from-source.sh >/dev/null
