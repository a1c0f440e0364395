#!/usr/bin/env bash
# Runs the test room's Go unit tests (and go vet). Usage: tests/testroom/gotest.sh BUILD_DIR
set -euo pipefail
build=$(realpath -m "${1:?usage: gotest.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh" "$build" >/dev/null
src=$(cd "$here/../.." && pwd)
. "$src/scripts/go-env.sh"
rr_go_overlay "$build"
cd "$build/gopath/src/roomrec/testroom"
go vet roomrec/testroom roomrec/testroom/cmd/lkclient
go test -count=1 roomrec/testroom
