#!/usr/bin/env bash
# labels: c,queue
# The operator commands on the Redis queue against a redis-server this test starts:
# `roomrec submit` prints an EG_ id (or keeps the job's own), `status` shows
# EGRESS_STARTING with the request echoed, `list` filters by --room and --active and has
# --json, `stop` queues a stop for a known egress and is a clear error (exit 1) for an
# unknown or ended one, a bad job is refused naming the field (exit 2), --prefix isolates,
# and an unreachable Redis is a clear error. The password never appears in the output.
set -euo pipefail
. "$(dirname "$0")/data/lib.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/redis"
redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --save "" --appendonly no \
  --requirepass qpw-0123456789 --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
export REDIS_ADDRESS=127.0.0.1:$port REDIS_PASSWORD=qpw-0123456789 ROOMREC_KEY_PREFIX=qt:
rcli() { REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -p "$port" "$@"; }

run() { # run NAME ARGS... → rc (stdout NAME.out, stderr NAME.err)
  local name=$1
  shift
  set +e
  timeout 60 "$roomrec" "$@" >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  set -e
  if grep -q qpw-0123456789 "$work/$name.out" "$work/$name.err"; then fail "$name: password printed"; fi
}
expect() { # expect NAME RC PATTERN: exit code and a line of stdout+stderr matching PATTERN
  if [ "$rc" -eq "$2" ] && cat "$work/$1.out" "$work/$1.err" | grep -Eq -- "$3"; then
    ok "$1: exit $2, /$3/"
  else
    fail "$1: exit $rc (want $2), output: $(cat "$work/$1.out" "$work/$1.err" | head -5)"
  fi
}

cat >"$work/a.json" <<'J'
{"room_composite": {"room_name": "alpha", "layout": "speaker",
 "file_outputs": [{"filepath": "out/{room_name}.mp4"}]}}
J
cat >"$work/b.json" <<'J'
{"egress_id": "EG_fixedid0001", "track": {"room_name": "beta", "track_id": "TR_x"}}
J
cat >"$work/bad.json" <<'J'
{"room_composite": {"room_name": "alpha", "file_outputs": [{"filpath": "x.mp4"}]}}
J

run submit_a submit "$work/a.json"
expect submit_a 0 '^EG_[A-Za-z0-9]{12}$'
ida=$(cat "$work/submit_a.out")
run submit_b submit --cost 1.5 "$work/b.json"
expect submit_b 0 '^EG_fixedid0001$'
run submit_dup submit "$work/b.json"
expect submit_dup 1 'EG_fixedid0001: exists already'
run submit_bad submit "$work/bad.json"
expect submit_bad 2 'room_composite.file_outputs\[0\].filpath: unknown field'
run submit_missing submit "$work/nope.json"
expect submit_missing 2 'nope.json'
[ "$(rcli XLEN qt:jobs)" = 2 ] && ok "two jobs on the stream" || fail "stream: $(rcli XLEN qt:jobs)"
[ "$(rcli XRANGE qt:jobs - + | grep -c '^1.5$')" = 1 ] && ok "the cost is on the entry" ||
  fail "cost: $(rcli XRANGE qt:jobs - +)"

run status_a status "$ida"
expect status_a 0 EGRESS_STARTING
check "status: EgressInfo of the request" \
  ".egressId == \"$ida\" and .status == \"EGRESS_STARTING\" and .roomName == \"alpha\" and .roomComposite.layout == \"speaker\"" \
  "$work/status_a.out"
run status_unknown status EG_doesnotexist
expect status_unknown 1 'no egress with id EG_doesnotexist'

# Egress B ends (as a worker would write it): list --active leaves it out.
rcli HSET qt:egress:EG_fixedid0001 status EGRESS_COMPLETE final 1 >/dev/null
run list_all list
expect list_all 0 "^$ida +EGRESS_STARTING +alpha"
grep -q '^EG_fixedid0001 .*EGRESS_COMPLETE .*beta' "$work/list_all.out" && ok "list: both" ||
  fail "list: $(cat "$work/list_all.out")"
run list_active list --active
[ "$rc" -eq 0 ] && grep -q "^$ida" "$work/list_active.out" && ! grep -q EG_fixedid0001 "$work/list_active.out" &&
  ok "list --active: only the running one" || fail "list --active: $(cat "$work/list_active.out")"
run list_room list --room beta --json
check "list --room beta --json: just B" '(length == 1) and .[0].egressId == "EG_fixedid0001"' "$work/list_room.out"
run list_prefix list --prefix other: --json
check "another prefix sees nothing" 'length == 0' "$work/list_prefix.out"

run stop_a stop "$ida"
expect stop_a 0 "stop requested for $ida"
[ "$(rcli LRANGE "qt:ctl:$ida" 0 -1)" = '{"stop":true}' ] && ok "stop queued for the holder" ||
  fail "control list: $(rcli LRANGE "qt:ctl:$ida" 0 -1)"
run stop_unknown stop EG_doesnotexist
expect stop_unknown 1 'no egress with id EG_doesnotexist'
run stop_done stop EG_fixedid0001
expect stop_done 1 'EG_fixedid0001 has ended already \(EGRESS_COMPLETE\)'

run wrong_pw list --redis-password not-the-password
expect wrong_pw 1 'refused the credentials'
grep -q not-the-password "$work/wrong_pw.err" && fail "wrong password printed" || ok "wrong password not printed"
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run unreachable list --redis "127.0.0.1:$dead"
expect unreachable 1 "cannot connect to 127.0.0.1:$dead"
run bad_address list --redis "nohost:99999"
expect bad_address 2 'port is not a number'

[ "$failures" -eq 0 ] || exit 1
