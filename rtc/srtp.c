/* rtc/srtp: see srtp.h. */
#define G_LOG_DOMAIN "rtc"

#include "rtc/srtp.h"
#include "rtc/rtc-error.h"

#include <srtp2/srtp.h>
#include <stdatomic.h>
#include <string.h>

#define REPLAY_WINDOW 1024

struct RrSrtpSession {
    srtp_t rx; /* inbound SRTP + SRTCP, any SSRC */
    srtp_t tx; /* outbound SRTCP (and SRTP), any SSRC */
    RrSrtpProfile profile;
    atomic_uint_fast64_t rtp_unprotected, rtcp_unprotected, rtcp_protected;
    atomic_uint_fast64_t auth_fail, replay_fail, other_fail;
};

static gboolean srtp_initialised;

static void ensure_srtp_init(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        srtp_err_status_t st = srtp_init();
        srtp_initialised = st == srtp_err_status_ok;
        if (!srtp_initialised)
            g_warning("srtp_init failed (status %d)", st);
        g_once_init_leave(&once, 1);
    }
}

gboolean rr_srtp_profile_lengths(RrSrtpProfile profile, guint *key_len, guint *salt_len)
{
    switch (profile) {
    case RR_SRTP_PROFILE_AES128_CM_SHA1_80:
        *key_len = 16;
        *salt_len = 14;
        return TRUE;
    case RR_SRTP_PROFILE_AEAD_AES_128_GCM:
        *key_len = 16;
        *salt_len = 12;
        return TRUE;
    default:
        return FALSE;
    }
}

const char *rr_srtp_profile_name(RrSrtpProfile profile)
{
    switch (profile) {
    case RR_SRTP_PROFILE_AES128_CM_SHA1_80:
        return "SRTP_AES128_CM_SHA1_80";
    case RR_SRTP_PROFILE_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
    default:
        return "unknown";
    }
}

static gboolean make_stream(srtp_t *out, RrSrtpProfile profile, const guint8 *key,
                            const guint8 *salt, guint key_len, guint salt_len, gboolean inbound,
                            GError **error)
{
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    if (profile == RR_SRTP_PROFILE_AES128_CM_SHA1_80) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    }
    guint8 master[RR_SRTP_MAX_KEY_LEN + RR_SRTP_MAX_SALT_LEN];
    memcpy(master, key, key_len);
    memcpy(master + key_len, salt, salt_len);
    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = master;
    policy.window_size = REPLAY_WINDOW;
    policy.allow_repeat_tx = inbound ? 0 : 1;
    policy.next = NULL;
    srtp_err_status_t st = srtp_create(out, &policy);
    memset(master, 0, sizeof master);
    if (st != srtp_err_status_ok) {
        *out = NULL;
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP,
                    "cannot create %s SRTP context for %s (libsrtp status %d)",
                    inbound ? "inbound" : "outbound", rr_srtp_profile_name(profile), st);
        return FALSE;
    }
    return TRUE;
}

RrSrtpSession *rr_srtp_session_new(const RrSrtpKeys *keys, RrSrtpRole role, GError **error)
{
    g_return_val_if_fail(keys != NULL, NULL);
    ensure_srtp_init();
    if (!srtp_initialised) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP, "libsrtp failed to initialise");
        return NULL;
    }
    guint key_len, salt_len;
    if (!rr_srtp_profile_lengths(keys->profile, &key_len, &salt_len)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_UNSUPPORTED,
                    "unsupported SRTP protection profile 0x%04x", keys->profile);
        return NULL;
    }
    if (keys->key_len != key_len || keys->salt_len != salt_len) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP,
                    "%s needs a %u-byte key and %u-byte salt, got %u and %u",
                    rr_srtp_profile_name(keys->profile), key_len, salt_len, keys->key_len,
                    keys->salt_len);
        return NULL;
    }
    gboolean client = role == RR_SRTP_ROLE_CLIENT;
    g_autoptr(RrSrtpSession) s = g_new0(RrSrtpSession, 1);
    s->profile = keys->profile;
    if (!make_stream(&s->rx, keys->profile, client ? keys->server_key : keys->client_key,
                     client ? keys->server_salt : keys->client_salt, key_len, salt_len, TRUE,
                     error))
        return NULL;
    if (!make_stream(&s->tx, keys->profile, client ? keys->client_key : keys->server_key,
                     client ? keys->client_salt : keys->server_salt, key_len, salt_len, FALSE,
                     error))
        return NULL;
    return g_steal_pointer(&s);
}

void rr_srtp_session_free(RrSrtpSession *session)
{
    if (!session)
        return;
    if (session->rx)
        srtp_dealloc(session->rx);
    if (session->tx)
        srtp_dealloc(session->tx);
    g_free(session);
}

static gboolean fail(RrSrtpSession *s, srtp_err_status_t st, const char *what, GError **error)
{
    const char *kind;
    switch (st) {
    case srtp_err_status_auth_fail:
        atomic_fetch_add(&s->auth_fail, 1);
        kind = "authentication failed";
        break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        atomic_fetch_add(&s->replay_fail, 1);
        kind = "replayed or too old";
        break;
    default:
        atomic_fetch_add(&s->other_fail, 1);
        kind = "rejected";
        break;
    }
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP, "%s %s (libsrtp status %d)", what, kind,
                st);
    return FALSE;
}

static gboolean malformed(RrSrtpSession *s, const char *what, gsize len, GError **error)
{
    atomic_fetch_add(&s->other_fail, 1);
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                "%s packet malformed (%" G_GSIZE_FORMAT " bytes)", what, len);
    return FALSE;
}

gboolean rr_srtp_session_unprotect_rtp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                       GError **error)
{
    if (*len < 12 || *len > G_MAXINT || (packet[0] >> 6) != 2)
        return malformed(session, "SRTP", *len, error);
    int n = (int)*len;
    srtp_err_status_t st = srtp_unprotect(session->rx, packet, &n);
    if (st != srtp_err_status_ok)
        return fail(session, st, "SRTP packet", error);
    *len = (gsize)n;
    atomic_fetch_add(&session->rtp_unprotected, 1);
    return TRUE;
}

gboolean rr_srtp_session_unprotect_rtcp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                        GError **error)
{
    if (*len < 8 || *len > G_MAXINT || (packet[0] >> 6) != 2)
        return malformed(session, "SRTCP", *len, error);
    int n = (int)*len;
    srtp_err_status_t st = srtp_unprotect_rtcp(session->rx, packet, &n);
    if (st != srtp_err_status_ok)
        return fail(session, st, "SRTCP packet", error);
    *len = (gsize)n;
    atomic_fetch_add(&session->rtcp_unprotected, 1);
    return TRUE;
}

gboolean rr_srtp_session_protect_rtcp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                      gsize capacity, GError **error)
{
    if (*len < 8 || (packet[0] >> 6) != 2 || *len > G_MAXINT - RR_SRTP_MAX_TRAILER) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "RTCP packet to protect is malformed (%" G_GSIZE_FORMAT " bytes)", *len);
        return FALSE;
    }
    if (capacity < *len + RR_SRTP_MAX_TRAILER) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_FAILED,
                    "RTCP buffer needs %d bytes of room after the packet", RR_SRTP_MAX_TRAILER);
        return FALSE;
    }
    int n = (int)*len;
    srtp_err_status_t st = srtp_protect_rtcp(session->tx, packet, &n);
    if (st != srtp_err_status_ok) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP,
                    "SRTCP protect failed (libsrtp status %d)", st);
        return FALSE;
    }
    *len = (gsize)n;
    atomic_fetch_add(&session->rtcp_protected, 1);
    return TRUE;
}

void rr_srtp_session_get_stats(RrSrtpSession *session, RrSrtpStats *stats)
{
    stats->rtp_unprotected = atomic_load(&session->rtp_unprotected);
    stats->rtcp_unprotected = atomic_load(&session->rtcp_unprotected);
    stats->rtcp_protected = atomic_load(&session->rtcp_protected);
    stats->auth_fail = atomic_load(&session->auth_fail);
    stats->replay_fail = atomic_load(&session->replay_fail);
    stats->other_fail = atomic_load(&session->other_fail);
}
