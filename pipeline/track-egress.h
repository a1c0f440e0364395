/* pipeline/track-egress: one received track written to one file, without transcoding.
 *
 *   ┌─────────────────────────── pipeline "track-egress" ─────────────────────────────┐
 *   │ RrRecv bin ─src_0─► capsfilter ─► muxer ─► filesink (PATH.part)                  │
 *   │  (rtpbin, depay,     (format the   │  Opus → oggmux                               │
 *   │   parser, gate)       muxer takes) │  VP8/VP9 → webmmux                            │
 *   │                                    │  H.264 → mp4mux, fragmented                  │
 *   └────────────────────────────────────┼─────────────────────────────────────────────┘
 *                                        └ timestamps shifted so the file starts at 0
 *
 * Packets are pushed into rtpbin on the caller's thread, and so is everything after it
 * down to the muxer's input: in place of a jitterbuffer (and its two threads), rtpbin
 * gets a reorder buffer that works on the pushing thread (pipeline/rtp-reorder.h). The
 * muxer's aggregator thread writes the file. Two threads fewer per egress and no thread
 * hop per packet batch is what lets one process hold dozens of egresses.
 *
 * The file begins with the track's first decodable unit (the receive gate drops what
 * comes before the first keyframe) at 0, and its timestamps are the sender's RTP
 * timeline (RrRecvTrackConfig.rtp_timeline, see recv.h): arrival jitter, a burst of
 * late packets at the start and rtpbin's reaction to sender reports do not move them.
 * It is written (unbuffered) under a temporary name, PATH.part, renamed to PATH once
 * EOS has reached the file. H.264 goes to fragmented MP4 (one fragment per second by
 * default) and VP8/VP9 to WebM, so a process killed mid-way leaves a file that plays up
 * to its last fragment/cluster.
 *
 * Lifecycle: rr_track_egress_new() → rr_track_egress_start() → push packets →
 * rr_track_egress_stop() → finished callback (exactly once, also on a pipeline error,
 * which stops the egress) → rr_track_egress_free().
 *
 * THREADS: everything except the push functions is called from the thread running
 * @context; pushes may come from any thread. Callbacks are delivered on @context.
 * On a pipeline error the graph is dumped as a .dot file when GST_DEBUG_DUMP_DOT_DIR
 * is set.
 */
#pragma once

#include <gst/gst.h>

#include "pipeline/recv.h"

G_BEGIN_DECLS

typedef struct RrTrackEgress RrTrackEgress;

typedef struct {
    RrRecvTrackConfig track;
    const char *path;  /* final file path; written as "<path>.part" until finished */
    guint latency_ms;  /* jitterbuffer latency, 0: RR_RECV_DEFAULT_LATENCY_MS */
    guint fragment_ms; /* MP4 fragment duration, 0: 1000 */
} RrTrackEgressConfig;

typedef struct {
    const char *path;      /* where the file is: the final path, or the .part on failure */
    gboolean complete;     /* EOS reached the file: the container is finalized */
    guint64 size;          /* bytes */
    GstClockTime duration; /* media time written (first unit to end of last unit) */
    guint64 units;         /* frames (video) or packets (audio) written */
    RrRecvTrackStats recv; /* receive statistics at the end (loss, NACK/RTX, keyframes) */
} RrTrackEgressResult;

typedef struct {
    void (*rtcp_out)(GBytes *packet, gpointer user_data);
    /* The first decodable unit arrived (pipeline running time): the file has begun. */
    void (*started)(GstClockTime running_time, gpointer user_data);
    /* Called once: after rr_track_egress_stop() or a pipeline error. @error is NULL on a
     * clean finish; on a timeout, @result still describes the (renamed) file. */
    void (*finished)(const RrTrackEgressResult *result, const GError *error, gpointer user_data);
} RrTrackEgressCallbacks;

/* Validates @config and builds the pipeline (not started). RR_PIPELINE_ERROR_* on a bad
 * config, an unsupported codec, a missing element or a missing output directory. */
RrTrackEgress *rr_track_egress_new(const RrTrackEgressConfig *config, GMainContext *context,
                                   const RrTrackEgressCallbacks *callbacks, gpointer user_data,
                                   GError **error);
/* Stops the pipeline if still running (the .part file stays) and frees. No callbacks
 * after this returns. */
void rr_track_egress_free(RrTrackEgress *egress);

gboolean rr_track_egress_start(RrTrackEgress *egress, GError **error);
/* Finish the file: EOS, wait up to @timeout_ms (0: 10 s) for it to reach the file,
 * finalize, rename; then the finished callback. Returns whether the finished callback is
 * still to come (running or already stopping); FALSE when never started or finished. */
gboolean rr_track_egress_stop(RrTrackEgress *egress, guint timeout_ms);
/* Stop waiting for the end of the stream: the file is closed as it is now (renamed,
 * playable up to its last cluster/fragment) and the finished callback runs at once with a
 * RR_PIPELINE_ERROR_TIMEOUT, as when a stop times out. No-op unless running or stopping. */
void rr_track_egress_stop_now(RrTrackEgress *egress);

/* Any thread. See rr_recv_push_rtp(). */
gboolean rr_track_egress_push_rtp(RrTrackEgress *egress, const guint8 *data, gsize len,
                                  GError **error);
gboolean rr_track_egress_push_rtcp(RrTrackEgress *egress, const guint8 *data, gsize len,
                                   GError **error);
void rr_track_egress_request_keyframe(RrTrackEgress *egress);

/* Media received so far, from the first unit of the file to the newest packet pushed
 * (what the jitterbuffer still holds included): how long the file will last if stopped
 * now. It can run ahead of the wall-clock time since the file began when the first
 * packets arrived late, in a burst (they are placed at their RTP time): a caller that
 * stops after a given duration should stop once this reaches it. GST_CLOCK_TIME_NONE
 * before the first unit. Any thread. */
GstClockTime rr_track_egress_get_received(RrTrackEgress *egress);

/* The file holds at most @media of media, counted from its first unit as
 * rr_track_egress_get_received() counts it: later units are dropped. A duration limit
 * checked against get_received() can only come late — a backlog arriving in a burst
 * moves it on faster than the clock — and this keeps the file to it all the same.
 * GST_CLOCK_TIME_NONE (the default): no limit. Any thread. */
void rr_track_egress_set_limit(RrTrackEgress *egress, GstClockTime media);

/* (transfer none) the receive side, for statistics. */
RrRecv *rr_track_egress_get_recv(RrTrackEgress *egress);
/* (transfer none) "<path>.part". */
const char *rr_track_egress_get_temp_path(RrTrackEgress *egress);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrTrackEgress, rr_track_egress_free)

G_END_DECLS
