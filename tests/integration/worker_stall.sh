#!/usr/bin/env bash
# labels: c,worker
# A worker that stalls longer than a lease (SIGSTOP for 2.5 leases, then SIGCONT) and is
# the only worker finds its own job pending and idle in the queue: it must keep the
# recording it is running rather than take the job as a new part (which replaced the
# running job and cut its recording). Stopped afterwards: COMPLETE, one part, one file
# covering the whole time, the job acknowledged.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

start_redis
start_room stall "$scenarios/four.json"
worker_config 0.8 3
start_worker w1
w1=$wpid

submit EG_stall1 0.45 "$(composite_job EG_stall1 stall1.mp4 false)"
if wait_status EG_stall1 EGRESS_ACTIVE 40; then ok "the job became ACTIVE"; else
  fail "no ACTIVE: $(status_of EG_stall1); $(tail -5 "$work/w1.log")"
fi
sleep 2
kill -STOP "$w1"
sleep 8
idle=$(rcli XPENDING "${prefix}jobs" "${prefix}workers" - + 1 | sed -n 3p)
kill -CONT "$w1"
[ "${idle:-0}" -gt 3000 ] && ok "the job's lease ran out while the worker stalled (idle $idle ms)" ||
  fail "the lease did not run out (idle '$idle' ms)"
sleep 6
[ "$(took_count EG_stall1)" = "1" ] || grep -q "came back to us" "$work/w1.log" ||
  fail "the job was taken again without a word"
grep -q "came back to us" "$work/w1.log" && ok "the worker saw its own job come back" ||
  ok "the worker refreshed the lease before it could come back"
status_of EG_stall1 | grep -q EGRESS_ACTIVE && ok "still ACTIVE after the stall" ||
  fail "after the stall: $(status_of EG_stall1)"
stop_job EG_stall1
if wait_status EG_stall1 EGRESS_COMPLETE 40; then ok "stopped: COMPLETE"; else
  fail "not COMPLETE: $(status_of EG_stall1): $(info_of EG_stall1 | head -c 400)"
fi
info_of EG_stall1 >"$work/stall1.info.json"
check "one part, one file" \
  '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1) and
   (.fileResults[0].location | endswith("stall1.mp4"))' "$work/stall1.info.json"
ls "$work/out" >"$work/out.list"
[ "$(grep -c . "$work/out.list")" = "1" ] && ok "one file in the output directory" ||
  fail "files: $(tr '\n' ' ' <"$work/out.list")"
d=$(decoded_secs "$work/out/stall1.mp4")
python3 -c "import sys; sys.exit(0 if 14.0 <= float('${d:-0}') <= 30 else 1)" &&
  ok "stall1.mp4 decodes and spans the stall: $d s" || fail "stall1.mp4 duration '$d'"
check_acked "acknowledged" 50
kill -TERM "$w1"
wait "$w1" && ok "the worker exits 0 on SIGTERM" || fail "worker exit $?"
finish worker_stall
