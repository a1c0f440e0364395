/* Unit tests for pipeline/recv: real RTP senders (tests/unit/rtp-sender.h) feed an
 * RrRecv in a pipeline whose track outputs end in appsinks; RTCP flows both ways. */
#include "pipeline/pipeline-error.h"
#include "pipeline/recv.h"
#include "rtp-sender.h"

#ifdef __SANITIZE_ADDRESS__
/* Full unwinding for allocation stacks: GLib has no frame pointers, and the one
 * suppressed GLib-internal leak (tests/lsan.supp) is only recognisable by its callers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

#define MAX_TRACKS 2

typedef struct Ctx Ctx;

typedef struct {
    Ctx *ctx;
    guint index;
    RrTestSender *sender;
    GstElement *out; /* appsink on src_N */
    RrTestRtcpCount rtcp;
    gboolean started;
    GstClockTime started_at;
    gint outputs;         /* atomic */
    gint first_was_delta; /* atomic: -1 unknown, 0/1 */
} Track;

struct Ctx {
    GMainLoop *loop;
    GstElement *pipeline;
    RrRecv *recv;
    Track tracks[MAX_TRACKS];
    guint n_tracks;
    gboolean wrong_thread;
};

static GThread *main_thread;

static void on_sender_rtp(const guint8 *data, gsize len, gpointer user_data)
{
    Track *t = user_data;
    rr_recv_push_rtp(t->ctx->recv, t->index, data, len, NULL);
}

static void on_sender_rtcp(const guint8 *data, gsize len, gpointer user_data)
{
    Track *t = user_data;
    rr_recv_push_rtcp(t->ctx->recv, t->index, data, len, NULL);
}

static void on_rtcp_out(guint track, GBytes *packet, gpointer user_data)
{
    Ctx *ctx = user_data;
    if (g_thread_self() != main_thread)
        ctx->wrong_thread = TRUE;
    g_assert_cmpuint(track, <, ctx->n_tracks);
    Track *t = &ctx->tracks[track];
    gsize len;
    const guint8 *data = g_bytes_get_data(packet, &len);
    rr_test_rtcp_count(data, len, &t->rtcp);
    rr_test_sender_push_rtcp(t->sender, data, len);
    g_main_loop_quit(ctx->loop);
}

static void on_first_media(guint track, GstClockTime running_time, gpointer user_data)
{
    Ctx *ctx = user_data;
    if (g_thread_self() != main_thread)
        ctx->wrong_thread = TRUE;
    g_assert_cmpuint(track, <, ctx->n_tracks);
    g_assert_false(ctx->tracks[track].started);
    ctx->tracks[track].started = TRUE;
    ctx->tracks[track].started_at = running_time;
    g_main_loop_quit(ctx->loop);
}

static GstFlowReturn on_output(GstAppSink *sink, gpointer data)
{
    Track *t = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    if (g_atomic_int_add(&t->outputs, 1) == 0)
        g_atomic_int_set(&t->first_was_delta,
                         GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT) ? 1 : 0);
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

static const RrRecvCallbacks callbacks = {.rtcp_out = on_rtcp_out, .first_media = on_first_media};

static void ctx_init(Ctx *ctx)
{
    g_autoptr(GError) error = NULL;
    ctx->loop = g_main_loop_new(NULL, FALSE);
    ctx->pipeline = gst_pipeline_new("recv-test");
    ctx->recv = rr_recv_new(NULL, 0, &callbacks, ctx, &error);
    g_assert_no_error(error);
    gst_bin_add(GST_BIN(ctx->pipeline), rr_recv_get_bin(ctx->recv));
}

/* Adds a track fed by a new sender of @codec. */
static Track *ctx_add(Ctx *ctx, const char *codec, guint keyint, gboolean pli, gboolean fir)
{
    g_autoptr(GError) error = NULL;
    Track *t = &ctx->tracks[ctx->n_tracks];
    t->ctx = ctx;
    t->first_was_delta = -1;
    t->sender = rr_test_sender_new(codec, keyint, 0, on_sender_rtp, on_sender_rtcp, t);
    RrRecvTrackConfig config = {
        .encoding_name = codec,
        .payload_type = t->sender->pt,
        .rtx_payload_type = t->sender->rtx_pt,
        .nack = t->sender->rtx_pt != 0,
        .nack_pli = pli,
        .ccm_fir = fir,
    };
    gint index = rr_recv_add_track(ctx->recv, &config, &error);
    g_assert_no_error(error);
    g_assert_cmpint(index, ==, (gint)ctx->n_tracks);
    t->index = (guint)index;
    ctx->n_tracks++;
    t->out = gst_element_factory_make("appsink", NULL);
    g_object_set(t->out, "sync", FALSE, "async", FALSE, NULL);
    GstAppSinkCallbacks cb = {.new_sample = on_output};
    gst_app_sink_set_callbacks(GST_APP_SINK(t->out), &cb, t, NULL);
    gst_bin_add(GST_BIN(ctx->pipeline), t->out);
    g_autoptr(GstPad) sink = gst_element_get_static_pad(t->out, "sink");
    GstPad *src = rr_recv_get_track_pad(ctx->recv, t->index);
    g_assert_nonnull(src);
    g_assert_cmpint(gst_pad_link(src, sink), ==, GST_PAD_LINK_OK);
    return t;
}

static void ctx_clear(Ctx *ctx)
{
    for (guint i = 0; i < ctx->n_tracks; i++)
        rr_test_sender_stop(ctx->tracks[i].sender);
    gst_element_set_state(ctx->pipeline, GST_STATE_NULL);
    for (guint i = 0; i < ctx->n_tracks; i++)
        rr_test_sender_free(ctx->tracks[i].sender);
    g_clear_pointer(&ctx->recv, rr_recv_free);
    gst_clear_object(&ctx->pipeline);
    g_clear_pointer(&ctx->loop, g_main_loop_unref);
    g_assert_false(ctx->wrong_thread);
}

static gboolean tick(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_CONTINUE;
}

/* Runs the loop until @cond(@data) holds; fails after @ms. */
static void run_until(Ctx *ctx, gboolean (*cond)(Track *), Track *t, guint ms, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    guint id = g_timeout_add(20, tick, ctx->loop);
    while (!cond(t)) {
        if (g_get_monotonic_time() > deadline)
            g_error("timed out waiting for %s", what);
        g_main_loop_run(ctx->loop);
    }
    g_source_remove(id);
}

static void run_ms(Ctx *ctx, guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    guint id = g_timeout_add(20, tick, ctx->loop);
    while (g_get_monotonic_time() < end)
        g_main_loop_run(ctx->loop);
    g_source_remove(id);
}

static gboolean is_started(Track *t)
{
    return t->started && g_atomic_int_get(&t->outputs) > 0;
}

static gint keyframes_before;
static guint feedback_before;

static gboolean got_keyframe(Track *t)
{
    return g_atomic_int_get(&t->sender->keyframes) > keyframes_before &&
           t->rtcp.pli + t->rtcp.fir > feedback_before;
}

static gboolean has_outputs_100(Track *t)
{
    return g_atomic_int_get(&t->outputs) >= 100;
}

/* The sender has been running a while (its only keyframe long gone) when we start
 * receiving: the gate drops the delta frames, asks for a keyframe at once, and the
 * track starts with it. Then an explicit request yields another PLI and keyframe. */
static void keyframe_test(const char *codec, gboolean pli, gboolean fir)
{
    Ctx ctx = {0};
    ctx_init(&ctx);
    Track *t = ctx_add(&ctx, codec, 0, pli, fir);
    g_atomic_int_set(&t->sender->forward, 0);
    rr_test_sender_start(t->sender);
    g_usleep(700 * 1000);
    g_assert_cmpint(gst_element_set_state(ctx.pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
    g_assert_cmpint(g_atomic_int_get(&t->sender->keyframes), ==, 1);
    g_atomic_int_set(&t->sender->forward, 1);

    keyframes_before = 1;
    feedback_before = 0;
    run_until(&ctx, is_started, t, 3000, "first keyframe");
    run_until(&ctx, got_keyframe, t, 1000, "requested keyframe");
    g_assert_cmpint(g_atomic_int_get(&t->first_was_delta), ==, 0);

    RrRecvTrackStats st;
    g_assert_true(rr_recv_get_stats(ctx.recv, 0, &st));
    g_test_message("%s: started at %" GST_TIME_FORMAT ", %" G_GUINT64_FORMAT
                   " dropped before start, %u PLI %u FIR",
                   codec, GST_TIME_ARGS(t->started_at), st.dropped_before_start, t->rtcp.pli,
                   t->rtcp.fir);
    g_assert_true(st.started);
    g_assert_cmpuint(st.first_media, ==, t->started_at);

    /* An explicit request, once the depayloader's own requests (made while it waited for
     * the keyframe) have been sent. */
    run_ms(&ctx, 1200);
    keyframes_before = g_atomic_int_get(&t->sender->keyframes);
    feedback_before = t->rtcp.pli + t->rtcp.fir;
    guint pli_before = t->rtcp.pli, fir_before = t->rtcp.fir;
    rr_recv_request_keyframe(ctx.recv, 0);
    run_until(&ctx, got_keyframe, t, 2000, "explicitly requested keyframe");
    /* Ours is a PLI when the sender takes PLI, a FIR when it only takes FIR. (The
     * depayloader's own requests after loss ask for "all headers", i.e. FIR if allowed.) */
    if (pli)
        g_assert_cmpuint(t->rtcp.pli, >, pli_before);
    else
        g_assert_cmpuint(t->rtcp.fir, >, fir_before);
    ctx_clear(&ctx);
}

static void test_keyframe_vp8_pli(void)
{
    keyframe_test("VP8", TRUE, TRUE);
}

static void test_keyframe_h264_fir(void)
{
    keyframe_test("H264", FALSE, TRUE);
}

/* Audio and video in one recording: one rtpbin, one session each, independent outputs
 * and RTCP for each. */
static void test_two_tracks(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx);
    Track *v = ctx_add(&ctx, "VP8", 30, TRUE, TRUE);
    Track *a = ctx_add(&ctx, "opus", 0, FALSE, FALSE);
    g_assert_cmpuint(rr_recv_get_n_tracks(ctx.recv), ==, 2);
    g_assert_cmpint(rr_recv_get_codec(ctx.recv, 1)->id, ==, RR_CODEC_OPUS);
    g_assert_cmpint(gst_element_set_state(ctx.pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
    rr_test_sender_start(v->sender);
    rr_test_sender_start(a->sender);
    run_until(&ctx, is_started, v, 3000, "video");
    run_until(&ctx, is_started, a, 3000, "audio");
    run_until(&ctx, has_outputs_100, a, 4000, "100 audio packets");
    g_assert_cmpint(g_atomic_int_get(&a->first_was_delta), ==, 0);
    g_assert_cmpuint(v->rtcp.packets, >, 0);
    g_assert_cmpuint(a->rtcp.packets, >, 0);
    RrRecvTrackStats st;
    g_assert_true(rr_recv_get_stats(ctx.recv, 1, &st));
    g_assert_cmpuint(st.rtp_packets_in, >=, 100);
    g_assert_cmpuint(st.rtcp_packets_out, >, 0);
    g_assert_false(rr_recv_get_stats(ctx.recv, 2, &st));
    ctx_clear(&ctx);
}

static void test_invalid(void)
{
    g_autoptr(GError) error = NULL;
    Ctx ctx = {0};
    ctx_init(&ctx);
    RrRecvTrackConfig c = {.encoding_name = "AV1X", .payload_type = 96};
    g_assert_cmpint(rr_recv_add_track(ctx.recv, &c, &error), ==, -1);
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    c.encoding_name = NULL;
    g_assert_cmpint(rr_recv_add_track(ctx.recv, &c, &error), ==, -1);
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    c.encoding_name = "VP8";
    c.rtx_payload_type = 96;
    g_assert_cmpint(rr_recv_add_track(ctx.recv, &c, &error), ==, -1);
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    c.rtx_payload_type = 97;
    g_assert_cmpint(rr_recv_add_track(ctx.recv, &c, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_null(rr_recv_get_track_pad(ctx.recv, 1));
    g_assert_null(rr_recv_get_codec(ctx.recv, 1));

    guint8 pkt[64] = {0x80, 96};
    g_assert_false(rr_recv_push_rtp(ctx.recv, 1, pkt, sizeof pkt, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_false(rr_recv_push_rtp(ctx.recv, 0, pkt, 11, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    pkt[0] = 0x40; /* version 1 */
    g_assert_false(rr_recv_push_rtcp(ctx.recv, 0, pkt, sizeof pkt, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_false(rr_recv_push_rtp(ctx.recv, 0, NULL, 0, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    /* Well-formed but garbage RTP while playing: dropped by rtpbin, nothing breaks. */
    g_assert_cmpint(gst_element_set_state(ctx.pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
    pkt[0] = 0x80;
    for (guint i = 0; i < 50; i++) {
        pkt[3] = (guint8)i;
        for (guint j = 12; j < sizeof pkt; j++)
            pkt[j] = (guint8)g_random_int();
        g_assert_true(rr_recv_push_rtp(ctx.recv, 0, pkt, sizeof pkt, &error));
        g_assert_no_error(error);
    }
    rr_recv_request_keyframe(ctx.recv, 0);
    rr_recv_request_keyframe(ctx.recv, 5);
    g_usleep(300 * 1000);
    ctx_clear(&ctx);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    main_thread = g_thread_self();
    g_test_add_func("/pipeline/recv/invalid", test_invalid);
    g_test_add_func("/pipeline/recv/keyframe/vp8-pli", test_keyframe_vp8_pli);
    g_test_add_func("/pipeline/recv/keyframe/h264-fir", test_keyframe_h264_fir);
    g_test_add_func("/pipeline/recv/two-tracks", test_two_tracks);
    int ret = g_test_run();
    gst_deinit();
    return ret;
}
