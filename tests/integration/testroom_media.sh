#!/usr/bin/env bash
# labels: testroom
# Go tests of the test room's media package (real GStreamer encoders and decoders).
set -euo pipefail
exec bash "$RR_SOURCE_DIR/tests/testroom/media/gotest.sh" "$RR_BUILD_DIR"
