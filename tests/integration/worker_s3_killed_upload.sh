#!/usr/bin/env bash
# labels: c,storage,worker
# `kill -9` of a worker and of its recording child between the end of a recording and its
# confirmed upload (real redis-server, radosgw and the test room; lease 8 s). The upload is
# held by stopping radosgw as the recording ends, with the config's own retry settings
# (max_retries 60, 500 ms to 1 s apart) keeping it trying. The finished file must be in
# the spool (and nowhere else) while it uploads, the job's stage in Redis "uploading".
#   round 1: another worker (w2) reclaims the job after the lease and uploads the spooled
#            file instead of recording a part 2;
#   round 2: the same worker (w2) restarted finds the file in its spool and the job in
#            Redis and does the same;
#   round 3: (state made by hand) the kill came before the move into the spool: the
#            status is ENDING with the finished file at its output path; the restarted
#            worker moves it into the spool and uploads it.
# Each round: the bucket holds the recording under its key exactly once, byte-identical
# to the spooled file, decodable (ffprobe duration and frames); the status is COMPLETE
# with the object's URL and size and a single file result; no part 2 was recorded; the
# spool is empty. No secret in any log.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"
. "$(dirname "$0")/data/radosgw.sh"

lease=8
start_redis
rgw_start
rgw_curl -X PUT -o /dev/null "$rgw_url/rec"
start_room killup "$scenarios/four.json"
worker_config 0.8 $lease
rgw_storage_yaml "" 60 500ms 1s >>"$work/worker.yaml"
spool=$work/out/.roomrec-spool
stage_of() { rcli HGET "${prefix}egress:$1" stage; }

# record_start ID FILE: the job recording on the (only) worker.
record_start() {
  submit "$1" 0.2 "$(track_job "$1" alice/camera "$2")"
  wait_status "$1" EGRESS_ACTIVE 40 && ok "$1: recording ACTIVE" || fail "$1: no ACTIVE: $(status_of "$1")"
}

# hold_and_kill ID FILE WORKER_PID: holds the upload at the recording's end, kills the
# worker and its child (kill -9); the spooled copy goes to $work/ID.recorded.
hold_and_kill() {
  local id=$1 file=$2 wp=$3 children sp
  sleep 4
  rgw_stop_gateway
  ok "$id: radosgw stopped: the upload is held"
  stop_job "$id"
  for _ in $(seq 600); do
    [ "$(stage_of "$id")" = uploading ] && break
    sleep 0.1
  done
  [ "$(stage_of "$id")" = uploading ] && ok "$id: stage 'uploading' in Redis" ||
    fail "$id: stage '$(stage_of "$id")', status $(status_of "$id")"
  info_of "$id" >"$work/$id.ending.json"
  check "$id: ENDING, the file result at its spool entry" \
    '.status == "EGRESS_ENDING" and (.fileResults | length == 1) and
     (.fileResults[0].spoolPath | startswith($d)) and .fileResults[0].location == .fileResults[0].spoolPath' \
    "$work/$id.ending.json" --arg d "$spool/"
  sp=$(jq -r '.fileResults[0].spoolPath' "$work/$id.ending.json")
  [ -s "$sp" ] && cp "$sp" "$work/$id.recorded" && ok "$id: the finished file is in the spool" ||
    fail "$id: nothing at $sp"
  [ ! -e "$work/out/$file" ] && [ ! -e "$work/out/$file.part" ] && ok "$id: no copy outside the spool" ||
    fail "$id: $(ls "$work/out")"
  sleep 1
  children=$(pgrep -P "$wp" || true)
  [ -n "$children" ] && ok "$id: the recording child is $children" || fail "$id: no child of $wp"
  kill -9 "$wp" $children
  wait "$wp" 2>/dev/null || true
  ok "$id: worker $wp and its child killed (kill -9) during the upload"
  [ -s "$sp" ] && [ -s "${sp%.data}.json" ] && ok "$id: the file and its sidecar stay in the spool" ||
    fail "$id: spool: $(ls -a "$spool")"
}

# check_uploaded ID FILE TAKER: the takeover's outcome.
check_uploaded() {
  local id=$1 file=$2 taker=$3 d frames
  for _ in $(seq 900); do
    status_of "$id" | grep -Eq 'EGRESS_(COMPLETE|FAILED)' && break
    sleep 0.1
  done
  info_of "$id" >"$work/$id.final.json"
  check "$id: COMPLETE with the object's URL, one file result, nothing in the spool" \
    '.status == "EGRESS_COMPLETE" and (.error == null) and (.fileResults | length == 1) and
     .fileResults[0].location == $u and (.fileResults[0].spoolPath == null)' \
    "$work/$id.final.json" --arg u "$rgw_url/rec/$file"
  [ "$(rcli HGET "${prefix}egress:$id" worker)" = "$taker" ] && ok "$id: finished by $taker" ||
    fail "$id: finished by $(rcli HGET "${prefix}egress:$id" worker)"
  grep -q "job $id part 2: its recording had ended" "$work/$taker.log" &&
    ok "$id: $taker took the job over as an upload, not a new part" || fail "$id: $taker log: $(grep "$id" "$work/$taker.log" | tail -5)"
  [ -z "$(find "$work/out" -name "*part2*")" ] && ! grep -q "job $id part 2: EGRESS_STARTING\|job $id part 2: EGRESS_ACTIVE" "$work"/*.log &&
    ok "$id: no second part recorded" || fail "$id: a part 2 was recorded: $(ls "$work/out")"
  rgw_curl "$rgw_url/rec?list-type=2" >"$work/list.xml"
  grep -o '<Key>[^<]*</Key>' "$work/list.xml" | sed 's/<[^>]*>//g' | grep -v '\.json$' | LC_ALL=C sort >"$work/keys.txt"
  [ "$(grep -c "^${file%.webm}" "$work/keys.txt")" = 1 ] && grep -qx "$file" "$work/keys.txt" &&
    ok "$id: the bucket holds the recording once, as $file" || fail "$id: bucket keys: $(cat "$work/keys.txt")"
  rgw_curl -f -o "$work/$id.back" "$rgw_url/rec/$file" && cmp "$work/$id.recorded" "$work/$id.back" &&
    ok "$id: the object is byte-identical to the recorded file" || fail "$id: the object differs"
  [ "$(stat -c %s "$work/$id.back")" = "$(jq -r '.fileResults[0].size' "$work/$id.final.json")" ] &&
    ok "$id: the status has the object's size" || fail "$id: size differs from the status"
  d=$(decoded_secs "$work/$id.back")
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$work/$id.back" 2>/dev/null | head -1)
  python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 3 and int('${frames:-0}') >= 30 else 1)" &&
    ok "$id: the object decodes: $d s, $frames frames" || fail "$id: does not decode: '$d' s, '$frames' frames"
  [ -z "$(find "$spool" -name '*.data' -o -name '*.json')" ] && ok "$id: the spool is empty" ||
    fail "$id: spool left: $(ls "$spool")"
}

# Round 1: w1 records, w2 takes over.
start_worker w1
w1=$wpid
record_start EG_ku1 ku1.webm
start_worker w2
w2=$wpid
hold_and_kill EG_ku1 ku1.webm "$w1"
rgw_start_gateway
ok "radosgw back"
check_uploaded EG_ku1 ku1.webm w2

# Round 2: w2 records, is killed, and is started again with the same id.
record_start EG_ku2 ku2.webm
hold_and_kill EG_ku2 ku2.webm "$w2"
rgw_start_gateway
ok "radosgw back"
mv "$work/w2.log" "$work/w2.first.log"
start_worker w2
w2=$wpid
check_uploaded EG_ku2 ku2.webm w2

# Round 3: a kill between the muxer's final rename and the move into the spool leaves the
# status ENDING with the finished file at its output path and no stage. Made by hand (w2
# stopped; the job delivered to a consumer that never comes back): the restarted w2
# moves the file into the spool and uploads it instead of recording a part 2.
kill -9 "$w2"
wait "$w2" 2>/dev/null || true
cp "$work/EG_ku1.recorded" "$work/out/ku3.webm"
cp "$work/out/ku3.webm" "$work/EG_ku3.recorded"
submit_raw EG_ku3 track 0.2 "$(track_job EG_ku3 alice/camera ku3.webm)"
info3=$(jq -cn --arg l "$work/out/ku3.webm" \
  '{egressId: "EG_ku3", roomName: "four", status: "EGRESS_ENDING", fileResults: [{filename: "ku3.webm", location: $l}]}')
rcli HSET "${prefix}egress:EG_ku3" status EGRESS_ENDING info "$info3" part 1 worker dead >/dev/null
rcli XREADGROUP GROUP "${prefix}workers" dead COUNT 1 STREAMS "${prefix}jobs" '>' >/dev/null
mv "$work/w2.log" "$work/w2.second.log"
start_worker w2
w2=$wpid
check_uploaded EG_ku3 ku3.webm w2
[ ! -e "$work/out/ku3.webm" ] && ok "EG_ku3: the file left its output path" || fail "EG_ku3: still at its output path"

rgw_check_no_secret "$work"/*.log "$work"/*.out "$work"/*.json
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
stop_room
rgw_stop
finish worker_s3_killed_upload
