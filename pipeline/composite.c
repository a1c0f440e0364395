/* pipeline/composite: see composite.h for the design. This file builds the fixed part of
 * the graph (background sources, mixers, gates, encoders, muxer), runs the lifecycle and
 * the gates; composite-tracks.c adds and removes participants and tracks. */
#include "pipeline/composite-priv.h"
#include "pipeline/elements.h"
#include "pipeline/pad-time.h"
#include "pipeline/pipeline-error.h"
#include "pipeline/output-file.h"

#include <errno.h>
#include <math.h>
#include <glib/gstdio.h>
#include <gst/audio/audio.h>
#include <string.h>

GST_DEBUG_CATEGORY(rr_composite_debug);
#define GST_CAT_DEFAULT rr_composite_debug

#define DEFAULT_STOP_TIMEOUT_MS 10000
#define DEFAULT_FRAGMENT_MS     250
/* Extra time the mixers wait beyond the jitterbuffer latency for decoded input. */
#define DECODE_MARGIN_MS 300
#define MIXER_LATENCY_MS 200
/* How long before the mixers' deadline for a video frame (its running time plus the
 * jitterbuffer latency, DECODE_MARGIN_MS and MIXER_LATENCY_MS) its decoding starts
 * (less than DECODE_MARGIN_MS + MIXER_LATENCY_MS). */
#define DECODE_LEAD_MS 450
/* Audio mixer: largest timestamp drift kept as a continuous stream, and how long a
 * larger one must last before the pad is re-aligned (see setup_aggregator). */
#define MIXER_ALIGNMENT_MS    10
#define MIXER_DISCONT_WAIT_MS 100
/* Posted on the bus by the filesink probe when EOS reaches the file. */
#define EOS_MESSAGE "rr-composite-eos"
#define AUDIO_CAPS  "audio/x-raw,format=S16LE,layout=interleaved,channels=2,rate=%u"
#define AUDIO_BPF   4

/* ---- refcounting, context-thread calls ---- */

RrComposite *rr_comp_ref(RrComposite *c)
{
    g_atomic_ref_count_inc(&c->ref);
    return c;
}

void rr_comp_unref(RrComposite *c)
{
    if (!g_atomic_ref_count_dec(&c->ref))
        return;
    g_clear_pointer(&c->recv, rr_recv_free);
    gst_clear_object(&c->pipeline);
    g_clear_pointer(&c->segments, rr_segments_output_free);
    g_clear_pointer(&c->images, rr_images_output_free);
    g_clear_error(&c->output_error);
    g_queue_clear_full(&c->video_pending, rr_comp_snapshot_free);
    g_queue_clear_full(&c->audio_pending, rr_comp_snapshot_free);
    g_ptr_array_unref(c->to_release);
    g_ptr_array_unref(c->tracks);
    g_ptr_array_unref(c->participants);
    g_strfreev(c->speakers);
    g_mutex_clear(&c->lock);
    g_main_context_unref(c->context);
    g_free(c->path);
    g_free(c->temp_path);
    g_free(c);
}

typedef struct {
    RrComposite *c;
    void (*func)(RrComposite *c, GstClockTime t);
    GstClockTime t;
} RrCompCall;

static gboolean call_dispatch(gpointer data)
{
    RrCompCall *call = data;
    if (!call->c->closed)
        call->func(call->c, call->t);
    return G_SOURCE_REMOVE;
}

static void call_free(gpointer data)
{
    RrCompCall *call = data;
    rr_comp_unref(call->c);
    g_free(call);
}

void rr_comp_invoke_after(RrComposite *c, void (*func)(RrComposite *c, GstClockTime t),
                          GstClockTime t, guint delay_ms)
{
    RrCompCall *call = g_new0(RrCompCall, 1);
    call->c = rr_comp_ref(c);
    call->func = func;
    call->t = t;
    g_autoptr(GSource) source = delay_ms ? g_timeout_source_new(delay_ms) : g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, call_dispatch, call, call_free);
    g_source_set_static_name(source, "rr-composite-call");
    g_source_attach(source, c->context);
}

void rr_comp_invoke(RrComposite *c, void (*func)(RrComposite *c, GstClockTime t), GstClockTime t)
{
    rr_comp_invoke_after(c, func, t, 0);
}

GstClockTime rr_comp_decode_offset(RrComposite *c)
{
    /* clocksync waits for running time + the upstream latency it was told (the
     * jitterbuffer's, see on_track_query) + ts-offset: the offset is what remains up to
     * DECODE_LEAD_MS before the deadline. Should it not have been told (no latency query
     * since the branch was made), frames are merely decoded earlier. */
    return (GstClockTime)(DECODE_MARGIN_MS + MIXER_LATENCY_MS - DECODE_LEAD_MS) * GST_MSECOND;
}

GstClockTime rr_comp_now(RrComposite *c)
{
    GstClockTime t = gst_element_get_current_running_time(c->pipeline);
    return GST_CLOCK_TIME_IS_VALID(t) ? t : 0;
}

GstElement *rr_comp_make(const char *factory, const char *name, GError **error)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (e == NULL)
        rr_elements_set_missing(error, factory);
    return e;
}

/* ---- callbacks from the receive side (on the context thread) ---- */

static guint track_index_for_recv(RrComposite *c, guint recv_index)
{
    guint index = recv_index;
    g_mutex_lock(&c->lock);
    for (guint i = 0; i < c->tracks->len; i++) {
        RrCompTrack *t = g_ptr_array_index(c->tracks, i);
        if (t->recv_index == (gint)recv_index)
            index = t->index;
    }
    g_mutex_unlock(&c->lock);
    return index;
}

static void on_rtcp_out(guint track, GBytes *packet, gpointer data)
{
    RrComposite *c = data;
    if (c->callbacks.rtcp_out)
        c->callbacks.rtcp_out(track_index_for_recv(c, track), packet, c->user_data);
}

static void on_first_media(guint track, GstClockTime running_time, gpointer data)
{
    RrComposite *c = data;
    guint index = track_index_for_recv(c, track);
    GST_INFO("composite %s: first decodable media of track %u at %" GST_TIME_FORMAT, c->path, index,
             GST_TIME_ARGS(running_time));
    if (c->started_reported || c->state != STATE_RUNNING)
        return;
    c->started_reported = TRUE;
    g_message("composite %s: started with track %u at %" GST_TIME_FORMAT, c->path, index,
              GST_TIME_ARGS(running_time));
    if (c->callbacks.started)
        c->callbacks.started(index, running_time, c->user_data);
}

/* ---- the gates (streaming threads) ---- */

/* Drops what precedes the start gate (clipping the buffer that straddles it), shifts the
 * rest so that the file starts at 0, and ends the stream at the stop time. */
static GstPadProbeReturn on_gate(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrCompGate *g = data;
    RrComposite *c = g->c;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstClockTime start = rr_pad_buffer_running_time(pad, buf);
    if (!GST_CLOCK_TIME_IS_VALID(start))
        return GST_PAD_PROBE_DROP;
    GstClockTime dur = GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0;
    GstClockTime end = start + dur;

    g_mutex_lock(&c->lock);
    if (g->video && !GST_CLOCK_TIME_IS_VALID(c->video_phase)) {
        c->video_phase = 0;
        c->video_phase = start - rr_comp_snap_to_frame(c, start);
    }
    GstClockTime gate = c->gate_time, stop = c->stop_time;
    if (GST_CLOCK_TIME_IS_VALID(gate) && !g->video)
        gate += c->audio_lead;
    gboolean ended = g->eos_sent;
    gboolean send_eos = !ended && GST_CLOCK_TIME_IS_VALID(stop) && start >= stop;
    if (send_eos)
        g->eos_sent = TRUE;
    g_mutex_unlock(&c->lock);
    if (ended)
        return GST_PAD_PROBE_DROP;
    if (send_eos) {
        GST_INFO_OBJECT(pad, "stop time %" GST_TIME_FORMAT " reached", GST_TIME_ARGS(stop));
        gst_pad_send_event(pad, gst_event_new_eos());
        return GST_PAD_PROBE_DROP;
    }
    if (!GST_CLOCK_TIME_IS_VALID(gate) || (dur > 0 ? end <= gate : start < gate))
        return GST_PAD_PROBE_DROP;

    if (start < gate) {
        /* Clip the head so that the stream begins exactly at the gate. Audio is cut in
         * whole samples, rounded up: the first kept sample must not precede the gate (a
         * timestamp a fraction of a sample below 0 would wrap around, and mp4mux would
         * hold all the audio back until EOS — no audio in the fragments). */
        GstClockTime cut = gate - start;
        if (!g->video) {
            buf = rr_audio_buffer_clip_head(buf, cut, c->audio_rate, AUDIO_BPF, &cut);
            if (buf == NULL) {
                GST_PAD_PROBE_INFO_DATA(info) = NULL;
                return GST_PAD_PROBE_HANDLED; /* the gate falls inside its last sample */
            }
        } else {
            buf = gst_buffer_make_writable(buf);
            GST_BUFFER_PTS(buf) += cut;
            if (GST_BUFFER_DTS_IS_VALID(buf))
                GST_BUFFER_DTS(buf) += cut;
            GST_BUFFER_DURATION(buf) = dur - cut;
        }
        GST_PAD_PROBE_INFO_DATA(info) = buf;
        start += cut;
    } else if (start > gate && !g->offset_set) {
        /* The first buffer comes after the gate (the one straddling it went by before the
         * gate was known): a frame is stretched back to the gate, audio gets silence in
         * front. mp4mux starts a track at its first sample, so a track starting later
         * than 0 would be moved earlier against the other (video by up to a frame: 33 ms
         * off lip sync). */
        GstClockTime ext = start - gate;
        buf = gst_buffer_make_writable(buf);
        if (g->video) {
            GST_BUFFER_PTS(buf) -= MIN(ext, GST_BUFFER_PTS(buf));
            if (GST_BUFFER_DTS_IS_VALID(buf))
                GST_BUFFER_DTS(buf) -= MIN(ext, GST_BUFFER_DTS(buf));
            GST_BUFFER_DURATION(buf) = dur + ext;
        } else {
            buf = rr_audio_buffer_pad_head(buf, ext, c->audio_rate, AUDIO_BPF, &ext);
        }
        GST_PAD_PROBE_INFO_DATA(info) = buf;
        start -= ext;
    }
    /* The encoders see a timeline that starts at 0 at the gate: timestamps are rewritten
     * to (running time - gate) in a plain segment of their own (some encoders, opusenc's
     * granule positions for one, work from timestamps rather than running time). */
    buf = gst_buffer_make_writable(buf);
    GstClockTime shift = GST_BUFFER_PTS(buf) - (start - gate);
    GST_BUFFER_PTS(buf) = start - gate;
    if (GST_BUFFER_DTS_IS_VALID(buf))
        GST_BUFFER_DTS(buf) = GST_BUFFER_DTS(buf) >= shift ? GST_BUFFER_DTS(buf) - shift : 0;
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    if (!g->offset_set) {
        g->offset_set = TRUE;
        GstSegment segment;
        gst_segment_init(&segment, GST_FORMAT_TIME);
        g_autoptr(GstPad) src = gst_element_get_static_pad(g->filter, "src");
        g->own_segment = TRUE;
        gst_pad_push_event(src, gst_event_new_segment(&segment));
        g->own_segment = FALSE;
        GST_INFO_OBJECT(pad, "first %s buffer at %" GST_TIME_FORMAT " (gate %" GST_TIME_FORMAT ")",
                        g->video ? "video" : "audio", GST_TIME_ARGS(start), GST_TIME_ARGS(gate));
    }
    g_mutex_lock(&c->lock);
    if (!GST_CLOCK_TIME_IS_VALID(c->last_end) || end > c->last_end)
        c->last_end = end;
    if (g->video)
        c->video_frames++;
    g_mutex_unlock(&c->lock);
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_sink_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrComposite *c = data;
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
        GstStructure *s = gst_structure_new_empty(EOS_MESSAGE);
        gst_element_post_message(c->sink, gst_message_new_application(GST_OBJECT(c->sink), s));
    }
    return GST_PAD_PROBE_OK;
}

/* ---- finishing ---- */

static void finish(RrComposite *c, gboolean complete, GError *error /* (transfer full) */)
{
    if (c->state == STATE_DONE) {
        g_clear_error(&error);
        return;
    }
    c->state = STATE_DONE;
    if (c->timeout_source != NULL) {
        g_source_destroy(c->timeout_source);
        g_clear_pointer(&c->timeout_source, g_source_unref);
    }
    gst_element_set_state(c->pipeline, GST_STATE_NULL);
    if (error == NULL && c->output_error != NULL)
        error = g_steal_pointer(&c->output_error);

    RrCompositeResult result = {.path = c->has_file ? c->temp_path : NULL, .complete = complete};
    /* A failed file keeps its temporary name; a finished or timed-out one (playable up
     * to its last fragment) gets its final name. */
    gboolean failed =
        error != NULL && !g_error_matches(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT);
    result.has_file = c->has_file;
    if (c->has_file && !failed && g_file_test(c->temp_path, G_FILE_TEST_EXISTS)) {
        GError *move_error = NULL;
        if (rr_output_file_commit(c->temp_path, c->path, &move_error))
            result.path = c->path;
        else if (error == NULL)
            error = move_error;
        else
            g_error_free(move_error);
    }
    GStatBuf st;
    if (c->has_file && g_stat(result.path, &st) == 0)
        result.size = (guint64)st.st_size;
    if (c->segments != NULL) {
        g_autoptr(GError) e = NULL;
        result.has_segments = TRUE;
        if (!rr_segments_output_finish(c->segments, &result.segments, &e) && error == NULL)
            error = g_steal_pointer(&e);
    }
    if (c->images != NULL) {
        result.has_images = TRUE;
        rr_images_output_result(c->images, &result.images);
    }
    g_mutex_lock(&c->lock);
    result.started = c->gate_time;
    if (GST_CLOCK_TIME_IS_VALID(c->gate_time) && GST_CLOCK_TIME_IS_VALID(c->last_end) &&
        c->last_end > c->gate_time)
        result.duration = c->last_end - c->gate_time;
    result.video_frames = c->video_frames;
    g_mutex_unlock(&c->lock);
    g_message("composite %s: %s, %" G_GUINT64_FORMAT " bytes, %" GST_TIME_FORMAT
              ", %" G_GUINT64_FORMAT " video frames%s%s",
              c->path, complete ? "complete" : "incomplete", result.size,
              GST_TIME_ARGS(result.duration), result.video_frames, error ? ": " : "",
              error ? error->message : "");
    if (c->has_file && result.path == c->path && c->callbacks.file_closed)
        c->callbacks.file_closed(c->path, RR_OUTPUT_FILE, c->user_data);
    /* Last: the callback may free the composite. */
    if (c->callbacks.finished)
        c->callbacks.finished(&result, error, c->user_data);
    g_clear_error(&error);
}

/* The end of the stream reached one more output: finish once it reached all. */
static void output_ended(RrComposite *c, const char *what)
{
    GST_INFO("composite %s: end of stream reached the %s", c->path, what);
    if (c->outputs_pending > 0)
        c->outputs_pending--;
    if (c->outputs_pending == 0 && c->state == STATE_STOPPING)
        finish(c, TRUE, NULL);
}

static void on_output_message(RrComposite *c, GstMessage *msg)
{
    gboolean ended = FALSE;
    g_autoptr(GError) e = NULL;
    if (c->segments != NULL && rr_segments_output_handle_message(c->segments, msg, &ended, &e)) {
        if (ended)
            output_ended(c, "segments");
    } else if (c->images != NULL && rr_images_output_handle_message(c->images, msg, &ended, &e)) {
        if (ended)
            output_ended(c, "images");
    }
    if (e != NULL) {
        g_warning("composite %s: %s", c->path, e->message);
        if (c->output_error == NULL)
            c->output_error = g_steal_pointer(&e);
    }
}

static GError *error_from_message(RrComposite *c, GstMessage *msg)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *debug = NULL;
    gst_message_parse_error(msg, &gerr, &debug);
    const char *element = GST_MESSAGE_SRC_NAME(msg) ? GST_MESSAGE_SRC_NAME(msg) : "pipeline";
    GST_ERROR_OBJECT(c->pipeline, "error from %s: %s (%s)", element, gerr ? gerr->message : "?",
                     debug ? debug : "");
    if (g_getenv("GST_DEBUG_DUMP_DOT_DIR") != NULL)
        GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS(GST_BIN(c->pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                          "roomrec-composite-error");
    return g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STREAM, "%s: %s", element,
                       gerr ? gerr->message : "unknown error");
}

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
    RrComposite *c = data;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
        if (c->state == STATE_RUNNING || c->state == STATE_STOPPING)
            finish(c, FALSE, error_from_message(c, msg));
        break;
    case GST_MESSAGE_WARNING: {
        g_autoptr(GError) gerr = NULL;
        gst_message_parse_warning(msg, &gerr, NULL);
        g_message("composite %s: warning from %s: %s", c->path, GST_MESSAGE_SRC_NAME(msg),
                  gerr ? gerr->message : "?");
        break;
    }
    case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name(msg, EOS_MESSAGE))
            output_ended(c, "file");
        break;
    case GST_MESSAGE_ELEMENT:
        on_output_message(c, msg);
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_stop_timeout(gpointer data)
{
    RrComposite *c = data;
    g_clear_pointer(&c->timeout_source, g_source_unref);
    finish(c, FALSE,
           g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT,
                       "end of stream did not reach %s within %u ms", c->path, c->stop_timeout_ms));
    return G_SOURCE_REMOVE;
}

/* ---- construction ---- */

static GstElement *add(RrComposite *c, const char *factory, const char *name, GError **error)
{
    GstElement *e = rr_comp_make(factory, name, error);
    if (e != NULL)
        gst_bin_add(GST_BIN(c->pipeline), e);
    return e;
}

static gboolean link_many(GError **error, GstElement *first, ...)
{
    va_list ap;
    va_start(ap, first);
    GstElement *prev = first, *next;
    gboolean ok = TRUE;
    while (ok && (next = va_arg(ap, GstElement *)) != NULL) {
        if (!gst_element_link(prev, next)) {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED, "cannot link %s to %s",
                        GST_ELEMENT_NAME(prev), GST_ELEMENT_NAME(next));
            ok = FALSE;
        }
        prev = next;
    }
    va_end(ap);
    return ok;
}

static void set_caps(GstElement *capsfilter, const char *str)
{
    g_autoptr(GstCaps) caps = gst_caps_from_string(str);
    g_object_set(capsfilter, "caps", caps, NULL);
}

/* Only the gate's own segment goes past it (see on_gate). */
static GstPadProbeReturn on_gate_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrCompGate *g = data;
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT && !g->own_segment)
        return GST_PAD_PROBE_DROP;
    return GST_PAD_PROBE_OK;
}

static void setup_gate(RrComposite *c, RrCompGate *g, GstElement *filter, gboolean video)
{
    g->c = c;
    g->video = video;
    g->filter = filter;
    g_autoptr(GstPad) sink = gst_element_get_static_pad(filter, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, on_gate, g, NULL);
    g_autoptr(GstPad) src = gst_element_get_static_pad(filter, "src");
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_gate_event, g, NULL);
}

static void setup_aggregator(RrComposite *c, GstElement *agg)
{
    guint64 upstream = (guint64)(c->latency_ms + DECODE_MARGIN_MS) * GST_MSECOND;
    g_object_set(agg, "latency", (guint64)MIXER_LATENCY_MS * GST_MSECOND, "min-upstream-latency",
                 upstream, "emit-signals", TRUE, "ignore-inactive-pads", FALSE, NULL);
    if (agg == c->mixer) {
        gst_util_set_object_arg(G_OBJECT(agg), "start-time-selection", "first");
    } else {
        /* Frames on the grid of running time 0 (n / fps), known before the first of
         * them: the start gate is put on a frame (rr_comp_snap_to_frame). */
        gst_util_set_object_arg(G_OBJECT(agg), "start-time-selection", "set");
        g_object_set(agg, "start-time", (guint64)0, NULL);
    }
    if (agg == c->mixer) {
        /* Place input audio by its timestamps: by default (40 ms, 1 s) the mixer keeps
         * a pad's samples back to back while they drift less than 40 ms from their
         * timestamps, and the jitterbuffer's first seconds (its timeline compressed by
         * the first packets' delay) leave the audio up to 40 ms late for good. */
        g_object_set(agg, "alignment-threshold", (guint64)(MIXER_ALIGNMENT_MS * GST_MSECOND),
                     "discont-wait", (guint64)(MIXER_DISCONT_WAIT_MS * GST_MSECOND), NULL);
    }
    g_signal_connect(agg, "samples-selected", G_CALLBACK(rr_comp_on_samples_selected), c);
}

static const char *h264_profile_caps(RrH264Profile p)
{
    switch (p) {
    case RR_H264_PROFILE_BASELINE:
        return "constrained-baseline";
    case RR_H264_PROFILE_HIGH:
        return "high";
    case RR_H264_PROFILE_MAIN:
        break;
    }
    return "main";
}

/* The key frame interval: the configured one, shortened to divide the segment duration
 * (segments split at key frames). */
static guint keyframe_frames(RrComposite *c, const RrSegmentsConfig *segments)
{
    const RrEncodeSettings *s = &c->encode;
    double k = s->keyframe_interval_s;
    if (segments != NULL) {
        double seg = segments->segment_duration_s;
        double n = ceil(seg / k - 1e-9);
        k = seg / MAX(n, 1.0);
    }
    return MAX(1u, (guint)(s->fps * k + 0.5));
}

/* videotestsrc (live, tiny, invisible: it only clocks the output) → compositor →
 * vgate (output caps) → [tee → images] → queue → x264enc → profile caps → h264parse → tee */
static gboolean build_video(RrComposite *c, const RrSegmentsConfig *segments, GError **error)
{
    const RrEncodeSettings *s = &c->encode;
    GstElement *bg = add(c, "videotestsrc", "video_bg", error);
    GstElement *bg_caps = bg ? add(c, "capsfilter", "video_bg_caps", error) : NULL;
    GstElement *comp = bg_caps ? add(c, "compositor", "compositor", error) : NULL;
    GstElement *gate = comp ? add(c, "capsfilter", "vgate", error) : NULL;
    GstElement *raw_tee = gate && c->images ? add(c, "tee", "vraw_tee", error) : gate;
    GstElement *queue = raw_tee ? add(c, "queue", "venc_queue", error) : NULL;
    GstElement *enc = queue ? add(c, "x264enc", "venc", error) : NULL;
    GstElement *prof = enc ? add(c, "capsfilter", "venc_caps", error) : NULL;
    GstElement *parse = prof ? add(c, "h264parse", "vparse", error) : NULL;
    GstElement *tee = parse ? add(c, "tee", "venc_tee", error) : NULL;
    if (tee == NULL)
        return FALSE;
    c->venc_tee = tee;
    c->vraw_tee = c->images ? raw_tee : NULL;
    c->compositor = comp;
    g_object_set(bg, "is-live", TRUE, NULL);
    gst_util_set_object_arg(G_OBJECT(bg), "pattern", "black");
    g_autofree char *bg_str =
        g_strdup_printf("video/x-raw,format=I420,width=16,height=16,framerate=%u/1", s->fps);
    set_caps(bg_caps, bg_str);
    setup_aggregator(c, comp);
    gst_util_set_object_arg(G_OBJECT(comp), "background",
                            c->theme == RR_LAYOUT_THEME_LIGHT ? "white" : "black");
    g_autofree char *out_str = g_strdup_printf(
        "video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1,pixel-aspect-ratio=1/1",
        s->width, s->height, s->fps);
    set_caps(gate, out_str);
    g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64)(2 * GST_SECOND), NULL);
    guint keyint = keyframe_frames(c, segments);
    g_object_set(enc, "bitrate", s->video_bitrate_kbps, "key-int-max", keyint, NULL);
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "veryfast");
    gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
    g_autofree char *prof_str =
        g_strdup_printf("video/x-h264,profile=%s", h264_profile_caps(s->h264_profile));
    set_caps(prof, prof_str);
    if (!link_many(error, bg, bg_caps, comp, gate, NULL) ||
        (c->images && !link_many(error, gate, raw_tee, NULL)) ||
        !link_many(error, raw_tee, queue, enc, prof, parse, tee, NULL))
        return FALSE;
    /* The background pad only keeps the output going; the compositor's own background
     * (black, or white for -light) fills the frame, and alpha 0 skips the pad. */
    g_autoptr(GstPad) src = gst_element_get_static_pad(bg_caps, "src");
    g_autoptr(GstPad) bg_pad = gst_pad_get_peer(src);
    g_object_set(bg_pad, "alpha", 0.0, "zorder", 0, NULL);
    setup_gate(c, &c->vgate, gate, TRUE);
    return TRUE;
}

/* audiotestsrc (live silence) → audiomixer (48 kHz: Opus decoders' rate, so the
 * tracks need no resampling) → agate (mix caps) → queue → audioconvert → audioresample →
 * encoder rate → encoder → tee */
static gboolean build_audio(RrComposite *c, GError **error)
{
    GstElement *bg = add(c, "audiotestsrc", "audio_bg", error);
    GstElement *bg_caps = bg ? add(c, "capsfilter", "audio_bg_caps", error) : NULL;
    GstElement *mixer = bg_caps ? add(c, "audiomixer", "audiomixer", error) : NULL;
    GstElement *gate = mixer ? add(c, "capsfilter", "agate", error) : NULL;
    GstElement *queue = gate ? add(c, "queue", "aenc_queue", error) : NULL;
    GstElement *conv = queue ? add(c, "audioconvert", "aenc_convert", error) : NULL;
    GstElement *resample = conv ? add(c, "audioresample", "aenc_resample", error) : NULL;
    GstElement *rate = resample ? add(c, "capsfilter", "aenc_rate", error) : NULL;
    GstElement *enc = NULL;
    if (rate != NULL && c->audio_codec == RR_AUDIO_CODEC_AAC) {
        /* voaacenc is the cheaper AAC encoder; avenc_aac is the fallback. Their delays
         * (measured: decoded output vs input) are 1600 and 1024 samples. */
        gboolean vo = g_strcmp0(rr_elements_aac_encoder(), "voaacenc") == 0;
        enc = add(c, vo ? "voaacenc" : "avenc_aac", "aenc", error);
        c->audio_lead = gst_util_uint64_scale_int(vo ? 1600 : 1024, GST_SECOND,
                                                  MAX(c->encode.audio_frequency, 1u));
    } else if (rate != NULL) {
        enc = add(c, "opusenc", "aenc", error);
    }
    GstElement *tee = enc ? add(c, "tee", "aenc_tee", error) : NULL;
    if (tee == NULL)
        return FALSE;
    c->aenc_tee = tee;
    c->mixer = mixer;
    g_object_set(bg, "is-live", TRUE, "samplesperbuffer", (gint)(c->audio_rate / 50), NULL);
    gst_util_set_object_arg(G_OBJECT(bg), "wave", "silence");
    g_autofree char *caps = g_strdup_printf(AUDIO_CAPS, c->audio_rate);
    set_caps(bg_caps, caps);
    set_caps(gate, caps);
    guint enc_rate = c->audio_codec == RR_AUDIO_CODEC_OPUS ? 48000 : c->encode.audio_frequency;
    g_autofree char *rate_str = g_strdup_printf("audio/x-raw,rate=%u,channels=2", enc_rate);
    set_caps(rate, rate_str);
    setup_aggregator(c, mixer);
    g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64)(2 * GST_SECOND), NULL);
    g_object_set(enc, "bitrate", (gint)(c->encode.audio_bitrate_kbps * 1000), NULL);
    if (!link_many(error, bg, bg_caps, mixer, gate, queue, conv, resample, rate, enc, tee, NULL))
        return FALSE;
    setup_gate(c, &c->agate, gate, FALSE);
    return TRUE;
}

/* @tee → queue → @element's pad @pad_name: a static pad, else a request pad of that
 * template ("video_%u"), else oggmux's "sink_%u". */
static gboolean link_tee(RrComposite *c, GstElement *tee, GstElement *element, const char *pad_name,
                         const char *queue_name, GError **error)
{
    GstElement *queue = add(c, "queue", queue_name, error);
    if (queue == NULL || !link_many(error, tee, queue, NULL))
        return FALSE;
    /* Encoded media is small: a branch that waits (a muxer interleaving audio and video,
     * splitmuxsink collecting a GOP) must not hold up the tee and so the other outputs. */
    g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64)(10 * GST_SECOND), NULL);
    g_autoptr(GstPad) src = gst_element_get_static_pad(queue, "src");
    GstPad *sink = gst_element_get_static_pad(element, pad_name);
    if (sink == NULL &&
        gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(element), pad_name) != NULL)
        sink = gst_element_request_pad_simple(element, pad_name);
    if (sink == NULL)
        sink = gst_element_request_pad_simple(element, "sink_%u");
    g_autoptr(GstPad) sink_ref = sink;
    if (sink == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED, "cannot link %s to %s",
                    queue_name, GST_ELEMENT_NAME(element));
        return FALSE;
    }
    return TRUE;
}

static void on_output_closed(const char *path, RrOutputKind kind, gpointer data)
{
    RrComposite *c = data;
    if (c->callbacks.file_closed)
        c->callbacks.file_closed(path, kind, c->user_data);
}

static gboolean build_file(RrComposite *c, GError **error)
{
    GstElement *mux = add(
        c, rr_elements_composite_muxer(c->container, c->has_video, c->audio_codec), "mux", error);
    GstElement *sink = mux ? add(c, "filesink", "file", error) : NULL;
    if (sink == NULL)
        return FALSE;
    c->sink = sink;
    if (c->container == RR_CONTAINER_MP4)
        g_object_set(mux, "fragment-duration", c->fragment_ms, NULL);
    g_object_set(sink, "location", c->temp_path, "sync", FALSE, "async", FALSE, NULL);
    /* Unbuffered: the EOS probe below finishes the file once EOS reaches filesink, before
     * a buffered filesink would flush its last 64 kB; and what a killed process wrote is
     * on disk. */
    gst_util_set_object_arg(G_OBJECT(sink), "buffer-mode", "unbuffered");
    if ((c->has_video && !link_tee(c, c->venc_tee, mux, "video_%u", "file_vqueue", error)) ||
        (c->has_audio && !link_tee(c, c->aenc_tee, mux, "audio_%u", "file_aqueue", error)) ||
        !link_many(error, mux, sink, NULL))
        return FALSE;
    g_autoptr(GstPad) sink_pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_event, c, NULL);
    c->outputs_pending++;
    return TRUE;
}

static gboolean build(RrComposite *c, const RrCompositeConfig *config, GError **error)
{
    RrRecvCallbacks rcb = {.rtcp_out = on_rtcp_out, .first_media = on_first_media};
    c->recv = rr_recv_new(c->context, c->latency_ms, &rcb, c, error);
    if (c->recv == NULL)
        return FALSE;
    gst_bin_add(GST_BIN(c->pipeline), rr_recv_get_bin(c->recv));

    if (config->segments != NULL) {
        c->segments = rr_segments_output_new(config->segments, c->has_video, c->has_audio,
                                             on_output_closed, c, error);
        if (c->segments == NULL)
            return FALSE;
    }
    if (config->images != NULL) {
        c->images = rr_images_output_new(config->images, on_output_closed, c, error);
        if (c->images == NULL)
            return FALSE;
    }
    if ((c->has_video && !build_video(c, config->segments, error)) ||
        (c->has_audio && !build_audio(c, error)) || (c->has_file && !build_file(c, error)))
        return FALSE;
    if (c->segments != NULL) {
        GstElement *bin = rr_segments_output_get_bin(c->segments);
        gst_bin_add(GST_BIN(c->pipeline), gst_object_ref(bin));
        if ((c->has_video && !link_tee(c, c->venc_tee, bin, "video", "seg_vtee_queue", error)) ||
            (c->has_audio && !link_tee(c, c->aenc_tee, bin, "audio", "seg_atee_queue", error)))
            return FALSE;
        c->outputs_pending++;
    }
    if (c->images != NULL) {
        GstElement *bin = rr_images_output_get_bin(c->images);
        gst_bin_add(GST_BIN(c->pipeline), gst_object_ref(bin));
        g_autoptr(GstPad) src = gst_element_request_pad_simple(c->vraw_tee, "src_%u");
        g_autoptr(GstPad) sink = gst_element_get_static_pad(bin, "sink");
        if (src == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                        "cannot link the images output");
            return FALSE;
        }
        c->outputs_pending++;
    }

    g_autoptr(GstBus) bus = gst_element_get_bus(c->pipeline);
    c->bus_source = gst_bus_create_watch(bus);
    g_source_set_callback(c->bus_source, (GSourceFunc)(void (*)(void))on_bus_message, c, NULL);
    g_source_attach(c->bus_source, c->context);
    return TRUE;
}

static gboolean validate(const RrCompositeConfig *config, GError **error)
{
    gboolean extra = config->segments != NULL || config->images != NULL;
    if ((config->path == NULL && !extra) || (config->path != NULL && *config->path == '\0')) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "no output path given");
        return FALSE;
    }
    if (config->images != NULL && config->audio_only) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "image outputs need video (the recording is audio-only)");
        return FALSE;
    }
    if (config->segments != NULL && !config->video_only &&
        rr_audio_codec_resolve(config->encode.audio_codec,
                               config->path ? config->container : RR_CONTAINER_MP4) !=
            RR_AUDIO_CODEC_AAC) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "segment outputs (HLS) need AAC audio");
        return FALSE;
    }
    if (config->audio_only && config->video_only) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "a recording cannot be both audio-only and video-only");
        return FALSE;
    }
    if ((guint)config->container > RR_CONTAINER_OGG) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "unknown container %u", (guint)config->container);
        return FALSE;
    }
    if (config->container == RR_CONTAINER_OGG &&
        (!config->audio_only || rr_audio_codec_resolve(config->encode.audio_codec,
                                                       RR_CONTAINER_OGG) != RR_AUDIO_CODEC_OPUS)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "Ogg output holds Opus audio only (use audio-only with Opus, or MP4/WebM)");
        return FALSE;
    }
    if (!rr_encode_settings_validate(&config->encode, error) ||
        !rr_layout_parse(config->layout, NULL, NULL, error))
        return FALSE;
    if (config->path == NULL)
        return TRUE;
    g_autofree char *dir = g_path_get_dirname(config->path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO,
                    "output directory %s does not exist", dir);
        return FALSE;
    }
    if (g_file_test(config->path, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO, "output path %s is a directory",
                    config->path);
        return FALSE;
    }
    return TRUE;
}

RrComposite *rr_composite_new(const RrCompositeConfig *config, GMainContext *context,
                              const RrCompositeCallbacks *callbacks, gpointer user_data,
                              GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    static gsize debug_once;
    if (g_once_init_enter(&debug_once)) {
        GST_DEBUG_CATEGORY_INIT(rr_composite_debug, "rrcomposite", 0, "roomrec composite");
        g_once_init_leave(&debug_once, 1);
    }
    g_autoptr(GPtrArray) needed = NULL;
    if (!validate(config, error))
        return NULL;
    needed = rr_elements_for_composite(config);
    if (!rr_elements_check(needed, error))
        return NULL;

    RrComposite *c = g_new0(RrComposite, 1);
    g_atomic_ref_count_init(&c->ref);
    c->context = g_main_context_ref(context ? context : g_main_context_default());
    if (callbacks)
        c->callbacks = *callbacks;
    c->user_data = user_data;
    c->has_file = config->path != NULL;
    if (c->has_file) {
        c->path = g_strdup(config->path);
        c->temp_path = g_strconcat(config->path, ".part", NULL);
    } else {
        /* The name in messages. */
        c->path =
            g_strdup(config->segments ? config->segments->playlist_path : config->images->prefix);
    }
    c->container = c->has_file ? config->container : RR_CONTAINER_MP4;
    c->has_video = !config->audio_only;
    c->has_audio = !config->video_only;
    c->tile_text =
        c->has_video && rr_elements_optional("textoverlay", "name tiles are drawn without names");
    c->encode = config->encode;
    c->audio_codec = rr_audio_codec_resolve(config->encode.audio_codec, c->container);
    c->audio_rate = 48000;
    c->latency_ms = config->latency_ms ? config->latency_ms : RR_RECV_DEFAULT_LATENCY_MS;
    c->fragment_ms = config->fragment_ms ? config->fragment_ms : DEFAULT_FRAGMENT_MS;
    rr_layout_parse(config->layout, &c->layout, &c->theme, NULL);
    c->participants = g_ptr_array_new_with_free_func(rr_comp_participant_free);
    c->tracks = g_ptr_array_new_with_free_func(rr_comp_track_free);
    c->to_release = g_ptr_array_new_with_free_func(gst_object_unref);
    g_mutex_init(&c->lock);
    c->gate_time = c->stop_time = c->last_end = c->video_phase = GST_CLOCK_TIME_NONE;
    g_queue_init(&c->video_pending);
    g_queue_init(&c->audio_pending);
    c->pipeline = gst_object_ref_sink(gst_pipeline_new("composite"));
    if (!build(c, config, error)) {
        rr_composite_free(c);
        return NULL;
    }
    return c;
}

void rr_composite_free(RrComposite *c)
{
    if (c == NULL)
        return;
    c->closed = TRUE;
    if (c->pipeline != NULL)
        gst_element_set_state(c->pipeline, GST_STATE_NULL);
    if (c->bus_source != NULL) {
        g_source_destroy(c->bus_source);
        g_clear_pointer(&c->bus_source, g_source_unref);
    }
    if (c->timeout_source != NULL) {
        g_source_destroy(c->timeout_source);
        g_clear_pointer(&c->timeout_source, g_source_unref);
    }
    if (c->compositor != NULL)
        g_signal_handlers_disconnect_by_data(c->compositor, c);
    if (c->mixer != NULL)
        g_signal_handlers_disconnect_by_data(c->mixer, c);
    rr_comp_unref(c);
}

gboolean rr_composite_start(RrComposite *c, GError **error)
{
    if (c->state != STATE_NEW) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STATE,
                    "composite %s was already started", c->path);
        return FALSE;
    }
    if (c->has_video && c->tile_text)
        rr_comp_warm_up_text();
    if (gst_element_set_state(c->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_autoptr(GstBus) bus = gst_element_get_bus(c->pipeline);
        g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        if (msg != NULL) {
            GError *e = error_from_message(c, msg);
            g_propagate_prefixed_error(error, e, "cannot start %s: ", c->path);
        } else {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STATE, "cannot start %s",
                        c->path);
        }
        gst_element_set_state(c->pipeline, GST_STATE_NULL);
        c->state = STATE_DONE;
        return FALSE;
    }
    c->state = STATE_RUNNING;
    g_message("composite %s: started (%s%s, %s, %ux%u@%u)", c->path, c->has_video ? "video" : "",
              c->has_audio ? (c->has_video ? "+audio" : "audio") : "",
              rr_layout_kind_to_string(c->layout), c->encode.width, c->encode.height,
              c->encode.fps);
    return TRUE;
}

void rr_composite_stop_now(RrComposite *c)
{
    if (c->state != STATE_RUNNING && c->state != STATE_STOPPING)
        return;
    g_message("composite %s: not waiting for the end of the stream any more", c->path);
    finish(c, FALSE,
           g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT,
                       "%s closed before the end of the stream reached it", c->path));
}

gboolean rr_composite_stop(RrComposite *c, guint timeout_ms)
{
    if (c->state == STATE_STOPPING)
        return TRUE;
    if (c->state != STATE_RUNNING)
        return FALSE;
    c->state = STATE_STOPPING;
    c->stop_timeout_ms = timeout_ms ? timeout_ms : DEFAULT_STOP_TIMEOUT_MS;
    c->timeout_source = g_timeout_source_new(c->stop_timeout_ms);
    g_source_set_callback(c->timeout_source, on_stop_timeout, c, NULL);
    g_source_attach(c->timeout_source, c->context);

    /* The encoders end at this running time: the mixers get there once the jitterbuffers
     * and decoders have delivered what arrived before it. */
    GstClockTime now = rr_comp_now(c);
    g_mutex_lock(&c->lock);
    c->stop_time = now;
    gboolean started = GST_CLOCK_TIME_IS_VALID(c->gate_time);
    g_mutex_unlock(&c->lock);
    g_message("composite %s: stopping at %" GST_TIME_FORMAT, c->path, GST_TIME_ARGS(now));
    if (!started) {
        /* Nothing passed the gate: end the encoders at once. */
        RrCompGate *gates[] = {c->has_video ? &c->vgate : NULL, c->has_audio ? &c->agate : NULL};
        for (gsize i = 0; i < G_N_ELEMENTS(gates); i++) {
            if (gates[i] == NULL)
                continue;
            g_mutex_lock(&c->lock);
            gboolean send = !gates[i]->eos_sent;
            gates[i]->eos_sent = TRUE;
            g_mutex_unlock(&c->lock);
            g_autoptr(GstPad) pad = gst_element_get_static_pad(gates[i]->filter, "sink");
            if (send)
                gst_pad_send_event(pad, gst_event_new_eos());
        }
    }
    return TRUE;
}

RrRecv *rr_composite_get_recv(RrComposite *c)
{
    return c->recv;
}

guint64 rr_composite_get_bytes_written(RrComposite *c)
{
    GStatBuf st;
    if (c->has_file && (g_stat(c->temp_path, &st) == 0 || g_stat(c->path, &st) == 0))
        return (guint64)st.st_size;
    return 0;
}

gboolean rr_composite_is_started(RrComposite *c)
{
    g_mutex_lock(&c->lock);
    gboolean started = GST_CLOCK_TIME_IS_VALID(c->gate_time);
    g_mutex_unlock(&c->lock);
    return started;
}

GstClockTime rr_composite_get_running_time(RrComposite *c)
{
    return rr_comp_now(c);
}
