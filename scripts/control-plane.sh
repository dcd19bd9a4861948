#!/usr/bin/env bash
# A real Kubernetes control plane on 127.0.0.1, built from the Go module proxy (tests/control-plane
# pins the versions and checksums), the way controller-runtime's envtest runs one.
#   scripts/control-plane.sh build        builds etcd, kube-apiserver and kube-controller-manager into
#                                         the cache, once
#   scripts/control-plane.sh start DIR    starts them with state, certificates and kubeconfigs in DIR:
#                                         DIR/admin.kubeconfig and DIR/readonly.kubeconfig (RBAC view)
#   scripts/control-plane.sh stop DIR     stops what start started
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/tests/control-plane"
version=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$module/go.mod" | head -1)
cache="${PLUMBLINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plumbline}/control-plane/$version"

build() {
  mkdir -p "$cache"
  cd "$module"
  [ -x "$cache/etcd" ] || { echo "control-plane: building etcd"; go build -o "$cache/etcd.part" ./etcd && mv "$cache/etcd.part" "$cache/etcd"; }
  [ -x "$cache/kube-apiserver" ] || {
    echo "control-plane: building kube-apiserver $version (several minutes the first time)"
    go build -o "$cache/kube-apiserver.part" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$cache/kube-apiserver.part" "$cache/kube-apiserver"
  }
  [ -x "$cache/kube-controller-manager" ] || {
    echo "control-plane: building kube-controller-manager $version (several minutes the first time)"
    go build -o "$cache/kube-controller-manager.part" k8s.io/kubernetes/cmd/kube-controller-manager
    mv "$cache/kube-controller-manager.part" "$cache/kube-controller-manager"
  }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # URL what
  for _ in $(seq 1 300); do
    curl -ksf -o /dev/null -H "Authorization: Bearer $admin_token" "$1" && return 0
    sleep 0.1
  done
  echo "control-plane: $2 did not come up; see $dir/*.log" >&2
  return 1
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
  kubectl --kubeconfig "$dir/admin.kubeconfig" create clusterrolebinding plumbline-reader \
    --clusterrole view --user reader >/dev/null
  echo "control-plane: kube-apiserver $version on https://127.0.0.1:$api_port; kubeconfigs in $dir"
}

stop() {
  dir=$1
  for name in kube-controller-manager kube-apiserver etcd; do
    if [ -f "$dir/$name.pid" ]; then
      pid=$(cat "$dir/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?start DIR}" ;;
  stop) stop "${2:?stop DIR}" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
