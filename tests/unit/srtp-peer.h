/* Test helper shared by tests/unit/test_srtp.c and tests/fuzz/fuzz_srtp.c: fixed
 * DTLS-SRTP keys and an independent libsrtp context to seal or open packets with. */
#pragma once

#include "rtc/srtp.h"

#include <srtp2/srtp.h>
#include <string.h>

static inline void fill_keys(RrSrtpKeys *k, RrSrtpProfile profile)
{
    memset(k, 0, sizeof *k);
    k->profile = profile;
    g_assert_true(rr_srtp_profile_lengths(profile, &k->key_len, &k->salt_len));
    for (guint i = 0; i < k->key_len; i++) {
        k->client_key[i] = (guint8)(0x10 + i);
        k->server_key[i] = (guint8)(0x80 + i);
    }
    for (guint i = 0; i < k->salt_len; i++) {
        k->client_salt[i] = (guint8)(0x40 + i);
        k->server_salt[i] = (guint8)(0xc0 + i);
    }
}

/* An independent libsrtp context with @key|@salt, outbound (sender) or inbound. */
static inline srtp_t make_peer(RrSrtpProfile profile, const guint8 *key, const guint8 *salt,
                               guint klen, guint slen, gboolean outbound)
{
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (profile == RR_SRTP_PROFILE_AES128_CM_SHA1_80) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    } else {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    }
    guint8 master[64];
    memcpy(master, key, klen);
    memcpy(master + klen, salt, slen);
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.key = master;
    p.window_size = 1024;
    srtp_t s = NULL;
    g_assert_cmpint(srtp_create(&s, &p), ==, srtp_err_status_ok);
    return s;
}
