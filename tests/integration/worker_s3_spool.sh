#!/usr/bin/env bash
# labels: c,storage,worker
# `roomrec worker` with storage.s3 (a real radosgw on 127.0.0.1) whose S3 is down when a
# recording ends: the child's upload fails after its retries, the file (and its manifest)
# go to the spool (OUTPUT_DIR/.roomrec-spool) and the status is FAILED, "upload failed",
# with the file result at its spool copy (spoolPath). The worker is killed (kill -9);
# radosgw comes back; a new worker uploads the spool at its start: the bucket holds the
# recording exactly once under its key (and its manifest), the object decodes and has the
# reported size, the spool is empty, and the status is COMPLETE with the object's URL and
# manifestLocation. Then, with w2 running: a second recording fails its upload the same
# way (FAILED, in the spool); radosgw comes back and the running w2's periodic spool retry
# uploads it (COMPLETE, the object byte-identical, the spool empty) without a restart.
# No secret in any log.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"
. "$(dirname "$0")/data/radosgw.sh"

start_redis
rgw_start
rgw_curl -X PUT -o /dev/null "$rgw_url/rec"
start_room spool "$scenarios/four.json"
worker_config 0.8 10
rgw_storage_yaml "" 1 100ms 200ms >>"$work/worker.yaml"
start_worker w1
w1=$wpid
submit EG_sp 0.2 "$(track_job EG_sp alice/camera sp.webm)"
wait_status EG_sp EGRESS_ACTIVE 40 && ok "recording ACTIVE on w1" || fail "no ACTIVE: $(status_of EG_sp)"
sleep 4
rgw_stop_gateway
ok "radosgw stopped"
stop_job EG_sp
wait_status EG_sp 'EGRESS_(FAILED|COMPLETE)' 120 || fail "no final status: $(status_of EG_sp)"
info_of EG_sp >"$work/spooled.json"
spool=$work/out/.roomrec-spool
check "S3 down: FAILED, upload failed, the file result at its spool copy" \
  '.status == "EGRESS_FAILED" and (.error | startswith("upload failed: ")) and
   (.fileResults | length == 1) and (.fileResults[0].spoolPath | startswith($d)) and
   .fileResults[0].location == .fileResults[0].spoolPath and (.details | test("spool"))' \
  "$work/spooled.json" --arg d "$spool/"
sp=$(jq -r '.fileResults[0].spoolPath' "$work/spooled.json")
[ -s "$sp" ] && cp "$sp" "$work/recorded.webm" && ok "the spooled copy is there" || fail "no spooled copy at $sp"
[ ! -e "$work/out/sp.webm" ] && ok "the local file went to the spool" || fail "the local file stayed beside the spool copy"
[ "$(find "$spool" -name '*.data' | wc -l)" = 2 ] && ok "the spool holds the file and its manifest" ||
  fail "spool: $(ls "$spool")"

kill -9 "$w1"
wait "$w1" 2>/dev/null || true
ok "w1 killed (kill -9)"
rgw_start_gateway
start_worker w2
for _ in $(seq 600); do
  [ "$(status_of EG_sp)" = EGRESS_COMPLETE ] && [ -z "$(find "$spool" -name '*.data')" ] && break
  sleep 0.1
done
info_of EG_sp >"$work/uploaded.json"
check "after the spool retry: COMPLETE, the object URL, the manifest's location, no spoolPath" \
  '.status == "EGRESS_COMPLETE" and (.error == null) and .fileResults[0].location == $u and
   (.fileResults[0].spoolPath == null) and .manifestLocation == ($u + ".json")' \
  "$work/uploaded.json" --arg u "$rgw_url/rec/sp.webm"
[ -z "$(find "$spool" -name '*.data' -o -name '*.json')" ] && ok "the spool is empty" || fail "spool left: $(ls "$spool")"
rgw_curl "$rgw_url/rec?list-type=2" >"$work/list.xml"
grep -o '<Key>[^<]*</Key>' "$work/list.xml" | sed 's/<[^>]*>//g' | LC_ALL=C sort >"$work/keys.txt"
[ "$(cat "$work/keys.txt")" = "$(printf 'sp.webm\nsp.webm.json\n' | LC_ALL=C sort)" ] &&
  ok "the bucket holds the recording once (and its manifest)" || fail "bucket keys: $(cat "$work/keys.txt")"
rgw_curl -f -o "$work/back.webm" "$rgw_url/rec/sp.webm" && cmp "$work/recorded.webm" "$work/back.webm" &&
  ok "the object is byte-identical to the spooled recording" || fail "the object differs"
[ "$(stat -c %s "$work/back.webm")" = "$(jq -r '.fileResults[0].size' "$work/uploaded.json")" ] &&
  ok "the status has the object's size" || fail "size differs from the status"
d=$(decoded_secs "$work/back.webm")
python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 3 else 1)" && ok "the object decodes: $d s" ||
  fail "the object does not decode: '$d'"
grep -q "spool.*uploaded" "$work/w2.log" && ok "w2 logged the spool upload" || fail "w2 log: $(tail -5 "$work/w2.log")"
# The running worker retries its spool by itself.
submit EG_sp2 0.2 "$(track_job EG_sp2 alice/camera sp2.webm)"
wait_status EG_sp2 EGRESS_ACTIVE 40 && ok "second recording ACTIVE on w2" || fail "no ACTIVE: $(status_of EG_sp2)"
sleep 4
rgw_stop_gateway
stop_job EG_sp2
wait_status EG_sp2 'EGRESS_(FAILED|COMPLETE)' 120 || fail "no final status: $(status_of EG_sp2)"
info_of EG_sp2 >"$work/spooled2.json"
check "S3 down again: FAILED, in the spool" \
  '.status == "EGRESS_FAILED" and (.fileResults[0].spoolPath | startswith($d))' "$work/spooled2.json" --arg d "$spool/"
sp2=$(jq -r '.fileResults[0].spoolPath' "$work/spooled2.json")
cp "$sp2" "$work/recorded2.webm" || fail "no spooled copy at $sp2"
rgw_start_gateway
wait_status EG_sp2 EGRESS_COMPLETE 120 && ok "the running w2 uploaded the spool by itself" ||
  fail "not uploaded by the running worker: $(status_of EG_sp2)"
info_of EG_sp2 >"$work/uploaded2.json"
check "after the periodic retry: COMPLETE at the object's URL" \
  '.status == "EGRESS_COMPLETE" and .fileResults[0].location == $u and (.fileResults[0].spoolPath == null)' \
  "$work/uploaded2.json" --arg u "$rgw_url/rec/sp2.webm"
rgw_curl -f -o "$work/back2.webm" "$rgw_url/rec/sp2.webm" && cmp "$work/recorded2.webm" "$work/back2.webm" &&
  ok "the second object is byte-identical to its spooled recording" || fail "the second object differs"
for _ in $(seq 100); do
  [ -z "$(find "$spool" -name '*.data')" ] && break
  sleep 0.1
done
[ -z "$(find "$spool" -name '*.data' -o -name '*.json')" ] && ok "the spool is empty again" || fail "spool left: $(ls "$spool")"

rgw_check_no_secret "$work"/*.log "$work"/*.out "$work"/*.json
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
stop_room
rgw_stop
finish worker_s3_spool
