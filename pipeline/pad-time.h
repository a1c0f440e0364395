/* pipeline/pad-time: the running time of a buffer as seen on a pad — its PTS through the
 * pad's sticky segment. Used by the pad probes (gates, start detection) on streaming
 * threads; thread-safe, no state.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* GST_CLOCK_TIME_NONE when @buf has no PTS, @pad has no segment yet, or the PTS lies
 * outside the segment. */
GstClockTime rr_pad_buffer_running_time(GstPad *pad, GstBuffer *buf);

G_END_DECLS
