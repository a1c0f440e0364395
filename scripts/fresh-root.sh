#!/usr/bin/env bash
# Runs a command in a clean clone of this checkout's committed HEAD, inside a brand-new
# Debian 12 (bookworm, debootstrap minbase) root: a machine with nothing installed by
# hand. CI runs the README's test command this way (.ci/run), so a package that only this
# machine has cannot hide a missing install step.
#
#   scripts/fresh-root.sh                          # bash scripts/test.sh
#   scripts/fresh-root.sh bash scripts/demo.sh 10  # any command, run from the clone's top
#
# Needs root and debootstrap (installed on first use). The bare root is made once and kept
# as a tarball in $ROOMREC_ROOT_CACHE (default /var/cache/roomrec-root); every run unpacks
# a new copy under /var/tmp, mounts /proc, /sys, /dev and a fresh /run in it (network
# namespaces and iptables work inside), carries over only this machine's network setup (apt
# sources and proxies, local CA certificates, npm's cafile, proxy and CA variables) and
# removes everything afterwards, processes left inside included. ROOMREC_ROOT_KEEP=1 keeps
# the root (its path is printed). Exit status: the command's.
set -euo pipefail
say() { echo "fresh-root: $*"; }
[ "$(id -u)" -eq 0 ] || { echo "fresh-root: needs root (chroot, mounts)" >&2; exit 2; }
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
[ $# -gt 0 ] || set -- bash scripts/test.sh

cache=${ROOMREC_ROOT_CACHE:-/var/cache/roomrec-root}
tarball=$cache/bookworm-minbase.tar
t0=$(date +%s)

# The mirror this machine's apt uses (deb822 or one-line sources), else Debian's own.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -v -- '-security' | head -1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

if [ ! -s "$tarball" ]; then
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
  fi
  mkdir -p "$cache"
  build=$(mktemp -d "$cache/make.XXXXXX")
  say "making a bare Debian 12 root from $mirror (once; kept in $tarball)"
  if ! debootstrap --variant=minbase bookworm "$build/root" "$mirror" >"$build/debootstrap.log" 2>&1; then
    tail -20 "$build/debootstrap.log" >&2
    echo "fresh-root: debootstrap failed (log: $build/debootstrap.log)" >&2
    exit 2
  fi
  tar -C "$build/root" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  rm -rf --one-file-system "$build"
fi

root=$(mktemp -d /var/tmp/roomrec-root.XXXXXX)
mounted=()
cleanup() {
  local p i
  # Processes the command left behind in the root (tests' servers), by pid.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null || true
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  if [ "${ROOMREC_ROOT_KEEP:-0}" = 1 ]; then
    say "root kept at $root"
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

tar -C "$root" -xf "$tarball"
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp"
chmod 1777 "$root/tmp"
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" && mounted+=("$root/sys")
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && mounted+=("$root/dev")
mount -t tmpfs -o mode=755 tmpfs "$root/run" && mounted+=("$root/run")

# This machine's network setup, nothing else: name resolution, apt's sources and proxy
# settings (the same archive snapshot as the host), local CAs, npm's CA file.
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# Packages do not start their services here (redis-server, coturn): the root shares this
# machine's network, and the tests start their own servers on ports they choose.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"
# The root is thrown away afterwards: dpkg need not fsync every file it unpacks.
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/roomrec-unsafe-io"
if [ -d /etc/apt/sources.list.d ] && ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
  : >"$root/etc/apt/sources.list"
fi
for f in /etc/apt/apt.conf.d/*; do
  [ -f "$f" ] && grep -qiE 'proxy|Acquire' "$f" && cp "$f" "$root/etc/apt/apt.conf.d/"
done
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
[ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"
pass=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS \
  SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE GIT_SSL_CAINFO RR_JOBS RR_TEST_FILTER; do
  [ -n "${!v:-}" ] && pass+=("$v=${!v}")
done

mkdir -p "$root/work"
git clone -q --no-hardlinks "$top" "$root/work/roomrec"
say "running '$*' on $(git -C "$top" rev-parse --short HEAD) in a brand-new Debian 12 root ($root)"
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI=true "${pass[@]}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c 'cd /work/roomrec && exec "$@"' fresh-root "$@"
rc=$?
set -e
say "exit $rc after $(($(date +%s) - t0)) s"
exit "$rc"
