#!/usr/bin/env bash
# labels: c,worker
# `roomrec worker` with one job: a room composite (four.json) is taken, goes STARTING →
# ACTIVE in Redis; a stop control message for it ends it COMPLETE with a playable MP4 of
# the time recorded; the job is acknowledged (no pending entry left), the worker stays up
# and reports it in its metrics. A layout control message reaches the recording first.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

start_redis
start_room stop "$scenarios/four.json"
worker_config 0.8 6
hport=$(free_port)
start_worker w1 --health-port "$hport"
w1=$wpid

submit EG_stop1 0.45 "$(composite_job EG_stop1 stop1.mp4 false)"
if wait_status EG_stop1 EGRESS_ACTIVE 40; then ok "the job became ACTIVE"; else
  fail "no ACTIVE: $(status_of EG_stop1); $(tail -5 "$work/w1.log")"
fi
sleep 2
rcli RPUSH "${prefix}ctl:EG_stop1" '{"layout":"speaker"}' >/dev/null
sleep 3
stop_job EG_stop1
if wait_status EG_stop1 EGRESS_COMPLETE 40; then ok "stopped: COMPLETE"; else
  fail "not COMPLETE: $(status_of EG_stop1): $(info_of EG_stop1 | head -c 400)"
fi
grep -q "layout speaker" "$work/w1.log" && ok "the layout message reached the recording" ||
  fail "no layout change in the log"
info_of EG_stop1 >"$work/stop1.info.json"
check "the final info lists the file with its duration" \
  '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1) and
   (.fileResults[0].location | endswith("stop1.mp4")) and (.fileResults[0].duration | tonumber > 4e9)' \
  "$work/stop1.info.json"
d=$(decoded_secs "$work/out/stop1.mp4")
python3 -c "import sys; sys.exit(0 if 4.0 <= float('${d:-0}') <= 12 else 1)" &&
  ok "stop1.mp4 decodes: $d s" || fail "stop1.mp4 duration '$d'"
check_acked "acknowledged" 50
kill -0 "$w1" && ok "the worker is still up" || fail "the worker died"
curl -s -m 5 "http://127.0.0.1:$hport/metrics" >"$work/metrics.txt" || true
grep -q 'roomrec_jobs_total{type="room_composite",result="complete"} 1' "$work/metrics.txt" &&
  ok "metrics count the job" || fail "metrics: $(grep jobs_total "$work/metrics.txt")"
curl -s -m 5 "http://127.0.0.1:$hport/health" | grep -q '"status":"ok"' && ok "health ok" ||
  fail "health not ok"
kill -TERM "$w1"
wait "$w1" && ok "the worker exits 0 on SIGTERM" || fail "worker exit $?"
finish worker_stop
