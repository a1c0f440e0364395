/* Test-side RTP decoding pipelines: see decoder.h. */
#include "decoder.h"
#include "source.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <string.h>

struct RrMediaDecoder {
    GstElement *pipeline;
    GstElement *src;
    GstElement *sink;
};

RrMediaDecoder *rr_media_decoder_new(const char *desc, char **err)
{
    rr_media_init();
    GError *e = NULL;
    GstElement *p = gst_parse_launch_full(desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &e);
    if (!p) {
        *err = strdup(e ? e->message : "parse error");
        g_clear_error(&e);
        return NULL;
    }
    RrMediaDecoder *d = g_new0(RrMediaDecoder, 1);
    d->pipeline = p;
    d->src = gst_bin_get_by_name(GST_BIN(p), "src");
    d->sink = gst_bin_get_by_name(GST_BIN(p), "sink");
    if (!d->src || !GST_IS_APP_SRC(d->src) || !d->sink || !GST_IS_APP_SINK(d->sink)) {
        *err = strdup("decoder pipeline needs appsrc src and appsink sink");
        rr_media_decoder_free(d);
        return NULL;
    }
    /* Same realtime clock as the sources: output times are wall-clock times. */
    GstClock *clock =
        g_object_new(GST_TYPE_SYSTEM_CLOCK, "clock-type", GST_CLOCK_TYPE_REALTIME, NULL);
    gst_object_ref_sink(clock);
    gst_pipeline_use_clock(GST_PIPELINE(p), clock);
    gst_object_unref(clock);
    if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        *err = strdup("decoder pipeline failed to play");
        rr_media_decoder_free(d);
        return NULL;
    }
    return d;
}

void rr_media_decoder_push(RrMediaDecoder *d, const void *data, int len)
{
    if (len <= 0)
        return;
    GstBuffer *b = gst_buffer_new_memdup(data, (gsize)len);
    gst_app_src_push_buffer(GST_APP_SRC(d->src), b);
}

void rr_media_decoder_end(RrMediaDecoder *d)
{
    gst_app_src_end_of_stream(GST_APP_SRC(d->src));
}

int rr_media_decoder_pull(RrMediaDecoder *d, int timeout_ms, RrMediaDecoded *out)
{
    memset(out, 0, sizeof(*out));
    GstSample *sample =
        gst_app_sink_try_pull_sample(GST_APP_SINK(d->sink), (GstClockTime)timeout_ms * GST_MSECOND);
    if (!sample)
        return gst_app_sink_is_eos(GST_APP_SINK(d->sink)) ? RR_MEDIA_PULL_EOS
                                                          : RR_MEDIA_PULL_TIMEOUT;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);
    const GstSegment *seg = gst_sample_get_segment(sample);
    if (buf && GST_BUFFER_PTS_IS_VALID(buf)) {
        guint64 rt = seg ? gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf))
                         : GST_BUFFER_PTS(buf);
        out->time_ns = (int64_t)(gst_element_get_base_time(d->pipeline) + rt);
    }
    GstVideoInfo vinfo;
    GstStructure *st = caps ? gst_caps_get_structure(caps, 0) : NULL;
    if (buf && st && gst_structure_has_name(st, "video/x-raw") &&
        gst_video_info_from_caps(&vinfo, caps)) {
        GstVideoFrame f;
        if (gst_video_frame_map(&f, &vinfo, buf, GST_MAP_READ)) {
            out->width = GST_VIDEO_FRAME_WIDTH(&f);
            out->height = GST_VIDEO_FRAME_HEIGHT(&f);
            const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA(&f, 0);
            gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
            guint64 sum = 0, n = 0;
            for (gint r = 0; r < out->height; r += 2)
                for (gint c = 0; c < out->width; c += 2, n++)
                    sum += y[(gsize)r * stride + c];
            out->luma = n ? (double)sum / (double)n : 0;
            gst_video_frame_unmap(&f);
        }
    } else if (buf && st && gst_structure_has_name(st, "audio/x-raw")) {
        GstMapInfo map;
        if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
            out->n_samples = (int)(map.size / sizeof(int16_t));
            out->samples = malloc(map.size ? map.size : 1);
            if (out->samples)
                memcpy(out->samples, map.data, map.size);
            else
                out->n_samples = 0;
            gst_buffer_unmap(buf, &map);
        }
    }
    gst_sample_unref(sample);
    return RR_MEDIA_PULL_SAMPLE;
}

char *rr_media_decoder_error(RrMediaDecoder *d)
{
    GstBus *bus = gst_pipeline_get_bus(GST_PIPELINE(d->pipeline));
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    if (!m)
        return NULL;
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    char *s = strdup(e ? e->message : "error");
    g_clear_error(&e);
    gst_message_unref(m);
    return s;
}

void rr_media_decoder_free(RrMediaDecoder *d)
{
    if (!d)
        return;
    gst_element_set_state(d->pipeline, GST_STATE_NULL);
    if (d->src)
        gst_object_unref(d->src);
    if (d->sink)
        gst_object_unref(d->sink);
    gst_object_unref(d->pipeline);
    g_free(d);
}
