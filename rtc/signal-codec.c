/* rtc/signal-codec: LiveKit signalling messages to and from bytes. See signal-codec.h. */
#include "rtc/signal-codec.h"

#include "rtc/rtc-error.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Longest user-supplied string (identity, name, candidate) copied into a description. */
#define DESCRIBE_MAX_CHARS 80
/* How many list items (participants, tracks, mids, speakers) a description shows. */
#define DESCRIBE_MAX_ITEMS 6
/* protobuf nesting we accept; our schema is at most 6 deep and not recursive. */
#define MAX_DEPTH 16

/* ---- requests ---- */

static GBytes *pack_request(const Livekit__SignalRequest *req)
{
    size_t n = livekit__signal_request__get_packed_size(req);
    guint8 *buf = g_malloc(n ? n : 1);
    size_t written = livekit__signal_request__pack(req, buf);
    g_assert(written == n);
    return g_bytes_new_take(buf, n);
}

/* protobuf-c wants non-const pointers but only reads them while packing. */
static char *str_arg(const char *s)
{
    return (char *)(s ? s : "");
}

static char **strv_arg(const char *const *v, size_t *n)
{
    *n = v ? g_strv_length((char **)v) : 0;
    return *n ? (char **)v : NULL;
}

GBytes *rr_signal_encode_answer(const char *sdp, guint32 id)
{
    Livekit__SessionDescription sd = LIVEKIT__SESSION_DESCRIPTION__INIT;
    sd.type = "answer";
    sd.sdp = str_arg(sdp);
    sd.id = id;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_ANSWER;
    req.answer = &sd;
    return pack_request(&req);
}

GBytes *rr_signal_encode_trickle(const char *candidate_init_json, Livekit__SignalTarget target,
                                 gboolean final)
{
    Livekit__TrickleRequest t = LIVEKIT__TRICKLE_REQUEST__INIT;
    t.candidateinit = str_arg(candidate_init_json);
    t.target = target;
    t.final = final ? 1 : 0;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_TRICKLE;
    req.trickle = &t;
    return pack_request(&req);
}

GBytes *rr_signal_encode_subscription(const char *const *track_sids, gboolean subscribe)
{
    Livekit__UpdateSubscription us = LIVEKIT__UPDATE_SUBSCRIPTION__INIT;
    us.track_sids = strv_arg(track_sids, &us.n_track_sids);
    us.subscribe = subscribe ? 1 : 0;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_SUBSCRIPTION;
    req.subscription = &us;
    return pack_request(&req);
}

GBytes *rr_signal_encode_participant_tracks(const char *participant_sid,
                                            const char *const *track_sids, gboolean subscribe)
{
    Livekit__ParticipantTracks pt = LIVEKIT__PARTICIPANT_TRACKS__INIT;
    pt.participant_sid = str_arg(participant_sid);
    pt.track_sids = strv_arg(track_sids, &pt.n_track_sids);
    Livekit__ParticipantTracks *pts[1] = {&pt};
    Livekit__UpdateSubscription us = LIVEKIT__UPDATE_SUBSCRIPTION__INIT;
    us.subscribe = subscribe ? 1 : 0;
    us.participant_tracks = pts;
    us.n_participant_tracks = 1;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_SUBSCRIPTION;
    req.subscription = &us;
    return pack_request(&req);
}

GBytes *rr_signal_encode_track_setting(const char *const *track_sids, Livekit__VideoQuality quality,
                                       guint32 width, guint32 height, guint32 fps,
                                       gboolean disabled)
{
    Livekit__UpdateTrackSettings ts = LIVEKIT__UPDATE_TRACK_SETTINGS__INIT;
    ts.track_sids = strv_arg(track_sids, &ts.n_track_sids);
    ts.disabled = disabled ? 1 : 0;
    ts.quality = quality;
    ts.width = width;
    ts.height = height;
    ts.fps = fps;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_TRACK_SETTING;
    req.track_setting = &ts;
    return pack_request(&req);
}

GBytes *rr_signal_encode_leave(Livekit__DisconnectReason reason,
                               Livekit__LeaveRequest__Action action)
{
    Livekit__LeaveRequest l = LIVEKIT__LEAVE_REQUEST__INIT;
    l.reason = reason;
    l.action = action;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_LEAVE;
    req.leave = &l;
    return pack_request(&req);
}

GBytes *rr_signal_encode_ping(gint64 timestamp_ms)
{
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING;
    req.ping = timestamp_ms;
    return pack_request(&req);
}

GBytes *rr_signal_encode_ping_req(gint64 timestamp_ms, gint64 rtt_ms)
{
    Livekit__Ping p = LIVEKIT__PING__INIT;
    p.timestamp = timestamp_ms;
    p.rtt = rtt_ms;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_PING_REQ;
    req.ping_req = &p;
    return pack_request(&req);
}

GBytes *rr_signal_encode_sync_state(const RrSignalSyncState *state)
{
    g_return_val_if_fail(state != NULL, NULL);
    Livekit__SessionDescription answer = LIVEKIT__SESSION_DESCRIPTION__INIT;
    Livekit__SessionDescription offer = LIVEKIT__SESSION_DESCRIPTION__INIT;
    Livekit__UpdateSubscription us = LIVEKIT__UPDATE_SUBSCRIPTION__INIT;
    Livekit__SyncState ss = LIVEKIT__SYNC_STATE__INIT;
    if (state->answer_sdp) {
        answer.type = "answer";
        answer.sdp = str_arg(state->answer_sdp);
        answer.id = state->answer_id;
        ss.answer = &answer;
    }
    if (state->offer_sdp) {
        offer.type = "offer";
        offer.sdp = str_arg(state->offer_sdp);
        offer.id = state->offer_id;
        ss.offer = &offer;
    }
    us.track_sids = strv_arg(state->track_sids, &us.n_track_sids);
    us.subscribe = state->subscribe ? 1 : 0;
    ss.subscription = &us;
    Livekit__SignalRequest req = LIVEKIT__SIGNAL_REQUEST__INIT;
    req.message_case = LIVEKIT__SIGNAL_REQUEST__MESSAGE_SYNC_STATE;
    req.sync_state = &ss;
    return pack_request(&req);
}

/* ---- responses ---- */

/* Every string field, at any depth, must be valid UTF-8 (proto3 requires it; later code
 * hands these strings to JSON, SDP and log functions). Walks the descriptors, so new
 * fields in the .proto are covered without changes here. */
static const char *invalid_utf8_field(const ProtobufCMessage *m, guint depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (depth > MAX_DEPTH)
        return "(nesting too deep)";
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + f->quantifier_offset, sizeof(which));
            if (which != f->id)
                continue;
        }
        void *const *items;
        size_t n;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, base + f->quantifier_offset, sizeof(n));
            items = *(void *const *)(base + f->offset);
        } else {
            n = 1;
            items = (void *const *)(base + f->offset);
        }
        for (size_t j = 0; j < n && items; j++) {
            if (!items[j])
                continue;
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                if (!g_utf8_validate(items[j], -1, NULL))
                    return f->name;
            } else {
                const char *bad = invalid_utf8_field(items[j], depth + 1);
                if (bad)
                    return bad;
            }
        }
    }
    return NULL;
}

Livekit__SignalResponse *rr_signal_decode_response(const guint8 *data, gsize len, GError **error)
{
    if (!data || len == 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "empty SignalResponse message");
        return NULL;
    }
    if (len > RR_SIGNAL_MAX_MESSAGE_SIZE) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "SignalResponse of %" G_GSIZE_FORMAT " bytes exceeds the %d byte limit", len,
                    RR_SIGNAL_MAX_MESSAGE_SIZE);
        return NULL;
    }
    Livekit__SignalResponse *msg = livekit__signal_response__unpack(NULL, len, data);
    if (!msg) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "malformed SignalResponse (%" G_GSIZE_FORMAT " bytes): not valid protobuf "
                    "for this message type",
                    len);
        return NULL;
    }
    if (msg->message_case == LIVEKIT__SIGNAL_RESPONSE__MESSAGE__NOT_SET &&
        msg->base.n_unknown_fields == 0) {
        rr_signal_response_free(msg);
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "empty SignalResponse message (no message type set)");
        return NULL;
    }
    const char *bad = invalid_utf8_field(&msg->base, 0);
    if (bad) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "SignalResponse %s: field '%s' is not valid UTF-8",
                    rr_signal_response_case_name(msg->message_case), bad);
        rr_signal_response_free(msg);
        return NULL;
    }
    return msg;
}

void rr_signal_response_free(Livekit__SignalResponse *msg)
{
    if (msg)
        livekit__signal_response__free_unpacked(msg, NULL);
}

gboolean rr_signal_response_is_unknown(const Livekit__SignalResponse *msg)
{
    return msg && msg->message_case == LIVEKIT__SIGNAL_RESPONSE__MESSAGE__NOT_SET &&
           msg->base.n_unknown_fields > 0;
}

const char *rr_signal_response_case_name(Livekit__SignalResponse__MessageCase c)
{
    /* The oneof member's proto name: the descriptor knows it. */
    if (c != LIVEKIT__SIGNAL_RESPONSE__MESSAGE__NOT_SET) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
            &livekit__signal_response__descriptor, (unsigned)c);
        if (f)
            return f->name;
    }
    return "unknown";
}

/* ---- describe ---- */

/* A user-supplied string, shortened, with control characters (and, inside quotes, quotes
 * and backslashes) replaced by '?'. */
static void append_text_full(GString *s, const char *text, gsize max_chars, gboolean quoted)
{
    g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
    gsize count = 0;
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        if (count++ == max_chars) {
            g_string_append(s, "...");
            return;
        }
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || (quoted && (c == '"' || c == '\\')))
            g_string_append_c(s, '?');
        else
            g_string_append_unichar(s, c);
    }
}

static void append_text(GString *s, const char *text, gsize max_chars)
{
    append_text_full(s, text, max_chars, FALSE);
}

static void append_quoted(GString *s, const char *text)
{
    g_string_append_c(s, '"');
    append_text_full(s, text, DESCRIBE_MAX_CHARS, TRUE);
    g_string_append_c(s, '"');
}

static void append_enum(GString *s, const ProtobufCEnumDescriptor *d, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v)
        g_string_append(s, v->name);
    else
        g_string_append_printf(s, "%d", value);
}

static void append_more(GString *s, size_t shown, size_t total)
{
    if (total > shown)
        g_string_append_printf(s, ", +%" G_GSIZE_FORMAT " more", total - shown);
}

static void describe_sd(GString *s, const Livekit__SessionDescription *sd)
{
    if (!sd)
        return;
    guint mlines = 0;
    const char *sdp = sd->sdp ? sd->sdp : "";
    for (const char *p = sdp; (p = strstr(p, "m=")); p += 2)
        if (p == sdp || p[-1] == '\n')
            mlines++;
    g_string_append_printf(s, " id=%u type=", sd->id);
    append_text(s, sd->type, 16);
    g_string_append_printf(s, " sdp=%" G_GSIZE_FORMAT "B m=%u", strlen(sdp), mlines);
    if (sd->n_mid_to_track_id) {
        g_string_append(s, " mids={");
        size_t n = MIN(sd->n_mid_to_track_id, DESCRIBE_MAX_ITEMS);
        for (size_t i = 0; i < n; i++) {
            const Livekit__SessionDescription__MidToTrackIdEntry *e = sd->mid_to_track_id[i];
            if (i)
                g_string_append(s, ", ");
            append_text(s, e ? e->key : "", 16);
            g_string_append_c(s, ':');
            append_text(s, e ? e->value : "", 40);
        }
        append_more(s, n, sd->n_mid_to_track_id);
        g_string_append_c(s, '}');
    }
}

static void describe_ice_servers(GString *s, Livekit__ICEServer **servers, size_t n)
{
    /* URLs only: usernames and credentials are TURN secrets. */
    g_string_append_printf(s, " ice_servers=%" G_GSIZE_FORMAT, n);
    if (!n)
        return;
    g_string_append(s, " [");
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < DESCRIBE_MAX_ITEMS; i++) {
        for (size_t j = 0; servers[i] && j < servers[i]->n_urls && shown < DESCRIBE_MAX_ITEMS;
             j++, shown++) {
            const char *url = servers[i]->urls[j];
            if (shown)
                g_string_append(s, " ");
            if (url && strchr(url, '@'))
                g_string_append(s, "[url with userinfo]");
            else
                append_text(s, url, DESCRIBE_MAX_CHARS);
        }
    }
    g_string_append_c(s, ']');
}

static void describe_client_config(GString *s, const Livekit__ClientConfiguration *cc)
{
    if (!cc)
        return;
    g_string_append(s, " force_relay=");
    append_enum(s, &livekit__client_config_setting__descriptor, cc->force_relay);
}

static void describe_participant(GString *s, const Livekit__ParticipantInfo *p)
{
    if (!p) {
        g_string_append(s, "(null)");
        return;
    }
    append_quoted(s, p->identity);
    g_string_append(s, " (");
    append_text(s, p->sid, 40);
    g_string_append(s, ") ");
    append_enum(s, &livekit__participant_info__state__descriptor, p->state);
    g_string_append_printf(s, " v%u", p->version);
    if (p->kind != LIVEKIT__PARTICIPANT_INFO__KIND__STANDARD) {
        g_string_append(s, " kind=");
        append_enum(s, &livekit__participant_info__kind__descriptor, p->kind);
    }
    g_string_append(s, " tracks=[");
    size_t n = MIN(p->n_tracks, DESCRIBE_MAX_ITEMS);
    for (size_t i = 0; i < n; i++) {
        const Livekit__TrackInfo *t = p->tracks[i];
        if (i)
            g_string_append(s, ", ");
        if (!t)
            continue;
        append_text(s, t->sid, 40);
        g_string_append_c(s, ' ');
        append_enum(s, &livekit__track_type__descriptor, t->type);
        if (t->mime_type && *t->mime_type) {
            g_string_append_c(s, ' ');
            append_text(s, t->mime_type, 32);
        }
        if (t->muted)
            g_string_append(s, " muted");
    }
    append_more(s, n, p->n_tracks);
    g_string_append_c(s, ']');
}

static void describe_join(GString *s, const Livekit__JoinResponse *j)
{
    if (!j)
        return;
    if (j->room) {
        g_string_append(s, " room=");
        append_quoted(s, j->room->name);
        g_string_append(s, " (");
        append_text(s, j->room->sid, 40);
        g_string_append_c(s, ')');
    }
    if (j->participant) {
        g_string_append(s, " me=");
        append_quoted(s, j->participant->identity);
        g_string_append(s, " (");
        append_text(s, j->participant->sid, 40);
        g_string_append_c(s, ')');
    }
    g_string_append_printf(s, " others=%" G_GSIZE_FORMAT, j->n_other_participants);
    describe_ice_servers(s, j->ice_servers, j->n_ice_servers);
    g_string_append_printf(s, " subscriber_primary=%s ping=%ds/%ds",
                           j->subscriber_primary ? "true" : "false", j->ping_interval,
                           j->ping_timeout);
    describe_client_config(s, j->client_configuration);
    const char *version =
        j->server_info && *j->server_info->version ? j->server_info->version : j->server_version;
    if (version && *version) {
        g_string_append(s, " server=");
        append_text(s, version, 32);
    }
    if (j->server_info)
        g_string_append_printf(s, " protocol=%d", j->server_info->protocol);
}

static void describe_update(GString *s, const Livekit__ParticipantUpdate *u)
{
    if (!u)
        return;
    g_string_append_printf(s, " participants=%" G_GSIZE_FORMAT, u->n_participants);
    size_t n = MIN(u->n_participants, DESCRIBE_MAX_ITEMS);
    for (size_t i = 0; i < n; i++) {
        g_string_append(s, i ? "; " : ": ");
        describe_participant(s, u->participants[i]);
    }
    if (u->n_participants > n)
        g_string_append_printf(s, "; +%" G_GSIZE_FORMAT " more", u->n_participants - n);
}

static void describe_speakers(GString *s, const Livekit__SpeakersChanged *sc)
{
    if (!sc)
        return;
    g_string_append_printf(s, " n=%" G_GSIZE_FORMAT, sc->n_speakers);
    size_t n = MIN(sc->n_speakers, DESCRIBE_MAX_ITEMS);
    for (size_t i = 0; i < n; i++) {
        const Livekit__SpeakerInfo *sp = sc->speakers[i];
        g_string_append(s, i ? ", " : ": ");
        if (!sp)
            continue;
        append_text(s, sp->sid, 40);
        g_string_append_printf(s, " %.2f%s", (double)sp->level, sp->active ? " active" : "");
    }
    append_more(s, n, sc->n_speakers);
}

static void describe_unknown(GString *s, const Livekit__SignalResponse *msg)
{
    g_string_append(s, " (field");
    size_t n = MIN(msg->base.n_unknown_fields, DESCRIBE_MAX_ITEMS);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%s%u %" G_GSIZE_FORMAT "B", i ? ", " : " ",
                               msg->base.unknown_fields[i].tag, msg->base.unknown_fields[i].len);
    append_more(s, n, msg->base.n_unknown_fields);
    g_string_append(s, "), ignored");
}

char *rr_signal_response_describe(const Livekit__SignalResponse *msg)
{
    if (!msg)
        return g_strdup("(null)");
    GString *s = g_string_new(rr_signal_response_case_name(msg->message_case));
    switch (msg->message_case) {
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN:
        describe_join(s, msg->join);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ANSWER:
        describe_sd(s, msg->answer);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER:
        describe_sd(s, msg->offer);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRICKLE:
        if (msg->trickle) {
            g_string_append(s, " target=");
            append_enum(s, &livekit__signal_target__descriptor, msg->trickle->target);
            g_string_append_printf(
                s, " final=%s candidateInit=", msg->trickle->final ? "true" : "false");
            append_text(s, msg->trickle->candidateinit, 2 * DESCRIBE_MAX_CHARS);
        }
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE:
        describe_update(s, msg->update);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE:
        if (msg->leave) {
            g_string_append(s, " reason=");
            append_enum(s, &livekit__disconnect_reason__descriptor, msg->leave->reason);
            g_string_append(s, " action=");
            append_enum(s, &livekit__leave_request__action__descriptor, msg->leave->action);
            g_string_append_printf(s, " can_reconnect=%s",
                                   msg->leave->can_reconnect ? "true" : "false");
        }
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SPEAKERS_CHANGED:
        describe_speakers(s, msg->speakers_changed);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_ROOM_UPDATE:
        if (msg->room_update && msg->room_update->room) {
            const Livekit__Room *r = msg->room_update->room;
            g_string_append(s, " room=");
            append_quoted(s, r->name);
            g_string_append_printf(s, " participants=%u publishers=%u recording=%s",
                                   r->num_participants, r->num_publishers,
                                   r->active_recording ? "true" : "false");
        }
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_REFRESH_TOKEN:
        /* Never the token itself. */
        g_string_append_printf(s, " (%" G_GSIZE_FORMAT " bytes)",
                               msg->refresh_token ? strlen(msg->refresh_token) : 0);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG:
        g_string_append_printf(s, " %" G_GINT64_FORMAT, (gint64)msg->pong);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_RECONNECT:
        if (msg->reconnect) {
            describe_ice_servers(s, msg->reconnect->ice_servers, msg->reconnect->n_ice_servers);
            describe_client_config(s, msg->reconnect->client_configuration);
        }
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP:
        if (msg->pong_resp)
            g_string_append_printf(s, " last_ping=%" G_GINT64_FORMAT " timestamp=%" G_GINT64_FORMAT,
                                   (gint64)msg->pong_resp->last_ping_timestamp,
                                   (gint64)msg->pong_resp->timestamp);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SUBSCRIPTION_RESPONSE:
        if (msg->subscription_response) {
            g_string_append(s, " track=");
            append_text(s, msg->subscription_response->track_sid, 40);
            g_string_append_printf(s, " err=%d", msg->subscription_response->err);
        }
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE__NOT_SET:
    default:
        describe_unknown(s, msg);
        break;
    }
    return g_string_free(s, FALSE);
}

/* ---- candidateInit JSON ---- */

char *rr_signal_candidate_init_to_json(const char *candidate, const char *sdp_mid,
                                       gint sdp_mline_index, const char *username_fragment)
{
    g_autofree char *cand = g_utf8_make_valid(candidate ? candidate : "", -1);
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "candidate");
    json_builder_add_string_value(b, cand);
    json_builder_set_member_name(b, "sdpMid");
    if (sdp_mid) {
        g_autofree char *mid = g_utf8_make_valid(sdp_mid, -1);
        json_builder_add_string_value(b, mid);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "sdpMLineIndex");
    if (sdp_mline_index >= 0)
        json_builder_add_int_value(b, sdp_mline_index);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "usernameFragment");
    if (username_fragment) {
        g_autofree char *uf = g_utf8_make_valid(username_fragment, -1);
        json_builder_add_string_value(b, uf);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

void rr_candidate_init_clear(RrCandidateInit *c)
{
    if (!c)
        return;
    g_clear_pointer(&c->candidate, g_free);
    g_clear_pointer(&c->sdp_mid, g_free);
    g_clear_pointer(&c->username_fragment, g_free);
    c->sdp_mline_index = -1;
}

/* An optional string member: absent or null → NULL; a string → copy; else error. */
static gboolean opt_string(JsonObject *o, const char *name, char **out, GError **error)
{
    JsonNode *n = json_object_get_member(o, name);
    *out = NULL;
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "candidateInit: '%s' is not a string", name);
        return FALSE;
    }
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

gboolean rr_signal_candidate_init_parse(const char *json, gssize len, RrCandidateInit *out,
                                        GError **error)
{
    g_return_val_if_fail(out != NULL, FALSE);
    memset(out, 0, sizeof(*out));
    out->sdp_mline_index = -1;
    if (!json) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "candidateInit is missing");
        return FALSE;
    }
    gsize n = len < 0 ? strnlen(json, RR_SIGNAL_MAX_CANDIDATE_JSON + 1) : (gsize)len;
    if (n == 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "candidateInit is empty");
        return FALSE;
    }
    if (n > RR_SIGNAL_MAX_CANDIDATE_JSON) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "candidateInit is longer than %d bytes", RR_SIGNAL_MAX_CANDIDATE_JSON);
        return FALSE;
    }
    if (memchr(json, '\0', n) || !g_utf8_validate(json, (gssize)n, NULL)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "candidateInit is not UTF-8 text without NUL bytes");
        return FALSE;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    if (!json_parser_load_from_data(parser, json, (gssize)n, &local)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "candidateInit is not valid JSON: %s", local->message);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "candidateInit is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    RrCandidateInit c = {NULL, NULL, -1, NULL};
    JsonNode *cn = json_object_get_member(o, "candidate");
    if (!cn || !JSON_NODE_HOLDS_VALUE(cn) || json_node_get_value_type(cn) != G_TYPE_STRING) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "candidateInit has no 'candidate' string");
        return FALSE;
    }
    c.candidate = g_strdup(json_node_get_string(cn));
    if (!opt_string(o, "sdpMid", &c.sdp_mid, error) ||
        !opt_string(o, "usernameFragment", &c.username_fragment, error)) {
        rr_candidate_init_clear(&c);
        return FALSE;
    }
    JsonNode *in = json_object_get_member(o, "sdpMLineIndex");
    if (in && !JSON_NODE_HOLDS_NULL(in)) {
        gint64 v = -1;
        if (JSON_NODE_HOLDS_VALUE(in) && json_node_get_value_type(in) == G_TYPE_INT64)
            v = json_node_get_int(in);
        if (v < 0 || v > G_MAXUINT16) {
            rr_candidate_init_clear(&c);
            g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                        "candidateInit: 'sdpMLineIndex' is not an integer in 0..65535");
            return FALSE;
        }
        c.sdp_mline_index = (gint)v;
    }
    *out = c;
    return TRUE;
}
