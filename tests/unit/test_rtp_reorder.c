/* Unit tests for pipeline/rtp-reorder: the element alone, playing, between a src pad that
 * pushes RTP packets (arrival times as PTS) and a sink pad that collects what comes out;
 * retransmission requests are caught where they leave the element upstream. */
#include "pipeline/rtp-reorder.h"

#include <gst/rtp/rtp.h>

#define SSRC 0x11223344u

typedef struct {
    GstElement *reorder;
    GstPad *in;       /* pushes into the element */
    GstPad *out;      /* collects from it */
    GArray *seqs;     /* guint16, in the order they came out */
    GArray *requests; /* guint seqnum of each retransmission request */
    guint32 request_ssrc;
    gboolean eos;
} Ctx;

static GstFlowReturn on_out_chain(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
    Ctx *ctx = g_object_get_data(G_OBJECT(pad), "ctx");
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    g_assert_true(gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp));
    guint16 seq = gst_rtp_buffer_get_seq(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    g_array_append_val(ctx->seqs, seq);
    gst_buffer_unref(buf);
    return GST_FLOW_OK;
}

static gboolean on_out_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
    Ctx *ctx = g_object_get_data(G_OBJECT(pad), "ctx");
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS)
        ctx->eos = TRUE;
    gst_event_unref(event);
    return TRUE;
}

static gboolean on_in_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
    Ctx *ctx = g_object_get_data(G_OBJECT(pad), "ctx");
    const GstStructure *s = gst_event_get_structure(event);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM && s != NULL &&
        gst_structure_has_name(s, "GstRTPRetransmissionRequest")) {
        guint seqnum = 0, ssrc = 0, deadline = 0;
        g_assert_true(gst_structure_get_uint(s, "seqnum", &seqnum));
        g_assert_true(gst_structure_get_uint(s, "ssrc", &ssrc));
        g_assert_true(gst_structure_get_uint(s, "deadline", &deadline));
        g_assert_cmpuint(deadline, >, 0);
        ctx->request_ssrc = ssrc;
        g_array_append_val(ctx->requests, seqnum);
    }
    gst_event_unref(event);
    return TRUE;
}

static void ctx_init(Ctx *ctx, guint latency_ms, gboolean rtx)
{
    ctx->seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
    ctx->requests = g_array_new(FALSE, FALSE, sizeof(guint));
    ctx->reorder = gst_object_ref_sink(rr_rtp_reorder_new());
    g_object_set(ctx->reorder, "latency", latency_ms, "do-retransmission", rtx, NULL);

    ctx->in = gst_pad_new("in", GST_PAD_SRC);
    g_object_set_data(G_OBJECT(ctx->in), "ctx", ctx);
    gst_pad_set_event_function(ctx->in, on_in_event);
    ctx->out = gst_pad_new("out", GST_PAD_SINK);
    g_object_set_data(G_OBJECT(ctx->out), "ctx", ctx);
    gst_pad_set_chain_function(ctx->out, on_out_chain);
    gst_pad_set_event_function(ctx->out, on_out_event);

    g_autoptr(GstPad) sink = gst_element_get_static_pad(ctx->reorder, "sink");
    g_autoptr(GstPad) src = gst_element_get_static_pad(ctx->reorder, "src");
    g_assert_cmpint(gst_pad_link(ctx->in, sink), ==, GST_PAD_LINK_OK);
    g_assert_cmpint(gst_pad_link(src, ctx->out), ==, GST_PAD_LINK_OK);
    gst_pad_set_active(ctx->in, TRUE);
    gst_pad_set_active(ctx->out, TRUE);
    g_assert_cmpint(gst_element_set_state(ctx->reorder, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);

    gst_pad_push_event(ctx->in, gst_event_new_stream_start("reorder-test"));
    g_autoptr(GstCaps) caps = gst_caps_from_string(
        "application/x-rtp, media=video, clock-rate=90000, encoding-name=VP8, payload=96");
    gst_pad_push_event(ctx->in, gst_event_new_caps(caps));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(ctx->in, gst_event_new_segment(&segment));
}

static void ctx_clear(Ctx *ctx)
{
    gst_element_set_state(ctx->reorder, GST_STATE_NULL);
    gst_pad_set_active(ctx->in, FALSE);
    gst_pad_set_active(ctx->out, FALSE);
    gst_object_unref(ctx->in);
    gst_object_unref(ctx->out);
    gst_object_unref(ctx->reorder);
    g_array_unref(ctx->seqs);
    g_array_unref(ctx->requests);
}

/* One RTP packet with sequence number @seq arriving at @arrival_ms. */
static void push(Ctx *ctx, guint16 seq, guint arrival_ms)
{
    GstBuffer *buf = gst_rtp_buffer_new_allocate(10, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    g_assert_true(gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp));
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_ssrc(&rtp, SSRC);
    gst_rtp_buffer_set_payload_type(&rtp, 96);
    gst_rtp_buffer_set_timestamp(&rtp, (guint32)seq * 3000);
    gst_rtp_buffer_unmap(&rtp);
    GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = (GstClockTime)arrival_ms * GST_MSECOND;
    g_assert_cmpint(gst_pad_push(ctx->in, buf), ==, GST_FLOW_OK);
}

/* What came out so far, as "1 2 3", and forget it. */
static char *take_out(Ctx *ctx)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < ctx->seqs->len; i++)
        g_string_append_printf(s, "%s%u", i ? " " : "", g_array_index(ctx->seqs, guint16, i));
    g_array_set_size(ctx->seqs, 0);
    return g_string_free(s, FALSE);
}

static guint64 stat(Ctx *ctx, const char *field)
{
    GstStructure *s = NULL;
    g_object_get(ctx->reorder, "stats", &s, NULL);
    g_assert_nonnull(s);
    guint64 v = 0;
    g_assert_true(gst_structure_get_uint64(s, field, &v));
    gst_structure_free(s);
    return v;
}

#define assert_out(ctx, expected)                                                                  \
    do {                                                                                           \
        g_autofree char *got_ = take_out(ctx);                                                     \
        g_assert_cmpstr(got_, ==, (expected));                                                     \
    } while (0)

static void test_in_order(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 500, TRUE);
    for (guint i = 0; i < 5; i++) {
        push(&ctx, (guint16)(100 + i), i * 10);
        g_autofree char *one = g_strdup_printf("%u", 100 + i);
        assert_out(&ctx, one); /* at once, on the pushing thread */
    }
    g_assert_cmpuint(ctx.requests->len, ==, 0);
    g_assert_cmpuint(stat(&ctx, "num-pushed"), ==, 5);
    g_assert_cmpuint(stat(&ctx, "num-lost"), ==, 0);
    ctx_clear(&ctx);
}

/* 4 before 3: 4 is held and 3 asked for; 3 releases both. */
static void test_reorder(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 500, TRUE);
    push(&ctx, 1, 0);
    push(&ctx, 2, 10);
    assert_out(&ctx, "1 2");
    push(&ctx, 4, 20);
    assert_out(&ctx, "");
    g_assert_cmpuint(ctx.requests->len, ==, 1);
    g_assert_cmpuint(g_array_index(ctx.requests, guint, 0), ==, 3);
    g_assert_cmpuint(ctx.request_ssrc, ==, SSRC);
    push(&ctx, 3, 25);
    assert_out(&ctx, "3 4");
    push(&ctx, 5, 30);
    assert_out(&ctx, "5");
    g_assert_cmpuint(stat(&ctx, "num-lost"), ==, 0);
    g_assert_cmpuint(stat(&ctx, "rtx-count"), ==, 1);
    ctx_clear(&ctx);
}

/* A missing packet is asked for again after RR_RTP_REORDER_RETRY_MS of arrivals, and
 * given up once it has been missing for the latency: what was held goes out after it. */
static void test_give_up(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 300, TRUE);
    push(&ctx, 1, 0);
    push(&ctx, 3, 10); /* 2 missing since 10 ms */
    push(&ctx, 4, 10 + RR_RTP_REORDER_RETRY_MS / 2);
    assert_out(&ctx, "1");
    g_assert_cmpuint(ctx.requests->len, ==, 1);
    push(&ctx, 5, 10 + RR_RTP_REORDER_RETRY_MS);
    g_assert_cmpuint(ctx.requests->len, ==, 2);
    g_assert_cmpuint(g_array_index(ctx.requests, guint, 1), ==, 2);
    push(&ctx, 6, 300); /* 290 ms missing: still waited for */
    assert_out(&ctx, "");
    push(&ctx, 7, 310); /* 300 ms: given up */
    assert_out(&ctx, "3 4 5 6 7");
    g_assert_cmpuint(stat(&ctx, "num-lost"), ==, 1);
    push(&ctx, 2, 320); /* too late */
    assert_out(&ctx, "");
    g_assert_cmpuint(stat(&ctx, "num-late"), ==, 1);
    ctx_clear(&ctx);
}

/* Without do-retransmission nothing is asked for; duplicates are dropped. */
static void test_no_rtx_duplicates(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 500, FALSE);
    push(&ctx, 1, 0);
    push(&ctx, 3, 1);
    push(&ctx, 3, 2);
    push(&ctx, 1, 3);
    g_assert_cmpuint(ctx.requests->len, ==, 0);
    push(&ctx, 2, 4);
    assert_out(&ctx, "1 2 3");
    g_assert_cmpuint(stat(&ctx, "num-duplicates"), ==, 1);
    g_assert_cmpuint(stat(&ctx, "num-late"), ==, 1);
    ctx_clear(&ctx);
}

/* Sequence numbers wrap; a jump of thousands restarts the sequence. */
static void test_wrap_and_jump(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 500, TRUE);
    push(&ctx, 65534, 0);
    push(&ctx, 65535, 1);
    push(&ctx, 1, 2);
    assert_out(&ctx, "65534 65535");
    push(&ctx, 0, 3);
    assert_out(&ctx, "0 1");
    g_assert_cmpuint(ctx.requests->len, ==, 1);
    g_assert_cmpuint(g_array_index(ctx.requests, guint, 0), ==, 0);
    push(&ctx, 20000, 4); /* a restarted sender */
    push(&ctx, 20001, 5);
    assert_out(&ctx, "20000 20001");
    g_assert_cmpuint(stat(&ctx, "num-lost"), ==, 0);
    ctx_clear(&ctx);
}

/* EOS lets out everything held, in order, before it. */
static void test_eos(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 500, TRUE);
    push(&ctx, 1, 0);
    push(&ctx, 4, 1);
    push(&ctx, 3, 2);
    assert_out(&ctx, "1");
    g_assert_true(gst_pad_push_event(ctx.in, gst_event_new_eos()));
    assert_out(&ctx, "3 4");
    g_assert_true(ctx.eos);
    g_assert_cmpuint(stat(&ctx, "num-lost"), ==, 1);
    ctx_clear(&ctx);
}

/* What is not RTP is dropped, not passed on. */
static void test_not_rtp(void)
{
    Ctx ctx = {0};
    ctx_init(&ctx, 500, TRUE);
    static const guint8 junk[] = {0x00, 0x01, 0x02};
    GstBuffer *buf = gst_buffer_new_memdup(junk, sizeof junk);
    GST_BUFFER_PTS(buf) = 0;
    g_assert_cmpint(gst_pad_push(ctx.in, buf), ==, GST_FLOW_OK);
    push(&ctx, 7, 1);
    assert_out(&ctx, "7");
    ctx_clear(&ctx);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/rtp-reorder/in-order", test_in_order);
    g_test_add_func("/pipeline/rtp-reorder/reorder", test_reorder);
    g_test_add_func("/pipeline/rtp-reorder/give-up", test_give_up);
    g_test_add_func("/pipeline/rtp-reorder/no-rtx-duplicates", test_no_rtx_duplicates);
    g_test_add_func("/pipeline/rtp-reorder/wrap-and-jump", test_wrap_and_jump);
    g_test_add_func("/pipeline/rtp-reorder/eos", test_eos);
    g_test_add_func("/pipeline/rtp-reorder/not-rtp", test_not_rtp);
    return g_test_run();
}
