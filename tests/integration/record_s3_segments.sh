#!/usr/bin/env bash
# labels: c,storage,integration
# `roomrec record --job-file`: a room composite of the four-participant test room with a
# local file, HLS segments (segment_duration 2) and JPEG images (capture_interval 2,
# 320x180), the segments and images with LiveKit's `s3` to a real S3 server (Ceph radosgw
# on 127.0.0.1, tests/integration/data/radosgw.sh), for ~12 s:
#  - WHILE it records, the playlist and the live playlist are downloaded from the bucket
#    again and again (SigV4, curl --aws-sigv4): every segment they list is in the bucket,
#    downloads, and decodes with frames; several playlist versions are seen;
#  - at the end the bucket's playlist has EXT-X-ENDLIST, lists the segments in order
#    (rising timestamps), the sum of EXTINF and the sum of the decoded durations are each
#    within 1 s of the file's duration, and the segments concatenated decode clean;
#  - the local segments, images and playlists are removed after their upload (no
#    --keep-local); the file (no upload) stays;
#  - the bucket holds duration / capture_interval (±1) JPEGs, each decodes at 320x180
#    and shows the room (luma range and colour, not a flat frame);
#  - the EgressInfo is COMPLETE, segmentResults has the objects' URLs as playlist
#    locations and the segment count, imageResults the image count;
#  - with a wrong secret the segments go to the spool and the status is FAILED naming S3
#    authentication;
#  - no secret in stdout, stderr or the info.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
. "$(dirname "$0")/data/radosgw.sh"
require_record

rgw_start
echo "radosgw at $rgw_url"
rgw_curl -X PUT -o /dev/null "$rgw_url/live"
start_room four "$scenarios/four.json"

out=$work/out
mkdir -p "$out" "$work/dl"
# job NAME SECRET: the job file $work/NAME.job.json.
job() {
  jq -n --arg ep "$rgw_url" --arg ak "$rgw_access_key" --arg sk "$2" --arg name "$1" '
    {bucket: "live", access_key: $ak, secret: $sk, endpoint: $ep, region: "us-east-1",
     force_path_style: true} as $s3 |
    {egress_id: ("EG_" + $name), room_composite: {room_name: "four", layout: "grid",
      advanced: {width: 640, height: 360, framerate: 30, video_bitrate: 1000},
      file_outputs: [{filepath: ($name + "/rec.mp4")}],
      segment_outputs: [{filename_prefix: ($name + "/hls/{room_name}/seg"),
        playlist_name: "index.m3u8", live_playlist_name: "live.m3u8", segment_duration: 2,
        s3: $s3}],
      image_outputs: [{capture_interval: 2, width: 320, height: 180,
        filename_prefix: ($name + "/img/{room_name}/snap"), s3: $s3}]}}' >"$work/$1.job.json"
}

# frames FILE → the number of decoded video frames (0 when it does not decode).
frames() {
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$1" 2>/dev/null | head -1 | tr -dc 0-9 || true
}

job ok "$rgw_secret_key"
"$roomrec" record --url "$url" --api-key $key --api-secret $secret --job-file "$work/ok.job.json" \
  --output-dir "$out" --duration 12 --json --info-file "$work/ok.info.json" \
  >"$work/ok.json" 2>"$work/ok.log" &
rec_pid=$!
pids+=("$rec_pid")

# While recording: the playlists in the bucket list only segments that are there.
base=$rgw_url/live/ok/hls/four
declare -A seen=()
declare -A versions=()
missing=0
bad=0
polls=0
while kill -0 "$rec_pid" 2>/dev/null; do
  for pl in index live; do
    rgw_curl -f -o "$work/poll.m3u8" "$base/$pl.m3u8" 2>/dev/null || continue
    polls=$((polls + 1))
    # Only playlists fetched while the recording still runs count as "live".
    grep -q '^#EXT-X-ENDLIST' "$work/poll.m3u8" && continue
    versions[$pl.$(md5sum <"$work/poll.m3u8" | cut -c1-12)]=1
    while read -r seg; do
      [ -n "$seg" ] && [ -z "${seen[$seg]:-}" ] || continue
      seen[$seg]=1
      if ! rgw_curl -f -o "$work/dl/live-$seg" "$base/$seg" 2>/dev/null; then
        missing=$((missing + 1))
        echo "the $pl playlist lists $seg, which is not in the bucket"
        continue
      fi
      n=$(frames "$work/dl/live-$seg")
      err=$(ffmpeg -nostdin -v error -i "$work/dl/live-$seg" -f null - 2>&1) || err="exit $?: $err"
      if [ "${n:-0}" -lt 1 ] || [ -n "$err" ]; then
        bad=$((bad + 1))
        echo "live segment $seg: ${n:-0} frames, $err"
      fi
    done < <(grep -v '^#' "$work/poll.m3u8" || true)
  done
  sleep 0.3
done
set +e
wait "$rec_pid"
rc=$?
set -e
[ "$rc" -eq 0 ] && ok "exit 0" || fail "exit $rc: $(tail -5 "$work/ok.log")"
[ "${#seen[@]}" -ge 3 ] && ok "while recording, the bucket's playlists listed ${#seen[@]} segments" ||
  fail "while recording, the bucket's playlists listed only ${#seen[@]} segments ($polls polls)"
[ "${#versions[@]}" -ge 4 ] && ok "${#versions[@]} playlist versions seen in the bucket while recording" ||
  fail "only ${#versions[@]} playlist versions seen while recording"
[ "$missing" -eq 0 ] && ok "every segment a live playlist listed was in the bucket" ||
  fail "$missing listed segments were not in the bucket"
[ "$bad" -eq 0 ] && ok "every live segment downloaded while recording decodes with frames" ||
  fail "$bad live segments did not decode"

# The file (not uploaded: it has no s3 and there is no config storage).
file=$out/ok/rec.mp4
[ -s "$file" ] && ok "the file stays local" || fail "no local file $file"
file_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file")
echo "file: $file_dur s"

# The final playlist in the bucket.
rgw_curl -f -o "$work/dl/index.m3u8" "$base/index.m3u8" || fail "no playlist in the bucket"
rgw_curl -f -o "$work/dl/live.m3u8" "$base/live.m3u8" || fail "no live playlist in the bucket"
grep -q '^#EXT-X-ENDLIST' "$work/dl/index.m3u8" && ok "the bucket's playlist ends with EXT-X-ENDLIST" ||
  fail "no EXT-X-ENDLIST in the bucket's playlist: $(cat "$work/dl/index.m3u8")"
grep -q '^#EXT-X-ENDLIST' "$work/dl/live.m3u8" && ok "the bucket's live playlist ends with EXT-X-ENDLIST" ||
  fail "no EXT-X-ENDLIST in the bucket's live playlist"
mapfile -t segs < <(grep -v '^#' "$work/dl/index.m3u8")
extinf=$(awk -F'[:,]' '/^#EXTINF:/ {s += $2} END {printf "%.3f", s}' "$work/dl/index.m3u8")
[ "${#segs[@]}" -ge 5 ] && ok "${#segs[@]} segments" || fail "only ${#segs[@]} segments"
prev=-1
order_ok=1
decode_ok=1
dec_sum=0
: >"$work/all.ts"
for seg in "${segs[@]}"; do
  if ! rgw_curl -f -o "$work/dl/$seg" "$base/$seg"; then
    decode_ok=0
    echo "$seg: not in the bucket"
    continue
  fi
  cat "$work/dl/$seg" >>"$work/all.ts"
  start=$(ffprobe -v error -show_entries format=start_time -of csv=p=0 "$work/dl/$seg")
  awk -v a="$start" -v b="$prev" 'BEGIN {exit !(a > b)}' || order_ok=0
  prev=$start
  d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/dl/$seg")
  dec_sum=$(awk -v a="$dec_sum" -v b="$d" 'BEGIN {printf "%.3f", a + b}')
  err=$(ffmpeg -nostdin -v error -i "$work/dl/$seg" -f null - 2>&1) || decode_ok=0
  [ -z "$err" ] || { decode_ok=0; echo "$seg: $err"; }
  [ "$(frames "$work/dl/$seg")" -ge 1 ] || { decode_ok=0; echo "$seg: no frames"; }
done
echo "segments: EXTINF $extinf s, decoded $dec_sum s"
[ "$order_ok" -eq 1 ] && ok "segment timestamps rise in playlist order" || fail "segments out of order"
[ "$decode_ok" -eq 1 ] && ok "every segment downloads and decodes with frames" || fail "a segment is missing or does not decode"
within() { awk -v a="$1" -v b="$2" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 1)}'; }
within "$extinf" "$file_dur" && ok "EXTINF total $extinf s within 1 s of the recording's $file_dur s" ||
  fail "EXTINF total $extinf s vs the recording's $file_dur s"
within "$dec_sum" "$file_dur" && ok "decoded total $dec_sum s within 1 s of the recording's $file_dur s" ||
  fail "decoded total $dec_sum s vs the recording's $file_dur s"
err=$(ffmpeg -nostdin -v error -i "$work/all.ts" -f null - 2>&1) && [ -z "$err" ] &&
  ok "the segments concatenated in order decode clean" || fail "the concatenation does not decode: $err"
all_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/all.ts")
within "$all_dur" "$file_dur" && ok "they play in order: $all_dur s" || fail "the concatenation lasts $all_dur s"

# Nothing uploaded stays local.
left=$(find "$out/ok/hls" "$out/ok/img" -type f 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && ok "local segments, playlists and images removed after their upload" ||
  fail "$left local files left: $(find "$out/ok/hls" "$out/ok/img" -type f | head -5)"

# Images in the bucket.
rgw_curl -f -o "$work/list.xml" "$rgw_url/live?list-type=2&prefix=ok%2Fimg%2Ffour%2F" || fail "cannot list the bucket"
mapfile -t imgs < <(grep -o '<Key>[^<]*</Key>' "$work/list.xml" | sed 's/<[^>]*>//g')
expect=$(awk -v d="$file_dur" 'BEGIN {printf "%d", int(d / 2) + 1}')
n=${#imgs[@]}
[ "$n" -ge $((expect - 1)) ] && [ "$n" -le $((expect + 1)) ] &&
  ok "$n images in the bucket (expected $expect ± 1)" || fail "$n images in the bucket, expected $expect ± 1"
img_ok=1
[ "$n" -gt 0 ] || img_ok=0
for k in "${imgs[@]}"; do
  f=$work/dl/$(basename "$k")
  rgw_curl -f -o "$f" "$rgw_url/live/$k" || { img_ok=0; continue; }
  size=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$f")
  [ "$size" = "320,180" ] || { img_ok=0; echo "$k: $size"; }
  stats=$(ffprobe -v error -f lavfi -i "movie=$f,signalstats" -show_entries \
    frame_tags=lavfi.signalstats.YMIN,lavfi.signalstats.YMAX,lavfi.signalstats.SATMAX -of csv=p=0 | head -1)
  echo "$k: YMIN,YMAX,SATMAX $stats"
  # Not flat (luma range), and the tiles' colours (saturation) are there.
  awk -F, '{exit !($2 - $1 >= 40 && $3 >= 40)}' <<<"$stats" || { img_ok=0; echo "$k: flat or grey"; }
done
[ "$img_ok" -eq 1 ] && ok "every image downloads, decodes at 320x180 and shows the room" || fail "bad images"

# EgressInfo.
check "EgressInfo COMPLETE; segmentResults: the objects' URLs, ${#segs[@]} segments; imageResults: $n images" \
  '.status == "EGRESS_COMPLETE" and .segmentResults[0].playlistLocation == ($b + "/index.m3u8") and
   .segmentResults[0].livePlaylistLocation == ($b + "/live.m3u8") and
   (.segmentResults[0].segmentCount | tonumber) == $n and (.segmentResults[0].size | tonumber) > 10000 and
   (.imageResults[0].imageCount | tonumber) == $i and (.fileResults[0].location | endswith("ok/rec.mp4"))' \
  "$work/ok.json" --arg b "$base" --argjson n "${#segs[@]}" --argjson i "$n"

# A wrong secret: the segments wait in the spool, FAILED naming S3 authentication.
wrong=not-the-right-secret-0123456789
job bad "$wrong"
set +e
"$roomrec" record --url "$url" --api-key $key --api-secret $secret --job-file "$work/bad.job.json" \
  --output-dir "$out" --duration 5 --json --spool-dir "$work/spool" >"$work/bad.json" 2>"$work/bad.log"
rc=$?
set -e
[ "$rc" -ne 0 ] && ok "bad: roomrec record failed (exit $rc)" || fail "bad: exit 0 with a wrong secret"
check "bad: FAILED with the S3 authentication error, in the spool" \
  '.status == "EGRESS_FAILED" and (.error | test("upload failed: .*S3 authentication failed")) and
   (.error | test("waits in the spool"))' "$work/bad.json"
spooled=$(grep -l '"key" *: *"bad/hls/four/seg_[0-9]*\.ts"' "$work"/spool/*.json 2>/dev/null | wc -l)
[ "$spooled" -ge 2 ] && ok "bad: $spooled segments wait in the spool under their keys" ||
  fail "bad: $spooled segments in the spool: $(ls "$work/spool" 2>/dev/null | head)"
grep -l '"key" *: *"bad/hls/four/index.m3u8"' "$work"/spool/*.json >/dev/null 2>&1 &&
  ok "bad: the final playlist waits in the spool" || fail "bad: no final playlist in the spool"
rgw_curl -s -o /dev/null -w '%{http_code}' "$rgw_url/live/bad/hls/four/index.m3u8" >"$work/bad.code"
[ "$(cat "$work/bad.code")" = 404 ] && ok "bad: nothing in the bucket" || fail "bad: playlist answer $(cat "$work/bad.code")"

for s in "$rgw_secret_key" "$wrong"; do
  if grep -lF "$s" "$work"/{ok,bad}.{json,log} "$work/ok.info.json" 2>/dev/null; then
    fail "a secret (${s:0:6}...) appears in the outputs above"
  else
    ok "no secret (${s:0:6}...) in stdout, stderr or the info"
  fi
done
stop_room
rgw_stop
finish record_s3_segments
