#!/usr/bin/env bash
# Source this to get a GOPATH (GO111MODULE=off) in which Debian's pion v3 packages
# import under their major-version paths. Usage: . scripts/go-env.sh BUILD_DIR
# Debian installs some major-version modules without their /vN directory; an overlay
# of symlinks under BUILD_DIR/gopath fixes the import paths.
rr_go_overlay() {
  local build=$1 src=/usr/share/gocode/src/github.com/pion
  local ov="$build/gopath/src/github.com/pion"
  mkdir -p "$ov/webrtc" "$ov/sdp" "$ov/transport" "$ov/udp"
  ln -sfn "$src/webrtc" "$ov/webrtc/v3"
  ln -sfn "$src/sdp" "$ov/sdp/v3"
  ln -sfn "$src/transport" "$ov/transport/v2"
  ln -sfn "$src/udp" "$ov/udp/v2"
  export GOPATH="$build/gopath:/usr/share/gocode"
  export GO111MODULE=off
  export GOCACHE="${GOCACHE:-$build/gocache}"
}
