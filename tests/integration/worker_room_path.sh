#!/usr/bin/env bash
# labels: c,worker
# A room child learns the path to the server: once its first recording's media
# connection is up on a direct (host) pair, later recordings of the room gather only on
# that local address and transport — one UDP socket each, no ICE-TCP listeners, where
# the first had a socket and a listener on every local address (docs/WORKER.md: the
# descriptors are what the room child's main loop spends its time on). When that path
# does not work for a later recording (here a firewall on the loopback that lets the
# established flows through but drops new UDP flows to the room's ports), the recording
# rejoins gathering on every address and connects over ICE-TCP: it is not lost, and the
# child learns the path it found.
# Recordings that start while the first is connecting wait for its path (at most 3 s).
# Every recording ends COMPLETE with a decodable file.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"
rule_in=()
rule_out=()
drop_rules() {
  local r
  for r in rule_in rule_out; do
    local -n rr=$r
    if [ ${#rr[@]} -gt 0 ]; then
      iptables -D "${rr[@]}" 2>/dev/null || true
      ip6tables -D "${rr[@]}" 2>/dev/null || true
    fi
  done
}
cleanup_hook=drop_rules

# sockets PID → "UDP LISTEN": the process's UDP sockets and listening TCP sockets.
sockets() {
  python3 - "$1" <<'PY'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
def count(files, listen_only):
    n = 0
    for f in files:
        try:
            lines = open(f).read().splitlines()[1:]
        except OSError:
            continue
        for l in lines:
            p = l.split()
            if p[9] in inodes and (not listen_only or p[3] == "0A"):
                n += 1
    return n
print(count(["/proc/net/udp", "/proc/net/udp6"], False),
      count(["/proc/net/tcp", "/proc/net/tcp6"], True))
PY
}

base=$(python3 -c 'import random; print(random.randrange(42000, 60000, 40))')
tcp_port=$(free_port)
start_redis
start_room room "$scenarios/four.json" -udp-port-min "$base" -udp-port-max "$((base + 39))" \
  -tcp-port "$tcp_port"
worker_config 0.8 6
start_worker w1
w1=$wpid
hosts() { pgrep -P "$w1" -f 'record --host' || true; }

# Two recordings of the room at once: the first connects gathering on every address, the
# second waits for it (or, taken by the worker a moment later, finds its path known) and
# then gathers on its path alone.
submit EG_p1 0.2 "$(track_job EG_p1 alice/camera p1.webm)"
submit EG_p2 0.2 "$(track_job EG_p2 carol/camera p2.mp4)"
for id in EG_p1 EG_p2; do
  wait_status $id EGRESS_ACTIVE 40 && ok "$id ACTIVE" || fail "$id: $(status_of $id); $(tail -5 "$work/w1.log")"
done
n=$(hosts | wc -l)
[ "$n" = 1 ] && ok "one room child for both" || fail "$n room children: $(hosts)"
host=$(hosts | head -1)
grep -Eq "EG_p1 connected directly from [^ ]* \(UDP\): later recordings of this room gather only there" "$work/w1.log" &&
  ok "the room child learned the path of its first recording" ||
  fail "no path learned: $(grep -i 'connected directly' "$work/w1.log" | head -3)"
# EG_p2 either waited for EG_p1's path or (the worker took it later) started after it.
if grep -q "record: EG_p2 waits for EG_p1's connection" "$work/w1.log"; then
  grep -Eq "record: 1 recording\(s\) waited for EG_p1 \(its path is known\): starting them on " "$work/w1.log" &&
    ok "EG_p2 waited for EG_p1's path" || fail "EG_p2 waited but was not started on the path"
else
  grep -E "EG_p1 connected directly from|record: EG_p2 starts" "$work/w1.log" | head -1 |
    grep -q "EG_p1 connected directly" && ok "EG_p2 started after EG_p1's path was known" ||
    fail "EG_p2 neither waited nor came after the path: $(grep -E 'EG_p2|directly' "$work/w1.log" | head -3)"
fi
read -r udp listen < <(sockets "$host")
echo "room child $host with two recordings: $udp UDP sockets, $listen TCP listeners"
# The first: one UDP socket and one listener per local address; the second: one socket.
[ "$listen" -ge 1 ] && [ "$((udp - listen))" = 1 ] &&
  ok "the second recording has one UDP socket and no listener (the first $listen of each)" ||
  fail "$udp UDP sockets and $listen listeners for the two"

# New UDP flows to or from the room's ports dropped; the two running flows go on (in
# OUTPUT: a loopback flow's conntrack entry is confirmed before INPUT sees its packet, so
# a drop there would leave the flow established for the reply).
if ! iptables -L INPUT -n >/dev/null 2>&1 || ! ip6tables -L INPUT -n >/dev/null 2>&1; then
  echo "SKIP: the fallback needs iptables and ip6tables (root)"
else
  # ICE goes on checking the other pairs for a few seconds after it connected, and the
  # server may move its media to one of them: let it settle first.
  sleep 5
  tag="roomrec-worker-room-path-$$"
  rule_in=(OUTPUT -p udp --dport "$base:$((base + 39))" -m conntrack --ctstate NEW
    -m comment --comment "$tag" -j DROP)
  rule_out=(OUTPUT -p udp --sport "$base:$((base + 39))" -m conntrack --ctstate NEW
    -m comment --comment "$tag" -j DROP)
  iptables -I "${rule_in[@]}"
  iptables -I "${rule_out[@]}"
  ip6tables -I "${rule_in[@]}"
  ip6tables -I "${rule_out[@]}"
  submit EG_p3 0.2 "$(track_job EG_p3 bob/mic p3.ogg)"
  wait_status EG_p3 EGRESS_ACTIVE 90 && ok "EG_p3 ACTIVE although its path was blocked" ||
    fail "EG_p3: $(status_of EG_p3); $(grep EG_p3 "$work/w1.log" | tail -5)"
  grep -Eq "session: the connection through [^ ]* \(UDP\) failed" "$work/w1.log" &&
    ok "EG_p3 fell back to every local address" || fail "no fallback in the log"
  grep -Eq "EG_p3 connected directly from [^ ]* \(TCP\): later recordings" "$work/w1.log" &&
    ok "the room child now knows the TCP path EG_p3 found" ||
    fail "EG_p3's path not learned: $(grep 'connected directly' "$work/w1.log" | tail -2)"
  [ "$(status_of EG_p1)" = EGRESS_ACTIVE ] && [ "$(status_of EG_p2)" = EGRESS_ACTIVE ] &&
    ok "the first two recorded on" || fail "EG_p1 $(status_of EG_p1), EG_p2 $(status_of EG_p2)"
  sleep 3
fi
for id in EG_p1 EG_p2 EG_p3; do
  [ "$(status_of $id)" = EGRESS_ACTIVE ] || continue
  stop_job $id
done
for f in EG_p1:p1.webm EG_p2:p2.mp4 EG_p3:p3.ogg; do
  id=${f%%:*}
  file=$work/out/${f#*:}
  [ "$id" = EG_p3 ] && [ ${#rule_in[@]} = 0 ] && continue
  wait_status $id EGRESS_COMPLETE 40 && ok "$id COMPLETE" || fail "$id: $(status_of $id)"
  d=$(decoded_secs "$file")
  python3 -c "import sys; sys.exit(0 if float('${d:-0}') >= 2 else 1)" && ok "$file decodes: $d s" ||
    fail "$file duration '$d'"
done
drop_rules
rule_in=()
rule_out=()
kill -TERM "$w1"
wait "$w1" && ok "the worker exits 0 on SIGTERM" || fail "worker exit $?"
finish worker_room_path
