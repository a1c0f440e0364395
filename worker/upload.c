/* worker/upload: a finished recording's files to S3, backup, spool. See upload.h. */
#include "worker/upload.h"

#include "storage/s3.h"
#include "worker/upload-priv.h"
#include "worker/log.h"
#include "worker/worker-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define MANIFEST_LABEL "#manifest"
#define UPLOAD_FAILED  "upload failed: "

static gboolean set(const char *s)
{
    return s && *s;
}

/* A Go duration as the config writes it ("500ms", "5s", "1m") in ms; FALSE if not one. */
static gboolean parse_duration_ms(const char *text, guint *ms)
{
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || v < 0)
        return FALSE;
    double scale = strcmp(end, "ms") == 0  ? 1
                   : strcmp(end, "s") == 0 ? 1000
                   : strcmp(end, "m") == 0 ? 60000
                                           : -1;
    if (scale < 0 || v * scale > G_MAXUINT)
        return FALSE;
    *ms = (guint)(v * scale);
    return TRUE;
}

RrStore *rr_upload_store_from_config(const RrConfigS3 *s3, const char *prefix, const char *what,
                                     GError **error)
{
    RrS3Config cfg = {
        .access_key = s3->access_key,
        .secret = s3->secret,
        .session_token = s3->session_token,
        .region = s3->region,
        .endpoint = s3->endpoint,
        .bucket = s3->bucket,
        .force_path_style = s3->force_path_style,
        .content_disposition = s3->content_disposition,
    };
    if (s3->max_retries > 0)
        cfg.retry.max_attempts = (guint)s3->max_retries + 1;
    const char *delays[] = {s3->min_retry_delay, s3->max_retry_delay};
    guint *slots[] = {&cfg.retry.base_delay_ms, &cfg.retry.max_delay_ms};
    const char *names[] = {"min_retry_delay", "max_retry_delay"};
    for (guint i = 0; i < 2; i++) {
        if (set(delays[i]) && !parse_duration_ms(delays[i], slots[i])) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG,
                        "%s.%s: must be a duration such as 500ms, 5s or 1m", what, names[i]);
            return NULL;
        }
    }
    rr_s3_config_register_secrets(&cfg, rr_log_add_secret);
    g_autoptr(GError) e = NULL;
    g_autoptr(RrStore) store = rr_s3_store_new(&cfg, &e);
    if (!store || !rr_store_begin(store, prefix, &e)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG, "%s: %s", what,
                    e->message);
        return NULL;
    }
    return g_steal_pointer(&store);
}

static RrStore *store_from_job(const RrJobS3 *s3, const char *what, GError **error)
{
    RrS3Config cfg = {
        .access_key = s3->access_key,
        .secret = s3->secret,
        .session_token = s3->session_token,
        .region = s3->region,
        .endpoint = s3->endpoint,
        .bucket = s3->bucket,
        .force_path_style = s3->force_path_style,
        .metadata = s3->metadata,
        .tagging = s3->tagging,
        .content_disposition = s3->content_disposition,
    };
    rr_s3_config_register_secrets(&cfg, rr_log_add_secret);
    g_autoptr(GError) e = NULL;
    RrStore *store = rr_s3_store_new(&cfg, &e);
    if (!store)
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB, "%s s3: %s", what,
                    e->message);
    return store;
}

char *rr_upload_spool_dir(const RrWorkerConfig *config, const char *output_dir)
{
    g_autofree char *base = g_canonicalize_filename(output_dir ? output_dir : ".", NULL);
    if (config && set(config->backup_storage))
        return g_canonicalize_filename(config->backup_storage, base);
    return g_build_filename(base, ".roomrec-spool", NULL);
}

RrUpload *rr_upload_new(const RrUploadConfig *c, GError **error)
{
    const RrWorkerConfig *wc = c->config;
    gboolean from_config = wc && wc->storage.has_s3;
    static const char *const whats[] = {"file output", "segment output", "image output"};
    const RrJobS3 *own = NULL;
    if (c->job && c->output == RR_UPLOAD_FILE)
        own = c->job->s3;
    else if (c->job && c->output == RR_UPLOAD_SEGMENTS && c->job->segments)
        own = c->job->segments->s3;
    else if (c->job && c->output == RR_UPLOAD_IMAGES && c->job->images)
        own = c->job->images->s3;
    if (!own && !from_config)
        return NULL;
    g_autoptr(RrUpload) u = g_new0(RrUpload, 1);
    u->primary =
        own ? store_from_job(own, whats[c->output], error)
            : rr_upload_store_from_config(&wc->storage.s3, wc->storage.prefix, "storage.s3", error);
    if (!u->primary)
        return NULL;
    if (wc && wc->backup.has_s3 &&
        !(u->backup =
              rr_upload_store_from_config(&wc->backup.s3, wc->backup.prefix, "backup.s3", error)))
        return NULL;
    u->output_dir = g_canonicalize_filename(c->output_dir ? c->output_dir : ".", NULL);
    u->spool_dir = c->spool_dir ? g_canonicalize_filename(c->spool_dir, NULL)
                                : rr_upload_spool_dir(wc, c->output_dir);
    u->keep_local = c->keep_local;
    u->manifest = c->output == RR_UPLOAD_FILE && !(c->job && c->job->disable_manifest);
    u->staged = g_ptr_array_new_with_free_func((GDestroyNotify)rr_spool_entry_free);
    return g_steal_pointer(&u);
}

const char *rr_upload_get_spool_dir(RrUpload *u)
{
    return u->spool_dir;
}

void rr_upload_free(RrUpload *u)
{
    if (!u)
        return;
    g_clear_pointer(&u->primary, rr_store_free);
    g_clear_pointer(&u->backup, rr_store_free);
    if (u->staged)
        g_ptr_array_unref(u->staged);
    g_free(u->spool_dir);
    g_free(u->output_dir);
    g_free(u);
}

char *rr_upload_key_for(const char *base_dir, const char *path)
{
    g_autofree char *base = g_canonicalize_filename(base_dir, NULL);
    g_autofree char *full = g_canonicalize_filename(path, base);
    gsize n = strlen(base);
    if (n == 1) /* "/" */
        n = 0;
    if (strncmp(full, base, n) == 0 && full[n] == '/' && full[n + 1])
        return g_strdup(full + n + 1);
    return g_path_get_basename(full);
}

const char *rr_upload_output_dir(const RrUpload *u)
{
    return u->output_dir;
}

static char *key_for(const RrUpload *u, const char *path)
{
    return rr_upload_key_for(u->output_dir, path);
}

static void remove_local(const RrUpload *u, const char *path)
{
    if (!u->keep_local && g_unlink(path) != 0)
        g_warning("upload: cannot remove %s after its upload: %s", path, g_strerror(errno));
}

/* One file through primary → backup → spool. @why gets the failure (appended). */
static void upload_one(RrUpload *u, RrEgressInfo *info, const char *path, const char *key,
                       const char *label, char **location, char **spool_path, gint64 *size,
                       GString *why)
{
    RrUploadOutcome out;
    g_autoptr(GError) e = NULL;
    gboolean ok = rr_storage_upload_labelled(u->primary, u->backup, u->spool_dir, path, key, NULL,
                                             label, &out, &e);
    if (ok) {
        g_message("upload: %s stored at %s%s", path, out.result->location,
                  out.backup_used ? " (backup storage)" : "");
        g_free(*location);
        *location = g_strdup(out.result->location);
        if (size)
            *size = out.result->size;
        if (out.backup_used)
            info->backup_storage_used = TRUE;
        remove_local(u, path);
    } else {
        g_autofree char *msg = rr_log_redact(e->message);
        if (why->len)
            g_string_append(why, "; ");
        g_string_append(why, msg);
        if (out.spool_path) {
            g_string_append_printf(why, " (the file waits in the spool: %s)", out.spool_path);
            g_free(*location);
            *location = g_strdup(out.spool_path);
            *spool_path = g_strdup(out.spool_path);
            remove_local(u, path);
        } else {
            g_string_append_printf(why, " (the file stays at %s)", path);
        }
    }
    rr_upload_outcome_clear(&out);
}

static RrSpoolEntry *staged_entry(RrUpload *u, const char *spool_path)
{
    for (guint i = 0; spool_path && i < u->staged->len; i++) {
        RrSpoolEntry *e = g_ptr_array_index(u->staged, i);
        if (g_str_equal(e->data_path, spool_path))
            return e;
    }
    return NULL;
}

/* A staged file from the spool through primary → backup; it stays in the spool if both
 * fail. */
static void upload_staged(RrUpload *u, RrEgressInfo *info, RrSpoolEntry *e, RrFileResult *f,
                          GString *why)
{
    RrUploadOutcome out;
    g_autoptr(GError) err = NULL;
    if (rr_spool_entry_upload(e, u->primary, u->backup, &out, &err)) {
        g_message("upload: %s stored at %s%s", e->source, out.result->location,
                  out.backup_used ? " (backup storage)" : "");
        g_free(f->location);
        f->location = g_strdup(out.result->location);
        g_clear_pointer(&f->spool_path, g_free);
        f->size = out.result->size;
        if (out.backup_used)
            info->backup_storage_used = TRUE;
        if (u->keep_local)
            g_message("upload: the local copy stays at %s", e->source);
    } else {
        g_autofree char *msg = rr_log_redact(err->message);
        g_string_append_printf(why, "%s%s (the file waits in the spool: %s)", why->len ? "; " : "",
                               msg, e->data_path);
    }
    rr_upload_outcome_clear(&out);
}

char *rr_upload_stage_file(RrUpload *u, const char *path, const char *egress_id, GError **error)
{
    g_autofree char *key = key_for(u, path);
    g_autoptr(RrSpoolEntry) entry =
        rr_spool_stage(u->spool_dir, u->primary, path, key, NULL, egress_id, FALSE, error);
    return entry ? g_strdup(entry->data_path) : NULL;
}

gboolean rr_upload_stage(RrUpload *u, RrEgressInfo *info)
{
    gboolean any = FALSE;
    for (guint i = 0; i < info->file_results->len; i++) {
        RrFileResult *f = g_ptr_array_index(info->file_results, i);
        if (!f->location || f->spool_path || !g_file_test(f->location, G_FILE_TEST_IS_REGULAR))
            continue;
        g_autofree char *key = key_for(u, f->location);
        g_autoptr(GError) e = NULL;
        RrSpoolEntry *entry = rr_spool_stage(u->spool_dir, u->primary, f->location, key, NULL,
                                             info->egress_id, u->keep_local, &e);
        if (!entry) {
            g_warning("upload: %s not staged in the spool (uploaded from where it is): %s",
                      f->location, e->message);
            continue;
        }
        g_message("upload: %s moved into the spool as %s before its upload", f->location,
                  entry->data_path);
        g_free(f->location);
        f->location = g_strdup(entry->data_path);
        f->spool_path = g_strdup(entry->data_path);
        g_ptr_array_add(u->staged, entry);
        any = TRUE;
    }
    return any;
}

void rr_upload_set_failed(RrEgressInfo *info, const char *why)
{
    g_autofree char *err = g_strconcat(UPLOAD_FAILED, why, NULL);
    if (info->status == RR_EGRESS_FAILED && info->error) {
        g_autofree char *d = g_strdup_printf("%s%s%s", info->details ? info->details : "",
                                             info->details ? "; " : "", err);
        g_free(info->details);
        info->details = g_steal_pointer(&d);
    } else {
        rr_egress_info_set_error(info, err, 500,
                                 "the recording is kept; a later run of roomrec worker "
                                 "with working storage uploads what waits in the spool");
        info->status = RR_EGRESS_FAILED;
    }
    g_warning("upload: %s", err);
}

static char *manifest_json(const RrEgressInfo *info)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const char *strs[][2] = {
        {"egress_id", info->egress_id}, {"room_id", info->room_id}, {"room_name", info->room_name}};
    for (guint i = 0; i < G_N_ELEMENTS(strs); i++) {
        json_builder_set_member_name(b, strs[i][0]);
        json_builder_add_string_value(b, strs[i][1] ? strs[i][1] : "");
    }
    json_builder_set_member_name(b, "started_at");
    json_builder_add_int_value(b, info->started_at);
    json_builder_set_member_name(b, "ended_at");
    json_builder_add_int_value(b, info->ended_at);
    json_builder_set_member_name(b, "files");
    json_builder_begin_array(b);
    for (guint i = 0; i < info->file_results->len; i++) {
        const RrFileResult *f = g_ptr_array_index(info->file_results, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filename");
        json_builder_add_string_value(b, f->filename);
        json_builder_set_member_name(b, "location");
        json_builder_add_string_value(b, f->location);
        json_builder_set_member_name(b, "uploaded");
        json_builder_add_boolean_value(b, f->spool_path == NULL);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, f->size);
        json_builder_set_member_name(b, "duration");
        json_builder_add_int_value(b, f->duration);
        json_builder_set_member_name(b, "started_at");
        json_builder_add_int_value(b, f->started_at);
        json_builder_set_member_name(b, "ended_at");
        json_builder_add_int_value(b, f->ended_at);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

typedef struct {
    RrUpload *upload;   /* borrowed */
    RrEgressInfo *info; /* owned by the task until rr_upload_run_finish */
} Run;

static void run_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Run *run = data;
    RrUpload *u = run->upload;
    RrEgressInfo *info = run->info;
    g_autoptr(GString) why = g_string_new(NULL);
    g_autofree char *first_key = NULL, *first_path = NULL;
    for (guint i = 0; i < info->file_results->len; i++) {
        RrFileResult *f = g_ptr_array_index(info->file_results, i);
        RrSpoolEntry *staged = staged_entry(u, f->spool_path);
        if (staged) {
            if (!first_key) {
                first_key = g_strdup(staged->name);
                first_path = g_strdup(staged->source);
            }
            upload_staged(u, info, staged, f, why);
            continue;
        }
        if (!f->location || !g_file_test(f->location, G_FILE_TEST_IS_REGULAR))
            continue; /* not a local file (an earlier part's, or nothing was written) */
        g_autofree char *path = g_strdup(f->location);
        g_autofree char *key = key_for(u, path);
        if (!first_key) {
            first_key = g_strdup(key);
            first_path = g_strdup(path);
        }
        upload_one(u, info, path, key, info->egress_id, &f->location, &f->spool_path, &f->size,
                   why);
    }
    if (u->manifest && first_key) {
        g_autofree char *text = manifest_json(info);
        g_autofree char *path = g_strconcat(first_path, ".json", NULL);
        g_autofree char *key = g_strconcat(first_key, ".json", NULL);
        g_autofree char *label = g_strconcat(info->egress_id, MANIFEST_LABEL, NULL);
        g_autoptr(GError) e = NULL;
        if (!g_file_set_contents(path, text, -1, &e)) {
            g_string_append_printf(why, "%smanifest: %s", why->len ? "; " : "", e->message);
        } else {
            char *spool = NULL;
            upload_one(u, info, path, key, label, &info->manifest_location, &spool, NULL, why);
            g_free(spool);
        }
    }
    if (why->len)
        rr_upload_set_failed(info, why->str);
    info->updated_at = rr_egress_now_ns();
    g_task_return_pointer(task, NULL, NULL);
}

void rr_upload_run_async(RrUpload *u, RrEgressInfo *info, GAsyncReadyCallback callback,
                         gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    g_task_set_source_tag(task, rr_upload_run_async);
    Run *run = g_new0(Run, 1);
    run->upload = u;
    run->info = info;
    g_task_set_task_data(task, run, g_free);
    g_task_run_in_thread(task, run_thread);
}

RrEgressInfo *rr_upload_run_finish(RrUpload *u, GAsyncResult *result)
{
    Run *run = g_task_get_task_data(G_TASK(result));
    g_task_propagate_pointer(G_TASK(result), NULL);
    return g_steal_pointer(&run->info);
}

gboolean rr_upload_spool_retry(const RrWorkerConfig *config, const char *output_dir,
                               GPtrArray *uploaded, guint *remaining, GError **error)
{
    g_autofree char *spool = rr_upload_spool_dir(config, output_dir);
    if (remaining)
        *remaining = 0;
    if (!g_file_test(spool, G_FILE_TEST_IS_DIR))
        return TRUE;
    if (!config->storage.has_s3) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG,
                    "storage.s3: not configured, so recordings waiting in %s stay there", spool);
        return FALSE;
    }
    g_autoptr(RrStore) primary = rr_upload_store_from_config(
        &config->storage.s3, config->storage.prefix, "storage.s3", error);
    if (!primary)
        return FALSE;
    g_autoptr(RrStore) backup = NULL;
    if (config->backup.has_s3 &&
        !(backup = rr_upload_store_from_config(&config->backup.s3, config->backup.prefix,
                                               "backup.s3", error)))
        return FALSE;
    guint up = 0;
    return rr_storage_spool_retry_full(spool, primary, backup, &up, remaining, uploaded, error);
}

/* What follows @egress_id in @label ("" or "#..."), or NULL when @label is not its. */
static const char *label_rest(const char *label, const char *egress_id)
{
    gsize n = strlen(egress_id);
    if (!label || strncmp(label, egress_id, n) != 0 || (label[n] != '\0' && label[n] != '#'))
        return NULL;
    return label + n;
}

gboolean rr_upload_label_is_of(const char *label, gpointer egress_id)
{
    return label_rest(label, egress_id) != NULL;
}

gboolean rr_upload_spooled_of(RrUpload *u, const char *egress_id, GPtrArray *uploaded,
                              guint *remaining, guint *busy, GError **error)
{
    guint up = 0;
    return rr_storage_spool_retry_match(u->spool_dir, u->primary, u->backup, rr_upload_label_is_of,
                                        (gpointer)egress_id, &up, remaining, busy, uploaded, error);
}

/* A finished file of @egress_id (or its manifest): not a segment, image or playlist, which
 * are spooled while the recording still runs. */
static gboolean label_is_file_of(const char *label, gpointer egress_id)
{
    const char *rest = label_rest(label, egress_id);
    return rest && (*rest == '\0' || g_str_equal(rest, MANIFEST_LABEL));
}

guint rr_upload_spool_count_of(const char *spool_dir, const char *egress_id)
{
    return rr_storage_spool_count_match(spool_dir, label_is_file_of, (gpointer)egress_id);
}

/* The segments result's member a spooled playlist's label names, or NULL. */
static const char *playlist_member(const char *label)
{
    if (g_str_has_suffix(label, RR_UPLOAD_LABEL_PLAYLIST))
        return "playlistLocation";
    if (g_str_has_suffix(label, RR_UPLOAD_LABEL_LIVE_PLAYLIST))
        return "livePlaylistLocation";
    return NULL;
}

static gboolean is_live_label(const char *label)
{
    return label && (playlist_member(label) || g_str_has_suffix(label, RR_UPLOAD_LABEL_SEGMENT) ||
                     g_str_has_suffix(label, RR_UPLOAD_LABEL_IMAGE));
}

gboolean rr_upload_apply_spooled(JsonObject *info, const RrSpoolUploaded *u, guint spool_remaining)
{
    gboolean changed = FALSE;
    if (u->label && g_str_has_suffix(u->label, MANIFEST_LABEL)) {
        json_object_set_string_member(info, "manifestLocation", u->result->location);
        changed = TRUE;
    }
    const char *member = u->label ? playlist_member(u->label) : NULL;
    JsonNode *sr = json_object_get_member(info, "segmentResults");
    if (member && sr && JSON_NODE_HOLDS_ARRAY(sr) &&
        json_array_get_length(json_node_get_array(sr)) &&
        JSON_NODE_HOLDS_OBJECT(json_array_get_element(json_node_get_array(sr), 0))) {
        JsonObject *seg = json_array_get_object_element(json_node_get_array(sr), 0);
        json_object_set_string_member(seg, member, u->result->location);
    }
    if (is_live_label(u->label))
        changed = TRUE;
    JsonNode *fr = json_object_get_member(info, "fileResults");
    JsonArray *files = fr && JSON_NODE_HOLDS_ARRAY(fr) ? json_node_get_array(fr) : NULL;
    /* A job's spooled segments and images are not listed one by one: while anything
     * waits in the spool, they may be among it. */
    guint waiting = is_live_label(u->label) ? spool_remaining : 0;
    for (guint i = 0; files && i < json_array_get_length(files); i++) {
        JsonNode *el = json_array_get_element(files, i);
        if (!JSON_NODE_HOLDS_OBJECT(el))
            continue;
        JsonObject *f = json_node_get_object(el);
        const char *sp = json_object_get_string_member_with_default(f, "spoolPath", NULL);
        if (sp && g_strcmp0(sp, u->spool_path) == 0) {
            json_object_set_string_member(f, "location", u->result->location);
            g_autofree char *size = g_strdup_printf("%" G_GINT64_FORMAT, u->result->size);
            json_object_set_string_member(f, "size", size);
            json_object_remove_member(f, "spoolPath");
            changed = TRUE;
        } else if (sp) {
            waiting++;
        }
    }
    if (u->backup_used) {
        json_object_set_boolean_member(info, "backupStorageUsed", TRUE);
        changed = TRUE;
    }
    const char *status = json_object_get_string_member_with_default(info, "status", "");
    const char *error = json_object_get_string_member_with_default(info, "error", "");
    if (changed && waiting == 0 && g_str_equal(status, "EGRESS_FAILED") &&
        g_str_has_prefix(error, UPLOAD_FAILED)) {
        json_object_set_string_member(info, "status", "EGRESS_COMPLETE");
        json_object_remove_member(info, "error");
        json_object_remove_member(info, "errorCode");
        json_object_set_string_member(info, "details",
                                      "uploaded from the spool by a later run of roomrec worker");
    }
    if (changed) {
        g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT, rr_egress_now_ns());
        json_object_set_string_member(info, "updatedAt", now);
    }
    return changed;
}

static void put_str(JsonBuilder *b, const char *k, const char *v)
{
    if (!v)
        return;
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

static void put_s3(JsonBuilder *b, const RrConfigS3 *s3)
{
    json_builder_set_member_name(b, "s3");
    json_builder_begin_object(b);
    put_str(b, "access_key", s3->access_key);
    put_str(b, "secret", s3->secret);
    put_str(b, "session_token", s3->session_token);
    put_str(b, "region", s3->region);
    put_str(b, "endpoint", s3->endpoint);
    put_str(b, "bucket", s3->bucket);
    json_builder_set_member_name(b, "force_path_style");
    json_builder_add_boolean_value(b, s3->force_path_style);
    json_builder_set_member_name(b, "max_retries");
    json_builder_add_int_value(b, s3->max_retries);
    put_str(b, "max_retry_delay", s3->max_retry_delay);
    put_str(b, "min_retry_delay", s3->min_retry_delay);
    put_str(b, "content_disposition", s3->content_disposition);
    json_builder_end_object(b);
}

char *rr_upload_config_to_json(const RrWorkerConfig *c, const char *output_dir)
{
    if (!c->storage.has_s3)
        return NULL;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "storage");
    json_builder_begin_object(b);
    put_str(b, "prefix", c->storage.prefix);
    put_s3(b, &c->storage.s3);
    json_builder_end_object(b);
    if (c->backup.has_s3) {
        json_builder_set_member_name(b, "backup");
        json_builder_begin_object(b);
        put_str(b, "prefix", c->backup.prefix);
        put_s3(b, &c->backup.s3);
        json_builder_end_object(b);
    }
    g_autofree char *spool = rr_upload_spool_dir(c, output_dir);
    put_str(b, "backup_storage", spool);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}
