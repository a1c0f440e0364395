/* worker/service: the supervisor's loop — reading jobs within capacity, leases, control,
 * signals. See service.h; one job's life is in service-job.c. */
#include "worker/service-priv.h"

#include "worker/log.h"
#include "worker/worker-error.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define READ_INTERVAL_MS 500
#define TICK_INTERVAL_MS 1000

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

static void queue_error(RrService *s, const char *what, const GError *e)
{
    if (g_error_matches(e, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED)) {
        if (s->was_connected)
            g_warning("worker: Redis unreachable (%s): %s; recordings go on, retrying", what,
                      e->message);
        s->was_connected = FALSE;
    } else {
        g_warning("worker: %s: %s", what, e->message);
    }
    s->redis_errors++;
}

static gboolean on_lease(gpointer ud);

static gboolean on_lease_now(gpointer ud)
{
    RrService *s = ud;
    s->lease_now = 0;
    on_lease(s);
    return G_SOURCE_REMOVE;
}

static void note_connected(RrService *s)
{
    if (!s->was_connected && rr_queue_is_connected(s->queue)) {
        if (s->ever_connected) {
            s->redis_reconnects++;
            g_message("worker: Redis reachable again at %s", rr_queue_address(s->queue));
            /* Refresh what we hold at once: the other workers wait a lease after their
             * own reconnect before they reclaim anything, and we must be first. */
            if (!s->lease_now)
                s->lease_now = g_idle_add(on_lease_now, s);
        }
        s->was_connected = TRUE;
        s->ever_connected = TRUE;
    }
}

static void maybe_quit(RrService *s)
{
    if ((s->draining || s->stopping) && g_hash_table_size(s->jobs) == 0) {
        g_message("worker: %s, no job left: exiting", s->stopping ? "stopped" : "drained");
        g_main_loop_quit(s->loop);
    }
}

/* Drops the jobs that are done; writes what is pending. */
static void flush_jobs(RrService *s)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (rr_service_job_flush(v))
            g_hash_table_iter_remove(&it);
    maybe_quit(s);
}

static gboolean on_read(gpointer ud)
{
    RrService *s = ud;
    if (s->draining || s->stopping)
        return G_SOURCE_CONTINUE;
    gint64 now = now_us();
    rr_admission_sample_proc(s->admission, now);
    /* Up to a few jobs per round while they fit: the available cost is recomputed after
     * each start, which counts the new job at its full cost. */
    for (int i = 0; i < 4; i++) {
        double avail = rr_admission_available(s->admission, now);
        /* An idle worker takes the next job whatever it costs: a job dearer than any
         * worker's capacity would otherwise hold the first-in-first-out queue forever. */
        if (rr_admission_running(s->admission) == 0)
            avail = 1e9;
        if (avail <= 0)
            break;
        RrQueueJob *job = NULL;
        double needed = 0;
        g_autoptr(GError) e = NULL;
        RrQueueReadResult r = rr_queue_read(s->queue, s->consumer, avail, &job, &needed, &e);
        if (e) {
            queue_error(s, "reading jobs", e);
            break;
        }
        note_connected(s);
        if (r != RR_QUEUE_READ_JOB)
            break;
        g_message("worker: took job %s (%s, cost %.2f, part %u) with %.2f available",
                  job->egress_id, job->type, job->cost, job->part, avail);
        rr_service_job_start(s, job);
    }
    flush_jobs(s);
    return G_SOURCE_CONTINUE;
}

static gboolean on_lease(gpointer ud)
{
    RrService *s = ud;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        RrServiceJob *j = v;
        if (j->acked || j->lost || (j->gone && j->final_written))
            continue;
        gint64 sent = now_us();
        g_autoptr(GError) e = NULL;
        if (rr_queue_refresh(s->queue, s->consumer, j->q, &e)) {
            if (j->lease_warned)
                g_message("worker: job %s: lease refreshed again", j->q->egress_id);
            j->refresh_ok_us = sent;
            j->lease_warned = FALSE;
            note_connected(s);
        } else if (g_error_matches(e, RR_QUEUE_ERROR, RR_QUEUE_ERROR_LOST) ||
                   g_error_matches(e, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND)) {
            g_warning("worker: job %s: lease lost (%s): stopping our copy", j->q->egress_id,
                      e->message);
            j->lost = TRUE;
            rr_service_job_stop(j, "lease lost");
        } else {
            queue_error(s, "refreshing a lease", e);
            /* Redis away: the recording goes on (docs/WORKER.md, "Redis unreachable"). */
            gint64 lease_us = (gint64)rr_queue_lease_ms(s->queue) * 1000;
            if (!j->lease_warned && sent - j->refresh_ok_us > lease_us) {
                g_warning("worker: job %s: lease not refreshed for %.1f s: recording on; it "
                          "stops if another worker holds it when Redis is back",
                          j->q->egress_id, (double)(sent - j->refresh_ok_us) / 1e6);
                j->lease_warned = TRUE;
            }
        }
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_tick(gpointer ud)
{
    RrService *s = ud;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        rr_service_job_control(v);
    flush_jobs(s);
    return G_SOURCE_CONTINUE;
}

void rr_service_drain(RrService *s)
{
    if (s->draining)
        return;
    s->draining = TRUE;
    g_message("worker: draining: no new jobs; %u running will finish", g_hash_table_size(s->jobs));
    maybe_quit(s);
}

void rr_service_stop_all(RrService *s)
{
    if (s->stopping) {
        g_message("worker: second stop: ending the recording processes now");
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, s->jobs);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            RrServiceJob *j = v;
            if (j->child && !j->gone)
                rr_service_child_signal(j->child, SIGKILL);
        }
        rr_service_rooms_kill(s);
        return;
    }
    s->stopping = TRUE;
    g_message("worker: stopping every recording (%u)", g_hash_table_size(s->jobs));
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        rr_service_job_stop(v, "the worker stops");
    maybe_quit(s);
}

static gboolean on_sigterm(gpointer ud)
{
    rr_service_drain(ud);
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer ud)
{
    rr_service_stop_all(ud);
    return G_SOURCE_CONTINUE;
}

static char *default_worker_id(void)
{
    return g_strdup_printf("%s-%d", g_get_host_name(), (int)getpid());
}

RrService *rr_service_new(const RrServiceOptions *opts, GError **error)
{
    const RrWorkerConfig *c = opts->config;
    g_autoptr(RrQueue) queue = NULL;
    {
        RrQueueConfig qc;
        rr_queue_config_init(&qc);
        g_autofree char *host = NULL;
        int port = 6379;
        if (c->redis.address && !rr_queue_parse_address(c->redis.address, &host, &port, error))
            return NULL;
        if (host)
            qc.host = host;
        qc.port = port;
        qc.username = c->redis.username;
        qc.password = c->redis.password;
        qc.db = (int)c->redis.db;
        qc.use_tls = c->redis.use_tls;
        if (c->redis.sentinel_master_name && *c->redis.sentinel_master_name) {
            qc.sentinel_addrs = (const char *const *)c->redis.sentinel_addresses;
            qc.sentinel_master = c->redis.sentinel_master_name;
            qc.sentinel_password = c->redis.sentinel_password;
        }
        if (c->key_prefix)
            qc.prefix = c->key_prefix;
        if (c->lease_seconds > 0)
            qc.lease_ms = (guint)(c->lease_seconds * 1000);
        queue = rr_queue_new(&qc, error);
        if (!queue)
            return NULL;
    }
    RrService *s = g_new0(RrService, 1);
    s->opts = *opts;
    s->cfg = c;
    s->queue = g_steal_pointer(&queue);
    RrAdmissionConfig ac;
    rr_admission_config_init(&ac);
    ac.room_composite = c->cpu_cost.room_composite_cpu_cost;
    ac.audio_room_composite = c->cpu_cost.audio_room_composite_cpu_cost;
    ac.participant = c->cpu_cost.participant_cpu_cost;
    ac.track_composite = c->cpu_cost.track_composite_cpu_cost;
    ac.track = c->cpu_cost.track_cpu_cost;
    ac.max_cpu_utilization = c->cpu_cost.max_cpu_utilization;
    const char *cores = g_getenv("ROOMREC_CPU_CORES"); /* tests: a machine of N cores */
    if (cores)
        ac.cores = (guint)g_ascii_strtoull(cores, NULL, 10);
    s->admission = rr_admission_new(&ac);
    s->consumer = c->worker_id && *c->worker_id ? g_strdup(c->worker_id) : default_worker_id();
    s->jobs =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rr_service_job_free);
    s->results = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->rooms = g_ptr_array_new_with_free_func((GDestroyNotify)rr_service_room_free);
    s->loop = g_main_loop_new(NULL, FALSE);
    s->tmp_dir = g_dir_make_tmp("roomrec-worker-XXXXXX", error);
    if (!s->tmp_dir) {
        rr_service_free(s);
        return NULL;
    }
    const char *wkey = c->webhook.api_key ? c->webhook.api_key : c->api_key;
    const char *wsecret = wkey ? rr_worker_config_secret_for_key(c, wkey) : NULL;
    if (wkey && wsecret) {
        s->webhooks = rr_webhook_notifier_new(NULL, wkey, wsecret, NULL);
        for (char **u = c->webhook.urls; u && *u; u++)
            if (!rr_webhook_notifier_add_url(s->webhooks, *u, error)) {
                rr_service_free(s);
                return NULL;
            }
    } else if (c->webhook.urls && c->webhook.urls[0]) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "webhook.urls: webhooks need an api_key with its api_secret to sign them");
        rr_service_free(s);
        return NULL;
    }
    if (!rr_service_health_start(s, error)) {
        rr_service_free(s);
        return NULL;
    }
    return s;
}

int rr_service_run(RrService *s)
{
    g_autoptr(GError) e = NULL;
    if (!rr_queue_connect(s->queue, &e))
        g_warning("worker: Redis not reachable yet: %s (retrying)", e->message);
    else
        note_connected(s);
    s->started_us = now_us();
    rr_service_spool_start(s);
    g_message("worker: %s ready: capacity %.2f (%.2f of %u cores), lease %u ms, prefix %s",
              s->consumer, rr_admission_capacity(s->admission),
              s->cfg->cpu_cost.max_cpu_utilization, g_get_num_processors(),
              rr_queue_lease_ms(s->queue), rr_queue_prefix(s->queue));
    guint lease = MAX(rr_queue_lease_ms(s->queue) / 3, 100);
    s->read_timer = g_timeout_add(READ_INTERVAL_MS, on_read, s);
    s->lease_timer = g_timeout_add(lease, on_lease, s);
    s->tick_timer = g_timeout_add(TICK_INTERVAL_MS, on_tick, s);
    s->sig_term = g_unix_signal_add(SIGTERM, on_sigterm, s);
    s->sig_int = g_unix_signal_add(SIGINT, on_sigint, s);
    on_read(s);
    g_main_loop_run(s->loop);
    return s->exit_code;
}

void rr_service_free(RrService *s)
{
    if (!s)
        return;
    guint *sources[] = {&s->read_timer, &s->lease_timer, &s->tick_timer,
                        &s->sig_term,   &s->sig_int,     &s->lease_now};
    for (guint i = 0; i < G_N_ELEMENTS(sources); i++)
        if (*sources[i])
            g_source_remove(*sources[i]);
    rr_service_health_stop(s);
    rr_service_spool_detach(s);
    g_clear_pointer(&s->jobs, g_hash_table_unref);
    g_clear_pointer(&s->rooms, g_ptr_array_unref);
    g_clear_pointer(&s->results, g_hash_table_unref);
    g_clear_pointer(&s->webhooks, rr_webhook_notifier_free);
    g_clear_pointer(&s->admission, rr_admission_free);
    g_clear_pointer(&s->queue, rr_queue_free);
    g_clear_pointer(&s->loop, g_main_loop_unref);
    if (s->tmp_dir)
        g_rmdir(s->tmp_dir);
    g_free(s->tmp_dir);
    g_free(s->consumer);
    g_free(s);
}
