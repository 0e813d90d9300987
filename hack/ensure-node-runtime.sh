#!/usr/bin/env bash
# Makes sure the real nodes' runtime is installed: the distribution's containerd, runc, CNI plugins
# (containernetworking-plugins), iptables and conntrack (kube-proxy's image carries the last two),
# and curl. Installs what is missing with apt-get when running as root; otherwise says what to
# install. In CI (CI set) a missing piece is an error, elsewhere a warning (the real-node tests
# then skip and `make demo` plays the kubelet).
set -euo pipefail

missing=()
for tool in containerd runc ctr iptables conntrack curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -x /usr/lib/cni/bridge ] || missing+=("CNI plugins")
if [ ${#missing[@]} = 0 ]; then
  echo "node runtime: containerd $(containerd --version | awk '{print $3}'), $(runc --version | head -n 1), CNI plugins in /usr/lib/cni"
  exit 0
fi
packages="containerd runc containernetworking-plugins iptables conntrack curl"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "node runtime: missing ${missing[*]}; installing the distribution packages $packages with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  echo "node runtime: containerd $(containerd --version | awk '{print $3}'), $(runc --version | head -n 1)"
  exit 0
fi
msg="node runtime: missing ${missing[*]}; install the distribution packages $packages (as root)"
if [ -n "${CI:-}" ]; then
  echo "$msg" >&2
  exit 1
fi
echo "$msg; the real-node tests will be skipped and the demo plays the kubelet" >&2
