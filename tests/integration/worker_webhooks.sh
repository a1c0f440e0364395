#!/usr/bin/env bash
# labels: c,worker
# `roomrec worker`'s webhooks end to end, checked by livekit-server-sdk's WebhookReceiver
# (tests/node/webhook_receiver.mjs): the config's webhook.urls points at port A and the
# request carries its own `webhooks` entry for port B (signing_key "": the worker's key);
# nothing listens on either while a short track egress runs to COMPLETE. Then both
# receivers start: every event arrives at both, SDK-verified (JWT, sha256, protobuf-JSON),
# in order — egress_started STARTING, egress_updated ACTIVE, egress_updated ENDING,
# egress_ended COMPLETE — for this egress, with the final file listed last.
set -euo pipefail
. "$(dirname "$0")/data/worker-lib.sh"

node_dir="$src/tests/node"
if [ ! -d "$node_dir/node_modules/livekit-server-sdk" ]; then
  fail "tests/node/node_modules missing; run: npm ci --prefix tests/node"
  finish worker_webhooks
fi

start_redis
start_room hooks "$scenarios/four.json"
worker_config 0.8 6
pa=$(free_port)
pb=$(free_port)
cat >>"$work/worker.yaml" <<Y
webhook:
  urls:
    - http://127.0.0.1:$pa/livekit/webhook
Y
start_worker w1

job=$(printf '{"egress_id":"EG_hook1","track":{"room_name":"four","track_id":"alice/mic","file":{"filepath":"hook1.ogg"},"webhooks":[{"url":"http://127.0.0.1:%s/job-hook","signing_key":""}]}}' "$pb")
submit EG_hook1 0.2 "$job"
wait_status EG_hook1 EGRESS_ACTIVE 60 && ok "ACTIVE" || fail "not ACTIVE: $(status_of EG_hook1)"
sleep 3
stop_job EG_hook1
wait_status EG_hook1 EGRESS_COMPLETE 60 && ok "COMPLETE" || fail "not COMPLETE: $(status_of EG_hook1)"
grep -q "retrying in\|retry" "$work/w1.log" && ok "the worker retried the undelivered webhooks" ||
  fail "no retry in the worker's log: $(grep -i webhook "$work/w1.log" | tail -3)"

for t in a b; do
  port=$pa
  [ $t = b ] && port=$pb
  (cd "$node_dir" && exec node webhook_receiver.mjs --port "$port" --api-key "$key" \
    --api-secret "$secret") >"$work/recv-$t.out" 2>"$work/recv-$t.err" &
  pids+=($!)
done
# The retries back off up to 30 s: wait up to 120 s for the four events at each.
for _ in $(seq 1200); do
  [ "$(grep -c . "$work/recv-a.out" || true)" -ge 4 ] && [ "$(grep -c . "$work/recv-b.out" || true)" -ge 4 ] && break
  sleep 0.1
done
sleep 1 # anything more (a duplicate) would show up now
for t in a b; do
  python3 - "$work/recv-$t.out" <<'PY' && ok "target $t: 4 events, SDK-verified, in order" ||
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert not [l for l in lines if "error" in l], f"refused by the SDK: {lines}"
got = [(l["event"], l["status"]) for l in lines]
want = [("egress_started", "EGRESS_STARTING"), ("egress_updated", "EGRESS_ACTIVE"),
        ("egress_updated", "EGRESS_ENDING"), ("egress_ended", "EGRESS_COMPLETE")]
assert got == want, f"events {got}, expected {want}"
assert all(l["egressId"] == "EG_hook1" and l["roomName"] == "four" for l in lines), lines
assert all(l["request"] == "track" for l in lines), lines
assert lines[0]["tamperedBodyRefused"] and lines[0]["wrongSecretRefused"], lines[0]
assert len({l["id"] for l in lines}) == 4, lines
files = lines[-1]["fileResults"]
assert len(files) == 1 and files[0]["filename"].endswith("hook1.ogg"), files
PY
    fail "target $t: $(cat "$work/recv-$t.out" "$work/recv-$t.err")"
done
finish worker_webhooks
