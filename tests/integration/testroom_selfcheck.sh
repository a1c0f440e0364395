#!/usr/bin/env bash
# labels: testroom
# End-to-end check of the Go test room (tests/testroom) with its pion client lkclient:
# media on every track, data channels + "fully established", PLI → keyframe,
# m-section reuse on re-offers, kick → resume, leave RECONNECT → rejoin, token
# rejection, and leave{RESUME} for a client that refuses the data channels.
set -euo pipefail
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RR_BUILD_DIR:-$src/build}
"$src/tests/testroom/build.sh" "$build" >/dev/null
bin="$build/testroom"
work=$(mktemp -d /tmp/testroom-selfcheck.XXXXXX)
pids=()
failures=0

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$failures" -eq 0 ]; then rm -rf "$work"; else echo "logs kept in $work"; fi
}
trap cleanup EXIT

die() { echo "FAIL: $*"; failures=$((failures + 1)); exit 1; }

# start_room NAME SCENARIO ARGS... → sets room_pid and url
start_room() {
  local name=$1 sc=$2
  shift 2
  : >"$work/$name.out" # exists before the job's own redirection (a race under load)
  "$bin/testroom" -listen 127.0.0.1:0 -scenario "$sc" -report "$work/$name.report.json" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  room_pid=$!
  pids+=("$room_pid")
  url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^testroom listening on //p' "$work/$name.out")
    [ -n "$url" ] && return 0
    kill -0 "$room_pid" 2>/dev/null || die "testroom $name exited: $(tail -5 "$work/$name.err")"
    sleep 0.1
  done
  die "testroom $name did not start"
}

stop_room() {
  curl -fsS -X POST "$url/debug/shutdown" >/dev/null
  for _ in $(seq 100); do kill -0 "$room_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$room_pid" 2>/dev/null && die "testroom did not exit on /debug/shutdown"
  wait "$room_pid" || die "testroom exit status $?"
}

check() { # DESCRIPTION FILE JQ-FILTER [jq args...]
  local desc=$1 file=$2 filter=$3
  shift 3
  if jq -e "$@" "$filter" "$file" >/dev/null; then
    echo "ok: $desc"
  else
    echo "FAIL: $desc"
    failures=$((failures + 1))
  fi
}

post() { curl -fsS -X POST "$url$1" >/dev/null; }

# ---------- 1. three participants, PLI, re-offers, kick/resume, RECONNECT ----------
start_room main "$src/tests/testroom/scenarios/three.json" -establish-min 3s -establish-max 5s

code=$(curl -s -o /dev/null -w '%{http_code}' "$url/rtc/v1?access_token=x")
[ "$code" = 404 ] && echo "ok: /rtc/v1 is 404" || { echo "FAIL: /rtc/v1 gave $code"; failures=$((failures + 1)); }
body=$(curl -s -w ' %{http_code}' "$url/rtc/validate?access_token=not.a.token")
case "$body" in "invalid authorization token 401") echo "ok: bad token refused (401)" ;;
  *) echo "FAIL: /rtc/validate with a bad token: $body"; failures=$((failures + 1)) ;; esac

"$bin/lkclient" -url "$url" -identity rec -duration 26s -pli-at 4s >"$work/main.client.json" 2>"$work/main.client.err" &
client_pid=$!
pids+=("$client_pid")
sleep 15
post "/debug/kick?identity=rec"
sleep 3
post "/debug/leave?identity=rec&action=RECONNECT"
wait "$client_pid" || die "lkclient failed: $(tail -5 "$work/main.client.err")"
curl -fsS "$url/debug/report" >"$work/main.live.json"
stop_room
r="$work/main.report.json"
c="$work/main.client.json"
[ -s "$r" ] || die "no report written at exit"

check "client: joined twice (RECONNECT → rejoin) and resumed after the kick" "$c" '.joins == 2 and .resumes >= 1'
check "client: both data channels opened" "$c" '(.data_channels | index("_reliable")) and (.data_channels | index("_lossy"))'
check "client: last server candidate had final=true" "$c" '.final_candidate'
check "client: candidateInit JSON shape" "$c" '.candidate_sample | fromjson | (keys == ["candidate","sdpMLineIndex","sdpMid","usernameFragment"]) and .usernameFragment == null'
check "client: RTP on all 5 initial tracks" "$c" '[.offers[0].mids[] as $t | .tracks[$t].packets // 0] | length == 5 and all(. > 100)'
check "client: keyframe follows the PLI on both video tracks" "$c" \
  '[.tracks[] | select(.kind == "video" and .pli_sent > 0) | .keyframe_after_pli_ms] | length >= 2 and all(. > 0 and . < 2000)'
check "client: no errors" "$c" '.errors | length == 0'
check "re-offers reuse the unpublished track's m-section" "$c" '
  ($r[0].publishers[] | select(.identity == "alice") | .tracks) as $t
  | ($t[] | select(.name == "screen") | .sid) as $s1 | ($t[] | select(.name == "screen2") | .sid) as $s2
  | ([.offers[] | select(.mids | to_entries | any(.value == $s1))][0]) as $o1
  | ([.offers[] | select(.mids | to_entries | any(.value == $s2))][0]) as $o2
  | ($o1.mids | to_entries[] | select(.value == $s1) | .key) == ($o2.mids | to_entries[] | select(.value == $s2) | .key)
    and ($o1.mlines | length) == ($o2.mlines | length)' --slurpfile r "$r"
check "report: two rec clients (rejoin after RECONNECT)" "$r" '[.clients[] | select(.identity == "rec")] | length == 2'
check "report: first session established with both data channels" "$r" \
  '.clients[0].sessions[0] | .established and (.data_channels_open | index("_reliable")) and (.data_channels_open | index("_lossy")) and .final_candidate_sent and .ice_connected_at != ""'
check "report: kick ended session 0, session 1 is a resume" "$r" \
  '.clients[0].sessions | .[0].end_reason == "kicked" and .[1].resume == true'
check "report: leave RECONNECT sent on the resumed session" "$r" '.clients[0].sessions[1].leaves_sent | any(.action == 2)'
check "report: pings counted" "$r" '.clients[0].sessions[0].pings > 0'
check "report: PLIs counted, RRs received" "$r" '.clients[0].rtcp.pli >= 2 and .clients[0].rtcp.rr > 0'
check "report: packets sent on all 7 tracks (incl. mid-session publishes)" "$r" \
  '.clients[0].tracks | length == 7 and ([.[] | .packets_sent] | all(. > 0))'
check "report: keyframes sent on video tracks" "$r" '[.clients[0].tracks[] | select(.kind == "video") | .keyframes_sent] | all(. > 0)'
check "report: offer ids increase" "$r" '[.clients[0].sessions[0].offers[].id] | . == (sort | unique) and length >= 4'
check "report: rejoined client established" "$r" '.clients[1].sessions[0] | .established and (.resume | not)'
check "report: hidden recorder EGRESS client recorded" "$r" '.clients[0] | .hidden and .recorder and .kind == "EGRESS" and .protocol == 16'
check "report: rejected bad token" "$r" '.rejected | any(.status == 401)'
check "report: live /debug/report was valid" "$work/main.live.json" '.clients | length == 2'

# ---------- 2. a client that refuses the data channels gets leave{RESUME} ----------
start_room nodc "$src/tests/testroom/scenarios/audio-only.json" -establish-min 2s -establish-max 3s
"$bin/lkclient" -url "$url" -identity nodc -dc strip -duration 8s >"$work/nodc.client.json" 2>"$work/nodc.client.err" ||
  die "lkclient (nodc) failed"
stop_room
check "no-DC client got leave{CONNECTION_TIMEOUT, RESUME}" "$work/nodc.client.json" '.leaves | any(.action == 1 and .reason == 14)'
check "no-DC report: resume_leave_sent, not established" "$work/nodc.report.json" \
  '.clients[0].sessions[0] | .resume_leave_sent and (.established | not) and .ice_connected_at != "" and (.data_channels_open | length == 0)'

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all testroom self-checks passed"
