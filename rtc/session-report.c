/* rtc/session-report: a session's counters and per-track stats as JSON
 * (rr_session_build_json). See session.h. */
#include "rtc/session-priv.h"

/* Wall-clock times as milliseconds since the epoch. */
static void add_times(JsonBuilder *b, const char *k, const GArray *times)
{
    json_builder_set_member_name(b, k);
    json_builder_begin_array(b);
    for (guint i = 0; i < times->len; i++)
        json_builder_add_int_value(b, g_array_index(times, gint64, i) / 1000);
    json_builder_end_array(b);
}

static void add_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v ? v : "");
}

static void add_int(JsonBuilder *b, const char *k, gint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

static void add_bool(JsonBuilder *b, const char *k, gboolean v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_boolean_value(b, v);
}

void rr_session_build_json(RrSession *s, JsonBuilder *b)
{
    json_builder_begin_object(b);
    add_str(b, "state", rr_session_state_to_string(s->state));
    add_str(b, "room", s->room_name);
    add_str(b, "room_sid", s->room_sid);
    add_str(b, "participant_sid", s->participant_sid);
    add_str(b, "identity", s->identity);
    add_str(b, "signalling_address", s->signalling_ip);
    add_int(b, "rtt_ms", s->rtt_ms);
    json_builder_set_member_name(b, "counters");
    json_builder_begin_object(b);
    add_int(b, "joins", s->n.joins);
    add_int(b, "resumes", s->n.resumes);
    add_int(b, "rejoins", s->n.rejoins);
    add_int(b, "offers", s->n.offers);
    add_int(b, "answers", s->n.answers);
    add_int(b, "candidates_sent", s->n.candidates_sent);
    add_int(b, "candidates_received", s->n.candidates_received);
    add_int(b, "pings", s->n.pings);
    add_int(b, "pongs", s->n.pongs);
    add_int(b, "updates", s->n.updates);
    add_int(b, "leaves_received", s->n.leaves_received);
    add_int(b, "refreshed_tokens", s->n.refreshed_tokens);
    add_int(b, "keyframe_requests", s->n.keyframe_requests);
    add_int(b, "ice_restarts", s->n.ice_restarts);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "participants");
    json_builder_begin_array(b);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->participants);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        RrParticipant *p = v;
        json_builder_begin_object(b);
        add_str(b, "sid", p->sid);
        add_str(b, "identity", p->identity);
        add_str(b, "name", p->name);
        add_int(b, "version", p->version);
        json_builder_set_member_name(b, "tracks");
        json_builder_begin_array(b);
        for (guint i = 0; i < p->tracks->len; i++) {
            const Livekit__TrackInfo *ti = g_ptr_array_index(p->tracks, i);
            json_builder_begin_object(b);
            add_str(b, "sid", ti->sid);
            add_str(b, "name", ti->name);
            add_str(b, "type", ti->type == LIVEKIT__TRACK_TYPE__VIDEO ? "video" : "audio");
            add_str(b, "source", rr_track_source_to_string((RrTrackSource)ti->source));
            add_str(b, "mime_type", ti->mime_type);
            add_bool(b, "muted", ti->muted);
            add_bool(b, "subscribed", g_hash_table_contains(s->tracks, ti->sid));
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "tracks");
    json_builder_begin_array(b);
    gint64 now = g_get_monotonic_time();
    g_hash_table_iter_init(&it, s->tracks);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        RrTrack *t = v;
        json_builder_begin_object(b);
        add_str(b, "sid", t->sid);
        add_str(b, "participant", t->participant_identity);
        add_str(b, "kind", t->kind == RR_TRACK_KIND_VIDEO ? "video" : "audio");
        add_str(b, "source", rr_track_source_to_string(t->source));
        add_str(b, "codec", t->codec);
        add_int(b, "clock_rate", t->clock_rate);
        add_int(b, "pt", t->pt);
        add_int(b, "ssrc", t->ssrc);
        add_int(b, "rtx_ssrc", t->rtx_ssrc);
        add_str(b, "mid", t->mid);
        add_bool(b, "muted", t->muted);
        add_int(b, "packets", t->stats.packets);
        add_int(b, "bytes", t->stats.bytes);
        add_int(b, "lost", t->stats.lost);
        add_int(b, "keyframes", t->stats.keyframes);
        double secs = t->stats.packets ? (t->stats.last_us - t->stats.first_us) / 1e6 : 0;
        json_builder_set_member_name(b, "receiving_seconds");
        json_builder_add_double_value(b, secs);
        json_builder_set_member_name(b, "kbps");
        json_builder_add_double_value(b, secs > 0 ? t->stats.bytes * 8 / secs / 1000 : 0);
        add_int(b, "ms_since_last_packet", t->stats.packets ? (now - t->stats.last_us) / 1000 : -1);
        add_int(b, "max_gap_ms", t->stats.max_gap_us / 1000);
        if (t->kind == RR_TRACK_KIND_VIDEO) {
            add_times(b, "keyframe_times_ms", t->keyframe_times);
            add_times(b, "pli_times_ms", t->pli_times);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "peer");
    if (!s->peer) {
        json_builder_add_null_value(b);
    } else {
        RrPeerStats ps;
        rr_peer_get_stats(s->peer, &ps);
        json_builder_begin_object(b);
        static const char *dtls_names[] = {"new", "connecting", "connected", "failed", "closed"};
        add_str(b, "dtls_state", dtls_names[rr_peer_get_dtls_state(s->peer)]);
        add_str(b, "srtp_profile", rr_peer_get_srtp_profile(s->peer));
        add_bool(b, "sctp_up", rr_peer_get_sctp_up(s->peer));
        json_builder_set_member_name(b, "data_channels");
        json_builder_begin_array(b);
        for (const char *const *l = rr_peer_get_open_channels(s->peer); *l; l++)
            json_builder_add_string_value(b, *l);
        json_builder_end_array(b);
        add_int(b, "srtp_auth_failures", ps.srtp.auth_fail);
        add_int(b, "srtp_replay_failures", ps.srtp.replay_fail);
        add_int(b, "srtp_other_failures", ps.srtp.other_fail);
        add_int(b, "rtp_packets", ps.srtp.rtp_unprotected);
        add_int(b, "rtcp_packets", ps.srtp.rtcp_unprotected);
        add_int(b, "rtcp_sent", ps.srtp.rtcp_protected);
        add_int(b, "rtx_packets", ps.rtx_packets);
        add_int(b, "unknown_ssrc", ps.unknown_ssrc);
        add_int(b, "packets_before_dtls", ps.packets_before_dtls);
        add_int(b, "malformed", ps.malformed);
        json_builder_set_member_name(b, "ice");
        g_autoptr(RrIceReport) rep = rr_ice_transport_get_report(rr_peer_get_ice(s->peer));
        rr_ice_report_build_json(rep, b);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
}
