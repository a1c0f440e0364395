#!/usr/bin/env bash
# Builds the Go half of the protocol cross-check into BUILD_DIR/protocheck/protocheck
# (GOPATH mode, generated code for rtc/proto/livekit_rtc.proto in
# BUILD_DIR/gopath/src/roomrec/lkproto, shared with the test room's build).
# Usage: tests/protocheck/build.sh BUILD_DIR
set -euo pipefail
build=$(realpath -m "${1:?usage: build.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$src/scripts/go-env.sh"
rr_go_overlay "$build"
gp="$build/gopath/src/roomrec"
proto="$src/rtc/proto/livekit_rtc.proto"
gen="$gp/lkproto/livekit_rtc.pb.go"
mkdir -p "$gp/lkproto" "$build/protocheck"
if [ ! -s "$gen" ] || [ "$proto" -nt "$gen" ]; then
  # Generate into a temporary directory and rename, so a concurrent build of the
  # test room never sees a half-written file.
  tmp=$(mktemp -d "$gp/.lkproto.XXXXXX")
  protoc -I "$src/rtc/proto" --go_out="$tmp" --go_opt=paths=source_relative "$proto"
  mv -f "$tmp/livekit_rtc.pb.go" "$gen"
  rmdir "$tmp"
fi
ln -sfn "$here" "$gp/protocheck"
cd "$gp/protocheck"
go vet roomrec/protocheck
go build -o "$build/protocheck/protocheck" roomrec/protocheck
