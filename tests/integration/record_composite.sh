#!/usr/bin/env bash
# labels: c,record
# `roomrec record` room composite (grid, H264_720P_30) of four participants (two VP8 and
# two H264 cameras, each a moving ball on its own colour, each with an Opus tone of its
# own: tests/testroom/scenarios/four.json) for 10 s. The file is decoded (rr-analyze):
# H.264 1280x720 + AAC in MP4, ~10 s, ~300 frames, no decode error, each quadrant moving
# and showing one participant's colour (all four colours), every participant's tone in
# the mixed audio all the time; the EgressInfo says COMPLETE with that file.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record

start_room four "$scenarios/four.json"
out=$work/composite.mp4
record_bg composite four --layout grid --preset H264_720P_30 --output "$out" --duration 10
record_wait composite "$rec_pid"
stop_room
egress_ok composite "$out"
E=$work/composite.json
check "EgressInfo: duration ~10 s, roomComposite echoed" \
  '(.fileResults[0].duration | tonumber / 1e9 - 10 | fabs) <= 0.5 and (.roomComposite != null)' "$E"

analyze composite "$out" --grid 2x2 --tones 300,500,700,900
A=$work/composite.an.json
check "MP4 with H.264 1280x720 and AAC" \
  '.container.format == "mp4" and ([.streams[].codec] | sort == ["aac","h264"]) and
   ([.streams[] | select(.type == "video") | [.width, .height]] == [[1280, 720]])' "$A"
check "duration within 0.5 s of 10 s" '(.duration_s - 10 | fabs) <= 0.5' "$A"
check "video and audio both span the 10 s" \
  '(.video.last_pts_ms - .video.first_pts_ms >= 9300) and (.audio.end_pts_ms - .audio.first_pts_ms >= 9300)' "$A"
check "frame count ≈ duration × 30 (±3%)" \
  '(.video.frames - .duration_s * 30 | fabs) <= .duration_s * 30 * 0.03' "$A"
check "no decode errors or warnings" '(.errors | length == 0) and (.warnings | length == 0)' "$A"
check "no frozen stretch (largest frame gap < 200 ms)" '.video.max_gap_ms < 200' "$A"
for q in r0c0 r0c1 r1c0 r1c1; do
  check "quadrant $q moves" "region(\"$q\") | .motion > 0.1" "$A"
done
check "the four quadrants show the four participants' colours" \
  '[.video.regions[] | select(.name != "frame") | .rgb | hue] | sort == ["blue","green","red","yellow"]' "$A"
check "each quadrant keeps its colour every second (after the first)" \
  '[video_secs[] | select(. >= 1 and . <= 8)] as $ts | [$ts[] as $t | all_hues_at($t) | length == 4] | length >= 8 and all' "$A"
for f in 300 500 700 900; do
  check "tone $f Hz present every second" \
    "[audio_secs[] | select(. >= 1 and . <= 8)] as \$ts | [\$ts[] as \$t | tone(\$t; $f) >= 0.05] | length >= 8 and all" "$A"
done
check "the tones make up the audio (no other strong content)" \
  '[audio_secs[] | select(. >= 1 and . <= 8)] as $ts | [$ts[] as $t | tone($t; 300) + tone($t; 500) + tone($t; 700) + tone($t; 900) >= 0.6] | all' "$A"
finish record_composite
