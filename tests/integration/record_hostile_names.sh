#!/usr/bin/env bash
# labels: c,record
# `roomrec record` with room and participant names that come from outside and try to
# move the output file, and output names that cannot be made:
#  A. a room named "..": a room composite with --output ".../rooms/{room_name}/{time}"
#     writes into rooms/__/, never next to rooms/;
#  B. a participant named "..": a track egress with --output
#     ".../tracks/{publisher_identity}/{track_id}" writes into tracks/__/;
#  C. a room named "x/../../up": "/" becomes "_", the file stays in its directory;
#  D. an existing file is never overwritten: a second recording to the same name is written
#     as NAME-1.EXT, the EgressInfo names it, the old file is untouched;
#  E. a room name of 240 characters with the default "{room_name}-{time}": the job fails at
#     once (within 10 s, exit non-zero, EGRESS_FAILED) saying "cannot create output PATH:
#     File name too long", and leaves no file (before, it hung in STARTING for good).
set -euo pipefail
secret=record-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"
record() { # record NAME ROOM ARGS... → rc, secs (stdout NAME.json, stderr NAME.log)
  local name=$1 room=$2
  shift 2
  local t0
  t0=$(date +%s.%N)
  set +e
  timeout -s KILL 120 "$roomrec" record --url "$url" --api-key $key --api-secret $secret \
    --room "$room" --local-address 127.0.0.1 --json "$@" >"$work/$name.json" 2>"$work/$name.log"
  rc=$?
  set -e
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}
scenario() { # scenario FILE ROOM: two participants ("..", "a/b") with an Opus track each
  jq -n --arg room "$2" '{room: $room, participants: [
    {identity: "..", name: "Dots", tracks: [{name: "mic", kind: "audio", codec: "opus",
      source: "microphone", tone_hz: 440}]},
    {identity: "a/b", name: "Slash", tracks: [{name: "mic", kind: "audio", codec: "opus",
      source: "microphone", tone_hz: 660}]}]}' >"$1"
}
completed() { # completed NAME: exit 0, COMPLETE, its file in the EgressInfo
  [ "$rc" -eq 0 ] && ok "$1: exit 0" || fail "$1: exit $rc: $(tail -3 "$work/$1.log")"
  check "$1: EGRESS_COMPLETE with one file" \
    '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1)' "$work/$1.json"
}
only_file() { # only_file DESC DIR: DIR holds exactly one file (printed), nothing above it
  local n
  n=$(find "$2" -type f | wc -l)
  [ "$n" -eq 1 ] && ok "$1: one file in $(basename "$2")/" || fail "$1: $n files in $2: $(find "$2" -type f)"
}

mkdir -p "$work/out"

# ---- A, B: a room and a participant named ".." ----
scenario "$work/dots.json" ".."
start_room dots "$work/dots.json"
mkdir -p "$work/out/a"
record dots_room ".." --audio-only --duration 3 --output "$work/out/a/rooms/{room_name}/{time}"
completed dots_room
only_file "A: room '..'" "$work/out/a"
[ -d "$work/out/a/rooms/__" ] && [ -n "$(ls -A "$work/out/a/rooms/__")" ] &&
  ok "A: the file is in rooms/__/" || fail "A: nothing in rooms/__/: $(find "$work/out/a")"
check "A: the EgressInfo names the file in rooms/__/" \
  '.fileResults[0].location | test("/a/rooms/__/[^/]+\\.ogg$")' "$work/dots_room.json"

mkdir -p "$work/out/b"
record dots_track ".." --track "../mic" --duration 3 \
  --output "$work/out/b/tracks/{publisher_identity}/{track_id}"
completed dots_track
only_file "B: identity '..'" "$work/out/b"
[ -n "$(ls -A "$work/out/b/tracks/__" 2>/dev/null)" ] &&
  ok "B: the file is in tracks/__/" || fail "B: nothing in tracks/__/: $(find "$work/out/b")"
check "B: the EgressInfo names the file in tracks/__/" \
  '.fileResults[0].location | test("/b/tracks/__/TR_[^/]+\\.ogg$")' "$work/dots_track.json"
stop_room

# ---- C: "/" in a room name ----
scenario "$work/slash.json" "x/../../up"
start_room slash "$work/slash.json"
mkdir -p "$work/out/c/rooms"
record slash_room "x/../../up" --audio-only --duration 3 --output "$work/out/c/rooms/{room_name}"
completed slash_room
only_file "C: room 'x/../../up'" "$work/out/c"
[ -s "$work/out/c/rooms/x_.._.._up.ogg" ] && ok "C: written as rooms/x_.._.._up.ogg" ||
  fail "C: rooms/x_.._.._up.ogg missing: $(find "$work/out/c")"

# ---- D: no overwrite ----
mkdir -p "$work/out/d"
echo "an older recording" >"$work/out/d/fixed.ogg"
record again "x/../../up" --audio-only --duration 3 --output "$work/out/d/fixed.ogg"
completed again
[ "$(cat "$work/out/d/fixed.ogg")" = "an older recording" ] && ok "D: the existing file is untouched" ||
  fail "D: fixed.ogg was overwritten"
[ -s "$work/out/d/fixed-1.ogg" ] && ok "D: the recording is fixed-1.ogg" ||
  fail "D: fixed-1.ogg missing: $(ls "$work/out/d")"
check "D: the EgressInfo names fixed-1.ogg" '.fileResults[0].location | endswith("/d/fixed-1.ogg")' \
  "$work/again.json"
[ "$(find "$work/out/d" -type f | wc -l)" -eq 2 ] && ok "D: no placeholder or .part left" ||
  fail "D: files left: $(ls "$work/out/d")"
stop_room

# ---- E: a 240-character room name ----
long=$(printf 'r%.0s' $(seq 240))
start_room long "$src/tests/testroom/scenarios/three.json"
mkdir -p "$work/out/e"
cd "$work/out/e" # the default output goes to the current directory
record long "$long" --start-timeout 30
cd "$work"
[ "$rc" -ne 0 ] && [ "$rc" -ne 137 ] && ok "E: exit $rc" || fail "E: exit $rc (137: killed after 120 s)"
awk -v s="$secs" 'BEGIN { exit !(s < 10) }' && ok "E: ended after ${secs}s" ||
  fail "E: took ${secs}s"
grep -q "cannot create output ${long}-[0-9T-]*\.mp4: File name too long" "$work/long.log" &&
  ok "E: the log names the path and the reason" ||
  fail "E: no 'cannot create output PATH: File name too long' in the log: $(tail -3 "$work/long.log" | cut -c1-300)"
check "E: EGRESS_FAILED with the path and the reason" \
  '.status == "EGRESS_FAILED" and (.error | test("^cannot create output r{240}-.*\\.mp4: File name too long$")) and (.fileResults | length == 0)' \
  "$work/long.json"
[ -z "$(ls -A "$work/out/e")" ] && ok "E: no file left" || fail "E: files left: $(ls "$work/out/e")"
stop_room

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "record_hostile_names: $failures check(s) failed"
    exit 1
  fi
  echo "record_hostile_names: all checks passed"
}
finish
