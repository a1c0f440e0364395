#!/usr/bin/env bash
# labels: c,record,timing
# A publisher whose capture clock runs slow (tests/testroom -clock-ppm -50000: 5 %, an
# exaggeration of the 10-100 ppm of real devices, so that 40 s show what hours would):
# its media comes later and later against its RTP timeline, 2 s over the recording,
# more than the composite waits for any input (about a second). Without a correction its
# media stops reaching the file after about 20 s. With it (pipeline/lipsync: the whole
# participant moves later by the drift once it reaches 200 ms), every flash and every
# beep of both publishers is in the room composite and in bob's participant egress, each
# flash/beep pair within ±40 ms (but one: see pairs below), no source frame lost (frames
# repeated where the participant moved are expected: its clock gives fewer frames per
# second).
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record
. "$(dirname "$0")/data/sync-modes.sh"

secs=40
ppm=-50000
start_room drift "$scenarios/sync.json" -clock-ppm $ppm
comp=$work/drift-composite.mp4
part=$work/drift-bob.mp4
record_bg composite sync --layout grid --preset H264_720P_30 --output "$comp" --duration $secs
comp_pid=$rec_pid
record_bg bob sync --participant bob --width 640 --height 360 --output "$part" --duration $((secs - 5))
bob_pid=$rec_pid
record_wait composite "$comp_pid"
record_wait bob "$bob_pid"
stop_room
egress_ok composite "$comp"
egress_ok bob "$part"
check "the room's publishers ran 5 % slow" '.modes.clock_ppm == -50000' "$work/drift.report.json"
# shellcheck disable=SC2086
analyze composite "$comp" $sync_composite_args
# shellcheck disable=SC2046
analyze bob "$part" $(sync_participant_args bob:1000)

# pairs FILE WHO MIN-PAIRS: every flash paired with its beep within ±40 ms but at most
# one, at least MIN-PAIRS of them (one every 2 s), and no source frame missing. The one:
# a move is made at one point of the lined-up timeline, and content within the tracks'
# residual sync error (±20 ms) of that point can fall on either side of it in different
# tracks (a flash shown after the move's gap, its beep before it: about one move in 70;
# at 100 ppm a move comes every 33 min, here every 10 s); and at this exaggerated drift
# the media comes up to a second late just before a move, at the edge of the deadlines
# (a beep's first packet has been seen to miss them: +30..+50 ms once).
pairs() {
  local an=$work/$1.an.json who=$2 min=$3 p
  p=$(jq -c --arg w "$who" '.sync.participants[] | select(.name == $w)' "$an" 2>/dev/null || true)
  if [ -z "$p" ]; then
    fail "$1/$who: no analysis"
    return
  fi
  echo "$1/$who: $(jq -c '{count, offsets: [.pairs[].offset_ms], unpaired_flashes, frames: (.frames | {missing, duplicated, source_frames_spanned})}' <<<"$p")"
  # Unpaired flashes (but one in the file's last 0.5 s: its beep may end after the file)
  # and pairs beyond ±40 ms (at most 600 ms: a move's length): at most one in all.
  local end
  end=$(jq '.duration_s * 1000' "$an")
  jq -e --argjson n "$min" --argjson fend "$end" '.count >= $n and
    ([([.flashes_ms[] | select(. < $fend - 500)] | length) - .count, 0] | max) as $unpaired |
    ([.pairs[] | select((.offset_ms | fabs) > 40)]) as $off |
    $unpaired + ($off | length) <= 1 and all($off[]; (.offset_ms | fabs) <= 600)' <<<"$p" >/dev/null &&
    ok "$1/$who: $(jq .count <<<"$p") flash/beep pairs, all but at most one within ±40 ms" ||
    fail "$1/$who: flash/beep pairs $(jq -c '[.pairs[].offset_ms]' <<<"$p"), $(jq .unpaired_flashes <<<"$p") unpaired (want ≥ $min, all but one within ±40 ms)"
  # The last flash is near the end: the media kept coming to the end.
  jq -e --argjson s "$4" '(.pairs | last | .video_ms) >= ($s - 4) * 1000' <<<"$p" >/dev/null &&
    ok "$1/$who: flashes up to the end" ||
    fail "$1/$who: the last flash at $(jq '.pairs | last | .video_ms' <<<"$p") ms of $4 s"
  jq -e '.frames.missing <= 0.005 * .frames.source_frames_spanned' <<<"$p" >/dev/null &&
    ok "$1/$who: $(jq .frames.missing <<<"$p") of $(jq .frames.source_frames_spanned <<<"$p") source frames missing" ||
    fail "$1/$who: $(jq .frames.missing <<<"$p") of $(jq .frames.source_frames_spanned <<<"$p") source frames missing (want ≤ 0.5 %)"
}
pairs composite alice 17 $secs
pairs composite bob 15 $secs
pairs bob bob 14 $((secs - 5))
finish record_clock_drift
