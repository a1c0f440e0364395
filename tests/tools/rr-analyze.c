/* tests/tools/rr-analyze: decodes a media file and prints what the tests need to know
 * about it as JSON on stdout.
 *
 *   rr-analyze [--grid RxC | --rect x,y,w,h ...] [--tones F1,F2,...] [--flash]
 *              [--sync NAME:TONE[:TILES] ... [--sync-aspect W:H]]
 *              [--size WxH] [--flash-luma L] [--timeout S] FILE
 *
 * Always: the container and its streams (GstDiscoverer: caps, codec, size, rate,
 * duration), then a full decode (uridecodebin → appsink, raw I420 scaled to --size and
 * S16LE mono 48 kHz): video frame count, first/last PTS, the largest gap between frames,
 * audio first/last PTS, and every error/warning the decoding posted (with the media
 * position it happened at). Regions (fractions of the frame; --grid names them r0c0 ..)
 * get per-second mean luma, mean colour (RGB from mean Y'CbCr, BT.601) and motion (mean
 * absolute luma difference between consecutive frames, 0..255). --tones gives per
 * second, per frequency, the share of the audio energy in that tone (Goertzel over 100 ms
 * Hann windows, 3 bins; 1.0 = a pure tone). --flash finds video flash onsets (a region's
 * mean luma reaches --flash-luma after ≥ 300 ms below it; per region, or the whole frame)
 * and audio beep onsets (10 ms windows every 1 ms, energy or per-tone amplitude crossing
 * half its largest level held for 25 ms, after ≥ 300 ms below; the crossing's window centre is the
 * onset), then pairs each video onset with the nearest audio onset within 500 ms and prints the
 * offsets (audio − video, ms) with their mean and largest magnitude. --sync gives, per
 * test-room participant (its tone, its tiles), every flash/beep pair, the drift and the
 * missing/duplicated source frames read from its frame-counter bar code
 * (rr-analyze-sync.c).
 *
 * Exit: 0 when the file was analysed (decode errors are reported in the JSON, not by the
 * exit code), 1 when it could not be (missing, not media, nothing decodable), 2 on bad
 * arguments. Single-threaded apart from the two appsink streaming threads, which only
 * append to their own stream's state; the main thread reads it after the pipeline stops.
 */
#include "rr-analyze.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- arguments ---------- */

static gboolean rr_an_add_region(RrAn *an, const char *name, double x, double y, double w, double h)
{
    if (an->video.n_regions >= RR_AN_MAX_REGIONS - 1)
        return FALSE;
    RrAnRegion *r = &an->video.regions[an->video.n_regions++];
    r->name = g_strdup(name);
    r->x = x, r->y = y, r->w = w, r->h = h;
    return TRUE;
}

static gboolean rr_an_parse_rect(RrAn *an, const char *s, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    double v[4] = {0};
    gboolean ok = g_strv_length(parts) == 4;
    for (int i = 0; ok && i < 4; i++) {
        char *end = NULL;
        v[i] = g_ascii_strtod(parts[i], &end);
        ok = end != parts[i] && *end == '\0' && isfinite(v[i]);
    }
    ok = ok && v[0] >= 0 && v[1] >= 0 && v[2] > 0 && v[3] > 0 && v[0] + v[2] <= 1.0001 &&
         v[1] + v[3] <= 1.0001;
    if (!ok) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--rect wants x,y,w,h as fractions of the frame inside [0,1], got \"%s\"", s);
        return FALSE;
    }
    g_autofree char *name = g_strdup_printf("rect%d", an->video.n_regions);
    if (!rr_an_add_region(an, name, v[0], v[1], v[2], v[3])) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "too many regions");
        return FALSE;
    }
    return TRUE;
}

static gboolean rr_an_parse_grid(RrAn *an, const char *s, GError **error)
{
    unsigned r = 0, c = 0;
    char tail;
    if (sscanf(s, "%ux%u%c", &r, &c, &tail) != 2 || r < 1 || c < 1 || r * c > 48) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--grid wants RxC (e.g. 2x2, at most 48 cells), got \"%s\"", s);
        return FALSE;
    }
    an->grid_rows = (int)r, an->grid_cols = (int)c;
    for (unsigned i = 0; i < r; i++) {
        for (unsigned j = 0; j < c; j++) {
            g_autofree char *name = g_strdup_printf("r%uc%u", i, j);
            rr_an_add_region(an, name, (double)j / c, (double)i / r, 1.0 / c, 1.0 / r);
        }
    }
    return TRUE;
}

static gboolean rr_an_parse_tones(RrAn *an, const char *s, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    for (int i = 0; parts[i]; i++) {
        char *end = NULL;
        double f = g_ascii_strtod(parts[i], &end);
        if (end == parts[i] || *end != '\0' || !(f >= 20 && f <= 20000) ||
            an->n_tones >= RR_AN_MAX_TONES) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--tones wants up to %d frequencies in 20..20000 Hz, got \"%s\"",
                        RR_AN_MAX_TONES, s);
            return FALSE;
        }
        an->tones[an->n_tones++] = f;
    }
    return TRUE;
}

/* ---------- video ---------- */

static void rr_an_video_setup(RrAnVideo *v, int width, int height)
{
    v->width = width, v->height = height;
    for (int i = 0; i < v->n_regions; i++) {
        RrAnRegion *r = &v->regions[i];
        r->px = (int)lround(r->x * width) & ~1;
        r->py = (int)lround(r->y * height) & ~1;
        r->pw = MAX(2, (int)lround(r->w * width) & ~1);
        r->ph = MAX(2, (int)lround(r->h * height) & ~1);
        r->pw = MIN(r->pw, width - r->px);
        r->ph = MIN(r->ph, height - r->py);
    }
    v->prev_y = g_malloc0((gsize)width * height);
}

static void rr_an_video_frame(RrAnVideo *v, GstVideoFrame *f, GstClockTime pts)
{
    const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA(f, 0);
    const guint8 *u = GST_VIDEO_FRAME_PLANE_DATA(f, 1);
    const guint8 *vv = GST_VIDEO_FRAME_PLANE_DATA(f, 2);
    int ys = GST_VIDEO_FRAME_PLANE_STRIDE(f, 0);
    int us = GST_VIDEO_FRAME_PLANE_STRIDE(f, 1);
    int vs = GST_VIDEO_FRAME_PLANE_STRIDE(f, 2);
    RrAnFrame fr = {pts, g_new0(double, (gsize)v->n_regions *RR_AN_REGION_STATS)};
    for (int i = 0; i < v->n_regions; i++) {
        const RrAnRegion *r = &v->regions[i];
        double sy = 0, su = 0, sv = 0, sm = 0;
        for (int row = r->py; row < r->py + r->ph; row++) {
            const guint8 *line = y + (gsize)row * ys;
            const guint8 *prev = v->prev_y + (gsize)row * v->width;
            for (int col = r->px; col < r->px + r->pw; col++) {
                sy += line[col];
                sm += abs((int)line[col] - (int)prev[col]);
            }
        }
        for (int row = r->py / 2; row < (r->py + r->ph) / 2; row++) {
            for (int col = r->px / 2; col < (r->px + r->pw) / 2; col++) {
                su += u[(gsize)row * us + col];
                sv += vv[(gsize)row * vs + col];
            }
        }
        double n = (double)r->pw * r->ph;
        double *s = fr.stats + (gsize)i * RR_AN_REGION_STATS;
        s[0] = sy / n;
        s[1] = su / (n / 4);
        s[2] = sv / (n / 4);
        s[3] = v->have_prev ? sm / n : NAN;
    }
    for (int row = 0; row < v->height; row++)
        memcpy(v->prev_y + (gsize)row * v->width, y + (gsize)row * ys, v->width);
    if (v->frames->len > 0) {
        GstClockTime last = g_array_index(v->frames, RrAnFrame, v->frames->len - 1).pts;
        if (pts <= last)
            v->non_monotonic++;
        else if (pts - last > v->max_gap)
            v->max_gap = pts - last;
    }
    v->have_prev = TRUE;
    g_array_append_val(v->frames, fr);
}

/* ---------- decoding ---------- */

static GstClockTime rr_an_sample_time(GstSample *sample, GstBuffer *buf)
{
    GstClockTime pts = GST_BUFFER_PTS(buf);
    const GstSegment *seg = gst_sample_get_segment(sample);
    if (GST_CLOCK_TIME_IS_VALID(pts) && seg && seg->format == GST_FORMAT_TIME) {
        GstClockTime st = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, pts);
        if (GST_CLOCK_TIME_IS_VALID(st))
            return st;
    }
    return pts;
}

static GstFlowReturn rr_an_video_sample(GstAppSink *sink, gpointer user_data)
{
    RrAn *an = user_data;
    g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);
    GstVideoInfo info;
    if (!buf || !caps || !gst_video_info_from_caps(&info, caps))
        return GST_FLOW_OK;
    if (!an->video.prev_y)
        rr_an_video_setup(&an->video, GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info));
    if (GST_VIDEO_INFO_WIDTH(&info) != an->video.width ||
        GST_VIDEO_INFO_HEIGHT(&info) != an->video.height)
        return GST_FLOW_OK; /* the caps filter fixes the size; never happens */
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buf, GST_MAP_READ))
        return GST_FLOW_OK;
    GstClockTime t = rr_an_sample_time(sample, buf);
    rr_an_video_frame(&an->video, &frame, t);
    if (an->n_sync > 0)
        rr_an_sync_frame(an, &frame, t);
    gst_video_frame_unmap(&frame);
    return GST_FLOW_OK;
}

static GstFlowReturn rr_an_audio_sample(GstAppSink *sink, gpointer user_data)
{
    RrAn *an = user_data;
    RrAnAudio *a = &an->audio;
    g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ))
        return GST_FLOW_OK;
    GstClockTime t = rr_an_sample_time(sample, buf);
    guint n = (guint)(map.size / sizeof(gint16));
    if (!a->have_t0 && GST_CLOCK_TIME_IS_VALID(t)) {
        a->t0 = t;
        a->have_t0 = TRUE;
    }
    if (a->have_t0 && GST_CLOCK_TIME_IS_VALID(t)) {
        /* Keep one timeline: a jump ahead of more than 10 ms is filled with silence. */
        GstClockTime expect =
            a->t0 + gst_util_uint64_scale(a->samples->len, GST_SECOND, RR_AN_RATE);
        if (t > expect + 10 * GST_MSECOND) {
            guint pad = (guint)gst_util_uint64_scale(t - expect, RR_AN_RATE, GST_SECOND);
            g_array_set_size(a->samples, a->samples->len + pad);
            a->gaps++;
        }
    }
    g_array_append_vals(a->samples, map.data, n);
    gst_buffer_unmap(buf, &map);
    return GST_FLOW_OK;
}

static void rr_an_on_pad_added(GstElement *dec, GstPad *pad, gpointer user_data)
{
    RrAn *an = user_data;
    g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, NULL);
    const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    const char *desc;
    gboolean is_video = g_str_has_prefix(name, "video/x-raw");
    gboolean is_audio = g_str_has_prefix(name, "audio/x-raw");
    g_autofree char *vcaps = NULL;
    if (is_video && !an->video_linked) {
        an->video_linked = TRUE;
        desc = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=2000000000 ! "
               "videoconvert ! videoscale ! appsink name=vsink sync=false";
    } else if (is_audio && !an->audio_linked) {
        an->audio_linked = TRUE;
        desc = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=2000000000 ! "
               "audioconvert ! audioresample ! "
               "audio/x-raw,format=S16LE,channels=1,rate=48000,layout=interleaved ! "
               "appsink name=asink sync=false";
    } else {
        desc = "fakesink sync=false";
    }
    g_autoptr(GError) err = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
    if (!bin)
        return;
    GstElement *sink = gst_bin_get_by_name(GST_BIN(bin), is_video ? "vsink" : "asink");
    if (sink && GST_IS_APP_SINK(sink)) {
        GstAppSinkCallbacks cbs = {0};
        cbs.new_sample = is_video ? rr_an_video_sample : rr_an_audio_sample;
        gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, an, NULL);
        if (is_video) {
            vcaps = g_strdup_printf("video/x-raw,format=I420,width=%d,height=%d,"
                                    "pixel-aspect-ratio=1/1",
                                    an->video.width, an->video.height);
            g_autoptr(GstCaps) c = gst_caps_from_string(vcaps);
            gst_app_sink_set_caps(GST_APP_SINK(sink), c);
        }
    }
    if (sink)
        gst_object_unref(sink);
    gst_bin_add(GST_BIN(an->pipeline), bin);
    gst_element_sync_state_with_parent(bin);
    GstPad *sinkpad = gst_element_get_static_pad(bin, "sink");
    if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
        g_printerr("rr-analyze: could not link a %s stream\n", name);
    gst_object_unref(sinkpad);
}

static gint64 rr_an_position_ms(RrAn *an)
{
    gint64 pos = -1;
    if (an->pipeline && gst_element_query_position(an->pipeline, GST_FORMAT_TIME, &pos) && pos >= 0)
        return pos / (gint64)GST_MSECOND;
    return -1;
}

/* One entry of the "errors" (or "warnings") list; @debug may be NULL. */
static void rr_an_add_entry(RrAn *an, gboolean is_error, const char *source, const char *message,
                            const char *debug)
{
    JsonBuilder *b = is_error ? an->errors_b : an->warnings_b;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "source");
    json_builder_add_string_value(b, source);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, message);
    if (debug != NULL) {
        json_builder_set_member_name(b, "debug");
        json_builder_add_string_value(b, debug);
    }
    json_builder_set_member_name(b, "position_ms");
    json_builder_add_int_value(b, rr_an_position_ms(an));
    json_builder_end_object(b);
    if (is_error && !an->first_error)
        an->first_error = g_strdup(*message ? message : "error");
    if (is_error)
        an->n_errors++;
    else
        an->n_warnings++;
}

static void rr_an_record_message(RrAn *an, GstMessage *m, gboolean is_error)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *dbg = NULL;
    if (is_error)
        gst_message_parse_error(m, &e, &dbg);
    else
        gst_message_parse_warning(m, &e, &dbg);
    rr_an_add_entry(an, is_error, GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), e ? e->message : "",
                    dbg ? dbg : "");
}

static void rr_an_add_error(RrAn *an, const char *message)
{
    rr_an_add_entry(an, TRUE, "rr-analyze", message, NULL);
}

/* Seconds a file may take to preroll (see rr_an_decode). */
#define RR_AN_PREROLL_TIMEOUT_S 10

/* Decodes the whole file. FALSE only when the pipeline could not be built. */
static gboolean rr_an_decode(RrAn *an, const char *uri, GError **error)
{
    an->pipeline = gst_pipeline_new("analyze");
    GstElement *dec = gst_element_factory_make("uridecodebin", "dec");
    if (!dec) {
        g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "no uridecodebin");
        return FALSE;
    }
    g_object_set(dec, "uri", uri, NULL);
    g_signal_connect(dec, "pad-added", G_CALLBACK(rr_an_on_pad_added), an);
    gst_bin_add(GST_BIN(an->pipeline), dec);
    g_autoptr(GstBus) bus = gst_element_get_bus(an->pipeline);
    gboolean done =
        gst_element_set_state(an->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE;
    if (done)
        rr_an_add_error(an, "the decoding pipeline did not start");
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + (gint64)an->timeout_s * G_USEC_PER_SEC;
    /* decodebin can miss posting its error for a file it cannot play (an MP4 cut before
     * its moov, now and then): every thread waits and no message ever comes. A file that
     * has not prerolled within this time will not. */
    gint64 preroll_deadline = start + MIN(an->timeout_s, RR_AN_PREROLL_TIMEOUT_S) * G_USEC_PER_SEC;
    gboolean prerolled = FALSE;
    while (!done) {
        gint64 left = (prerolled ? deadline : preroll_deadline) - g_get_monotonic_time();
        if (left <= 0) {
            rr_an_add_error(an, prerolled ? "timed out decoding"
                                          : "the file did not preroll (nothing decodable)");
            break;
        }
        g_autoptr(GstMessage) m = gst_bus_timed_pop_filtered(
            bus, (GstClockTime)left * GST_USECOND,
            GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS | GST_MESSAGE_ASYNC_DONE);
        if (!m)
            continue;
        switch (GST_MESSAGE_TYPE(m)) {
        case GST_MESSAGE_ERROR:
            rr_an_record_message(an, m, TRUE);
            done = TRUE;
            break;
        case GST_MESSAGE_WARNING:
            rr_an_record_message(an, m, FALSE);
            break;
        case GST_MESSAGE_EOS:
            done = TRUE;
            break;
        case GST_MESSAGE_ASYNC_DONE:
            prerolled = TRUE;
            break;
        default:
            break;
        }
    }
    gst_element_set_state(an->pipeline, GST_STATE_NULL);
    return TRUE;
}

/* ---------- discovery ---------- */

static const char *rr_an_codec_name(const GstCaps *caps)
{
    if (!caps || gst_caps_get_size(caps) == 0)
        return "unknown";
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    const char *n = gst_structure_get_name(s);
    static const struct {
        const char *caps, *name;
    } map[] = {
        {"video/x-h264", "h264"},     {"video/x-h265", "h265"},     {"video/x-vp8", "vp8"},
        {"video/x-vp9", "vp9"},       {"video/x-av1", "av1"},       {"audio/x-opus", "opus"},
        {"audio/x-vorbis", "vorbis"}, {"audio/x-raw", "raw"},       {"video/x-raw", "raw"},
        {"video/quicktime", "mp4"},   {"video/x-matroska", "mkv"},  {"video/webm", "webm"},
        {"audio/webm", "webm"},       {"audio/x-matroska", "mkv"},  {"application/ogg", "ogg"},
        {"audio/ogg", "ogg"},         {"video/ogg", "ogg"},         {"audio/x-m4a", "mp4"},
        {"video/mpegts", "mpegts"},   {"application/x-id3", "id3"}, {"audio/x-flac", "flac"},
        {"audio/x-wav", "wav"}};
    if (g_str_equal(n, "audio/mpeg")) {
        int v = 0;
        gst_structure_get_int(s, "mpegversion", &v);
        return v == 1 ? "mp3" : "aac";
    }
    for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
        if (g_str_equal(n, map[i].caps))
            return map[i].name;
    return n;
}

static void rr_an_add_stream(JsonBuilder *b, GstDiscovererStreamInfo *si)
{
    g_autoptr(GstCaps) caps = gst_discoverer_stream_info_get_caps(si);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, gst_discoverer_stream_info_get_stream_type_nick(si));
    json_builder_set_member_name(b, "codec");
    json_builder_add_string_value(b, rr_an_codec_name(caps));
    if (caps) {
        g_autofree char *cs = gst_caps_to_string(caps);
        g_autofree char *desc = gst_pb_utils_get_codec_description(caps);
        json_builder_set_member_name(b, "caps");
        json_builder_add_string_value(b, cs);
        json_builder_set_member_name(b, "description");
        json_builder_add_string_value(b, desc ? desc : "");
        const GstStructure *s = gst_caps_get_structure(caps, 0);
        const char *profile = gst_structure_get_string(s, "profile");
        if (profile) {
            json_builder_set_member_name(b, "profile");
            json_builder_add_string_value(b, profile);
        }
    }
    if (GST_IS_DISCOVERER_VIDEO_INFO(si)) {
        GstDiscovererVideoInfo *vi = GST_DISCOVERER_VIDEO_INFO(si);
        json_builder_set_member_name(b, "width");
        json_builder_add_int_value(b, gst_discoverer_video_info_get_width(vi));
        json_builder_set_member_name(b, "height");
        json_builder_add_int_value(b, gst_discoverer_video_info_get_height(vi));
        guint d = gst_discoverer_video_info_get_framerate_denom(vi);
        json_builder_set_member_name(b, "framerate");
        json_builder_add_double_value(
            b, d ? (double)gst_discoverer_video_info_get_framerate_num(vi) / d : 0);
        json_builder_set_member_name(b, "bitrate");
        json_builder_add_int_value(b, gst_discoverer_video_info_get_bitrate(vi));
    } else if (GST_IS_DISCOVERER_AUDIO_INFO(si)) {
        GstDiscovererAudioInfo *ai = GST_DISCOVERER_AUDIO_INFO(si);
        json_builder_set_member_name(b, "channels");
        json_builder_add_int_value(b, gst_discoverer_audio_info_get_channels(ai));
        json_builder_set_member_name(b, "rate");
        json_builder_add_int_value(b, gst_discoverer_audio_info_get_sample_rate(ai));
        json_builder_set_member_name(b, "bitrate");
        json_builder_add_int_value(b, gst_discoverer_audio_info_get_bitrate(ai));
    }
    json_builder_end_object(b);
}

/* Adds "container", "streams", "discover_duration_ms" (and "discover_error"). FALSE when
 * the file is not a media file at all. */
static gboolean rr_an_discover(JsonBuilder *b, const char *uri, int timeout_s, GError **error)
{
    g_autoptr(GstDiscoverer) d = gst_discoverer_new((GstClockTime)timeout_s * GST_SECOND, error);
    if (!d)
        return FALSE;
    g_autoptr(GError) derr = NULL;
    g_autoptr(GstDiscovererInfo) info = gst_discoverer_discover_uri(d, uri, &derr);
    GstDiscovererResult res = info ? gst_discoverer_info_get_result(info) : GST_DISCOVERER_ERROR;
    if (!info || res == GST_DISCOVERER_URI_INVALID || res == GST_DISCOVERER_ERROR ||
        res == GST_DISCOVERER_TIMEOUT) {
        if (!derr || !info) {
            g_set_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND, "%s",
                        derr ? derr->message : "not a media file");
            return FALSE;
        }
        /* Partly readable (e.g. a truncated file): report and go on decoding. */
        json_builder_set_member_name(b, "discover_error");
        json_builder_add_string_value(b, derr->message);
    }
    GstDiscovererStreamInfo *top = gst_discoverer_info_get_stream_info(info);
    json_builder_set_member_name(b, "container");
    if (top && GST_IS_DISCOVERER_CONTAINER_INFO(top)) {
        g_autoptr(GstCaps) caps = gst_discoverer_stream_info_get_caps(top);
        g_autofree char *cs = caps ? gst_caps_to_string(caps) : g_strdup("");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, rr_an_codec_name(caps));
        json_builder_set_member_name(b, "caps");
        json_builder_add_string_value(b, cs);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    if (top)
        gst_discoverer_stream_info_unref(top);
    json_builder_set_member_name(b, "streams");
    json_builder_begin_array(b);
    GList *streams = gst_discoverer_info_get_stream_list(info);
    for (GList *l = streams; l; l = l->next) {
        GstDiscovererStreamInfo *si = l->data;
        if (!GST_IS_DISCOVERER_CONTAINER_INFO(si))
            rr_an_add_stream(b, si);
    }
    gst_discoverer_stream_info_list_free(streams);
    json_builder_end_array(b);
    GstClockTime dur = gst_discoverer_info_get_duration(info);
    json_builder_set_member_name(b, "discover_duration_ms");
    json_builder_add_double_value(b, GST_CLOCK_TIME_IS_VALID(dur) ? dur / 1e6 : -1);
    return TRUE;
}

/* ---------- analysis ---------- */

static void rr_an_add_rgb(JsonBuilder *b, double y, double u, double v)
{
    /* BT.601 limited range Y'CbCr → R'G'B' 0..255 */
    double c = 1.164 * (y - 16), d = u - 128, e = v - 128;
    double rgb[3] = {c + 1.596 * e, c - 0.392 * d - 0.813 * e, c + 2.017 * d};
    json_builder_begin_array(b);
    for (int i = 0; i < 3; i++)
        json_builder_add_int_value(b, (gint64)lround(CLAMP(rgb[i], 0, 255)));
    json_builder_end_array(b);
}

static void rr_an_video_json(RrAn *an, JsonBuilder *b)
{
    RrAnVideo *v = &an->video;
    GArray *fr = v->frames;
    json_builder_set_member_name(b, "video");
    if (fr->len == 0) {
        json_builder_add_null_value(b);
        return;
    }
    GstClockTime first = g_array_index(fr, RrAnFrame, 0).pts;
    GstClockTime last = g_array_index(fr, RrAnFrame, fr->len - 1).pts;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, fr->len);
    json_builder_set_member_name(b, "first_pts_ms");
    json_builder_add_int_value(b, rr_an_ms(first));
    json_builder_set_member_name(b, "last_pts_ms");
    json_builder_add_int_value(b, rr_an_ms(last));
    json_builder_set_member_name(b, "max_gap_ms");
    json_builder_add_int_value(b, rr_an_ms(v->max_gap));
    json_builder_set_member_name(b, "non_monotonic");
    json_builder_add_int_value(b, v->non_monotonic);
    json_builder_set_member_name(b, "fps");
    json_builder_add_double_value(
        b, last > first ? rr_an_round((fr->len - 1) / ((last - first) / 1e9), 0.01) : 0);
    json_builder_set_member_name(b, "analysis_size");
    g_autofree char *size = g_strdup_printf("%dx%d", v->width, v->height);
    json_builder_add_string_value(b, size);

    json_builder_set_member_name(b, "regions");
    json_builder_begin_array(b);
    for (int r = 0; r < v->n_regions; r++) {
        const RrAnRegion *reg = &v->regions[r];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, reg->name);
        json_builder_set_member_name(b, "rect");
        json_builder_begin_array(b);
        json_builder_add_double_value(b, reg->x);
        json_builder_add_double_value(b, reg->y);
        json_builder_add_double_value(b, reg->w);
        json_builder_add_double_value(b, reg->h);
        json_builder_end_array(b);
        double tot[RR_AN_REGION_STATS] = {0};
        guint tot_n = 0, tot_m = 0;
        json_builder_set_member_name(b, "seconds");
        json_builder_begin_array(b);
        guint i = 0;
        while (i < fr->len) {
            gint64 sec = (gint64)(g_array_index(fr, RrAnFrame, i).pts / GST_SECOND);
            double acc[RR_AN_REGION_STATS] = {0};
            guint n = 0, nm = 0;
            for (; i < fr->len; i++) {
                const RrAnFrame *f = &g_array_index(fr, RrAnFrame, i);
                if ((gint64)(f->pts / GST_SECOND) != sec)
                    break;
                const double *s = f->stats + (gsize)r * RR_AN_REGION_STATS;
                for (int k = 0; k < 3; k++)
                    acc[k] += s[k];
                n++;
                if (!isnan(s[3])) {
                    acc[3] += s[3];
                    nm++;
                }
            }
            for (int k = 0; k < RR_AN_REGION_STATS; k++)
                tot[k] += acc[k];
            tot_n += n, tot_m += nm;
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "t");
            json_builder_add_int_value(b, sec);
            json_builder_set_member_name(b, "frames");
            json_builder_add_int_value(b, n);
            json_builder_set_member_name(b, "luma");
            json_builder_add_double_value(b, rr_an_round(acc[0] / n, 0.1));
            json_builder_set_member_name(b, "rgb");
            rr_an_add_rgb(b, acc[0] / n, acc[1] / n, acc[2] / n);
            json_builder_set_member_name(b, "motion");
            json_builder_add_double_value(b, nm ? rr_an_round(acc[3] / nm, 0.001) : 0);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "luma");
        json_builder_add_double_value(b, rr_an_round(tot[0] / tot_n, 0.1));
        json_builder_set_member_name(b, "rgb");
        rr_an_add_rgb(b, tot[0] / tot_n, tot[1] / tot_n, tot[2] / tot_n);
        json_builder_set_member_name(b, "motion");
        json_builder_add_double_value(b, tot_m ? rr_an_round(tot[3] / tot_m, 0.001) : 0);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* ---------- main ---------- */

/* Analyses @path and prints the JSON; the exit code. */
static int rr_an_run(RrAn *an, const char *path, GError **error)
{
    const char *file = path;
    if (!g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
        g_printerr("rr-analyze: %s: no such file (or not a regular file)\n", file);
        return 1;
    }
    g_autofree char *abs = g_canonicalize_filename(file, NULL);
    g_autofree char *uri = gst_filename_to_uri(abs, error);
    if (!uri) {
        g_printerr("rr-analyze: %s: %s\n", file, (*error)->message);
        return 1;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, file);
    json_builder_set_member_name(b, "size");
    GStatBuf st;
    json_builder_add_int_value(b, g_stat(file, &st) == 0 ? (gint64)st.st_size : -1);
    if (!rr_an_discover(b, uri, MIN(an->timeout_s, 60), error)) {
        g_printerr("rr-analyze: %s: %s\n", file, (*error)->message);
        return 1;
    }
    rr_an_decode(an, uri, error);
    if (an->video.frames->len == 0 && an->audio.samples->len == 0) {
        g_printerr("rr-analyze: %s: nothing could be decoded%s%s\n", file,
                   an->first_error ? ": " : "", an->first_error ? an->first_error : "");
        return 1;
    }

    /* The audio as floats in [-1, 1) once, for the per-second and onset analyses. */
    gsize n = an->audio.samples->len;
    g_autofree float *x = g_new(float, MAX(n, 1));
    for (gsize i = 0; i < n; i++)
        x[i] = g_array_index(an->audio.samples, gint16, i) / 32768.0f;

    double dur = 0;
    if (an->video.frames->len > 0) {
        GstClockTime first = g_array_index(an->video.frames, RrAnFrame, 0).pts;
        GstClockTime last =
            g_array_index(an->video.frames, RrAnFrame, an->video.frames->len - 1).pts;
        double fdur =
            an->video.frames->len > 1 ? (double)(last - first) / (an->video.frames->len - 1) : 0;
        dur = (last + fdur) / 1e9;
    }
    if (n > 0)
        dur = MAX(dur, (an->audio.t0 + gst_util_uint64_scale(n, GST_SECOND, RR_AN_RATE)) / 1e9);
    json_builder_set_member_name(b, "duration_s");
    json_builder_add_double_value(b, rr_an_round(dur, 0.001));
    rr_an_video_json(an, b);
    rr_an_audio_json(an, b, x, n);
    if (an->flash)
        rr_an_flash_json(an, b, x, n);
    if (an->n_sync > 0)
        rr_an_sync_json(an, b, x, n);
    json_builder_end_array(an->errors_b);
    json_builder_end_array(an->warnings_b);
    json_builder_set_member_name(b, "errors");
    json_builder_add_value(b, json_builder_get_root(an->errors_b));
    json_builder_set_member_name(b, "warnings");
    json_builder_add_value(b, json_builder_get_root(an->warnings_b));
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
    return 0;
}

static void rr_an_free_frame(gpointer p)
{
    g_free(((RrAnFrame *)p)->stats);
}

int main(int argc, char **argv)
{
    g_autofree char *grid = NULL, *tones = NULL, *size = NULL, *aspect = NULL;
    g_auto(GStrv) rects = NULL, syncs = NULL;
    gboolean flash = FALSE;
    double flash_luma = 215;
    int timeout_s = 300;
    GOptionEntry entries[] = {
        {"grid", 0, 0, G_OPTION_ARG_STRING, &grid, "Regions: a grid of R rows, C columns", "RxC"},
        {"rect", 0, 0, G_OPTION_ARG_STRING_ARRAY, &rects, "A region (fractions; repeatable)",
         "x,y,w,h"},
        {"tones", 0, 0, G_OPTION_ARG_STRING, &tones, "Tone frequencies to measure", "F1,F2"},
        {"flash", 0, 0, G_OPTION_ARG_NONE, &flash, "Find flash/beep onsets and pair them", NULL},
        {"sync", 0, 0, G_OPTION_ARG_STRING_ARRAY, &syncs,
         "A participant: beep tone, candidate tiles (repeatable)", "NAME:TONE[:x,y,w,h/...]"},
        {"sync-aspect", 0, 0, G_OPTION_ARG_STRING, &aspect,
         "Aspect of the participants' pictures (default 16:9)", "W:H"},
        {"flash-luma", 0, 0, G_OPTION_ARG_DOUBLE, &flash_luma,
         "Mean luma of a flash frame (default 215: white is 235, bright bars stay below)", "L"},
        {"size", 0, 0, G_OPTION_ARG_STRING, &size, "Analysis frame size (default 320x180)", "WxH"},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up decoding after S s (300)", "S"},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE - analyse a media file");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, gst_init_get_option_group());
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("rr-analyze: %s\n", error->message);
        return 2;
    }
    if (argc != 2) {
        g_printerr("rr-analyze: one FILE expected (see --help)\n");
        return 2;
    }
    RrAn an = {0};
    an.flash = flash;
    an.flash_luma = flash_luma;
    an.timeout_s = timeout_s > 0 ? timeout_s : 300;
    an.video.width = 320, an.video.height = 180;
    an.sync_aspect = 16.0 / 9;
    int ret = 2;
    if (aspect) {
        unsigned w = 0, h = 0;
        char tail;
        if (sscanf(aspect, "%u:%u%c", &w, &h, &tail) != 2 || w < 1 || h < 1 || w > 100 || h > 100) {
            g_printerr("rr-analyze: --sync-aspect wants W:H (e.g. 16:9), got \"%s\"\n", aspect);
            return 2;
        }
        an.sync_aspect = (double)w / h;
    }
    if (size) {
        unsigned w = 0, h = 0;
        char tail;
        if (sscanf(size, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 4096 ||
            h > 4096 || (w | h) & 1) {
            g_printerr("rr-analyze: --size wants even WxH in 16..4096, got \"%s\"\n", size);
            return 2;
        }
        an.video.width = (int)w, an.video.height = (int)h;
    }
    if ((grid && !rr_an_parse_grid(&an, grid, &error)) ||
        (tones && !rr_an_parse_tones(&an, tones, &error)))
        goto usage_error;
    for (int i = 0; rects && rects[i]; i++)
        if (!rr_an_parse_rect(&an, rects[i], &error))
            goto usage_error;
    for (int i = 0; syncs && syncs[i]; i++)
        if (!rr_an_parse_sync(&an, syncs[i], &error))
            goto usage_error;
    rr_an_add_region(&an, "frame", 0, 0, 1, 1);
    an.video.frames = g_array_new(FALSE, FALSE, sizeof(RrAnFrame));
    g_array_set_clear_func(an.video.frames, rr_an_free_frame);
    an.audio.samples = g_array_new(FALSE, TRUE, sizeof(gint16));
    an.errors_b = json_builder_new();
    an.warnings_b = json_builder_new();
    json_builder_begin_array(an.errors_b);
    json_builder_begin_array(an.warnings_b);

    ret = rr_an_run(&an, argv[1], &error);
    if (an.pipeline)
        gst_object_unref(an.pipeline);
    g_clear_pointer(&an.video.frames, g_array_unref);
    g_clear_pointer(&an.audio.samples, g_array_unref);
    g_free(an.video.prev_y);
    g_clear_object(&an.errors_b);
    g_clear_object(&an.warnings_b);
    g_free(an.first_error);
    for (int i = 0; i < an.video.n_regions; i++)
        g_free(an.video.regions[i].name);
    rr_an_sync_free(&an);
    return ret;
usage_error:
    g_printerr("rr-analyze: %s\n", error->message);
    for (int i = 0; i < an.video.n_regions; i++)
        g_free(an.video.regions[i].name);
    rr_an_sync_free(&an);
    return 2;
}
