/* Unit tests for rtc/rtp: header parsing, RTX unwrap and keyframe detection. */
#include "rtc/rtp.h"
#include "rtc/rtc-error.h"

#include <string.h>

static void test_parse_basic(void)
{
    static const guint8 p[] = {0x80, 0xe0, 0x12, 0x34, 0x00, 0x01, 0x00,
                               0x02, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb};
    RrRtpHeader h;
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_rtp_parse(p, sizeof p, &h, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(h.version, ==, 2);
    g_assert_true(h.marker);
    g_assert_cmpuint(h.pt, ==, 96);
    g_assert_cmpuint(h.seq, ==, 0x1234);
    g_assert_cmpuint(h.timestamp, ==, 0x10002);
    g_assert_cmphex(h.ssrc, ==, 0xdeadbeef);
    g_assert_cmpuint(h.header_len, ==, 12);
    g_assert_cmpuint(h.payload_len, ==, 2);
    g_assert_false(h.padding);
    g_assert_false(h.extension);
}

static void test_parse_full(void)
{
    /* 2 CSRCs, a one-byte header extension of 1 word, 3 payload bytes, 2 padding. */
    static const guint8 p[] = {
        0xb2, 0x6f, 0x00, 0x01, 0,    0,    0,    5,    0, 0, 0, 9, /* V=2 P X CC=2, PT 111 */
        0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b,             /* CSRCs */
        0xbe, 0xde, 0x00, 0x01, 0x10, 0x55, 0x00, 0x00,             /* extension */
        0x01, 0x02, 0x03, 0x00, 0x02,                               /* payload + padding */
    };
    RrRtpHeader h;
    g_assert_true(rr_rtp_parse(p, sizeof p, &h, NULL));
    g_assert_cmpuint(h.csrc_count, ==, 2);
    g_assert_cmpuint(h.csrc[1], ==, 0x0b);
    g_assert_true(h.extension);
    g_assert_cmphex(h.ext_profile, ==, 0xbede);
    g_assert_cmpuint(h.ext_offset, ==, 24);
    g_assert_cmpuint(h.ext_len, ==, 4);
    g_assert_cmpuint(h.header_len, ==, 28);
    g_assert_true(h.padding);
    g_assert_cmpuint(h.padding_len, ==, 2);
    g_assert_cmpuint(h.payload_len, ==, 3);
    g_assert_false(h.marker);
    g_assert_cmpuint(h.pt, ==, 111);
}

static void expect_bad(const guint8 *p, gsize len)
{
    RrRtpHeader h;
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_rtp_parse(p, len, &h, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_parse_errors(void)
{
    guint8 p[32] = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    expect_bad(NULL, 0);
    expect_bad(p, 11);
    p[0] = 0x40; /* version 1 */
    expect_bad(p, 12);
    p[0] = 0x8f; /* 15 CSRCs */
    expect_bad(p, 32);
    p[0] = 0x90; /* extension header missing */
    expect_bad(p, 14);
    p[12] = 0xbe, p[13] = 0xde, p[14] = 0x00, p[15] = 0x05; /* 20 bytes claimed */
    expect_bad(p, 20);
    p[0] = 0xa0; /* padding with no room */
    expect_bad(p, 12);
    p[15] = 0; /* last byte 0: padding count 0 */
    expect_bad(p, 16);
    p[15] = 5; /* more padding than payload */
    expect_bad(p, 16);
    p[15] = 4; /* exactly the payload: valid, empty */
    RrRtpHeader h;
    g_assert_true(rr_rtp_parse(p, 16, &h, NULL));
    g_assert_cmpuint(h.payload_len, ==, 0);
}

static void test_rtx_unwrap(void)
{
    /* RTX: SSRC 0x222, PT 97, seq 500, marker, one-byte extension, OSN 0x1234, payload
     * "abc", 3 bytes of padding. */
    static const guint8 rtx[] = {
        0xb0, 0xe1, 0x01, 0xf4, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x22, 0xbe, 0xde,
        0x00, 0x01, 0x22, 0x01, 0x02, 0x03, 0x12, 0x34, 'a',  'b',  'c',  0x00, 0x00, 0x03,
    };
    static const guint8 want[] = {
        0x90, 0xe0, 0x12, 0x34, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x11,
        0xbe, 0xde, 0x00, 0x01, 0x22, 0x01, 0x02, 0x03, 'a',  'b',  'c',
    };
    RrRtpRtxMap map = {.rtx_ssrc = 0x222, .rtx_pt = 97, .primary_ssrc = 0x111, .primary_pt = 96};
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) out = rr_rtp_rtx_unwrap(rtx, sizeof rtx, &map, &error);
    g_assert_no_error(error);
    gsize n;
    const guint8 *d = g_bytes_get_data(out, &n);
    g_assert_cmpmem(d, n, want, sizeof want);
    RrRtpHeader h;
    g_assert_true(rr_rtp_parse(d, n, &h, NULL));
    g_assert_cmpuint(h.seq, ==, 0x1234);
    g_assert_cmpuint(h.payload_len, ==, 3);

    /* Wrong SSRC, wrong PT, padding-only probe. */
    RrRtpRtxMap other = map;
    other.rtx_ssrc = 0x333;
    g_assert_null(rr_rtp_rtx_unwrap(rtx, sizeof rtx, &other, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    other = map;
    other.rtx_pt = 98;
    g_assert_null(rr_rtp_rtx_unwrap(rtx, sizeof rtx, &other, &error));
    g_clear_error(&error);
    static const guint8 probe[] = {0xa0, 0x61, 0, 1, 0, 0, 0, 1, 0, 0, 0x02, 0x22, 0, 0, 0, 4};
    g_assert_null(rr_rtp_rtx_unwrap(probe, sizeof probe, &map, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

typedef struct {
    const char *what;
    guint8 bytes[16];
    gsize len;
    gboolean key;
} KeyCase;

static void run_cases(RrRtpCodec codec, const KeyCase *cases, guint n)
{
    for (guint i = 0; i < n; i++) {
        g_test_message("%s", cases[i].what);
        g_assert_cmpint(rr_rtp_is_keyframe(codec, cases[i].bytes, cases[i].len), ==, cases[i].key);
    }
    g_assert_false(rr_rtp_is_keyframe(codec, NULL, 0));
}

static void test_keyframe_vp8(void)
{
    static const KeyCase cases[] = {
        {"S=1 PID=0, key frame tag", {0x10, 0x50, 0x00, 0x00, 0x9d, 0x01, 0x2a}, 7, TRUE},
        {"S=1 PID=0, inter frame tag", {0x10, 0x51, 0x00, 0x00}, 4, FALSE},
        {"S=0", {0x00, 0x50}, 2, FALSE},
        {"PID=1", {0x11, 0x50}, 2, FALSE},
        {"X, I with 15-bit picture id", {0x90, 0x80, 0x81, 0x23, 0x50}, 5, TRUE},
        {"X, I 7-bit", {0x90, 0x80, 0x05, 0x50}, 4, TRUE},
        {"X, I L T K", {0x90, 0xf0, 0x81, 0x23, 0x07, 0x40, 0x50}, 7, TRUE},
        {"X, I L T K inter", {0x90, 0xf0, 0x81, 0x23, 0x07, 0x40, 0x51}, 7, FALSE},
        {"X, L only", {0x90, 0x40, 0x07, 0x50}, 4, TRUE},
        {"truncated after X", {0x90}, 1, FALSE},
        {"truncated in picture id", {0x90, 0x80, 0x81}, 3, FALSE},
        {"descriptor only", {0x90, 0x80, 0x05}, 3, FALSE},
        {"empty", {0}, 0, FALSE},
    };
    run_cases(RR_RTP_CODEC_VP8, cases, G_N_ELEMENTS(cases));
}

static void test_keyframe_vp9(void)
{
    static const KeyCase cases[] = {
        {"B, P=0, no layers", {0x08, 0x82, 0x49}, 3, TRUE},
        {"I 15-bit, B", {0x88, 0x80, 0x01, 0x82}, 4, TRUE},
        {"P set", {0x48, 0x82}, 2, FALSE},
        {"B clear", {0x80, 0x01, 0x82}, 3, FALSE},
        {"L, non-flexible, SID 0", {0x28, 0x00, 0x00, 0x82}, 4, TRUE},
        {"L, non-flexible, SID 1", {0x28, 0x02, 0x00, 0x82}, 4, FALSE},
        {"L, flexible, SID 0", {0x38, 0x00, 0x82}, 3, TRUE},
        {"I L F B", {0xb8, 0x81, 0x02, 0x00, 0x82}, 5, TRUE},
        {"truncated at layer byte", {0x28}, 1, FALSE},
        {"descriptor only", {0x28, 0x00, 0x00}, 3, FALSE},
        {"truncated picture id", {0x88}, 1, FALSE},
    };
    run_cases(RR_RTP_CODEC_VP9, cases, G_N_ELEMENTS(cases));
}

static void test_keyframe_h264(void)
{
    static const KeyCase cases[] = {
        {"IDR", {0x65, 0x88, 0x84}, 3, TRUE},
        {"SPS", {0x67, 0x42, 0xe0, 0x1f}, 4, TRUE},
        {"PPS", {0x68, 0xce}, 2, FALSE},
        {"non-IDR slice", {0x41, 0x9a}, 2, FALSE},
        {"STAP-A SPS+PPS", {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, 9, TRUE},
        {"STAP-A PPS+IDR", {0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x65, 0x88}, 9, TRUE},
        {"STAP-A non-key", {0x78, 0x00, 0x02, 0x41, 0x9a}, 5, FALSE},
        {"STAP-A size past end", {0x78, 0x00, 0x09, 0x67}, 4, FALSE},
        {"STAP-A zero size", {0x78, 0x00, 0x00, 0x00, 0x01, 0x65}, 6, FALSE},
        {"STAP-A dangling byte", {0x78, 0x00, 0x02, 0x41, 0x9a, 0x00}, 6, FALSE},
        {"FU-A start IDR", {0x7c, 0x85, 0x88}, 3, TRUE},
        {"FU-A middle IDR", {0x7c, 0x05, 0x88}, 3, FALSE},
        {"FU-A end IDR", {0x7c, 0x45, 0x88}, 3, FALSE},
        {"FU-A start non-IDR", {0x5c, 0x81, 0x9a}, 3, FALSE},
        {"FU-A truncated", {0x7c}, 1, FALSE},
        {"FU-B start IDR", {0x7d, 0x85, 0x00, 0x01}, 4, TRUE},
    };
    run_cases(RR_RTP_CODEC_H264, cases, G_N_ELEMENTS(cases));
}

static void test_keyframe_other(void)
{
    static const guint8 av1_new[] = {0x18, 0x0a}, av1_cont[] = {0x10, 0x0a};
    g_assert_true(rr_rtp_is_keyframe(RR_RTP_CODEC_AV1, av1_new, 2));
    g_assert_false(rr_rtp_is_keyframe(RR_RTP_CODEC_AV1, av1_cont, 2));
    g_assert_false(rr_rtp_is_keyframe(RR_RTP_CODEC_OPUS, av1_new, 2));
    g_assert_cmpint(rr_rtp_codec_from_name("vp8"), ==, RR_RTP_CODEC_VP8);
    g_assert_cmpint(rr_rtp_codec_from_name("H264"), ==, RR_RTP_CODEC_H264);
    g_assert_cmpint(rr_rtp_codec_from_name("opus"), ==, RR_RTP_CODEC_OPUS);
    g_assert_cmpint(rr_rtp_codec_from_name("red"), ==, RR_RTP_CODEC_UNKNOWN);
    g_assert_cmpint(rr_rtp_codec_from_name(NULL), ==, RR_RTP_CODEC_UNKNOWN);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/rtp/parse/basic", test_parse_basic);
    g_test_add_func("/rtc/rtp/parse/csrc-ext-padding", test_parse_full);
    g_test_add_func("/rtc/rtp/parse/errors", test_parse_errors);
    g_test_add_func("/rtc/rtp/rtx-unwrap", test_rtx_unwrap);
    g_test_add_func("/rtc/rtp/keyframe/vp8", test_keyframe_vp8);
    g_test_add_func("/rtc/rtp/keyframe/vp9", test_keyframe_vp9);
    g_test_add_func("/rtc/rtp/keyframe/h264", test_keyframe_h264);
    g_test_add_func("/rtc/rtp/keyframe/other", test_keyframe_other);
    return g_test_run();
}
