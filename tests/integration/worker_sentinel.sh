#!/usr/bin/env bash
# labels: c,worker
# `roomrec worker` with Redis Sentinel: a master, a replica (replicaof) and one sentinel
# (quorum 1, down-after 1 s); two workers configured with redis.sentinel_master_name and
# redis.sentinel_addresses only (no address). Two track egresses run; the master is
# killed (-9); the sentinel promotes the replica, the workers follow it (their logs name
# the new address), the running jobs go on; two jobs submitted after the failover to the
# master the sentinel names are taken and complete. Every job ends COMPLETE as part 1,
# taken once, with a decodable file; nothing is left pending on the new master.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

lease=3
mport=$(free_port)
redis_spawn master "$mport" --appendonly no
master_pid=$redis_pid
rep=$(free_port)
redis_spawn replica "$rep" --appendonly no --replicaof 127.0.0.1 "$mport"
for _ in $(seq 300); do
  redis-cli -p "$rep" INFO replication | grep -q 'master_link_status:up' && break
  sleep 0.1
done
redis-cli -p "$rep" INFO replication | grep -q 'master_link_status:up' && ok "the replica is in sync" ||
  fail "the replica did not sync"

sport=$(free_port)
mkdir -p "$work/sentinel"
cat >"$work/sentinel/sentinel.conf" <<C
port $sport
bind 127.0.0.1
dir $work/sentinel
sentinel monitor mymaster 127.0.0.1 $mport 1
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 3000
C
redis-server "$work/sentinel/sentinel.conf" --sentinel >"$work/sentinel.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  redis-cli -p "$sport" SENTINEL replicas mymaster 2>/dev/null | grep -q "$rep" && break
  sleep 0.1
done
redis-cli -p "$sport" SENTINEL replicas mymaster | grep -q "$rep" && ok "the sentinel knows the replica" ||
  fail "the sentinel does not know the replica: $(tail -3 "$work/sentinel.log")"
master_port() { redis-cli -p "$sport" SENTINEL get-master-addr-by-name mymaster | sed -n 2p; }

rport=$mport
start_room sentinel "$scenarios/four.json"
worker_config 0.5 $lease
python3 - "$work/worker.yaml" "$sport" <<'PY'
import sys
path, sport = sys.argv[1], sys.argv[2]
text = open(path).read()
old = next(l for l in text.splitlines() if l.startswith("  address: "))
text = text.replace(old, "  sentinel_master_name: mymaster\n  sentinel_addresses:\n"
                    f"    - 127.0.0.1:{sport}")
open(path, "w").write(text)
PY
start_worker w1
start_worker w2

submit EG_snA 0.2 "$(track_job EG_snA alice/mic sn-a.ogg)"
submit EG_snB 0.2 "$(track_job EG_snB bob/mic sn-b.ogg)"
for id in EG_snA EG_snB; do
  wait_status "$id" EGRESS_ACTIVE 60 && ok "$id ACTIVE through the sentinel's master" ||
    fail "$id not ACTIVE: $(status_of "$id")"
done
[ "$(rcli WAIT 1 5000)" = 1 ] && ok "the replica has everything" || fail "replica not caught up"
sleep 2

kill -9 "$master_pid"
wait "$master_pid" 2>/dev/null || true
ok "master killed"
for _ in $(seq 600); do
  [ "$(master_port)" = "$rep" ] && break
  sleep 0.1
done
[ "$(master_port)" = "$rep" ] && ok "the sentinel promoted the replica" ||
  fail "no failover: the sentinel names $(master_port)"
rport=$rep
for w in w1 w2; do
  for _ in $(seq 300); do
    grep -q "Redis reachable again at 127.0.0.1:$rep" "$work/$w.log" && break
    sleep 0.1
  done
  grep -q "Redis reachable again at 127.0.0.1:$rep" "$work/$w.log" && ok "$w follows the promoted replica" ||
    fail "$w did not reach the new master: $(grep -i redis "$work/$w.log" | tail -3)"
done

# New jobs, to the master the sentinel names now.
rport=$(master_port)
submit EG_snC 0.2 "$(track_job EG_snC carol/mic sn-c.ogg)"
submit EG_snD 0.2 "$(track_job EG_snD alice/camera sn-d.webm)"
for id in EG_snC EG_snD; do
  wait_status "$id" EGRESS_ACTIVE 60 && ok "$id (after the failover) ACTIVE on $(rcli HGET "${prefix}egress:$id" worker)" ||
    fail "$id not ACTIVE: $(status_of "$id")"
done
for id in EG_snA EG_snB; do
  status_of "$id" | grep -q EGRESS_ACTIVE && ok "$id still ACTIVE after the failover" ||
    fail "$id after the failover: $(status_of "$id")"
done
sleep 3
jobs=(EG_snA EG_snB EG_snC EG_snD)
for id in "${jobs[@]}"; do stop_job "$id"; done
for id in "${jobs[@]}"; do
  wait_status "$id" EGRESS_COMPLETE 60 && ok "$id COMPLETE" || fail "$id not COMPLETE: $(status_of "$id")"
  [ "$(took_count "$id")" = 1 ] && ok "$id taken once" || fail "$id taken $(took_count "$id") times"
  [ "$(rcli HGET "${prefix}egress:$id" part)" = 1 ] && ok "$id part 1" ||
    fail "$id part $(rcli HGET "${prefix}egress:$id" part)"
done
for f in sn-a.ogg:7 sn-b.ogg:7 sn-c.ogg:2.5 sn-d.webm:2.5; do
  d=$(decoded_secs "$work/out/${f%%:*}")
  python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= ${f##*:} else 1)" &&
    ok "${f%%:*} decodes: $d s" || fail "${f%%:*}: decoded '$d' s (want >= ${f##*:})"
done
for _ in $(seq 50); do
  [ "$(pending_count)" = 0 ] && [ "$(rcli XLEN "${prefix}jobs")" = 0 ] && break
  sleep 0.1
done
[ "$(pending_count)" = 0 ] && [ "$(rcli XLEN "${prefix}jobs")" = 0 ] &&
  ok "every job acknowledged on the new master" ||
  fail "pending $(pending_count), stream $(rcli XLEN "${prefix}jobs")"
finish worker_sentinel
