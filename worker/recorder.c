/* worker/recorder: session ↔ pipeline wiring and the EgressInfo life cycle. See recorder.h.
 *
 * The media side is one of two pipelines: RrTrackEgress (track egress, created when the
 * track appears, because its codec picks the container) or RrComposite (created at start,
 * tracks added as they appear). recorder-media.c holds the code that talks to them; this
 * file holds the session callbacks, timers and status.
 */
#include "worker/recorder-priv.h"

#include "pipeline/pipeline-error.h"
#include "rtc/rtc-error.h"
#include "rtc/rtcp.h"
#include "worker/log.h"
#include "worker/worker-error.h"

#include <string.h>

#define DEFAULT_START_TIMEOUT_MS 20000
#define DEFAULT_DRAIN_TIMEOUT_MS 10000
#define LEAVE_GRACE_MS           300

static void set_status(RrRecorder *r, RrEgressStatus status)
{
    if (r->info->status == status)
        return;
    g_message("recorder: %s", rr_egress_status_to_string(status));
    rr_egress_info_set_status(r->info, status);
    if (r->cbs.status)
        r->cbs.status(r, r->info, r->ud);
}

static void clear_source(guint *id)
{
    if (*id) {
        g_source_remove(*id);
        *id = 0;
    }
}

static gboolean emit_finished(gpointer data)
{
    RrRecorder *r = data;
    r->finish_source = 0;
    if (r->cbs.finished)
        r->cbs.finished(r, r->info, r->ud);
    return G_SOURCE_REMOVE;
}

/* The pipeline is done (or never existed): set the final status, leave the room, report. */
void rr_recorder_finish(RrRecorder *r)
{
    if (r->finished)
        return;
    r->finished = TRUE;
    clear_source(&r->start_timer);
    clear_source(&r->duration_timer);
    clear_source(&r->max_timer);
    r->info->ended_at = rr_egress_now_ns();
    /* Nothing was renamed over the output's placeholder: it goes. */
    rr_job_release_output(r->output_path);
    set_status(r, r->final_status);
    if (r->session && !r->left) {
        r->left = TRUE;
        rr_session_leave(r->session);
    }
    /* Let the leave frame go out before the caller tears everything down. */
    r->finish_source = g_timeout_add(LEAVE_GRACE_MS, emit_finished, r);
}

/* Ends the recording with @status (the first reason wins). @error is copied. */
void rr_recorder_end(RrRecorder *r, RrEgressStatus status, const GError *error,
                     const char *error_text, int code, const char *details)
{
    if (r->stopping)
        return;
    r->stopping = TRUE;
    r->final_status = status;
    if (error && !r->error)
        r->error = g_error_copy(error);
    if (error_text || details)
        rr_egress_info_set_error(r->info, error_text, code, details);
    clear_source(&r->start_timer);
    clear_source(&r->duration_timer);
    clear_source(&r->max_timer);
    if (r->active)
        set_status(r, RR_EGRESS_ENDING);
    if (!rr_recorder_media_stop(r, r->config.drain_timeout_ms))
        rr_recorder_finish(r);
}

static gboolean on_start_timeout(gpointer data)
{
    RrRecorder *r = data;
    r->start_timer = 0;
    g_autofree char *details =
        rr_recorder_explain_no_start(r->session, r->job, r->config.egress_id);
    g_message("recorder: start signal not received: %s", details);
    rr_recorder_end(r, RR_EGRESS_ABORTED, NULL, "Start signal not received", 412, details);
    return G_SOURCE_REMOVE;
}

/* How much media the file would hold if the recording stopped now, or NONE if unknown: a
 * track egress counts what it received; a composite's file runs from its gate to the
 * running time it stops at. */
static GstClockTime media_held(RrRecorder *r)
{
    if (r->egress)
        return rr_track_egress_get_received(r->egress);
    if (r->composite && GST_CLOCK_TIME_IS_VALID(r->comp_started_rt)) {
        GstClockTime now = rr_composite_get_running_time(r->composite);
        return GST_CLOCK_TIME_IS_VALID(now) && now >= r->comp_started_rt ? now - r->comp_started_rt
                                                                         : GST_CLOCK_TIME_NONE;
    }
    return GST_CLOCK_TIME_NONE;
}

/* How much media a track egress still lacks to hold @target_ms (0: enough, or not a
 * track egress, or the wall clock is 2 s past the target — a track that stopped sending). */
static guint media_missing_ms(RrRecorder *r, guint64 target_ms)
{
    GstClockTime got = media_held(r);
    if (!GST_CLOCK_TIME_IS_VALID(got))
        return 0;
    gint64 missing_ms = (gint64)target_ms - (gint64)(got / GST_MSECOND);
    gint64 elapsed_ms = (g_get_monotonic_time() - r->active_since_us) / 1000;
    if (missing_ms <= 0 || elapsed_ms >= (gint64)target_ms + 2000)
        return 0;
    return (guint)CLAMP(missing_ms, 10, 100);
}

/* A limit is reached once the file holds that much media (media_held: what a track egress
 * received, a composite's running time since its gate); the wall clock is only a
 * backstop. */
static gboolean on_duration(gpointer data)
{
    RrRecorder *r = data;
    r->duration_timer = 0;
    guint wait_ms = media_missing_ms(r, r->config.duration_ms);
    if (wait_ms) {
        r->duration_timer = g_timeout_add(wait_ms, on_duration, r);
        return G_SOURCE_REMOVE;
    }
    g_message("recorder: duration reached");
    rr_recorder_end(r, RR_EGRESS_COMPLETE, NULL, NULL, 0, NULL);
    return G_SOURCE_REMOVE;
}

static gboolean on_max_duration(gpointer data)
{
    RrRecorder *r = data;
    r->max_timer = 0;
    guint wait_ms = media_missing_ms(r, r->config.max_duration_ms);
    if (wait_ms) {
        r->max_timer = g_timeout_add(wait_ms, on_max_duration, r);
        return G_SOURCE_REMOVE;
    }
    g_autofree char *details = g_strdup_printf("max duration of %.1f s reached",
                                               (double)r->config.max_duration_ms / 1000.0);
    g_message("recorder: %s", details);
    rr_recorder_end(r, RR_EGRESS_LIMIT_REACHED, NULL, NULL, 0, details);
    return G_SOURCE_REMOVE;
}

void rr_recorder_media_started(RrRecorder *r)
{
    if (r->active || r->stopping)
        return;
    r->active = TRUE;
    r->active_since_us = g_get_monotonic_time();
    r->info->started_at = rr_egress_now_ns();
    clear_source(&r->start_timer);
    /* The start gate opens when the first unit leaves the jitterbuffer, and draining at the
     * end writes what the jitterbuffer holds: both limits start counting that much early,
     * so that the file holds the duration asked for. A track egress says how much media
     * it already holds (the jitterbuffer's latency plus any backlog that arrived in a
     * burst), a composite how far its running time is past the gate (the latency plus
     * however late this notice came); otherwise assume the latency. */
    GstClockTime got = media_held(r);
    gint64 ahead_ms =
        GST_CLOCK_TIME_IS_VALID(got) ? (gint64)(got / GST_MSECOND) : RR_RECV_DEFAULT_LATENCY_MS;
    if (r->config.duration_ms)
        r->duration_timer =
            g_timeout_add((guint)MAX(1, (gint64)r->config.duration_ms - ahead_ms), on_duration, r);
    if (r->config.max_duration_ms)
        r->max_timer = g_timeout_add((guint)MAX(1, (gint64)r->config.max_duration_ms - ahead_ms),
                                     on_max_duration, r);
    /* The timers stop the recording once it holds the media; a track egress's file is
     * also cut there, should a backlog that arrives in a burst carry it past. */
    guint64 limit_ms = r->config.duration_ms;
    if (r->config.max_duration_ms && (!limit_ms || r->config.max_duration_ms < limit_ms))
        limit_ms = r->config.max_duration_ms;
    if (r->egress && limit_ms)
        rr_track_egress_set_limit(r->egress, (GstClockTime)limit_ms * GST_MSECOND);
    set_status(r, RR_EGRESS_ACTIVE);
}

void rr_recorder_media_failed(RrRecorder *r, const GError *error)
{
    if (r->stopping) {
        /* Draining failed: the recording is lost, whatever ended it. */
        if (r->final_status == RR_EGRESS_COMPLETE || r->final_status == RR_EGRESS_LIMIT_REACHED) {
            r->final_status = RR_EGRESS_FAILED;
            if (!r->error)
                r->error = g_error_copy(error);
            rr_egress_info_set_error(r->info, error->message, 0, NULL);
        }
        return;
    }
    rr_recorder_end(r, RR_EGRESS_FAILED, error, error->message, 0, NULL);
}

/* ---- session callbacks ---- */

static void on_state(RrSession *s, RrSessionState state, const GError *error, gpointer ud)
{
    RrRecorder *r = ud;
    if (state == RR_SESSION_JOINED || state == RR_SESSION_CONNECTED) {
        const char *room = rr_session_get_room_name(s);
        if (room && *room && g_strcmp0(room, r->info->room_name) != 0) {
            g_free(r->info->room_name);
            r->info->room_name = g_strdup(room);
        }
    }
    if (r->left || r->stopping)
        return;
    if (state == RR_SESSION_JOINED)
        rr_recorder_media_rejoined(r);
    if (state != RR_SESSION_FAILED && !(state == RR_SESSION_CLOSED && error) &&
        state != RR_SESSION_CLOSED)
        return;
    g_autoptr(GError) e =
        error ? g_error_copy(error)
              : g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_FAILED, "the server closed the session");
    /* A media connection that never came up before anything was recorded is LiveKit's
     * "Start signal not received", with the connectivity report as details. */
    if (!r->active && e->domain == RR_RTC_ERROR &&
        (e->code == RR_RTC_ERROR_ICE || e->code == RR_RTC_ERROR_DTLS ||
         e->code == RR_RTC_ERROR_SCTP)) {
        g_autofree char *why = rr_recorder_explain_no_start(s, r->job, r->config.egress_id);
        g_autoptr(GString) d = g_string_new(why);
        if (!strstr(why, e->message))
            g_string_prepend(g_string_prepend(d, "; "), e->message);
        rr_recorder_end(r, RR_EGRESS_ABORTED, NULL, "Start signal not received", 412, d->str);
        return;
    }
    if (r->active && state == RR_SESSION_CLOSED && !error) {
        /* The room ended: finish the file. */
        rr_recorder_end(r, RR_EGRESS_COMPLETE, NULL, NULL, 0, "the room was closed");
        return;
    }
    rr_recorder_end(r, RR_EGRESS_FAILED, e, e->message, 0, NULL);
}

/* Participants whose media a room composite records. */
static gboolean recordable_participant(RrRecorder *r, const char *identity, int kind)
{
    return kind != LIVEKIT__PARTICIPANT_INFO__KIND__EGRESS &&
           g_strcmp0(identity, r->config.egress_id) != 0;
}

static gboolean wants_track(RrRecorder *r, const RrTrack *t)
{
    const RrJobSpec *j = r->job;
    gboolean screen = t->source == RR_TRACK_SOURCE_SCREEN_SHARE ||
                      t->source == RR_TRACK_SOURCE_SCREEN_SHARE_AUDIO;
    gboolean video = t->kind == RR_TRACK_KIND_VIDEO;
    switch (j->kind) {
    case RR_JOB_TRACK:
        return rr_recorder_track_matches(t, j->track_id);
    case RR_JOB_TRACK_COMPOSITE:
        return (!video && rr_recorder_track_matches(t, j->audio_track_id)) ||
               (video && rr_recorder_track_matches(t, j->video_track_id));
    case RR_JOB_PARTICIPANT:
        return g_strcmp0(t->participant_identity, j->identity) == 0 && screen == j->screen_share;
    case RR_JOB_ROOM_COMPOSITE: {
        RrParticipant *p =
            g_hash_table_lookup(rr_session_get_participants(r->session), t->participant_sid);
        if (p && !recordable_participant(r, p->identity, p->kind))
            return FALSE;
        return !(j->audio_only && video) && !(j->video_only && !video);
    }
    }
    return FALSE;
}

static void on_track_added(RrSession *s, const RrTrack *t, gpointer ud)
{
    RrRecorder *r = ud;
    if (r->stopping || !wants_track(r, t))
        return;
    g_message("recorder: recording %s %s %s of %s",
              t->kind == RR_TRACK_KIND_VIDEO ? "video" : "audio", t->codec, t->sid,
              t->participant_identity);
    if (!rr_recorder_media_add_track(r, t))
        return;
    if (t->kind == RR_TRACK_KIND_VIDEO)
        rr_session_request_keyframe(s, t->sid, NULL);
}

static void on_track_removed(RrSession *s, const RrTrack *t, gpointer ud)
{
    RrRecorder *r = ud;
    if (!r->stopping)
        rr_recorder_media_remove_track(r, t);
}

static void on_track_muted(RrSession *s, const RrTrack *t, gpointer ud)
{
    RrRecorder *r = ud;
    if (!r->stopping)
        rr_recorder_media_mute(r, t);
}

static void on_participant(RrSession *s, const RrParticipant *p, gpointer ud)
{
    RrRecorder *r = ud;
    if (r->stopping || !recordable_participant(r, p->identity, p->kind))
        return;
    rr_recorder_media_participant(r, p);
    /* Without auto-subscription (all but room composites), the tracks the job records are
     * subscribed to as they are published (the session sends only new subscriptions). */
    if (r->job->kind != RR_JOB_ROOM_COMPOSITE) {
        g_auto(GStrv) sids = rr_recorder_wanted_sids(r->job, p);
        if (sids[0])
            rr_session_subscribe(s, (const char *const *)sids, TRUE);
    }
}

static void on_speakers(RrSession *s, const char *const *sids, gpointer ud)
{
    RrRecorder *r = ud;
    if (!r->stopping)
        rr_recorder_media_speakers(r, sids);
}

static void on_rtp(RrSession *s, const RrTrack *t, const guint8 *pkt, gsize len, gpointer ud)
{
    rr_recorder_media_push_rtp(ud, t, pkt, len);
}

/* Sender reports and BYEs go to the track(s) whose SSRC sent them: lip sync for
 * composites; a track egress times its file by RTP timestamps and is not moved by them. */
static void on_rtcp(RrSession *s, const guint8 *pkt, gsize len, gpointer ud)
{
    RrRecorder *r = ud;
    RrRtcpIter it;
    RrRtcpPacket p;
    guint32 seen[8];
    guint n_seen = 0;
    rr_rtcp_iter_init(&it, pkt, len);
    while (rr_rtcp_iter_next(&it, &p, NULL)) {
        guint32 ssrc;
        if (p.type == RR_RTCP_SR || p.type == RR_RTCP_BYE) {
            if (p.body_len < 4)
                continue;
            ssrc = GUINT32_FROM_BE(*(const guint32 *)p.body);
        } else {
            continue;
        }
        gboolean dup = FALSE;
        for (guint i = 0; i < n_seen; i++)
            dup |= seen[i] == ssrc;
        if (dup || n_seen == G_N_ELEMENTS(seen))
            continue;
        seen[n_seen++] = ssrc;
        GHashTableIter ti;
        gpointer v;
        g_hash_table_iter_init(&ti, rr_session_get_tracks(s));
        while (g_hash_table_iter_next(&ti, NULL, &v))
            if (((const RrTrack *)v)->ssrc == ssrc)
                rr_recorder_media_push_rtcp(r, v, pkt, len);
    }
}

static void on_secret(RrSession *s, const char *secret, gpointer ud)
{
    rr_log_add_secret(secret);
}

static const RrSessionCallbacks session_callbacks = {
    .state_changed = on_state,
    .participant = on_participant,
    .track_added = on_track_added,
    .track_removed = on_track_removed,
    .track_muted = on_track_muted,
    .speakers = on_speakers,
    .rtp = on_rtp,
    .rtcp = on_rtcp,
    .secret = on_secret,
};

/* ---- public ---- */

RrRecorder *rr_recorder_new(GMainContext *context, const RrRecorderConfig *config,
                            const RrRecorderCallbacks *callbacks, gpointer user_data,
                            GError **error)
{
    g_return_val_if_fail(config && config->job && config->egress_id, NULL);
    RrRecorder *r = g_new0(RrRecorder, 1);
    r->comp_started_rt = GST_CLOCK_TIME_NONE;
    r->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    r->config = *config;
    r->job = config->job;
    r->egress_id = g_strdup(config->egress_id);
    r->config.egress_id = r->egress_id;
    r->output_dir = g_strdup(config->output_dir);
    r->config.output_dir = r->output_dir;
    if (!r->config.start_timeout_ms)
        r->config.start_timeout_ms = DEFAULT_START_TIMEOUT_MS;
    if (!r->config.drain_timeout_ms)
        r->config.drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT_MS;
    if (callbacks)
        r->cbs = *callbacks;
    r->ud = user_data;
    r->info = rr_egress_info_new(r->egress_id, r->job);
    r->final_status = RR_EGRESS_COMPLETE;

    RrSessionConfig sc = config->session;
    sc.room = r->job->room_name;
    sc.identity = r->egress_id;
    /* Like LiveKit's egress: a room composite takes every track; the other jobs subscribe
     * to theirs alone (see on_participant). */
    sc.auto_subscribe = r->job->kind == RR_JOB_ROOM_COMPOSITE;
    sc.send_receiver_reports = FALSE; /* the pipeline's rtpbin sends them */
    r->session = rr_session_new(r->context, &sc, &session_callbacks, r, error);
    if (!r->session) {
        rr_recorder_free(r);
        return NULL;
    }
    /* An output that cannot be created is the job's failure (reported in its EgressInfo
     * at the start), not a usage error. */
    GError *media_error = NULL;
    if (!rr_recorder_media_init(r, &media_error)) {
        if (!g_error_matches(media_error, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED)) {
            g_propagate_error(error, media_error);
            rr_recorder_free(r);
            return NULL;
        }
        r->start_error = media_error;
    }
    return r;
}

void rr_recorder_free(RrRecorder *r)
{
    if (!r)
        return;
    clear_source(&r->start_timer);
    clear_source(&r->duration_timer);
    clear_source(&r->max_timer);
    clear_source(&r->finish_source);
    rr_recorder_media_free(r);
    g_clear_pointer(&r->session, rr_session_free);
    rr_egress_info_free(r->info);
    g_clear_error(&r->error);
    g_clear_error(&r->start_error);
    g_free(r->egress_id);
    g_free(r->output_dir);
    g_main_context_unref(r->context);
    g_free(r);
}

void rr_recorder_start(RrRecorder *r)
{
    g_autoptr(GError) error = NULL;
    if (r->start_error) {
        g_warning("recorder: %s", r->start_error->message);
        r->left = TRUE; /* never joined */
        rr_recorder_end(r, RR_EGRESS_FAILED, r->start_error, r->start_error->message, 0, NULL);
        return;
    }
    r->start_timer = g_timeout_add(r->config.start_timeout_ms, on_start_timeout, r);
    if (!rr_recorder_media_start(r, &error)) {
        rr_recorder_end(r, RR_EGRESS_FAILED, error, error->message, 0, NULL);
        return;
    }
    rr_session_start(r->session);
}

void rr_recorder_stop(RrRecorder *r)
{
    if (r->active) {
        rr_recorder_end(r, RR_EGRESS_COMPLETE, NULL, NULL, 0, NULL);
        return;
    }
    g_autofree char *details =
        rr_recorder_explain_no_start(r->session, r->job, r->config.egress_id);
    g_autofree char *d = g_strdup_printf("stopped before the recording started: %s", details);
    rr_recorder_end(r, RR_EGRESS_ABORTED, NULL, "Start signal not received", 412, d);
}

gboolean rr_recorder_set_layout(RrRecorder *r, const char *layout, GError **error)
{
    if (!r->composite || r->stopping) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_UNSUPPORTED,
                    "layout: only a running composite recording has a layout");
        return FALSE;
    }
    return rr_composite_set_layout(r->composite, layout, error);
}

const char *rr_recorder_get_output_path(RrRecorder *r)
{
    return r->output_path;
}

void rr_recorder_stop_now(RrRecorder *r)
{
    if (r->finished)
        return;
    if (!r->stopping)
        rr_recorder_stop(r);
    rr_recorder_media_stop_now(r);
    /* No pipeline left to report (none ran, or it was stuck before it could): finish. */
    rr_recorder_finish(r);
}

const RrEgressInfo *rr_recorder_get_info(RrRecorder *r)
{
    return r->info;
}

const GError *rr_recorder_get_error(RrRecorder *r)
{
    return r->error;
}

gboolean rr_recorder_get_host_path(RrRecorder *r, char **address, gboolean *tcp)
{
    return r->session && rr_session_get_host_path(r->session, address, tcp);
}

void rr_recorder_set_path(RrRecorder *r, const char *address, gboolean tcp)
{
    rr_session_set_path(r->session, address, tcp);
}

void rr_recorder_get_progress(RrRecorder *r, RrRecorderProgress *p)
{
    *p = (RrRecorderProgress){0};
    if (r->active)
        p->elapsed_s = (g_get_monotonic_time() - r->active_since_us) / 1e6;
    rr_recorder_media_progress(r, p);
}
