#!/usr/bin/env bash
# Installs everything roomrec's build, tests, demo and benchmarks need on Debian 12,
# idempotently: Debian packages (apt) and the Node packages of tests/node (npm ci, pinned
# by the lock). `--run` installs only what the roomrec binary needs to run, `--build` that
# and what building it needs (the container image's two stages, docker/Dockerfile).
# Safe to run again; does nothing when all is in place. Installing needs root: run as root
# (no sudo needed), or as a user with sudo, which it then calls for apt-get only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# What the roomrec binary needs to run (the container image's run stage: --run).
RUN_PACKAGES=(
  libglib2.0-0 libjson-glib-1.0-0 libsoup-3.0-0 libprotobuf-c1 libnice10 libsrtp2-1
  libusrsctp2 libssl3 libhiredis0.14 libcurl4 libyaml-0-2 glib-networking ca-certificates
  libgstreamer1.0-0 libgstreamer-plugins-base1.0-0 libgstreamer-plugins-bad1.0-0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  gstreamer1.0-x  # textoverlay: name tiles, the test room's camera labels
)
# What building it needs on top (--build).
BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libprotobuf-c-dev protobuf-c-compiler
  libnice-dev libsrtp2-dev libusrsctp-dev libssl-dev libhiredis-dev
  libcurl4-openssl-dev libyaml-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
)
# What the tests, the demo and the benchmarks need on top (the default: everything).
DEV_PACKAGES=(
  clang clang-format llvm gstreamer1.0-tools
  # the Go test room (pion WebRTC v3 from Debian, GOPATH mode)
  golang-go golang-github-pion-webrtc.v3-dev golang-github-gorilla-websocket-dev
  golang-google-protobuf-dev protoc-gen-go protobuf-compiler
  # test world
  redis-server coturn ffmpeg jq valgrind iproute2 iptables procps psmisc curl python3 bsdutils
  nodejs npm openssl
  ceph-mon ceph-osd radosgw  # a real S3 server for storage/ tests (tests/integration/data/radosgw.sh)
)
case "${1:-}" in
  --run) APT_PACKAGES=("${RUN_PACKAGES[@]}") ;;
  --build) APT_PACKAGES=("${RUN_PACKAGES[@]}" "${BUILD_PACKAGES[@]}") ;;
  "") APT_PACKAGES=("${RUN_PACKAGES[@]}" "${BUILD_PACKAGES[@]}" "${DEV_PACKAGES[@]}") ;;
  *) echo "usage: scripts/setup.sh [--run | --build]" >&2; exit 2 ;;
esac

# Root installs directly (a minimal Debian or a container has no sudo); another user goes
# through sudo when it is there.
SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=(sudo); fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere (a newer Node in the image): accept what is on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: installing them needs root: run this as root, or install sudo" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
# Debian starts redis-server and coturn as services on install; tests start their own.

if [ -z "${1:-}" ] && [ -f "$here/tests/node/package-lock.json" ]; then
  stamp="$here/tests/node/node_modules/.roomrec-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$stamp" "$here/tests/node/package-lock.json"; then
    echo "setup: npm ci in tests/node"
    (cd "$here/tests/node" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$here/tests/node/package-lock.json" "$stamp"
  fi
fi
echo "setup: ok"
