/* Fuzz target: a SignalResponse frame from the server → decode, describe, free.
 * Seeds: tests/fuzz/corpus/signal_response/ (written by `test_signal_codec
 * --write-corpus tests/fuzz/corpus`). */
#include "rtc/signal-codec.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    Livekit__SignalResponse *msg = rr_signal_decode_response(data, size, &error);
    if (!msg) {
        g_assert(error != NULL);
        g_error_free(error);
        return 0;
    }
    char *desc = rr_signal_response_describe(msg);
    g_assert(desc != NULL && strchr(desc, '\n') == NULL);
    g_free(desc);
    /* A trickle carries candidateInit JSON: feed it on, as the client would. */
    if (msg->message_case == LIVEKIT__SIGNAL_RESPONSE__MESSAGE_TRICKLE && msg->trickle) {
        RrCandidateInit c;
        if (rr_signal_candidate_init_parse(msg->trickle->candidateinit, -1, &c, &error))
            rr_candidate_init_clear(&c);
        else
            g_clear_error(&error);
    }
    rr_signal_response_free(msg);
    return 0;
}
