/* pipeline/pad-time: the running time of a buffer as seen on a pad — its PTS through the
 * pad's sticky segment — and clipping (or padding with silence) the head of a raw audio
 * buffer at a gate. Used by
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

/* Puts silence in front of raw interleaved audio @buf: the whole samples that fit in @ext
 * (rounded down, so that the new first sample never precedes PTS - @ext). Takes ownership
 * of @buf. Returns the (writable) buffer with PTS/DTS moved back and the duration grown
 * by the time added (stored in *@added; 0 and @buf as it was when no whole sample fits). */
GstBuffer *rr_audio_buffer_pad_head(GstBuffer *buf, GstClockTime ext, gint rate, gint bpf,
                                    GstClockTime *added);

G_END_DECLS
