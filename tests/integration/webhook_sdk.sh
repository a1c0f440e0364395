#!/usr/bin/env bash
# labels: c
# roomrec's webhooks checked by LiveKit's own livekit-server-sdk (npm): rr-webhook-send
# sends egress_started, egress_updated (ACTIVE, ENDING) and egress_ended for one egress
# through worker/webhook to a port where nothing listens yet; once it has retried, the
# receiver (tests/node/webhook_receiver.mjs, WebhookReceiver.receive on every POST) is
# started there. Asserts that all four events arrive, verified by the SDK (JWT, sha256,
# protobuf-JSON), in order, with the expected egressInfo fields, and that the SDK refused
# a tampered body and a wrong secret.
set -euo pipefail
src=${RR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RR_BUILD_DIR:?RR_BUILD_DIR must be set}
node_dir="$src/tests/node"
sender="$build/tests/tools/rr-webhook-send"
key="APIwebhookSdk"
secret="webhook-sdk-secret-0123456789abcdef"
egress="EG_webhookSdk1"

if [ ! -x "$sender" ]; then
  echo "webhook_sdk: $sender missing (build the rr-webhook-send target)" >&2
  exit 1
fi
if [ ! -d "$node_dir/node_modules/livekit-server-sdk" ]; then
  echo "webhook_sdk: tests/node/node_modules missing; run: npm ci --prefix tests/node" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rr-webhook-sdk.XXXXXX")
send_pid=""
recv_pid=""
cleanup() {
  local rc=$?
  for p in $send_pid $recv_pid; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  if [ $rc -ne 0 ]; then
    echo "---- sender stderr ----" >&2; cat "$work/send.err" >&2 || true
    echo "---- receiver ----" >&2; cat "$work/recv.out" "$work/recv.err" >&2 || true
    echo "---- work dir kept: $work ----" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# A free port on 127.0.0.1 (nothing listens there until the receiver starts).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

"$sender" --url "http://127.0.0.1:$port/livekit/webhook" --api-key "$key" --api-secret "$secret" \
  --egress-id "$egress" --retry-initial 0.2 --give-up 300 >"$work/send.out" 2>"$work/send.err" &
send_pid=$!

# The receiver is down: wait (up to 60 s) until the sender has failed and retried twice.
for _ in $(seq 1 600); do
  [ "$(grep -c 'retrying in' "$work/send.err" || true)" -ge 2 ] && break
  kill -0 "$send_pid" 2>/dev/null || { echo "webhook_sdk: sender exited early" >&2; exit 1; }
  sleep 0.1
done
if [ "$(grep -c 'retrying in' "$work/send.err" || true)" -lt 2 ]; then
  echo "webhook_sdk: the sender never retried" >&2
  exit 1
fi

(cd "$node_dir" && exec node webhook_receiver.mjs --port "$port" --api-key "$key" \
  --api-secret "$secret") >"$work/recv.out" 2>"$work/recv.err" &
recv_pid=$!

# The sender ends once every event was delivered (or given up): up to 5 minutes.
rc=0
for _ in $(seq 1 3000); do
  kill -0 "$send_pid" 2>/dev/null || break
  # A receiver that refuses every POST would keep the sender retrying for its 5 minutes.
  if [ "$(grep -c '"error"' "$work/recv.out" 2>/dev/null || true)" -ge 3 ] &&
    ! grep -q '"event"' "$work/recv.out" 2>/dev/null; then
    echo "webhook_sdk: the SDK refused every webhook:" >&2
    head -3 "$work/recv.out" >&2
    exit 1
  fi
  sleep 0.1
done
if kill -0 "$send_pid" 2>/dev/null; then
  echo "webhook_sdk: the sender did not finish" >&2
  exit 1
fi
wait "$send_pid" || rc=$?
send_pid=""
echo "sender: $(cat "$work/send.out") (exit $rc)"
[ "$rc" -eq 0 ] || { echo "webhook_sdk: not every event was delivered" >&2; exit 1; }

python3 - "$work/recv.out" "$egress" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
egress = sys.argv[2]
errors = [l for l in lines if "error" in l]
assert not errors, f"the SDK refused a webhook: {errors}"
events = [(l["event"], l["status"]) for l in lines]
want = [("egress_started", "EGRESS_STARTING"), ("egress_updated", "EGRESS_ACTIVE"),
        ("egress_updated", "EGRESS_ENDING"), ("egress_ended", "EGRESS_COMPLETE")]
assert events == want, f"events {events}, expected {want}"
ids = set()
for l in lines:
    assert l["egressId"] == egress, l
    assert l["roomId"] == "RM_webhook" and l["roomName"] == "webhook-room", l
    assert l["contentType"] == "application/webhook+json", l
    assert l["id"].startswith("EV_") and l["id"] not in ids, l
    ids.add(l["id"])
    assert l["createdAt"].isdigit() and int(l["createdAt"]) > 1600000000, l
    assert l["request"] == "roomComposite" and l["preset"] == "H264_720P_30", l
assert lines[0]["tamperedBodyRefused"] is True, "the SDK accepted a tampered body"
assert lines[0]["wrongSecretRefused"] is True, "the SDK accepted a wrong secret"
files = lines[-1]["fileResults"]
assert files == [{"filename": "rec.mp4", "size": "123456", "duration": "12000000000"}], files
assert all(l["fileResults"] == [] for l in lines[:-1]), lines
print("webhook_sdk: 4 events verified by livekit-server-sdk, in order:",
      ", ".join(f"{e}/{s}" for e, s in events))
PY
