/* worker/webhook: LiveKit-compatible egress webhooks. See webhook.h.
 *
 * DESIGN: a Target is a URL with the key pair that signs for it (a worker target has no
 * egress id; a job target belongs to one). A Queue holds the events of one egress for one
 * target, in order; queues live in a table keyed by (target, egress id) and go away once
 * empty. At most one request per queue is in flight; a failure arms the queue's timer for
 * the backoff and the same event is sent again when it fires.
 */
#include "worker/webhook.h"

#include "rtc/token.h"
#include "worker/worker-error.h"

#include <libsoup/soup.h>
#include <openssl/rand.h>
#include <string.h>

#define CONTENT_TYPE      "application/webhook+json"
#define TOKEN_TTL_SECONDS 300 /* LiveKit signs webhooks for 5 minutes */

typedef struct {
    char *url;
    char *api_key;
    char *api_secret;
    char *egress_id; /* NULL: every job's events */
} Target;

typedef struct {
    char *event;
    GBytes *body;
    gint64 first_attempt_us; /* monotonic; 0: not tried yet */
} Event;

typedef struct _Queue Queue;
typedef struct {
    Queue *queue; /* NULL once the queue was freed (the request is then only cleaned up) */
    SoupMessage *msg;
} Request;

struct _Queue {
    RrWebhookNotifier *notifier;
    Target *target; /* borrowed from the notifier */
    char *key;      /* the table key */
    char *egress_id;
    GQueue events; /* Event* */
    Request *in_flight;
    GSource *timer;
    double backoff_s;
};

struct _RrWebhookNotifier {
    GMainContext *context;
    SoupSession *session;
    RrWebhookOptions opts;
    char *api_key;
    char *api_secret;
    GPtrArray *targets; /* Target*: the worker's first, then every job's */
    GHashTable *queues; /* key → Queue* */
    guint64 retries, given_up, delivered;
};

void rr_webhook_options_init(RrWebhookOptions *opts)
{
    opts->retry_initial_s = 0.5;
    opts->retry_max_s = 30;
    opts->give_up_s = 600;
    opts->request_timeout_s = 10;
}

static void target_free(gpointer p)
{
    Target *t = p;
    g_free(t->url);
    g_free(t->api_key);
    g_free(t->api_secret);
    g_free(t->egress_id);
    g_free(t);
}

static void event_free(gpointer p)
{
    Event *e = p;
    g_free(e->event);
    g_bytes_unref(e->body);
    g_free(e);
}

static void queue_free(gpointer p)
{
    Queue *q = p;
    if (q->in_flight)
        q->in_flight->queue = NULL; /* its callback only cleans up */
    if (q->timer) {
        g_source_destroy(q->timer);
        g_source_unref(q->timer);
    }
    g_queue_clear_full(&q->events, event_free);
    g_free(q->key);
    g_free(q->egress_id);
    g_free(q);
}

RrWebhookNotifier *rr_webhook_notifier_new(GMainContext *context, const char *api_key,
                                           const char *api_secret, const RrWebhookOptions *opts)
{
    g_return_val_if_fail(api_key && *api_key && api_secret && *api_secret, NULL);
    RrWebhookNotifier *n = g_new0(RrWebhookNotifier, 1);
    n->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    if (opts)
        n->opts = *opts;
    else
        rr_webhook_options_init(&n->opts);
    n->api_key = g_strdup(api_key);
    n->api_secret = g_strdup(api_secret);
    n->targets = g_ptr_array_new_with_free_func(target_free);
    n->queues = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, queue_free);
    g_main_context_push_thread_default(n->context);
    guint timeout = (guint)MAX(1.0, n->opts.request_timeout_s + 0.5);
    n->session = soup_session_new_with_options("timeout", timeout, "user-agent", "roomrec", NULL);
    g_main_context_pop_thread_default(n->context);
    return n;
}

void rr_webhook_notifier_free(RrWebhookNotifier *n)
{
    if (!n)
        return;
    g_main_context_push_thread_default(n->context);
    g_hash_table_destroy(n->queues); /* cancels nothing by itself: the session does below */
    soup_session_abort(n->session);
    g_object_unref(n->session);
    g_main_context_pop_thread_default(n->context);
    g_ptr_array_unref(n->targets);
    g_free(n->api_key);
    g_free(n->api_secret);
    g_main_context_unref(n->context);
    g_free(n);
}

static gboolean http_url(const char *url)
{
    g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
        return FALSE;
    return !g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") ||
           !g_ascii_strcasecmp(g_uri_get_scheme(uri), "https");
}

static void add_target(RrWebhookNotifier *n, const char *url, const char *secret, const char *key,
                       const char *egress_id)
{
    Target *t = g_new0(Target, 1);
    t->url = g_strdup(url);
    t->api_key = g_strdup(key);
    t->api_secret = g_strdup(secret);
    t->egress_id = g_strdup(egress_id);
    g_ptr_array_add(n->targets, t);
}

gboolean rr_webhook_notifier_add_url(RrWebhookNotifier *n, const char *url, GError **error)
{
    if (!http_url(url)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG,
                    "webhook.urls: must be an http:// or https:// URL");
        return FALSE;
    }
    add_target(n, url, n->api_secret, n->api_key, NULL);
    return TRUE;
}

gboolean rr_webhook_notifier_add_job_webhooks(RrWebhookNotifier *n, const char *egress_id,
                                              GPtrArray *webhooks, GError **error)
{
    g_return_val_if_fail(egress_id != NULL, FALSE);
    for (guint i = 0; webhooks && i < webhooks->len; i++) {
        const RrJobWebhook *w = g_ptr_array_index(webhooks, i);
        if (!http_url(w->url)) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "webhooks[%u].url: expected an http:// or https:// URL", i);
            return FALSE;
        }
        if (w->signing_key && *w->signing_key && strcmp(w->signing_key, n->api_key) != 0) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "webhooks[%u].signing_key: no secret for this key (roomrec signs with "
                        "its configured key pair only)",
                        i);
            return FALSE;
        }
    }
    for (guint i = 0; webhooks && i < webhooks->len; i++) {
        const RrJobWebhook *w = g_ptr_array_index(webhooks, i);
        add_target(n, w->url, n->api_secret, n->api_key, egress_id);
    }
    return TRUE;
}

const char *rr_webhook_event_for_status(RrEgressStatus status)
{
    if (status == RR_EGRESS_STARTING)
        return "egress_started";
    if (rr_egress_status_is_final(status))
        return "egress_ended";
    return "egress_updated";
}

char *rr_webhook_event_body(const char *event, const char *id, gint64 created_at,
                            const RrEgressInfo *info, gsize *length)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    g_autofree char *created = g_strdup_printf("%" G_GINT64_FORMAT, created_at);
    json_builder_set_member_name(b, "createdAt"); /* int64: a string in protobuf JSON */
    json_builder_add_string_value(b, created);
    json_builder_set_member_name(b, "egressInfo");
    rr_egress_info_build_json(info, b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, length);
}

/* "EV_" and 12 random letters and digits, like LiveKit's event ids. */
static char *event_id(void)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    guint8 raw[12];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        for (guint i = 0; i < sizeof(raw); i++)
            raw[i] = (guint8)g_random_int();
    char id[3 + sizeof(raw) + 1] = "EV_";
    for (guint i = 0; i < sizeof(raw); i++)
        id[3 + i] = alphabet[raw[i] % 62];
    id[3 + sizeof(raw)] = '\0';
    return g_strdup(id);
}

/* ---- sending ---- */

static void queue_kick(Queue *q);

static char *sign(const Target *t, GBytes *body)
{
    gsize len = 0;
    const guint8 *data = g_bytes_get_data(body, &len);
    guint8 digest[32];
    gsize dlen = sizeof(digest);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, data, (gssize)len);
    g_checksum_get_digest(sum, digest, &dlen);
    g_autofree char *b64 = g_base64_encode(digest, dlen);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(JsonObject) claims = json_object_new();
    json_object_set_string_member(claims, "iss", t->api_key);
    json_object_set_int_member(claims, "nbf", now);
    json_object_set_int_member(claims, "exp", now + TOKEN_TTL_SECONDS);
    json_object_set_string_member(claims, "sha256", b64);
    g_autoptr(GError) e = NULL;
    char *token = rr_token_sign(claims, t->api_secret, &e);
    if (!token)
        g_warning("webhook: cannot sign: %s", e->message);
    return token;
}

static gboolean on_retry(gpointer data)
{
    Queue *q = data;
    g_source_unref(q->timer);
    q->timer = NULL;
    queue_kick(q);
    return G_SOURCE_REMOVE;
}

/* The head event failed: retry it after the backoff, or give it up. */
static void queue_failed(Queue *q, const char *why)
{
    RrWebhookNotifier *n = q->notifier;
    Event *ev = g_queue_peek_head(&q->events);
    double elapsed = (double)(g_get_monotonic_time() - ev->first_attempt_us) / G_USEC_PER_SEC;
    double delay = q->backoff_s > 0 ? q->backoff_s : n->opts.retry_initial_s;
    if (elapsed + delay > n->opts.give_up_s) {
        g_warning("webhook %s for %s to %s given up after %.1f s: %s", ev->event, q->egress_id,
                  q->target->url, elapsed, why);
        n->given_up++;
        event_free(g_queue_pop_head(&q->events));
        q->backoff_s = 0;
        queue_kick(q);
        return;
    }
    g_info("webhook %s for %s to %s failed (%s); retrying in %.1f s", ev->event, q->egress_id,
           q->target->url, why, delay);
    n->retries++;
    q->backoff_s = MIN(delay * 2, n->opts.retry_max_s);
    q->timer = g_timeout_source_new((guint)(delay * 1000));
    g_source_set_callback(q->timer, on_retry, q, NULL);
    g_source_attach(q->timer, n->context);
}

static void on_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    Request *r = data;
    g_autoptr(GError) e = NULL;
    g_autoptr(GBytes) reply = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &e);
    Queue *q = r->queue;
    guint status = soup_message_get_status(r->msg);
    g_object_unref(r->msg);
    g_free(r);
    if (!q)
        return; /* the notifier is gone */
    q->in_flight = NULL;
    if (!e && SOUP_STATUS_IS_SUCCESSFUL(status)) {
        Event *ev = g_queue_pop_head(&q->events);
        g_debug("webhook %s delivered to %s", ev->event, q->target->url);
        event_free(ev);
        q->notifier->delivered++;
        q->backoff_s = 0;
        queue_kick(q);
        return;
    }
    g_autofree char *why = e ? g_strdup(e->message) : g_strdup_printf("HTTP %u", status);
    queue_failed(q, why);
}

/* Sends the head event unless one is in flight or waiting for its retry; drops the queue
 * once it is empty. */
static void queue_kick(Queue *q)
{
    RrWebhookNotifier *n = q->notifier;
    if (q->in_flight || q->timer)
        return;
    Event *ev = g_queue_peek_head(&q->events);
    if (!ev) {
        g_hash_table_remove(n->queues, q->key); /* frees q */
        return;
    }
    if (!ev->first_attempt_us)
        ev->first_attempt_us = g_get_monotonic_time();
    g_autofree char *token = sign(q->target, ev->body);
    SoupMessage *msg = token ? soup_message_new("POST", q->target->url) : NULL;
    if (!msg) {
        n->given_up++;
        g_warning("webhook %s to %s dropped: %s", ev->event, q->target->url,
                  token ? "bad URL" : "cannot sign");
        event_free(g_queue_pop_head(&q->events));
        queue_kick(q);
        return;
    }
    SoupMessageHeaders *h = soup_message_get_request_headers(msg);
    soup_message_headers_replace(h, "Authorization", token);
    soup_message_set_request_body_from_bytes(msg, CONTENT_TYPE, ev->body);
    Request *r = g_new0(Request, 1);
    r->queue = q;
    r->msg = g_object_ref(msg);
    q->in_flight = r;
    g_main_context_push_thread_default(n->context);
    soup_session_send_and_read_async(n->session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, r);
    g_main_context_pop_thread_default(n->context);
    g_object_unref(msg);
}

static void enqueue(RrWebhookNotifier *n, Target *t, guint index, const char *egress_id,
                    const char *event, GBytes *body)
{
    g_autofree char *key = g_strdup_printf("%u\n%s", index, egress_id);
    Queue *q = g_hash_table_lookup(n->queues, key);
    if (!q) {
        q = g_new0(Queue, 1);
        q->notifier = n;
        q->target = t;
        q->key = g_steal_pointer(&key);
        q->egress_id = g_strdup(egress_id);
        g_queue_init(&q->events);
        g_hash_table_insert(n->queues, q->key, q);
    }
    Event *ev = g_new0(Event, 1);
    ev->event = g_strdup(event);
    ev->body = g_bytes_ref(body);
    g_queue_push_tail(&q->events, ev);
    queue_kick(q);
}

void rr_webhook_notifier_notify(RrWebhookNotifier *n, const char *event, const RrEgressInfo *info)
{
    g_return_if_fail(n != NULL && event != NULL && info != NULL);
    const char *egress_id = info->egress_id ? info->egress_id : "";
    g_autofree char *id = event_id();
    gsize len = 0;
    char *text = rr_webhook_event_body(event, id, g_get_real_time() / G_USEC_PER_SEC, info, &len);
    g_autoptr(GBytes) body = g_bytes_new_take(text, len);
    for (guint i = 0; i < n->targets->len; i++) {
        Target *t = g_ptr_array_index(n->targets, i);
        if (!t->egress_id || strcmp(t->egress_id, egress_id) == 0)
            enqueue(n, t, i, egress_id, event, body);
    }
}

void rr_webhook_notifier_notify_json(RrWebhookNotifier *n, const char *event, const char *egress_id,
                                     JsonNode *info)
{
    g_return_if_fail(n != NULL && event != NULL && egress_id != NULL && info != NULL);
    g_autofree char *id = event_id();
    g_autofree char *created =
        g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "createdAt");
    json_builder_add_string_value(b, created);
    json_builder_set_member_name(b, "egressInfo");
    json_builder_add_value(b, json_node_copy(info));
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    gsize len = 0;
    char *text = json_to_string(root, FALSE);
    len = strlen(text);
    g_autoptr(GBytes) body = g_bytes_new_take(text, len);
    for (guint i = 0; i < n->targets->len; i++) {
        Target *t = g_ptr_array_index(n->targets, i);
        if (!t->egress_id || strcmp(t->egress_id, egress_id) == 0)
            enqueue(n, t, i, egress_id, event, body);
    }
}

void rr_webhook_notifier_notify_status(RrWebhookNotifier *n, const RrEgressInfo *info)
{
    rr_webhook_notifier_notify(n, rr_webhook_event_for_status(info->status), info);
}

guint64 rr_webhook_notifier_get_retries(const RrWebhookNotifier *n)
{
    return n->retries;
}

guint64 rr_webhook_notifier_get_given_up(const RrWebhookNotifier *n)
{
    return n->given_up;
}

guint64 rr_webhook_notifier_get_delivered(const RrWebhookNotifier *n)
{
    return n->delivered;
}

guint rr_webhook_notifier_get_pending(const RrWebhookNotifier *n)
{
    guint total = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, n->queues);
    while (g_hash_table_iter_next(&it, NULL, &v))
        total += g_queue_get_length(&((Queue *)v)->events);
    return total;
}
