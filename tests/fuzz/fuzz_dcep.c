/* Fuzz target for rtc/dcep: parse arbitrary bytes as a DCEP message; a parsed OPEN must
 * encode back to the same bytes. */
#include "rtc/dcep.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    RrDcepOpen open;
    GError *error = NULL;
    RrDcepMessageType type = rr_dcep_parse(data, size, &open, &error);
    if (type == RR_DCEP_MESSAGE_OPEN) {
        GBytes *b = rr_dcep_encode_open(&open, NULL);
        if (!b || g_bytes_get_size(b) != size || memcmp(g_bytes_get_data(b, NULL), data, size))
            abort();
        g_bytes_unref(b);
        rr_dcep_open_clear(&open);
    } else if (type == 0) {
        if (!error)
            abort();
        g_error_free(error);
    }
    return 0;
}
