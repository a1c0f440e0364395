#!/usr/bin/env bash
# The main job, end to end on this machine: installs what is needed, builds roomrec and
# the test room, starts its own Redis and a LiveKit-protocol test room with three
# synthetic participants (VP8+Opus, H264+Opus, audio only), and has roomrec join it as
# a hidden recorder: `roomrec record` writes a grid composite (720p30 H.264 + AAC, MP4)
# of the room to recordings/ (or $ROOMREC_DEMO_OUT) and the script says where it is.
# Usage: scripts/demo.sh [SECONDS]   (default 20). Everything it starts, it stops.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
secs=${1:-20}

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build roomrec testroom >/dev/null

work=$(mktemp -d /tmp/roomrec-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Redis (the job queue lands with the worker; the demo already runs its own).
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "demo: redis on 127.0.0.1:$redis_port ($(redis-cli -p "$redis_port" ping))"

key=demokey
secret=demo-secret-0123456789abcdef012345
: >"$work/room.out" # exists before the job's own redirection (a race under load)
build/testroom/testroom -listen 127.0.0.1:0 -api-key $key -api-secret $secret \
  -scenario tests/testroom/scenarios/three.json -report "$work/room-report.json" \
  >"$work/room.out" 2>"$work/room.log" &
room_pid=$!
pids+=($room_pid)
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^testroom listening on //p' "$work/room.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "demo: the test room did not start"; cat "$work/room.log"; exit 1; }
echo "demo: test room 'demo' at $url"
out_dir=${ROOMREC_DEMO_OUT:-$src/recordings}
mkdir -p "$out_dir"
echo "demo: roomrec record (room composite, grid, 720p30 H.264 + AAC) for $secs s..."
set +e
build/worker/roomrec record --url "$url" --api-key $key --api-secret $secret --room demo \
  --layout grid --duration "$secs" \
  --output "$out_dir/{room_name}-{time}.mp4" --info-file "$work/egress-info.json"
rc=$?
set -e
curl -s -X POST "$url/debug/shutdown" >/dev/null || true
wait "$room_pid" 2>/dev/null || true
echo
file=$(jq -r '.fileResults[0].location // .fileResults[0].filename // empty' \
  "$work/egress-info.json" 2>/dev/null || true)
if [ "$rc" -eq 0 ] && [ -n "$file" ] && [ -f "$file" ]; then
  echo "demo: recorded $file"
  ffprobe -v error -show_entries format=duration,size:stream=codec_name,width,height \
    -of compact "$file" | sed 's/^/demo:   /'
  echo "demo: play it with: ffplay '$file'"
else
  echo "demo: roomrec record exited with $rc (EgressInfo: $work/egress-info.json)"
fi
echo "demo: the test room's view of the recorder is in $work/room-report.json"
exit $rc
