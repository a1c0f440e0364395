/* rtc/dtls: the DTLS 1.2 client of a WebRTC transport (DTLS-SRTP and SCTP over DTLS).
 *
 * roomrec answers the server's offer with a=setup:active, so it is always the DTLS
 * client. An RrDtlsClient is transport-agnostic: datagrams to send leave through the
 * send callback, received DTLS records (first byte 20..63) come in through
 * rr_dtls_client_handle_datagram(). It offers the use_srtp profiles
 * SRTP_AEAD_AES_128_GCM and SRTP_AES128_CM_SHA1_80, keeps records under a 1200-byte
 * MTU, retransmits its flights on OpenSSL's DTLS timers, and gives up after an overall
 * handshake deadline (30 s by default).
 *
 * The peer's certificate is self-signed: it is accepted only if its digest equals the
 * fingerprint from the offer's a=fingerprint. On success the connected callback gets
 * the selected SRTP profile and the exported keys (RrSrtpKeys, for rtc/srtp); the client
 * then carries application data (SCTP packets) both ways.
 *
 * Threading: create, use and free a client on one thread, the one running @context;
 * its timers run there and every callback is called from there, never under a lock.
 * A callback may call rr_dtls_client_free() on its own client: the client is then
 * freed when the call that invoked the callback returns, and no further callbacks run.
 */
#pragma once

#include "rtc/cert.h"
#include "rtc/srtp.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrDtlsClient RrDtlsClient;

typedef enum {
    RR_DTLS_STATE_NEW,
    RR_DTLS_STATE_CONNECTING,
    RR_DTLS_STATE_CONNECTED,
    RR_DTLS_STATE_FAILED,
    RR_DTLS_STATE_CLOSED,
} RrDtlsState;

typedef struct {
    /* Required: one datagram to send to the peer (data valid during the call). */
    void (*send)(RrDtlsClient *client, const guint8 *data, gsize len, gpointer user_data);
    /* Handshake done and the peer's fingerprint verified. */
    void (*connected)(RrDtlsClient *client, const RrSrtpKeys *keys, gpointer user_data);
    /* Handshake failure, fingerprint mismatch, timeout, or a fatal alert later on.
     * RR_RTC_ERROR_DTLS, or RR_RTC_ERROR_TIMEOUT for the handshake deadline. */
    void (*failed)(RrDtlsClient *client, const GError *error, gpointer user_data);
    /* The peer sent close_notify. */
    void (*closed)(RrDtlsClient *client, gpointer user_data);
    /* One record of application data from the peer (an SCTP packet). */
    void (*data)(RrDtlsClient *client, const guint8 *data, gsize len, gpointer user_data);
} RrDtlsCallbacks;

#define RR_DTLS_DEFAULT_MTU               1200
#define RR_DTLS_DEFAULT_HANDSHAKE_TIMEOUT 30000 /* ms */

/* (transfer full) A client using @cert (a reference is taken) that accepts only a peer
 * certificate whose @fingerprint_alg ("sha-256", ...) digest is @fingerprint_hex
 * ("AB:CD:.." as in SDP). @callbacks is copied. Errors: unsupported hash, malformed
 * fingerprint, OpenSSL setup failure. */
RrDtlsClient *rr_dtls_client_new(GMainContext *context, RrCert *cert, const char *fingerprint_alg,
                                 const char *fingerprint_hex, const RrDtlsCallbacks *callbacks,
                                 gpointer user_data, GError **error);
void rr_dtls_client_free(RrDtlsClient *client);

/* Before start(): the overall handshake deadline (ms) and the link MTU (bytes). */
void rr_dtls_client_set_handshake_timeout(RrDtlsClient *client, guint timeout_ms);
void rr_dtls_client_set_mtu(RrDtlsClient *client, guint mtu);

/* Send the ClientHello and arm the timers. */
void rr_dtls_client_start(RrDtlsClient *client);

/* Feed one received datagram (one or more DTLS records). Garbage is dropped. */
void rr_dtls_client_handle_datagram(RrDtlsClient *client, const guint8 *data, gsize len);

/* Send application data (one record); only when connected. */
gboolean rr_dtls_client_send(RrDtlsClient *client, const guint8 *data, gsize len, GError **error);

/* Send close_notify (if connected) and stop; no callback follows. */
void rr_dtls_client_close(RrDtlsClient *client);

RrDtlsState rr_dtls_client_get_state(RrDtlsClient *client);
/* (transfer none) "AB:CD:.." of the peer certificate once seen, else NULL. */
const char *rr_dtls_client_get_peer_fingerprint(RrDtlsClient *client);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrDtlsClient, rr_dtls_client_free)

G_END_DECLS
