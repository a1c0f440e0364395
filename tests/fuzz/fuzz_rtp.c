/* Fuzz target: RTP header parse, keyframe detection for every codec, RTX unwrap. */
#include "rtc/rtp.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Keyframe detection on the raw bytes too: payload parsers see anything. */
    for (int c = RR_RTP_CODEC_UNKNOWN; c <= RR_RTP_CODEC_AV1; c++)
        (void)rr_rtp_is_keyframe(c, data, size);

    RrRtpHeader h;
    g_autoptr(GError) error = NULL;
    if (!rr_rtp_parse(data, size, &h, &error)) {
        if (!error)
            abort();
        return 0;
    }
    if (h.header_len + h.payload_len + h.padding_len != size)
        abort();
    for (int c = RR_RTP_CODEC_UNKNOWN; c <= RR_RTP_CODEC_AV1; c++)
        (void)rr_rtp_is_keyframe(c, data + h.header_len, h.payload_len);

    RrRtpRtxMap map = {h.ssrc, h.pt, h.ssrc ^ 0x5a5a5a5a, (guint8)((h.pt + 1) & 0x7f)};
    g_autoptr(GBytes) out = rr_rtp_rtx_unwrap(data, size, &map, NULL);
    if (!out)
        return 0;
    gsize n;
    const guint8 *d = g_bytes_get_data(out, &n);
    RrRtpHeader o;
    if (!rr_rtp_parse(d, n, &o, NULL) || o.ssrc != map.primary_ssrc || o.pt != map.primary_pt ||
        o.payload_len + 2 != h.payload_len || o.padding)
        abort(); /* an unwrapped packet is always valid RTP */
    return 0;
}
