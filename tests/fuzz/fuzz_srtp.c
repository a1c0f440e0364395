/* Fuzz target: incoming SRTP (rtc/srtp, roomrec's own code on OpenSSL).
 *
 * Byte 0 picks the profile (bit 0) and the mode (bit 1); the rest is a packet.
 *  - raw: the bytes go to rr_srtp_session_unprotect_rtp as they are (header parsing,
 *    stream lookup, authentication failures) — never a crash, a failure always an error;
 *  - sealed: when the bytes are RTP, libsrtp (an independent sender with the server
 *    keys) protects them and our session must open them to exactly those bytes, then
 *    refuse the same packet again as a replay. */
#include "rtc/rtc-error.h"
#include "rtc/rtp.h"
#include "rtc/srtp.h"
#include "../unit/srtp-peer.h"

#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_PACKET)
        return 0;
    RrSrtpProfile profile =
        data[0] & 1 ? RR_SRTP_PROFILE_AEAD_AES_128_GCM : RR_SRTP_PROFILE_AES128_CM_SHA1_80;
    gboolean sealed = (data[0] & 2) != 0;
    data++, size--;
    RrSrtpKeys keys;
    fill_keys(&keys, profile);
    g_autoptr(GError) error = NULL;
    RrSrtpSession *rx = rr_srtp_session_new(&keys, RR_SRTP_ROLE_CLIENT, &error);
    if (!rx)
        abort();
    static guint8 buf[MAX_PACKET + RR_SRTP_MAX_TRAILER];
    memcpy(buf, data, size);
    gsize n = size;
    RrRtpHeader h;
    if (!sealed || !rr_rtp_parse(data, size, &h, NULL) || h.version != 2) {
        if (!rr_srtp_session_unprotect_rtp(rx, buf, &n, &error) && error == NULL)
            abort(); /* a failure always says why */
        if (error == NULL && n > size)
            abort();
        rr_srtp_session_free(rx);
        return 0;
    }
    srtp_t tx = make_peer(profile, keys.server_key, keys.server_salt, keys.key_len, keys.salt_len,
                          TRUE); /* the server's sender: what roomrec receives */
    int len = (int)size;
    if (srtp_protect(tx, buf, &len) == srtp_err_status_ok) {
        guint8 copy[MAX_PACKET + RR_SRTP_MAX_TRAILER];
        memcpy(copy, buf, (gsize)len);
        n = (gsize)len;
        if (!rr_srtp_session_unprotect_rtp(rx, buf, &n, &error) || n != size ||
            memcmp(buf, data, size) != 0)
            abort(); /* libsrtp sealed it: it must open to the same bytes */
        n = (gsize)len;
        if (rr_srtp_session_unprotect_rtp(rx, copy, &n, NULL))
            abort(); /* the same packet twice is a replay */
        RrSrtpStats st;
        rr_srtp_session_get_stats(rx, &st);
        if (st.rtp_unprotected != 1 || st.replay_fail != 1)
            abort();
    }
    srtp_dealloc(tx);
    rr_srtp_session_free(rx);
    return 0;
}
