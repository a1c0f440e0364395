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

static void segments_result_free(gpointer p)
{
    RrSegmentsResultInfo *s = p;
    g_free(s->playlist_name);
    g_free(s->playlist_location);
    g_free(s->live_playlist_name);
    g_free(s->live_playlist_location);
    g_free(s);
}

static void images_result_free(gpointer p)
{
    RrImagesResultInfo *i = p;
    g_free(i->filename_prefix);
    g_free(i);
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
    info->segment_results = g_ptr_array_new_with_free_func(segments_result_free);
    info->image_results = g_ptr_array_new_with_free_func(images_result_free);
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
    g_ptr_array_unref(info->segment_results);
    g_ptr_array_unref(info->image_results);
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
    for (guint i = 0; i < info->segment_results->len; i++) {
        const RrSegmentsResultInfo *sr = g_ptr_array_index(info->segment_results, i);
        RrSegmentsResultInfo *n =
            rr_egress_info_add_segments(c, sr->playlist_location, sr->live_playlist_location);
        n->duration = sr->duration;
        n->size = sr->size;
        n->segment_count = sr->segment_count;
        n->started_at = sr->started_at;
        n->ended_at = sr->ended_at;
    }
    for (guint i = 0; i < info->image_results->len; i++) {
        const RrImagesResultInfo *ir = g_ptr_array_index(info->image_results, i);
        RrImagesResultInfo *n = rr_egress_info_add_images(c, ir->filename_prefix);
        n->image_count = ir->image_count;
        n->started_at = ir->started_at;
        n->ended_at = ir->ended_at;
    }
    return c;
}

RrSegmentsResultInfo *rr_egress_info_add_segments(RrEgressInfo *info, const char *playlist,
                                                  const char *live_playlist)
{
    RrSegmentsResultInfo *s = g_new0(RrSegmentsResultInfo, 1);
    s->playlist_location = g_strdup(playlist);
    s->playlist_name = g_path_get_basename(playlist);
    if (live_playlist) {
        s->live_playlist_location = g_strdup(live_playlist);
        s->live_playlist_name = g_path_get_basename(live_playlist);
    }
    g_ptr_array_add(info->segment_results, s);
    return s;
}

RrImagesResultInfo *rr_egress_info_add_images(RrEgressInfo *info, const char *prefix)
{
    RrImagesResultInfo *i = g_new0(RrImagesResultInfo, 1);
    i->filename_prefix = g_strdup(prefix);
    g_ptr_array_add(info->image_results, i);
    return i;
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
    if (info->segment_results->len) {
        json_builder_set_member_name(b, "segmentResults");
        json_builder_begin_array(b);
        for (guint i = 0; i < info->segment_results->len; i++) {
            const RrSegmentsResultInfo *s = g_ptr_array_index(info->segment_results, i);
            json_builder_begin_object(b);
            add_str(b, "playlistName", s->playlist_name);
            add_str(b, "playlistLocation", s->playlist_location);
            if (s->live_playlist_name) {
                add_str(b, "livePlaylistName", s->live_playlist_name);
                add_str(b, "livePlaylistLocation", s->live_playlist_location);
            }
            add_i64(b, "duration", s->duration);
            add_i64(b, "size", s->size);
            add_i64(b, "segmentCount", s->segment_count);
            add_i64(b, "startedAt", s->started_at);
            add_i64(b, "endedAt", s->ended_at);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
    if (info->image_results->len) {
        json_builder_set_member_name(b, "imageResults");
        json_builder_begin_array(b);
        for (guint i = 0; i < info->image_results->len; i++) {
            const RrImagesResultInfo *im = g_ptr_array_index(info->image_results, i);
            json_builder_begin_object(b);
            add_str(b, "filenamePrefix", im->filename_prefix);
            add_i64(b, "imageCount", im->image_count);
            add_i64(b, "startedAt", im->started_at);
            add_i64(b, "endedAt", im->ended_at);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
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
