#!/usr/bin/env bash
# labels: c,record
# One SIGTERM ends `roomrec record` within a bounded time (here 10 s) in every state:
#  A. connecting: the signalling URL is a TCP listener that accepts and never answers;
#  B. waiting for the start signal: joined to a room with no publishers (exit 8, ABORTED);
#  C. recording: a room composite that is writing (exit 0, COMPLETE, a file that decodes
#     without an error);
#  D. finalising: the signal comes while the composite drains after --duration (ENDING);
#  E. a second signal while the first one's drain runs ends the process at once;
#  F. an output that cannot be created (a 240-character room name: before, the recorder
#     waited for a pipeline that never started, and SIGTERM no longer ended it).
set -euo pipefail
secret=record-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"
limit=10
start_rec() { # start_rec NAME ARGS... → rec_pid (stdout NAME.json, stderr NAME.log)
  local name=$1
  shift
  : >"$work/$name.log"
  ROOMREC_LOG_LEVEL=info "$roomrec" record --api-key $key --api-secret $secret --local-address 127.0.0.1 --json \
    --output "$work/out/$name-{time}" "$@" >"$work/$name.json" 2>"$work/$name.log" &
  rec_pid=$!
  pids+=("$rec_pid")
}
wait_log() { # wait_log NAME REGEX SECONDS → 0 when the log shows REGEX in time
  local end=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$end" ]; do
    grep -Eq "$2" "$work/$1.log" && return 0
    kill -0 "$rec_pid" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}
# term NAME [SIGNALS]: send SIGTERM (twice with SIGNALS=2), wait up to $limit s for the
# exit → rc, secs; a process still running then is killed and the check fails.
term() {
  local name=$1 n=${2:-1} t0 i
  t0=$(date +%s.%N)
  kill -TERM "$rec_pid" 2>/dev/null || true
  [ "$n" -eq 2 ] && sleep 0.2 && kill -TERM "$rec_pid" 2>/dev/null || true
  for i in $(seq $((limit * 20))); do
    kill -0 "$rec_pid" 2>/dev/null || break
    sleep 0.05
  done
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if kill -0 "$rec_pid" 2>/dev/null; then
    kill -KILL "$rec_pid" 2>/dev/null || true
    fail "$name: still running ${limit} s after SIGTERM: $(tail -2 "$work/$name.log" | cut -c1-200)"
  else
    ok "$name: exited ${secs} s after SIGTERM"
  fi
  set +e
  wait "$rec_pid"
  rc=$?
  set -e
}
decodes() { # decodes NAME FILE: ffmpeg decodes the whole file without an error
  if [ -s "$2" ] && ffmpeg -nostdin -v error -i "$2" -f null - >"$work/$1.ff" 2>&1 &&
    [ ! -s "$work/$1.ff" ]; then
    ok "$1: $(basename "$2") decodes without an error"
  else
    fail "$1: $2 does not decode: $(head -3 "$work/$1.ff" 2>/dev/null)"
  fi
}
# drained NAME: exit 0 and COMPLETE with one file; or, when the drain had not finished 6 s
# after the signal (a slow sanitizer build), the file closed as it was ("closing the file
# as it is" in the log) and reported in the EgressInfo.
drained() {
  if grep -q "closing the file as it is" "$work/$1.log"; then
    echo "note: $1: the drain was cut short after the signal"
    check "$1: one file reported" '.fileResults | length == 1' "$work/$1.json"
    return
  fi
  [ "$rc" -eq 0 ] && ok "$1: exit 0" || fail "$1: exit $rc: $(tail -3 "$work/$1.log")"
  check "$1: EGRESS_COMPLETE with one file" \
    '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1)' "$work/$1.json"
}
mkdir -p "$work/out"

# ---- A: connecting, a listener that never answers ----
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' >"$work/silent.port" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/silent.port" ] && break; sleep 0.05; done
start_rec connecting --url "http://127.0.0.1:$(cat "$work/silent.port")" --room demo
# The composite starts just before the signalling connection is opened.
wait_log connecting "composite .*: started" 30 || fail "connecting: the recorder did not start"
sleep 1
term connecting
[ "$rc" -ne 0 ] && ok "connecting: exit $rc" || fail "connecting: exit 0"

# ---- B: joined, waiting for the start signal ----
echo '{"room": "empty", "participants": []}' >"$work/empty.json"
start_room b "$work/empty.json"
start_rec waiting --url "$url" --room empty --start-timeout 60
wait_log waiting "session: joined room" 20 && ok "waiting: joined the room" ||
  fail "waiting: never joined: $(tail -3 "$work/waiting.log")"
sleep 1
term waiting
[ "$rc" -eq 8 ] && ok "waiting: exit 8" || fail "waiting: exit $rc: $(tail -3 "$work/waiting.log")"
check "waiting: EGRESS_ABORTED, no file" '.status == "EGRESS_ABORTED" and (.fileResults | length == 0)' \
  "$work/waiting.json"
stop_room

# ---- C, D, E: a room with publishers ----
start_room c "$src/tests/testroom/scenarios/three.json"
start_rec recording --url "$url" --room demo
if wait_log recording "EGRESS_ACTIVE" 30; then
  sleep 3
  term recording
  drained recording
  decodes recording "$(jq -r '.fileResults[0].location // empty' "$work/recording.json")"
else
  fail "recording: never became ACTIVE: $(tail -3 "$work/recording.log")"
fi

start_rec finalising --url "$url" --room demo --duration 3
if wait_log finalising "EGRESS_ENDING" 40; then
  term finalising
  drained finalising
  decodes finalising "$(jq -r '.fileResults[0].location // empty' "$work/finalising.json")"
else
  fail "finalising: never reached ENDING: $(tail -3 "$work/finalising.log")"
fi

start_rec twice --url "$url" --room demo
if wait_log twice "EGRESS_ACTIVE" 30; then
  sleep 1
  limit=4 term twice 2
  grep -q "second signal" "$work/twice.log" && ok "twice: the second signal was seen" ||
    fail "twice: no 'second signal' in the log"
else
  fail "twice: never became ACTIVE: $(tail -3 "$work/twice.log")"
fi
stop_room

# ---- F: an output that cannot be created ----
long=$(printf 'r%.0s' $(seq 240))
start_room f "$src/tests/testroom/scenarios/three.json"
mkdir -p "$work/out/f"
"$roomrec" record --url "$url" --api-key $key --api-secret $secret --room "$long" \
  --local-address 127.0.0.1 --json --output "$work/out/f/{room_name}-{time}.mp4" \
  >"$work/badout.json" 2>"$work/badout.log" &
rec_pid=$!
pids+=("$rec_pid")
sleep 2
term badout
[ "$rc" -ne 0 ] && ok "badout: exit $rc" || fail "badout: exit 0"
grep -q "File name too long" "$work/badout.log" && ok "badout: the reason is in the log" ||
  fail "badout: no 'File name too long' in the log"
stop_room

if [ "$failures" -ne 0 ]; then
  echo "record_sigterm: $failures check(s) failed"
  exit 1
fi
echo "record_sigterm: all checks passed"
