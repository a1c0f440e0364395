/* rtc/sdp-answer: choose what to record in each m-section and write the answer.
 * See sdp.h.
 *
 * Codec choice: audio is Opus only (RED and G.711 are never answered). Video takes the
 * first accepted codec in the offer's order (the server lists the track's own codec
 * first and only forwards that one), then the best payload type of that codec (H264:
 * packetization-mode=1 and profile-level-id 42e01f > 42001f > 4d001f).
 */
#include "rtc/sdp.h"
#include "rtc/rtc-error.h"

#include <gst/sdp/sdp.h>
#include <string.h>

static void choice_free(gpointer p)
{
    RrSdpChoice *c = p;
    g_free(c->mid);
    g_free(c->reason);
    g_free(c->codec);
    g_free(c->fmtp);
    g_array_unref(c->ssrcs);
    g_array_unref(c->rtx_ssrcs);
    g_free(c);
}

void rr_sdp_answer_free(RrSdpAnswer *answer)
{
    if (!answer)
        return;
    g_free(answer->sdp);
    g_ptr_array_unref(answer->choices);
    g_free(answer);
}

void rr_sdp_answer_params_init(RrSdpAnswerParams *params)
{
    memset(params, 0, sizeof(*params));
    params->ice_trickle = TRUE;
    params->codecs = RR_SDP_CODECS_DEFAULT;
    params->sctp_port = 5000;
    params->max_message_size = 262144;
    params->session_version = 2;
}

const RrSdpChoice *rr_sdp_answer_find_mid(const RrSdpAnswer *answer, const char *mid)
{
    for (guint i = 0; i < answer->choices->len; i++) {
        const RrSdpChoice *c = g_ptr_array_index(answer->choices, i);
        if (g_strcmp0(c->mid, mid) == 0 && !c->rejected)
            return c;
    }
    return NULL;
}

const RrSdpChoice *rr_sdp_answer_find_ssrc(const RrSdpAnswer *answer, guint32 ssrc,
                                           gboolean *is_rtx)
{
    for (guint i = 0; i < answer->choices->len; i++) {
        const RrSdpChoice *c = g_ptr_array_index(answer->choices, i);
        if (c->rejected)
            continue;
        for (guint j = 0; j < c->ssrcs->len; j++) {
            if (g_array_index(c->ssrcs, guint32, j) == ssrc) {
                if (is_rtx)
                    *is_rtx = FALSE;
                return c;
            }
            if (g_array_index(c->rtx_ssrcs, guint32, j) == ssrc && ssrc != 0) {
                if (is_rtx)
                    *is_rtx = TRUE;
                return c;
            }
        }
    }
    return NULL;
}

/* Canonical name and flag of a codec the recorder may answer, or NULL. */
static const char *canonical_codec(RrSdpKind kind, const char *name, RrSdpCodecFlags *flag)
{
    static const struct {
        RrSdpKind kind;
        const char *name;
        const char *canon;
        RrSdpCodecFlags flag;
    } table[] = {
        {RR_SDP_KIND_AUDIO, "opus", "opus", RR_SDP_CODEC_OPUS},
        {RR_SDP_KIND_VIDEO, "VP8", "VP8", RR_SDP_CODEC_VP8},
        {RR_SDP_KIND_VIDEO, "VP9", "VP9", RR_SDP_CODEC_VP9},
        {RR_SDP_KIND_VIDEO, "H264", "H264", RR_SDP_CODEC_H264},
        {RR_SDP_KIND_VIDEO, "AV1", "AV1", RR_SDP_CODEC_AV1},
        {RR_SDP_KIND_VIDEO, "AV1X", "AV1", RR_SDP_CODEC_AV1},
        {RR_SDP_KIND_VIDEO, "H265", "H265", RR_SDP_CODEC_H265},
        {RR_SDP_KIND_VIDEO, "HEVC", "H265", RR_SDP_CODEC_H265},
    };
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        if (table[i].kind == kind && g_ascii_strcasecmp(table[i].name, name) == 0) {
            *flag = table[i].flag;
            return table[i].canon;
        }
    }
    return NULL;
}

/* Higher is better among payload types of one codec; ties keep offer order. */
static int codec_rank(const char *canon, const RrSdpCodec *c)
{
    if (strcmp(canon, "H264") == 0) {
        g_autofree char *pm = rr_sdp_fmtp_get(c->fmtp, "packetization-mode");
        g_autofree char *plid = rr_sdp_fmtp_get(c->fmtp, "profile-level-id");
        int rank = g_strcmp0(pm, "1") == 0 ? 100 : 0;
        static const char *const preferred[] = {"42e01f", "42001f", "4d001f"};
        for (guint i = 0; plid && i < G_N_ELEMENTS(preferred); i++)
            if (g_ascii_strcasecmp(plid, preferred[i]) == 0)
                return rank + 30 - 10 * (int)i;
        /* Other baseline/constrained baseline/main/high profiles still decode. */
        if (plid && strlen(plid) == 6 &&
            (g_ascii_strncasecmp(plid, "42", 2) == 0 || g_ascii_strncasecmp(plid, "4d", 2) == 0 ||
             g_ascii_strncasecmp(plid, "64", 2) == 0))
            return rank + 5;
        return rank;
    }
    if (strcmp(canon, "VP9") == 0) {
        g_autofree char *profile = rr_sdp_fmtp_get(c->fmtp, "profile-id");
        return (!profile || strcmp(profile, "0") == 0) ? 1 : 0;
    }
    return 0;
}

static gboolean keep_fb(const RrSdpAnswerParams *p, const char *fb)
{
    if (strcmp(fb, "nack") == 0 || strcmp(fb, "nack pli") == 0 || strcmp(fb, "ccm fir") == 0)
        return TRUE;
    if (strcmp(fb, "transport-cc") == 0)
        return p->send_transport_cc;
    if (strcmp(fb, "goog-remb") == 0)
        return p->send_remb;
    return FALSE;
}

static RrSdpChoice *choice_new(const RrSdpMedia *m)
{
    RrSdpChoice *c = g_new0(RrSdpChoice, 1);
    c->mid = g_strdup(m->mid);
    c->kind = m->kind;
    c->rtx_pt = -1;
    c->ssrcs = g_array_new(FALSE, TRUE, sizeof(guint32));
    c->rtx_ssrcs = g_array_new(FALSE, TRUE, sizeof(guint32));
    return c;
}

static void reject(RrSdpChoice *c, const char *reason)
{
    c->rejected = TRUE;
    c->receiving = FALSE;
    if (!c->reason)
        c->reason = g_strdup(reason);
}

static char *offered_names(const RrSdpMedia *m)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < m->codecs->len; i++) {
        const RrSdpCodec *c = g_ptr_array_index(m->codecs, i);
        g_string_append_printf(s, "%s%s/%u", i ? ", " : "", *c->name ? c->name : "?", c->pt);
    }
    return g_string_free(s, FALSE);
}

/* Chooses the codec of an audio/video m-section; FALSE if there is nothing to record. */
static gboolean choose_codec(const RrSdpMedia *m, const RrSdpAnswerParams *p, RrSdpChoice *c)
{
    const char *canon = NULL;
    const RrSdpCodec *best = NULL;
    int best_rank = -1;
    for (guint i = 0; i < m->codecs->len; i++) {
        const RrSdpCodec *codec = g_ptr_array_index(m->codecs, i);
        RrSdpCodecFlags flag;
        const char *name = canonical_codec(m->kind, codec->name, &flag);
        if (!name || !(p->codecs & flag) || codec->clock_rate == 0)
            continue;
        if (canon && strcmp(name, canon) != 0)
            continue;
        canon = name;
        int rank = codec_rank(canon, codec);
        if (rank > best_rank) {
            best = codec;
            best_rank = rank;
        }
    }
    if (!best) {
        g_autofree char *names = offered_names(m);
        c->reason = g_strdup_printf(
            "%s: nothing roomrec can record (it records %s; offered: %s)",
            rr_sdp_kind_to_string(m->kind),
            m->kind == RR_SDP_KIND_AUDIO ? "Opus only" : "VP8, VP9, H264 (AV1/H265 if enabled)",
            names);
        return FALSE;
    }
    c->pt = best->pt;
    c->codec = g_strdup(canon);
    c->clock_rate = best->clock_rate;
    c->channels = best->channels;
    c->fmtp = g_strdup(best->fmtp);
    for (guint i = 0; i < m->rtx->len; i++) {
        const RrSdpRtxMap *r = &g_array_index(m->rtx, RrSdpRtxMap, i);
        if (r->apt == best->pt && rr_sdp_media_find_codec(m, r->pt)) {
            c->rtx_pt = r->pt;
            break;
        }
    }
    return TRUE;
}

static void collect_ssrcs(const RrSdpMedia *m, RrSdpChoice *c)
{
    for (guint i = 0; i < m->ssrcs->len; i++) {
        const RrSdpSsrc *s = g_ptr_array_index(m->ssrcs, i);
        gboolean is_rtx = FALSE;
        guint32 rtx = 0;
        for (guint j = 0; j < m->fid->len; j++) {
            const RrSdpFidPair *f = &g_array_index(m->fid, RrSdpFidPair, j);
            if (f->rtx == s->ssrc && f->primary != s->ssrc)
                is_rtx = TRUE;
            if (f->primary == s->ssrc && !rtx)
                rtx = f->rtx;
        }
        if (is_rtx)
            continue;
        g_array_append_val(c->ssrcs, s->ssrc);
        g_array_append_val(c->rtx_ssrcs, rtx);
    }
}

static gboolean ice_chars_ok(const char *s, gsize min, gsize max)
{
    gsize n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/')
            return FALSE;
    return TRUE;
}

static gboolean fingerprint_ok(const char *fp)
{
    const char *sp = fp ? strchr(fp, ' ') : NULL;
    if (!sp || sp == fp)
        return FALSE;
    for (const char *a = fp; a < sp; a++)
        if (!g_ascii_isalnum(*a) && *a != '-')
            return FALSE;
    const char *hex = sp + 1;
    gsize n = strlen(hex);
    if (n < 2 || (n + 1) % 3 != 0)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (!((i % 3 == 2) ? hex[i] == ':' : g_ascii_isxdigit(hex[i])))
            return FALSE;
    return TRUE;
}

static void add_transport(GstSDPMedia *gm, const RrSdpAnswerParams *p)
{
    gst_sdp_media_add_connection(gm, "IN", "IP4", "0.0.0.0", 0, 0);
    gst_sdp_media_add_attribute(gm, "ice-ufrag", p->ice_ufrag);
    gst_sdp_media_add_attribute(gm, "ice-pwd", p->ice_pwd);
    if (p->ice_trickle)
        gst_sdp_media_add_attribute(gm, "ice-options", "trickle");
    gst_sdp_media_add_attribute(gm, "fingerprint", p->fingerprint);
    gst_sdp_media_add_attribute(gm, "setup", "active");
}

static void add_rtpmap(GstSDPMedia *gm, const RrSdpCodec *codec, const char *name, gboolean fb,
                       const RrSdpAnswerParams *p)
{
    g_autofree char *rtpmap =
        codec->channels > 1
            ? g_strdup_printf("%u %s/%u/%u", codec->pt, name, codec->clock_rate, codec->channels)
            : g_strdup_printf("%u %s/%u", codec->pt, name, codec->clock_rate);
    gst_sdp_media_add_attribute(gm, "rtpmap", rtpmap);
    for (guint i = 0; fb && i < codec->rtcp_fb->len; i++) {
        const char *f = g_ptr_array_index(codec->rtcp_fb, i);
        if (!keep_fb(p, f))
            continue;
        g_autofree char *v = g_strdup_printf("%u %s", codec->pt, f);
        gst_sdp_media_add_attribute(gm, "rtcp-fb", v);
    }
    if (codec->fmtp && *codec->fmtp) {
        g_autofree char *v = g_strdup_printf("%u %s", codec->pt, codec->fmtp);
        gst_sdp_media_add_attribute(gm, "fmtp", v);
    }
}

/* Fills gm for an m-section; updates c (may reject it). */
/* After the chosen codec, the best payload type of every other codec family roomrec can
 * record, with its RTX, as browsers answer. pion (LiveKit's stack) takes the codecs
 * negotiated for a whole connection from the first m-section of each kind, so answering
 * one codec there would make every later track of another codec unsendable. */
static void add_other_codecs(const RrSdpMedia *m, const RrSdpAnswerParams *p, const RrSdpChoice *c,
                             GstSDPMedia *gm)
{
    g_autoptr(GPtrArray) done = g_ptr_array_new();
    g_ptr_array_add(done, (gpointer)c->codec);
    for (guint i = 0; i < m->codecs->len; i++) {
        const RrSdpCodec *codec = g_ptr_array_index(m->codecs, i);
        RrSdpCodecFlags flag;
        const char *family = canonical_codec(m->kind, codec->name, &flag);
        if (!family || !(p->codecs & flag) || codec->clock_rate == 0 ||
            g_ptr_array_find_with_equal_func(done, family, g_str_equal, NULL))
            continue;
        g_ptr_array_add(done, (gpointer)family);
        const RrSdpCodec *best = codec;
        for (guint j = i + 1; j < m->codecs->len; j++) {
            const RrSdpCodec *o = g_ptr_array_index(m->codecs, j);
            const char *f = canonical_codec(m->kind, o->name, &flag);
            if (f && strcmp(f, family) == 0 && o->clock_rate &&
                codec_rank(family, o) > codec_rank(family, best))
                best = o;
        }
        g_autofree char *pt = g_strdup_printf("%u", best->pt);
        gst_sdp_media_add_format(gm, pt);
        add_rtpmap(gm, best, family, TRUE, p);
        for (guint r = 0; r < m->rtx->len; r++) {
            const RrSdpRtxMap *rtx = &g_array_index(m->rtx, RrSdpRtxMap, r);
            const RrSdpCodec *rc = rr_sdp_media_find_codec(m, rtx->pt);
            if (rtx->apt != best->pt || !rc)
                continue;
            g_autofree char *rpt = g_strdup_printf("%u", rtx->pt);
            gst_sdp_media_add_format(gm, rpt);
            add_rtpmap(gm, rc, "rtx", FALSE, p);
            break;
        }
    }
}

static void answer_media(const RrSdpMedia *m, const RrSdpAnswerParams *p, RrSdpChoice *c,
                         GstSDPMedia *gm)
{
    gboolean is_rtp = strstr(m->proto, "RTP/") != NULL && strstr(m->proto, "SAVP") != NULL;
    gboolean is_sctp = g_str_has_suffix(m->proto, "DTLS/SCTP");

    if (m->rejected)
        reject(c, "rejected in the offer (port 0)");
    else if (m->kind == RR_SDP_KIND_OTHER)
        reject(c, "unknown media type");
    else if (m->kind == RR_SDP_KIND_APPLICATION && !is_sctp)
        reject(c, "application m-section is not SCTP over DTLS");
    else if (m->kind != RR_SDP_KIND_APPLICATION && !is_rtp)
        reject(c, "media m-section is not (S)RTP with DTLS (SAVP/SAVPF)");
    else if (m->kind != RR_SDP_KIND_APPLICATION && !choose_codec(m, p, c))
        reject(c, c->reason);

    gst_sdp_media_set_media(gm, m->media);
    gst_sdp_media_set_proto(gm, m->proto);
    if (c->rejected) {
        gst_sdp_media_set_port_info(gm, 0, 0);
        if (m->kind == RR_SDP_KIND_APPLICATION || m->codecs->len == 0) {
            gst_sdp_media_add_format(
                gm, is_sctp && strcmp(m->proto, "DTLS/SCTP") == 0 ? "5000" : "webrtc-datachannel");
        } else {
            g_autofree char *f =
                g_strdup_printf("%u", ((const RrSdpCodec *)g_ptr_array_index(m->codecs, 0))->pt);
            gst_sdp_media_add_format(gm, f);
        }
        gst_sdp_media_add_connection(gm, "IN", "IP4", "0.0.0.0", 0, 0);
        if (*m->mid)
            gst_sdp_media_add_attribute(gm, "mid", m->mid);
        return;
    }

    gst_sdp_media_set_port_info(gm, 9, 0);
    if (m->kind == RR_SDP_KIND_APPLICATION) {
        c->receiving = TRUE;
        g_autofree char *port = g_strdup_printf("%u", p->sctp_port);
        g_autofree char *mms = g_strdup_printf("%u", p->max_message_size);
        gboolean old = strcmp(m->proto, "DTLS/SCTP") == 0;
        gst_sdp_media_add_format(gm, old ? port : "webrtc-datachannel");
        add_transport(gm, p);
        gst_sdp_media_add_attribute(gm, "mid", m->mid);
        if (old) {
            g_autofree char *map = g_strdup_printf("%u webrtc-datachannel 1024", p->sctp_port);
            gst_sdp_media_add_attribute(gm, "sctpmap", map);
        } else {
            gst_sdp_media_add_attribute(gm, "sctp-port", port);
            gst_sdp_media_add_attribute(gm, "max-message-size", mms);
        }
        return;
    }

    collect_ssrcs(m, c);
    g_autofree char *pt = g_strdup_printf("%u", c->pt);
    gst_sdp_media_add_format(gm, pt);
    if (c->rtx_pt >= 0) {
        g_autofree char *rtx = g_strdup_printf("%d", c->rtx_pt);
        gst_sdp_media_add_format(gm, rtx);
    }
    add_transport(gm, p);
    gst_sdp_media_add_attribute(gm, "mid", m->mid);
    for (guint i = 0; p->header_extensions && i < m->extmaps->len; i++) {
        const RrSdpExtmap *e = g_ptr_array_index(m->extmaps, i);
        if (!g_strv_contains(p->header_extensions, e->uri))
            continue;
        g_autofree char *v = g_strdup_printf("%u %s", e->id, e->uri);
        gst_sdp_media_add_attribute(gm, "extmap", v);
    }
    if (m->direction == RR_SDP_DIRECTION_SENDONLY || m->direction == RR_SDP_DIRECTION_SENDRECV) {
        c->receiving = TRUE;
        gst_sdp_media_add_attribute(gm, "recvonly", NULL);
    } else {
        c->reason = g_strdup(m->direction == RR_SDP_DIRECTION_INACTIVE
                                 ? "inactive in the offer"
                                 : "the offer does not send (recvonly)");
        gst_sdp_media_add_attribute(gm, "inactive", NULL);
    }
    gst_sdp_media_add_attribute(gm, "rtcp-mux", NULL);
    if (m->rtcp_rsize)
        gst_sdp_media_add_attribute(gm, "rtcp-rsize", NULL);
    add_rtpmap(gm, rr_sdp_media_find_codec(m, c->pt), c->codec, TRUE, p);
    if (c->rtx_pt >= 0)
        add_rtpmap(gm, rr_sdp_media_find_codec(m, c->rtx_pt), "rtx", FALSE, p);
    add_other_codecs(m, p, c, gm);
}

RrSdpAnswer *rr_sdp_answer_build(const RrSdpOffer *offer, const RrSdpAnswerParams *params,
                                 GError **error)
{
    g_return_val_if_fail(offer != NULL && params != NULL, NULL);
    if (!ice_chars_ok(params->ice_ufrag, 4, 256) || !ice_chars_ok(params->ice_pwd, 22, 256)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "SDP answer: ICE ufrag/pwd missing or invalid (ufrag 4-256, pwd 22-256 "
                    "ice-chars)");
        return NULL;
    }
    if (!fingerprint_ok(params->fingerprint)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "SDP answer: fingerprint must look like \"sha-256 AB:CD:...\"");
        return NULL;
    }

    GstSDPMessage *raw = NULL;
    gst_sdp_message_new(&raw);
    g_autoptr(GstSDPMessage) msg = raw;
    guint64 sid = params->session_id;
    if (sid == 0)
        sid = (((guint64)g_random_int() << 32) | g_random_int()) &
              G_GUINT64_CONSTANT(0x3fffffffffffffff);
    g_autofree char *sid_s = g_strdup_printf("%" G_GUINT64_FORMAT, sid ? sid : 1);
    g_autofree char *ver_s = g_strdup_printf("%u", params->session_version);
    gst_sdp_message_set_version(msg, "0");
    gst_sdp_message_set_origin(msg, "-", sid_s, ver_s, "IN", "IP4", "127.0.0.1");
    gst_sdp_message_set_session_name(msg, "-");
    gst_sdp_message_add_time(msg, "0", "0", NULL);

    g_autoptr(RrSdpAnswer) answer = g_new0(RrSdpAnswer, 1);
    answer->choices = g_ptr_array_new_with_free_func(choice_free);
    g_autoptr(GString) bundle = g_string_new("BUNDLE");
    for (guint i = 0; i < offer->media->len; i++) {
        const RrSdpMedia *m = g_ptr_array_index(offer->media, i);
        RrSdpChoice *c = choice_new(m);
        g_ptr_array_add(answer->choices, c);
        GstSDPMedia gm = {0}; /* init frees what it finds: start zeroed */
        gst_sdp_media_init(&gm);
        answer_media(m, params, c, &gm);
        gst_sdp_message_add_media(msg, &gm); /* takes the contents of gm */
        if (!c->rejected)
            g_string_append_printf(bundle, " %s", m->mid);
    }
    /* Session attributes print before the m-sections whatever the order of calls. */
    if (bundle->len > strlen("BUNDLE"))
        gst_sdp_message_add_attribute(msg, "group", bundle->str);
    if (params->ice_lite)
        gst_sdp_message_add_attribute(msg, "ice-lite", NULL);
    answer->sdp = gst_sdp_message_as_text(msg);
    return g_steal_pointer(&answer);
}
