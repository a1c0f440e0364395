/* rtc/demux: which protocol a packet on the shared ICE flow belongs to.
 *
 * With BUNDLE and rtcp-mux, STUN, DTLS, (TURN ChannelData) and SRTP/SRTCP all arrive on
 * one ICE component. rr_demux_classify() looks at the first byte (RFC 7983) and, for
 * RTP/RTCP, at the second (RFC 5761: 192-223 is RTCP). Called on the networking
 * context for every received packet; pure, no allocation.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    RR_DEMUX_UNKNOWN,      /* empty, too short, or a first byte no protocol claims */
    RR_DEMUX_STUN,         /* first byte 0-3 */
    RR_DEMUX_DTLS,         /* 20-63 */
    RR_DEMUX_TURN_CHANNEL, /* 64-79 */
    RR_DEMUX_RTP,          /* 128-191, second byte not 192-223 */
    RR_DEMUX_RTCP,         /* 128-191, second byte 192-223 */
} RrDemuxKind;

/* Packets shorter than 2 bytes are RR_DEMUX_UNKNOWN (no protocol here is that short). */
RrDemuxKind rr_demux_classify(const guint8 *data, gsize len);

const char *rr_demux_kind_to_string(RrDemuxKind kind);

G_END_DECLS
