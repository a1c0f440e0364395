#!/usr/bin/env bash
# labels: c,rtc
# PLI → keyframe causality. The test room's encoders make keyframes only every 60 s
# (scenario probe-pli.json: VP8 and H.264 cameras with keyframe_interval 60), so every
# keyframe after the first must be an answer to a PLI.
#  A. `roomrec probe --pli-every 2` for 14 s: the room's report lists, per downtrack, the
#     times of the PLIs it received, of its own keyframe requests (subscription start) and
#     of the keyframes it sent; every PLI is followed by a keyframe within 1 s and every
#     keyframe but the first (the encoder's start) follows a PLI or the room's own request
#     by at most 1 s.
#     On roomrec's side (its JSON), every PLI it sent is followed by a keyframe it received
#     within 1 s, and it counts as many keyframes as the room sent.
#  B. the same without --pli-every: only the PLI roomrec sends when media starts, so the
#     keyframes of the start (encoder start, subscription, that PLI) and none after 2 s.
set -euo pipefail
secret=probe-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"

# check_causality PROBE_JSON ROOM_REPORT IDENTITY MODE: prints "ok: ..." / "FAIL: ..." lines.
check_causality() {
  python3 - "$@" <<'EOF'
import json, sys
probe_path, room_path, identity, mode = sys.argv[1:5]
probe = json.load(open(probe_path))
room = json.load(open(room_path))
WITHIN = 1000  # ms
bad = 0
def say(ok, what):
    global bad
    print(("ok: " if ok else "FAIL: ") + what)
    bad += not ok
client = [c for c in room["clients"] if c["identity"] == identity]
say(len(client) == 1, f"{mode}: the room knows {identity}")
if not client:
    sys.exit(1)
room_tracks = {sid: t for sid, t in client[0]["tracks"].items() if t["kind"] == "video"}
ours = {t["sid"]: t for t in probe["session"]["tracks"] if t["kind"] == "video"}
say(len(ours) == 2 and set(ours) <= set(room_tracks),
    f"{mode}: two video tracks on both sides ({sorted(ours)} / {sorted(room_tracks)})")
def answered(plis, keys):
    """Delay from each PLI to the first keyframe at or after it (None: none within WITHIN)."""
    out = []
    for p in plis:
        after = [k - p for k in keys if 0 <= k - p <= WITHIN]
        out.append(min(after) if after else None)
    return out
def caused(causes, keys):
    """Delay from the latest cause to each keyframe but the first (None: no cause before)."""
    out = []
    for k in keys[1:]:
        before = [k - p for p in causes if 0 <= k - p <= WITHIN]
        out.append(min(before) if before else None)
    return out
for sid, t in sorted(ours.items()):
    r = room_tracks.get(sid, {})
    rp, rk = r.get("pli_times_ms", []), r.get("keyframe_times_ms", [])
    rq = r.get("keyframe_requests_ms", [])
    op, ok_ = t.get("pli_times_ms", []), t.get("keyframe_times_ms", [])
    name = f"{mode}: {t['participant']} {t['codec']}"
    print(f"# {name}: room PLIs {len(rp)} keyframes {len(rk)}; roomrec PLIs {len(op)} "
          f"keyframes {t['keyframes']}")
    say(r.get("pli") == len(rp) and r.get("keyframes_sent") == len(rk),
        f"{name}: room time lists complete")
    a, c = answered(rp, rk), caused(sorted(rp + rq), rk)
    print(f"# {name}: room requests {len(rq)}; PLI→keyframe ms {a}; keyframe←PLI/request ms {c}")
    say(len(rq) >= 1, f"{name}: the room asked for a keyframe when the subscription started")
    say(all(d is not None for d in a), f"{name}: every PLI the room got was answered within 1 s")
    say(all(d is not None for d in c),
        f"{name}: every keyframe after the first followed a PLI or the room's own request")
    late = [k for k in rk if not any(0 <= k - p <= WITHIN for p in rp) and k - rk[0] > 2000]
    say(not late, f"{name}: after the start, keyframes only follow PLIs ({len(late)} others)")
    oa = answered(op, ok_)
    print(f"# {name}: roomrec PLI→keyframe ms {oa}")
    say(all(d is not None for d in oa), f"{name}: every PLI roomrec sent brought a keyframe within 1 s")
    # The room's first keyframe can go out before roomrec's SRTP is up, and its last one
    # can still be on the way when roomrec stops (under ASan one run missed both): every
    # keyframe the room sent between roomrec's first and last is one roomrec received.
    inside = [k for k in rk if ok_ and ok_[0] - 50 <= k <= ok_[-1]]
    missed = [k for k in inside if not any(-50 <= o - k <= WITHIN for o in ok_)]
    say(t["keyframes"] >= 1 and not missed and len(rk) - 2 <= t["keyframes"] <= len(rk) + 1,
        f"{name}: roomrec received the keyframes the room sent ({t['keyframes']} vs {len(rk)}, "
        f"missed in between: {missed})")
    if mode == "A":
        say(len(rp) >= 5 and len(op) >= len(rp), f"{name}: periodic PLIs reached the room ({len(rp)})")
        say(len(rp) <= t["keyframes"] <= len(rp) + len(rq) + 1,
            f"{name}: keyframes = PLIs + the start's: {t['keyframes']} for {len(rp)} PLIs, "
            f"{len(rq)} room request(s)")
    else:
        say(len(op) == 1 and len(rp) == 1, f"{name}: one PLI only (at media start): {len(op)}")
        say(1 <= len(rk) <= len(rq) + 2 and t["keyframes"] <= len(rq) + 2,
            f"{name}: only the start's keyframes without PLIs ({len(rk)} sent, "
            f"{len(rq)} room request(s))")
        say(all(k - rk[0] <= 2000 for k in rk), f"{name}: no keyframe after the first 2 s")
sys.exit(1 if bad else 0)
EOF
}

run() { # run NAME DURATION PROBE-ARGS...
  local name=$1 dur=$2
  shift 2
  start_room "$name" "$src/tests/integration/data/probe-pli.json"
  set +e
  "$roomrec" probe --url "$url" --api-key $key --api-secret $secret --room pli \
    --identity "probe-$name" --duration "$dur" --json "$@" \
    >"$work/$name.json" 2>"$work/$name.log"
  rc=$?
  set -e
  stop_room
  [ "$rc" -eq 0 ] || fail "probe $name exit code $rc: $(tail -3 "$work/$name.log")"
  jq -e '.session.state == "connected" and .error == null' "$work/$name.json" >/dev/null ||
    fail "$name: session not connected at the end"
  local out
  set +e
  out=$(check_causality "$work/$name.json" "$work/$name.report.json" "probe-$name" "${name^^}")
  local crc=$?
  set -e
  echo "$out"
  [ "$crc" -eq 0 ] || failures=$((failures + $(grep -c '^FAIL' <<<"$out") + 0))
  [ "$crc" -eq 0 ] || [ "$(grep -c '^FAIL' <<<"$out")" -gt 0 ] || fail "$name: checker error"
}

run a 14 --pli-every 2
run b 10

if [ "$failures" -ne 0 ]; then
  echo "probe_pli: $failures check(s) failed"
  exit 1
fi
echo "probe_pli: all checks passed"
