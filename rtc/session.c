/* rtc/session: a hidden subscriber in a LiveKit room. See session.h.
 *
 * DESIGN
 *
 *   signal-client ──frame──► decode ──► join / offer / trickle / update / leave / ...
 *        ▲                                 │            │
 *        └── answer, trickle, ping ◄───────┘            ▼
 *                                                     RrPeer ──rtp──► track lookup ──► rtp cb
 *
 * Tracks: a track is reported (track_added) when three things agree: the latest offer's
 * mid_to_track_id maps a receiving m-section to it, a participant update lists it, and
 * the answer chose a codec for it. Anything breaking that reports track_removed. That
 * bookkeeping is in session-tracks.c; the JSON report in session-report.c.
 *
 * Losing the socket resumes (`reconnect=1&sid=`, keeping the peer connection and
 * tracks), with backoff; leave{RESUME} does the same at once; leave{RECONNECT} or a
 * `join` in answer to a resume tears the peer connection down and joins afresh.
 */
#include "rtc/session.h"

#include "rtc/rtc-error.h"
#include "rtc/rtcp.h"
#include "rtc/session-priv.h"
#include "rtc/token.h"

#include <nice/interfaces.h>

/* ---- small helpers ---- */

const char *rr_session_state_to_string(RrSessionState s)
{
    static const char *names[] = {"new",          "connecting", "joined", "connected",
                                  "reconnecting", "closed",     "failed"};
    return (guint)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

const char *rr_track_source_to_string(RrTrackSource s)
{
    static const char *names[] = {"unknown", "camera", "microphone", "screen_share",
                                  "screen_share_audio"};
    return (guint)s < G_N_ELEMENTS(names) ? names[s] : "unknown";
}

static void ice_server_clear(gpointer p)
{
    RrIceServer *s = p;
    g_free((char *)s->url);
    g_free((char *)s->username);
    g_free((char *)s->credential);
}

static void add_ice_server(GArray *a, const char *url, const char *user, const char *cred)
{
    RrIceServer s = {g_strdup(url), g_strdup(user), g_strdup(cred)};
    g_array_append_val(a, s);
}

static void set_state(RrSession *s, RrSessionState state, const GError *error)
{
    if (s->state == state && !error)
        return;
    s->state = state;
    if (error)
        g_message("session: %s: %s", rr_session_state_to_string(state), error->message);
    else
        g_info("session: %s", rr_session_state_to_string(state));
    if (s->cbs.state_changed)
        s->cbs.state_changed(s, state, error, s->ud);
}

static void stop_timer(RrSession *s, guint *id)
{
    if (!*id)
        return;
    GSource *src = g_main_context_find_source_by_id(s->ctx, *id);
    if (src)
        g_source_destroy(src);
    *id = 0;
}

static guint add_timeout(RrSession *s, guint ms, GSourceFunc fn)
{
    GSource *src = g_timeout_source_new(ms);
    g_source_set_callback(src, fn, s, NULL);
    guint id = g_source_attach(src, s->ctx);
    g_source_unref(src);
    return id;
}

static void send_frame(RrSession *s, GBytes *frame)
{
    g_autoptr(GError) err = NULL;
    if (frame && !rr_signal_client_send(s->sig, frame, &err))
        g_debug("session: not sent: %s", err->message);
}

static void fail(RrSession *s, GError *error /* (transfer full) */)
{
    g_autoptr(GError) err = error;
    stop_timer(s, &s->ping_timer);
    stop_timer(s, &s->rr_timer);
    stop_timer(s, &s->join_timer);
    stop_timer(s, &s->retry_source);
    set_state(s, RR_SESSION_FAILED, err);
}

/* ---- peer callbacks ---- */

static void peer_local_candidate(RrPeer *peer, const char *candidate, gpointer data)
{
    RrSession *s = data;
    const RrSdpAnswer *a = rr_peer_get_answer(peer);
    const char *mid = "0";
    if (a && a->choices->len)
        mid = ((const RrSdpChoice *)g_ptr_array_index(a->choices, 0))->mid;
    g_autofree char *json = rr_signal_candidate_init_to_json(candidate, mid, 0, NULL);
    g_autoptr(GBytes) f = rr_signal_encode_trickle(json, LIVEKIT__SIGNAL_TARGET__SUBSCRIBER, FALSE);
    s->n.candidates_sent++;
    send_frame(s, f);
}

static void peer_connected(RrPeer *peer, gpointer data)
{
    RrSession *s = data;
    s->rejoin_tries = 0;
    s->media_flowed = TRUE;
    if (s->state == RR_SESSION_JOINED)
        set_state(s, RR_SESSION_CONNECTED, NULL);
    /* Ask every video track for a keyframe at once: the recording starts on one. */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->tracks);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (((RrTrack *)v)->kind == RR_TRACK_KIND_VIDEO)
            rr_session_request_keyframe(s, ((RrTrack *)v)->sid, NULL);
}

static void rejoin(RrSession *s);

static void peer_failed(RrPeer *peer, const GError *error, gpointer data)
{
    RrSession *s = data;
    if (s->path_used && s->rejoin_tries < s->resume_attempts) {
        /* The known path did not do (a server moved, a network changed): every address. */
        g_message("session: the connection through %s (%s) failed (%s); rejoining, gathering "
                  "on every local address",
                  s->path_address, s->path_tcp ? "TCP" : "UDP", error->message);
        s->path_dropped = TRUE;
        rejoin(s);
        return;
    }
    /* Media that once flowed and broke (e.g. an ICE restart after a resume that does not
     * complete) is worth a full rejoin; a connection that never came up is a failure
     * whose report the caller needs. */
    if (s->media_flowed && s->rejoin_tries < s->resume_attempts) {
        g_message("session: the media connection broke (%s); rejoining", error->message);
        rejoin(s);
        return;
    }
    fail(s, g_error_copy(error));
}

static void peer_rtp(RrPeer *peer, const RrSdpChoice *choice, const RrRtpHeader *hdr,
                     const guint8 *pkt, gsize len, gpointer data)
{
    RrSession *s = data;
    RrTrack *t = rr_sess_track_for_mid(s, choice->mid);
    if (!t)
        return;
    rr_sess_track_count(t, hdr, pkt);
    if (s->cbs.rtp)
        s->cbs.rtp(s, t, pkt, len, s->ud);
}

static void peer_rtcp(RrPeer *peer, const guint8 *pkt, gsize len, gpointer data)
{
    RrSession *s = data;
    if (s->cbs.rtcp)
        s->cbs.rtcp(s, pkt, len, s->ud);
}

static const RrPeerCallbacks peer_callbacks = {
    .local_candidate = peer_local_candidate,
    .connected = peer_connected,
    .failed = peer_failed,
    .rtp = peer_rtp,
    .rtcp = peer_rtcp,
};

static void drop_peer(RrSession *s)
{
    rr_sess_remove_all_tracks(s);
    g_clear_pointer(&s->peer, rr_peer_free);
    g_hash_table_remove_all(s->mid_to_track);
    g_clear_pointer(&s->offer_sdp, g_free);
    g_clear_pointer(&s->answer_sdp, g_free);
}

static gboolean create_peer(RrSession *s, GError **error)
{
    /* ICE servers: the JoinResponse's first, then the configured ones. */
    g_autoptr(GArray) servers = g_array_new(FALSE, FALSE, sizeof(RrIceServer));
    g_array_append_vals(servers, s->join_servers->data, s->join_servers->len);
    g_array_append_vals(servers, s->ice_servers->data, s->ice_servers->len);
    RrIceConfig cfg = s->ice;
    cfg.servers = (const RrIceServer *)servers->data;
    cfg.n_servers = servers->len;
    if (s->force_relay)
        cfg.allowed_types &= ~(guint)(RR_ICE_ALLOW_HOST | RR_ICE_ALLOW_SRFLX);
    /* A known path: its one address and transport, host candidates only. */
    const char *path[2] = {s->path_address, NULL};
    s->path_used = s->path_address && !s->path_dropped && !s->force_relay &&
                   !(cfg.local_addresses && cfg.local_addresses[0]) &&
                   (cfg.allowed_types & RR_ICE_ALLOW_HOST) && (s->path_tcp ? cfg.tcp : cfg.udp);
    if (s->path_used) {
        cfg.local_addresses = path;
        cfg.udp = !s->path_tcp;
        cfg.tcp = s->path_tcp;
        cfg.allowed_types = RR_ICE_ALLOW_HOST;
        g_info("session: gathering only on %s (%s), a path known to reach the server",
               s->path_address, s->path_tcp ? "TCP" : "UDP");
    }
    s->peer = rr_peer_new(s->ctx, &cfg, s->cert, &peer_callbacks, s, error);
    if (!s->peer)
        return FALSE;
    if (s->signalling_ip)
        rr_peer_set_signalling_address(s->peer, s->signalling_ip);
    return TRUE;
}

/* ---- signalling ---- */

static gboolean on_ping(gpointer data)
{
    RrSession *s = data;
    gint64 now = g_get_monotonic_time();
    if (s->ping_timeout_s && s->last_pong_us &&
        now - s->last_pong_us > (gint64)s->ping_timeout_s * G_USEC_PER_SEC) {
        g_message("session: no pong for %u s: the signalling connection is dead",
                  s->ping_timeout_s);
        s->last_pong_us = 0;
        rr_signal_client_abort(s->sig);
        return G_SOURCE_CONTINUE;
    }
    g_autoptr(GBytes) f = rr_signal_encode_ping_req(g_get_real_time() / 1000, s->rtt_ms);
    s->n.pings++;
    send_frame(s, f);
    /* Media watchdog: every unmuted track silent for 10 s means the media path broke
     * without ICE noticing (seen after ICE restarts); rejoin. */
    gboolean any = FALSE, silent = TRUE;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->tracks);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const RrTrack *t = v;
        if (t->muted || !t->stats.packets)
            continue;
        any = TRUE;
        silent = silent && now - t->stats.last_us > 10 * G_USEC_PER_SEC;
    }
    if (any && silent && s->state == RR_SESSION_CONNECTED && s->rejoin_tries < s->resume_attempts) {
        g_message("session: no media on any track for 10 s; rejoining");
        rejoin(s);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void start_pinging(RrSession *s)
{
    stop_timer(s, &s->ping_timer);
    s->last_pong_us = g_get_monotonic_time();
    s->ping_timer = add_timeout(s, MAX(1u, s->ping_interval_s) * 1000, on_ping);
}

static gboolean on_receiver_report(gpointer data)
{
    RrSession *s = data;
    if (!s->peer || !rr_peer_get_srtp_profile(s->peer) || g_hash_table_size(s->tracks) == 0)
        return G_SOURCE_CONTINUE;
    RrRtcpReportBlock blocks[31];
    guint n = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->tracks);
    while (n < G_N_ELEMENTS(blocks) && g_hash_table_iter_next(&it, NULL, &v)) {
        RrTrack *t = v;
        if (!t->stats.packets)
            continue;
        blocks[n++] = (RrRtcpReportBlock){.ssrc = t->ssrc,
                                          .cumulative_lost = (gint32)MIN(t->stats.lost, 0x7fffff),
                                          .ext_highest_seq = t->stats.highest_seq};
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    rr_rtcp_build_compound(out, s->local_ssrc, blocks, n, "roomrec");
    rr_peer_send_rtcp(s->peer, out->data, out->len, NULL);
    return G_SOURCE_CONTINUE;
}

static void send_subscriptions(RrSession *s)
{
    if (s->auto_subscribe || !s->track_sids || !s->track_sids[0])
        return;
    g_autoptr(GBytes) f = rr_signal_encode_subscription((const char *const *)s->track_sids, TRUE);
    send_frame(s, f);
}

static void handle_join(RrSession *s, const Livekit__JoinResponse *j)
{
    stop_timer(s, &s->join_timer);
    if (s->peer) {
        /* A join where a resume was asked for: the server started afresh. */
        g_message("session: the server answered the resume with a new join; rejoining");
        drop_peer(s);
    }
    g_hash_table_remove_all(s->participants);
    s->n.joins++;
    s->resume_tries = 0;
    g_free(s->participant_sid);
    s->participant_sid = g_strdup(j->participant ? j->participant->sid : "");
    g_free(s->room_name);
    s->room_name = g_strdup(j->room ? j->room->name : "");
    g_free(s->room_sid);
    s->room_sid = g_strdup(j->room ? j->room->sid : "");
    g_array_set_size(s->join_servers, 0);
    for (gsize i = 0; i < j->n_ice_servers && s->cbs.secret; i++) {
        s->cbs.secret(s, j->ice_servers[i]->username, s->ud);
        s->cbs.secret(s, j->ice_servers[i]->credential, s->ud);
    }
    for (gsize i = 0; i < j->n_ice_servers; i++)
        for (gsize u = 0; u < j->ice_servers[i]->n_urls; u++)
            add_ice_server(s->join_servers, j->ice_servers[i]->urls[u], j->ice_servers[i]->username,
                           j->ice_servers[i]->credential);
    s->force_relay = j->client_configuration && j->client_configuration->force_relay ==
                                                    LIVEKIT__CLIENT_CONFIG_SETTING__ENABLED;
    s->ping_interval_s = j->ping_interval > 0 ? (guint)j->ping_interval : 5;
    s->ping_timeout_s = j->ping_timeout > 0 ? (guint)j->ping_timeout : 15;
    g_info("session: joined room '%s' as %s (%zu other participants, %u ICE servers%s)",
           s->room_name, s->participant_sid, j->n_other_participants, s->join_servers->len,
           s->force_relay ? ", relay forced" : "");
    for (gsize i = 0; i < j->n_other_participants; i++)
        rr_sess_apply_participant(s, j->other_participants[i]);
    g_autoptr(GError) err = NULL;
    if (!create_peer(s, &err)) {
        fail(s, g_steal_pointer(&err));
        return;
    }
    start_pinging(s);
    if (s->send_rr && !s->rr_timer)
        s->rr_timer = add_timeout(s, 1000, on_receiver_report);
    set_state(s, RR_SESSION_JOINED, NULL);
    send_subscriptions(s);
}

static void handle_offer(RrSession *s, const Livekit__SessionDescription *sd)
{
    if (!s->peer) {
        g_message("session: offer before join; ignored");
        return;
    }
    s->n.offers++;
    g_autoptr(GError) err = NULL;
    RrPeerStats before, after;
    rr_peer_get_stats(s->peer, &before);
    const RrSdpAnswer *answer = rr_peer_apply_offer(s->peer, sd->sdp, &err);
    if (!answer) {
        fail(s, g_error_new(RR_RTC_ERROR, err->code, "cannot answer the server's offer %u: %s",
                            sd->id, err->message));
        return;
    }
    rr_peer_get_stats(s->peer, &after);
    s->n.ice_restarts += (guint)(after.ice_restarts - before.ice_restarts);
    g_hash_table_remove_all(s->mid_to_track);
    for (gsize i = 0; i < sd->n_mid_to_track_id; i++)
        g_hash_table_insert(s->mid_to_track, g_strdup(sd->mid_to_track_id[i]->key),
                            g_strdup(sd->mid_to_track_id[i]->value));
    g_free(s->offer_sdp);
    s->offer_sdp = g_strdup(sd->sdp);
    s->offer_id = sd->id;
    g_free(s->answer_sdp);
    s->answer_sdp = g_strdup(answer->sdp);
    for (guint i = 0; i < answer->choices->len; i++) {
        const RrSdpChoice *c = g_ptr_array_index(answer->choices, i);
        if (c->reason)
            g_info("session: m-section %s not recorded: %s", c->mid, c->reason);
    }
    g_autoptr(GBytes) f = rr_signal_encode_answer(answer->sdp, sd->id);
    s->n.answers++;
    send_frame(s, f);
    rr_peer_answer_sent(s->peer);
    rr_sess_reconcile_tracks(s);
}

static void handle_trickle(RrSession *s, const Livekit__TrickleRequest *t)
{
    if (t->target != LIVEKIT__SIGNAL_TARGET__SUBSCRIBER || !s->peer)
        return;
    g_auto(RrCandidateInit) ci = {0};
    g_autoptr(GError) err = NULL;
    if (!rr_signal_candidate_init_parse(t->candidateinit, -1, &ci, &err)) {
        g_message("session: unusable trickle from the server: %s", err->message);
        return;
    }
    if (ci.candidate && *ci.candidate) {
        s->n.candidates_received++;
        if (!rr_peer_add_remote_candidate(s->peer, ci.candidate, &err))
            g_message("session: server candidate not used: %s", err->message);
    }
    if (t->final || !ci.candidate || !*ci.candidate)
        rr_peer_remote_gathering_done(s->peer);
}

static gint louder_first(gconstpointer a, gconstpointer b, gpointer levels)
{
    double la = *(double *)g_hash_table_lookup(levels, *(const char *const *)a);
    double lb = *(double *)g_hash_table_lookup(levels, *(const char *const *)b);
    return (la < lb) - (la > lb);
}

static void handle_speakers(RrSession *s, const Livekit__SpeakersChanged *sc)
{
    for (gsize i = 0; i < sc->n_speakers; i++) {
        const Livekit__SpeakerInfo *sp = sc->speakers[i];
        if (sp->active) {
            double *lvl = g_new(double, 1);
            *lvl = sp->level;
            g_hash_table_insert(s->speakers, g_strdup(sp->sid), lvl);
        } else {
            g_hash_table_remove(s->speakers, sp->sid);
        }
    }
    if (!s->cbs.speakers)
        return;
    g_autoptr(GPtrArray) sids = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, s->speakers);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(sids, k);
    g_ptr_array_sort_with_data(sids, louder_first, s->speakers);
    g_ptr_array_add(sids, NULL);
    s->cbs.speakers(s, (const char *const *)sids->pdata, s->ud);
}

static void resume(RrSession *s, gboolean immediately);

static const char *reason_text(int reason)
{
    static const char *names[] = {"unknown reason",  "client initiated",    "duplicate identity",
                                  "server shutdown", "participant removed", "room deleted",
                                  "state mismatch",  "join failure",        "migration",
                                  "signal close",    "room closed"};
    return reason >= 0 && (guint)reason < G_N_ELEMENTS(names) ? names[reason] : "unknown reason";
}

static void handle_leave(RrSession *s, const Livekit__LeaveRequest *l)
{
    s->n.leaves_received++;
    g_message("session: the server sent leave (%s, action %s)", reason_text(l->reason),
              l->action == LIVEKIT__LEAVE_REQUEST__ACTION__RESUME      ? "resume"
              : l->action == LIVEKIT__LEAVE_REQUEST__ACTION__RECONNECT ? "reconnect"
                                                                       : "disconnect");
    switch (l->action) {
    case LIVEKIT__LEAVE_REQUEST__ACTION__RESUME:
        resume(s, TRUE);
        break;
    case LIVEKIT__LEAVE_REQUEST__ACTION__RECONNECT:
        rejoin(s);
        break;
    default:
        s->leaving = TRUE;
        stop_timer(s, &s->ping_timer);
        stop_timer(s, &s->rr_timer);
        rr_signal_client_close(s->sig);
        drop_peer(s);
        g_autoptr(GError) err =
            g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_CONNECT, "the server ended the session: %s",
                        reason_text(l->reason));
        set_state(s, RR_SESSION_CLOSED, err);
        break;
    }
}

static void handle_reconnect(RrSession *s)
{
    s->n.resumes++;
    s->resume_tries = 0;
    s->resuming = FALSE;
    g_info("session: resumed");
    if (s->peer)
        rr_peer_signalling_reconnected(s->peer);
    RrSignalSyncState st = {.answer_sdp = s->answer_sdp,
                            .answer_id = s->offer_id,
                            .offer_sdp = s->offer_sdp,
                            .offer_id = s->offer_id,
                            .track_sids =
                                s->auto_subscribe ? NULL : (const char *const *)s->track_sids,
                            .subscribe = !s->auto_subscribe};
    g_autoptr(GBytes) f = rr_signal_encode_sync_state(&st);
    send_frame(s, f);
    start_pinging(s);
    set_state(
        s, s->peer && rr_peer_get_srtp_profile(s->peer) ? RR_SESSION_CONNECTED : RR_SESSION_JOINED,
        NULL);
}

static void on_frame(RrSignalClient *c, GBytes *frame, gpointer data)
{
    RrSession *s = data;
    gsize n;
    const guint8 *d = g_bytes_get_data(frame, &n);
    g_autoptr(GError) err = NULL;
    g_autoptr(Livekit__SignalResponse) m = rr_signal_decode_response(d, n, &err);
    if (!m) {
        if (s->state == RR_SESSION_CONNECTING) {
            /* Garbage instead of a join: this is not a LiveKit server. */
            fail(s, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                                "the server's first message is not LiveKit signalling (%s); "
                                "check the URL",
                                err->message));
            rr_signal_client_close(s->sig);
            return;
        }
        g_message("session: ignoring a bad signalling message: %s", err->message);
        return;
    }
    if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN) == FALSE) {
        g_autofree char *desc = rr_signal_response_describe(m);
        g_debug("session: ← %s", desc);
    }
    switch (m->message_case) {
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_JOIN:
        handle_join(s, m->join);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_OFFER:
        handle_offer(s, m->offer);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRICKLE:
        handle_trickle(s, m->trickle);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_UPDATE:
        s->n.updates++;
        for (gsize i = 0; i < m->update->n_participants; i++)
            rr_sess_apply_participant(s, m->update->participants[i]);
        rr_sess_reconcile_tracks(s);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_SPEAKERS_CHANGED:
        handle_speakers(s, m->speakers_changed);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_LEAVE:
        handle_leave(s, m->leave);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_REFRESH_TOKEN:
        if (m->refresh_token && *m->refresh_token) {
            if (s->cbs.secret)
                s->cbs.secret(s, m->refresh_token, s->ud);
            g_free(s->token);
            s->token = g_strdup(m->refresh_token);
            s->n.refreshed_tokens++;
        }
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG:
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP:
        s->n.pongs++;
        s->last_pong_us = g_get_monotonic_time();
        if (m->message_case == LIVEKIT__SIGNAL_RESPONSE__MESSAGE_PONG_RESP)
            s->rtt_ms = MAX(0, g_get_real_time() / 1000 - m->pong_resp->last_ping_timestamp);
        break;
    case LIVEKIT__SIGNAL_RESPONSE__MESSAGE_RECONNECT:
        handle_reconnect(s);
        break;
    default:
        break;
    }
}

static void on_closed(RrSignalClient *c, const GError *error, gpointer data)
{
    RrSession *s = data;
    stop_timer(s, &s->ping_timer);
    if (s->leaving || s->retry_source || s->state == RR_SESSION_CLOSED ||
        s->state == RR_SESSION_FAILED)
        return;
    if (s->state == RR_SESSION_CONNECTING) {
        fail(s, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                            "the server closed the signalling connection before the join "
                            "response (%s)",
                            error ? error->message : "closed"));
        return;
    }
    g_message("session: signalling lost (%s); resuming", error ? error->message : "closed");
    resume(s, FALSE);
}

static const RrSignalClientCallbacks signal_callbacks = {on_frame, on_closed};

static gboolean on_join_timeout(gpointer data)
{
    RrSession *s = data;
    s->join_timer = 0;
    if (s->resuming && s->resume_tries < s->resume_attempts) {
        g_message("session: no reconnect response; trying again");
        resume(s, FALSE);
        return G_SOURCE_REMOVE;
    }
    fail(s, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_TIMEOUT,
                        "the server accepted the connection but sent no %s within %u s",
                        s->resuming ? "reconnect response" : "join response", s->join_timeout_s));
    return G_SOURCE_REMOVE;
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    RrSession *s = data;
    g_autoptr(GError) err = NULL;
    if (!rr_signal_client_connect_finish(s->sig, res, &err)) {
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        /* A refused token is final; a lost network is worth retrying while resuming. */
        if (s->state == RR_SESSION_RECONNECTING && err->code != RR_RTC_ERROR_AUTH &&
            s->resume_tries < s->resume_attempts) {
            g_message("session: reconnect attempt %u failed: %s", s->resume_tries, err->message);
            resume(s, FALSE);
            return;
        }
        fail(s, g_steal_pointer(&err));
        return;
    }
    g_free(s->signalling_ip);
    s->signalling_ip = rr_signal_client_remote_ip(s->sig);
    if (s->peer && s->signalling_ip)
        rr_peer_set_signalling_address(s->peer, s->signalling_ip);
    stop_timer(s, &s->join_timer);
    s->join_timer = add_timeout(s, s->join_timeout_s * 1000, on_join_timeout);
}

static void connect_signal(RrSession *s)
{
    RrSignalConnectParams p = {
        .url = s->url,
        .token = s->token,
        .auto_subscribe = s->auto_subscribe,
        .protocol = s->protocol,
        .resume_sid = s->resuming ? s->participant_sid : NULL,
        .connect_timeout_s = s->join_timeout_s,
    };
    rr_signal_client_connect_async(s->sig, &p, NULL, on_connected, s);
}

static gboolean on_retry(gpointer data)
{
    RrSession *s = data;
    s->retry_source = 0;
    connect_signal(s);
    return G_SOURCE_REMOVE;
}

static void resume(RrSession *s, gboolean immediately)
{
    if (!s->participant_sid || !*s->participant_sid || !s->peer) {
        rejoin(s);
        return;
    }
    if (s->resume_tries >= s->resume_attempts) {
        fail(s, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                            "could not resume the session after %u attempts", s->resume_tries));
        return;
    }
    set_state(s, RR_SESSION_RECONNECTING, NULL);
    stop_timer(s, &s->ping_timer);
    stop_timer(s, &s->join_timer);
    s->resuming = TRUE;
    guint delay = immediately ? 0 : MIN(200u << MIN(s->resume_tries, 5u), 5000u);
    s->resume_tries++;
    stop_timer(s, &s->retry_source);
    s->retry_source = add_timeout(s, delay, on_retry);
    rr_signal_client_abort(s->sig); /* its close is ignored while a retry is pending */
}

static void rejoin(RrSession *s)
{
    if (s->rejoin_tries >= s->resume_attempts) {
        fail(s, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                            "the server keeps sending us away (%u rejoins without media)",
                            s->rejoin_tries));
        return;
    }
    guint delay = s->rejoin_tries ? MIN(250u << MIN(s->rejoin_tries, 5u), 5000u) : 0;
    s->rejoin_tries++;
    s->n.rejoins++;
    set_state(s, RR_SESSION_RECONNECTING, NULL);
    stop_timer(s, &s->ping_timer);
    stop_timer(s, &s->join_timer);
    drop_peer(s);
    s->resuming = FALSE;
    stop_timer(s, &s->retry_source);
    s->retry_source = add_timeout(s, delay, on_retry);
    rr_signal_client_abort(s->sig);
}

/* ---- public ---- */

void rr_session_config_init(RrSessionConfig *c)
{
    memset(c, 0, sizeof *c);
    c->auto_subscribe = TRUE;
    rr_ice_config_init(&c->ice);
    c->join_timeout_s = 15;
    c->resume_attempts = 8;
    c->protocol = RR_SESSION_DEFAULT_PROTOCOL;
}

RrSession *rr_session_new(GMainContext *context, const RrSessionConfig *cfg,
                          const RrSessionCallbacks *callbacks, gpointer user_data, GError **error)
{
    if (!cfg->url || !*cfg->url) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "no server URL");
        return NULL;
    }
    g_autofree char *identity = g_strdup(cfg->identity);
    g_autofree char *token = NULL;
    if (cfg->token && *cfg->token) {
        g_autoptr(JsonObject) claims = rr_token_decode(cfg->token, 0, error);
        if (!claims)
            return NULL;
        token = g_strdup(cfg->token);
    } else {
        if (!identity)
            identity = g_strdup_printf("EG_%08x%04x", g_random_int(), g_random_int() & 0xffff);
        RrTokenOptions o;
        rr_token_options_init_recorder(&o);
        o.api_key = cfg->api_key;
        o.api_secret = cfg->api_secret;
        o.room = cfg->room;
        o.identity = identity;
        o.name = cfg->name;
        token = rr_token_mint(&o, error);
        if (!token)
            return NULL;
    }
    RrCert *cert = rr_cert_new(NULL, error);
    if (!cert)
        return NULL;

    RrSession *s = g_new0(RrSession, 1);
    s->ctx = g_main_context_ref(context);
    s->cbs = *callbacks;
    s->ud = user_data;
    s->cert = cert;
    s->token = g_steal_pointer(&token);
    s->url = g_strdup(cfg->url);
    s->api_key = g_strdup(cfg->api_key);
    s->api_secret = g_strdup(cfg->api_secret);
    s->room = g_strdup(cfg->room);
    s->identity = g_steal_pointer(&identity);
    s->name = g_strdup(cfg->name);
    s->track_sids = g_strdupv((char **)cfg->track_sids);
    s->auto_subscribe = cfg->auto_subscribe;
    s->ice = cfg->ice;
    s->ice_servers = g_array_new(FALSE, FALSE, sizeof(RrIceServer));
    g_array_set_clear_func(s->ice_servers, ice_server_clear);
    for (guint i = 0; i < cfg->ice.n_servers; i++)
        add_ice_server(s->ice_servers, cfg->ice.servers[i].url, cfg->ice.servers[i].username,
                       cfg->ice.servers[i].credential);
    s->ice_nat_map = g_strdupv((char **)cfg->ice.nat_map);
    s->ice_local_addresses = g_strdupv((char **)cfg->ice.local_addresses);
    s->path_address = g_strdup(cfg->path_address);
    s->path_tcp = cfg->path_tcp;
    s->ice.nat_map = (const char *const *)s->ice_nat_map;
    s->ice.local_addresses = (const char *const *)s->ice_local_addresses;
    s->ice.servers = NULL;
    s->ice.n_servers = 0;
    s->join_servers = g_array_new(FALSE, FALSE, sizeof(RrIceServer));
    g_array_set_clear_func(s->join_servers, ice_server_clear);
    s->join_timeout_s = cfg->join_timeout_s ? cfg->join_timeout_s : 15;
    s->resume_attempts = cfg->resume_attempts ? cfg->resume_attempts : 8;
    s->send_rr = cfg->send_receiver_reports;
    s->protocol = cfg->protocol ? cfg->protocol : RR_SESSION_DEFAULT_PROTOCOL;
    s->participants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify)rr_sess_participant_free);
    s->tracks =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rr_sess_track_free);
    s->mid_to_track = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->speakers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->local_ssrc = g_random_int() | 1;
    s->sig = rr_signal_client_new(context, &signal_callbacks, s);
    return s;
}

void rr_session_free(RrSession *s)
{
    if (!s)
        return;
    stop_timer(s, &s->ping_timer);
    stop_timer(s, &s->rr_timer);
    stop_timer(s, &s->join_timer);
    stop_timer(s, &s->retry_source);
    s->leaving = TRUE;
    g_clear_pointer(&s->sig, rr_signal_client_free);
    g_clear_pointer(&s->peer, rr_peer_free);
    g_hash_table_unref(s->tracks);
    g_hash_table_unref(s->participants);
    g_hash_table_unref(s->mid_to_track);
    g_hash_table_unref(s->speakers);
    g_array_unref(s->ice_servers);
    g_array_unref(s->join_servers);
    g_strfreev(s->ice_nat_map);
    g_strfreev(s->ice_local_addresses);
    g_free(s->path_address);
    g_strfreev(s->track_sids);
    rr_cert_unref(s->cert);
    g_free(s->token);
    g_free(s->url);
    g_free(s->api_key);
    g_free(s->api_secret);
    g_free(s->room);
    g_free(s->identity);
    g_free(s->name);
    g_free(s->participant_sid);
    g_free(s->room_name);
    g_free(s->room_sid);
    g_free(s->signalling_ip);
    g_free(s->offer_sdp);
    g_free(s->answer_sdp);
    g_main_context_unref(s->ctx);
    g_free(s);
}

void rr_session_start(RrSession *s)
{
    set_state(s, RR_SESSION_CONNECTING, NULL);
    connect_signal(s);
}

void rr_session_leave(RrSession *s)
{
    if (s->state == RR_SESSION_CLOSED || s->state == RR_SESSION_FAILED)
        return;
    s->leaving = TRUE;
    stop_timer(s, &s->ping_timer);
    stop_timer(s, &s->rr_timer);
    stop_timer(s, &s->join_timer);
    stop_timer(s, &s->retry_source);
    g_autoptr(GBytes) f = rr_signal_encode_leave(LIVEKIT__DISCONNECT_REASON__CLIENT_INITIATED,
                                                 LIVEKIT__LEAVE_REQUEST__ACTION__DISCONNECT);
    send_frame(s, f);
    rr_signal_client_close(s->sig);
    drop_peer(s);
    set_state(s, RR_SESSION_CLOSED, NULL);
}

RrSessionState rr_session_get_state(RrSession *s)
{
    return s->state;
}

GHashTable *rr_session_get_participants(RrSession *s)
{
    return s->participants;
}

GHashTable *rr_session_get_tracks(RrSession *s)
{
    return s->tracks;
}

const char *rr_session_get_room_name(RrSession *s)
{
    return s->room_name;
}

const char *rr_session_get_participant_sid(RrSession *s)
{
    return s->participant_sid;
}

RrPeer *rr_session_get_peer(RrSession *s)
{
    return s->peer;
}

void rr_session_subscribe(RrSession *s, const char *const *track_sids, gboolean subscribe)
{
    /* The list is what a resume's sync state and a rejoin ask for again; only what changes
     * it is sent. */
    const char *const *had = (const char *const *)s->track_sids;
    g_autoptr(GPtrArray) change = g_ptr_array_new();
    g_autoptr(GStrvBuilder) keep = g_strv_builder_new();
    for (guint i = 0; had && had[i]; i++) {
        if (!subscribe && track_sids && g_strv_contains(track_sids, had[i]))
            g_ptr_array_add(change, (gpointer)had[i]);
        else
            g_strv_builder_add(keep, had[i]);
    }
    for (guint i = 0; subscribe && track_sids && track_sids[i]; i++) {
        gboolean dup = FALSE;
        for (guint k = 0; k < change->len && !dup; k++)
            dup = g_str_equal(g_ptr_array_index(change, k), track_sids[i]);
        if (dup || (had && g_strv_contains(had, track_sids[i])) || !*track_sids[i])
            continue;
        g_ptr_array_add(change, (gpointer)track_sids[i]);
        g_strv_builder_add(keep, track_sids[i]);
    }
    if (change->len == 0)
        return;
    g_ptr_array_add(change, NULL);
    g_autoptr(GBytes) f =
        rr_signal_encode_subscription((const char *const *)change->pdata, subscribe);
    send_frame(s, f);
    char **old = s->track_sids;
    s->track_sids = g_strv_builder_end(keep);
    g_strfreev(old); /* after sending: @change points into it */
}

void rr_session_set_path(RrSession *s, const char *address, gboolean tcp)
{
    g_return_if_fail(s->state == RR_SESSION_NEW);
    g_free(s->path_address);
    s->path_address = g_strdup(address);
    s->path_tcp = tcp;
}

gboolean rr_session_get_host_path(RrSession *s, char **address, gboolean *tcp)
{
    if (!s->peer || !s->media_flowed)
        return FALSE;
    const RrIcePair *p = rr_ice_transport_get_selected_pair(rr_peer_get_ice(s->peer));
    if (!p || !p->local || !p->local->address || p->relay_server)
        return FALSE;
    if (p->local->type != RR_ICE_CANDIDATE_HOST) {
        /* An ICE-TCP active connection's local end is peer-reflexive (its port is
         * ephemeral) but its address ours; behind a NAT the address is the NAT's. */
        if (p->local->type != RR_ICE_CANDIDATE_PRFLX)
            return FALSE;
        GList *ips = nice_interfaces_get_local_ips(TRUE);
        gboolean ours = g_list_find_custom(ips, p->local->address, (GCompareFunc)g_strcmp0) != NULL;
        g_list_free_full(ips, g_free);
        if (!ours)
            return FALSE;
    }
    *address = g_strdup(p->local->address);
    *tcp = p->local->proto != RR_ICE_PROTO_UDP;
    return TRUE;
}

gboolean rr_session_send_rtcp(RrSession *s, const guint8 *pkt, gsize len, GError **error)
{
    if (!s->peer) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_FAILED, "no peer connection");
        return FALSE;
    }
    return rr_peer_send_rtcp(s->peer, pkt, len, error);
}

gboolean rr_session_request_keyframe(RrSession *s, const char *track_sid, GError **error)
{
    RrTrack *t = g_hash_table_lookup(s->tracks, track_sid);
    if (!t || t->kind != RR_TRACK_KIND_VIDEO) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "no video track %s",
                    track_sid);
        return FALSE;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    rr_rtcp_build_compound(out, s->local_ssrc, NULL, 0, "roomrec");
    rr_rtcp_build_pli(out, s->local_ssrc, t->ssrc);
    if (!rr_session_send_rtcp(s, out->data, out->len, error))
        return FALSE;
    s->n.keyframe_requests++;
    if (t->pli_times->len < RR_TRACK_MAX_TIMES) {
        gint64 wall = g_get_real_time();
        g_array_append_val(t->pli_times, wall);
    }
    return TRUE;
}
