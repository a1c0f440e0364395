/* rtc/peer: the subscriber peer connection — ICE, DTLS, SRTP and SCTP wired together.
 *
 * One RrPeer is the server-offered subscriber PeerConnection of a LiveKit session. The
 * owner (rtc/session) feeds it the server's offers and trickled candidates and sends
 * what it produces (answers, local candidates) over signalling. Inside, datagrams from
 * ICE are demultiplexed by first byte: DTLS records go to the DTLS client (we are
 * `setup:active`), SCTP rides in DTLS application data (the server's `_reliable` and
 * `_lossy` channels are accepted), SRTP/SRTCP are decrypted with the keys DTLS
 * exported. RTP comes out per m-section choice, RTX already unwrapped into the original
 * packet; RTCP comes out as decrypted compound packets; RTCP going back is encrypted
 * and sent with rr_peer_send_rtcp().
 *
 * Threading: everything runs on the GMainContext passed to rr_peer_new() (the session's);
 * callbacks are invoked there. Packet pointers passed to callbacks are valid only during
 * the call.
 */
#pragma once

#include "rtc/cert.h"
#include "rtc/dtls.h"
#include "rtc/ice.h"
#include "rtc/rtp.h"
#include "rtc/sdp.h"
#include "rtc/srtp.h"

G_BEGIN_DECLS

typedef struct _RrPeer RrPeer;

typedef struct {
    /* A local ICE candidate ("candidate:...") to trickle to the server. */
    void (*local_candidate)(RrPeer *peer, const char *candidate, gpointer user_data);
    /* ICE connected: DTLS starts. */
    void (*ice_connected)(RrPeer *peer, const RrIcePair *pair, gpointer user_data);
    /* DTLS is up and SRTP keys are in place: media flows. */
    void (*connected)(RrPeer *peer, gpointer user_data);
    /* ICE or DTLS failed; the peer is dead. */
    void (*failed)(RrPeer *peer, const GError *error, gpointer user_data);
    /* A data channel the server opened (or that we acknowledged). */
    void (*channel_open)(RrPeer *peer, const char *label, gpointer user_data);
    /* One decrypted RTP packet of the m-section @choice (RTX already unwrapped), with
     * its parsed header. */
    void (*rtp)(RrPeer *peer, const RrSdpChoice *choice, const RrRtpHeader *header,
                const guint8 *packet, gsize len, gpointer user_data);
    /* One decrypted RTCP compound packet. */
    void (*rtcp)(RrPeer *peer, const guint8 *packet, gsize len, gpointer user_data);
} RrPeerCallbacks;

typedef struct {
    guint64 packets_before_dtls; /* media that arrived before keys existed (dropped) */
    guint64 unknown_ssrc;        /* RTP whose SSRC no m-section announces (dropped) */
    guint64 rtx_packets;         /* retransmissions unwrapped */
    guint64 rtx_padding;         /* padding-only RTX probes (dropped) */
    guint64 malformed;           /* neither STUN, DTLS, RTP nor RTCP, or unparsable */
    guint64 ice_restarts;        /* offers that restarted ICE */
    RrSrtpStats srtp;
} RrPeerStats;

/* @ice_config is copied. @cert is referenced. */
RrPeer *rr_peer_new(GMainContext *context, const RrIceConfig *ice_config, RrCert *cert,
                    const RrPeerCallbacks *callbacks, gpointer user_data, GError **error);
void rr_peer_free(RrPeer *peer);

/* The IP the signalling connection reached (for the ICE fallback candidates). */
void rr_peer_set_signalling_address(RrPeer *peer, const char *ip);

/* Apply an offer (first or later) and build the answer. (transfer none) The answer stays
 * valid until the next successful call or rr_peer_free(). */
const RrSdpAnswer *rr_peer_apply_offer(RrPeer *peer, const char *sdp, GError **error);
/* Tell the peer the answer went out (after an ICE restart it trickles its candidates
 * again). */
void rr_peer_answer_sent(RrPeer *peer);
/* A new signalling connection took over (a resume): candidates the server trickles on it
 * belong to its current ICE agent, even when they come before the offer that restarts ICE
 * (see rr_ice_transport_open_candidate_window). */
void rr_peer_signalling_reconnected(RrPeer *peer);
/* The answer currently in force, or NULL. */
const RrSdpAnswer *rr_peer_get_answer(RrPeer *peer);

gboolean rr_peer_add_remote_candidate(RrPeer *peer, const char *candidate, GError **error);
void rr_peer_remote_gathering_done(RrPeer *peer);

/* Encrypt and send one RTCP compound packet. FALSE with @error before DTLS is up. */
gboolean rr_peer_send_rtcp(RrPeer *peer, const guint8 *packet, gsize len, GError **error);

RrIceTransport *rr_peer_get_ice(RrPeer *peer);
RrDtlsState rr_peer_get_dtls_state(RrPeer *peer);
/* (transfer none) e.g. "AEAD_AES_128_GCM", or NULL before DTLS is up. */
const char *rr_peer_get_srtp_profile(RrPeer *peer);
/* (transfer none) labels of the open data channels, NULL-terminated. */
const char *const *rr_peer_get_open_channels(RrPeer *peer);
gboolean rr_peer_get_sctp_up(RrPeer *peer);
void rr_peer_get_stats(RrPeer *peer, RrPeerStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrPeer, rr_peer_free)

G_END_DECLS
