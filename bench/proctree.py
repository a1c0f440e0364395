#!/usr/bin/env python3
"""Measures running process trees from /proc for a while and prints JSON on stdout.

  proctree.py SECONDS PID [PID...]

For each PID given, its tree (the process and every descendant, found again at every
sample, so children started later count from the sample that first sees them): CPU
seconds used during the window (utime+stime of all threads; a process that ends within
the window counts up to its last sample), the peak over the samples (one a second) of
the sum of PSS and of RSS over the tree, and the most processes seen. Nothing else on
the machine is measured, and this script's own work is not in the numbers.

  {"wall_s": 20.0, "trees": {"1234": {"cpu_s": 3.2, "peak_pss_kb": ..., "peak_rss_kb":
   ..., "procs": 3}}}
"""
import json
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def stat_of(pid):
    """(ppid, cpu ticks) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # after ')': state ppid ... utime(14th field overall = rest[11]) stime(rest[12])
    return int(rest[1]), int(rest[11]) + int(rest[12])


def mem_of(pid):
    """(pss kB, rss kB) of pid from smaps_rollup, or (0, 0)."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def snapshot():
    """{pid: (ppid, ticks)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_of(int(d))
            if st:
                out[int(d)] = st
    return out


def tree(root, procs):
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    seen, todo = [], [root]
    while todo:
        p = todo.pop()
        if p in procs:
            seen.append(p)
            todo.extend(kids.get(p, []))
    return seen


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: proctree.py SECONDS PID [PID...]")
    secs = float(sys.argv[1])
    roots = [int(p) for p in sys.argv[2:]]
    first = {}  # (root, pid) -> ticks at the first sample that saw it
    last = {}   # (root, pid) -> ticks at the latest sample
    peak_pss = {r: 0 for r in roots}
    peak_rss = {r: 0 for r in roots}
    nprocs = {r: 0 for r in roots}
    t0 = time.monotonic()
    while True:
        procs = snapshot()
        now = time.monotonic()
        for r in roots:
            members = tree(r, procs)
            nprocs[r] = max(nprocs[r], len(members))
            pss = rss = 0
            for p in members:
                first.setdefault((r, p), procs[p][1])
                last[(r, p)] = procs[p][1]
                m = mem_of(p)
                pss += m[0]
                rss += m[1]
            peak_pss[r] = max(peak_pss[r], pss)
            peak_rss[r] = max(peak_rss[r], rss)
        if now - t0 >= secs:
            break
        time.sleep(min(1.0, max(0.0, secs - (now - t0))))
    wall = time.monotonic() - t0
    out = {"wall_s": round(wall, 3), "trees": {}}
    for r in roots:
        ticks = sum(last[k] - first[k] for k in last if k[0] == r)
        out["trees"][str(r)] = {"cpu_s": round(ticks / TICKS, 3), "peak_pss_kb": peak_pss[r],
                                "peak_rss_kb": peak_rss[r], "procs": nprocs[r]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
