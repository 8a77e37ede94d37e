#!/usr/bin/env bash
# cluster.sh runs a real single-node Kubernetes cluster on this machine, with
# no container engine and no registry: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kube-proxy built from
# Go module sources at the envtest version (hack/envtest-from-source.sh, cached
# under ~/.cache/directus-operator), containerd, runc and the CNI plugins from
# Debian. The pause image and the operator image are built from this checkout
# and imported into containerd, so `helm install directus-operator
# charts/directus-operator` works unchanged.
#
#   hack/cluster.sh up        # make cluster: start what is missing, print how to use it
#   hack/cluster.sh down      # make cluster-down: stop what up started, undo what it set up
#   hack/cluster.sh status    # each part: running or not
#   hack/cluster.sh logs      # the last lines of each part's log
#   hack/cluster.sh import TAR  # import an image tarball (hack/image) into the node
#   hack/cluster.sh env       # CLUSTER_* variables for tests (eval-able)
#
# Networking stays on this machine: the API server, the kubelet and Directus
# (hack/directus.sh with DIRECTUS_HOST) listen on the bridge's host address;
# pods get addresses on the bridge from host-local IPAM; kube-proxy (iptables)
# serves Services, the `kubernetes` Service among them. Forwarding from the
# bridge to any other interface is dropped, so a pod reaches only the host and
# other pods.
#
# Knobs (environment): CLUSTER_DIR (state, logs, kubeconfig; printed),
# CLUSTER_BRIDGE (dop0), CLUSTER_POD_CIDR (10.250.0.0/16, the host takes .0.1),
# CLUSTER_SERVICE_CIDR (10.251.0.0/16), CLUSTER_APISERVER_PORT (6443),
# CLUSTER_ETCD_PORT (12379), K8S_VERSION (1.37.2), IMG (the operator image
# reference; defaults to the chart's repository and appVersion).
#
# Needs root (containerd, a kubelet, iptables). Each part that cannot run gets a
# message naming it and why; every wait has a deadline.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${CACHE_DIR:-$HOME/.cache/directus-operator}
K8S_VERSION=${K8S_VERSION:-1.37.2}
BIN="$CACHE_DIR/envtest/k8s/$K8S_VERSION-linux-amd64"
TOOLBIN="$CACHE_DIR/envtest/bin"
CLUSTER_DIR=${CLUSTER_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/directus-operator/cluster}
BRIDGE=${CLUSTER_BRIDGE:-dop0}
POD_CIDR=${CLUSTER_POD_CIDR:-10.250.0.0/16}
SERVICE_CIDR=${CLUSTER_SERVICE_CIDR:-10.251.0.0/16}
APISERVER_PORT=${CLUSTER_APISERVER_PORT:-6443}
ETCD_PORT=${CLUSTER_ETCD_PORT:-12379}
NODE_NAME=directus-operator-node
PAUSE_REF=localhost/directus-operator/pause:cluster

prefix=${POD_CIDR%.*.*/*}
HOST_IP="$prefix.0.1"
svc_prefix=${SERVICE_CIDR%.*.*/*}
KUBERNETES_SVC_IP="$svc_prefix.0.1"
SERVER="https://$HOST_IP:$APISERVER_PORT"

PKI="$CLUSTER_DIR/pki"
RUN="$CLUSTER_DIR/run"
LOGS="$CLUSTER_DIR/logs"
CONF="$CLUSTER_DIR/conf"
SOCK="$CLUSTER_DIR/containerd/containerd.sock"
KUBECONFIG_OUT="$CLUSTER_DIR/kubeconfig"
# The rule that keeps pods on this machine, tagged so down removes only it.
GUARD=(FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment directus-operator-cluster -j DROP)

log() { printf '[cluster] %s\n' "$*" >&2; }

# put FILE: writes stdin to FILE only when it differs. kube-proxy exits when its
# configuration file is written, so a second `up` must leave running parts'
# files alone.
put() {
  local tmp; tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- preflight

preflight() {
  [[ $(id -u) == 0 ]] || die "needs root: containerd, the kubelet and kube-proxy (iptables) run as root"
  [[ -d /sys/fs/cgroup ]] && { [[ -d /sys/fs/cgroup/memory ]] || [[ -f /sys/fs/cgroup/cgroup.controllers ]]; } ||
    die "kubelet cannot run: no cgroup hierarchy with a memory controller under /sys/fs/cgroup"
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
      die "apt-get update failed: cannot install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "apt-get install ${missing[*]} failed"
  fi
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || modprobe br_netfilter 2>/dev/null ||
    die "kube-proxy cannot serve Services between pods: no br_netfilter (/proc/sys/net/bridge) and modprobe br_netfilter failed"
  echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  echo 1 >/proc/sys/net/ipv4/ip_forward
  iptables -t nat -L -n >/dev/null 2>&1 || die "kube-proxy cannot run: iptables -t nat fails ($(iptables -t nat -L -n 2>&1 | head -1))"
}

# port_free PART PORT: dies when something that is not ours listens on PORT.
port_free() {
  local part=$1 port=$2
  if [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
    die "$part cannot start: port $port is taken ($(ss -Hltnp "sport = :$port" | awk '{print $NF}' | head -1))"
  fi
}

binaries() {
  log "building the node's parts v$K8S_VERSION from module sources (cached; cold ~5-15 min each on 2 cores)"
  DEST="$CACHE_DIR/envtest" K8S_VERSION="$K8S_VERSION" \
    TOOLS="etcd kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy helm" \
    "$ROOT/hack/envtest-from-source.sh" >/dev/null
}

# ---------------------------------------------------------------------- PKI

# cert NAME CN O EKU [SAN]: a key and a certificate signed by the cluster CA.
cert() {
  local name=$1 cn=$2 o=$3 eku=$4 san=${5:-}
  [[ -f "$PKI/$name.crt" ]] && return 0
  local subj="/CN=$cn"; [[ -n $o ]] && subj="/O=$o$subj"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# kubeconfig NAME CERT: a kubeconfig for the client certificate CERT.
kubeconfig() {
  local out=$1 name=$2
  put "$out" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: directus-operator
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$name.crt")
    client-key-data: $(base64 -w0 "$PKI/$name.key")
contexts:
- name: directus-operator
  context: {cluster: directus-operator, user: $name}
current-context: directus-operator
YAML
  chmod 600 "$out"
}

pki() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  if [[ ! -f "$PKI/ca.crt" ]]; then
    log "creating the cluster's PKI in $PKI"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=directus-operator-cluster-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  cert apiserver kube-apiserver "" serverAuth \
    "IP:$HOST_IP,IP:$KUBERNETES_SVC_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters clientAuth
  cert admin admin system:masters clientAuth
  cert kubelet "system:node:$NODE_NAME" system:nodes clientAuth
  cert kubelet-serving "system:node:$NODE_NAME" system:nodes serverAuth "IP:$HOST_IP,DNS:$NODE_NAME"
  cert controller-manager system:kube-controller-manager "" clientAuth
  cert scheduler system:kube-scheduler "" clientAuth
  cert kube-proxy system:kube-proxy "" clientAuth
  mkdir -p "$CONF"
  kubeconfig "$KUBECONFIG_OUT" admin
  for c in kubelet controller-manager scheduler kube-proxy; do kubeconfig "$CONF/$c.kubeconfig" "$c"; done
}

# ------------------------------------------------------------------ network

network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge || die "cannot create the pods' bridge $BRIDGE"
    touch "$RUN/bridge.ours"
  fi
  # (Not `ip addr | grep -q`: under pipefail grep's early exit fails the pipe.)
  [[ $(ip -4 -o addr show dev "$BRIDGE") == *" $HOST_IP/"* ]] || ip addr add "$HOST_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  iptables -C "${GUARD[@]}" 2>/dev/null || iptables -I "${GUARD[@]}"
  mkdir -p "$CONF/cni"
  put "$CONF/cni/10-directus-operator.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "directus-operator",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CLUSTER_DIR/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "rangeStart": "$prefix.1.0", "gateway": "$HOST_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  # The network namespaces that exist before containerd starts are not ours.
  [[ -f "$RUN/netns.before" ]] || ls /var/run/netns 2>/dev/null >"$RUN/netns.before" || true
}

# --------------------------------------------------------------- processes

alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# launch PART PORT CMD...: starts PART unless it is running, logging to $LOGS.
launch() {
  local part=$1 port=$2; shift 2
  if alive "$part"; then log "$part is running (pid $(cat "$RUN/$part.pid"))"; return 0; fi
  [[ $port == - ]] || port_free "$part" "$port"
  setsid "$@" >>"$LOGS/$part.log" 2>&1 </dev/null &
  echo $! >"$RUN/$part.pid"
  log "started $part (pid $!, log $LOGS/$part.log)"
}

# await PART SECONDS WHAT CMD...: waits until CMD succeeds; names PART and shows
# its log when PART exits or the time is up.
await() {
  local part=$1 timeout=$2 what=$3; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$part"; then
      tail -n 20 "$LOGS/$part.log" >&2 || true
      die "$part exited before $what (log: $LOGS/$part.log)"
    fi
    ((SECONDS < deadline)) || { tail -n 20 "$LOGS/$part.log" >&2 || true; die "$part: no $what after ${timeout} s (log: $LOGS/$part.log)"; }
    sleep 0.5
  done
}

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }
ctr() { command ctr --address "$SOCK" -n k8s.io "$@"; }

start_etcd() {
  launch etcd "$ETCD_PORT" "$BIN/etcd" --name node --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "node=http://127.0.0.1:$((ETCD_PORT + 1))" --unsafe-no-fsync
  await etcd 60 "health on 127.0.0.1:$ETCD_PORT" curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
  launch kube-apiserver "$APISERVER_PORT" "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$HOST_IP" --advertise-address "$HOST_IP" --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false
  await kube-apiserver 120 "/readyz" kubectl get --raw /readyz
}

start_controllers() {
  launch kube-controller-manager 10257 "$BIN/kube-controller-manager" \
    --kubeconfig "$CONF/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$CONF/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$CONF/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false
  launch kube-scheduler 10259 "$BIN/kube-scheduler" \
    --kubeconfig "$CONF/scheduler.kubeconfig" \
    --authentication-kubeconfig "$CONF/scheduler.kubeconfig" \
    --authorization-kubeconfig "$CONF/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
}

start_containerd() {
  mkdir -p "$CLUSTER_DIR/containerd"
  put "$CONF/containerd.toml" <<TOML
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "$CLUSTER_DIR/containerd/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  # root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CONF/cni"
TOML
  launch containerd - containerd --config "$CONF/containerd.toml"
  await containerd 60 "a socket at $SOCK" ctr version
}

# image_tar NAME PKG REF: builds PKG into an image tarball named REF.
image_tar() {
  local name=$1 pkg=$2 ref=$3 out="$CLUSTER_DIR/images/$1"
  mkdir -p "$out"
  (cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="-s -w" -o "$out/bin" "$pkg" &&
    go run ./hack/image -binary "$out/bin" -entrypoint "/$name" -tag "$ref" -out "$out/image.tar" >/dev/null)
  import "$out/image.tar"
}

import() {
  local tar=$1
  [[ -f $tar ]] || die "import: no such file $tar"
  ctr images import "$tar" >/dev/null 2>"$LOGS/import.err" ||
    die "containerd refused the image $tar: $(cat "$LOGS/import.err")"
}

operator_ref() {
  if [[ -n ${IMG:-} ]]; then echo "$IMG"; return; fi
  local repo app
  repo=$(sed -n 's/^  repository: *//p' "$ROOT/charts/directus-operator/values.yaml" | head -1)
  app=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/charts/directus-operator/Chart.yaml")
  echo "$repo:$app"
}

images() {
  image_tar pause ./hack/cluster/pause "$PAUSE_REF"
  local ref; ref=$(operator_ref)
  log "building the operator image $ref from this checkout"
  (cd "$ROOT" && make -s image IMG="$ref" >/dev/null)
  import "$ROOT/dist/image.tar"
}

start_kubelet() {
  mkdir -p "$CLUSTER_DIR/kubelet" "$CLUSTER_DIR/pod-logs"
  put "$CONF/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $HOST_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$SOCK
# This kind of machine mounts cgroup v1 and lacks some of what the kubelet
# checks by default; none of it matters to one node that runs tests.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: $CLUSTER_DIR/pod-logs
resolvConf: /etc/resolv.conf
serializeImagePulls: false
YAML
  launch kubelet 10250 "$BIN/kubelet" --config "$CONF/kubelet.yaml" \
    --kubeconfig "$CONF/kubelet.kubeconfig" --root-dir "$CLUSTER_DIR/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$HOST_IP"
  await kubelet 120 "node $NODE_NAME Ready" \
    kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
}

start_proxy() {
  put "$CONF/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $CONF/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
nodePortAddresses: ["$HOST_IP/32"]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0}
YAML
  launch kube-proxy 10256 "$BIN/kube-proxy" --config "$CONF/kube-proxy.yaml"
  await kube-proxy 60 "healthz" curl -fsS http://127.0.0.1:10256/healthz
}

up() {
  local start=$SECONDS
  preflight
  mkdir -p "$RUN" "$LOGS" "$CONF"
  log "state, logs and kubeconfig in $CLUSTER_DIR"
  binaries
  pki
  network
  start_etcd
  start_apiserver
  start_controllers
  start_containerd
  images
  start_kubelet
  start_proxy
  log "ready in $((SECONDS - start)) s"
  cat <<EOF
The cluster is up. Use it through its kubeconfig:
  export KUBECONFIG=$KUBECONFIG_OUT
  $BIN/kubectl get nodes
  $TOOLBIN/helm install directus-operator charts/directus-operator -n directus-operator --create-namespace
Pods reach this host (the API server, and Directus started with DIRECTUS_HOST=$HOST_IP) at $HOST_IP.
Stop it with: make cluster-down
EOF
}

# --------------------------------------------------------------------- down

stop_part() {
  local part=$1
  alive "$part" || { rm -f "$RUN/$part.pid"; return 0; }
  local pid; pid=$(cat "$RUN/$part.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$part.pid"
  log "stopped $part"
}

down() {
  [[ -d $RUN ]] || { log "nothing to stop in $CLUSTER_DIR"; return 0; }
  stop_part kube-proxy
  stop_part kubelet
  # The pods' containers outlive containerd in their shims: end them through it.
  if alive containerd; then
    local ids
    ids=$(ctr tasks ls -q 2>/dev/null || true)
    for id in $ids; do ctr tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
    for id in $ids; do ctr tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr containers ls -q 2>/dev/null || true); do ctr containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop_part containerd
  stop_part kube-scheduler
  stop_part kube-controller-manager
  stop_part kube-apiserver
  stop_part etcd
  # Undo what up set up: kube-proxy's chains, the pods' netns, mounts, bridge, rule.
  if [[ -x $BIN/kube-proxy ]]; then "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-' || true); do
    grep -qx "$ns" "$RUN/netns.before" 2>/dev/null || ip netns delete "$ns" 2>/dev/null || true
  done
  grep -F " $CLUSTER_DIR/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  iptables -D "${GUARD[@]}" 2>/dev/null || true
  if [[ -f $RUN/bridge.ours ]]; then ip link delete "$BRIDGE" 2>/dev/null || true; rm -f "$RUN/bridge.ours"; fi
  rm -f "$RUN/netns.before"
  # A new up starts from a new node: pods, IP leases and the container store go.
  rm -rf "$CLUSTER_DIR/etcd" "$CLUSTER_DIR/cni-ipam" "$CLUSTER_DIR/kubelet" "$CLUSTER_DIR/containerd"
  log "down; the PKI and logs stay in $CLUSTER_DIR"
}

status() {
  local rc=0
  for part in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
    if alive "$part"; then echo "$part: running (pid $(cat "$RUN/$part.pid"))"; else echo "$part: not running"; rc=1; fi
  done
  return $rc
}

# logs: the last lines of each part's log, for a run that failed.
logs() {
  for f in "$LOGS"/*.log; do
    [[ -f $f ]] || continue
    echo "== $f"; tail -n "${LINES:-40}" "$f"
  done
}

print_env() {
  cat <<ENV
CLUSTER_DIR=$CLUSTER_DIR
CLUSTER_KUBECONFIG=$KUBECONFIG_OUT
CLUSTER_HOST_IP=$HOST_IP
CLUSTER_NODE=$NODE_NAME
CLUSTER_CONTAINERD_SOCK=$SOCK
CLUSTER_OPERATOR_IMAGE=$(operator_ref)
ENV
}

# Sourced (for debugging one part at a time), it only defines the functions.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  logs) logs ;;
  import) shift; import "${1:?usage: cluster.sh import TAR}" ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|logs|import TAR|env" >&2; exit 2 ;;
esac
