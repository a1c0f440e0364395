/* Unit tests for pipeline/audio-fade: the fade-in at the start of a decoded audio stream
 * (a late joiner without a click). */
#include "pipeline/audio-fade.h"

static GstBuffer *received;

static GstFlowReturn on_chain(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
    gst_clear_buffer(&received);
    received = buf;
    return GST_FLOW_OK;
}

/* A src pad with @caps linked to a sink pad keeping the last buffer, and a fade on it. */
static GstPad *src_with_fade(const char *caps_str, RrAudioFade **fade, GstPad **sink)
{
    GstPad *src = gst_pad_new("src", GST_PAD_SRC);
    *sink = gst_pad_new("sink", GST_PAD_SINK);
    gst_pad_set_chain_function(*sink, on_chain);
    gst_pad_set_active(src, TRUE);
    gst_pad_set_active(*sink, TRUE);
    g_assert_cmpint(gst_pad_link(src, *sink), ==, GST_PAD_LINK_OK);
    gst_pad_push_event(src, gst_event_new_stream_start("fade"));
    g_autoptr(GstCaps) caps = gst_caps_from_string(caps_str);
    gst_pad_push_event(src, gst_event_new_caps(caps));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_pad_push_event(src, gst_event_new_segment(&seg));
    *fade = rr_audio_fade_new();
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, rr_audio_fade_in_probe, *fade, g_free);
    return src;
}

/* @frames stereo frames of full-scale (0x4000) samples. */
static GstBuffer *tone(guint frames)
{
    GstBuffer *buf = gst_buffer_new_allocate(NULL, frames * 4, NULL);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    gint16 *s = (gint16 *)map.data;
    for (guint i = 0; i < frames * 2; i++)
        s[i] = GINT16_TO_LE(0x4000);
    gst_buffer_unmap(buf, &map);
    return buf;
}

static gint16 sample(GstBuffer *buf, guint frame, guint ch)
{
    gint16 v = 0;
    gst_buffer_extract(buf, (frame * 2 + ch) * 2, &v, 2);
    return GINT16_FROM_LE(v);
}

/* 48 kHz stereo: the first 10 ms (480 frames, over two 20 ms... and 5 ms buffers) rise
 * from silence to the signal, both channels alike; everything after is untouched. */
static void test_fade_in(void)
{
    RrAudioFade *fade;
    GstPad *sink;
    g_autoptr(GstPad) src = src_with_fade(
        "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2", &fade, &sink);
    g_assert_cmpint(gst_pad_push(src, tone(240)), ==, GST_FLOW_OK); /* 5 ms */
    g_assert_cmpint(sample(received, 0, 0), ==, 0);
    g_assert_cmpint(sample(received, 120, 0), ==, 0x4000 * 120 / 480);
    g_assert_cmpint(sample(received, 120, 1), ==, sample(received, 120, 0));
    for (guint i = 1; i < 240; i++)
        g_assert_cmpint(sample(received, i, 0), >=, sample(received, i - 1, 0));
    g_assert_cmpint(gst_pad_push(src, tone(960)), ==, GST_FLOW_OK); /* 20 ms */
    g_assert_cmpint(sample(received, 0, 0), ==, 0x4000 * 240 / 480);
    g_assert_cmpint(sample(received, 239, 1), <, 0x4000);
    g_assert_cmpint(sample(received, 240, 0), ==, 0x4000);
    g_assert_cmpint(sample(received, 959, 1), ==, 0x4000);
    g_assert_cmpuint(rr_audio_fade_get_done(fade), ==, 480);
    g_assert_cmpint(gst_pad_push(src, tone(960)), ==, GST_FLOW_OK);
    g_assert_cmpint(sample(received, 0, 0), ==, 0x4000);
    gst_clear_buffer(&received);
    gst_pad_unlink(src, sink);
    gst_object_unref(sink);
}

/* Anything but S16LE passes as it is. */
static void test_other_format(void)
{
    RrAudioFade *fade;
    GstPad *sink;
    g_autoptr(GstPad) src = src_with_fade(
        "audio/x-raw,format=S16BE,layout=interleaved,rate=48000,channels=2", &fade, &sink);
    g_assert_cmpint(gst_pad_push(src, tone(480)), ==, GST_FLOW_OK);
    g_assert_cmpint(sample(received, 0, 0), ==, 0x4000);
    g_assert_cmpuint(rr_audio_fade_get_done(fade), ==, 0);
    gst_clear_buffer(&received);
    gst_pad_unlink(src, sink);
    gst_object_unref(sink);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gst_init(&argc, &argv);
    g_test_add_func("/audio-fade/fade-in", test_fade_in);
    g_test_add_func("/audio-fade/other-format", test_other_format);
    return g_test_run();
}
