#!/usr/bin/env bash
# labels: c,rtc
# A server on loopback works with no flags (the ICE loopback rule): the test room listens
# on 127.0.0.1 and gathers on the loopback interface only (`-interfaces lo`), like a local
# development server; libnice leaves loopback out of its own interface list, so before
# the rule every pair failed ("ICE failed: every candidate pair failed").
#  A. `roomrec probe` without --local-address: exit 0, media on every track, the pair on
#     127.0.0.1, the report says why loopback was gathered on, and the machine's other
#     addresses were gathered too;
#  B. a short `roomrec record --track` (Opus → Ogg) without --local-address: exit 0,
#     EGRESS_COMPLETE, the file decodes without errors and lasts the recorded time;
#  C. the flag itself: --local-address 127.0.0.1 gathers on it alone (and connects);
#     --local-address with a non-loopback address keeps loopback out, ICE fails, and the
#     summary names the fix.
set -euo pipefail
secret=loopback-secret-0123456789abcdef012
. "$(dirname "$0")/data/lib.sh"
mkdir -p "$work/out"
# Float comparison: |a - b| <= tol
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
run() { # run NAME SUBCOMMAND ARGS... → rc; stdout NAME.json, stderr NAME.log
  local name=$1 sub=$2
  shift 2
  set +e
  timeout 120 "$roomrec" "$sub" --url "$url" --api-key $key --api-secret $secret --room demo \
    --json "$@" >"$work/$name.json" 2>"$work/$name.log"
  rc=$?
  set -e
}

start_room lo "$src/tests/testroom/scenarios/three.json" -interfaces lo

# ---- A: probe, no flag ----
run a probe --identity probe-lo --duration 8
[ "$rc" -eq 0 ] && ok "A: probe without --local-address: exit 0" ||
  fail "A: probe exit $rc: $(tail -3 "$work/a.log")"
A=$work/a.json
check "A: session connected, no error" '.session.state == "connected" and .error == null' "$A"
check "A: media on every track (5 or more: a screen share comes at 6 s)" \
  '(.session.tracks | length >= 5) and ([.session.tracks[] | .packets > 50] | all)' "$A"
check "A: the selected pair is on 127.0.0.1 both sides" \
  '.session.peer.ice.selected_pair | (.local | test(" 127\\.0\\.0\\.1:")) and (.remote | test(" 127\\.0\\.0\\.1:"))' "$A"
check "A: the report says why loopback was gathered on" \
  '.session.peer.ice.loopback == "the signalling address 127.0.0.1 is loopback"' "$A"
# The machine's other IPv4 addresses are still gathered (adding loopback must not
# replace libnice's own enumeration).
for ip in $(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }'); do
  check "A: the machine's address $ip gathered too" \
    "[.session.peer.ice.local_candidates[] | tostring | test(\"$ip\")] | any" "$A"
done

# ---- B: a short track egress, no flag ----
run b record --track alice/mic --duration 5 --output "$work/out/mic"
[ "$rc" -eq 0 ] && ok "B: record without --local-address: exit 0" ||
  fail "B: record exit $rc: $(tail -3 "$work/b.log")"
B=$work/b.json
check "B: EGRESS_COMPLETE with one file" \
  '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1) and .error == null' "$B"
f=$(jq -r '.fileResults[0].location // empty' "$B" 2>/dev/null || true)
if [ -n "$f" ] && [ -s "$f" ]; then
  codec=$(ffprobe -v error -select_streams 0 -show_entries stream=codec_name -of csv=p=0 "$f")
  [ "$codec" = opus ] && ok "B: opus in $(basename "$f")" || fail "B: codec $codec, wanted opus"
  if ffmpeg -nostdin -v error -i "$f" -f null - >"$work/b.decode" 2>&1 && [ ! -s "$work/b.decode" ]; then
    ok "B: decodes without errors"
  else
    fail "B: decode errors: $(head -3 "$work/b.decode")"
  fi
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
  near "$dur" 5 0.5 && ok "B: lasts ${dur}s (recorded 5 s)" || fail "B: lasts ${dur}s, recorded 5 s"
else
  fail "B: no output file (${f:-none})"
fi

# ---- C: --local-address still restricts gathering ----
run c1 probe --identity probe-c1 --duration 3 --local-address 127.0.0.1
[ "$rc" -eq 0 ] && ok "C1: --local-address 127.0.0.1: exit 0" ||
  fail "C1: exit $rc: $(tail -3 "$work/c1.log")"
check "C1: gathered on 127.0.0.1 alone, no loopback rule" \
  '(.session.peer.ice.local_candidates | length > 0) and
   ([.session.peer.ice.local_candidates[] | tostring | test("127\\.0\\.0\\.1")] | all) and
   (.session.peer.ice.loopback == null)' "$work/c1.json"
other=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -n "$other" ]; then
  run c2 probe --identity probe-c2 --duration 30 --ice-timeout 5 --local-address "$other"
  [ "$rc" -eq 5 ] && ok "C2: --local-address $other against a loopback-only server: exit 5" ||
    fail "C2: exit $rc, wanted 5: $(tail -3 "$work/c2.log")"
  grep -q "gathered on no loopback address: add the local address 127.0.0.1" "$work/c2.log" &&
    ok "C2: the ICE summary names the fix" || fail "C2: no fix named: $(grep -i ice "$work/c2.log" | tail -2)"
else
  echo "skip: C2: no non-loopback IPv4 address on this machine"
fi

stop_room
R=$work/lo.report.json
check "the room gathered on loopback only" \
  '[.clients[].sessions[].candidates_sent[] | test(" (127\\.0\\.0\\.1|::1) ")] | (length > 0 and all)' "$R"

if [ "$failures" -ne 0 ]; then
  echo "loopback_noflag: $failures check(s) failed"
  exit 1
fi
echo "loopback_noflag: all checks passed"
