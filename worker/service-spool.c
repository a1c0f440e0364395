/* worker/service-spool: the worker uploads the recordings waiting in its spool — at
 * start, then periodically while entries wait (SPOOL_RETRY_MIN_S doubling to
 * SPOOL_RETRY_MAX_S) and every SPOOL_SCAN_S otherwise — with the config's stores, on a
 * GTask thread so the loop stays live, and brings the statuses of their jobs up to date
 * (rr_upload_apply_spooled) in Redis. Entries another process is uploading (locked) are
 * skipped. See service-priv.h and docs/WORKER.md.
 */
#include "worker/service-priv.h"

#include "worker/upload.h"

#include <string.h>

#define SPOOL_RETRY_MIN_S 15
#define SPOOL_RETRY_MAX_S 600
#define SPOOL_SCAN_S      60

struct RrServiceSpool {
    RrService *svc; /* NULL once the service is gone */
    RrStore *primary, *backup;
    char *dir;
    GPtrArray *uploaded; /* RrSpoolUploaded* */
    guint remaining, busy;
    GError *error;
};

static gboolean on_spool_timer(gpointer ud);

/* The next look at the spool: sooner while something waits, backing off while it fails. */
static void schedule(RrService *s, gboolean waiting)
{
    if (s->spool_timer)
        g_source_remove(s->spool_timer);
    if (waiting)
        s->spool_delay_s =
            s->spool_delay_s ? MIN(s->spool_delay_s * 2, SPOOL_RETRY_MAX_S) : SPOOL_RETRY_MIN_S;
    else
        s->spool_delay_s = 0;
    guint delay = waiting ? s->spool_delay_s : SPOOL_SCAN_S;
    s->spool_timer = g_timeout_add_seconds(delay, on_spool_timer, s);
}

static void spool_free(RrServiceSpool *sp)
{
    g_clear_pointer(&sp->primary, rr_store_free);
    g_clear_pointer(&sp->backup, rr_store_free);
    g_free(sp->dir);
    g_ptr_array_unref(sp->uploaded);
    g_clear_error(&sp->error);
    g_free(sp);
}

static void retry_thread(GTask *task, gpointer source, gpointer data, GCancellable *c)
{
    RrServiceSpool *sp = data;
    rr_storage_spool_retry_match(sp->dir, sp->primary, sp->backup, NULL, NULL, NULL, &sp->remaining,
                                 &sp->busy, sp->uploaded, &sp->error);
    g_task_return_boolean(task, TRUE);
}

/* The egress id of a spool label ("EG_x", "EG_x#manifest", "EG_x#segment", ...). */
static char *egress_of(const char *label)
{
    const char *hash = strchr(label, '#');
    return hash ? g_strndup(label, hash - label) : g_strdup(label);
}

/* Applies every upload of one egress (@ups, RrSpoolUploaded*) to its status, written once:
 * nobody sees a COMPLETE status whose playlist location is not yet the object's. */
static void update_status(RrService *s, const char *id, GPtrArray *ups, guint remaining)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(s->queue, id, &e);
    g_autoptr(JsonParser) p = json_parser_new();
    if (!st || !st->info_json || !json_parser_load_from_data(p, st->info_json, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        g_message("worker: spool: %u file(s) of %s uploaded; no status to update (%s)", ups->len,
                  id, e ? e->message : "none");
        return;
    }
    JsonObject *info = json_node_get_object(json_parser_get_root(p));
    gboolean changed = FALSE;
    for (guint i = 0; i < ups->len; i++) {
        const RrSpoolUploaded *u = g_ptr_array_index(ups, i);
        if (rr_upload_apply_spooled(info, u, remaining)) {
            changed = TRUE;
            g_message("worker: spool: %s of %s uploaded to %s", u->key, id, u->result->location);
        }
    }
    if (!changed)
        return;
    const char *status = json_object_get_string_member_with_default(info, "status", "");
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, json_parser_get_root(p));
    g_autofree char *text = json_generator_to_data(gen, NULL);
    if (!rr_queue_set_status(s->queue, id, status, rr_egress_status_name_is_final(status), text,
                             s->consumer, 0, &e)) {
        g_warning("worker: spool: the status of %s not updated: %s", id, e->message);
        return;
    }
    g_message("worker: spool: %s: status %s", id, status);
    if (s->webhooks)
        rr_webhook_notifier_notify_json(s->webhooks, "egress_updated", id, json_parser_get_root(p));
}

static void on_retried(GObject *source, GAsyncResult *res, gpointer ud)
{
    RrServiceSpool *sp = g_task_get_task_data(G_TASK(res));
    RrService *s = sp->svc;
    if (!s)
        return;
    s->spool = NULL;
    if (sp->uploaded->len || sp->remaining || sp->error)
        g_message("worker: spool %s: %u uploaded, %u waiting (%u being uploaded elsewhere)%s%s",
                  sp->dir, sp->uploaded->len, sp->remaining, sp->busy, sp->error ? ": " : "",
                  sp->error ? sp->error->message : "");
    /* Grouped by egress, in upload order. */
    g_autoptr(GHashTable) by_id =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    for (guint i = 0; i < sp->uploaded->len; i++) {
        RrSpoolUploaded *u = g_ptr_array_index(sp->uploaded, i);
        if (!u->label || !*u->label)
            continue;
        char *id = egress_of(u->label);
        GPtrArray *ups = g_hash_table_lookup(by_id, id);
        if (!ups) {
            ups = g_ptr_array_new();
            g_hash_table_insert(by_id, id, ups);
            g_ptr_array_add(order, id);
        } else {
            g_free(id);
        }
        g_ptr_array_add(ups, u);
    }
    for (guint i = 0; i < order->len; i++) {
        const char *id = g_ptr_array_index(order, i);
        update_status(s, id, g_hash_table_lookup(by_id, id), sp->remaining);
    }
    if (!s->stopping)
        schedule(s, sp->remaining > 0);
}

/* Starts a retry now unless one runs; FALSE when there is nothing to do at all. */
static gboolean retry_now(RrService *s, gboolean at_start)
{
    const RrWorkerConfig *c = s->cfg;
    if (s->spool)
        return TRUE;
    g_autofree char *dir = rr_upload_spool_dir(c, s->opts.output_dir);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        return TRUE; /* nothing yet: look again later */
    if (!c->storage.has_s3) {
        if (at_start)
            g_warning("worker: recordings may wait in %s, but storage.s3 is not configured", dir);
        return FALSE;
    }
    if (rr_storage_spool_count_match(dir, NULL, NULL) == 0)
        return TRUE;
    g_autoptr(GError) e = NULL;
    RrServiceSpool *sp = g_new0(RrServiceSpool, 1);
    sp->svc = s;
    sp->dir = g_steal_pointer(&dir);
    sp->uploaded = g_ptr_array_new_with_free_func((GDestroyNotify)rr_spool_uploaded_free);
    sp->primary = rr_upload_store_from_config(&c->storage.s3, c->storage.prefix, "storage.s3", &e);
    if (sp->primary && c->backup.has_s3)
        sp->backup = rr_upload_store_from_config(&c->backup.s3, c->backup.prefix, "backup.s3", &e);
    if (e) {
        g_warning("worker: spool %s not retried: %s", sp->dir, e->message);
        spool_free(sp);
        return FALSE;
    }
    g_message("worker: uploading what waits in the spool %s", sp->dir);
    s->spool = sp;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, on_retried, NULL);
    g_task_set_task_data(task, sp, (GDestroyNotify)spool_free);
    g_task_run_in_thread(task, retry_thread);
    return TRUE;
}

static gboolean on_spool_timer(gpointer ud)
{
    RrService *s = ud;
    s->spool_timer = 0;
    if (s->stopping)
        return G_SOURCE_REMOVE;
    gboolean running = s->spool != NULL;
    if (retry_now(s, FALSE) && !s->spool) /* nothing waited: look again later */
        schedule(s, FALSE);
    else if (running)
        schedule(s, TRUE); /* the running one schedules itself; this is a fallback */
    return G_SOURCE_REMOVE;
}

void rr_service_spool_soon(RrService *s)
{
    if (!s->spool && !s->stopping && s->spool_delay_s == 0)
        schedule(s, TRUE);
}

void rr_service_spool_start(RrService *s)
{
    if (retry_now(s, TRUE) && !s->spool)
        schedule(s, FALSE);
}

void rr_service_spool_detach(RrService *s)
{
    if (s->spool)
        s->spool->svc = NULL;
    s->spool = NULL;
    if (s->spool_timer)
        g_source_remove(s->spool_timer);
    s->spool_timer = 0;
}
