#!/usr/bin/env bash
# labels: c,record,timing
# Lip sync of `roomrec record` (tests/testroom/scenarios/lipsync.json): alice (VP8) is in
# the room from the start, bob (H264) joins 6 s later; both flash a white frame and beep
# (alice 500 Hz, bob 1 kHz) for 100 ms every 2 s, at the same wall-clock instants. A
# room composite (grid) of ~14 s and participant egresses of alice and bob run at the same
# time.
# rr-analyze finds the flash onsets in the middle band of each half of the picture (alice
# fills the frame until bob joins, then each has a half) and the beep onsets per tone;
# every flash/beep pair must be within ±40 ms, for alice and for the late joiner bob,
# in the composite and in bob's participant egress.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record

start_room lipsync "$scenarios/lipsync.json"
comp=$work/lipsync-composite.mp4
part=$work/lipsync-bob.mp4
record_bg composite lipsync --layout grid --preset H264_720P_30 --output "$comp" --duration 14
comp_pid=$rec_pid
record_bg bob lipsync --participant bob --width 640 --height 360 --output "$part" --duration 8
bob_pid=$rec_pid
palice=$work/lipsync-alice.mp4
record_bg alice lipsync --participant alice --width 640 --height 360 --output "$palice" --duration 10
alice_pid=$rec_pid
record_wait composite "$comp_pid"
record_wait bob "$bob_pid"
record_wait alice "$alice_pid"
stop_room
egress_ok composite "$comp"
egress_ok bob "$part"
egress_ok alice "$palice"
# The participant egresses subscribed to their participant's tracks alone (bob's when he
# joined, after the recorder); the composite to everyone's.
for who in alice bob; do
  check "$who's participant egress received $who's camera and mic alone" \
    "[.clients[] | select(.identity == \"EG_$who\") | {auto_subscribe, tracks: ([.tracks[] |
      select(.packets_sent > 0) | \"\\(.participant)/\\(.name)\"] | sort)}] ==
     [{auto_subscribe: false, tracks: [\"$who/camera\", \"$who/mic\"]}]" "$work/lipsync.report.json"
done
check "the composite received all four tracks" \
  '[.clients[] | select(.identity == "EG_composite") | .tracks[] | select(.packets_sent > 0)] | length == 4' \
  "$work/lipsync.report.json"
# Both tracks of every file start at 0: mp4mux starts a track at its first sample, so a
# track whose first sample came late would be moved earlier against the other.
for f in "$comp" "$part" "$palice"; do
  firsts=$(for s in v a; do
    ffprobe -v error -select_streams $s -show_entries packet=pts_time -of csv=p=0 "$f" | sed -n 1p
  done | tr '\n' ' ')
  awk -v f="$firsts" 'BEGIN { n = split(f, t, " "); exit !(n == 2 && t[1] + 0 == 0 && t[2] + 0 <= 0.0001) }' &&
    ok "$(basename "$f"): video and audio start at 0 ($firsts)" ||
    fail "$(basename "$f"): first video/audio packets at $firsts, not 0"
done

# ---- composite ----
analyze composite "$comp" --flash --tones 500,1000 --rect 0,0.3,0.5,0.4 --rect 0.5,0.3,0.5,0.4
A=$work/composite.an.json
jq -c '.flash.matches[] | select(.audio != "all") | {video, audio, offsets: [.pairs[] | [.video_ms, .offset_ms]]}' "$A" 2>/dev/null || true
# A participant's own tile is one of the two bands (before bob joins alice fills both).
# Bob's first 1 kHz onset is where his track starts (possibly mid-beep): pairs from 1 s
# after it on are his real flashes.
RR_JQ_DEFS+='
def own_pairs($tone; $after): [.flash.matches[] | select(.audio == $tone and (.video | startswith("rect"))) |
  .pairs | map(select(.video_ms >= $after))];
def synced($min): map(select(length >= $min and all(.offset_ms | fabs <= 40))) | length >= 1;
'
check "composite: no decode errors" '.errors | length == 0' "$A"
check "composite: alice: ≥ 4 flash/beep pairs in her tile, all within ±40 ms" \
  'own_pairs("500"; 0) | synced(4)' "$A"
check "composite: bob (joined late): ≥ 2 flash/beep pairs in his tile, all within ±40 ms" \
  '(.flash.audio_onsets_ms["1000"][0] // 1e9) as $join | own_pairs("1000"; $join + 1000) | synced(2)' "$A"
check "composite: every beep has a flash (no video flash lost)" \
  '(.flash.audio_onsets_ms["500"] | length) <= ([.flash.matches[] | select(.audio == "500") | .count] | max) + 1 and
   (.flash.audio_onsets_ms["1000"] | length) <= ([.flash.matches[] | select(.audio == "1000") | .count] | max) + 1' "$A"

# ---- alice's participant egress (from her first second) ----
analyze alice "$palice" --flash --tones 500,1000
P=$work/alice.an.json
jq -c '.flash.matches[] | select(.audio == "500") | {video, audio, offsets: [.pairs[] | [.video_ms, .offset_ms]]}' "$P" 2>/dev/null || true
check "participant alice: ≥ 4 flash/beep pairs within ±40 ms" \
  '[.flash.matches[] | select(.video == "frame" and .audio == "500") | .pairs | map(select(.video_ms >= 1000))] | synced(4)' "$P"

# ---- bob's participant egress ----
analyze bob "$part" --flash --tones 500,1000
B=$work/bob.an.json
jq -c '.flash.matches[] | select(.audio == "1000") | {video, audio, offsets: [.pairs[] | [.video_ms, .offset_ms]]}' "$B" 2>/dev/null || true
check "participant bob: H.264 + audio, no decode errors" \
  '([.streams[].type] | sort == ["audio","video"]) and (.errors | length == 0)' "$B"
# The egress starts with bob's first media, possibly inside a flash: pairs from 1 s on.
check "participant bob: ≥ 3 flash/beep pairs within ±40 ms" \
  '[.flash.matches[] | select(.video == "frame" and .audio == "1000") | .pairs | map(select(.video_ms >= 1000))] | synced(3)' "$B"
check "participant bob: only bob's tone" \
  '[.audio.seconds[] | .tones["500"]] | max < 0.05' "$B"
finish record_lipsync
