/* worker/cmd-record: `roomrec record`. See cmd-record.h.
 *
 * Flags that say what to record are turned into the same request JSON a job file holds,
 * so both go through one validation (rr_job_spec_from_object).
 */
#include "worker/cmd-record.h"

#include "rtc/poll.h"
#include "rtc/rtc-error.h"
#include "worker/cli.h"
#include "worker/config.h"
#include "worker/ice-options.h"
#include "worker/log.h"
#include "worker/record-host.h"
#include "worker/record-link.h"
#include "worker/recorder.h"
#include "worker/upload-live.h"
#include "worker/upload.h"
#include "worker/worker-error.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
    char *url, *api_key, *api_secret, *token, *room, *egress_id;
    char *layout, *participant, *audio_track, *video_track, *track, *output;
    char *preset, *h264_profile, *audio_codec;
    gboolean audio_only, video_only, screen_share, json;
    int width, height, fps, video_bitrate, audio_bitrate, audio_frequency;
    double keyframe_interval;
    double start_timeout, duration, max_duration;
    char *job_file, *job_env, *info_file, *output_dir;
    char *config_file, *spool_dir; /* storage: the worker config's, the spool */
    gboolean keep_local;
    int status_fd, control_fd, part; /* set by `roomrec worker` for its children */
    gboolean host;                   /* a room child of `roomrec worker` */
    RrIceOptions ice;
} Flags;

/* After SIGINT/SIGTERM the recorder drains; if it has not finished this long after the
 * signal, the file is closed as it is (rr_recorder_stop_now), and if even that has not
 * ended the run a little later, the main loop quits. A second signal quits at once. */
#define SIGNAL_DRAIN_MS 6000
#define SIGNAL_EXIT_MS  2000

typedef struct {
    GMainLoop *loop;
    RrRecorder *rec;
    RrRecordLink *link; /* NULL unless --status-fd/--control-fd */
    RrUpload *upload;   /* NULL: the files stay local */
    RrLiveUpload *live; /* segments and images while recording; NULL: they stay local */
    gboolean uploading;
    gboolean staged;       /* the files wait in the spool during the upload */
    RrEgressInfo *pending; /* the finished info while the live uploads end */
    RrEgressInfo *final;   /* the info after the upload */
    gboolean done;
    gboolean tty;
    guint signals;
    guint watchdog;
    gint64 last_log_us;
} Run;

static void flags_clear(Flags *f)
{
    char **strs[] = {&f->url,       &f->api_key, &f->api_secret,  &f->token,        &f->room,
                     &f->egress_id, &f->layout,  &f->participant, &f->audio_track,  &f->video_track,
                     &f->track,     &f->output,  &f->preset,      &f->h264_profile, &f->audio_codec,
                     &f->job_file,  &f->job_env, &f->info_file,   &f->output_dir,   &f->config_file,
                     &f->spool_dir};
    for (guint i = 0; i < G_N_ELEMENTS(strs); i++)
        g_clear_pointer(strs[i], g_free);
    rr_ice_options_clear(&f->ice);
}

static gboolean has_target_flags(const Flags *f)
{
    return f->layout || f->participant || f->audio_track || f->video_track || f->track ||
           f->output || f->preset || f->h264_profile || f->audio_codec || f->audio_only ||
           f->video_only || f->screen_share || f->width || f->height || f->fps ||
           f->video_bitrate || f->audio_bitrate || f->audio_frequency || f->keyframe_interval;
}

static void set_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

static void set_int(JsonBuilder *b, const char *k, gint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

static void build_encoding(JsonBuilder *b, const Flags *f)
{
    if (f->preset) {
        gint64 n;
        json_builder_set_member_name(b, "preset");
        if (g_ascii_string_to_signed(f->preset, 10, 0, 100, &n, NULL))
            json_builder_add_int_value(b, n);
        else
            json_builder_add_string_value(b, f->preset);
    }
    if (!(f->width || f->height || f->fps || f->video_bitrate || f->keyframe_interval ||
          f->h264_profile || f->audio_codec || f->audio_bitrate || f->audio_frequency))
        return;
    json_builder_set_member_name(b, "advanced");
    json_builder_begin_object(b);
    if (f->width)
        set_int(b, "width", f->width);
    if (f->height)
        set_int(b, "height", f->height);
    if (f->fps)
        set_int(b, "framerate", f->fps);
    if (f->video_bitrate)
        set_int(b, "video_bitrate", f->video_bitrate);
    if (f->keyframe_interval) {
        json_builder_set_member_name(b, "key_frame_interval");
        json_builder_add_double_value(b, f->keyframe_interval);
    }
    if (f->h264_profile) {
        g_autofree char *up = g_ascii_strup(f->h264_profile, -1);
        g_autofree char *name = g_strconcat("H264_", up, NULL);
        set_str(b, "video_codec", name);
    }
    if (f->audio_codec) {
        g_autofree char *up = g_ascii_strup(f->audio_codec, -1);
        set_str(b, "audio_codec", up);
    }
    if (f->audio_bitrate)
        set_int(b, "audio_bitrate", f->audio_bitrate);
    if (f->audio_frequency)
        set_int(b, "audio_frequency", f->audio_frequency);
    json_builder_end_object(b);
}

/* The request the flags describe, as job JSON. */
static JsonNode *flags_to_request(const Flags *f)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const char *kind = f->track                           ? "track"
                       : f->audio_track || f->video_track ? "track_composite"
                       : f->participant                   ? "participant"
                                                          : "room_composite";
    json_builder_set_member_name(b, kind);
    json_builder_begin_object(b);
    set_str(b, "room_name", f->room ? f->room : "");
    if (f->track) {
        set_str(b, "track_id", f->track);
        json_builder_set_member_name(b, "file");
        json_builder_begin_object(b);
        set_str(b, "filepath", f->output ? f->output : "");
        json_builder_end_object(b);
        json_builder_end_object(b);
        json_builder_end_object(b);
        return json_builder_get_root(b);
    }
    if (f->audio_track || f->video_track) {
        if (f->audio_track)
            set_str(b, "audio_track_id", f->audio_track);
        if (f->video_track)
            set_str(b, "video_track_id", f->video_track);
    } else if (f->participant) {
        set_str(b, "identity", f->participant);
        json_builder_set_member_name(b, "screen_share");
        json_builder_add_boolean_value(b, f->screen_share);
    } else {
        set_str(b, "layout", f->layout ? f->layout : "grid");
        json_builder_set_member_name(b, "audio_only");
        json_builder_add_boolean_value(b, f->audio_only);
        json_builder_set_member_name(b, "video_only");
        json_builder_add_boolean_value(b, f->video_only);
    }
    build_encoding(b, f);
    json_builder_set_member_name(b, "file_outputs");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    set_str(b, "filepath", f->output ? f->output : "");
    json_builder_end_object(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static RrJobSpec *load_job(const Flags *f, GError **error)
{
    if (f->job_file || f->job_env) {
        if (f->job_file && f->job_env) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "give either --job-file or --job-env");
            return NULL;
        }
        if (has_target_flags(f)) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "with a job, what to record and the output come from the job "
                        "(drop --track, --output, --preset, ...)");
            return NULL;
        }
        g_autofree char *text = NULL;
        gsize len = 0;
        const char *where = f->job_file ? f->job_file : f->job_env;
        if (f->job_file) {
            if (!g_file_get_contents(f->job_file, &text, &len, error))
                return NULL;
        } else {
            const char *v = g_getenv(f->job_env);
            if (!v) {
                g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                            "environment variable %s is not set", f->job_env);
                return NULL;
            }
            text = g_strdup(v);
            len = strlen(text);
        }
        g_autoptr(GError) e = NULL;
        RrJobSpec *spec = rr_job_spec_parse(text, (gssize)len, &e);
        if (!spec)
            g_set_error(error, e->domain, e->code, "%s: %s", where, e->message);
        return spec;
    }
    g_autoptr(JsonNode) req = flags_to_request(f);
    return rr_job_spec_from_object(json_node_get_object(req), error);
}

static int exit_code(const RrEgressInfo *info, const GError *e)
{
    switch (info->status) {
    case RR_EGRESS_COMPLETE:
        return RR_EXIT_OK;
    case RR_EGRESS_ABORTED:
        return RR_EXIT_ABORTED;
    case RR_EGRESS_LIMIT_REACHED:
        return RR_EXIT_LIMIT_REACHED;
    default:
        break;
    }
    if (e && e->domain == RR_RTC_ERROR) {
        if (e->code == RR_RTC_ERROR_AUTH)
            return RR_EXIT_AUTH;
        if (e->code == RR_RTC_ERROR_CONNECT || e->code == RR_RTC_ERROR_TIMEOUT ||
            e->code == RR_RTC_ERROR_INVALID_INPUT || e->code == RR_RTC_ERROR_UNSUPPORTED)
            return RR_EXIT_SIGNALLING;
    }
    return RR_EXIT_FAILED;
}

static char *human_bytes(guint64 n)
{
    return g_format_size_full(n, G_FORMAT_SIZE_DEFAULT);
}

static gboolean on_progress(gpointer ud)
{
    Run *run = ud;
    if (run->link)
        rr_record_link_progress(run->link);
    RrRecorderProgress p;
    rr_recorder_get_progress(run->rec, &p);
    const RrEgressInfo *info = rr_recorder_get_info(run->rec);
    g_autofree char *size = human_bytes(p.bytes);
    double kbps = p.elapsed_s > 0.5 ? p.bytes * 8 / p.elapsed_s / 1000 : 0;
    int secs = (int)p.elapsed_s;
    g_autofree char *line =
        g_strdup_printf("%s %02d:%02d:%02d  %s  %.0f kbit/s  %u participant(s), %u track(s)",
                        rr_egress_status_to_string(info->status) + 7, secs / 3600, secs / 60 % 60,
                        secs % 60, size, kbps, p.participants, p.tracks);
    if (run->tty) {
        rr_log_status_line(line);
    } else if (g_get_monotonic_time() - run->last_log_us >= 10 * G_USEC_PER_SEC) {
        run->last_log_us = g_get_monotonic_time();
        g_message("progress: %s", line);
    }
    return G_SOURCE_CONTINUE;
}

static void on_status(RrRecorder *r, const RrEgressInfo *info, gpointer ud)
{
    Run *run = ud;
    if (run->link && rr_egress_status_is_final(info->status) &&
        ((run->upload && info->file_results->len > 0) || run->live)) {
        /* Final only once the upload is confirmed. */
        g_autoptr(RrEgressInfo) ending = rr_egress_info_copy(info);
        rr_egress_info_set_status(ending, RR_EGRESS_ENDING);
        rr_record_link_status(run->link, ending);
    } else if (run->link) {
        rr_record_link_status(run->link, info);
    }
    /* The new status shows at once on a terminal. */
    if (run->tty && run->rec != NULL)
        on_progress(run);
}

static void on_uploaded(GObject *source, GAsyncResult *res, gpointer ud)
{
    Run *run = ud;
    run->final = rr_upload_run_finish(run->upload, res);
    run->uploading = FALSE;
    if (run->link)
        rr_record_link_status(run->link, run->final);
    run->done = TRUE;
    g_main_loop_quit(run->loop);
}

/* The worker died while we upload: the files wait in the spool, where the worker that
 * takes the job over uploads them and reports it; nobody would hear our final status. */
static gboolean on_worker_gone(gpointer ud)
{
    Run *run = ud;
    if (run->uploading && run->staged) {
        g_message("record: the worker is gone; the upload stops here, the recording waits in "
                  "the spool for the worker that takes the job over");
        _exit(RR_EXIT_FAILED);
    }
    return G_SOURCE_REMOVE;
}

static void on_file_closed(RrRecorder *r, const char *path, RrOutputKind kind, gpointer ud)
{
    Run *run = ud;
    if (run->live)
        rr_live_upload_add(run->live, path, kind);
}

/* The finished @info (taken) to the file upload, or the end. */
static void upload_files(Run *run, RrEgressInfo *info)
{
    if (run->upload && info->file_results->len > 0) {
        /* In the spool before the upload starts: a kill from here on leaves it there. */
        run->staged = rr_upload_stage(run->upload, info);
        if (run->staged && run->link) {
            g_autoptr(RrEgressInfo) ending = rr_egress_info_copy(info);
            rr_egress_info_set_status(ending, RR_EGRESS_ENDING);
            rr_record_link_status(run->link, ending);
        }
        g_message("record: uploading %u file(s)", info->file_results->len);
        run->uploading = TRUE;
        rr_upload_run_async(run->upload, info, on_uploaded, run);
        return;
    }
    run->uploading = FALSE;
    if (run->live) {
        run->final = info;
        if (run->link)
            rr_record_link_status(run->link, run->final);
    } else {
        rr_egress_info_free(info);
    }
    run->done = TRUE;
    g_main_loop_quit(run->loop);
}

static void on_live_uploaded(GObject *source, GAsyncResult *res, gpointer ud)
{
    Run *run = ud;
    rr_live_upload_finish_finish(run->live, res);
    RrEgressInfo *info = g_steal_pointer(&run->pending);
    rr_live_upload_apply(run->live, info);
    upload_files(run, info);
}

static void on_finished(RrRecorder *r, const RrEgressInfo *info, gpointer ud)
{
    Run *run = ud;
    if ((run->upload && info->file_results->len > 0) || run->live) {
        /* The signal watchdogs bound the drain, not the upload. */
        if (run->watchdog) {
            g_source_remove(run->watchdog);
            run->watchdog = 0;
        }
        run->uploading = TRUE;
        if (run->live) {
            g_message("record: waiting for the segment and image uploads");
            run->pending = rr_egress_info_copy(info);
            rr_live_upload_finish_async(run->live, on_live_uploaded, run);
        } else {
            upload_files(run, rr_egress_info_copy(info));
        }
        return;
    }
    run->done = TRUE;
    g_main_loop_quit(run->loop);
}

static gboolean on_signal_exit(gpointer ud)
{
    Run *run = ud;
    run->watchdog = 0;
    g_message("record: the recorder did not end %.0f s after the signal; exiting",
              (SIGNAL_DRAIN_MS + SIGNAL_EXIT_MS) / 1000.0);
    g_main_loop_quit(run->loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_signal_drain(gpointer ud)
{
    Run *run = ud;
    run->watchdog = g_timeout_add(SIGNAL_EXIT_MS, on_signal_exit, run);
    g_message("record: still finalising %.0f s after the signal; closing the file as it is",
              SIGNAL_DRAIN_MS / 1000.0);
    rr_recorder_stop_now(run->rec);
    return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer ud)
{
    Run *run = ud;
    if (run->uploading && run->signals == 0) {
        run->signals++;
        g_message("record: the recording is finished; waiting for its upload (a second signal "
                  "gives up, the file stays)");
        return G_SOURCE_CONTINUE;
    }
    if (++run->signals == 1) {
        g_message("record: stopping (signal)");
        run->watchdog = g_timeout_add(SIGNAL_DRAIN_MS, on_signal_drain, run);
        rr_recorder_stop(run->rec);
    } else {
        g_message("record: second signal, giving up on draining");
        g_main_loop_quit(run->loop);
    }
    return G_SOURCE_CONTINUE;
}

static void print_summary(const RrEgressInfo *info)
{
    fprintf(stderr, "record: %s %s in room %s\n", info->egress_id,
            rr_egress_status_to_string(info->status), info->room_name ? info->room_name : "");
    if (info->error && info->error_code)
        fprintf(stderr, "record: error: %s (code %d)\n", info->error, info->error_code);
    else if (info->error)
        fprintf(stderr, "record: error: %s\n", info->error);
    if (info->details)
        fprintf(stderr, "record: details: %s\n", info->details);
    for (guint i = 0; i < info->file_results->len; i++) {
        const RrFileResult *f = g_ptr_array_index(info->file_results, i);
        g_autofree char *size = human_bytes((guint64)f->size);
        fprintf(stderr, "record: file %s: %.2f s, %s\n", f->location, f->duration / 1e9, size);
    }
}

/* The storage settings: --config FILE (a worker config), or ROOMREC_STORAGE (what
 * `roomrec worker` gives its children: the same keys as JSON); NULL when neither. */
static RrWorkerConfig *load_storage_config(const Flags *f, GError **error)
{
    const char *env = g_getenv("ROOMREC_STORAGE");
    if (!f->config_file && !(env && *env))
        return NULL;
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    gboolean ok = f->config_file ? rr_worker_config_load_file(c, f->config_file, error)
                                 : rr_worker_config_load_data(c, env, -1, error);
    if (!ok || !rr_worker_config_finish(c, error)) {
        g_prefix_error(error, "%s: ", f->config_file ? f->config_file : "ROOMREC_STORAGE");
        return NULL;
    }
    return g_steal_pointer(&c);
}

static guint seconds_ms(double s)
{
    return s > 0 ? (guint)MIN(s * 1000, (double)G_MAXUINT) : 0;
}

static int run_recording(Flags *f, RrJobSpec *job)
{
    gst_init(NULL, NULL);
    g_autofree char *egress_id = g_strdup(f->egress_id ? f->egress_id : job->egress_id);
    if (!egress_id || !*egress_id) {
        g_free(egress_id);
        egress_id = g_strdup_printf("EG_%08x%04x", g_random_int(), g_random_int() & 0xffff);
    }
    rr_log_set_job_id(egress_id);
    const char *url = job->ws_url ? job->ws_url : f->url;
    const char *token = job->token ? job->token : f->token;
    const char *key = job->api_key ? job->api_key : f->api_key;
    const char *secret = job->api_secret ? job->api_secret : f->api_secret;
    rr_log_add_secret(job->token);
    rr_log_add_secret(job->api_secret);
    if (!url || (!token && (!key || !secret))) {
        fprintf(stderr, "roomrec record: need --url (or ws_url in the job) and either --token "
                        "or --api-key and --api-secret (see --help)\n");
        return RR_EXIT_USAGE;
    }
    RrRecorderConfig cfg = {
        .job = job,
        .egress_id = egress_id,
        .start_timeout_ms = seconds_ms(f->start_timeout),
        .duration_ms = seconds_ms(f->duration),
        .max_duration_ms = seconds_ms(f->max_duration),
        .part = f->part > 1 ? (guint)f->part : 0,
        .output_dir = f->output_dir,
    };
    rr_session_config_init(&cfg.session);
    cfg.session.url = url;
    cfg.session.token = token;
    cfg.session.api_key = key;
    cfg.session.api_secret = secret;
    rr_ice_options_apply(&f->ice, &cfg.session.ice);

    static const RrRecorderCallbacks callbacks = {
        .status = on_status, .finished = on_finished, .file_closed = on_file_closed};
    g_autoptr(GError) error = NULL;
    g_autoptr(RrWorkerConfig) storage = load_storage_config(f, &error);
    if (error) {
        fprintf(stderr, "roomrec record: %s\n", error->message);
        return RR_EXIT_USAGE;
    }
    RrUploadConfig ucfg = {.job = job,
                           .config = storage,
                           .output_dir = f->output_dir,
                           .spool_dir = f->spool_dir,
                           .keep_local = f->keep_local};
    g_autoptr(RrUpload) upload = rr_upload_new(&ucfg, &error);
    RrUpload *seg_upload = NULL, *img_upload = NULL;
    if (!error && job->segments) {
        ucfg.output = RR_UPLOAD_SEGMENTS;
        seg_upload = rr_upload_new(&ucfg, &error);
    }
    if (!error && job->images) {
        ucfg.output = RR_UPLOAD_IMAGES;
        img_upload = rr_upload_new(&ucfg, &error);
    }
    if (error) {
        rr_upload_free(seg_upload);
        fprintf(stderr, "roomrec record: %s\n", error->message);
        return RR_EXIT_USAGE;
    }
    g_autoptr(RrLiveUpload) live = rr_live_upload_new(seg_upload, img_upload, egress_id);
    Run run = {
        .loop = g_main_loop_new(NULL, FALSE), .tty = isatty(2), .upload = upload, .live = live};
    run.last_log_us = g_get_monotonic_time();
    run.rec = rr_recorder_new(NULL, &cfg, &callbacks, &run, &error);
    if (!run.rec) {
        fprintf(stderr, "roomrec record: %s\n", error->message);
        g_main_loop_unref(run.loop);
        return error->domain == RR_WORKER_ERROR && error->code != RR_WORKER_ERROR_FAILED
                   ? RR_EXIT_USAGE
                   : RR_EXIT_FAILED;
    }
    if (f->status_fd >= 0 || f->control_fd >= 0) {
        run.link = rr_record_link_new(f->status_fd, f->control_fd, run.rec, &error);
        f->status_fd = f->control_fd = -1; /* the link owns them (or closed them) */
        if (run.link)
            rr_record_link_on_worker_gone(run.link, on_worker_gone, &run);
        if (!run.link) {
            fprintf(stderr, "roomrec record: %s\n", error->message);
            rr_recorder_free(run.rec);
            g_main_loop_unref(run.loop);
            return RR_EXIT_USAGE;
        }
    }
    guint sig_int = g_unix_signal_add(SIGINT, on_signal, &run);
    guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &run);
    guint progress = g_timeout_add(run.tty && !run.link ? 1000 : 2000, on_progress, &run);
    /* Media arrives about every 2.5 ms in a room of four: read it in 10 ms ticks. */
    rr_poll_coalesce(NULL, 0);
    rr_recorder_start(run.rec);
    g_main_loop_run(run.loop);
    if (run.watchdog)
        g_source_remove(run.watchdog);
    g_source_remove(progress);
    g_source_remove(sig_int);
    g_source_remove(sig_term);
    if (run.tty)
        rr_log_status_line(NULL);

    if (run.uploading) {
        /* Given up by a second signal: the upload thread still uses the stores, and the
         * process ends with it; the file stays where it is. */
        upload = NULL;
        live = NULL;
        g_message("record: upload abandoned; the recording %s %s",
                  run.staged ? "waits in the spool for a later run of roomrec worker; it was"
                             : "stays at",
                  rr_recorder_get_output_path(run.rec));
    }
    const RrEgressInfo *info = run.final ? run.final : rr_recorder_get_info(run.rec);
    int code = run.done ? exit_code(info, rr_recorder_get_error(run.rec)) : RR_EXIT_FAILED;
    g_autofree char *json = rr_egress_info_to_json(info, TRUE);
    if (f->json)
        printf("%s\n", json);
    else
        print_summary(info);
    fflush(stdout);
    if (f->info_file && !g_file_set_contents(f->info_file, json, -1, &error)) {
        fprintf(stderr, "roomrec record: cannot write %s: %s\n", f->info_file, error->message);
        code = code == RR_EXIT_OK ? RR_EXIT_FAILED : code;
    }
    rr_record_link_free(run.link);
    rr_egress_info_free(run.final);
    rr_egress_info_free(run.pending);
    rr_recorder_free(run.rec);
    g_main_loop_unref(run.loop);
    return code;
}

static gboolean on_host_signal(gpointer ud)
{
    rr_record_host_stop_all(ud, "signal");
    return G_SOURCE_CONTINUE;
}

/* --host: a room child of `roomrec worker` (worker/record-host.h). */
static int run_host(Flags *f)
{
    if (f->room || f->job_file || f->job_env || f->egress_id || f->part || f->info_file ||
        f->json || has_target_flags(f)) {
        fprintf(stderr, "roomrec record: --host takes its jobs from --control-fd (drop --room, "
                        "--job-file, --egress-id, --track, ...)\n");
        return RR_EXIT_USAGE;
    }
    gst_init(NULL, NULL);
    RrRecorderConfig base = {
        .start_timeout_ms = seconds_ms(f->start_timeout),
        .duration_ms = seconds_ms(f->duration),
        .max_duration_ms = seconds_ms(f->max_duration),
        .output_dir = f->output_dir,
    };
    rr_session_config_init(&base.session);
    base.session.url = f->url;
    base.session.token = f->token;
    base.session.api_key = f->api_key;
    base.session.api_secret = f->api_secret;
    rr_ice_options_apply(&f->ice, &base.session.ice);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrRecordHost) host = rr_record_host_new(f->status_fd, f->control_fd, &base, &error);
    f->status_fd = f->control_fd = -1;
    if (!host) {
        fprintf(stderr, "roomrec record: %s\n", error->message);
        return RR_EXIT_USAGE;
    }
    guint sig_int = g_unix_signal_add(SIGINT, on_host_signal, host);
    guint sig_term = g_unix_signal_add(SIGTERM, on_host_signal, host);
    rr_poll_coalesce(NULL, 0);
    rr_record_host_run(host);
    g_source_remove(sig_int);
    g_source_remove(sig_term);
    return RR_EXIT_OK;
}

int rr_cmd_record(int argc, char **argv)
{
    Flags f = {0};
    rr_ice_options_init(&f.ice);
    f.start_timeout = 20;
    f.status_fd = f.control_fd = -1;
    GOptionEntry entries[] = {
        {"url", 0, 0, G_OPTION_ARG_STRING, &f.url, "LiveKit server URL (env LIVEKIT_URL)", "URL"},
        {"api-key", 0, 0, G_OPTION_ARG_STRING, &f.api_key, "API key (env LIVEKIT_API_KEY)", "KEY"},
        {"api-secret", 0, 0, G_OPTION_ARG_STRING, &f.api_secret,
         "API secret (env LIVEKIT_API_SECRET)", "SECRET"},
        {"token", 0, 0, G_OPTION_ARG_STRING, &f.token,
         "use this access token as is (env LIVEKIT_TOKEN)", "JWT"},
        {"room", 0, 0, G_OPTION_ARG_STRING, &f.room, "room to record", "NAME"},
        {"layout", 0, 0, G_OPTION_ARG_STRING, &f.layout,
         "grid|speaker|single-speaker (+ -light/-dark), default grid", "L"},
        {"audio-only", 0, 0, G_OPTION_ARG_NONE, &f.audio_only, "record audio only", NULL},
        {"video-only", 0, 0, G_OPTION_ARG_NONE, &f.video_only, "record video only", NULL},
        {"participant", 0, 0, G_OPTION_ARG_STRING, &f.participant, "participant egress of IDENTITY",
         "IDENTITY"},
        {"screen-share", 0, 0, G_OPTION_ARG_NONE, &f.screen_share,
         "participant egress: the screen share and its audio", NULL},
        {"audio-track", 0, 0, G_OPTION_ARG_STRING, &f.audio_track, "track composite: audio", "T"},
        {"video-track", 0, 0, G_OPTION_ARG_STRING, &f.video_track, "track composite: video", "T"},
        {"track", 0, 0, G_OPTION_ARG_STRING, &f.track,
         "track egress (no transcoding) of T: a sid or IDENTITY/TRACKNAME", "T"},
        {"output", 'o', 0, G_OPTION_ARG_STRING, &f.output,
         "output file (templates {room_name} {time} {egress_id} {track_id} "
         "{publisher_identity}); default {room_name}-{time}.mp4",
         "PATH"},
        {"preset", 0, 0, G_OPTION_ARG_STRING, &f.preset, "H264_720P_30 ... PORTRAIT_H264_1080P_60",
         "P"},
        {"width", 0, 0, G_OPTION_ARG_INT, &f.width, "video width", "PX"},
        {"height", 0, 0, G_OPTION_ARG_INT, &f.height, "video height", "PX"},
        {"fps", 0, 0, G_OPTION_ARG_INT, &f.fps, "frames per second", "N"},
        {"video-bitrate", 0, 0, G_OPTION_ARG_INT, &f.video_bitrate, "video bitrate", "KBPS"},
        {"keyframe-interval", 0, 0, G_OPTION_ARG_DOUBLE, &f.keyframe_interval,
         "seconds between key frames", "S"},
        {"h264-profile", 0, 0, G_OPTION_ARG_STRING, &f.h264_profile, "baseline|main|high", "P"},
        {"audio-codec", 0, 0, G_OPTION_ARG_STRING, &f.audio_codec, "opus|aac", "C"},
        {"audio-bitrate", 0, 0, G_OPTION_ARG_INT, &f.audio_bitrate, "audio bitrate", "KBPS"},
        {"audio-frequency", 0, 0, G_OPTION_ARG_INT, &f.audio_frequency, "44100 or 48000", "HZ"},
        {"start-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &f.start_timeout,
         "seconds to wait for recordable media (default 20), then ABORTED", "S"},
        {"duration", 'd', 0, G_OPTION_ARG_DOUBLE, &f.duration,
         "stop after S seconds of recording (COMPLETE)", "S"},
        {"max-duration", 0, 0, G_OPTION_ARG_DOUBLE, &f.max_duration,
         "stop after S seconds (LIMIT_REACHED)", "S"},
        {"egress-id", 0, 0, G_OPTION_ARG_STRING, &f.egress_id, "egress id (default EG_random)",
         "ID"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &f.json, "print the EgressInfo JSON on stdout", NULL},
        {"info-file", 0, 0, G_OPTION_ARG_FILENAME, &f.info_file,
         "write the EgressInfo JSON to this file too", "PATH"},
        {"job-file", 0, 0, G_OPTION_ARG_FILENAME, &f.job_file,
         "a LiveKit StartEgressRequest-like JSON job", "FILE"},
        {"job-env", 0, 0, G_OPTION_ARG_STRING, &f.job_env, "the job JSON is in this variable",
         "VAR"},
        {"status-fd", 0, 0, G_OPTION_ARG_INT, &f.status_fd,
         "write a JSON line per status change and progress to this fd (roomrec worker)", "FD"},
        {"control-fd", 0, 0, G_OPTION_ARG_INT, &f.control_fd,
         "read {\"stop\":true} / {\"layout\":L} lines from this fd (roomrec worker)", "FD"},
        {"host", 0, 0, G_OPTION_ARG_NONE, &f.host,
         "run the recordings started on --control-fd side by side (roomrec worker's room child)",
         NULL},
        {"output-dir", 0, 0, G_OPTION_ARG_FILENAME, &f.output_dir,
         "relative output paths are written under this directory", "DIR"},
        {"part", 0, 0, G_OPTION_ARG_INT, &f.part,
         "a continued job's part N: \"_partN\" before the output's extension", "N"},
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &f.config_file,
         "upload with this worker config's storage.s3, backup.s3 and backup_storage", "FILE"},
        {"spool-dir", 0, 0, G_OPTION_ARG_FILENAME, &f.spool_dir,
         "where a file no store took waits (default backup_storage or OUTPUT_DIR/.roomrec-spool)",
         "DIR"},
        {"keep-local", 0, 0, G_OPTION_ARG_NONE, &f.keep_local,
         "keep the local file after its upload", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) oc =
        g_option_context_new("- record a room, a participant or a track");
    g_option_context_add_main_entries(oc, entries, NULL);
    rr_ice_options_add_entries(&f.ice, oc);
    g_autoptr(GError) err = NULL;
    int code = RR_EXIT_USAGE;
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "roomrec record: %s\n", err->message);
    } else if (argc > 1) {
        fprintf(stderr, "roomrec record: unexpected argument '%s'\n", argv[1]);
    } else {
        if (!f.url)
            f.url = g_strdup(g_getenv("LIVEKIT_URL"));
        if (!f.api_key)
            f.api_key = g_strdup(g_getenv("LIVEKIT_API_KEY"));
        if (!f.api_secret)
            f.api_secret = g_strdup(g_getenv("LIVEKIT_API_SECRET"));
        if (!f.token)
            f.token = g_strdup(g_getenv("LIVEKIT_TOKEN"));
        rr_log_add_secret(f.api_secret);
        rr_log_add_secret(f.token);
        g_autoptr(RrJobSpec) job = NULL;
        if (f.host)
            code = run_host(&f);
        else if (!f.job_file && !f.job_env && !f.room)
            fprintf(stderr, "roomrec record: need --room (or a job, see --help)\n");
        else if (!(job = load_job(&f, &err)))
            fprintf(stderr, "roomrec record: %s\n", err->message);
        else
            code = run_recording(&f, job);
    }
    flags_clear(&f);
    return code;
}
