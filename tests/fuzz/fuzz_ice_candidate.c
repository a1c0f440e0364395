/* Fuzz target: ICE candidate lines and trickle candidateInit JSON (rtc/ice-candidate).
 *
 * Every input is tried as a candidate line and as JSON. Whatever parses must format back
 * to a line that parses to the same text again, and convert to a NiceCandidate when its
 * address is an IP.
 */
#include "rtc/ice-candidate.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size); /* stops at an embedded NUL */
    GError *err = NULL;
    RrIceCandidate *c = rr_ice_candidate_parse(text, &err);
    if (c) {
        char *s1 = rr_ice_candidate_to_string(c);
        RrIceCandidate *back = rr_ice_candidate_parse(s1, NULL);
        if (!back)
            g_error("formatted candidate does not parse: %s", s1);
        char *s2 = rr_ice_candidate_to_string(back);
        if (strcmp(s1, s2) != 0)
            g_error("round trip differs: %s / %s", s1, s2);
        if (!rr_ice_candidate_has_hostname(c)) {
            NiceCandidate *nc = rr_ice_candidate_to_nice(c, 1, NULL);
            if (!nc)
                g_error("IP candidate does not convert: %s", s1);
            RrIceCandidate *from = rr_ice_candidate_from_nice(nc);
            rr_ice_candidate_free(from);
            nice_candidate_free(nc);
        }
        g_free(s1);
        g_free(s2);
        rr_ice_candidate_free(back);
        rr_ice_candidate_free(c);
    } else if (!err || err->domain == 0) {
        g_error("parse failed without an error");
    }
    g_clear_error(&err);

    RrIceCandidateInit init;
    if (rr_ice_candidate_init_parse(text, &init, &err)) {
        RrIceCandidate *ic = rr_ice_candidate_parse(init.candidate, NULL);
        rr_ice_candidate_free(ic);
        char *json = rr_ice_candidate_init_to_json(init.candidate, init.sdp_mid,
                                                   init.sdp_mline_index, init.ufrag);
        RrIceCandidateInit again;
        if (!rr_ice_candidate_init_parse(json, &again, NULL))
            g_error("formatted candidateInit does not parse: %s", json);
        if (g_strcmp0(again.candidate, init.candidate) != 0 ||
            g_strcmp0(again.sdp_mid, init.sdp_mid) != 0 ||
            again.sdp_mline_index != init.sdp_mline_index)
            g_error("candidateInit round trip differs: %s", json);
        rr_ice_candidate_init_clear(&again);
        rr_ice_candidate_init_clear(&init);
        g_free(json);
    }
    g_clear_error(&err);
    g_free(text);
    return 0;
}
