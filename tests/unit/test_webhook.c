/* Unit tests for worker/webhook against a real HTTP server (libsoup's SoupServer on
 * 127.0.0.1): headers as LiveKit sends them, the JWT (signature checked with
 * rr_token_verify, sha256 claim recomputed here), the body's protobuf-JSON, order per
 * job under failures (503s), giving up, and a request's own targets and signing keys. */
#include "rtc/token.h"
#include "worker/webhook.h"
#include "worker/worker-error.h"

#include <libsoup/soup.h>
#include <string.h>

#define KEY    "APIwebhooktest"
#define SECRET "webhook-test-secret-0123456789abcdef"

typedef struct {
    char *path;
    char *content_type;
    char *authorization;
    char *body;
} Received;

typedef struct {
    SoupServer *server;
    char *base;          /* http://127.0.0.1:PORT */
    GPtrArray *received; /* Received*, the requests answered 200 */
    guint requests;      /* every request */
    guint fail_first;    /* answer 503 to this many requests first */
    char *fail_event;    /* answer 503 to every request carrying this event */
} Server;

static void received_free(gpointer p)
{
    Received *r = p;
    g_free(r->path);
    g_free(r->content_type);
    g_free(r->authorization);
    g_free(r->body);
    g_free(r);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer data)
{
    Server *s = data;
    s->requests++;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    char *text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
    if (s->requests <= s->fail_first || (s->fail_event && strstr(text, s->fail_event) != NULL)) {
        g_free(text);
        soup_server_message_set_status(msg, 503, NULL);
        return;
    }
    Received *r = g_new0(Received, 1);
    r->path = g_strdup(path);
    r->content_type = g_strdup(soup_message_headers_get_one(h, "Content-Type"));
    r->authorization = g_strdup(soup_message_headers_get_one(h, "Authorization"));
    r->body = text;
    g_ptr_array_add(s->received, r);
    g_assert_cmpstr(soup_server_message_get_method(msg), ==, "POST");
    soup_server_message_set_status(msg, 200, NULL);
}

static Server *server_new(void)
{
    Server *s = g_new0(Server, 1);
    s->server = soup_server_new(NULL, NULL);
    s->received = g_ptr_array_new_with_free_func(received_free);
    soup_server_add_handler(s->server, NULL, handler, s, NULL);
    g_autoptr(GError) e = NULL;
    g_assert_true(soup_server_listen_local(s->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &e));
    g_assert_no_error(e);
    GSList *uris = soup_server_get_uris(s->server);
    s->base = g_strdup_printf("http://127.0.0.1:%d", g_uri_get_port(uris->data));
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    return s;
}

static void server_free(Server *s)
{
    soup_server_disconnect(s->server);
    g_object_unref(s->server);
    g_ptr_array_unref(s->received);
    g_free(s->base);
    g_free(s->fail_event);
    g_free(s);
}

static RrWebhookOptions fast_options(void)
{
    RrWebhookOptions o;
    rr_webhook_options_init(&o);
    o.retry_initial_s = 0.05;
    o.retry_max_s = 0.2;
    return o;
}

/* Runs the default context until the notifier has nothing queued (or 60 s: a hang). */
static void drain(RrWebhookNotifier *n)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (rr_webhook_notifier_get_pending(n) > 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, TRUE);
    }
}

static void finish(RrWebhookNotifier *n)
{
    rr_webhook_notifier_free(n);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static JsonObject *parse_object(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

/* Checks one request the way LiveKit's WebhookReceiver does; returns the body. */
static JsonObject *check_request(const Received *r)
{
    g_assert_cmpstr(r->content_type, ==, "application/webhook+json");
    g_assert_nonnull(r->authorization);
    g_assert_false(g_str_has_prefix(r->authorization, "Bearer"));
    g_autoptr(GError) e = NULL;
    g_autoptr(JsonObject) claims = rr_token_verify(r->authorization, SECRET, KEY, 0, &e);
    g_assert_no_error(e);
    g_autofree guint8 *digest = g_malloc(32);
    gsize dlen = 32;
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)r->body, (gssize)strlen(r->body));
    g_checksum_get_digest(sum, digest, &dlen);
    g_autofree char *b64 = g_base64_encode(digest, dlen);
    g_assert_cmpstr(json_object_get_string_member(claims, "sha256"), ==, b64);
    gint64 nbf = json_object_get_int_member(claims, "nbf");
    gint64 exp = json_object_get_int_member(claims, "exp");
    g_assert_cmpint(exp - nbf, ==, 300);
    /* A wrong secret must not verify. */
    g_autoptr(JsonObject) bad = rr_token_verify(r->authorization, "another-secret-xyz", KEY, 0, &e);
    g_assert_null(bad);
    g_clear_error(&e);

    JsonObject *body = parse_object(r->body);
    g_assert_true(g_str_has_prefix(json_object_get_string_member(body, "id"), "EV_"));
    g_assert_cmpuint(strlen(json_object_get_string_member(body, "id")), ==, 15);
    const char *created = json_object_get_string_member(body, "createdAt");
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_assert_cmpint(g_ascii_strtoll(created, NULL, 10), >, now - 600);
    g_assert_cmpint(g_ascii_strtoll(created, NULL, 10), <=, now);
    g_assert_true(json_object_has_member(body, "egressInfo"));
    return body;
}

static const char *body_event(JsonObject *body)
{
    return json_object_get_string_member(body, "event");
}

static const char *body_status(JsonObject *body)
{
    return json_object_get_string_member(json_object_get_object_member(body, "egressInfo"),
                                         "status");
}

static RrEgressInfo *new_info(const char *egress_id)
{
    RrEgressInfo *info = rr_egress_info_new(egress_id, NULL);
    g_free(info->room_name);
    info->room_name = g_strdup("room1");
    return info;
}

/* Three status changes, the first three attempts refused: all arrive, in order. */
static void test_order_under_failures(void)
{
    Server *s = server_new();
    s->fail_first = 3;
    RrWebhookOptions o = fast_options();
    RrWebhookNotifier *n = rr_webhook_notifier_new(NULL, KEY, SECRET, &o);
    g_autofree char *url = g_strconcat(s->base, "/hook", NULL);
    g_autoptr(GError) e = NULL;
    g_assert_true(rr_webhook_notifier_add_url(n, url, &e));
    g_autoptr(RrEgressInfo) info = new_info("EG_order");
    rr_webhook_notifier_notify_status(n, info);
    rr_egress_info_set_status(info, RR_EGRESS_ACTIVE);
    info->started_at = rr_egress_now_ns();
    rr_webhook_notifier_notify_status(n, info);
    rr_egress_info_set_status(info, RR_EGRESS_ENDING);
    rr_webhook_notifier_notify_status(n, info);
    rr_egress_info_set_status(info, RR_EGRESS_COMPLETE);
    info->ended_at = rr_egress_now_ns();
    rr_webhook_notifier_notify_status(n, info);
    g_assert_cmpuint(rr_webhook_notifier_get_pending(n), ==, 4);
    drain(n);

    static const char *const events[] = {"egress_started", "egress_updated", "egress_updated",
                                         "egress_ended"};
    static const char *const statuses[] = {"EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING",
                                           "EGRESS_COMPLETE"};
    g_assert_cmpuint(s->received->len, ==, 4);
    g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < 4; i++) {
        const Received *r = g_ptr_array_index(s->received, i);
        g_assert_cmpstr(r->path, ==, "/hook");
        g_autoptr(JsonObject) body = check_request(r);
        g_assert_cmpstr(body_event(body), ==, events[i]);
        g_assert_cmpstr(body_status(body), ==, statuses[i]);
        JsonObject *ei = json_object_get_object_member(body, "egressInfo");
        g_assert_cmpstr(json_object_get_string_member(ei, "egressId"), ==, "EG_order");
        g_assert_cmpstr(json_object_get_string_member(ei, "roomName"), ==, "room1");
        /* int64 values are strings (protobuf JSON). */
        g_assert_cmpint(json_node_get_value_type(json_object_get_member(ei, "updatedAt")), ==,
                        G_TYPE_STRING);
        g_assert_true(g_hash_table_add(ids, g_strdup(json_object_get_string_member(body, "id"))));
    }
    g_assert_cmpuint(s->requests, ==, 7);
    g_assert_cmpuint(rr_webhook_notifier_get_retries(n), ==, 3);
    g_assert_cmpuint(rr_webhook_notifier_get_delivered(n), ==, 4);
    g_assert_cmpuint(rr_webhook_notifier_get_given_up(n), ==, 0);
    finish(n);
    server_free(s);
}

/* An event refused past give_up_s is dropped and the next one goes out. */
static void test_give_up(void)
{
    /* Giving up is logged as a warning: expected here, so not fatal. */
    GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    Server *s = server_new();
    s->fail_event = g_strdup("egress_started");
    RrWebhookOptions o = fast_options();
    o.give_up_s = 0.5;
    RrWebhookNotifier *n = rr_webhook_notifier_new(NULL, KEY, SECRET, &o);
    g_autofree char *url = g_strconcat(s->base, "/x", NULL);
    g_assert_true(rr_webhook_notifier_add_url(n, url, NULL));
    g_autoptr(RrEgressInfo) info = new_info("EG_give_up");
    rr_webhook_notifier_notify_status(n, info);
    rr_egress_info_set_status(info, RR_EGRESS_FAILED);
    rr_webhook_notifier_notify_status(n, info);
    drain(n);
    g_assert_cmpuint(rr_webhook_notifier_get_given_up(n), ==, 1);
    g_assert_cmpuint(rr_webhook_notifier_get_retries(n), >=, 1);
    g_assert_cmpuint(s->received->len, ==, 1);
    g_autoptr(JsonObject) body = check_request(g_ptr_array_index(s->received, 0));
    g_assert_cmpstr(body_event(body), ==, "egress_ended");
    g_assert_cmpstr(body_status(body), ==, "EGRESS_FAILED");
    finish(n);
    server_free(s);
    g_log_set_always_fatal(fatal);
}

/* Nothing listening: retried until a server is there (the port is taken by then). */
static void test_connection_refused(void)
{
    Server *s = server_new();
    g_autofree char *url = g_strconcat(s->base, "/late", NULL);
    guint16 port = (guint16)g_ascii_strtoull(strrchr(s->base, ':') + 1, NULL, 10);
    soup_server_disconnect(s->server);
    RrWebhookOptions o = fast_options();
    RrWebhookNotifier *n = rr_webhook_notifier_new(NULL, KEY, SECRET, &o);
    g_assert_true(rr_webhook_notifier_add_url(n, url, NULL));
    g_autoptr(RrEgressInfo) info = new_info("EG_late");
    rr_webhook_notifier_notify_status(n, info);
    rr_egress_info_set_status(info, RR_EGRESS_COMPLETE);
    rr_webhook_notifier_notify_status(n, info);
    while (rr_webhook_notifier_get_retries(n) < 2)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpuint(s->received->len, ==, 0);
    g_autoptr(GError) e = NULL;
    g_assert_true(soup_server_listen_local(s->server, port, SOUP_SERVER_LISTEN_IPV4_ONLY, &e));
    g_assert_no_error(e);
    drain(n);
    g_assert_cmpuint(s->received->len, ==, 2);
    g_autoptr(JsonObject) b0 = check_request(g_ptr_array_index(s->received, 0));
    g_autoptr(JsonObject) b1 = check_request(g_ptr_array_index(s->received, 1));
    g_assert_cmpstr(body_event(b0), ==, "egress_started");
    g_assert_cmpstr(body_event(b1), ==, "egress_ended");
    finish(n);
    server_free(s);
}

/* A request's own targets get only its job's events; unknown signing keys are refused. */
static void test_job_targets(void)
{
    Server *s = server_new();
    RrWebhookOptions o = fast_options();
    RrWebhookNotifier *n = rr_webhook_notifier_new(NULL, KEY, SECRET, &o);
    g_autofree char *all = g_strconcat(s->base, "/all", NULL);
    g_assert_true(rr_webhook_notifier_add_url(n, all, NULL));

    g_autofree char *job = g_strdup_printf(
        "{\"track\":{\"room_name\":\"r\",\"track_id\":\"TR_1\",\"webhooks\":["
        "{\"url\":\"%s/own\"},{\"url\":\"%s/own-signed\",\"signing_key\":\"" KEY "\"}]}}",
        s->base, s->base);
    g_autoptr(GError) e = NULL;
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse(job, -1, &e);
    g_assert_no_error(e);
    g_assert_true(rr_webhook_notifier_add_job_webhooks(n, "EG_a", spec->webhooks, &e));
    g_assert_no_error(e);

    g_autoptr(RrJobSpec) other =
        rr_job_spec_parse("{\"track\":{\"room_name\":\"r\",\"track_id\":\"TR_1\",\"webhooks\":["
                          "{\"url\":\"http://127.0.0.1:1/x\",\"signing_key\":\"APIunknown\"}]}}",
                          -1, &e);
    g_assert_no_error(e);
    g_assert_false(rr_webhook_notifier_add_job_webhooks(n, "EG_c", other->webhooks, &e));
    g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB);
    g_assert_true(g_str_has_prefix(e->message, "webhooks[0].signing_key: no secret"));
    g_clear_error(&e);
    g_assert_false(rr_webhook_notifier_add_url(n, "ftp://x/y", &e));
    g_clear_error(&e);

    g_autoptr(RrEgressInfo) a = new_info("EG_a");
    g_autoptr(RrEgressInfo) b = new_info("EG_b");
    rr_webhook_notifier_notify_status(n, a);
    rr_webhook_notifier_notify_status(n, b);
    drain(n);
    g_assert_cmpuint(s->received->len, ==, 4);
    guint to_all = 0, own = 0;
    for (guint i = 0; i < s->received->len; i++) {
        const Received *r = g_ptr_array_index(s->received, i);
        g_autoptr(JsonObject) body = check_request(r);
        const char *id = json_object_get_string_member(
            json_object_get_object_member(body, "egressInfo"), "egressId");
        if (!strcmp(r->path, "/all"))
            to_all++;
        else {
            g_assert_cmpstr(id, ==, "EG_a");
            own++;
        }
    }
    g_assert_cmpuint(to_all, ==, 2);
    g_assert_cmpuint(own, ==, 2);
    finish(n);
    server_free(s);
}

static void test_events_for_status(void)
{
    g_assert_cmpstr(rr_webhook_event_for_status(RR_EGRESS_STARTING), ==, "egress_started");
    g_assert_cmpstr(rr_webhook_event_for_status(RR_EGRESS_ACTIVE), ==, "egress_updated");
    g_assert_cmpstr(rr_webhook_event_for_status(RR_EGRESS_ENDING), ==, "egress_updated");
    g_assert_cmpstr(rr_webhook_event_for_status(RR_EGRESS_COMPLETE), ==, "egress_ended");
    g_assert_cmpstr(rr_webhook_event_for_status(RR_EGRESS_ABORTED), ==, "egress_ended");
    g_autoptr(RrEgressInfo) info = new_info("EG_body");
    g_autofree char *text = rr_webhook_event_body("egress_started", "EV_x", 1700000000, info, NULL);
    g_assert_true(g_str_has_prefix(
        text, "{\"event\":\"egress_started\",\"id\":\"EV_x\",\"createdAt\":\"1700000000\","
              "\"egressInfo\":{\"egressId\":\"EG_body\""));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/webhook/order-under-failures", test_order_under_failures);
    g_test_add_func("/worker/webhook/give-up", test_give_up);
    g_test_add_func("/worker/webhook/connection-refused", test_connection_refused);
    g_test_add_func("/worker/webhook/job-targets", test_job_targets);
    g_test_add_func("/worker/webhook/events", test_events_for_status);
    return g_test_run();
}
