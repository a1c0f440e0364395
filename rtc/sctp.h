/* rtc/sctp: an SCTP association carrying WebRTC data channels (RFC 8831/8832), on usrsctp.
 *
 * An RrSctpAssociation is transport-agnostic: SCTP packets to send leave through the send
 * callback (the caller wraps them in DTLS application data) and received DTLS
 * application data is fed in with rr_sctp_association_handle_packet(). It uses usrsctp
 * AF_CONN sockets, port 5000 on both sides by default (the offer's a=sctp-port),
 * 1024 streams each way, stream reset enabled, and packets kept under 1150 bytes.
 *
 * Data channels: the peer opens channels with DATA_CHANNEL_OPEN (rtc/dcep) and the
 * association answers DATA_CHANNEL_ACK on the same stream, then reports
 * channel_opened. A LiveKit server opens "_reliable" and "_lossy" this way; the DTLS
 * client (roomrec) itself uses even stream ids when it opens channels, the DTLS server
 * odd ones. A channel closes by resetting its streams (either side); channel_closed is
 * reported once the peer's side of the stream is reset.
 *
 * Threading: create, use and free an association on the thread running @context; every
 * callback is called there. usrsctp runs its own timer thread: what it produces
 * (packets, messages, notifications) is queued and handed over to @context, never
 * delivered under a lock. A callback may free its own association (it is then freed
 * when the current dispatch returns, and no further callbacks run). usrsctp is
 * initialised with the first association and shut down after the last one.
 */
#pragma once

#include "rtc/dcep.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrSctpAssociation RrSctpAssociation;

#define RR_SCTP_DEFAULT_PORT 5000
#define RR_SCTP_MAX_STREAMS  1024
#define RR_SCTP_MTU          1150
/* Largest incoming message reassembled (the a=max-message-size roomrec advertises). */
#define RR_SCTP_MAX_MESSAGE_SIZE 262144

typedef enum {
    RR_SCTP_ROLE_DTLS_CLIENT, /* even stream ids for channels we open */
    RR_SCTP_ROLE_DTLS_SERVER, /* odd stream ids */
} RrSctpRole;

typedef struct {
    guint16 stream;
    const char *label;
    const char *protocol;
    RrDcepChannelType channel_type;
    gboolean ordered;
    guint32 reliability_param; /* max retransmits (REXMIT) or lifetime ms (TIMED) */
    guint16 priority;
    gboolean locally_opened; /* we sent the OPEN (reported when the ACK arrives) */
} RrSctpChannelInfo;

typedef struct {
    /* Required: one SCTP packet for the peer (data valid during the call). */
    void (*send)(RrSctpAssociation *assoc, const guint8 *packet, gsize len, gpointer user_data);
    void (*up)(RrSctpAssociation *assoc, gpointer user_data);
    /* Association lost, aborted or shut down (RR_RTC_ERROR_SCTP). */
    void (*down)(RrSctpAssociation *assoc, const GError *error, gpointer user_data);
    void (*channel_opened)(RrSctpAssociation *assoc, const RrSctpChannelInfo *channel,
                           gpointer user_data);
    /* One complete message (PPID 51 string, 53 binary; the empty PPIDs 56/57 come with
     * len 0). */
    void (*message)(RrSctpAssociation *assoc, guint16 stream, guint32 ppid, const guint8 *data,
                    gsize len, gpointer user_data);
    void (*channel_closed)(RrSctpAssociation *assoc, guint16 stream, gpointer user_data);
} RrSctpCallbacks;

/* (transfer full) An association (not yet connecting). @callbacks is copied. */
RrSctpAssociation *rr_sctp_association_new(GMainContext *context, RrSctpRole role,
                                           guint16 local_port, guint16 remote_port,
                                           const RrSctpCallbacks *callbacks, gpointer user_data,
                                           GError **error);
void rr_sctp_association_free(RrSctpAssociation *assoc);

/* Start the association (send INIT); call once DTLS is connected. Both WebRTC peers
 * do this; usrsctp resolves the INIT collision. */
gboolean rr_sctp_association_connect(RrSctpAssociation *assoc, GError **error);

/* Feed one SCTP packet received from the peer (DTLS application data). Packets that
 * arrive before rr_sctp_association_connect() (a fast peer's INIT) are kept (up to 16)
 * and fed in by it. */
void rr_sctp_association_handle_packet(RrSctpAssociation *assoc, const guint8 *data, gsize len);

gboolean rr_sctp_association_is_up(RrSctpAssociation *assoc);

/* Open a channel: send DATA_CHANNEL_OPEN for @open on the lowest free stream id of our
 * parity (returned in @stream). channel_opened is reported when the ACK arrives; data
 * may be sent at once. */
gboolean rr_sctp_association_open_channel(RrSctpAssociation *assoc, const RrDcepOpen *open,
                                          guint16 *stream, GError **error);

/* Send one message on an open channel with its reliability; len 0 is sent as the empty
 * PPID (56/57). Fails (RR_RTC_ERROR_SCTP) when not up, the stream is not open, or the
 * send buffer is full. */
gboolean rr_sctp_association_send(RrSctpAssociation *assoc, guint16 stream, guint32 ppid,
                                  const guint8 *data, gsize len, GError **error);

/* Close a channel by resetting our outgoing stream. */
gboolean rr_sctp_association_close_channel(RrSctpAssociation *assoc, guint16 stream,
                                           GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrSctpAssociation, rr_sctp_association_free)

G_END_DECLS
