#!/usr/bin/env bash
# labels: c,record
# `roomrec record` killed with SIGKILL mid-recording: a room composite to fragmented MP4
# (tests/testroom/scenarios/four.json) is killed ~6 s after its file got its first
# bytes. The final name must not exist, the .part file must decode up to its last
# complete fragment: ≥ 4 s of video at ~30 fps and of audio, no decode error before the
# last second of what was written, the four participants' tiles and tones.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record

start_room kill "$scenarios/four.json"
out=$work/killed.mp4
record_bg killed four --layout grid --preset H264_720P_30 --output "$out"
kpid=$rec_pid
started=""
for _ in $(seq 300); do # up to 30 s for the first bytes
  if [ -s "$out.part" ]; then
    started=yes
    break
  fi
  kill -0 "$kpid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$started" ]; then
  fail "no $out.part with data appeared: $(tail -3 "$work/killed.log")"
  finish record_kill
fi
sleep 6.5
kill -0 "$kpid" 2>/dev/null && echo "ok: recorder still running after 6.5 s" ||
  fail "the recorder ended by itself: $(tail -3 "$work/killed.log")"
kill -9 "$kpid" 2>/dev/null || true
wait "$kpid" 2>/dev/null || true
stop_room

[ -e "$out" ] && fail "the final file $out exists after SIGKILL" || echo "ok: no final file after SIGKILL"
[ -s "$out.part" ] && echo "ok: $(basename "$out").part kept ($(stat -c %s "$out.part") bytes)" ||
  fail "$out.part missing or empty"
cp "$out.part" "$work/killed-part.mp4" # rr-analyze picks the demuxer by content; a plain name
analyze killed "$work/killed-part.mp4" --grid 2x2 --tones 300,500,700,900
K=$work/killed.an.json
check "the .part is MP4 with H.264 and AAC" \
  '.container.format == "mp4" and ([.streams[].codec] | sort == ["aac","h264"])' "$K"
check "≥ 4 s of video frames at ~30 fps" \
  '.video.frames >= 110 and .video.last_pts_ms - .video.first_pts_ms >= 3900 and .video.max_gap_ms < 200' "$K"
check "≥ 4 s of audio (AAC fragments before the kill)" \
  '.audio != null and .audio.end_pts_ms - .audio.first_pts_ms >= 3900' "$K"
check "no decode error before the last second written" \
  '.video.last_pts_ms as $last | [.errors[] | select(.position_ms < $last - 1000)] | length == 0' "$K"
check "the decoded part shows the four participants" \
  '[.video.regions[] | select(.name != "frame") | .rgb | hue] | sort == ["blue","green","red","yellow"]' "$K"
check "the decoded part has the four participants' tones" \
  '.audio != null and ([.audio.seconds[] | select(.t >= 1 and .t <= 3) | .tones |
   [.["300"], .["500"], .["700"], .["900"]] | min >= 0.03] | length == 3 and all)' "$K"
finish record_kill
