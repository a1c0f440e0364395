/* Unit tests for rtc/signal-codec: golden vectors of LiveKit messages (produced by
 * @livekit/protocol), encoder round trips, decoder limits and garbage, unknown message
 * types, log descriptions without secrets, and candidateInit JSON.
 *
 * `test_signal_codec --write-corpus DIR` writes the fuzz seeds (the sample responses
 * below plus the golden offer) into DIR/signal_response and DIR/candidate_init. */
#include "rtc/rtc-error.h"
#include "rtc/signal-codec.h"

#include <stdio.h>
#include <string.h>

static GBytes *from_hex(const char *hex)
{
    gsize n = strlen(hex) / 2;
    guint8 *buf = g_malloc(n ? n : 1);
    for (gsize i = 0; i < n; i++)
        buf[i] =
            (guint8)(g_ascii_xdigit_value(hex[2 * i]) << 4 | g_ascii_xdigit_value(hex[2 * i + 1]));
    return g_bytes_new_take(buf, n);
}

static char *to_hex(GBytes *b)
{
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(b, &n);
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", d[i]);
    return g_string_free(s, FALSE);
}

static void assert_hex(GBytes *b, const char *expected)
{
    g_autofree char *hex = to_hex(b);
    g_assert_cmpstr(hex, ==, expected);
}

static Livekit__SignalRequest *unpack_req(GBytes *b)
{
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(b, &n);
    Livekit__SignalRequest *r = livekit__signal_request__unpack(NULL, n, d);
    g_assert_nonnull(r);
    return r;
}

/* ---- golden vectors (SignalRequest, from @livekit/protocol) ---- */

static void test_golden_requests(void)
{
    const char *sids[] = {"TR_abc", NULL};
    g_autoptr(GBytes) sub = rr_signal_encode_subscription(sids, TRUE);
    assert_hex(sub, "320a0a0654525f6162631001");
    g_autoptr(GBytes) ping = rr_signal_encode_ping_req(G_GINT64_CONSTANT(1700000000000), 12);
    assert_hex(ping, "8201090880d095ffbc31100c");
    g_autoptr(GBytes) leave = rr_signal_encode_leave(LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED,
                                                     LIVEKIT__LEAVE_REQUEST__ACTION__DISCONNECT);
    assert_hex(leave, "42021001");
    g_autoptr(GBytes) answer = rr_signal_encode_answer("v=0\r\n", 3);
    assert_hex(answer, "12110a06616e737765721205763d300d0a1803");
}

static void test_golden_offer(void)
{
    g_autoptr(GBytes) b = from_hex("1a1b0a056f666665721203763d301807220b0a0130120654525f616263");
    g_autoptr(GError) error = NULL;
    g_autoptr(Livekit__SignalResponse) m =
        rr_signal_decode_response(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &error);
    g_assert_no_error(error);
    g_assert_nonnull(m);
    g_assert_cmpint(m->message_case, ==, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER);
    g_assert_false(rr_signal_response_is_unknown(m));
    g_assert_cmpstr(m->offer->type, ==, "offer");
    g_assert_cmpstr(m->offer->sdp, ==, "v=0");
    g_assert_cmpuint(m->offer->id, ==, 7);
    g_assert_cmpuint(m->offer->n_mid_to_track_id, ==, 1);
    g_assert_cmpstr(m->offer->mid_to_track_id[0]->key, ==, "0");
    g_assert_cmpstr(m->offer->mid_to_track_id[0]->value, ==, "TR_abc");
    g_autofree char *d = rr_signal_response_describe(m);
    g_test_message("%s", d);
    g_assert_cmpstr(d, ==, "offer id=7 type=offer sdp=3B m=0 mids={0:TR_abc}");
    g_assert_cmpstr(rr_signal_response_case_name(m->message_case), ==, "offer");
}

/* ---- encoder round trips ---- */

static void test_round_trip_requests(void)
{
    const char *sids[] = {"TR_a", "TR_b", NULL};

    g_autoptr(GBytes) a = rr_signal_encode_answer("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", 42);
    Livekit__SignalRequest *r = unpack_req(a);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_ANSWER);
    g_assert_cmpstr(r->answer->type, ==, "answer");
    g_assert_cmpuint(r->answer->id, ==, 42);
    g_assert_nonnull(strstr(r->answer->sdp, "m=audio"));
    livekit__signal_request__free_unpacked(r, NULL);

    g_autofree char *cj =
        rr_signal_candidate_init_to_json("candidate:1 1 udp 1 1.2.3.4 5 typ host", "0", 0, NULL);
    g_autoptr(GBytes) t = rr_signal_encode_trickle(cj, LIVEKIT__SIGNAL_TARGET__SUBSCRIBER, TRUE);
    r = unpack_req(t);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_TRICKLE);
    g_assert_cmpstr(r->trickle->candidateinit, ==, cj);
    g_assert_cmpint(r->trickle->target, ==, LIVEKIT__SIGNAL_TARGET__SUBSCRIBER);
    g_assert_true(r->trickle->final);
    livekit__signal_request__free_unpacked(r, NULL);

    g_autoptr(GBytes) s = rr_signal_encode_subscription(sids, FALSE);
    r = unpack_req(s);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_SUBSCRIPTION);
    g_assert_cmpuint(r->subscription->n_track_sids, ==, 2);
    g_assert_cmpstr(r->subscription->track_sids[1], ==, "TR_b");
    g_assert_false(r->subscription->subscribe);
    livekit__signal_request__free_unpacked(r, NULL);

    g_autoptr(GBytes) s0 = rr_signal_encode_subscription(NULL, TRUE);
    r = unpack_req(s0);
    g_assert_cmpuint(r->subscription->n_track_sids, ==, 0);
    g_assert_true(r->subscription->subscribe);
    livekit__signal_request__free_unpacked(r, NULL);

    g_autoptr(GBytes) pt = rr_signal_encode_participant_tracks("PA_x", sids, TRUE);
    r = unpack_req(pt);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_SUBSCRIPTION);
    g_assert_true(r->subscription->subscribe);
    g_assert_cmpuint(r->subscription->n_participant_tracks, ==, 1);
    g_assert_cmpstr(r->subscription->participant_tracks[0]->participant_sid, ==, "PA_x");
    g_assert_cmpuint(r->subscription->participant_tracks[0]->n_track_sids, ==, 2);
    g_assert_cmpstr(r->subscription->participant_tracks[0]->track_sids[0], ==, "TR_a");
    livekit__signal_request__free_unpacked(r, NULL);

    g_autoptr(GBytes) ts =
        rr_signal_encode_track_setting(sids, LIVEKIT__VIDEO_QUALITY__HIGH, 1280, 720, 30, FALSE);
    r = unpack_req(ts);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_TRACK_SETTING);
    g_assert_cmpuint(r->track_setting->n_track_sids, ==, 2);
    g_assert_cmpint(r->track_setting->quality, ==, LIVEKIT__VIDEO_QUALITY__HIGH);
    g_assert_cmpuint(r->track_setting->width, ==, 1280);
    g_assert_cmpuint(r->track_setting->height, ==, 720);
    g_assert_cmpuint(r->track_setting->fps, ==, 30);
    g_assert_false(r->track_setting->disabled);
    livekit__signal_request__free_unpacked(r, NULL);
    /* field numbers: disabled is 3, quality 4 */
    const char *one[] = {"T", NULL};
    g_autoptr(GBytes) tsd =
        rr_signal_encode_track_setting(one, LIVEKIT__VIDEO_QUALITY__MEDIUM, 0, 0, 0, TRUE);
    assert_hex(tsd, "3a070a0154180120"
                    "01");

    g_autoptr(GBytes) l = rr_signal_encode_leave(LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED,
                                                 LIVEKIT__LEAVE_REQUEST__ACTION__RESUME);
    r = unpack_req(l);
    g_assert_cmpint(r->leave->reason, ==, LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED);
    g_assert_cmpint(r->leave->action, ==, LIVEKIT__LEAVE_REQUEST__ACTION__RESUME);
    livekit__signal_request__free_unpacked(r, NULL);

    g_autoptr(GBytes) p = rr_signal_encode_ping(G_GINT64_CONSTANT(1700000000000));
    assert_hex(p, "7080d095ffbc31"); /* field 14 varint */
    r = unpack_req(p);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING);
    g_assert_cmpint(r->ping, ==, G_GINT64_CONSTANT(1700000000000));
    livekit__signal_request__free_unpacked(r, NULL);

    g_autoptr(GBytes) pr = rr_signal_encode_ping_req(5, -1);
    r = unpack_req(pr);
    g_assert_cmpint(r->ping_req->timestamp, ==, 5);
    g_assert_cmpint(r->ping_req->rtt, ==, -1);
    livekit__signal_request__free_unpacked(r, NULL);

    RrSignalSyncState st = {
        .answer_sdp = "v=0\r\na=answer\r\n",
        .answer_id = 4,
        .offer_sdp = "v=0\r\na=offer\r\n",
        .offer_id = 4,
        .track_sids = sids,
        .subscribe = FALSE,
    };
    g_autoptr(GBytes) ss = rr_signal_encode_sync_state(&st);
    r = unpack_req(ss);
    g_assert_cmpint(r->message_case, ==, LIVEKIT__SIGNAL_REQUEST__MESSAGE_SYNC_STATE);
    g_assert_nonnull(r->sync_state->answer);
    g_assert_cmpstr(r->sync_state->answer->type, ==, "answer");
    g_assert_cmpstr(r->sync_state->answer->sdp, ==, st.answer_sdp);
    g_assert_cmpuint(r->sync_state->answer->id, ==, 4);
    g_assert_nonnull(r->sync_state->offer);
    g_assert_cmpstr(r->sync_state->offer->type, ==, "offer");
    g_assert_cmpstr(r->sync_state->offer->sdp, ==, st.offer_sdp);
    g_assert_cmpuint(r->sync_state->subscription->n_track_sids, ==, 2);
    g_assert_false(r->sync_state->subscription->subscribe);
    livekit__signal_request__free_unpacked(r, NULL);
    /* SyncState field numbers: answer 1, subscription 2, offer 5 */
    RrSignalSyncState st2 = {.offer_sdp = "o", .offer_id = 1};
    g_autoptr(GBytes) ss2 = rr_signal_encode_sync_state(&st2);
    assert_hex(ss2, "6210"
                    "1200"
                    "2a0c0a056f6666657212016f1801");
}

/* ---- sample responses (also the fuzz seeds) ---- */

static GBytes *pack_resp(const Livekit__SignalResponse *m)
{
    size_t n = livekit__signal_response__get_packed_size(m);
    guint8 *buf = g_malloc(n ? n : 1);
    livekit__signal_response__pack(m, buf);
    return g_bytes_new_take(buf, n);
}

#define TURN_USER   "turn-user-name-1700000000"
#define TURN_SECRET "c2VjcmV0LXR1cm4tY3JlZGVudGlhbA"
#define REFRESH_JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"

static GBytes *sample_join(void)
{
    Livekit__Room room = LIVEKIT__ROOM__INIT;
    room.sid = "RM_abc";
    room.name = "daily-standup";
    room.num_participants = 2;
    Livekit__ParticipantInfo me = LIVEKIT__PARTICIPANT_INFO__INIT;
    me.sid = "PA_me";
    me.identity = "EG_recorder";
    me.kind = LIVEKIT__PARTICIPANT_INFO__KIND__EGRESS;
    Livekit__TrackInfo track = LIVEKIT__TRACK_INFO__INIT;
    track.sid = "TR_cam";
    track.type = LIVEKIT__TRACK_TYPE__VIDEO;
    track.mime_type = "video/VP8";
    track.width = 1280;
    track.height = 720;
    Livekit__TrackInfo *tracks[] = {&track};
    Livekit__ParticipantInfo other = LIVEKIT__PARTICIPANT_INFO__INIT;
    other.sid = "PA_alice";
    other.identity = "alice";
    other.state = LIVEKIT__PARTICIPANT_INFO__STATE__ACTIVE;
    other.tracks = tracks;
    other.n_tracks = 1;
    Livekit__ParticipantInfo *others[] = {&other};
    char *urls[] = {"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:443"};
    Livekit__ICEServer ice = LIVEKIT__ICESERVER__INIT;
    ice.urls = urls;
    ice.n_urls = 2;
    ice.username = TURN_USER;
    ice.credential = TURN_SECRET;
    Livekit__ICEServer *ices[] = {&ice};
    Livekit__ClientConfiguration cc = LIVEKIT__CLIENT_CONFIGURATION__INIT;
    cc.force_relay = LIVEKIT__CLIENT_CONFIG_SETTING__ENABLED;
    Livekit__ServerInfo si = LIVEKIT__SERVER_INFO__INIT;
    si.version = "1.8.4";
    si.protocol = 16;
    Livekit__JoinResponse j = LIVEKIT__JOIN_RESPONSE__INIT;
    j.room = &room;
    j.participant = &me;
    j.other_participants = others;
    j.n_other_participants = 1;
    j.ice_servers = ices;
    j.n_ice_servers = 1;
    j.subscriber_primary = 1;
    j.client_configuration = &cc;
    j.ping_interval = 5;
    j.ping_timeout = 15;
    j.server_info = &si;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN;
    m.join = &j;
    return pack_resp(&m);
}

static GBytes *sample_offer(void)
{
    Livekit__SessionDescription__MidToTrackIdEntry e0 =
        LIVEKIT__SESSION_DESCRIPTION__MID_TO_TRACK_ID_ENTRY__INIT;
    e0.key = "0";
    e0.value = "TR_mic";
    Livekit__SessionDescription__MidToTrackIdEntry e1 =
        LIVEKIT__SESSION_DESCRIPTION__MID_TO_TRACK_ID_ENTRY__INIT;
    e1.key = "1";
    e1.value = "TR_cam";
    Livekit__SessionDescription__MidToTrackIdEntry *map[] = {&e0, &e1};
    Livekit__SessionDescription sd = LIVEKIT__SESSION_DESCRIPTION__INIT;
    sd.type = "offer";
    sd.sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
             "a=group:BUNDLE 0 1 2\r\n"
             "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
             "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n"
             "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:"
             "33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\na=sendonly\r\n"
             "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
             "a=ssrc:1111 cname:x\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
             "a=sendonly\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n"
             "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=ssrc-group:FID 2222 3333\r\n"
             "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n"
             "a=sctp-port:5000\r\n";
    sd.id = 2;
    sd.mid_to_track_id = map;
    sd.n_mid_to_track_id = 2;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER;
    m.offer = &sd;
    return pack_resp(&m);
}

static GBytes *sample_update(void)
{
    Livekit__TrackInfo mic = LIVEKIT__TRACK_INFO__INIT;
    mic.sid = "TR_mic";
    mic.type = LIVEKIT__TRACK_TYPE__AUDIO;
    mic.muted = 1;
    mic.mime_type = "audio/opus";
    Livekit__TrackInfo *tracks[] = {&mic};
    Livekit__ParticipantInfo bob = LIVEKIT__PARTICIPANT_INFO__INIT;
    bob.sid = "PA_bob";
    bob.identity = "bob \"the\"\nbuilder";
    bob.state = LIVEKIT__PARTICIPANT_INFO__STATE__DISCONNECTED;
    bob.version = 9;
    bob.tracks = tracks;
    bob.n_tracks = 1;
    Livekit__ParticipantInfo *ps[] = {&bob};
    Livekit__ParticipantUpdate u = LIVEKIT__PARTICIPANT_UPDATE__INIT;
    u.participants = ps;
    u.n_participants = 1;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE;
    m.update = &u;
    return pack_resp(&m);
}

static GBytes *sample_trickle(void)
{
    Livekit__TrickleRequest t = LIVEKIT__TRICKLE_REQUEST__INIT;
    t.candidateinit = "{\"candidate\":\"candidate:3 1 udp 2130706431 10.0.0.5 7882 typ host\","
                      "\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":null}";
    t.target = LIVEKIT__SIGNAL_TARGET__SUBSCRIBER;
    t.final = 1;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRICKLE;
    m.trickle = &t;
    return pack_resp(&m);
}

static GBytes *sample_leave(void)
{
    Livekit__LeaveRequest l = LIVEKIT__LEAVE_REQUEST__INIT;
    l.can_reconnect = 1;
    l.reason = LIVEKIT__DISCONNECT_REASON__SIGNAL_CLOSE;
    l.action = LIVEKIT__LEAVE_REQUEST__ACTION__RESUME;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE;
    m.leave = &l;
    return pack_resp(&m);
}

static GBytes *sample_speakers(void)
{
    Livekit__SpeakerInfo a = LIVEKIT__SPEAKER_INFO__INIT;
    a.sid = "PA_alice";
    a.level = 0.5f;
    a.active = 1;
    Livekit__SpeakerInfo *sp[] = {&a};
    Livekit__SpeakersChanged sc = LIVEKIT__SPEAKERS_CHANGED__INIT;
    sc.speakers = sp;
    sc.n_speakers = 1;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SPEAKERS_CHANGED;
    m.speakers_changed = &sc;
    return pack_resp(&m);
}

static GBytes *sample_room_update(void)
{
    Livekit__Room room = LIVEKIT__ROOM__INIT;
    room.sid = "RM_abc";
    room.name = "daily-standup";
    room.num_participants = 3;
    room.active_recording = 1;
    Livekit__RoomUpdate ru = LIVEKIT__ROOM_UPDATE__INIT;
    ru.room = &room;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ROOM_UPDATE;
    m.room_update = &ru;
    return pack_resp(&m);
}

static GBytes *sample_refresh(void)
{
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_REFRESH_TOKEN;
    m.refresh_token = REFRESH_JWT;
    return pack_resp(&m);
}

static GBytes *sample_pong_resp(void)
{
    Livekit__Pong p = LIVEKIT__PONG__INIT;
    p.last_ping_timestamp = G_GINT64_CONSTANT(1700000000000);
    p.timestamp = G_GINT64_CONSTANT(1700000000012);
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP;
    m.pong_resp = &p;
    return pack_resp(&m);
}

static GBytes *sample_reconnect(void)
{
    char *urls[] = {"turn:user:pass@turn.example.com:3478"};
    Livekit__ICEServer ice = LIVEKIT__ICESERVER__INIT;
    ice.urls = urls;
    ice.n_urls = 1;
    ice.username = TURN_USER;
    ice.credential = TURN_SECRET;
    Livekit__ICEServer *ices[] = {&ice};
    Livekit__ReconnectResponse r = LIVEKIT__RECONNECT_RESPONSE__INIT;
    r.ice_servers = ices;
    r.n_ice_servers = 1;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_RECONNECT;
    m.reconnect = &r;
    return pack_resp(&m);
}

static GBytes *sample_subscription_response(void)
{
    Livekit__SubscriptionResponse s = LIVEKIT__SUBSCRIPTION_RESPONSE__INIT;
    s.track_sid = "TR_gone";
    s.err = 1;
    Livekit__SignalResponse m = LIVEKIT__SIGNAL_RESPONSE__INIT;
    m.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SUBSCRIPTION_RESPONSE;
    m.subscription_response = &s;
    return pack_resp(&m);
}

/* connection_quality (12) and request_response (22): not in our .proto. */
#define UNKNOWN_HEX                                                                                \
    "62060a040a025041"                                                                             \
    "b20104"                                                                                       \
    "08011002"

typedef struct {
    const char *name;
    GBytes *(*make)(void);
    Livekit__SignalResponse__MessageCase expect;
} Sample;

static const Sample samples[] = {
    {"join", sample_join, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN},
    {"offer", sample_offer, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER},
    {"update", sample_update, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE},
    {"trickle", sample_trickle, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRICKLE},
    {"leave", sample_leave, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE},
    {"speakers", sample_speakers, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SPEAKERS_CHANGED},
    {"room_update", sample_room_update, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ROOM_UPDATE},
    {"refresh_token", sample_refresh, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_REFRESH_TOKEN},
    {"pong_resp", sample_pong_resp, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP},
    {"reconnect", sample_reconnect, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_RECONNECT},
    {"subscription_response", sample_subscription_response,
     LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SUBSCRIPTION_RESPONSE},
};

static char *describe_bytes(GBytes *b, Livekit__SignalResponse__MessageCase expect)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Livekit__SignalResponse) m =
        rr_signal_decode_response(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &error);
    g_assert_no_error(error);
    g_assert_cmpint(m->message_case, ==, expect);
    char *d = rr_signal_response_describe(m);
    g_test_message("%s", d);
    g_assert_null(strchr(d, '\n'));
    g_assert_null(strstr(d, TURN_USER));
    g_assert_null(strstr(d, TURN_SECRET));
    g_assert_null(strstr(d, REFRESH_JWT));
    g_assert_null(strstr(d, "pass@"));
    return d;
}

static void test_describe(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
        g_autoptr(GBytes) b = samples[i].make();
        g_autofree char *d = describe_bytes(b, samples[i].expect);
        g_assert_true(g_str_has_prefix(d, rr_signal_response_case_name(samples[i].expect)));
    }
    g_autoptr(GBytes) j = sample_join();
    g_autofree char *dj = describe_bytes(j, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN);
    g_assert_nonnull(strstr(dj, "room=\"daily-standup\" (RM_abc)"));
    g_assert_nonnull(strstr(dj, "me=\"EG_recorder\""));
    g_assert_nonnull(strstr(dj, "others=1"));
    g_assert_nonnull(strstr(dj, "turn:turn.example.com:3478?transport=udp"));
    g_assert_nonnull(strstr(dj, "subscriber_primary=true ping=5s/15s"));
    g_assert_nonnull(strstr(dj, "force_relay=ENABLED"));
    g_assert_nonnull(strstr(dj, "protocol=16"));

    g_autoptr(GBytes) o = sample_offer();
    g_autofree char *dof = describe_bytes(o, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER);
    g_assert_nonnull(strstr(dof, "offer id=2 type=offer sdp="));
    g_assert_nonnull(strstr(dof, "m=3 mids={0:TR_mic, 1:TR_cam}"));

    g_autoptr(GBytes) r = sample_refresh();
    g_autofree char *dr = describe_bytes(r, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_REFRESH_TOKEN);
    g_autofree char *want = g_strdup_printf("refresh_token (%zu bytes)", strlen(REFRESH_JWT));
    g_assert_cmpstr(dr, ==, want);

    g_autoptr(GBytes) u = sample_update();
    g_autofree char *du = describe_bytes(u, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE);
    g_assert_nonnull(strstr(du, "\"bob ?the??builder\" (PA_bob) DISCONNECTED v9"));
    g_assert_nonnull(strstr(du, "TR_mic AUDIO audio/opus muted"));

    g_autoptr(GBytes) l = sample_leave();
    g_autofree char *dl = describe_bytes(l, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE);
    g_assert_cmpstr(dl, ==, "leave reason=SIGNAL_CLOSE action=RESUME can_reconnect=true");

    g_autoptr(GBytes) t = sample_trickle();
    g_autofree char *dt = describe_bytes(t, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRICKLE);
    g_assert_true(g_str_has_prefix(
        dt, "trickle target=SUBSCRIBER final=true candidateInit={\"candidate\":\"candidate:3 1 "));

    /* Hand-built messages with NULL members describe without crashing. */
    Livekit__SignalResponse empty_offer = LIVEKIT__SIGNAL_RESPONSE__INIT;
    empty_offer.message_case = LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER;
    g_autofree char *de = rr_signal_response_describe(&empty_offer);
    g_assert_cmpstr(de, ==, "offer");
    g_autofree char *dn = rr_signal_response_describe(NULL);
    g_assert_cmpstr(dn, ==, "(null)");
}

static void test_unknown_type(void)
{
    g_autoptr(GBytes) b = from_hex(UNKNOWN_HEX);
    g_autoptr(GError) error = NULL;
    g_autoptr(Livekit__SignalResponse) m =
        rr_signal_decode_response(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &error);
    g_assert_no_error(error);
    g_assert_nonnull(m);
    g_assert_cmpint(m->message_case, ==, LIVEKIT__SIGNAL_RESPONSE__MESSAGE__NOT_SET);
    g_assert_true(rr_signal_response_is_unknown(m));
    g_autofree char *d = rr_signal_response_describe(m);
    g_test_message("%s", d);
    g_assert_cmpstr(d, ==, "unknown (field 12 7B, 22 5B), ignored");

    /* A known type plus unknown siblings is the known type. */
    g_autoptr(GBytes) k = from_hex("1a1b0a056f666665721203763d301807220b0a0130120654525f616263"
                                   "b20104"
                                   "08011002");
    g_autoptr(Livekit__SignalResponse) m2 =
        rr_signal_decode_response(g_bytes_get_data(k, NULL), g_bytes_get_size(k), &error);
    g_assert_no_error(error);
    g_assert_cmpint(m2->message_case, ==, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER);
    g_assert_false(rr_signal_response_is_unknown(m2));
}

static void expect_decode_error(const guint8 *data, gsize len, const char *what)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Livekit__SignalResponse) m = rr_signal_decode_response(data, len, &error);
    g_assert_null(m);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    if (what)
        g_test_message("%s -> %s", what, error->message);
}

static void test_decode_errors(void)
{
    expect_decode_error(NULL, 0, "NULL");
    expect_decode_error((const guint8 *)"", 0, "0 bytes");

    g_autoptr(GBytes) offer =
        from_hex("1a1b0a056f666665721203763d301807220b0a0130120654525f616263");
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(offer, &n);
    for (gsize i = 0; i < n; i++)
        expect_decode_error(d, i, i == 5 ? "truncated offer" : NULL);

    g_autoptr(GBytes) j = sample_join();
    d = g_bytes_get_data(j, &n);
    for (gsize i = 0; i < n; i++)
        expect_decode_error(d, i, NULL);

    /* garbage */
    static const guint8 garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x01};
    expect_decode_error(garbage, sizeof(garbage), "varint tag overflow");
    static const guint8 text[] = "{\"offer\":{}}";
    expect_decode_error(text, sizeof(text) - 1, "JSON text");
    static const guint8 wrong_wire[] = {0x1d, 0x01, 0x02, 0x03, 0x04}; /* offer as fixed32 */
    expect_decode_error(wrong_wire, sizeof(wrong_wire), "offer with wire type 5");
    static const guint8 huge_len[] = {0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    expect_decode_error(huge_len, sizeof(huge_len), "length beyond the buffer");
    static const guint8 group[] = {0x1b, 0x1c}; /* deprecated groups */
    expect_decode_error(group, sizeof(group), "group wire type");

    /* A zero-length offer is still an offer; only a frame with no fields is "empty". */
    static const guint8 empty_offer[] = {0x1a, 0x00};
    g_autoptr(GError) error = NULL;
    g_autoptr(Livekit__SignalResponse) m =
        rr_signal_decode_response(empty_offer, sizeof(empty_offer), &error);
    g_assert_no_error(error);
    g_assert_cmpint(m->message_case, ==, LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER);

    /* invalid UTF-8 in a string field (refresh_token), and deep inside join */
    static const guint8 bad_utf8[] = {0x82, 0x01, 0x02, 0xff, 0xfe};
    expect_decode_error(bad_utf8, sizeof(bad_utf8), "refresh_token not UTF-8");
    /* join{participant{identity: "\xc3"}} */
    static const guint8 bad_deep[] = {0x0a, 0x05, 0x12, 0x03, 0x12, 0x01, 0xc3};
    expect_decode_error(bad_deep, sizeof(bad_deep), "join.participant.identity not UTF-8");

    /* oversized */
    gsize big = RR_SIGNAL_MAX_MESSAGE_SIZE + 1;
    g_autofree guint8 *buf = g_malloc0(big);
    expect_decode_error(buf, big, "oversized");
}

/* ---- candidateInit ---- */

static void test_candidate_to_json(void)
{
    g_autofree char *j = rr_signal_candidate_init_to_json(
        "candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host", "0", 0, NULL);
    g_assert_cmpstr(j, ==,
                    "{\"candidate\":\"candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host\","
                    "\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":null}");
    g_autofree char *e = rr_signal_candidate_init_to_json("", NULL, -1, "uf");
    g_assert_cmpstr(e, ==,
                    "{\"candidate\":\"\",\"sdpMid\":null,\"sdpMLineIndex\":null,"
                    "\"usernameFragment\":\"uf\"}");
    /* round trip */
    g_auto(RrCandidateInit) c = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_signal_candidate_init_parse(j, -1, &c, &error));
    g_assert_cmpstr(c.candidate, ==, "candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host");
    g_assert_cmpstr(c.sdp_mid, ==, "0");
    g_assert_cmpint(c.sdp_mline_index, ==, 0);
    g_assert_null(c.username_fragment);
}

static void expect_parse_error(const char *json, gssize len)
{
    RrCandidateInit c;
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_signal_candidate_init_parse(json, len, &c, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_assert_null(c.candidate);
    g_assert_null(c.sdp_mid);
    g_assert_null(c.username_fragment);
    g_test_message("%.60s -> %s", json ? json : "(null)", error->message);
}

static void test_candidate_parse(void)
{
    g_autoptr(GError) error = NULL;
    {
        /* what LiveKit's server (pion ICECandidateInit) sends */
        const char *j = "{\"candidate\":\"candidate:2213117389 1 udp 2130706431 10.0.0.5 7882 typ "
                        "host ufrag abcd\",\"sdpMid\":\"1\",\"sdpMLineIndex\":1,"
                        "\"usernameFragment\":\"abcd\"}";
        g_auto(RrCandidateInit) c = {0};
        g_assert_true(rr_signal_candidate_init_parse(j, -1, &c, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(c.candidate, "candidate:2213117389"));
        g_assert_cmpstr(c.sdp_mid, ==, "1");
        g_assert_cmpint(c.sdp_mline_index, ==, 1);
        g_assert_cmpstr(c.username_fragment, ==, "abcd");
    }
    {
        /* end-of-candidates, missing optional members */
        g_auto(RrCandidateInit) c = {0};
        g_assert_true(rr_signal_candidate_init_parse("{\"candidate\":\"\"}", -1, &c, &error));
        g_assert_cmpstr(c.candidate, ==, "");
        g_assert_null(c.sdp_mid);
        g_assert_cmpint(c.sdp_mline_index, ==, -1);
        g_assert_null(c.username_fragment);
    }
    {
        /* explicit length, not NUL-terminated; nulls */
        const char buf[] = "{\"candidate\":\"c\",\"sdpMid\":null,\"sdpMLineIndex\":null}XXXX";
        g_auto(RrCandidateInit) c = {0};
        g_assert_true(rr_signal_candidate_init_parse(buf, sizeof(buf) - 5, &c, &error));
        g_assert_cmpstr(c.candidate, ==, "c");
        g_assert_null(c.sdp_mid);
        g_assert_cmpint(c.sdp_mline_index, ==, -1);
    }
    expect_parse_error(NULL, -1);
    expect_parse_error("", -1);
    expect_parse_error("not json", -1);
    expect_parse_error("{\"candidate\":", -1);
    expect_parse_error("[\"candidate\"]", -1);
    expect_parse_error("\"candidate\"", -1);
    expect_parse_error("{}", -1);
    expect_parse_error("{\"candidate\":null}", -1);
    expect_parse_error("{\"candidate\":5}", -1);
    expect_parse_error("{\"candidate\":\"c\",\"sdpMid\":0}", -1);
    expect_parse_error("{\"candidate\":\"c\",\"sdpMLineIndex\":-1}", -1);
    expect_parse_error("{\"candidate\":\"c\",\"sdpMLineIndex\":65536}", -1);
    expect_parse_error("{\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}", -1);
    expect_parse_error("{\"candidate\":\"c\",\"sdpMLineIndex\":1.5}", -1);
    expect_parse_error("{\"candidate\":\"c\",\"usernameFragment\":{}}", -1);
    expect_parse_error("{\"candidate\":\"\xff\"}", -1);
    static const char nul[] = "{\"candidate\":\"a\0b\"}";
    expect_parse_error(nul, sizeof(nul) - 1);
    g_autofree char *big = g_strnfill(RR_SIGNAL_MAX_CANDIDATE_JSON + 1, ' ');
    expect_parse_error(big, -1);
}

/* ---- seed corpus writer ---- */

static void write_file(const char *dir, const char *name, const void *data, gsize len)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(path, data, (gssize)len, &error)) {
        fprintf(stderr, "%s\n", error->message);
        exit(1);
    }
}

static int write_corpus(const char *root)
{
    g_autofree char *sr = g_build_filename(root, "signal_response", NULL);
    g_autofree char *ci = g_build_filename(root, "candidate_init", NULL);
    g_mkdir_with_parents(sr, 0755);
    g_mkdir_with_parents(ci, 0755);
    for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
        g_autoptr(GBytes) b = samples[i].make();
        g_autofree char *name = g_strdup_printf("%s.bin", samples[i].name);
        write_file(sr, name, g_bytes_get_data(b, NULL), g_bytes_get_size(b));
    }
    g_autoptr(GBytes) offer =
        from_hex("1a1b0a056f666665721203763d301807220b0a0130120654525f616263");
    write_file(sr, "offer_golden.bin", g_bytes_get_data(offer, NULL), g_bytes_get_size(offer));
    g_autoptr(GBytes) unknown = from_hex(UNKNOWN_HEX);
    write_file(sr, "unknown_type.bin", g_bytes_get_data(unknown, NULL), g_bytes_get_size(unknown));

    static const char *cands[] = {
        "{\"candidate\":\"candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host\","
        "\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":null}",
        "{\"candidate\":\"candidate:2213117389 1 udp 2130706431 10.0.0.5 7882 typ host ufrag "
        "abcd\",\"sdpMid\":\"1\",\"sdpMLineIndex\":1,\"usernameFragment\":\"abcd\"}",
        "{\"candidate\":\"candidate:3 1 udp 16777215 203.0.113.9 3478 typ relay raddr 0.0.0.0 "
        "rport 0\",\"sdpMid\":null,\"sdpMLineIndex\":null}",
        "{\"candidate\":\"\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}",
    };
    for (guint i = 0; i < G_N_ELEMENTS(cands); i++) {
        g_autofree char *name = g_strdup_printf("candidate%u.json", i);
        write_file(ci, name, cands[i], strlen(cands[i]));
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/signal/golden-requests", test_golden_requests);
    g_test_add_func("/rtc/signal/golden-offer", test_golden_offer);
    g_test_add_func("/rtc/signal/round-trip-requests", test_round_trip_requests);
    g_test_add_func("/rtc/signal/describe", test_describe);
    g_test_add_func("/rtc/signal/unknown-type", test_unknown_type);
    g_test_add_func("/rtc/signal/decode-errors", test_decode_errors);
    g_test_add_func("/rtc/signal/candidate-to-json", test_candidate_to_json);
    g_test_add_func("/rtc/signal/candidate-parse", test_candidate_parse);
    return g_test_run();
}
