#!/usr/bin/env bash
# labels: c,worker
# Room children: three track egresses of one room run in one `roomrec record --host`
# child of the worker (all ACTIVE, one child); one of them stopped ends COMPLETE with a
# playable file while the others go on; SIGKILL to the room child then fails the other
# two, each FAILED "recording process crashed (signal 9)" and acknowledged; the worker
# stays up and a new job of the room gets a new child that records.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

start_redis
start_room room "$scenarios/four.json"
worker_config 0.8 6
start_worker w1
w1=$wpid

hosts() { pgrep -P "$w1" -f 'record --host' || true; }
submit EG_r1 0.2 "$(track_job EG_r1 alice/camera r1.webm)"
submit EG_r2 0.2 "$(track_job EG_r2 carol/camera r2.mp4)"
submit EG_r3 0.2 "$(track_job EG_r3 bob/mic r3.ogg)"
for id in EG_r1 EG_r2 EG_r3; do
  wait_status $id EGRESS_ACTIVE 40 && ok "$id ACTIVE" || fail "$id: $(status_of $id); $(tail -5 "$work/w1.log")"
done
n=$(hosts | wc -l)
[ "$n" = 1 ] && ok "one room child for the three" || fail "$n room children: $(pgrep -a -P "$w1")"
host=$(hosts | head -1)
sleep 3
stop_job EG_r1
wait_status EG_r1 EGRESS_COMPLETE 40 && ok "EG_r1 stopped: COMPLETE" || fail "EG_r1: $(status_of EG_r1)"
d=$(decoded_secs "$work/out/r1.webm")
python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 2 else 1)" && ok "r1.webm decodes: $d s" ||
  fail "r1.webm duration '$d'"
[ "$(status_of EG_r2)" = EGRESS_ACTIVE ] && [ "$(status_of EG_r3)" = EGRESS_ACTIVE ] &&
  ok "the others go on" || fail "others: $(status_of EG_r2) $(status_of EG_r3)"
kill -KILL "$host"
for id in EG_r2 EG_r3; do
  wait_status $id EGRESS_FAILED 30 && ok "$id FAILED after the crash" || fail "$id: $(status_of $id)"
  info_of $id | grep -q 'recording process crashed (signal 9)' && ok "$id says why" ||
    fail "$id error: $(info_of $id | head -c 300)"
done
check_acked "all three acknowledged" 100
kill -0 "$w1" && ok "the worker is still up" || fail "the worker died"
submit EG_r4 0.2 "$(track_job EG_r4 dave/camera r4.mp4)"
wait_status EG_r4 EGRESS_ACTIVE 40 && ok "a new job records in a new child" || fail "EG_r4: $(status_of EG_r4)"
new=$(hosts | head -1)
[ -n "$new" ] && [ "$new" != "$host" ] && ok "new room child $new" || fail "room child '$new'"
stop_job EG_r4
wait_status EG_r4 EGRESS_COMPLETE 40 && ok "EG_r4 COMPLETE" || fail "EG_r4: $(status_of EG_r4)"
kill -TERM "$w1"
wait "$w1" && ok "the worker exits 0 on SIGTERM" || fail "worker exit $?"
finish worker_room
