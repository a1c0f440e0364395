#!/usr/bin/env bash
# Runs every benchmark and prints a summary (bench/README.md explains each). Never fails
# on a timing; a benchmark that could not run at all is reported as such.
# Usage: bench/run.sh   (env RR_BUILD_DIR, default ./build; BENCH_SECONDS, BENCH_RUNS,
#        BENCH_TRACKS; ninja -C BUILD bench builds what is needed and runs this)
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export RR_SOURCE_DIR=$src RR_BUILD_DIR=${RR_BUILD_DIR:-$src/build}
log=$(mktemp /tmp/roomrec-bench-run.XXXXXX)
trap 'rm -f "$log"' EXIT
status=()
run() { # run NAME CMD...
  local name=$1
  shift
  echo "==== $name"
  if "$@" 2>&1 | tee -a "$log"; then status+=("$name: ran"); else status+=("$name: FAILED TO RUN"); fi
}
run track_egress "$RR_BUILD_DIR/bench/bench_track_egress" --tracks "${BENCH_TRACKS:-50}" \
  --seconds "${BENCH_SECONDS:-30}"
run composite bash "$src/bench/composite.sh"
run first_media bash "$src/bench/first_media.sh"

echo
echo "==== summary"
printf '%s\n' "${status[@]}"
grep '^RESULT ' "$log" | sed 's/^RESULT //' >"$log.results"
python3 - "$log.results" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = r.pop("bench")
    if b == "track_egress":
        print(f"track egress : {r['tracks']} x {r['input_kbps']:.0f} kbps H.264 -> "
              f"{r['cpu_percent_per_track']:.2f}% of a core per track "
              f"(target <= 1%), {r['egress_rss_mb']:.0f} MB RSS for all, {r['complete']} files complete")
    elif b == "composite":
        print(f"composite    : CPU {r['roomrec_cpu_per_media_s']:.3f} vs {r['plain_cpu_per_media_s']:.3f} "
              f"s per media s = {r['cpu_ratio']:.2f}x (target <= 1.15x); peak RSS "
              f"{r['roomrec_peak_rss_mb']:.0f} vs {r['plain_peak_rss_mb']:.0f} MB = "
              f"{r['rss_ratio']:.2f}x (target <= 1.25x)")
    elif b == "first_media":
        fb, fm, st = r["first_bytes_ms"], r.get("first_fragment_ms"), r["started_ms"]
        print(f"first media  : first media fragment min/median/max "
              + (f"{fm['min']}/{fm['median']}/{fm['max']} ms (target <= 1500)" if fm else "none")
              + f", first bytes {fb['min']}/{fb['median']}/{fb['max']} ms"
              + (f", startedAt {st['min']}/{st['median']}/{st['max']} ms" if st else ""))
EOF
rm -f "$log.results"
