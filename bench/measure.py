#!/usr/bin/env python3
"""Runs a command and prints what it cost as JSON on stdout (the command's own output goes
to the files given): wall seconds, user and system CPU seconds, peak RSS (ru_maxrss of
the child = its VmHWM, in kB), voluntary and involuntary context switches, exit code.

  measure.py [--stdout FILE] [--stderr FILE] [--] CMD ARGS...

Only the command (and its waited-for children) is measured, never this script or
anything else running on the machine.
"""
import json
import os
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    out = err = None
    while args and args[0].startswith("--"):
        if args[0] == "--":
            args = args[1:]
            break
        if len(args) < 2:
            sys.exit("measure.py: %s needs a value" % args[0])
        if args[0] == "--stdout":
            out = args[1]
        elif args[0] == "--stderr":
            err = args[1]
        else:
            sys.exit("measure.py: unknown option %s" % args[0])
        args = args[2:]
    if not args:
        sys.exit("usage: measure.py [--stdout FILE] [--stderr FILE] [--] CMD ARGS...")
    fout = open(out, "wb") if out else subprocess.DEVNULL
    ferr = open(err, "wb") if err else subprocess.DEVNULL
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=fout, stderr=ferr)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    print(json.dumps({
        "cmd": os.path.basename(args[0]),
        "wall_s": round(wall, 3),
        "user_s": round(ru.ru_utime, 3),
        "sys_s": round(ru.ru_stime, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "maxrss_kb": ru.ru_maxrss,
        "voluntary_switches": ru.ru_nvcsw,
        "involuntary_switches": ru.ru_nivcsw,
        "exit": os.waitstatus_to_exitcode(status),
    }))


if __name__ == "__main__":
    main()
