#!/usr/bin/env bash
# labels: c,worker
# Malformed and hostile jobs put on the queue behind `roomrec submit`'s back (which would
# refuse them) reach a worker: each ends FAILED with errorCode 400 and an error naming
# the field and the reason, is acknowledged, and the worker stays up; a bad control
# message is refused with its reason and the recording goes on; a good job after all
# that completes with a playable file.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

start_redis
start_room hostile "$scenarios/four.json"
worker_config 0.8 6
start_worker w1
w1=$wpid

big=$(python3 -c 'print("x" * 100000)')
submit_raw EG_bad1 room_composite 0.1 '{"room_composite":{"room_name":"four","file_outputs":[{"filpath":"x.mp4"}]}}'
submit_raw EG_bad2 track 0.1 '{"track": '
submit_raw EG_bad3 track 0.1 '{"track":{"room_name":"four","track_id":5}}'
submit_raw EG_bad4 track 0.1 '[1,2,3]'
submit_raw EG_bad5 room_composite 0.1 "{\"room_composite\":{\"room_name\":\"$big\",\"layout\":\"circle\"}}"
submit_raw EG_bad6 nonsense 0.1 '{"egress_id":"EG_other","track":{"room_name":"four","track_id":"alice/mic"}}'
expect_failed() { # ID ERROR-REGEX
  if wait_status "$1" EGRESS_FAILED 30; then
    info_of "$1" >"$work/$1.json"
    check "$1: FAILED, 400, error /$2/" '.status == "EGRESS_FAILED" and .errorCode == 400 and
      (.error | test($re))' "$work/$1.json" --arg re "$2"
  else
    fail "$1: not FAILED: $(status_of "$1")"
  fi
}
expect_failed EG_bad1 'room_composite.file_outputs\[0\].filpath: unknown field'
expect_failed EG_bad2 'JSON|json|parse|unexpected'
expect_failed EG_bad3 'track.track_id'
expect_failed EG_bad4 'object'
expect_failed EG_bad5 'room_composite.layout'
expect_failed EG_bad6 'egress_id'
kill -0 "$w1" && ok "the worker is still up" || fail "the worker died"

submit EG_good 0.2 "$(track_job EG_good alice/mic good.ogg)"
wait_status EG_good EGRESS_ACTIVE 40 && ok "the good job is ACTIVE" || fail "good: $(status_of EG_good)"
rcli RPUSH "${prefix}ctl:EG_good" '{"stop":"yes"}' >/dev/null
rcli RPUSH "${prefix}ctl:EG_good" 'not json' >/dev/null
sleep 5
[ "$(status_of EG_good)" = EGRESS_ACTIVE ] && ok "bad control messages do not stop it" ||
  fail "good: $(status_of EG_good) after bad control messages"
grep -q 'control message rejected: stop: must be true' "$work/w1.log" &&
  ok "the bad control message is refused with its reason" || fail "no refusal in the log"
stop_job EG_good
wait_status EG_good EGRESS_COMPLETE 40 && ok "the good job is COMPLETE" || fail "good: $(status_of EG_good)"
d=$(decoded_secs "$work/out/good.ogg")
python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 3.5 else 1)" && ok "good.ogg decodes: $d s" ||
  fail "good.ogg: '$d'"
[ "$(rcli XLEN "${prefix}jobs")" = "0" ] && ok "every job acknowledged" || fail "left: $(rcli XLEN "${prefix}jobs")"
kill -0 "$w1" && ok "the worker is still up" || fail "the worker died"
finish worker_hostile
