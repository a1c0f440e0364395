#!/usr/bin/env bash
# labels: protocol
# Cross-checks rtc/proto/livekit_rtc.proto against the official @livekit/protocol npm
# package: golden vectors, field numbers/types from the official runtime descriptors,
# and a round trip official JS -> roomrec Go -> official JS (tests/node/protocheck.mjs).
set -euo pipefail
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RR_BUILD_DIR:?RR_BUILD_DIR must be set}
bin="$build/protocheck/protocheck"
proto="$src/rtc/proto/livekit_rtc.proto"
if [ ! -x "$bin" ] || [ "$proto" -nt "$bin" ] || [ "$src/tests/protocheck/main.go" -nt "$bin" ]; then
  bash "$src/tests/protocheck/build.sh" "$build"
fi
if [ ! -d "$src/tests/node/node_modules/@livekit/protocol" ]; then
  echo "protocheck: tests/node/node_modules missing; run: npm ci --prefix tests/node" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/rr-protocheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
node "$src/tests/node/protocheck.mjs" --go "$bin" --work "$work"
