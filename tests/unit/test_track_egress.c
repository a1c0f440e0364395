/* Unit tests for pipeline/track-egress: a real RTP sender (tests/unit/rtp-sender.h)
 * feeds one track into an RrTrackEgress, RTCP flows both ways, and the files written
 * are checked by decoding them with ffprobe/ffmpeg. */
#include "pipeline/pipeline-error.h"
#include "pipeline/track-egress.h"
#include "rtp-sender.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
/* Full unwinding for allocation stacks: GLib has no frame pointers, and the one
 * suppressed GLib-internal leak (tests/lsan.supp) is only recognisable by its callers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

typedef struct Network Network;

typedef struct {
    GMainLoop *loop;
    RrTrackEgress *egress;
    RrTestSender *sender;
    Network *net;         /* NULL: packets go straight to the egress */
    RrTestRtcpCount rtcp; /* what the egress sent back */
    gboolean started;
    gint64 started_us;
    gint64 stopped_us;
    gboolean finished;
    RrTrackEgressResult result;
    char *result_path;
    GError *error;
} Ctx;

static void network_send(Network *net, const guint8 *data, gsize len);

static void on_sender_rtp(const guint8 *data, gsize len, gpointer user_data)
{
    Ctx *ctx = user_data;
    if (ctx->net != NULL)
        network_send(ctx->net, data, len);
    else
        rr_track_egress_push_rtp(ctx->egress, data, len, NULL);
}

static void on_sender_rtcp(const guint8 *data, gsize len, gpointer user_data)
{
    Ctx *ctx = user_data;
    rr_track_egress_push_rtcp(ctx->egress, data, len, NULL);
}

static void on_rtcp_out(GBytes *packet, gpointer user_data)
{
    Ctx *ctx = user_data;
    gsize len;
    const guint8 *data = g_bytes_get_data(packet, &len);
    rr_test_rtcp_count(data, len, &ctx->rtcp);
    if (ctx->sender)
        rr_test_sender_push_rtcp(ctx->sender, data, len);
}

static void on_started(GstClockTime running_time, gpointer user_data)
{
    Ctx *ctx = user_data;
    g_assert_false(ctx->started);
    ctx->started = TRUE;
    ctx->started_us = g_get_monotonic_time();
    g_main_loop_quit(ctx->loop);
}

static void on_finished(const RrTrackEgressResult *result, const GError *error, gpointer user_data)
{
    Ctx *ctx = user_data;
    g_assert_false(ctx->finished);
    ctx->finished = TRUE;
    ctx->result = *result;
    ctx->result_path = g_strdup(result->path);
    ctx->result.path = ctx->result_path;
    if (error)
        ctx->error = g_error_copy(error);
    g_main_loop_quit(ctx->loop);
}

#define run_for(ctx, ms)               rr_test_run_for((ctx)->loop, (ms))
#define run_until(ctx, flag, ms, what) rr_test_run_until((ctx)->loop, (flag), (ms), (what))

static const RrTrackEgressCallbacks callbacks = {
    .rtcp_out = on_rtcp_out, .started = on_started, .finished = on_finished};

static RrRecvTrackConfig track_config(RrTestSender *s)
{
    RrRecvTrackConfig c = {
        .encoding_name = s->codec,
        .payload_type = s->pt,
        .rtx_payload_type = s->rtx_pt,
        .ssrc = s->ssrc,
        .nack = s->rtx_pt != 0,
        .nack_pli = s->rtx_pt != 0,
        .ccm_fir = s->rtx_pt != 0,
    };
    return c;
}

/* Records @codec for @seconds with 1 of @drop_every packets lost; fills @ctx. */
static void record(Ctx *ctx, const char *codec, guint keyint, guint drop_every, guint ms,
                   const char *path)
{
    g_autoptr(GError) error = NULL;
    ctx->loop = g_main_loop_new(NULL, FALSE);
    ctx->sender = rr_test_sender_new(codec, keyint, drop_every, on_sender_rtp, on_sender_rtcp, ctx);
    RrTrackEgressConfig config = {.track = track_config(ctx->sender), .path = path};
    ctx->egress = rr_track_egress_new(&config, NULL, &callbacks, ctx, &error);
    g_assert_no_error(error);
    g_assert_true(rr_track_egress_start(ctx->egress, &error));
    g_assert_no_error(error);
    rr_test_sender_start(ctx->sender);

    run_until(ctx, &ctx->started, 5000, "first decodable media");
    run_for(ctx, ms);
    ctx->stopped_us = g_get_monotonic_time();
    rr_track_egress_stop(ctx->egress, 10000);
    run_until(ctx, &ctx->finished, 12000, "egress finished");
    rr_test_sender_stop(ctx->sender);
}

static void ctx_clear(Ctx *ctx)
{
    if (ctx->sender)
        rr_test_sender_stop(ctx->sender);
    g_clear_pointer(&ctx->egress, rr_track_egress_free);
    g_clear_pointer(&ctx->sender, rr_test_sender_free);
    g_clear_pointer(&ctx->loop, g_main_loop_unref);
    g_clear_pointer(&ctx->result_path, g_free);
    g_clear_error(&ctx->error);
}

static char *temp_dir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("rr-egress-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

/* The file decodes fully, holds the source codec, lasts as long as we recorded, and has
 * about @rate units per second. */
static void check_output(Ctx *ctx, const char *path, const char *codec, double rate,
                         double frame_tolerance)
{
    g_assert_no_error(ctx->error);
    g_assert_true(ctx->result.complete);
    g_assert_cmpstr(ctx->result.path, ==, path);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    g_autofree char *part = g_strconcat(path, ".part", NULL);
    g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(ctx->result.size, >, 1000);

    RrTestProbe probe;
    g_assert_true(rr_test_ffprobe(path, &probe));
    g_autofree char *errors = NULL;
    gboolean clean = rr_test_decodes_clean(path, &errors);
    /* First media is reported as it leaves the jitterbuffer, and stopping flushes what
     * had arrived: the media recorded spans the wall time plus the latency. */
    double recorded =
        (ctx->stopped_us - ctx->started_us) / 1e6 + RR_RECV_DEFAULT_LATENCY_MS / 1000.0;
    double reported = ctx->result.duration / 1e9;
    g_test_message("%s: %s/%s, %.3f s (reported %.3f, recorded %.3f), %" G_GINT64_FORMAT
                   " frames, %" G_GUINT64_FORMAT " bytes; rtcp out %u (rr %u nack %u pli %u)",
                   path, probe.format, probe.codec, probe.duration, reported, recorded,
                   probe.frames, ctx->result.size, ctx->rtcp.packets, ctx->rtcp.rr, ctx->rtcp.nack,
                   ctx->rtcp.pli);
    if (!clean)
        g_test_message("ffmpeg: %s", errors);
    g_assert_true(clean);
    g_assert_cmpstr(probe.codec, ==, codec);
    g_assert_cmpfloat(probe.duration, >, 0);
    g_assert_cmpfloat(fabs(probe.duration - recorded), <, 0.5);
    g_assert_cmpfloat(fabs(probe.duration - reported), <, 0.25);
    double expected = rate * probe.duration;
    g_assert_cmpfloat(fabs(probe.frames - expected), <=, expected * frame_tolerance + 1);
    g_assert_cmpuint(ctx->rtcp.rr, >, 0);
}

static void test_codec(const char *codec, const char *ext, const char *ff_codec, double rate)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *name = g_strdup_printf("track.%s", ext);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    Ctx ctx = {0};
    record(&ctx, codec, 60, 0, 4000, path);
    check_output(&ctx, path, ff_codec, rate, 0.10);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

static void test_vp8(void)
{
    test_codec("VP8", "webm", "vp8", 30);
}

static void test_h264(void)
{
    test_codec("H264", "mp4", "h264", 30);
}

static void test_opus(void)
{
    test_codec("OPUS", "ogg", "opus", 50); /* 20 ms frames */
}

/* 5% of media packets lost: the jitterbuffer NACKs them, the sender retransmits them on
 * the RTX SSRC, and the file still decodes with (almost) every frame. */
static void test_loss(gconstpointer data)
{
    const char *codec = data;
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "loss.out", NULL);
    Ctx ctx = {0};
    record(&ctx, codec, 60, 20, 4000, path);
    const RrRecvTrackStats *st = &ctx.result.recv;
    g_test_message(
        "%s: dropped %d of %d, rtx sent %d, NACK packets %u, rtx requests %" G_GUINT64_FORMAT
        ", rtx restored %" G_GUINT64_FORMAT ", lost %" G_GUINT64_FORMAT,
        codec, ctx.sender->dropped, ctx.sender->media_packets, ctx.sender->rtx_packets,
        ctx.rtcp.nack, st->rtx_requests, st->rtx_packets, st->jb_lost);
    g_assert_cmpint(ctx.sender->dropped, >=, 5);
    g_assert_cmpuint(ctx.rtcp.nack, >, 0);
    g_assert_cmpint(ctx.sender->rtx_packets, >, 0);
    g_assert_cmpuint(st->rtx_requests, >=, (guint64)ctx.sender->dropped);
    g_assert_cmpuint(st->rtx_packets, >=, (guint64)ctx.sender->dropped * 8 / 10);
    /* A retransmission that misses the jitterbuffer deadline (rtpsession holds a second
     * NACK until the next regular RTCP) costs the frames up to the next keyframe. */
    /* The NACK/RTX assertions above carry this test. The frame count is loose: a packet
     * whose retransmission comes too late (GStreamer 1.22's rtpsession sends one early
     * feedback packet per RTCP interval, and a loaded machine delays more) costs every
     * frame up to the next keyframe, so it depends on timing, which tests must not. */
    check_output(&ctx, path, g_str_equal(codec, "VP8") ? "vp8" : "h264", 30, 0.5);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* ---- bursty arrival: the network holds the first packets, then releases them at once ---- */

/* A one-way network between the sender and the egress: every RTP packet is delayed by a
 * random jitter (without reordering), and everything sent during the first @hold_ms is
 * held back and delivered in one burst when the hold ends — as a real SFU connection
 * often delivers its first packets. A thread delivers packets at their due time. */
struct Network {
    GMutex lock;
    GCond cond;
    GQueue queue; /* Delayed, due times non-decreasing */
    GRand *rand;
    gint64 hold_us, jitter_us;
    guint clock_rate;
    gint64 first_gen_us;          /* when the sender produced the first packet, 0: none yet */
    gint64 last_due_us;           /* keeps delivery in order */
    gint64 last_delivered_gen_us; /* when the sender produced the last packet delivered */
    /* RTP timestamps as the sender stamped them (before any jump): its capture clock. */
    guint32 first_ts, last_delivered_ts;
    guint delivered;
    /* The sender's RTP clock jumps by jump_ticks[i] at jump_at_us[i] after its start. */
    gint64 jump_at_us[2];
    gint32 jump_ticks[2];
    gboolean quit;
    GThread *thread;
    RrTrackEgress *egress;
};

typedef struct {
    gint64 gen_us, due_us;
    guint32 ts; /* as the sender stamped it */
    GBytes *data;
} Delayed;

static void delayed_free(gpointer p)
{
    Delayed *d = p;
    g_bytes_unref(d->data);
    g_free(d);
}

static void network_send(Network *net, const guint8 *data, gsize len)
{
    Delayed *d = g_new0(Delayed, 1);
    d->gen_us = g_get_monotonic_time();
    g_mutex_lock(&net->lock);
    d->ts = GST_READ_UINT32_BE(data + 4);
    if (net->first_gen_us == 0) {
        net->first_gen_us = d->gen_us;
        net->first_ts = d->ts;
    }
    guint8 *copy = g_memdup2(data, len);
    for (guint i = 0; i < G_N_ELEMENTS(net->jump_at_us); i++) {
        if (net->jump_ticks[i] != 0 && d->gen_us - net->first_gen_us >= net->jump_at_us[i])
            GST_WRITE_UINT32_BE(copy + 4,
                                GST_READ_UINT32_BE(copy + 4) + (guint32)net->jump_ticks[i]);
    }
    d->data = g_bytes_new_take(copy, len);
    d->due_us = d->gen_us + g_rand_int_range(net->rand, 0, (gint32)net->jitter_us + 1);
    if (d->gen_us < net->first_gen_us + net->hold_us)
        d->due_us = MAX(d->due_us, net->first_gen_us + net->hold_us);
    d->due_us = MAX(d->due_us, net->last_due_us);
    net->last_due_us = d->due_us;
    g_queue_push_tail(&net->queue, d);
    g_cond_signal(&net->cond);
    g_mutex_unlock(&net->lock);
}

static gpointer network_thread(gpointer data)
{
    Network *net = data;
    g_mutex_lock(&net->lock);
    while (!net->quit) {
        Delayed *d = g_queue_peek_head(&net->queue);
        if (d == NULL) {
            g_cond_wait(&net->cond, &net->lock);
            continue;
        }
        if (g_get_monotonic_time() < d->due_us) {
            g_cond_wait_until(&net->cond, &net->lock, d->due_us);
            continue;
        }
        g_queue_pop_head(&net->queue);
        net->last_delivered_gen_us = d->gen_us;
        net->last_delivered_ts = d->ts;
        net->delivered++;
        g_mutex_unlock(&net->lock);
        gsize len;
        const guint8 *bytes = g_bytes_get_data(d->data, &len);
        rr_track_egress_push_rtp(net->egress, bytes, len, NULL);
        delayed_free(d);
        g_mutex_lock(&net->lock);
    }
    g_mutex_unlock(&net->lock);
    return NULL;
}

/* The media the sender captured from its first packet to the last one delivered, in
 * seconds, by its own capture clock (its live source's timestamps, which its payloader
 * turned into RTP timestamps). */
static double network_media_sent(Network *net, double frame)
{
    g_mutex_lock(&net->lock);
    double sent = (guint32)(net->last_delivered_ts - net->first_ts) / (double)net->clock_rate;
    double wall = (net->last_delivered_gen_us - net->first_gen_us) / 1e6;
    g_mutex_unlock(&net->lock);
    g_test_message("media sent: %.3f s by the sender's capture clock, its packets came out over "
                   "%.3f s",
                   sent + frame, wall);
    return sent + frame;
}

static Network *network_new(RrTrackEgress *egress, guint clock_rate, guint hold_ms, guint jitter_ms)
{
    Network *net = g_new0(Network, 1);
    net->clock_rate = clock_rate;
    g_mutex_init(&net->lock);
    g_cond_init(&net->cond);
    g_queue_init(&net->queue);
    net->rand = g_rand_new_with_seed(4242);
    net->hold_us = (gint64)hold_ms * 1000;
    net->jitter_us = (gint64)jitter_ms * 1000;
    net->egress = egress;
    net->thread = g_thread_new("network", network_thread, net);
    return net;
}

/* Stops delivering (what is still in flight is lost); no pushes after this returns. */
/* Whether every packet sent during the hold has been delivered: a packet sent after it
 * has (delivery is in order). */
static gboolean network_burst_delivered(Network *net)
{
    g_mutex_lock(&net->lock);
    gboolean done =
        net->first_gen_us != 0 && net->last_delivered_gen_us >= net->first_gen_us + net->hold_us;
    g_mutex_unlock(&net->lock);
    return done;
}

static void network_stop(Network *net)
{
    g_mutex_lock(&net->lock);
    net->quit = TRUE;
    g_cond_signal(&net->cond);
    g_mutex_unlock(&net->lock);
    g_clear_pointer(&net->thread, g_thread_join);
}

/* Only once the sender has stopped (it calls network_send). */
static void network_free(Network *net)
{
    network_stop(net);
    g_queue_clear_full(&net->queue, delayed_free);
    g_rand_free(net->rand);
    g_mutex_clear(&net->lock);
    g_cond_clear(&net->cond);
    g_free(net);
}

/* One packet of the file as ffprobe reads it (decode order). */
typedef struct {
    double pts, dts; /* seconds */
    gboolean key;
} Packet;

static GArray *probe_packets(const char *path)
{
    const char *argv[] = {"ffprobe",
                          "-v",
                          "error",
                          "-select_streams",
                          "0",
                          "-show_entries",
                          "packet=pts_time,dts_time,flags",
                          "-of",
                          "csv=p=0",
                          path,
                          NULL};
    g_autofree char *out = NULL;
    gint status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    GArray *packets = g_array_new(FALSE, TRUE, sizeof(Packet));
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, ",", -1);
        if (g_strv_length(f) < 3)
            continue;
        Packet p = {.pts = g_ascii_strtod(f[0], NULL), .key = strchr(f[2], 'K') != NULL};
        p.dts = g_ascii_isdigit(f[1][0]) || f[1][0] == '-' ? g_ascii_strtod(f[1], NULL) : p.pts;
        g_array_append_val(packets, p);
    }
    return packets;
}

typedef struct {
    const char *codec, *ext, *ff_codec;
    double frame; /* seconds between the source's frames (RTP timestamp step) */
} BurstCase;

/* An egress of @bc's codec to @path whose first 600 ms of packets arrive in one burst,
 * every packet with up to 30 ms of jitter; returns once media has started. */
static void burst_start(Ctx *ctx, const BurstCase *bc, const char *path)
{
    g_autoptr(GError) error = NULL;
    ctx->loop = g_main_loop_new(NULL, FALSE);
    ctx->sender = rr_test_sender_new(bc->codec, 60, 0, on_sender_rtp, on_sender_rtcp, ctx);
    RrTrackEgressConfig config = {.track = track_config(ctx->sender), .path = path};
    ctx->egress = rr_track_egress_new(&config, NULL, &callbacks, ctx, &error);
    g_assert_no_error(error);
    g_assert_true(rr_track_egress_start(ctx->egress, &error));
    ctx->net = network_new(ctx->egress, g_str_equal(bc->codec, "OPUS") ? 48000 : 90000, 600, 30);
    rr_test_sender_start(ctx->sender);
    run_until(ctx, &ctx->started, 10000, "first decodable media");
}

/* The first 600 ms of packets arrive in one burst, every packet with up to 30 ms of
 * jitter. The file must still follow the source's RTP timeline: start at 0 on a
 * keyframe, strictly increasing DTS, every step a whole number of source frames (no
 * jitter, no compression while the jitterbuffer's clock-skew estimate settles), and last
 * as long as the media the sender produced up to the last packet delivered. */
static void test_burst(gconstpointer data)
{
    const BurstCase *bc = data;
    g_autofree char *dir = temp_dir();
    g_autofree char *name = g_strdup_printf("burst.%s", bc->ext);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    Ctx ctx = {0};
    burst_start(&ctx, bc, path);
    /* The media may begin before the whole burst is in (packets are put in order as they
     * are pushed); once it is, all of it is received media, written or not. */
    for (guint i = 0; i < 1000 && !network_burst_delivered(ctx.net); i++)
        run_for(&ctx, 10);
    g_assert_true(network_burst_delivered(ctx.net));
    GstClockTime at_start = rr_track_egress_get_received(ctx.egress);
    run_for(&ctx, 4000);
    network_stop(ctx.net);
    ctx.stopped_us = g_get_monotonic_time();
    GstClockTime at_stop = rr_track_egress_get_received(ctx.egress);
    rr_track_egress_stop(ctx.egress, 10000);
    run_until(&ctx, &ctx.finished, 12000, "egress finished");
    rr_test_sender_stop(ctx.sender);

    g_assert_no_error(ctx.error);
    g_assert_true(ctx.result.complete);
    g_autoptr(GArray) packets = probe_packets(path);
    RrTestProbe probe;
    g_assert_true(rr_test_ffprobe(path, &probe));
    g_autofree char *errors = NULL;
    gboolean clean = rr_test_decodes_clean(path, &errors);
    double sent = network_media_sent(ctx.net, bc->frame);
    guint backwards = 0, irregular = 0;
    for (guint i = 1; i < packets->len; i++) {
        const Packet *a = &g_array_index(packets, Packet, i - 1);
        const Packet *b = &g_array_index(packets, Packet, i);
        double step = b->pts - a->pts;
        double frames = round(step / bc->frame);
        if (b->dts <= a->dts) {
            if (backwards++ == 0)
                g_test_message("packet %u: dts %.6f after %.6f", i, b->dts, a->dts);
        }
        if (frames < 1 || fabs(step - frames * bc->frame) > 0.002) {
            if (irregular++ == 0)
                g_test_message("packet %u: pts %.6f after %.6f (step %.2f ms)", i, b->pts, a->pts,
                               step * 1000);
        }
    }
    const Packet *first = packets->len ? &g_array_index(packets, Packet, 0) : NULL;
    g_test_message("%s: %u packets (%u delivered), first pts %.6f, %u going back, %u off the "
                   "source's frame grid; %.3f s (reported %.3f, sent %.3f)",
                   path, packets->len, ctx.net->delivered, first ? first->pts : -1, backwards,
                   irregular, probe.duration, ctx.result.duration / 1e9, sent);
    if (!clean)
        g_test_message("ffmpeg: %s", errors);
    g_assert_cmpstr(probe.codec, ==, bc->ff_codec);
    g_assert_cmpuint(packets->len, >, 2.5 / bc->frame);
    g_assert_cmpfloat(fabs(first->pts), <, 0.001);
    g_assert_true(first->key);
    g_assert_cmpuint(backwards, ==, 0);
    g_assert_cmpuint(irregular, ==, 0);
    g_assert_true(clean);
    g_assert_cmpfloat(fabs(probe.duration - sent), <, 0.5);
    g_assert_cmpfloat(fabs(probe.duration - ctx.result.duration / 1e9), <, 0.25);
    /* What the egress said it had received is what the file holds. */
    g_test_message("received: %.3f s when started, %.3f s when stopped", at_start / 1e9,
                   at_stop / 1e9);
    g_assert_true(GST_CLOCK_TIME_IS_VALID(at_start) && GST_CLOCK_TIME_IS_VALID(at_stop));
    /* The burst: 600 ms, less a unit for where the hold fell between two packets. */
    g_assert_cmpfloat(at_start / 1e9, >=, 0.6 - bc->frame - 0.001);
    g_assert_cmpfloat(fabs(probe.duration - at_stop / 1e9), <, 0.1);

    g_clear_pointer(&ctx.net, network_free);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* A limit on the media held (rr_track_egress_set_limit, what a duration limit sets):
 * with the first 600 ms arriving in a burst the media received runs ahead of the clock,
 * and the file is cut at the limit all the same, however much more was received. */
static void test_limit(gconstpointer data)
{
    const BurstCase *bc = data;
    g_autofree char *dir = temp_dir();
    g_autofree char *name = g_strdup_printf("limit.%s", bc->ext);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    Ctx ctx = {0};
    burst_start(&ctx, bc, path);
    const GstClockTime limit = 1500 * GST_MSECOND;
    rr_track_egress_set_limit(ctx.egress, limit);
    run_for(&ctx, 3000);
    network_stop(ctx.net);
    GstClockTime at_stop = rr_track_egress_get_received(ctx.egress);
    rr_track_egress_stop(ctx.egress, 10000);
    run_until(&ctx, &ctx.finished, 12000, "egress finished");
    rr_test_sender_stop(ctx.sender);

    g_assert_no_error(ctx.error);
    g_assert_true(ctx.result.complete);
    RrTestProbe probe;
    g_assert_true(rr_test_ffprobe(path, &probe));
    g_autofree char *errors = NULL;
    gboolean clean = rr_test_decodes_clean(path, &errors);
    g_test_message("%s: %.3f s (reported %.3f) with a limit of %.3f s; %.3f s received", path,
                   probe.duration, ctx.result.duration / 1e9, limit / 1e9, at_stop / 1e9);
    if (!clean)
        g_test_message("ffmpeg: %s", errors);
    g_assert_true(clean);
    g_assert_cmpstr(probe.codec, ==, bc->ff_codec);
    g_assert_cmpuint(at_stop, >, limit + GST_SECOND);
    /* Units starting before the limit are kept: the last one may end a unit after it. */
    g_assert_cmpfloat(probe.duration, <=, limit / 1e9 + bc->frame + 0.001);
    g_assert_cmpfloat(probe.duration, >, limit / 1e9 - 2 * bc->frame - 0.001);
    g_assert_cmpfloat(fabs(probe.duration - ctx.result.duration / 1e9), <, 0.05);

    g_clear_pointer(&ctx.net, network_free);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* The sender's RTP clock jumps 10 s forward after 1.5 s, then 20 s back after 3 s (a
 * restarted or broken sender): the file goes on right after the previous frame both
 * times, stays monotonic, and still lasts as long as the media sent. */
static void test_rtp_jump(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "jump.ogg", NULL);
    g_autoptr(GError) error = NULL;
    Ctx ctx = {0};
    ctx.loop = g_main_loop_new(NULL, FALSE);
    ctx.sender = rr_test_sender_new("OPUS", 0, 0, on_sender_rtp, on_sender_rtcp, &ctx);
    RrTrackEgressConfig config = {.track = track_config(ctx.sender), .path = path};
    ctx.egress = rr_track_egress_new(&config, NULL, &callbacks, &ctx, &error);
    g_assert_no_error(error);
    g_assert_true(rr_track_egress_start(ctx.egress, &error));
    ctx.net = network_new(ctx.egress, 48000, 0, 10);
    g_mutex_lock(&ctx.net->lock);
    ctx.net->jump_at_us[0] = 1500 * 1000;
    ctx.net->jump_ticks[0] = 10 * 48000;
    ctx.net->jump_at_us[1] = 3000 * 1000;
    ctx.net->jump_ticks[1] = -20 * 48000;
    g_mutex_unlock(&ctx.net->lock);
    rr_test_sender_start(ctx.sender);
    run_until(&ctx, &ctx.started, 10000, "first decodable media");
    run_for(&ctx, 4000);
    network_stop(ctx.net);
    rr_track_egress_stop(ctx.egress, 10000);
    run_until(&ctx, &ctx.finished, 12000, "egress finished");
    rr_test_sender_stop(ctx.sender);

    g_assert_no_error(ctx.error);
    g_assert_true(ctx.result.complete);
    g_autoptr(GArray) packets = probe_packets(path);
    RrTestProbe probe;
    g_assert_true(rr_test_ffprobe(path, &probe));
    g_autofree char *errors = NULL;
    gboolean clean = rr_test_decodes_clean(path, &errors);
    double sent = network_media_sent(ctx.net, 0.020);
    guint backwards = 0, irregular = 0;
    double largest = 0;
    for (guint i = 1; i < packets->len; i++) {
        const Packet *a = &g_array_index(packets, Packet, i - 1);
        const Packet *b = &g_array_index(packets, Packet, i);
        backwards += b->dts <= a->dts;
        if (fabs(b->pts - a->pts - 0.020) > 0.0005) {
            irregular++;
            largest = MAX(largest, b->pts - a->pts);
        }
    }
    g_test_message("%s: %u packets, %u going back, %u irregular steps (largest %.3f s), "
                   "%" G_GUINT64_FORMAT " timeline breaks; %.3f s (reported %.3f, sent %.3f)",
                   path, packets->len, backwards, irregular, largest,
                   ctx.result.recv.timeline_breaks, probe.duration, ctx.result.duration / 1e9,
                   sent);
    if (!clean)
        g_test_message("ffmpeg: %s", errors);
    g_assert_cmpuint(ctx.result.recv.timeline_breaks, ==, 2);
    g_assert_cmpuint(backwards, ==, 0);
    g_assert_cmpuint(irregular, <=, 2);
    g_assert_cmpfloat(largest, <, 0.5);
    g_assert_true(clean);
    g_assert_cmpfloat(fabs(probe.duration - sent), <, 0.5);

    g_clear_pointer(&ctx.net, network_free);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* Stopping before any media arrived still finishes (quickly) with a valid result. */
static void test_no_media(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "empty.webm", NULL);
    g_autoptr(GError) error = NULL;
    Ctx ctx = {0};
    ctx.loop = g_main_loop_new(NULL, FALSE);
    RrTrackEgressConfig config = {
        .track = {.encoding_name = "vp8", .payload_type = 96, .rtx_payload_type = 97},
        .path = path};
    ctx.egress = rr_track_egress_new(&config, NULL, &callbacks, &ctx, &error);
    g_assert_no_error(error);
    g_assert_true(rr_track_egress_start(ctx.egress, &error));
    run_for(&ctx, 300);
    gint64 t0 = g_get_monotonic_time();
    rr_track_egress_stop(ctx.egress, 3000);
    run_until(&ctx, &ctx.finished, 5000, "empty egress finished");
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
    g_assert_no_error(ctx.error);
    g_assert_false(ctx.started);
    g_assert_cmpuint(ctx.result.units, ==, 0);
    g_assert_cmpuint(ctx.result.duration, ==, 0);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

static void test_bad_config(void)
{
    g_autoptr(GError) error = NULL;
    RrTrackEgressConfig config = {.track = {.encoding_name = "G722", .payload_type = 9},
                                  .path = "/tmp/x.ogg"};
    g_assert_null(rr_track_egress_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);

    config.track.encoding_name = "opus";
    config.path = "/nonexistent-dir/x.ogg";
    g_assert_null(rr_track_egress_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO);
    g_clear_error(&error);

    config.path = "";
    g_assert_null(rr_track_egress_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);

    config.path = "/tmp/x.ogg";
    config.track.payload_type = 200;
    g_assert_null(rr_track_egress_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);

    /* Garbage packets are refused with an error, never a crash. */
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "g.ogg", NULL);
    config.track.payload_type = 111;
    config.path = path;
    g_autoptr(RrTrackEgress) egress = rr_track_egress_new(&config, NULL, NULL, NULL, &error);
    g_assert_no_error(error);
    static const guint8 junk[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                  0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};
    g_assert_false(rr_track_egress_push_rtp(egress, junk, sizeof junk, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_false(rr_track_egress_push_rtcp(egress, junk, 3, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_false(
        rr_recv_push_rtp(rr_track_egress_get_recv(egress), 7, junk, sizeof junk, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_clear_pointer(&egress, rr_track_egress_free);
    rr_test_remove_dir(dir);
}

/* ---- kill -9: a child records H.264 into fragmented MP4 and is killed mid-way ---- */

#define CHILD_ARG "--rr-egress-child"

static int child_main(const char *path)
{
    gst_init(NULL, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    Ctx ctx = {0};
    ctx.loop = g_main_loop_new(NULL, FALSE);
    ctx.sender = rr_test_sender_new("H264", 30, 0, on_sender_rtp, on_sender_rtcp, &ctx);
    RrTrackEgressConfig config = {.track = track_config(ctx.sender), .path = path};
    ctx.egress = rr_track_egress_new(&config, NULL, &callbacks, &ctx, NULL);
    if (ctx.egress == NULL || !rr_track_egress_start(ctx.egress, NULL))
        return 2;
    rr_test_sender_start(ctx.sender);
    run_for(&ctx, 20000); /* never reached: the parent kills us long before */
    return 3;
}

static void test_kill(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "killed.mp4", NULL);
    g_autofree char *part = g_strconcat(path, ".part", NULL);
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_assert_nonnull(self);
    char *argv[] = {self, CHILD_ARG, path, NULL};
    GPid pid;
    g_autoptr(GError) error = NULL;
    g_assert_true(
        g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &error));
    g_assert_no_error(error);
    /* About 4 s of recording (~20 kB/s here); slow (sanitizer) builds get longer. */
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    GStatBuf st = {0};
    do {
        g_usleep(250 * 1000);
    } while ((g_stat(part, &st) != 0 || st.st_size < 80 * 1000) &&
             g_get_monotonic_time() < deadline);
    kill(pid, SIGKILL);
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(part, G_FILE_TEST_IS_REGULAR));
    RrTestProbe probe;
    rr_test_ffprobe(part, &probe); /* ffprobe complains about the cut-off tail */
    g_test_message("killed file: %s/%s, %" G_GINT64_FORMAT " frames decoded", probe.format,
                   probe.codec, probe.frames);
    g_assert_cmpstr(probe.codec, ==, "h264");
    g_assert_cmpint(probe.frames, >=, 60); /* ≥ 2 s at 30 fps */
    rr_test_remove_dir(dir);
}

/* ---- CPU: replay 4 s of captured H.264 RTP into an egress, nothing else running ---- */

typedef struct {
    gint64 at_us;
    gboolean rtcp;
    GBytes *data;
} Captured;

static void capture_rtp(const guint8 *data, gsize len, gpointer user_data)
{
    static GMutex lock;
    GPtrArray *list = user_data;
    Captured *c = g_new0(Captured, 1);
    c->at_us = g_get_monotonic_time();
    c->data = g_bytes_new(data, len);
    g_mutex_lock(&lock);
    g_ptr_array_add(list, c);
    g_mutex_unlock(&lock);
}

static void captured_free(gpointer p)
{
    Captured *c = p;
    g_bytes_unref(c->data);
    g_free(c);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

typedef struct {
    GPtrArray *list;
    RrTrackEgress *egress;
} Replay;

static gpointer replay_thread(gpointer data)
{
    Replay *r = data;
    gint64 t0 = g_get_monotonic_time();
    gint64 c0 = ((Captured *)g_ptr_array_index(r->list, 0))->at_us;
    for (guint i = 0; i < r->list->len; i++) {
        Captured *c = g_ptr_array_index(r->list, i);
        gint64 wait = (c->at_us - c0) - (g_get_monotonic_time() - t0);
        if (wait > 0)
            g_usleep(wait);
        gsize len;
        const guint8 *d = g_bytes_get_data(c->data, &len);
        rr_track_egress_push_rtp(r->egress, d, len, NULL);
    }
    return NULL;
}

static void test_cpu(void)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(captured_free);
    RrTestSender *sender = rr_test_sender_new("H264", 60, 0, capture_rtp, NULL, list);
    rr_test_sender_start(sender);
    g_usleep(4 * G_USEC_PER_SEC);
    rr_test_sender_free(sender);
    g_assert_cmpuint(list->len, >, 100);

    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "cpu.mp4", NULL);
    Ctx ctx = {0};
    ctx.loop = g_main_loop_new(NULL, FALSE);
    RrTrackEgressConfig config = {.track = {.encoding_name = "H264",
                                            .payload_type = 102,
                                            .rtx_payload_type = 103,
                                            .nack = TRUE,
                                            .nack_pli = TRUE},
                                  .path = path};
    g_autoptr(GError) error = NULL;
    ctx.egress = rr_track_egress_new(&config, NULL, &callbacks, &ctx, &error);
    g_assert_no_error(error);
    g_assert_true(rr_track_egress_start(ctx.egress, &error));
    Replay r = {list, ctx.egress};
    double cpu0 = cpu_seconds();
    gint64 wall0 = g_get_monotonic_time();
    GThread *thread = g_thread_new("replay", replay_thread, &r);
    run_for(&ctx, 4200);
    g_thread_join(thread);
    rr_track_egress_stop(ctx.egress, 5000);
    run_until(&ctx, &ctx.finished, 6000, "cpu egress finished");
    double cpu = cpu_seconds() - cpu0;
    double wall = (g_get_monotonic_time() - wall0) / 1e6;
    g_test_message("one H.264 320x240@30 track egress: %.3f s CPU over %.2f s wall = %.1f%% of "
                   "one core (%u packets)",
                   cpu, wall, 100 * cpu / wall, list->len);
    g_assert_no_error(ctx.error);
    g_assert_true(ctx.result.complete);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

int main(int argc, char **argv)
{
    if (argc == 3 && g_str_equal(argv[1], CHILD_ARG))
        return child_main(argv[2]);
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/track-egress/bad-config", test_bad_config);
    g_test_add_func("/pipeline/track-egress/no-media", test_no_media);
    g_test_add_func("/pipeline/track-egress/vp8", test_vp8);
    g_test_add_func("/pipeline/track-egress/h264", test_h264);
    g_test_add_func("/pipeline/track-egress/opus", test_opus);
    g_test_add_data_func("/pipeline/track-egress/loss/vp8", "VP8", test_loss);
    static const BurstCase burst_opus = {"OPUS", "ogg", "opus", 0.020};
    static const BurstCase burst_h264 = {"H264", "mp4", "h264", 1 / 30.0};
    static const BurstCase burst_vp8 = {"VP8", "webm", "vp8", 1 / 30.0};
    g_test_add_data_func("/pipeline/track-egress/burst/opus", &burst_opus, test_burst);
    g_test_add_data_func("/pipeline/track-egress/burst/h264", &burst_h264, test_burst);
    g_test_add_data_func("/pipeline/track-egress/burst/vp8", &burst_vp8, test_burst);
    g_test_add_data_func("/pipeline/track-egress/limit/h264", &burst_h264, test_limit);
    g_test_add_data_func("/pipeline/track-egress/limit/opus", &burst_opus, test_limit);
    g_test_add_func("/pipeline/track-egress/rtp-jump", test_rtp_jump);
    g_test_add_func("/pipeline/track-egress/kill-mp4", test_kill);
    g_test_add_func("/pipeline/track-egress/cpu", test_cpu);
    int ret = g_test_run();
    gst_deinit();
    return ret;
}
