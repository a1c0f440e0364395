#!/usr/bin/env bash
# Runs the media package's Go tests (real GStreamer pipelines, a few seconds each).
# Usage: tests/testroom/media/gotest.sh BUILD_DIR [go test args...]
# Env RR_MEDIA_LOAD=N additionally runs N video+audio participants at once.
set -euo pipefail
build=$(realpath -m "${1:?usage: gotest.sh BUILD_DIR [go test args]}")
shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
. "$src/scripts/go-env.sh"
rr_go_overlay "$build"
gp="$build/gopath/src/roomrec"
# Same layout as tests/testroom/build.sh: roomrec/testroom -> tests/testroom.
mkdir -p "$gp"
ln -sfn "$(dirname "$here")" "$gp/testroom"
cd "$gp/testroom/media"
go vet roomrec/testroom/media
go test -count=1 "$@" roomrec/testroom/media
