/* Fuzz target: sender reports read from an RTCP compound packet (pipeline/lipsync), and
 * fed to a fit. */
#include "pipeline/lipsync.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    RrSenderReport reports[8];
    guint n = rr_sender_reports_parse(data, size, reports, G_N_ELEMENTS(reports));
    if (n > G_N_ELEMENTS(reports))
        abort();
    RrSrFit fit;
    rr_sr_fit_init(&fit, 90000);
    for (guint i = 0; i < n; i++)
        rr_sr_fit_add(&fit, reports[i].rtp_ts, (gint64)(reports[i].ntp >> 8));
    gdouble ntp;
    if (n > 0 && !rr_sr_fit_ntp(&fit, reports[0].rtp_ts, &ntp))
        abort();
    return 0;
}
