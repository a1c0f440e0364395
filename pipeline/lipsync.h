/* pipeline/lipsync: lines up the tracks of one sender (a participant's audio and video)
 * from their RTCP sender reports, on top of each track's RTP timeline (rtp-timeline.h).
 *
 * Each track keeps a FIT of its sender reports: sender NTP time = a + b * RTP time, by
 * least squares over the last RR_SR_FIT_WINDOW reports with outliers rejected (more than
 * 4 median absolute deviations from the median residual, 5 ms at the least). The clock
 * rate b is only estimated once the reports span RR_SR_FIT_MIN_SPAN and stays within
 * 0.5 % of the nominal rate; before that, b is the nominal rate and only a is fitted. A
 * single report never moves the fit by its own jitter: senders that stamp reports with
 * the send time of their last packet (some SFUs) jitter by tens of ms.
 *
 * A track's fit places tracks once it holds RR_LIPSYNC_MIN_REPORTS reports (the first
 * few are too few to average the jitter out).
 *
 * A GROUP (a participant) has one REFERENCE track, audio if it has a fit, else its first
 * track with one (without any fit: its audio, else its first track): the reference is
 * never re-timed, its output stays its RTP timeline (audio keeps its own timeline: no
 * stretch, no gap). Every other track of the group is
 * mapped RTP time → its NTP (its fit) → the reference's RTP time at that NTP (the
 * reference's fit, inverted) → the reference's output time, and its output moves towards
 * that by at most RR_LIPSYNC_SLEW of the media time that passes, or at once before its
 * first unit and for moves over RR_LIPSYNC_JUMP (the frames dropped or repeated are the
 * same either way). It only starts moving when the target is more than
 * RR_LIPSYNC_DEADBAND away (or three standard errors of the two fits, if more) at
 * RR_LIPSYNC_CONFIRM successive reports (or at once for a move over RR_LIPSYNC_JUMP or
 * before its first unit), and then goes all the way: a fit still settling, or one of a
 * sender whose reports jitter, moves its target by a few ms a report, and every move
 * shifts which frame an output tick shows. Until both tracks have reports,
 * arrival times stand in for them: each track's RTP timeline is anchored on its first
 * packet, which may have come late in a burst; how late, against the least delayed
 * packet of its first RR_LIPSYNC_ARRIVAL_WINDOW, is taken out relative to the
 * reference (at once before the track's first unit, afterwards only changes of more than
 * RR_LIPSYNC_ARRIVAL_DEADBAND). A track whose reports stop keeps its
 * last fit. Corrections larger than RR_LIPSYNC_MAX are not made (broken reports; a
 * recorder starved of CPU while it set a track up can see its first packets seconds
 * late, so it is well above that).
 *
 * A sender's clock that runs slow delivers its media later and later against the
 * receiver's clock (100 ppm: 0.36 s an hour), and the composite's deadlines would pass
 * it by after hours: the least delay of the reference's packets is taken over every
 * RR_LIPSYNC_ARRIVAL_WINDOW, and once it has grown by RR_LIPSYNC_SLIP since the first
 * window, every track of the group moves later by as much at once (a short gap), from
 * just past the end of the content any of its tracks has put out (a packet's content
 * reaching to the next packet's time, at most RR_LIPSYNC_MAX_SPAN). A fast
 * clock's media waits longer in the queues before the mixers instead.
 *
 * THREADS: rr_lipsync_sender_report() on whichever thread pushes RTCP, rr_lipsync_map()
 * on the track's streaming thread; all state is under the group set's one lock. The set
 * owns its groups and tracks; it must outlive every caller.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define RR_SR_FIT_WINDOW            32
#define RR_SR_FIT_MIN_SPAN          (20 * GST_SECOND)
#define RR_LIPSYNC_SLEW             0.1
#define RR_LIPSYNC_MAX              (10 * GST_SECOND)
#define RR_LIPSYNC_JUMP             (60 * GST_MSECOND)
#define RR_LIPSYNC_ARRIVAL_WINDOW   (10 * GST_SECOND)
#define RR_LIPSYNC_DEADBAND         (20 * GST_MSECOND)
#define RR_LIPSYNC_ARRIVAL_DEADBAND (10 * GST_MSECOND)
#define RR_LIPSYNC_MIN_REPORTS      5
#define RR_LIPSYNC_CONFIRM          3
#define RR_LIPSYNC_SLIP             (200 * GST_MSECOND)
#define RR_LIPSYNC_MAX_SPAN         (100 * GST_MSECOND)

/* The sender-report fit of one RTP stream (a plain value; no lock). */
typedef struct {
    guint rate;
    guint n, head; /* reports in the ring, next slot */
    guint32 rtp[RR_SR_FIT_WINDOW];
    gint64 ntp[RR_SR_FIT_WINDOW]; /* ns, relative to the caller's base */
    gboolean valid;
    guint32 rtp0; /* ntp(rtp) = a + b * (gint32)(rtp - rtp0) */
    gdouble a, b;
    guint inliers;
    gdouble error; /* standard error of the offset a (ns) */
} RrSrFit;

void rr_sr_fit_init(RrSrFit *fit, guint clock_rate);
/* Adds a report (RTP timestamp, NTP in ns) and refits. */
void rr_sr_fit_add(RrSrFit *fit, guint32 rtp, gint64 ntp_ns);
/* The fitted NTP time (ns) of RTP timestamp @rtp; FALSE without a fit. */
gboolean rr_sr_fit_ntp(const RrSrFit *fit, guint32 rtp, gdouble *ntp_ns);

/* One sender report read from an RTCP compound packet. */
typedef struct {
    guint32 ssrc;
    guint64 ntp;    /* 64-bit NTP timestamp */
    guint32 rtp_ts; /* RTP timestamp at that NTP time */
} RrSenderReport;

/* The sender reports of an RTCP compound packet, at most @max of them; stops at the
 * first malformed packet (what came before it is returned). */
guint rr_sender_reports_parse(const guint8 *data, gsize len, RrSenderReport *reports, guint max);

typedef struct RrLipsync RrLipsync;
typedef struct RrLipsyncTrack RrLipsyncTrack;

RrLipsync *rr_lipsync_new(void);
void rr_lipsync_free(RrLipsync *ls);

/* A track of group @group (copied; tracks of one sender share it) with RTP clock @rate;
 * audio tracks are preferred as references. (transfer none: owned by @ls) */
RrLipsyncTrack *rr_lipsync_add_track(RrLipsync *ls, const char *group, guint index, guint rate,
                                     gboolean audio);

/* A sender report of the track's media SSRC @ssrc (another SSRC's reports are
 * ignored once media has been seen; a new SSRC starts a new fit). */
void rr_lipsync_sender_report(RrLipsyncTrack *t, guint32 ssrc, guint32 rtp_ts, guint64 ntp);

/* A media packet of @ssrc with RTP timestamp @rtp_ts arrived at @arrival (any thread;
 * the running time it was pushed into the jitterbuffer with). */
void rr_lipsync_packet_arrived(RrLipsyncTrack *t, guint32 ssrc, guint32 rtp_ts,
                               GstClockTime arrival);

/* The output time of the packet of @ssrc with RTP timestamp @rtp_ts whose RTP timeline
 * time is @timeline. */
GstClockTime rr_lipsync_map(RrLipsyncTrack *t, guint32 ssrc, guint32 rtp_ts, GstClockTime timeline);

/* The correction (output − RTP timeline, ns) last applied to the track. */
gint64 rr_lipsync_get_correction(RrLipsyncTrack *t);
/* Whether the track has a sender-report fit. */
gboolean rr_lipsync_has_fit(RrLipsyncTrack *t);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrLipsync, rr_lipsync_free)

G_END_DECLS
