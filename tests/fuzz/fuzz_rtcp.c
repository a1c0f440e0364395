/* Fuzz target: RTCP compound parse and every typed parser. */
#include "rtc/rtcp.h"

#include <stdint.h>
#include <stdlib.h>

static void on_sdes(guint32 ssrc, guint8 item, const guint8 *value, gsize len, gpointer data)
{
    gsize *total = data;
    for (gsize i = 0; i < len; i++)
        *total += value[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)rr_rtcp_validate(data, size, NULL);
    RrRtcpIter it;
    RrRtcpPacket pkt;
    GError *error = NULL;
    gsize total = 0;
    rr_rtcp_iter_init(&it, data, size);
    while (rr_rtcp_iter_next(&it, &pkt, &error)) {
        if (pkt.data < data || pkt.data + pkt.len > data + size || pkt.body_len > pkt.len)
            abort();
        union {
            RrRtcpSr sr;
            RrRtcpRr rr;
            RrRtcpBye bye;
            RrRtcpApp app;
            RrRtcpRemb remb;
        } u;
        RrRtcpFb fb;
        guint32 ssrc;
        (void)rr_rtcp_parse_sr(&pkt, &u.sr, NULL);
        (void)rr_rtcp_parse_rr(&pkt, &u.rr, NULL);
        (void)rr_rtcp_parse_bye(&pkt, &u.bye, NULL);
        for (gsize i = 0; u.bye.reason && i < u.bye.reason_len; i++)
            total += u.bye.reason[i];
        (void)rr_rtcp_parse_app(&pkt, &u.app, NULL);
        for (gsize i = 0; i < u.app.len; i++)
            total += u.app.data[i];
        (void)rr_rtcp_parse_xr(&pkt, &ssrc, NULL);
        (void)rr_rtcp_parse_sdes(&pkt, on_sdes, &total, NULL);
        if (rr_rtcp_parse_fb(&pkt, &fb, NULL)) {
            g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
            (void)rr_rtcp_parse_nack(&fb, seqs, NULL);
            (void)rr_rtcp_parse_remb(&fb, &u.remb, NULL);
            RrRtcpFirEntry e;
            for (guint i = 0; i < rr_rtcp_fir_count(&fb); i++)
                if (!rr_rtcp_fir_entry(&fb, i, &e))
                    abort();
            for (gsize i = 0; i < fb.fci_len; i++)
                total += fb.fci[i];
        }
    }
    g_clear_error(&error);
    return total == 0x7fffffff; /* keep the reads */
}
