/* pipeline/track-egress: see track-egress.h. */
#include "pipeline/track-egress.h"
#include "pipeline/elements.h"
#include "pipeline/pad-time.h"
#include "pipeline/pipeline-error.h"
#include "pipeline/output-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(rr_track_egress_debug);
#define GST_CAT_DEFAULT rr_track_egress_debug

#define DEFAULT_STOP_TIMEOUT_MS 10000
#define DEFAULT_FRAGMENT_MS     1000
/* Posted on the bus by the filesink probe when EOS reaches the file. */
#define EOS_MESSAGE "rr-track-egress-eos"

typedef enum { STATE_NEW, STATE_RUNNING, STATE_STOPPING, STATE_DONE } RrTrackEgressState;

struct RrTrackEgress {
    GMainContext *context;
    RrTrackEgressCallbacks callbacks;
    gpointer user_data;
    const RrCodec *codec;
    char *path;
    char *temp_path;
    RrRecv *recv;
    GstElement *pipeline;
    GstElement *capsfilter;
    GstElement *sink;
    GSource *bus_source;
    GSource *timeout_source;
    RrTrackEgressState state;
    guint stop_timeout_ms;
    /* Written by the streaming thread, read on the context thread. */
    GMutex lock;
    GstClockTime first;      /* running time of the first unit written */
    GstClockTime last_start; /* running time of the start of the last unit */
    GstClockTime last_end;   /* running time of the end of the last unit */
    GstClockTime limit;      /* rr_track_egress_set_limit(), NONE: none */
    guint64 units;
};

/* ---- callbacks from the receive side (already on the context thread) ---- */

static void on_rtcp_out(guint track, GBytes *packet, gpointer data)
{
    RrTrackEgress *egress = data;
    if (egress->callbacks.rtcp_out)
        egress->callbacks.rtcp_out(packet, egress->user_data);
}

static void on_first_media(guint track, GstClockTime running_time, gpointer data)
{
    RrTrackEgress *egress = data;
    g_message("track egress %s: first decodable %s at %" GST_TIME_FORMAT, egress->path,
              rr_codec_media(egress->codec), GST_TIME_ARGS(running_time));
    if (egress->callbacks.started)
        egress->callbacks.started(running_time, egress->user_data);
}

/* ---- streaming-thread probes ---- */

/* Every unit entering the mux branch: the first one sets the offset that makes the file
 * start at 0; all of them extend the recorded duration. */
static GstPadProbeReturn on_mux_input(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrTrackEgress *egress = data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstClockTime start = rr_pad_buffer_running_time(pad, buf);
    if (!GST_CLOCK_TIME_IS_VALID(start))
        return GST_PAD_PROBE_OK;

    /* Containers need strictly increasing timestamps. The RTP timeline (recv.h) gives
     * them unless the sender's own RTP timestamps step back by less than a timeline
     * break; as a safety net, audio units that would overlap what is written are
     * dropped and video units (which later frames depend on) are moved to just after
     * the previous one. */
    g_mutex_lock(&egress->lock);
    GstClockTime last = egress->last_start;
    gboolean over = GST_CLOCK_TIME_IS_VALID(egress->limit) &&
                    GST_CLOCK_TIME_IS_VALID(egress->first) &&
                    start >= egress->first + egress->limit;
    g_mutex_unlock(&egress->lock);
    if (over) {
        GST_DEBUG_OBJECT(pad, "dropping a unit past the limit");
        return GST_PAD_PROBE_DROP;
    }
    if (GST_CLOCK_TIME_IS_VALID(last) && start <= last) {
        if (egress->codec->kind == RR_MEDIA_AUDIO) {
            GST_DEBUG_OBJECT(pad, "dropping audio unit going back %" GST_TIME_FORMAT,
                             GST_TIME_ARGS(last - start));
            return GST_PAD_PROBE_DROP;
        }
        GstClockTime shift = last - start + GST_MSECOND;
        buf = gst_buffer_make_writable(buf);
        GST_BUFFER_PTS(buf) += shift;
        if (GST_BUFFER_DTS_IS_VALID(buf))
            GST_BUFFER_DTS(buf) += shift;
        GST_PAD_PROBE_INFO_DATA(info) = buf;
        start += shift;
    }
    GstClockTime end = start;
    if (GST_BUFFER_DURATION_IS_VALID(buf))
        end += GST_BUFFER_DURATION(buf);

    g_mutex_lock(&egress->lock);
    gboolean first = !GST_CLOCK_TIME_IS_VALID(egress->first);
    if (first)
        egress->first = start;
    egress->last_start = start;
    if (!GST_CLOCK_TIME_IS_VALID(egress->last_end) || end > egress->last_end)
        egress->last_end = end;
    egress->units++;
    g_mutex_unlock(&egress->lock);
    if (first) {
        g_autoptr(GstPad) src = gst_element_get_static_pad(egress->capsfilter, "src");
        gst_pad_set_offset(src, -(gint64)start);
    }
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_sink_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrTrackEgress *egress = data;
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
        GstStructure *s = gst_structure_new_empty(EOS_MESSAGE);
        gst_element_post_message(egress->sink,
                                 gst_message_new_application(GST_OBJECT(egress->sink), s));
    }
    return GST_PAD_PROBE_OK;
}

/* ---- finishing ---- */

static void finish(RrTrackEgress *egress, gboolean complete, GError *error /* (transfer full) */)
{
    if (egress->state == STATE_DONE) {
        g_clear_error(&error);
        return;
    }
    egress->state = STATE_DONE;
    if (egress->timeout_source != NULL) {
        g_source_destroy(egress->timeout_source);
        g_clear_pointer(&egress->timeout_source, g_source_unref);
    }
    RrTrackEgressResult result = {.path = egress->temp_path, .complete = complete};
    /* Before stopping: elements reset their counters on the way down. */
    rr_recv_get_stats(egress->recv, 0, &result.recv);
    gst_element_set_state(egress->pipeline, GST_STATE_NULL);

    /* A failed file keeps its temporary name; a finished or timed-out one (playable up
     * to its last fragment) gets its final name. */
    gboolean failed =
        error != NULL && !g_error_matches(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT);
    if (!failed && g_file_test(egress->temp_path, G_FILE_TEST_EXISTS)) {
        GError *move_error = NULL;
        if (rr_output_file_commit(egress->temp_path, egress->path, &move_error))
            result.path = egress->path;
        else if (error == NULL)
            error = move_error;
        else
            g_error_free(move_error);
    }
    GStatBuf st;
    if (g_stat(result.path, &st) == 0)
        result.size = (guint64)st.st_size;
    g_mutex_lock(&egress->lock);
    if (GST_CLOCK_TIME_IS_VALID(egress->first) && GST_CLOCK_TIME_IS_VALID(egress->last_end))
        result.duration = egress->last_end - egress->first;
    result.units = egress->units;
    g_mutex_unlock(&egress->lock);
    g_message("track egress %s: %s, %" G_GUINT64_FORMAT " bytes, %" GST_TIME_FORMAT
              ", %" G_GUINT64_FORMAT " units%s%s",
              result.path, complete ? "complete" : "incomplete", result.size,
              GST_TIME_ARGS(result.duration), result.units, error ? ": " : "",
              error ? error->message : "");
    /* Last: the callback may free the egress. */
    if (egress->callbacks.finished)
        egress->callbacks.finished(&result, error, egress->user_data);
    g_clear_error(&error);
}

static GError *error_from_message(RrTrackEgress *egress, GstMessage *msg)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *debug = NULL;
    gst_message_parse_error(msg, &gerr, &debug);
    const char *element = GST_MESSAGE_SRC_NAME(msg) ? GST_MESSAGE_SRC_NAME(msg) : "pipeline";
    GST_ERROR_OBJECT(egress->pipeline, "error from %s: %s (%s)", element,
                     gerr ? gerr->message : "?", debug ? debug : "");
    if (g_getenv("GST_DEBUG_DUMP_DOT_DIR") != NULL)
        GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS(GST_BIN(egress->pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                          "roomrec-track-egress-error");
    return g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STREAM, "%s: %s", element,
                       gerr ? gerr->message : "unknown error");
}

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
    RrTrackEgress *egress = data;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
        finish(egress, FALSE, error_from_message(egress, msg));
        break;
    case GST_MESSAGE_WARNING: {
        g_autoptr(GError) gerr = NULL;
        gst_message_parse_warning(msg, &gerr, NULL);
        g_message("track egress %s: warning from %s: %s", egress->path, GST_MESSAGE_SRC_NAME(msg),
                  gerr ? gerr->message : "?");
        break;
    }
    case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name(msg, EOS_MESSAGE) && egress->state == STATE_STOPPING)
            finish(egress, TRUE, NULL);
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_stop_timeout(gpointer data)
{
    RrTrackEgress *egress = data;
    g_clear_pointer(&egress->timeout_source, g_source_unref);
    finish(egress, FALSE,
           g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT,
                       "end of stream did not reach %s within %u ms", egress->temp_path,
                       egress->stop_timeout_ms));
    return G_SOURCE_REMOVE;
}

/* ---- construction ---- */

static GstElement *add_element(RrTrackEgress *egress, const char *factory, const char *name,
                               GError **error)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (e == NULL) {
        rr_elements_set_missing(error, factory);
        return NULL;
    }
    gst_bin_add(GST_BIN(egress->pipeline), e);
    return e;
}

static gboolean validate_path(const char *path, GError **error)
{
    if (path == NULL || *path == '\0') {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "no output path given");
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO,
                    "output directory %s does not exist", dir);
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO, "output path %s is a directory",
                    path);
        return FALSE;
    }
    return TRUE;
}

static gboolean build(RrTrackEgress *egress, const RrTrackEgressConfig *config, GError **error)
{
    RrRecvCallbacks rcb = {.rtcp_out = on_rtcp_out, .first_media = on_first_media};
    egress->recv = rr_recv_new(egress->context, config->latency_ms, &rcb, egress, error);
    if (egress->recv == NULL)
        return FALSE;
    gst_bin_add(GST_BIN(egress->pipeline), rr_recv_get_bin(egress->recv));
    /* The file is the track as sent: its timestamps are the sender's RTP timeline. */
    RrRecvTrackConfig track = config->track;
    track.rtp_timeline = TRUE;
    if (rr_recv_add_track(egress->recv, &track, error) < 0)
        return FALSE;

    GstElement *capsfilter = add_element(egress, "capsfilter", "format", error);
    GstElement *mux = capsfilter ? add_element(egress, egress->codec->muxer, "mux", error) : NULL;
    GstElement *sink = mux ? add_element(egress, "filesink", "file", error) : NULL;
    if (sink == NULL)
        return FALSE;
    egress->capsfilter = capsfilter;
    egress->sink = sink;
    if (egress->codec->parsed_caps != NULL) {
        g_autoptr(GstCaps) caps = gst_caps_from_string(egress->codec->parsed_caps);
        g_object_set(capsfilter, "caps", caps, NULL);
    }
    if (egress->codec->id == RR_CODEC_H264)
        g_object_set(mux, "fragment-duration",
                     config->fragment_ms ? config->fragment_ms : DEFAULT_FRAGMENT_MS, NULL);
    /* Unbuffered: the EOS probe on the filesink's pad runs before filesink flushes its own
     * 64 kB buffer, and finish() then stops the pipeline, which makes that flush fail
     * (flushing): the buffered tail of the file — a whole short file — was lost. Written
     * straight through, everything before EOS is in the file when the probe runs. */
    g_object_set(sink, "location", egress->temp_path, "sync", FALSE, "async", FALSE, NULL);
    gst_util_set_object_arg(G_OBJECT(sink), "buffer-mode", "unbuffered");

    g_autoptr(GstPad) src = gst_element_get_static_pad(capsfilter, "sink");
    if (gst_pad_link(rr_recv_get_track_pad(egress->recv, 0), src) != GST_PAD_LINK_OK ||
        !gst_element_link_many(capsfilter, mux, sink, NULL)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED, "cannot link the %s branch",
                    egress->codec->muxer);
        return FALSE;
    }
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_mux_input, egress, NULL);
    g_autoptr(GstPad) sink_pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_event, egress, NULL);

    g_autoptr(GstBus) bus = gst_element_get_bus(egress->pipeline);
    egress->bus_source = gst_bus_create_watch(bus);
    g_source_set_callback(egress->bus_source, (GSourceFunc)(void (*)(void))on_bus_message, egress,
                          NULL);
    g_source_attach(egress->bus_source, egress->context);
    return TRUE;
}

RrTrackEgress *rr_track_egress_new(const RrTrackEgressConfig *config, GMainContext *context,
                                   const RrTrackEgressCallbacks *callbacks, gpointer user_data,
                                   GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    static gsize debug_once;
    if (g_once_init_enter(&debug_once)) {
        GST_DEBUG_CATEGORY_INIT(rr_track_egress_debug, "rrtrackegress", 0, "roomrec track egress");
        g_once_init_leave(&debug_once, 1);
    }
    const RrCodec *codec = rr_codec_find(config->track.encoding_name, error);
    g_autoptr(GPtrArray) needed = rr_elements_for_track_egress();
    if (codec == NULL || !rr_elements_check(needed, error) ||
        !rr_codec_check_elements(codec, error) || !validate_path(config->path, error))
        return NULL;

    RrTrackEgress *egress = g_new0(RrTrackEgress, 1);
    egress->context = g_main_context_ref(context ? context : g_main_context_default());
    if (callbacks)
        egress->callbacks = *callbacks;
    egress->user_data = user_data;
    egress->codec = codec;
    egress->path = g_strdup(config->path);
    egress->temp_path = g_strconcat(config->path, ".part", NULL);
    egress->first = egress->last_start = egress->last_end = GST_CLOCK_TIME_NONE;
    egress->limit = GST_CLOCK_TIME_NONE;
    g_mutex_init(&egress->lock);
    egress->pipeline = gst_object_ref_sink(gst_pipeline_new("track-egress"));
    if (!build(egress, config, error)) {
        rr_track_egress_free(egress);
        return NULL;
    }
    return egress;
}

void rr_track_egress_free(RrTrackEgress *egress)
{
    if (egress == NULL)
        return;
    if (egress->pipeline != NULL)
        gst_element_set_state(egress->pipeline, GST_STATE_NULL);
    if (egress->bus_source != NULL) {
        g_source_destroy(egress->bus_source);
        g_source_unref(egress->bus_source);
    }
    if (egress->timeout_source != NULL) {
        g_source_destroy(egress->timeout_source);
        g_source_unref(egress->timeout_source);
    }
    g_clear_pointer(&egress->recv, rr_recv_free);
    gst_clear_object(&egress->pipeline);
    g_mutex_clear(&egress->lock);
    g_main_context_unref(egress->context);
    g_free(egress->path);
    g_free(egress->temp_path);
    g_free(egress);
}

gboolean rr_track_egress_start(RrTrackEgress *egress, GError **error)
{
    if (egress->state != STATE_NEW) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STATE,
                    "track egress %s was already started", egress->path);
        return FALSE;
    }
    if (gst_element_set_state(egress->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_autoptr(GstBus) bus = gst_element_get_bus(egress->pipeline);
        g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        if (msg != NULL) {
            GError *e = error_from_message(egress, msg);
            g_propagate_prefixed_error(error, e, "cannot start %s: ", egress->path);
        } else {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STATE, "cannot start %s",
                        egress->path);
        }
        gst_element_set_state(egress->pipeline, GST_STATE_NULL);
        egress->state = STATE_DONE;
        return FALSE;
    }
    egress->state = STATE_RUNNING;
    g_message("track egress %s: started (%s → %s)", egress->path, egress->codec->encoding_name,
              egress->codec->muxer);
    return TRUE;
}

void rr_track_egress_stop_now(RrTrackEgress *egress)
{
    if (egress->state != STATE_RUNNING && egress->state != STATE_STOPPING)
        return;
    g_message("track egress %s: not waiting for the end of the stream any more", egress->path);
    finish(egress, FALSE,
           g_error_new(RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT,
                       "%s closed before the end of the stream reached it", egress->temp_path));
}

gboolean rr_track_egress_stop(RrTrackEgress *egress, guint timeout_ms)
{
    if (egress->state == STATE_STOPPING)
        return TRUE;
    if (egress->state != STATE_RUNNING)
        return FALSE;
    egress->state = STATE_STOPPING;
    egress->stop_timeout_ms = timeout_ms ? timeout_ms : DEFAULT_STOP_TIMEOUT_MS;
    egress->timeout_source = g_timeout_source_new(egress->stop_timeout_ms);
    g_source_set_callback(egress->timeout_source, on_stop_timeout, egress, NULL);
    g_source_attach(egress->timeout_source, egress->context);

    RrRecvTrackStats stats;
    rr_recv_get_stats(egress->recv, 0, &stats);
    rr_recv_end(egress->recv);
    if (!stats.started) {
        /* Nothing passed the gate, so rtpbin may never have created the stream's pad and
         * the appsrc EOS would stop there: end the mux branch directly. */
        g_autoptr(GstPad) pad = gst_element_get_static_pad(egress->capsfilter, "sink");
        gst_pad_send_event(pad, gst_event_new_eos());
    }
    return TRUE;
}

gboolean rr_track_egress_push_rtp(RrTrackEgress *egress, const guint8 *data, gsize len,
                                  GError **error)
{
    return rr_recv_push_rtp(egress->recv, 0, data, len, error);
}

gboolean rr_track_egress_push_rtcp(RrTrackEgress *egress, const guint8 *data, gsize len,
                                   GError **error)
{
    return rr_recv_push_rtcp(egress->recv, 0, data, len, error);
}

void rr_track_egress_request_keyframe(RrTrackEgress *egress)
{
    rr_recv_request_keyframe(egress->recv, 0);
}

GstClockTime rr_track_egress_get_received(RrTrackEgress *egress)
{
    RrRecvTrackStats stats;
    if (!rr_recv_get_stats(egress->recv, 0, &stats))
        return GST_CLOCK_TIME_NONE;
    return stats.received;
}

void rr_track_egress_set_limit(RrTrackEgress *egress, GstClockTime media)
{
    g_mutex_lock(&egress->lock);
    egress->limit = media;
    g_mutex_unlock(&egress->lock);
}

RrRecv *rr_track_egress_get_recv(RrTrackEgress *egress)
{
    return egress->recv;
}

const char *rr_track_egress_get_temp_path(RrTrackEgress *egress)
{
    return egress->temp_path;
}
