/* rtc/sctp: see sctp.h.
 *
 * DESIGN (threads). usrsctp calls us from two places: from inside usrsctp_conninput /
 * usrsctp_sendv / usrsctp_close on the association's own thread, and from our timer
 * thread ("sctp-timers", see timer_main: retransmissions, SACKs, heartbeats). Both
 * callbacks (output_cb and receive_cb) only copy what they get into the association's
 * Shared queue and make sure a drain source is attached to the association's
 * GMainContext; the drain source then delivers packets, messages and notifications in
 * order on that context, with no lock held. usrsctp only ever sees an integer id
 * (registered as the AF_CONN address and given as ulp_info), looked up in a global
 * registry: once an association is freed its id is gone and late callbacks from the
 * timer thread are dropped.
 *
 * Locks: registry_lock guards the registry (taken in callbacks, never held while
 * calling usrsctp); lifecycle_lock guards usrsctp_init/usrsctp_finish (never taken in
 * callbacks); Shared.lock guards one queue.
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/sctp.h"
#include "rtc/rtc-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <usrsctp.h>

/* ---- queue shared with usrsctp's threads ---- */

typedef enum { EV_OUTPUT, EV_RECV, EV_EOF } EventKind;

typedef struct {
    EventKind kind;
    guint8 *data;
    gsize len;
    struct sctp_rcvinfo rcv;
    int flags;
} Event;

typedef struct {
    gint refcount;
    GMutex lock;
    GQueue events;  /* Event*, under lock */
    GSource *drain; /* attached drain source, under lock */
    gboolean dead;  /* under lock */
    GMainContext *context;
    RrSctpAssociation *assoc; /* only used on the context thread */
} Shared;

typedef struct {
    RrSctpChannelInfo info;
    char *label;
    char *protocol;
    gboolean acked;     /* remote-opened channels are acked at once */
    gboolean out_reset; /* our outgoing stream was reset (or requested) */
} Channel;

struct RrSctpAssociation {
    GMainContext *context;
    RrSctpRole role;
    guint16 local_port, remote_port;
    RrSctpCallbacks cb;
    gpointer user_data;
    guint id;
    Shared *shared;
    struct socket *sock;
    gboolean connected; /* connect() called */
    gboolean up;
    gboolean down_reported;
    GHashTable *channels;   /* stream -> Channel* */
    GArray *pending_resets; /* guint16 streams whose reset could not be sent yet */
    GByteArray *reasm;
    gboolean reasm_overflow;
    GPtrArray *early; /* GBytes: packets received before connect(), fed in by connect() */
    guint depth;
    gboolean freed;
};

static GMutex registry_lock;
static GHashTable *registry; /* id -> Shared* (a reference) */
static guint next_id = 1;

static GMutex lifecycle_lock;
static guint users;
static gboolean usrsctp_running;

static void event_free(Event *ev)
{
    g_free(ev->data);
    g_free(ev);
}

static Shared *shared_ref(Shared *s)
{
    g_atomic_int_inc(&s->refcount);
    return s;
}

static void shared_unref(gpointer data)
{
    Shared *s = data;
    if (!g_atomic_int_dec_and_test(&s->refcount))
        return;
    g_queue_clear_full(&s->events, (GDestroyNotify)event_free);
    g_mutex_clear(&s->lock);
    g_main_context_unref(s->context);
    g_free(s);
}

static Shared *lookup(void *addr)
{
    Shared *s = NULL;
    g_mutex_lock(&registry_lock);
    if (registry)
        s = g_hash_table_lookup(registry, addr);
    if (s)
        shared_ref(s);
    g_mutex_unlock(&registry_lock);
    return s;
}

static gboolean drain(gpointer data);

/* Any thread: queue @ev and make sure a drain runs on the association's context. */
static void shared_push(Shared *s, Event *ev)
{
    g_mutex_lock(&s->lock);
    if (s->dead) {
        g_mutex_unlock(&s->lock);
        event_free(ev);
        return;
    }
    g_queue_push_tail(&s->events, ev);
    if (!s->drain) {
        s->drain = g_idle_source_new();
        g_source_set_priority(s->drain, G_PRIORITY_DEFAULT);
        g_source_set_callback(s->drain, drain, shared_ref(s), shared_unref);
        g_source_attach(s->drain, s->context);
    }
    g_mutex_unlock(&s->lock);
}

static int output_cb(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    Shared *s = lookup(addr);
    if (!s)
        return 0; /* association gone: drop */
    Event *ev = g_new0(Event, 1);
    ev->kind = EV_OUTPUT;
    ev->data = g_memdup2(buf, len);
    ev->len = len;
    shared_push(s, ev);
    shared_unref(s);
    return 0;
}

static int receive_cb(struct socket *sock, union sctp_sockstore addr, void *data, size_t datalen,
                      struct sctp_rcvinfo rcv, int flags, void *ulp_info)
{
    Shared *s = lookup(ulp_info);
    if (s) {
        Event *ev = g_new0(Event, 1);
        if (data) {
            ev->kind = EV_RECV;
            ev->data = g_memdup2(data, datalen);
            ev->len = datalen;
            ev->rcv = rcv;
            ev->flags = flags;
        } else {
            ev->kind = EV_EOF;
        }
        shared_push(s, ev);
        shared_unref(s);
    }
    free(data); /* usrsctp hands over malloc()ed data */
    return 1;
}

/* ---- usrsctp lifetime ---- */

/* usrsctp runs without its own threads (usrsctp_init_nothreads): its timer thread woke
 * every 10 ms, and two threads listened on raw SCTP sockets that WebRTC never uses
 * (packets come in through usrsctp_conninput). Timers are driven from one thread of ours
 * every TIMER_TICK_MS instead: SCTP's own timers are far coarser (RTO at least 1 s,
 * delayed SACK 200 ms). */
#define TIMER_TICK_MS 50

static GThread *timer_thread;
static gint timer_stop; /* atomic */

static gpointer timer_main(gpointer unused)
{
    gint64 last = g_get_monotonic_time();
    while (!g_atomic_int_get(&timer_stop)) {
        g_usleep(TIMER_TICK_MS * 1000);
        gint64 elapsed_ms = (g_get_monotonic_time() - last) / 1000;
        last += elapsed_ms * 1000; /* carry the sub-millisecond rest */
        usrsctp_handle_timers((uint32_t)elapsed_ms);
    }
    return NULL;
}

static void timer_start(void)
{
    g_atomic_int_set(&timer_stop, 0);
    timer_thread = g_thread_new("sctp-timers", timer_main, NULL);
}

static void usrsctp_acquire(void)
{
    g_mutex_lock(&lifecycle_lock);
    if (!usrsctp_running) {
        usrsctp_init_nothreads(0, output_cb, NULL);
        usrsctp_sysctl_set_sctp_ecn_enable(0);
        usrsctp_running = TRUE;
        timer_start();
    }
    users++;
    g_mutex_unlock(&lifecycle_lock);
}

static void usrsctp_release(void)
{
    g_mutex_lock(&lifecycle_lock);
    if (--users == 0 && usrsctp_running) {
        /* The timer thread must not run into usrsctp_finish: this thread drives the
         * timers while closed sockets linger (retrying for up to 3 s). */
        g_atomic_int_set(&timer_stop, 1);
        g_thread_join(timer_thread);
        timer_thread = NULL;
        for (int i = 0; i < 300; i++) {
            if (usrsctp_finish() == 0) {
                usrsctp_running = FALSE;
                break;
            }
            g_usleep(10000);
            usrsctp_handle_timers(10);
        }
        if (usrsctp_running) {
            g_warning("usrsctp_finish did not succeed; keeping usrsctp running");
            timer_start();
        }
    }
    g_mutex_unlock(&lifecycle_lock);
}

/* ---- helpers on the association's thread ---- */

static void really_free(RrSctpAssociation *a);

static void enter(RrSctpAssociation *a)
{
    a->depth++;
}

static void leave(RrSctpAssociation *a)
{
    if (--a->depth == 0 && a->freed)
        really_free(a);
}

static void channel_free(Channel *ch)
{
    g_free(ch->label);
    g_free(ch->protocol);
    g_free(ch);
}

static void report_down(RrSctpAssociation *a, const char *why)
{
    gboolean was_up = a->up;
    a->up = FALSE;
    if (a->down_reported)
        return;
    a->down_reported = TRUE;
    g_autoptr(GError) error =
        g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "SCTP association %s: %s",
                    was_up ? "lost" : "failed", why);
    g_info("%s", error->message);
    if (a->cb.down && !a->freed)
        a->cb.down(a, error, a->user_data);
}

static gboolean sctp_send_raw(RrSctpAssociation *a, guint16 stream, guint32 ppid,
                              const guint8 *data, gsize len, gboolean unordered,
                              RrDcepChannelType type, guint32 param, GError **error)
{
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof spa);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = stream;
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (unordered ? SCTP_UNORDERED : 0);
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    guint8 base = (guint8)type & ~RR_DCEP_CHANNEL_UNORDERED_BIT;
    if (base == RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT ||
        base == RR_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy =
            base == RR_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = param;
    }
    ssize_t n = usrsctp_sendv(a->sock, data, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
    if (n < 0) {
        int e = errno;
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "SCTP send on stream %u failed: %s",
                    stream, e == EWOULDBLOCK ? "send buffer full" : g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* Ask usrsctp to reset our outgoing streams in pending_resets; keeps them on EALREADY. */
static void flush_resets(RrSctpAssociation *a)
{
    if (!a->up || a->pending_resets->len == 0)
        return;
    guint n = a->pending_resets->len;
    gsize size = sizeof(struct sctp_reset_streams) + n * sizeof(guint16);
    struct sctp_reset_streams *srs = g_malloc0(size);
    srs->srs_assoc_id = SCTP_ALL_ASSOC;
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = (guint16)n;
    memcpy(srs->srs_stream_list, a->pending_resets->data, n * sizeof(guint16));
    if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, (socklen_t)size) == 0)
        g_array_set_size(a->pending_resets, 0);
    else if (errno != EALREADY && errno != EBUSY)
        g_warning("SCTP stream reset failed: %s", g_strerror(errno));
    g_free(srs);
}

static void request_reset(RrSctpAssociation *a, guint16 stream)
{
    for (guint i = 0; i < a->pending_resets->len; i++) {
        if (g_array_index(a->pending_resets, guint16, i) == stream)
            return;
    }
    g_array_append_val(a->pending_resets, stream);
    flush_resets(a);
}

static void handle_dcep(RrSctpAssociation *a, guint16 stream, const guint8 *data, gsize len)
{
    g_autoptr(GError) error = NULL;
    RrDcepOpen open;
    RrDcepMessageType type = rr_dcep_parse(data, len, &open, &error);
    if (type == 0) {
        g_message("SCTP stream %u: dropping a bad DCEP message: %s", stream, error->message);
        return;
    }
    Channel *ch = g_hash_table_lookup(a->channels, GUINT_TO_POINTER(stream));
    if (type == RR_DCEP_MESSAGE_ACK) {
        if (!ch || !ch->info.locally_opened || ch->acked) {
            g_debug("SCTP stream %u: unexpected DATA_CHANNEL_ACK ignored", stream);
            return;
        }
        ch->acked = TRUE;
        if (a->cb.channel_opened)
            a->cb.channel_opened(a, &ch->info, a->user_data);
        return;
    }
    if (ch) {
        g_message("SCTP stream %u: DATA_CHANNEL_OPEN for a stream already in use ignored", stream);
        rr_dcep_open_clear(&open);
        return;
    }
    gboolean peer_parity = (stream % 2 == 1) == (a->role == RR_SCTP_ROLE_DTLS_CLIENT);
    if (!peer_parity)
        g_info("SCTP stream %u: the peer opened a channel with our stream parity", stream);
    ch = g_new0(Channel, 1);
    ch->label = g_steal_pointer(&open.label);
    ch->protocol = g_steal_pointer(&open.protocol);
    ch->acked = TRUE;
    ch->info.stream = stream;
    ch->info.label = ch->label;
    ch->info.protocol = ch->protocol;
    ch->info.channel_type = open.channel_type;
    ch->info.ordered = rr_dcep_channel_type_ordered(open.channel_type);
    ch->info.reliability_param = open.reliability_param;
    ch->info.priority = open.priority;
    g_hash_table_insert(a->channels, GUINT_TO_POINTER(stream), ch);

    g_autoptr(GBytes) ack = rr_dcep_encode_ack();
    gsize ack_len;
    const guint8 *ack_data = g_bytes_get_data(ack, &ack_len);
    if (!sctp_send_raw(a, stream, RR_DCEP_PPID, ack_data, ack_len, FALSE, RR_DCEP_CHANNEL_RELIABLE,
                       0, &error))
        g_warning("SCTP stream %u: cannot send DATA_CHANNEL_ACK: %s", stream, error->message);
    g_info("data channel \"%s\" opened by the peer on stream %u (%s, type 0x%02x, param %u)",
           ch->label, stream, ch->info.ordered ? "ordered" : "unordered", ch->info.channel_type,
           ch->info.reliability_param);
    if (a->cb.channel_opened)
        a->cb.channel_opened(a, &ch->info, a->user_data);
}

static void handle_message(RrSctpAssociation *a, guint16 stream, guint32 ppid, const guint8 *data,
                           gsize len)
{
    if (ppid == RR_DCEP_PPID) {
        handle_dcep(a, stream, data, len);
        return;
    }
    if (ppid == RR_DCEP_PPID_STRING_EMPTY || ppid == RR_DCEP_PPID_BINARY_EMPTY)
        len = 0;
    if (a->cb.message)
        a->cb.message(a, stream, ppid, data, len, a->user_data);
}

static void handle_stream_reset(RrSctpAssociation *a, const struct sctp_stream_reset_event *ev,
                                gsize len)
{
    if (len < sizeof *ev)
        return;
    guint n = (guint)((MIN(len, ev->strreset_length) - sizeof *ev) / sizeof(guint16));
    guint16 flags = ev->strreset_flags;
    if (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED))
        g_message("SCTP stream reset was %s by the peer",
                  flags & SCTP_STREAM_RESET_DENIED ? "denied" : "failed");
    if (flags & SCTP_STREAM_RESET_INCOMING_SSN) {
        g_autoptr(GArray) streams = g_array_new(FALSE, FALSE, sizeof(guint16));
        if (n == 0) { /* all streams */
            GHashTableIter it;
            gpointer key;
            g_hash_table_iter_init(&it, a->channels);
            while (g_hash_table_iter_next(&it, &key, NULL)) {
                guint16 sid = (guint16)GPOINTER_TO_UINT(key);
                g_array_append_val(streams, sid);
            }
        } else {
            g_array_append_vals(streams, ev->strreset_stream_list, n);
        }
        for (guint i = 0; i < streams->len && !a->freed; i++) {
            guint16 sid = g_array_index(streams, guint16, i);
            Channel *ch = g_hash_table_lookup(a->channels, GUINT_TO_POINTER(sid));
            if (!ch)
                continue;
            if (!ch->out_reset) /* the peer closed: close our side too */
                request_reset(a, sid);
            g_info("data channel \"%s\" on stream %u closed", ch->label, sid);
            g_hash_table_remove(a->channels, GUINT_TO_POINTER(sid));
            if (a->cb.channel_closed)
                a->cb.channel_closed(a, sid, a->user_data);
        }
    }
    if (!a->freed)
        flush_resets(a); /* a previous reset finished: send the queued ones */
}

static void handle_notification(RrSctpAssociation *a, const guint8 *data, gsize len)
{
    union sctp_notification notif;
    if (len < sizeof notif.sn_header)
        return;
    memset(&notif, 0, sizeof notif);
    memcpy(&notif, data, MIN(len, sizeof notif));
    switch (notif.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        switch (notif.sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
            if (!a->up) {
                a->up = TRUE;
                g_info("SCTP association up (%u out, %u in streams)",
                       notif.sn_assoc_change.sac_outbound_streams,
                       notif.sn_assoc_change.sac_inbound_streams);
                flush_resets(a);
                if (a->cb.up)
                    a->cb.up(a, a->user_data);
            }
            break;
        case SCTP_COMM_LOST:
            report_down(a, "communication lost (peer unreachable or aborted)");
            break;
        case SCTP_SHUTDOWN_COMP:
            report_down(a, "shut down by the peer");
            break;
        case SCTP_CANT_STR_ASSOC:
            report_down(a, "could not be started (no answer to INIT)");
            break;
        }
        break;
    case SCTP_STREAM_RESET_EVENT: {
        /* Copy into an aligned buffer: the stream list follows the header. */
        g_autofree guint8 *copy = g_memdup2(data, len);
        handle_stream_reset(a, (const struct sctp_stream_reset_event *)copy, len);
        break;
    }
    case SCTP_SEND_FAILED_EVENT:
        g_debug("SCTP: a message could not be sent (stream %u)",
                notif.sn_send_failed_event.ssfe_info.snd_sid);
        break;
    case SCTP_SHUTDOWN_EVENT:
        report_down(a, "the peer is shutting down");
        break;
    default:
        g_debug("SCTP notification %u ignored", notif.sn_header.sn_type);
        break;
    }
}

static void handle_recv(RrSctpAssociation *a, Event *ev)
{
    if (ev->flags & MSG_NOTIFICATION) {
        if (ev->flags & MSG_EOR)
            handle_notification(a, ev->data, ev->len);
        return;
    }
    if (!a->reasm_overflow && a->reasm->len + ev->len > RR_SCTP_MAX_MESSAGE_SIZE) {
        g_message("SCTP stream %u: message larger than %d bytes dropped", ev->rcv.rcv_sid,
                  RR_SCTP_MAX_MESSAGE_SIZE);
        a->reasm_overflow = TRUE;
        g_byte_array_set_size(a->reasm, 0);
    }
    if (!a->reasm_overflow)
        g_byte_array_append(a->reasm, ev->data, (guint)ev->len);
    if (!(ev->flags & MSG_EOR))
        return;
    if (!a->reasm_overflow)
        handle_message(a, ev->rcv.rcv_sid, ntohl(ev->rcv.rcv_ppid), a->reasm->data, a->reasm->len);
    a->reasm_overflow = FALSE;
    if (!a->freed)
        g_byte_array_set_size(a->reasm, 0);
}

static gboolean drain(gpointer data)
{
    Shared *s = data;
    GQueue events = G_QUEUE_INIT;
    g_mutex_lock(&s->lock);
    events = s->events;
    g_queue_init(&s->events);
    if (s->drain) {
        g_source_unref(s->drain);
        s->drain = NULL;
    }
    RrSctpAssociation *a = s->dead ? NULL : s->assoc;
    g_mutex_unlock(&s->lock);

    if (a)
        enter(a);
    Event *ev;
    while ((ev = g_queue_pop_head(&events)) != NULL) {
        if (a && !a->freed) {
            switch (ev->kind) {
            case EV_OUTPUT:
                a->cb.send(a, ev->data, ev->len, a->user_data);
                break;
            case EV_RECV:
                handle_recv(a, ev);
                break;
            case EV_EOF:
                report_down(a, "the socket was closed");
                break;
            }
        }
        event_free(ev);
    }
    if (a)
        leave(a);
    return G_SOURCE_REMOVE;
}

/* ---- public API ---- */

static gboolean set_opt(struct socket *sock, int level, int name, const void *val, socklen_t len,
                        const char *what, GError **error)
{
    if (usrsctp_setsockopt(sock, level, name, val, len) == 0)
        return TRUE;
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "SCTP socket option %s failed: %s", what,
                g_strerror(errno));
    return FALSE;
}

static gboolean configure_socket(struct socket *sock, GError **error)
{
    if (usrsctp_set_non_blocking(sock, 1) < 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "SCTP non-blocking mode failed: %s",
                    g_strerror(errno));
        return FALSE;
    }
    struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close = ABORT, no lingering */
    struct sctp_assoc_value reset = {.assoc_id = SCTP_ALL_ASSOC,
                                     .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
    struct sctp_initmsg init = {.sinit_num_ostreams = RR_SCTP_MAX_STREAMS,
                                .sinit_max_instreams = RR_SCTP_MAX_STREAMS};
    int on = 1;
    if (!set_opt(sock, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, "SO_LINGER", error) ||
        !set_opt(sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset,
                 "SCTP_ENABLE_STREAM_RESET", error) ||
        !set_opt(sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY", error) ||
        !set_opt(sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on, "SCTP_RECVRCVINFO", error) ||
        !set_opt(sock, IPPROTO_SCTP, SCTP_EXPLICIT_EOR, &on, sizeof on, "SCTP_EXPLICIT_EOR",
                 error) ||
        !set_opt(sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG", error))
        return FALSE;
    static const guint16 events[] = {SCTP_ASSOC_CHANGE, SCTP_SEND_FAILED_EVENT,
                                     SCTP_STREAM_RESET_EVENT, SCTP_STREAM_CHANGE_EVENT,
                                     SCTP_SHUTDOWN_EVENT};
    for (gsize i = 0; i < G_N_ELEMENTS(events); i++) {
        struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1};
        if (!set_opt(sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev, "SCTP_EVENT", error))
            return FALSE;
    }
    return TRUE;
}

RrSctpAssociation *rr_sctp_association_new(GMainContext *context, RrSctpRole role,
                                           guint16 local_port, guint16 remote_port,
                                           const RrSctpCallbacks *callbacks, gpointer user_data,
                                           GError **error)
{
    g_return_val_if_fail(callbacks != NULL && callbacks->send != NULL, NULL);
    usrsctp_acquire();

    RrSctpAssociation *a = g_new0(RrSctpAssociation, 1);
    a->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    a->role = role;
    a->local_port = local_port ? local_port : RR_SCTP_DEFAULT_PORT;
    a->remote_port = remote_port ? remote_port : RR_SCTP_DEFAULT_PORT;
    a->cb = *callbacks;
    a->user_data = user_data;
    a->channels =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)channel_free);
    a->pending_resets = g_array_new(FALSE, FALSE, sizeof(guint16));
    a->reasm = g_byte_array_new();
    a->early = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

    Shared *s = g_new0(Shared, 1);
    s->refcount = 1;
    g_mutex_init(&s->lock);
    s->context = g_main_context_ref(a->context);
    s->assoc = a;
    a->shared = s;

    g_mutex_lock(&registry_lock);
    if (!registry)
        registry = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, shared_unref);
    a->id = next_id++;
    if (next_id == 0)
        next_id = 1;
    g_hash_table_insert(registry, GUINT_TO_POINTER(a->id), shared_ref(s));
    g_mutex_unlock(&registry_lock);

    usrsctp_register_address(GUINT_TO_POINTER(a->id));
    a->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receive_cb, NULL, 0,
                             GUINT_TO_POINTER(a->id));
    if (!a->sock) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "cannot create an SCTP socket: %s",
                    g_strerror(errno));
        really_free(a);
        return NULL;
    }
    if (!configure_socket(a->sock, error)) {
        really_free(a);
        return NULL;
    }
    struct sockaddr_conn local = {.sconn_family = AF_CONN,
                                  .sconn_port = htons(a->local_port),
                                  .sconn_addr = GUINT_TO_POINTER(a->id)};
    if (usrsctp_bind(a->sock, (struct sockaddr *)&local, sizeof local) < 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "SCTP bind to port %u failed: %s",
                    a->local_port, g_strerror(errno));
        really_free(a);
        return NULL;
    }
    return a;
}

gboolean rr_sctp_association_connect(RrSctpAssociation *assoc, GError **error)
{
    RrSctpAssociation *a = assoc;
    if (a->connected)
        return TRUE;
    struct sockaddr_conn remote = {.sconn_family = AF_CONN,
                                   .sconn_port = htons(a->remote_port),
                                   .sconn_addr = GUINT_TO_POINTER(a->id)};
    if (usrsctp_connect(a->sock, (struct sockaddr *)&remote, sizeof remote) < 0 &&
        errno != EINPROGRESS) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "SCTP connect failed: %s",
                    g_strerror(errno));
        return FALSE;
    }
    a->connected = TRUE;
    struct sctp_paddrparams params;
    memset(&params, 0, sizeof params);
    memcpy(&params.spp_address, &remote, sizeof remote);
    params.spp_flags = SPP_PMTUD_DISABLE;
    /* usrsctp lets AF_CONN packets exceed spp_pathmtu by up to ~12 bytes (measured: 1150
     * gave 1160-byte packets): leave that room so packets stay within RR_SCTP_MTU. */
    params.spp_pathmtu = RR_SCTP_MTU - 12;
    if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof params) <
        0)
        g_warning("SCTP: cannot set the path MTU: %s", g_strerror(errno));
    /* The peer's INIT may have come in before we were ready: feed it now. */
    for (guint i = 0; i < a->early->len; i++) {
        gsize len;
        const guint8 *d = g_bytes_get_data(g_ptr_array_index(a->early, i), &len);
        usrsctp_conninput(GUINT_TO_POINTER(a->id), d, len, 0);
    }
    g_ptr_array_set_size(a->early, 0);
    return TRUE;
}

void rr_sctp_association_handle_packet(RrSctpAssociation *assoc, const guint8 *data, gsize len)
{
    if (assoc->freed || len == 0)
        return;
    if (!assoc->connected) {
        if (assoc->early->len < 16)
            g_ptr_array_add(assoc->early, g_bytes_new(data, len));
        return;
    }
    usrsctp_conninput(GUINT_TO_POINTER(assoc->id), data, len, 0);
}

gboolean rr_sctp_association_is_up(RrSctpAssociation *assoc)
{
    return assoc->up;
}

static gboolean check_up(RrSctpAssociation *a, GError **error)
{
    if (a->up && !a->freed)
        return TRUE;
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "the SCTP association is not up");
    return FALSE;
}

gboolean rr_sctp_association_open_channel(RrSctpAssociation *assoc, const RrDcepOpen *open,
                                          guint16 *stream, GError **error)
{
    RrSctpAssociation *a = assoc;
    if (!check_up(a, error))
        return FALSE;
    struct sctp_status status;
    socklen_t slen = sizeof status;
    memset(&status, 0, sizeof status);
    guint max = RR_SCTP_MAX_STREAMS;
    if (usrsctp_getsockopt(a->sock, IPPROTO_SCTP, SCTP_STATUS, &status, &slen) == 0)
        max = status.sstat_outstrms;
    guint sid = a->role == RR_SCTP_ROLE_DTLS_CLIENT ? 0 : 1;
    while (sid < max && g_hash_table_contains(a->channels, GUINT_TO_POINTER(sid)))
        sid += 2;
    if (sid >= max) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP,
                    "no free SCTP stream for a new data channel (%u streams)", max);
        return FALSE;
    }
    g_autoptr(GBytes) msg = rr_dcep_encode_open(open, error);
    if (!msg)
        return FALSE;
    gsize len;
    const guint8 *p = g_bytes_get_data(msg, &len);
    if (!sctp_send_raw(a, (guint16)sid, RR_DCEP_PPID, p, len, FALSE, RR_DCEP_CHANNEL_RELIABLE, 0,
                       error))
        return FALSE;
    Channel *ch = g_new0(Channel, 1);
    ch->label = g_strdup(open->label ? open->label : "");
    ch->protocol = g_strdup(open->protocol ? open->protocol : "");
    ch->info.stream = (guint16)sid;
    ch->info.label = ch->label;
    ch->info.protocol = ch->protocol;
    ch->info.channel_type = open->channel_type;
    ch->info.ordered = rr_dcep_channel_type_ordered(open->channel_type);
    ch->info.reliability_param = open->reliability_param;
    ch->info.priority = open->priority;
    ch->info.locally_opened = TRUE;
    g_hash_table_insert(a->channels, GUINT_TO_POINTER(sid), ch);
    if (stream)
        *stream = (guint16)sid;
    return TRUE;
}

gboolean rr_sctp_association_send(RrSctpAssociation *assoc, guint16 stream, guint32 ppid,
                                  const guint8 *data, gsize len, GError **error)
{
    RrSctpAssociation *a = assoc;
    if (!check_up(a, error))
        return FALSE;
    Channel *ch = g_hash_table_lookup(a->channels, GUINT_TO_POINTER(stream));
    if (!ch || ch->out_reset) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "no open data channel on stream %u",
                    stream);
        return FALSE;
    }
    static const guint8 zero = 0;
    if (len == 0) {
        data = &zero;
        len = 1;
        if (ppid == RR_DCEP_PPID_STRING)
            ppid = RR_DCEP_PPID_STRING_EMPTY;
        else if (ppid == RR_DCEP_PPID_BINARY)
            ppid = RR_DCEP_PPID_BINARY_EMPTY;
    }
    /* Until the ACK arrives, messages go ordered (RFC 8832 6.6). */
    gboolean unordered = !ch->info.ordered && ch->acked;
    return sctp_send_raw(a, stream, ppid, data, len, unordered, ch->info.channel_type,
                         ch->info.reliability_param, error);
}

gboolean rr_sctp_association_close_channel(RrSctpAssociation *assoc, guint16 stream, GError **error)
{
    RrSctpAssociation *a = assoc;
    if (!check_up(a, error))
        return FALSE;
    Channel *ch = g_hash_table_lookup(a->channels, GUINT_TO_POINTER(stream));
    if (!ch) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_SCTP, "no data channel on stream %u", stream);
        return FALSE;
    }
    if (!ch->out_reset) {
        ch->out_reset = TRUE;
        request_reset(a, stream);
    }
    return TRUE;
}

static void really_free(RrSctpAssociation *a)
{
    Shared *s = a->shared;
    g_mutex_lock(&registry_lock);
    g_hash_table_remove(registry, GUINT_TO_POINTER(a->id));
    g_mutex_unlock(&registry_lock);
    g_mutex_lock(&s->lock);
    s->dead = TRUE;
    s->assoc = NULL;
    if (s->drain) {
        g_source_destroy(s->drain);
        g_source_unref(s->drain);
        s->drain = NULL;
    }
    g_mutex_unlock(&s->lock);
    /* No lock held: usrsctp may call output_cb from here (the ABORT), which is dropped. */
    if (a->sock)
        usrsctp_close(a->sock);
    usrsctp_deregister_address(GUINT_TO_POINTER(a->id));
    shared_unref(s);
    g_hash_table_unref(a->channels);
    g_array_unref(a->pending_resets);
    g_byte_array_unref(a->reasm);
    g_ptr_array_unref(a->early);
    g_main_context_unref(a->context);
    g_free(a);
    usrsctp_release();
}

void rr_sctp_association_free(RrSctpAssociation *assoc)
{
    if (!assoc)
        return;
    memset(&assoc->cb, 0, sizeof assoc->cb);
    assoc->freed = TRUE;
    if (assoc->depth == 0)
        really_free(assoc);
}
