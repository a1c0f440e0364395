/* rtc/dtls: see dtls.h.
 *
 * OpenSSL talks to a small datagram BIO of our own: a write queues one datagram (so a
 * flight of several records keeps its datagram boundaries), a read hands over the one
 * datagram being fed in. Queued datagrams are sent through the callback only after the
 * OpenSSL call returns, so callbacks never run inside OpenSSL.
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/dtls.h"
#include "rtc/rtc-error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define CIPHERS                                                                                    \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"       \
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA"
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"

struct RrDtlsClient {
    GMainContext *context;
    RrCert *cert;
    RrDtlsCallbacks cb;
    gpointer user_data;
    SSL_CTX *ctx;
    SSL *ssl;
    RrDtlsState state;
    guint mtu;
    guint handshake_timeout_ms;
    GSource *retransmit;
    GSource *deadline;

    const EVP_MD *md;
    char *fp_alg;
    guint8 expected[EVP_MAX_MD_SIZE];
    gsize expected_len;
    char *expected_hex;
    char *peer_fp;     /* fingerprint of the peer certificate, once seen */
    gboolean mismatch; /* the verify callback rejected the peer certificate */

    /* datagram BIO */
    const guint8 *in;
    gsize in_len;
    GPtrArray *out; /* GBytes */

    guint depth;    /* nesting of entry points */
    gboolean freed; /* rr_dtls_client_free() called while depth > 0 */
};

/* ---- datagram BIO ---- */

static int bio_write(BIO *b, const char *data, int len)
{
    RrDtlsClient *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    g_ptr_array_add(c->out, g_bytes_new(data, (gsize)len));
    return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
    RrDtlsClient *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!c->in || c->in_len == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    gsize n = MIN((gsize)len, c->in_len);
    memcpy(buf, c->in, n);
    c->in = NULL; /* one datagram per read; a truncated rest is dropped like UDP would */
    c->in_len = 0;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: {
        RrDtlsClient *c = BIO_get_data(b);
        return c ? (long)c->mtu : RR_DTLS_DEFAULT_MTU;
    }
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *dgram_bio_method(void)
{
    static gsize once = 0;
    static BIO_METHOD *method;
    if (g_once_init_enter(&once)) {
        method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "roomrec datagram");
        BIO_meth_set_write(method, bio_write);
        BIO_meth_set_read(method, bio_read);
        BIO_meth_set_ctrl(method, bio_ctrl);
        BIO_meth_set_create(method, bio_create);
        g_once_init_leave(&once, 1);
    }
    return method;
}

/* ---- helpers ---- */

static char *openssl_errors(void)
{
    GString *s = g_string_new(NULL);
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (s->len)
            g_string_append(s, "; ");
        g_string_append(s, buf);
    }
    if (!s->len)
        g_string_append(s, "no OpenSSL error detail");
    return g_string_free(s, FALSE);
}

static void enter(RrDtlsClient *c)
{
    c->depth++;
}

static void really_free(RrDtlsClient *c);

static void leave(RrDtlsClient *c)
{
    if (--c->depth == 0 && c->freed)
        really_free(c);
}

/* Send every queued datagram; stops if the client was freed by the callback. */
static void flush(RrDtlsClient *c)
{
    while (c->out->len && !c->freed) {
        GBytes *d = g_ptr_array_steal_index(c->out, 0);
        gsize len;
        const guint8 *p = g_bytes_get_data(d, &len);
        if (c->cb.send)
            c->cb.send(c, p, len, c->user_data);
        g_bytes_unref(d);
    }
}

static void stop_timers(RrDtlsClient *c)
{
    if (c->retransmit) {
        g_source_destroy(c->retransmit);
        g_source_unref(c->retransmit);
        c->retransmit = NULL;
    }
    if (c->deadline) {
        g_source_destroy(c->deadline);
        g_source_unref(c->deadline);
        c->deadline = NULL;
    }
}

static void fail(RrDtlsClient *c, GError *error)
{
    g_autoptr(GError) e = error;
    if (c->state == RR_DTLS_STATE_FAILED || c->state == RR_DTLS_STATE_CLOSED)
        return;
    c->state = RR_DTLS_STATE_FAILED;
    stop_timers(c);
    g_info("DTLS failed: %s", e->message);
    if (c->cb.failed && !c->freed)
        c->cb.failed(c, e, c->user_data);
}

static void arm_retransmit(RrDtlsClient *c);

static gboolean on_retransmit(gpointer data)
{
    RrDtlsClient *c = data;
    g_source_unref(c->retransmit);
    c->retransmit = NULL;
    enter(c);
    if (c->state == RR_DTLS_STATE_CONNECTING) {
        int r = DTLSv1_handle_timeout(c->ssl);
        if (r < 0) {
            g_autofree char *why = openssl_errors();
            flush(c);
            fail(c, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_DTLS,
                                "DTLS handshake: the peer did not answer our retransmissions "
                                "(%s)",
                                why));
        } else {
            if (r > 0)
                g_debug("DTLS: retransmitted the last flight");
            flush(c);
            arm_retransmit(c);
        }
    }
    leave(c);
    return G_SOURCE_REMOVE;
}

static void arm_retransmit(RrDtlsClient *c)
{
    if (c->freed || c->state != RR_DTLS_STATE_CONNECTING)
        return;
    if (c->retransmit) {
        g_source_destroy(c->retransmit);
        g_source_unref(c->retransmit);
        c->retransmit = NULL;
    }
    struct timeval tv;
    if (DTLSv1_get_timeout(c->ssl, &tv) != 1)
        return;
    guint64 ms = (guint64)tv.tv_sec * 1000 + (guint64)(tv.tv_usec + 999) / 1000;
    c->retransmit = g_timeout_source_new((guint)MIN(ms, G_MAXUINT));
    g_source_set_callback(c->retransmit, on_retransmit, c, NULL);
    g_source_attach(c->retransmit, c->context);
}

static gboolean on_deadline(gpointer data)
{
    RrDtlsClient *c = data;
    g_source_unref(c->deadline);
    c->deadline = NULL;
    enter(c);
    if (c->state == RR_DTLS_STATE_CONNECTING)
        fail(c,
             g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_TIMEOUT,
                         "DTLS handshake did not complete within %u ms%s", c->handshake_timeout_ms,
                         c->peer_fp ? "" : " (no DTLS answer from the peer)"));
    leave(c);
    return G_SOURCE_REMOVE;
}

static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    RrDtlsClient *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!c)
        return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1; /* self-signed peers: the chain means nothing, the leaf digest does */
    X509 *leaf = X509_STORE_CTX_get_current_cert(store);
    guint8 digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!leaf || !X509_digest(leaf, c->md, digest, &len))
        return 0;
    g_free(c->peer_fp);
    c->peer_fp = rr_cert_fingerprint_x509(leaf, c->fp_alg, NULL);
    if (len != c->expected_len || CRYPTO_memcmp(digest, c->expected, len) != 0) {
        c->mismatch = TRUE;
        return 0;
    }
    return 1;
}

static GError *mismatch_error(RrDtlsClient *c)
{
    return g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_DTLS,
                       "DTLS peer certificate fingerprint mismatch: expected %s %s, got %s",
                       c->fp_alg, c->expected_hex, c->peer_fp ? c->peer_fp : "(none)");
}

/* ---- public API ---- */

RrDtlsClient *rr_dtls_client_new(GMainContext *context, RrCert *cert, const char *fingerprint_alg,
                                 const char *fingerprint_hex, const RrDtlsCallbacks *callbacks,
                                 gpointer user_data, GError **error)
{
    g_return_val_if_fail(cert != NULL && callbacks != NULL && callbacks->send != NULL, NULL);
    const EVP_MD *md = rr_cert_fingerprint_md(fingerprint_alg, error);
    if (!md)
        return NULL;
    guint8 expected[EVP_MAX_MD_SIZE];
    gsize n = rr_cert_fingerprint_parse(fingerprint_hex, expected, sizeof expected, error);
    if (n == 0)
        return NULL;
    if (n != (gsize)EVP_MD_get_size(md)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "%s fingerprint must have %d bytes, got %" G_GSIZE_FORMAT, fingerprint_alg,
                    EVP_MD_get_size(md), n);
        return NULL;
    }

    RrDtlsClient *c = g_new0(RrDtlsClient, 1);
    c->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    c->cert = rr_cert_ref(cert);
    c->cb = *callbacks;
    c->user_data = user_data;
    c->mtu = RR_DTLS_DEFAULT_MTU;
    c->handshake_timeout_ms = RR_DTLS_DEFAULT_HANDSHAKE_TIMEOUT;
    c->md = md;
    c->fp_alg = g_ascii_strdown(fingerprint_alg, -1);
    memcpy(c->expected, expected, n);
    c->expected_len = n;
    c->expected_hex = g_ascii_strup(fingerprint_hex, -1);
    c->out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

    ERR_clear_error();
    c->ctx = SSL_CTX_new(DTLS_client_method());
    gboolean ok = c->ctx && SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION) &&
                  SSL_CTX_set_max_proto_version(c->ctx, DTLS1_2_VERSION) &&
                  SSL_CTX_use_certificate(c->ctx, rr_cert_get_x509(cert)) == 1 &&
                  SSL_CTX_use_PrivateKey(c->ctx, rr_cert_get_pkey(cert)) == 1 &&
                  SSL_CTX_check_private_key(c->ctx) == 1 &&
                  SSL_CTX_set_cipher_list(c->ctx, CIPHERS) == 1 &&
                  SSL_CTX_set_tlsext_use_srtp(c->ctx, SRTP_PROFILES) == 0;
    if (ok) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
        SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
        c->ssl = SSL_new(c->ctx);
        ok = c->ssl != NULL;
    }
    BIO *bio = ok ? BIO_new(dgram_bio_method()) : NULL;
    if (!bio) {
        g_autofree char *why = openssl_errors();
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS, "DTLS client setup failed: %s", why);
        really_free(c);
        return NULL;
    }
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio); /* the SSL owns the one BIO */
    SSL_set_app_data(c->ssl, c);
    SSL_set_connect_state(c->ssl);
    SSL_set_mtu(c->ssl, c->mtu);
    DTLS_set_link_mtu(c->ssl, c->mtu);
    return c;
}

static void really_free(RrDtlsClient *c)
{
    stop_timers(c);
    if (c->ssl)
        SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    rr_cert_unref(c->cert);
    g_main_context_unref(c->context);
    g_ptr_array_unref(c->out);
    g_free(c->fp_alg);
    g_free(c->expected_hex);
    g_free(c->peer_fp);
    g_free(c);
}

void rr_dtls_client_free(RrDtlsClient *client)
{
    if (!client)
        return;
    memset(&client->cb, 0, sizeof client->cb);
    client->freed = TRUE;
    stop_timers(client);
    if (client->depth == 0)
        really_free(client);
}

void rr_dtls_client_set_handshake_timeout(RrDtlsClient *client, guint timeout_ms)
{
    client->handshake_timeout_ms = timeout_ms;
}

void rr_dtls_client_set_mtu(RrDtlsClient *client, guint mtu)
{
    client->mtu = MAX(mtu, 256u);
    SSL_set_mtu(client->ssl, client->mtu);
    DTLS_set_link_mtu(client->ssl, client->mtu);
}

RrDtlsState rr_dtls_client_get_state(RrDtlsClient *client)
{
    return client->state;
}

const char *rr_dtls_client_get_peer_fingerprint(RrDtlsClient *client)
{
    return client->peer_fp;
}

static gboolean export_keys(RrDtlsClient *c, RrSrtpKeys *keys, GError **error)
{
    memset(keys, 0, sizeof *keys);
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(c->ssl);
    if (!p) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS,
                    "the DTLS peer did not negotiate an SRTP profile (use_srtp)");
        return FALSE;
    }
    keys->profile = (RrSrtpProfile)p->id;
    if (!rr_srtp_profile_lengths(keys->profile, &keys->key_len, &keys->salt_len)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS,
                    "the DTLS peer selected an unsupported SRTP profile %s", p->name);
        return FALSE;
    }
    guint k = keys->key_len, s = keys->salt_len;
    guint8 material[2 * (RR_SRTP_MAX_KEY_LEN + RR_SRTP_MAX_SALT_LEN)];
    if (SSL_export_keying_material(c->ssl, material, 2 * (k + s), EXPORTER_LABEL,
                                   strlen(EXPORTER_LABEL), NULL, 0, 0) != 1) {
        g_autofree char *why = openssl_errors();
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS, "DTLS-SRTP key export failed: %s", why);
        return FALSE;
    }
    memcpy(keys->client_key, material, k);
    memcpy(keys->server_key, material + k, k);
    memcpy(keys->client_salt, material + 2 * k, s);
    memcpy(keys->server_salt, material + 2 * k + s, s);
    OPENSSL_cleanse(material, sizeof material);
    return TRUE;
}

/* Read every application record that is available; handles close_notify and alerts. */
static void read_records(RrDtlsClient *c)
{
    guint8 buf[16384 + 256];
    while (!c->freed && c->state == RR_DTLS_STATE_CONNECTED) {
        ERR_clear_error();
        int n = SSL_read(c->ssl, buf, sizeof buf);
        if (n > 0) {
            if (c->cb.data)
                c->cb.data(c, buf, (gsize)n, c->user_data);
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        flush(c);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
            return;
        if (err == SSL_ERROR_ZERO_RETURN) {
            g_info("DTLS: peer sent close_notify");
            c->state = RR_DTLS_STATE_CLOSED;
            if (c->cb.closed && !c->freed)
                c->cb.closed(c, c->user_data);
            return;
        }
        g_autofree char *why = openssl_errors();
        fail(c, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_DTLS, "DTLS connection failed: %s", why));
        return;
    }
}

static void continue_handshake(RrDtlsClient *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        flush(c);
        stop_timers(c);
        X509 *peer = SSL_get0_peer_certificate(c->ssl);
        guint8 digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (!peer || !X509_digest(peer, c->md, digest, &len) || len != c->expected_len ||
            CRYPTO_memcmp(digest, c->expected, len) != 0) {
            if (peer) {
                g_free(c->peer_fp);
                c->peer_fp = rr_cert_fingerprint_x509(peer, c->fp_alg, NULL);
            }
            fail(c, mismatch_error(c));
            return;
        }
        RrSrtpKeys keys;
        GError *error = NULL;
        if (!export_keys(c, &keys, &error)) {
            fail(c, error);
            return;
        }
        c->state = RR_DTLS_STATE_CONNECTED;
        g_info("DTLS connected (%s, SRTP profile %s)", SSL_get_cipher_name(c->ssl),
               rr_srtp_profile_name(keys.profile));
        if (c->cb.connected)
            c->cb.connected(c, &keys, c->user_data);
        OPENSSL_cleanse(&keys, sizeof keys);
        read_records(c); /* records that came in the same datagram as Finished */
        return;
    }
    int err = SSL_get_error(c->ssl, r);
    flush(c);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        arm_retransmit(c);
        return;
    }
    if (c->mismatch) {
        ERR_clear_error();
        fail(c, mismatch_error(c));
        return;
    }
    g_autofree char *why = openssl_errors();
    fail(c, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_DTLS, "DTLS handshake failed: %s", why));
}

void rr_dtls_client_start(RrDtlsClient *client)
{
    RrDtlsClient *c = client;
    if (c->state != RR_DTLS_STATE_NEW)
        return;
    enter(c);
    c->state = RR_DTLS_STATE_CONNECTING;
    c->deadline = g_timeout_source_new(c->handshake_timeout_ms);
    g_source_set_callback(c->deadline, on_deadline, c, NULL);
    g_source_attach(c->deadline, c->context);
    continue_handshake(c);
    leave(c);
}

void rr_dtls_client_handle_datagram(RrDtlsClient *client, const guint8 *data, gsize len)
{
    RrDtlsClient *c = client;
    if (c->freed || len == 0 || len > G_MAXINT)
        return;
    if (c->state != RR_DTLS_STATE_CONNECTING && c->state != RR_DTLS_STATE_CONNECTED) {
        g_debug("DTLS: dropping a %" G_GSIZE_FORMAT "-byte datagram in state %d", len, c->state);
        return;
    }
    enter(c);
    c->in = data;
    c->in_len = len;
    if (c->state == RR_DTLS_STATE_CONNECTING)
        continue_handshake(c);
    else
        read_records(c);
    c->in = NULL;
    c->in_len = 0;
    leave(c);
}

gboolean rr_dtls_client_send(RrDtlsClient *client, const guint8 *data, gsize len, GError **error)
{
    RrDtlsClient *c = client;
    if (c->state != RR_DTLS_STATE_CONNECTED || c->freed) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS,
                    "DTLS is not connected: cannot send application data");
        return FALSE;
    }
    if (len == 0 || len > 16384) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS,
                    "DTLS application data of %" G_GSIZE_FORMAT " bytes does not fit a record",
                    len);
        return FALSE;
    }
    enter(c);
    ERR_clear_error();
    int n = SSL_write(c->ssl, data, (int)len);
    gboolean ok = n == (int)len;
    if (!ok) {
        g_autofree char *why = openssl_errors();
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS, "DTLS write failed: %s", why);
    }
    flush(c);
    leave(c);
    return ok;
}

void rr_dtls_client_close(RrDtlsClient *client)
{
    RrDtlsClient *c = client;
    if (c->freed)
        return;
    enter(c);
    stop_timers(c);
    if (c->state == RR_DTLS_STATE_CONNECTED) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
        flush(c);
    }
    if (c->state != RR_DTLS_STATE_FAILED)
        c->state = RR_DTLS_STATE_CLOSED;
    c->cb.connected = NULL; /* only the send callback stays */
    c->cb.failed = NULL;
    c->cb.closed = NULL;
    c->cb.data = NULL;
    leave(c);
}
