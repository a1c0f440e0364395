#!/usr/bin/env bash
# labels: c,record,timing
# `roomrec record` while the room changes (tests/testroom/scenarios/changes.json, room
# seconds): alice (red, 300 Hz) and bob (blue, 500 Hz) from the start; carol (green,
# 700 Hz, audible only while speaking 7-13) joins at 6 and leaves at 22; bob's camera is
# muted 10-14; alice's mic is muted 14-18; alice shares her screen (scrolling bars)
# 18-22. Every recording's timeline is mapped to room time through its EgressInfo
# fileResults[0].startedAt, and only output seconds well inside a state are checked.
#  Run 1: room composite (grid, 720p) → the set of colours on screen follows the joins,
#         leave and mute, tiles move when carol joins, the screen share takes the stage
#         with the cameras in a strip; the mixed audio follows mutes and speaking;
#         audio-only (.ogg) → Opus only, the same audio changes.
#  Run 2: video-only composite (.mp4, no audio stream) → the same colour changes;
#         track composite (--video-track alice/camera --audio-track bob/mic) → red picture,
#         500 Hz only; participant egress of bob → blue except while his camera is muted,
#         500 Hz only.
set -euo pipefail
. "$(dirname "$0")/data/record-lib.sh"
require_record

# window NAME OFFSET A B DESCRIPTION EXPR: EXPR (jq, uses $t) holds in every output second
# of NAME's analysis that lies inside room seconds [A, B).
window() {
  local name=$1 off=$2 a=$3 b=$4 desc=$5 expr=$6 secs
  secs=$(out_secs "$off" "$a" "$b")
  if [ "$secs" = "[]" ]; then
    fail "$name: no output second inside room seconds [$a, $b) (offset $off)"
    return
  fi
  check "$name [$a-$b s]: $desc" "[\$secs[] as \$t | $expr] | all" "$work/$name.an.json" \
    --argjson secs "$secs"
}
# Regions for the speaker-style stage: 10 horizontal slices of the right-hand strip.
strip=()
for i in 0 1 2 3 4 5 6 7 8 9; do strip+=(--rect "0.82,0.$i,0.16,0.1"); done
STRIP='[.video.regions[] | select(.name | startswith("rect")) | .name]'
# (The stage's colours are not checked: the scrolling bars average to anything.)
STAGE='["r1c0","r1c1","r1c2","r1c3","r2c0","r2c1","r2c2","r2c3","r3c0","r3c1","r3c2","r3c3","r4c0","r4c1","r4c2","r4c3"]'
# centroid($t; $want): mean [row, col] of the 6x6 cells showing hue $want in second $t.
# (A jq parameter $x also defines a filter x: never name one like a function in use.)
RR_JQ_DEFS+='
def centroid($t; $want): [.video.regions[] | select(.name | test("^r[0-9]c[0-9]$")) |
  select((rsec($t) | .rgb | hue) == $want) | .name | capture("r(?<r>[0-9])c(?<c>[0-9])") |
  [(.r | tonumber), (.c | tonumber)]] | if length == 0 then null else
  [(map(.[0]) | add / length), (map(.[1]) | add / length)] end;
'

audio_checks() { # audio_checks NAME OFFSET
  local n=$1 off=$2
  window "$n" "$off" 0 14 "alice's 300 Hz present" 'tone($t; 300) >= 0.05'
  window "$n" "$off" 14 18 "alice's mic muted: no 300 Hz" 'tone($t; 300) < 0.01'
  window "$n" "$off" 18 24 "alice's 300 Hz back after unmute" 'tone($t; 300) >= 0.05'
  window "$n" "$off" 0 24 "bob's 500 Hz present throughout" 'tone($t; 500) >= 0.05'
  window "$n" "$off" 7 13 "carol speaking: 700 Hz present" 'tone($t; 700) >= 0.05'
  window "$n" "$off" 0 6 "carol absent: no 700 Hz" 'tone($t; 700) < 0.01'
  window "$n" "$off" 13 22 "carol silent: no 700 Hz" 'tone($t; 700) < 0.01'
}

# ---------------- run 1: room composite + audio only ----------------
start_room run1 "$scenarios/changes.json"
comp=$work/changes-composite.mp4
aud=$work/changes-audio.ogg
record_bg composite changes --layout grid --preset H264_720P_30 --output "$comp" --duration 24
comp_pid=$rec_pid
record_bg audio changes --audio-only --output "$aud" --duration 24
aud_pid=$rec_pid
record_wait composite "$comp_pid"
record_wait audio "$aud_pid"
stop_room
egress_ok composite "$comp"
egress_ok audio "$aud"

analyze composite "$comp" --grid 6x6 "${strip[@]}" --tones 300,500,700
C=$work/composite.an.json
off=$(file_started_offset composite)
echo "composite: file started ${off} s after the room"
check "composite: H.264 1280x720 + AAC, no decode errors" \
  '([.streams[].codec] | sort == ["aac","h264"]) and (.errors | length == 0)' "$C"
check "composite: ~24 s" '(.duration_s - 24 | fabs) <= 0.5' "$C"
hues="all_hues_at(\$t)"
window composite "$off" 0 6 "alice and bob on screen" "$hues == [\"blue\",\"red\"]"
window composite "$off" 6 10 "carol joined: three tiles" "$hues == [\"blue\",\"green\",\"red\"]"
window composite "$off" 10 14 "bob's camera muted: no blue" "$hues == [\"green\",\"red\"]"
window composite "$off" 14 18 "bob's camera back" "$hues == [\"blue\",\"green\",\"red\"]"
window composite "$off" 18 22 "screen share: the three cameras in the strip" \
  "hues_at(\$t; $STRIP) == [\"blue\",\"green\",\"red\"]"
window composite "$off" 18 22 "screen share: the stage moves (scrolling bars)" \
  "[.video.regions[] | select(.name as \$n | $STAGE | index(\$n)) | rsec(\$t) | .motion] | add / length > 1"
window composite "$off" 22 26 "carol left, screen share gone" "$hues == [\"blue\",\"red\"]"
s1=$(out_secs "$off" 0 6 | jq '.[-1] // -1')
s2=$(out_secs "$off" 6 10 | jq '.[-1] // -1')
check "composite: alice's tile moves when carol joins" \
  "(centroid($s1; \"red\") | . != null) and (centroid($s2; \"red\") | . != null) and
   ([centroid($s1; \"red\"), centroid($s2; \"red\")] | (.[0][0] - .[1][0] | fabs) + (.[0][1] - .[1][1] | fabs) >= 0.5)" "$C"
audio_checks composite "$off"

analyze audio "$aud" --tones 300,500,700
A=$work/audio.an.json
off=$(file_started_offset audio)
check "audio only: Ogg with one Opus stream, no video" \
  '.container.format == "ogg" and ([.streams[].codec] == ["opus"]) and .video == null and (.errors | length == 0)' "$A"
check "audio only: ~24 s" '(.duration_s - 24 | fabs) <= 0.5' "$A"
audio_checks audio "$off"

# ---------------- run 2: video only, track composite, participant ----------------
start_room run2 "$scenarios/changes.json"
vid=$work/changes-video.mp4
tc=$work/changes-track-composite.mp4
pb=$work/changes-bob.mp4
record_bg video changes --video-only --width 640 --height 360 --output "$vid" --duration 24
vid_pid=$rec_pid
record_bg trackcomp changes --video-track alice/camera --audio-track bob/mic --width 640 \
  --height 360 --output "$tc" --duration 16
tc_pid=$rec_pid
record_bg bob changes --participant bob --width 640 --height 360 --output "$pb" --duration 20
pb_pid=$rec_pid
record_wait video "$vid_pid"
record_wait trackcomp "$tc_pid"
record_wait bob "$pb_pid"
stop_room
egress_ok video "$vid"
egress_ok trackcomp "$tc"
egress_ok bob "$pb"

analyze video "$vid" --grid 6x6
V=$work/video.an.json
off=$(file_started_offset video)
check "video only: H.264 640x360, no audio stream" \
  '([.streams[] | [.type, .codec]] == [["video","h264"]]) and .audio == null and
   ([.streams[0].width, .streams[0].height] == [640, 360]) and (.errors | length == 0)' "$V"
window video "$off" 0 6 "alice and bob" "$hues == [\"blue\",\"red\"]"
window video "$off" 6 10 "carol joined" "$hues == [\"blue\",\"green\",\"red\"]"
window video "$off" 10 14 "bob's camera muted" "$hues == [\"green\",\"red\"]"

analyze trackcomp "$tc" --tones 300,500,700
T=$work/trackcomp.an.json
check "track composite: video + audio, no decode errors" \
  '([.streams[].type] | sort == ["audio","video"]) and (.errors | length == 0)' "$T"
check "track composite: alice's red picture throughout" \
  '[region("frame") | .seconds[] | select(.t >= 1) | .rgb | hue] | length >= 10 and all(. == "red")' "$T"
check "track composite: bob's 500 Hz only" \
  '[.audio.seconds[] | select(.t >= 1 and .tones != null) | .tones] | length >= 10 and
   all(.["500"] >= 0.3 and .["300"] < 0.01 and .["700"] < 0.01)' "$T"

analyze bob "$pb" --tones 300,500,700
B=$work/bob.an.json
off=$(file_started_offset bob)
check "participant bob: video + audio, no decode errors" \
  '([.streams[].type] | sort == ["audio","video"]) and (.errors | length == 0)' "$B"
window bob "$off" 0 10 "bob's blue camera" '(region("frame") | rsec($t) | .rgb | hue) == "blue"'
window bob "$off" 10 14 "bob's camera muted: not shown" '(region("frame") | rsec($t) | .rgb | hue) != "blue"'
window bob "$off" 14 20 "bob's camera back" '(region("frame") | rsec($t) | .rgb | hue) == "blue"'
check "participant bob: bob's 500 Hz only" \
  '[.audio.seconds[] | select(.t >= 1 and .tones != null) | .tones] | length >= 10 and
   all(.["500"] >= 0.3 and .["300"] < 0.01 and .["700"] < 0.01)' "$B"
finish record_changes
