/* Unit tests for pipeline/pad-time: running time on a pad and clipping the head of raw
 * audio at a gate (the composite's start gate). */
#include "pipeline/pad-time.h"

#define RATE 48000
#define BPF  4 /* S16 stereo */

/* A buffer of @samples frames whose sample i holds the value i in both channels. */
static GstBuffer *ramp(guint samples, GstClockTime pts)
{
    GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)samples * BPF, NULL);
    GstMapInfo map;
    g_assert_true(gst_buffer_map(buf, &map, GST_MAP_WRITE));
    gint16 *s = (gint16 *)map.data;
    for (guint i = 0; i < samples; i++)
        s[2 * i] = s[2 * i + 1] = (gint16)i;
    gst_buffer_unmap(buf, &map);
    GST_BUFFER_PTS(buf) = pts;
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale_int(samples, GST_SECOND, RATE);
    return buf;
}

static gint16 first_sample(GstBuffer *buf)
{
    gint16 v;
    g_assert_cmpuint(gst_buffer_extract(buf, 0, &v, sizeof v), ==, sizeof v);
    return v;
}

static void test_clip_head(void)
{
    const GstClockTime pts = 5 * GST_SECOND;

    /* Nothing to cut: the buffer is unchanged. */
    GstClockTime removed = 1;
    GstBuffer *b = rr_audio_buffer_clip_head(ramp(480, pts), 0, RATE, BPF, &removed);
    g_assert_nonnull(b);
    g_assert_cmpuint(gst_buffer_get_size(b), ==, 480 * BPF);
    g_assert_cmpuint(removed, ==, 0);
    g_assert_cmpuint(GST_BUFFER_PTS(b), ==, pts);
    gst_buffer_unref(b);

    /* Exactly 100 samples. */
    GstClockTime cut = gst_util_uint64_scale_int(100, GST_SECOND, RATE);
    b = rr_audio_buffer_clip_head(ramp(480, pts), cut, RATE, BPF, &removed);
    g_assert_cmpuint(gst_buffer_get_size(b), ==, 380 * BPF);
    g_assert_cmpint(first_sample(b), ==, 100);
    g_assert_cmpuint(GST_BUFFER_PTS(b), >=, pts + cut);
    g_assert_cmpuint(GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b), ==, pts + 10 * GST_MSECOND);
    gst_buffer_unref(b);

    /* A fraction of a sample rounds up: the first kept sample never precedes the cut. */
    b = rr_audio_buffer_clip_head(ramp(480, pts), cut + 1, RATE, BPF, &removed);
    g_assert_cmpuint(gst_buffer_get_size(b), ==, 379 * BPF);
    g_assert_cmpint(first_sample(b), ==, 101);
    g_assert_cmpuint(removed, >=, cut + 1);
    g_assert_cmpuint(GST_BUFFER_PTS(b), ==, pts + removed);
    gst_buffer_unref(b);

    /* Only the last sample survives. */
    const GstClockTime last = gst_util_uint64_scale_int(479, GST_SECOND, RATE);
    b = rr_audio_buffer_clip_head(ramp(480, pts), last, RATE, BPF, &removed);
    g_assert_cmpuint(gst_buffer_get_size(b), ==, BPF);
    g_assert_cmpint(first_sample(b), ==, 479);
    gst_buffer_unref(b);

    /* The cut falls inside the last sample (the case that once hit gst_audio_buffer_
     * truncate's 'trim < orig_samples' assertion): nothing is kept. */
    g_assert_null(rr_audio_buffer_clip_head(ramp(480, pts), last + 1, RATE, BPF, NULL));
    g_assert_null(rr_audio_buffer_clip_head(ramp(480, pts), 10 * GST_MSECOND, RATE, BPF, NULL));
    g_assert_null(rr_audio_buffer_clip_head(ramp(480, pts), GST_SECOND, RATE, BPF, NULL));
    /* An empty buffer. */
    g_assert_null(rr_audio_buffer_clip_head(ramp(0, pts), 0, RATE, BPF, NULL));
}

static void test_pad_head(void)
{
    const GstClockTime pts = 5 * GST_SECOND;
    GstClockTime added = 1;
    /* Less than a sample: unchanged. */
    GstBuffer *b = rr_audio_buffer_pad_head(ramp(480, pts), 20 * GST_USECOND, RATE, BPF, &added);
    g_assert_cmpuint(added, ==, 0);
    g_assert_cmpuint(gst_buffer_get_size(b), ==, 480 * BPF);
    g_assert_cmpuint(GST_BUFFER_PTS(b), ==, pts);
    gst_buffer_unref(b);

    /* 10.01 ms: 480 whole samples (10 ms) of silence in front, the ramp after them. */
    b = rr_audio_buffer_pad_head(ramp(480, pts), 10 * GST_MSECOND + 10 * GST_USECOND, RATE, BPF,
                                 &added);
    g_assert_cmpuint(added, ==, 10 * GST_MSECOND);
    g_assert_cmpuint(GST_BUFFER_PTS(b), ==, pts - 10 * GST_MSECOND);
    g_assert_cmpuint(GST_BUFFER_DURATION(b), ==, 20 * GST_MSECOND);
    g_assert_cmpuint(gst_buffer_get_size(b), ==, 960 * BPF);
    gint16 v[4];
    g_assert_cmpuint(gst_buffer_extract(b, 479 * BPF, v, sizeof v), ==, sizeof v);
    g_assert_cmpint(v[0], ==, 0);
    g_assert_cmpint(v[1], ==, 0);
    g_assert_cmpint(v[2], ==, 0); /* ramp sample 0 */
    g_assert_cmpuint(gst_buffer_extract(b, 481 * BPF, v, 2), ==, 2);
    g_assert_cmpint(v[0], ==, 1);
    gst_buffer_unref(b);

    /* Not before 0. */
    b = rr_audio_buffer_pad_head(ramp(480, GST_MSECOND), 10 * GST_MSECOND, RATE, BPF, &added);
    g_assert_cmpuint(added, ==, 0);
    g_assert_cmpuint(GST_BUFFER_PTS(b), ==, GST_MSECOND);
    gst_buffer_unref(b);
}

static void test_running_time(void)
{
    GstPad *pad = gst_pad_new("sink", GST_PAD_SINK);
    gst_pad_set_active(pad, TRUE);
    GstBuffer *buf = ramp(480, 7 * GST_SECOND);
    /* No segment yet. */
    g_assert_cmpuint(rr_pad_buffer_running_time(pad, buf), ==, GST_CLOCK_TIME_NONE);

    g_assert_true(gst_pad_send_event(pad, gst_event_new_stream_start("s")));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    seg.start = 2 * GST_SECOND;
    seg.base = 10 * GST_SECOND;
    g_assert_true(gst_pad_send_event(pad, gst_event_new_segment(&seg)));
    g_assert_cmpuint(rr_pad_buffer_running_time(pad, buf), ==, 15 * GST_SECOND);

    GST_BUFFER_PTS(buf) = GST_SECOND; /* before the segment */
    g_assert_cmpuint(rr_pad_buffer_running_time(pad, buf), ==, GST_CLOCK_TIME_NONE);
    GST_BUFFER_PTS(buf) = GST_CLOCK_TIME_NONE;
    g_assert_cmpuint(rr_pad_buffer_running_time(pad, buf), ==, GST_CLOCK_TIME_NONE);
    gst_buffer_unref(buf);
    gst_object_unref(pad);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/pad-time/clip-head", test_clip_head);
    g_test_add_func("/pipeline/pad-time/pad-head", test_pad_head);
    g_test_add_func("/pipeline/pad-time/running-time", test_running_time);
    int ret = g_test_run();
    gst_deinit();
    return ret;
}
