/* pipeline/pad-time: the running time of a buffer as seen on a pad — its PTS through the
 * pad's sticky segment — and clipping the head of a raw audio buffer at a gate. Used by
 * the pad probes (gates, start detection) on streaming threads; thread-safe, no state.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* GST_CLOCK_TIME_NONE when @buf has no PTS, @pad has no segment yet, or the PTS lies
 * outside the segment. */
GstClockTime rr_pad_buffer_running_time(GstPad *pad, GstBuffer *buf);

/* Cuts at least @cut off the head of raw interleaved audio @buf (@bpf bytes per frame,
 * @rate Hz), in whole samples rounded up so that the first kept sample never precedes the
 * cut. Takes ownership of @buf. Returns the clipped (writable) buffer with PTS/DTS moved forward
 * and the duration shortened by the time removed (stored in *@removed), or NULL (and @buf released)
 * when no whole sample remains. */
GstBuffer *rr_audio_buffer_clip_head(GstBuffer *buf, GstClockTime cut, gint rate, gint bpf,
                                     GstClockTime *removed);

G_END_DECLS
