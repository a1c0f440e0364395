/* Unit tests for rtc/srtp: packets protected by an independent libsrtp sender built from
 * the "server" keys are opened by our session (both profiles, RTP and RTCP); tampered
 * and replayed packets are counted; our SRTCP is opened by a receiver with the client
 * keys. */
#include "rtc/rtc-error.h"
#include "rtc/srtp.h"

#include <srtp2/srtp.h>
#include <string.h>

static void fill_keys(RrSrtpKeys *k, RrSrtpProfile profile)
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
static srtp_t make_peer(RrSrtpProfile profile, const guint8 *key, const guint8 *salt, guint klen,
                        guint slen, gboolean outbound)
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

static gsize make_rtp(guint8 *buf, guint16 seq, guint32 ssrc)
{
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (guint8)(seq >> 8);
    buf[3] = (guint8)seq;
    memset(buf + 4, 0, 4);
    buf[4] = (guint8)(seq >> 4);
    buf[8] = (guint8)(ssrc >> 24);
    buf[9] = (guint8)(ssrc >> 16);
    buf[10] = (guint8)(ssrc >> 8);
    buf[11] = (guint8)ssrc;
    for (guint i = 0; i < 100; i++)
        buf[12 + i] = (guint8)(i ^ seq);
    return 112;
}

static gsize make_rtcp(guint8 *buf, guint32 ssrc)
{
    /* A receiver report with no blocks plus an SDES-like filler. */
    static const guint8 rr[] = {0x80, 201, 0, 1, 0, 0, 0, 0, 0x81, 202,
                                0,    2,   0, 0, 0, 0, 1, 2, 'x',  0};
    memcpy(buf, rr, sizeof rr);
    buf[4] = (guint8)(ssrc >> 24);
    buf[5] = (guint8)(ssrc >> 16);
    buf[6] = (guint8)(ssrc >> 8);
    buf[7] = (guint8)ssrc;
    memcpy(buf + 12, buf + 4, 4);
    return sizeof rr;
}

static void run_profile(RrSrtpProfile profile)
{
    RrSrtpKeys keys;
    fill_keys(&keys, profile);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrSrtpSession) ours = rr_srtp_session_new(&keys, RR_SRTP_ROLE_CLIENT, &error);
    g_assert_no_error(error);
    srtp_t sender =
        make_peer(profile, keys.server_key, keys.server_salt, keys.key_len, keys.salt_len, TRUE);

    /* RTP from two SSRCs (ssrc_any_inbound). */
    guint8 pkt[512], plain[512];
    for (guint16 seq = 1000; seq < 1010; seq++) {
        guint32 ssrc = seq % 2 ? 0x11111111 : 0x22222222;
        gsize plen = make_rtp(plain, seq, ssrc);
        memcpy(pkt, plain, plen);
        int n = (int)plen;
        g_assert_cmpint(srtp_protect(sender, pkt, &n), ==, srtp_err_status_ok);
        g_assert_cmpint(n, >, (int)plen);
        gsize len = (gsize)n;
        g_assert_true(rr_srtp_session_unprotect_rtp(ours, pkt, &len, &error));
        g_assert_no_error(error);
        g_assert_cmpmem(pkt, len, plain, plen);
    }

    /* RTCP (sender reports etc. come this way). */
    gsize clen = make_rtcp(plain, 0x11111111);
    memcpy(pkt, plain, clen);
    int n = (int)clen;
    g_assert_cmpint(srtp_protect_rtcp(sender, pkt, &n), ==, srtp_err_status_ok);
    gsize len = (gsize)n;
    g_assert_true(rr_srtp_session_unprotect_rtcp(ours, pkt, &len, &error));
    g_assert_cmpmem(pkt, len, plain, clen);

    RrSrtpStats st;
    rr_srtp_session_get_stats(ours, &st);
    g_assert_cmpuint(st.rtp_unprotected, ==, 10);
    g_assert_cmpuint(st.rtcp_unprotected, ==, 1);
    g_assert_cmpuint(st.auth_fail + st.replay_fail + st.other_fail, ==, 0);

    /* Tampered RTP and RTCP: authentication failures. */
    gsize plen = make_rtp(plain, 2000, 0x11111111);
    memcpy(pkt, plain, plen);
    n = (int)plen;
    g_assert_cmpint(srtp_protect(sender, pkt, &n), ==, srtp_err_status_ok);
    guint8 saved[512];
    memcpy(saved, pkt, (gsize)n);
    int saved_n = n;
    pkt[30] ^= 0x01;
    len = (gsize)n;
    g_assert_false(rr_srtp_session_unprotect_rtp(ours, pkt, &len, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP);
    g_clear_error(&error);
    clen = make_rtcp(plain, 0x22222222);
    memcpy(pkt, plain, clen);
    n = (int)clen;
    g_assert_cmpint(srtp_protect_rtcp(sender, pkt, &n), ==, srtp_err_status_ok);
    pkt[10] ^= 0x80;
    len = (gsize)n;
    g_assert_false(rr_srtp_session_unprotect_rtcp(ours, pkt, &len, &error));
    g_clear_error(&error);
    rr_srtp_session_get_stats(ours, &st);
    g_assert_cmpuint(st.auth_fail, ==, 2);

    /* The untampered copy still passes, and then its replay is refused. */
    memcpy(pkt, saved, (gsize)saved_n);
    len = (gsize)saved_n;
    g_assert_true(rr_srtp_session_unprotect_rtp(ours, pkt, &len, &error));
    g_assert_no_error(error);
    memcpy(pkt, saved, (gsize)saved_n);
    len = (gsize)saved_n;
    g_assert_false(rr_srtp_session_unprotect_rtp(ours, pkt, &len, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP);
    g_clear_error(&error);
    rr_srtp_session_get_stats(ours, &st);
    g_assert_cmpuint(st.replay_fail, ==, 1);
    g_assert_cmpuint(st.auth_fail, ==, 2);

    /* Out-of-order delivery within the replay window is fine. */
    guint8 ooo[3][512];
    int ooo_n[3];
    for (guint i = 0; i < 3; i++) {
        plen = make_rtp(ooo[i], (guint16)(3000 + i), 0x11111111);
        ooo_n[i] = (int)plen;
        g_assert_cmpint(srtp_protect(sender, ooo[i], &ooo_n[i]), ==, srtp_err_status_ok);
    }
    static const guint order[] = {2, 0, 1};
    for (guint i = 0; i < 3; i++) {
        len = (gsize)ooo_n[order[i]];
        g_assert_true(rr_srtp_session_unprotect_rtp(ours, ooo[order[i]], &len, &error));
        g_assert_no_error(error);
    }

    /* Malformed input is an error, not a crash. */
    guint8 tiny[4] = {0x80, 96, 0, 1};
    len = sizeof tiny;
    g_assert_false(rr_srtp_session_unprotect_rtp(ours, tiny, &len, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    memset(pkt, 0, 40);
    pkt[0] = 0x80;
    pkt[1] = 200;
    len = 12;
    g_assert_false(rr_srtp_session_unprotect_rtcp(ours, pkt, &len, &error));
    g_clear_error(&error);
    rr_srtp_session_get_stats(ours, &st);
    g_assert_cmpuint(st.other_fail, >=, 1);

    /* Our outbound RTCP (client keys) opens at a receiver with the client keys; a repeat
     * of the same packet is allowed on our side (allow_repeat_tx). */
    srtp_t receiver =
        make_peer(profile, keys.client_key, keys.client_salt, keys.key_len, keys.salt_len, FALSE);
    guint8 out[64 + RR_SRTP_MAX_TRAILER];
    clen = make_rtcp(out, 0x33333333);
    len = clen;
    g_assert_true(rr_srtp_session_protect_rtcp(ours, out, &len, sizeof out, &error));
    g_assert_no_error(error);
    n = (int)len;
    g_assert_cmpint(srtp_unprotect_rtcp(receiver, out, &n), ==, srtp_err_status_ok);
    g_assert_cmpint(n, ==, (int)clen);
    len = clen;
    g_assert_false(rr_srtp_session_protect_rtcp(ours, out, &len, clen + 10, &error));
    g_clear_error(&error);
    rr_srtp_session_get_stats(ours, &st);
    g_assert_cmpuint(st.rtcp_protected, ==, 1);

    srtp_dealloc(sender);
    srtp_dealloc(receiver);
}

static void test_aes_cm(void)
{
    run_profile(RR_SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void test_gcm(void)
{
    run_profile(RR_SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_bad_keys(void)
{
    RrSrtpKeys keys;
    fill_keys(&keys, RR_SRTP_PROFILE_AES128_CM_SHA1_80);
    keys.salt_len = 12;
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_srtp_session_new(&keys, RR_SRTP_ROLE_CLIENT, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP);
    g_clear_error(&error);
    keys.profile = 0x0002; /* SRTP_AES128_CM_SHA1_32: not offered */
    g_assert_null(rr_srtp_session_new(&keys, RR_SRTP_ROLE_CLIENT, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_UNSUPPORTED);
    g_assert_cmpstr(rr_srtp_profile_name(RR_SRTP_PROFILE_AEAD_AES_128_GCM), ==,
                    "SRTP_AEAD_AES_128_GCM");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/srtp/aes-cm-sha1-80", test_aes_cm);
    g_test_add_func("/rtc/srtp/aead-aes-128-gcm", test_gcm);
    g_test_add_func("/rtc/srtp/bad-keys", test_bad_keys);
    return g_test_run();
}
