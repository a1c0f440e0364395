/* Unit tests for rtc/srtp: packets protected by an independent libsrtp sender built from
 * the "server" keys are opened by our session (both profiles, RTP and RTCP); tampered
 * and replayed packets are counted; our SRTCP is opened by a receiver with the client
 * keys. Inbound SRTP is roomrec's own code (OpenSSL), so it is also checked against the
 * libsrtp sender in bulk (sizes, CSRCs, header extensions, interleaved SSRCs), across
 * sequence number wraps, for the replay window's edges, for tampering, malformed and
 * random input and for the cap on streams. */
#include "rtc/rtc-error.h"
#include "rtc/srtp.h"
#include "srtp-peer.h"

#include <srtp2/srtp.h>
#include <string.h>

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

/* ---- Inbound SRTP against libsrtp ---------------------------------------------------- */

#define BUF 2048

typedef enum { OPENED = -1, FAIL_AUTH, FAIL_REPLAY, FAIL_OTHER } FailKind;

typedef struct {
    RrSrtpKeys keys;
    RrSrtpSession *ours;
    srtp_t sender; /* libsrtp with the keys @ours receives with */
    srtp_t ref;    /* libsrtp receiving what @ours receives: the expected outcome */
    gsize tag_len;
} Rx;

static void rx_init(Rx *rx, RrSrtpProfile profile, RrSrtpRole role)
{
    fill_keys(&rx->keys, profile);
    g_autoptr(GError) error = NULL;
    rx->ours = rr_srtp_session_new(&rx->keys, role, &error);
    g_assert_no_error(error);
    gboolean client = role == RR_SRTP_ROLE_CLIENT;
    rx->sender = make_peer(profile, client ? rx->keys.server_key : rx->keys.client_key,
                           client ? rx->keys.server_salt : rx->keys.client_salt, rx->keys.key_len,
                           rx->keys.salt_len, TRUE);
    rx->ref = make_peer(profile, client ? rx->keys.server_key : rx->keys.client_key,
                        client ? rx->keys.server_salt : rx->keys.client_salt, rx->keys.key_len,
                        rx->keys.salt_len, FALSE);
    rx->tag_len = profile == RR_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
}

static void rx_clear(Rx *rx)
{
    g_clear_pointer(&rx->ours, rr_srtp_session_free);
    srtp_dealloc(rx->sender);
    if (rx->ref)
        srtp_dealloc(rx->ref);
}

/* What libsrtp does with @sealed, behind the structural checks rtc/srtp makes first:
 * version 2 and room for header + tag (libsrtp checks replay before the tag's room, so
 * it calls a short packet with an old index a replay); when it opens, the plain packet
 * is in @out. */
static FailKind ref_open(Rx *rx, const guint8 *sealed, gsize len, guint8 *out, gsize *out_len)
{
    if (!rx->ref)
        return OPENED;
    if (len < 12 || (sealed[0] >> 6) != 2)
        return FAIL_OTHER;
    gsize hlen = 12 + 4 * (gsize)(sealed[0] & 15);
    if ((sealed[0] & 0x10) && len >= hlen + 4)
        hlen += 4 + 4 * (gsize)(sealed[hlen + 2] * 256 + sealed[hlen + 3]);
    else if (sealed[0] & 0x10)
        return FAIL_OTHER;
    if (len < hlen + rx->tag_len)
        return FAIL_OTHER;
    memcpy(out, sealed, len);
    int n = (int)len;
    srtp_err_status_t st = srtp_unprotect(rx->ref, out, &n);
    *out_len = (gsize)n;
    switch (st) {
    case srtp_err_status_ok:
        return OPENED;
    case srtp_err_status_auth_fail:
        return FAIL_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return FAIL_REPLAY;
    default:
        return FAIL_OTHER;
    }
}

/* An RTP packet: @cc CSRCs, a header extension of @ext_words words unless negative, and
 * @payload bytes, everything not fixed taken from @r. */
static gsize build_rtp(guint8 *buf, guint32 ssrc, guint16 seq, guint cc, int ext_words,
                       gsize payload, GRand *r)
{
    buf[0] = (guint8)(0x80 | (ext_words >= 0 ? 0x10 : 0) | cc);
    buf[1] = (guint8)(96 | (seq & 1 ? 0x80 : 0));
    buf[2] = (guint8)(seq >> 8);
    buf[3] = (guint8)seq;
    guint32 ts = (guint32)seq * 3000u;
    buf[4] = (guint8)(ts >> 24);
    buf[5] = (guint8)(ts >> 16);
    buf[6] = (guint8)(ts >> 8);
    buf[7] = (guint8)ts;
    buf[8] = (guint8)(ssrc >> 24);
    buf[9] = (guint8)(ssrc >> 16);
    buf[10] = (guint8)(ssrc >> 8);
    buf[11] = (guint8)ssrc;
    gsize o = 12;
    for (guint i = 0; i < 4 * cc; i++)
        buf[o++] = (guint8)g_rand_int(r);
    if (ext_words >= 0) {
        buf[o++] = 0xbe;
        buf[o++] = 0xde;
        buf[o++] = (guint8)(ext_words >> 8);
        buf[o++] = (guint8)ext_words;
        for (int i = 0; i < 4 * ext_words; i++)
            buf[o++] = (guint8)g_rand_int(r);
    }
    for (gsize i = 0; i < payload; i++)
        buf[o++] = (guint8)g_rand_int(r);
    return o;
}

/* Protect @plain (@plen bytes) with the libsrtp sender into @out; its length. */
static gsize seal(Rx *rx, const guint8 *plain, gsize plen, guint8 *out)
{
    g_assert_cmpuint(plen + SRTP_MAX_TRAILER_LEN, <=, BUF);
    memcpy(out, plain, plen);
    int n = (int)plen;
    g_assert_cmpint(srtp_protect(rx->sender, out, &n), ==, srtp_err_status_ok);
    g_assert_cmpint(n, ==, (int)(plen + rx->tag_len));
    return (gsize)n;
}

/* A copy of @sealed opens to exactly @plain. */
static void expect_open(Rx *rx, const guint8 *sealed, gsize sealed_len, const guint8 *plain,
                        gsize plen)
{
    guint8 buf[BUF], ref[BUF];
    memcpy(buf, sealed, sealed_len);
    gsize len = sealed_len, ref_len = 0;
    g_autoptr(GError) error = NULL;
    gboolean ok = rr_srtp_session_unprotect_rtp(rx->ours, buf, &len, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    g_assert_cmpmem(buf, len, plain, plen);
    g_assert_cmpint(ref_open(rx, sealed, sealed_len, ref, &ref_len), ==, OPENED);
    if (rx->ref)
        g_assert_cmpmem(ref, ref_len, plain, plen);
}

/* A copy of @sealed (@len bytes) is refused, counted as @kind and nothing else. */
static void expect_fail(Rx *rx, const guint8 *sealed, gsize sealed_len, FailKind kind)
{
    RrSrtpStats before, after;
    rr_srtp_session_get_stats(rx->ours, &before);
    guint8 *buf = g_malloc(sealed_len + 1); /* exact size: ASan sees any overread */
    if (sealed_len)
        memcpy(buf, sealed, sealed_len);
    gsize len = sealed_len;
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_srtp_session_unprotect_rtp(rx->ours, buf, &len, &error));
    g_free(buf);
    gint code = kind == FAIL_OTHER ? RR_RTC_ERROR_INVALID_INPUT : RR_RTC_ERROR_SRTP;
    g_assert_error(error, RR_RTC_ERROR, code);
    g_assert_cmpuint(len, ==, sealed_len);
    rr_srtp_session_get_stats(rx->ours, &after);
    g_assert_cmpuint(after.auth_fail, ==, before.auth_fail + (kind == FAIL_AUTH));
    g_assert_cmpuint(after.replay_fail, ==, before.replay_fail + (kind == FAIL_REPLAY));
    g_assert_cmpuint(after.other_fail, ==, before.other_fail + (kind == FAIL_OTHER));
    g_assert_cmpuint(after.rtp_unprotected, ==, before.rtp_unprotected);
    guint8 ref[BUF + 1];
    gsize ref_len;
    if (sealed_len <= BUF)
        g_assert_cmpint(ref_open(rx, sealed, sealed_len, ref, &ref_len), ==, kind);
}

static void expect_stats(Rx *rx, guint64 ok, guint64 auth, guint64 replay, guint64 other)
{
    RrSrtpStats st;
    rr_srtp_session_get_stats(rx->ours, &st);
    g_assert_cmpuint(st.rtp_unprotected, ==, ok);
    g_assert_cmpuint(st.auth_fail, ==, auth);
    g_assert_cmpuint(st.replay_fail, ==, replay);
    g_assert_cmpuint(st.other_fail, ==, other);
}

/* Thousands of packets of five interleaved SSRCs (random starting sequence numbers, so
 * some wrap), payloads of 0..1200 bytes, some with CSRCs and header extensions. */
static void bulk(gconstpointer data)
{
    RrSrtpProfile profile = GPOINTER_TO_UINT(data);
    for (int role = RR_SRTP_ROLE_CLIENT; role <= RR_SRTP_ROLE_SERVER; role++) {
        Rx rx;
        rx_init(&rx, profile, role);
        g_autoptr(GRand) r = g_rand_new_with_seed(0x5eed + profile + (guint)role);
        static const guint32 ssrcs[] = {0x11111111, 0x22222222, 0xdeadbeef, 0, 0xffffffff};
        guint16 seq[G_N_ELEMENTS(ssrcs)];
        for (guint k = 0; k < G_N_ELEMENTS(ssrcs); k++)
            seq[k] = (guint16)g_rand_int_range(r, 0, 65536);
        guint count = role == RR_SRTP_ROLE_CLIENT ? 6000 : 500;
        guint8 plain[BUF], sealed[BUF];
        for (guint i = 0; i < count; i++) {
            guint k = (guint)g_rand_int_range(r, 0, G_N_ELEMENTS(ssrcs));
            guint cc = g_rand_int_range(r, 0, 4) == 0 ? (guint)g_rand_int_range(r, 1, 16) : 0;
            int ext = g_rand_boolean(r) ? g_rand_int_range(r, 0, 9) : -1;
            gsize payload = i % 40 == 0 ? 0 : (gsize)g_rand_int_range(r, 1, 1201);
            gsize plen = build_rtp(plain, ssrcs[k], seq[k]++, cc, ext, payload, r);
            gsize n = seal(&rx, plain, plen, sealed);
            expect_open(&rx, sealed, n, plain, plen);
        }
        expect_stats(&rx, count, 0, 0, 0);
        rx_clear(&rx);
    }
}

/* One SSRC from 65500 over ~60 000 packets (ROC 0 -> 2) with losses, a large jump,
 * reordering across the wrap and replays of pre-wrap packets. */
static void wrap(gconstpointer data)
{
    RrSrtpProfile profile = GPOINTER_TO_UINT(data);
    Rx rx;
    rx_init(&rx, profile, RR_SRTP_ROLE_CLIENT);
    g_autoptr(GRand) r = g_rand_new_with_seed(0x3a9 + profile);
    const guint32 ssrc = 0xabcdef01;
    guint8 plain[BUF], sealed[BUF];
    guint8 held_plain[BUF], held[BUF], old[BUF], early[BUF];
    gsize held_plen = 0, held_n = 0, old_n = 0, early_n = 0;
    guint64 index = 65500, ok = 0, replay = 0;
    while (index < 65500 + 95000) {
        guint16 seq = (guint16)index;
        gsize plen = build_rtp(plain, ssrc, seq, index % 3 == 0 ? 2 : 0, -1,
                               (gsize)g_rand_int_range(r, 0, 60), r);
        gsize n = seal(&rx, plain, plen, sealed);
        if (index == 65534) {
            /* Held back: delivered after the wrap, its ROC is guessed as ROC - 1. */
            memcpy(held_plain, plain, plen);
            memcpy(held, sealed, n);
            held_plen = plen;
            held_n = n;
        } else {
            expect_open(&rx, sealed, n, plain, plen);
            ok++;
        }
        if (index == 65530) {
            memcpy(old, sealed, n);
            old_n = n;
        }
        if (index == 65536 + 30000) {
            memcpy(early, sealed, n);
            early_n = n;
        }
        if (index == 65536 + 3) {
            expect_open(&rx, held, held_n, held_plain, held_plen);
            ok++;
            expect_fail(&rx, held, held_n, FAIL_REPLAY);
            expect_fail(&rx, old, old_n, FAIL_REPLAY);
            replay += 2;
        }
        if (index == 65536 + 20000)
            index += 5000; /* loss (the sender skips them too) */
        else if (index == 65536 + 40000)
            index += 30000; /* a jump just short of half the sequence space */
        else
            index++;
    }
    /* The highest is now ROC 2, SEQ 29427. The guess for ROC 0 SEQ 65530 is ROC 1: far
     * too old. The guess for ROC 1 SEQ 30000 is ROC 2, a packet never sent: it fails
     * authentication (libsrtp agrees on both). */
    g_assert_cmpuint(index, ==, 2 * 65536 + 29428);
    expect_fail(&rx, old, old_n, FAIL_REPLAY);
    expect_fail(&rx, early, early_n, FAIL_AUTH);
    replay++;
    expect_stats(&rx, ok, 1, replay, 0);
    rx_clear(&rx);
}

/* The replay window: 1024 packets including the highest. */
static void replay(gconstpointer data)
{
    RrSrtpProfile profile = GPOINTER_TO_UINT(data);
    Rx rx;
    rx_init(&rx, profile, RR_SRTP_ROLE_CLIENT);
    g_autoptr(GRand) r = g_rand_new_with_seed(0x7e9 + profile);
    enum { N = 2400, START = 40000 };
    typedef struct {
        guint8 plain[200], sealed[200 + 16];
        gsize plen, n;
    } Stored;
    Stored *pk = g_new(Stored, N);
    for (guint i = 0; i < N; i++) {
        pk[i].plen = build_rtp(pk[i].plain, 0x5151, (guint16)(START + i), 1, 1, 100 + i % 50, r);
        guint8 tmp[BUF];
        pk[i].n = seal(&rx, pk[i].plain, pk[i].plen, tmp);
        memcpy(pk[i].sealed, tmp, pk[i].n);
    }
#define OPEN(i)   expect_open(&rx, pk[i].sealed, pk[i].n, pk[i].plain, pk[i].plen)
#define REFUSE(i) expect_fail(&rx, pk[i].sealed, pk[i].n, FAIL_REPLAY)
    guint ok = 0, refused = 0;
    OPEN(0), ok++;
    REFUSE(0), refused++;
    OPEN(1024), ok++; /* highest; 0 is now 1024 behind */
    OPEN(1), ok++;    /* 1023 behind, never seen: the oldest the window takes */
    REFUSE(1), refused++;
    REFUSE(0), refused++;
    /* Reordered, each accepted once. */
    static const guint order[] = {1030, 1028, 1029, 1025, 1027, 1026, 500, 7, 1000};
    for (guint i = 0; i < G_N_ELEMENTS(order); i++)
        OPEN(order[i]), ok++;
    for (guint i = 0; i < G_N_ELEMENTS(order); i++)
        REFUSE(order[i]), refused++;
    OPEN(1100), ok++;
    REFUSE(50), refused++; /* 1050 behind, never seen */
    REFUSE(76), refused++; /* exactly 1024 behind, never seen */
    OPEN(77), ok++;        /* 1023 behind */
    REFUSE(77), refused++;
    REFUSE(1100), refused++;
    /* A forward jump wider than the window (1299) forgets everything before it. */
    OPEN(N - 1), ok++;
    REFUSE(N - 1), refused++;
    OPEN(N - 1 - 1023), ok++;
    REFUSE(N - 1 - 1023), refused++;
    REFUSE(N - 1 - 1024), refused++;
    OPEN(2000), ok++;
    REFUSE(2000), refused++;
#undef OPEN
#undef REFUSE
    expect_stats(&rx, ok, 0, refused, 0);
    g_free(pk);
    rx_clear(&rx);
}

/* A flipped bit anywhere fails authentication and changes no state. */
static void tamper(gconstpointer data)
{
    RrSrtpProfile profile = GPOINTER_TO_UINT(data);
    Rx rx;
    rx_init(&rx, profile, RR_SRTP_ROLE_CLIENT);
    g_autoptr(GRand) r = g_rand_new_with_seed(0x7a3 + profile);
    guint8 plain[BUF], sealed[BUF], bad[BUF], scratch[BUF];
    guint auth = 0, replay = 0, ok = 0, other = 0;
    guint16 seq = 65520; /* across a wrap */
    for (guint round = 0; round < 40; round++, seq++) {
        gsize payload = round == 0 ? 0 : 100 + round;
        gsize plen = build_rtp(plain, 0x7777, seq, 2, 3, payload, r);
        gsize n = seal(&rx, plain, plen, sealed);
        const gsize hlen = 12 + 8 + 4 + 12;
        /* Header (PT and marker, timestamp, SSRC: a new stream, CSRC, extension),
         * payload, tag. */
        gsize spots[] = {
            1, 6, 9, 13, 26, n - rx.tag_len, n - 1, hlen, hlen + payload / 2, hlen + payload - 1};
        guint nspots = payload ? G_N_ELEMENTS(spots) : G_N_ELEMENTS(spots) - 3;
        for (guint k = 0; k < nspots; k++) {
            for (guint bit = 0; bit < 8; bit += 7) {
                memcpy(bad, sealed, n);
                bad[spots[k]] ^= (guint8)(1u << bit);
                expect_fail(&rx, bad, n, FAIL_AUTH);
                auth++;
            }
        }
        /* The sequence number: another packet index (ROC guess); that may also be one
         * already received or too old. */
        static const guint seq_bits[][2] = {{3, 0}, {3, 3}, {2, 7}};
        for (guint k = 0; k < G_N_ELEMENTS(seq_bits); k++) {
            memcpy(bad, sealed, n);
            bad[seq_bits[k][0]] ^= (guint8)(1u << seq_bits[k][1]);
            gsize ignored;
            FailKind kind = ref_open(&rx, bad, n, scratch, &ignored);
            g_assert_cmpint(kind, !=, OPENED);
            g_assert_cmpint(kind, !=, FAIL_OTHER);
            expect_fail(&rx, bad, n, kind);
            kind == FAIL_AUTH ? auth++ : replay++;
        }
        /* Truncated by a byte (malformed without a payload), or a byte longer. */
        expect_fail(&rx, sealed, n - 1, round == 0 ? FAIL_OTHER : FAIL_AUTH);
        memcpy(bad, sealed, n);
        bad[n] = 0;
        expect_fail(&rx, bad, n + 1, FAIL_AUTH);
        auth += round == 0 ? 1 : 2;
        other += round == 0;
        /* Every other round, the good packet is lost: the next one still opens. */
        if (round % 2 == 0) {
            expect_open(&rx, sealed, n, plain, plen);
            ok++;
        }
    }
    g_assert_cmpuint(replay, >, 0);
    expect_stats(&rx, ok, auth, replay, other);
    rx_clear(&rx);
}

/* Malformed and truncated packets are refused as such; random bytes never open. */
static void malformed_input(gconstpointer data)
{
    RrSrtpProfile profile = GPOINTER_TO_UINT(data);
    Rx rx;
    rx_init(&rx, profile, RR_SRTP_ROLE_CLIENT);
    g_autoptr(GRand) r = g_rand_new_with_seed(0xbad + profile);
    guint8 plain[BUF], sealed[BUF];
    guint other = 0, auth = 0;

    /* Every truncation of a genuine packet (2 CSRCs, a 3-word extension, 40 bytes):
     * shorter than header + tag is malformed, longer fails authentication. */
    gsize plen = build_rtp(plain, 0x4242, 100, 2, 3, 40, r);
    gsize hlen = plen - 40;
    gsize n = seal(&rx, plain, plen, sealed);
    for (gsize cut = 0; cut < n; cut++) {
        gboolean short_ = cut < hlen + rx.tag_len;
        expect_fail(&rx, sealed, cut, short_ ? FAIL_OTHER : FAIL_AUTH);
        short_ ? other++ : auth++;
    }
    expect_open(&rx, sealed, n, plain, plen);

    /* A 0-byte payload is exactly header + tag. */
    plen = build_rtp(plain, 0x4242, 101, 0, -1, 0, r);
    n = seal(&rx, plain, plen, sealed);
    g_assert_cmpuint(n, ==, 12 + rx.tag_len);
    expect_open(&rx, sealed, n, plain, plen);

    guint8 p[128];
    memset(p, 0, sizeof p);
    p[0] = 0x80;
    /* Version 1 and 3. */
    p[0] = 0x40;
    expect_fail(&rx, p, 64, FAIL_OTHER);
    p[0] = 0xc0;
    expect_fail(&rx, p, 64, FAIL_OTHER);
    other += 2;
    /* CSRC count past the end, and past header + tag. */
    p[0] = 0x8f; /* 15 CSRCs: 72-byte header */
    expect_fail(&rx, p, 60, FAIL_OTHER);
    expect_fail(&rx, p, 72 + rx.tag_len - 1, FAIL_OTHER);
    expect_fail(&rx, p, 72 + rx.tag_len, FAIL_AUTH);
    other += 2, auth++;
    /* Extension header cut off, extension length past the end. */
    p[0] = 0x90;
    expect_fail(&rx, p, 13, FAIL_OTHER);
    expect_fail(&rx, p, 15, FAIL_OTHER);
    p[14] = 0x00, p[15] = 20; /* 80 bytes of extension */
    expect_fail(&rx, p, 60, FAIL_OTHER);
    expect_fail(&rx, p, 96 + rx.tag_len - 1, FAIL_OTHER);
    expect_fail(&rx, p, 96 + rx.tag_len, FAIL_AUTH);
    p[14] = 0xff, p[15] = 0xff; /* 262140 bytes */
    expect_fail(&rx, p, sizeof p, FAIL_OTHER);
    other += 5, auth++;
    /* CSRCs and an extension together. */
    p[0] = 0x93;
    p[24] = 0xbe, p[25] = 0xde, p[26] = 0, p[27] = 30;
    expect_fail(&rx, p, sizeof p, FAIL_OTHER);
    p[27] = 2;
    expect_fail(&rx, p, sizeof p, FAIL_AUTH);
    other++, auth++;

    /* Random RTP-looking bytes of random length, some with the known SSRC: all refused
     * as libsrtp refuses them, never a crash, no stream comes of them. */
    guint replay = 0;
    for (guint seq = 20000; seq <= 50000; seq += 30000) {
        plen = build_rtp(plain, 0x4242, (guint16)seq, 0, -1, 10, r);
        n = seal(&rx, plain, plen, sealed);
        expect_open(&rx, sealed, n, plain, plen);
    }
    for (guint i = 0; i < 20000; i++) {
        gsize len = (gsize)g_rand_int_range(r, 0, (gint32)sizeof p + 1);
        for (gsize k = 0; k < len; k++)
            p[k] = (guint8)g_rand_int(r);
        if (len)
            p[0] = (guint8)((p[0] & 0x3f) | (i % 8 ? 0x80 : 0));
        if (i % 2 && len > 0)
            p[0] &= 0xe0; /* often no CSRCs */
        if (i % 4 == 0 && len >= 12)
            p[8] = p[9] = 0, p[10] = 0x42, p[11] = 0x42;
        guint8 scratch[BUF];
        gsize ignored;
        FailKind kind = ref_open(&rx, p, len, scratch, &ignored);
        g_assert_cmpint(kind, !=, OPENED);
        expect_fail(&rx, p, len, kind);
        kind == FAIL_OTHER ? other++ : kind == FAIL_AUTH ? auth++ : replay++;
    }
    g_assert_cmpuint(replay, >, 0);
    /* The genuine stream carries on. */
    plen = build_rtp(plain, 0x4242, 50001, 1, 0, 10, r);
    n = seal(&rx, plain, plen, sealed);
    expect_open(&rx, sealed, n, plain, plen);
    expect_stats(&rx, 5, auth, replay, other);
    rx_clear(&rx);
}

/* At most 4096 SSRCs have state; then new ones are refused, known ones still open. */
static void stream_cap(gconstpointer data)
{
    RrSrtpProfile profile = GPOINTER_TO_UINT(data);
    Rx rx;
    rx_init(&rx, profile, RR_SRTP_ROLE_CLIENT);
    g_autoptr(GRand) r = g_rand_new_with_seed(0xca9 + profile);
    guint8 plain[BUF], sealed[BUF];
    /* Failed packets of new SSRCs do not take a slot. */
    for (guint32 ssrc = 0x10000; ssrc < 0x10000 + 100; ssrc++) {
        gsize plen = build_rtp(plain, ssrc, 1, 0, -1, 20, r);
        gsize n = seal(&rx, plain, plen, sealed);
        sealed[n - 1] ^= 1;
        expect_fail(&rx, sealed, n, FAIL_AUTH);
    }
    for (guint32 ssrc = 1; ssrc <= 4096; ssrc++) {
        gsize plen = build_rtp(plain, ssrc, 1, 0, -1, 20, r);
        gsize n = seal(&rx, plain, plen, sealed);
        expect_open(&rx, sealed, n, plain, plen);
    }
    gsize plen = build_rtp(plain, 4097, 1, 0, -1, 20, r);
    gsize n = seal(&rx, plain, plen, sealed);
    RrSrtpStats before, after;
    rr_srtp_session_get_stats(rx.ours, &before);
    g_autoptr(GError) error = NULL;
    gsize len = n;
    g_assert_false(rr_srtp_session_unprotect_rtp(rx.ours, sealed, &len, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP);
    rr_srtp_session_get_stats(rx.ours, &after);
    g_assert_cmpuint(after.other_fail, ==, before.other_fail + 1);
    plen = build_rtp(plain, 4096, 2, 0, -1, 20, r);
    n = seal(&rx, plain, plen, sealed);
    expect_open(&rx, sealed, n, plain, plen);
    expect_stats(&rx, 4097, 100, 0, 1);
    rx_clear(&rx);
}

static void add_rx_tests(const char *name, RrSrtpProfile profile)
{
    static const struct {
        const char *name;
        GTestDataFunc func;
    } tests[] = {
        {"bulk", bulk},
        {"wrap", wrap},
        {"replay", replay},
        {"tamper", tamper},
        {"malformed", malformed_input},
        {"stream-cap", stream_cap},
    };
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++) {
        g_autofree char *path = g_strdup_printf("/rtc/srtp/%s/rx-%s", name, tests[i].name);
        g_test_add_data_func(path, GUINT_TO_POINTER(profile), tests[i].func);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/srtp/aes-cm-sha1-80", test_aes_cm);
    g_test_add_func("/rtc/srtp/aead-aes-128-gcm", test_gcm);
    g_test_add_func("/rtc/srtp/bad-keys", test_bad_keys);
    add_rx_tests("aes-cm-sha1-80", RR_SRTP_PROFILE_AES128_CM_SHA1_80);
    add_rx_tests("aead-aes-128-gcm", RR_SRTP_PROFILE_AEAD_AES_128_GCM);
    return g_test_run();
}
