/* worker/egress-info: EgressInfo state and JSON. See egress-info.h. */
#include "worker/egress-info.h"

const char *rr_egress_status_to_string(RrEgressStatus status)
{
    static const char *const names[] = {
        "EGRESS_STARTING", "EGRESS_ACTIVE",  "EGRESS_ENDING",        "EGRESS_COMPLETE",
        "EGRESS_FAILED",   "EGRESS_ABORTED", "EGRESS_LIMIT_REACHED",
    };
    return (guint)status < G_N_ELEMENTS(names) ? names[status] : "EGRESS_FAILED";
}

gboolean rr_egress_status_is_final(RrEgressStatus status)
{
    return status >= RR_EGRESS_COMPLETE;
}

gint64 rr_egress_now_ns(void)
{
    return g_get_real_time() * 1000;
}

static void file_result_free(gpointer p)
{
    RrFileResult *f = p;
    g_free(f->filename);
    g_free(f->location);
    g_free(f->spool_path);
    g_free(f);
}

RrEgressInfo *rr_egress_info_new(const char *egress_id, const RrJobSpec *job)
{
    RrEgressInfo *info = g_new0(RrEgressInfo, 1);
    info->egress_id = g_strdup(egress_id);
    info->job = job;
    info->room_name = g_strdup(job ? job->room_name : NULL);
    info->room_id = g_strdup(job ? job->room_id : NULL);
    info->status = RR_EGRESS_STARTING;
    info->updated_at = rr_egress_now_ns();
    info->file_results = g_ptr_array_new_with_free_func(file_result_free);
    return info;
}

void rr_egress_info_free(RrEgressInfo *info)
{
    if (!info)
        return;
    g_free(info->egress_id);
    g_free(info->room_id);
    g_free(info->room_name);
    g_free(info->error);
    g_free(info->details);
    g_free(info->manifest_location);
    g_ptr_array_unref(info->file_results);
    g_free(info);
}

void rr_egress_info_set_status(RrEgressInfo *info, RrEgressStatus status)
{
    info->status = status;
    info->updated_at = rr_egress_now_ns();
}

void rr_egress_info_set_error(RrEgressInfo *info, const char *error, int code, const char *details)
{
    g_free(info->error);
    info->error = g_strdup(error);
    info->error_code = code;
    g_free(info->details);
    info->details = g_strdup(details);
    info->updated_at = rr_egress_now_ns();
}

RrFileResult *rr_egress_info_add_file(RrEgressInfo *info, const char *location)
{
    RrFileResult *f = g_new0(RrFileResult, 1);
    f->location = g_strdup(location);
    f->filename = g_path_get_basename(location);
    g_ptr_array_add(info->file_results, f);
    return f;
}

RrEgressInfo *rr_egress_info_copy(const RrEgressInfo *info)
{
    RrEgressInfo *c = rr_egress_info_new(info->egress_id, info->job);
    g_free(c->room_id);
    c->room_id = g_strdup(info->room_id);
    g_free(c->room_name);
    c->room_name = g_strdup(info->room_name);
    c->status = info->status;
    c->started_at = info->started_at;
    c->ended_at = info->ended_at;
    c->updated_at = info->updated_at;
    c->error = g_strdup(info->error);
    c->error_code = info->error_code;
    c->details = g_strdup(info->details);
    c->backup_storage_used = info->backup_storage_used;
    c->manifest_location = g_strdup(info->manifest_location);
    for (guint i = 0; i < info->file_results->len; i++) {
        const RrFileResult *f = g_ptr_array_index(info->file_results, i);
        RrFileResult *n = rr_egress_info_add_file(c, f->location);
        g_free(n->filename);
        n->filename = g_strdup(f->filename);
        n->started_at = f->started_at;
        n->ended_at = f->ended_at;
        n->duration = f->duration;
        n->size = f->size;
        n->spool_path = g_strdup(f->spool_path);
    }
    return c;
}

static void add_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v ? v : "");
}

/* int64 as a string (protobuf JSON). */
static void add_i64(JsonBuilder *b, const char *k, gint64 v)
{
    g_autofree char *s = g_strdup_printf("%" G_GINT64_FORMAT, v);
    add_str(b, k, s);
}

void rr_egress_info_build_json(const RrEgressInfo *info, JsonBuilder *b)
{
    json_builder_begin_object(b);
    add_str(b, "egressId", info->egress_id);
    add_str(b, "roomId", info->room_id);
    add_str(b, "roomName", info->room_name);
    add_str(b, "status", rr_egress_status_to_string(info->status));
    add_i64(b, "startedAt", info->started_at);
    add_i64(b, "endedAt", info->ended_at);
    add_i64(b, "updatedAt", info->updated_at);
    if (info->error) {
        add_str(b, "error", info->error);
        json_builder_set_member_name(b, "errorCode");
        json_builder_add_int_value(b, info->error_code);
    }
    if (info->details)
        add_str(b, "details", info->details);
    if (info->job) {
        json_builder_set_member_name(b, rr_job_kind_to_info_member(info->job->kind));
        rr_job_spec_build_request_json(info->job, b);
    }
    json_builder_set_member_name(b, "fileResults");
    json_builder_begin_array(b);
    for (guint i = 0; i < info->file_results->len; i++) {
        const RrFileResult *f = g_ptr_array_index(info->file_results, i);
        json_builder_begin_object(b);
        add_str(b, "filename", f->filename);
        add_str(b, "location", f->location);
        add_i64(b, "startedAt", f->started_at);
        add_i64(b, "endedAt", f->ended_at);
        add_i64(b, "duration", f->duration);
        add_i64(b, "size", f->size);
        if (f->spool_path)
            add_str(b, "spoolPath", f->spool_path);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (info->backup_storage_used) {
        json_builder_set_member_name(b, "backupStorageUsed");
        json_builder_add_boolean_value(b, TRUE);
    }
    if (info->manifest_location)
        add_str(b, "manifestLocation", info->manifest_location);
    json_builder_end_object(b);
}

char *rr_egress_info_to_json(const RrEgressInfo *info, gboolean pretty)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    rr_egress_info_build_json(info, b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, pretty);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}
