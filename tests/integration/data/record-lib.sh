# Shared helpers of the record_*.sh integration tests (sourced, not a test itself):
# the test room, `roomrec record`, rr-analyze and jq checks. Everything started is
# killed by pid on exit; the work directory is kept when a check failed.
# Needs: src/build set by the caller's environment (RR_SOURCE_DIR/RR_BUILD_DIR) or derived.
secret=record-secret-0123456789abcdef0123
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
analyze=${RR_ANALYZE:-$build/tests/tools/rr-analyze}
scenarios=$src/tests/testroom/scenarios

check() { # check DESCRIPTION JQ-EXPR FILE [jq args...]
  local desc=$1 expr=$2 file=$3
  shift 3
  if [ -s "$file" ] && jq -e "$@" "$RR_JQ_DEFS $expr" "$file" >/dev/null 2>"$work/jq.err"; then
    echo "ok: $desc"
  else
    fail "$desc ($expr on $file$( [ -s "$work/jq.err" ] && echo ": $(head -1 "$work/jq.err")"))"
  fi
}
finish() { # finish TESTNAME
  if [ "$failures" -ne 0 ]; then
    echo "$1: $failures check(s) failed"
    exit 1
  fi
  echo "$1: all checks passed"
}

# jq definitions shared by the checks on rr-analyze output.
#   hue: a colour name from [r,g,b] for the scenario colours (red 0xc02020, green 0x20a020,
#        blue 0x2020c0, yellow 0xc0c020), or "none" (grey, black, mixed).
#   region(NAME): a region object; sec(T): its per-second entry T (or null).
#   hues_at(T; NAMES): the set of hues seen in those regions in output second T.
#   tone(T; F): the share of tone F in audio second T.
RR_JQ_DEFS='
def hue: . as [$r, $g, $b] |
  if $r > 90 and $g > 90 and $b < ([$r, $g] | min) - 50 then "yellow"
  elif $r > 90 and $r > $g + 50 and $r > $b + 50 then "red"
  elif $g > 70 and $g > $r + 40 and $g > $b + 40 then "green"
  elif $b > 90 and $b > $r + 50 and $b > $g + 50 then "blue"
  else "none" end;
def region($n): .video.regions[] | select(.name == $n);
def rsec($t): .seconds[] | select(.t == $t);
def hues_at($t; $names): [.video.regions[] | select(.name as $n | $names | index($n)) |
  rsec($t) | .rgb | hue] | map(select(. != "none")) | unique;
def all_hues_at($t): [.video.regions[] | select(.name != "frame") | rsec($t) | .rgb | hue] |
  map(select(. != "none")) | unique;
def tone($t; $f): [.audio.seconds[] | select(.t == $t) | .tones[$f | tostring]] | first // 0;
def audio_secs: [.audio.seconds[].t];
def video_secs: [.video.regions[0].seconds[].t];
'

require_record() {
  if ! "$roomrec" record --help >/dev/null 2>&1; then
    fail "\`roomrec record\` is not available in $roomrec"
    finish "$(basename "$0" .sh)"
  fi
}

# record_bg NAME ROOM ARGS... → starts `roomrec record ... --json` in the background;
# rec_pid; EgressInfo on $work/NAME.json, log on $work/NAME.log.
record_bg() {
  local name=$1 room=$2
  shift 2
  "$roomrec" record --url "$url" --api-key $key --api-secret $secret --room "$room" \
    --egress-id "EG_$name" --json "$@" \
    >"$work/$name.json" 2>"$work/$name.log" &
  rec_pid=$!
  pids+=("$rec_pid")
}
# record_wait NAME PID → rc of that recorder in $rc (and a failure when it is not 0)
record_wait() {
  local name=$1 pid=$2
  set +e
  wait "$pid"
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    fail "$name: roomrec record exited $rc: $(tail -3 "$work/$name.log")"
  else
    echo "ok: $name: roomrec record exited 0"
  fi
}

# analyze NAME FILE ARGS... → $work/NAME.an.json (a failure if rr-analyze fails)
analyze() {
  local name=$1 file=$2
  shift 2
  # rr-analyze is a test tool: in the sanitizer build its leak report (GStreamer plugins'
  # caches) is not roomrec's business.
  if ! ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    "$analyze" "$@" "$file" >"$work/$name.an.json" 2>"$work/$name.an.err"; then
    fail "$name: rr-analyze failed on $file: $(tail -2 "$work/$name.an.err")"
    : >"$work/$name.an.json"
  fi
}

# egress_ok NAME FILE: the EgressInfo says COMPLETE with that file and a plausible size.
egress_ok() {
  local name=$1 file=$2
  check "$name: EgressInfo COMPLETE with the file" \
    '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1) and
     (.fileResults[0].filename | endswith($f)) and (.fileResults[0].size | tonumber > 1000)' \
    "$work/$name.json" --arg f "$(basename "$file")"
  [ -s "$file" ] && echo "ok: $name: $file exists" || fail "$name: $file missing"
  [ -e "$file.part" ] && fail "$name: $file.part left behind" || true
}

# file_started_offset NAME → seconds from room start to the file's first media, from
# EgressInfo fileResults[0].startedAt (Unix ns); prints it.
file_started_offset() {
  jq -r --argjson t0 "$room_t0" \
    '(.fileResults[0].startedAt // .startedAt | tonumber) / 1e9 - $t0' "$work/$1.json"
}

# out_secs OFFSET A B → the output seconds s whose room interval [s+OFFSET, s+1+OFFSET)
# lies inside [A+0.8, B-0.3] (room seconds), as a JSON array: what a check may expect of
# the room state between A and B, allowing for signalling and jitter-buffer delays.
out_secs() {
  python3 -c '
import math, sys, json
off, a, b = map(float, sys.argv[1:4])
lo, hi = a + 0.8, b - 0.3
print(json.dumps([s for s in range(0, 600) if s + off >= lo and s + 1 + off <= hi]))' "$@"
}
