#!/usr/bin/env bash
# Room composite cost: `roomrec record` (four participants, grid, H264_720P_30) against a
# plain gst-launch-1.0 pipeline doing the same media work on the same streams.
#  1. The test room plays tests/testroom/scenarios/four.json (two VP8 and two H.264
#     640x360@30 cameras, four Opus mics). Each of the 8 tracks is captured to a file with
#     `roomrec record --track` (no transcoding).
#  2. roomrec record --layout grid --preset H264_720P_30 --duration N (measured alone:
#     CPU user+sys and peak RSS of that process only, not of the test room).
#  3. gst-launch-1.0 with the captured files: demux → the decoders with their defaults
#     (vp8dec, avdec_h264, opusdec plc) → clocksync (real time) → compositor 2x2
#     1280x720@30 → x264enc as pipeline/composite.c sets it (bitrate 3000, key-int-max
#     120, speed-preset veryfast, tune zerolatency, main profile) → h264parse, and
#     audiomixer 48 kHz → voaacenc 128 kbps 44.1 kHz → mp4mux (250 ms fragments). The test
#     room keeps running so both face the same background load.
#  Steps 2 and 3 alternate for BENCH_ROUNDS rounds (default 3): on two cores shared with
#  the test room, one run of either varies by ±10 %; the medians are compared.
# Prints CPU seconds per media second and peak RSS of both per round, the medians and
# their ratios (targets: CPU ≤ 1.15×, RSS ≤ 1.25× of the plain pipeline). Env:
# BENCH_SECONDS (default 30), BENCH_ROUNDS (default 3), BENCH_KEEP=1 keeps the files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need "$roomrec" "$testroom" "$analyze"
secs=${BENCH_SECONDS:-30}
rounds=${BENCH_ROUNDS:-3}

start_room four "$scenarios/four.json"
sleep 1

# ---- 1. capture the eight tracks ----
mkdir -p "$work/cap"
cap_pids=()
for id in alice bob carol dave; do
  for tr in camera mic; do
    # shellcheck disable=SC2046
    "$roomrec" record $(rec_args four) --track "$id/$tr" --output "$work/cap/$id-$tr.mp4" \
      --duration $((secs + 3)) --json >"$work/cap/$id-$tr.json" 2>"$work/cap/$id-$tr.log" &
    cap_pids+=($!)
    pids+=($!)
  done
done
for p in "${cap_pids[@]}"; do wait "$p" || { echo "a track capture failed" >&2; exit 1; }; done

# ---- 2. roomrec record, measured alone ----
run_roomrec() { # run_roomrec ROUND
  # shellcheck disable=SC2046
  python3 "$measure" --stdout "$work/rr-$1.json" --stderr "$work/rr-$1.log" -- \
    "$roomrec" record $(rec_args four) --layout grid --preset H264_720P_30 \
    --output "$work/roomrec-$1.mp4" --duration "$secs" --json >"$work/rr-$1.cost.json"
  jq -e '.exit == 0' "$work/rr-$1.cost.json" >/dev/null ||
    { echo "roomrec record failed: $(tail -3 "$work/rr-$1.log")" >&2; exit 1; }
  "$analyze" "$work/roomrec-$1.mp4" >"$work/rr-$1.an.json"
}

# ---- 3. the plain gst-launch pipeline on the captured files ----
branches=()
pads=()
v=0
for id in alice bob carol dave; do
  f=$(jq -r '.fileResults[0].location' "$work/cap/$id-camera.json")
  x=$(( (v % 2) * 640 )) y=$(( (v / 2) * 360 ))
  case "$f" in
  *.webm | *.mkv) dec="matroskademux ! vp8dec" ;;
  *.mp4) dec="qtdemux ! h264parse ! avdec_h264 output-corrupt=false" ;;
  *) echo "unexpected capture $f" >&2; exit 1 ;;
  esac
  branches+=("filesrc location=$f ! $dec ! clocksync ! queue ! comp.sink_$v")
  pads+=("sink_$v::xpos=$x" "sink_$v::ypos=$y" "sink_$v::width=640" "sink_$v::height=360")
  f=$(jq -r '.fileResults[0].location' "$work/cap/$id-mic.json")
  branches+=("filesrc location=$f ! oggdemux ! opusdec plc=true ! clocksync ! audioconvert ! audioresample ! queue ! mix.")
  v=$((v + 1))
done
desc="compositor name=comp background=black ${pads[*]} \
 ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1,pixel-aspect-ratio=1/1 \
 ! queue ! x264enc bitrate=3000 key-int-max=120 speed-preset=veryfast tune=zerolatency \
 ! video/x-h264,profile=main ! h264parse ! mp4mux name=mux fragment-duration=250 \
 ! filesink location=$work/plain.mp4 \
 audiomixer name=mix ! audio/x-raw,format=S16LE,layout=interleaved,channels=2,rate=48000 \
 ! queue ! audioconvert ! audioresample ! audio/x-raw,rate=44100,channels=2 \
 ! voaacenc bitrate=128000 ! mux. ${branches[*]}"
run_plain() { # run_plain ROUND
  # About one run in three, mp4mux stops this pipeline at its start with "Buffer has no
  # PTS" (the first encoded frame; seen since Nov 2026, not with more debug output on): a
  # round that fails that way is run once more, and says so.
  local try
  for try in 1 2; do
    # shellcheck disable=SC2086
    python3 "$measure" --stdout "$work/plain-$1.out" --stderr "$work/plain-$1.err" -- \
      gst-launch-1.0 -e ${desc//plain.mp4/plain-$1.mp4} >"$work/plain-$1.cost.json"
    jq -e '.exit == 0' "$work/plain-$1.cost.json" >/dev/null && break
    if [ "$try" = 1 ] && grep -q "Buffer has no PTS" "$work/plain-$1.err"; then
      echo "plain round $1: gst-launch stopped by mp4mux (Buffer has no PTS); running it again"
      continue
    fi
    echo "gst-launch failed: $(tail -3 "$work/plain-$1.err")" >&2
    exit 1
  done
  "$analyze" "$work/plain-$1.mp4" >"$work/plain-$1.an.json"
}

for r in $(seq "$rounds"); do
  run_roomrec "$r"
  run_plain "$r"
done
stop_room

python3 - "$work" "$rounds" <<'EOF'
import json, statistics, sys
w, rounds = sys.argv[1], int(sys.argv[2])
def load(kind, r):
    c = json.load(open(f"{w}/{kind}-{r}.cost.json"))
    a = json.load(open(f"{w}/{kind}-{r}.an.json"))
    s = a["duration_s"]
    return {"media_s": s, "frames": a["video"]["frames"], "cpu_s": c["cpu_s"],
            "cps": c["cpu_s"] / s, "rss": c["maxrss_kb"] / 1024}
rows = {k: [load(k, r) for r in range(1, rounds + 1)] for k in ("rr", "plain")}
print("\n== room composite, 4 participants, 1280x720@30 H.264 3000 kbps + AAC")
print(f"{'':26}{'media s':>9}{'frames':>8}{'CPU s':>9}{'CPU s/media s':>15}{'% core':>8}{'peak RSS MB':>13}")
for r in range(rounds):
    for k, name in (("rr", "roomrec record"), ("plain", "gst-launch (plain)")):
        x = rows[k][r]
        print(f"{name + f' #{r + 1}':26}{x['media_s']:9.1f}{x['frames']:8d}{x['cpu_s']:9.2f}"
              f"{x['cps']:15.3f}{100 * x['cps']:8.1f}{x['rss']:13.1f}")
med = {k: {f: statistics.median(x[f] for x in rows[k]) for f in ("cps", "rss", "media_s")}
       for k in rows}
rc, pc = med["rr"]["cps"], med["plain"]["cps"]
rm, pm = med["rr"]["rss"], med["plain"]["rss"]
per_round = [round(rows["rr"][r]["cps"] / rows["plain"][r]["cps"], 3) for r in range(rounds)]
print(f"medians: roomrec {rc:.3f} CPU s/media s, {rm:.1f} MB; plain {pc:.3f}, {pm:.1f} MB")
print(f"ratio CPU {rc / pc:.2f}x (target <= 1.15x; per round {per_round}), "
      f"RSS {rm / pm:.2f}x (target <= 1.25x)")
print("RESULT " + json.dumps({"bench": "composite", "rounds": rounds, "media_s": med["rr"]["media_s"],
      "roomrec_cpu_per_media_s": round(rc, 4), "plain_cpu_per_media_s": round(pc, 4),
      "cpu_ratio": round(rc / pc, 3), "cpu_ratio_per_round": per_round,
      "roomrec_peak_rss_mb": round(rm, 1), "plain_peak_rss_mb": round(pm, 1),
      "rss_ratio": round(rm / pm, 3)}))
EOF
