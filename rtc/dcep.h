/* rtc/dcep: the WebRTC Data Channel Establishment Protocol (RFC 8832) wire format.
 *
 * Pure functions, no state and no GLib main loop: encode and parse DATA_CHANNEL_OPEN
 * (message type 0x03) and DATA_CHANNEL_ACK (0x02), the messages carried with SCTP PPID
 * 50 that open a data channel. rtc/sctp uses them; anything may call them from any
 * thread. Parsing checks every length against the buffer and rejects unknown message
 * and channel types, trailing bytes and labels/protocols that are not UTF-8.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_DCEP_PPID 50 /* WebRTC DCEP */
/* Payload PPIDs of data channel messages (RFC 8831). */
#define RR_DCEP_PPID_STRING       51
#define RR_DCEP_PPID_BINARY       53
#define RR_DCEP_PPID_STRING_EMPTY 56
#define RR_DCEP_PPID_BINARY_EMPTY 57

typedef enum {
    RR_DCEP_MESSAGE_ACK = 0x02,
    RR_DCEP_MESSAGE_OPEN = 0x03,
} RrDcepMessageType;

typedef enum {
    RR_DCEP_CHANNEL_RELIABLE = 0x00,
    RR_DCEP_CHANNEL_RELIABLE_UNORDERED = 0x80,
    RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT = 0x01,
    RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED = 0x81,
    RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED = 0x02,
    RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED = 0x82,
} RrDcepChannelType;

#define RR_DCEP_CHANNEL_UNORDERED_BIT 0x80

/* The content of a DATA_CHANNEL_OPEN. */
typedef struct {
    RrDcepChannelType channel_type;
    guint16 priority;
    /* max retransmissions (REXMIT) or lifetime in ms (TIMED); ignored when reliable */
    guint32 reliability_param;
    char *label;    /* UTF-8, NUL-terminated, never NULL after a parse */
    char *protocol; /* UTF-8, NUL-terminated, never NULL after a parse */
} RrDcepOpen;

/* TRUE for the six channel types of RFC 8832. */
gboolean rr_dcep_channel_type_valid(guint8 type);
static inline gboolean rr_dcep_channel_type_ordered(RrDcepChannelType type)
{
    return (type & RR_DCEP_CHANNEL_UNORDERED_BIT) == 0;
}

/* (transfer full) The encoded DATA_CHANNEL_OPEN; an error if the type is unknown or the
 * label/protocol are longer than 65535 bytes. NULL label/protocol mean "". */
GBytes *rr_dcep_encode_open(const RrDcepOpen *open, GError **error);
/* (transfer full) The one-byte DATA_CHANNEL_ACK. */
GBytes *rr_dcep_encode_ack(void);

/* Parse one DCEP message. For an OPEN, @open (if not NULL) is filled and must be freed
 * with rr_dcep_open_clear(). Returns the message type, or 0 with
 * RR_RTC_ERROR_INVALID_INPUT. */
RrDcepMessageType rr_dcep_parse(const guint8 *data, gsize len, RrDcepOpen *open, GError **error);

/* Free the strings of @open and zero it. */
void rr_dcep_open_clear(RrDcepOpen *open);

G_END_DECLS
