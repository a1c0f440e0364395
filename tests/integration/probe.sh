#!/usr/bin/env bash
# labels: c,rtc
# `roomrec probe` against the test room (issue: rtc joins as a hidden subscriber):
#  A. three participants (VP8+Opus, H264+Opus, audio only) for 30 s: RTP on every track
#     all the time, no SRTP authentication failure, both data channels open and the
#     session established in the room's report (its 10-20 s rule never fires), PLIs
#     counted by the room and answered with keyframes, a track published mid-session
#     received after the re-offer and ended cleanly when unpublished, a mute reported;
#  B. a signalling socket killed mid-session: resumed, the ICE restart of the room's
#     re-offer completes and media continues on the same peer connection (no rejoin, no
#     long gap); a server leave{RECONNECT}: rejoined, media continues;
#  C. bad token, wrong URL, nothing listening, a server that sends garbage, a server
#     that closes: clear messages and distinct exit codes.
set -euo pipefail
secret=probe-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"
probe() { # probe NAME ARGS... → exit code in $rc
  set +e
  "$roomrec" probe --url "$url" --api-key $key --api-secret $secret "$@" >"$work/$1.json" 2>"$work/$1.log"
  rc=$?
  set -e
}

# ---- A: 30 s with publish/unpublish/mute and periodic PLIs ----
start_room a "$src/tests/integration/data/probe-room.json"
set +e
"$roomrec" probe --url "$url" --api-key $key --api-secret $secret --room probe \
  --identity probe-a --duration 30 --pli-every 4 --json \
  >"$work/a.json" 2>"$work/a.log"
rc=$?
set -e
stop_room
[ "$rc" -eq 0 ] || fail "probe A exit code $rc: $(tail -3 "$work/a.log")"
A=$work/a.json R=$work/a.report.json
check "A: session connected" '.session.state == "connected" and .error == null' "$A"
check "A: 5 tracks at the end (screen gone)" '.session.tracks | length == 5' "$A"
check "A: every track received for ~30 s" \
  '[.session.tracks[] | select(.muted | not) | .receiving_seconds >= 27] | all' "$A"
check "A: every unmuted track still flowing" \
  '[.session.tracks[] | select(.muted | not) | .ms_since_last_packet < 1000] | all' "$A"
check "A: codecs VP8, H264 and Opus" \
  '[.session.tracks[].codec] | sort == ["H264","VP8","opus","opus","opus"]' "$A"
check "A: no SRTP authentication failures" '.session.peer.srtp_auth_failures == 0' "$A"
check "A: video keyframes received after PLIs" \
  '[.session.tracks[] | select(.kind == "video") | .keyframes >= 4] | all' "$A"
check "A: carol's mic reported muted" \
  '[.session.tracks[] | select(.participant == "carol") | .muted] == [true]' "$A"
check "A: data channels open on our side" \
  '.session.peer.data_channels | sort == ["_lossy","_reliable"]' "$A"
c='.clients[] | select(.identity == "probe-a")'
check "A: room saw both data channels open" \
  "[$c | .sessions[0].data_channels_open | sort] == [[\"_lossy\",\"_reliable\"]]" "$R"
check "A: room says established, no resume leave" \
  "[$c | .sessions[0] | .established and (.resume_leave_sent | not)] == [true]" "$R"
check "A: hidden recorder" "[$c | .hidden and .recorder] == [true]" "$R"
check "A: room counted our PLIs and RRs" "[$c | .rtcp.pli >= 8 and .rtcp.rr > 10] == [true]" "$R"
grep -q "track .*: video VP8 from alice" "$work/a.log" || fail "A: no VP8 track from alice logged"
n_alice_video=$(grep -c "video VP8 from alice" "$work/a.log" || true)
[ "$n_alice_video" -ge 2 ] && echo "ok: A: screen share received after the re-offer" ||
  fail "A: the published screen share never arrived"
grep -q "track .* of alice ended" "$work/a.log" && echo "ok: A: unpublished track ended" ||
  fail "A: the unpublished track was not reported ended"

# ---- B1: resume after a killed socket: the room re-offers with an ICE restart (new
# ufrag/pwd, new ports on its side) and media must come back on the same peer connection,
# without a rejoin (the 10 s silence watchdog never fires) ----
start_room b1 "$src/tests/integration/data/probe-room.json"
set +e
"$roomrec" probe --url "$url" --api-key $key --api-secret $secret --room probe \
  --identity probe-b1 --duration 16 --json \
  >"$work/b1.json" 2>"$work/b1.log" &
ppid_=$!
pids+=("$ppid_")
# Kick once the session is established (media flows), then there is time to resume.
for _ in $(seq 100); do
  grep -q "probe-b1: subscriber fully established" "$work/b1.room.err" 2>/dev/null && break
  sleep 0.1
done
sleep 1
curl -s -X POST "$url/debug/kick?identity=probe-b1" >/dev/null
wait "$ppid_"
rc=$?
set -e
stop_room
B=$work/b1.json R=$work/b1.report.json
[ "$rc" -eq 0 ] || fail "probe B1 exit code $rc: $(tail -3 "$work/b1.log")"
jq -c '{counters: .session.counters, ice: (.session.peer.ice | {restarts, restarts_completed, last_restart_ms}), max_gap_ms: [.session.tracks[] | select(.muted | not) | .max_gap_ms]}' "$B" || true
check "B1: resumed once, joined once, no rejoin" \
  '.session.counters | .resumes == 1 and .joins == 1 and .rejoins == 0' "$B"
check "B1: the offer after the resume restarted ICE and the restart completed" \
  '.session.counters.ice_restarts >= 1 and .session.peer.ice.restarts_completed >= 1 and .session.peer.ice.last_restart_ms >= 0' "$B"
check "B1: every unmuted track still flowing at the end" \
  '([.session.tracks[] | select(.muted | not) | .ms_since_last_packet < 1000 and .packets > 100] | all) and (.session.tracks | length >= 4)' "$B"
check "B1: no track silent for 8 s or more (the watchdog would rejoin at 10 s)" \
  '[.session.tracks[] | select(.muted | not) | .max_gap_ms < 8000] | all' "$B"
check "B1: no SRTP authentication failures (the DTLS session survived the restart)" \
  '.session.peer.srtp_auth_failures == 0' "$B"
c='.clients[] | select(.identity == "probe-b1")'
check "B1: room saw a resumed session and an ICE-restart offer answered in it" \
  "[$c | .sessions[] | select(.resume) | ((.offers // []) | map(.ice_restart) | any) and ((.answers // []) | length >= 1)] | any" "$R"
check "B1: room's ICE connected again in the resumed session, on a new server port" \
  "[$c | (.sessions[0].selected_pair.local) as \$old | .sessions[] | select(.resume) | (.ice_connected_at // \"\") != \"\" and .selected_pair.local != \$old] | any" "$R"

# ---- B2: a server leave{RECONNECT}: a full rejoin, media continues ----
start_room b2 "$src/tests/integration/data/probe-room.json"
set +e
"$roomrec" probe --url "$url" --api-key $key --api-secret $secret --room probe \
  --identity probe-b2 --duration 14 --json \
  >"$work/b2.json" 2>"$work/b2.log" &
ppid_=$!
pids+=("$ppid_")
sleep 5
curl -s -X POST "$url/debug/leave?identity=probe-b2&action=RECONNECT" >/dev/null
wait "$ppid_"
rc=$?
set -e
stop_room
B=$work/b2.json
[ "$rc" -eq 0 ] || fail "probe B2 exit code $rc: $(tail -3 "$work/b2.log")"
check "B2: rejoined once" '.session.counters | .rejoins == 1 and .joins == 2' "$B"
check "B2: media continues after the rejoin" \
  '([.session.tracks[] | select(.muted | not) | .ms_since_last_packet < 1000 and .packets > 100] | all) and (.session.tracks | length >= 4)' "$B"

# ---- C: errors ----
start_room c "$src/tests/integration/data/probe-room.json"
set +e
"$roomrec" probe --url "$url" --api-key $key --api-secret wrong-secret-0123456789abcdef --room probe \
  --duration 5 >"$work/c1.out" 2>"$work/c1.log"
rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q "refused the access token" "$work/c1.log" &&
  echo "ok: C: bad token → exit 3" || fail "C: bad token gave $rc: $(cat "$work/c1.log" | tail -2)"
grep -q "wrong-secret" "$work/c1.log" && fail "C: the secret appeared in the log"
set +e
"$roomrec" probe --url "$url/not-livekit" --api-key $key --api-secret $secret --room probe \
  --duration 5 >"$work/c2.out" 2>"$work/c2.log"
rc=$?
set -e
[ "$rc" -eq 4 ] && grep -q "404" "$work/c2.log" && echo "ok: C: wrong URL → exit 4" ||
  fail "C: wrong URL gave $rc: $(tail -2 "$work/c2.log")"
stop_room
# A port with nothing behind it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set +e
"$roomrec" probe --url "http://127.0.0.1:$port" --api-key $key --api-secret $secret --room probe \
  --duration 5 >"$work/c3.out" 2>"$work/c3.log"
rc=$?
set -e
[ "$rc" -eq 4 ] && grep -qi "refused" "$work/c3.log" && echo "ok: C: nothing listening → exit 4" ||
  fail "C: nothing listening gave $rc: $(tail -2 "$work/c3.log")"
# A WebSocket server that sends garbage, and one that closes at once.
for mode in garbage close; do
  python3 "$src/tests/integration/data/bad_ws_server.py" "$mode" >"$work/ws-$mode.port" &
  wpid=$!
  pids+=("$wpid")
  for _ in $(seq 50); do [ -s "$work/ws-$mode.port" ] && break; sleep 0.1; done
  wport=$(cat "$work/ws-$mode.port")
  set +e
  timeout 60 "$roomrec" probe --url "ws://127.0.0.1:$wport" --api-key $key --api-secret $secret \
    --room probe --duration 5 >"$work/c-$mode.out" 2>"$work/c-$mode.log"
  rc=$?
  set -e
  kill "$wpid" 2>/dev/null || true
  if [ $mode = garbage ]; then
    [ "$rc" -eq 7 ] && grep -q "not LiveKit signalling" "$work/c-$mode.log" &&
      echo "ok: C: garbage → exit 7" || fail "C: garbage gave $rc: $(tail -2 "$work/c-$mode.log")"
  else
    [ "$rc" -eq 4 ] && grep -q "closed" "$work/c-$mode.log" &&
      echo "ok: C: server closes → exit 4" || fail "C: close gave $rc: $(tail -2 "$work/c-$mode.log")"
  fi
done

if [ "$failures" -ne 0 ]; then
  echo "probe: $failures check(s) failed"
  exit 1
fi
echo "probe: all checks passed"
