/* rtc/signal-client: LiveKit signalling WebSocket on libsoup 3. See signal-client.h. */
#include "rtc/signal-client.h"

#include "rtc/rtc-error.h"

#include <libsoup/soup.h>

#define RR_SIGNAL_DEFAULT_PROTOCOL 16
#define RR_SIGNAL_MAX_FRAME        (8 * 1024 * 1024)

struct _RrSignalClient {
    GMainContext *context;
    RrSignalClientCallbacks cbs;
    gpointer user_data;
    SoupSession *session;
    SoupWebsocketConnection *ws;
    char *remote_ip;
    gboolean closing; /* we asked for the close */
};

#define RR_SIGNAL_SDK_VERSION "0.1.0"

char *rr_signal_client_build_url(const RrSignalConnectParams *p, gboolean redact, GError **error)
{
    if (!p->url || !*p->url) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "no server URL given");
        return NULL;
    }
    if (!p->token || !*p->token) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "no access token");
        return NULL;
    }
    g_autoptr(GUri) uri = g_uri_parse(p->url, G_URI_FLAGS_ENCODED, NULL);
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
    const char *ws_scheme = NULL;
    if (scheme &&
        (g_ascii_strcasecmp(scheme, "ws") == 0 || g_ascii_strcasecmp(scheme, "http") == 0))
        ws_scheme = "ws";
    else if (scheme &&
             (g_ascii_strcasecmp(scheme, "wss") == 0 || g_ascii_strcasecmp(scheme, "https") == 0))
        ws_scheme = "wss";
    if (!ws_scheme || !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "server URL '%s' is not a ws://, wss://, http:// or https:// URL", p->url);
        return NULL;
    }
    /* Path prefix kept (servers behind a reverse proxy), then /rtc. */
    g_autofree char *path = g_strdup(g_uri_get_path(uri));
    while (*path && path[strlen(path) - 1] == '/')
        path[strlen(path) - 1] = '\0';
    g_autofree char *token =
        redact ? g_strdup("[redacted]") : g_uri_escape_string(p->token, NULL, FALSE);
    GString *q = g_string_new(NULL);
    g_string_append_printf(q, "access_token=%s&auto_subscribe=%d&sdk=c&version=%s&protocol=%d",
                           token, p->auto_subscribe ? 1 : 0, RR_SIGNAL_SDK_VERSION,
                           p->protocol > 0 ? p->protocol : RR_SIGNAL_DEFAULT_PROTOCOL);
    if (p->adaptive_stream)
        g_string_append(q, "&adaptive_stream=1");
    if (p->resume_sid) {
        g_autofree char *sid = g_uri_escape_string(p->resume_sid, NULL, FALSE);
        g_string_append_printf(q, "&reconnect=1&sid=%s", sid);
    }
    g_autofree char *full_path = g_strconcat(path, "/rtc", NULL);
    g_autofree char *query = g_string_free(q, FALSE);
    g_autoptr(GUri) out = g_uri_build(G_URI_FLAGS_ENCODED, ws_scheme, NULL, g_uri_get_host(uri),
                                      g_uri_get_port(uri), full_path, query, NULL);
    return g_uri_to_string(out);
}

RrSignalClient *rr_signal_client_new(GMainContext *context, const RrSignalClientCallbacks *cbs,
                                     gpointer user_data)
{
    RrSignalClient *c = g_new0(RrSignalClient, 1);
    c->context = g_main_context_ref(context);
    c->cbs = *cbs;
    c->user_data = user_data;
    g_main_context_push_thread_default(context);
    c->session = soup_session_new_with_options("user-agent", "roomrec/0.1", "timeout", 30, NULL);
    g_main_context_pop_thread_default(context);
    return c;
}

static void drop_ws(RrSignalClient *c)
{
    if (!c->ws)
        return;
    g_signal_handlers_disconnect_by_data(c->ws, c);
    if (soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_clear_object(&c->ws);
}

void rr_signal_client_free(RrSignalClient *c)
{
    if (!c)
        return;
    drop_ws(c);
    soup_session_abort(c->session);
    g_clear_object(&c->session);
    g_free(c->remote_ip);
    g_main_context_unref(c->context);
    g_free(c);
}

static void on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
    RrSignalClient *c = data;
    if (type != SOUP_WEBSOCKET_DATA_BINARY) {
        g_warning("signalling: ignoring a text frame of %zu bytes (expected binary protobuf)",
                  g_bytes_get_size(message));
        return;
    }
    c->cbs.on_frame(c, message, c->user_data);
}

static void on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
    RrSignalClient *c = data;
    gushort code = soup_websocket_connection_get_close_code(ws);
    g_autofree char *reason = g_strdup(soup_websocket_connection_get_close_data(ws));
    gboolean asked = c->closing;
    g_signal_handlers_disconnect_by_data(ws, c);
    g_clear_object(&c->ws);
    c->closing = FALSE;
    if (asked) {
        c->cbs.on_closed(c, NULL, c->user_data);
        return;
    }
    g_autoptr(GError) err = g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                                        "signalling connection closed by the server (code %u%s%s)",
                                        code, reason && *reason ? ": " : "", reason ? reason : "");
    c->cbs.on_closed(c, err, c->user_data);
}

static void on_ws_error(SoupWebsocketConnection *ws, GError *error, gpointer data)
{
    g_message("signalling socket error: %s", error->message);
}

typedef struct {
    RrSignalClient *client;
    SoupMessage *msg;
    char *validate_url;
    GSource *timeout;
    GCancellable *cancellable; /* ours, chained to the caller's */
    gulong caller_cancel_id;
    GCancellable *caller_cancellable;
    gboolean timed_out;
} ConnectData;

static void connect_data_free(ConnectData *d)
{
    if (d->timeout) {
        g_source_destroy(d->timeout);
        g_source_unref(d->timeout);
    }
    if (d->caller_cancellable)
        g_cancellable_disconnect(d->caller_cancellable, d->caller_cancel_id);
    g_clear_object(&d->caller_cancellable);
    g_clear_object(&d->cancellable);
    g_clear_object(&d->msg);
    g_free(d->validate_url);
    g_free(d);
}

static gboolean on_connect_timeout(gpointer data)
{
    ConnectData *d = data;
    d->timed_out = TRUE;
    g_cancellable_cancel(d->cancellable);
    return G_SOURCE_REMOVE;
}

static void on_caller_cancelled(GCancellable *cancellable, gpointer data)
{
    g_cancellable_cancel(G_CANCELLABLE(data));
}

/* A refused handshake: ask /rtc/validate for the reason, as LiveKit's SDKs do. */
static void on_validate_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    ConnectData *d = g_task_get_task_data(task);
    guint status = soup_message_get_status(d->msg);
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &err);
    g_autofree char *reason = NULL;
    if (body && g_bytes_get_size(body) > 0) {
        gsize n = MIN(g_bytes_get_size(body), 400);
        reason = g_utf8_make_valid(g_bytes_get_data(body, NULL), n);
        g_strstrip(reason);
    }
    if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
        g_task_return_new_error(task, RR_RTC_ERROR, RR_RTC_ERROR_AUTH,
                                "the server refused the access token (HTTP %u%s%s)", status,
                                reason && *reason ? ": " : "", reason ? reason : "");
    } else if (status == SOUP_STATUS_NOT_FOUND) {
        g_task_return_new_error(task, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                                "no LiveKit signalling endpoint at this URL (HTTP 404 for /rtc); "
                                "check the server URL");
    } else {
        g_task_return_new_error(
            task, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
            "the server did not accept the signalling WebSocket (HTTP %u %s%s%s)", status,
            soup_status_get_phrase(status), reason && *reason ? ": " : "", reason ? reason : "");
    }
}

static void on_ws_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    ConnectData *d = g_task_get_task_data(task);
    RrSignalClient *c = d->client;
    g_autoptr(GError) err = NULL;
    SoupWebsocketConnection *ws =
        soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &err);
    if (!ws) {
        guint status = soup_message_get_status(d->msg);
        if (d->timed_out) {
            g_task_return_new_error(task, RR_RTC_ERROR, RR_RTC_ERROR_TIMEOUT,
                                    "no answer from the signalling server within the timeout");
        } else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_task_return_error(task, g_steal_pointer(&err));
        } else if (status >= 100 && status != SOUP_STATUS_SWITCHING_PROTOCOLS) {
            /* An HTTP answer that is not an upgrade: find out why. */
            g_autoptr(SoupMessage) v = soup_message_new("GET", d->validate_url);
            if (!v) {
                g_task_return_new_error(task, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                                        "the server answered HTTP %u instead of a WebSocket",
                                        status);
                return;
            }
            GTask *t = g_steal_pointer(&task);
            g_clear_object(&d->msg);
            d->msg = g_object_ref(v);
            soup_session_send_and_read_async(c->session, v, G_PRIORITY_DEFAULT, d->cancellable,
                                             on_validate_done, t);
        } else {
            g_task_return_new_error(task, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT,
                                    "cannot open the signalling connection: %s", err->message);
        }
        return;
    }
    GSocketAddress *addr = soup_message_get_remote_address(d->msg);
    g_clear_pointer(&c->remote_ip, g_free);
    if (G_IS_INET_SOCKET_ADDRESS(addr))
        c->remote_ip = g_inet_address_to_string(
            g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr)));
    c->ws = ws;
    soup_websocket_connection_set_max_incoming_payload_size(ws, RR_SIGNAL_MAX_FRAME);
    g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), c);
    g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), c);
    g_signal_connect(ws, "error", G_CALLBACK(on_ws_error), c);
    g_task_return_boolean(task, TRUE);
}

void rr_signal_client_connect_async(RrSignalClient *c, const RrSignalConnectParams *params,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
    g_main_context_push_thread_default(c->context);
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, rr_signal_client_connect_async);
    drop_ws(c);
    c->closing = FALSE;

    GError *err = NULL;
    g_autofree char *url = rr_signal_client_build_url(params, FALSE, &err);
    g_autoptr(GUri) parsed = url ? g_uri_parse(url, G_URI_FLAGS_ENCODED, &err) : NULL;
    SoupMessage *msg = parsed ? soup_message_new_from_uri("GET", parsed) : NULL;
    if (!msg) {
        if (!err)
            err = g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "unusable server URL");
        g_task_return_error(task, err);
        g_object_unref(task);
        g_main_context_pop_thread_default(c->context);
        return;
    }
    ConnectData *d = g_new0(ConnectData, 1);
    d->client = c;
    d->msg = msg;
    /* /rtc/validate with the same query, on http(s). */
    g_autofree char *vpath = g_strconcat(g_uri_get_path(parsed), "/validate", NULL);
    const char *scheme = g_strcmp0(g_uri_get_scheme(parsed), "wss") == 0 ? "https" : "http";
    g_autoptr(GUri) vuri =
        g_uri_build(G_URI_FLAGS_ENCODED, scheme, NULL, g_uri_get_host(parsed),
                    g_uri_get_port(parsed), vpath, g_uri_get_query(parsed), NULL);
    d->validate_url = g_uri_to_string(vuri);
    d->cancellable = g_cancellable_new();
    if (cancellable) {
        d->caller_cancellable = g_object_ref(cancellable);
        d->caller_cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(on_caller_cancelled),
                                                    g_object_ref(d->cancellable), g_object_unref);
    }
    guint timeout_s = params->connect_timeout_s ? params->connect_timeout_s : 10;
    d->timeout = g_timeout_source_new_seconds(timeout_s);
    g_source_set_callback(d->timeout, on_connect_timeout, d, NULL);
    g_source_attach(d->timeout, c->context);
    g_task_set_task_data(task, d, (GDestroyNotify)connect_data_free);

    soup_session_websocket_connect_async(c->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                         d->cancellable, on_ws_connected, task);
    g_main_context_pop_thread_default(c->context);
}

gboolean rr_signal_client_connect_finish(RrSignalClient *c, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean rr_signal_client_is_open(RrSignalClient *c)
{
    return c->ws && soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN;
}

gboolean rr_signal_client_send(RrSignalClient *c, GBytes *frame, GError **error)
{
    if (!rr_signal_client_is_open(c)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_CONNECT, "signalling socket is not open");
        return FALSE;
    }
    gsize n;
    const void *p = g_bytes_get_data(frame, &n);
    soup_websocket_connection_send_binary(c->ws, p, n);
    return TRUE;
}

void rr_signal_client_close(RrSignalClient *c)
{
    if (!rr_signal_client_is_open(c))
        return;
    c->closing = TRUE;
    soup_websocket_connection_close(c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

void rr_signal_client_abort(RrSignalClient *c)
{
    if (!c->ws)
        return;
    GIOStream *io = soup_websocket_connection_get_io_stream(c->ws);
    g_io_stream_close(io, NULL, NULL);
}

char *rr_signal_client_remote_ip(RrSignalClient *c)
{
    return g_strdup(c->remote_ip);
}
