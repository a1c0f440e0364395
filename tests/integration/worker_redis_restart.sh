#!/usr/bin/env bash
# labels: c,worker
# redis-server killed (-9) and restarted during recordings, persistence on (AOF,
# appendfsync always), lease 3 s: two workers (capacity 0.5 each, so 2 track egresses
# apiece) record 3 audio tracks and one video track of four.json. Redis is down for
# 5 s, longer than a lease: the recordings go on (the chosen behaviour, docs/WORKER.md),
# the workers reconnect to the restarted server, refresh their leases before anyone may
# reclaim, and nothing is taken over. Checks: the AOF brought every job back; every job
# ends COMPLETE as part 1 with one decodable file that covers the outage; each job was
# taken once and joined the room once (the test room's report: one session per EG_
# identity); the events stream shows each job's statuses in order with one final status
# last; every job is acknowledged (XPENDING empty, stream empty).
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

lease=3
start_redis --appendonly yes --appendfsync always
redis1=$redis_pid
start_room restart "$scenarios/four.json"
worker_config 0.5 $lease
start_worker w1
start_worker w2

jobs=(EG_rsA EG_rsB EG_rsC EG_rsV)
submit EG_rsA 0.2 "$(track_job EG_rsA alice/mic rs-a.ogg)"
submit EG_rsB 0.2 "$(track_job EG_rsB bob/mic rs-b.ogg)"
submit EG_rsC 0.2 "$(track_job EG_rsC carol/mic rs-c.ogg)"
submit EG_rsV 0.2 "$(track_job EG_rsV alice/camera rs-v.webm)"
for id in "${jobs[@]}"; do
  wait_status "$id" EGRESS_ACTIVE 60 && ok "$id ACTIVE ($(rcli HGET "${prefix}egress:$id" worker))" ||
    fail "$id not ACTIVE: $(status_of "$id")"
done
workers=$(for id in "${jobs[@]}"; do rcli HGET "${prefix}egress:$id" worker; done | sort -u | tr '\n' ' ')
[ "$workers" = "w1 w2 " ] && ok "both workers hold jobs" || fail "jobs held by: $workers"
sleep 2

kill -9 "$redis1"
wait "$redis1" 2>/dev/null || true
ok "redis-server killed"
sleep 5
redis_spawn redis "$rport" --appendonly yes --appendfsync always
ok "redis-server restarted on the same port"
[ "$(rcli XLEN "${prefix}jobs")" = 4 ] && ok "the AOF brought the 4 jobs back" ||
  fail "jobs after the restart: $(rcli XLEN "${prefix}jobs")"
sleep 4
for w in w1 w2; do
  grep -q "Redis unreachable" "$work/$w.log" && grep -q "Redis reachable again" "$work/$w.log" &&
    ok "$w lost Redis and found it again" || fail "$w: no unreachable/reachable in its log"
done
for id in "${jobs[@]}"; do
  status_of "$id" | grep -q EGRESS_ACTIVE && ok "$id still ACTIVE after the restart" ||
    fail "$id after the restart: $(status_of "$id")"
done
for id in "${jobs[@]}"; do stop_job "$id"; done
for id in "${jobs[@]}"; do
  wait_status "$id" EGRESS_COMPLETE 60 && ok "$id COMPLETE" || fail "$id not COMPLETE: $(status_of "$id")"
done

# Each job ran once: taken once, part 1, one file, one session in the room.
for id in "${jobs[@]}"; do
  [ "$(took_count "$id")" = 1 ] && ok "$id taken once" || fail "$id taken $(took_count "$id") times"
  [ "$(rcli HGET "${prefix}egress:$id" part)" = 1 ] && ok "$id stayed part 1" ||
    fail "$id part $(rcli HGET "${prefix}egress:$id" part)"
  info_of "$id" >"$work/$id.info.json"
  check "$id: final info lists one file" \
    '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1)' "$work/$id.info.json"
done
grep -h "lease lost" "$work"/w1.log "$work"/w2.log && fail "a lease was lost" || ok "no lease lost"
for f in rs-a.ogg rs-b.ogg rs-c.ogg rs-v.webm; do
  d=$(decoded_secs "$work/out/$f")
  # ACTIVE + 2 s + 5 s outage + 4 s: a file covering the outage decodes ≥ 9 s.
  python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 9 else 1)" && ok "$f decodes: $d s" ||
    fail "$f: decoded '$d' s"
done

# The statuses are consistent: the events stream (persisted too) has each job's statuses
# in order, a single final one, last.
for id in "${jobs[@]}"; do
  ev=$(events_of "$id" | tr '\n' ' ')
  python3 - "$ev" <<'PY' && ok "$id events: $ev" || fail "$id events: $ev"
import sys
ev = sys.argv[1].split()
order = ["EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING", "EGRESS_COMPLETE"]
finals = [e for e in ev if e in ("EGRESS_COMPLETE", "EGRESS_FAILED", "EGRESS_ABORTED")]
ranks = [order.index(e) for e in ev if e in order]
sys.exit(0 if finals == ["EGRESS_COMPLETE"] and ev[-1] == "EGRESS_COMPLETE" and
         ranks == sorted(ranks) and "EGRESS_ACTIVE" in ev else 1)
PY
done
for _ in $(seq 50); do
  [ "$(pending_count)" = 0 ] && [ "$(rcli XLEN "${prefix}jobs")" = 0 ] && break
  sleep 0.1
done
[ "$(pending_count)" = 0 ] && ok "nothing pending (XPENDING)" || fail "pending: $(pending_count)"
[ "$(rcli XLEN "${prefix}jobs")" = 0 ] && ok "every job acknowledged" ||
  fail "still in the stream: $(rcli XLEN "${prefix}jobs")"

stop_room
for id in "${jobs[@]}"; do
  n=$(identity_sessions "$work/restart.report.json" "$id")
  [ "$n" = 1 ] && ok "$id joined the room once" || fail "$id joined the room $n times"
done
finish worker_redis_restart
