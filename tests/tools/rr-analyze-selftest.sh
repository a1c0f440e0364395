#!/usr/bin/env bash
# Self-test of rr-analyze on files made here with gst-launch-1.0, whose content is known:
#  - flashes (videotestsrc blink at 1 fps: white frames at odd seconds) and beeps
#    (audiotestsrc ticks, 1 kHz, 100 ms every 2 s) with the audio 100 ms late, then
#    100 ms early: the measured offsets have the right sign and size;
#  - a 2x2 mosaic (ball on red, static green, ball on blue, scrolling bars) with 500 Hz +
#    900 Hz audio: colours, motion and tones per quadrant/second;
#  - --sync: a bar-coded picture (as the test room's frame counter) in a tile with one
#    duplicated and two missing frames, flashes and beeps 100 ms apart;
#  - a fragmented MP4 cut in the middle: the fragments before the cut decode;
#  - bad input: missing, empty, garbage files and bad arguments give clear errors and
#    distinct exit codes, never a crash.
# Usage: rr-analyze-selftest.sh PATH/TO/rr-analyze
set -euo pipefail
analyze=${1:?usage: $0 rr-analyze}
work=$(mktemp -d /tmp/rr-analyze-selftest.XXXXXX)
failures=0
trap 'if [ "$failures" -eq 0 ]; then rm -rf "$work"; else echo "files kept in $work"; fi' EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION JQ-EXPR FILE
  if jq -e "$2" "$3" >/dev/null; then echo "ok: $1"; else
    fail "$1 ($2 on $3)"
  fi
}
gst() { gst-launch-1.0 -q "$@" >"$work/gst.log" 2>&1 || { cat "$work/gst.log"; exit 1; }; }

# ---- flashes and beeps at known offsets ----
flash_file() { # flash_file OUT AUDIO_START_NS
  gst videotestsrc pattern=blink num-buffers=20 \
    ! video/x-raw,framerate=1/1,width=320,height=180,format=I420 \
    ! x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! mp4mux name=m ! filesink location="$1" \
    audiotestsrc wave=ticks freq=1000 sine-periods-per-tick=100 tick-interval=2000000000 \
    timestamp-offset="$2" volume=0.5 num-buffers=900 samplesperbuffer=960 \
    ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! avenc_aac ! m.
}
# White frames at 1, 3, 5 ... s; beeps at 1.1, 3.1 ... s (late) or 0.9, 2.9 ... s (early).
flash_file "$work/late.mp4" 1100000000
flash_file "$work/early.mp4" 900000000
"$analyze" --flash --tones 1000,500 "$work/late.mp4" >"$work/late.json"
"$analyze" --flash --tones 1000,500 "$work/early.mp4" >"$work/early.json"
m='.flash.matches[] | select(.video == "frame" and .audio == "all")'
check "late audio: ≥ 7 flash/beep pairs" "[$m | .count >= 7] == [true]" "$work/late.json"
check "late audio: offset +100 ms (±15)" \
  "[$m | (.mean_offset_ms - 100 | fabs) <= 15 and .max_abs_offset_ms <= 115] == [true]" "$work/late.json"
check "early audio: offset -100 ms (±15)" \
  "[$m | .count >= 7 and (.mean_offset_ms + 100 | fabs) <= 15] == [true]" "$work/early.json"
check "video onsets at odd seconds" \
  '[.flash.video_onsets_ms.frame[] | (. % 2000 - 1000 | fabs) <= 1] | all and length >= 8' "$work/late.json"
check "the 1 kHz beep has onsets, the absent 500 Hz tone none" \
  '(.flash.audio_onsets_ms["1000"] | length >= 7) and (.flash.audio_onsets_ms["500"] | length == 0)' \
  "$work/late.json"

# ---- 2x2 mosaic: colours, motion, tones ----
t='video/x-raw,width=320,height=180,framerate=30/1'
gst compositor name=c background=black sink_1::xpos=320 sink_2::ypos=180 \
  sink_3::xpos=320 sink_3::ypos=180 ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! x264enc speed-preset=ultrafast bitrate=2000 ! h264parse ! mp4mux name=m \
  ! filesink location="$work/grid.mp4" \
  videotestsrc num-buffers=150 pattern=ball background-color=0xffc00000 ! $t ! c.sink_0 \
  videotestsrc num-buffers=150 pattern=solid-color foreground-color=0xff00c000 ! $t ! c.sink_1 \
  videotestsrc num-buffers=150 pattern=ball background-color=0xff0000c0 ! $t ! c.sink_2 \
  videotestsrc num-buffers=150 pattern=smpte horizontal-speed=4 ! $t ! c.sink_3 \
  audiomixer name=am ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! avenc_aac ! m. \
  audiotestsrc num-buffers=250 freq=500 volume=0.3 samplesperbuffer=960 ! am. \
  audiotestsrc num-buffers=250 freq=900 volume=0.3 samplesperbuffer=960 ! am.
"$analyze" --grid 2x2 --tones 500,700,900 "$work/grid.mp4" >"$work/grid.json"
G=$work/grid.json
check "mosaic: mp4 with h264 640x360 and aac" \
  '.container.format == "mp4" and ([.streams[] | .codec] | sort == ["aac","h264"]) and
   ([.streams[] | select(.type == "video") | .width, .height] == [640, 360])' "$G"
check "mosaic: 150 frames at 30 fps, ~5 s, no errors" \
  '.video.frames == 150 and (.video.fps - 30 | fabs) < 0.1 and (.duration_s - 5 | fabs) < 0.1 and
   (.errors | length == 0)' "$G"
r() { echo ".video.regions[] | select(.name == \"$1\")"; }
check "mosaic: r0c0 red, r0c1 green, r1c0 blue" \
  "[$(r r0c0) | .rgb[0] > 150 and .rgb[1] < 60 and .rgb[2] < 60] +
   [$(r r0c1) | .rgb[1] > 150 and .rgb[0] < 60 and .rgb[2] < 60] +
   [$(r r1c0) | .rgb[2] > 150 and .rgb[0] < 60 and .rgb[1] < 60] == [true, true, true]" "$G"
check "mosaic: motion in the moving quadrants, none in the static one" \
  "[$(r r0c0) | .motion > 0.3] + [$(r r1c0) | .motion > 0.3] + [$(r r1c1) | .motion > 2] +
   [$(r r0c1) | .motion < 0.1] == [true, true, true, true]" "$G"
check "mosaic: 500 and 900 Hz each ~half the energy, 700 Hz absent, every second" \
  '[.audio.seconds[] | select(.t < 4) | .tones | (.["500"] - 0.5 | fabs) < 0.1 and
    (.["900"] - 0.5 | fabs) < 0.1 and .["700"] < 0.02] | length >= 4 and all' "$G"
check "mosaic: per-second entries for every region" \
  '[.video.regions[] | .seconds | length >= 5] | length == 5 and all' "$G"

# ---- a fragmented MP4 cut in the middle (as after kill -9) ----
gst videotestsrc num-buffers=180 pattern=ball ! $t ! x264enc speed-preset=ultrafast \
  key-int-max=30 ! h264parse ! mp4mux fragment-duration=1000 name=m \
  ! filesink location="$work/frag.mp4" \
  audiotestsrc num-buffers=300 freq=500 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 \
  ! audioconvert ! avenc_aac ! m.
size=$(stat -c %s "$work/frag.mp4")
head -c $((size * 7 / 10)) "$work/frag.mp4" >"$work/cut.mp4"
if "$analyze" "$work/cut.mp4" >"$work/cut.json"; then
  check "cut fragmented MP4: ≥ 3 s of frames decode" '.video.frames >= 90 and .video.last_pts_ms >= 3000' \
    "$work/cut.json"
else
  fail "cut fragmented MP4 not analysed"
fi

# ---- --sync: a frame-counter bar code (as the test room draws it) in a tile ----
# 210 frames 640x180@30, the picture (320x180, grey, white on output frames 30-32, 90-92
# and 150-152) in the right half; its bar code numbers: output frame k shows k up to 39,
# 39 again at 40 (a duplicate), k - 1 up to 79, then k + 1 (79 and 80 missing). Beeps
# (1 kHz ticks) at 1.1 (where the audio starts: no onset), 3.1 and 5.1 s: 100 ms after
# the flashes.
python3 - "$work/counter.yuv" <<'PY'
import sys
W, H, PW = 640, 180, 320
def frame(k):
    n = k if k <= 39 else 39 if k == 40 else k - 1 if k <= 79 else k + 1
    g = n ^ (n >> 1)
    bits = [(g >> (15 - b)) & 1 for b in range(16)]
    cells = [1, 0] + bits + [sum(bits) % 2, 1]
    white = k % 60 in (30, 31, 32)
    y = bytearray([60]) * (W * H)
    for r in range(H):
        for c in range(PW):
            v = 235 if white else 100
            if int(H * 0.70) <= r < int(H * 0.80):
                v = 235 if cells[c * 20 // PW] else 16
            y[r * W + PW + c] = v
    return bytes(y) + bytes([128]) * (W * H // 2)
with open(sys.argv[1], "wb") as f:
    for k in range(210):
        f.write(frame(k))
PY
gst filesrc location="$work/counter.yuv" ! rawvideoparse width=640 height=180 format=i420 \
  framerate=30/1 ! x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! mp4mux name=m \
  ! filesink location="$work/counter.mp4" \
  audiotestsrc wave=ticks freq=1000 sine-periods-per-tick=100 tick-interval=2000000000 \
  timestamp-offset=1100000000 volume=0.5 num-buffers=300 samplesperbuffer=960 \
  ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! avenc_aac ! m.
"$analyze" --size 640x180 --sync p:1000:0,0,1,1/0.5,0,0.5,1 --sync q:500 "$work/counter.mp4" \
  >"$work/counter.json"
p='.sync.participants[] | select(.name == "p")'
check "sync: every frame read in the second tile (right half), none in the first" \
  "[$p | .frames | .readable == 210 and .tile_frames == [0, 210]] == [true]" "$work/counter.json"
check "sync: 1 duplicated, 2 missing of 211 source frames, nothing backwards" \
  "[$p | .frames | .duplicated == 1 and .missing == 2 and .backwards == 0 and
    .source_frames_spanned == 211 and .first_counter == 0 and .last_counter == 210] == [true]" \
  "$work/counter.json"
check "sync: events at the duplicate and the gap" \
  "[$p | .frames.events | map([.from, .to])] == [[[39, 39], [78, 81]]]" "$work/counter.json"
check "sync: flashes at 1, 3, 5 s; 2 flash/beep pairs at +100 ms (±15); too few for a drift" \
  "[$p | .count == 2 and all(.pairs[]; (.offset_ms - 100 | fabs) <= 15) and
    (.flashes_ms | map(. / 1000 | round)) == [1, 3, 5] and .unpaired_flashes == 1 and
    .drift_ms_per_min == null] == [true]" \
  "$work/counter.json"
check "sync: a participant whose tone and picture are absent has no pairs and no frames" \
  '[.sync.participants[] | select(.name == "q") | .count == 0 and .frames.readable == 0] == [true]' \
  "$work/counter.json"

# ---- bad input ----
expect_rc() { # expect_rc DESCRIPTION RC ARGS...
  local want=$1 desc=$2 rc=0
  shift 2
  "$analyze" "$@" >"$work/out.json" 2>"$work/err.txt" || rc=$?
  if [ "$rc" -eq "$want" ] && grep -q "^rr-analyze: " "$work/err.txt"; then
    echo "ok: $desc → exit $rc ($(head -1 "$work/err.txt"))"
  else
    fail "$desc: exit $rc, stderr: $(head -3 "$work/err.txt")"
  fi
}
: >"$work/empty.mp4"
head -c 20000 /dev/urandom >"$work/garbage.mp4"
head -c 150000 "$work/grid.mp4" >"$work/no-moov.mp4"
expect_rc 1 "missing file" "$work/missing.mp4"
expect_rc 1 "empty file" "$work/empty.mp4"
expect_rc 1 "random bytes" "$work/garbage.mp4"
expect_rc 1 "MP4 without its moov" "$work/no-moov.mp4"
expect_rc 2 "bad --grid" --grid 0x3 "$work/grid.mp4"
expect_rc 2 "bad --rect" --rect 0.5,0.5,0.7,0.1 "$work/grid.mp4"
expect_rc 2 "bad --tones" --tones 5,abc "$work/grid.mp4"
expect_rc 2 "no file" --flash
expect_rc 2 "bad --sync (no tone)" --sync alice "$work/grid.mp4"
expect_rc 2 "bad --sync (tile outside the frame)" --sync alice:500:0.5,0,0.6,1 "$work/grid.mp4"
expect_rc 2 "bad --sync-aspect" --sync alice:500 --sync-aspect 16x9 "$work/grid.mp4"

if [ "$failures" -ne 0 ]; then
  echo "rr-analyze-selftest: $failures check(s) failed"
  exit 1
fi
echo "rr-analyze-selftest: all checks passed"
