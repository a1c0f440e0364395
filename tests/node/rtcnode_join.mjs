// Joins a LiveKit-protocol room with LiveKit's own Node SDK (@livekit/rtc-node) as a
// hidden, subscribe-only recorder, decodes every video track and receives every audio
// track for --duration seconds, then prints JSON stats and disconnects cleanly.
// Used by tests/integration/rtcnode_join.sh against roomrec's Go test room.
//
// Usage:
//   node rtcnode_join.mjs --url ws://127.0.0.1:7880 --room demo [--api-key devkey]
//        [--api-secret SECRET] [--identity rtcnode-recorder] [--duration 20]
//        [--out stats.json]
//   node rtcnode_join.mjs --bad-token --url ... --room demo
//        connects with a token signed with a wrong secret; exits 0 only if the SDK
//        refuses the connection with its 401 error (ConnectError naming the token).
//
// Stats JSON: {connected, room, local_identity, participants: [...], tracks: {sid:
// {participant, kind, name, source, mime_type, frames, width, height, fps, ...}},
// disconnect: {clean, reason}}.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AccessToken } from 'livekit-server-sdk';

// rtc-node logs through pino to stdout at debug level unless NODE_ENV=production;
// keep stdout for the stats JSON (RR_RTCNODE_DEBUG=1 keeps the SDK's debug lines).
if (!process.env.RR_RTCNODE_DEBUG) process.env.NODE_ENV = 'production';
const { AudioStream, ConnectError, Room, RoomEvent, TrackKind, VideoBufferType, VideoStream, dispose } = await import('@livekit/rtc-node');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string', default: 'demo' },
    'api-key': { type: 'string', default: 'devkey' },
    'api-secret': { type: 'string', default: 'secret-secret-secret-secret-32b' },
    identity: { type: 'string', default: 'rtcnode-recorder' },
    duration: { type: 'string', default: '20' },
    out: { type: 'string' },
    'bad-token': { type: 'boolean', default: false },
  },
});
if (!args.url) {
  console.error('usage: node rtcnode_join.mjs --url ws://HOST:PORT --room ROOM [--bad-token]');
  process.exit(2);
}
const t0 = Date.now();

// The native FFI forwards its Rust log records as FfiEvent "logs", which rtc-node 1.1
// drops. With RUST_LOG set (e.g. livekit=debug,livekit_api=debug,libwebrtc=debug),
// print them to stderr.
function captureRustLogs() {
  const ffi = globalThis._ffiClientInstance;
  if (!process.env.RUST_LOG || !ffi || ffi._rrLogs) return;
  ffi._rrLogs = true;
  const levels = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];
  // The FFI sends every record; filter like env_logger: "target=level" directives
  // (longest matching target prefix wins) and an optional bare default level.
  const rank = (name) => Math.max(0, levels.indexOf(String(name).toUpperCase()));
  let deflt = rank('warn');
  const directives = [];
  for (const d of process.env.RUST_LOG.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [t, l] = d.includes('=') ? d.split('=') : [null, d];
    if (t === null) deflt = rank(l);
    else directives.push([t, rank(l)]);
  }
  directives.sort((a, b) => b[0].length - a[0].length);
  const allowed = (r) => {
    const d = directives.find(([t]) => r.target === t || r.target.startsWith(`${t}::`));
    return r.level <= (d ? d[1] : deflt);
  };
  ffi.on('ffi_event', (event) => {
    if (event.message?.case !== 'logs') return;
    for (const r of event.message.value.records) {
      if (!allowed(r)) continue;
      console.error(`[rust ${((Date.now() - t0) / 1000).toFixed(3)}s ${levels[r.level] ?? r.level} ${r.target}] ${r.message}`);
    }
  });
}
const elapsed = () => (Date.now() - t0) / 1000;
const note = (msg) => console.error(`[rtcnode ${elapsed().toFixed(1)}s] ${msg}`);

async function mintToken(secret) {
  const at = new AccessToken(args['api-key'], secret, { identity: args.identity, name: 'rtc-node recorder', ttl: '10m' });
  at.addGrant({
    roomJoin: true,
    room: args.room,
    canSubscribe: true,
    canPublish: false,
    canPublishData: false,
    hidden: true,
    recorder: true,
  });
  at.kind = 'egress';
  return at.toJwt();
}

// ---------------------------------------------------------------- bad token
if (args['bad-token']) {
  const token = await mintToken('wrong-secret-wrong-secret-wrong!');
  const room = new Room();
  let result;
  try {
    const connecting = room.connect(args.url, token, { autoSubscribe: true, dynacast: false });
    captureRustLogs(); // the FFI client exists once connect() has started
    await connecting;
    result = { rejected: false, error: null };
    await room.disconnect();
  } catch (e) {
    result = { rejected: true, error_class: e?.constructor?.name, message: String(e?.message ?? e) };
  }
  await dispose();
  const expected =
    result.rejected && result.error_class === ConnectError.name && /401|unauthori[sz]ed|token/i.test(result.message);
  result.as_expected = expected;
  console.log(JSON.stringify(result, null, 2));
  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
  process.exit(expected ? 0 : 1);
}

// ---------------------------------------------------------------- join and receive
const duration = Number(args.duration) * 1000;
const stats = {
  connected: false,
  room: args.room,
  local_identity: args.identity,
  participants: [],
  tracks: {},
  events: [],
  disconnect: null,
  error: null,
};
const readers = [];
const ev = (what, extra = {}) => stats.events.push({ t: Number(elapsed().toFixed(3)), what, ...extra });

// Luma spread of an I420 frame (0 for a flat frame): proves frames carry a picture.
function lumaStdDev(frame) {
  const n = frame.width * frame.height;
  const y = frame.data;
  if (!y || y.length < n) return null;
  let sum = 0;
  let sq = 0;
  const step = 7; // sample every 7th pixel: cheap and enough
  let k = 0;
  for (let i = 0; i < n; i += step, k++) {
    sum += y[i];
    sq += y[i] * y[i];
  }
  const mean = sum / k;
  return Math.sqrt(Math.max(0, sq / k - mean * mean));
}

async function readVideo(track, st) {
  const stream = new VideoStream(track);
  const reader = stream.getReader();
  readers.push(reader);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const f = value.frame;
    const now = elapsed();
    if (st.frames === 0) {
      st.first_frame_at = Number(now.toFixed(3));
      note(`first video frame on ${st.participant}/${st.name}: ${f.width}x${f.height}`);
    }
    st.frames++;
    st.last_frame_at = Number(now.toFixed(3));
    st.width = f.width;
    st.height = f.height;
    st.min_width = Math.min(st.min_width ?? f.width, f.width);
    st.min_height = Math.min(st.min_height ?? f.height, f.height);
    if (st.frames % 30 === 1 && f.type === VideoBufferType.I420) {
      const sd = lumaStdDev(f);
      if (sd !== null) st.luma_stddev_max = Math.max(st.luma_stddev_max ?? 0, Number(sd.toFixed(2)));
    }
  }
}

async function readAudio(track, st) {
  const stream = new AudioStream(track, { sampleRate: 48000, numChannels: 1 });
  const reader = stream.getReader();
  readers.push(reader);
  let sq = 0;
  let n = 0;
  let crossings = 0;
  let toneSamples = 0;
  let prev = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const fr = value;
    const now = elapsed();
    if (st.frames === 0) {
      st.first_frame_at = Number(now.toFixed(3));
      note(`first audio frame on ${st.participant}/${st.name}: ${fr.sampleRate} Hz x${fr.channels}`);
    }
    st.frames++;
    st.last_frame_at = Number(now.toFixed(3));
    st.sample_rate = fr.sampleRate;
    st.channels = fr.channels;
    const d = fr.data; // Int16Array, interleaved
    let fsq = 0;
    for (let i = 0; i < d.length; i += fr.channels) fsq += d[i] * d[i];
    const frms = Math.sqrt(fsq / Math.max(1, d.length / fr.channels));
    sq += fsq;
    n += d.length / fr.channels;
    st.samples = n;
    st.rms = Number(Math.sqrt(sq / Math.max(1, n)).toFixed(2));
    st.max_frame_rms = Math.max(st.max_frame_rms ?? 0, Number(frms.toFixed(2)));
    // Frequency of the tone from zero crossings, over frames that carry sound.
    if (frms > 300) {
      for (let i = 0; i < d.length; i += fr.channels) {
        const s = d[i];
        if ((prev < 0 && s >= 0) || (prev >= 0 && s < 0)) crossings++;
        prev = s;
      }
      toneSamples += d.length / fr.channels;
      st.loud_frames = (st.loud_frames ?? 0) + 1;
      st.tone_hz_est = Number(((crossings / 2) * (fr.sampleRate / toneSamples)).toFixed(1));
    }
  }
}

function trackStats(track, pub, participant) {
  if (!stats.tracks[pub.sid]) {
    stats.tracks[pub.sid] = {
      participant: participant.identity,
      kind: track.kind === TrackKind.KIND_VIDEO ? 'video' : 'audio',
      name: pub.name,
      source: pub.source,
      mime_type: pub.mimeType,
      subscribed_at: Number(elapsed().toFixed(3)),
      frames: 0,
    };
  }
  return stats.tracks[pub.sid];
}

const room = new Room();
room.on(RoomEvent.TrackSubscribed, (track, pub, participant) => {
  note(`subscribed ${participant.identity}/${pub.name} (${pub.sid}, ${pub.mimeType})`);
  ev('track_subscribed', { participant: participant.identity, track: pub.sid });
  const st = trackStats(track, pub, participant);
  const p = track.kind === TrackKind.KIND_VIDEO ? readVideo(track, st) : readAudio(track, st);
  p.catch((e) => {
    st.error = String(e?.message ?? e);
    note(`stream error on ${pub.sid}: ${st.error}`);
  });
});
room.on(RoomEvent.TrackPublished, (pub, participant) => {
  ev('track_published', { participant: participant.identity, track: pub.sid });
  if (!pub.subscribed) pub.setSubscribed(true);
});
room.on(RoomEvent.TrackSubscriptionFailed, (sid, participant, reason) => {
  note(`subscription failed ${participant.identity}/${sid}: ${reason}`);
  ev('track_subscription_failed', { participant: participant.identity, track: sid, reason });
});
room.on(RoomEvent.TrackUnsubscribed, (track, pub, participant) => ev('track_unsubscribed', { participant: participant.identity, track: pub.sid }));
room.on(RoomEvent.ParticipantConnected, (p) => ev('participant_connected', { participant: p.identity }));
room.on(RoomEvent.ParticipantDisconnected, (p) => ev('participant_disconnected', { participant: p.identity }));
room.on(RoomEvent.Reconnecting, () => {
  note('reconnecting');
  ev('reconnecting');
});
room.on(RoomEvent.Reconnected, () => {
  note('reconnected');
  ev('reconnected');
});
room.on(RoomEvent.ConnectionStateChanged, (s) => ev('connection_state', { state: s }));
room.on(RoomEvent.Disconnected, (reason) => {
  note(`disconnected: ${reason}`);
  ev('disconnected', { reason });
});

let exitCode = 0;
try {
  const token = await mintToken(args['api-secret']);
  note(`connecting to ${args.url}`);
  const connecting = room.connect(args.url, token, { autoSubscribe: true, dynacast: false });
  captureRustLogs(); // the FFI client exists once connect() has started
  await connecting;
  stats.connected = true;
  stats.connected_at = Number(elapsed().toFixed(3));
  stats.local_sid = room.localParticipant?.sid;
  note(`connected as ${room.localParticipant?.identity} (${room.localParticipant?.sid})`);
  for (const p of room.remoteParticipants.values()) {
    for (const pub of p.trackPublications.values()) if (!pub.subscribed) pub.setSubscribed(true);
  }
  await new Promise((r) => setTimeout(r, duration));
  for (const p of room.remoteParticipants.values()) {
    stats.participants.push({
      identity: p.identity,
      sid: p.sid,
      tracks: [...p.trackPublications.values()].map((t) => ({ sid: t.sid, name: t.name, kind: t.kind, subscribed: t.subscribed })),
    });
  }
  const end = elapsed();
  for (const st of Object.values(stats.tracks)) {
    if (st.frames > 1 && st.first_frame_at !== undefined) {
      const span = st.last_frame_at - st.first_frame_at;
      st.fps = Number(((st.frames - 1) / Math.max(0.001, span)).toFixed(2));
    }
    st.receive_window = Number((end - st.subscribed_at).toFixed(3));
  }
} catch (e) {
  stats.error = `${e?.constructor?.name}: ${e?.message ?? e}`;
  note(`error: ${stats.error}`);
  exitCode = 1;
}

for (const r of readers) {
  try {
    await r.cancel();
  } catch {
    /* already closed */
  }
}
try {
  if (stats.connected) await room.disconnect();
  stats.disconnect = { clean: true };
} catch (e) {
  stats.disconnect = { clean: false, error: String(e?.message ?? e) };
  exitCode = 1;
}
await dispose();
const text = JSON.stringify(stats, null, 2);
console.log(text);
if (args.out) writeFileSync(args.out, text + '\n');
process.exit(exitCode);
