/* pipeline/codec: what roomrec knows about each codec it receives over RTP.
 *
 * One static table maps an RTP encoding name (as negotiated in SDP: "VP8", "VP9",
 * "H264", "opus") to the GStreamer elements that handle it without transcoding: the
 * depayloader, the parser, the caps the parser must produce for the muxer, and the
 * container a single track of it is written to (Opus → Ogg, VP8/VP9 → WebM, H.264 →
 * fragmented MP4), and the decoder a composite uses for it. Everything here is constant and
 * thread-safe; entries are owned by the table and must not be freed.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    RR_CODEC_OPUS,
    RR_CODEC_VP8,
    RR_CODEC_VP9,
    RR_CODEC_H264,
} RrCodecId;

typedef enum {
    RR_MEDIA_AUDIO,
    RR_MEDIA_VIDEO,
} RrMediaKind;

typedef struct {
    RrCodecId id;
    const char *encoding_name; /* RTP encoding-name in the caps ("VP8", "OPUS") */
    RrMediaKind kind;
    guint clock_rate;        /* the RTP clock rate WebRTC uses for it */
    const char *depayloader; /* element factory names */
    const char *parser;      /* NULL when the depayloader output needs none */
    const char *parsed_caps; /* caps wanted after the parser (for the muxer), or NULL */
    const char *muxer;       /* single-track container muxer */
    const char *extension;   /* file extension, without the dot */
    const char *decoder;     /* decoder of a composite's branch */
} RrCodec;

/* The codec for an RTP encoding name (case-insensitive), or NULL with
 * RR_PIPELINE_ERROR_UNSUPPORTED. (transfer none) */
const RrCodec *rr_codec_find(const char *encoding_name, GError **error);
/* The codec with this id. (transfer none) */
const RrCodec *rr_codec_get(RrCodecId id);
/* "audio" or "video", as in RTP caps. */
const char *rr_codec_media(const RrCodec *codec);
/* Whether every element a track egress of the codec needs (depayloader, parser, muxer)
 * is installed; RR_PIPELINE_ERROR_MISSING_ELEMENT names each one that is not, with its
 * Debian package (pipeline/elements.h). */
gboolean rr_codec_check_elements(const RrCodec *codec, GError **error);

G_END_DECLS
