#!/usr/bin/env bash
# labels: c
# Missing GStreamer elements, with a real registry that lacks them: a copy of the system
# plugin directory (symlinks) without one plugin, a registry file of its own
# (GST_PLUGIN_SYSTEM_PATH, GST_REGISTRY), for roomrec or the test room alone.
#  A. no libgstx264 (x264enc): a room composite ends EGRESS_FAILED at once, before
#     joining (the room never sees a client), the EgressInfo error naming x264enc and
#     gstreamer1.0-plugins-ugly, exit 1; an audio-only composite (no x264enc needed)
#     records;
#  B. no libgstlibav (avdec_h264): a composite of a room where bob publishes H.264 starts,
#     then ends FAILED when bob's track comes, naming avdec_h264 and gstreamer1.0-libav;
#  C. no libgstpango (textoverlay): a composite of a room whose only participant has no
#     camera records (COMPLETE, a video stream that decodes), and the log has exactly one
#     warning about it (name tiles), none per tile or per second;
#  D. the test room without libgstpango refuses a scenario with cameras (their labels
#     need textoverlay): exit non-zero, naming textoverlay and gstreamer1.0-x; it still
#     runs an audio-only scenario.
set -euo pipefail
. "$(dirname "$0")/data/lib.sh"

plugins=$(pkg-config --variable=pluginsdir gstreamer-1.0)
[ -d "$plugins" ] || {
  echo "no GStreamer plugin directory ($plugins)"
  exit 1
}
# without PLUGIN.so → $work/no-PLUGIN (plugin dir + registry)
without() {
  local dir=$work/no-$1
  mkdir -p "$dir/plugins"
  local f
  for f in "$plugins"/*.so; do
    [ "$(basename "$f")" = "$1.so" ] || ln -s "$f" "$dir/plugins/"
  done
  [ ! -e "$dir/plugins/$1.so" ] || {
    echo "could not leave out $1"
    exit 1
  }
}
# gst_env NAME CMD... : run CMD with the registry lacking NAME.so
gst_env() {
  local dir=$work/no-$1
  shift
  env -u GST_PLUGIN_PATH -u GST_PLUGIN_PATH_1_0 -u GST_PLUGIN_SYSTEM_PATH_1_0 \
    -u GST_REGISTRY_1_0 GST_PLUGIN_SYSTEM_PATH="$dir/plugins" GST_REGISTRY="$dir/registry.bin" \
    "$@"
}
for p in libgstx264 libgstlibav libgstpango; do without $p; done
# check, on a file that must hold JSON (jq -e passes an empty one)
jcheck() {
  if [ -s "$3" ]; then check "$@"; else fail "$1 (no EgressInfo in $3)"; fi
}

rec() { # rec NAME NO-PLUGIN ARGS... → rc (stdout NAME.json, stderr NAME.log)
  local name=$1 no=$2
  shift 2
  set +e
  gst_env "$no" "$roomrec" record --url "$url" --api-key $key --api-secret "$secret" \
    --room demo --local-address 127.0.0.1 --json "$@" >"$work/$name.json" 2>"$work/$name.log" &
  local pid=$!
  pids+=("$pid")
  wait "$pid"
  rc=$?
  set -e
}

# ---- A: x264enc missing ----
start_room a "$src/tests/testroom/scenarios/three.json"
rec a_comp libgstx264 --output "$work/a_comp.mp4" --duration 4
[ "$rc" -eq 1 ] && ok "A: exit 1" || fail "A: exit $rc, wanted 1 ($(tail -3 "$work/a_comp.log"))"
jcheck "A: EGRESS_FAILED naming x264enc and its package" \
  '.status == "EGRESS_FAILED" and (.error | contains("\"x264enc\"") and contains("gstreamer1.0-plugins-ugly")) and (.fileResults | length == 0)' \
  "$work/a_comp.json"
grep -q 'x264enc.*gstreamer1.0-plugins-ugly' "$work/a_comp.log" && ok "A: the log names it" ||
  fail "A: the log does not name x264enc"
[ ! -e "$work/a_comp.mp4" ] && [ ! -e "$work/a_comp.mp4.part" ] && ok "A: no file" ||
  fail "A: a file was left"
rec a_audio libgstx264 --audio-only --output "$work/a_audio.ogg" --duration 3
[ "$rc" -eq 0 ] && ok "A: audio-only composite without x264enc: exit 0" ||
  fail "A: audio-only exit $rc ($(tail -3 "$work/a_audio.log"))"
jcheck "A: audio-only COMPLETE" '.status == "EGRESS_COMPLETE"' "$work/a_audio.json"
stop_room
# Only the audio-only recorder joined: the failed one never connected.
jcheck "A: the failed job never joined the room" \
  '[.clients[] | select(.recorder)] | length == 1' "$work/a.report.json"

# ---- B: avdec_h264 missing; bob publishes H.264 ----
start_room b "$src/tests/testroom/scenarios/three.json"
rec b_comp libgstlibav --output "$work/b_comp.mp4" --duration 20
stop_room
[ "$rc" -eq 1 ] && ok "B: exit 1" || fail "B: exit $rc, wanted 1 ($(tail -3 "$work/b_comp.log"))"
jcheck "B: EGRESS_FAILED naming avdec_h264 and its package" \
  '.status == "EGRESS_FAILED" and (.error | contains("\"avdec_h264\"") and contains("gstreamer1.0-libav"))' \
  "$work/b_comp.json"
jcheck "B: it joined (the decoder is checked when the H.264 track comes)" \
  '[.clients[] | select(.recorder)] | length == 1' "$work/b.report.json"

# ---- C: textoverlay missing; a participant without a camera ----
start_room c "$src/tests/testroom/scenarios/audio-only.json"
rec c_comp libgstpango --output "$work/c_comp.mp4" --duration 5
stop_room
[ "$rc" -eq 0 ] && ok "C: exit 0" || fail "C: exit $rc ($(tail -3 "$work/c_comp.log"))"
jcheck "C: COMPLETE with one file" '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1)' \
  "$work/c_comp.json"
f=$(jq -r '.fileResults[0].location // empty' "$work/c_comp.json")
if [ -n "$f" ] && [ -s "$f" ]; then
  v=$(ffprobe -v error -select_streams v -show_entries stream=codec_name -of csv=p=0 "$f")
  [ "$v" = h264 ] && ok "C: the file has its video" || fail "C: video stream '$v'"
  frames=$(ffprobe -v error -count_frames -select_streams v -show_entries \
    stream=nb_read_frames -of csv=p=0 "$f")
  [ "${frames:-0}" -ge 100 ] && ok "C: $frames video frames decode" ||
    fail "C: $frames video frames"
else
  fail "C: no file"
fi
n=$(grep -c 'textoverlay' "$work/c_comp.log" || true)
[ "$n" -eq 1 ] && ok "C: one log line about textoverlay" ||
  fail "C: $n log lines about textoverlay: $(grep textoverlay "$work/c_comp.log" | head -3)"
grep 'textoverlay' "$work/c_comp.log" | grep -q 'WARN.*gstreamer1.0-x.*name tiles' &&
  ok "C: it is a warning naming the package and the name tiles" ||
  fail "C: $(grep textoverlay "$work/c_comp.log")"
n=$(grep -c 'name tile' "$work/c_comp.log" || true)
[ "$n" -eq 1 ] && ok "C: no other name-tile message" || fail "C: $n name-tile messages"

# ---- D: the test room without textoverlay ----
set +e
gst_env libgstpango "$testroom" -listen 127.0.0.1:0 -api-key $key -api-secret "$secret" \
  -scenario "$src/tests/testroom/scenarios/three.json" -report "$work/d.report.json" \
  >"$work/d.room.out" 2>"$work/d.room.err" &
d_pid=$!
pids+=("$d_pid")
wait "$d_pid"
d_rc=$?
set -e
[ "$d_rc" -ne 0 ] && ok "D: the room refuses the scenario (exit $d_rc)" ||
  fail "D: the room started (exit 0)"
grep -q '"textoverlay" (Debian package gstreamer1.0-x)' "$work/d.room.err" &&
  ok "D: it names textoverlay and its package" || fail "D: $(head -3 "$work/d.room.err")"
grep -q 'alice/camera' "$work/d.room.err" && ok "D: and the tracks needing it" ||
  fail "D: no track named: $(head -3 "$work/d.room.err")"
! grep -q 'listening' "$work/d.room.out" && ok "D: it never listened" || fail "D: it listened"
real_testroom=$testroom
testroom=$work/testroom-no-pango
printf '#!/usr/bin/env bash\nexec env -u GST_PLUGIN_PATH -u GST_PLUGIN_PATH_1_0 -u GST_PLUGIN_SYSTEM_PATH_1_0 -u GST_REGISTRY_1_0 GST_PLUGIN_SYSTEM_PATH=%q GST_REGISTRY=%q %q "$@"\n' \
  "$work/no-libgstpango/plugins" "$work/no-libgstpango/registry.bin" "$real_testroom" >"$testroom"
chmod +x "$testroom"
start_room d2 "$src/tests/testroom/scenarios/audio-only.json"
ok "D: it runs an audio-only scenario"
stop_room

[ "$failures" -eq 0 ] && echo "all passed" || {
  echo "$failures failure(s)"
  exit 1
}
