/* Fuzz target: parse an SDP offer, build the answer, parse the answer again. */
#include "rtc/sdp.h"

#include <gst/sdp/sdp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(RrSdpOffer) offer = rr_sdp_offer_parse((const char *)data, size, &error);
    if (!offer) {
        if (!error)
            abort(); /* failure must say why */
        return 0;
    }
    static const char *const exts[] = {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", NULL};
    RrSdpAnswerParams p;
    rr_sdp_answer_params_init(&p);
    p.ice_ufrag = "fuzzUfrag";
    p.ice_pwd = "fuzzPasswordFuzzPassword";
    p.fingerprint = "sha-256 01:23:45:67:89:AB:CD:EF";
    p.session_id = 1;
    p.codecs |= (size & 1) ? RR_SDP_CODEC_AV1 | RR_SDP_CODEC_H265 : 0;
    p.header_extensions = (size & 2) ? exts : NULL;
    p.send_transport_cc = (size & 4) != 0;
    g_autoptr(RrSdpAnswer) answer = rr_sdp_answer_build(offer, &p, &error);
    if (!answer || answer->choices->len != offer->media->len)
        abort(); /* a parsed offer always gets an answer */
    GstSDPMessage *msg = NULL;
    gst_sdp_message_new(&msg);
    if (gst_sdp_message_parse_buffer((const guint8 *)answer->sdp, strlen(answer->sdp), msg) !=
            GST_SDP_OK ||
        gst_sdp_message_medias_len(msg) != offer->media->len)
        abort();
    gst_sdp_message_free(msg);
    for (guint i = 0; i < answer->choices->len; i++) {
        const RrSdpChoice *c = g_ptr_array_index(answer->choices, i);
        for (guint j = 0; j < c->ssrcs->len; j++)
            (void)rr_sdp_answer_find_ssrc(answer, g_array_index(c->ssrcs, guint32, j), NULL);
        (void)rr_sdp_answer_find_mid(answer, c->mid);
    }
    return 0;
}
