#!/usr/bin/env bash
# labels: rtcnode
# LiveKit's own Node SDK (@livekit/rtc-node) joins roomrec's Go test room as a hidden
# recorder: three synthetic participants (alice VP8+Opus 440 Hz, bob H264+Opus 660 Hz,
# carol Opus 880 Hz). Asserts on the test room's report that the SDK's subscriber
# session became fully established (ICE+DTLS, `_reliable` and `_lossy` open, no resume
# leave) and on the SDK's stats that video decodes on both video tracks and the tones
# arrive on all three audio tracks. Also: a token signed with the wrong secret is
# refused with the SDK's 401 error and appears in the report's rejected list.
set -euo pipefail
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RR_BUILD_DIR:?RR_BUILD_DIR must be set}
node_dir="$src/tests/node"
testroom="$build/testroom/testroom"
secret="rtcnode-test-secret-0123456789abcdef"
duration=${RR_RTCNODE_DURATION:-20}

if [ ! -x "$testroom" ]; then
  bash "$src/tests/testroom/build.sh" "$build"
fi
if [ ! -d "$node_dir/node_modules/@livekit/rtc-node" ]; then
  echo "rtcnode_join: tests/node/node_modules missing; run: npm ci --prefix tests/node" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rr-rtcnode.XXXXXX")
room_pid=""
node_pid=""
cleanup() {
  local rc=$?
  for p in $node_pid $room_pid; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  if [ $rc -ne 0 ]; then
    echo "---- test room log (tail) ----" >&2
    tail -n 60 "$work/testroom.log" >&2 || true
    echo "---- work dir kept: $work ----" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# The scenario of this test (alice VP8+Opus 440 Hz, bob H264+Opus 660 Hz, carol Opus
# 880 Hz; no events, so every tone plays all the time). Kept here rather than in
# tests/testroom/scenarios/ so that edits made there for other tests cannot change it.
cat >"$work/scenario.json" <<'JSON'
{
  "room": "demo",
  "participants": [
    {"identity": "alice", "name": "Alice", "join_at": 0,
     "tracks": [
       {"name": "camera", "kind": "video", "codec": "VP8", "source": "camera",
        "width": 640, "height": 360, "fps": 30, "bitrate": 600},
       {"name": "mic", "kind": "audio", "codec": "opus", "source": "microphone", "tone_hz": 440}]},
    {"identity": "bob", "name": "Bob", "join_at": 0,
     "tracks": [
       {"name": "camera", "kind": "video", "codec": "H264", "source": "camera",
        "width": 640, "height": 360, "fps": 30, "bitrate": 600},
       {"name": "mic", "kind": "audio", "codec": "opus", "source": "microphone", "tone_hz": 660}]},
    {"identity": "carol", "name": "Carol", "join_at": 0,
     "tracks": [
       {"name": "mic", "kind": "audio", "codec": "opus", "source": "microphone", "tone_hz": 880}]}
  ]
}
JSON

# RR_RTCNODE_SCENARIO=FILE replaces it (debugging; same identities and tones expected).
[ -n "${RR_RTCNODE_SCENARIO:-}" ] && cp "$RR_RTCNODE_SCENARIO" "$work/scenario.json"

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$testroom" -listen "127.0.0.1:$port" -api-key devkey -api-secret "$secret" \
  -scenario "$work/scenario.json" -report "$work/report.json" \
  >"$work/testroom.log" 2>&1 &
room_pid=$!
for _ in $(seq 1 300); do
  grep -q "testroom listening on" "$work/testroom.log" && break
  kill -0 "$room_pid" 2>/dev/null || { echo "testroom exited early" >&2; exit 1; }
  sleep 0.1
done
grep -q "testroom listening on" "$work/testroom.log" || { echo "testroom did not start" >&2; exit 1; }
url="ws://127.0.0.1:$port"
echo "testroom on $url (pid $room_pid)"

# Bad token first (fast): the SDK must refuse with its 401 error.
timeout 60 node "$node_dir/rtcnode_join.mjs" --bad-token --url "$url" --room demo \
  --api-key devkey --out "$work/badtoken.json" >/dev/null 2>"$work/badtoken.log" &
node_pid=$!
if ! wait "$node_pid"; then
  echo "FAIL bad token: not refused as expected" >&2
  cat "$work/badtoken.json" "$work/badtoken.log" >&2 || true
  exit 1
fi
node_pid=""
echo "bad token: $(jq -c '{error_class, message}' "$work/badtoken.json")"

# The real join.
timeout $((duration + 60)) node "$node_dir/rtcnode_join.mjs" --url "$url" --room demo \
  --api-key devkey --api-secret "$secret" --duration "$duration" --out "$work/stats.json" \
  >/dev/null 2>"$work/rtcnode.log" &
node_pid=$!
node_rc=0
wait "$node_pid" || node_rc=$?
node_pid=""
grep -v '^\[rust ' "$work/rtcnode.log" >&2 || true
[ -n "${RUST_LOG:-}" ] && echo "(rtc-node's Rust log: $work/rtcnode.log)" >&2

# Let the test room write its report and exit.
curl -sf -X POST "http://127.0.0.1:$port/debug/shutdown" >/dev/null || kill -TERM "$room_pid"
for _ in $(seq 1 100); do kill -0 "$room_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$room_pid" 2>/dev/null; then
  echo "FAIL testroom did not exit after /debug/shutdown" >&2
  exit 1
fi
wait "$room_pid" || true
room_pid=""

fails=0
check() { # check DESCRIPTION FILE JQ-EXPR
  if jq -e "$3" "$2" >/dev/null; then
    echo "ok   $1"
  else
    echo "FAIL $1" >&2
    fails=$((fails + 1))
  fi
}
R="$work/report.json"
S="$work/stats.json"
me='.clients[] | select(.identity == "rtcnode-recorder")'
check_me() { # check_me DESCRIPTION JQ-COND: COND holds for every rtc-node client entry
  check "$1" "$R" "[$me | $2] | length > 0 and all"
}
check "report has the rtc-node client" "$R" "[$me] | length == 1"
check_me "client is hidden recorder" ".hidden == true and .recorder == true"
check_me "client kind EGRESS" ".kind == \"EGRESS\""
check_me "exactly one session (no reconnect)" ".sessions | length == 1"
check_me "answer sent" ".sessions[0].answers | length >= 1"
check_me "ICE connected with a selected pair" ".sessions[0] | (.ice_connected_at // \"\") != \"\" and .selected_pair != null"
check_me "_reliable and _lossy open" ".sessions[0].data_channels_open | (any(. == \"_reliable\") and any(. == \"_lossy\"))"
check_me "established" ".sessions[0].established == true"
check "no resume leave sent" "$R" "[$me | .sessions[] | .resume_leave_sent] | all(. == false)"
check_me "client sent leave{CLIENT_INITIATED, DISCONNECT} on disconnect" ".sessions[0].leave_received | .reason == 1 and .action == 0"
check "bad token in rejected list" "$R" '[.rejected[]? | select((.path | startswith("/rtc")) and (.reason | test("token"; "i")))] | length >= 1'

if [ $node_rc -ne 0 ]; then
  echo "FAIL rtc-node client exited with $node_rc: $(jq -r '.error' "$S" 2>/dev/null)" >&2
  fails=$((fails + 1))
fi
check "connected" "$S" '.connected == true and .error == null'
check "clean disconnect" "$S" '.disconnect.clean == true'
check "two video tracks" "$S" '[.tracks[] | select(.kind == "video")] | length == 2'
check "three audio tracks" "$S" '[.tracks[] | select(.kind == "audio")] | length == 3'
check "codecs: alice VP8, bob H264" "$S" '([.tracks[] | select(.kind == "video") | "\(.participant):\(.mime_type | ascii_downcase)"] | sort) == ["alice:video/vp8", "bob:video/h264"]'
check "video decoded on both tracks (>0 frames, size > 0)" "$S" '[.tracks[] | select(.kind == "video") | select(.frames > 0 and .width > 0 and .height > 0)] | length == 2'
check "video >= 15 fps average on both tracks" "$S" '[.tracks[] | select(.kind == "video") | select(.fps >= 15)] | length == 2'
check "video frames carry a picture" "$S" '[.tracks[] | select(.kind == "video") | select((.luma_stddev_max // 0) > 5)] | length == 2'
check "audio on all three (frames, rms > 0)" "$S" '[.tracks[] | select(.kind == "audio") | select(.frames > 0 and .rms > 0)] | length == 3'
for pair in alice:440 bob:660 carol:880; do
  who=${pair%%:*} hz=${pair##*:}
  check "$who tone ~${hz} Hz" "$S" "[.tracks[] | select(.kind == \"audio\" and .participant == \"$who\") | select(.tone_hz_est != null and (.tone_hz_est - $hz | fabs) < $hz * 0.05)] | length == 1"
done
jq -c '.tracks | to_entries[] | {sid: .key} + (.value | {participant, kind, mime_type, frames, width, height, fps, rms, tone_hz_est})' "$S"
if [ $fails -ne 0 ]; then
  echo "$fails check(s) failed" >&2
  echo "test room's view of the rtc-node client (offers/answers left out):" >&2
  jq "[$me | del(.sessions[].offers, .sessions[].answers)]" "$R" >&2 || true
  grep -E 'rtcnode-recorder|WARN|ERROR' "$work/testroom.log" >&2 || true
  exit 1
fi
echo "rtcnode_join: all checks passed"
