/* rtc/sdp-offer: parse and check the server's subscriber offer. See sdp.h.
 *
 * GstSDPMessage splits the text into lines and attributes; this file gives the
 * attributes their WebRTC meaning (rtpmap, fmtp, rtcp-fb, ssrc, ssrc-group, extmap...)
 * and checks what a recorder needs from an offer.
 */
#include "rtc/sdp.h"
#include "rtc/rtc-error.h"

#include <gst/sdp/sdp.h>
#include <string.h>

static void codec_free(gpointer p)
{
    RrSdpCodec *c = p;
    g_free(c->name);
    g_free(c->fmtp);
    g_ptr_array_unref(c->rtcp_fb);
    g_free(c);
}

static void ssrc_free(gpointer p)
{
    RrSdpSsrc *s = p;
    g_free(s->cname);
    g_free(s->msid);
    g_free(s);
}

static void extmap_free(gpointer p)
{
    RrSdpExtmap *e = p;
    g_free(e->uri);
    g_free(e);
}

static void media_free(gpointer p)
{
    RrSdpMedia *m = p;
    g_free(m->mid);
    g_free(m->media);
    g_free(m->proto);
    g_free(m->ice_ufrag);
    g_free(m->ice_pwd);
    g_free(m->fingerprint);
    g_free(m->msid);
    g_ptr_array_unref(m->codecs);
    g_array_unref(m->rtx);
    g_ptr_array_unref(m->ssrcs);
    g_array_unref(m->fid);
    g_ptr_array_unref(m->extmaps);
    g_free(m);
}

void rr_sdp_offer_free(RrSdpOffer *offer)
{
    if (!offer)
        return;
    g_free(offer->ice_ufrag);
    g_free(offer->ice_pwd);
    g_free(offer->fingerprint_alg);
    g_free(offer->fingerprint);
    g_strfreev(offer->bundle);
    g_ptr_array_unref(offer->media);
    g_free(offer);
}

const char *rr_sdp_kind_to_string(RrSdpKind kind)
{
    switch (kind) {
    case RR_SDP_KIND_AUDIO:
        return "audio";
    case RR_SDP_KIND_VIDEO:
        return "video";
    case RR_SDP_KIND_APPLICATION:
        return "application";
    default:
        return "other";
    }
}

const RrSdpMedia *rr_sdp_offer_find_mid(const RrSdpOffer *offer, const char *mid)
{
    for (guint i = 0; i < offer->media->len; i++) {
        const RrSdpMedia *m = g_ptr_array_index(offer->media, i);
        if (g_strcmp0(m->mid, mid) == 0)
            return m;
    }
    return NULL;
}

const RrSdpCodec *rr_sdp_media_find_codec(const RrSdpMedia *media, guint pt)
{
    for (guint i = 0; i < media->codecs->len; i++) {
        const RrSdpCodec *c = g_ptr_array_index(media->codecs, i);
        if (c->pt == pt)
            return c;
    }
    return NULL;
}

char *rr_sdp_fmtp_get(const char *fmtp, const char *key)
{
    if (!fmtp || !key)
        return NULL;
    g_auto(GStrv) params = g_strsplit(fmtp, ";", -1);
    for (guint i = 0; params[i]; i++) {
        char *p = g_strstrip(params[i]);
        const char *eq = strchr(p, '=');
        if (!eq)
            continue;
        g_autofree char *k = g_strstrip(g_strndup(p, eq - p));
        if (g_ascii_strcasecmp(k, key) == 0)
            return g_strstrip(g_strdup(eq + 1));
    }
    return NULL;
}

/* Strict decimal number no greater than max. */
static gboolean parse_uint(const char *s, guint64 max, guint64 *out)
{
    if (!s || !*s)
        return FALSE;
    return g_ascii_string_to_unsigned(s, 10, 0, max, out, NULL);
}

static gboolean invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "SDP offer: %s", msg);
    return FALSE;
}

/* Splits "head rest" at the first run of spaces; rest may be "". */
static char *split_first(const char *value, const char **rest)
{
    const char *sp = strchr(value, ' ');
    if (!sp) {
        *rest = value + strlen(value);
        return g_strdup(value);
    }
    const char *r = sp;
    while (*r == ' ')
        r++;
    *rest = r;
    return g_strndup(value, sp - value);
}

static RrSdpSetup parse_setup(const char *v)
{
    if (g_strcmp0(v, "actpass") == 0)
        return RR_SDP_SETUP_ACTPASS;
    if (g_strcmp0(v, "active") == 0)
        return RR_SDP_SETUP_ACTIVE;
    if (g_strcmp0(v, "passive") == 0)
        return RR_SDP_SETUP_PASSIVE;
    if (g_strcmp0(v, "holdconn") == 0)
        return RR_SDP_SETUP_HOLDCONN;
    return RR_SDP_SETUP_NONE;
}

static RrSdpCodec *find_codec(RrSdpMedia *m, guint pt)
{
    return (RrSdpCodec *)rr_sdp_media_find_codec(m, pt);
}

static RrSdpSsrc *get_ssrc(RrSdpMedia *m, guint32 ssrc)
{
    for (guint i = 0; i < m->ssrcs->len; i++) {
        RrSdpSsrc *s = g_ptr_array_index(m->ssrcs, i);
        if (s->ssrc == ssrc)
            return s;
    }
    RrSdpSsrc *s = g_new0(RrSdpSsrc, 1);
    s->ssrc = ssrc;
    g_ptr_array_add(m->ssrcs, s);
    return s;
}

static gboolean parse_rtpmap(RrSdpMedia *m, const char *value, GError **error)
{
    const char *rest;
    g_autofree char *pt_s = split_first(value, &rest);
    guint64 pt;
    if (!parse_uint(pt_s, 127, &pt))
        return invalid(error, "bad rtpmap payload type in \"%s\"", value);
    g_auto(GStrv) parts = g_strsplit(rest, "/", 4);
    guint n = g_strv_length(parts);
    if (n < 2 || n > 3 || !*parts[0])
        return invalid(error, "bad rtpmap \"%s\"", value);
    guint64 rate, ch = 1;
    if (!parse_uint(parts[1], G_MAXUINT32, &rate) || (n == 3 && !parse_uint(parts[2], 255, &ch)))
        return invalid(error, "bad rtpmap clock rate or channels in \"%s\"", value);
    RrSdpCodec *c = find_codec(m, pt);
    if (!c)
        return TRUE; /* not in the m= line: ignored */
    g_free(c->name);
    c->name = g_strdup(parts[0]);
    c->clock_rate = rate;
    c->channels = ch;
    return TRUE;
}

static gboolean parse_media_attr(RrSdpMedia *m, const char *key, const char *value,
                                 GPtrArray *wild_fb, GError **error)
{
    const char *rest;
    guint64 n;

    if (strcmp(key, "mid") == 0) {
        g_free(m->mid);
        m->mid = g_strdup(value);
    } else if (strcmp(key, "sendrecv") == 0) {
        m->direction = RR_SDP_DIRECTION_SENDRECV;
    } else if (strcmp(key, "sendonly") == 0) {
        m->direction = RR_SDP_DIRECTION_SENDONLY;
    } else if (strcmp(key, "recvonly") == 0) {
        m->direction = RR_SDP_DIRECTION_RECVONLY;
    } else if (strcmp(key, "inactive") == 0) {
        m->direction = RR_SDP_DIRECTION_INACTIVE;
    } else if (strcmp(key, "rtcp-mux") == 0) {
        m->rtcp_mux = TRUE;
    } else if (strcmp(key, "rtcp-rsize") == 0) {
        m->rtcp_rsize = TRUE;
    } else if (strcmp(key, "ice-ufrag") == 0) {
        g_free(m->ice_ufrag);
        m->ice_ufrag = g_strdup(value);
    } else if (strcmp(key, "ice-pwd") == 0) {
        g_free(m->ice_pwd);
        m->ice_pwd = g_strdup(value);
    } else if (strcmp(key, "fingerprint") == 0) {
        g_free(m->fingerprint);
        m->fingerprint = g_strdup(value);
    } else if (strcmp(key, "setup") == 0) {
        m->setup = parse_setup(value);
    } else if (strcmp(key, "msid") == 0) {
        g_free(m->msid);
        m->msid = g_strdup(value);
    } else if (strcmp(key, "rtpmap") == 0) {
        return parse_rtpmap(m, value, error);
    } else if (strcmp(key, "fmtp") == 0) {
        g_autofree char *pt_s = split_first(value, &rest);
        if (!parse_uint(pt_s, 127, &n))
            return invalid(error, "bad fmtp \"%s\"", value);
        RrSdpCodec *c = find_codec(m, n);
        if (c) {
            g_free(c->fmtp);
            c->fmtp = g_strdup(rest);
        }
    } else if (strcmp(key, "rtcp-fb") == 0) {
        g_autofree char *pt_s = split_first(value, &rest);
        if (!*rest)
            return invalid(error, "bad rtcp-fb \"%s\"", value);
        if (strcmp(pt_s, "*") == 0) {
            g_ptr_array_add(wild_fb, g_strdup(rest));
        } else if (!parse_uint(pt_s, 127, &n)) {
            return invalid(error, "bad rtcp-fb \"%s\"", value);
        } else {
            RrSdpCodec *c = find_codec(m, n);
            if (c)
                g_ptr_array_add(c->rtcp_fb, g_strdup(rest));
        }
    } else if (strcmp(key, "ssrc") == 0) {
        g_autofree char *ssrc_s = split_first(value, &rest);
        if (!parse_uint(ssrc_s, G_MAXUINT32, &n))
            return invalid(error, "bad ssrc \"%s\"", value);
        RrSdpSsrc *s = get_ssrc(m, n);
        const char *colon = strchr(rest, ':');
        if (colon && g_str_has_prefix(rest, "cname:")) {
            g_free(s->cname);
            s->cname = g_strdup(colon + 1);
        } else if (colon && g_str_has_prefix(rest, "msid:")) {
            g_free(s->msid);
            s->msid = g_strdup(colon + 1);
        }
    } else if (strcmp(key, "ssrc-group") == 0) {
        g_auto(GStrv) parts = g_strsplit(value, " ", -1);
        if (g_strcmp0(parts[0], "FID") == 0) {
            guint64 a, b;
            if (g_strv_length(parts) != 3 || !parse_uint(parts[1], G_MAXUINT32, &a) ||
                !parse_uint(parts[2], G_MAXUINT32, &b))
                return invalid(error, "bad ssrc-group \"%s\"", value);
            RrSdpFidPair fid = {(guint32)a, (guint32)b};
            g_array_append_val(m->fid, fid);
            get_ssrc(m, a);
            get_ssrc(m, b);
        }
    } else if (strcmp(key, "extmap") == 0) {
        g_autofree char *id_s = split_first(value, &rest);
        char *slash = strchr(id_s, '/');
        if (slash)
            *slash = '\0';
        if (!parse_uint(id_s, 255, &n) || n == 0 || !*rest)
            return invalid(error, "bad extmap \"%s\"", value);
        const char *end = strchr(rest, ' ');
        RrSdpExtmap *e = g_new0(RrSdpExtmap, 1);
        e->id = n;
        e->uri = end ? g_strndup(rest, end - rest) : g_strdup(rest);
        g_ptr_array_add(m->extmaps, e);
    } else if (strcmp(key, "sctp-port") == 0) {
        if (!parse_uint(value, 65535, &n))
            return invalid(error, "bad sctp-port \"%s\"", value);
        m->sctp_port = n;
    } else if (strcmp(key, "sctpmap") == 0) {
        g_autofree char *port_s = split_first(value, &rest);
        if (!parse_uint(port_s, 65535, &n))
            return invalid(error, "bad sctpmap \"%s\"", value);
        if (!m->sctp_port)
            m->sctp_port = n;
    } else if (strcmp(key, "max-message-size") == 0) {
        if (!parse_uint(value, G_MAXUINT32, &n))
            return invalid(error, "bad max-message-size \"%s\"", value);
        m->max_message_size = n;
    }
    return TRUE;
}

static void static_codec_defaults(RrSdpCodec *c)
{
    static const struct {
        guint pt;
        const char *name;
    } table[] = {{0, "PCMU"}, {8, "PCMA"}, {9, "G722"}};
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        if (table[i].pt == c->pt) {
            g_free(c->name);
            c->name = g_strdup(table[i].name);
            c->clock_rate = 8000;
        }
    }
}

static RrSdpMedia *parse_media(const GstSDPMedia *gm, GError **error)
{
    const char *media = gst_sdp_media_get_media(gm);
    const char *proto = gst_sdp_media_get_proto(gm);
    if (!media || !*media || !proto || !*proto) {
        invalid(error, "m= line without media or protocol");
        return NULL;
    }
    RrSdpMedia *m = g_new0(RrSdpMedia, 1);
    g_autoptr(GPtrArray) guard = g_ptr_array_new_with_free_func(media_free);
    g_ptr_array_add(guard, m);
    m->mid = g_strdup("");
    m->media = g_strdup(media);
    m->proto = g_strdup(proto);
    m->codecs = g_ptr_array_new_with_free_func(codec_free);
    m->rtx = g_array_new(FALSE, FALSE, sizeof(RrSdpRtxMap));
    m->ssrcs = g_ptr_array_new_with_free_func(ssrc_free);
    m->fid = g_array_new(FALSE, FALSE, sizeof(RrSdpFidPair));
    m->extmaps = g_ptr_array_new_with_free_func(extmap_free);
    m->port = gst_sdp_media_get_port(gm);
    m->rejected = m->port == 0;
    if (strcmp(media, "audio") == 0)
        m->kind = RR_SDP_KIND_AUDIO;
    else if (strcmp(media, "video") == 0)
        m->kind = RR_SDP_KIND_VIDEO;
    else if (strcmp(media, "application") == 0)
        m->kind = RR_SDP_KIND_APPLICATION;
    else
        m->kind = RR_SDP_KIND_OTHER;

    guint nfmt = gst_sdp_media_formats_len(gm);
    if (nfmt == 0) {
        invalid(error, "m=%s line without formats", media);
        return NULL;
    }
    gboolean rtp = strstr(proto, "RTP/") != NULL;
    for (guint i = 0; i < nfmt; i++) {
        const char *f = gst_sdp_media_get_format(gm, i);
        guint64 pt;
        if (!rtp) {
            if (m->kind == RR_SDP_KIND_APPLICATION && parse_uint(f, 65535, &pt))
                m->sctp_port = pt; /* old "DTLS/SCTP 5000" form */
            continue;
        }
        if (!parse_uint(f, 127, &pt)) {
            invalid(error, "bad payload type \"%s\" in m=%s", f ? f : "", media);
            return NULL;
        }
        if (find_codec(m, pt))
            continue;
        RrSdpCodec *c = g_new0(RrSdpCodec, 1);
        c->pt = pt;
        c->name = g_strdup("");
        c->channels = 1;
        c->rtcp_fb = g_ptr_array_new_with_free_func(g_free);
        static_codec_defaults(c);
        g_ptr_array_add(m->codecs, c);
    }

    g_autoptr(GPtrArray) wild_fb = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < gst_sdp_media_attributes_len(gm); i++) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute(gm, i);
        if (!a || !a->key)
            continue;
        if (!parse_media_attr(m, a->key, a->value ? a->value : "", wild_fb, error))
            return NULL;
    }
    for (guint i = 0; i < m->codecs->len; i++) {
        RrSdpCodec *c = g_ptr_array_index(m->codecs, i);
        for (guint j = 0; j < wild_fb->len; j++)
            g_ptr_array_add(c->rtcp_fb, g_strdup(g_ptr_array_index(wild_fb, j)));
        if (g_ascii_strcasecmp(c->name, "rtx") == 0) {
            g_autofree char *apt = rr_sdp_fmtp_get(c->fmtp, "apt");
            guint64 n;
            if (!apt || !parse_uint(apt, 127, &n)) {
                invalid(error, "rtx payload type %u without a valid apt", c->pt);
                return NULL;
            }
            RrSdpRtxMap r = {c->pt, n};
            g_array_append_val(m->rtx, r);
        }
    }
    return g_ptr_array_steal_index(guard, 0);
}

static gboolean parse_fingerprint(RrSdpOffer *o, const char *value, GError **error)
{
    const char *rest;
    g_autofree char *alg = split_first(value, &rest);
    gsize n = strlen(rest);
    gboolean ok = *alg && n >= 2 && (n + 1) % 3 == 0;
    for (gsize i = 0; ok && i < n; i++)
        ok = (i % 3 == 2) ? rest[i] == ':' : g_ascii_isxdigit(rest[i]);
    if (!ok)
        return invalid(error, "bad fingerprint \"%s\"", value);
    o->fingerprint_alg = g_ascii_strdown(alg, -1);
    o->fingerprint = g_strdup(rest);
    return TRUE;
}

/* The m-section whose transport parameters count: the BUNDLE tag, else the first
 * m-section that is not rejected. */
static const RrSdpMedia *transport_media(const RrSdpOffer *o)
{
    if (o->bundle[0]) {
        const RrSdpMedia *m = rr_sdp_offer_find_mid(o, o->bundle[0]);
        if (m)
            return m;
    }
    for (guint i = 0; i < o->media->len; i++) {
        const RrSdpMedia *m = g_ptr_array_index(o->media, i);
        if (!m->rejected)
            return m;
    }
    return g_ptr_array_index(o->media, 0);
}

static gboolean check_offer(RrSdpOffer *o, const char *session_fp, GError **error)
{
    const RrSdpMedia *t = transport_media(o);
    if (!o->ice_ufrag)
        o->ice_ufrag = g_strdup(t->ice_ufrag);
    if (!o->ice_pwd)
        o->ice_pwd = g_strdup(t->ice_pwd);
    if (o->setup == RR_SDP_SETUP_NONE)
        o->setup = t->setup;
    const char *fp = session_fp ? session_fp : t->fingerprint;

    if (!o->ice_ufrag || !*o->ice_ufrag || !o->ice_pwd || !*o->ice_pwd)
        return invalid(error, "no ICE credentials (a=ice-ufrag / a=ice-pwd)");
    if (!fp)
        return invalid(error, "no DTLS fingerprint (a=fingerprint)");
    if (!parse_fingerprint(o, fp, error))
        return FALSE;
    switch (o->setup) {
    case RR_SDP_SETUP_ACTPASS:
    case RR_SDP_SETUP_PASSIVE:
        break;
    case RR_SDP_SETUP_NONE:
        return invalid(error, "no a=setup (need actpass or passive)");
    default:
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_UNSUPPORTED,
                    "SDP offer: a=setup:%s: the recorder must be the DTLS client, so the "
                    "offer must be setup:actpass or setup:passive",
                    o->setup == RR_SDP_SETUP_ACTIVE ? "active" : "holdconn");
        return FALSE;
    }

    guint live = 0;
    for (guint i = 0; i < o->media->len; i++) {
        const RrSdpMedia *m = g_ptr_array_index(o->media, i);
        if (m->rejected)
            continue;
        live++;
        if (!*m->mid)
            return invalid(error, "m-section %u has no a=mid", i);
        for (guint j = 0; j < i; j++) {
            const RrSdpMedia *p = g_ptr_array_index(o->media, j);
            if (!p->rejected && strcmp(p->mid, m->mid) == 0)
                return invalid(error, "duplicate mid \"%s\"", m->mid);
        }
        if (live > 1 && !g_strv_contains((const char *const *)o->bundle, m->mid))
            return invalid(error,
                           "m-section \"%s\" is not in a BUNDLE group: the recorder needs "
                           "all media bundled on one transport (LiveKit always bundles)",
                           m->mid);
    }
    if (live > 1 && !g_strv_contains((const char *const *)o->bundle,
                                     ((const RrSdpMedia *)transport_media(o))->mid))
        return invalid(error, "first m-section is not in the BUNDLE group");
    return TRUE;
}

RrSdpOffer *rr_sdp_offer_parse(const char *sdp, gssize len, GError **error)
{
    g_return_val_if_fail(sdp != NULL || len == 0, NULL);
    gsize n = len < 0 ? strlen(sdp) : (gsize)len;
    if (n == 0) {
        invalid(error, "empty");
        return NULL;
    }
    if (n > RR_SDP_MAX_SIZE) {
        invalid(error, "%" G_GSIZE_FORMAT " bytes is too large", n);
        return NULL;
    }
    if (memchr(sdp, '\0', n)) {
        invalid(error, "contains a NUL byte");
        return NULL;
    }
    if (n < 3 || memcmp(sdp, "v=0", 3) != 0) {
        invalid(error, "does not start with v=0");
        return NULL;
    }
    g_autofree char *text = g_strndup(sdp, n);
    GstSDPMessage *raw = NULL;
    gst_sdp_message_new(&raw);
    g_autoptr(GstSDPMessage) msg = raw;
    if (gst_sdp_message_parse_buffer((const guint8 *)text, n, msg) != GST_SDP_OK) {
        invalid(error, "not parsable as SDP");
        return NULL;
    }
    if (g_strcmp0(gst_sdp_message_get_version(msg), "0") != 0) {
        invalid(error, "version is not 0");
        return NULL;
    }
    if (gst_sdp_message_medias_len(msg) == 0) {
        invalid(error, "no m-sections");
        return NULL;
    }

    g_autoptr(RrSdpOffer) o = g_new0(RrSdpOffer, 1);
    o->media = g_ptr_array_new_with_free_func(media_free);
    o->bundle = g_new0(char *, 1);
    const char *session_fp = NULL;
    for (guint i = 0; i < gst_sdp_message_attributes_len(msg); i++) {
        const GstSDPAttribute *a = gst_sdp_message_get_attribute(msg, i);
        if (!a || !a->key)
            continue;
        const char *v = a->value ? a->value : "";
        if (strcmp(a->key, "ice-ufrag") == 0) {
            g_free(o->ice_ufrag);
            o->ice_ufrag = g_strdup(v);
        } else if (strcmp(a->key, "ice-pwd") == 0) {
            g_free(o->ice_pwd);
            o->ice_pwd = g_strdup(v);
        } else if (strcmp(a->key, "ice-lite") == 0) {
            o->ice_lite = TRUE;
        } else if (strcmp(a->key, "fingerprint") == 0) {
            session_fp = v;
        } else if (strcmp(a->key, "setup") == 0) {
            o->setup = parse_setup(v);
        } else if (strcmp(a->key, "group") == 0 && g_str_has_prefix(v, "BUNDLE")) {
            if (o->bundle[0]) {
                invalid(error, "several BUNDLE groups");
                return NULL;
            }
            g_strfreev(o->bundle);
            g_auto(GStrv) parts = g_strsplit(v, " ", -1);
            GPtrArray *mids = g_ptr_array_new();
            for (guint j = 1; parts[j]; j++)
                if (*parts[j])
                    g_ptr_array_add(mids, g_strdup(parts[j]));
            g_ptr_array_add(mids, NULL);
            o->bundle = (char **)g_ptr_array_free(mids, FALSE);
        }
    }
    for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
        RrSdpMedia *m = parse_media(gst_sdp_message_get_media(msg, i), error);
        if (!m)
            return NULL;
        g_ptr_array_add(o->media, m);
    }
    for (guint i = 0; o->bundle[i]; i++) {
        if (!rr_sdp_offer_find_mid(o, o->bundle[i])) {
            invalid(error, "BUNDLE group names unknown mid \"%s\"", o->bundle[i]);
            return NULL;
        }
    }
    if (!check_offer(o, session_fp, error))
        return NULL;
    return g_steal_pointer(&o);
}
