/* Unit tests for rtc/cert and rtc/dtls: our DTLS client against a real OpenSSL DTLS
 * server in the same process (datagrams shuttled by the test on a GMainContext, with
 * drops), and against `openssl s_server` over UDP on 127.0.0.1. */
#include "rtc/cert.h"
#include "rtc/dtls.h"
#include "rtc/rtc-error.h"
#include "rtc/srtp.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    GMainContext *ctx;
    RrCert *client_cert, *server_cert;
    RrDtlsClient *client;
    SSL_CTX *sctx;
    SSL *sssl;
    BIO *s_in, *s_out;
    GQueue to_server, to_client; /* GBytes */
    guint drop_server_flights;   /* drop this many server flights */
    guint drop_all;              /* drop everything the client sends */
    guint client_datagrams;
    gboolean server_connected;
    gboolean connected, failed, closed;
    GError *error;
    RrSrtpKeys keys;
    GByteArray *client_rx;
    GByteArray *server_rx;
} Fixture;

static void on_send(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
    Fixture *f = ud;
    f->client_datagrams++;
    if (!f->connected) /* handshake records respect the MTU */
        g_assert_cmpuint(len, <=, RR_DTLS_DEFAULT_MTU);
    if (!f->drop_all)
        g_queue_push_tail(&f->to_server, g_bytes_new(data, len));
}

static void on_connected(RrDtlsClient *c, const RrSrtpKeys *keys, gpointer ud)
{
    Fixture *f = ud;
    f->connected = TRUE;
    f->keys = *keys;
}

static void on_failed(RrDtlsClient *c, const GError *error, gpointer ud)
{
    Fixture *f = ud;
    f->failed = TRUE;
    g_clear_error(&f->error);
    f->error = g_error_copy(error);
}

static void on_closed(RrDtlsClient *c, gpointer ud)
{
    ((Fixture *)ud)->closed = TRUE;
}

static void on_data(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
    g_byte_array_append(((Fixture *)ud)->client_rx, data, len);
}

static const RrDtlsCallbacks callbacks = {on_send, on_connected, on_failed, on_closed, on_data};

static int accept_any(int ok, X509_STORE_CTX *store)
{
    return 1;
}

static void fixture_init(Fixture *f, const char *server_profiles, const char *expect_fp)
{
    memset(f, 0, sizeof *f);
    g_autoptr(GError) error = NULL;
    f->ctx = g_main_context_new();
    f->client_cert = rr_cert_new(NULL, &error);
    g_assert_no_error(error);
    f->server_cert = rr_cert_new("test-server", &error);
    g_assert_no_error(error);
    f->client_rx = g_byte_array_new();
    f->server_rx = g_byte_array_new();

    f->sctx = SSL_CTX_new(DTLS_server_method());
    g_assert_nonnull(f->sctx);
    g_assert_cmpint(SSL_CTX_use_certificate(f->sctx, rr_cert_get_x509(f->server_cert)), ==, 1);
    g_assert_cmpint(SSL_CTX_use_PrivateKey(f->sctx, rr_cert_get_pkey(f->server_cert)), ==, 1);
    g_assert_cmpint(SSL_CTX_set_tlsext_use_srtp(f->sctx, server_profiles), ==, 0);
    SSL_CTX_set_verify(f->sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    SSL_CTX_set_options(f->sctx, SSL_OP_NO_QUERY_MTU);
    f->sssl = SSL_new(f->sctx);
    f->s_in = BIO_new(BIO_s_mem());
    f->s_out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(f->s_in, -1);
    BIO_set_mem_eof_return(f->s_out, -1);
    SSL_set_bio(f->sssl, f->s_in, f->s_out);
    SSL_set_accept_state(f->sssl);
    SSL_set_mtu(f->sssl, 1200);

    f->client = rr_dtls_client_new(f->ctx, f->client_cert, "sha-256",
                                   expect_fp ? expect_fp : rr_cert_get_fingerprint(f->server_cert),
                                   &callbacks, f, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->client);
}

static void fixture_clear(Fixture *f)
{
    rr_dtls_client_free(f->client);
    SSL_free(f->sssl);
    SSL_CTX_free(f->sctx);
    rr_cert_unref(f->client_cert);
    rr_cert_unref(f->server_cert);
    g_queue_clear_full(&f->to_server, (GDestroyNotify)g_bytes_unref);
    g_queue_clear_full(&f->to_client, (GDestroyNotify)g_bytes_unref);
    g_byte_array_unref(f->client_rx);
    g_byte_array_unref(f->server_rx);
    g_clear_error(&f->error);
    while (g_main_context_iteration(f->ctx, FALSE))
        ;
    g_main_context_unref(f->ctx);
}

/* Run the server on what it received, and collect what it wrote (one flight). */
static void server_step(Fixture *f)
{
    while (!g_queue_is_empty(&f->to_server)) {
        g_autoptr(GBytes) d = g_queue_pop_head(&f->to_server);
        gsize len;
        const guint8 *p = g_bytes_get_data(d, &len);
        BIO_write(f->s_in, p, (int)len);
        if (!f->server_connected) {
            int r = SSL_do_handshake(f->sssl);
            if (r == 1)
                f->server_connected = TRUE;
            else
                ERR_clear_error();
        }
        if (f->server_connected) {
            guint8 buf[4096];
            int n;
            while ((n = SSL_read(f->sssl, buf, sizeof buf)) > 0)
                g_byte_array_append(f->server_rx, buf, (guint)n);
            ERR_clear_error();
        }
    }
    char *out;
    long n = BIO_get_mem_data(f->s_out, &out);
    if (n > 0) {
        if (f->drop_server_flights) {
            f->drop_server_flights--;
        } else {
            g_queue_push_tail(&f->to_client, g_bytes_new(out, (gsize)n));
        }
        (void)BIO_reset(f->s_out);
    }
}

static gboolean wake(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

/* Shuttle datagrams until @done or @timeout_ms passes. */
static void run_until(Fixture *f, gboolean *done, guint timeout_ms)
{
    GSource *tick = g_timeout_source_new(20);
    g_source_set_callback(tick, wake, NULL, NULL);
    g_source_attach(tick, f->ctx);
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!*done && g_get_monotonic_time() < end) {
        server_step(f);
        while (!g_queue_is_empty(&f->to_client)) {
            g_autoptr(GBytes) d = g_queue_pop_head(&f->to_client);
            gsize len;
            const guint8 *p = g_bytes_get_data(d, &len);
            rr_dtls_client_handle_datagram(f->client, p, len);
        }
        if (g_queue_is_empty(&f->to_server))
            g_main_context_iteration(f->ctx, TRUE);
    }
    g_source_destroy(tick);
    g_source_unref(tick);
}

static void assert_keys_match_server(Fixture *f, RrSrtpProfile profile)
{
    g_assert_cmpint(f->keys.profile, ==, profile);
    const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(f->sssl);
    g_assert_nonnull(sp);
    g_assert_cmpint((int)sp->id, ==, (int)profile);
    guint k = f->keys.key_len, s = f->keys.salt_len;
    g_assert_cmpuint(k, ==, 16);
    g_assert_cmpuint(s, ==, profile == RR_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14);
    guint8 m[60];
    g_assert_cmpint(
        SSL_export_keying_material(f->sssl, m, 2 * (k + s), "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0),
        ==, 1);
    g_assert_cmpmem(f->keys.client_key, k, m, k);
    g_assert_cmpmem(f->keys.server_key, k, m + k, k);
    g_assert_cmpmem(f->keys.client_salt, s, m + 2 * k, s);
    g_assert_cmpmem(f->keys.server_salt, s, m + 2 * k + s, s);

    /* The split is usable: RTCP protected by the client is opened by the server side. */
    g_autoptr(GError) error = NULL;
    g_autoptr(RrSrtpSession) cs = rr_srtp_session_new(&f->keys, RR_SRTP_ROLE_CLIENT, &error);
    g_assert_no_error(error);
    g_autoptr(RrSrtpSession) ss = rr_srtp_session_new(&f->keys, RR_SRTP_ROLE_SERVER, &error);
    g_assert_no_error(error);
    guint8 rtcp[8 + RR_SRTP_MAX_TRAILER] = {0x80, 201, 0, 1, 0x11, 0x22, 0x33, 0x44};
    gsize len = 8;
    g_assert_true(rr_srtp_session_protect_rtcp(cs, rtcp, &len, sizeof rtcp, &error));
    g_assert_cmpuint(len, >, 8);
    g_assert_true(rr_srtp_session_unprotect_rtcp(ss, rtcp, &len, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmpuint(rtcp[4], ==, 0x11);
}

static void handshake_with_profile(const char *server_profiles, RrSrtpProfile expect)
{
    Fixture f;
    fixture_init(&f, server_profiles, NULL);
    rr_dtls_client_start(f.client);
    run_until(&f, &f.connected, 10000);
    g_assert_no_error(f.error);
    g_assert_true(f.connected);
    g_assert_cmpint(rr_dtls_client_get_state(f.client), ==, RR_DTLS_STATE_CONNECTED);
    g_assert_cmpstr(rr_dtls_client_get_peer_fingerprint(f.client), ==,
                    rr_cert_get_fingerprint(f.server_cert));
    gboolean server_done = FALSE;
    while (!f.server_connected && !server_done) {
        run_until(&f, &f.server_connected, 2000);
        server_done = TRUE;
    }
    g_assert_true(f.server_connected);
    assert_keys_match_server(&f, expect);
    /* The server saw our certificate. */
    X509 *peer = SSL_get0_peer_certificate(f.sssl);
    g_assert_nonnull(peer);
    g_autofree char *fp = rr_cert_fingerprint_x509(peer, "sha-256", NULL);
    g_assert_cmpstr(fp, ==, rr_cert_get_fingerprint(f.client_cert));
    fixture_clear(&f);
}

static void test_cert(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(RrCert) cert = rr_cert_new(NULL, &error);
    g_assert_no_error(error);
    const char *fp = rr_cert_get_fingerprint(cert);
    g_assert_cmpuint(strlen(fp), ==, 32 * 3 - 1);
    g_assert_true(g_regex_match_simple("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fp, 0, 0));
    EVP_PKEY *pk = rr_cert_get_pkey(cert);
    g_assert_cmpint(EVP_PKEY_get_base_id(pk), ==, EVP_PKEY_EC);
    char group[64];
    size_t glen = 0;
    g_assert_true(EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof group, &glen));
    g_assert_cmpstr(group, ==, "prime256v1");
    g_assert_cmpint(X509_verify(rr_cert_get_x509(cert), pk), ==, 1);

    guint8 b[32];
    g_assert_cmpuint(rr_cert_fingerprint_parse(fp, b, sizeof b, &error), ==, 32);
    g_autofree char *lower = g_ascii_strdown(fp, -1);
    guint8 b2[32];
    g_assert_cmpuint(rr_cert_fingerprint_parse(lower, b2, sizeof b2, &error), ==, 32);
    g_assert_cmpmem(b, 32, b2, 32);
    g_assert_cmpuint(rr_cert_fingerprint_parse("AB:C", b, sizeof b, &error), ==, 0);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_cmpuint(rr_cert_fingerprint_parse("zz", b, sizeof b, &error), ==, 0);
    g_clear_error(&error);
    g_assert_null(rr_cert_fingerprint_x509(rr_cert_get_x509(cert), "md5", &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_UNSUPPORTED);
    g_clear_error(&error);

    /* Bad expected fingerprints are refused at construction. */
    RrDtlsCallbacks cbs = callbacks;
    g_assert_null(rr_dtls_client_new(NULL, cert, "sha-256", "AB:CD", &cbs, NULL, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_null(rr_dtls_client_new(NULL, cert, "md5", fp, &cbs, NULL, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_UNSUPPORTED);
}

static void test_handshake_aes_cm(void)
{
    handshake_with_profile("SRTP_AES128_CM_SHA1_80", RR_SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void test_handshake_gcm(void)
{
    handshake_with_profile("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
                           RR_SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_retransmit(void)
{
    Fixture f;
    fixture_init(&f, "SRTP_AES128_CM_SHA1_80", NULL);
    f.drop_server_flights = 1;
    rr_dtls_client_start(f.client);
    run_until(&f, &f.connected, 10000);
    g_assert_no_error(f.error);
    g_assert_true(f.connected);
    /* ClientHello twice (retransmitted after the lost server flight), then the
     * client's second flight (Certificate..Finished, possibly several datagrams). */
    g_assert_cmpuint(f.client_datagrams, >=, 3);
    run_until(&f, &f.server_connected, 2000);
    assert_keys_match_server(&f, RR_SRTP_PROFILE_AES128_CM_SHA1_80);
    fixture_clear(&f);
}

static void test_fingerprint_mismatch(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(RrCert) other = rr_cert_new(NULL, &error);
    Fixture f;
    fixture_init(&f, "SRTP_AES128_CM_SHA1_80", rr_cert_get_fingerprint(other));
    rr_dtls_client_start(f.client);
    run_until(&f, &f.failed, 10000);
    g_assert_false(f.connected);
    g_assert_true(f.failed);
    g_assert_error(f.error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS);
    g_test_message("error: %s", f.error->message);
    g_assert_nonnull(strstr(f.error->message, "fingerprint mismatch"));
    g_assert_nonnull(strstr(f.error->message, rr_cert_get_fingerprint(other)));
    g_assert_nonnull(strstr(f.error->message, rr_cert_get_fingerprint(f.server_cert)));
    g_assert_cmpint(rr_dtls_client_get_state(f.client), ==, RR_DTLS_STATE_FAILED);
    fixture_clear(&f);
}

static void test_app_data_and_close(void)
{
    Fixture f;
    fixture_init(&f, "SRTP_AEAD_AES_128_GCM", NULL);
    rr_dtls_client_start(f.client);
    run_until(&f, &f.connected, 10000);
    g_assert_true(f.connected);
    run_until(&f, &f.server_connected, 2000);
    g_assert_true(f.server_connected);

    g_autoptr(GError) error = NULL;
    g_assert_true(rr_dtls_client_send(f.client, (const guint8 *)"hello server", 12, &error));
    g_assert_no_error(error);
    server_step(&f);
    g_assert_cmpmem(f.server_rx->data, f.server_rx->len, "hello server", 12);

    g_assert_cmpint(SSL_write(f.sssl, "hello client", 12), ==, 12);
    gboolean got = FALSE;
    while (!got) {
        run_until(&f, &got, 50);
        got = f.client_rx->len >= 12;
    }
    g_assert_cmpmem(f.client_rx->data, f.client_rx->len, "hello client", 12);

    /* A large record (an SCTP packet of up to 16 KiB) passes too. */
    guint8 big[4000];
    for (guint i = 0; i < sizeof big; i++)
        big[i] = (guint8)i;
    g_byte_array_set_size(f.server_rx, 0);
    g_assert_true(rr_dtls_client_send(f.client, big, sizeof big, &error));
    server_step(&f);
    g_assert_cmpmem(f.server_rx->data, f.server_rx->len, big, sizeof big);

    /* close_notify from the server is reported. */
    SSL_shutdown(f.sssl);
    run_until(&f, &f.closed, 2000);
    g_assert_true(f.closed);
    g_assert_false(f.failed);
    g_assert_cmpint(rr_dtls_client_get_state(f.client), ==, RR_DTLS_STATE_CLOSED);
    g_assert_false(rr_dtls_client_send(f.client, big, 10, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS);
    fixture_clear(&f);
}

static void test_handshake_timeout(void)
{
    Fixture f;
    fixture_init(&f, "SRTP_AES128_CM_SHA1_80", NULL);
    f.drop_all = TRUE;
    rr_dtls_client_set_handshake_timeout(f.client, 1500);
    rr_dtls_client_start(f.client);
    run_until(&f, &f.failed, 5000);
    g_assert_true(f.failed);
    g_assert_error(f.error, RR_RTC_ERROR, RR_RTC_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(f.error->message, "DTLS handshake did not complete"));
    g_assert_cmpuint(f.client_datagrams, >=, 2); /* the ClientHello was retransmitted */
    fixture_clear(&f);
}

static void test_garbage_and_local_close(void)
{
    Fixture f;
    fixture_init(&f, "SRTP_AES128_CM_SHA1_80", NULL);
    rr_dtls_client_start(f.client);
    /* Junk in the handshake state is dropped, not fatal. */
    static const guint8 junk[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 1, 2};
    rr_dtls_client_handle_datagram(f.client, junk, sizeof junk);
    rr_dtls_client_handle_datagram(f.client, junk, 1);
    run_until(&f, &f.connected, 10000);
    g_assert_true(f.connected);
    run_until(&f, &f.server_connected, 2000);
    rr_dtls_client_close(f.client);
    server_step(&f);
    guint8 buf[16];
    g_assert_cmpint(SSL_read(f.sssl, buf, sizeof buf), ==, 0);
    g_assert_cmpint(SSL_get_error(f.sssl, 0), ==, SSL_ERROR_ZERO_RETURN);
    fixture_clear(&f);
}

/* ---- against `openssl s_server` over UDP ---- */

typedef struct {
    GSocket *sock;
    GSocketAddress *peer;
    GMainContext *ctx;
    gboolean connected, failed;
    RrSrtpKeys keys;
    GError *error;
    GString *rx;
} UdpFixture;

static void udp_send(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
    UdpFixture *u = ud;
    g_socket_send_to(u->sock, u->peer, (const char *)data, len, NULL, NULL);
}

static void udp_connected(RrDtlsClient *c, const RrSrtpKeys *keys, gpointer ud)
{
    UdpFixture *u = ud;
    u->connected = TRUE;
    u->keys = *keys;
}

static void udp_failed(RrDtlsClient *c, const GError *error, gpointer ud)
{
    UdpFixture *u = ud;
    u->failed = TRUE;
    u->error = g_error_copy(error);
}

static void udp_data(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
    g_string_append_len(((UdpFixture *)ud)->rx, (const char *)data, (gssize)len);
}

static gboolean read_file_until(const char *path, const char *needle, gint64 deadline,
                                char **contents)
{
    while (g_get_monotonic_time() < deadline) {
        g_free(*contents);
        *contents = NULL;
        if (g_file_get_contents(path, contents, NULL, NULL) && strstr(*contents, needle))
            return TRUE;
        g_usleep(20000);
    }
    return FALSE;
}

static void test_openssl_s_server(void)
{
    g_autofree char *openssl = g_find_program_in_path("openssl");
    if (!openssl) {
        g_test_skip("openssl binary not found");
        return;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(RrCert) server_cert = rr_cert_new("s_server", &error);
    g_autoptr(RrCert) client_cert = rr_cert_new(NULL, &error);
    g_assert_no_error(error);
    g_autofree char *dir = g_dir_make_tmp("rr-dtls-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *cert_path = g_build_filename(dir, "cert.pem", NULL);
    g_autofree char *key_path = g_build_filename(dir, "key.pem", NULL);
    g_autofree char *out_path = g_build_filename(dir, "out.txt", NULL);
    FILE *fp = fopen(cert_path, "w");
    PEM_write_X509(fp, rr_cert_get_x509(server_cert));
    fclose(fp);
    fp = fopen(key_path, "w");
    PEM_write_PrivateKey(fp, rr_cert_get_pkey(server_cert), NULL, NULL, 0, NULL, NULL);
    fclose(fp);

    /* A free UDP port: bind, read it back, close (s_server binds it right after). */
    g_autoptr(GSocket) probe =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(probe, any, FALSE, NULL));
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(probe, NULL);
    guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_socket_close(probe, NULL);

    g_autofree char *port_s = g_strdup_printf("%u", port);
    const char *argv[] = {openssl,
                          "s_server",
                          "-dtls1_2",
                          "-accept",
                          port_s,
                          "-4",
                          "-cert",
                          cert_path,
                          "-key",
                          key_path,
                          "-use_srtp",
                          "SRTP_AES128_CM_SHA1_80",
                          "-keymatexport",
                          "EXTRACTOR-dtls_srtp",
                          "-keymatexportlen",
                          "60",
                          "-verify",
                          "1",
                          "-mtu",
                          "1200",
                          NULL};
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    GPid pid = 0;
    int in_fd = -1;
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                                   NULL, NULL, -1, out_fd, out_fd, NULL, NULL, 0,
                                                   &pid, &in_fd, NULL, NULL, &error));
    g_assert_no_error(error);
    close(out_fd);

    UdpFixture u = {0};
    u.rx = g_string_new(NULL);
    u.ctx = g_main_context_new();
    u.sock =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    g_socket_bind(u.sock, any, FALSE, NULL);
    u.peer = g_inet_socket_address_new(lo, port);
    g_socket_set_blocking(u.sock, FALSE);

    g_autofree char *out = NULL;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    gboolean ready = read_file_until(out_path, "ACCEPT", deadline, &out);
    if (!ready)
        g_test_message("s_server output: %s", out ? out : "(none)");
    g_assert_true(ready);

    static const RrDtlsCallbacks ucb = {udp_send, udp_connected, udp_failed, NULL, udp_data};
    RrDtlsClient *c = rr_dtls_client_new(u.ctx, client_cert, "sha-256",
                                         rr_cert_get_fingerprint(server_cert), &ucb, &u, &error);
    g_assert_no_error(error);
    rr_dtls_client_start(c);
    GSource *tick = g_timeout_source_new(10);
    g_source_set_callback(tick, wake, NULL, NULL);
    g_source_attach(tick, u.ctx);
    gboolean said = FALSE;
    while (!u.failed && g_get_monotonic_time() < deadline && (!u.connected || u.rx->len < 5)) {
        guint8 buf[2048];
        gssize n;
        while ((n = g_socket_receive(u.sock, (char *)buf, sizeof buf, NULL, NULL)) > 0)
            rr_dtls_client_handle_datagram(c, buf, (gsize)n);
        if (u.connected && !said) {
            g_assert_true(rr_dtls_client_send(c, (const guint8 *)"ping\n", 5, &error));
            /* s_server echoes stdin to the peer: send a line back through it. */
            g_assert_cmpint(write(in_fd, "pong\n", 5), ==, 5);
            said = TRUE;
        }
        g_main_context_iteration(u.ctx, TRUE);
    }
    g_assert_no_error(u.error);
    g_assert_true(u.connected);
    g_assert_cmpint(u.keys.profile, ==, RR_SRTP_PROFILE_AES128_CM_SHA1_80);
    g_assert_cmpstr(u.rx->str, ==, "pong\n");

    /* s_server prints the exported keying material: it must equal our split keys. */
    GString *hex = g_string_new(NULL);
    for (guint i = 0; i < 16; i++)
        g_string_append_printf(hex, "%02X", u.keys.client_key[i]);
    for (guint i = 0; i < 16; i++)
        g_string_append_printf(hex, "%02X", u.keys.server_key[i]);
    for (guint i = 0; i < 14; i++)
        g_string_append_printf(hex, "%02X", u.keys.client_salt[i]);
    for (guint i = 0; i < 14; i++)
        g_string_append_printf(hex, "%02X", u.keys.server_salt[i]);
    gboolean seen = read_file_until(out_path, "ping", deadline, &out);
    if (!seen)
        g_test_message("s_server output: %s", out);
    g_assert_true(seen);
    g_autofree char *upper = g_ascii_strup(out, -1);
    g_assert_nonnull(strstr(upper, hex->str));
    g_string_free(hex, TRUE);

    rr_dtls_client_close(c);
    rr_dtls_client_free(c);
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    close(in_fd);
    g_source_destroy(tick);
    g_source_unref(tick);
    g_object_unref(u.sock);
    g_object_unref(u.peer);
    g_string_free(u.rx, TRUE);
    g_main_context_unref(u.ctx);
    unlink(cert_path);
    unlink(key_path);
    unlink(out_path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/dtls/cert", test_cert);
    g_test_add_func("/rtc/dtls/handshake/aes-cm", test_handshake_aes_cm);
    g_test_add_func("/rtc/dtls/handshake/gcm", test_handshake_gcm);
    g_test_add_func("/rtc/dtls/retransmit", test_retransmit);
    g_test_add_func("/rtc/dtls/fingerprint-mismatch", test_fingerprint_mismatch);
    g_test_add_func("/rtc/dtls/app-data-and-close", test_app_data_and_close);
    g_test_add_func("/rtc/dtls/handshake-timeout", test_handshake_timeout);
    g_test_add_func("/rtc/dtls/garbage-and-local-close", test_garbage_and_local_close);
    g_test_add_func("/rtc/dtls/openssl-s-server", test_openssl_s_server);
    return g_test_run();
}
