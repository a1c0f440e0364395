/* worker/service-takeover: a job reclaimed from a dead worker after its recording had
 * ended. Its child had moved the finished files into the spool before their upload
 * (worker/upload.h, rr_upload_stage) and reported it (status ENDING listing spoolPath;
 * the worker then set the stage "uploading" in Redis). The worker that reclaims such a
 * job records no new part: it uploads the job's spool entries (with the job's own s3 or
 * the config's stores, the same keys) on a GTask thread, after moving into the spool any
 * finished file its ENDING status lists at its output path (a kill between the final
 * rename and the staging), then finishes the status from
 * what Redis holds: COMPLETE with the objects' locations, or FAILED "upload failed" with
 * the files left in the spool (a later spool retry turns it COMPLETE). Entries another
 * process is uploading are waited for (TAKEOVER_BUSY_RETRY_MS) while the lease is kept.
 * See service-priv.h and docs/WORKER.md.
 */
#include "worker/service-priv.h"

#include "worker/log.h"
#include "worker/upload.h"
#include "worker/worker-error.h"

#include <string.h>

#define TAKEOVER_BUSY_RETRY_MS 1000

struct RrServiceTakeover {
    RrServiceJob *job; /* NULL once the job is gone */
    RrUpload *upload;
    char *egress_id;
    GPtrArray *uploaded; /* RrSpoolUploaded* */
    guint remaining, busy;
    GError *error;
    guint retry;         /* timer while entries are busy */
    GPtrArray *to_stage; /* finished files still at their output paths (char*) */
    GHashTable *staged;  /* output path → spool data path */
    guint stage_failed;  /* files that could not be moved into the spool */
};

static void takeover_free(RrServiceTakeover *t)
{
    if (t->retry)
        g_source_remove(t->retry);
    rr_upload_free(t->upload);
    g_free(t->egress_id);
    g_ptr_array_unref(t->uploaded);
    g_ptr_array_unref(t->to_stage);
    g_hash_table_unref(t->staged);
    g_clear_error(&t->error);
    g_free(t);
}

static RrServiceTakeover *takeover_new(RrServiceJob *j)
{
    RrServiceTakeover *t = g_new0(RrServiceTakeover, 1);
    t->job = j;
    t->egress_id = g_strdup(j->q->egress_id);
    t->uploaded = g_ptr_array_new_with_free_func((GDestroyNotify)rr_spool_uploaded_free);
    t->to_stage = g_ptr_array_new_with_free_func(g_free);
    t->staged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return t;
}

/* The finished files an ENDING (not final) status lists at their output paths: regular
 * files, not ".part", not in the spool. */
static void finished_files(RrService *s, const char *egress_id, const char *spool_dir,
                           GPtrArray *out)
{
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(s->queue, egress_id, NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    if (!st || st->final || g_strcmp0(st->status, "EGRESS_ENDING") != 0 || !st->info_json ||
        !json_parser_load_from_data(p, st->info_json, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        return;
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonNode *fr = json_object_get_member(o, "fileResults");
    JsonArray *a = fr && JSON_NODE_HOLDS_ARRAY(fr) ? json_node_get_array(fr) : NULL;
    g_autofree char *spool_slash = g_strconcat(spool_dir, "/", NULL);
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *el = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(el))
            continue;
        JsonObject *f = json_node_get_object(el);
        const char *loc = json_object_get_string_member_with_default(f, "location", NULL);
        if (loc && g_path_is_absolute(loc) && !json_object_has_member(f, "spoolPath") &&
            !g_str_has_suffix(loc, ".part") && !g_str_has_prefix(loc, spool_slash) &&
            g_file_test(loc, G_FILE_TEST_IS_REGULAR) && !g_file_test(loc, G_FILE_TEST_IS_SYMLINK))
            g_ptr_array_add(out, g_strdup(loc));
    }
}

static RrUpload *upload_for(RrServiceJob *j, GError **error)
{
    RrService *s = j->svc;
    RrUploadConfig uc = {.job = j->spec, .config = s->cfg, .output_dir = s->opts.output_dir};
    return rr_upload_new(&uc, error);
}

static void start_thread(RrServiceTakeover *t);
static void finish(RrServiceTakeover *t);

gboolean rr_service_takeover_try(RrServiceJob *j)
{
    RrService *s = j->svc;
    g_autofree char *stage = NULL;
    g_autoptr(GError) e = NULL;
    if (!rr_queue_get_stage(s->queue, j->q->egress_id, &stage, &e))
        g_warning("worker: job %s: its stage is unknown: %s", j->q->egress_id, e->message);
    g_clear_error(&e);
    RrUpload *u = upload_for(j, &e);
    if (!u && !stage)
        return FALSE; /* nothing to upload to: a job that does not upload */
    RrServiceTakeover *t = takeover_new(j);
    t->upload = u;
    guint local = 0;
    if (u) {
        local = rr_upload_spool_count_of(rr_upload_get_spool_dir(u), j->q->egress_id);
        finished_files(s, j->q->egress_id, rr_upload_get_spool_dir(u), t->to_stage);
    }
    if (g_strcmp0(stage, "uploading") != 0 && local == 0 && t->to_stage->len == 0) {
        takeover_free(t);
        return FALSE;
    }
    g_message("worker: job %s part %u: its recording had ended (stage %s, %u file(s) in our "
              "spool, %u finished at the output path): uploading them, no new part",
              j->q->egress_id, j->q->part, stage ? stage : "none", local, t->to_stage->len);
    if (!u) {
        /* No store to upload to: the files stay in the spool, the job fails saying so. */
        g_set_error(&t->error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG,
                    "no storage to upload to: %s", e ? e->message : "storage.s3 not configured");
        finish(t);
        takeover_free(t);
        return TRUE;
    }
    j->takeover = t;
    start_thread(t);
    return TRUE;
}

static gboolean on_busy_retry(gpointer ud)
{
    RrServiceTakeover *t = ud;
    t->retry = 0;
    start_thread(t);
    return G_SOURCE_REMOVE;
}

static gboolean has_spool_path(JsonObject *info)
{
    JsonNode *fr = json_object_get_member(info, "fileResults");
    JsonArray *a = fr && JSON_NODE_HOLDS_ARRAY(fr) ? json_node_get_array(fr) : NULL;
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *el = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_OBJECT(el) &&
            json_object_has_member(json_node_get_object(el), "spoolPath"))
            return TRUE;
    }
    return FALSE;
}

static void set_now(JsonObject *o, const char *member, gboolean only_if_missing)
{
    if (only_if_missing && json_object_has_member(o, member))
        return;
    g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT, rr_egress_now_ns());
    json_object_set_string_member(o, member, now);
}

/* The status in Redis with what we uploaded applied, finished. */
static void finish(RrServiceTakeover *t)
{
    RrServiceJob *j = t->job;
    RrService *s = j->svc;
    g_autoptr(GError) e = NULL;
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(s->queue, t->egress_id, &e);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *node;
    if (st && st->info_json && json_parser_load_from_data(p, st->info_json, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        node = json_node_copy(json_parser_get_root(p));
    } else {
        g_warning("worker: job %s: no status to finish (%s); writing a new one", t->egress_id,
                  e ? e->message : "unreadable");
        g_autoptr(RrEgressInfo) info = rr_egress_info_new(t->egress_id, j->spec);
        g_autoptr(JsonBuilder) b = json_builder_new();
        rr_egress_info_build_json(info, b);
        node = json_builder_get_root(b);
    }
    JsonObject *o = json_node_get_object(node);
    JsonNode *fr = json_object_get_member(o, "fileResults");
    JsonArray *files = fr && JSON_NODE_HOLDS_ARRAY(fr) ? json_node_get_array(fr) : NULL;
    for (guint i = 0; files && i < json_array_get_length(files); i++) {
        JsonNode *el = json_array_get_element(files, i);
        JsonObject *f = JSON_NODE_HOLDS_OBJECT(el) ? json_node_get_object(el) : NULL;
        const char *loc =
            f ? json_object_get_string_member_with_default(f, "location", NULL) : NULL;
        const char *data = loc ? g_hash_table_lookup(t->staged, loc) : NULL;
        if (data) { /* staged by us: apply_spooled finds it by its spool path */
            json_object_set_string_member(f, "spoolPath", data);
            json_object_set_string_member(f, "location", data);
        }
    }
    if (st && st->final && t->uploaded->len == 0 && !t->error) {
        /* Its child had finished (and reported) the upload; only the ack was missing. */
        rr_service_job_finish_takeover(j, node, st->status);
        return;
    }
    for (guint i = 0; i < t->uploaded->len; i++)
        rr_upload_apply_spooled(o, g_ptr_array_index(t->uploaded, i), t->remaining + t->busy);
    const char *status;
    if (!t->error && t->stage_failed == 0 && !has_spool_path(o)) {
        status = "EGRESS_COMPLETE";
        json_object_remove_member(o, "error");
        json_object_remove_member(o, "errorCode");
        g_autofree char *d =
            g_strdup_printf("the recording's worker died during its upload; %s uploaded it "
                            "from the spool",
                            s->consumer);
        json_object_set_string_member(o, "details", d);
    } else {
        status = "EGRESS_FAILED";
        g_autofree char *why = t->error ? rr_log_redact(t->error->message)
                               : t->stage_failed
                                   ? g_strdup("a finished file could not be moved into the spool; "
                                              "it stays at its output path")
                                   : g_strdup("the files are in another machine's spool");
        g_autofree char *err = g_strconcat("upload failed: ", why, NULL);
        json_object_set_string_member(o, "error", err);
        json_object_set_int_member(o, "errorCode", 500);
        json_object_set_string_member(o, "details",
                                      "the recording is kept in the spool; a later spool retry "
                                      "of roomrec worker with working storage uploads it");
    }
    json_object_set_string_member(o, "status", status);
    set_now(o, "endedAt", TRUE);
    set_now(o, "updatedAt", FALSE);
    rr_service_job_finish_takeover(j, node, status);
}

static void on_done(GObject *source, GAsyncResult *res, gpointer ud)
{
    RrServiceTakeover *t = g_task_get_task_data(G_TASK(res));
    if (!t->job) {
        takeover_free(t);
        return;
    }
    g_message("worker: job %s: %u spooled file(s) uploaded, %u waiting, %u being uploaded "
              "elsewhere%s%s",
              t->egress_id, t->uploaded->len, t->remaining, t->busy, t->error ? ": " : "",
              t->error ? t->error->message : "");
    if (t->busy > 0 && !t->error && !t->job->lost) {
        t->retry = g_timeout_add(TAKEOVER_BUSY_RETRY_MS, on_busy_retry, t);
        return;
    }
    if (t->job->lost) {
        g_message("worker: job %s: lease lost during the upload; its new holder finishes it",
                  t->egress_id);
        t->job->gone = TRUE;
    } else {
        finish(t);
    }
    t->job->takeover = NULL;
    takeover_free(t);
}

static void upload_thread(GTask *task, gpointer source, gpointer data, GCancellable *c)
{
    RrServiceTakeover *t = data;
    g_clear_error(&t->error);
    t->stage_failed = 0;
    for (guint i = 0; i < t->to_stage->len; i++) {
        const char *path = g_ptr_array_index(t->to_stage, i);
        if (g_hash_table_contains(t->staged, path))
            continue;
        g_autoptr(GError) e = NULL;
        char *data_path = rr_upload_stage_file(t->upload, path, t->egress_id, &e);
        if (data_path)
            g_hash_table_insert(t->staged, g_strdup(path), data_path);
        else
            g_warning("worker: job %s: %s not staged: %s", t->egress_id, path, e->message);
        t->stage_failed += data_path == NULL;
    }
    rr_upload_spooled_of(t->upload, t->egress_id, t->uploaded, &t->remaining, &t->busy, &t->error);
    g_task_return_boolean(task, TRUE);
}

static void start_thread(RrServiceTakeover *t)
{
    /* The task data is freed by on_done (or by detach's late completion), not by the task. */
    g_autoptr(GTask) task = g_task_new(NULL, NULL, on_done, NULL);
    g_task_set_task_data(task, t, NULL);
    g_task_run_in_thread(task, upload_thread);
}

void rr_service_takeover_detach(RrServiceJob *j)
{
    RrServiceTakeover *t = j->takeover;
    if (!t)
        return;
    j->takeover = NULL;
    if (t->retry) { /* no thread running: free it now */
        takeover_free(t);
        return;
    }
    t->job = NULL; /* the thread's completion frees it */
}
