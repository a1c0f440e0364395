/* Unit tests for pipeline/rtp-timeline: output PTS from RTP timestamps, breaks of the
 * RTP timeline, packet-lost events and the received-media measure. */
#include "pipeline/rtp-timeline.h"

#include <gst/rtp/rtp.h>

#define RATE 90000
#define MS   GST_MSECOND

/* An RTP packet of @ssrc with timestamp @ts whose (jitterbuffer) PTS is @pts. */
static GstBuffer *packet(guint32 ssrc, guint32 ts, GstClockTime pts)
{
    GstBuffer *buf = gst_rtp_buffer_new_allocate(10, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    g_assert_true(gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp));
    gst_rtp_buffer_set_ssrc(&rtp, ssrc);
    gst_rtp_buffer_set_timestamp(&rtp, ts);
    gst_rtp_buffer_set_payload_type(&rtp, 96);
    gst_rtp_buffer_unmap(&rtp);
    GST_BUFFER_PTS(buf) = pts;
    return buf;
}

/* The PTS the timeline gives a packet. */
static GstClockTime restamp(RrRtpTimeline *tl, guint32 ssrc, guint32 ts, GstClockTime pts)
{
    GstBuffer *buf = packet(ssrc, ts, pts);
    rr_rtp_timeline_restamp(tl, buf);
    GstClockTime out = GST_BUFFER_PTS(buf);
    g_assert_cmpuint(GST_BUFFER_DTS(buf), ==, out);
    gst_buffer_unref(buf);
    return out;
}

/* Jittery arrival times do not move the output: it follows the RTP timestamps from the
 * first packet's PTS on, across a 32-bit wrap of the timestamp too. */
static void test_follows_rtp(void)
{
    RrRtpTimeline tl;
    rr_rtp_timeline_init(&tl, 0, RATE);
    const guint32 ts0 = 0xffff0000u;
    const GstClockTime t0 = 10 * GST_SECOND;
    g_assert_cmpuint(restamp(&tl, 1, ts0, t0), ==, t0);
    /* 3000 ticks a frame (33.3 ms); arrivals jitter by tens of ms, or come together. */
    const GstClockTime jitter[] = {40 * MS, 0, 60 * MS, 90 * MS, 100 * MS, 200 * MS};
    for (guint i = 1; i <= G_N_ELEMENTS(jitter); i++) {
        GstClockTime want = t0 + gst_util_uint64_scale(i * 3000, GST_SECOND, RATE);
        GstClockTime in = t0 + jitter[i - 1];
        g_assert_cmpuint(restamp(&tl, 1, ts0 + i * 3000, in), ==, want);
    }
    /* A second later the timestamp has wrapped past 2^32. */
    g_assert_cmpuint(ts0 + RATE, <, ts0);
    g_assert_cmpuint(restamp(&tl, 1, ts0 + RATE, t0 + GST_SECOND + 20 * MS), ==, t0 + GST_SECOND);
    g_assert_cmpuint(rr_rtp_timeline_get_breaks(&tl), ==, 0);
    rr_rtp_timeline_clear(&tl);
}

/* A new SSRC, or RTP time jumping away from the jitterbuffer's by more than a second, is
 * a break: the timeline carries on right after the previous packet, advanced by the
 * jitterbuffer's elapsed time (at least the last step), and counts it. */
static void test_breaks(void)
{
    RrRtpTimeline tl;
    rr_rtp_timeline_init(&tl, 3, RATE);
    const GstClockTime t0 = GST_SECOND;
    restamp(&tl, 1, 1000, t0);
    GstClockTime last = restamp(&tl, 1, 4000, t0 + 33 * MS);

    /* New SSRC 200 ms later (jitterbuffer time): continues 200 ms after the last. */
    GstClockTime a = restamp(&tl, 2, 777777, t0 + 233 * MS);
    g_assert_cmpuint(a, ==, last + 200 * MS);
    g_assert_cmpuint(rr_rtp_timeline_get_breaks(&tl), ==, 1);
    /* ...and then follows the new SSRC's RTP time. */
    g_assert_cmpuint(restamp(&tl, 2, 777777 + 9000, t0 + 400 * MS), ==, a + 100 * MS);

    /* The sender's RTP clock jumps 100 s ahead while 33 ms pass: another break, which
     * advances by the last step (100 ms), more than the 33 ms. */
    GstClockTime b = restamp(&tl, 2, 777777 + 9000 + 9000000, t0 + 433 * MS);
    g_assert_cmpuint(b, ==, a + 200 * MS);
    g_assert_cmpuint(rr_rtp_timeline_get_breaks(&tl), ==, 2);

    /* A packet from before the anchor cannot be placed: a break, never a PTS that goes
     * backwards. */
    GstClockTime c = restamp(&tl, 2, 5, t0 + 466 * MS);
    g_assert_cmpuint(c, >, b);
    g_assert_cmpuint(rr_rtp_timeline_get_breaks(&tl), ==, 3);
    rr_rtp_timeline_clear(&tl);
}

/* Without a PTS nothing can anchor the timeline: the packet is left alone. */
static void test_no_pts(void)
{
    RrRtpTimeline tl;
    rr_rtp_timeline_init(&tl, 0, RATE);
    g_assert_cmpuint(restamp(&tl, 1, 1000, GST_CLOCK_TIME_NONE), ==, GST_CLOCK_TIME_NONE);
    g_assert_cmpuint(restamp(&tl, 1, 4000, 5 * GST_SECOND), ==, 5 * GST_SECOND);
    rr_rtp_timeline_clear(&tl);
}

static GstEvent *lost_event(GstClockTime ts)
{
    return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
                                gst_structure_new("GstRTPPacketLost", "timestamp", G_TYPE_UINT64,
                                                  (guint64)ts, "duration", G_TYPE_UINT64,
                                                  (guint64)(20 * MS), NULL));
}

/* Packet-lost events move by the timeline's offset from the jitterbuffer's time, and
 * never before the last output. */
static void test_lost_event(void)
{
    RrRtpTimeline tl;
    rr_rtp_timeline_init(&tl, 0, 48000);
    GstEvent *early = lost_event(GST_SECOND);
    g_assert_null(rr_rtp_timeline_lost_event(&tl, early)); /* not anchored yet */
    gst_event_unref(early);

    restamp(&tl, 1, 0, 2 * GST_SECOND);
    /* The jitterbuffer put the next packet 50 ms late: output is 20 ms on, offset -30 ms. */
    g_assert_cmpuint(restamp(&tl, 1, 960, 2 * GST_SECOND + 50 * MS), ==, 2 * GST_SECOND + 20 * MS);
    GstEvent *e = lost_event(2 * GST_SECOND + 70 * MS);
    GstEvent *moved = rr_rtp_timeline_lost_event(&tl, e);
    g_assert_nonnull(moved);
    guint64 ts = 0;
    g_assert_true(gst_structure_get_uint64(gst_event_get_structure(moved), "timestamp", &ts));
    g_assert_cmpuint(ts, ==, 2 * GST_SECOND + 40 * MS);
    g_assert_cmpuint(gst_event_get_seqnum(moved), ==, gst_event_get_seqnum(e));
    gst_event_unref(moved);
    gst_event_unref(e);

    /* A loss the jitterbuffer times before the last output is put at the last output. */
    e = lost_event(GST_SECOND);
    moved = rr_rtp_timeline_lost_event(&tl, e);
    g_assert_true(gst_structure_get_uint64(gst_event_get_structure(moved), "timestamp", &ts));
    g_assert_cmpuint(ts, ==, 2 * GST_SECOND + 20 * MS);
    gst_event_unref(moved);
    gst_event_unref(e);

    /* Other events are not touched. */
    GstEvent *other =
        gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("SomethingElse"));
    g_assert_null(rr_rtp_timeline_lost_event(&tl, other));
    gst_event_unref(other);
    rr_rtp_timeline_clear(&tl);
}

/* Received media: from the first unit out to the newest packet pushed, on the timeline. */
static void test_received(void)
{
    RrRtpTimeline tl;
    rr_rtp_timeline_init(&tl, 0, RATE);
    g_assert_cmpuint(rr_rtp_timeline_get_received(&tl), ==, GST_CLOCK_TIME_NONE);
    rr_rtp_timeline_received(&tl, 1, 90000);
    GstClockTime first = restamp(&tl, 1, 90000, 3 * GST_SECOND);
    g_assert_cmpuint(rr_rtp_timeline_get_received(&tl), ==, GST_CLOCK_TIME_NONE);
    rr_rtp_timeline_set_first_pts(&tl, first);
    g_assert_cmpuint(rr_rtp_timeline_get_received(&tl), ==, 0);
    /* Pushed packets count before they come out; an older one does not move it back. */
    rr_rtp_timeline_received(&tl, 1, 90000 + 2 * RATE);
    rr_rtp_timeline_received(&tl, 1, 90000 + RATE);
    g_assert_cmpuint(rr_rtp_timeline_get_received(&tl), ==, 2 * GST_SECOND);
    /* A packet of another SSRC cannot be placed yet: nothing is claimed for it. */
    rr_rtp_timeline_received(&tl, 9, 5);
    g_assert_cmpuint(rr_rtp_timeline_get_received(&tl), ==, 0);
    rr_rtp_timeline_clear(&tl);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp-timeline/follows-rtp", test_follows_rtp);
    g_test_add_func("/rtp-timeline/breaks", test_breaks);
    g_test_add_func("/rtp-timeline/no-pts", test_no_pts);
    g_test_add_func("/rtp-timeline/lost-event", test_lost_event);
    g_test_add_func("/rtp-timeline/received", test_received);
    return g_test_run();
}
