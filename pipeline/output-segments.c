/* pipeline/output-segments: HLS segments and playlists. See outputs.h. */
#include "pipeline/elements.h"
#include "pipeline/hls-playlist.h"
#include "pipeline/outputs.h"
#include "pipeline/pipeline-error.h"

#include <glib/gstdio.h>

struct RrSegmentsOutput {
    char *prefix;
    char *playlist_path;
    char *live_playlist_path;
    guint duration_s;
    RrFileSuffix suffix;
    RrOutputClosedFunc closed;
    gpointer user_data;
    GstElement *bin;      /* (owned) */
    GstElement *splitmux; /* in bin */
    RrHlsPlaylist *playlist;
    GstClockTime opened_at; /* running time the open segment began */
    guint64 size;
};

const char *rr_output_kind_to_string(RrOutputKind kind)
{
    switch (kind) {
    case RR_OUTPUT_FILE:
        return "file";
    case RR_OUTPUT_SEGMENT:
        return "segment";
    case RR_OUTPUT_PLAYLIST:
        return "playlist";
    case RR_OUTPUT_LIVE_PLAYLIST:
        return "live playlist";
    case RR_OUTPUT_IMAGE:
        return "image";
    }
    return "?";
}

char *rr_output_timestamp_suffix(gint64 unix_usec)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_usec / G_USEC_PER_SEC);
    if (t == NULL)
        return g_strdup("0");
    g_autofree char *s = g_date_time_format(t, "%Y%m%d%H%M%S");
    return g_strdup_printf("%s%03d", s, (int)((unix_usec % G_USEC_PER_SEC) / 1000));
}

/* Streaming thread: the name of segment @fragment_id. */
static gchar *on_format_location(GstElement *splitmux, guint fragment_id, gpointer data)
{
    (void)splitmux;
    RrSegmentsOutput *s = data;
    if (s->suffix == RR_FILE_SUFFIX_TIMESTAMP) {
        g_autofree char *ts = rr_output_timestamp_suffix(g_get_real_time());
        return g_strdup_printf("%s_%s.ts", s->prefix, ts);
    }
    return g_strdup_printf("%s_%05u.ts", s->prefix, fragment_id);
}

static GstElement *add(GstElement *bin, const char *factory, const char *name, GError **error)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (e == NULL) {
        rr_elements_set_missing(error, factory);
        return NULL;
    }
    gst_bin_add(GST_BIN(bin), e);
    return e;
}

static gboolean ghost(GstElement *bin, GstElement *first, const char *name, GError **error)
{
    g_autoptr(GstPad) target = gst_element_get_static_pad(first, "sink");
    if (!gst_element_add_pad(bin, gst_ghost_pad_new(name, target))) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED, "cannot add pad %s", name);
        return FALSE;
    }
    return TRUE;
}

static gboolean link_to_splitmux(GstElement *last, GstElement *splitmux, const char *pad_name,
                                 GError **error)
{
    g_autoptr(GstPad) src = gst_element_get_static_pad(last, "src");
    g_autoptr(GstPad) sink = gst_element_request_pad_simple(splitmux, pad_name);
    if (sink == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                    "cannot link %s to splitmuxsink", GST_ELEMENT_NAME(last));
        return FALSE;
    }
    return TRUE;
}

static gboolean build(RrSegmentsOutput *s, gboolean video, gboolean audio, GError **error)
{
    GstElement *bin = s->bin;
    s->splitmux = add(bin, "splitmuxsink", "seg_split", error);
    if (s->splitmux == NULL)
        return FALSE;
    /* The muxer goes to splitmuxsink, which adds it to itself. */
    GstElement *mux = gst_element_factory_make("mpegtsmux", "seg_tsmux");
    if (mux == NULL) {
        rr_elements_set_missing(error, "mpegtsmux");
        return FALSE;
    }
    /* message-forward: the splitmuxsink's final EOS reaches the bus (as GstBinForwarded),
     * after its last segment is closed. No key frame requests: the encoder's interval
     * divides the segment duration already, and a key frame forced a frame after a
     * regular one would split off a one-frame segment. */
    g_object_set(s->splitmux, "muxer", mux, "max-size-time", (guint64)s->duration_s * GST_SECOND,
                 "max-size-bytes", (guint64)0, "send-keyframe-requests", FALSE, "message-forward",
                 TRUE, NULL);
    g_signal_connect(s->splitmux, "format-location", G_CALLBACK(on_format_location), s);
    if (video) {
        GstElement *q = add(bin, "queue", "seg_vqueue", error);
        GstElement *parse = q ? add(bin, "h264parse", "seg_vparse", error) : NULL;
        GstElement *caps = parse ? add(bin, "capsfilter", "seg_vcaps", error) : NULL;
        if (caps == NULL)
            return FALSE;
        /* SPS/PPS before every key frame: each segment decodes on its own. */
        g_object_set(parse, "config-interval", -1, NULL);
        g_autoptr(GstCaps) c = gst_caps_from_string("video/x-h264,stream-format=byte-stream");
        g_object_set(caps, "caps", c, NULL);
        if (!gst_element_link_many(q, parse, caps, NULL)) {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                        "cannot link the segments' video branch");
            return FALSE;
        }
        if (!link_to_splitmux(caps, s->splitmux, "video", error) || !ghost(bin, q, "video", error))
            return FALSE;
    }
    if (audio) {
        GstElement *q = add(bin, "queue", "seg_aqueue", error);
        GstElement *parse = q ? add(bin, "aacparse", "seg_aparse", error) : NULL;
        if (parse == NULL)
            return FALSE;
        if (!gst_element_link(q, parse)) {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                        "cannot link the segments' audio branch");
            return FALSE;
        }
        if (!link_to_splitmux(parse, s->splitmux, "audio_%u", error) ||
            !ghost(bin, q, "audio", error))
            return FALSE;
    }
    return TRUE;
}

RrSegmentsOutput *rr_segments_output_new(const RrSegmentsConfig *config, gboolean video,
                                         gboolean audio, RrOutputClosedFunc closed,
                                         gpointer user_data, GError **error)
{
    if (config->prefix == NULL || *config->prefix == '\0' || config->playlist_path == NULL ||
        *config->playlist_path == '\0') {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "segments: no filename prefix or playlist name");
        return NULL;
    }
    if (config->segment_duration_s < 1 || config->segment_duration_s > 3600) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "segments: segment duration %u s is not within 1..3600",
                    config->segment_duration_s);
        return NULL;
    }
    if (!video && !audio) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "segments: no media");
        return NULL;
    }
    RrSegmentsOutput *s = g_new0(RrSegmentsOutput, 1);
    s->prefix = g_strdup(config->prefix);
    s->playlist_path = g_strdup(config->playlist_path);
    s->live_playlist_path = g_strdup(config->live_playlist_path);
    s->duration_s = config->segment_duration_s;
    s->suffix = config->suffix;
    s->closed = closed;
    s->user_data = user_data;
    s->opened_at = GST_CLOCK_TIME_NONE;
    s->playlist = rr_hls_playlist_new(s->playlist_path, s->live_playlist_path, s->duration_s);
    s->bin = gst_object_ref_sink(gst_bin_new("segments"));
    if (!build(s, video, audio, error)) {
        rr_segments_output_free(s);
        return NULL;
    }
    return s;
}

void rr_segments_output_free(RrSegmentsOutput *s)
{
    if (s == NULL)
        return;
    if (s->splitmux != NULL)
        g_signal_handlers_disconnect_by_data(s->splitmux, s);
    gst_clear_object(&s->bin);
    rr_hls_playlist_free(s->playlist);
    g_free(s->prefix);
    g_free(s->playlist_path);
    g_free(s->live_playlist_path);
    g_free(s);
}

GstElement *rr_segments_output_get_bin(RrSegmentsOutput *s)
{
    return s->bin;
}

static void report(RrSegmentsOutput *s, const char *path, RrOutputKind kind)
{
    if (s->closed)
        s->closed(path, kind, s->user_data);
}

static gboolean segment_closed(RrSegmentsOutput *s, const GstStructure *st, GError **error)
{
    const char *location = gst_structure_get_string(st, "location");
    GstClockTime rt = GST_CLOCK_TIME_NONE;
    gst_structure_get_clock_time(st, "running-time", &rt);
    if (location == NULL)
        return TRUE;
    double dur = 0;
    if (GST_CLOCK_TIME_IS_VALID(rt) && GST_CLOCK_TIME_IS_VALID(s->opened_at) && rt > s->opened_at)
        dur = (double)(rt - s->opened_at) / GST_SECOND;
    s->opened_at = GST_CLOCK_TIME_NONE;
    GStatBuf sb;
    if (g_stat(location, &sb) == 0)
        s->size += (guint64)sb.st_size;
    g_message("segments: %s closed (%.3f s)", location, dur);
    report(s, location, RR_OUTPUT_SEGMENT);
    if (!rr_hls_playlist_add(s->playlist, location, dur, error))
        return FALSE;
    report(s, s->playlist_path, RR_OUTPUT_PLAYLIST);
    if (s->live_playlist_path)
        report(s, s->live_playlist_path, RR_OUTPUT_LIVE_PLAYLIST);
    return TRUE;
}

gboolean rr_segments_output_handle_message(RrSegmentsOutput *s, GstMessage *msg, gboolean *ended,
                                           GError **error)
{
    *ended = FALSE;
    if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT ||
        GST_MESSAGE_SRC(msg) != GST_OBJECT(s->splitmux))
        return FALSE;
    const GstStructure *st = gst_message_get_structure(msg);
    if (gst_structure_has_name(st, "splitmuxsink-fragment-opened")) {
        gst_structure_get_clock_time(st, "running-time", &s->opened_at);
    } else if (gst_structure_has_name(st, "splitmuxsink-fragment-closed")) {
        segment_closed(s, st, error);
    } else if (gst_structure_has_name(st, "GstBinForwarded")) {
        g_autoptr(GstMessage) inner = NULL;
        gst_structure_get(st, "message", GST_TYPE_MESSAGE, &inner, NULL);
        if (inner != NULL && GST_MESSAGE_TYPE(inner) == GST_MESSAGE_EOS)
            *ended = TRUE;
    }
    return TRUE;
}

gboolean rr_segments_output_finish(RrSegmentsOutput *s, RrSegmentsResult *result, GError **error)
{
    gboolean ok = rr_hls_playlist_end(s->playlist, error);
    if (ok) {
        report(s, s->playlist_path, RR_OUTPUT_PLAYLIST);
        if (s->live_playlist_path)
            report(s, s->live_playlist_path, RR_OUTPUT_LIVE_PLAYLIST);
    }
    result->playlist_path = s->playlist_path;
    result->live_playlist_path = s->live_playlist_path;
    result->segment_count = rr_hls_playlist_get_count(s->playlist);
    result->duration = (GstClockTime)(rr_hls_playlist_get_duration(s->playlist) * GST_SECOND);
    result->size = s->size;
    return ok;
}
