#!/usr/bin/env bash
# labels: testroom
# Go tests of the test room itself (go vet, scenario parsing, tokens, timing modes and
# its send path, sender report pairing): tests/testroom/gotest.sh.
set -euo pipefail
exec bash "$RR_SOURCE_DIR/tests/testroom/gotest.sh" "$RR_BUILD_DIR"
