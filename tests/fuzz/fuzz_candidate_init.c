/* Fuzz target: the server's trickle candidateInit JSON → parse, re-encode, parse again.
 * Seeds: tests/fuzz/corpus/candidate_init/. */
#include "rtc/signal-codec.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    RrCandidateInit c;
    if (!rr_signal_candidate_init_parse((const char *)data, (gssize)size, &c, &error)) {
        g_assert(error != NULL && c.candidate == NULL);
        g_error_free(error);
        return 0;
    }
    /* What we parse, we can write back, and it reads the same. */
    char *json = rr_signal_candidate_init_to_json(c.candidate, c.sdp_mid, c.sdp_mline_index,
                                                  c.username_fragment);
    RrCandidateInit again;
    if (!rr_signal_candidate_init_parse(json, -1, &again, &error))
        g_error("re-encoded candidateInit does not parse: %s", error->message);
    g_assert(g_strcmp0(c.candidate, again.candidate) == 0);
    g_assert(g_strcmp0(c.sdp_mid, again.sdp_mid) == 0);
    g_assert(c.sdp_mline_index == again.sdp_mline_index);
    g_assert(g_strcmp0(c.username_fragment, again.username_fragment) == 0);
    rr_candidate_init_clear(&again);
    rr_candidate_init_clear(&c);
    g_free(json);
    return 0;
}
