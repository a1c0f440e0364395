/* rtc/srtp: SRTP/SRTCP for one DTLS-SRTP transport.
 *
 * An RrSrtpSession is built from the keys a DTLS handshake exported (RrSrtpKeys, filled
 * by rtc/dtls) and the local DTLS role. As the DTLS client (roomrec's normal role) it
 * decrypts everything the server sends (SRTP and SRTCP, any SSRC) with the *server*
 * key and salt, and protects the RTCP roomrec sends (receiver reports, NACK, PLI) with
 * the *client* key and salt. Supported profiles: SRTP_AES128_CM_SHA1_80 and
 * SRTP_AEAD_AES_128_GCM.
 *
 * Incoming SRTP, the hot path, is roomrec's own RFC 3711 / RFC 7714 code on OpenSSL
 * (cipher and MAC contexts keyed once per session; per SSRC a rollover counter and a
 * 1024-packet replay window; at most 4096 SSRCs, packets of further ones are refused).
 * SRTCP, both ways, is libsrtp2's, initialised once per process on first use.
 *
 * Unprotect failures are counted by kind (authentication, replay, other) and readable
 * with rr_srtp_session_get_stats() from any thread; every other call must come from
 * one thread at a time (the session's GMainContext).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* IANA DTLS-SRTP protection profile ids (RFC 5764, RFC 7714). */
typedef enum {
    RR_SRTP_PROFILE_NONE = 0,
    RR_SRTP_PROFILE_AES128_CM_SHA1_80 = 0x0001,
    RR_SRTP_PROFILE_AEAD_AES_128_GCM = 0x0007,
} RrSrtpProfile;

#define RR_SRTP_MAX_KEY_LEN  32
#define RR_SRTP_MAX_SALT_LEN 14
/* Room a caller must leave after a packet for rr_srtp_session_protect_*() (libsrtp's
 * SRTP_MAX_TRAILER_LEN + 4). */
#define RR_SRTP_MAX_TRAILER 148

/* Keying material of one DTLS-SRTP handshake, split as RFC 5764 4.2 lays it out. */
typedef struct {
    RrSrtpProfile profile;
    guint key_len;  /* 16 for both supported profiles */
    guint salt_len; /* 14 for AES_CM, 12 for AEAD_AES_128_GCM */
    guint8 client_key[RR_SRTP_MAX_KEY_LEN];
    guint8 server_key[RR_SRTP_MAX_KEY_LEN];
    guint8 client_salt[RR_SRTP_MAX_SALT_LEN];
    guint8 server_salt[RR_SRTP_MAX_SALT_LEN];
} RrSrtpKeys;

typedef enum {
    RR_SRTP_ROLE_CLIENT, /* local side was the DTLS client: receive with server keys */
    RR_SRTP_ROLE_SERVER, /* local side was the DTLS server: receive with client keys */
} RrSrtpRole;

typedef struct {
    guint64 rtp_unprotected; /* packets decrypted successfully */
    guint64 rtcp_unprotected;
    guint64 rtcp_protected;
    guint64 auth_fail;   /* authentication tag did not verify */
    guint64 replay_fail; /* replayed or too old for the replay window */
    guint64 other_fail;  /* malformed, unknown stream, cipher error */
} RrSrtpStats;

typedef struct RrSrtpSession RrSrtpSession;

/* Key and salt lengths of @profile; FALSE if the profile is not supported. */
gboolean rr_srtp_profile_lengths(RrSrtpProfile profile, guint *key_len, guint *salt_len);
/* "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM" or "unknown". */
const char *rr_srtp_profile_name(RrSrtpProfile profile);

/* (transfer full) A session for @keys; an error if the profile or lengths are wrong. */
RrSrtpSession *rr_srtp_session_new(const RrSrtpKeys *keys, RrSrtpRole role, GError **error);
void rr_srtp_session_free(RrSrtpSession *session);

/* Decrypt and authenticate one SRTP (or SRTCP) packet in place; on success *@len is
 * the length of the plain packet. A failure is counted and returned as
 * RR_RTC_ERROR_SRTP (authentication, replay, too many SSRCs) or RR_RTC_ERROR_INVALID_INPUT
 * (malformed); the packet must then be dropped (its bytes may have been changed). */
gboolean rr_srtp_session_unprotect_rtp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                       GError **error);
gboolean rr_srtp_session_unprotect_rtcp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                        GError **error);
/* Protect one outgoing RTCP packet in place; @capacity is the size of the buffer, which
 * must have RR_SRTP_MAX_TRAILER bytes of room after *@len. */
gboolean rr_srtp_session_protect_rtcp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                      gsize capacity, GError **error);

/* A snapshot of the counters (thread-safe). */
void rr_srtp_session_get_stats(RrSrtpSession *session, RrSrtpStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrSrtpSession, rr_srtp_session_free)

G_END_DECLS
