/* rtc/srtp: see srtp.h. */
#define G_LOG_DOMAIN "rtc"

#include "rtc/srtp.h"
#include "rtc/rtc-error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/srtp.h>
#include <stdatomic.h>
#include <string.h>

#define REPLAY_WINDOW   1024
#define REPLAY_WORDS    (REPLAY_WINDOW / 64)
#define RTP_HEADER_LEN  12
#define CM_KEY_LEN      16 /* AES-128 session key, both profiles */
#define CM_AUTH_KEY_LEN 20 /* HMAC-SHA1 session key */
#define CM_SALT_LEN     14
#define CM_TAG_LEN      10 /* HMAC-SHA1-80 */
#define GCM_SALT_LEN    12
#define GCM_TAG_LEN     16
#define SHA1_LEN        20
#define MAX_INDEX       G_GUINT64_CONSTANT(0xffffffffffff) /* 48-bit packet index */
#define MAX_STREAMS     4096
/* AES-CM's block counter is 16 bits (RFC 3711 4.1.1): at most 2^16 blocks per packet. */
#define MAX_PAYLOAD (65536u * 16u)

/* Receive state of one SSRC (RFC 3711 3.3.1, 3.3.2). */
typedef struct {
    guint64 highest; /* highest authenticated packet index, ROC << 16 | SEQ */
    /* Bit (i % REPLAY_WINDOW) is set when index i, highest - REPLAY_WINDOW < i <= highest,
     * was received. */
    guint64 seen[REPLAY_WORDS];
} RxStream;

struct RrSrtpSession {
    srtp_t rx; /* inbound SRTCP, any SSRC (inbound SRTP is ours, below) */
    srtp_t tx; /* outbound SRTCP (and SRTP), any SSRC */
    RrSrtpProfile profile;
    /* Inbound SRTP on OpenSSL: contexts keyed once with the session keys, only the IV is
     * set per packet. */
    EVP_CIPHER_CTX *rx_cipher;   /* AES-128-CTR or AES-128-GCM */
    EVP_MAC_CTX *rx_mac;         /* HMAC-SHA1 (AES-CM only) */
    guint8 rx_salt[CM_SALT_LEN]; /* session salt; the first 12 bytes for GCM */
    GHashTable *rx_streams;      /* SSRC -> RxStream */
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

/* The SRTP key derivation of RFC 3711 4.3.1 and 4.3.3 with key_derivation_rate 0: the
 * AES-CM keystream under the master key with IV (master_salt XOR label << 48) * 2^16.
 * The PRF takes a 112-bit salt; a 12-byte GCM master salt is zero-padded on the right
 * to 14 bytes, as libsrtp does (RFC 7714 keeps the AES-CM PRF for AEAD). */
static gboolean derive(const guint8 *master_key, const guint8 *master_salt, guint salt_len,
                       guint8 label, guint8 *out, gsize out_len)
{
    guint8 iv[16] = {0};
    memcpy(iv, master_salt, salt_len);
    iv[7] ^= label;
    memset(out, 0, out_len);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    gboolean ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, master_key, iv) == 1 &&
                  EVP_EncryptUpdate(ctx, out, &n, out, (int)out_len) == 1 &&
                  EVP_EncryptFinal_ex(ctx, out + n, &fin) == 1 && (gsize)(n + fin) == out_len;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(iv, sizeof iv);
    return ok;
}

/* The inbound SRTP contexts from the master @key and @salt. */
static gboolean make_rx(RrSrtpSession *s, const guint8 *key, const guint8 *salt, guint salt_len,
                        GError **error)
{
    gboolean gcm = s->profile == RR_SRTP_PROFILE_AEAD_AES_128_GCM;
    guint8 ckey[CM_KEY_LEN], akey[CM_AUTH_KEY_LEN];
    gboolean ok = derive(key, salt, salt_len, 0x00, ckey, sizeof ckey) &&
                  derive(key, salt, salt_len, 0x02, s->rx_salt, gcm ? GCM_SALT_LEN : CM_SALT_LEN);
    if (ok && !gcm)
        ok = derive(key, salt, salt_len, 0x01, akey, sizeof akey);
    s->rx_cipher = EVP_CIPHER_CTX_new();
    ok = ok && s->rx_cipher &&
         EVP_DecryptInit_ex(s->rx_cipher, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL, ckey,
                            NULL) == 1;
    if (ok && !gcm) {
        EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        s->rx_mac = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
        EVP_MAC_free(hmac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
            OSSL_PARAM_construct_end(),
        };
        ok = s->rx_mac && EVP_MAC_init(s->rx_mac, akey, sizeof akey, params) == 1 &&
             EVP_MAC_CTX_get_mac_size(s->rx_mac) == SHA1_LEN;
    }
    OPENSSL_cleanse(ckey, sizeof ckey);
    OPENSSL_cleanse(akey, sizeof akey);
    if (!ok) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP,
                    "cannot create inbound SRTP context for %s (OpenSSL)",
                    rr_srtp_profile_name(s->profile));
        return FALSE;
    }
    s->rx_streams = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
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
    if (!make_rx(s, client ? keys->server_key : keys->client_key,
                 client ? keys->server_salt : keys->client_salt, salt_len, error))
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
    EVP_CIPHER_CTX_free(session->rx_cipher); /* cleanses the key schedule */
    EVP_MAC_CTX_free(session->rx_mac);       /* cleanses the HMAC key */
    OPENSSL_cleanse(session->rx_salt, sizeof session->rx_salt);
    if (session->rx_streams)
        g_hash_table_destroy(session->rx_streams);
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

static gboolean rtp_fail(atomic_uint_fast64_t *counter, const char *kind, guint32 ssrc, guint16 seq,
                         GError **error)
{
    atomic_fetch_add(counter, 1);
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SRTP, "SRTP packet %s (SSRC %08x seq %u)", kind,
                ssrc, seq);
    return FALSE;
}

/* The packet index of @seq relative to the highest index seen (RFC 3711 3.3.1 and
 * appendix A). While the ROC is 0 a guess of ROC - 1 is taken as ROC 0, as libsrtp does;
 * the result can exceed MAX_INDEX when the ROC would wrap. */
static guint64 estimate_index(guint64 highest, guint16 seq)
{
    guint64 roc = highest >> 16;
    guint s_l = (guint)(highest & 0xffff);
    if (s_l < 32768) {
        if (seq > s_l + 32768 && roc > 0)
            roc--;
    } else if (s_l - 32768 > seq) {
        roc++;
    }
    return roc << 16 | seq;
}

static gboolean window_has(const RxStream *st, guint64 index)
{
    guint bit = (guint)(index % REPLAY_WINDOW);
    return (st->seen[bit / 64] >> (bit % 64)) & 1;
}

static void window_set(RxStream *st, guint64 index)
{
    guint bit = (guint)(index % REPLAY_WINDOW);
    st->seen[bit / 64] |= G_GUINT64_CONSTANT(1) << (bit % 64);
}

/* Record an authenticated @index (not a replay): slide the window forward if it is new. */
static void window_add(RxStream *st, guint64 index)
{
    if (index > st->highest) {
        if (index - st->highest >= REPLAY_WINDOW) {
            memset(st->seen, 0, sizeof st->seen);
        } else {
            /* The slots of the indices skipped over now stand for those indices. */
            for (guint64 i = st->highest + 1; i <= index; i++) {
                guint bit = (guint)(i % REPLAY_WINDOW);
                st->seen[bit / 64] &= ~(G_GUINT64_CONSTANT(1) << (bit % 64));
            }
        }
        st->highest = index;
    }
    window_set(st, index);
}

/* AES-128-CM + HMAC-SHA1-80 (RFC 3711 3.3, 4.1.1, 4.2.1): verify the tag over the
 * authenticated portion || ROC, then decrypt the payload in place. */
static gboolean open_aes_cm(RrSrtpSession *s, guint8 *packet, gsize hlen, gsize n, guint32 roc)
{
    gsize auth_len = n - CM_TAG_LEN;
    guint8 roc_be[4] = {(guint8)(roc >> 24), (guint8)(roc >> 16), (guint8)(roc >> 8), (guint8)roc};
    guint8 mac[SHA1_LEN];
    size_t mac_len = 0;
    if (EVP_MAC_init(s->rx_mac, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(s->rx_mac, packet, auth_len) != 1 ||
        EVP_MAC_update(s->rx_mac, roc_be, sizeof roc_be) != 1 ||
        EVP_MAC_final(s->rx_mac, mac, &mac_len, sizeof mac) != 1 || mac_len != SHA1_LEN)
        return FALSE;
    if (CRYPTO_memcmp(mac, packet + auth_len, CM_TAG_LEN) != 0)
        return FALSE;

    /* IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16) */
    guint8 iv[16];
    memcpy(iv, s->rx_salt, CM_SALT_LEN);
    iv[14] = iv[15] = 0;
    for (guint i = 0; i < 4; i++) {
        iv[4 + i] ^= packet[8 + i];
        iv[8 + i] ^= roc_be[i];
    }
    iv[12] ^= packet[2];
    iv[13] ^= packet[3];
    int out = 0;
    gsize plen = auth_len - hlen;
    return EVP_DecryptInit_ex(s->rx_cipher, NULL, NULL, NULL, iv) == 1 &&
           (plen == 0 ||
            EVP_DecryptUpdate(s->rx_cipher, packet + hlen, &out, packet + hlen, (int)plen) == 1);
}

/* AEAD_AES_128_GCM (RFC 7714 8, 9.1): the header is the AAD, a 16-byte tag follows the
 * ciphertext. FALSE if the tag does not verify (the payload is then garbage). */
static gboolean open_gcm(RrSrtpSession *s, guint8 *packet, gsize hlen, gsize n, guint32 roc)
{
    /* IV = (0x0000 || SSRC || ROC || SEQ) XOR salt */
    guint8 iv[GCM_SALT_LEN];
    memcpy(iv, s->rx_salt, GCM_SALT_LEN);
    for (guint i = 0; i < 4; i++)
        iv[2 + i] ^= packet[8 + i];
    iv[6] ^= (guint8)(roc >> 24);
    iv[7] ^= (guint8)(roc >> 16);
    iv[8] ^= (guint8)(roc >> 8);
    iv[9] ^= (guint8)roc;
    iv[10] ^= packet[2];
    iv[11] ^= packet[3];
    gsize plen = n - GCM_TAG_LEN - hlen;
    int out = 0;
    guint8 fin[16];
    return EVP_DecryptInit_ex(s->rx_cipher, NULL, NULL, NULL, iv) == 1 &&
           EVP_DecryptUpdate(s->rx_cipher, NULL, &out, packet, (int)hlen) == 1 &&
           (plen == 0 ||
            EVP_DecryptUpdate(s->rx_cipher, packet + hlen, &out, packet + hlen, (int)plen) == 1) &&
           EVP_CIPHER_CTX_ctrl(s->rx_cipher, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN,
                               packet + n - GCM_TAG_LEN) == 1 &&
           EVP_DecryptFinal_ex(s->rx_cipher, fin, &out) == 1;
}

gboolean rr_srtp_session_unprotect_rtp(RrSrtpSession *session, guint8 *packet, gsize *len,
                                       GError **error)
{
    gsize n = *len;
    gboolean gcm = session->profile == RR_SRTP_PROFILE_AEAD_AES_128_GCM;
    gsize tag_len = gcm ? GCM_TAG_LEN : CM_TAG_LEN;
    if (n < RTP_HEADER_LEN || (packet[0] >> 6) != 2)
        return malformed(session, "SRTP", n, error);
    /* Header: fixed part, CSRCs, extension (RFC 3550 5.1, 5.3.1). */
    gsize hlen = RTP_HEADER_LEN + 4 * (gsize)(packet[0] & 0x0f);
    if (packet[0] & 0x10) {
        if (hlen + 4 > n)
            return malformed(session, "SRTP", n, error);
        hlen += 4 + 4 * (gsize)(packet[hlen + 2] << 8 | packet[hlen + 3]);
    }
    if (hlen + tag_len > n || n - hlen - tag_len > MAX_PAYLOAD)
        return malformed(session, "SRTP", n, error);

    guint16 seq = (guint16)(packet[2] << 8 | packet[3]);
    guint32 ssrc =
        (guint32)packet[8] << 24 | (guint32)packet[9] << 16 | (guint32)packet[10] << 8 | packet[11];
    RxStream *st = g_hash_table_lookup(session->rx_streams, GUINT_TO_POINTER(ssrc));
    guint64 index;
    if (st) {
        index = estimate_index(st->highest, seq);
        if (index > MAX_INDEX)
            return rtp_fail(&session->other_fail, "beyond the last index of the key", ssrc, seq,
                            error);
        if (index <= st->highest && (st->highest - index >= REPLAY_WINDOW || window_has(st, index)))
            return rtp_fail(&session->replay_fail, "replayed or too old", ssrc, seq, error);
    } else {
        /* A new SSRC starts at ROC 0 (its stream exists once a packet authenticated). */
        if (g_hash_table_size(session->rx_streams) >= MAX_STREAMS)
            return rtp_fail(&session->other_fail, "from one SSRC too many", ssrc, seq, error);
        index = seq;
    }
    guint32 roc = (guint32)(index >> 16);
    if (!(gcm ? open_gcm : open_aes_cm)(session, packet, hlen, n, roc))
        return rtp_fail(&session->auth_fail, "authentication failed", ssrc, seq, error);

    if (!st) {
        st = g_new0(RxStream, 1);
        st->highest = index;
        g_hash_table_insert(session->rx_streams, GUINT_TO_POINTER(ssrc), st);
    }
    window_add(st, index);
    *len = n - tag_len;
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
