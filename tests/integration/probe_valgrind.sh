#!/usr/bin/env bash
# labels: rtc,valgrind
# `roomrec probe` under valgrind memcheck (leak check, definite leaks are errors):
#  A. two participants (VP8+Opus, H.264) for 16 s with a resume in the middle (killed
#     signalling socket → ICE restart): 0 valgrind errors, 0 definite leaks, and the probe
#     still received media on every track;
#  B. error paths: a refused token (exit 3) and nothing listening (exit 4): 0 errors.
# Suppressions: GLib's glib.supp plus tests/valgrind.supp (narrow, commented).
# Not labelled "c": valgrind and ASan do not mix, so only the normal build runs it.
set -euo pipefail
secret=probe-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/setup.sh installs it)"; exit 1; }
supp=(--suppressions="$src/tests/valgrind.supp")
[ -f /usr/share/glib-2.0/valgrind/glib.supp ] && supp+=(--suppressions=/usr/share/glib-2.0/valgrind/glib.supp)

# vg NAME ARGS...: roomrec under valgrind (in the background with & by the caller or not)
vg() {
  local name=$1
  shift
  G_SLICE=always-malloc G_DEBUG=gc-friendly timeout 100 valgrind --leak-check=full \
    --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 --fair-sched=yes "${supp[@]}" \
    --log-file="$work/$name.vg" "$roomrec" "$@" >"$work/$name.json" 2>"$work/$name.log"
}
vg_clean() { # vg_clean NAME: valgrind's summary says 0 errors and no definite leak
  local f=$work/$1.vg
  if grep -q "ERROR SUMMARY: 0 errors" "$f" && ! grep -q "definitely lost: [1-9]" "$f"; then
    echo "ok: $1: valgrind: 0 errors, no definite leak"
  else
    fail "$1: valgrind found errors: $(grep -E 'ERROR SUMMARY|definitely lost' "$f" | tr '\n' ' ')"
  fi
}

# ---- A: media and a resume ----
start_room a "$src/tests/integration/data/probe-two.json"
set +e
vg a probe --url "$url" --api-key $key --api-secret $secret --room two --identity probe-vg \
  --duration 16 --pli-every 3 --json &
vpid=$!
pids+=("$vpid")
# The kick waits for the session to be established (valgrind makes the join slow).
for _ in $(seq 300); do
  grep -q "probe-vg: subscriber fully established\|probe-vg: data channel _lossy open" \
    "$work/a.room.err" 2>/dev/null && break
  sleep 0.1
done
sleep 2
curl -s -X POST "$url/debug/kick?identity=probe-vg" >/dev/null
wait "$vpid"
rc=$?
set -e
stop_room
[ "$rc" -eq 0 ] || fail "A: roomrec under valgrind exit code $rc (99: valgrind errors): $(tail -3 "$work/a.log")"
vg_clean a
check "A: session connected at the end" '.session.state == "connected" and .error == null' "$work/a.json"
check "A: resumed (the ICE restart path ran under valgrind)" \
  '.session.counters.resumes >= 1 and .session.counters.ice_restarts >= 1' "$work/a.json"
check "A: media on all three tracks, still flowing after the resume" \
  '(.session.tracks | length == 3) and ([.session.tracks[] | .packets > 50 and .ms_since_last_packet < 2000] | all)' "$work/a.json"
check "A: video keyframes received" \
  '[.session.tracks[] | select(.kind == "video") | .keyframes >= 1] | all' "$work/a.json"
jq -c "{counters: .session.counters, tracks: [.session.tracks[] | {codec, packets, keyframes, max_gap_ms, receiving_seconds}]}" "$work/a.json" || true

# ---- B: error paths ----
start_room b "$src/tests/integration/data/probe-two.json"
set +e
vg b1 probe --url "$url" --api-key $key --api-secret wrong-secret-0123456789abcdef --room two \
  --duration 30
rc=$?
set -e
stop_room
[ "$rc" -eq 3 ] && grep -q "refused the access token" "$work/b1.log" &&
  echo "ok: B: bad token → exit 3 under valgrind" || fail "B: bad token gave $rc: $(tail -2 "$work/b1.log")"
vg_clean b1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
set +e
vg b2 probe --url "http://127.0.0.1:$port" --api-key $key --api-secret $secret --room two --duration 30
rc=$?
set -e
[ "$rc" -eq 4 ] && echo "ok: B: nothing listening → exit 4 under valgrind" ||
  fail "B: nothing listening gave $rc: $(tail -2 "$work/b2.log")"
vg_clean b2

if [ "$failures" -ne 0 ]; then
  echo "probe_valgrind: $failures check(s) failed"
  exit 1
fi
echo "probe_valgrind: all checks passed"
