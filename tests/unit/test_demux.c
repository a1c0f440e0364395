/* Unit tests for rtc/demux: every RFC 7983 / RFC 5761 boundary. */
#include "rtc/demux.h"

static RrDemuxKind classify2(guint8 b0, guint8 b1)
{
    guint8 p[2] = {b0, b1};
    return rr_demux_classify(p, sizeof p);
}

static void test_first_byte_boundaries(void)
{
    static const struct {
        guint8 b;
        RrDemuxKind kind;
    } cases[] = {
        {0, RR_DEMUX_STUN},          {1, RR_DEMUX_STUN},      {3, RR_DEMUX_STUN},
        {4, RR_DEMUX_UNKNOWN},       {19, RR_DEMUX_UNKNOWN},  {20, RR_DEMUX_DTLS},
        {22, RR_DEMUX_DTLS},         {63, RR_DEMUX_DTLS},     {64, RR_DEMUX_TURN_CHANNEL},
        {79, RR_DEMUX_TURN_CHANNEL}, {80, RR_DEMUX_UNKNOWN},  {127, RR_DEMUX_UNKNOWN},
        {128, RR_DEMUX_RTP},         {0x90, RR_DEMUX_RTP},    {191, RR_DEMUX_RTP},
        {192, RR_DEMUX_UNKNOWN},     {255, RR_DEMUX_UNKNOWN},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("first byte %u", cases[i].b);
        g_assert_cmpint(classify2(cases[i].b, 96), ==, cases[i].kind);
    }
    /* Every first byte lands in the documented class. */
    for (guint b = 0; b < 256; b++) {
        RrDemuxKind k = classify2(b, 0);
        RrDemuxKind want = b <= 3                 ? RR_DEMUX_STUN
                           : b >= 20 && b <= 63   ? RR_DEMUX_DTLS
                           : b >= 64 && b <= 79   ? RR_DEMUX_TURN_CHANNEL
                           : b >= 128 && b <= 191 ? RR_DEMUX_RTP
                                                  : RR_DEMUX_UNKNOWN;
        g_assert_cmpint(k, ==, want);
    }
}

static void test_rtp_rtcp(void)
{
    g_assert_cmpint(classify2(0x80, 191), ==, RR_DEMUX_RTP);
    g_assert_cmpint(classify2(0x80, 192), ==, RR_DEMUX_RTCP);
    g_assert_cmpint(classify2(0x80, 200), ==, RR_DEMUX_RTCP); /* SR */
    g_assert_cmpint(classify2(0x81, 201), ==, RR_DEMUX_RTCP); /* RR */
    g_assert_cmpint(classify2(0x8f, 206), ==, RR_DEMUX_RTCP); /* PSFB */
    g_assert_cmpint(classify2(0x80, 223), ==, RR_DEMUX_RTCP);
    g_assert_cmpint(classify2(0x80, 224), ==, RR_DEMUX_RTP);
    g_assert_cmpint(classify2(0x80, 0x60), ==, RR_DEMUX_RTP);  /* PT 96 */
    g_assert_cmpint(classify2(0x80, 0xe0), ==, RR_DEMUX_RTP);  /* PT 96 + marker */
    g_assert_cmpint(classify2(0xbf, 0xc8), ==, RR_DEMUX_RTCP); /* top of range */
}

static void test_short(void)
{
    guint8 one[1] = {0x80};
    g_assert_cmpint(rr_demux_classify(NULL, 0), ==, RR_DEMUX_UNKNOWN);
    g_assert_cmpint(rr_demux_classify(one, 0), ==, RR_DEMUX_UNKNOWN);
    g_assert_cmpint(rr_demux_classify(one, 1), ==, RR_DEMUX_UNKNOWN);
    one[0] = 0x16;
    g_assert_cmpint(rr_demux_classify(one, 1), ==, RR_DEMUX_UNKNOWN);
    g_assert_cmpstr(rr_demux_kind_to_string(RR_DEMUX_RTCP), ==, "rtcp");
    g_assert_cmpstr(rr_demux_kind_to_string(RR_DEMUX_UNKNOWN), ==, "unknown");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/demux/first-byte", test_first_byte_boundaries);
    g_test_add_func("/rtc/demux/rtp-rtcp", test_rtp_rtcp);
    g_test_add_func("/rtc/demux/short", test_short);
    return g_test_run();
}
