#!/usr/bin/env bash
# labels: c,worker
# `roomrec layout ID LAYOUT` through Redis to the worker holding the job: a room
# composite of four.json starts in grid; 3 s into the recording `roomrec layout EG_lay1
# single-speaker` is sent; the decoded video (rr-analyze, 2x2 cells) shows the four
# participants' colours in the seconds before the command and one colour filling the
# frame from 3 s after it to the end. `roomrec layout` refuses an unknown layout name
# (exit 2, naming LAYOUT, nothing queued) and an unknown egress (exit 1).
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

layout_cmd() { "$roomrec" layout --redis "127.0.0.1:$rport" --prefix "$prefix" "$@"; }

start_redis
start_room layout "$scenarios/four.json"
worker_config 0.8 6
start_worker w1

set +e
layout_cmd EG_nothere speaker >"$work/l1.out" 2>"$work/l1.err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "EG_nothere\|not found\|no such" "$work/l1.err" && ok "unknown egress: exit 1 ($(cat "$work/l1.err"))" ||
  fail "unknown egress: exit $rc: $(cat "$work/l1.err")"

# 640x360 at 15 fps: cheap enough for the sanitizer build on a shared machine.
submit EG_lay1 0.45 '{"egress_id":"EG_lay1","room_composite":{"room_name":"four","audio_only":false,"file_outputs":[{"filepath":"lay1.mp4"}],"advanced":{"width":640,"height":360,"framerate":15}}}'
wait_status EG_lay1 EGRESS_ACTIVE 60 && ok "ACTIVE in grid" || fail "not ACTIVE: $(status_of EG_lay1)"
set +e
layout_cmd EG_lay1 mosaic >"$work/l2.out" 2>"$work/l2.err"
rc=$?
set -e
[ $rc = 2 ] && grep -q 'LAYOUT: unknown layout "mosaic"' "$work/l2.err" && ok "unknown layout refused: $(cat "$work/l2.err")" ||
  fail "unknown layout: exit $rc: $(cat "$work/l2.err")"
[ "$(rcli LLEN "${prefix}ctl:EG_lay1")" = 0 ] && ok "nothing queued for it" || fail "a control message was queued"
sleep 3
sent=$(date +%s.%N)
layout_cmd EG_lay1 single-speaker >"$work/l3.out" 2>"$work/l3.err" && ok "$(cat "$work/l3.out")" ||
  fail "roomrec layout failed: $(cat "$work/l3.err")"
for _ in $(seq 100); do
  grep -q "job EG_lay1: layout single-speaker" "$work/w1.log" && break
  sleep 0.1
done
grep -q "job EG_lay1: layout single-speaker" "$work/w1.log" && ok "the worker forwarded it to the recording" ||
  fail "the worker did not forward the layout"
sleep 5
stop_job EG_lay1
wait_status EG_lay1 EGRESS_COMPLETE 60 && ok "COMPLETE" || fail "not COMPLETE: $(status_of EG_lay1)"
info_of EG_lay1 >"$work/lay1.json"

analyze lay1 "$work/out/lay1.mp4" --grid 2x2
A=$work/lay1.an.json
# The command's time on the file's timeline (fileResults[0].startedAt: its first media).
off=$(jq -r --argjson sent "$sent" '$sent - (.fileResults[0].startedAt | tonumber) / 1e9' "$work/lay1.json")
echo "layout command at ${off} s of the file"
check "grid before the command: 4 colours in the 4 cells" \
  '[video_secs[] | select(. >= 1 and . + 1 <= $off - 0.3)] as $ts | ($ts | length >= 1) and
   ([$ts[] as $t | all_hues_at($t) | length == 4] | all)' "$A" --argjson off "$off"
check "single-speaker from 3 s after it: one colour in every cell" \
  '(video_secs | max) as $last | [video_secs[] | select(. >= $off + 3 and . <= $last - 1)] as $ts |
   ($ts | length >= 2) and ([$ts[] as $t | ([.video.regions[] | select(.name != "frame") |
   rsec($t) | .rgb | hue] | unique) as $h | ($h | length == 1) and ($h[0] != "none")] | all)' \
  "$A" --argjson off "$off"
finish worker_layout
