#!/usr/bin/env bash
# Cost at scale (issue 11): many track egresses of one room through `roomrec worker`,
# beside today's one `roomrec record --track` process per track, in the same run.
#
# The test room publishes BENCH_VIDEO H.264 tracks (BENCH_VIDEO_KBPS, BENCH_VIDEO_SIZE)
# and BENCH_AUDIO Opus tracks (participants v00.. with a "camera", a00.. with a "mic").
# Rounds, back to back against the same room:
#   worker-video: a fresh `roomrec worker` gets BENCH_VIDEO track egresses (roomrec
#                 submit), all ACTIVE, then BENCH_SECONDS of steady state are measured;
#   worker-audio: the same with the BENCH_AUDIO audio tracks;
#   worker-mixed: the same with all of them at once (the issue's "50 concurrent ...
#                 mixed"): total CPU against the budget videos x 1 % + audios x 0.4 %;
#   plain:        BENCH_PLAIN video and BENCH_PLAIN audio `roomrec record --track`
#                 processes, measured one by one over the same length.
# Measured from /proc (bench/proctree.py): CPU of the worker's process tree (supervisor
# and children) per media second, per track; the peak PSS and RSS of the tree per track;
# the room's own CPU separately. Every round stops its egresses and counts the files
# that end COMPLETE. Prints numbers, never fails on them.
# Env: RR_BUILD_DIR, BENCH_VIDEO (25), BENCH_AUDIO (25), BENCH_PLAIN (5; 0: no plain
# round), BENCH_SECONDS (20), BENCH_VIDEO_KBPS (1500), BENCH_VIDEO_SIZE (320x180),
# BENCH_WORKER_ROUNDS (which worker rounds, "video audio mixed"), BENCH_WORKER_ARGS
# (extra `roomrec worker` flags), BENCH_KEEP=1.
# A/B in one run, against the same room: BENCH_COMPARE=DIR (another build directory)
# runs each worker round first with DIR/worker/roomrec ("before"), then with this
# build's, BENCH_REPEAT (default 3 with BENCH_COMPARE, else 1) times over; medians
# of each are printed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need "$testroom" "$roomrec"
command -v redis-server >/dev/null || { echo "worker_tracks: redis-server is not installed" >&2; exit 1; }
proctree=$src/bench/proctree.py
nv=${BENCH_VIDEO:-25}
na=${BENCH_AUDIO:-25}
nplain=${BENCH_PLAIN:-5}
wrounds=${BENCH_WORKER_ROUNDS:-video audio mixed}
compare=${BENCH_COMPARE:-}
if [ -n "$compare" ]; then
  need "$compare/worker/roomrec"
  repeat=${BENCH_REPEAT:-3}
else
  repeat=${BENCH_REPEAT:-1}
fi
secs=${BENCH_SECONDS:-20}
vkbps=${BENCH_VIDEO_KBPS:-1500}
vsize=${BENCH_VIDEO_SIZE:-320x180}
room=scale
prefix=bench:

# The scenario: one participant per track.
python3 - "$work/scenario.json" "$nv" "$na" "$vkbps" "${vsize%x*}" "${vsize#*x}" <<'EOF'
import json, sys
path, nv, na, kbps, w, h = sys.argv[1], *map(int, sys.argv[2:])
ps = []
for i in range(nv):
    ps.append({"identity": f"v{i:02d}", "tracks": [{"name": "camera", "kind": "video",
               "codec": "H264", "width": w, "height": h, "fps": 30, "bitrate": kbps,
               "keyframe_interval": 2}]})
for i in range(na):
    ps.append({"identity": f"a{i:02d}", "tracks": [{"name": "mic", "kind": "audio",
               "codec": "opus", "tone_hz": 200 + 20 * i}]})
json.dump({"room": "scale", "participants": ps}, open(path, "w"), indent=1)
EOF

rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work/redis" --save "" --appendonly no \
  >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
rcli() { redis-cli -p "$rport" "$@"; }

start_room room "$work/scenario.json"
echo "room: $nv x H.264 $vsize ${vkbps} kbps + $na x Opus; warming up"
sleep 5
room_only=$(python3 "$proctree" 5 "$room_pid")
echo "room alone (publishing, nobody subscribed): $(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); t=list(r["trees"].values())[0]; print("%.0f%% of a core" % (100*t["cpu_s"]/r["wall_s"]))' "$room_only")"

cat >"$work/worker.yaml" <<Y
api_key: $key
api_secret: $secret
ws_url: $url
redis:
  address: 127.0.0.1:$rport
key_prefix: "$prefix"
lease_seconds: 10
Y

status_of() { rcli HGET "${prefix}egress:$1" status; }
# wait_all PATTERN TIMEOUT IDS... → 0 when every status matches
wait_all() {
  local pat=$1 t=$2 i id ok
  shift 2
  for i in $(seq "$t"); do
    ok=1
    for id in "$@"; do status_of "$id" | grep -Eq "$pat" || { ok=0; break; }; done
    [ $ok = 1 ] && return 0
    sleep 1
  done
  return 1
}

# dir_bytes DIR → the bytes of the files in DIR (what the recordings have written)
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# worker_round NAME NVIDEO NAUDIO [ROOMREC]: one fresh worker (ROOMREC worker, default
# this build's) records the first NVIDEO video and NAUDIO audio tracks at once;
# measured into $work/NAME.json, COMPLETE count in $work/NAME.complete
worker_round() {
  local name=$1 nvid=$2 naud=$3 wbin=${4:-$roomrec} ids=() i id track wpid n=$(($2 + $3)) what
  [ "$n" -gt 0 ] || return 0
  what="$nvid video + $naud audio"
  [ "$naud" = 0 ] && what="$nvid video"
  [ "$nvid" = 0 ] && what="$naud audio"
  mkdir -p "$work/$name"
  printf '%s %s %s %s\n' "$name" "$nvid" "$naud" "$([ "$wbin" = "$roomrec" ] && echo after || echo before)" \
    >>"$work/rounds"
  ROOMREC_CPU_CORES=64 "$wbin" worker --config "$work/worker.yaml" --worker-id "$name" \
    --output-dir "$work/$name" ${BENCH_WORKER_ARGS:-} >"$work/$name.out" 2>"$work/$name.log" &
  wpid=$!
  pids+=("$wpid")
  for i in $(seq 0 $((n - 1))); do
    if [ "$i" -lt "$nvid" ]; then track=$(printf 'v%02d/camera' "$i"); else track=$(printf 'a%02d/mic' $((i - nvid))); fi
    id=$(printf 'EG_%s_%02d' "$name" "$i")
    ids+=("$id")
    printf '{"egress_id":"%s","track":{"room_name":"%s","track_id":"%s","file":{"filepath":"%s.mp4"}}}' \
      "$id" "$room" "$track" "$id" |
      "$roomrec" submit --redis "127.0.0.1:$rport" --prefix "$prefix" - >/dev/null ||
      { echo "$name: roomrec submit failed"; return 1; }
  done
  local t0=$SECONDS
  if ! wait_all '^EGRESS_ACTIVE$' 180 "${ids[@]}"; then
    echo "$name: not all ACTIVE after 180 s:"
    for id in "${ids[@]}"; do printf '%s ' "$(status_of "$id")"; done
    echo
    tail -5 "$work/$name.log"
  fi
  echo "$name: $what egresses ACTIVE after $((SECONDS - t0)) s; settling 5 s, measuring $secs s"
  sleep 5
  cut -d' ' -f1 /proc/loadavg >"$work/$name.load"
  local b0 b1
  b0=$(dir_bytes "$work/$name")
  python3 "$proctree" "$secs" "$wpid" "$room_pid" >"$work/$name.json"
  b1=$(dir_bytes "$work/$name")
  echo $((b1 - b0)) >"$work/$name.bytes"
  for id in "${ids[@]}"; do "$roomrec" stop --redis "127.0.0.1:$rport" --prefix "$prefix" "$id" >/dev/null; done
  wait_all '^EGRESS_(COMPLETE|FAILED|ABORTED|LIMIT_REACHED)$' 60 "${ids[@]}"
  local done=0
  for id in "${ids[@]}"; do [ "$(status_of "$id")" = EGRESS_COMPLETE ] && done=$((done + 1)); done
  echo "$name: $done of $n COMPLETE"
  echo "$done" >"$work/$name.complete"
  kill -TERM "$wpid" 2>/dev/null
  wait "$wpid" 2>/dev/null
}

# plain_round: BENCH_PLAIN video and audio `roomrec record --track` processes
plain_round() {
  local i p ppids=() kinds=()
  mkdir -p "$work/plain"
  for i in $(seq 0 $((nplain - 1))); do
    for k in video audio; do
      if [ $k = video ]; then t=$(printf 'v%02d/camera' "$i"); else t=$(printf 'a%02d/mic' "$i"); fi
      [ $k = video ] && [ "$i" -ge "$nv" ] && continue
      [ $k = audio ] && [ "$i" -ge "$na" ] && continue
      # shellcheck disable=SC2046
      "$roomrec" record $(rec_args "$room") --track "$t" -o "$work/plain/${t%/*}.mp4" \
        >"$work/plain/${t%/*}.out" 2>"$work/plain/${t%/*}.log" &
      ppids+=($!)
      kinds+=($k)
      pids+=($!)
    done
  done
  local t0=$SECONDS
  for i in $(seq 180); do
    n=$(find "$work/plain" \( -name '*.part' -o -name '*.mp4' -o -name '*.ogg' \) -size +0 | wc -l)
    [ "$n" -ge "${#ppids[@]}" ] && break
    sleep 1
  done
  echo "plain: ${#ppids[@]} roomrec record --track processes writing after $((SECONDS - t0)) s; settling 5 s, measuring $secs s"
  sleep 5
  cut -d' ' -f1 /proc/loadavg >"$work/plain.load"
  python3 "$proctree" "$secs" "${ppids[@]}" "$room_pid" >"$work/plain.json"
  printf '%s\n' "${kinds[@]}" >"$work/plain.kinds"
  printf '%s\n' "${ppids[@]}" >"$work/plain.pids"
  for p in "${ppids[@]}"; do kill -INT "$p" 2>/dev/null; done
  local done=0
  for p in "${ppids[@]}"; do wait "$p" && done=$((done + 1)); done
  echo "plain: $done of ${#ppids[@]} exited 0 (COMPLETE)"
  echo "$done" >"$work/plain.complete"
}

: >"$work/rounds"
for rep in $(seq "$repeat"); do
  suffix=""
  [ "$repeat" -gt 1 ] && suffix=".$rep"
  for r in $wrounds; do
    case $r in
    video) args=("$nv" 0) ;;
    audio) args=(0 "$na") ;;
    mixed) args=("$nv" "$na") ;;
    *) echo "worker_tracks: unknown round $r in BENCH_WORKER_ROUNDS" >&2; continue ;;
    esac
    if [ "$r" = mixed ] && { [ "$nv" -eq 0 ] || [ "$na" -eq 0 ]; }; then continue; fi
    [ -n "$compare" ] && worker_round "worker-$r-before$suffix" "${args[@]}" "$compare/worker/roomrec"
    worker_round "worker-$r$suffix" "${args[@]}"
  done
done
[ "$nplain" -gt 0 ] && plain_round

python3 - "$work" "$nv" "$na" "$room_pid" "$vkbps" "$vsize" <<'EOF'
import json, os, sys
work, nv, na, room, kbps, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
def load(name):
    p = os.path.join(work, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
def loadavg(name):
    p = os.path.join(work, name + ".load")
    return float(open(p).read()) if os.path.exists(p) else -1.0
def written(name):
    p = os.path.join(work, name + ".bytes")
    return int(open(p).read()) if os.path.exists(p) else 0
def complete(name):
    p = os.path.join(work, name + ".complete")
    return int(open(p).read()) if os.path.exists(p) else 0
res = {"bench": "worker_tracks", "video_tracks": nv, "audio_tracks": na,
       "video_kbps": int(kbps), "video_size": size}
print()
print(f"{'':24} {'CPU %/track':>12} {'PSS MB/track':>13} {'RSS MB/track':>13} {'procs':>6} {'room CPU %':>11} "
      f"{'load':>5} {'rec kbit/s':>10} {'CPU ms/MB':>9}")
def worker_row(name, nvid, naud):
    r = load(name)
    if not r:
        return None
    t, w = r["trees"], r["wall_s"]
    me = [v for k, v in t.items() if k != room][0]
    n = nvid + naud
    cpu = 100 * me["cpu_s"] / w
    budget = nvid * 1.0 + naud * 0.4
    return {"cpu_percent": round(cpu, 2), "cpu_percent_per_track": round(cpu / n, 3),
            "budget_percent": round(budget, 2), "ratio": round(cpu / budget, 3),
            "pss_mb_per_track": round(me["peak_pss_kb"] / 1024 / n, 2),
            "rss_mb_per_track": round(me["peak_rss_kb"] / 1024 / n, 2), "procs": me["procs"],
            "room_cpu_percent": round(100 * t[room]["cpu_s"] / w, 1),
            "complete": complete(name), "tracks": n, "video": nvid, "audio": naud,
            "load_average": loadavg(name),
            # what the room managed to send, as recorded: CPU per recorded MB compares
            # rounds in which the room (short of CPU) sent at different rates
            "recorded_kbit_s": round(8 * written(name) / w / 1000, 1),
            "cpu_ms_per_mb": round(1000 * me["cpu_s"] / max(written(name) / 1e6, 1e-9), 1)}
rounds = []
for line in open(os.path.join(work, "rounds")):
    name, nvid, naud, build = line.split()
    row = worker_row(name, int(nvid), int(naud))
    if row is None:
        continue
    kind = "mixed" if int(nvid) and int(naud) else ("video" if int(nvid) else "audio")
    row.update(name=name, kind=kind, build=build)
    rounds.append(row)
    label = (f"worker, {nvid}v + {naud}a mixed" if kind == "mixed" else
             f"worker, {row['tracks']:2d} {kind:5} tracks")
    if any(x["build"] == "before" for x in rounds) or build == "before":
        label = f"{label[8:]} {build}"
    print(f"{label:24} {row['cpu_percent_per_track']:12.2f} {row['pss_mb_per_track']:13.1f} "
          f"{row['rss_mb_per_track']:13.1f} {row['procs']:6d} {row['room_cpu_percent']:11.0f} "
          f"{row['load_average']:5.1f} {row['recorded_kbit_s']:10.0f} {row['cpu_ms_per_mb']:9.0f}" +
          (f"   {row['cpu_percent']:.1f}% = {row['ratio']:.2f}x budget" if kind == "mixed" else ""))
def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
for kind in ("video", "audio", "mixed"):
    for build in ("before", "after"):
        sel = [x for x in rounds if x["kind"] == kind and x["build"] == build]
        if not sel:
            continue
        key = "worker_" + kind + ("_before" if build == "before" else "")
        m = dict(sel[-1])
        for f in ("cpu_percent", "cpu_percent_per_track", "ratio", "pss_mb_per_track",
                  "rss_mb_per_track", "room_cpu_percent", "load_average", "recorded_kbit_s",
                  "cpu_ms_per_mb"):
            m[f] = round(median([x[f] for x in sel]), 3)
        m["rounds"] = len(sel)
        m["complete"] = sum(x["complete"] for x in sel)
        m["tracks"] = sum(x["tracks"] for x in sel)
        for f in ("name", "kind", "build", "video", "audio"):
            m.pop(f, None)
        res[key] = m
        if len(sel) > 1:
            print(f"median of {len(sel)} {kind} rounds, {build}: "
                  + " / ".join(f"{x['cpu_percent_per_track']:.2f}" for x in sel)
                  + f" -> {m['cpu_percent_per_track']:.2f} % per track"
                  + (f", {m['ratio']:.2f}x budget" if kind == "mixed" else "")
                  + "; CPU ms per recorded MB " + " / ".join(f"{x['cpu_ms_per_mb']:.0f}" for x in sel)
                  + f" -> {m['cpu_ms_per_mb']:.0f}"
                  + f" (load " + " / ".join(f"{x['load_average']:.1f}" for x in sel) + ")")
r = load("plain")
if r:
    kinds = open(os.path.join(work, "plain.kinds")).read().split()
    ps = open(os.path.join(work, "plain.pids")).read().split()
    w = r["wall_s"]
    rc = 100 * r["trees"][room]["cpu_s"] / w
    for kind in ("video", "audio"):
        sel = [r["trees"][p] for p, k in zip(ps, kinds) if k == kind]
        if not sel:
            continue
        cpu = sum(100 * x["cpu_s"] / w for x in sel) / len(sel)
        pss = sum(x["peak_pss_kb"] for x in sel) / 1024 / len(sel)
        rss = sum(x["peak_rss_kb"] for x in sel) / 1024 / len(sel)
        print(f"plain record, {len(sel):2d} {kind:5}   {cpu:12.2f} {pss:13.1f} {rss:13.1f} {1:6d} {rc:11.0f} {loadavg('plain'):5.1f}")
        res[f"plain_{kind}"] = {"cpu_percent_per_track": round(cpu, 3), "pss_mb_per_track": round(pss, 2),
                                "rss_mb_per_track": round(rss, 2), "room_cpu_percent": round(rc, 1),
                                "tracks": len(sel), "load_average": loadavg("plain")}
    res["plain_complete"] = complete("plain")
print("targets: video <= 1% of a core, audio <= 0.4%, <= 8 MB per track (PSS)")
if "worker_mixed" in res:
    m = res["worker_mixed"]
    print(f"mixed round{'s (median)' if m['rounds'] > 1 else ''}: {nv} video + {na} audio egresses at once "
          f"use {m['cpu_percent']:.1f}% of a core, budget {nv} x 1% + {na} x 0.4% = "
          f"{m['budget_percent']:.1f}%: {m['ratio']:.2f}x the budget "
          f"({'within' if m['ratio'] <= 1 else 'OVER'}), {m['pss_mb_per_track']:.1f} MB PSS per track; "
          f"{m['complete']} of {m['tracks']} COMPLETE")
print("RESULT " + json.dumps(res))
EOF
stop_room
