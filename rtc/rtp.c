/* rtc/rtp: RTP header parsing, RTX unwrap, keyframe detection. See rtp.h.
 *
 * References: RFC 3550 §5.1 (header), RFC 4588 §4 (RTX payload), RFC 7741 §4.2 (VP8
 * payload descriptor), RFC 9628 §4.2 (VP9), RFC 6184 §5 (H264 NAL units, STAP-A,
 * FU-A/FU-B), AV1 RTP spec §4.4 (aggregation header N bit).
 */
#include "rtc/rtp.h"
#include "rtc/rtc-error.h"

#include <string.h>

static inline guint16 rd16(const guint8 *p)
{
    return (guint16)(p[0] << 8 | p[1]);
}

static inline guint32 rd32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static inline void wr16(guint8 *p, guint16 v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static inline void wr32(guint8 *p, guint32 v)
{
    p[0] = v >> 24;
    p[1] = (v >> 16) & 0xff;
    p[2] = (v >> 8) & 0xff;
    p[3] = v & 0xff;
}

static gboolean bad(GError **error, const char *what)
{
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "RTP: %s", what);
    return FALSE;
}

gboolean rr_rtp_parse(const guint8 *data, gsize len, RrRtpHeader *hdr, GError **error)
{
    memset(hdr, 0, sizeof(*hdr));
    if (!data || len < RR_RTP_HEADER_MIN)
        return bad(error, "packet shorter than the 12-byte header");
    hdr->version = data[0] >> 6;
    if (hdr->version != 2)
        return bad(error, "version is not 2");
    hdr->padding = (data[0] & 0x20) != 0;
    hdr->extension = (data[0] & 0x10) != 0;
    hdr->csrc_count = data[0] & 0x0f;
    hdr->marker = (data[1] & 0x80) != 0;
    hdr->pt = data[1] & 0x7f;
    hdr->seq = rd16(data + 2);
    hdr->timestamp = rd32(data + 4);
    hdr->ssrc = rd32(data + 8);

    gsize off = RR_RTP_HEADER_MIN + 4u * hdr->csrc_count;
    if (off > len)
        return bad(error, "CSRC list past the end of the packet");
    for (guint i = 0; i < hdr->csrc_count; i++)
        hdr->csrc[i] = rd32(data + RR_RTP_HEADER_MIN + 4 * i);
    if (hdr->extension) {
        if (len - off < 4)
            return bad(error, "header extension past the end of the packet");
        hdr->ext_profile = rd16(data + off);
        gsize ext_len = 4u * rd16(data + off + 2);
        off += 4;
        if (len - off < ext_len)
            return bad(error, "header extension longer than the packet");
        hdr->ext_offset = off;
        hdr->ext_len = ext_len;
        off += ext_len;
    }
    hdr->header_len = off;
    gsize rest = len - off;
    if (hdr->padding) {
        guint8 pad = data[len - 1];
        if (rest == 0 || pad == 0 || pad > rest)
            return bad(error, "bad padding length");
        hdr->padding_len = pad;
        rest -= pad;
    }
    hdr->payload_len = rest;
    return TRUE;
}

GBytes *rr_rtp_rtx_unwrap(const guint8 *data, gsize len, const RrRtpRtxMap *map, GError **error)
{
    RrRtpHeader h;
    if (!rr_rtp_parse(data, len, &h, error))
        return NULL;
    if (h.ssrc != map->rtx_ssrc || h.pt != map->rtx_pt) {
        bad(error, "RTX packet does not match the RTX SSRC/payload type");
        return NULL;
    }
    if (h.payload_len < 2) {
        bad(error, "RTX packet without an original sequence number (padding-only probe?)");
        return NULL;
    }
    gsize out_len = h.header_len + h.payload_len - 2;
    guint8 *out = g_malloc(out_len);
    memcpy(out, data, h.header_len);
    memcpy(out + h.header_len, data + h.header_len + 2, h.payload_len - 2);
    out[0] &= ~0x20; /* padding removed */
    out[1] = (data[1] & 0x80) | (map->primary_pt & 0x7f);
    wr16(out + 2, rd16(data + h.header_len));
    wr32(out + 8, map->primary_ssrc);
    return g_bytes_new_take(out, out_len);
}

RrRtpCodec rr_rtp_codec_from_name(const char *name)
{
    if (!name)
        return RR_RTP_CODEC_UNKNOWN;
    if (g_ascii_strcasecmp(name, "opus") == 0)
        return RR_RTP_CODEC_OPUS;
    if (g_ascii_strcasecmp(name, "VP8") == 0)
        return RR_RTP_CODEC_VP8;
    if (g_ascii_strcasecmp(name, "VP9") == 0)
        return RR_RTP_CODEC_VP9;
    if (g_ascii_strcasecmp(name, "H264") == 0)
        return RR_RTP_CODEC_H264;
    if (g_ascii_strcasecmp(name, "AV1") == 0)
        return RR_RTP_CODEC_AV1;
    return RR_RTP_CODEC_UNKNOWN;
}

/* RFC 7741 §4.2: X|R|N|S|R|PID, then I|L|T|K|RSV, PictureID (7 or 15 bits),
 * TL0PICIDX, TID|Y|KEYIDX; then the VP8 frame tag whose bit 0 is 0 for key frames. */
static gboolean vp8_keyframe(const guint8 *p, gsize len)
{
    if (len < 1)
        return FALSE;
    gboolean start = (p[0] & 0x10) != 0;
    guint pid = p[0] & 0x07;
    gsize off = 1;
    if (p[0] & 0x80) {
        if (off >= len)
            return FALSE;
        guint8 x = p[off++];
        if (x & 0x80) { /* I: PictureID */
            if (off >= len)
                return FALSE;
            off += (p[off] & 0x80) ? 2 : 1;
        }
        if (x & 0x40) /* L: TL0PICIDX */
            off++;
        if (x & 0x30) /* T or K: TID/Y/KEYIDX */
            off++;
    }
    if (off >= len || !start || pid != 0)
        return FALSE;
    return (p[off] & 0x01) == 0;
}

/* RFC 9628 §4.2: I|P|L|F|B|E|V|Z, PictureID (7 or 15 bits), layer indices
 * TID|U|SID|D (+TL0PICIDX in non-flexible mode). A keyframe starts with B=1, P=0 in
 * spatial layer 0. */
static gboolean vp9_keyframe(const guint8 *p, gsize len)
{
    if (len < 1)
        return FALSE;
    guint8 b = p[0];
    if (!(b & 0x08) || (b & 0x40)) /* B set, P clear */
        return FALSE;
    gsize off = 1;
    if (b & 0x80) {
        if (off >= len)
            return FALSE;
        off += (p[off] & 0x80) ? 2 : 1;
    }
    if (b & 0x20) { /* L */
        if (off >= len)
            return FALSE;
        guint sid = (p[off] >> 1) & 0x07;
        if (sid != 0)
            return FALSE;
        off += (b & 0x10) ? 1 : 2;
    }
    return off < len;
}

static gboolean h264_key_nal(guint8 type)
{
    return type == 5 || type == 7; /* IDR slice, SPS */
}

/* RFC 6184 §5.7.1 STAP-A and §5.8 FU-A/FU-B. */
static gboolean h264_keyframe(const guint8 *p, gsize len)
{
    if (len < 1)
        return FALSE;
    guint8 type = p[0] & 0x1f;
    if (h264_key_nal(type))
        return TRUE;
    if (type == 24) {
        gsize off = 1;
        while (len - off >= 2) {
            gsize size = rd16(p + off);
            off += 2;
            if (size == 0 || size > len - off)
                return FALSE;
            if (h264_key_nal(p[off] & 0x1f))
                return TRUE;
            off += size;
        }
        return FALSE;
    }
    if (type == 28 || type == 29) {
        if (len < 2)
            return FALSE;
        return (p[1] & 0x80) && h264_key_nal(p[1] & 0x1f);
    }
    return FALSE;
}

gboolean rr_rtp_is_keyframe(RrRtpCodec codec, const guint8 *payload, gsize len)
{
    if (!payload)
        return FALSE;
    switch (codec) {
    case RR_RTP_CODEC_VP8:
        return vp8_keyframe(payload, len);
    case RR_RTP_CODEC_VP9:
        return vp9_keyframe(payload, len);
    case RR_RTP_CODEC_H264:
        return h264_keyframe(payload, len);
    case RR_RTP_CODEC_AV1:
        return len >= 1 && (payload[0] & 0x08) != 0;
    default:
        return FALSE;
    }
}
