/* pipeline/pad-time: see pad-time.h. */
#include "pipeline/pad-time.h"

#include <gst/audio/audio.h>
#include <string.h>

GstClockTime rr_pad_buffer_running_time(GstPad *pad, GstBuffer *buf)
{
    if (!GST_BUFFER_PTS_IS_VALID(buf))
        return GST_CLOCK_TIME_NONE;
    g_autoptr(GstEvent) seg_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
    if (seg_event == NULL)
        return GST_CLOCK_TIME_NONE;
    const GstSegment *segment;
    gst_event_parse_segment(seg_event, &segment);
    return gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
}

GstBuffer *rr_audio_buffer_clip_head(GstBuffer *buf, GstClockTime cut, gint rate, gint bpf,
                                     GstClockTime *removed)
{
    g_return_val_if_fail(rate > 0 && bpf > 0, buf);
    gsize samples = gst_buffer_get_size(buf) / (gsize)bpf;
    guint64 trim = gst_util_uint64_scale_ceil(cut, (guint64)rate, GST_SECOND);
    if (trim >= samples) {
        /* The cut falls inside (or after) the last sample: nothing is kept. */
        gst_buffer_unref(buf);
        return NULL;
    }
    GstClockTime dur = GST_BUFFER_DURATION_IS_VALID(buf)
                           ? GST_BUFFER_DURATION(buf)
                           : gst_util_uint64_scale_int(samples, GST_SECOND, rate);
    /* The truncated buffer is a region copy, which has no timestamps (they are only copied
     * from offset 0): set them from the original's. */
    GstClockTime pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
    buf = gst_buffer_make_writable(
        gst_audio_buffer_truncate(buf, bpf, (gsize)trim, (gint)(samples - trim)));
    GstClockTime moved = MIN(gst_util_uint64_scale_ceil(trim, GST_SECOND, (guint64)rate), dur);
    moved = MAX(moved, cut);
    GST_BUFFER_PTS(buf) = GST_CLOCK_TIME_IS_VALID(pts) ? pts + moved : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_IS_VALID(dts) ? dts + moved : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(buf) = dur > moved ? dur - moved : 0;
    if (removed)
        *removed = moved;
    return buf;
}

GstBuffer *rr_audio_buffer_pad_head(GstBuffer *buf, GstClockTime ext, gint rate, gint bpf,
                                    GstClockTime *added)
{
    g_return_val_if_fail(rate > 0 && bpf > 0, buf);
    guint64 samples = gst_util_uint64_scale(ext, (guint64)rate, GST_SECOND);
    GstClockTime moved = gst_util_uint64_scale_int(samples, GST_SECOND, rate);
    GstClockTime pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
    if (samples == 0 || (GST_CLOCK_TIME_IS_VALID(pts) && pts < moved)) {
        if (added)
            *added = 0;
        return buf;
    }
    gsize size = (gsize)samples * (gsize)bpf;
    GstMemory *silence = gst_allocator_alloc(NULL, size, NULL);
    GstMapInfo map;
    if (gst_memory_map(silence, &map, GST_MAP_WRITE)) {
        memset(map.data, 0, map.size);
        gst_memory_unmap(silence, &map);
    }
    GstClockTime dur =
        GST_BUFFER_DURATION_IS_VALID(buf)
            ? GST_BUFFER_DURATION(buf)
            : gst_util_uint64_scale_int(gst_buffer_get_size(buf) / (gsize)bpf, GST_SECOND, rate);
    buf = gst_buffer_make_writable(buf);
    gst_buffer_prepend_memory(buf, silence);
    GST_BUFFER_PTS(buf) = GST_CLOCK_TIME_IS_VALID(pts) ? pts - moved : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS(buf) =
        GST_CLOCK_TIME_IS_VALID(dts) && dts >= moved ? dts - moved : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(buf) = dur + moved;
    if (added)
        *added = moved;
    return buf;
}
