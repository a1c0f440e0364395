# Shared by the integration tests (sourced, not a test itself): paths, a work directory,
# failure counting, jq checks and the Go test room. Everything a test starts goes into
# `pids` and is killed by pid on exit, also when a check fails or the script dies; the
# work directory is kept when something failed (or with RR_KEEP_LOGS=1). A test can set
# `cleanup_hook` to a function that undoes more (iptables rules, ...).
# Needs RR_SOURCE_DIR/RR_BUILD_DIR from ctest, or derives them from this file's place.
src=${RR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
build=${RR_BUILD_DIR:-$src/build}
testroom=${RR_TESTROOM_DIR:-$build/testroom}/testroom
roomrec=$build/worker/roomrec
[ -x "$testroom" ] || "$src/tests/testroom/build.sh" "$build" >/dev/null
work=$(mktemp -d "/tmp/roomrec-$(basename "$0" .sh).XXXXXX")
pids=()
failures=0
cleanup_hook=
key=devkey
secret=${secret:-test-secret-0123456789abcdef0123456}

rr_cleanup() {
  local p
  if [ -n "$cleanup_hook" ]; then "$cleanup_hook" || true; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$failures" -eq 0 ] && [ -z "${RR_KEEP_LOGS:-}" ]; then
    rm -rf "$work"
  else
    echo "logs kept in $work"
  fi
}
trap rr_cleanup EXIT
# A signal (ctest's timeout, Ctrl-C) ends the script through its EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() { # check DESCRIPTION JQ-EXPR FILE
  if jq -e "$2" "$3" >/dev/null 2>&1; then ok "$1"; else fail "$1 ($2 on $3)"; fi
}

# start_room NAME SCENARIO [testroom args...] → room_pid, url, room_t0 (Unix s, float).
# Logs: $work/NAME.room.out and .room.err; the room's report: $work/NAME.report.json.
start_room() {
  local name=$1 scenario=$2
  shift 2
  # The files exist before the room starts: a background job opens its redirections
  # after the fork, and a loaded machine can run the sed below first.
  : >"$work/$name.room.out"
  : >"$work/$name.room.err"
  "$testroom" -listen 127.0.0.1:0 -api-key $key -api-secret "$secret" \
    -scenario "$scenario" -report "$work/$name.report.json" "$@" \
    >"$work/$name.room.out" 2>"$work/$name.room.err" &
  room_pid=$!
  pids+=("$room_pid")
  url=""
  for _ in $(seq 200); do
    url=$(sed -n 's/^testroom listening on //p' "$work/$name.room.out")
    if [ -n "$url" ]; then
      room_t0=$(date +%s.%N)
      return 0
    fi
    sleep 0.05
  done
  echo "testroom did not start: $(tail -5 "$work/$name.room.err")"
  exit 1
}
# stop_room: the room writes its report and exits.
stop_room() {
  curl -s -m 10 -X POST "$url/debug/shutdown" >/dev/null || true
  wait "$room_pid" 2>/dev/null || true
}
