#!/usr/bin/env bash
# labels: c,storage,worker
# `roomrec worker` with the config's storage.s3 (prefix "pre", a real radosgw on
# 127.0.0.1) and a segments + images job of its own without any `s3`: the worker gives it
# a child of its own that uploads each segment, the playlist after it and each image
# while recording. While the job is ACTIVE the playlist is in the bucket under the
# storage prefix and lists only segments that are there; after `roomrec stop` the
# status is COMPLETE with the objects' URLs as playlist locations, the bucket's playlist
# is complete and every segment it lists is there and decodes, the images are there, and
# nothing stays local. Then with radosgw stopped: a second job's segments go to the spool
# and it ends FAILED (upload failed); the worker is killed, radosgw comes back, a new
# worker uploads the spool and the status becomes COMPLETE with the playlist's URL. No
# secret in any log.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"
. "$(dirname "$0")/data/radosgw.sh"

start_redis
rgw_start
rgw_curl -X PUT -o /dev/null "$rgw_url/rec"
start_room wseg "$scenarios/four.json"
worker_config 0.8 10
rgw_storage_yaml pre 1 100ms 200ms >>"$work/worker.yaml"
# seg_job ID → a room composite writing only segments (2 s) and images (2 s) under ID/.
seg_job() {
  jq -cn --arg id "$1" '{egress_id: $id, room_composite: {room_name: "four",
    advanced: {width: 640, height: 360, framerate: 30, video_bitrate: 800},
    segment_outputs: [{filename_prefix: ($id + "/seg"), playlist_name: ($id + "/index.m3u8"),
      segment_duration: 2}],
    image_outputs: [{capture_interval: 2, width: 320, height: 180,
      filename_prefix: ($id + "/img")}]}}'
}
frames() {
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$1" 2>/dev/null | head -1 | tr -dc 0-9 || true
}

start_worker w1
w1=$wpid
submit EG_ws 0.45 "$(seg_job EG_ws)"
if wait_status EG_ws EGRESS_ACTIVE 40; then
  ok "recording ACTIVE"
else
  fail "no ACTIVE: $(status_of EG_ws): $(info_of EG_ws | jq -r '.error // .details' 2>/dev/null | cut -c1-300)"
  finish worker_s3_segments
fi

# While ACTIVE: the playlist appears in the bucket and lists only segments that are there.
base=$rgw_url/rec/pre/EG_ws
live_listed=0
missing=0
for _ in $(seq 300); do
  [ "$(status_of EG_ws)" = EGRESS_ACTIVE ] || break
  if rgw_curl -f -o "$work/poll.m3u8" "$base/index.m3u8" 2>/dev/null &&
    ! grep -q '^#EXT-X-ENDLIST' "$work/poll.m3u8"; then
    mapfile -t listed < <(grep -v '^#' "$work/poll.m3u8")
    for seg in "${listed[@]}"; do
      rgw_curl -f -o "$work/live.ts" "$base/$seg" 2>/dev/null || {
        missing=$((missing + 1))
        echo "listed but not in the bucket: $seg"
      }
    done
    live_listed=${#listed[@]}
    [ "$live_listed" -ge 3 ] && break
  fi
  sleep 0.3
done
[ "$live_listed" -ge 3 ] && ok "while ACTIVE the bucket's playlist listed $live_listed segments" ||
  fail "while ACTIVE the bucket's playlist listed $live_listed segments"
[ "$missing" -eq 0 ] && ok "every segment it listed was in the bucket" || fail "$missing listed segments missing"
[ "$(frames "$work/live.ts")" -ge 1 ] && ok "a live segment from the bucket decodes" || fail "the live segment does not decode"

stop_job EG_ws
wait_status EG_ws 'EGRESS_(FAILED|COMPLETE|ABORTED)' 120 || fail "no final status: $(status_of EG_ws)"
info_of EG_ws >"$work/ws.json"
check "COMPLETE; segmentResults' playlistLocation is the object URL under the prefix" \
  '.status == "EGRESS_COMPLETE" and .segmentResults[0].playlistLocation == ($b + "/index.m3u8") and
   (.segmentResults[0].segmentCount | tonumber) >= 3 and (.imageResults[0].imageCount | tonumber) >= 2' \
  "$work/ws.json" --arg b "$base"
rgw_curl -f -o "$work/index.m3u8" "$base/index.m3u8" && grep -q '^#EXT-X-ENDLIST' "$work/index.m3u8" &&
  ok "the bucket's playlist is complete" || fail "no complete playlist in the bucket"
mapfile -t segs < <(grep -v '^#' "$work/index.m3u8")
all_ok=1
for seg in "${segs[@]}"; do
  rgw_curl -f -o "$work/$seg" "$base/$seg" && [ "$(frames "$work/$seg")" -ge 1 ] || { all_ok=0; echo "$seg: missing or undecodable"; }
done
[ "${#segs[@]}" -ge 3 ] && [ "$all_ok" -eq 1 ] && [ "${#segs[@]}" = "$(jq -r '.segmentResults[0].segmentCount' "$work/ws.json")" ] &&
  ok "all ${#segs[@]} segments are in the bucket and decode" || fail "segments: ${#segs[@]}, all_ok $all_ok"
rgw_curl "$rgw_url/rec?list-type=2&prefix=pre%2FEG_ws%2Fimg" >"$work/imgs.xml"
nimg=$(grep -o '<Key>[^<]*\.jpeg</Key>' "$work/imgs.xml" | wc -l)
[ "$nimg" = "$(jq -r '.imageResults[0].imageCount' "$work/ws.json")" ] && ok "$nimg images in the bucket" ||
  fail "$nimg images in the bucket vs imageCount $(jq -r '.imageResults[0].imageCount' "$work/ws.json")"
[ -z "$(find "$work/out/EG_ws" -type f 2>/dev/null)" ] && ok "nothing of EG_ws stays local" ||
  fail "left local: $(find "$work/out/EG_ws" -type f | head -3)"

# S3 down for a second job: its segments wait in the spool; a new worker uploads them.
rgw_stop_gateway
ok "radosgw stopped"
submit EG_wd 0.45 "$(seg_job EG_wd)"
wait_status EG_wd EGRESS_ACTIVE 40 && ok "EG_wd ACTIVE" || fail "EG_wd no ACTIVE: $(status_of EG_wd)"
sleep 5
stop_job EG_wd
wait_status EG_wd 'EGRESS_(FAILED|COMPLETE|ABORTED)' 180 || fail "EG_wd: no final status: $(status_of EG_wd)"
info_of EG_wd >"$work/wd.json"
check "S3 down: FAILED, upload failed, the segments wait in the spool" \
  '.status == "EGRESS_FAILED" and (.error | startswith("upload failed: ")) and (.error | test("spool"))' "$work/wd.json"
spool=$work/out/.roomrec-spool
nsp=$(grep -l '"label" *: *"EG_wd#segment"' "$spool"/*.json 2>/dev/null | wc -l)
[ "$nsp" -ge 2 ] && ok "$nsp segments of EG_wd in the spool" || fail "$nsp segments in the spool"
kill -9 "$w1"
wait "$w1" 2>/dev/null || true
rgw_start_gateway
start_worker w2
for _ in $(seq 600); do
  [ "$(status_of EG_wd)" = EGRESS_COMPLETE ] && [ -z "$(find "$spool" -name '*.data')" ] && break
  sleep 0.1
done
info_of EG_wd >"$work/wd2.json"
check "after the spool retry: COMPLETE, the playlist's object URL" \
  '.status == "EGRESS_COMPLETE" and (.error == null) and
   .segmentResults[0].playlistLocation == ($u + "/index.m3u8")' "$work/wd2.json" --arg u "$rgw_url/rec/pre/EG_wd"
rgw_curl -f -o "$work/wd.m3u8" "$rgw_url/rec/pre/EG_wd/index.m3u8" && grep -q '^#EXT-X-ENDLIST' "$work/wd.m3u8" &&
  ok "EG_wd's complete playlist is in the bucket" || fail "EG_wd: no complete playlist in the bucket"
wd_ok=1
mapfile -t segs < <(grep -v '^#' "$work/wd.m3u8" 2>/dev/null)
for seg in "${segs[@]}"; do
  rgw_curl -f -o "$work/wd-$seg" "$rgw_url/rec/pre/EG_wd/$seg" && [ "$(frames "$work/wd-$seg")" -ge 1 ] || wd_ok=0
done
[ "${#segs[@]}" -ge 2 ] && [ "$wd_ok" -eq 1 ] && ok "EG_wd's ${#segs[@]} segments were uploaded from the spool and decode" ||
  fail "EG_wd segments: ${#segs[@]}, ok $wd_ok"
rgw_check_no_secret "$work"/*.log "$work"/*.out "$work"/*.json
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
stop_room
rgw_stop
finish worker_s3_segments
