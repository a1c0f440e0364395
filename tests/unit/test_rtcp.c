/* Unit tests for rtc/rtcp: byte vectors written out from RFC 3550/4585/5104, build ->
 * parse round trips, NACK packing and malformed packets. */
#include "rtc/rtcp.h"
#include "rtc/rtc-error.h"

#include <string.h>

#define SENDER 0x11223344u
#define MEDIA  0x55667788u

static void assert_bytes(GByteArray *got, const guint8 *want, gsize n)
{
    g_assert_cmpmem(got->data, got->len, want, n);
}

static void assert_block_eq(const RrRtcpReportBlock *a, const RrRtcpReportBlock *b)
{
    g_assert_cmphex(a->ssrc, ==, b->ssrc);
    g_assert_cmpuint(a->fraction_lost, ==, b->fraction_lost);
    g_assert_cmpint(a->cumulative_lost, ==, b->cumulative_lost);
    g_assert_cmpuint(a->ext_highest_seq, ==, b->ext_highest_seq);
    g_assert_cmpuint(a->jitter, ==, b->jitter);
    g_assert_cmpuint(a->lsr, ==, b->lsr);
    g_assert_cmpuint(a->dlsr, ==, b->dlsr);
}

static RrRtcpPacket only_packet(const guint8 *data, gsize len)
{
    RrRtcpIter it;
    RrRtcpPacket pkt;
    g_autoptr(GError) error = NULL;
    rr_rtcp_iter_init(&it, data, len);
    g_assert_true(rr_rtcp_iter_next(&it, &pkt, &error));
    g_assert_no_error(error);
    RrRtcpPacket next;
    g_assert_false(rr_rtcp_iter_next(&it, &next, &error));
    g_assert_no_error(error);
    return pkt;
}

static void test_pli_vector(void)
{
    /* RFC 4585 §6.1/6.3.1: V=2 P=0 FMT=1, PT=206, length 2, sender, media; no FCI. */
    static const guint8 want[] = {0x81, 0xce, 0x00, 0x02, 0x11, 0x22,
                                  0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    g_autoptr(GByteArray) b = g_byte_array_new();
    rr_rtcp_build_pli(b, SENDER, MEDIA);
    assert_bytes(b, want, sizeof want);
    RrRtcpPacket pkt = only_packet(b->data, b->len);
    RrRtcpFb fb;
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
    g_assert_cmpuint(pkt.type, ==, RR_RTCP_PSFB);
    g_assert_cmpuint(fb.fmt, ==, RR_RTCP_PSFB_PLI);
    g_assert_cmphex(fb.sender_ssrc, ==, SENDER);
    g_assert_cmphex(fb.media_ssrc, ==, MEDIA);
    g_assert_cmpuint(fb.fci_len, ==, 0);
}

static void test_fir_vector(void)
{
    /* RFC 5104 §4.3.1: FMT=4, media source 0, FCI = SSRC, seq nr, 3 reserved bytes. */
    static const guint8 want[] = {0x84, 0xce, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00,
                                  0x00, 0x00, 0x55, 0x66, 0x77, 0x88, 0x07, 0x00, 0x00, 0x00};
    g_autoptr(GByteArray) b = g_byte_array_new();
    rr_rtcp_build_fir(b, SENDER, MEDIA, 7);
    assert_bytes(b, want, sizeof want);
    RrRtcpPacket pkt = only_packet(b->data, b->len);
    RrRtcpFb fb;
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
    g_assert_cmpuint(fb.fmt, ==, RR_RTCP_PSFB_FIR);
    g_assert_cmpuint(rr_rtcp_fir_count(&fb), ==, 1);
    RrRtcpFirEntry e;
    g_assert_true(rr_rtcp_fir_entry(&fb, 0, &e));
    g_assert_cmphex(e.ssrc, ==, MEDIA);
    g_assert_cmpuint(e.seq, ==, 7);
    g_assert_false(rr_rtcp_fir_entry(&fb, 1, &e));
}

static void test_nack_vector(void)
{
    /* RFC 4585 §6.2.1: {100,101,117,200} -> (100, BLP bit0 for 101), (117, 0), (200, 0). */
    static const guint8 want[] = {0x81, 0xcd, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44,
                                  0x55, 0x66, 0x77, 0x88, 0x00, 0x64, 0x00, 0x01,
                                  0x00, 0x75, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00};
    static const guint16 lost[] = {100, 101, 117, 200};
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_assert_cmpuint(rr_rtcp_build_nack(b, SENDER, MEDIA, lost, G_N_ELEMENTS(lost)), ==, 3);
    assert_bytes(b, want, sizeof want);

    RrRtcpPacket pkt = only_packet(b->data, b->len);
    RrRtcpFb fb;
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
    g_assert_cmpuint(pkt.type, ==, RR_RTCP_RTPFB);
    g_assert_cmpuint(fb.fmt, ==, RR_RTCP_RTPFB_NACK);
    g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
    g_assert_true(rr_rtcp_parse_nack(&fb, seqs, NULL));
    g_assert_cmpmem(seqs->data, seqs->len * 2, lost, sizeof lost);
}

static void test_nack_packing(void)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    /* 16 after the PID still fits the bitmask; 17 does not. */
    static const guint16 a[] = {10, 11, 26, 27};
    g_assert_cmpuint(rr_rtcp_build_nack(b, 1, 2, a, 4), ==, 2);
    static const guint8 fci_a[] = {0x00, 0x0a, 0x80, 0x01, 0x00, 0x1b, 0x00, 0x00};
    g_assert_cmpmem(b->data + 12, b->len - 12, fci_a, sizeof fci_a);

    /* Wrap-around: 65535, 0, 1 share one entry. */
    g_byte_array_set_size(b, 0);
    static const guint16 w[] = {65535, 0, 1};
    g_assert_cmpuint(rr_rtcp_build_nack(b, 1, 2, w, 3), ==, 1);
    static const guint8 fci_w[] = {0xff, 0xff, 0x00, 0x03};
    g_assert_cmpmem(b->data + 12, b->len - 12, fci_w, sizeof fci_w);

    /* Duplicates are folded; nothing is built for an empty list. */
    g_byte_array_set_size(b, 0);
    static const guint16 d[] = {5, 5, 6};
    g_assert_cmpuint(rr_rtcp_build_nack(b, 1, 2, d, 3), ==, 1);
    g_byte_array_set_size(b, 0);
    g_assert_cmpuint(rr_rtcp_build_nack(b, 1, 2, d, 0), ==, 0);
    g_assert_cmpuint(b->len, ==, 0);

    /* Many far-apart losses split over several packets of at most 255 entries. */
    guint16 many[600];
    for (guint i = 0; i < G_N_ELEMENTS(many); i++)
        many[i] = i * 20;
    g_assert_cmpuint(rr_rtcp_build_nack(b, 1, 2, many, 600), ==, 600);
    g_assert_true(rr_rtcp_validate(b->data, b->len, NULL));
    RrRtcpIter it;
    RrRtcpPacket pkt;
    g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
    guint packets = 0;
    rr_rtcp_iter_init(&it, b->data, b->len);
    while (rr_rtcp_iter_next(&it, &pkt, NULL)) {
        RrRtcpFb fb;
        g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
        g_assert_true(rr_rtcp_parse_nack(&fb, seqs, NULL));
        packets++;
    }
    g_assert_cmpuint(packets, ==, 3);
    g_assert_cmpmem(seqs->data, seqs->len * 2, many, sizeof many);
}

static void test_rr_vector(void)
{
    static const guint8 want[] = {
        0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, /* RR, RC=1, length 7, sender */
        0x55, 0x66, 0x77, 0x88, 0x40, 0xff, 0xff, 0xff, /* ssrc, fraction, lost -1 */
        0x00, 0x01, 0x00, 0x64, 0x00, 0x00, 0x00, 0x10, /* ext seq, jitter */
        0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x00, 0x00, /* LSR, DLSR */
    };
    RrRtcpReportBlock blk = {MEDIA, 0x40, -1, 0x00010064, 0x10, 0x12345678, 0x10000};
    g_autoptr(GByteArray) b = g_byte_array_new();
    rr_rtcp_build_rr(b, 1, &blk, 1);
    assert_bytes(b, want, sizeof want);
    RrRtcpPacket pkt = only_packet(b->data, b->len);
    RrRtcpRr rr;
    g_assert_true(rr_rtcp_parse_rr(&pkt, &rr, NULL));
    g_assert_cmpuint(rr.ssrc, ==, 1);
    g_assert_cmpuint(rr.n_reports, ==, 1);
    assert_block_eq(&rr.reports[0], &blk);

    /* Cumulative loss is clamped to 24-bit signed; large positives survive. */
    RrRtcpReportBlock big[3] = {{.cumulative_lost = 0x7fffff},
                                {.cumulative_lost = -0x800000},
                                {.cumulative_lost = 100000000}};
    g_byte_array_set_size(b, 0);
    rr_rtcp_build_rr(b, 1, big, 3);
    pkt = only_packet(b->data, b->len);
    g_assert_true(rr_rtcp_parse_rr(&pkt, &rr, NULL));
    g_assert_cmpint(rr.reports[0].cumulative_lost, ==, 0x7fffff);
    g_assert_cmpint(rr.reports[1].cumulative_lost, ==, -0x800000);
    g_assert_cmpint(rr.reports[2].cumulative_lost, ==, 0x7fffff);

    /* An RR without blocks (the recorder sends nothing) is 8 bytes. */
    g_byte_array_set_size(b, 0);
    rr_rtcp_build_rr(b, 9, NULL, 0);
    static const guint8 empty[] = {0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09};
    assert_bytes(b, empty, sizeof empty);
}

typedef struct {
    guint32 ssrc;
    char *cname;
    guint items;
} SdesSeen;

static void on_sdes(guint32 ssrc, guint8 item, const guint8 *value, gsize len, gpointer data)
{
    SdesSeen *s = data;
    s->items++;
    if (item == RR_RTCP_SDES_CNAME) {
        s->ssrc = ssrc;
        g_free(s->cname);
        s->cname = g_strndup((const char *)value, len);
    }
}

static void test_sdes_vector(void)
{
    static const guint8 want[] = {0x81, 0xca, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                                  0x01, 0x02, 0x61, 0x62, 0x00, 0x00, 0x00, 0x00};
    g_autoptr(GByteArray) b = g_byte_array_new();
    rr_rtcp_build_sdes_cname(b, 1, "ab");
    assert_bytes(b, want, sizeof want);
    /* Every CNAME length pads correctly and parses back. */
    for (guint n = 0; n < 12; n++) {
        g_autofree char *cname = g_strnfill(n, 'x');
        g_byte_array_set_size(b, 0);
        rr_rtcp_build_sdes_cname(b, 0xabcdef01, cname);
        g_assert_cmpuint(b->len % 4, ==, 0);
        RrRtcpPacket pkt = only_packet(b->data, b->len);
        SdesSeen seen = {0};
        g_assert_true(rr_rtcp_parse_sdes(&pkt, on_sdes, &seen, NULL));
        g_assert_cmpuint(seen.items, ==, 1);
        g_assert_cmphex(seen.ssrc, ==, 0xabcdef01);
        g_assert_cmpstr(seen.cname, ==, cname);
        g_free(seen.cname);
    }
}

static void test_remb(void)
{
    static const guint8 want[] = {0x8f, 0xce, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44,
                                  0x00, 0x00, 0x00, 0x00, 'R',  'E',  'M',  'B',
                                  0x01, 0x0b, 0xd0, 0x90, 0x55, 0x66, 0x77, 0x88};
    guint32 ssrc = MEDIA;
    g_autoptr(GByteArray) b = g_byte_array_new();
    rr_rtcp_build_remb(b, SENDER, 1000000, &ssrc, 1);
    assert_bytes(b, want, sizeof want);
    RrRtcpPacket pkt = only_packet(b->data, b->len);
    RrRtcpFb fb;
    RrRtcpRemb remb;
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
    g_assert_cmpuint(fb.fmt, ==, RR_RTCP_PSFB_AFB);
    g_assert_true(rr_rtcp_parse_remb(&fb, &remb, NULL));
    g_assert_cmpuint(remb.bitrate, ==, 1000000);
    g_assert_cmpuint(remb.n_ssrcs, ==, 1);
    g_assert_cmphex(remb.ssrcs[0], ==, MEDIA);
}

static void test_sr_parse(void)
{
    static const guint8 sr[] = {
        0x81, 0xc8, 0x00, 0x0c, 0xde, 0xad, 0xbe, 0xef, /* SR, RC=1, length 12, ssrc */
        0xe8, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, /* NTP 0xe8000001.80000000 */
        0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x64, /* RTP ts 123456, 100 packets */
        0x00, 0x00, 0x27, 0x10,                         /* 10000 octets */
        0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x05, /* block: ssrc 1, 1/16, lost 5 */
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, /* ext seq 256, jitter 2 */
        0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, /* LSR 3, DLSR 4 */
    };
    RrRtcpPacket pkt = only_packet(sr, sizeof sr);
    RrRtcpSr s;
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_rtcp_parse_sr(&pkt, &s, &error));
    g_assert_cmphex(s.ssrc, ==, 0xdeadbeef);
    g_assert_cmphex(s.ntp, ==, G_GUINT64_CONSTANT(0xe800000180000000));
    g_assert_cmpuint(s.rtp_ts, ==, 123456);
    g_assert_cmpuint(s.packet_count, ==, 100);
    g_assert_cmpuint(s.octet_count, ==, 10000);
    g_assert_cmpuint(s.n_reports, ==, 1);
    g_assert_cmpuint(s.reports[0].fraction_lost, ==, 0x10);
    g_assert_cmpint(s.reports[0].cumulative_lost, ==, 5);
    g_assert_cmpuint(s.reports[0].dlsr, ==, 4);
    /* Wrong type for the typed parser. */
    RrRtcpRr rr;
    g_assert_false(rr_rtcp_parse_rr(&pkt, &rr, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_other_types(void)
{
    static const guint8 compound[] = {
        /* BYE, SC=1, with reason "bye" */
        0x81,
        0xcb,
        0x00,
        0x02,
        0x00,
        0x00,
        0x00,
        0x07,
        0x03,
        'b',
        'y',
        'e',
        /* APP subtype 2, name "LKIT", 4 data bytes */
        0x82,
        0xcc,
        0x00,
        0x03,
        0x00,
        0x00,
        0x00,
        0x07,
        'L',
        'K',
        'I',
        'T',
        1,
        2,
        3,
        4,
        /* XR with one DLRR-like block of 1 word */
        0x80,
        0xcf,
        0x00,
        0x03,
        0x00,
        0x00,
        0x00,
        0x07,
        0x05,
        0x00,
        0x00,
        0x01,
        9,
        9,
        9,
        9,
        /* TWCC (RTPFB FMT 15) with 8 bytes of FCI, padded by 4 (P bit) */
        0xaf,
        0xcd,
        0x00,
        0x04,
        0x00,
        0x00,
        0x00,
        0x07,
        0x55,
        0x66,
        0x77,
        0x88,
        0x00,
        0x01,
        0x00,
        0x01,
        0x00,
        0x00,
        0x00,
        0x04,
    };
    RrRtcpIter it;
    RrRtcpPacket pkt;
    g_autoptr(GError) error = NULL;
    rr_rtcp_iter_init(&it, compound, sizeof compound);

    g_assert_true(rr_rtcp_iter_next(&it, &pkt, &error));
    RrRtcpBye bye;
    g_assert_true(rr_rtcp_parse_bye(&pkt, &bye, &error));
    g_assert_cmpuint(bye.n_ssrcs, ==, 1);
    g_assert_cmpuint(bye.ssrcs[0], ==, 7);
    g_assert_cmpmem(bye.reason, bye.reason_len, "bye", 3);

    g_assert_true(rr_rtcp_iter_next(&it, &pkt, &error));
    RrRtcpApp app;
    g_assert_true(rr_rtcp_parse_app(&pkt, &app, &error));
    g_assert_cmpuint(app.subtype, ==, 2);
    g_assert_cmpstr(app.name, ==, "LKIT");
    g_assert_cmpuint(app.len, ==, 4);

    g_assert_true(rr_rtcp_iter_next(&it, &pkt, &error));
    guint32 ssrc = 0;
    g_assert_true(rr_rtcp_parse_xr(&pkt, &ssrc, &error));
    g_assert_cmpuint(ssrc, ==, 7);

    g_assert_true(rr_rtcp_iter_next(&it, &pkt, &error));
    RrRtcpFb fb;
    g_assert_true(pkt.padding);
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, &error));
    g_assert_cmpuint(fb.fmt, ==, RR_RTCP_RTPFB_TWCC);
    g_assert_cmpuint(fb.fci_len, ==, 4);

    g_assert_false(rr_rtcp_iter_next(&it, &pkt, &error));
    g_assert_no_error(error);
}

static void test_compound_round_trip(void)
{
    RrRtcpReportBlock blocks[2] = {{MEDIA, 12, 34, 5678, 90, 1, 2}, {0x9999, 0, 0, 1, 0, 0, 0}};
    g_autoptr(GByteArray) b = g_byte_array_new();
    rr_rtcp_build_compound(b, SENDER, blocks, 2, "roomrec-EG_123");
    rr_rtcp_build_pli(b, SENDER, MEDIA);
    static const guint16 lost[] = {7, 9};
    rr_rtcp_build_nack(b, SENDER, MEDIA, lost, 2);
    rr_rtcp_build_fir(b, SENDER, MEDIA, 1);
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_rtcp_validate(b->data, b->len, &error));
    g_assert_no_error(error);

    static const guint8 types[] = {RR_RTCP_RR, RR_RTCP_SDES, RR_RTCP_PSFB, RR_RTCP_RTPFB,
                                   RR_RTCP_PSFB};
    RrRtcpIter it;
    RrRtcpPacket pkt;
    guint n = 0;
    rr_rtcp_iter_init(&it, b->data, b->len);
    while (rr_rtcp_iter_next(&it, &pkt, &error)) {
        g_assert_cmpuint(n, <, G_N_ELEMENTS(types));
        g_assert_cmpuint(pkt.type, ==, types[n]);
        if (pkt.type == RR_RTCP_RR) {
            RrRtcpRr rr;
            g_assert_true(rr_rtcp_parse_rr(&pkt, &rr, &error));
            g_assert_cmpuint(rr.n_reports, ==, 2);
            assert_block_eq(&rr.reports[0], &blocks[0]);
            assert_block_eq(&rr.reports[1], &blocks[1]);
        } else if (pkt.type == RR_RTCP_SDES) {
            SdesSeen seen = {0};
            g_assert_true(rr_rtcp_parse_sdes(&pkt, on_sdes, &seen, &error));
            g_assert_cmpstr(seen.cname, ==, "roomrec-EG_123");
            g_free(seen.cname);
        }
        n++;
    }
    g_assert_no_error(error);
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(types));
}

static void expect_invalid(const guint8 *data, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_rtcp_validate(data, len, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_malformed(void)
{
    static const guint8 pli[] = {0x81, 0xce, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8};
    guint8 buf[64];

    expect_invalid(NULL, 0);
    expect_invalid(pli, 0);
    expect_invalid(pli, 3);  /* truncated header */
    expect_invalid(pli, 11); /* length past the end */
    memcpy(buf, pli, sizeof pli);
    buf[0] = 0x41; /* version 1 */
    expect_invalid(buf, sizeof pli);
    memcpy(buf, pli, sizeof pli);
    buf[1] = 100; /* not an RTCP type */
    expect_invalid(buf, sizeof pli);
    memcpy(buf, pli, sizeof pli);
    buf[3] = 0x00; /* length 0: 4 bytes, too short for feedback */
    expect_invalid(buf, sizeof pli);
    memcpy(buf, pli, sizeof pli);
    buf[0] |= 0x20; /* padding bit, last byte 8 <= 8: valid body of 0 -> too short */
    expect_invalid(buf, sizeof pli);
    buf[11] = 0; /* padding count 0 */
    expect_invalid(buf, sizeof pli);
    buf[11] = 200; /* padding count past the body */
    expect_invalid(buf, sizeof pli);
    /* A good packet followed by garbage. */
    memcpy(buf, pli, sizeof pli);
    buf[12] = 0x80;
    expect_invalid(buf, sizeof pli + 1);

    /* RR claiming 2 blocks but carrying 1; SR without its sender info. */
    static const guint8 rr[] = {0x82, 0xc9, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0,
                                0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_invalid(rr, sizeof rr);
    static const guint8 sr[] = {0x80, 0xc8, 0x00, 0x01, 0, 0, 0, 1};
    expect_invalid(sr, sizeof sr);
    static const guint8 bye[] = {0x82, 0xcb, 0x00, 0x01, 0, 0, 0, 1};
    expect_invalid(bye, sizeof bye);

    /* Structurally valid packets whose contents are bad. */
    g_autoptr(GError) error = NULL;
    static const guint8 bye_reason[] = {0x81, 0xcb, 0x00, 0x02, 0, 0, 0, 7, 0x09, 'b', 'y', 'e'};
    RrRtcpPacket pkt = only_packet(bye_reason, sizeof bye_reason);
    RrRtcpBye b;
    g_assert_false(rr_rtcp_parse_bye(&pkt, &b, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);

    static const guint8 sdes_noend[] = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
    pkt = only_packet(sdes_noend, sizeof sdes_noend);
    g_assert_false(rr_rtcp_parse_sdes(&pkt, NULL, NULL, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    static const guint8 sdes_long[] = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 'a', 'b'};
    pkt = only_packet(sdes_long, sizeof sdes_long);
    g_assert_false(rr_rtcp_parse_sdes(&pkt, NULL, NULL, &error));
    g_clear_error(&error);
    static const guint8 sdes_two[] = {0x82, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x00, 0x00, 0, 0};
    pkt = only_packet(sdes_two, sizeof sdes_two);
    g_assert_false(rr_rtcp_parse_sdes(&pkt, NULL, NULL, &error));
    g_clear_error(&error);

    static const guint8 xr[] = {0x80, 0xcf, 0x00, 0x02, 0, 0, 0, 1, 0x04, 0x00, 0x00, 0x05};
    pkt = only_packet(xr, sizeof xr);
    guint32 ssrc;
    g_assert_false(rr_rtcp_parse_xr(&pkt, &ssrc, &error));
    g_clear_error(&error);

    RrRtcpFb fb;
    pkt = only_packet(pli, sizeof pli);
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
    g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
    g_assert_false(rr_rtcp_parse_nack(&fb, seqs, &error)); /* no FCI */
    g_clear_error(&error);
    RrRtcpRemb remb;
    g_assert_false(rr_rtcp_parse_remb(&fb, &remb, &error));
    g_clear_error(&error);
    static const guint8 remb_many[] = {0x8f, 0xce, 0x00, 0x04, 0,   0,   0, 1, 0, 0,
                                       0,    0,    'R',  'E',  'M', 'B', 9, 0, 0, 1};
    pkt = only_packet(remb_many, sizeof remb_many);
    g_assert_true(rr_rtcp_parse_fb(&pkt, &fb, NULL));
    g_assert_false(rr_rtcp_parse_remb(&fb, &remb, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/rtcp/vector/pli", test_pli_vector);
    g_test_add_func("/rtc/rtcp/vector/fir", test_fir_vector);
    g_test_add_func("/rtc/rtcp/vector/nack", test_nack_vector);
    g_test_add_func("/rtc/rtcp/vector/rr", test_rr_vector);
    g_test_add_func("/rtc/rtcp/vector/sdes", test_sdes_vector);
    g_test_add_func("/rtc/rtcp/vector/remb", test_remb);
    g_test_add_func("/rtc/rtcp/nack-packing", test_nack_packing);
    g_test_add_func("/rtc/rtcp/parse/sr", test_sr_parse);
    g_test_add_func("/rtc/rtcp/parse/other-types", test_other_types);
    g_test_add_func("/rtc/rtcp/compound", test_compound_round_trip);
    g_test_add_func("/rtc/rtcp/malformed", test_malformed);
    return g_test_run();
}
