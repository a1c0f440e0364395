#!/usr/bin/env bash
# labels: c,record
# `roomrec record` when nothing can be recorded — LiveKit's "Start signal not received":
#  A. an empty room, --start-timeout 5: exit 8, EGRESS_ABORTED, errorCode 412, details say
#     there are no publishers, within 5-15 s, no file left behind;
#  B. a track that is never published: ABORTED naming the track and listing what is;
#  C. a room whose media ports cannot be reached (the test room on a fixed UDP port range,
#     iptables and ip6tables rules on the loopback dropping UDP to it: roomrec gathers on
#     every interface, IPv6 too, for a room on loopback; ICE-TCP and the signalling
#     fallback off): ABORTED 412 with the connectivity report in the details (candidate
#     pairs and "no reply"), both when the start timeout fires first and when ICE gives
#     up first.
set -euo pipefail
secret=record-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"
rule=()
drop_rule() {
  if [ ${#rule[@]} -gt 0 ]; then
    iptables -D "${rule[@]}" 2>/dev/null || true
    ip6tables -D "${rule[@]}" 2>/dev/null || true
  fi
}
cleanup_hook=drop_rule
record() { # record NAME ARGS... → rc, secs (stdout NAME.json, stderr NAME.log)
  local name=$1
  shift
  local t0
  t0=$(date +%s.%N)
  set +e
  timeout 120 "$roomrec" record --url "$url" --api-key $key --api-secret $secret \
    --json --output "$work/out/$name" "$@" \
    >"$work/$name.json" 2>"$work/$name.log"
  rc=$?
  set -e
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}
aborted() { # aborted NAME: exit 8 and ABORTED 412
  [ "$rc" -eq 8 ] && ok "$1: exit 8 after ${secs}s" || fail "$1: exit $rc: $(tail -3 "$work/$1.log")"
  check "$1: EGRESS_ABORTED, 412, Start signal not received, no file" \
    '.status == "EGRESS_ABORTED" and .errorCode == 412 and .error == "Start signal not received" and (.fileResults | length == 0)' \
    "$work/$1.json"
}

mkdir -p "$work/out"
cat >"$work/empty.json" <<EOF
{"room": "empty", "participants": []}
EOF

# ---- A: nobody publishes ----
start_room a "$work/empty.json"
record empty --room empty --start-timeout 5
aborted empty
check "A: details say there are no publishers" '.details | test("no publishers")' "$work/empty.json"
awk -v s="$secs" 'BEGIN { exit !(s >= 4.5 && s <= 15) }' && ok "A: gave up after ${secs}s (timeout 5 s)" ||
  fail "A: took ${secs}s with a 5 s start timeout"
[ -z "$(ls -A "$work/out")" ] && ok "A: no output file left" || fail "A: files left: $(ls "$work/out")"
stop_room

# ---- B: the wanted track never appears ----
start_room b "$src/tests/testroom/scenarios/three.json"
record notrack --room demo --track dave/camera --start-timeout 4
aborted notrack
check "B: details name the track and what is published" \
  '(.details | test("track dave/camera never published")) and (.details | test("alice/camera"))' \
  "$work/notrack.json"
stop_room

# ---- C: media unreachable ----
if ! iptables -L INPUT -n >/dev/null 2>&1 || ! ip6tables -L INPUT -n >/dev/null 2>&1; then
  echo "SKIP: C needs iptables and ip6tables (root)"
else
  base=$(python3 -c 'import random; print(random.randrange(42000, 60000, 20))')
  tag="roomrec-record-abort-$$"
  rule=(INPUT -i lo -p udp --dport "$base:$((base + 9))" -m comment --comment "$tag" -j DROP)
  iptables -I "${rule[@]}"
  ip6tables -I "${rule[@]}"
  start_room c "$src/tests/testroom/scenarios/three.json" -udp-port-min "$base" \
    -udp-port-max "$((base + 9))"
  # The start timeout fires while ICE is still checking.
  record blocked1 --room demo --track alice/camera --no-tcp --no-signalling-fallback \
    --start-timeout 5 --ice-timeout 30
  aborted blocked1
  check "C: details carry the connectivity report (start timeout)" \
    '(.details | test("media connection never came up")) and (.details | test("candidate pairs \\([1-9]"))' \
    "$work/blocked1.json"
  # ICE gives up first: the pairs say there was no reply.
  record blocked2 --room demo --track bob/camera --no-tcp --no-signalling-fallback \
    --start-timeout 30 --ice-timeout 4
  aborted blocked2
  check "C: details carry the connectivity report (ICE failed)" \
    '(.details | test("candidate pairs \\([1-9]")) and (.details | test("no reply"))' \
    "$work/blocked2.json"
  awk -v s="$secs" 'BEGIN { exit !(s < 25) }' && ok "C: ICE failure ends it early (${secs}s)" ||
    fail "C: ICE failure took ${secs}s"
  stop_room
  iptables -D "${rule[@]}"
  ip6tables -D "${rule[@]}"
  rule=()
  { iptables -S INPUT; ip6tables -S INPUT; } | grep -q "$tag" && fail "C: iptables rule still there" ||
    ok "C: iptables rules removed"
fi

if [ "$failures" -ne 0 ]; then
  echo "record_abort: $failures check(s) failed"
  exit 1
fi
echo "record_abort: all checks passed"
