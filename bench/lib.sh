# Shared helpers of the bench/*.sh scripts (sourced): paths, the test room, cleanup.
# Benchmarks print numbers; they never fail on a timing (exit 1 only when something does
# not work at all).
src=${RR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
build=${RR_BUILD_DIR:-$src/build}
testroom=${RR_TESTROOM_DIR:-$build/testroom}/testroom
roomrec=$build/worker/roomrec
analyze=$build/tests/tools/rr-analyze
measure=$src/bench/measure.py
scenarios=$src/tests/testroom/scenarios
key=devkey
secret=bench-secret-0123456789abcdef012345
pids=()
work=$(mktemp -d "/tmp/roomrec-bench-$(basename "$0" .sh).XXXXXX")

bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap bench_cleanup EXIT

need() {
  local f
  for f in "$@"; do
    [ -x "$f" ] || { echo "$(basename "$0"): $f is not built (ninja -C $build)" >&2; exit 1; }
  done
}

# start_room NAME SCENARIO → room_pid, url
start_room() {
  : >"$work/$1.room.out" # exists before the job's own redirection (see tests' lib.sh)
  : >"$work/$1.room.err"
  "$testroom" -listen 127.0.0.1:0 -api-key $key -api-secret $secret -scenario "$2" \
    >"$work/$1.room.out" 2>"$work/$1.room.err" &
  room_pid=$!
  pids+=("$room_pid")
  url=""
  for _ in $(seq 200); do
    url=$(sed -n 's/^testroom listening on //p' "$work/$1.room.out")
    [ -n "$url" ] && return 0
    sleep 0.05
  done
  echo "testroom did not start: $(tail -3 "$work/$1.room.err")" >&2
  exit 1
}
stop_room() {
  curl -s -m 10 -X POST "$url/debug/shutdown" >/dev/null || true
  wait "$room_pid" 2>/dev/null || true
}
rec_args() { # the common `roomrec record` arguments for room $1
  echo --url "$url" --api-key $key --api-secret $secret --room "$1"
}
