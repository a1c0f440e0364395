#!/usr/bin/env bash
# labels: c,record
# `roomrec record --job-file` with three outputs of one encoding: a file, HLS segments
# (segment_duration 2, a live playlist) and JPEG images (capture_interval 2, 320x180) of
# a four-participant room for ~12 s. While it runs, the live playlist is polled and every
# segment it lists decodes. At the end: the playlist has EXT-X-ENDLIST, the segments'
# total duration is within 1 s of the file's, their timestamps rise from one to the next,
# each decodes and the playlist plays; the expected number of JPEGs (±1), each decodes at
# 320x180 and is not a flat colour; the EgressInfo lists the file, segmentResults and
# imageResults with those counts.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record

start_room four "$scenarios/four.json"
out=$work/out
mkdir -p "$out"
cat >"$work/job.json" <<EOF
{"egress_id": "EG_segments", "room_composite": {"room_name": "four", "layout": "grid",
  "advanced": {"width": 640, "height": 360, "framerate": 30, "video_bitrate": 1000},
  "file_outputs": [{"filepath": "$out/rec.mp4"}],
  "segment_outputs": [{"filename_prefix": "$out/seg", "playlist_name": "$out/rec.m3u8",
                       "live_playlist_name": "$out/live.m3u8", "segment_duration": 2}],
  "image_outputs": [{"capture_interval": 2, "width": 320, "height": 180,
                     "filename_prefix": "$out/img"}]}}
EOF
"$roomrec" record --url "$url" --api-key $key --api-secret $secret --job-file "$work/job.json" \
  --duration 12 --json >"$work/seg.json" 2>"$work/seg.log" &
rec_pid=$!
pids+=("$rec_pid")

# While recording: every segment the live playlist lists decodes.
declare -A seen=()
live_bad=0
polls=0
while kill -0 "$rec_pid" 2>/dev/null; do
  if [ -s "$out/live.m3u8" ]; then
    polls=$((polls + 1))
    while read -r seg; do
      [ -n "$seg" ] && [ -z "${seen[$seg]:-}" ] || continue
      seen[$seg]=1
      if ! err=$(ffmpeg -nostdin -v error -i "$out/$seg" -f null - 2>&1) || [ -n "$err" ]; then
        live_bad=$((live_bad + 1))
        echo "live segment $seg does not decode: $err"
      fi
    done < <(grep -v '^#' "$out/live.m3u8" || true)
  fi
  sleep 0.5
done
set +e
wait "$rec_pid"
rc=$?
set -e
stop_room
[ "$rc" -eq 0 ] && ok "exit 0" || fail "exit $rc: $(tail -3 "$work/seg.log")"
[ "${#seen[@]}" -ge 3 ] && ok "the live playlist listed ${#seen[@]} segments while recording" \
  || fail "the live playlist listed only ${#seen[@]} segments while recording ($polls polls)"
[ "$live_bad" -eq 0 ] && ok "every live segment decoded while recording" \
  || fail "$live_bad live segments did not decode"

# The file.
file_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out/rec.mp4")
echo "file: $file_dur s"

# The full playlist.
grep -q '^#EXT-X-ENDLIST' "$out/rec.m3u8" && ok "playlist ends with EXT-X-ENDLIST" \
  || fail "no EXT-X-ENDLIST in $out/rec.m3u8"
grep -q '^#EXT-X-ENDLIST' "$out/live.m3u8" && ok "live playlist ends with EXT-X-ENDLIST" \
  || fail "no EXT-X-ENDLIST in $out/live.m3u8"
mapfile -t segs < <(grep -v '^#' "$out/rec.m3u8")
seg_sum=$(awk -F'[:,]' '/^#EXTINF:/ {s += $2} END {printf "%.3f", s}' "$out/rec.m3u8")
echo "segments: ${#segs[@]}, $seg_sum s"
[ "${#segs[@]}" -ge 5 ] && ok "${#segs[@]} segments" || fail "only ${#segs[@]} segments"
awk -v a="$seg_sum" -v b="$file_dur" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 1)}' \
  && ok "segments total $seg_sum s within 1 s of the file's $file_dur s" \
  || fail "segments total $seg_sum s vs the file's $file_dur s"
prev=-1
order_ok=1
decode_ok=1
for seg in "${segs[@]}"; do
  start=$(ffprobe -v error -show_entries format=start_time -of csv=p=0 "$out/$seg")
  awk -v a="$start" -v b="$prev" 'BEGIN {exit !(a > b)}' || order_ok=0
  prev=$start
  err=$(ffmpeg -nostdin -v error -i "$out/$seg" -f null - 2>&1) || decode_ok=0
  [ -z "$err" ] || decode_ok=0
  codecs=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$out/$seg" | grep . | sort -u | tr '\n' ,)
  [ "$codecs" = "aac,h264," ] || { decode_ok=0; echo "$seg: codecs $codecs"; }
done
[ "$order_ok" -eq 1 ] && ok "segment timestamps rise in playlist order" || fail "segments out of order"
[ "$decode_ok" -eq 1 ] && ok "every segment decodes (H.264 + AAC)" || fail "a segment does not decode"
hls_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out/rec.m3u8")
err=$(ffmpeg -nostdin -v error -i "$out/rec.m3u8" -f null - 2>&1) && [ -z "$err" ] \
  && ok "the playlist plays ($hls_dur s)" || fail "the playlist does not play: $err"

# Images.
mapfile -t imgs < <(ls "$out"/img_*.jpeg 2>/dev/null)
expect=$(awk -v d="$file_dur" 'BEGIN {printf "%d", int(d / 2) + 1}')
n=${#imgs[@]}
[ "$n" -ge $((expect - 1)) ] && [ "$n" -le $((expect + 1)) ] \
  && ok "$n images (expected $expect ± 1)" || fail "$n images, expected $expect ± 1"
img_ok=1
for img in "${imgs[@]}"; do
  size=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$img")
  [ "$size" = "320,180" ] || { img_ok=0; echo "$img: $size"; }
  range=$(ffprobe -v error -f lavfi -i "movie=$img,signalstats" \
    -show_entries frame_tags=lavfi.signalstats.YMIN,lavfi.signalstats.YMAX -of csv=p=0 |
    head -1 | awk -F, '{print ($1 > $2 ? $1 - $2 : $2 - $1)}')
  [ "${range:-0}" -ge 40 ] || { img_ok=0; echo "$img: flat (luma range ${range:-?})"; }
done
[ "$img_ok" -eq 1 ] && ok "every image decodes at 320x180 and is not flat" || fail "bad images"

# EgressInfo.
egress_ok seg "$out/rec.mp4"
check "segmentResults: the playlists and ${#segs[@]} segments" \
  '.segmentResults[0].playlistName == "rec.m3u8" and .segmentResults[0].livePlaylistName == "live.m3u8"
   and (.segmentResults[0].segmentCount | tonumber) == $n and (.segmentResults[0].size | tonumber) > 10000' \
  "$work/seg.json" --argjson n "${#segs[@]}"
check "imageResults: $n images" \
  '.imageResults[0].imageCount | tonumber == $n' "$work/seg.json" --argjson n "$n"
finish record_segments
