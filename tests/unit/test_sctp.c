/* Unit tests for rtc/sctp: two real usrsctp associations back to back in one process
 * (packets shuttled through in-memory queues on a GMainContext), a LiveKit-like server
 * side opening "_reliable" and "_lossy"; then SCTP carried inside DTLS between our
 * RrDtlsClient and an OpenSSL DTLS server. */
#include "rtc/cert.h"
#include "rtc/dcep.h"
#include "rtc/dtls.h"
#include "rtc/rtc-error.h"
#include "rtc/sctp.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

typedef struct {
    guint16 stream;
    char *label, *protocol;
    RrDcepChannelType type;
    gboolean ordered, local;
    guint32 param;
} Opened;

typedef struct {
    guint16 stream;
    guint32 ppid;
    GBytes *data;
} Msg;

typedef struct Peer Peer;
struct Peer {
    const char *name;
    RrSctpAssociation *a;
    GQueue outbox; /* GBytes: packets this peer sent */
    gboolean up, down;
    GPtrArray *opened;   /* Opened* */
    GPtrArray *messages; /* Msg* */
    GArray *closed;      /* guint16 */
    guint packets;
};

static void opened_free(Opened *o)
{
    g_free(o->label);
    g_free(o->protocol);
    g_free(o);
}

static void msg_free(Msg *m)
{
    g_bytes_unref(m->data);
    g_free(m);
}

static void p_send(RrSctpAssociation *a, const guint8 *pkt, gsize len, gpointer ud)
{
    Peer *p = ud;
    g_assert_cmpuint(len, <=, RR_SCTP_MTU);
    p->packets++;
    g_queue_push_tail(&p->outbox, g_bytes_new(pkt, len));
}

static void p_up(RrSctpAssociation *a, gpointer ud)
{
    ((Peer *)ud)->up = TRUE;
}

static void p_down(RrSctpAssociation *a, const GError *error, gpointer ud)
{
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP);
    ((Peer *)ud)->down = TRUE;
}

static void p_opened(RrSctpAssociation *a, const RrSctpChannelInfo *ch, gpointer ud)
{
    Peer *p = ud;
    Opened *o = g_new0(Opened, 1);
    o->stream = ch->stream;
    o->label = g_strdup(ch->label);
    o->protocol = g_strdup(ch->protocol);
    o->type = ch->channel_type;
    o->ordered = ch->ordered;
    o->local = ch->locally_opened;
    o->param = ch->reliability_param;
    g_ptr_array_add(p->opened, o);
}

static void p_message(RrSctpAssociation *a, guint16 stream, guint32 ppid, const guint8 *data,
                      gsize len, gpointer ud)
{
    Peer *p = ud;
    Msg *m = g_new0(Msg, 1);
    m->stream = stream;
    m->ppid = ppid;
    m->data = g_bytes_new(data, len);
    g_ptr_array_add(p->messages, m);
}

static void p_closed(RrSctpAssociation *a, guint16 stream, gpointer ud)
{
    g_array_append_val(((Peer *)ud)->closed, stream);
}

static const RrSctpCallbacks peer_cbs = {p_send, p_up, p_down, p_opened, p_message, p_closed};

static void peer_init(Peer *p, const char *name, GMainContext *ctx, RrSctpRole role)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->opened = g_ptr_array_new_with_free_func((GDestroyNotify)opened_free);
    p->messages = g_ptr_array_new_with_free_func((GDestroyNotify)msg_free);
    p->closed = g_array_new(FALSE, FALSE, sizeof(guint16));
    g_autoptr(GError) error = NULL;
    p->a = rr_sctp_association_new(ctx, role, 5000, 5000, &peer_cbs, p, &error);
    g_assert_no_error(error);
    g_assert_nonnull(p->a);
}

static void peer_clear(Peer *p)
{
    rr_sctp_association_free(p->a);
    g_queue_clear_full(&p->outbox, (GDestroyNotify)g_bytes_unref);
    g_ptr_array_unref(p->opened);
    g_ptr_array_unref(p->messages);
    g_array_unref(p->closed);
}

static gboolean wake(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

/* Deliver every queued packet of @from to @to. */
static gboolean shuttle(Peer *from, Peer *to)
{
    gboolean any = FALSE;
    while (!g_queue_is_empty(&from->outbox)) {
        g_autoptr(GBytes) b = g_queue_pop_head(&from->outbox);
        gsize len;
        const guint8 *d = g_bytes_get_data(b, &len);
        rr_sctp_association_handle_packet(to->a, d, len);
        any = TRUE;
    }
    return any;
}

#define RUN_UNTIL(ctx, step, cond, ms)                                                             \
    do {                                                                                           \
        GSource *tick_ = g_timeout_source_new(10);                                                 \
        g_source_set_callback(tick_, wake, NULL, NULL);                                            \
        g_source_attach(tick_, ctx);                                                               \
        gint64 end_ = g_get_monotonic_time() + (gint64)(ms)*1000;                                  \
        while (!(cond) && g_get_monotonic_time() < end_) {                                         \
            if (!(step))                                                                           \
                g_main_context_iteration(ctx, TRUE);                                               \
            while (g_main_context_iteration(ctx, FALSE))                                           \
                ;                                                                                  \
        }                                                                                          \
        g_source_destroy(tick_);                                                                   \
        g_source_unref(tick_);                                                                     \
    } while (0)

static gboolean step_pair(Peer *c, Peer *s)
{
    gboolean a = shuttle(c, s);
    gboolean b = shuttle(s, c);
    return a || b;
}

static Opened *find_opened(Peer *p, const char *label)
{
    for (guint i = 0; i < p->opened->len; i++) {
        Opened *o = g_ptr_array_index(p->opened, i);
        if (g_strcmp0(o->label, label) == 0)
            return o;
    }
    return NULL;
}

static Msg *find_msg(Peer *p, guint16 stream, guint32 ppid)
{
    for (guint i = 0; i < p->messages->len; i++) {
        Msg *m = g_ptr_array_index(p->messages, i);
        if (m->stream == stream && m->ppid == ppid)
            return m;
    }
    return NULL;
}

static gboolean has_closed(Peer *p, guint16 stream)
{
    for (guint i = 0; i < p->closed->len; i++) {
        if (g_array_index(p->closed, guint16, i) == stream)
            return TRUE;
    }
    return FALSE;
}

/* The server side opens LiveKit's two channels; checks what the client reports. */
static void open_livekit_channels(GMainContext *ctx, Peer *client, Peer *server, guint16 *reliable,
                                  guint16 *lossy, gboolean (*step)(void *), void *step_data)
{
    g_autoptr(GError) error = NULL;
    RrDcepOpen rel = {.channel_type = RR_DCEP_CHANNEL_RELIABLE, .label = "_reliable"};
    RrDcepOpen los = {.channel_type = RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED,
                      .reliability_param = 0,
                      .label = "_lossy"};
    g_assert_true(rr_sctp_association_open_channel(server->a, &rel, reliable, &error));
    g_assert_no_error(error);
    g_assert_true(rr_sctp_association_open_channel(server->a, &los, lossy, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(*reliable % 2, ==, 1); /* DTLS server: odd ids */
    g_assert_cmpuint(*lossy % 2, ==, 1);
    g_assert_cmpuint(*reliable, !=, *lossy);
    RUN_UNTIL(ctx, step(step_data), client->opened->len >= 2 && server->opened->len >= 2, 5000);

    Opened *o = find_opened(client, "_reliable");
    g_assert_nonnull(o);
    g_assert_cmpuint(o->stream, ==, *reliable);
    g_assert_true(o->ordered);
    g_assert_cmpint(o->type, ==, RR_DCEP_CHANNEL_RELIABLE);
    g_assert_false(o->local);
    g_assert_cmpstr(o->protocol, ==, "");
    o = find_opened(client, "_lossy");
    g_assert_nonnull(o);
    g_assert_cmpuint(o->stream, ==, *lossy);
    g_assert_false(o->ordered);
    g_assert_cmpint(o->type, ==, RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED);
    g_assert_cmpuint(o->param, ==, 0);
    g_assert_false(o->local);
    /* The server got our ACKs. */
    g_assert_nonnull(find_opened(server, "_reliable"));
    g_assert_true(find_opened(server, "_lossy")->local);
}

static gboolean step_pair_v(void *data)
{
    Peer **pp = data;
    return step_pair(pp[0], pp[1]);
}

static void test_back_to_back(void)
{
    GMainContext *ctx = g_main_context_new();
    Peer client, server;
    peer_init(&client, "client", ctx, RR_SCTP_ROLE_DTLS_CLIENT);
    peer_init(&server, "server", ctx, RR_SCTP_ROLE_DTLS_SERVER);
    Peer *pair[2] = {&client, &server};
    g_autoptr(GError) error = NULL;

    /* Sending before the association is up is refused. */
    g_assert_false(rr_sctp_association_send(client.a, 1, 51, (const guint8 *)"x", 1, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP);
    g_clear_error(&error);

    g_assert_true(rr_sctp_association_connect(client.a, &error));
    g_assert_true(rr_sctp_association_connect(server.a, &error));
    g_assert_no_error(error);
    RUN_UNTIL(ctx, step_pair(&client, &server), client.up && server.up, 5000);
    g_assert_true(client.up);
    g_assert_true(server.up);
    g_assert_true(rr_sctp_association_is_up(client.a));

    guint16 rel, los;
    open_livekit_channels(ctx, &client, &server, &rel, &los, step_pair_v, pair);

    /* Messages both ways with PPID 51 and 53, one large, one empty. */
    gsize big_len = 100000;
    g_autofree guint8 *big = g_malloc(big_len);
    for (gsize i = 0; i < big_len; i++)
        big[i] = (guint8)(i * 7);
    g_assert_true(rr_sctp_association_send(server.a, rel, 51, (const guint8 *)"hi", 2, &error));
    g_assert_true(rr_sctp_association_send(server.a, los, 53, (const guint8 *)"\1\2\3", 3, &error));
    g_assert_true(rr_sctp_association_send(server.a, rel, 53, big, big_len, &error));
    g_assert_true(rr_sctp_association_send(client.a, rel, 53, (const guint8 *)"\4\5", 2, &error));
    g_assert_true(rr_sctp_association_send(client.a, los, 51, (const guint8 *)"lossy", 5, &error));
    g_assert_true(rr_sctp_association_send(client.a, rel, 51, NULL, 0, &error));
    g_assert_no_error(error);
    RUN_UNTIL(ctx, step_pair(&client, &server),
              client.messages->len >= 3 && server.messages->len >= 3, 5000);
    Msg *m = find_msg(&client, rel, 51);
    g_assert_nonnull(m);
    g_assert_cmpmem(g_bytes_get_data(m->data, NULL), g_bytes_get_size(m->data), "hi", 2);
    m = find_msg(&client, los, 53);
    g_assert_nonnull(m);
    g_assert_cmpmem(g_bytes_get_data(m->data, NULL), g_bytes_get_size(m->data), "\1\2\3", 3);
    m = find_msg(&client, rel, 53);
    g_assert_nonnull(m);
    g_assert_cmpmem(g_bytes_get_data(m->data, NULL), g_bytes_get_size(m->data), big, big_len);
    m = find_msg(&server, rel, 53);
    g_assert_nonnull(m);
    g_assert_cmpmem(g_bytes_get_data(m->data, NULL), g_bytes_get_size(m->data), "\4\5", 2);
    m = find_msg(&server, los, 51);
    g_assert_nonnull(m);
    g_assert_cmpmem(g_bytes_get_data(m->data, NULL), g_bytes_get_size(m->data), "lossy", 5);
    m = find_msg(&server, rel, RR_DCEP_PPID_STRING_EMPTY);
    g_assert_nonnull(m);
    g_assert_cmpuint(g_bytes_get_size(m->data), ==, 0);

    /* Our own channel: an even stream id, reported open on ACK. */
    RrDcepOpen mine = {.channel_type = RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED,
                       .reliability_param = 500,
                       .priority = 256,
                       .label = "mine",
                       .protocol = "proto"};
    guint16 mine_sid = 999;
    g_assert_true(rr_sctp_association_open_channel(client.a, &mine, &mine_sid, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(mine_sid % 2, ==, 0);
    RUN_UNTIL(ctx, step_pair(&client, &server),
              find_opened(&client, "mine") && find_opened(&server, "mine"), 5000);
    Opened *o = find_opened(&server, "mine");
    g_assert_nonnull(o);
    g_assert_cmpuint(o->stream, ==, mine_sid);
    g_assert_cmpstr(o->protocol, ==, "proto");
    g_assert_cmpuint(o->param, ==, 500);
    g_assert_true(o->ordered);
    g_assert_true(find_opened(&client, "mine")->local);

    /* The server closes _lossy by resetting its stream: both sides report it. */
    g_assert_true(rr_sctp_association_close_channel(server.a, los, &error));
    g_assert_no_error(error);
    RUN_UNTIL(ctx, step_pair(&client, &server),
              has_closed(&client, los) && has_closed(&server, los), 5000);
    g_assert_true(has_closed(&client, los));
    g_assert_true(has_closed(&server, los));
    g_assert_false(has_closed(&client, rel));
    g_assert_false(rr_sctp_association_send(client.a, los, 51, (const guint8 *)"x", 1, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP);
    g_clear_error(&error);
    /* _reliable still works after the reset. */
    g_assert_true(rr_sctp_association_send(server.a, rel, 51, (const guint8 *)"after", 5, &error));
    guint before = client.messages->len;
    RUN_UNTIL(ctx, step_pair(&client, &server), client.messages->len > before, 5000);
    m = g_ptr_array_index(client.messages, client.messages->len - 1);
    g_assert_cmpmem(g_bytes_get_data(m->data, NULL), g_bytes_get_size(m->data), "after", 5);

    /* Our side closes its own channel too. */
    g_assert_true(rr_sctp_association_close_channel(client.a, mine_sid, &error));
    RUN_UNTIL(ctx, step_pair(&client, &server),
              has_closed(&client, mine_sid) && has_closed(&server, mine_sid), 5000);
    g_assert_true(has_closed(&server, mine_sid));
    g_assert_true(has_closed(&client, mine_sid));

    /* Garbage packets are dropped by usrsctp. */
    static const guint8 junk[] = {0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 0, 0, 0, 0, 1, 0, 0, 4};
    rr_sctp_association_handle_packet(client.a, junk, sizeof junk);
    rr_sctp_association_handle_packet(client.a, junk, 3);
    g_assert_false(client.down);

    peer_clear(&client);
    peer_clear(&server);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
}

/* ---- SCTP inside DTLS: our client vs an OpenSSL DTLS server ---- */

typedef struct {
    GMainContext *ctx;
    RrDtlsClient *dtls;
    gboolean dtls_up;
    SSL_CTX *sctx;
    SSL *sssl;
    BIO *s_in, *s_out;
    gboolean server_connected;
    GQueue to_server, to_client; /* DTLS datagrams */
    Peer client, server;         /* SCTP on both sides; their outboxes are SCTP packets */
} Combined;

static void d_send(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
    Combined *t = ud;
    g_queue_push_tail(&t->to_server, g_bytes_new(data, len));
}

static void d_connected(RrDtlsClient *c, const RrSrtpKeys *keys, gpointer ud)
{
    ((Combined *)ud)->dtls_up = TRUE;
}

static void d_failed(RrDtlsClient *c, const GError *error, gpointer ud)
{
    g_error("DTLS failed: %s", error->message);
}

static void d_data(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
    Combined *t = ud;
    rr_sctp_association_handle_packet(t->client.a, data, len);
}

static const RrDtlsCallbacks dtls_cbs = {d_send, d_connected, d_failed, NULL, d_data};

static int accept_any(int ok, X509_STORE_CTX *store)
{
    return 1;
}

static void take_server_output(Combined *t)
{
    char *out;
    long n = BIO_get_mem_data(t->s_out, &out);
    if (n > 0) {
        g_queue_push_tail(&t->to_client, g_bytes_new(out, (gsize)n));
        (void)BIO_reset(t->s_out);
    }
}

static gboolean combined_step(void *data)
{
    Combined *t = data;
    gboolean any = FALSE;
    /* Client SCTP packets -> DTLS application data. */
    while (!g_queue_is_empty(&t->client.outbox)) {
        g_autoptr(GBytes) b = g_queue_pop_head(&t->client.outbox);
        gsize len;
        const guint8 *d = g_bytes_get_data(b, &len);
        g_autoptr(GError) error = NULL;
        g_assert_true(rr_dtls_client_send(t->dtls, d, len, &error));
        any = TRUE;
    }
    /* Server: DTLS in, SCTP packets out of the decrypted records. */
    while (!g_queue_is_empty(&t->to_server)) {
        g_autoptr(GBytes) b = g_queue_pop_head(&t->to_server);
        gsize len;
        const guint8 *d = g_bytes_get_data(b, &len);
        BIO_write(t->s_in, d, (int)len);
        if (!t->server_connected && SSL_do_handshake(t->sssl) == 1)
            t->server_connected = TRUE;
        if (t->server_connected) {
            guint8 buf[16384 + 64];
            int n;
            while ((n = SSL_read(t->sssl, buf, sizeof buf)) > 0)
                rr_sctp_association_handle_packet(t->server.a, buf, (gsize)n);
        }
        ERR_clear_error();
        take_server_output(t);
        any = TRUE;
    }
    /* Server SCTP packets -> one DTLS record (one datagram) each. */
    while (t->server_connected && !g_queue_is_empty(&t->server.outbox)) {
        g_autoptr(GBytes) b = g_queue_pop_head(&t->server.outbox);
        gsize len;
        const guint8 *d = g_bytes_get_data(b, &len);
        g_assert_cmpint(SSL_write(t->sssl, d, (int)len), ==, (int)len);
        take_server_output(t);
        any = TRUE;
    }
    while (!g_queue_is_empty(&t->to_client)) {
        g_autoptr(GBytes) b = g_queue_pop_head(&t->to_client);
        gsize len;
        const guint8 *d = g_bytes_get_data(b, &len);
        rr_dtls_client_handle_datagram(t->dtls, d, len);
        any = TRUE;
    }
    return any;
}

static void test_over_dtls(void)
{
    Combined t;
    memset(&t, 0, sizeof t);
    g_autoptr(GError) error = NULL;
    t.ctx = g_main_context_new();
    g_autoptr(RrCert) ccert = rr_cert_new(NULL, &error);
    g_autoptr(RrCert) scert = rr_cert_new("server", &error);
    g_assert_no_error(error);

    t.sctx = SSL_CTX_new(DTLS_server_method());
    SSL_CTX_use_certificate(t.sctx, rr_cert_get_x509(scert));
    SSL_CTX_use_PrivateKey(t.sctx, rr_cert_get_pkey(scert));
    SSL_CTX_set_tlsext_use_srtp(t.sctx, "SRTP_AES128_CM_SHA1_80");
    SSL_CTX_set_verify(t.sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    SSL_CTX_set_options(t.sctx, SSL_OP_NO_QUERY_MTU);
    t.sssl = SSL_new(t.sctx);
    t.s_in = BIO_new(BIO_s_mem());
    t.s_out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(t.s_in, -1);
    BIO_set_mem_eof_return(t.s_out, -1);
    SSL_set_bio(t.sssl, t.s_in, t.s_out);
    SSL_set_accept_state(t.sssl);
    SSL_set_mtu(t.sssl, 1200);

    peer_init(&t.client, "client", t.ctx, RR_SCTP_ROLE_DTLS_CLIENT);
    peer_init(&t.server, "server", t.ctx, RR_SCTP_ROLE_DTLS_SERVER);
    t.dtls = rr_dtls_client_new(t.ctx, ccert, "sha-256", rr_cert_get_fingerprint(scert), &dtls_cbs,
                                &t, &error);
    g_assert_no_error(error);
    rr_dtls_client_start(t.dtls);
    RUN_UNTIL(t.ctx, combined_step(&t), t.dtls_up && t.server_connected, 10000);
    g_assert_true(t.dtls_up);

    /* SCTP starts once DTLS is up, from both sides. */
    g_assert_true(rr_sctp_association_connect(t.client.a, &error));
    g_assert_true(rr_sctp_association_connect(t.server.a, &error));
    RUN_UNTIL(t.ctx, combined_step(&t), t.client.up && t.server.up, 5000);
    g_assert_true(t.client.up && t.server.up);

    guint16 rel, los;
    open_livekit_channels(t.ctx, &t.client, &t.server, &rel, &los, combined_step, &t);
    g_assert_true(rr_sctp_association_send(t.server.a, rel, 51, (const guint8 *)"{}", 2, &error));
    g_assert_true(rr_sctp_association_send(t.client.a, los, 53, (const guint8 *)"x", 1, &error));
    RUN_UNTIL(t.ctx, combined_step(&t), t.client.messages->len && t.server.messages->len, 5000);
    g_assert_nonnull(find_msg(&t.client, rel, 51));
    g_assert_nonnull(find_msg(&t.server, los, 53));

    /* Clean shutdown: SCTP first, then DTLS. */
    peer_clear(&t.client);
    peer_clear(&t.server);
    rr_dtls_client_close(t.dtls);
    rr_dtls_client_free(t.dtls);
    SSL_free(t.sssl);
    SSL_CTX_free(t.sctx);
    g_queue_clear_full(&t.to_server, (GDestroyNotify)g_bytes_unref);
    g_queue_clear_full(&t.to_client, (GDestroyNotify)g_bytes_unref);
    while (g_main_context_iteration(t.ctx, FALSE))
        ;
    g_main_context_unref(t.ctx);
}

static void test_free_in_callback_cb(RrSctpAssociation *a, gpointer ud)
{
    Peer *p = ud;
    p->up = TRUE;
    rr_sctp_association_free(p->a); /* allowed from a callback */
    p->a = NULL;
}

static void test_free_in_callback(void)
{
    GMainContext *ctx = g_main_context_new();
    Peer client, server;
    peer_init(&client, "client", ctx, RR_SCTP_ROLE_DTLS_CLIENT);
    peer_init(&server, "server", ctx, RR_SCTP_ROLE_DTLS_SERVER);
    /* Swap the server's association for one whose up callback frees it. */
    rr_sctp_association_free(server.a);
    RrSctpCallbacks cbs = peer_cbs;
    cbs.up = test_free_in_callback_cb;
    g_autoptr(GError) error = NULL;
    server.a =
        rr_sctp_association_new(ctx, RR_SCTP_ROLE_DTLS_SERVER, 5000, 5000, &cbs, &server, &error);
    g_assert_no_error(error);
    g_assert_true(rr_sctp_association_connect(client.a, &error));
    g_assert_true(rr_sctp_association_connect(server.a, &error));
    RUN_UNTIL(ctx, server.a ? step_pair(&client, &server) : FALSE, server.up, 5000);
    g_assert_true(server.up);
    g_assert_null(server.a);
    peer_clear(&client);
    peer_clear(&server);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
}

/* The peer's INIT arrives before our connect(): it is kept and the association comes up. */
static void test_late_connect(void)
{
    GMainContext *ctx = g_main_context_new();
    Peer client, server;
    peer_init(&client, "client", ctx, RR_SCTP_ROLE_DTLS_CLIENT);
    peer_init(&server, "server", ctx, RR_SCTP_ROLE_DTLS_SERVER);
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_sctp_association_connect(server.a, &error));
    RUN_UNTIL(ctx, FALSE, !g_queue_is_empty(&server.outbox), 2000);
    g_assert_true(shuttle(&server, &client)); /* the INIT, before the client is ready */
    g_assert_true(rr_sctp_association_connect(client.a, &error));
    RUN_UNTIL(ctx, step_pair(&client, &server), client.up && server.up, 5000);
    g_assert_true(client.up && server.up);
    peer_clear(&client);
    peer_clear(&server);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/sctp/back-to-back", test_back_to_back);
    g_test_add_func("/rtc/sctp/over-dtls", test_over_dtls);
    g_test_add_func("/rtc/sctp/free-in-callback", test_free_in_callback);
    g_test_add_func("/rtc/sctp/late-connect", test_late_connect);
    return g_test_run();
}
