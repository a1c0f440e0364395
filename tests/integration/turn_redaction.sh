#!/usr/bin/env bash
# labels: c,record
# TURN credentials that the server hands out in the JoinResponse never reach roomrec's log,
# not even libnice's debug output ("added relay server ... with user/pass : USER -- PASS"):
# a real coturn on 127.0.0.1 with a long-term user, the test room announcing it in
# `ice_servers`, and `roomrec record --force-relay` with every debug log on
# (ROOMREC_LOG_LEVEL=debug, G_MESSAGES_DEBUG=all, NICE_DEBUG=all). Checks: the media went
# through the TURN relay (the selected pair in the log, a recorded file) and neither the
# password nor the username appears anywhere in stdout or stderr.
set -euo pipefail
secret=record-secret-0123456789abcdef0123
. "$(dirname "$0")/data/lib.sh"

if ! command -v turnserver >/dev/null; then
  echo "SKIP: turnserver (coturn) not installed"
  exit 0
fi
turn_user=lk-turn-user-5d21
turn_pass=Pw-turn-7c1f9e2a-b04d
# A free UDP/TCP port for coturn and a relay range of its own.
read -r port relay_min < <(python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 40000)
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", p)); s.close()
    except OSError:
        continue
    print(p, random.randrange(41000, 60000, 200)); break')
mkdir -p "$work/turn" "$work/out"
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$port" \
  --min-port="$relay_min" --max-port="$((relay_min + 199))" --lt-cred-mech \
  --user="$turn_user:$turn_pass" --realm=roomrec.test --no-dtls --no-tls \
  --allow-loopback-peers --no-cli --userdb="$work/turn/db" --pidfile="$work/turn/pid" \
  --log-file="$work/turn/log" --simple-log --no-stdout-log >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done

servers="[{\"urls\":[\"turn:127.0.0.1:$port?transport=udp\"],\"username\":\"$turn_user\",\"credential\":\"$turn_pass\"}]"
start_room turn "$src/tests/testroom/scenarios/three.json" -ice-servers "$servers"
set +e
ROOMREC_LOG_LEVEL=debug G_MESSAGES_DEBUG=all NICE_DEBUG=all timeout 120 \
  "$roomrec" record --url "$url" --api-key $key --api-secret $secret --room demo \
  --track alice/camera --local-address 127.0.0.1 --force-relay --duration 3 --json \
  --output "$work/out/turn-{time}" >"$work/turn.json" 2>"$work/turn.log"
rc=$?
set -e
stop_room

[ "$rc" -eq 0 ] && ok "record exited 0" || fail "record exited $rc: $(tail -3 "$work/turn.log")"
check "EgressInfo COMPLETE with a file" \
  '.status == "EGRESS_COMPLETE" and (.fileResults | length == 1)' "$work/turn.json"
grep -q "ICE selected pair: relay .*(TURN 127.0.0.1:$port)" "$work/turn.log" &&
  ok "media went through the TURN relay" ||
  fail "no relay pair through TURN 127.0.0.1:$port selected"
grep -q "added relay server .*with user/pass : \[redacted\]" "$work/turn.log" &&
  ok "libnice's relay debug line is there, redacted" ||
  fail "libnice's 'added relay server' debug line is missing (debug logging off?)"
for what in "$turn_pass" "$turn_user"; do
  if grep -q -- "$what" "$work/turn.log" "$work/turn.json"; then
    fail "'$what' appears in the output: $(grep -h -m1 -- "$what" "$work/turn.log" "$work/turn.json" | cut -c1-200)"
  else
    ok "'$what' appears nowhere in the output"
  fi
done
if [ "$failures" -ne 0 ]; then
  echo "turn_redaction: $failures check(s) failed"
  exit 1
fi
echo "turn_redaction: all checks passed"
