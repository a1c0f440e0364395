/* Unit tests for rtc/dcep: DATA_CHANNEL_OPEN/ACK encoding and strict parsing. */
#include "rtc/dcep.h"
#include "rtc/rtc-error.h"

#include <string.h>

/* LiveKit's "_lossy": unordered, max retransmits 0, priority 256 (hand-assembled). */
static const guint8 lossy_open[] = {0x03, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x06, 0x00, 0x00, '_',  'l',  'o',  's',  's',  'y'};

static void test_parse_lossy(void)
{
    g_autoptr(GError) error = NULL;
    RrDcepOpen open;
    g_assert_cmpint(rr_dcep_parse(lossy_open, sizeof lossy_open, &open, &error), ==,
                    RR_DCEP_MESSAGE_OPEN);
    g_assert_no_error(error);
    g_assert_cmpint(open.channel_type, ==, RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED);
    g_assert_false(rr_dcep_channel_type_ordered(open.channel_type));
    g_assert_cmpuint(open.priority, ==, 256);
    g_assert_cmpuint(open.reliability_param, ==, 0);
    g_assert_cmpstr(open.label, ==, "_lossy");
    g_assert_cmpstr(open.protocol, ==, "");
    rr_dcep_open_clear(&open);
    g_assert_null(open.label);
}

static void test_roundtrip(void)
{
    static const RrDcepChannelType types[] = {
        RR_DCEP_CHANNEL_RELIABLE,
        RR_DCEP_CHANNEL_RELIABLE_UNORDERED,
        RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT,
        RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED,
        RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED,
        RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED,
    };
    for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
        RrDcepOpen in = {.channel_type = types[i],
                         .priority = 512,
                         .reliability_param = 0x01020304,
                         .label = "_reliable",
                         .protocol = "ü-proto"};
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) b = rr_dcep_encode_open(&in, &error);
        g_assert_no_error(error);
        gsize len;
        const guint8 *d = g_bytes_get_data(b, &len);
        g_assert_cmpuint(len, ==, 12 + 9 + strlen("ü-proto"));
        g_assert_cmpuint(d[0], ==, 0x03);
        g_assert_cmpuint(d[1], ==, types[i]);
        g_assert_cmpuint(d[4], ==, 1);
        g_assert_cmpuint(d[7], ==, 4);
        RrDcepOpen out;
        g_assert_cmpint(rr_dcep_parse(d, len, &out, &error), ==, RR_DCEP_MESSAGE_OPEN);
        g_assert_cmpint(out.channel_type, ==, types[i]);
        g_assert_cmpuint(out.priority, ==, 512);
        g_assert_cmpuint(out.reliability_param, ==, 0x01020304);
        g_assert_cmpstr(out.label, ==, "_reliable");
        g_assert_cmpstr(out.protocol, ==, "ü-proto");
        g_assert_cmpint(rr_dcep_channel_type_ordered(out.channel_type), ==, !(types[i] & 0x80));
        rr_dcep_open_clear(&out);
    }
    /* NULL label/protocol encode as empty. */
    RrDcepOpen empty = {.channel_type = RR_DCEP_CHANNEL_RELIABLE};
    g_autoptr(GBytes) b = rr_dcep_encode_open(&empty, NULL);
    g_assert_cmpuint(g_bytes_get_size(b), ==, 12);
}

static void test_ack(void)
{
    g_autoptr(GBytes) ack = rr_dcep_encode_ack();
    gsize len;
    const guint8 *d = g_bytes_get_data(ack, &len);
    g_assert_cmpuint(len, ==, 1);
    g_assert_cmpuint(d[0], ==, 0x02);
    g_assert_cmpint(rr_dcep_parse(d, len, NULL, NULL), ==, RR_DCEP_MESSAGE_ACK);
    static const guint8 long_ack[] = {0x02, 0x00};
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(rr_dcep_parse(long_ack, 2, NULL, &error), ==, 0);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void expect_invalid(const guint8 *d, gsize len, const char *what)
{
    g_autoptr(GError) error = NULL;
    RrDcepOpen open;
    g_assert_cmpint(rr_dcep_parse(d, len, &open, &error), ==, 0);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_assert_null(open.label);
    g_test_message("%s: %s", what, error->message);
}

static void test_invalid(void)
{
    guint8 m[sizeof lossy_open + 4];
    expect_invalid(NULL, 0, "empty");
    expect_invalid(lossy_open, 11, "truncated header");
    expect_invalid(lossy_open, sizeof lossy_open - 1, "truncated label");
    memcpy(m, lossy_open, sizeof lossy_open);
    m[sizeof lossy_open] = 'x';
    expect_invalid(m, sizeof lossy_open + 1, "trailing byte");
    memcpy(m, lossy_open, sizeof lossy_open);
    m[1] = 0x03;
    expect_invalid(m, sizeof lossy_open, "unknown channel type");
    m[1] = 0x81;
    m[0] = 0x04;
    expect_invalid(m, sizeof lossy_open, "unknown message type");
    memcpy(m, lossy_open, sizeof lossy_open);
    m[8] = 0xff; /* label length 0xff06 */
    expect_invalid(m, sizeof lossy_open, "label length past the end");
    memcpy(m, lossy_open, sizeof lossy_open);
    m[10] = 0xff;
    m[11] = 0xff; /* protocol length 65535 */
    expect_invalid(m, sizeof lossy_open, "protocol length past the end");
    memcpy(m, lossy_open, sizeof lossy_open);
    m[13] = 0xff; /* not UTF-8 */
    expect_invalid(m, sizeof lossy_open, "label not UTF-8");
    m[13] = 0x00; /* embedded NUL */
    expect_invalid(m, sizeof lossy_open, "label with NUL");

    g_autoptr(GError) error = NULL;
    RrDcepOpen bad = {.channel_type = 0x05, .label = "x"};
    g_assert_null(rr_dcep_encode_open(&bad, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_autofree char *huge = g_strnfill(70000, 'a');
    RrDcepOpen big = {.channel_type = RR_DCEP_CHANNEL_RELIABLE, .label = huge};
    g_assert_null(rr_dcep_encode_open(&big, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/dcep/parse-lossy", test_parse_lossy);
    g_test_add_func("/rtc/dcep/roundtrip", test_roundtrip);
    g_test_add_func("/rtc/dcep/ack", test_ack);
    g_test_add_func("/rtc/dcep/invalid", test_invalid);
    return g_test_run();
}
