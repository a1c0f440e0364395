/* rtc/demux: first-byte demultiplexing (RFC 7983, RFC 5761). See demux.h. */
#include "rtc/demux.h"

RrDemuxKind rr_demux_classify(const guint8 *data, gsize len)
{
    if (!data || len < 2)
        return RR_DEMUX_UNKNOWN;
    guint8 b = data[0];
    if (b <= 3)
        return RR_DEMUX_STUN;
    if (b >= 20 && b <= 63)
        return RR_DEMUX_DTLS;
    if (b >= 64 && b <= 79)
        return RR_DEMUX_TURN_CHANNEL;
    if (b >= 128 && b <= 191)
        return (data[1] >= 192 && data[1] <= 223) ? RR_DEMUX_RTCP : RR_DEMUX_RTP;
    return RR_DEMUX_UNKNOWN;
}

const char *rr_demux_kind_to_string(RrDemuxKind kind)
{
    switch (kind) {
    case RR_DEMUX_STUN:
        return "stun";
    case RR_DEMUX_DTLS:
        return "dtls";
    case RR_DEMUX_TURN_CHANNEL:
        return "turn-channel";
    case RR_DEMUX_RTP:
        return "rtp";
    case RR_DEMUX_RTCP:
        return "rtcp";
    default:
        return "unknown";
    }
}
