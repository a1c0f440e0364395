/* worker/service-job: one job's life in `roomrec worker` — rejected, or run as a child
 * whose statuses go to Redis and the webhooks, finished with a final status and an ack.
 * See service-priv.h and docs/WORKER.md.
 */
#include "worker/service-priv.h"

#include "worker/egress-info.h"
#include "worker/upload.h"
#include "worker/worker-error.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

static const char *type_of(const RrJobSpec *spec)
{
    if (spec->kind == RR_JOB_ROOM_COMPOSITE && spec->audio_only)
        return "audio_room_composite";
    return rr_job_kind_to_string(spec->kind);
}

static char *result_name(const char *status)
{
    return g_ascii_strdown(g_str_has_prefix(status, "EGRESS_") ? status + 7 : status, -1);
}

/* Sets j->info/status from @info (taken) and marks it for writing. */
static void set_info(RrServiceJob *j, JsonNode *info, const char *status)
{
    g_clear_pointer(&j->info, json_node_unref);
    j->info = info;
    g_free(j->status);
    j->status = g_strdup(status);
    j->status_dirty = TRUE;
    if (rr_egress_status_name_is_final(status) && !j->final) {
        j->final = TRUE;
        g_autofree char *result = result_name(status);
        rr_service_count_result(j->svc, j->type, result);
    }
}

static void notify(RrServiceJob *j)
{
    if (!j->svc->webhooks || !j->info)
        return;
    const char *event = g_str_equal(j->status, "EGRESS_STARTING") ? "egress_started"
                        : j->final                                ? "egress_ended"
                                                                  : "egress_updated";
    rr_webhook_notifier_notify_json(j->svc->webhooks, event, j->q->egress_id, j->info);
}

/* A copy of an earlier part's file result, located where the file is now: a dead
 * worker's child (which outlives its worker) writes to "NAME.part" and renames it to
 * NAME when it has finalised it, which may be before or after this part began. */
static JsonNode *prev_file(JsonNode *el)
{
    JsonNode *copy = json_node_copy(el);
    if (!JSON_NODE_HOLDS_OBJECT(copy))
        return copy;
    JsonObject *f = json_node_get_object(copy);
    const char *loc = json_object_get_string_member_with_default(f, "location", NULL);
    if (loc == NULL || g_file_test(loc, G_FILE_TEST_EXISTS))
        return copy;
    g_autofree char *other = g_str_has_suffix(loc, ".part")
                                 ? g_strndup(loc, strlen(loc) - strlen(".part"))
                                 : g_strconcat(loc, ".part", NULL);
    if (!g_file_test(other, G_FILE_TEST_IS_REGULAR))
        return copy;
    if (g_str_has_suffix(loc, ".part")) {
        g_autofree char *base = g_path_get_basename(other);
        json_object_set_string_member(f, "filename", base);
    }
    json_object_set_string_member(f, "location", other);
    return copy;
}

/* The child's info with the earlier parts' files in front of its own; while it runs
 * without a file result yet, the file being written is listed (so that a part whose
 * worker dies is still listed by the next part). */
static JsonNode *merge_files(RrServiceJob *j, JsonNode *child_info)
{
    JsonNode *n = json_node_copy(child_info);
    JsonObject *o = json_node_get_object(n);
    JsonArray *files = json_array_new();
    for (guint i = 0; j->prev_files && i < json_array_get_length(j->prev_files); i++)
        json_array_add_element(files, prev_file(json_array_get_element(j->prev_files, i)));
    JsonArray *own = json_object_has_member(o, "fileResults") &&
                             JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "fileResults"))
                         ? json_object_get_array_member(o, "fileResults")
                         : NULL;
    if (own && json_array_get_length(own) > 0) {
        for (guint i = 0; i < json_array_get_length(own); i++)
            json_array_add_element(files, json_node_copy(json_array_get_element(own, i)));
    } else if (j->output) {
        JsonObject *f = json_object_new();
        g_autofree char *base = g_path_get_basename(j->output);
        json_object_set_string_member(f, "filename", base);
        json_object_set_string_member(f, "location", j->output);
        if (json_object_has_member(o, "startedAt"))
            json_object_set_member(f, "startedAt",
                                   json_node_copy(json_object_get_member(o, "startedAt")));
        json_array_add_object_element(files, f);
    }
    json_object_set_array_member(o, "fileResults", files);
    return n;
}

static JsonNode *info_node(const RrEgressInfo *info)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    rr_egress_info_build_json(info, b);
    return json_builder_get_root(b);
}

static void set_string(JsonNode *info, const char *member, const char *value)
{
    json_object_set_string_member(json_node_get_object(info), member, value);
}

static void set_time(JsonNode *info, const char *member)
{
    g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT, rr_egress_now_ns());
    set_string(info, member, now);
}

/* A final FAILED status of our own making (bad job, crashed child). */
static void fail_job(RrServiceJob *j, const char *error, int code)
{
    JsonNode *n;
    if (j->info) {
        n = merge_files(j, j->info);
    } else {
        g_autoptr(RrEgressInfo) info = rr_egress_info_new(j->q->egress_id, j->spec);
        n = info_node(info);
    }
    set_string(n, "status", "EGRESS_FAILED");
    set_string(n, "error", error);
    json_object_set_int_member(json_node_get_object(n), "errorCode", code);
    set_time(n, "endedAt");
    set_time(n, "updatedAt");
    set_info(j, n, "EGRESS_FAILED");
    notify(j);
}

/* Whether @info's own file results wait in the spool (the child staged them). */
static gboolean lists_spooled(JsonNode *info)
{
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(info) ? json_node_get_object(info) : NULL;
    JsonNode *fr = o ? json_object_get_member(o, "fileResults") : NULL;
    JsonArray *a = fr && JSON_NODE_HOLDS_ARRAY(fr) ? json_node_get_array(fr) : NULL;
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *el = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_OBJECT(el) &&
            json_object_has_member(json_node_get_object(el), "spoolPath"))
            return TRUE;
    }
    return FALSE;
}

void rr_service_job_finish_takeover(RrServiceJob *j, JsonNode *info, const char *status)
{
    g_message("worker: job %s: %s after the takeover of its upload", j->q->egress_id, status);
    set_info(j, info, status);
    notify(j);
    j->gone = TRUE;
    rr_admission_remove(j->svc->admission, j->q->egress_id);
    g_autoptr(GError) e = NULL;
    if (!rr_queue_set_stage(j->svc->queue, j->q->egress_id, "", &e))
        g_info("worker: job %s: stage not cleared: %s", j->q->egress_id, e->message);
    rr_service_job_flush(j);
}

void rr_service_job_event(RrServiceJob *j, const RrChildEvent *ev)
{
    if (ev->output && g_strcmp0(ev->output, j->output) != 0) {
        g_free(j->output);
        j->output = g_strdup(ev->output);
    }
    if (!ev->is_status) {
        j->bytes = ev->bytes;
        return;
    }
    if (j->final || j->lost)
        return;
    g_message("worker: job %s part %u: %s", j->q->egress_id, j->q->part, ev->status);
    if (g_str_equal(ev->status, "EGRESS_ENDING") && lists_spooled(ev->info))
        j->stage_dirty = TRUE;
    else if (rr_egress_status_name_is_final(ev->status) && lists_spooled(ev->info))
        rr_service_spool_soon(j->svc); /* its upload failed: the spool retry takes it */
    set_info(j, merge_files(j, ev->info), ev->status);
    notify(j);
    rr_service_job_flush(j);
}

void rr_service_job_ended(RrServiceJob *j, gboolean crashed, int code, int sig)
{
    if (crashed && sig)
        g_message("worker: job %s: recording process ended by signal %d", j->q->egress_id, sig);
    else if (crashed)
        g_message("worker: job %s: recording process exited with code %d", j->q->egress_id, code);
    if (!j->final && !j->lost) {
        g_autofree char *why =
            sig ? g_strdup_printf("recording process crashed (signal %d)", sig)
                : g_strdup_printf("recording process exited with code %d without a final status",
                                  code);
        fail_job(j, why, 500);
    }
    j->gone = TRUE;
    rr_admission_remove(j->svc->admission, j->q->egress_id);
    if (j->job_file)
        g_unlink(j->job_file);
    rr_service_job_flush(j);
}

static void on_child_event(RrServiceChild *c, const RrChildEvent *ev, gpointer ud)
{
    rr_service_job_event(ud, ev);
}

static void on_child_exited(RrServiceChild *c, int code, int sig, gpointer ud)
{
    rr_service_job_ended(ud, TRUE, code, sig);
}

static const RrServiceChildCallbacks child_callbacks = {
    .event = on_child_event,
    .exited = on_child_exited,
};

/* The fileResults of the earlier parts, from the status in Redis (merge_files lists
 * each where its file is now: prev_file). */
static JsonArray *previous_files(RrService *s, const char *egress_id)
{
    JsonArray *files = json_array_new();
    g_autoptr(GError) e = NULL;
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(s->queue, egress_id, &e);
    g_autoptr(JsonParser) p = json_parser_new();
    if (!st || !st->info_json || !json_parser_load_from_data(p, st->info_json, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        g_warning("worker: job %s: the earlier parts' files are unknown: %s", egress_id,
                  e ? e->message : "no status");
        return files;
    }
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonNode *fr = json_object_get_member(o, "fileResults");
    if (!fr || !JSON_NODE_HOLDS_ARRAY(fr))
        return files;
    JsonArray *a = json_node_get_array(fr);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *el = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(el))
            continue;
        json_array_add_element(files, json_node_copy(el));
    }
    return files;
}

static gboolean spawn(RrServiceJob *j, GError **error)
{
    RrService *s = j->svc;
    /* Egresses of a room share a room child (`record --host`), which does not upload yet:
     * a job with an upload (an output's own s3, or the config's storage) gets a child of
     * its own, where `record` uploads, spools and reports as it does alone. */
    const RrJobSpec *sp = j->spec;
    gboolean uploads =
        (sp && (sp->s3 || (sp->segments && sp->segments->s3) || (sp->images && sp->images->s3))) ||
        s->cfg->storage.has_s3;
    if (s->opts.jobs_per_child != 1 && !uploads)
        return rr_service_room_start_job(s, j, error);
    j->job_file = g_strdup_printf("%s/%s.json", s->tmp_dir, j->q->egress_id);
    if (!g_file_set_contents_full(j->job_file, j->q->job_json, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                  0600, error))
        return FALSE;
    const RrWorkerConfig *c = s->cfg;
    g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);
    if (c->ws_url)
        g_ptr_array_add(env, g_strconcat("LIVEKIT_URL=", c->ws_url, NULL));
    if (c->api_key)
        g_ptr_array_add(env, g_strconcat("LIVEKIT_API_KEY=", c->api_key, NULL));
    if (c->api_secret)
        g_ptr_array_add(env, g_strconcat("LIVEKIT_API_SECRET=", c->api_secret, NULL));
    g_autofree char *job_env = g_strconcat("ROOMREC_JOB_ID=", j->q->egress_id, NULL);
    g_ptr_array_add(env, g_strdup(job_env));
    g_autofree char *storage = rr_upload_config_to_json(c, s->opts.output_dir);
    if (storage)
        g_ptr_array_add(env, g_strconcat("ROOMREC_STORAGE=", storage, NULL));
    g_ptr_array_add(env, NULL);
    g_autofree char *out_dir =
        g_canonicalize_filename(s->opts.output_dir ? s->opts.output_dir : ".", NULL);
    g_autofree char *out_arg = g_strconcat("--output-dir=", out_dir, NULL);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_autofree char *id_arg = g_strconcat("--egress-id=", j->q->egress_id, NULL);
    g_ptr_array_add(args, out_arg);
    g_ptr_array_add(args, id_arg);
    for (const char *const *a = s->opts.record_args; a && *a; a++)
        g_ptr_array_add(args, (gpointer)*a);
    g_ptr_array_add(args, NULL);
    RrServiceChildConfig cc = {
        .exe = s->opts.exe,
        .job_file = j->job_file,
        .part = j->q->part,
        .extra_args = (const char *const *)args->pdata,
        .env = (const char *const *)env->pdata,
        .cwd = s->opts.output_dir,
    };
    j->child = rr_service_child_spawn(&cc, &child_callbacks, j, error);
    if (!j->child)
        return FALSE;
    rr_admission_set_pid(s->admission, j->q->egress_id, rr_service_child_pid(j->child));
    return TRUE;
}

void rr_service_job_start(RrService *s, RrQueueJob *q)
{
    RrServiceJob *own = g_hash_table_lookup(s->jobs, q->egress_id);
    if (own != NULL) {
        /* Our own job back from the queue: its lease ran out while we hold it (this
         * process stalled longer than a lease, or Redis did not see our refreshes). The
         * claim renewed the lease; the recording carries on here, unreplaced. Should it be
         * a copy we are stopping (lease lost), the entry waits for a lease and is taken
         * again once that copy is gone. */
        g_warning("worker: job %s came back to us while we still hold it (its lease ran out); "
                  "it carries on here",
                  q->egress_id);
        own->refresh_ok_us = g_get_monotonic_time();
        own->lease_warned = FALSE;
        rr_queue_job_free(q);
        return;
    }
    RrServiceJob *j = g_new0(RrServiceJob, 1);
    j->svc = s;
    j->q = q;
    j->refresh_ok_us = g_get_monotonic_time();
    g_hash_table_replace(s->jobs, g_strdup(q->egress_id), j);
    g_autoptr(GError) e = NULL;
    j->spec = rr_job_spec_parse(q->job_json, -1, &e);
    if (j->spec && j->spec->egress_id && *j->spec->egress_id &&
        strcmp(j->spec->egress_id, q->egress_id) != 0) {
        g_set_error(&e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "egress_id: the job says %.64s but was queued as %s", j->spec->egress_id,
                    q->egress_id);
        g_clear_pointer(&j->spec, rr_job_spec_free);
    }
    if (!j->spec) {
        j->type = g_strdup(q->type && *q->type ? q->type : "unknown");
        s->jobs_rejected++;
        g_warning("worker: job %s rejected: %s", q->egress_id, e->message);
        fail_job(j, e->message, 400);
        j->gone = TRUE;
        rr_service_job_flush(j);
        return;
    }
    j->type = g_strdup(type_of(j->spec));
    j->cost = MAX(rr_admission_job_cost(s->admission, j->spec), q->cost);
    rr_admission_add(s->admission, q->egress_id, j->cost, g_get_monotonic_time());
    s->max_committed = MAX(s->max_committed, rr_admission_committed(s->admission));
    if (q->part > 1)
        j->prev_files = previous_files(s, q->egress_id);
    g_message("worker: job %s (%s, cost %.2f) part %u starts; committed %.2f of %.2f", q->egress_id,
              j->type, j->cost, q->part, rr_admission_committed(s->admission),
              rr_admission_capacity(s->admission));
    if (s->webhooks && j->spec->webhooks->len > 0 &&
        !rr_webhook_notifier_add_job_webhooks(s->webhooks, q->egress_id, j->spec->webhooks, &e)) {
        g_warning("worker: job %s rejected: %s", q->egress_id, e->message);
        s->jobs_rejected++;
        rr_admission_remove(s->admission, q->egress_id);
        fail_job(j, e->message, 400);
        j->gone = TRUE;
        rr_service_job_flush(j);
        return;
    }
    if (q->part > 1 && rr_service_takeover_try(j))
        return; /* the recording had ended: its files are uploaded, no new part */
    g_autoptr(RrEgressInfo) info = rr_egress_info_new(q->egress_id, j->spec);
    JsonNode *n = info_node(info);
    set_info(j, merge_files(j, n), "EGRESS_STARTING");
    json_node_unref(n);
    if (q->part <= 1)
        notify(j);
    if (!spawn(j, &e)) {
        g_warning("worker: job %s: cannot start the recording process: %s", q->egress_id,
                  e->message);
        rr_admission_remove(s->admission, q->egress_id);
        g_autofree char *why =
            g_strdup_printf("cannot start the recording process: %s", e->message);
        fail_job(j, why, 500);
        j->gone = TRUE;
    }
    rr_service_job_flush(j);
}

gboolean rr_service_job_flush(RrServiceJob *j)
{
    RrService *s = j->svc;
    g_autoptr(GError) e = NULL;
    if (j->lost)
        return j->gone;
    if (j->status_dirty && j->info) {
        g_autofree char *json = json_to_string(j->info, FALSE);
        if (rr_queue_set_status(s->queue, j->q->egress_id, j->status, j->final, json, s->consumer,
                                j->q->part, &e)) {
            j->status_dirty = FALSE;
            j->final_written = j->final;
        } else if (g_error_matches(e, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND)) {
            g_warning("worker: job %s: no status to update (%s)", j->q->egress_id, e->message);
            j->status_dirty = FALSE;
            j->final_written = j->final;
        } else {
            g_info("worker: job %s: status not written yet: %s", j->q->egress_id, e->message);
            return FALSE;
        }
    }
    if (j->stage_dirty && !j->status_dirty && !j->final) {
        /* After the ENDING status that lists the spooled files. */
        if (rr_queue_set_stage(s->queue, j->q->egress_id, "uploading", &e))
            j->stage_dirty = FALSE;
        else
            g_info("worker: job %s: stage not written yet: %s", j->q->egress_id, e->message);
        g_clear_error(&e);
    }
    if (!j->final_written || !j->gone || j->acked)
        return j->acked;
    g_clear_error(&e);
    if (rr_queue_ack(s->queue, s->consumer, j->q, &e)) {
        g_message("worker: job %s finished %s and acknowledged", j->q->egress_id, j->status);
        j->acked = TRUE;
    } else if (g_error_matches(e, RR_QUEUE_ERROR, RR_QUEUE_ERROR_LOST) ||
               g_error_matches(e, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND)) {
        g_warning("worker: job %s: not ours to acknowledge any more: %s", j->q->egress_id,
                  e->message);
        j->acked = TRUE;
    } else {
        g_info("worker: job %s: not acknowledged yet: %s", j->q->egress_id, e->message);
    }
    return j->acked;
}

void rr_service_job_stop(RrServiceJob *j, const char *why)
{
    if ((!j->child && !j->room) || j->gone || j->stop_sent)
        return;
    g_message("worker: job %s: stopping (%s)", j->q->egress_id, why);
    j->stop_sent = TRUE;
    RrControl c = {.kind = RR_CONTROL_STOP};
    if (j->room)
        rr_service_room_send(j, &c); /* a room child that does not listen is ending */
    else if (!rr_service_child_send(j->child, &c))
        rr_service_child_signal(j->child, SIGTERM);
}

void rr_service_job_control(RrServiceJob *j)
{
    RrService *s = j->svc;
    for (int i = 0; i < 8 && !j->gone && !j->lost; i++) {
        g_autofree char *msg = NULL;
        g_autoptr(GError) e = NULL;
        if (!rr_queue_pop_control(s->queue, j->q->egress_id, &msg, &e) || !msg)
            return;
        RrControl c;
        if (!rr_control_parse(msg, -1, &c, &e)) {
            g_warning("worker: job %s: control message rejected: %s", j->q->egress_id, e->message);
            continue;
        }
        if (c.kind == RR_CONTROL_STOP) {
            rr_service_job_stop(j, "stop requested");
        } else {
            g_message("worker: job %s: layout %s", j->q->egress_id, c.layout);
            if (j->room)
                rr_service_room_send(j, &c);
            else if (j->child)
                rr_service_child_send(j->child, &c);
        }
        rr_control_clear(&c);
    }
}

void rr_service_job_free(RrServiceJob *j)
{
    if (!j)
        return;
    rr_service_room_detach(j);
    rr_service_takeover_detach(j);
    rr_service_child_free(j->child);
    rr_queue_job_free(j->q);
    rr_job_spec_free(j->spec);
    g_free(j->type);
    g_free(j->job_file);
    if (j->prev_files)
        json_array_unref(j->prev_files);
    if (j->info)
        json_node_unref(j->info);
    g_free(j->status);
    g_free(j->output);
    g_free(j);
}
