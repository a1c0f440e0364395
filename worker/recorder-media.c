/* worker/recorder-media: the recorder's pipeline side — track egress here, composites in
 * recorder-composite.c — behind one set of calls. See recorder-priv.h. */
#include "worker/recorder-priv.h"

#include "pipeline/elements.h"
#include "pipeline/pipeline-error.h"
#include "worker/worker-error.h"

#include <glib/gstdio.h>
#include <string.h>

static gboolean is_composite(RrRecorder *r)
{
    return r->job->kind != RR_JOB_TRACK;
}

RrRecvTrackConfig rr_recorder_recv_config(const RrTrack *t)
{
    gboolean video = t->kind == RR_TRACK_KIND_VIDEO;
    /* rtc/ unwraps RTX: retransmissions arrive as the original packets, so the pipeline
     * sees no RTX stream, but its NACKs still bring them. */
    RrRecvTrackConfig c = {
        .encoding_name = t->codec,
        .payload_type = t->pt,
        .clock_rate = t->clock_rate,
        .ssrc = t->ssrc,
        .nack = video,
        .nack_pli = video,
        .ccm_fir = video,
        .sync_group = t->participant_sid, /* lip sync per participant */
    };
    return c;
}

void rr_recorder_template_vars(RrRecorder *r, const RrTrack *t, RrJobTemplateVars *v)
{
    const char *room =
        r->info->room_name && *r->info->room_name ? r->info->room_name : r->job->room_name;
    *v = (RrJobTemplateVars){
        .room_name = room,
        .room_id = r->info->room_id,
        .egress_id = r->egress_id,
        .unix_usec = g_get_real_time(),
    };
    if (t) {
        v->track_id = t->sid;
        v->track_type = t->kind == RR_TRACK_KIND_VIDEO ? "video" : "audio";
        v->track_source = rr_track_source_to_string(t->source);
        v->publisher_identity = t->participant_identity;
    }
}

/* (transfer full) @path with "_partN" before the extension of its base name. */
static char *part_path(const char *path, guint part)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return g_strdup_printf("%s_part%u", path, part);
    return g_strdup_printf("%.*s_part%u%s", (int)(dot - path), path, part, dot);
}

char *rr_recorder_place_output(RrRecorder *r, const char *path, GError **error)
{
    g_autofree char *parted = r->config.part > 1 ? part_path(path, r->config.part) : NULL;
    if (parted)
        path = parted;
    g_autofree char *full = g_path_is_absolute(path) || !r->output_dir
                                ? g_strdup(path)
                                : g_build_filename(r->output_dir, path, NULL);
    g_autofree char *dir = g_path_get_dirname(full);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED,
                    "cannot create the output directory %s: %s", dir, g_strerror(e));
        return NULL;
    }
    /* The name is taken now (never an existing file's): a name the file system refuses
     * fails the job here, before anything is started. */
    char *taken = rr_job_reserve_output(full, error);
    if (taken && strcmp(taken, full) != 0)
        g_message("recorder: %s exists; writing %s", full, taken);
    return taken;
}

void rr_recorder_file_done(RrRecorder *r, const char *path, gboolean complete, guint64 size,
                           GstClockTime duration, const GError *error)
{
    r->media_done = TRUE;
    if (!r->active) {
        /* Nothing was recorded: no file to report. */
        if (path)
            g_unlink(path);
    } else if (path != NULL) {
        RrFileResult *f = rr_egress_info_add_file(r->info, path);
        f->started_at = r->info->started_at;
        f->ended_at = rr_egress_now_ns();
        f->size = (gint64)size;
        f->duration = GST_CLOCK_TIME_IS_VALID(duration) ? (gint64)duration : 0;
        if (!error && !complete) {
            g_autoptr(GError) e = g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                                              "the output file %s was not finalized", path);
            rr_recorder_media_failed(r, e);
        }
    }
    if (error)
        rr_recorder_media_failed(r, error);
    if (!r->stopping)
        rr_recorder_end(r, RR_EGRESS_FAILED, error, error ? error->message : "pipeline ended", 0,
                        NULL);
    rr_recorder_finish(r);
}

/* ---- track egress ---- */

static void egress_rtcp_out(GBytes *packet, gpointer ud)
{
    RrRecorder *r = ud;
    gsize len;
    const guint8 *data = g_bytes_get_data(packet, &len);
    if (r->session && !r->left)
        rr_session_send_rtcp(r->session, data, len, NULL);
}

static void egress_started(GstClockTime running_time, gpointer ud)
{
    rr_recorder_media_started(ud);
}

static void egress_finished(const RrTrackEgressResult *res, const GError *error, gpointer ud)
{
    rr_recorder_file_done(ud, res->path, res->complete, res->size, res->duration, error);
}

static const RrTrackEgressCallbacks egress_callbacks = {
    .rtcp_out = egress_rtcp_out,
    .started = egress_started,
    .finished = egress_finished,
};

static gboolean egress_add_track(RrRecorder *r, const RrTrack *t)
{
    if (r->egress) {
        if (g_strcmp0(r->egress_sid, t->sid) != 0)
            return FALSE;
        /* The same track after a rejoin: a new SSRC (the receive side takes it up, with a
         * key frame request) and perhaps a new payload type, mapped back to the first. */
        if (g_ascii_strcasecmp(t->codec, r->egress_codec) != 0) {
            g_message("recorder: track %s came back as %s (was %s)", t->sid, t->codec,
                      r->egress_codec);
            rr_recorder_end(r, RR_EGRESS_COMPLETE, NULL, NULL, 0, "the track changed codec");
            return FALSE;
        }
        r->egress_pt_in = t->pt != r->egress_pt ? (gint)t->pt : -1;
        r->egress_away = FALSE;
        g_message("recorder: track %s is back (ssrc %08x, payload type %u)", t->sid, t->ssrc,
                  t->pt);
        return TRUE;
    }
    g_autoptr(GError) error = NULL;
    const RrCodec *codec = rr_codec_find(t->codec, &error);
    if (!codec) {
        rr_recorder_end(r, RR_EGRESS_FAILED, error, error->message, 0, NULL);
        return FALSE;
    }
    RrJobTemplateVars vars;
    rr_recorder_template_vars(r, t, &vars);
    g_autofree char *name = rr_job_track_output(r->job, &vars, codec->extension);
    g_free(r->output_path);
    r->output_path = rr_recorder_place_output(r, name, &error);
    RrTrackEgressConfig cfg = {.track = rr_recorder_recv_config(t), .path = r->output_path};
    if (r->output_path)
        r->egress = rr_track_egress_new(&cfg, r->context, &egress_callbacks, r, &error);
    if (!r->egress || !rr_track_egress_start(r->egress, &error)) {
        g_clear_pointer(&r->egress, rr_track_egress_free);
        r->media_done = TRUE;
        rr_recorder_end(r, RR_EGRESS_FAILED, error, error->message, 0, NULL);
        return FALSE;
    }
    r->egress_sid = g_strdup(t->sid);
    r->egress_codec = g_strdup(t->codec);
    r->egress_pt = t->pt;
    r->egress_pt_in = -1;
    g_message("recorder: writing %s", r->output_path);
    return TRUE;
}

/* ---- dispatch ---- */

gboolean rr_recorder_media_init(RrRecorder *r, GError **error)
{
    g_autoptr(GError) e = NULL;
    gboolean ok;
    if (is_composite(r)) {
        ok = rr_recorder_composite_init(r, &e);
    } else {
        /* The codec (so depayloader, parser, muxer) is checked when the track comes. */
        g_autoptr(GPtrArray) needed = rr_elements_for_track_egress();
        ok = rr_elements_check(needed, &e);
    }
    if (!ok && g_error_matches(e, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT)) {
        /* Not a bad job: the machine lacks a plugin. rr_recorder_start() ends it FAILED
         * at once, before joining, with the EgressInfo saying which. */
        r->start_error = g_steal_pointer(&e);
        return TRUE;
    }
    if (!ok)
        g_propagate_error(error, g_steal_pointer(&e));
    return ok;
}

gboolean rr_recorder_media_start(RrRecorder *r, GError **error)
{
    return !r->composite || rr_composite_start(r->composite, error);
}

gboolean rr_recorder_media_add_track(RrRecorder *r, const RrTrack *t)
{
    return is_composite(r) ? rr_recorder_composite_add_track(r, t) : egress_add_track(r, t);
}

void rr_recorder_media_remove_track(RrRecorder *r, const RrTrack *t)
{
    if (is_composite(r)) {
        rr_recorder_composite_remove_track(r, t);
    } else if (r->egress && g_strcmp0(t->sid, r->egress_sid) == 0) {
        if (rr_session_get_state(r->session) == RR_SESSION_RECONNECTING) {
            /* A rejoin drops every track with the media connection: the file waits for
             * the track to come back (rr_recorder_media_rejoined ends it if it does not). */
            r->egress_away = TRUE;
            g_message("recorder: track %s is gone while the session rejoins", t->sid);
        } else if (r->active) {
            /* LiveKit ends a track egress when its track is unpublished. */
            g_message("recorder: track %s ended", t->sid);
            rr_recorder_end(r, RR_EGRESS_COMPLETE, NULL, NULL, 0, "the track was unpublished");
        }
    }
}

void rr_recorder_media_rejoined(RrRecorder *r)
{
    if (r->stopping)
        return;
    if (r->composite) {
        rr_recorder_composite_rejoined(r);
        return;
    }
    /* Still published: the track comes back with the new connection. */
    if (!r->egress || !r->egress_away || rr_session_track_published(r->session, r->egress_sid))
        return;
    g_message("recorder: track %s was unpublished while the session rejoined", r->egress_sid);
    rr_recorder_end(r, RR_EGRESS_COMPLETE, NULL, NULL, 0, "the track was unpublished");
}

void rr_recorder_media_mute(RrRecorder *r, const RrTrack *t)
{
    if (is_composite(r))
        rr_recorder_composite_mute(r, t);
}

void rr_recorder_media_participant(RrRecorder *r, const RrParticipant *p)
{
    if (is_composite(r))
        rr_recorder_composite_participant(r, p);
}

void rr_recorder_media_speakers(RrRecorder *r, const char *const *sids)
{
    if (r->composite)
        rr_composite_set_speakers(r->composite, sids);
}

void rr_recorder_media_push_rtp(RrRecorder *r, const RrTrack *t, const guint8 *pkt, gsize len)
{
    if (r->egress) {
        if (g_strcmp0(t->sid, r->egress_sid) != 0)
            return;
        if (r->egress_pt_in >= 0 && len >= 12 && (pkt[1] & 0x7f) == r->egress_pt_in) {
            g_autofree guint8 *copy = g_memdup2(pkt, len);
            copy[1] = (guint8)((copy[1] & 0x80) | r->egress_pt);
            rr_track_egress_push_rtp(r->egress, copy, len, NULL);
            return;
        }
        rr_track_egress_push_rtp(r->egress, pkt, len, NULL);
        return;
    }
    gint idx = r->composite ? rr_recorder_composite_index(r, t) : -1;
    if (idx >= 0)
        rr_composite_push_rtp(r->composite, (guint)idx, pkt, len, NULL);
}

void rr_recorder_media_push_rtcp(RrRecorder *r, const RrTrack *t, const guint8 *pkt, gsize len)
{
    if (r->egress) {
        if (g_strcmp0(t->sid, r->egress_sid) == 0)
            rr_track_egress_push_rtcp(r->egress, pkt, len, NULL);
        return;
    }
    gint idx = r->composite ? rr_recorder_composite_index(r, t) : -1;
    if (idx >= 0)
        rr_composite_push_rtcp(r->composite, (guint)idx, pkt, len, NULL);
}

gboolean rr_recorder_media_stop(RrRecorder *r, guint timeout_ms)
{
    if (r->media_done)
        return FALSE;
    /* A pipeline that never ran (its start failed) has no finished callback to come. */
    if (r->egress)
        return rr_track_egress_stop(r->egress, timeout_ms);
    if (r->composite)
        return rr_composite_stop(r->composite, timeout_ms);
    return FALSE;
}

void rr_recorder_media_stop_now(RrRecorder *r)
{
    if (r->media_done)
        return;
    if (r->egress)
        rr_track_egress_stop_now(r->egress);
    else if (r->composite)
        rr_composite_stop_now(r->composite);
}

void rr_recorder_media_progress(RrRecorder *r, RrRecorderProgress *p)
{
    if (r->composite) {
        p->bytes = rr_composite_get_bytes_written(r->composite);
        p->participants = g_hash_table_size(r->comp_participants);
        p->tracks = g_hash_table_size(r->comp_tracks);
    } else if (r->egress) {
        GStatBuf st;
        if (g_stat(rr_track_egress_get_temp_path(r->egress), &st) == 0 ||
            g_stat(r->output_path, &st) == 0)
            p->bytes = (guint64)st.st_size;
        p->participants = 1;
        p->tracks = 1;
    }
}

void rr_recorder_media_free(RrRecorder *r)
{
    g_clear_pointer(&r->egress, rr_track_egress_free);
    g_clear_pointer(&r->composite, rr_composite_free);
    g_clear_pointer(&r->comp_tracks, g_hash_table_unref);
    g_clear_pointer(&r->comp_participants, g_hash_table_unref);
    g_clear_pointer(&r->egress_sid, g_free);
    g_clear_pointer(&r->egress_codec, g_free);
    rr_job_release_output(r->output_path);
    g_clear_pointer(&r->output_path, g_free);
}
