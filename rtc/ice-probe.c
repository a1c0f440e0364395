/* rtc/ice-probe: what the paths ICE could not use actually do, for the failure report.
 *
 * libnice does not expose per-pair check results, so when ICE fails (before it ever
 * connected) each remote candidate is probed once from a fresh socket, bounded by one
 * deadline:
 *   UDP          an ICE connectivity check (STUN Binding with the session's credentials):
 *                a reply, an ICMP "port unreachable" (ECONNREFUSED on a connected UDP
 *                socket), or nothing;
 *   TCP passive  a TCP connect: accepted, refused, or nothing;
 * and every TURN server that gave no relay candidate gets an unauthenticated Allocate
 * (UDP/TCP): a 401 challenge means the server is alive, so the allocation failed on the
 * credentials; no answer means it is unreachable.
 *
 * Everything is a GSource on the transport's context, so cancelling (the transport is
 * freed) is synchronous. The done callback runs from its own idle dispatch.
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/ice-priv.h"

#include <gio/gio.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <stun/usages/turn.h>
#include <string.h>

typedef enum { ITEM_ICE_CHECK, ITEM_TCP_CONNECT, ITEM_TURN_UDP, ITEM_TURN_TCP } ItemKind;

typedef struct Probe Probe;

typedef struct {
    Probe *probe;
    ItemKind kind;
    char **result; /* where the text goes (RrIceRemote.probe or RrIceServerState.probe) */
    char *target;  /* "ip:port" for messages */
    GSocket *sock;
    GSource *source;
    StunAgent stun;
    guint8 tid[STUN_MESSAGE_TRANS_ID_LEN];
    guint8 request[512];
    gsize request_len;
    gboolean finished;
} Item;

struct Probe {
    RrIceTransport *ice;
    GPtrArray *items; /* Item* */
    guint pending;
    GSource *deadline;
    GSource *complete;
    guint timeout_ms;
    void (*done)(RrIceTransport *);
};

static void item_free(Item *it)
{
    if (it->source) {
        g_source_destroy(it->source);
        g_source_unref(it->source);
    }
    if (it->sock) {
        g_socket_close(it->sock, NULL);
        g_object_unref(it->sock);
    }
    g_free(it->target);
    g_free(it);
}

static void probe_free(Probe *p)
{
    if (p->deadline) {
        g_source_destroy(p->deadline);
        g_source_unref(p->deadline);
    }
    if (p->complete) {
        g_source_destroy(p->complete);
        g_source_unref(p->complete);
    }
    g_ptr_array_unref(p->items);
    g_free(p);
}

static gboolean on_complete(gpointer data)
{
    Probe *p = data;
    RrIceTransport *ice = p->ice;
    void (*done)(RrIceTransport *) = p->done;
    g_clear_pointer(&p->complete, g_source_unref);
    ice->probe = NULL;
    probe_free(p);
    done(ice);
    return G_SOURCE_REMOVE;
}

static void maybe_complete(Probe *p)
{
    if (p->pending > 0 || p->complete)
        return;
    p->complete = g_idle_source_new();
    g_source_set_callback(p->complete, on_complete, p, NULL);
    g_source_attach(p->complete, p->ice->context);
}

/* Record @text (taken) and release the item's socket. */
static void finish(Item *it, char *text)
{
    if (it->finished) {
        g_free(text);
        return;
    }
    it->finished = TRUE;
    g_free(*it->result);
    *it->result = text;
    if (it->source) {
        g_source_destroy(it->source);
        g_clear_pointer(&it->source, g_source_unref);
    }
    if (it->sock) {
        g_socket_close(it->sock, NULL);
        g_clear_object(&it->sock);
    }
    it->probe->pending--;
    maybe_complete(it->probe);
}

static gboolean on_io(GSocket *sock, GIOCondition cond, gpointer data);

static void watch(Item *it, GIOCondition cond)
{
    if (it->source) {
        g_source_destroy(it->source);
        g_source_unref(it->source);
    }
    it->source = g_socket_create_source(it->sock, cond | G_IO_ERR | G_IO_HUP, NULL);
    g_source_set_callback(it->source, G_SOURCE_FUNC(on_io), it, NULL);
    g_source_attach(it->source, it->probe->ice->context);
}

static char *describe_reply(Item *it, const guint8 *buf, gssize n)
{
    StunMessage msg = {.agent = &it->stun, .buffer = (uint8_t *)buf, .buffer_len = (size_t)n};
    if (n < 20 || stun_message_validate_buffer_length(buf, (size_t)n, TRUE) != n ||
        memcmp(buf + STUN_MESSAGE_TRANS_ID_POS, it->tid, sizeof it->tid) != 0)
        return g_strdup_printf("%s answers (not a STUN reply to the probe)", it->target);
    int code = 0;
    gboolean is_error = stun_message_get_class(&msg) == STUN_ERROR;
    if (is_error && stun_message_find_error(&msg, &code) != STUN_MESSAGE_RETURN_SUCCESS)
        code = 0;
    switch (it->kind) {
    case ITEM_ICE_CHECK:
        return is_error ? g_strdup_printf("%s answers ICE checks with error %d", it->target, code)
                        : g_strdup_printf("%s answers ICE checks (binding success): reachable "
                                          "from a fresh socket",
                                          it->target);
    case ITEM_TURN_UDP:
    case ITEM_TURN_TCP:
        if (is_error && code == 401)
            return g_strdup_printf("TURN server %s answers (401 challenge): it is reachable, so "
                                   "the allocation failed on the credentials",
                                   it->target);
        if (is_error)
            return g_strdup_printf("TURN server %s answers with error %d", it->target, code);
        return g_strdup_printf("TURN server %s answers and allocates without credentials",
                               it->target);
    case ITEM_TCP_CONNECT:
        break;
    }
    return g_strdup_printf("%s answers", it->target);
}

static char *refused_text(Item *it)
{
    if (it->kind == ITEM_TCP_CONNECT || it->kind == ITEM_TURN_TCP)
        return g_strdup_printf("%s refuses TCP connections (nothing listens there)", it->target);
    return g_strdup_printf("%s: ICMP port unreachable (nothing listens there)", it->target);
}

static void send_request(Item *it)
{
    g_autoptr(GError) err = NULL;
    if (g_socket_send(it->sock, (const gchar *)it->request, it->request_len, NULL, &err) < 0) {
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
            finish(it, refused_text(it));
        else
            finish(it, g_strdup_printf("%s: send failed: %s", it->target, err->message));
        return;
    }
    watch(it, G_IO_IN);
}

static gboolean on_io(GSocket *sock, GIOCondition cond, gpointer data)
{
    Item *it = data;
    g_autoptr(GError) err = NULL;
    gboolean connecting =
        (it->kind == ITEM_TCP_CONNECT || it->kind == ITEM_TURN_TCP) && !g_socket_is_connected(sock);
    if (connecting) {
        if (!g_socket_check_connect_result(sock, &err)) {
            if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
                finish(it, refused_text(it));
            else
                finish(it, g_strdup_printf("%s: TCP connect failed: %s", it->target, err->message));
            return G_SOURCE_REMOVE;
        }
        if (it->kind == ITEM_TCP_CONNECT) {
            finish(it, g_strdup_printf("%s accepts TCP connections", it->target));
            return G_SOURCE_REMOVE;
        }
        send_request(it); /* TURN over TCP: now ask */
        return G_SOURCE_REMOVE;
    }
    guint8 buf[1500];
    gssize n = g_socket_receive(sock, (gchar *)buf, sizeof buf, NULL, &err);
    if (n < 0) {
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return G_SOURCE_CONTINUE;
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
            finish(it, refused_text(it));
        else
            finish(it, g_strdup_printf("%s: %s", it->target, err->message));
    } else if (n == 0) {
        finish(it, g_strdup_printf("%s closed the connection without answering", it->target));
    } else {
        finish(it, describe_reply(it, buf, n));
    }
    return G_SOURCE_REMOVE;
}

static gboolean on_deadline(gpointer data)
{
    Probe *p = data;
    g_clear_pointer(&p->deadline, g_source_unref);
    for (guint i = 0; i < p->items->len; i++) {
        Item *it = g_ptr_array_index(p->items, i);
        if (it->finished)
            continue;
        gboolean connecting = it->sock &&
                              (it->kind == ITEM_TCP_CONNECT || it->kind == ITEM_TURN_TCP) &&
                              !g_socket_is_connected(it->sock);
        finish(it, g_strdup_printf("%s: no %s within %.1f s", it->target,
                                   connecting ? "answer to a TCP connect" : "reply",
                                   p->timeout_ms / 1000.0));
    }
    return G_SOURCE_REMOVE;
}

static Item *item_new(Probe *p, ItemKind kind, char **result, const char *ip, guint16 port)
{
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(ip);
    if (!ia)
        return NULL;
    gboolean tcp = kind == ITEM_TCP_CONNECT || kind == ITEM_TURN_TCP;
    GSocket *sock = g_socket_new(g_inet_address_get_family(ia),
                                 tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                                 tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, NULL);
    if (!sock)
        return NULL;
    g_socket_set_blocking(sock, FALSE);
    Item *it = g_new0(Item, 1);
    it->probe = p;
    it->kind = kind;
    it->result = result;
    it->sock = sock;
    it->target =
        strchr(ip, ':') ? g_strdup_printf("[%s]:%u", ip, port) : g_strdup_printf("%s:%u", ip, port);
    g_ptr_array_add(p->items, it);
    p->pending++;

    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, port);
    g_autoptr(GError) err = NULL;
    gboolean connected = g_socket_connect(sock, sa, NULL, &err);
    if (!connected && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PENDING)) {
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
            finish(it, refused_text(it));
        else
            finish(it, g_strdup_printf("%s: cannot connect: %s", it->target, err->message));
        return it;
    }
    if (kind == ITEM_TURN_UDP || kind == ITEM_TURN_TCP) {
        StunMessage msg;
        stun_agent_init(&it->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                        STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS);
        it->request_len =
            stun_usage_turn_create(&it->stun, &msg, it->request, sizeof it->request, NULL,
                                   STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1, NULL, 0, NULL, 0,
                                   STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
        stun_message_id(&msg, it->tid);
    }
    if (tcp && !connected) {
        watch(it, G_IO_OUT);
        return it;
    }
    if (it->request_len)
        send_request(it);
    return it;
}

static void add_ice_check(Probe *p, RrIceRemote *r)
{
    RrIceTransport *ice = p->ice;
    const RrIceCandidate *c = r->rc.candidate;
    if (!ice->remote_ufrag || !ice->remote_pwd)
        return;
    Item *it = item_new(p, ITEM_ICE_CHECK, &r->probe, c->address, c->port);
    if (!it || it->finished)
        return;
    g_autofree char *lufrag = NULL, *lpwd = NULL;
    nice_agent_get_local_credentials(ice->agent, ice->stream_id, &lufrag, &lpwd);
    g_autofree char *user = g_strdup_printf("%s:%s", ice->remote_ufrag, lufrag ? lufrag : "");
    StunMessage msg;
    stun_agent_init(&it->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    guint64 tie = ((guint64)g_random_int() << 32) | g_random_int();
    it->request_len = stun_usage_ice_conncheck_create(
        &it->stun, &msg, it->request, sizeof it->request, (const uint8_t *)user, strlen(user),
        (const uint8_t *)ice->remote_pwd, strlen(ice->remote_pwd), FALSE, ice->controlling,
        0x6e0001ff, tie, NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if (it->request_len == 0) {
        finish(it, g_strdup_printf("%s: could not build an ICE check", it->target));
        return;
    }
    stun_message_id(&msg, it->tid);
    send_request(it);
}

void rr_ice_probe_start(RrIceTransport *ice, guint timeout_ms, void (*done)(RrIceTransport *))
{
    rr_ice_probe_cancel(ice);
    Probe *p = g_new0(Probe, 1);
    p->ice = ice;
    p->items = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
    p->done = done;
    p->timeout_ms = timeout_ms;
    ice->probe = p;

    for (guint i = 0; i < ice->remote->len; i++) {
        RrIceRemote *r = g_ptr_array_index(ice->remote, i);
        const RrIceCandidate *c = r->rc.candidate;
        if (r->rc.origin == RR_ICE_ORIGIN_PEER_REFLEXIVE || c->port == 0)
            continue;
        if (c->proto == RR_ICE_PROTO_UDP)
            add_ice_check(p, r);
        else if (c->proto == RR_ICE_PROTO_TCP_PASSIVE)
            item_new(p, ITEM_TCP_CONNECT, &r->probe, c->address, c->port);
    }
    for (guint i = 0; i < ice->servers->len; i++) {
        RrIceServerState *s = g_ptr_array_index(ice->servers, i);
        if (!s->used || s->relay_seen || !s->ip)
            continue;
        if (s->kind == RR_ICE_SERVER_TURN_UDP)
            item_new(p, ITEM_TURN_UDP, &s->probe, s->ip, s->port);
        else if (s->kind == RR_ICE_SERVER_TURN_TCP)
            item_new(p, ITEM_TURN_TCP, &s->probe, s->ip, s->port);
    }
    p->deadline = g_timeout_source_new(timeout_ms);
    g_source_set_callback(p->deadline, on_deadline, p, NULL);
    g_source_attach(p->deadline, ice->context);
    maybe_complete(p);
}

void rr_ice_probe_cancel(RrIceTransport *ice)
{
    Probe *p = ice->probe;
    if (!p)
        return;
    ice->probe = NULL;
    probe_free(p);
}
