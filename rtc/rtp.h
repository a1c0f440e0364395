/* rtc/rtp: RTP header parsing, RTX unwrapping and keyframe detection.
 *
 * Small hand-written helpers for the receive hot path (after SRTP decryption, before the
 * packets are pushed into GStreamer): rr_rtp_parse() reads the fixed header, CSRCs,
 * header extension and padding with strict bounds checks and no copy;
 * rr_rtp_rtx_unwrap() turns an RFC 4588 retransmission into the original packet;
 * rr_rtp_is_keyframe() tells whether a payload starts a keyframe (to know when a PLI
 * was answered and where a recording may begin).
 *
 * Called from the job's networking context. Pure functions; rr_rtp_rtx_unwrap returns a
 * new GBytes owned by the caller, nothing else allocates.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_RTP_HEADER_MIN 12

typedef struct {
    guint8 version;
    gboolean padding;
    gboolean extension;
    gboolean marker;
    guint8 csrc_count;
    guint8 pt;
    guint16 seq;
    guint32 timestamp;
    guint32 ssrc;
    guint32 csrc[15];
    guint16 ext_profile; /* 0xBEDE one-byte, 0x100x two-byte header extensions */
    gsize ext_offset;    /* offset of the extension data (after its 4-byte header) */
    gsize ext_len;       /* bytes of extension data */
    gsize header_len;    /* offset of the payload */
    gsize payload_len;   /* payload bytes, padding excluded */
    guint8 padding_len;  /* padding bytes at the end (0 if none) */
} RrRtpHeader;

/* Parses an RTP packet. FALSE with RR_RTC_ERROR_INVALID_INPUT if it is shorter than its
 * header, not version 2, or its extension/padding lengths do not fit. */
gboolean rr_rtp_parse(const guint8 *data, gsize len, RrRtpHeader *hdr, GError **error);

/* An RTX stream and the stream it repairs (from the SDP: FID group and apt=). */
typedef struct {
    guint32 rtx_ssrc;
    guint8 rtx_pt;
    guint32 primary_ssrc;
    guint8 primary_pt;
} RrRtpRtxMap;

/* Rebuilds the original packet from an RTX packet: sequence number from the first two
 * payload bytes, SSRC and PT of the primary stream, marker, CSRCs and header extension
 * kept, padding removed. Errors (INVALID_INPUT): not RTP, SSRC/PT not the map's, or a
 * payload shorter than 2 bytes (padding-only RTX probes: check payload_len first to
 * drop those quietly). Returns (transfer full) the new packet. */
GBytes *rr_rtp_rtx_unwrap(const guint8 *data, gsize len, const RrRtpRtxMap *map, GError **error);

typedef enum {
    RR_RTP_CODEC_UNKNOWN,
    RR_RTP_CODEC_OPUS,
    RR_RTP_CODEC_VP8,
    RR_RTP_CODEC_VP9,
    RR_RTP_CODEC_H264,
    RR_RTP_CODEC_AV1,
} RrRtpCodec;

/* From a codec name as in RrSdpChoice.codec ("VP8", "H264"...), case-insensitive. */
RrRtpCodec rr_rtp_codec_from_name(const char *name);

/* TRUE if the RTP payload (after the RTP header) starts a keyframe: VP8 S=1, PID=0 and
 * key frame tag; VP9 B=1, P=0 in spatial layer 0; H264 IDR or SPS as a single NAL, in a
 * STAP-A, or as the start of an FU-A/FU-B; AV1 N=1. Malformed payloads give FALSE. */
gboolean rr_rtp_is_keyframe(RrRtpCodec codec, const guint8 *payload, gsize len);

G_END_DECLS
