/* rtc/dcep: see dcep.h.
 *
 * DATA_CHANNEL_OPEN (RFC 8832 5.1), network byte order:
 *   u8 type=0x03 | u8 channel type | u16 priority | u32 reliability parameter |
 *   u16 label length | u16 protocol length | label | protocol
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/dcep.h"
#include "rtc/rtc-error.h"

#include <string.h>

#define OPEN_HEADER 12

gboolean rr_dcep_channel_type_valid(guint8 type)
{
    switch (type) {
    case RR_DCEP_CHANNEL_RELIABLE:
    case RR_DCEP_CHANNEL_RELIABLE_UNORDERED:
    case RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT:
    case RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED:
    case RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED:
    case RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED:
        return TRUE;
    default:
        return FALSE;
    }
}

static void put16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static guint16 get16(const guint8 *p)
{
    return (guint16)(p[0] << 8 | p[1]);
}

GBytes *rr_dcep_encode_open(const RrDcepOpen *open, GError **error)
{
    const char *label = open->label ? open->label : "";
    const char *protocol = open->protocol ? open->protocol : "";
    gsize llen = strlen(label), plen = strlen(protocol);
    if (!rr_dcep_channel_type_valid((guint8)open->channel_type)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "unknown data channel type 0x%02x", (guint)open->channel_type);
        return NULL;
    }
    if (llen > G_MAXUINT16 || plen > G_MAXUINT16) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "data channel label or protocol longer than 65535 bytes");
        return NULL;
    }
    gsize len = OPEN_HEADER + llen + plen;
    guint8 *m = g_malloc(len);
    m[0] = RR_DCEP_MESSAGE_OPEN;
    m[1] = (guint8)open->channel_type;
    put16(m + 2, open->priority);
    m[4] = (guint8)(open->reliability_param >> 24);
    m[5] = (guint8)(open->reliability_param >> 16);
    m[6] = (guint8)(open->reliability_param >> 8);
    m[7] = (guint8)open->reliability_param;
    put16(m + 8, (guint16)llen);
    put16(m + 10, (guint16)plen);
    memcpy(m + OPEN_HEADER, label, llen);
    memcpy(m + OPEN_HEADER + llen, protocol, plen);
    return g_bytes_new_take(m, len);
}

GBytes *rr_dcep_encode_ack(void)
{
    static const guint8 ack = RR_DCEP_MESSAGE_ACK;
    return g_bytes_new_static(&ack, 1);
}

static char *take_string(const guint8 *p, gsize len, const char *what, GError **error)
{
    if (memchr(p, 0, len) || !g_utf8_validate_len((const char *)p, len, NULL)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "DATA_CHANNEL_OPEN %s is not valid UTF-8", what);
        return NULL;
    }
    return g_strndup((const char *)p, len);
}

RrDcepMessageType rr_dcep_parse(const guint8 *data, gsize len, RrDcepOpen *open, GError **error)
{
    if (open)
        memset(open, 0, sizeof *open);
    if (!data || len == 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "empty DCEP message");
        return 0;
    }
    if (data[0] == RR_DCEP_MESSAGE_ACK) {
        if (len != 1) {
            g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                        "DATA_CHANNEL_ACK of %" G_GSIZE_FORMAT " bytes (must be 1)", len);
            return 0;
        }
        return RR_DCEP_MESSAGE_ACK;
    }
    if (data[0] != RR_DCEP_MESSAGE_OPEN) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "unknown DCEP message type 0x%02x", data[0]);
        return 0;
    }
    if (len < OPEN_HEADER) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "DATA_CHANNEL_OPEN truncated (%" G_GSIZE_FORMAT " bytes)", len);
        return 0;
    }
    if (!rr_dcep_channel_type_valid(data[1])) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "DATA_CHANNEL_OPEN with unknown channel type 0x%02x", data[1]);
        return 0;
    }
    gsize llen = get16(data + 8), plen = get16(data + 10);
    if (len - OPEN_HEADER != llen + plen) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "DATA_CHANNEL_OPEN lengths (label %" G_GSIZE_FORMAT
                    ", protocol %" G_GSIZE_FORMAT ") do not match its size %" G_GSIZE_FORMAT,
                    llen, plen, len);
        return 0;
    }
    g_autofree char *label = take_string(data + OPEN_HEADER, llen, "label", error);
    if (!label)
        return 0;
    g_autofree char *protocol = take_string(data + OPEN_HEADER + llen, plen, "protocol", error);
    if (!protocol)
        return 0;
    if (open) {
        open->channel_type = (RrDcepChannelType)data[1];
        open->priority = get16(data + 2);
        open->reliability_param =
            (guint32)data[4] << 24 | (guint32)data[5] << 16 | (guint32)data[6] << 8 | data[7];
        open->label = g_steal_pointer(&label);
        open->protocol = g_steal_pointer(&protocol);
    }
    return RR_DCEP_MESSAGE_OPEN;
}

void rr_dcep_open_clear(RrDcepOpen *open)
{
    if (!open)
        return;
    g_free(open->label);
    g_free(open->protocol);
    memset(open, 0, sizeof *open);
}
