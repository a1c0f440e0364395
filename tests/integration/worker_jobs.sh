#!/usr/bin/env bash
# labels: c,worker
# Three workers (capacity 0.5 each: ROOMREC_CPU_CORES=1, max_cpu_utilization 0.5) and
# twelve mixed jobs (8 track egresses and 3 audio-only composites at cost 0.2, 1 room
# composite at 0.45), each stopped 5 s after it became ACTIVE: every job completes with a
# file that decodes to at least 4 s; no worker ever commits more than its capacity (its
# own log of every start); jobs beyond capacity wait and start when capacity frees up
# (some job became ACTIVE only after another had completed).
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

start_redis
start_room jobs "$scenarios/four.json"
worker_config 0.5 6
for w in w1 w2 w3; do start_worker $w; done
ids=()
n=0
for t in alice/mic bob/mic carol/mic dave/mic alice/camera bob/camera carol/camera dave/camera; do
  n=$((n + 1))
  ext=ogg; case $t in */camera) ext=webm ;; esac
  case $t in carol/camera | dave/camera) ext=mp4 ;; esac
  submit EG_j$n 0.2 "$(track_job EG_j$n $t j$n.$ext)"
  ids+=(EG_j$n)
done
for k in 9 10 11; do
  submit EG_j$k 0.2 "$(composite_job EG_j$k j$k.ogg true)"
  ids+=(EG_j$k)
done
submit EG_j12 0.45 "$(composite_job EG_j12 j12.mp4 false)"
ids+=(EG_j12)

declare -A active_at stopped done_at
first_done=""
waited=""
deadline=$((SECONDS + 240))
while [ $SECONDS -lt $deadline ]; do
  left=0
  for id in "${ids[@]}"; do
    [ -n "${done_at[$id]:-}" ] && continue
    left=$((left + 1))
    st=$(status_of "$id")
    case $st in
      EGRESS_ACTIVE)
        if [ -z "${active_at[$id]:-}" ]; then
          active_at[$id]=$SECONDS
          [ -n "$first_done" ] && waited=yes
        fi
        if [ $((SECONDS - active_at[$id])) -ge 5 ] && [ -z "${stopped[$id]:-}" ]; then
          stop_job "$id"
          stopped[$id]=1
        fi ;;
      EGRESS_COMPLETE | EGRESS_FAILED | EGRESS_ABORTED | EGRESS_LIMIT_REACHED)
        done_at[$id]=$SECONDS
        first_done=${first_done:-$id} ;;
    esac
  done
  [ $left -eq 0 ] && break
  sleep 0.5
done
for id in "${ids[@]}"; do
  info_of "$id" >"$work/$id.json"
  if [ "$(status_of "$id")" != EGRESS_COMPLETE ]; then
    fail "$id: $(status_of "$id"): $(jq -r .error "$work/$id.json" 2>/dev/null)"
    continue
  fi
  loc=$(jq -r '.fileResults[0].location' "$work/$id.json")
  d=$(decoded_secs "$loc")
  python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 4 else 1)" &&
    ok "$id COMPLETE, $(basename "$loc") decodes: $d s" || fail "$id: $loc decodes '$d'"
done
[ -n "$waited" ] && ok "jobs waited for capacity and started when it freed up" ||
  fail "no job started after another completed"
over=$(cat "$work"/w?.log | sed -n 's/.*committed \([0-9.]*\) of \([0-9.]*\).*/\1 \2/p' |
  awk '$1 > $2 + 1e-9' | wc -l)
starts=$(cat "$work"/w?.log | grep -c 'starts; committed' || true)
[ "$starts" -eq 12 ] && ok "12 starts logged" || fail "$starts starts logged"
[ "$over" -eq 0 ] && ok "no worker committed more than its capacity" || fail "$over starts over capacity"
for w in w1 w2 w3; do
  c=$(grep -c 'starts; committed' "$work/$w.log" || true)
  echo "  $w ran $c job(s)"
done
[ "$(rcli XLEN "${prefix}jobs")" = 0 ] && ok "every job acknowledged" || fail "left: $(rcli XLEN "${prefix}jobs")"
finish worker_jobs
