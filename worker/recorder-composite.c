/* worker/recorder-composite: room composite, track composite and participant egress on
 * an RrComposite — participants and tracks follow the room. See recorder-priv.h. */
#include "worker/recorder-priv.h"

#include "pipeline/elements.h"
#include "pipeline/pipeline-error.h"
#include "worker/worker-error.h"

#include <errno.h>
#include <string.h>

/* A recorded track: its composite index, and what it came with. */
typedef struct {
    guint index;
    guint8 pt;
    char *codec;
    gboolean away; /* dropped with the media connection by a rejoin */
} RrRecCompTrack;

static void comp_track_free(gpointer data)
{
    RrRecCompTrack *ct = data;
    g_free(ct->codec);
    g_free(ct);
}

static void comp_rtcp_out(guint track, GBytes *packet, gpointer ud)
{
    RrRecorder *r = ud;
    gsize len;
    const guint8 *data = g_bytes_get_data(packet, &len);
    if (r->session && !r->left)
        rr_session_send_rtcp(r->session, data, len, NULL);
}

static void comp_started(guint track, GstClockTime running_time, gpointer ud)
{
    RrRecorder *r = ud;
    r->comp_started_rt = running_time;
    rr_recorder_media_started(r);
}

static void comp_finished(const RrCompositeResult *res, const GError *error, gpointer ud)
{
    RrRecorder *r = ud;
    gint64 now = rr_egress_now_ns();
    if (res->has_segments && r->active) {
        RrSegmentsResultInfo *s = rr_egress_info_add_segments(r->info, res->segments.playlist_path,
                                                              res->segments.live_playlist_path);
        s->duration = (gint64)res->segments.duration;
        s->size = (gint64)res->segments.size;
        s->segment_count = res->segments.segment_count;
        s->started_at = r->info->started_at;
        s->ended_at = now;
    }
    if (res->has_images && r->active) {
        RrImagesResultInfo *i = rr_egress_info_add_images(r->info, res->images.prefix);
        i->image_count = res->images.count;
        i->started_at = r->info->started_at;
        i->ended_at = now;
    }
    rr_recorder_file_done(r, res->has_file ? res->path : NULL, res->complete, res->size,
                          res->duration, error);
}

/* Every closed segment, playlist and image of the recording, for uploads. */
static void comp_file_closed(const char *path, RrOutputKind kind, gpointer ud)
{
    RrRecorder *r = ud;
    g_debug("recorder: %s closed: %s", rr_output_kind_to_string(kind), path);
    if (r->cbs.file_closed)
        r->cbs.file_closed(r, path, kind, r->ud);
}

static const RrCompositeCallbacks comp_callbacks = {
    .rtcp_out = comp_rtcp_out,
    .started = comp_started,
    .finished = comp_finished,
    .file_closed = comp_file_closed,
};

/* @name (a template expanded) made absolute under the output directory, its directory
 * created. */
static char *place_extra(RrRecorder *r, const char *name, GError **error)
{
    char *full = g_path_is_absolute(name) || !r->output_dir
                     ? g_strdup(name)
                     : g_build_filename(r->output_dir, name, NULL);
    g_autofree char *dir = g_path_get_dirname(full);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED,
                    "cannot create the output directory %s: %s", dir, g_strerror(e));
        g_free(full);
        return NULL;
    }
    return full;
}

/* Paths of the segment and image outputs (strings kept in @keep). */
static gboolean extra_outputs(RrRecorder *r, const RrJobTemplateVars *vars, RrSegmentsConfig *seg,
                              RrImagesConfig *img, GPtrArray *keep, GError **error)
{
    const RrJobSegments *js = r->job->segments;
    if (js != NULL) {
        RrJobSegmentNames names = {0};
        if (!rr_job_segment_names(js, vars, &names, error))
            return FALSE;
        char *full = place_extra(r, names.prefix, error);
        char *pl_full = full ? place_extra(r, names.playlist, error) : NULL;
        char *live_full =
            pl_full && names.live_playlist ? place_extra(r, names.live_playlist, error) : NULL;
        gboolean ok = pl_full && (live_full || !names.live_playlist);
        rr_job_segment_names_clear(&names);
        g_ptr_array_add(keep, full);
        g_ptr_array_add(keep, pl_full);
        g_ptr_array_add(keep, live_full);
        if (!ok)
            return FALSE;
        *seg = (RrSegmentsConfig){.prefix = full,
                                  .playlist_path = pl_full,
                                  .live_playlist_path = live_full,
                                  .segment_duration_s = js->segment_duration,
                                  .suffix = js->timestamp_suffix ? RR_FILE_SUFFIX_TIMESTAMP
                                                                 : RR_FILE_SUFFIX_INDEX};
    }
    const RrJobImages *ji = r->job->images;
    if (ji != NULL) {
        g_autofree char *prefix = rr_job_image_prefix(ji, vars);
        char *full = place_extra(r, prefix, error);
        if (full == NULL)
            return FALSE;
        g_ptr_array_add(keep, full);
        *img = (RrImagesConfig){.prefix = full,
                                .interval_s = ji->capture_interval,
                                .width = ji->width ? ji->width : r->job->encode.width,
                                .height = ji->height ? ji->height : r->job->encode.height,
                                .suffix = ji->timestamp_suffix ? RR_FILE_SUFFIX_TIMESTAMP
                                                               : RR_FILE_SUFFIX_INDEX};
    }
    return TRUE;
}

gboolean rr_recorder_composite_init(RrRecorder *r, GError **error)
{
    RrJobTemplateVars vars;
    rr_recorder_template_vars(r, NULL, &vars);
    RrContainer container = RR_CONTAINER_MP4;
    if (r->job->has_file) {
        g_autofree char *name = rr_job_composite_output(r->job, &vars, &container, error);
        if (!name)
            return FALSE;
        r->output_path = rr_recorder_place_output(r, name, error);
        if (!r->output_path)
            return FALSE;
    }
    RrSegmentsConfig seg;
    RrImagesConfig img;
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    if (!extra_outputs(r, &vars, &seg, &img, keep, error))
        return FALSE;
    RrCompositeConfig cfg = {
        .segments = r->job->segments ? &seg : NULL,
        .images = r->job->images ? &img : NULL,
        .path = r->output_path,
        .container = container,
        .audio_only = r->job->audio_only,
        .video_only = r->job->video_only,
        .layout = r->job->layout,
        .encode = r->job->encode,
    };
    /* Checked here, before joining; rr_composite_new() would refuse too. */
    g_autoptr(GPtrArray) needed = rr_elements_for_composite(&cfg);
    if (!rr_elements_check(needed, error))
        return FALSE;
    r->composite = rr_composite_new(&cfg, r->context, &comp_callbacks, r, error);
    if (!r->composite)
        return FALSE;
    r->comp_tracks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, comp_track_free);
    r->comp_participants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_message("recorder: writing %s%s%s%s%s (%s layout)", r->output_path ? r->output_path : "",
              cfg.segments ? " segments " : "", cfg.segments ? seg.playlist_path : "",
              cfg.images ? " images " : "", cfg.images ? img.prefix : "", r->job->layout);
    return TRUE;
}

gint rr_recorder_composite_index(RrRecorder *r, const RrTrack *t)
{
    const RrRecCompTrack *ct = r->comp_tracks ? g_hash_table_lookup(r->comp_tracks, t->sid) : NULL;
    return ct ? (gint)ct->index : -1;
}

static void ensure_participant(RrRecorder *r, const char *sid, const char *name)
{
    if (g_hash_table_contains(r->comp_participants, sid))
        return;
    rr_composite_add_participant(r->composite, sid, name);
    g_hash_table_add(r->comp_participants, g_strdup(sid));
}

static const char *display_name(const char *name, const char *identity)
{
    return name && *name ? name : identity;
}

static void remove_branch(RrRecorder *r, const char *sid)
{
    RrRecCompTrack *ct = g_hash_table_lookup(r->comp_tracks, sid);
    if (ct == NULL)
        return;
    rr_composite_remove_track(r->composite, ct->index);
    g_hash_table_remove(r->comp_tracks, sid);
}

gboolean rr_recorder_composite_add_track(RrRecorder *r, const RrTrack *t)
{
    if (!r->composite)
        return FALSE;
    RrRecCompTrack *had = g_hash_table_lookup(r->comp_tracks, t->sid);
    if (had && had->pt == t->pt && g_ascii_strcasecmp(had->codec, t->codec) == 0) {
        /* The same track after a rejoin: its branch stays (its tile does not change); the
         * receive side takes up the new SSRC and asks for a key frame. */
        had->away = FALSE;
        rr_composite_set_track_muted(r->composite, had->index, t->muted);
        g_message("recorder: track %s is back (ssrc %08x)", t->sid, t->ssrc);
        return TRUE;
    }
    if (had) /* back with another codec or payload type: a new branch */
        remove_branch(r, t->sid);
    ensure_participant(r, t->participant_sid,
                       display_name(t->participant_name, t->participant_identity));
    RrCompositeTrack ct = {
        .rtp = rr_recorder_recv_config(t),
        .participant = t->participant_sid,
        .screen_share = t->source == RR_TRACK_SOURCE_SCREEN_SHARE ||
                        t->source == RR_TRACK_SOURCE_SCREEN_SHARE_AUDIO,
    };
    g_autoptr(GError) error = NULL;
    gint idx = rr_composite_add_track(r->composite, &ct, &error);
    if (idx < 0 && g_error_matches(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT)) {
        /* A decoder missing for this track's codec: the job fails, rather than silently
         * recording less than the room holds. */
        g_warning("recorder: cannot record track %s of %s: %s", t->sid, t->participant_identity,
                  error->message);
        rr_recorder_end(r, RR_EGRESS_FAILED, error, error->message, 0, NULL);
        return FALSE;
    }
    if (idx < 0) {
        /* One unusable track does not end a room recording. */
        g_warning("recorder: cannot record track %s of %s: %s", t->sid, t->participant_identity,
                  error->message);
        return FALSE;
    }
    RrRecCompTrack *rec = g_new0(RrRecCompTrack, 1);
    rec->index = (guint)idx;
    rec->pt = t->pt;
    rec->codec = g_strdup(t->codec);
    g_hash_table_insert(r->comp_tracks, g_strdup(t->sid), rec);
    if (t->muted)
        rr_composite_set_track_muted(r->composite, (guint)idx, TRUE);
    return TRUE;
}

void rr_recorder_composite_remove_track(RrRecorder *r, const RrTrack *t)
{
    RrRecCompTrack *ct = r->comp_tracks ? g_hash_table_lookup(r->comp_tracks, t->sid) : NULL;
    if (ct == NULL)
        return;
    if (rr_session_get_state(r->session) == RR_SESSION_RECONNECTING) {
        /* A rejoin drops every track with the media connection: the tile keeps its last
         * picture until the track comes back (rr_recorder_composite_rejoined removes it
         * if it is no longer published). */
        ct->away = TRUE;
        return;
    }
    remove_branch(r, t->sid);
}

void rr_recorder_composite_rejoined(RrRecorder *r)
{
    if (!r->comp_tracks)
        return;
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, r->comp_tracks);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (((RrRecCompTrack *)v)->away && !rr_session_track_published(r->session, k))
            g_ptr_array_add(gone, g_strdup(k));
    for (guint i = 0; i < gone->len; i++) {
        g_message("recorder: track %s was unpublished while the session rejoined",
                  (const char *)g_ptr_array_index(gone, i));
        remove_branch(r, g_ptr_array_index(gone, i));
    }
}

void rr_recorder_composite_mute(RrRecorder *r, const RrTrack *t)
{
    gint idx = r->composite ? rr_recorder_composite_index(r, t) : -1;
    if (idx >= 0)
        rr_composite_set_track_muted(r->composite, (guint)idx, t->muted);
}

void rr_recorder_composite_participant(RrRecorder *r, const RrParticipant *p)
{
    if (!r->composite || !g_hash_table_contains(r->comp_participants, p->sid))
        return; /* added with its first recorded track */
    if (p->state == LIVEKIT__PARTICIPANT_INFO__STATE__DISCONNECTED) {
        rr_composite_remove_participant(r->composite, p->sid);
        g_hash_table_remove(r->comp_participants, p->sid);
        return;
    }
    rr_composite_add_participant(r->composite, p->sid, display_name(p->name, p->identity));
}
