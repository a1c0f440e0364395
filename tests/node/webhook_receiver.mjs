// A webhook receiver built on livekit-server-sdk's WebhookReceiver, for
// tests/integration/webhook_sdk.sh. Listens on 127.0.0.1:PORT; every POST is checked
// with receiver.receive(body, Authorization) — JWT signature and issuer, the sha256
// claim against the body, and the body parsed as a protobuf WebhookEvent — and answered
// 200 (one JSON line per event on stdout) or 401 (an "error" line).
// The first accepted POST is also checked to be refused when tampered with (body changed,
// wrong secret), so a receiver that accepted anything would fail the test.
//
// usage: node webhook_receiver.mjs --port PORT --api-key KEY --api-secret SECRET
import http from 'node:http';
import { webcrypto } from 'node:crypto';
import { EgressStatus, EncodingOptionsPreset } from '@livekit/protocol';

// Debian 12's Node 18 has no global Web Crypto in a module; livekit-server-sdk verifies
// with globalThis.crypto.subtle (Node 19 and later have it). Set it before loading the SDK.
if (!globalThis.crypto?.subtle) {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });
}
const { WebhookReceiver } = await import('livekit-server-sdk');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []),
);
const receiver = new WebhookReceiver(args['api-key'], args['api-secret']);
const wrong = new WebhookReceiver(args['api-key'], 'not-the-secret-0123456789');
let first = true;

async function refused(fn) {
  try {
    await fn();
    return false;
  } catch {
    return true;
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const auth = req.headers.authorization;
    try {
      if (req.method !== 'POST') throw new Error(`method ${req.method}`);
      const ev = await receiver.receive(body, auth);
      const line = {
        event: ev.event,
        id: ev.id,
        createdAt: String(ev.createdAt),
        contentType: req.headers['content-type'],
        egressId: ev.egressInfo?.egressId,
        roomId: ev.egressInfo?.roomId,
        roomName: ev.egressInfo?.roomName,
        // The SDK's enum values, mapped back to their protobuf names.
        status: ev.egressInfo ? EgressStatus[ev.egressInfo.status] : undefined,
        request: ev.egressInfo?.request?.case,
        preset: EncodingOptionsPreset[ev.egressInfo?.request?.value?.options?.value],
        fileResults: (ev.egressInfo?.fileResults ?? []).map((f) => ({
          filename: f.filename,
          size: String(f.size),
          duration: String(f.duration),
        })),
      };
      if (first) {
        first = false;
        line.tamperedBodyRefused = await refused(() => receiver.receive(body + ' ', auth));
        line.wrongSecretRefused = await refused(() => wrong.receive(body, auth));
      }
      console.log(JSON.stringify(line));
      res.writeHead(200).end('ok');
    } catch (e) {
      console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
      res.writeHead(401).end('refused');
    }
  });
});
server.listen(Number(args.port), '127.0.0.1', () => {
  console.error(`webhook_receiver: listening on 127.0.0.1:${args.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
