/* worker/service-health: the health endpoint and Prometheus metrics of `roomrec worker`
 * (libsoup SoupServer on health_port and prometheus_port, one server when they are the
 * same port; 0 turns one off).
 *
 *   GET /health   200 {"status":"ok",...} while taking jobs; 503 with "draining" or
 *                 "stopping" once it does not (a load balancer stops sending work)
 *   GET /metrics  Prometheus text: roomrec_jobs_total{type,result}, roomrec_running_jobs,
 *                 roomrec_capacity, roomrec_capacity_available, roomrec_committed_cost(_max),
 *                 roomrec_cpu_used_cores, roomrec_memory_bytes, roomrec_redis_reconnects_total,
 *                 roomrec_webhook_retries_total, ...
 * Served on the supervisor's main context; listens on 127.0.0.1 unless ROOMREC_HEALTH_ADDR
 * says otherwise (e.g. 0.0.0.0 in a container).
 */
#include "worker/service-priv.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void rr_service_count_result(RrService *s, const char *type, const char *result)
{
    g_autofree char *key = g_strdup_printf("%s\t%s", type, result);
    guint64 n = GPOINTER_TO_SIZE(g_hash_table_lookup(s->results, key));
    g_hash_table_replace(s->results, g_steal_pointer(&key), GSIZE_TO_POINTER(n + 1));
}

static gint64 rss_bytes(int pid)
{
    g_autofree char *path =
        pid ? g_strdup_printf("/proc/%d/statm", pid) : g_strdup("/proc/self/statm");
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    unsigned long size, rss;
    if (sscanf(text, "%lu %lu", &size, &rss) != 2)
        return 0;
    return (gint64)rss * sysconf(_SC_PAGESIZE);
}

static char *metrics_text(RrService *s)
{
    GString *t = g_string_new(NULL);
    gint64 now = g_get_monotonic_time();
    g_string_append(t, "# HELP roomrec_jobs_total Jobs finished, by type and final result.\n"
                       "# TYPE roomrec_jobs_total counter\n");
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->results);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_auto(GStrv) parts = g_strsplit(k, "\t", 2);
        g_string_append_printf(
            t, "roomrec_jobs_total{type=\"%s\",result=\"%s\"} %" G_GUINT64_FORMAT "\n", parts[0],
            parts[1] ? parts[1] : "", (guint64)GPOINTER_TO_SIZE(v));
    }
    gint64 mem = rss_bytes(0);
    guint running = 0;
    g_hash_table_iter_init(&it, s->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        RrServiceJob *j = v;
        if (j->child && !j->gone) {
            running++;
            mem += rss_bytes(rr_service_child_pid(j->child));
        } else if (j->room) {
            running++;
        }
    }
    g_autoptr(GArray) room_pids = g_array_new(FALSE, FALSE, sizeof(int));
    rr_service_rooms_pids(s, room_pids);
    for (guint i = 0; i < room_pids->len; i++)
        mem += rss_bytes(g_array_index(room_pids, int, i));
    g_string_append_printf(
        t,
        "# TYPE roomrec_jobs_rejected_total counter\nroomrec_jobs_rejected_total %" G_GUINT64_FORMAT
        "\n# TYPE roomrec_running_jobs gauge\nroomrec_running_jobs %u\n"
        "# TYPE roomrec_capacity gauge\nroomrec_capacity %.3f\n"
        "# TYPE roomrec_capacity_available gauge\nroomrec_capacity_available %.3f\n"
        "# TYPE roomrec_committed_cost gauge\nroomrec_committed_cost %.3f\n"
        "# TYPE roomrec_committed_cost_max gauge\nroomrec_committed_cost_max %.3f\n"
        "# TYPE roomrec_cpu_used_cores gauge\nroomrec_cpu_used_cores %.3f\n"
        "# TYPE roomrec_memory_bytes gauge\nroomrec_memory_bytes %" G_GINT64_FORMAT "\n"
        "# TYPE roomrec_redis_reconnects_total counter\nroomrec_redis_reconnects_total "
        "%" G_GUINT64_FORMAT
        "\n# TYPE roomrec_redis_errors_total counter\nroomrec_redis_errors_total %" G_GUINT64_FORMAT
        "\n# TYPE roomrec_draining gauge\nroomrec_draining %d\n",
        s->jobs_rejected, running, rr_admission_capacity(s->admission),
        rr_admission_available(s->admission, now), rr_admission_committed(s->admission),
        s->max_committed, rr_admission_measured(s->admission), mem, s->redis_reconnects,
        s->redis_errors, s->draining || s->stopping);
    if (s->webhooks)
        g_string_append_printf(t,
                               "# TYPE roomrec_webhook_retries_total "
                               "counter\nroomrec_webhook_retries_total %" G_GUINT64_FORMAT
                               "\n# TYPE roomrec_webhook_given_up_total "
                               "counter\nroomrec_webhook_given_up_total %" G_GUINT64_FORMAT
                               "\n# TYPE roomrec_webhook_delivered_total "
                               "counter\nroomrec_webhook_delivered_total %" G_GUINT64_FORMAT "\n",
                               rr_webhook_notifier_get_retries(s->webhooks),
                               rr_webhook_notifier_get_given_up(s->webhooks),
                               rr_webhook_notifier_get_delivered(s->webhooks));
    return g_string_free(t, FALSE);
}

static void on_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer ud)
{
    RrService *s = ud;
    if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
        soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (strcmp(path, "/metrics") == 0 && server == (s->metrics ? s->metrics : s->health)) {
        char *text = metrics_text(s);
        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response(msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE, text,
                                         strlen(text));
        return;
    }
    if (strcmp(path, "/health") == 0 || strcmp(path, "/") == 0) {
        const char *state = s->stopping ? "stopping" : s->draining ? "draining" : "ok";
        char *body =
            g_strdup_printf("{\"status\":\"%s\",\"worker\":\"%s\",\"running\":%u,\"redis\":%s}\n",
                            state, s->consumer, g_hash_table_size(s->jobs),
                            rr_queue_is_connected(s->queue) ? "true" : "false");
        soup_server_message_set_status(msg, strcmp(state, "ok") == 0 ? 200 : 503, NULL);
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, body,
                                         strlen(body));
        return;
    }
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static SoupServer *listen_on(RrService *s, gint64 port, GError **error)
{
    SoupServer *server = soup_server_new("server-header", "roomrec", NULL);
    soup_server_add_handler(server, NULL, on_request, s, NULL);
    const char *addr = g_getenv("ROOMREC_HEALTH_ADDR");
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(addr ? addr : "127.0.0.1");
    if (!ia) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "ROOMREC_HEALTH_ADDR: not an IP address");
        g_object_unref(server);
        return NULL;
    }
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, (guint16)port);
    g_autoptr(GError) e = NULL;
    if (!soup_server_listen(server, sa, 0, &e)) {
        g_set_error(error, e->domain, e->code, "health_port/prometheus_port %d: %s", (int)port,
                    e->message);
        g_object_unref(server);
        return NULL;
    }
    g_message("worker: health and metrics on http://%s:%d/", addr ? addr : "127.0.0.1", (int)port);
    return server;
}

gboolean rr_service_health_start(RrService *s, GError **error)
{
    gint64 hp = s->cfg->health_port, mp = s->cfg->prometheus_port;
    if (hp > 0 && !(s->health = listen_on(s, hp, error)))
        return FALSE;
    if (mp > 0 && mp != hp && !(s->metrics = listen_on(s, mp, error)))
        return FALSE;
    return TRUE;
}

void rr_service_health_stop(RrService *s)
{
    if (s->health)
        soup_server_disconnect(s->health);
    if (s->metrics)
        soup_server_disconnect(s->metrics);
    g_clear_object(&s->health);
    g_clear_object(&s->metrics);
}
