#!/usr/bin/env bash
# Builds the Go test room into BUILD_DIR/testroom/testroom (GOPATH mode on Debian's
# pion packages). Usage: tests/testroom/build.sh BUILD_DIR
set -euo pipefail
build=$(realpath -m "${1:?usage: build.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$src/scripts/go-env.sh"
rr_go_overlay "$build"
gp="$build/gopath/src/roomrec"
mkdir -p "$gp/lkproto" "$build/testroom"
protoc -I "$src/rtc/proto" --go_out="$gp/lkproto" --go_opt=paths=source_relative \
  "$src/rtc/proto/livekit_rtc.proto"
ln -sfn "$here" "$gp/testroom"
cd "$gp/testroom"
go build -o "$build/testroom/testroom" roomrec/testroom
go build -o "$build/testroom/lkclient" roomrec/testroom/cmd/lkclient
