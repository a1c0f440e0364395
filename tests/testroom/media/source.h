/* One synthetic media source: a live GStreamer pipeline (videotestsrc/audiotestsrc ->
 * encoder -> RTP payloader -> appsink) whose RTP packets are handed to Go through the
 * exported rrMediaGoPacket() from the appsink's streaming thread.
 *
 * Threads: rr_media_source_* are called from Go (any goroutine). The packet callback
 * and the flash/silence pad probes run on GStreamer streaming threads. The source
 * is owned by its Go Source; rr_media_source_free() after rr_media_source_stop(). */
#ifndef RR_MEDIA_SOURCE_H
#define RR_MEDIA_SOURCE_H

#include <stdint.h>

typedef struct RrMediaSource RrMediaSource;
typedef struct RrMediaClock RrMediaClock;

enum { RR_MEDIA_VIDEO = 0, RR_MEDIA_AUDIO = 1 };

/* Bus poll results. */
enum {
    RR_MEDIA_BUS_NONE = 0,
    RR_MEDIA_BUS_ERROR = 1,
    RR_MEDIA_BUS_EOS = 2,
    RR_MEDIA_BUS_WAKE = 3,
    RR_MEDIA_BUS_WARNING = 4
};

void rr_media_init(void);

/* Builds the pipeline from a gst_parse_launch description that names its elements
 * src, label (video), enc (video), sink. Returns NULL and sets *err (free with free())
 * on failure. label_text may be NULL. fps: the video's frame rate (flash mode lines
 * the frames up with the flash windows). epoch_ns: origin of the flash windows in
 * Unix nanoseconds. clock_ppm: the pipeline's clock runs this many parts per million
 * fast (negative: slow) against the room's: frames and samples are made that much more
 * often, RTP timestamps still advance by the nominal rate per frame. counter (video):
 * draw the frame number as a bar code (see source.c). Packets reach rrMediaGoPacket
 * with their capture time in the room's Unix time (ns). */
RrMediaSource *rr_media_source_new(const char *desc, int kind, const char *label_text, int flash,
                                   int fps, int64_t epoch_ns, int clock_ppm, int counter,
                                   uintptr_t handle, char **err);
int rr_media_source_play(RrMediaSource *s, char **err);
void rr_media_source_force_keyframe(RrMediaSource *s);
void rr_media_source_set_speaking(RrMediaSource *s, int on);
/* Waits up to timeout_ms for a bus message; *text (free()) describes errors. */
int rr_media_source_poll_bus(RrMediaSource *s, int timeout_ms, char **text);
void rr_media_source_wake_bus(RrMediaSource *s);
/* Marks the source stopped: the appsink callback stops calling into Go. */
void rr_media_source_mark_stopped(RrMediaSource *s);
/* Sets the pipeline to NULL (joins the streaming threads). Not from a streaming thread. */
void rr_media_source_stop(RrMediaSource *s);
void rr_media_source_free(RrMediaSource *s);
/* True when the calling thread is inside this source's packet callback. */
int rr_media_source_in_callback(RrMediaSource *s);
/* Whether the GStreamer registry has an element factory @name (1) or not (0). */
int rr_media_have_element(const char *name);
/* Latency the pipeline was configured with, in ns. */
int64_t rr_media_source_latency(RrMediaSource *s);

#endif
