/* pipeline/pad-time: see pad-time.h. */
#include "pipeline/pad-time.h"

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
