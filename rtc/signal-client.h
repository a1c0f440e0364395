/* rtc/signal-client: the LiveKit signalling WebSocket (libsoup 3).
 *
 * Opens `<url>/rtc?access_token=…&auto_subscribe=…&protocol=…` (or the resume form with
 * `reconnect=1&sid=…`), delivers every binary frame to the owner and sends the frames
 * it is given. It knows nothing of the messages inside (see signal-codec.h); it turns
 * the ways a connection can fail into clear errors: an unreachable host, a URL that is
 * not a LiveKit server (HTTP 404 or no WebSocket), a refused token (HTTP 401, with the
 * server's reason fetched from `/rtc/validate` as LiveKit's SDKs do), a timeout.
 *
 * Threading: everything runs on the GMainContext given to rr_signal_client_new(); call
 * every function from that context's thread. Callbacks are invoked there too, never
 * with an internal lock held. The access token is never logged.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _RrSignalClient RrSignalClient;

typedef struct {
    /* A frame from the server; (transfer none). */
    void (*on_frame)(RrSignalClient *client, GBytes *frame, gpointer user_data);
    /* The socket closed. @error is NULL for a close we asked for, else why. */
    void (*on_closed)(RrSignalClient *client, const GError *error, gpointer user_data);
} RrSignalClientCallbacks;

typedef struct {
    const char *url;   /* ws://, wss://, http:// or https:// host[:port][/path-prefix] */
    const char *token; /* access token (JWT) */
    gboolean auto_subscribe;
    gboolean adaptive_stream;
    int protocol;            /* LiveKit protocol version; 0 = default (16) */
    const char *resume_sid;  /* non-NULL: resume (reconnect=1&sid=…) */
    guint connect_timeout_s; /* 0 = default (10 s) */
} RrSignalConnectParams;

RrSignalClient *rr_signal_client_new(GMainContext *context, const RrSignalClientCallbacks *cbs,
                                     gpointer user_data);
void rr_signal_client_free(RrSignalClient *client);

/* (transfer full): the WebSocket URL for @params with the token shown as "[redacted]"
 * when @redact, for logs and errors; NULL and @error for an unusable URL. */
char *rr_signal_client_build_url(const RrSignalConnectParams *params, gboolean redact,
                                 GError **error);

/* Connect (closing any previous socket first). Completes on the client's context. */
void rr_signal_client_connect_async(RrSignalClient *client, const RrSignalConnectParams *params,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean rr_signal_client_connect_finish(RrSignalClient *client, GAsyncResult *result,
                                         GError **error);

gboolean rr_signal_client_is_open(RrSignalClient *client);
/* Queue a binary frame; FALSE with @error when the socket is not open. */
gboolean rr_signal_client_send(RrSignalClient *client, GBytes *frame, GError **error);
/* Close normally (1000); on_closed follows with a NULL error. */
void rr_signal_client_close(RrSignalClient *client);
/* Drop the socket without a close handshake (tests of resume use this). */
void rr_signal_client_abort(RrSignalClient *client);

/* (transfer full, nullable): the address the signalling connection reached, as a string
 * IP; used to try the server's media ports at the address we know works. */
char *rr_signal_client_remote_ip(RrSignalClient *client);

G_END_DECLS
