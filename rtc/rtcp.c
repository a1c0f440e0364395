/* rtc/rtcp: RTCP compound parsing and builders. See rtcp.h.
 *
 * References: RFC 3550 §6.4-6.7 (SR, RR, SDES, BYE, APP), RFC 4585 §6 (feedback, generic
 * NACK, PLI), RFC 5104 §4.3.1 (FIR), draft-alvestrand-rmcat-remb (REMB), RFC 3611 (XR).
 */
#include "rtc/rtcp.h"
#include "rtc/rtc-error.h"

#include <string.h>

static inline guint16 rd16(const guint8 *p)
{
    return (guint16)(p[0] << 8 | p[1]);
}

static inline guint32 rd24(const guint8 *p)
{
    return (guint32)p[0] << 16 | (guint32)p[1] << 8 | p[2];
}

static inline guint32 rd32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static gboolean bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean bad(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "RTCP: %s", msg);
    return FALSE;
}

/* ---- parsing ---- */

/* Minimum body size of each known packet type, given its count field. */
static gboolean check_body(const RrRtcpPacket *p, GError **error)
{
    gsize need;
    switch (p->type) {
    case RR_RTCP_SR:
        need = 24 + 24u * p->count;
        break;
    case RR_RTCP_RR:
        need = 4 + 24u * p->count;
        break;
    case RR_RTCP_BYE:
        need = 4u * p->count;
        break;
    case RR_RTCP_APP:
        need = 8;
        break;
    case RR_RTCP_RTPFB:
    case RR_RTCP_PSFB:
        need = 8;
        break;
    case RR_RTCP_XR:
        need = 4;
        break;
    default:
        need = 0; /* SDES is checked item by item; unknown types are opaque */
    }
    if (p->body_len < need)
        return bad(error,
                   "packet type %u too short (%" G_GSIZE_FORMAT " < %" G_GSIZE_FORMAT " bytes)",
                   p->type, p->body_len, need);
    return TRUE;
}

void rr_rtcp_iter_init(RrRtcpIter *iter, const guint8 *data, gsize len)
{
    iter->data = data;
    iter->len = data ? len : 0;
    iter->offset = 0;
}

gboolean rr_rtcp_iter_next(RrRtcpIter *iter, RrRtcpPacket *pkt, GError **error)
{
    memset(pkt, 0, sizeof(*pkt));
    gsize rest = iter->len - iter->offset;
    if (rest == 0)
        return FALSE;
    const guint8 *p = iter->data + iter->offset;
    iter->offset = iter->len; /* on error, iteration stops */
    if (rest < 4)
        return bad(error, "truncated header");
    if ((p[0] >> 6) != 2)
        return bad(error, "version is not 2");
    pkt->type = p[1];
    if (pkt->type < 192 || pkt->type > 223)
        return bad(error, "packet type %u is not RTCP", pkt->type);
    gsize len = 4u * ((gsize)rd16(p + 2) + 1);
    if (len > rest)
        return bad(error,
                   "length %" G_GSIZE_FORMAT " past the end (%" G_GSIZE_FORMAT " bytes left)", len,
                   rest);
    pkt->count = p[0] & 0x1f;
    pkt->padding = (p[0] & 0x20) != 0;
    pkt->data = p;
    pkt->len = len;
    pkt->body = p + 4;
    pkt->body_len = len - 4;
    if (pkt->padding) {
        guint8 pad = p[len - 1];
        if (pad == 0 || pad > pkt->body_len)
            return bad(error, "bad padding length %u", pad);
        pkt->body_len -= pad;
    }
    if (!check_body(pkt, error))
        return FALSE;
    iter->offset = (p - iter->data) + len;
    return TRUE;
}

gboolean rr_rtcp_validate(const guint8 *data, gsize len, GError **error)
{
    RrRtcpIter it;
    RrRtcpPacket pkt;
    guint n = 0;
    GError *local = NULL;
    rr_rtcp_iter_init(&it, data, len);
    while (rr_rtcp_iter_next(&it, &pkt, &local))
        n++;
    if (local) {
        g_propagate_error(error, local);
        return FALSE;
    }
    if (n == 0)
        return bad(error, "empty compound packet");
    return TRUE;
}

static gboolean want_type(const RrRtcpPacket *pkt, guint8 type, GError **error)
{
    if (pkt->type != type)
        return bad(error, "packet type %u, expected %u", pkt->type, type);
    return check_body(pkt, error);
}

static void parse_block(const guint8 *p, RrRtcpReportBlock *b)
{
    b->ssrc = rd32(p);
    b->fraction_lost = p[4];
    guint32 lost = rd24(p + 5);
    b->cumulative_lost = (lost & 0x800000) ? (gint32)lost - 0x1000000 : (gint32)lost;
    b->ext_highest_seq = rd32(p + 8);
    b->jitter = rd32(p + 12);
    b->lsr = rd32(p + 16);
    b->dlsr = rd32(p + 20);
}

gboolean rr_rtcp_parse_sr(const RrRtcpPacket *pkt, RrRtcpSr *sr, GError **error)
{
    memset(sr, 0, sizeof(*sr));
    if (!want_type(pkt, RR_RTCP_SR, error))
        return FALSE;
    const guint8 *b = pkt->body;
    sr->ssrc = rd32(b);
    sr->ntp = (guint64)rd32(b + 4) << 32 | rd32(b + 8);
    sr->rtp_ts = rd32(b + 12);
    sr->packet_count = rd32(b + 16);
    sr->octet_count = rd32(b + 20);
    sr->n_reports = pkt->count;
    for (guint i = 0; i < pkt->count; i++)
        parse_block(b + 24 + 24 * i, &sr->reports[i]);
    return TRUE;
}

gboolean rr_rtcp_parse_rr(const RrRtcpPacket *pkt, RrRtcpRr *rr, GError **error)
{
    memset(rr, 0, sizeof(*rr));
    if (!want_type(pkt, RR_RTCP_RR, error))
        return FALSE;
    rr->ssrc = rd32(pkt->body);
    rr->n_reports = pkt->count;
    for (guint i = 0; i < pkt->count; i++)
        parse_block(pkt->body + 4 + 24 * i, &rr->reports[i]);
    return TRUE;
}

gboolean rr_rtcp_parse_fb(const RrRtcpPacket *pkt, RrRtcpFb *fb, GError **error)
{
    memset(fb, 0, sizeof(*fb));
    if (pkt->type != RR_RTCP_RTPFB && pkt->type != RR_RTCP_PSFB)
        return bad(error, "packet type %u is not feedback", pkt->type);
    if (!check_body(pkt, error))
        return FALSE;
    fb->fmt = pkt->count;
    fb->sender_ssrc = rd32(pkt->body);
    fb->media_ssrc = rd32(pkt->body + 4);
    fb->fci = pkt->body + 8;
    fb->fci_len = pkt->body_len - 8;
    return TRUE;
}

gboolean rr_rtcp_parse_nack(const RrRtcpFb *fb, GArray *seqs, GError **error)
{
    if (fb->fci_len % 4 != 0 || fb->fci_len == 0)
        return bad(error, "generic NACK FCI of %" G_GSIZE_FORMAT " bytes", fb->fci_len);
    for (gsize off = 0; off < fb->fci_len; off += 4) {
        guint16 pid = rd16(fb->fci + off);
        guint16 blp = rd16(fb->fci + off + 2);
        g_array_append_val(seqs, pid);
        for (guint bit = 0; bit < 16; bit++) {
            if (blp & (1u << bit)) {
                guint16 s = (guint16)(pid + bit + 1);
                g_array_append_val(seqs, s);
            }
        }
    }
    return TRUE;
}

guint rr_rtcp_fir_count(const RrRtcpFb *fb)
{
    return fb->fci_len / 8;
}

gboolean rr_rtcp_fir_entry(const RrRtcpFb *fb, guint i, RrRtcpFirEntry *entry)
{
    if (i >= rr_rtcp_fir_count(fb))
        return FALSE;
    entry->ssrc = rd32(fb->fci + 8 * i);
    entry->seq = fb->fci[8 * i + 4];
    return TRUE;
}

gboolean rr_rtcp_parse_remb(const RrRtcpFb *fb, RrRtcpRemb *remb, GError **error)
{
    memset(remb, 0, sizeof(*remb));
    if (fb->fci_len < 8 || memcmp(fb->fci, "REMB", 4) != 0)
        return bad(error, "not a REMB message");
    guint n = fb->fci[4];
    if (fb->fci_len < 8 + 4u * n)
        return bad(error, "REMB with %u SSRCs in %" G_GSIZE_FORMAT " bytes", n, fb->fci_len);
    guint exp = fb->fci[5] >> 2;
    guint64 mantissa = (guint64)(fb->fci[5] & 0x03) << 16 | rd16(fb->fci + 6);
    if (mantissa && exp > 46)
        remb->bitrate = G_MAXUINT64;
    else
        remb->bitrate = mantissa << exp;
    remb->n_ssrcs = n;
    for (guint i = 0; i < n; i++)
        remb->ssrcs[i] = rd32(fb->fci + 8 + 4 * i);
    return TRUE;
}

gboolean rr_rtcp_parse_bye(const RrRtcpPacket *pkt, RrRtcpBye *bye, GError **error)
{
    memset(bye, 0, sizeof(*bye));
    if (!want_type(pkt, RR_RTCP_BYE, error))
        return FALSE;
    bye->n_ssrcs = pkt->count;
    for (guint i = 0; i < pkt->count; i++)
        bye->ssrcs[i] = rd32(pkt->body + 4 * i);
    gsize off = 4u * pkt->count;
    if (off < pkt->body_len) {
        gsize n = pkt->body[off];
        if (n > pkt->body_len - off - 1)
            return bad(error, "BYE reason longer than the packet");
        bye->reason = pkt->body + off + 1;
        bye->reason_len = n;
    }
    return TRUE;
}

gboolean rr_rtcp_parse_app(const RrRtcpPacket *pkt, RrRtcpApp *app, GError **error)
{
    memset(app, 0, sizeof(*app));
    if (!want_type(pkt, RR_RTCP_APP, error))
        return FALSE;
    app->subtype = pkt->count;
    app->ssrc = rd32(pkt->body);
    memcpy(app->name, pkt->body + 4, 4);
    app->data = pkt->body + 8;
    app->len = pkt->body_len - 8;
    return TRUE;
}

gboolean rr_rtcp_parse_xr(const RrRtcpPacket *pkt, guint32 *ssrc, GError **error)
{
    if (!want_type(pkt, RR_RTCP_XR, error))
        return FALSE;
    *ssrc = rd32(pkt->body);
    gsize off = 4;
    while (off < pkt->body_len) {
        if (pkt->body_len - off < 4)
            return bad(error, "truncated XR block header");
        gsize blen = 4u * rd16(pkt->body + off + 2);
        off += 4;
        if (blen > pkt->body_len - off)
            return bad(error, "XR block longer than the packet");
        off += blen;
    }
    return TRUE;
}

gboolean rr_rtcp_parse_sdes(const RrRtcpPacket *pkt, RrRtcpSdesFunc func, gpointer user_data,
                            GError **error)
{
    if (pkt->type != RR_RTCP_SDES)
        return bad(error, "packet type %u is not SDES", pkt->type);
    const guint8 *b = pkt->body;
    gsize len = pkt->body_len, off = 0;
    for (guint c = 0; c < pkt->count; c++) {
        if (len - off < 4)
            return bad(error, "SDES chunk %u truncated", c);
        guint32 ssrc = rd32(b + off);
        off += 4;
        for (;;) {
            if (off >= len)
                return bad(error, "SDES chunk %u without an end item", c);
            guint8 type = b[off];
            if (type == 0) {
                /* End: skip to the next 32-bit boundary (body starts aligned). */
                off = (off + 4) & ~(gsize)3;
                if (off > len)
                    return bad(error, "SDES chunk %u padding past the end", c);
                break;
            }
            if (len - off < 2 || b[off + 1] > len - off - 2)
                return bad(error, "SDES item past the end");
            if (func)
                func(ssrc, type, b + off + 2, b[off + 1], user_data);
            off += 2 + b[off + 1];
        }
    }
    return TRUE;
}

/* ---- building ---- */

static void put8(GByteArray *out, guint8 v)
{
    g_byte_array_append(out, &v, 1);
}

static void put16(GByteArray *out, guint16 v)
{
    guint8 b[2] = {v >> 8, v & 0xff};
    g_byte_array_append(out, b, 2);
}

static void put32(GByteArray *out, guint32 v)
{
    guint8 b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
    g_byte_array_append(out, b, 4);
}

/* Writes a header with a placeholder length; returns its offset for finish(). */
static guint start_packet(GByteArray *out, guint8 count, guint8 type)
{
    guint at = out->len;
    put8(out, 0x80 | (count & 0x1f));
    put8(out, type);
    put16(out, 0);
    return at;
}

static void finish_packet(GByteArray *out, guint at)
{
    guint words = (out->len - at) / 4 - 1;
    out->data[at + 2] = words >> 8;
    out->data[at + 3] = words & 0xff;
}

void rr_rtcp_build_rr(GByteArray *out, guint32 sender_ssrc, const RrRtcpReportBlock *blocks,
                      guint n_blocks)
{
    g_return_if_fail(n_blocks <= RR_RTCP_MAX_REPORTS && (n_blocks == 0 || blocks));
    guint at = start_packet(out, n_blocks, RR_RTCP_RR);
    put32(out, sender_ssrc);
    for (guint i = 0; i < n_blocks; i++) {
        const RrRtcpReportBlock *b = &blocks[i];
        gint32 lost = CLAMP(b->cumulative_lost, -0x800000, 0x7fffff);
        put32(out, b->ssrc);
        put32(out, (guint32)b->fraction_lost << 24 | ((guint32)lost & 0xffffff));
        put32(out, b->ext_highest_seq);
        put32(out, b->jitter);
        put32(out, b->lsr);
        put32(out, b->dlsr);
    }
    finish_packet(out, at);
}

void rr_rtcp_build_sdes_cname(GByteArray *out, guint32 ssrc, const char *cname)
{
    g_return_if_fail(cname != NULL);
    gsize n = MIN(strlen(cname), 255);
    guint at = start_packet(out, 1, RR_RTCP_SDES);
    put32(out, ssrc);
    put8(out, RR_RTCP_SDES_CNAME);
    put8(out, n);
    g_byte_array_append(out, (const guint8 *)cname, n);
    /* End item, then zero padding to a 32-bit boundary (at least one zero byte). */
    do
        put8(out, 0);
    while ((out->len - at) % 4 != 0);
    finish_packet(out, at);
}

void rr_rtcp_build_pli(GByteArray *out, guint32 sender_ssrc, guint32 media_ssrc)
{
    guint at = start_packet(out, RR_RTCP_PSFB_PLI, RR_RTCP_PSFB);
    put32(out, sender_ssrc);
    put32(out, media_ssrc);
    finish_packet(out, at);
}

void rr_rtcp_build_fir(GByteArray *out, guint32 sender_ssrc, guint32 media_ssrc, guint8 seq)
{
    guint at = start_packet(out, RR_RTCP_PSFB_FIR, RR_RTCP_PSFB);
    put32(out, sender_ssrc);
    put32(out, 0); /* RFC 5104 §4.3.1.2: media source SSRC is 0; the FCI names it */
    put32(out, media_ssrc);
    put8(out, seq);
    put8(out, 0);
    put16(out, 0);
    finish_packet(out, at);
}

guint rr_rtcp_build_nack(GByteArray *out, guint32 sender_ssrc, guint32 media_ssrc,
                         const guint16 *seqs, guint n_seqs)
{
    if (n_seqs == 0)
        return 0;
    g_return_val_if_fail(seqs != NULL, 0);
    /* Entries: (PID, BLP) pairs; a seq within 1..16 after the current PID sets a bit. */
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(guint32));
    guint16 pid = seqs[0], blp = 0;
    for (guint i = 1; i < n_seqs; i++) {
        guint16 d = (guint16)(seqs[i] - pid);
        if (d == 0)
            continue;
        if (d <= 16) {
            blp |= 1u << (d - 1);
            continue;
        }
        guint32 e = (guint32)pid << 16 | blp;
        g_array_append_val(entries, e);
        pid = seqs[i];
        blp = 0;
    }
    guint32 last = (guint32)pid << 16 | blp;
    g_array_append_val(entries, last);

    for (guint i = 0; i < entries->len; i += 255) {
        guint at = start_packet(out, RR_RTCP_RTPFB_NACK, RR_RTCP_RTPFB);
        put32(out, sender_ssrc);
        put32(out, media_ssrc);
        for (guint j = i; j < entries->len && j < i + 255; j++)
            put32(out, g_array_index(entries, guint32, j));
        finish_packet(out, at);
    }
    return entries->len;
}

void rr_rtcp_build_remb(GByteArray *out, guint32 sender_ssrc, guint64 bitrate, const guint32 *ssrcs,
                        guint n_ssrcs)
{
    g_return_if_fail(n_ssrcs <= 255 && (n_ssrcs == 0 || ssrcs));
    guint exp = 0;
    while ((bitrate >> exp) >= (1u << 18))
        exp++;
    guint32 mantissa = (guint32)(bitrate >> exp);
    guint at = start_packet(out, RR_RTCP_PSFB_AFB, RR_RTCP_PSFB);
    put32(out, sender_ssrc);
    put32(out, 0);
    g_byte_array_append(out, (const guint8 *)"REMB", 4);
    put8(out, n_ssrcs);
    put8(out, (exp << 2) | (mantissa >> 16));
    put16(out, mantissa & 0xffff);
    for (guint i = 0; i < n_ssrcs; i++)
        put32(out, ssrcs[i]);
    finish_packet(out, at);
}

void rr_rtcp_build_compound(GByteArray *out, guint32 sender_ssrc, const RrRtcpReportBlock *blocks,
                            guint n_blocks, const char *cname)
{
    rr_rtcp_build_rr(out, sender_ssrc, blocks, n_blocks);
    rr_rtcp_build_sdes_cname(out, sender_ssrc, cname);
}
