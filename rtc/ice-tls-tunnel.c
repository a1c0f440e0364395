/* rtc/ice-tls-tunnel: TURN over TLS ("turns:") for libnice.
 *
 * libnice 0.1.21 has NICE_RELAY_TYPE_TURN_TLS but, in RFC 5245 mode, opens a plain TCP
 * connection for it (TLS framing exists only for the Google and OC2007 dialects). So the
 * transport gives libnice a TURN-over-TCP server at 127.0.0.1:<port> of a local listener,
 * and each connection libnice makes there is spliced to a TLS connection (GIO, server name
 * verified unless disabled) to the real server. The TURN server still sees our real address
 * as the TCP peer and relays for it as usual.
 *
 * Runs on the transport's context; async operations are started with it as the
 * thread-default context.
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/ice-priv.h"

#include <gio/gio.h>

struct _RrIceTlsTunnel {
    GMainContext *context;
    GSocketService *service;
    guint16 port;
    char *host;
    guint16 server_port;
    gboolean verify;
    char *error;
    GCancellable *cancellable;
};

typedef struct {
    RrIceTlsTunnel *tunnel;
    GSocketConnection *local;
    GCancellable *cancellable;
} Conn;

static void conn_free(Conn *c)
{
    g_object_unref(c->local);
    g_object_unref(c->cancellable);
    g_free(c);
}

static void on_spliced(GObject *source, GAsyncResult *res, gpointer data)
{
    g_io_stream_splice_finish(res, NULL);
}

static gboolean accept_any_certificate(GTlsConnection *conn, GTlsCertificate *cert,
                                       GTlsCertificateFlags errors, gpointer data)
{
    return TRUE;
}

static void on_client_event(GSocketClient *client, GSocketClientEvent event,
                            GSocketConnectable *connectable, GIOStream *connection, gpointer data)
{
    gboolean verify = GPOINTER_TO_INT(data);
    if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && !verify)
        g_signal_connect(connection, "accept-certificate", G_CALLBACK(accept_any_certificate),
                         NULL);
}

static void on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    Conn *c = data;
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocketConnection) remote =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &err);
    if (g_cancellable_is_cancelled(c->cancellable)) {
        conn_free(c);
        return;
    }
    RrIceTlsTunnel *t = c->tunnel;
    if (!remote) {
        g_free(t->error);
        t->error = g_strdup(err->message);
        g_info("TURN TLS to %s:%u: %s", t->host, t->server_port, err->message);
        g_io_stream_close(G_IO_STREAM(c->local), NULL, NULL);
        conn_free(c);
        return;
    }
    g_main_context_push_thread_default(t->context);
    g_io_stream_splice_async(G_IO_STREAM(c->local), G_IO_STREAM(remote),
                             G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                             G_PRIORITY_DEFAULT, c->cancellable, on_spliced, NULL);
    g_main_context_pop_thread_default(t->context);
    conn_free(c);
}

static gboolean on_incoming(GSocketService *service, GSocketConnection *local, GObject *src,
                            gpointer data)
{
    RrIceTlsTunnel *t = data;
    Conn *c = g_new0(Conn, 1);
    c->tunnel = t;
    c->local = g_object_ref(local);
    c->cancellable = g_object_ref(t->cancellable);
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_socket_client_set_tls(client, TRUE);
    g_socket_client_set_timeout(client, 10);
    g_signal_connect(client, "event", G_CALLBACK(on_client_event), GINT_TO_POINTER(t->verify));
    g_autoptr(GSocketConnectable) addr = g_network_address_new(t->host, t->server_port);
    g_main_context_push_thread_default(t->context);
    g_socket_client_connect_async(client, addr, t->cancellable, on_connected, c);
    g_main_context_pop_thread_default(t->context);
    return TRUE;
}

RrIceTlsTunnel *rr_ice_tls_tunnel_new(GMainContext *context, const char *host, const char *ip,
                                      guint16 port, gboolean verify, GError **error)
{
    RrIceTlsTunnel *t = g_new0(RrIceTlsTunnel, 1);
    t->context = g_main_context_ref(context);
    /* Verify against the name in the URL; an IP URL is verified against the IP. */
    t->host = g_strdup(verify ? host : ip);
    t->server_port = port;
    t->verify = verify;
    t->cancellable = g_cancellable_new();
    g_main_context_push_thread_default(context);
    t->service = g_socket_service_new();
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(lo, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    gboolean ok =
        g_socket_listener_add_address(G_SOCKET_LISTENER(t->service), sa, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, error);
    if (ok) {
        t->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
        g_signal_connect(t->service, "incoming", G_CALLBACK(on_incoming), t);
        g_socket_service_start(t->service);
    }
    g_main_context_pop_thread_default(context);
    if (!ok) {
        rr_ice_tls_tunnel_free(t);
        return NULL;
    }
    return t;
}

guint16 rr_ice_tls_tunnel_get_port(RrIceTlsTunnel *t)
{
    return t->port;
}

const char *rr_ice_tls_tunnel_get_error(RrIceTlsTunnel *t)
{
    return t->error;
}

void rr_ice_tls_tunnel_free(RrIceTlsTunnel *t)
{
    if (!t)
        return;
    g_cancellable_cancel(t->cancellable);
    if (t->service) {
        g_signal_handlers_disconnect_by_data(t->service, t);
        g_socket_service_stop(t->service);
        g_socket_listener_close(G_SOCKET_LISTENER(t->service));
        g_object_unref(t->service);
    }
    g_object_unref(t->cancellable);
    g_main_context_unref(t->context);
    g_free(t->host);
    g_free(t->error);
    g_free(t);
}
