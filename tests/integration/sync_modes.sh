#!/usr/bin/env bash
# labels: record,timing,c
# Lip sync and frame exactness of composites and participant egress against the test
# room's timing modes (issue 13), each a short recording of tests/testroom/scenarios/
# sync.json: alice (VP8, 500 Hz) from the start, bob (H264, 1 kHz) joining at 4 s, both
# 640x360@30 flashing white and beeping for 100 ms every 2 s, their frames numbered by a
# bar code. Modes (the room's flags):
#   clean        capture-time sender reports every second
#   sr_jitter    sender reports at the last packet's send time ± 30 ms
#   sr_5s        sender reports every 5 s
#   no_sr        no sender reports at all
#   send_jitter  0-40 ms per-packet delay plus a 100-200 ms hold and burst about every 2 s
#   fast_clock   publishers' capture clocks 0.1 % fast
# Per mode: a room composite (grid, 1280x720@30, 14 s) and bob's participant egress
# (640x360@30), then rr-analyze --sync. Asserts per participant and file: ≥ 3 flash/beep
# pairs (alice ≥ 5 in the composite), each within ±40 ms; missing + duplicated source
# frames ≤ 0.5 % of the frames spanned; drift ≤ 5 ms/min (or ≤ 5 ms over the flashes). Every figure is printed, and a
# table of all modes at the end ($work/sync_modes.json).
# Env: RR_SYNC_MODES="clean no_sr" runs only those; RR_SYNC_LOAD=1 runs a CPU hog on
# both cores while recording; RR_SYNC_SECONDS (14) the composite's length.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record

. "$(dirname "$0")/data/sync-modes.sh"
modes=${RR_SYNC_MODES:-$sync_all_modes}
secs=${RR_SYNC_SECONDS:-14}
max_offset=40
max_bad_pct=0.5
max_drift=5
# A drift is also accepted when all it adds up to over the flashes is within the offsets'
# resolution: audio onsets in an AAC file move by a few ms (a mix changing when someone
# joins); 1 ms over 6 s of flashes reads as 10 ms/min.
# bench/sync_soak.sh's 5-minute recordings give the ms/min that counts.
drift_resolution=5

hog_pids=()
start_hog() {
  local i
  for i in 1 2; do
    sh -c 'while :; do :; done' &
    hog_pids+=($!)
    pids+=($!)
  done
}
stop_hog() {
  local p
  for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${hog_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  hog_pids=()
}

# One summary row per (mode, file, participant).
summary=$work/sync_modes.jsonl
: >"$summary"

# assess MODE FILE-LABEL ANALYSIS PARTICIPANT MIN-PAIRS
assess() {
  local mode=$1 label=$2 an=$3 who=$4 min_pairs=$5
  local p
  p=$(jq -c --arg w "$who" '.sync.participants[] | select(.name == $w)' "$an" 2>/dev/null || true)
  if [ -z "$p" ]; then
    fail "$mode/$label/$who: no analysis"
    return
  fi
  jq -c --arg m "$mode" --arg f "$label" --arg l "$load" '{mode: $m, file: $f, who: .name, load: $l, pairs: .count,
    offsets: [.pairs[].offset_ms], mean: .mean_offset_ms, min: .min_offset_ms,
    max: .max_offset_ms, drift: .drift_ms_per_min, drift_span: .drift_over_span_ms, unpaired: .unpaired_flashes,
    missing: .frames.missing, duplicated: .frames.duplicated, backwards: .frames.backwards,
    spanned: .frames.source_frames_spanned, bad_pct: .frames.missing_duplicated_percent,
    unreadable: .frames.unreadable, source_fps: .frames.source_fps}' <<<"$p" >>"$summary"
  echo "$mode/$label/$who: $(tail -1 "$summary")"
  local t="$mode/$label/$who"
  jq -e --argjson n "$min_pairs" --argjson o $max_offset \
    '.count >= $n and all(.pairs[]; (.offset_ms | fabs) <= $o)' <<<"$p" >/dev/null &&
    ok "$t: $(jq .count <<<"$p") flash/beep pairs, all within ±${max_offset} ms" ||
    fail "$t: flash/beep pairs $(jq -c '[.pairs[].offset_ms]' <<<"$p") (want ≥ $min_pairs, all within ±${max_offset} ms)"
  jq -e --argjson b $max_bad_pct '.frames.source_frames_spanned > 100 and
    .frames.missing_duplicated_percent <= $b and .frames.backwards == 0' <<<"$p" >/dev/null &&
    ok "$t: missing + duplicated $(jq '.frames.missing + .frames.duplicated' <<<"$p") of $(jq .frames.source_frames_spanned <<<"$p") source frames" ||
    fail "$t: missing $(jq .frames.missing <<<"$p"), duplicated $(jq .frames.duplicated <<<"$p"), backwards $(jq .frames.backwards <<<"$p") of $(jq .frames.source_frames_spanned <<<"$p") source frames (want ≤ ${max_bad_pct} %)"
  jq -e --argjson d $max_drift --argjson r $drift_resolution '.drift_ms_per_min != null and
    ((.drift_ms_per_min | fabs) <= $d or (.drift_over_span_ms | fabs) <= $r)' <<<"$p" >/dev/null &&
    ok "$t: drift $(jq .drift_ms_per_min <<<"$p") ms/min ($(jq .drift_over_span_ms <<<"$p") ms over the flashes)" ||
    fail "$t: drift $(jq .drift_ms_per_min <<<"$p") ms/min, $(jq .drift_over_span_ms <<<"$p") ms over the flashes (want within ±${max_drift} ms/min or ±${drift_resolution} ms)"
}

for mode in $modes; do
  args=$(sync_mode_args "$mode") || { fail "unknown mode $mode"; continue; }
  echo "=== mode $mode: testroom $args"
  # The machine's load while recording (1-minute average at the end), for reading the
  # figures: other processes on two cores delay decoding and compositing.
  [ "${RR_SYNC_LOAD:-0}" = 1 ] && start_hog
  # shellcheck disable=SC2086
  start_room "sync-$mode" "$scenarios/sync.json" $args
  comp=$work/$mode-composite.mp4
  part=$work/$mode-bob.mp4
  record_bg "$mode-composite" sync --layout grid --preset H264_720P_30 --output "$comp" --duration "$secs"
  comp_pid=$rec_pid
  record_bg "$mode-bob" sync --participant bob --width 640 --height 360 --output "$part" --duration $((secs - 5))
  bob_pid=$rec_pid
  record_wait "$mode-composite" "$comp_pid"
  record_wait "$mode-bob" "$bob_pid"
  load=$(cut -d' ' -f1 /proc/loadavg)
  stop_room
  stop_hog
  echo "$mode: load average $load"
  check "$mode: the room ran in mode $mode" \
    '.modes != null and ([.publishers[].tracks[].send_queue_drops] | add // 0) == 0' \
    "$work/sync-$mode.report.json"
  jq -c '{modes, sr_sent: [.clients[].tracks[] | {participant, name, sr_sent}],
    holds: [.publishers[] | .identity as $p | .tracks[] | {p: $p, name, send_holds, max_send_delay_ms}]}' \
    "$work/sync-$mode.report.json" || true
  # shellcheck disable=SC2086
  analyze "$mode-composite" "$comp" $sync_composite_args
  # shellcheck disable=SC2046
  analyze "$mode-bob" "$part" $(sync_participant_args bob:1000)
  assess "$mode" composite "$work/$mode-composite.an.json" alice 5
  assess "$mode" composite "$work/$mode-composite.an.json" bob 3
  assess "$mode" participant "$work/$mode-bob.an.json" bob 3
done

echo "=== summary (mode file who: load average, pairs, offsets ms [min..max] mean, drift ms/min, missing+dup/spanned)"
jq -s -r '.[] | "\(.mode)\t\(.file)\t\(.who)\tload \(.load)\tpairs \(.pairs) [\(.min)..\(.max)] mean \(.mean)\tdrift \(.drift // "n/a" | if type == "number" then (. * 10 | round / 10) else . end)\tmissing \(.missing) dup \(.duplicated) of \(.spanned) (\(.bad_pct * 100 | round / 100) %), unreadable \(.unreadable), fps \(.source_fps * 100 | round / 100)"' "$summary"
jq -s . "$summary" >"$work/sync_modes.json"
finish sync_modes
