#!/usr/bin/env bash
# demo.sh is `make demo`: on a fresh machine it builds what it needs, starts
# a local control plane (kube-apiserver + etcd built from source), a real
# Directus (installed from npm), the operator and the quickstart
# subscription, then creates messages and shows the ConfigMap and
# `kubectl get dsub` follow them live. Ctrl-C stops everything it started.
#
# DEMO_ITEMS=N stops by itself after N messages (CI uses it as a smoke test).
# DIRECTUS_PORT (default 8055) picks Directus's port.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${DEMO_DIR:-/tmp/directus-operator-demo}
export DIRECTUS_PORT=${DIRECTUS_PORT:-8055}
export DIRECTUS_STATE=$work/directus
items=${DEMO_ITEMS:-0}
start=$SECONDS

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() {
  trap - EXIT INT TERM
  say "stopping what the demo started"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ./hack/directus.sh stop || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"
say "building kube-apiserver, etcd and kubectl from source (cached after the first run)"
assets=$(TOOLS="kube-apiserver etcd kubectl" ./hack/envtest-from-source.sh)
export KUBEBUILDER_ASSETS=$assets
kubectl="$assets/kubectl"

say "building the operator"
CGO_ENABLED=0 go build -o "$work/directus-operator" ./cmd
go build -o "$work/controlplane" ./hack/controlplane

say "starting a real Directus on 127.0.0.1:$DIRECTUS_PORT (installed from npm on first use, ~6-10 min)"
./hack/directus.sh stop >/dev/null 2>&1 || true
./hack/directus.sh start
eval "$(./hack/directus.sh env)"

say "starting a local control plane"
rm -f "$work/kubeconfig"
"$work/controlplane" -write-kubeconfig "$work/kubeconfig" >"$work/controlplane.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [[ -s "$work/kubeconfig" ]] && break; sleep 0.1; done
[[ -s "$work/kubeconfig" ]] || { cat "$work/controlplane.log"; exit 1; }
export KUBECONFIG=$work/kubeconfig

say "starting the operator (logs: $work/operator.log)"
"$work/directus-operator" operator --leader-elect=false --metrics-bind-address=127.0.0.1:18443 \
  --health-probe-bind-address=127.0.0.1:18081 --log-format=text >"$work/operator.log" 2>&1 &
pids+=($!)

say "applying the quickstart subscription (config/samples, pointed at the local Directus)"
"$kubectl" create secret generic directus-token --from-literal=token="$DIRECTUS_BOT_TOKEN" --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
sed "s#url: .*#url: $DIRECTUS_URL#" config/samples/realtime_v1alpha1_directussubscription.yaml | "$kubectl" apply -f -
for _ in $(seq 1 300); do
  [[ "$("$kubectl" get dsub messages -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]] && break
  sleep 0.2
done
"$kubectl" get dsub messages
echo "ready $((SECONDS - start)) s after make demo started"

export DIRECTUS_URL DIRECTUS_TOKEN=$DIRECTUS_BOT_TOKEN
values() { "$kubectl" get configmap messages -o go-template='{{range .data}}{{.}}{{"\n"}}{{end}}' 2>/dev/null; }
users=(Ben Rijk Kevin)
texts=("Hello World!" "Hello Universe!" "Hello Everyone Everywhere All At Once!")
n=0
while :; do
  i=$((n % 3))
  n=$((n + 1))
  say "message $n: createItem('${texts[$i]}', '${users[$i]}') over the realtime socket"
  "$work/directus-operator" send --collection messages --action create \
    --data "{\"text\":\"${texts[$i]} #$n\",\"user\":\"${users[$i]}\"}" >/dev/null
  for _ in $(seq 1 50); do
    values | grep -q "#$n\"" && break
    sleep 0.1
  done
  # The status follows the write by a reconcile: print both once they agree.
  for _ in $(seq 1 50); do
    [[ "$("$kubectl" get dsub messages -o jsonpath='{.status.items}')" == "$(values | wc -l)" ]] && break
    sleep 0.1
  done
  "$kubectl" get dsub messages -o wide
  echo "ConfigMap messages:"
  "$kubectl" get configmap messages -o go-template='{{range $k, $v := .data}}  {{$k}}: {{$v}}{{"\n"}}{{end}}'
  if ((items > 0 && n >= items)); then
    values | grep -q "#$items\"" || { echo "message $items never reached the ConfigMap"; exit 1; }
    say "demo done: $n messages mirrored ($((SECONDS - start)) s in all)"
    exit 0
  fi
  sleep 3
done
