/* pipeline/rtp-timeline: see rtp-timeline.h. */
#include "pipeline/rtp-timeline.h"

#include <gst/rtp/rtp.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(rr_rtp_timeline_debug);
#define GST_CAT_DEFAULT rr_rtp_timeline_debug

/* How far RTP time and jitterbuffer time may disagree over one packet step
 * before the RTP timeline counts as broken (the jitterbuffer resyncs at the same size). */
#define TIMELINE_MAX_JUMP GST_SECOND
/* The least a re-anchored timeline moves on from the previous packet. */
#define TIMELINE_MIN_STEP GST_MSECOND

static gint64 rtp_to_ns(gint64 ticks, guint rate)
{
    gint64 ns = (gint64)gst_util_uint64_scale_int((guint64)ABS(ticks), GST_SECOND, (gint)rate);
    return ticks < 0 ? -ns : ns;
}

void rr_rtp_timeline_restamp(RrRtpTimeline *tl, GstBuffer *buf)
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
        return;
    guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    guint32 ts = gst_rtp_buffer_get_timestamp(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    guint rate = tl->rate;
    GstClockTime in = GST_BUFFER_PTS(buf);

    g_mutex_lock(&tl->lock);
    gboolean anchor = !tl->anchored || ssrc != tl->ssrc;
    if (anchor)
        tl->ext_state = (guint64)-1;
    guint64 ext = gst_rtp_buffer_ext_timestamp(&tl->ext_state, ts);
    if (!anchor) {
        gint64 rtp_step = rtp_to_ns((gint64)(ext - tl->last_ext), rate);
        if (GST_CLOCK_TIME_IS_VALID(in) && GST_CLOCK_TIME_IS_VALID(tl->last_in)) {
            gint64 in_step = (gint64)in - (gint64)tl->last_in;
            anchor = ABS(rtp_step - in_step) > (gint64)TIMELINE_MAX_JUMP;
        }
        /* Before the anchor: the timeline cannot place it. */
        anchor = anchor || (gint64)(ext - tl->anchor_ext) < 0;
    }
    if (anchor) {
        if (!tl->anchored) {
            if (!GST_CLOCK_TIME_IS_VALID(in)) {
                g_mutex_unlock(&tl->lock);
                return; /* nothing to anchor to yet: leave the jitterbuffer's time */
            }
            tl->anchor = in;
        } else {
            /* Carry on after the previous packet by the time the jitterbuffer saw pass. */
            GstClockTime gap = 0;
            if (GST_CLOCK_TIME_IS_VALID(in) && GST_CLOCK_TIME_IS_VALID(tl->last_in) &&
                in > tl->last_in)
                gap = in - tl->last_in;
            tl->anchor = tl->last_out + MAX(MAX(gap, tl->step), TIMELINE_MIN_STEP);
            tl->breaks++;
            GST_INFO("track %u: RTP timeline broken (ssrc %08x -> %08x, RTP step %" G_GINT64_FORMAT
                     " ticks), re-anchored at %" GST_TIME_FORMAT,
                     tl->index, tl->ssrc, ssrc, (gint64)(ext - tl->last_ext),
                     GST_TIME_ARGS(tl->anchor));
        }
        tl->anchored = TRUE;
        tl->ssrc = ssrc;
        tl->anchor_ext = ext;
        tl->last_out = GST_CLOCK_TIME_NONE;
    }
    GstClockTime out = tl->anchor + (GstClockTime)rtp_to_ns((gint64)(ext - tl->anchor_ext), rate);
    if (GST_CLOCK_TIME_IS_VALID(tl->last_out) && out > tl->last_out)
        tl->step = out - tl->last_out;
    tl->last_ext = ext;
    if (GST_CLOCK_TIME_IS_VALID(in))
        tl->last_in = in;
    tl->last_out = out;
    if (tl->lipsync != NULL) {
        GstClockTime moved = rr_lipsync_map(tl->lipsync, ssrc, ts, out);
        tl->correction = (gint64)moved - (gint64)out;
        out = moved;
    }
    g_mutex_unlock(&tl->lock);

    GST_LOG("track %u: rtp %u -> %" GST_TIME_FORMAT " (jitterbuffer %" GST_TIME_FORMAT ")",
            tl->index, ts, GST_TIME_ARGS(out), GST_TIME_ARGS(in));
    GST_BUFFER_PTS(buf) = out;
    GST_BUFFER_DTS(buf) = out;
}

void rr_rtp_timeline_received(RrRtpTimeline *tl, guint32 ssrc, guint32 ts)
{
    g_mutex_lock(&tl->lock);
    if (!tl->have_in || ssrc != tl->in_ssrc || (gint32)(ts - tl->in_ts) > 0) {
        tl->have_in = TRUE;
        tl->in_ssrc = ssrc;
        tl->in_ts = ts;
    }
    g_mutex_unlock(&tl->lock);
}

GstClockTime rr_rtp_timeline_get_received(RrRtpTimeline *tl)
{
    GstClockTime received = GST_CLOCK_TIME_NONE;
    g_mutex_lock(&tl->lock);
    if (tl->anchored && GST_CLOCK_TIME_IS_VALID(tl->first_pts)) {
        received = 0;
        if (tl->have_in && tl->in_ssrc == tl->ssrc) {
            gint64 newest = (gint64)tl->anchor + tl->correction +
                            rtp_to_ns((gint32)(tl->in_ts - (guint32)tl->anchor_ext), tl->rate);
            if (newest > (gint64)tl->first_pts)
                received = (GstClockTime)(newest - (gint64)tl->first_pts);
        }
    }
    g_mutex_unlock(&tl->lock);
    return received;
}

GstEvent *rr_rtp_timeline_lost_event(RrRtpTimeline *tl, GstEvent *event)
{
    const GstStructure *s = gst_event_get_structure(event);
    GstClockTime ts = GST_CLOCK_TIME_NONE;
    if (s == NULL || !gst_structure_has_name(s, "GstRTPPacketLost") ||
        !gst_structure_get_clock_time(s, "timestamp", &ts) || !GST_CLOCK_TIME_IS_VALID(ts))
        return NULL;
    g_mutex_lock(&tl->lock);
    gboolean known = tl->anchored && GST_CLOCK_TIME_IS_VALID(tl->last_in) &&
                     GST_CLOCK_TIME_IS_VALID(tl->last_out);
    gint64 moved =
        known ? (gint64)ts + ((gint64)tl->last_out - (gint64)tl->last_in) + tl->correction : 0;
    GstClockTime last_out = known ? (GstClockTime)MAX((gint64)tl->last_out + tl->correction, 0) : 0;
    g_mutex_unlock(&tl->lock);
    if (!known)
        return NULL;
    GstClockTime out = moved > (gint64)last_out ? (GstClockTime)moved : last_out;
    GstStructure *copy = gst_structure_copy(s);
    gst_structure_set(copy, "timestamp", G_TYPE_UINT64, (guint64)out, NULL);
    GstEvent *moved_event = gst_event_new_custom(GST_EVENT_TYPE(event), copy);
    gst_event_set_seqnum(moved_event, gst_event_get_seqnum(event));
    return moved_event;
}

void rr_rtp_timeline_init(RrRtpTimeline *tl, guint index, guint clock_rate)
{
    static gsize debug_once;
    if (g_once_init_enter(&debug_once)) {
        GST_DEBUG_CATEGORY_INIT(rr_rtp_timeline_debug, "rrrtptimeline", 0, "roomrec RTP timelines");
        g_once_init_leave(&debug_once, 1);
    }
    memset(tl, 0, sizeof *tl);
    g_mutex_init(&tl->lock);
    tl->index = index;
    tl->rate = clock_rate;
    tl->first_pts = GST_CLOCK_TIME_NONE;
}

void rr_rtp_timeline_clear(RrRtpTimeline *tl)
{
    g_mutex_clear(&tl->lock);
}

void rr_rtp_timeline_set_first_pts(RrRtpTimeline *tl, GstClockTime pts)
{
    g_mutex_lock(&tl->lock);
    tl->first_pts = pts;
    g_mutex_unlock(&tl->lock);
}

void rr_rtp_timeline_set_lipsync(RrRtpTimeline *tl, RrLipsyncTrack *lipsync)
{
    g_mutex_lock(&tl->lock);
    tl->lipsync = lipsync;
    g_mutex_unlock(&tl->lock);
}

gboolean rr_rtp_timeline_get_media_ssrc(RrRtpTimeline *tl, guint32 *ssrc)
{
    g_mutex_lock(&tl->lock);
    gboolean have = tl->have_in;
    *ssrc = tl->in_ssrc;
    g_mutex_unlock(&tl->lock);
    return have;
}

guint64 rr_rtp_timeline_get_breaks(RrRtpTimeline *tl)
{
    g_mutex_lock(&tl->lock);
    guint64 breaks = tl->breaks;
    g_mutex_unlock(&tl->lock);
    return breaks;
}
