/* Synthetic live media sources for the test room: see source.h. */
#include "source.h"
#include "_cgo_export.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <string.h>

/* Every pipeline renders at PTS + this latency, so one participant's audio and video
 * pipelines emit packets captured at the same instant at the same wall-clock time. */
#define RR_MEDIA_LATENCY      (100 * GST_MSECOND)
#define RR_MEDIA_FLASH_PERIOD (2 * GST_SECOND)
#define RR_MEDIA_FLASH_LENGTH (100 * GST_MSECOND)
#define RR_MEDIA_AUDIO_RATE   48000

struct RrMediaSource {
    GstElement *pipeline;
    GstElement *enc;
    GstBus *bus;
    int kind;
    int flash;
    int fps;
    gint64 grid_shift; /* flash video: added to every PTS, -1 until the first frame */
    int64_t epoch_ns;
    RrMediaClock *clock; /* the pipeline's clock (shared, not owned) */
    int counter;         /* video: draw the frame counter bar code */
    guint32 frames;      /* video frames seen by the probe */
    uintptr_t handle;
    gint stopped;
    gint speaking;
    guint key_count;
};

/* A pipeline clock: a system clock on CLOCK_REALTIME, calibrated to run ppm parts per
 * million fast (or slow) from the moment it was made. One per rate, shared by every
 * pipeline of that rate and never freed, so that a participant's audio and video
 * pipelines share one time base. */
struct RrMediaClock {
    GstClock *clock;
    int ppm;
    GstClockTime cal_internal, cal_external, cal_num, cal_denom;
};

#define RR_MEDIA_MAX_CLOCKS 16

static __thread RrMediaSource *rr_media_current_cb;
static RrMediaClock rr_media_clocks[RR_MEDIA_MAX_CLOCKS];
static int rr_media_n_clocks;
static GMutex rr_media_clock_lock;

static RrMediaClock *rr_media_clock_for(int ppm)
{
    RrMediaClock *c = NULL;
    g_mutex_lock(&rr_media_clock_lock);
    for (int i = 0; i < rr_media_n_clocks; i++)
        if (rr_media_clocks[i].ppm == ppm)
            c = &rr_media_clocks[i];
    if (!c && rr_media_n_clocks < RR_MEDIA_MAX_CLOCKS) {
        c = &rr_media_clocks[rr_media_n_clocks++];
        /* CLOCK_REALTIME: base time + running time is Unix time, so separate pipelines
         * (audio and video of one participant) share a time base. */
        c->clock = g_object_new(GST_TYPE_SYSTEM_CLOCK, "clock-type", GST_CLOCK_TYPE_REALTIME, NULL);
        gst_object_ref_sink(c->clock);
        c->ppm = ppm;
        c->cal_internal = gst_clock_get_internal_time(c->clock);
        c->cal_external = c->cal_internal;
        c->cal_num = (GstClockTime)(1000000 + ppm);
        c->cal_denom = 1000000;
        if (ppm != 0)
            gst_clock_set_calibration(c->clock, c->cal_internal, c->cal_external, c->cal_num,
                                      c->cal_denom);
    }
    g_mutex_unlock(&rr_media_clock_lock);
    return c;
}

void rr_media_init(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        gst_init(NULL, NULL);
        rr_media_clock_for(0);
        g_once_init_leave(&once, 1);
    }
}

/* Unix time (ns, the room's real clock) of clock time t of clock c. */
static gint64 rr_media_clock_to_real(const RrMediaClock *c, GstClockTime t)
{
    if (c->ppm == 0)
        return (gint64)t;
    return (gint64)gst_clock_unadjust_with_calibration(NULL, t, c->cal_internal, c->cal_external,
                                                       c->cal_num, c->cal_denom);
}

/* The frame counter: RR_MEDIA_COUNTER_CELLS equal cells across the full width of a band
 * of rows from RR_MEDIA_COUNTER_Y0 to _Y1 (fractions of the height), white (235) for 1
 * and black (16) for 0: a white and a black guard cell, the 16-bit Gray code of the
 * frame number (most significant bit first; a cell blurred between two frames then
 * reads as one of two neighbours), an even parity cell over those 16, a white guard. */
#define RR_MEDIA_COUNTER_BITS  16
#define RR_MEDIA_COUNTER_CELLS (RR_MEDIA_COUNTER_BITS + 4)
#define RR_MEDIA_COUNTER_Y0    0.70
#define RR_MEDIA_COUNTER_Y1    0.80

static void rr_media_draw_counter(GstVideoFrame *frame, guint32 n)
{
    guint32 gray = (n ^ (n >> 1)) & ((1u << RR_MEDIA_COUNTER_BITS) - 1);
    gboolean cells[RR_MEDIA_COUNTER_CELLS];
    guint parity = 0;
    cells[0] = TRUE, cells[1] = FALSE;
    for (int b = 0; b < RR_MEDIA_COUNTER_BITS; b++) {
        cells[2 + b] = (gray >> (RR_MEDIA_COUNTER_BITS - 1 - b)) & 1;
        parity ^= cells[2 + b];
    }
    cells[RR_MEDIA_COUNTER_CELLS - 2] = parity;
    cells[RR_MEDIA_COUNTER_CELLS - 1] = TRUE;
    for (guint p = 0; p < 3; p++) {
        guint8 *d = GST_VIDEO_FRAME_PLANE_DATA(frame, p);
        gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
        gint h = GST_VIDEO_FRAME_COMP_HEIGHT(frame, p);
        gint w = GST_VIDEO_FRAME_COMP_WIDTH(frame, p);
        gint y0 = (gint)(h * RR_MEDIA_COUNTER_Y0), y1 = (gint)(h * RR_MEDIA_COUNTER_Y1);
        for (gint y = y0; y < y1; y++) {
            guint8 *row = d + (gsize)y * stride;
            for (gint c = 0; c < RR_MEDIA_COUNTER_CELLS; c++) {
                gint x0 = w * c / RR_MEDIA_COUNTER_CELLS, x1 = w * (c + 1) / RR_MEDIA_COUNTER_CELLS;
                guint8 v = p == 0 ? (cells[c] ? 235 : 16) : 128;
                memset(row + x0, v, (gsize)(x1 - x0));
            }
        }
    }
}

static char *rr_media_strdup_error(const char *prefix, const GError *e)
{
    char *s = g_strdup_printf("%s: %s", prefix, e ? e->message : "unknown error");
    char *out = strdup(s);
    g_free(s);
    return out;
}

/* Position of absolute time t (Unix ns) inside the flash period, in [0, period). */
static gint64 rr_media_flash_phase(const RrMediaSource *s, gint64 t)
{
    gint64 p = (t - s->epoch_ns) % (gint64)RR_MEDIA_FLASH_PERIOD;
    return p < 0 ? p + (gint64)RR_MEDIA_FLASH_PERIOD : p;
}

static GstPadProbeReturn rr_media_video_probe(GstPad *pad, GstPadProbeInfo *info,
                                              gpointer user_data)
{
    RrMediaSource *s = user_data;
    GstBuffer *buf = gst_pad_probe_info_get_buffer(info);
    if (!buf || !GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    gint64 base = (gint64)gst_element_get_base_time(s->pipeline);
    /* Frames are moved (by less than a frame, once for all) onto the frame grid of the
     * flash windows, epoch + n/fps (a window is a whole number of frames at the usual
     * rates): the first white frame then starts exactly when the tone does. On the
     * pipeline's own time grid it would start up to half a frame before or after it,
     * an error of the source that a lip-sync measurement would charge to the
     * receiver. Everything downstream (RTP timestamps, the sink's clock sync) follows
     * the moved PTS. */
    if (s->flash && s->fps > 0) {
        if (s->grid_shift < 0) {
            gint64 t = base + (gint64)GST_BUFFER_PTS(buf) - s->epoch_ns;
            guint64 n =
                t > 0 ? gst_util_uint64_scale_ceil((guint64)t, (guint64)s->fps, GST_SECOND) : 0;
            gint64 on_grid = (gint64)gst_util_uint64_scale(n, GST_SECOND, (guint64)s->fps);
            s->grid_shift = t > 0 ? on_grid - t : 0;
        }
        if (s->grid_shift > 0) {
            buf = gst_buffer_make_writable(buf);
            GST_PAD_PROBE_INFO_DATA(info) = buf;
            GST_BUFFER_PTS(buf) += (GstClockTime)s->grid_shift;
            if (GST_BUFFER_DTS_IS_VALID(buf))
                GST_BUFFER_DTS(buf) += (GstClockTime)s->grid_shift;
        }
    }
    GstClockTime dur = GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0;
    gint64 mid = base + (gint64)GST_BUFFER_PTS(buf) + (gint64)(dur / 2);
    gboolean white = s->flash && rr_media_flash_phase(s, mid) < (gint64)RR_MEDIA_FLASH_LENGTH;
    guint32 n = s->frames++;
    if (!white && !s->counter)
        return GST_PAD_PROBE_OK;

    GstCaps *caps = gst_pad_get_current_caps(pad);
    GstVideoInfo vinfo;
    gboolean ok = caps && gst_video_info_from_caps(&vinfo, caps);
    if (caps)
        gst_caps_unref(caps);
    if (!ok || GST_VIDEO_INFO_FORMAT(&vinfo) != GST_VIDEO_FORMAT_I420)
        return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable(buf);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE))
        return GST_PAD_PROBE_OK;
    static const guint8 white_yuv[3] = {235, 128, 128};
    for (guint p = 0; white && p < 3; p++) {
        guint8 *d = GST_VIDEO_FRAME_PLANE_DATA(&frame, p);
        gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
        gint h = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p);
        for (gint y = 0; y < h; y++)
            memset(d + (gsize)y * stride, white_yuv[p], GST_VIDEO_FRAME_COMP_WIDTH(&frame, p));
    }
    if (s->counter)
        rr_media_draw_counter(&frame, n);
    gst_video_frame_unmap(&frame);
    return GST_PAD_PROBE_OK;
}

/* Audio is S16 mono at 48 kHz: silence when not speaking, and in flash mode the tone
 * only inside the flash windows (sample-exact, from the buffer PTS). */
static GstPadProbeReturn rr_media_audio_probe(GstPad *pad, GstPadProbeInfo *info,
                                              gpointer user_data)
{
    (void)pad;
    RrMediaSource *s = user_data;
    GstBuffer *buf = gst_pad_probe_info_get_buffer(info);
    if (!buf)
        return GST_PAD_PROBE_OK;
    gboolean speaking = g_atomic_int_get(&s->speaking);
    if (speaking && !s->flash)
        return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable(buf);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstMapInfo map;
    if (!gst_buffer_map(buf, &map, GST_MAP_READWRITE))
        return GST_PAD_PROBE_OK;
    gint16 *samples = (gint16 *)map.data;
    gsize n = map.size / sizeof(gint16);
    if (!speaking || !GST_BUFFER_PTS_IS_VALID(buf)) {
        memset(map.data, 0, map.size);
    } else {
        gint64 t0 = (gint64)gst_element_get_base_time(s->pipeline) + (gint64)GST_BUFFER_PTS(buf);
        for (gsize i = 0; i < n; i++) {
            gint64 t = t0 + (gint64)gst_util_uint64_scale_int(i, GST_SECOND, RR_MEDIA_AUDIO_RATE);
            if (rr_media_flash_phase(s, t) >= (gint64)RR_MEDIA_FLASH_LENGTH)
                samples[i] = 0;
        }
    }
    gst_buffer_unmap(buf, &map);
    return GST_PAD_PROBE_OK;
}

static GstFlowReturn rr_media_new_sample(GstAppSink *sink, gpointer user_data)
{
    RrMediaSource *s = user_data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf && !g_atomic_int_get(&s->stopped) && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        /* Capture time: base time + running time of the buffer on the pipeline's clock,
         * as room (real) time. */
        gint64 capture = 0;
        const GstSegment *seg = gst_sample_get_segment(sample);
        if (seg && GST_BUFFER_PTS_IS_VALID(buf)) {
            guint64 rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
            if (rt != GST_CLOCK_TIME_NONE)
                capture = rr_media_clock_to_real(s->clock, gst_element_get_base_time(s->pipeline) +
                                                               (GstClockTime)rt);
        }
        rr_media_current_cb = s;
        rrMediaGoPacket(s->handle, map.data, (int)map.size, (long long)capture);
        rr_media_current_cb = NULL;
        gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

static gboolean rr_media_add_probe(GstElement *pipeline, const char *name, GstPadProbeCallback cb,
                                   RrMediaSource *s)
{
    GstElement *el = gst_bin_get_by_name(GST_BIN(pipeline), name);
    if (!el)
        return FALSE;
    GstPad *pad = gst_element_get_static_pad(el, "src");
    gst_object_unref(el);
    if (!pad)
        return FALSE;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb, s, NULL);
    gst_object_unref(pad);
    return TRUE;
}

RrMediaSource *rr_media_source_new(const char *desc, int kind, const char *label_text, int flash,
                                   int fps, int64_t epoch_ns, int clock_ppm, int counter,
                                   uintptr_t handle, char **err)
{
    rr_media_init();
    RrMediaClock *clock = rr_media_clock_for(clock_ppm);
    if (!clock) {
        *err = strdup("too many distinct clock rates");
        return NULL;
    }
    GError *e = NULL;
    GstElement *pipeline = gst_parse_launch_full(desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &e);
    if (!pipeline) {
        *err = rr_media_strdup_error("pipeline", e);
        g_clear_error(&e);
        return NULL;
    }
    g_clear_error(&e);
    RrMediaSource *s = g_new0(RrMediaSource, 1);
    s->pipeline = pipeline;
    s->kind = kind;
    s->flash = flash;
    s->fps = fps;
    s->grid_shift = -1;
    s->epoch_ns = epoch_ns;
    s->handle = handle;
    s->speaking = 1;
    s->clock = clock;
    s->counter = counter && kind == RR_MEDIA_VIDEO;

    gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock->clock);
    gst_pipeline_set_latency(GST_PIPELINE(pipeline), RR_MEDIA_LATENCY);
    s->bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));

    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    if (!sink || !GST_IS_APP_SINK(sink)) {
        *err = strdup("pipeline has no appsink named sink");
        if (sink)
            gst_object_unref(sink);
        rr_media_source_free(s);
        return NULL;
    }
    GstAppSinkCallbacks cbs = {0};
    cbs.new_sample = rr_media_new_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, s, NULL);
    gst_object_unref(sink);

    if (kind == RR_MEDIA_VIDEO) {
        s->enc = gst_bin_get_by_name(GST_BIN(pipeline), "enc");
        GstElement *label = gst_bin_get_by_name(GST_BIN(pipeline), "label");
        if (label) {
            g_object_set(label, "text", label_text ? label_text : "", NULL);
            gst_object_unref(label);
        }
    }
    if ((flash || s->counter) && kind == RR_MEDIA_VIDEO &&
        !rr_media_add_probe(pipeline, "src", rr_media_video_probe, s)) {
        *err = strdup("pipeline has no element named src");
        rr_media_source_free(s);
        return NULL;
    }
    if (kind == RR_MEDIA_AUDIO && !rr_media_add_probe(pipeline, "src", rr_media_audio_probe, s)) {
        *err = strdup("pipeline has no element named src");
        rr_media_source_free(s);
        return NULL;
    }
    return s;
}

int rr_media_source_play(RrMediaSource *s, char **err)
{
    if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        char *text = NULL;
        GstMessage *m = gst_bus_pop_filtered(s->bus, GST_MESSAGE_ERROR);
        if (m) {
            GError *e = NULL;
            gst_message_parse_error(m, &e, NULL);
            text = rr_media_strdup_error("play", e);
            g_clear_error(&e);
            gst_message_unref(m);
        }
        *err = text ? text : strdup("play: state change failed");
        return -1;
    }
    return 0;
}

void rr_media_source_force_keyframe(RrMediaSource *s)
{
    if (!s->enc)
        return;
    GstPad *pad = gst_element_get_static_pad(s->enc, "src");
    if (!pad)
        return;
    guint count = (guint)g_atomic_int_add(&s->key_count, 1) + 1;
    gst_pad_send_event(
        pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, count));
    gst_object_unref(pad);
}

void rr_media_source_set_speaking(RrMediaSource *s, int on)
{
    g_atomic_int_set(&s->speaking, on ? 1 : 0);
}

int rr_media_source_poll_bus(RrMediaSource *s, int timeout_ms, char **text)
{
    GstMessage *m = gst_bus_timed_pop_filtered(s->bus, (GstClockTime)timeout_ms * GST_MSECOND,
                                               GST_MESSAGE_ERROR | GST_MESSAGE_EOS |
                                                   GST_MESSAGE_WARNING | GST_MESSAGE_APPLICATION);
    if (!m)
        return RR_MEDIA_BUS_NONE;
    int r = RR_MEDIA_BUS_WAKE;
    GError *e = NULL;
    gchar *dbg = NULL;
    switch (GST_MESSAGE_TYPE(m)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
        gboolean is_err = GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR;
        if (is_err)
            gst_message_parse_error(m, &e, &dbg);
        else
            gst_message_parse_warning(m, &e, &dbg);
        gchar *s2 = g_strdup_printf("%s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)),
                                    e ? e->message : "?", dbg ? dbg : "");
        *text = strdup(s2);
        g_free(s2);
        g_clear_error(&e);
        g_free(dbg);
        r = is_err ? RR_MEDIA_BUS_ERROR : RR_MEDIA_BUS_WARNING;
        break;
    }
    case GST_MESSAGE_EOS:
        r = RR_MEDIA_BUS_EOS;
        break;
    default:
        break;
    }
    gst_message_unref(m);
    return r;
}

void rr_media_source_wake_bus(RrMediaSource *s)
{
    gst_bus_post(s->bus, gst_message_new_application(GST_OBJECT(s->pipeline),
                                                     gst_structure_new_empty("rr-media-wake")));
}

void rr_media_source_mark_stopped(RrMediaSource *s)
{
    g_atomic_int_set(&s->stopped, 1);
}

void rr_media_source_stop(RrMediaSource *s)
{
    g_atomic_int_set(&s->stopped, 1);
    gst_element_set_state(s->pipeline, GST_STATE_NULL);
}

void rr_media_source_free(RrMediaSource *s)
{
    if (!s)
        return;
    if (s->pipeline)
        gst_element_set_state(s->pipeline, GST_STATE_NULL);
    if (s->enc)
        gst_object_unref(s->enc);
    if (s->bus)
        gst_object_unref(s->bus);
    if (s->pipeline)
        gst_object_unref(s->pipeline);
    g_free(s);
}

int rr_media_source_in_callback(RrMediaSource *s)
{
    return rr_media_current_cb == s;
}

int64_t rr_media_source_latency(RrMediaSource *s)
{
    return (int64_t)gst_pipeline_get_latency(GST_PIPELINE(s->pipeline));
}

int rr_media_have_element(const char *name)
{
    rr_media_init();
    GstElementFactory *f = gst_element_factory_find(name);
    if (f == NULL)
        return 0;
    gst_object_unref(f);
    return 1;
}
