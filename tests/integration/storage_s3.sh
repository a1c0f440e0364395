#!/usr/bin/env bash
# labels: c,storage
# storage/ against a real S3 server (Ceph radosgw on 127.0.0.1, which checks SigV4
# signatures), driven by tests/tools/rr-upload:
#  - a recording (MP4) in one PUT and a 20 MB file in 5 MB parts download back
#    byte-identical; the MP4 decodes; metadata and content type arrive;
#  - a wrong secret is an S3 authentication error, a missing bucket a no-bucket error,
#    and neither error (nor any log line) shows the secret;
#  - radosgw stopped in the middle of a multipart upload and started again: the upload
#    completes after retries; stopped for good: the backup directory gets the file
#    (backup_storage_used); with no backup the file waits in the spool, and a later
#    `rr-upload --spool-retry` with radosgw back uploads it and empties the spool.
set -euo pipefail
. "$(dirname "$0")/data/lib.sh"
. "$(dirname "$0")/data/radosgw.sh"
upload=$build/tests/tools/rr-upload
[ -x "$upload" ] || { echo "missing $upload (ninja -C $build rr-upload)"; exit 1; }

rgw_start
echo "radosgw at $rgw_url"
rgw_curl -X PUT -o /dev/null "$rgw_url/rec"
export ROOMREC_S3_SECRET=$rgw_secret_key
s3() { "$upload" --endpoint "$rgw_url" --bucket rec --access-key "$rgw_access_key" --path-style "$@"; }
# get KEY OUT: downloads s3://rec/KEY.
get() { rgw_curl -f -o "$2" "$rgw_url/rec/$1"; }
no_secret() { # no_secret DESCRIPTION FILE...
  if grep -qF "$rgw_secret_key" "${@:2}"; then fail "$1: the secret appears"; else ok "$1: no secret"; fi
}

# --- a recording in one PUT
gst-launch-1.0 -q videotestsrc num-buffers=60 ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc ! h264parse ! mp4mux ! filesink location="$work/rec.mp4" >/dev/null 2>&1
s3 --prefix "EG_test/one" --metadata room=alpha --tagging "egress=EG_test&kind=file" \
  --content-disposition 'attachment; filename="rec.mp4"' "$work/rec.mp4" >"$work/put.json" 2>"$work/put.err" ||
  fail "single PUT: $(cat "$work/put.json" "$work/put.err")"
check "single PUT: location is the object URL" \
  ".location == \"$rgw_url/rec/EG_test/one/rec.mp4\" and .size == $(stat -c %s "$work/rec.mp4") and (.backup_storage_used | not)" "$work/put.json"
get EG_test/one/rec.mp4 "$work/rec.back.mp4" && cmp "$work/rec.mp4" "$work/rec.back.mp4" &&
  ok "single PUT: downloads byte-identical" || fail "single PUT: download differs"
ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
  -of csv=p=0 "$work/rec.back.mp4" >"$work/frames.txt" 2>&1 &&
  [ "$(cat "$work/frames.txt")" = 60 ] && ok "single PUT: the download decodes (60 frames)" ||
  fail "single PUT: the download does not decode: $(cat "$work/frames.txt")"
rgw_curl -sS -I "$rgw_url/rec/EG_test/one/rec.mp4" >"$work/head.txt"
grep -qi '^content-type: video/mp4' "$work/head.txt" && grep -qi '^x-amz-meta-room: alpha' "$work/head.txt" &&
  grep -qi '^content-disposition: attachment; filename="rec.mp4"' "$work/head.txt" &&
  ok "single PUT: content type, metadata and content disposition arrived" || fail "single PUT: headers: $(cat "$work/head.txt")"

rgw_curl "$rgw_url/rec/EG_test/one/rec.mp4?tagging=" >"$work/tags.xml"
grep -q '<Key>egress</Key><Value>EG_test</Value>' "$work/tags.xml" && ok "single PUT: tags arrived" ||
  fail "single PUT: tags: $(cat "$work/tags.xml")"

# --- 20 MB in 5 MB parts
head -c 20000000 /dev/urandom >"$work/big.bin"
s3 --multipart-threshold 5000000 --part-size 5242880 --parallel 2 --key big.bin "$work/big.bin" \
  >"$work/mp.json" 2>"$work/mp.err" || fail "multipart: $(cat "$work/mp.json" "$work/mp.err")"
grep -q "part 4 of 4 done" "$work/mp.err" && ok "multipart: went up in 4 parts" ||
  fail "multipart: not 4 parts: $(cat "$work/mp.err")"
get big.bin "$work/big.back" && cmp "$work/big.bin" "$work/big.back" &&
  ok "multipart: downloads byte-identical" || fail "multipart: download differs"

# --- refusals
ROOMREC_S3_SECRET=not-the-secret-at-all s3 "$work/rec.mp4" >"$work/auth.json" 2>"$work/auth.err" &&
  fail "a wrong secret was accepted"
check "wrong secret: an S3 authentication error" \
  '.error_code == "auth" and (.error | test("S3 authentication failed")) and (.error | test("SignatureDoesNotMatch")) and (.error | test("upload failed") | not)' "$work/auth.json"
grep -qF "not-the-secret-at-all" "$work/auth.json" "$work/auth.err" && fail "wrong secret: it appears in the output" ||
  ok "wrong secret: not in the output"
"$upload" --endpoint "$rgw_url" --bucket rec --access-key NOSUCHKEY --path-style "$work/rec.mp4" \
  >"$work/key.json" 2>"$work/key.err" && fail "an unknown access key was accepted"
check "unknown key: an S3 authentication error" \
  '.error_code == "auth" and (.error | test("InvalidAccessKeyId"))' "$work/key.json"
"$upload" --endpoint "$rgw_url" --bucket nosuchbucket --access-key "$rgw_access_key" --path-style \
  "$work/rec.mp4" >"$work/nb.json" 2>"$work/nb.err" && fail "a missing bucket was accepted"
check "missing bucket: a clear error naming it" \
  '.error_code == "no-bucket" and (.error | test("bucket \"nosuchbucket\" does not exist"))' "$work/nb.json"
"$upload" --endpoint "$rgw_url" --bucket nosuchbucket --access-key "$rgw_access_key" --path-style \
  --multipart-threshold 5000000 "$work/big.bin" >"$work/nbm.json" 2>"$work/nbm.err" && fail "a missing bucket was accepted (multipart)"
check "missing bucket, multipart: a clear error naming it" \
  '.error_code == "no-bucket" and (.error | test("nosuchbucket"))' "$work/nbm.json"

# mp_bg NAME ARGS...: a 4-part upload of big.bin in the background that holds parts 2-4
# until $work/NAME.go exists; waits until part 1 is done.
mp_bg() {
  local name=$1
  shift
  s3 --multipart-threshold 5000000 --part-size 5242880 --parallel 2 \
    --hold-after-first-part "$work/$name.go" "$@" "$work/big.bin" >"$work/$name.json" 2>"$work/$name.err" &
  mp_pid=$!
  pids+=("$mp_pid")
  for _ in $(seq 1200); do
    grep -q "part 1 of 4 done" "$work/$name.err" && return 0
    kill -0 "$mp_pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: part 1 never finished: $(tail -5 "$work/$name.err")"
  return 1
}

# --- radosgw stopped mid-upload and started again
if mp_bg restart --key restart.bin --retries 60 --retry-base-ms 300 --retry-max-ms 2000; then
  rgw_stop_gateway
  touch "$work/restart.go"
  for _ in $(seq 600); do grep -q "rr-upload: retry" "$work/restart.err" && break; sleep 0.1; done
  rgw_start_gateway
  wait "$mp_pid" && ok "restart: the upload completed" || fail "restart: $(cat "$work/restart.json"; tail -5 "$work/restart.err")"
  grep -q "rr-upload: retry" "$work/restart.err" && ok "restart: parts were retried" || fail "restart: no retry seen"
  get restart.bin "$work/restart.back" && cmp "$work/big.bin" "$work/restart.back" &&
    ok "restart: downloads byte-identical" || fail "restart: download differs"
fi

# --- stopped for good: the backup store
if mp_bg backup --key backup.bin --retries 3 --retry-base-ms 100 --retry-max-ms 300 \
  --backup-dir "$work/backup"; then
  rgw_stop_gateway
  touch "$work/backup.go"
  wait "$mp_pid" && ok "backup: the upload ended with the file stored" || fail "backup: $(cat "$work/backup.json")"
  check "backup: backup_storage_used, the location is the backup's" \
    ".backup_storage_used == true and .location == \"$work/backup/backup.bin\"" "$work/backup.json"
  cmp "$work/big.bin" "$work/backup/backup.bin" && ok "backup: the backup copy is identical" ||
    fail "backup: the backup copy differs"
  grep -q "multipart upload aborted" "$work/backup.err" && ok "backup: the primary's failure was logged" ||
    fail "backup: no primary failure in the log"
fi

# --- no backup: the spool, then a later run
s3 --key spooled/big.bin --retries 2 --retry-base-ms 100 --multipart-threshold 5000000 \
  --spool-dir "$work/spool" "$work/big.bin" >"$work/spool.json" 2>"$work/spool.err" &&
  fail "spool: the upload succeeded with radosgw down"
check "spool: not stored, the status names the spool file and a network error" \
  '(.location == null) and (.spool_path | startswith("'"$work/spool/"'")) and .error_code == "network"' "$work/spool.json"
sp=$(jq -r .spool_path "$work/spool.json")
cmp "$work/big.bin" "$sp" && ok "spool: the spooled copy is identical" || fail "spool: copy differs"
check "spool: the sidecar names the key and the destination" \
  '.key == "spooled/big.bin" and (.destination | test("s3://rec"))' "${sp%.data}.json"
s3 --spool-retry "$work/spool" --retries 2 --retry-base-ms 100 >"$work/sr1.json" 2>"$work/sr1.err" &&
  fail "spool retry: succeeded with radosgw down"
[ -f "$sp" ] && ok "spool retry with radosgw down: the file stays" || fail "spool retry: the file vanished"
rgw_start_gateway
s3 --spool-retry "$work/spool" >"$work/sr2.json" 2>"$work/sr2.err" ||
  fail "spool retry: $(cat "$work/sr2.json" "$work/sr2.err")"
check "spool retry: one uploaded, none left" '.uploaded == 1 and .remaining == 0' "$work/sr2.json"
[ -z "$(ls -A "$work/spool")" ] && ok "spool retry: the spool is empty" || fail "spool retry: left $(ls "$work/spool")"
get spooled/big.bin "$work/spool.back" && cmp "$work/big.bin" "$work/spool.back" &&
  ok "spool retry: downloads byte-identical" || fail "spool retry: download differs"

no_secret "outputs and logs" "$work"/*.json "$work"/*.err
rgw_stop
[ "$failures" -eq 0 ] && echo "storage_s3: all passed" || echo "storage_s3: $failures failed"
exit $((failures > 0))
