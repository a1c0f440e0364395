/* Unit tests for rtc/signal-client against a real libsoup WebSocket server in-process:
 * URL building, frames both ways, refused tokens with the /rtc/validate reason, wrong
 * paths, unreachable hosts, server-side close. */
#include "rtc/rtc-error.h"
#include "rtc/signal-client.h"

#include <libsoup/soup.h>

typedef struct {
    GMainContext *ctx;
    SoupServer *server;
    guint port;
    SoupWebsocketConnection *server_ws;
    GPtrArray *frames; /* (element-type GBytes) received by the client */
    GError *closed_error;
    gboolean closed;
    gboolean connected;
    gboolean connect_done;
    GError *connect_error;
    char *last_query;
} Fixture;

static gboolean token_ok(const char *query)
{
    return query && strstr(query, "access_token=good-token") != NULL;
}

static void server_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
    /* Echo every frame back, prefixed with 0xEE. */
    gsize n;
    const guint8 *p = g_bytes_get_data(msg, &n);
    g_autofree guint8 *out = g_malloc(n + 1);
    out[0] = 0xEE;
    memcpy(out + 1, p, n);
    soup_websocket_connection_send_binary(ws, out, n + 1);
}

static void server_ws_cb(SoupServer *server, SoupServerMessage *msg, const char *path,
                         SoupWebsocketConnection *conn, gpointer data)
{
    Fixture *f = data;
    g_clear_object(&f->server_ws);
    f->server_ws = g_object_ref(conn);
    g_signal_connect(conn, "message", G_CALLBACK(server_ws_message), f);
}

static void early_cb(SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer data)
{
    Fixture *f = data;
    GUri *uri = soup_server_message_get_uri(msg);
    g_free(f->last_query);
    f->last_query = g_strdup(g_uri_get_query(uri));
    if (g_strcmp0(path, "/rtc") == 0 && !token_ok(g_uri_get_query(uri)))
        soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
}

static void validate_cb(SoupServer *server, SoupServerMessage *msg, const char *path,
                        GHashTable *query, gpointer data)
{
    if (token_ok(g_uri_get_query(soup_server_message_get_uri(msg)))) {
        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, "success", 7);
    } else {
        const char *body = "invalid token: signature is invalid";
        soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
        soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, body, strlen(body));
    }
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->ctx = g_main_context_new();
    g_main_context_push_thread_default(f->ctx);
    f->server = soup_server_new(NULL, NULL);
    soup_server_add_early_handler(f->server, "/rtc", early_cb, f, NULL);
    soup_server_add_handler(f->server, "/rtc/validate", validate_cb, f, NULL);
    soup_server_add_websocket_handler(f->server, "/rtc", NULL, NULL, server_ws_cb, f, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(soup_server_listen_local(f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err));
    g_assert_no_error(err);
    GSList *uris = soup_server_get_uris(f->server);
    f->port = g_uri_get_port(uris->data);
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    f->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_clear_object(&f->server_ws);
    soup_server_disconnect(f->server);
    g_clear_object(&f->server);
    while (g_main_context_iteration(f->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(f->ctx);
    g_main_context_unref(f->ctx);
    g_ptr_array_unref(f->frames);
    g_clear_error(&f->closed_error);
    g_clear_error(&f->connect_error);
    g_free(f->last_query);
}

static void on_frame(RrSignalClient *c, GBytes *frame, gpointer data)
{
    Fixture *f = data;
    g_ptr_array_add(f->frames, g_bytes_ref(frame));
}

static void on_closed(RrSignalClient *c, const GError *error, gpointer data)
{
    Fixture *f = data;
    f->closed = TRUE;
    g_clear_error(&f->closed_error);
    f->closed_error = error ? g_error_copy(error) : NULL;
}

static const RrSignalClientCallbacks callbacks = {on_frame, on_closed};

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    Fixture *f = data;
    f->connect_done = TRUE;
    f->connected = rr_signal_client_connect_finish(NULL, res, &f->connect_error);
}

static gboolean wait_for(Fixture *f, gboolean *flag, guint timeout_s)
{
    gint64 end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
    while (!*flag && g_get_monotonic_time() < end)
        g_main_context_iteration(f->ctx, TRUE);
    return *flag;
}

static RrSignalClient *connect_to(Fixture *f, const char *url, const char *token)
{
    RrSignalClient *c = rr_signal_client_new(f->ctx, &callbacks, f);
    RrSignalConnectParams p = {
        .url = url, .token = token, .auto_subscribe = TRUE, .connect_timeout_s = 5};
    f->connect_done = FALSE;
    rr_signal_client_connect_async(c, &p, NULL, on_connected, f);
    g_assert_true(wait_for(f, &f->connect_done, 20));
    return c;
}

static void test_build_url(void)
{
    RrSignalConnectParams p = {.url = "https://lk.example.com/prefix/",
                               .token = "a.b.c",
                               .auto_subscribe = FALSE,
                               .resume_sid = "PA_x"};
    g_autofree char *u = rr_signal_client_build_url(&p, FALSE, NULL);
    g_assert_cmpstr(u, ==,
                    "wss://lk.example.com/prefix/rtc?access_token=a.b.c&auto_subscribe=0&sdk=c"
                    "&version=0.1.0&protocol=16&reconnect=1&sid=PA_x");
    g_autofree char *r = rr_signal_client_build_url(&p, TRUE, NULL);
    g_assert_null(strstr(r, "a.b.c"));
    p.url = "ws://127.0.0.1:7880";
    p.resume_sid = NULL;
    p.protocol = 9;
    g_autofree char *u2 = rr_signal_client_build_url(&p, FALSE, NULL);
    g_assert_cmpstr(u2, ==,
                    "ws://127.0.0.1:7880/rtc?access_token=a.b.c&auto_subscribe=0&sdk=c"
                    "&version=0.1.0&protocol=9");
    const char *bad[] = {"", "ftp://x", "lk.example.com", "http://", NULL};
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) err = NULL;
        p.url = bad[i];
        g_assert_null(rr_signal_client_build_url(&p, FALSE, &err));
        g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    }
}

static void test_frames(Fixture *f, gconstpointer data)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u", f->port);
    RrSignalClient *c = connect_to(f, url, "good-token");
    g_assert_no_error(f->connect_error);
    g_assert_true(f->connected);
    g_assert_true(rr_signal_client_is_open(c));
    g_assert_nonnull(strstr(f->last_query, "auto_subscribe=1"));
    g_autofree char *ip = rr_signal_client_remote_ip(c);
    g_assert_cmpstr(ip, ==, "127.0.0.1");

    static const guint8 payload[] = {0x42, 0x02, 0x10, 0x01};
    g_autoptr(GBytes) frame = g_bytes_new_static(payload, sizeof payload);
    g_assert_true(rr_signal_client_send(c, frame, NULL));
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (f->frames->len == 0 && g_get_monotonic_time() < end)
        g_main_context_iteration(f->ctx, TRUE);
    g_assert_cmpuint(f->frames->len, ==, 1);
    gsize n;
    const guint8 *got = g_bytes_get_data(g_ptr_array_index(f->frames, 0), &n);
    g_assert_cmpuint(n, ==, 5);
    g_assert_cmpuint(got[0], ==, 0xEE);
    g_assert_cmpmem(got + 1, 4, payload, 4);

    /* The server closes: the owner hears why. */
    soup_websocket_connection_close(f->server_ws, 4000, "room closed");
    g_assert_true(wait_for(f, &f->closed, 10));
    g_assert_error(f->closed_error, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT);
    g_assert_nonnull(strstr(f->closed_error->message, "4000"));
    g_assert_false(rr_signal_client_is_open(c));
    g_autoptr(GError) err = NULL;
    g_assert_false(rr_signal_client_send(c, frame, &err));
    g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT);
    rr_signal_client_free(c);
}

static void test_clean_close(Fixture *f, gconstpointer data)
{
    g_autofree char *url = g_strdup_printf("ws://127.0.0.1:%u/", f->port);
    RrSignalClient *c = connect_to(f, url, "good-token");
    g_assert_true(f->connected);
    rr_signal_client_close(c);
    g_assert_true(wait_for(f, &f->closed, 10));
    g_assert_no_error(f->closed_error);
    rr_signal_client_free(c);
}

static void test_bad_token(Fixture *f, gconstpointer data)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u", f->port);
    RrSignalClient *c = connect_to(f, url, "bad-token");
    g_assert_false(f->connected);
    g_assert_error(f->connect_error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_assert_nonnull(strstr(f->connect_error->message, "401"));
    g_assert_nonnull(strstr(f->connect_error->message, "invalid token: signature is invalid"));
    g_assert_null(strstr(f->connect_error->message, "bad-token"));
    rr_signal_client_free(c);
}

static void test_wrong_path(Fixture *f, gconstpointer data)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/not-livekit", f->port);
    RrSignalClient *c = connect_to(f, url, "good-token");
    g_assert_false(f->connected);
    g_assert_error(f->connect_error, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT);
    if (!strstr(f->connect_error->message, "404"))
        g_printerr("message: %s\n", f->connect_error->message);
    g_assert_nonnull(strstr(f->connect_error->message, "404"));
    rr_signal_client_free(c);
}

static void test_unreachable(Fixture *f, gconstpointer data)
{
    /* A port nobody listens on: bind one, learn its number, close it. */
    g_autoptr(GSocket) s =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(s, any, TRUE, NULL));
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(s, NULL);
    guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_socket_close(s, NULL);

    g_autofree char *url = g_strdup_printf("ws://127.0.0.1:%u", port);
    RrSignalClient *c = connect_to(f, url, "good-token");
    g_assert_false(f->connected);
    g_assert_error(f->connect_error, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT);
    g_assert_nonnull(strstr(f->connect_error->message, "refused"));
    rr_signal_client_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/signal-client/url", test_build_url);
    g_test_add("/rtc/signal-client/frames", Fixture, NULL, fixture_setup, test_frames,
               fixture_teardown);
    g_test_add("/rtc/signal-client/clean-close", Fixture, NULL, fixture_setup, test_clean_close,
               fixture_teardown);
    g_test_add("/rtc/signal-client/bad-token", Fixture, NULL, fixture_setup, test_bad_token,
               fixture_teardown);
    g_test_add("/rtc/signal-client/wrong-path", Fixture, NULL, fixture_setup, test_wrong_path,
               fixture_teardown);
    g_test_add("/rtc/signal-client/unreachable", Fixture, NULL, fixture_setup, test_unreachable,
               fixture_teardown);
    return g_test_run();
}
