#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler),
# the node agents of the real-node cluster (kubelet, kube-proxy) and the kubectl the tests drive it
# with from the Go module proxy into bin/, skipping binaries that are already there and current.
# Arguments name a subset (e.g. `build-control-plane.sh kubelet kube-proxy`).
# On request (`build-control-plane.sh prometheus prometheus-operator`, what `make prometheus` runs)
# it builds the real Prometheus and Prometheus Operator the Prometheus end-to-end test runs.
# `build-control-plane.sh haproxy` (part of `make haproxy`) builds HAProxy 3.0, the second version the
# policy's grammar is proven on (Debian 13's, from the upstream source Debian's mirror serves) beside
# the distribution's 2.6.
# The first build takes minutes on two cores; every step says what it is doing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"

k8s_version=v1.37.2
etcd_version=v3.6.16
prometheus_version=v0.316.0          # the Go module of Prometheus 3.16.0
prometheus_operator_version=v0.85.0
haproxy_version=3.0.11               # Debian 13 (trixie): HAProxy 3.0 LTS, fixes until 2029
haproxy_sha256=a133e2d550c5fd9a849b5c7ab17bb945bcdad209ca140d41f45ebf31943ae783 # its orig tarball
# The options of the official haproxy image (TLS, PCRE2, Lua, the Prometheus exporter service): the
# corpus shows its Lua and use-service bypasses on the build the default image runs.
haproxy_make="TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_PCRE2_JIT=1 USE_LUA=1 LUA_INC=/usr/include/lua5.4 LUA_LIB_NAME=lua5.4 USE_PROMEX=1 USE_GETADDRINFO=1"

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

build() { # build NAME VERSION MODULE_DIR PACKAGE LDFLAGS [TAGS]
  local name=$1 version=$2 dir=$3 pkg=$4 ldflags=$5 tags=${6:-}
  [ -z "$tags" ] || version="$version tags=$tags" # the stamp says how it was built: new tags rebuild
  if current "$name" "$version"; then
    echo "$what: $name $version already in bin/"
    return
  fi
  echo "$what: building $name $version from the Go module proxy (first time only)"
  local start=$SECONDS
  progress "$name" & ticker=$!
  # Not under set -e: a failed build must stop the ticker before the script exits.
  local status=0
  (cd "$root/hack/tools/$dir" && CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin/$name" "$pkg") || status=$?
  stop_ticker
  if [ "$status" -ne 0 ]; then
    echo "$what: building $name $version failed (exit $status)" >&2
    exit "$status"
  fi
  echo "$version" > "$(stamp "$name")"
  echo "$what: $name built in $((SECONDS - start)) s"
}

# build_haproxy builds bin/haproxy-VERSION from the orig tarball in the pool of the Debian mirror
# this machine's apt uses, checked against its sha256, with the official image's options. Compilers and headers come from apt-get when root.
build_haproxy() {
  local name=haproxy-$haproxy_version version="$haproxy_version $haproxy_make"
  if current "$name" "$version"; then
    echo "$what: $name already in bin/"
    return
  fi
  if ! command -v cc >/dev/null || ! command -v curl >/dev/null || [ ! -e /usr/include/pcre2.h ] || [ ! -e /usr/include/openssl/ssl.h ] || [ ! -e /usr/include/lua5.4/lua.h ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      echo "$what: building $name needs gcc, make, curl, libssl-dev, libpcre2-dev and liblua5.4-dev" >&2
      exit 1
    fi
    echo "$what: installing gcc, make, curl, libssl-dev, libpcre2-dev, liblua5.4-dev with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc make libc6-dev curl ca-certificates libssl-dev libpcre2-dev liblua5.4-dev >/dev/null
  fi
  local mirror
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | awk '$1 ~ /\/debian\/$/ && $2 !~ /-/ { print $1; exit }')
  if [ -z "$mirror" ]; then
    echo "$what: no Debian mirror in apt's sources to fetch HAProxy $haproxy_version's source from" >&2
    exit 1
  fi
  echo "$what: building $name from Debian's source of HAProxy $haproxy_version (first time only)"
  local start=$SECONDS tmp status=0
  tmp=$(mktemp -d)
  # Not under set -e: a failed step must stop the ticker and remove the sources before exiting.
  progress "$name" & ticker=$!
  (
    set -e
    curl -fsS --retry 3 -o "$tmp/src.tar.gz" "${mirror}pool/main/h/haproxy/haproxy_${haproxy_version}.orig.tar.gz"
    echo "$haproxy_sha256  $tmp/src.tar.gz" | sha256sum -c --quiet -
    mkdir "$tmp/src" && tar -xzf "$tmp/src.tar.gz" -C "$tmp/src" --strip-components=1
    # shellcheck disable=SC2086 # the options are words
    make -C "$tmp/src" -j"$(nproc)" $haproxy_make >"$tmp/make.log" 2>&1 || { tail -n 30 "$tmp/make.log" >&2; exit 1; }
    install -m 0755 "$tmp/src/haproxy" "$bin/$name"
  ) || status=$?
  stop_ticker
  rm -rf "$tmp"
  if [ "$status" -ne 0 ]; then
    echo "$what: building $name failed (exit $status)" >&2
    exit "$status"
  fi
  echo "$version" > "$(stamp "$name")"
  echo "$what: $name built in $((SECONDS - start)) s ($("$bin/$name" -v | head -n 1))"
}

major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
vpkg=k8s.io/component-base/version
k8s_ldflags="-s -w -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"

# promver is the version github.com/prometheus/common/version reports: Prometheus's module v0.3MM.P
# is release 3.MM.P; the operator's module version is its release.
promver() { local v=${1#v}; case $v in 0.3??.*) m=${v#0.3}; echo "3.$((10#${m%%.*})).${v##*.}" ;; *) echo "$v" ;; esac; }
pvpkg=github.com/prometheus/common/version

want=${*:-etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy}
for name in $want; do
  what="control plane"
  case $name in
    prometheus|prometheus-operator) what=prometheus ;;
    haproxy) what=haproxy ;;
  esac
  case $name in
    prometheus)
      build prometheus "$prometheus_version" prometheus github.com/prometheus/prometheus/cmd/prometheus \
        "-s -w -X $pvpkg.Version=$(promver "$prometheus_version") -X $pvpkg.Branch=release" \
        remove_all_sd,enable_kubernetes_sd ;; # only the Kubernetes discovery: a fifth fewer packages to build
    prometheus-operator)
      build prometheus-operator "$prometheus_operator_version" prometheus-operator \
        github.com/prometheus-operator/prometheus-operator/cmd/operator \
        "-s -w -X $pvpkg.Version=$(promver "$prometheus_operator_version") -X $pvpkg.Branch=release" ;;
    haproxy) build_haproxy ;;
    etcd) build etcd "$etcd_version" etcd go.etcd.io/etcd/server/v3 "-s -w" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet|kube-proxy)
      build "$name" "$k8s_version" kubernetes "k8s.io/kubernetes/cmd/$name" "$k8s_ldflags" ;;
    *) echo "build-control-plane: unknown binary $name" >&2; exit 2 ;;
  esac
done
