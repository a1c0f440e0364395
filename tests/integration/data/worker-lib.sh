# Shared helpers of the worker_*.sh integration tests (sourced, not a test itself): a
# redis-server, the test room, `roomrec worker` processes, jobs put on the queue, and
# status reads. Everything started is killed by pid on exit (lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/record-lib.sh"
prefix=wt:

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# redis_spawn NAME PORT [redis-server args...] → redis_pid: a redis-server on 127.0.0.1:PORT
# with its data in $work/NAME (log $work/NAME.log, appended to across restarts).
redis_spawn() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$work/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$work/$name" --save "" "$@" \
    --daemonize no >>"$work/$name.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 200); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server $name did not start: $(tail -3 "$work/$name.log")"
  exit 1
}

# start_redis [redis-server args...] → rport, redis_pid (default: no persistence)
start_redis() {
  rport=$(free_port)
  if [ $# -eq 0 ]; then set -- --appendonly no; fi
  redis_spawn redis "$rport" "$@"
}
rcli() { redis-cli -p "$rport" "$@"; }

# worker_config CAPACITY_UTIL LEASE_S → $work/worker.yaml (costs: track 0.2, audio-only
# composite 0.2, room composite 0.45, participant 0.3, track composite 0.3), with
# ROOMREC_CPU_CORES=1 the capacity is CAPACITY_UTIL.
worker_config() {
  cat >"$work/worker.yaml" <<Y
api_key: $key
api_secret: $secret
ws_url: $url
redis:
  address: 127.0.0.1:$rport
key_prefix: "$prefix"
lease_seconds: $2
cpu_cost:
  room_composite_cpu_cost: 0.45
  audio_room_composite_cpu_cost: 0.2
  participant_cpu_cost: 0.3
  track_composite_cpu_cost: 0.3
  track_cpu_cost: 0.2
  max_cpu_utilization: $1
Y
}

# start_worker NAME [args...] → wpid (log $work/NAME.log); recordings go to $work/out
start_worker() {
  local name=$1
  shift
  mkdir -p "$work/out"
  ROOMREC_CPU_CORES=1 ROOMREC_LOG_LEVEL=info "$roomrec" worker --config "$work/worker.yaml" \
    --worker-id "$name" --output-dir "$work/out" "$@" \
    >"$work/$name.out" 2>"$work/$name.log" &
  wpid=$!
  pids+=("$wpid")
}

# submit_raw ID TYPE COST JOB_JSON: what `roomrec submit` writes (status hash, index,
# event, stream entry), without its validation, so hostile jobs reach the worker too.
submit_raw() {
  local id=$1 type=$2 cost=$3 job=$4 now
  now=$(date +%s%3N)
  local info="{\"egressId\":\"$id\",\"status\":\"EGRESS_STARTING\"}"
  rcli HSET "${prefix}egress:$id" info "$info" status EGRESS_STARTING final 0 room "" \
    worker "" part 0 created_at "$now" updated_at "$now" >/dev/null
  rcli ZADD "${prefix}egress" "$now" "$id" >/dev/null
  rcli XADD "${prefix}jobs" '*' egress_id "$id" job "$job" type "$type" cost "$cost" \
    submitted_at "$now" >/dev/null
}
# submit ID COST JOB_JSON: `roomrec submit` as a user runs it (validates the job first).
submit() {
  local id
  id=$(printf '%s' "$3" | "$roomrec" submit --redis "127.0.0.1:$rport" --prefix "$prefix" \
    --cost "$2" -) || { echo "roomrec submit refused job $1"; exit 1; }
  [ "$id" = "$1" ] || { echo "roomrec submit printed '$id' for $1"; exit 1; }
}
# track_job ID TRACK FILE / composite_job ID FILE AUDIO_ONLY → JSON on stdout
track_job() {
  printf '{"egress_id":"%s","track":{"room_name":"four","track_id":"%s","file":{"filepath":"%s"}}}' "$1" "$2" "$3"
}
composite_job() {
  printf '{"egress_id":"%s","room_composite":{"room_name":"four","audio_only":%s,"file_outputs":[{"filepath":"%s"}]}}' "$1" "$3" "$2"
}

status_of() { rcli HGET "${prefix}egress:$1" status; }
info_of() { rcli HGET "${prefix}egress:$1" info; }
stop_job() { "$roomrec" stop --redis "127.0.0.1:$rport" --prefix "$prefix" "$1" >/dev/null; }
# took_count ID → how many times any worker's log says it took the job
took_count() { cat "$work"/*.log 2>/dev/null | grep -c "took job $1 " || true; }

# identity_sessions REPORT ID → the number of signalling sessions the test room saw for
# identity ID (a job run twice at once would join twice under its EG_ identity)
identity_sessions() {
  jq --arg id "$2" '[.clients[] | select(.identity == $id) | .sessions | length] | add // 0' "$1"
}

# pending_count → the entries of the job stream's consumer group not yet acknowledged
pending_count() { rcli XPENDING "${prefix}jobs" "${prefix}workers" | head -1; }

# events_of ID → the statuses the events stream recorded for the job, one a line, in order
events_of() {
  rcli --json XRANGE "${prefix}events" - + 2>/dev/null |
    jq -r --arg id "$1" '.[] | .[1] as $f | [range(0; $f | length; 2) | {($f[.]): $f[. + 1]}] |
      add | select(.egress_id == $id) | .status'
}

# wait_status ID PATTERN TIMEOUT_S → 0 when the status matches (grep -E) in time
wait_status() {
  local i
  for i in $(seq $(($3 * 10))); do
    status_of "$1" | grep -Eq "$2" && return 0
    sleep 0.1
  done
  return 1
}

# decoded_secs FILE → the media duration ffprobe decodes (packets, not the header)
decoded_secs() {
  ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" 2>/dev/null | head -1
}

# check_acked WHAT TRIES — ok/fail: the jobs stream is empty (every job acknowledged and
# deleted) within TRIES × 0.1 s.
check_acked() {
  for _ in $(seq "$2"); do
    [ "$(rcli XLEN "${prefix}jobs")" = "0" ] && break
    sleep 0.1
  done
  [ "$(rcli XLEN "${prefix}jobs")" = "0" ] && ok "$1" ||
    fail "still in the stream: $(rcli XLEN "${prefix}jobs")"
}
