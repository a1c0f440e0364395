/* rtc/peer: the subscriber peer connection. See peer.h.
 *
 * DESIGN
 *
 *   ICE (libnice) ──datagram──► demux ─┬─ DTLS ──► RrDtlsClient ──app data──► RrSctpAssociation
 *                                      ├─ RTP  ──► SRTP unprotect ──► RTX unwrap ──► rtp cb
 *                                      └─ RTCP ──► SRTCP unprotect ──► rtcp cb
 *   rr_peer_send_rtcp ──► SRTCP protect ──► ICE
 *
 * DTLS starts when ICE first reports CONNECTED; SCTP starts when DTLS is connected and
 * the offer has an application m-section. STUN never reaches us: libnice consumes it.
 */
#include "rtc/peer.h"

#include "rtc/demux.h"
#include "rtc/rtc-error.h"
#include "rtc/rtp.h"
#include "rtc/sctp.h"

struct _RrPeer {
    GMainContext *context;
    RrPeerCallbacks cbs;
    gpointer user_data;
    RrCert *cert;
    RrIceTransport *ice;
    char *local_ufrag, *local_pwd;
    RrDtlsClient *dtls;
    RrSrtpSession *srtp;
    RrSrtpProfile srtp_profile;
    RrSctpAssociation *sctp;
    guint sctp_port;
    RrSdpOffer *offer;
    RrSdpAnswer *answer;
    GPtrArray *channels; /* char* labels, NULL-terminated */
    gboolean gathering;
    gboolean restarted; /* ICE restarted by the last offer: retrickle after the answer */
    gboolean dead;
    RrPeerStats stats;
};

static void peer_fail(RrPeer *p, const GError *error)
{
    if (p->dead)
        return;
    p->dead = TRUE;
    if (p->cbs.failed)
        p->cbs.failed(p, error, p->user_data);
}

/* ---- SCTP ---- */

static void sctp_send(RrSctpAssociation *a, const guint8 *pkt, gsize len, gpointer data)
{
    RrPeer *p = data;
    g_autoptr(GError) err = NULL;
    if (p->dtls && !rr_dtls_client_send(p->dtls, pkt, len, &err))
        g_debug("sctp: cannot send %zu bytes over DTLS: %s", len, err->message);
}

static void sctp_up(RrSctpAssociation *a, gpointer data)
{
    g_info("sctp: association up");
}

static void sctp_down(RrSctpAssociation *a, const GError *error, gpointer data)
{
    g_message("sctp: association down%s%s", error ? ": " : "", error ? error->message : "");
}

static void sctp_channel_opened(RrSctpAssociation *a, const RrSctpChannelInfo *ch, gpointer data)
{
    RrPeer *p = data;
    g_info("sctp: data channel '%s' open on stream %u (%s)", ch->label, ch->stream,
           ch->ordered ? "ordered" : "unordered");
    g_ptr_array_insert(p->channels, p->channels->len - 1, g_strdup(ch->label));
    if (p->cbs.channel_open)
        p->cbs.channel_open(p, ch->label, p->user_data);
}

static void sctp_message(RrSctpAssociation *a, guint16 stream, guint32 ppid, const guint8 *data,
                         gsize len, gpointer user_data)
{
    /* LiveKit's data packets (chat, transcriptions) are not recorded. */
}

static void sctp_channel_closed(RrSctpAssociation *a, guint16 stream, gpointer data)
{
    g_info("sctp: data channel on stream %u closed", stream);
}

static const RrSctpCallbacks sctp_callbacks = {
    .send = sctp_send,
    .up = sctp_up,
    .down = sctp_down,
    .channel_opened = sctp_channel_opened,
    .message = sctp_message,
    .channel_closed = sctp_channel_closed,
};

/* ---- DTLS ---- */

static void dtls_send(RrDtlsClient *c, const guint8 *data, gsize len, gpointer user_data)
{
    RrPeer *p = user_data;
    g_autoptr(GError) err = NULL;
    if (!rr_ice_transport_send(p->ice, data, len, &err))
        g_debug("dtls: cannot send %zu bytes: %s", len, err->message);
}

static void dtls_connected(RrDtlsClient *c, const RrSrtpKeys *keys, gpointer user_data)
{
    RrPeer *p = user_data;
    g_autoptr(GError) err = NULL;
    p->srtp = rr_srtp_session_new(keys, RR_SRTP_ROLE_CLIENT, &err);
    if (!p->srtp) {
        peer_fail(p, err);
        return;
    }
    p->srtp_profile = keys->profile;
    g_info("dtls: connected, SRTP profile %s", rr_srtp_profile_name(keys->profile));
    if (p->sctp_port) {
        p->sctp =
            rr_sctp_association_new(p->context, RR_SCTP_ROLE_DTLS_CLIENT, RR_SCTP_DEFAULT_PORT,
                                    p->sctp_port, &sctp_callbacks, p, &err);
        if (!p->sctp || !rr_sctp_association_connect(p->sctp, &err)) {
            g_warning("sctp: cannot start the association: %s", err->message);
            g_clear_error(&err);
        }
    }
    if (p->cbs.connected)
        p->cbs.connected(p, p->user_data);
}

static void dtls_failed(RrDtlsClient *c, const GError *error, gpointer user_data)
{
    peer_fail(user_data, error);
}

static void dtls_closed(RrDtlsClient *c, gpointer user_data)
{
    g_info("dtls: the server closed the DTLS session");
}

static void dtls_data(RrDtlsClient *c, const guint8 *data, gsize len, gpointer user_data)
{
    RrPeer *p = user_data;
    if (p->sctp)
        rr_sctp_association_handle_packet(p->sctp, data, len);
}

static const RrDtlsCallbacks dtls_callbacks = {
    .send = dtls_send,
    .connected = dtls_connected,
    .failed = dtls_failed,
    .closed = dtls_closed,
    .data = dtls_data,
};

/* ---- media ---- */

#define RR_PEER_MAX_PACKET 2048

/* Copy a received SRTP/SRTCP packet into @buf and decrypt it there (libsrtp works in
 * place; ICE's buffer is not ours). FALSE when it is to be dropped (counted). */
static gboolean unprotect(RrPeer *p, const guint8 *data, gsize len, gboolean rtcp, guint8 *buf,
                          gsize *n)
{
    if (!p->srtp) {
        p->stats.packets_before_dtls++;
        return FALSE;
    }
    if (len > RR_PEER_MAX_PACKET) {
        p->stats.malformed++;
        return FALSE;
    }
    memcpy(buf, data, len);
    *n = len;
    /* Failures are counted in the SRTP stats. */
    return rtcp ? rr_srtp_session_unprotect_rtcp(p->srtp, buf, n, NULL)
                : rr_srtp_session_unprotect_rtp(p->srtp, buf, n, NULL);
}

static void handle_rtp(RrPeer *p, const guint8 *data, gsize len)
{
    guint8 buf[RR_PEER_MAX_PACKET];
    gsize n;
    if (!unprotect(p, data, len, FALSE, buf, &n))
        return;
    RrRtpHeader h;
    if (!rr_rtp_parse(buf, n, &h, NULL)) {
        p->stats.malformed++;
        return;
    }
    gboolean is_rtx = FALSE;
    const RrSdpChoice *choice =
        p->answer ? rr_sdp_answer_find_ssrc(p->answer, h.ssrc, &is_rtx) : NULL;
    if (!choice || !choice->receiving) {
        p->stats.unknown_ssrc++;
        return;
    }
    if (!is_rtx) {
        if (p->cbs.rtp)
            p->cbs.rtp(p, choice, &h, buf, n, p->user_data);
        return;
    }
    if (h.payload_len < 2) {
        p->stats.rtx_padding++;
        return;
    }
    RrRtpRtxMap map = {
        .rtx_ssrc = h.ssrc, .rtx_pt = (guint8)choice->rtx_pt, .primary_pt = choice->pt};
    for (guint i = 0; i < choice->rtx_ssrcs->len; i++)
        if (g_array_index(choice->rtx_ssrcs, guint32, i) == h.ssrc)
            map.primary_ssrc = g_array_index(choice->ssrcs, guint32, i);
    g_autoptr(GBytes) orig = rr_rtp_rtx_unwrap(buf, n, &map, NULL);
    gsize on = 0;
    const guint8 *od = orig ? g_bytes_get_data(orig, &on) : NULL;
    RrRtpHeader oh;
    if (!od || !rr_rtp_parse(od, on, &oh, NULL)) {
        p->stats.malformed++;
        return;
    }
    p->stats.rtx_packets++;
    if (p->cbs.rtp)
        p->cbs.rtp(p, choice, &oh, od, on, p->user_data);
}

static void handle_rtcp(RrPeer *p, const guint8 *data, gsize len)
{
    guint8 buf[RR_PEER_MAX_PACKET];
    gsize n;
    if (!unprotect(p, data, len, TRUE, buf, &n))
        return;
    if (p->cbs.rtcp)
        p->cbs.rtcp(p, buf, n, p->user_data);
}

/* ---- ICE ---- */

static void ice_local_candidate(RrIceTransport *ice, const char *candidate, gpointer data)
{
    RrPeer *p = data;
    if (p->cbs.local_candidate)
        p->cbs.local_candidate(p, candidate, p->user_data);
}

static void ice_state_changed(RrIceTransport *ice, RrIceState state, const RrIcePair *selected,
                              const GError *error, gpointer data)
{
    RrPeer *p = data;
    if (state == RR_ICE_STATE_FAILED) {
        peer_fail(p, error);
        return;
    }
    if ((state == RR_ICE_STATE_CONNECTED || state == RR_ICE_STATE_READY) && p->dtls &&
        rr_dtls_client_get_state(p->dtls) == RR_DTLS_STATE_NEW) {
        g_autofree char *pair = selected ? rr_ice_pair_to_string(selected) : g_strdup("?");
        g_info("ice: connected via %s; starting DTLS", pair);
        if (p->cbs.ice_connected)
            p->cbs.ice_connected(p, selected, p->user_data);
        if (!p->dead)
            rr_dtls_client_start(p->dtls);
    }
}

static void ice_receive(RrIceTransport *ice, const guint8 *data, gsize len, gpointer user_data)
{
    RrPeer *p = user_data;
    switch (rr_demux_classify(data, len)) {
    case RR_DEMUX_DTLS:
        if (p->dtls)
            rr_dtls_client_handle_datagram(p->dtls, data, len);
        break;
    case RR_DEMUX_RTP:
        handle_rtp(p, data, len);
        break;
    case RR_DEMUX_RTCP:
        handle_rtcp(p, data, len);
        break;
    case RR_DEMUX_STUN:
        break; /* libnice's own */
    default:
        p->stats.malformed++;
        break;
    }
}

static const RrIceCallbacks ice_callbacks = {
    .local_candidate = ice_local_candidate,
    .state_changed = ice_state_changed,
    .receive = ice_receive,
};

RrPeer *rr_peer_new(GMainContext *context, const RrIceConfig *ice_config, RrCert *cert,
                    const RrPeerCallbacks *callbacks, gpointer user_data, GError **error)
{
    g_autoptr(RrPeer) p = g_new0(RrPeer, 1);
    p->context = g_main_context_ref(context);
    p->cbs = *callbacks;
    p->user_data = user_data;
    p->cert = rr_cert_ref(cert);
    p->channels = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(p->channels, NULL);
    p->ice = rr_ice_transport_new(context, ice_config, &ice_callbacks, p, error);
    if (!p->ice)
        return NULL;
    rr_ice_transport_get_local_credentials(p->ice, &p->local_ufrag, &p->local_pwd);
    return g_steal_pointer(&p);
}

void rr_peer_free(RrPeer *p)
{
    if (!p)
        return;
    g_clear_pointer(&p->sctp, rr_sctp_association_free);
    if (p->dtls)
        rr_dtls_client_close(p->dtls);
    g_clear_pointer(&p->dtls, rr_dtls_client_free);
    g_clear_pointer(&p->srtp, rr_srtp_session_free);
    g_clear_pointer(&p->ice, rr_ice_transport_free);
    g_clear_pointer(&p->offer, rr_sdp_offer_free);
    g_clear_pointer(&p->answer, rr_sdp_answer_free);
    g_clear_pointer(&p->channels, g_ptr_array_unref);
    g_clear_pointer(&p->cert, rr_cert_unref);
    g_free(p->local_ufrag);
    g_free(p->local_pwd);
    g_main_context_unref(p->context);
    g_free(p);
}

void rr_peer_set_signalling_address(RrPeer *p, const char *ip)
{
    rr_ice_transport_set_signalling_address(p->ice, ip);
}

/* Session-level ICE credentials, else the first m-section's (BUNDLE shares them). */
static void offer_credentials(const RrSdpOffer *offer, const char **ufrag, const char **pwd)
{
    *ufrag = offer->ice_ufrag;
    *pwd = offer->ice_pwd;
    for (guint i = 0; i < offer->media->len && (!*ufrag || !*pwd); i++) {
        const RrSdpMedia *m = g_ptr_array_index(offer->media, i);
        *ufrag = *ufrag ? *ufrag : m->ice_ufrag;
        *pwd = *pwd ? *pwd : m->ice_pwd;
    }
}

static gboolean first_offer(RrPeer *p, const RrSdpOffer *offer, GError **error)
{
    const char *ufrag, *pwd;
    offer_credentials(offer, &ufrag, &pwd);
    const char *alg = offer->fingerprint_alg, *fp = offer->fingerprint;
    if (!ufrag || !pwd || !alg || !fp) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "the offer lacks ICE credentials or a DTLS fingerprint");
        return FALSE;
    }
    p->dtls = rr_dtls_client_new(p->context, p->cert, alg, fp, &dtls_callbacks, p, error);
    if (!p->dtls)
        return FALSE;
    if (!rr_ice_transport_set_remote_credentials(p->ice, ufrag, pwd, offer->ice_lite, error))
        return FALSE;
    if (!rr_ice_transport_gather(p->ice, error))
        return FALSE;
    p->gathering = TRUE;
    return TRUE;
}

const RrSdpAnswer *rr_peer_apply_offer(RrPeer *p, const char *sdp, GError **error)
{
    g_autoptr(RrSdpOffer) offer = rr_sdp_offer_parse(sdp, -1, error);
    if (!offer)
        return NULL;
    const char *ufrag, *pwd;
    offer_credentials(offer, &ufrag, &pwd);
    if (p->gathering && ufrag && pwd &&
        rr_ice_transport_remote_credentials_differ(p->ice, ufrag, pwd)) {
        if (!rr_ice_transport_restart(p->ice, ufrag, pwd, offer->ice_lite, error))
            return NULL;
        g_free(p->local_ufrag);
        g_free(p->local_pwd);
        rr_ice_transport_get_local_credentials(p->ice, &p->local_ufrag, &p->local_pwd);
        p->restarted = TRUE;
        p->stats.ice_restarts++;
    }
    RrSdpAnswerParams params;
    rr_sdp_answer_params_init(&params);
    params.ice_ufrag = p->local_ufrag;
    params.ice_pwd = p->local_pwd;
    g_autofree char *fingerprint = g_strconcat("sha-256 ", rr_cert_get_fingerprint(p->cert), NULL);
    params.fingerprint = fingerprint;
    g_autoptr(RrSdpAnswer) answer = rr_sdp_answer_build(offer, &params, error);
    if (!answer)
        return NULL;
    if (!p->gathering && !first_offer(p, offer, error))
        return NULL;
    for (guint i = 0; i < offer->media->len; i++) {
        const RrSdpMedia *m = g_ptr_array_index(offer->media, i);
        if (m->sctp_port && !m->rejected && !p->sctp_port)
            p->sctp_port = m->sctp_port;
    }
    g_clear_pointer(&p->offer, rr_sdp_offer_free);
    g_clear_pointer(&p->answer, rr_sdp_answer_free);
    p->offer = g_steal_pointer(&offer);
    p->answer = g_steal_pointer(&answer);
    return p->answer;
}

void rr_peer_answer_sent(RrPeer *p)
{
    if (p->restarted) {
        p->restarted = FALSE;
        rr_ice_transport_retrickle(p->ice);
    }
    rr_ice_transport_open_candidate_window(p->ice, FALSE);
}

void rr_peer_signalling_reconnected(RrPeer *p)
{
    rr_ice_transport_open_candidate_window(p->ice, TRUE);
}

const RrSdpAnswer *rr_peer_get_answer(RrPeer *p)
{
    return p->answer;
}

gboolean rr_peer_add_remote_candidate(RrPeer *p, const char *candidate, GError **error)
{
    return rr_ice_transport_add_remote_candidate(p->ice, candidate, error);
}

void rr_peer_remote_gathering_done(RrPeer *p)
{
    rr_ice_transport_remote_gathering_done(p->ice);
}

gboolean rr_peer_send_rtcp(RrPeer *p, const guint8 *packet, gsize len, GError **error)
{
    if (!p->srtp) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP, "no SRTP keys yet (DTLS not up)");
        return FALSE;
    }
    guint8 buf[1500 + RR_SRTP_MAX_TRAILER];
    if (len > 1500) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "RTCP packet of %zu bytes is too large", len);
        return FALSE;
    }
    memcpy(buf, packet, len);
    gsize n = len;
    if (!rr_srtp_session_protect_rtcp(p->srtp, buf, &n, sizeof buf, error))
        return FALSE;
    return rr_ice_transport_send(p->ice, buf, n, error);
}

RrIceTransport *rr_peer_get_ice(RrPeer *p)
{
    return p->ice;
}

RrDtlsState rr_peer_get_dtls_state(RrPeer *p)
{
    return p->dtls ? rr_dtls_client_get_state(p->dtls) : RR_DTLS_STATE_NEW;
}

const char *rr_peer_get_srtp_profile(RrPeer *p)
{
    return p->srtp ? rr_srtp_profile_name(p->srtp_profile) : NULL;
}

const char *const *rr_peer_get_open_channels(RrPeer *p)
{
    return (const char *const *)p->channels->pdata;
}

gboolean rr_peer_get_sctp_up(RrPeer *p)
{
    return p->sctp && rr_sctp_association_is_up(p->sctp);
}

void rr_peer_get_stats(RrPeer *p, RrPeerStats *stats)
{
    *stats = p->stats;
    if (p->srtp)
        rr_srtp_session_get_stats(p->srtp, &stats->srtp);
    else
        memset(&stats->srtp, 0, sizeof stats->srtp);
}
