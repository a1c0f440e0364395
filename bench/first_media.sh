#!/usr/bin/env bash
# Time to first media: from launching `roomrec record` (room composite, grid, 720p) against
# the test room on loopback (tests/testroom/scenarios/four.json, already running) to
#  - bytes: the output's .part file first has data (polled every 5 ms): the MP4 header;
#  - media: the file first holds a complete fragment (moof + mdat: encoded media);
#  - started: the file's start as the EgressInfo reports it (fileResults[0].startedAt,
#    the moment the first decodable media opened the start gate).
# Several runs (BENCH_RUNS, default 5), each recording 3 s; prints min/median/max.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need "$roomrec" "$testroom"
runs=${BENCH_RUNS:-5}

start_room four "$scenarios/four.json"
sleep 2 # the participants' media is flowing before the first run
# shellcheck disable=SC2046
python3 - "$runs" "$work" "$roomrec" $(rec_args four) <<'EOF'
import json, os, statistics, struct, subprocess, sys, time

class FragmentWatch:
    """Whether a growing (fragmented) MP4 holds a complete moof followed by its mdat. Reads
    only the top-level box headers it has not seen yet: polling every 5 ms must not compete
    with the recorder it measures."""
    def __init__(self, path):
        self.path, self.off, self.moof = path, 0, False

    def done(self):
        try:
            with open(self.path, "rb") as f:
                size_now = os.fstat(f.fileno()).st_size
                while self.off + 8 <= size_now:
                    f.seek(self.off)
                    size, kind = struct.unpack(">I4s", f.read(8))
                    if size < 8 or self.off + size > size_now:
                        return False
                    if kind == b"mdat" and self.moof:
                        return True
                    self.moof = self.moof or kind == b"moof"
                    self.off += size
        except OSError:
            pass
        return False

runs, work, roomrec, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
rows = []
for i in range(runs):
    out = f"{work}/first-{i}.mp4"
    t0_wall, t0 = time.time(), time.monotonic()
    with open(f"{work}/first-{i}.json", "wb") as js, open(f"{work}/first-{i}.log", "wb") as log:
        p = subprocess.Popen([roomrec, "record", *args, "--layout", "grid", "--preset",
                              "H264_720P_30", "--output", out, "--duration", "3", "--json"],
                             stdout=js, stderr=log)
        t_bytes = t_media = None
        watch = FragmentWatch(out + ".part")
        while p.poll() is None:
            try:
                if t_bytes is None and os.path.getsize(out + ".part") > 0:
                    t_bytes = time.monotonic() - t0
            except OSError:
                pass
            if t_bytes is not None and t_media is None and watch.done():
                t_media = time.monotonic() - t0
            time.sleep(0.005)
    try:
        info = json.load(open(f"{work}/first-{i}.json"))
        started = int(info["fileResults"][0]["startedAt"]) / 1e9 - t0_wall
    except (ValueError, KeyError, IndexError):
        started = None
    if p.returncode != 0 or t_bytes is None:
        print(f"run {i}: roomrec record exited {p.returncode}, bytes {t_bytes}", file=sys.stderr)
    rows.append((t_bytes, started, t_media))
    print(f"run {i}: first bytes {t_bytes * 1000:.0f} ms, first fragment {t_media * 1000:.0f} ms, "
          f"started {started * 1000:.0f} ms"
          if t_bytes and started and t_media else f"run {i}: incomplete ({t_bytes}, {t_media}, {started})")
    time.sleep(0.5)

def stats(vals):
    vals = [v * 1000 for v in vals if v is not None]
    if not vals:
        return None
    return {"min": round(min(vals)), "median": round(statistics.median(vals)), "max": round(max(vals)), "n": len(vals)}
b, s, m = stats([r[0] for r in rows]), stats([r[1] for r in rows]), stats([r[2] for r in rows])
print(f"\n== time to first media (ms, {runs} runs, loopback)")
for name, st in (("first bytes in file", b), ("first media fragment", m), ("EgressInfo startedAt", s)):
    print(f"{name:22}" + (f"min {st['min']:5d}  median {st['median']:5d}  max {st['max']:5d}" if st else "no data"))
print("RESULT " + json.dumps({"bench": "first_media", "first_bytes_ms": b, "first_fragment_ms": m, "started_ms": s}))
if b is None:
    sys.exit(1)
EOF
stop_room
