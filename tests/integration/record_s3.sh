#!/usr/bin/env bash
# labels: c,storage
# `roomrec record --job-file` with LiveKit's `s3` on the file output, against a real S3
# server (Ceph radosgw on 127.0.0.1, tests/integration/data/radosgw.sh) and the test room:
#  - a 4 s room composite uploads: the object downloads back byte-identical to the local
#    file (kept with --keep-local) and decodes (H.264 + AAC, ~4 s); the EgressInfo says
#    COMPLETE with the object URL as location, its size and duration; the manifest
#    (KEY.json) is beside it, lists the file and is named in manifestLocation; metadata
#    arrived; the echoed request has no secret;
#  - without --keep-local the local file is removed once the upload is confirmed;
#  - a wrong secret: FAILED naming the S3 authentication error, the recording waits in the
#    spool (spoolPath, byte-identical to what was recorded, decodable), nothing in the
#    bucket under that key;
#  - no secret anywhere in stdout, stderr or the info files.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
. "$(dirname "$0")/data/radosgw.sh"
require_record

rgw_start
echo "radosgw at $rgw_url"
rgw_curl -X PUT -o /dev/null "$rgw_url/rec"
start_room s3 "$scenarios/three.json"

# job NAME SECRET [disable_manifest]: a room composite job with an s3 output.
job() {
  jq -n --arg ep "$rgw_url" --arg ak "$rgw_access_key" --arg sk "$2" --arg name "$1" \
    --argjson nm "${3:-false}" '{egress_id: ("EG_" + $name), room_composite: {room_name: "demo",
      layout: "grid", file_outputs: [{filepath: ("rooms/{room_name}-" + $name + ".mp4"),
      disable_manifest: $nm, s3: {access_key: $ak, secret: $sk, endpoint: $ep, bucket: "rec",
      region: "us-east-1", force_path_style: true, metadata: {room: "demo"},
      tagging: "kind=test"}}]}}' >"$work/$1.job.json"
}
# run NAME ARGS...: records 4 s into $work/out/NAME; EgressInfo $work/NAME.json (stdout) and
# $work/NAME.info.json, log $work/NAME.log; exit code in $rc.
run() {
  local name=$1
  shift
  mkdir -p "$work/out/$name"
  set +e
  "$roomrec" record --url "$url" --api-key $key --api-secret "$secret" \
    --job-file "$work/$name.job.json" --output-dir "$work/out/$name" --duration 4 --json \
    --info-file "$work/$name.info.json" "$@" >"$work/$name.json" 2>"$work/$name.log"
  rc=$?
  set -e
}

# --- uploaded, local copy kept
job keep "$rgw_secret_key"
run keep --keep-local
[ "$rc" -eq 0 ] && ok "keep: roomrec record exited 0" || fail "keep: exit $rc: $(tail -5 "$work/keep.log")"
local_file=$work/out/keep/rooms/demo-keep.mp4
obj_url="$rgw_url/rec/rooms/demo-keep.mp4"
check "keep: COMPLETE, the location is the object URL, size and duration set" \
  '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1) and
   .fileResults[0].location == $u and (.fileResults[0].size | tonumber) == $s and
   (.fileResults[0].duration | tonumber / 1e9 - 4 | fabs) <= 0.6 and (.error == null) and
   (.backupStorageUsed | not) and (.fileResults[0].spoolPath == null)' \
  "$work/keep.json" --arg u "$obj_url" --argjson s "$(stat -c %s "$local_file" 2>/dev/null || echo -1)"
[ "$(jq -S . "$work/keep.json")" = "$(jq -S . "$work/keep.info.json")" ] && ok "keep: --info-file holds the same EgressInfo" ||
  fail "keep: --info-file differs from stdout"
check "keep: the echoed request shows the upload without its secret" \
  '.roomComposite.fileOutputs[0].s3.secret == "<redacted>" and
   .roomComposite.fileOutputs[0].s3.bucket == "rec"' "$work/keep.json"
rgw_curl -f -o "$work/keep.back.mp4" "$obj_url" && cmp "$local_file" "$work/keep.back.mp4" &&
  ok "keep: the object downloads byte-identical to the local file" || fail "keep: download differs"
ffprobe -v error -show_entries stream=codec_name:format=duration -of json "$work/keep.back.mp4" \
  >"$work/keep.probe.json" 2>"$work/keep.probe.err" || fail "keep: ffprobe: $(cat "$work/keep.probe.err")"
check "keep: the download decodes: H.264 and AAC, ~4 s" \
  '([.streams[].codec_name] | sort == ["aac","h264"]) and (.format.duration | tonumber - 4 | fabs) <= 0.6' \
  "$work/keep.probe.json"
ffmpeg -v error -i "$work/keep.back.mp4" -f null - >"$work/keep.decode.err" 2>&1 &&
  [ ! -s "$work/keep.decode.err" ] && ok "keep: decodes without an error" ||
  fail "keep: decode errors: $(head -3 "$work/keep.decode.err")"
rgw_curl -sS -I "$obj_url" >"$work/keep.head"
grep -qi '^x-amz-meta-room: demo' "$work/keep.head" && grep -qi '^content-type: video/mp4' "$work/keep.head" &&
  ok "keep: metadata and content type arrived" || fail "keep: headers: $(cat "$work/keep.head")"
check "keep: manifestLocation is KEY.json beside the file" \
  '.manifestLocation == ($u + ".json")' "$work/keep.json" --arg u "$obj_url"
rgw_curl -f -o "$work/keep.manifest.json" "$obj_url.json" || fail "keep: no manifest object"
check "keep: the manifest lists the file with its location, size and duration" \
  '.egress_id == "EG_keep" and (.files | length == 1) and .files[0].location == $u and
   .files[0].size > 1000 and .files[0].duration > 3000000000' "$work/keep.manifest.json" --arg u "$obj_url"

# --- uploaded, local copy removed; no manifest
job gone "$rgw_secret_key" true
run gone
[ "$rc" -eq 0 ] && ok "gone: roomrec record exited 0" || fail "gone: exit $rc: $(tail -5 "$work/gone.log")"
[ ! -e "$work/out/gone/rooms/demo-gone.mp4" ] && ok "gone: the local file is removed after the upload" ||
  fail "gone: the local file is still there"
rgw_curl -f -o "$work/gone.back.mp4" "$rgw_url/rec/rooms/demo-gone.mp4" &&
  [ "$(stat -c %s "$work/gone.back.mp4")" = "$(jq -r '.fileResults[0].size' "$work/gone.json")" ] &&
  ok "gone: the object has the reported size" || fail "gone: object missing or of another size"
check "gone: disable_manifest: no manifest" '.manifestLocation == null' "$work/gone.json"
rgw_curl -s -o /dev/null -w '%{http_code}' "$rgw_url/rec/rooms/demo-gone.mp4.json" >"$work/gone.mcode"
[ "$(cat "$work/gone.mcode")" = 404 ] && ok "gone: no manifest object" || fail "gone: manifest answer $(cat "$work/gone.mcode")"

# --- a wrong secret: FAILED, spooled
wrong=not-the-right-secret-0123456789
job bad "$wrong"
run bad --spool-dir "$work/spool"
[ "$rc" -ne 0 ] && ok "bad: roomrec record failed (exit $rc)" || fail "bad: exit 0 with a wrong secret"
check "bad: FAILED with the S3 authentication error, the file waits in the spool" \
  '.status == "EGRESS_FAILED" and (.error | test("upload failed: .*S3 authentication failed")) and
   (.fileResults[0].spoolPath | startswith($d)) and .fileResults[0].location == .fileResults[0].spoolPath' \
  "$work/bad.json" --arg d "$work/spool/"
sp=$(jq -r '.fileResults[0].spoolPath' "$work/bad.json")
[ -s "$sp" ] && ffprobe -v error -show_entries format=duration -of csv=p=0 "$sp" >"$work/bad.dur" 2>&1 &&
  awk '{exit !($1 > 3.4 && $1 < 4.6)}' "$work/bad.dur" && ok "bad: the spooled copy decodes (~4 s)" ||
  fail "bad: spooled copy: $(cat "$work/bad.dur" 2>/dev/null)"
check "bad: the spool sidecar names the key and the egress" \
  '.key == "rooms/demo-bad.mp4" and .label == "EG_bad"' "${sp%.data}.json"
[ ! -e "$work/out/bad/rooms/demo-bad.mp4" ] && ok "bad: the local file went to the spool" ||
  fail "bad: the local file is still there beside the spooled copy"
rgw_curl -s -o /dev/null -w '%{http_code}' "$rgw_url/rec/rooms/demo-bad.mp4" >"$work/bad.code"
[ "$(cat "$work/bad.code")" = 404 ] && ok "bad: nothing in the bucket" || fail "bad: object answer $(cat "$work/bad.code")"

# --- no secret anywhere
for s in "$rgw_secret_key" "$wrong"; do
  if grep -lF "$s" "$work"/{keep,gone,bad}.{json,info.json,log} 2>/dev/null; then
    fail "a secret (${s:0:6}...) appears in the outputs above"
  else
    ok "no secret (${s:0:6}...) in stdout, stderr or the info files"
  fi
done
stop_room
rgw_stop
finish record_s3
