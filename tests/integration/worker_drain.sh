#!/usr/bin/env bash
# labels: c,worker
# SIGTERM drains a worker: the two recordings it runs go on until they are stopped and
# end COMPLETE with playable files and are acknowledged; a job submitted after the
# SIGTERM is not started (still STARTING, still queued); then the worker exits 0.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

start_redis
start_room drain "$scenarios/four.json"
worker_config 0.9 6
start_worker w1
w1=$wpid
submit EG_d1 0.2 "$(track_job EG_d1 alice/mic d1.ogg)"
submit EG_d2 0.2 "$(track_job EG_d2 bob/mic d2.ogg)"
wait_status EG_d1 EGRESS_ACTIVE 40 && wait_status EG_d2 EGRESS_ACTIVE 40 && ok "both ACTIVE" ||
  fail "not ACTIVE: $(status_of EG_d1) $(status_of EG_d2)"
kill -TERM "$w1"
sleep 1
submit EG_d3 0.2 "$(track_job EG_d3 carol/mic d3.ogg)"
sleep 4
kill -0 "$w1" && ok "the worker runs on while draining" || fail "the worker exited with jobs running"
[ "$(status_of EG_d1)" = EGRESS_ACTIVE ] && ok "d1 still recording" || fail "d1: $(status_of EG_d1)"
stop_job EG_d1
stop_job EG_d2
wait_status EG_d1 EGRESS_COMPLETE 40 && wait_status EG_d2 EGRESS_COMPLETE 40 && ok "both COMPLETE" ||
  fail "not COMPLETE: $(status_of EG_d1) $(status_of EG_d2)"
for f in d1 d2; do
  d=$(decoded_secs "$work/out/$f.ogg")
  python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 4 else 1)" && ok "$f.ogg decodes: $d s" || fail "$f.ogg: '$d'"
done
set +e
timeout 30 tail --pid="$w1" -f /dev/null
wait "$w1"
rc=$?
set -e
[ "$rc" -eq 0 ] && ok "the worker exited 0 after draining" || fail "worker exit $rc"
[ "$(status_of EG_d3)" = EGRESS_STARTING ] && ok "d3 was not started" || fail "d3: $(status_of EG_d3)"
[ "$(rcli XLEN "${prefix}jobs")" = 1 ] && ok "only d3 is left on the queue" || fail "queue: $(rcli XLEN "${prefix}jobs")"
[ -e "$work/out/d3.ogg" ] && fail "d3.ogg exists" || ok "no d3.ogg"
finish worker_drain
