/* pipeline/rtp-timeline: output timestamps of one received RTP stream taken from its
 * RTP timestamps (the sender's media timeline) instead of the jitterbuffer's
 * skew-corrected arrival times. See recv.h (rtp_timeline) for why and when.
 *
 * PTS = the first packet's jitterbuffer PTS + (RTP timestamp - first RTP timestamp) /
 * clock rate. The jitterbuffer's times are still used to notice a break — a new SSRC,
 * or RTP time and jitterbuffer time disagreeing by more than a second over one packet
 * step — where the timeline is re-anchored right after the previous packet, advanced by
 * the jitterbuffer's elapsed time.
 *
 * THREADS: restamping runs on the thread leaving the jitterbuffer (the pushing thread
 * with pipeline/rtp-reorder.h; an SSRC switch can briefly give the depayloader two),
 * rr_rtp_timeline_received() on whichever thread pushes packets, the getters anywhere:
 * all state is under the timeline's own lock. */
#pragma once

#include <gst/gst.h>

#include "pipeline/lipsync.h"

G_BEGIN_DECLS

typedef struct {
    GMutex lock;
    guint index; /* the track's index, for logs */
    guint rate;  /* RTP clock rate */
    gboolean anchored;
    guint32 ssrc;
    guint64 ext_state;     /* gst_rtp_buffer_ext_timestamp() state, -1: new stream */
    guint64 anchor_ext;    /* extended RTP timestamp at the anchor */
    GstClockTime anchor;   /* output PTS at the anchor */
    guint64 last_ext;      /* extended RTP timestamp of the previous packet */
    GstClockTime last_in;  /* jitterbuffer PTS of the previous packet */
    GstClockTime last_out; /* output PTS of the previous packet */
    GstClockTime step;     /* the last increase of the output PTS */
    guint64 breaks;
    GstClockTime first_pts; /* PTS of the first unit out of the gate, NONE before */
    /* Lip sync (NULL: none): the output is the timeline moved by the track's sender
     * reports (lipsync.h); correction is the last such move. */
    RrLipsyncTrack *lipsync;
    gint64 correction;
    /* The newest media packet pushed (any thread). */
    gboolean have_in;
    guint32 in_ssrc, in_ts;
} RrRtpTimeline;

void rr_rtp_timeline_init(RrRtpTimeline *tl, guint index, guint clock_rate);
void rr_rtp_timeline_clear(RrRtpTimeline *tl);
/* Moves the output by @lipsync's mapping from now on (set before the first packet). */
void rr_rtp_timeline_set_lipsync(RrRtpTimeline *tl, RrLipsyncTrack *lipsync);

/* Restamps one RTP packet (@buf writable, PTS from the jitterbuffer) onto the timeline. */
void rr_rtp_timeline_restamp(RrRtpTimeline *tl, GstBuffer *buf);

/* A GstRTPPacketLost event (jitterbuffer time) moved onto the timeline; NULL when it is
 * no such event or the timeline cannot place it yet. */
GstEvent *rr_rtp_timeline_lost_event(RrRtpTimeline *tl, GstEvent *event);

/* A media packet of @ssrc with RTP timestamp @ts was pushed (any thread). */
void rr_rtp_timeline_received(RrRtpTimeline *tl, guint32 ssrc, guint32 ts);
/* The SSRC of the newest media packet pushed; FALSE before the first. */
gboolean rr_rtp_timeline_get_media_ssrc(RrRtpTimeline *tl, guint32 *ssrc);

/* The PTS of the first unit that went out (the start of the received media). */
void rr_rtp_timeline_set_first_pts(RrRtpTimeline *tl, GstClockTime pts);

/* Media received so far: from the first unit out to the newest packet pushed, on the
 * timeline; NONE before the first unit, 0 while the newest packet cannot be placed. */
GstClockTime rr_rtp_timeline_get_received(RrRtpTimeline *tl);

/* Times the timeline was re-anchored. */
guint64 rr_rtp_timeline_get_breaks(RrRtpTimeline *tl);

G_END_DECLS
