#!/usr/bin/env bash
# A real Kubernetes control plane on 127.0.0.1, built from the Go module proxy (tests/control-plane
# pins the versions and checksums), the way controller-runtime's envtest runs one, with kwok's
# simulated Nodes so that Pods are scheduled, run and finish.
#   scripts/control-plane.sh build          builds etcd, kube-apiserver, kube-controller-manager,
#                                           kube-scheduler and kwok into the cache, once
#   scripts/control-plane.sh start DIR      starts them with state, certificates and kubeconfigs in
#                                           DIR: DIR/admin.kubeconfig, DIR/readonly.kubeconfig (view)
#   scripts/control-plane.sh stop DIR       stops what start started
#   scripts/control-plane.sh stop-all ROOT  stops every control plane started in a folder of ROOT
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/tests/control-plane"
version=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$module/go.mod" | head -1)
cache="${PLUMBLINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plumbline}/control-plane/$version"

build_one() { # NAME PACKAGE [MODULE DIR]
  [ -x "$cache/$1" ] && return 0
  echo "control-plane: building $1 (a minute or several, once per machine)"
  (cd "${3:-$module}" && go build -o "$cache/$1.part.$$" "$2")
  mv "$cache/$1.part.$$" "$cache/$1"
}

build() {
  command -v go >/dev/null || {
    echo "control-plane: no Go toolchain on PATH; install Go 1.24 or newer (https://go.dev/doc/install), then run this again" >&2
    exit 1
  }
  mkdir -p "$cache"
  build_one etcd ./etcd
  build_one kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
  build_one kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
  build_one kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
  build_one kwok sigs.k8s.io/kwok/cmd/kwok "$module/kwok"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Fails with what the process's log says when it exits or is not ready within 30 seconds.
wait_for() { # URL NAME
  for _ in $(seq 1 300); do
    curl -ksf -o /dev/null -H "Authorization: Bearer $admin_token" "$1" && return 0
    kill -0 "$(cat "$dir/$2.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "control-plane: $2 did not come up. The end of $dir/$2.log:" >&2
  tail -5 "$dir/$2.log" >&2
  grep -q "address already in use" "$dir"/*.log &&
    echo "control-plane: a port it was given was taken meanwhile; start it again" >&2
  stop "$dir"
  exit 1
}

kubectl_admin() { kubectl --kubeconfig "$dir/admin.kubeconfig" "$@"; }

# Simulated Nodes that kwok keeps Ready and runs Pods on.
nodes() {
  for i in 1 2 3; do
    cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
---
NODE
  done
}

kubeconfig() { # FILE USER TOKEN
  cat > "$1" <<CONFIG
apiVersion: v1
kind: Config
clusters:
- name: control-plane
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $dir/certs/apiserver.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: control-plane
  context: {cluster: control-plane, user: $2, namespace: default}
current-context: control-plane
CONFIG
  chmod 600 "$1"
}

start() {
  dir=$1
  build
  if ls "$dir"/*.pid >/dev/null 2>&1; then
    echo "control-plane: $dir holds a control plane already (a killed run?); stopping it first" >&2
    stop "$dir"
  fi
  rm -rf "$dir/etcd" "$dir/certs"
  mkdir -p "$dir/certs" "$dir/etcd"
  chmod 700 "$dir"
  etcd_port=$(free_port)
  peer_port=$(free_port)
  api_port=$(free_port)
  admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  reader_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s,admin,admin-uid,system:masters\n%s,reader,reader-uid\n' "$admin_token" "$reader_token" > "$dir/tokens.csv"
  openssl genrsa -out "$dir/certs/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/certs/sa.key" -pubout -out "$dir/certs/sa.pub" 2>/dev/null
  "$cache/etcd" --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" --unsafe-no-fsync >"$dir/etcd.log" 2>&1 &
  echo $! > "$dir/etcd.pid"
  "$cache/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
    --secure-port "$api_port" --cert-dir "$dir/certs" --token-auth-file "$dir/tokens.csv" \
    --authorization-mode RBAC --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/certs/sa.pub" --service-account-signing-key-file "$dir/certs/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --allow-privileged=true --advertise-address 127.0.0.1 \
    >"$dir/kube-apiserver.log" 2>&1 &
  echo $! > "$dir/kube-apiserver.pid"
  wait_for "https://127.0.0.1:$api_port/readyz" kube-apiserver
  kubeconfig "$dir/admin.kubeconfig" admin "$admin_token"
  kubeconfig "$dir/readonly.kubeconfig" reader "$reader_token"
  # Deployments → ReplicaSets → Pods, garbage collection, namespace deletion, and the aggregated
  # roles (view, edit) that RBAC bindings name.
  "$cache/kube-controller-manager" --kubeconfig "$dir/admin.kubeconfig" --leader-elect=false \
    --controllers '*' --use-service-account-credentials=false --secure-port 0 \
    --service-account-private-key-file "$dir/certs/sa.key" --root-ca-file "$dir/certs/apiserver.crt" \
    >"$dir/kube-controller-manager.log" 2>&1 &
  echo $! > "$dir/kube-controller-manager.pid"
  "$cache/kube-scheduler" --kubeconfig "$dir/admin.kubeconfig" --leader-elect=false --secure-port 0 \
    >"$dir/kube-scheduler.log" 2>&1 &
  echo $! > "$dir/kube-scheduler.pid"
  "$cache/kwok" --kubeconfig "$dir/admin.kubeconfig" --config "$module/kwok/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --cidr 10.244.0.1/16 --server-address "" >"$dir/kwok.log" 2>&1 &
  echo $! > "$dir/kwok.pid"
  kubectl_admin create clusterrolebinding plumbline-reader --clusterrole view --user reader >/dev/null
  nodes | kubectl_admin create -f - >/dev/null
  # Ready when the Nodes are and the controllers made the default ServiceAccount (Pods need it).
  kubectl_admin wait --for condition=Ready node --all --timeout 30s >/dev/null
  for _ in $(seq 1 300); do
    kubectl_admin get serviceaccount default -n default >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "control-plane: kube-apiserver $version on https://127.0.0.1:$api_port; kubeconfigs in $dir"
}

# Asks every process to end at once, and ends the ones still there after three seconds: the
# state is a test's, nothing in it needs a graceful shutdown more than that.
stop() {
  dir=$1
  pids=()
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    kill "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$dir/$name.pid"
  done
  for _ in $(seq 1 30); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${alive[@]}" 2>/dev/null || true
}

stop_all() {
  for pidfile in "$1"/*/etcd.pid; do
    [ -e "$pidfile" ] && stop "$(dirname "$pidfile")"
  done
  return 0
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?start DIR}" ;;
  stop) stop "${2:?stop DIR}" ;;
  stop-all) stop_all "${2:?stop-all ROOT}" ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
