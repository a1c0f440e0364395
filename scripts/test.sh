#!/usr/bin/env bash
# The whole test suite: installs what is missing (scripts/setup.sh), checks formatting,
# builds with -Werror, runs every test (unit, fuzz seeds, integration against real
# servers), then rebuilds with ASan+UBSan and runs every test of roomrec's C code again.
# Usage: scripts/test.sh            (exit 0 only when everything passed)
# Env: RR_JOBS (parallel tests, default 2), RR_TEST_FILTER (ctest -R regex).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
jobs=${RR_JOBS:-2}
filter=()
[ -n "${RR_TEST_FILTER:-}" ] && filter=(-R "$RR_TEST_FILTER")

bash scripts/setup.sh

echo "== format check (.clang-format)"
mapfile -t cfiles < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^tests/testroom/' || true)
clang-format --dry-run --Werror "${cfiles[@]}"

passed=0; failed=0
run_ctest() { # build_dir label-args...
  local dir=$1; shift
  local log; log=$(mktemp)
  set +e
  ctest --test-dir "$dir" --output-on-failure --timeout 900 -j "$jobs" "${filter[@]}" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line; line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -n "$line" ]; then
    local f t; f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + t - f)); failed=$((failed + f))
  elif [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
  fi
  rm -f "$log"
}

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
run_ctest build

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRR_SANITIZE=ON \
  -DRR_BUILD_TESTROOM=OFF >/dev/null
ninja -C build-asan
# Tests that need the test room use the one built above.
export RR_TESTROOM_DIR="$src/build/testroom"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions="$src/tests/lsan.supp":print_suppressions=0
# Tests labelled "timing" assert real-time properties (lip sync within 40 ms, what the
# recording shows in given seconds of a live room); a sanitizer build at -O0 on two cores
# cannot keep up with the room's live media, so they run in the normal build only. Every
# other test of our C code, recordings included, runs here too.
run_ctest build-asan -L '^c$' -LE '^timing$'

echo
echo "all suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
