#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler),
# the node agents of the real-node cluster (kubelet, kube-proxy) and the kubectl the tests drive it
# with from the Go module proxy into bin/, skipping binaries that are already there and current.
# Arguments name a subset (e.g. `build-control-plane.sh kubelet kube-proxy`).
# The first build takes minutes on two cores; every step says what it is doing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"

k8s_version=v1.37.2
etcd_version=v3.6.16

# stamp records which version a binary was built from, so a version bump rebuilds it.
stamp() { echo "$bin/.$1.version"; }
current() { [ -x "$bin/$1" ] && [ "$(cat "$(stamp "$1")" 2>/dev/null)" = "$2" ]; }

# progress prints a line every 30 s while a long build runs, so nobody stares at silence.
progress() {
  local what=$1 start=$SECONDS
  while sleep 30; do echo "  ... still building $what ($((SECONDS - start)) s)"; done
}

# The ticker of the build in progress; stopped after each build and on any exit (an interrupt too).
ticker=
stop_ticker() {
  if [ -n "$ticker" ]; then kill "$ticker" 2>/dev/null || true; wait "$ticker" 2>/dev/null || true; fi
  ticker=
}
trap stop_ticker EXIT

build() { # build NAME VERSION MODULE_DIR PACKAGE LDFLAGS
  local name=$1 version=$2 dir=$3 pkg=$4 ldflags=$5
  if current "$name" "$version"; then
    echo "control plane: $name $version already in bin/"
    return
  fi
  echo "control plane: building $name $version from the Go module proxy (first time only)"
  local start=$SECONDS
  progress "$name" & ticker=$!
  # Not under set -e: a failed build must stop the ticker before the script exits.
  local status=0
  (cd "$root/hack/tools/$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/$name" "$pkg") || status=$?
  stop_ticker
  if [ "$status" -ne 0 ]; then
    echo "control plane: building $name $version failed (exit $status)" >&2
    exit "$status"
  fi
  echo "$version" > "$(stamp "$name")"
  echo "control plane: $name built in $((SECONDS - start)) s"
}

major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
vpkg=k8s.io/component-base/version
k8s_ldflags="-s -w -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"

want=${*:-etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy}
for name in $want; do
  case $name in
    etcd) build etcd "$etcd_version" etcd go.etcd.io/etcd/server/v3 "-s -w" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet|kube-proxy)
      build "$name" "$k8s_version" kubernetes "k8s.io/kubernetes/cmd/$name" "$k8s_ldflags" ;;
    *) echo "build-control-plane: unknown binary $name" >&2; exit 2 ;;
  esac
done
