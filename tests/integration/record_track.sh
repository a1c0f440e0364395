#!/usr/bin/env bash
# labels: c,record
# `roomrec record` against the test room (three participants: alice VP8+Opus, bob
# H264+Opus, carol Opus):
#  A. three track egresses (alice/camera, bob/camera, carol/mic) for 8 s each: exit 0,
#     EgressInfo EGRESS_COMPLETE with one file result; the files hold the codec as sent
#     (vp8 in WebM, h264 in MP4, opus in Ogg), decode without a single error, and last
#     the recorded time (fileResults duration and the container's, within 0.5 s);
#  B. a job file (LiveKit StartEgressRequest JSON, lowerCamelCase) for a track egress;
#     a bad job file → exit 2 naming the field's path;
#  C. SIGINT mid-recording → COMPLETE with a playable file; --max-duration → exit 9
#     EGRESS_LIMIT_REACHED;
#  D. room composite, audio only (Opus in Ogg, decodes, duration);
#  E. on a terminal (a pty from script(1)): a progress line redrawn in place every second
#     (elapsed, bytes, bitrate, participants) that log records never run into, cleared
#     before the EgressInfo;
#  F. from the room's report: each track egress joined without auto-subscription and
#     was sent its own track alone.
set -euo pipefail
secret=record-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"
dur=8
record_bg() { # record_bg NAME ARGS... → rec_pid (stdout NAME.json, stderr NAME.log)
  local name=$1
  shift
  "$roomrec" record --url "$url" --api-key $key --api-secret $secret \
    --json --info-file "$work/$name.info.json" "$@" >"$work/$name.json" 2>"$work/$name.log" &
  rec_pid=$!
  pids+=("$rec_pid")
}
wait_rc() { # wait_rc PID → rc
  set +e
  wait "$1"
  rc=$?
  set -e
}
# Float comparison: |a - b| <= tol
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

check_file() { # check_file NAME CODEC FORMAT-SUBSTRING SECONDS
  local name=$1 codec=$2 format=$3 secs=$4 j=$work/$1.json
  check "$name: EGRESS_COMPLETE with one file" \
    '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1) and (.error == null)' "$j"
  check "$name: --info-file has the same EgressInfo" '.status == "EGRESS_COMPLETE"' \
    "$work/$name.info.json"
  local f
  f=$(jq -r '.fileResults[0].location' "$j" 2>/dev/null || true)
  if [ -z "$f" ] || [ ! -s "$f" ]; then
    fail "$name: no output file ($f)"
    return
  fi
  local got_codec got_format got_dur
  got_codec=$(ffprobe -v error -select_streams 0 -show_entries stream=codec_name -of csv=p=0 "$f")
  got_format=$(ffprobe -v error -show_entries format=format_name -of csv=p=0 "$f")
  [ "$got_codec" = "$codec" ] && ok "$name: codec $codec (no transcoding)" ||
    fail "$name: codec $got_codec, wanted $codec"
  [[ "$got_format" == *"$format"* ]] && ok "$name: container $got_format" ||
    fail "$name: container $got_format, wanted $format"
  if ffmpeg -nostdin -v error -i "$f" -f null - >"$work/$name.decode" 2>&1 &&
    [ ! -s "$work/$name.decode" ]; then
    ok "$name: decodes without errors"
  else
    fail "$name: decode errors: $(head -3 "$work/$name.decode")"
  fi
  # The container's duration (Ogg/WebM/MP4 all give one) and the EgressInfo duration.
  got_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
  local info_dur
  info_dur=$(jq -r '.fileResults[0].duration | tonumber / 1e9' "$j")
  if [ -n "$secs" ]; then
    near "$got_dur" "$secs" 0.5 && ok "$name: lasts ${got_dur}s (recorded ${secs}s)" ||
      fail "$name: lasts ${got_dur}s, recorded ${secs}s"
  fi
  near "$got_dur" "$info_dur" 0.5 && ok "$name: fileResults duration ${info_dur}s matches" ||
    fail "$name: fileResults duration ${info_dur}s, file ${got_dur}s"
  check "$name: sizes and times in the EgressInfo" \
    "(.fileResults[0].size | tonumber) == $(stat -c %s "$f") and (.startedAt | tonumber) > 0 and (.endedAt | tonumber) > (.startedAt | tonumber)" \
    "$j"
}

start_room a "$src/tests/testroom/scenarios/three.json"

# ---- A: three track egresses, one after the other (2 cores: the room encodes too) ----
for spec in "alice:alice/camera:{publisher_identity}-{track_id}.mp4" \
  "bob:bob/camera:{publisher_identity}-{track_id}" "carol:carol/mic:carol"; do
  IFS=: read -r name track out <<<"$spec"
  record_bg "$name" --room demo --track "$track" --duration $dur --output "$work/out/$out"
  wait_rc $rec_pid
  [ "$rc" -eq 0 ] && ok "A: $name exit 0" || fail "A: $name exit $rc: $(tail -3 "$work/$name.log")"
done
check_file alice vp8 webm $dur
check_file bob h264 mp4 $dur
check_file carol opus ogg $dur
check "A: alice's file name from the template, extension from the codec" \
  '.fileResults[0].filename | test("^alice-TR_[A-Za-z0-9]+\\.webm$")' "$work/alice.json"
check "A: carol's file gets .ogg" '.fileResults[0].filename == "carol.ogg"' "$work/carol.json"
check "A: the request is echoed" '.track.trackId == "alice/camera" and .roomName == "demo"' \
  "$work/alice.json"

# ---- B: job files ----
cat >"$work/job-request.json" <<EOF
{"egressId": "EG_jobfile", "wsUrl": "$url",
 "track": {"roomName": "demo", "trackId": "bob/mic",
           "file": {"filepath": "$work/out/job-{egress_id}.ogg"}}}
EOF
record_bg job --job-file "$work/job-request.json" --duration 4
wait_rc $rec_pid
[ "$rc" -eq 0 ] && ok "B: job file track egress exit 0" || fail "B: job file exit $rc: $(tail -3 "$work/job.log")"
check "B: egress id from the job" '.egressId == "EG_jobfile"' "$work/job.json"
check_file job opus ogg 4
cat >"$work/bad.json" <<EOF
{"room_composite": {"room_name": "demo", "file_outputs": [{"filpath": "x.mp4"}]}}
EOF
set +e
"$roomrec" record --url "$url" --api-key $key --api-secret $secret --job-file "$work/bad.json" \
  >"$work/bad.out" 2>"$work/bad.log"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q 'room_composite.file_outputs\[0\].filpath: unknown field' "$work/bad.log" &&
  ok "B: bad job file → exit 2 naming the field" || fail "B: bad job gave $rc: $(cat "$work/bad.log")"
set +e
"$roomrec" record --url "$url" --api-key $key --api-secret $secret --room demo --preset H264_8K \
  >"$work/badflag.out" 2>"$work/badflag.log"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q 'preset' "$work/badflag.log" && ok "B: bad --preset → exit 2" ||
  fail "B: bad --preset gave $rc: $(cat "$work/badflag.log")"

# ---- C: SIGINT and --max-duration ----
record_bg sigint --room demo --track carol/mic --output "$work/out/sigint"
psig=$rec_pid
record_bg limit --room demo --track alice/mic --max-duration 3 --output "$work/out/limit"
plim=$rec_pid
for _ in $(seq 200); do grep -q EGRESS_ACTIVE "$work/sigint.log" && break; sleep 0.1; done
sleep 3
kill -INT "$psig"
wait_rc "$psig"
[ "$rc" -eq 0 ] && ok "C: SIGINT → exit 0" || fail "C: SIGINT exit $rc: $(tail -3 "$work/sigint.log")"
check_file sigint opus ogg ""
wait_rc "$plim"
[ "$rc" -eq 9 ] && ok "C: --max-duration → exit 9" || fail "C: max-duration exit $rc: $(tail -3 "$work/limit.log")"
check "C: EGRESS_LIMIT_REACHED with a file of ~3 s" \
  '.status == "EGRESS_LIMIT_REACHED" and (.fileResults[0].duration | tonumber) > 2.4e9 and (.fileResults[0].duration | tonumber) < 4.1e9' \
  "$work/limit.json"

# ---- D: room composite, audio only ----
record_bg comp --room demo --audio-only --duration 6 --output "$work/out/{room_name}-composite"
wait_rc $rec_pid
[ "$rc" -eq 0 ] && ok "D: room composite audio-only exit 0" || fail "D: composite exit $rc: $(tail -3 "$work/comp.log")"
check_file comp opus ogg 6
check "D: the request is echoed" '.roomComposite.audioOnly == true' "$work/comp.json"

# ---- E: on a terminal ----
set +e
script -qec "'$roomrec' record --url '$url' --api-key $key --api-secret $secret \
  --room demo --track alice/mic --duration 5 \
  --output '$work/out/tty' --info-file '$work/tty.info.json' --json >'$work/tty.json'" /dev/null </dev/null >"$work/tty.out"
rc=$?
set -e
[ "$rc" -eq 0 ] && ok "E: on a terminal: exit 0" || fail "E: on a terminal: exit $rc"
check_file tty opus ogg 5
# What the terminal showed: pieces between line ends and "clear line" sequences. Each is
# a log record or the progress line; a record never follows the progress line on its
# line, and the terminal is left with the progress line cleared.
python3 - "$work/tty.out" >"$work/tty.check" <<'PY' || true
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace").replace("\r\n", "\n")
prog = re.compile(r"^([A-Z_]+) (\d\d):(\d\d):(\d\d)  (.+?)  (\d+) kbit/s  "
                  r"(\d+) participant\(s\), (\d+) track\(s\)$")
log = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ ")
seen, bad, logs = [], [], 0
lines = raw.split("\n")
for n, line in enumerate(lines):
    pieces = line.split("\r\x1b[K")
    for i, p in enumerate(pieces):
        if not p:
            continue
        m = prog.match(p)
        if m:
            seen.append(m.groups())
            if i == len(pieces) - 1 and n < len(lines) - 1:
                bad.append("a line break right after the progress line: %r" % p)
        elif log.match(p):
            logs += 1
            if i == 0 and n > 0 and prog.match(lines[n - 1].split("\r\x1b[K")[-1]):
                bad.append("a record glued to the progress line: %r" % p)
        else:
            bad.append("neither a record nor the progress line: %r" % p)
secs = sorted({int(g[1]) * 3600 + int(g[2]) * 60 + int(g[3]) for g in seen})
active = [g for g in seen if g[0] == "ACTIVE"]
print("progress lines %d, seconds %s, records %d, last %r" % (len(seen), secs, logs, seen[-1:]))
good = (len(secs) >= 3 and active and int(active[-1][6]) >= 1 and int(active[-1][5]) > 0
        and logs >= 1 and not bad and lines[-1].endswith("\r\x1b[K"))
print("ok" if good else "FAIL")
for b in bad[:5]:
    print(b)
PY
cat "$work/tty.check"
[ "$(sed -n 2p "$work/tty.check")" = ok ] &&
  ok "E: the progress line advances every second, log records stay on lines of their own" ||
  fail "E: terminal output: $(cat "$work/tty.check") (see $work/tty.out)"
stop_room

# ---- F: a track egress subscribes to its own track alone (the room's report) ----
for spec in alice:alice/camera bob:bob/camera carol:carol/mic job:bob/mic sigint:carol/mic \
  limit:alice/mic tty:alice/mic; do
  IFS=: read -r name track <<<"$spec"
  id=$(jq -r '.egressId // empty' "$work/$name.json" 2>/dev/null || true)
  got=$(jq -c --arg id "$id" '[.clients[] | select(.identity == $id) | {auto_subscribe,
    tracks: [.tracks[] | select(.packets_sent > 0) | "\(.participant)/\(.name)"]}]' \
    "$work/a.report.json" 2>/dev/null || true)
  [ "$got" = "[{\"auto_subscribe\":false,\"tracks\":[\"$track\"]}]" ] &&
    ok "F: $name received $track alone, without auto-subscription" ||
    fail "F: $name ($id) in the room's report: $got, wanted $track alone"
done

if [ "$failures" -ne 0 ]; then
  echo "record_track: $failures check(s) failed"
  exit 1
fi
echo "record_track: all checks passed"
