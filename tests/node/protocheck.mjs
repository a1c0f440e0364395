// Cross-check of roomrec's protocol subset (rtc/proto/livekit_rtc.proto) against the
// official @livekit/protocol package.
//
// Usage: node protocheck.mjs --go BUILD_DIR/protocheck/protocheck --work DIR
//
// 1. Golden vectors of LiveKit signalling messages: produced byte-exact by the official
//    package and by our generated Go code (protocheck golden).
// 2. Descriptors: every message, field and enum value of our .proto (as compiled into
//    the Go code, protocheck descriptor) has the official number, name, type,
//    cardinality and oneof.
// 3. Round trip: messages built with the official classes (only subset fields) are
//    decoded and re-encoded by our Go code (protocheck roundtrip) and must decode with
//    the official package to the same message, with no unknown fields seen by Go.
//    Messages with official fields outside the subset must decode in Go without
//    error, keep those fields as unknown fields (round trip equal), and drop them
//    cleanly (equal to the original restricted to the subset).
// Exits 1 with a diff on any mismatch.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileDescriptorProto, proto3 } from '@bufbuild/protobuf';
import * as lk from '@livekit/protocol';

const { values: args } = parseArgs({
  options: { go: { type: 'string' }, work: { type: 'string' } },
});
if (!args.go || !args.work) {
  console.error('usage: node protocheck.mjs --go PROTOCHECK_BINARY --work DIR');
  process.exit(2);
}
mkdirSync(args.work, { recursive: true });

let failures = 0;
let checks = 0;
const fail = (msg) => {
  failures++;
  console.error(`FAIL ${msg}`);
};
const ok = (cond, msg) => {
  checks++;
  if (!cond) fail(msg);
  return cond;
};
const hex = (u8) => Buffer.from(u8).toString('hex');
const runGo = (...a) => execFileSync(args.go, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

function diff(label, a, b) {
  const fa = join(args.work, 'diff-a.json');
  const fb = join(args.work, 'diff-b.json');
  writeFileSync(fa, a + '\n');
  writeFileSync(fb, b + '\n');
  let out = '';
  try {
    execFileSync('diff', ['-u', '--label', `${label} (official original)`, '--label', `${label} (after roomrec Go)`, fa, fb], { encoding: 'utf8' });
  } catch (e) {
    out = e.stdout;
  }
  console.error(out);
}
const js = (m) => m.toJsonString({ prettySpaces: 2 });

// ---------------------------------------------------------------- 1. golden vectors
const golden = {
  req_subscription: [
    new lk.SignalRequest({ message: { case: 'subscription', value: { trackSids: ['TR_abc'], subscribe: true } } }),
    '320a0a0654525f6162631001',
  ],
  req_ping_req: [
    new lk.SignalRequest({ message: { case: 'pingReq', value: { timestamp: 1700000000000n, rtt: 12n } } }),
    '8201090880d095ffbc31100c',
  ],
  req_leave: [
    new lk.SignalRequest({
      message: { case: 'leave', value: { reason: lk.DisconnectReason.CLIENT_INITIATED, action: lk.LeaveRequest_Action.DISCONNECT } },
    }),
    '42021001',
  ],
  req_answer: [
    new lk.SignalRequest({ message: { case: 'answer', value: { type: 'answer', sdp: 'v=0\r\n', id: 3 } } }),
    '12110a06616e737765721205763d300d0a1803',
  ],
  resp_offer: [
    new lk.SignalResponse({
      message: { case: 'offer', value: { type: 'offer', sdp: 'v=0', id: 7, midToTrackId: { 0: 'TR_abc' } } },
    }),
    '1a1b0a056f666665721203763d301807220b0a0130120654525f616263',
  ],
};
const goGolden = JSON.parse(runGo('golden'));
for (const [name, [msg, want]] of Object.entries(golden)) {
  ok(hex(msg.toBinary()) === want, `golden ${name}: official package gives ${hex(msg.toBinary())}, doc says ${want}`);
  ok(goGolden[name] === want, `golden ${name}: roomrec Go gives ${goGolden[name]}, doc says ${want}`);
}
console.log(`golden vectors: ${Object.keys(golden).length} checked (official + Go)`);

// ---------------------------------------------------------------- 2. descriptors
// Official message and enum types, by full name: exported classes plus everything
// reachable from their fields.
const officialMsgs = new Map();
const officialEnums = new Map();
function addMsg(T) {
  if (officialMsgs.has(T.typeName)) return;
  officialMsgs.set(T.typeName, T);
  for (const f of T.fields.list()) {
    if (f.kind === 'message') addMsg(f.T);
    if (f.kind === 'enum') officialEnums.set(f.T.typeName, f.T);
    if (f.kind === 'map' && f.V.kind === 'message') addMsg(f.V.T);
    if (f.kind === 'map' && f.V.kind === 'enum') officialEnums.set(f.V.T.typeName, f.V.T);
  }
}
for (const v of Object.values(lk)) {
  if (typeof v === 'function' && typeof v.typeName === 'string' && v.fields) addMsg(v);
  else if (v && typeof v === 'object') {
    try {
      const e = proto3.getEnumType(v);
      officialEnums.set(e.typeName, e);
    } catch {
      /* not an enum */
    }
  }
}

const descFile = join(args.work, 'livekit_rtc.desc.pb');
runGo('descriptor', descFile);
const ours = FileDescriptorProto.fromBinary(readFileSync(descFile));
const pkg = ours.package; // "livekit"
const TYPE = { MESSAGE: 11, ENUM: 14, GROUP: 10 };
const LABEL_REPEATED = 3;
// FieldDescriptorProto.Type numbers and protobuf-es ScalarType numbers coincide.
const SCALARS = { 1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool', 9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64' };
const scalarName = (t) => SCALARS[t] ?? `type${t}`;

// Our subset, by full type name: field number -> FieldDescriptorProto (used by the
// restriction below too).
const ourMsgs = new Map();
const ourEnums = new Map();
function collect(prefix, msgs, enums) {
  for (const e of enums) ourEnums.set(`${prefix}.${e.name}`, e);
  for (const m of msgs) {
    const full = `${prefix}.${m.name}`;
    ourMsgs.set(full, m);
    collect(full, m.nestedType, m.enumType);
  }
}
collect(pkg, ours.messageType, ours.enumType);

// Describes one of our fields as "kind:type" comparable with an official FieldInfo.
function ourFieldShape(f) {
  if (f.type === TYPE.MESSAGE) {
    const tn = f.typeName.replace(/^\./, '');
    const entry = ourMsgs.get(tn);
    if (entry?.options?.mapEntry) {
      const [k, v] = entry.field;
      const vs = v.type === TYPE.MESSAGE || v.type === TYPE.ENUM ? v.typeName.replace(/^\./, '') : scalarName(v.type);
      return `map<${scalarName(k.type)},${vs}>`;
    }
    return `${f.label === LABEL_REPEATED ? 'repeated ' : ''}message ${tn}`;
  }
  const rep = f.label === LABEL_REPEATED ? 'repeated ' : '';
  if (f.type === TYPE.ENUM) return `${rep}enum ${f.typeName.replace(/^\./, '')}`;
  return `${rep}${scalarName(f.type)}`;
}
function officialFieldShape(f) {
  const rep = f.repeated ? 'repeated ' : '';
  switch (f.kind) {
    case 'scalar':
      return `${rep}${scalarName(f.T)}`;
    case 'enum':
      return `${rep}enum ${f.T.typeName}`;
    case 'message':
      return `${rep}message ${f.T.typeName}`;
    case 'map': {
      const vs = f.V.kind === 'scalar' ? scalarName(f.V.T) : f.V.T.typeName;
      return `map<${scalarName(f.K)},${vs}>`;
    }
  }
  return '?';
}

let nFields = 0;
let nValues = 0;
const warnings = [];
for (const [full, m] of ourMsgs) {
  if (m.options?.mapEntry) continue;
  const off = officialMsgs.get(full);
  if (!ok(off, `descriptor: message ${full} does not exist in @livekit/protocol`)) continue;
  for (const f of m.field) {
    nFields++;
    const of = off.fields.find(f.number);
    if (!ok(of, `descriptor: ${full}.${f.name} = ${f.number}: no field with that number in the official ${full}`)) {
      const byName = off.fields.list().find((x) => x.name === f.name);
      if (byName) console.error(`     (official ${full}.${f.name} is field ${byName.no})`);
      continue;
    }
    ok(of.name === f.name, `descriptor: ${full} field ${f.number} is named ${f.name}, official name is ${of.name}`);
    const mine = ourFieldShape(f);
    const theirs = officialFieldShape(of);
    if (mine !== theirs) {
      // An int32 where LiveKit has an enum is wire-compatible: report, do not fail.
      if (mine === 'int32' && theirs.startsWith('enum ')) {
        warnings.push(`${full}.${f.name} = ${f.number}: ours int32, official ${theirs} (wire-compatible)`);
      } else {
        fail(`descriptor: ${full}.${f.name} = ${f.number}: ours is "${mine}", official is "${theirs}"`);
      }
    }
    checks++;
    const ourOneof = f.oneofIndex !== undefined ? m.oneofDecl[f.oneofIndex].name : undefined;
    ok(ourOneof === of.oneof?.name, `descriptor: ${full}.${f.name}: oneof "${ourOneof ?? '-'}" vs official "${of.oneof?.name ?? '-'}"`);
  }
}
for (const [full, e] of ourEnums) {
  const off = officialEnums.get(full);
  if (!ok(off, `descriptor: enum ${full} does not exist in @livekit/protocol`)) continue;
  for (const v of e.value) {
    nValues++;
    const ov = off.values.find((x) => x.name === v.name);
    if (ok(ov, `descriptor: enum value ${full}.${v.name} does not exist in the official enum`)) {
      ok(ov.no === v.number, `descriptor: enum value ${full}.${v.name} = ${v.number}, official = ${ov.no}`);
    }
  }
}
console.log(`descriptors: ${ourMsgs.size} messages, ${nFields} fields, ${ourEnums.size} enums, ${nValues} enum values checked`);
for (const w of warnings) console.log(`  note: ${w}`);

// ---------------------------------------------------------------- 3. round trip
// Returns a copy of msg with every field our subset lacks cleared (recursively).
function restrict(msg) {
  const T = msg.getType();
  const mine = ourMsgs.get(T.typeName);
  const out = msg.clone();
  const fresh = new T();
  const keep = new Set(mine ? mine.field.map((f) => f.number) : []);
  for (const f of T.fields.list()) {
    if (f.oneof) {
      const o = out[f.oneof.localName];
      if (o.case !== f.localName) continue;
      if (!keep.has(f.no)) out[f.oneof.localName] = { case: undefined };
      else if (f.kind === 'message') o.value = restrict(o.value);
      continue;
    }
    if (!keep.has(f.no)) {
      out[f.localName] = fresh[f.localName];
      continue;
    }
    if (f.kind === 'message') {
      if (f.repeated) out[f.localName] = out[f.localName].map(restrict);
      else if (out[f.localName]) out[f.localName] = restrict(out[f.localName]);
    } else if (f.kind === 'map' && f.V.kind === 'message') {
      for (const k of Object.keys(out[f.localName])) out[f.localName][k] = restrict(out[f.localName][k]);
    }
  }
  return out;
}

const SDP_OFFER =
  'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'a=group:BUNDLE 0 1 2\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n' +
  'a=mid:0\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n' +
  'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n' +
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\na=sctp-port:5000\r\n';
const CAND =
  '{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}';
const layers = (full) =>
  full
    ? [
        { quality: lk.VideoQuality.LOW, width: 320, height: 180, bitrate: 150000, ssrc: 1111 },
        { quality: lk.VideoQuality.MEDIUM, width: 640, height: 360, bitrate: 500000, ssrc: 2222 },
        { quality: lk.VideoQuality.HIGH, width: 1280, height: 720, bitrate: 1700000, ssrc: 4294967295 },
      ]
    : [{ quality: lk.VideoQuality.HIGH, width: 640, height: 360, bitrate: 600000 }];
const alice = {
  sid: 'PA_alice',
  identity: 'alice',
  state: lk.ParticipantInfo_State.ACTIVE,
  metadata: '{"role":"host"}',
  joinedAt: 1700000000n,
  name: 'Alice Ä',
  version: 7,
  permission: { canSubscribe: true, canPublish: true, canPublishData: true },
  region: 'eu',
  isPublisher: true,
  tracks: [
    {
      sid: 'TR_cam',
      type: lk.TrackType.VIDEO,
      name: 'camera',
      width: 1280,
      height: 720,
      simulcast: true,
      source: lk.TrackSource.CAMERA,
      layers: layers(true),
      mimeType: 'video/VP8',
      mid: '0',
      codecs: [
        { mimeType: 'video/VP8', mid: '0', cid: 'cam-cid', layers: layers(true) },
        { mimeType: 'video/H264', mid: '3', cid: 'cam-cid-h264', layers: layers(false) },
      ],
      stream: 'camera',
    },
    {
      sid: 'TR_mic',
      type: lk.TrackType.AUDIO,
      name: 'mic',
      muted: true,
      disableDtx: true,
      source: lk.TrackSource.MICROPHONE,
      mimeType: 'audio/opus',
      mid: '1',
      stereo: true,
      disableRed: true,
    },
    { sid: 'TR_scr', type: lk.TrackType.VIDEO, name: 'screen', source: lk.TrackSource.SCREEN_SHARE, width: 1920, height: 1080, mimeType: 'video/H264' },
    { sid: 'TR_scra', type: lk.TrackType.AUDIO, source: lk.TrackSource.SCREEN_SHARE_AUDIO, mimeType: 'audio/red' },
  ],
};
const recorder = {
  sid: 'PA_rec',
  identity: 'EG_abc',
  state: lk.ParticipantInfo_State.JOINED,
  joinedAt: 1700000005n,
  name: 'recorder',
  version: 1,
  permission: { canSubscribe: true, hidden: true, recorder: true },
  kind: lk.ParticipantInfo_Kind.EGRESS,
};
const room = {
  sid: 'RM_x',
  name: 'demo',
  emptyTimeout: 300,
  maxParticipants: 50,
  creationTime: 1699999999n,
  metadata: 'room meta',
  numParticipants: 3,
  activeRecording: true,
  numPublishers: 2,
};
const iceServers = [
  { urls: ['stun:127.0.0.1:3478'] },
  { urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'], username: '1700000000:rec', credential: 'c3VwZXJzZWNyZXQ=' },
];
const serverInfo = { edition: lk.ServerInfo_Edition.Cloud, version: '1.9.0', protocol: 16, region: 'eu-central', nodeId: 'ND_1', debugInfo: 'dbg' };
const clientConfiguration = { resumeConnection: lk.ClientConfigSetting.DISABLED, forceRelay: lk.ClientConfigSetting.ENABLED };

const req = (c, value) => new lk.SignalRequest({ message: { case: c, value } });
const resp = (c, value) => new lk.SignalResponse({ message: { case: c, value } });

// Messages built only from fields of our subset.
const subset = {
  req_offer: req('offer', { type: 'offer', sdp: SDP_OFFER, id: 5, midToTrackId: { 0: 'TR_cam', 1: 'TR_mic' } }),
  req_answer: req('answer', { type: 'answer', sdp: 'v=0\r\n', id: 4294967295 }),
  req_answer_id0: req('answer', { type: 'answer', sdp: 'v=0\r\n', id: 0 }),
  req_trickle_final: req('trickle', { candidateInit: CAND, target: lk.SignalTarget.SUBSCRIBER, final: true }),
  req_trickle_pub: req('trickle', { candidateInit: CAND, target: lk.SignalTarget.PUBLISHER }),
  req_subscription: req('subscription', {
    trackSids: ['TR_cam', 'TR_mic'],
    subscribe: true,
    participantTracks: [
      { participantSid: 'PA_alice', trackSids: ['TR_cam', 'TR_mic'] },
      { participantSid: 'PA_bob', trackSids: ['TR_b1'] },
    ],
  }),
  req_unsubscribe_empty: req('subscription', {}),
  req_track_setting: req('trackSetting', {
    trackSids: ['TR_cam'],
    disabled: true,
    quality: lk.VideoQuality.MEDIUM,
    width: 1280,
    height: 720,
    fps: 30,
  }),
  req_leave: req('leave', { canReconnect: true, reason: lk.DisconnectReason.CLIENT_INITIATED, action: lk.LeaveRequest_Action.RECONNECT }),
  req_leave_empty: req('leave', {}),
  req_ping: req('ping', 1700000000123n),
  req_ping_negative: req('ping', -5n),
  req_ping_req: req('pingReq', { timestamp: 1700000000123n, rtt: 45n }),
  req_sync_state: req('syncState', {
    answer: { type: 'answer', sdp: 'v=0\r\na=mid:0\r\n', id: 9, midToTrackId: { 0: 'TR_cam' } },
    subscription: { trackSids: ['TR_cam'], subscribe: true, participantTracks: [{ participantSid: 'PA_alice', trackSids: ['TR_cam'] }] },
    offer: { type: 'offer', sdp: 'v=0\r\n', id: 2 },
  }),
  resp_join: resp('join', {
    room,
    participant: recorder,
    otherParticipants: [
      alice,
      {
        sid: 'PA_bob',
        identity: 'bob',
        state: lk.ParticipantInfo_State.JOINING,
        kind: lk.ParticipantInfo_Kind.AGENT,
        tracks: [{ sid: 'TR_b1', type: lk.TrackType.DATA }],
      },
      { sid: 'PA_sip', identity: 'sip', kind: lk.ParticipantInfo_Kind.SIP },
      { sid: 'PA_ing', identity: 'ing', kind: lk.ParticipantInfo_Kind.INGRESS },
    ],
    serverVersion: '1.9.0',
    iceServers,
    subscriberPrimary: true,
    alternativeUrl: 'wss://other.example.org',
    clientConfiguration,
    serverRegion: 'eu',
    pingTimeout: 15,
    pingInterval: 5,
    serverInfo,
  }),
  resp_join_minimal: resp('join', { room: { name: 'demo' }, participant: { sid: 'PA_r', identity: 'r' }, pingTimeout: 15, pingInterval: 5 }),
  resp_offer: resp('offer', { type: 'offer', sdp: SDP_OFFER, id: 1, midToTrackId: { 0: 'TR_cam', 1: 'TR_mic', 3: 'TR_cam' } }),
  resp_answer: resp('answer', { type: 'answer', sdp: 'v=0\r\n', id: 12 }),
  resp_trickle: resp('trickle', { candidateInit: CAND, target: lk.SignalTarget.SUBSCRIBER, final: true }),
  resp_update: resp('update', {
    participants: [alice, { ...recorder, state: lk.ParticipantInfo_State.DISCONNECTED, version: 9, tracks: [] }],
  }),
  resp_speakers_changed: resp('speakersChanged', {
    speakers: [
      { sid: 'PA_alice', level: 0.75, active: true },
      { sid: 'PA_bob', level: Math.fround(0.1234567), active: true },
      { sid: 'PA_carol', level: 0, active: false },
    ],
  }),
  resp_leave: resp('leave', { reason: lk.DisconnectReason.ROOM_DELETED, action: lk.LeaveRequest_Action.DISCONNECT }),
  resp_leave_resume: resp('leave', { canReconnect: true, reason: lk.DisconnectReason.STATE_MISMATCH, action: lk.LeaveRequest_Action.RESUME }),
  resp_leave_closed: resp('leave', { reason: lk.DisconnectReason.ROOM_CLOSED, action: lk.LeaveRequest_Action.RECONNECT }),
  resp_refresh_token: resp('refreshToken', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWMifQ.c2ln'),
  resp_pong: resp('pong', 1700000000123n),
  resp_pong_resp: resp('pongResp', { lastPingTimestamp: 1700000000123n, timestamp: 1700000000456n }),
  resp_reconnect: resp('reconnect', { iceServers, clientConfiguration, serverInfo }),
  resp_room_update: resp('roomUpdate', { room }),
  resp_subscription_response: resp('subscriptionResponse', { trackSid: 'TR_gone', err: lk.SubscriptionError.SE_TRACK_NOTFOUND }),
};

// Messages that also carry official fields or oneof cases our subset lacks.
const extras = {
  resp_join_extras: resp('join', {
    room: { ...room, departureTimeout: 20, creationTimeMs: 1699999999000n, enabledCodecs: [{ mime: 'video/VP8' }, { mime: 'audio/opus' }], version: { unixMicro: 5n, ticks: 2 } },
    participant: { ...recorder, joinedAtMs: 1700000005000n, attributes: { a: '1', b: '2' }, clientProtocol: 2 },
    otherParticipants: [
      {
        ...alice,
        disconnectReason: lk.DisconnectReason.CLIENT_INITIATED,
        clientProtocol: 1,
        tracks: alice.tracks.map((t) => ({ ...t, version: { unixMicro: 7n }, layers: (t.layers ?? []).map((l) => ({ ...l, rid: 'f', spatialLayer: 2 })) })),
      },
    ],
    clientConfiguration: { ...clientConfiguration, video: { hardwareEncoder: lk.ClientConfigSetting.ENABLED } },
    serverInfo: { ...serverInfo, agentProtocol: 1 },
    sifTrailer: new Uint8Array([1, 2, 3]),
    enabledPublishCodecs: [{ mime: 'video/AV1' }],
    fastPublish: true,
    pingTimeout: 15,
    pingInterval: 5,
  }),
  resp_connection_quality: resp('connectionQuality', {
    updates: [{ participantSid: 'PA_alice', quality: lk.ConnectionQuality.EXCELLENT, score: 4.5 }],
  }),
  resp_stream_state_update: resp('streamStateUpdate', {
    streamStates: [{ participantSid: 'PA_alice', trackSid: 'TR_cam', state: lk.StreamState.PAUSED }],
  }),
  resp_request_response: resp('requestResponse', { requestId: 4, reason: lk.RequestResponse_Reason.NOT_FOUND, message: 'no' }),
  resp_leave_regions: resp('leave', {
    reason: lk.DisconnectReason.MIGRATION,
    action: lk.LeaveRequest_Action.RECONNECT,
    regions: { regions: [{ region: 'us', url: 'wss://us.example.org', distance: 10n }] },
  }),
  req_add_track: req('addTrack', { cid: 'c1', name: 'mic', type: lk.TrackType.AUDIO }),
  req_update_metadata: req('updateMetadata', { metadata: 'x', attributes: { k: 'v' } }),
  req_sync_state_extras: req('syncState', {
    answer: { type: 'answer', sdp: 'v=0\r\n', id: 3 },
    publishTracks: [{ cid: 'c', track: { sid: 'TR_p' } }],
    dataChannels: [{ label: '_reliable', id: 1, target: lk.SignalTarget.SUBSCRIBER }],
    trackSidsDisabled: ['TR_x'],
  }),
};

const manifest = [];
for (const [set, msgs] of [
  ['subset', subset],
  ['extras', extras],
]) {
  for (const [name, m] of Object.entries(msgs)) {
    const file = `${name}.bin`;
    writeFileSync(join(args.work, file), m.toBinary());
    manifest.push({ name, type: m.getType().typeName.replace(/^livekit\./, ''), file, subset: set === 'subset' });
    if (set === 'subset') {
      // Test messages must use only subset fields, or the round trip proves nothing.
      const r = restrict(m);
      if (!ok(r.equals(m), `test message ${name} uses fields outside the subset`)) diff(name, js(m), js(r));
    } else {
      ok(!restrict(m).equals(m), `extras message ${name} has no field outside the subset`);
    }
  }
}
writeFileSync(join(args.work, 'manifest.json'), JSON.stringify(manifest, null, 2));

runGo('roundtrip', args.work);
const results = JSON.parse(readFileSync(join(args.work, 'go-results.json'), 'utf8'));
const all = { ...subset, ...extras };
for (const e of manifest) {
  const orig = all[e.name];
  const T = orig.getType();
  const r = results[e.name];
  if (!ok(r?.ok, `roundtrip ${e.name}: Go failed: ${r?.error ?? 'no result'}`)) continue;
  if (e.subset) ok(r.unknown_bytes === 0, `roundtrip ${e.name}: Go kept ${r.unknown_bytes} bytes as unknown fields (a number or wire type differs)`);
  else ok(r.unknown_bytes > 0, `roundtrip ${e.name}: Go saw no unknown fields in a message with non-subset fields`);

  let back;
  try {
    back = T.fromBinary(readFileSync(join(args.work, r.out)));
  } catch (err) {
    fail(`roundtrip ${e.name}: official package cannot decode Go's output: ${err.message}`);
    continue;
  }
  if (!ok(back.equals(orig), `roundtrip ${e.name}: official decode of Go's re-encoding differs`)) diff(e.name, js(orig), js(back));
  // equals() ignores unknown fields; the official decoder must also have none left.
  const reenc = back.toBinary();
  ok(T.fromBinary(reenc).equals(orig), `roundtrip ${e.name}: second official re-encode differs`);

  let known;
  try {
    known = T.fromBinary(readFileSync(join(args.work, r.out_known)));
  } catch (err) {
    fail(`roundtrip ${e.name}: official package cannot decode Go's known-fields output: ${err.message}`);
    continue;
  }
  const want = restrict(orig);
  if (!ok(known.equals(want), `roundtrip ${e.name}: Go's known-fields re-encoding differs from the original restricted to the subset`)) diff(e.name, js(want), js(known));
  // Byte-exact where both sides serialize the same way (no maps, no unknowns).
  if (e.subset && hex(readFileSync(join(args.work, r.out))) !== hex(orig.toBinary())) {
    // Field order may differ between encoders (protobuf-es writes declaration order,
    // Go field-number order); only note it.
    console.log(`  note: ${e.name}: Go bytes differ from official bytes (same message)`);
  }
}
console.log(`roundtrip: ${Object.keys(subset).length} subset messages, ${Object.keys(extras).length} messages with extra official fields`);

console.log(`${checks} checks, ${failures} failures`);
process.exit(failures ? 1 : 0);
