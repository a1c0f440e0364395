/* Unit tests for pipeline/lipsync: the sender-report fit (jitter, outliers, a sender
 * clock off its nominal rate), sender-report parsing, and the mapping of a group's
 * tracks onto its reference track. */
#include "pipeline/lipsync.h"

#include <math.h>

#define MS 1e6

/* A deterministic jitter in [-@amp, @amp] ns. */
static gdouble jitter(GRand *r, gdouble amp)
{
    return g_rand_double_range(r, -amp, amp);
}

/* Reports every second for @n s from a sender whose RTP clock (@rate nominal) runs
 * @ppm parts per million fast against its NTP clock; NTP times jittered by ±@amp. The fit
 * must place RTP time within @tolerance of the true NTP time, at the newest report. */
static void check_fit(guint n, gdouble amp, gdouble ppm, gdouble tolerance)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(42);
    RrSrFit fit;
    rr_sr_fit_init(&fit, 90000);
    const guint32 rtp0 = 0xfff00000u; /* wraps */
    gdouble real_rate = 90000 * (1 + ppm / 1e6);
    guint32 last = 0;
    for (guint i = 0; i < n; i++) {
        gdouble t = i * 1e9;
        last = rtp0 + (guint32)llround(t / 1e9 * real_rate);
        rr_sr_fit_add(&fit, last, (gint64)(t + jitter(r, amp)));
    }
    gdouble ntp;
    g_assert_true(rr_sr_fit_ntp(&fit, last, &ntp));
    gdouble truth = (n - 1) * 1e9;
    g_test_message("%u reports +-%.0f ms, %+.0f ppm: error %.2f ms", n, amp / MS, ppm,
                   (ntp - truth) / MS);
    g_assert_cmpfloat(fabs(ntp - truth), <=, tolerance);
    /* ...and a second on, extrapolated. */
    g_assert_true(rr_sr_fit_ntp(&fit, last + (guint32)llround(real_rate), &ntp));
    g_assert_cmpfloat(fabs(ntp - truth - 1e9), <=, tolerance + 1 * MS);
}

static void test_fit_clean(void)
{
    check_fit(1, 0, 0, 0.01 * MS);
    check_fit(40, 0, 0, 0.01 * MS);
}

/* ±30 ms of report jitter: after a few reports the fit is within 12 ms, after 30 within
 * 8 ms — where following the reports one by one would be up to 30 ms off. */
static void test_fit_jitter(void)
{
    check_fit(8, 30 * MS, 0, 15 * MS);
    check_fit(32, 30 * MS, 0, 8 * MS);
    check_fit(60, 30 * MS, 0, 8 * MS);
}

/* A sender clock 0.1 % fast: once the reports span 20 s the rate is estimated. */
static void test_fit_rate(void)
{
    check_fit(40, 0, 1000, 1 * MS);
    check_fit(60, 10 * MS, 1000, 6 * MS);
}

/* A few wild reports (a second off) do not move the fit. */
static void test_fit_outliers(void)
{
    RrSrFit fit;
    rr_sr_fit_init(&fit, 48000);
    for (guint i = 0; i < 20; i++) {
        gdouble off = (i % 7 == 3) ? 1e9 : 0;
        rr_sr_fit_add(&fit, i * 48000, (gint64)(i * 1e9 + off));
    }
    gdouble ntp;
    g_assert_true(rr_sr_fit_ntp(&fit, 19 * 48000, &ntp));
    g_assert_cmpfloat(fabs(ntp - 19e9), <=, 0.01 * MS);
    g_assert_cmpuint(fit.inliers, ==, 17);
}

static void test_parse(void)
{
    /* SR (28 bytes + one report block), SDES, SR without blocks, then garbage. */
    guint8 pkt[28 + 24 + 12 + 28 + 4] = {0};
    guint8 *p = pkt;
    p[0] = 0x81, p[1] = 200, p[3] = 12; /* 13 words */
    GST_WRITE_UINT32_BE(p + 4, 0x11111111);
    GST_WRITE_UINT64_BE(p + 8, G_GUINT64_CONSTANT(0x0102030405060708));
    GST_WRITE_UINT32_BE(p + 16, 1234);
    p += 52;
    p[0] = 0x81, p[1] = 202, p[3] = 2;
    p += 12;
    p[0] = 0x80, p[1] = 200, p[3] = 6;
    GST_WRITE_UINT32_BE(p + 4, 0x22222222);
    GST_WRITE_UINT32_BE(p + 16, 99);
    p += 28;
    p[0] = 0x80, p[1] = 200, p[3] = 200; /* longer than what is left */
    RrSenderReport r[4];
    g_assert_cmpuint(rr_sender_reports_parse(pkt, sizeof pkt, r, 4), ==, 2);
    g_assert_cmpuint(r[0].ssrc, ==, 0x11111111);
    g_assert_cmpuint(r[0].ntp, ==, G_GUINT64_CONSTANT(0x0102030405060708));
    g_assert_cmpuint(r[0].rtp_ts, ==, 1234);
    g_assert_cmpuint(r[1].ssrc, ==, 0x22222222);
    g_assert_cmpuint(r[1].rtp_ts, ==, 99);
    g_assert_cmpuint(rr_sender_reports_parse(pkt, sizeof pkt, r, 1), ==, 1);
    g_assert_cmpuint(rr_sender_reports_parse(pkt, 20, r, 4), ==, 0);
    g_assert_cmpuint(rr_sender_reports_parse(NULL, 0, r, 4), ==, 0);
}

/* NTP (64-bit) of @ns nanoseconds after an arbitrary epoch. */
static guint64 ntp_of(gdouble ns)
{
    guint64 secs = 3900000000u + (guint64)(ns / 1e9);
    gdouble frac = fmod(ns, 1e9) / 1e9;
    return (secs << 32) | (guint64)(frac * 4294967296.0);
}

/* Audio (reference) and video of one sender: the video's RTP timeline was anchored
 * 120 ms late (its first packets came in a burst) and both tracks' reports jitter by
 * ±30 ms. The video's first mapping is taken at once; after that the correction moves
 * by at most 10 % of the media time passing, only when the target is 20 ms away, and
 * stays within 40 ms of the capture alignment (25 ms from 15 s on) — following each
 * report would be up to 60 ms off. The audio never
 * moves; a track of another group is left alone. */
static void test_group(void)
{
    g_autoptr(GRand) rnd = g_rand_new_with_seed(7);
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "alice", 0, 48000, TRUE);
    RrLipsyncTrack *video = rr_lipsync_add_track(ls, "alice", 1, 90000, FALSE);
    RrLipsyncTrack *other = rr_lipsync_add_track(ls, "bob", 2, 90000, FALSE);
    g_assert_false(rr_lipsync_has_fit(video));
    /* Capture time c (ns from the start): audio RTP 1000 + c·48k, video 5000 + c·90k;
     * timelines: audio at 2 s + c, video at 2 s + 120 ms + c. */
    const gdouble late = 120 * MS;
    gdouble prev_corr = 0;
    GstClockTime prev_out = 0;
    gboolean mapped = FALSE;
    for (guint ms = 0; ms <= 30000; ms += 20) {
        gdouble c = ms * MS;
        guint32 a_rtp = 1000 + (guint32)(c * 48000 / 1e9);
        guint32 v_rtp = 5000 + (guint32)llround(c * 90000 / 1e9);
        if (ms % 1000 == 500) {
            rr_lipsync_sender_report(audio, 0xa, a_rtp, ntp_of(c + jitter(rnd, 30 * MS)));
            rr_lipsync_sender_report(video, 0xb, v_rtp, ntp_of(c + jitter(rnd, 30 * MS)));
            rr_lipsync_sender_report(other, 0xc, v_rtp, ntp_of(c + 500 * MS));
        }
        GstClockTime a_out = rr_lipsync_map(audio, 0xa, a_rtp, (GstClockTime)(2e9 + c));
        g_assert_cmpuint(a_out, ==, (GstClockTime)(2e9 + c));
        if (ms % 40 != 0)
            continue;
        GstClockTime v_tl = (GstClockTime)(2e9 + late + c);
        GstClockTime v_out = rr_lipsync_map(video, 0xb, v_rtp, v_tl);
        g_assert_cmpuint(v_out, >=, prev_out); /* a jump back holds the output instead */
        prev_out = v_out;
        gdouble corr = (gdouble)rr_lipsync_get_correction(video);
        if (mapped) {
            g_assert_cmpfloat(fabs(corr - prev_corr), <=, 0.1 * 40 * MS + 0.01 * MS);
            g_assert_cmpfloat(fabs(corr + late), <=, (ms < 15000 ? 40 : 25) * MS);
        } else if (corr != 0) {
            mapped = TRUE;
            g_assert_cmpfloat(fabs(corr + late), <=, 40 * MS);
        }
        prev_corr = corr;
        g_assert_cmpuint(rr_lipsync_map(other, 0xc, v_rtp, v_tl), ==, v_tl);
    }
    g_assert_true(mapped);
    g_assert_true(rr_lipsync_has_fit(video));
    g_assert_cmpint(rr_lipsync_get_correction(audio), ==, 0);
    g_assert_cmpint(rr_lipsync_get_correction(other), ==, 0);
}

/* A track whose reports come before its first packet starts on the mapping at once; one
 * whose reports are a whole hour off is not followed. */
static void test_first_and_broken(void)
{
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "p", 0, 48000, TRUE);
    RrLipsyncTrack *video = rr_lipsync_add_track(ls, "p", 1, 90000, FALSE);
    RrLipsyncTrack *screen = rr_lipsync_add_track(ls, "p", 2, 90000, FALSE);
    for (guint i = 0; i < RR_LIPSYNC_MIN_REPORTS; i++) {
        rr_lipsync_sender_report(audio, 1, i * 48000, ntp_of(i * 1e9));
        rr_lipsync_sender_report(video, 2, 9000 + i * 90000, ntp_of(100 * MS + i * 1e9));
        rr_lipsync_sender_report(screen, 3, i * 90000, ntp_of(3600e9 + i * 1e9));
    }
    g_assert_cmpuint(rr_lipsync_map(audio, 1, 0, GST_SECOND), ==, GST_SECOND);
    /* Video at 100 ms of capture: the audio's output at 100 ms is 1.1 s. */
    gint64 v = (gint64)rr_lipsync_map(video, 2, 9000, 1300 * GST_MSECOND);
    g_assert_cmpint(ABS(v - (gint64)(1100 * GST_MSECOND)), <=, 1000);
    g_assert_cmpuint(rr_lipsync_map(screen, 3, 0, 5 * GST_SECOND), ==, 5 * GST_SECOND);
}

/* No reports at all: the video's first packets came 300 ms late, in a burst (its RTP
 * timeline is anchored on the first), the audio's 20 ms late. As soon as the least
 * delayed packets show it, the video is moved by 280 ms at once, onto the audio; the
 * audio stays. */
static void test_arrival(void)
{
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "p", 0, 48000, TRUE);
    RrLipsyncTrack *video = rr_lipsync_add_track(ls, "p", 1, 90000, FALSE);
    const gdouble t0 = 1e9;
    for (guint ms = 0; ms <= 3000; ms += 20) {
        gdouble c = ms * MS;
        /* Arrivals: what was captured before the first packet came waits for it (a
         * burst), then on time. */
        gdouble a_tl = t0 + 20 * MS + c, v_tl = t0 + 300 * MS + c;
        rr_lipsync_packet_arrived(audio, 1, ms * 48, (GstClockTime)MAX(t0 + 20 * MS, t0 + c));
        GstClockTime a_out = rr_lipsync_map(audio, 1, ms * 48, (GstClockTime)a_tl);
        g_assert_cmpuint(a_out, ==, (GstClockTime)a_tl);
        if (ms % 40 != 0)
            continue;
        rr_lipsync_packet_arrived(video, 2, ms * 90, (GstClockTime)MAX(t0 + 300 * MS, t0 + c));
        rr_lipsync_map(video, 2, ms * 90, (GstClockTime)v_tl);
        if (ms >= 320)
            g_assert_cmpfloat(fabs((gdouble)rr_lipsync_get_correction(video) + 280 * MS), <=,
                              0.01 * MS);
    }
    g_assert_false(rr_lipsync_has_fit(video));
    g_assert_cmpint(rr_lipsync_get_correction(audio), ==, 0);
}

/* The video's reports come seconds before the audio's (another stream, another RTCP
 * schedule): the audio stays the reference throughout, its output exactly its timeline;
 * the video follows the arrival times, then the reports once both fits are ready. */
static void test_video_reports_first(void)
{
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "p", 0, 48000, TRUE);
    RrLipsyncTrack *video = rr_lipsync_add_track(ls, "p", 1, 90000, FALSE);
    const gdouble late = 50 * MS; /* the video's timeline anchor */
    for (guint ms = 0; ms <= 20000; ms += 20) {
        gdouble c = ms * MS;
        guint32 a_rtp = (guint32)(c * 48000 / 1e9), v_rtp = (guint32)llround(c * 90000 / 1e9);
        if (ms % 1000 == 500) {
            rr_lipsync_sender_report(video, 2, v_rtp, ntp_of(c));
            if (ms > 8000)
                rr_lipsync_sender_report(audio, 1, a_rtp, ntp_of(c));
        }
        rr_lipsync_packet_arrived(audio, 1, a_rtp, (GstClockTime)(1e9 + c));
        g_assert_cmpuint(rr_lipsync_map(audio, 1, a_rtp, (GstClockTime)(1e9 + c)), ==,
                         (GstClockTime)(1e9 + c));
        if (ms % 40 != 0)
            continue;
        rr_lipsync_packet_arrived(video, 2, v_rtp, (GstClockTime)(1e9 + c));
        rr_lipsync_map(video, 2, v_rtp, (GstClockTime)(1e9 + late + c));
    }
    g_assert_cmpint(rr_lipsync_get_correction(audio), ==, 0);
    g_assert_cmpfloat(fabs((gdouble)rr_lipsync_get_correction(video) + late), <=,
                      RR_LIPSYNC_DEADBAND);
}

/* No reports, arrivals that jitter by up to 4 ms: the least delayed arrival creeps as
 * packets come, but after its first placement the video does not follow moves that
 * small (each would shift which composite tick shows a frame lying near one). */
static void test_arrival_jitter(void)
{
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "p", 0, 48000, TRUE);
    RrLipsyncTrack *video = rr_lipsync_add_track(ls, "p", 1, 90000, FALSE);
    const gdouble t0 = 1e9;
    GRand *rand = g_rand_new_with_seed(7);
    gint64 first = G_MININT64;
    for (guint ms = 0; ms <= 5000; ms += 20) {
        gdouble c = ms * MS;
        rr_lipsync_packet_arrived(audio, 1, ms * 48,
                                  (GstClockTime)(t0 + c + g_rand_double_range(rand, 0, 4) * MS));
        rr_lipsync_map(audio, 1, ms * 48, (GstClockTime)(t0 + c));
        if (ms % 40 != 0)
            continue;
        rr_lipsync_packet_arrived(video, 2, ms * 90,
                                  (GstClockTime)(t0 + c + g_rand_double_range(rand, 0, 4) * MS));
        rr_lipsync_map(video, 2, ms * 90, (GstClockTime)(t0 + c));
        gint64 now = rr_lipsync_get_correction(video);
        if (first == G_MININT64)
            first = now;
        g_assert_cmpint(now, ==, first);
    }
    g_assert_cmpint(llabs(first), <=, 4 * MS);
    g_rand_free(rand);
}

/* A sender whose clock runs 0.1 % slow, no reports, 5 minutes: its media comes later and
 * later against its RTP timeline. Once that reaches RR_LIPSYNC_SLIP, both tracks move by
 * it at once, together: the output never falls more than about RR_LIPSYNC_SLIP behind the
 * arrivals (the composite's latency would run out after a while), and audio and video
 * stay lined up. */
static void test_clock_drift(void)
{
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "p", 0, 48000, TRUE);
    RrLipsyncTrack *video = rr_lipsync_add_track(ls, "p", 1, 90000, FALSE);
    const gdouble t0 = 1e9, slow = 1 - 0.001;
    const guint lag_ms = 300; /* the video is mapped this much after the audio */
    const guint n = 300000 / 20 + 1;
    g_autofree GstClockTime *a_outs = g_new0(GstClockTime, n);
    gdouble max_behind = 0, last_behind = 0;
    for (guint ms = 0; ms <= 300000; ms += 20) {
        gdouble c = ms * MS, media = c * slow; /* the sender's own time */
        guint32 a_rtp = (guint32)llround(media * 48000 / 1e9);
        rr_lipsync_packet_arrived(audio, 1, a_rtp, (GstClockTime)(t0 + c));
        a_outs[ms / 20] = rr_lipsync_map(audio, 1, a_rtp, (GstClockTime)(t0 + media));
        last_behind = t0 + c - (gdouble)a_outs[ms / 20];
        max_behind = MAX(max_behind, last_behind);
        if (ms % 40 != 0 || ms < lag_ms)
            continue;
        /* The video captured (and arrived) lag_ms earlier, mapped only now: behind a
         * longer queue than the audio's; its frames lie 10 ms into an audio packet (a
         * move starting within a packet already out would split that moment). */
        gdouble vc = (ms - lag_ms + 10) * MS, vmedia = vc * slow;
        guint32 v_rtp = (guint32)llround(vmedia * 90000 / 1e9);
        rr_lipsync_packet_arrived(video, 2, v_rtp, (GstClockTime)(t0 + vc));
        GstClockTime v_out = rr_lipsync_map(video, 2, v_rtp, (GstClockTime)(t0 + vmedia));
        /* Lined up with the audio captured at the same moment, also across the moves. */
        gdouble a_out = (gdouble)a_outs[(ms - lag_ms) / 20] + 10 * MS * slow;
        g_assert_cmpfloat(fabs((gdouble)v_out - a_out), <=, 2 * MS);
    }
    /* Without the moves it would be 300 ms behind by now. */
    g_assert_cmpfloat(max_behind, <=, RR_LIPSYNC_SLIP + 15 * MS);
    g_assert_cmpfloat(last_behind, <, 150 * MS);
    g_assert_cmpint(rr_lipsync_get_correction(audio), ==, 0);
}

/* A sender that stops its RTP clock while paused: 5 s without packets, then its RTP
 * time carries on from where it stopped. The RTP timeline re-anchors there (it is given
 * here as the caller's timeline would be); that is no clock drift, and the group does
 * not move. */
static void test_paused_rtp_clock(void)
{
    g_autoptr(RrLipsync) ls = rr_lipsync_new();
    RrLipsyncTrack *audio = rr_lipsync_add_track(ls, "p", 0, 48000, TRUE);
    const gdouble t0 = 1e9, pause = 5e9;
    for (guint ms = 0; ms <= 60000; ms += 20) {
        if (ms > 20000 && ms < 25000)
            continue; /* paused */
        gdouble c = ms * MS, media = ms > 20000 ? c - pause : c;
        guint32 rtp = (guint32)llround(media * 48000 / 1e9);
        rr_lipsync_packet_arrived(audio, 1, rtp, (GstClockTime)(t0 + c));
        GstClockTime out = rr_lipsync_map(audio, 1, rtp, (GstClockTime)(t0 + c));
        g_assert_cmpuint(out, ==, (GstClockTime)(t0 + c));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gst_init(&argc, &argv);
    g_test_add_func("/lipsync/fit/clean", test_fit_clean);
    g_test_add_func("/lipsync/fit/jitter", test_fit_jitter);
    g_test_add_func("/lipsync/fit/rate", test_fit_rate);
    g_test_add_func("/lipsync/fit/outliers", test_fit_outliers);
    g_test_add_func("/lipsync/parse", test_parse);
    g_test_add_func("/lipsync/group", test_group);
    g_test_add_func("/lipsync/first-and-broken", test_first_and_broken);
    g_test_add_func("/lipsync/arrival", test_arrival);
    g_test_add_func("/lipsync/video-reports-first", test_video_reports_first);
    g_test_add_func("/lipsync/arrival-jitter", test_arrival_jitter);
    g_test_add_func("/lipsync/clock-drift", test_clock_drift);
    g_test_add_func("/lipsync/paused-rtp-clock", test_paused_rtp_clock);
    return g_test_run();
}
