/* Unit tests for pipeline/composite: real RTP senders (tests/unit/rtp-sender.h) with
 * distinct test patterns and tones feed an RrComposite; the files are decoded with
 * ffprobe/ffmpeg and analysed here (per-region motion on small gray frames, Goertzel
 * tone detection on the decoded PCM). */
#include "pipeline/composite.h"
#include "pipeline/pipeline-error.h"
#include "rtp-sender.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

#define MAX_FEEDS 8

typedef struct Ctx Ctx;

typedef struct {
    Ctx *ctx;
    RrTestSender *sender;
    gint track;
    gint paused; /* atomic: packets are not forwarded (a muted track sends nothing) */
} Feed;

struct Ctx {
    GMainLoop *loop;
    RrComposite *comp;
    Feed feeds[MAX_FEEDS];
    guint n_feeds;
    gboolean started;
    GstClockTime started_rt;
    gboolean finished;
    RrCompositeResult result;
    char *result_path;
    GError *error;
};

static void on_sender_rtp(const guint8 *data, gsize len, gpointer user_data)
{
    Feed *f = user_data;
    if (f->track >= 0 && !g_atomic_int_get(&f->paused))
        rr_composite_push_rtp(f->ctx->comp, (guint)f->track, data, len, NULL);
}

static void on_sender_rtcp(const guint8 *data, gsize len, gpointer user_data)
{
    Feed *f = user_data;
    if (f->track >= 0)
        rr_composite_push_rtcp(f->ctx->comp, (guint)f->track, data, len, NULL);
}

static void on_rtcp_out(guint track, GBytes *packet, gpointer user_data)
{
    Ctx *ctx = user_data;
    gsize len;
    const guint8 *data = g_bytes_get_data(packet, &len);
    for (guint i = 0; i < ctx->n_feeds; i++)
        if (ctx->feeds[i].track == (gint)track && ctx->feeds[i].sender)
            rr_test_sender_push_rtcp(ctx->feeds[i].sender, data, len);
}

static void on_started(guint track, GstClockTime running_time, gpointer user_data)
{
    Ctx *ctx = user_data;
    g_assert_false(ctx->started);
    ctx->started = TRUE;
    ctx->started_rt = running_time;
}

static void on_finished(const RrCompositeResult *result, const GError *error, gpointer user_data)
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

static const RrCompositeCallbacks callbacks = {
    .rtcp_out = on_rtcp_out, .started = on_started, .finished = on_finished};

#define run_for(ctx, ms)               rr_test_run_for((ctx)->loop, (ms))
#define run_until(ctx, flag, ms, what) rr_test_run_until((ctx)->loop, (flag), (ms), (what))

/* Sets @prop on every element made by @factory inside the sender. */
static void sender_set(RrTestSender *s, const char *factory, const char *prop, const char *value)
{
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(s->pipeline));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        GstElement *e = g_value_get_object(&item);
        GstElementFactory *f = gst_element_get_factory(e);
        if (f && g_str_equal(GST_OBJECT_NAME(f), factory))
            gst_util_set_object_arg(G_OBJECT(e), prop, value);
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
}

/* A sender of @codec ("VP8", "H264", "OPUS") for @participant, added to the composite.
 * Video: @look is a videotestsrc pattern ("smpte" etc. scroll); audio: a frequency. */
static Feed *feed_add(Ctx *ctx, const char *codec, const char *participant, const char *look)
{
    g_assert_cmpuint(ctx->n_feeds, <, MAX_FEEDS);
    Feed *f = &ctx->feeds[ctx->n_feeds++];
    f->ctx = ctx;
    f->track = -1;
    f->sender = rr_test_sender_new(codec, 30, 0, on_sender_rtp, on_sender_rtcp, f);
    if (g_str_equal(codec, "OPUS")) {
        sender_set(f->sender, "audiotestsrc", "freq", look);
        sender_set(f->sender, "audiotestsrc", "volume", "0.3");
    } else {
        sender_set(f->sender, "videotestsrc", "pattern", look);
        if (!g_str_equal(look, "ball") && !g_str_equal(look, "snow"))
            sender_set(f->sender, "videotestsrc", "horizontal-speed", "4");
    }
    RrTestSender *s = f->sender;
    RrCompositeTrack t = {
        .rtp = {.encoding_name = s->codec,
                .payload_type = s->pt,
                .rtx_payload_type = s->rtx_pt,
                .ssrc = s->ssrc,
                .nack = s->rtx_pt != 0,
                .nack_pli = s->rtx_pt != 0},
        .participant = participant,
    };
    g_autoptr(GError) error = NULL;
    f->track = rr_composite_add_track(ctx->comp, &t, &error);
    g_assert_no_error(error);
    g_assert_cmpint(f->track, >=, 0);
    return f;
}

static void composite_new(Ctx *ctx, RrCompositeConfig *config)
{
    g_autoptr(GError) error = NULL;
    ctx->loop = g_main_loop_new(NULL, FALSE);
    ctx->comp = rr_composite_new(config, NULL, &callbacks, ctx, &error);
    g_assert_no_error(error);
    g_assert_nonnull(ctx->comp);
}

static void start_all(Ctx *ctx)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_composite_start(ctx->comp, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < ctx->n_feeds; i++)
        rr_test_sender_start(ctx->feeds[i].sender);
}

static void stop_and_wait(Ctx *ctx, guint timeout_ms)
{
    rr_composite_stop(ctx->comp, timeout_ms);
    run_until(ctx, &ctx->finished, 15000, "composite finished");
    for (guint i = 0; i < ctx->n_feeds; i++)
        rr_test_sender_stop(ctx->feeds[i].sender);
}

static void ctx_clear(Ctx *ctx)
{
    for (guint i = 0; i < ctx->n_feeds; i++)
        rr_test_sender_stop(ctx->feeds[i].sender);
    g_clear_pointer(&ctx->comp, rr_composite_free);
    for (guint i = 0; i < ctx->n_feeds; i++)
        g_clear_pointer(&ctx->feeds[i].sender, rr_test_sender_free);
    g_clear_pointer(&ctx->loop, g_main_loop_unref);
    g_clear_pointer(&ctx->result_path, g_free);
    g_clear_error(&ctx->error);
}

static char *temp_dir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("rr-composite-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

static RrCompositeConfig config_for(const char *path, guint w, guint h)
{
    RrCompositeConfig config = {.path = path};
    rr_encode_settings_init(&config.encode);
    config.encode.width = w;
    config.encode.height = h;
    config.encode.video_bitrate_kbps = 1500;
    g_assert_true(rr_container_from_path(path, &config.container));
    return config;
}

/* ---- decoding and analysis ---- */

static char *run_capture(const char *const *argv, gsize *len)
{
    char *out = NULL;
    gint status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    if (len)
        *len = strlen(out); /* text output only */
    return out;
}

/* Stream codecs (comma-separated, in file order) and the first stream's start time. */
static char *probe_streams(const char *path, double *start_time)
{
    const char *argv[] = {
        "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,start_time", "-of",
        "csv=p=0", path, NULL};
    g_autofree char *out = run_capture(argv, NULL);
    GString *codecs = g_string_new(NULL);
    char **lines = g_strsplit(out, "\n", -1);
    *start_time = -1;
    for (char **l = lines; *l; l++) {
        if (**l == '\0')
            continue;
        char **f = g_strsplit(*l, ",", 2);
        if (codecs->len)
            g_string_append_c(codecs, ',');
        g_string_append(codecs, f[0]);
        if (f[1] && *start_time < 0)
            *start_time = g_ascii_strtod(f[1], NULL);
        g_strfreev(f);
    }
    g_strfreev(lines);
    return g_string_free(codecs, FALSE);
}

/* Video frames of @path whose time is not on the n / @fps grid (within 1 ms: Matroska
 * keeps milliseconds); the first such time in *@first_off. */
static guint off_grid_frames(const char *path, guint fps, double *first_off)
{
    const char *argv[] = {"ffprobe",
                          "-v",
                          "error",
                          "-select_streams",
                          "v:0",
                          "-show_entries",
                          "packet=pts_time",
                          "-of",
                          "csv=p=0",
                          path,
                          NULL};
    g_autofree char *out = run_capture(argv, NULL);
    char **lines = g_strsplit(out, "\n", -1);
    guint off = 0;
    *first_off = -1;
    for (char **l = lines; *l; l++) {
        if (!g_ascii_isdigit(**l))
            continue;
        double t = g_ascii_strtod(*l, NULL);
        double frames = t * fps;
        if (fabs(frames - round(frames)) * 1000.0 / fps > 1.0) {
            if (off++ == 0)
                *first_off = t;
        }
    }
    g_strfreev(lines);
    return off;
}

/* Packets of the first @kind stream ("a" or "v") that ffprobe reads from @path (0 if
 * there is no such stream). */
static guint count_packets(const char *path, const char *kind)
{
    const char *argv[] = {"ffprobe",
                          "-v",
                          "error",
                          "-select_streams",
                          kind,
                          "-count_packets",
                          "-show_entries",
                          "stream=nb_read_packets",
                          "-of",
                          "csv=p=0",
                          path,
                          NULL};
    g_autofree char *out = run_capture(argv, NULL);
    return (guint)g_ascii_strtoull(out, NULL, 10);
}

#define GW 64
#define GH 36

/* Decodes the video to GW x GH gray frames. */
static guint8 *decode_gray(const char *path, guint *n_frames)
{
    const char *argv[] = {"ffmpeg", "-nostdin", "-v",  "error",
                          "-i",     path,       "-vf", "scale=64:36,format=gray",
                          "-f",     "rawvideo", "-",   NULL};
    char *out = NULL;
    gsize len = 0;
    gint status = 0;
    g_autoptr(GError) error = NULL;
    /* Binary output: read it through a pipe by hand. */
    GPid pid;
    gint fd;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
                                               G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, &fd, NULL, &error));
    g_assert_no_error(error);
    GByteArray *bytes = g_byte_array_new();
    guint8 chunk[65536];
    gssize r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        g_byte_array_append(bytes, chunk, (guint)r);
    close(fd);
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    len = bytes->len;
    out = (char *)g_byte_array_free(bytes, FALSE);
    *n_frames = (guint)(len / (GW * GH));
    return (guint8 *)out;
}

/* Mean absolute difference between consecutive frames inside a box (fractions of the
 * frame), over frames [from, to). */
static double motion(const guint8 *frames, guint from, guint to, double x0, double y0, double x1,
                     double y1)
{
    guint bx0 = (guint)(x0 * GW), by0 = (guint)(y0 * GH), bx1 = (guint)(x1 * GW),
          by1 = (guint)(y1 * GH);
    double sum = 0;
    guint count = 0;
    for (guint f = MAX(from, 1); f < to; f++) {
        const guint8 *a = frames + (gsize)(f - 1) * GW * GH, *b = frames + (gsize)f * GW * GH;
        for (guint y = by0; y < by1; y++)
            for (guint x = bx0; x < bx1; x++)
                sum += abs((int)a[y * GW + x] - (int)b[y * GW + x]);
        count += (by1 - by0) * (bx1 - bx0);
    }
    return count ? sum / count : 0;
}

/* Fraction of consecutive frame pairs in [from, to) that differ inside the box: a live
 * tile changes every frame; one that misses its deadlines repeats frames. */
static double moving_fraction(const guint8 *frames, guint from, guint to, double x0, double y0,
                              double x1, double y1)
{
    guint moving = 0, pairs = 0;
    for (guint f = MAX(from, 1); f < to; f++, pairs++)
        if (motion(frames, f, f + 1, x0, y0, x1, y1) > 0.05)
            moving++;
    return pairs ? (double)moving / pairs : 0;
}

static double mean_level(const guint8 *frames, guint from, guint to, double x0, double y0,
                         double x1, double y1)
{
    double sum = 0;
    guint count = 0;
    for (guint f = from; f < to; f++)
        for (guint y = (guint)(y0 * GH); y < (guint)(y1 * GH); y++)
            for (guint x = (guint)(x0 * GW); x < (guint)(x1 * GW); x++, count++)
                sum += frames[(gsize)f * GW * GH + y * GW + x];
    return count ? sum / count : 0;
}

/* Decodes the audio to 8 kHz mono S16. */
static gint16 *decode_pcm(const char *path, gsize *n_samples)
{
    const char *argv[] = {"ffmpeg", "-nostdin", "-v",   "error", "-i",    path, "-vn", "-ac",
                          "1",      "-ar",      "8000", "-f",    "s16le", "-",  NULL};
    GPid pid;
    gint fd, status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
                                               G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, &fd, NULL, &error));
    g_assert_no_error(error);
    GByteArray *bytes = g_byte_array_new();
    guint8 chunk[65536];
    gssize r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        g_byte_array_append(bytes, chunk, (guint)r);
    close(fd);
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    *n_samples = bytes->len / 2;
    return (gint16 *)g_byte_array_free(bytes, FALSE);
}

/* Relative power of @freq in samples [from, to) (Goertzel), normalised by the energy. */
static double tone_power(const gint16 *pcm, gsize from, gsize to, double freq)
{
    double k = 2 * cos(2 * G_PI * freq / 8000.0), s1 = 0, s2 = 0, energy = 0;
    for (gsize i = from; i < to; i++) {
        double x = pcm[i] / 32768.0;
        double s0 = x + k * s1 - s2;
        s2 = s1;
        s1 = s0;
        energy += x * x;
    }
    double power = s1 * s1 + s2 * s2 - k * s1 * s2;
    gsize n = to - from;
    return energy > 0 ? power / (energy * n / 2.0) : 0;
}

/* Common checks: complete, renamed, decodes cleanly, duration ~ @expected (s). */
static void check_file(Ctx *ctx, const char *path, const char *codecs, double expected, guint fps)
{
    g_assert_no_error(ctx->error);
    g_assert_true(ctx->result.complete);
    g_assert_cmpstr(ctx->result.path, ==, path);
    g_autofree char *part = g_strconcat(path, ".part", NULL);
    g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
    double start = -1;
    g_autofree char *streams = probe_streams(path, &start);
    RrTestProbe probe;
    g_assert_true(rr_test_ffprobe(path, &probe));
    g_autofree char *errors = NULL;
    gboolean clean = rr_test_decodes_clean(path, &errors);
    g_test_message("%s: %s, start %.3f, %.3f s (expected %.3f, reported %.3f), %" G_GINT64_FORMAT
                   " frames (%" G_GUINT64_FORMAT " encoded), %" G_GUINT64_FORMAT " bytes",
                   path, streams, start, probe.duration, expected, ctx->result.duration / 1e9,
                   probe.frames, ctx->result.video_frames, ctx->result.size);
    if (!clean)
        g_test_message("ffmpeg: %s", errors);
    g_assert_true(clean);
    g_assert_cmpstr(streams, ==, codecs);
    g_assert_cmpfloat(start, >=, 0);
    g_assert_cmpfloat(start, <, 0.05);
    g_assert_cmpfloat(fabs(probe.duration - expected), <, 0.5);
    if (fps > 0) {
        /* Frame n at n / fps: the timeline starts on a frame of the compositor. */
        double first_off = -1;
        guint off = off_grid_frames(path, fps, &first_off);
        if (off > 0)
            g_test_message("%u frames off the 1/%u s grid, the first at %.3f s", off, fps,
                           first_off);
        g_assert_cmpuint(off, ==, 0);
        /* Continuous timeline: one frame per 1/fps of the whole duration. */
        double want = probe.duration * fps;
        g_assert_cmpfloat(fabs(probe.frames - want), <=, want * 0.05 + 2);
    }
}

/* ---- tests ---- */

static const char *const patterns[] = {"ball", "smpte", "snow", "checkers-8"};
static const char *const tones[] = {"400", "700", "1100", "1500"};

/* Four participants (2 VP8, 2 H.264, each with an Opus track) in a 1280x720 grid, H.264
 * + AAC in fragmented MP4: every quadrant moves, every tone is heard. */
static void test_grid(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "grid.mp4", NULL);
    RrCompositeConfig config = config_for(path, 1280, 720);
    config.layout = "grid";
    Ctx ctx = {0};
    composite_new(&ctx, &config);
    static const char *const codecs[] = {"VP8", "H264", "VP8", "H264"};
    static const char *const ids[] = {"PA", "PB", "PC", "PD"};
    for (guint i = 0; i < 4; i++) {
        g_autofree char *name = g_strdup_printf("person %u", i);
        rr_composite_add_participant(ctx.comp, ids[i], name);
        feed_add(&ctx, codecs[i], ids[i], patterns[i]);
        feed_add(&ctx, "OPUS", ids[i], tones[i]);
    }
    start_all(&ctx);
    run_until(&ctx, &ctx.started, 10000, "first media");
    GstClockTime t0 = rr_composite_get_running_time(ctx.comp);
    run_for(&ctx, 5000);
    GstClockTime t1 = rr_composite_get_running_time(ctx.comp);
    stop_and_wait(&ctx, 10000);
    /* The file spans the gate to the stop call (media timeline = running time). */
    double expected = (t1 - ctx.result.started) / 1e9;
    g_assert_cmpuint(t0, >=, ctx.result.started);
    check_file(&ctx, path, "h264,aac", expected, 30);

    guint n = 0;
    g_autofree guint8 *frames = decode_gray(path, &n);
    g_assert_cmpuint(n, >, 60);
    /* Skip the first second: tiles appear as their first keyframes decode. */
    double q[4] = {motion(frames, 30, n, 0.05, 0.05, 0.45, 0.45),
                   motion(frames, 30, n, 0.55, 0.05, 0.95, 0.45),
                   motion(frames, 30, n, 0.05, 0.55, 0.45, 0.95),
                   motion(frames, 30, n, 0.55, 0.55, 0.95, 0.95)};
    g_test_message("quadrant motion %.2f %.2f %.2f %.2f", q[0], q[1], q[2], q[3]);
    for (guint i = 0; i < 4; i++)
        g_assert_cmpfloat(q[i], >, 0.3);

    gsize ns = 0;
    g_autofree gint16 *pcm = decode_pcm(path, &ns);
    g_assert_cmpuint(ns, >, 8000 * 3);
    for (guint i = 0; i < 4; i++) {
        double f = g_ascii_strtod(tones[i], NULL);
        double p = tone_power(pcm, 8000, ns, f), off = tone_power(pcm, 8000, ns, f + 130);
        g_test_message("tone %.0f Hz: %.3f (off-tone %.4f)", f, p, off);
        g_assert_cmpfloat(p, >, 0.05);
        g_assert_cmpfloat(p, >, 10 * off);
    }
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* Two participants in a small grid; B mutes video (name tile), the layout changes to
 * speaker-light, A leaves: each change shows at its time, the timeline has no gap. */
static void test_dynamic(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "dynamic.mp4", NULL);
    RrCompositeConfig config = config_for(path, 320, 180);
    Ctx ctx = {0};
    composite_new(&ctx, &config);
    rr_composite_add_participant(ctx.comp, "A", "Alice");
    rr_composite_add_participant(ctx.comp, "B", "Bob");
    feed_add(&ctx, "VP8", "A", "ball");
    Feed *audio = feed_add(&ctx, "OPUS", "A", "600");
    Feed *b = feed_add(&ctx, "H264", "B", "smpte");
    start_all(&ctx);
    run_until(&ctx, &ctx.started, 10000, "first media");
    run_for(&ctx, 2000);
    GstClockTime mute_at = rr_composite_get_running_time(ctx.comp);
    rr_composite_set_track_muted(ctx.comp, (guint)b->track, TRUE);
    rr_test_sender_stop(b->sender); /* a muted track sends nothing */
    run_for(&ctx, 1500);
    g_autoptr(GError) error = NULL;
    GstClockTime layout_at = rr_composite_get_running_time(ctx.comp);
    g_assert_true(rr_composite_set_layout(ctx.comp, "speaker-light", &error));
    g_assert_no_error(error);
    g_assert_false(rr_composite_set_layout(ctx.comp, "mosaic", &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    run_for(&ctx, 1500);
    GstClockTime leave_at = rr_composite_get_running_time(ctx.comp);
    rr_composite_remove_participant(ctx.comp, "A");
    run_for(&ctx, 1500);
    /* Packets for a removed track are swallowed. */
    static const guint8 rtp[12] = {0x80, 111};
    g_assert_true(rr_composite_push_rtp(ctx.comp, (guint)audio->track, rtp, sizeof rtp, NULL));
    GstClockTime end = rr_composite_get_running_time(ctx.comp);
    stop_and_wait(&ctx, 10000);

    GstClockTime g = ctx.result.started;
    double expected = (end - g) / 1e9;
    check_file(&ctx, path, "h264,aac", expected, 30);
    guint n = 0;
    g_autofree guint8 *frames = decode_gray(path, &n);
    /* File frame index of a running time, with @margin seconds. */
#define FRAME(rt, margin) ((guint)(MAX(0.0, ((gint64)(rt) - (gint64)g) / 1e9 + (margin)) * 30))
    guint mute_f = FRAME(mute_at, 0), layout_f = FRAME(layout_at, 0), leave_f = FRAME(leave_at, 0);
    g_assert_cmpuint(leave_f + 20, <, n);
    /* Grid: A left half, B right half; both move. */
    double a1 = motion(frames, 20, mute_f - 3, 0.05, 0.1, 0.45, 0.9);
    double b1 = motion(frames, 20, mute_f - 3, 0.55, 0.1, 0.95, 0.9);
    /* B muted: B's half is a still name tile, A still moves. The tile may take half a
     * second under the sanitizers (once: B's half still changed 8 frames on). */
    double a2 = motion(frames, mute_f + 15, layout_f - 3, 0.05, 0.1, 0.45, 0.9);
    double b2 = motion(frames, mute_f + 15, layout_f - 3, 0.55, 0.1, 0.95, 0.9);
    /* speaker-light: A on the stage (left 4/5), white above B's strip tile. */
    double a3 = motion(frames, layout_f + 3, leave_f - 3, 0.05, 0.1, 0.75, 0.9);
    double white3 = mean_level(frames, layout_f + 3, leave_f - 3, 0.82, 0.0, 1.0, 0.2);
    double white2 = mean_level(frames, mute_f + 15, layout_f - 3, 0.82, 0.0, 1.0, 0.2);
    /* A left: B's name tile alone on the stage, nothing moves. */
    double all4 = motion(frames, leave_f + 8, n, 0.0, 0.0, 1.0, 1.0);
    g_test_message("frames %u (mute %u layout %u leave %u): A %.2f B %.2f | A %.2f B %.2f | "
                   "A %.2f white %.0f (before %.0f) | all %.2f",
                   n, mute_f, layout_f, leave_f, a1, b1, a2, b2, a3, white3, white2, all4);
    g_assert_cmpfloat(a1, >, 0.3);
    g_assert_cmpfloat(b1, >, 0.3);
    g_assert_cmpfloat(a2, >, 0.3);
    g_assert_cmpfloat(b2, <, 0.1);
    g_assert_cmpfloat(a3, >, 0.3);
    g_assert_cmpfloat(white3, >, 200);
    g_assert_cmpfloat(white2, <, 120);
    g_assert_cmpfloat(all4, <, 0.1);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* B's camera is subscribed but never sends: its tile stays empty (the background) for the
 * camera's grace, then B's name tile takes it; A moves throughout. */
static void test_camera_grace(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "grace.mp4", NULL);
    RrCompositeConfig config = config_for(path, 320, 180);
    Ctx ctx = {0};
    composite_new(&ctx, &config);
    rr_composite_add_participant(ctx.comp, "A", "Alice");
    rr_composite_add_participant(ctx.comp, "B", "Bob");
    gint64 added_us = g_get_monotonic_time();
    feed_add(&ctx, "VP8", "A", "ball");
    Feed *b = feed_add(&ctx, "VP8", "B", "smpte");
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_composite_start(ctx.comp, &error));
    rr_test_sender_start(ctx.feeds[0].sender); /* B's sender never starts */
    run_until(&ctx, &ctx.started, 10000, "first media");
    double gate_s = (g_get_monotonic_time() - added_us) / 1e6;
    run_for(&ctx, 6000);
    stop_and_wait(&ctx, 10000);
    g_assert_no_error(ctx.error);
    g_assert_cmpint(b->track, >=, 0);

    guint n = 0;
    g_autofree guint8 *frames = decode_gray(path, &n);
    /* File frame of a time since the tracks were added (the file starts near the gate). */
#define GRACE_FRAME(s) ((guint)MAX(0.0, ((s)-gate_s) * 30))
    guint empty_to = GRACE_FRAME(1.5), tile_from = GRACE_FRAME(4.0), first_tile = n;
    g_assert_cmpuint(tile_from + 30, <, n);
    for (guint f = 0; f < n && first_tile == n; f++)
        if (mean_level(frames, f, f + 1, 0.55, 0.1, 0.95, 0.9) > 15)
            first_tile = f;
    double a = motion(frames, 5, n, 0.05, 0.1, 0.45, 0.9);
    double empty = mean_level(frames, 2, MAX(empty_to, 3u), 0.55, 0.1, 0.95, 0.9);
    double tile = mean_level(frames, tile_from, n, 0.55, 0.1, 0.95, 0.9);
    double tile_motion = motion(frames, tile_from, n, 0.55, 0.1, 0.95, 0.9);
    g_test_message("frames %u (gate %.2f s after add): A moves %.2f; B level %.1f before the "
                   "grace ends, %.1f after (motion %.2f); B's name tile from %.2f s after add",
                   n, gate_s, a, empty, tile, tile_motion, gate_s + first_tile / 30.0);
    g_assert_cmpfloat(a, >, 0.3);
    g_assert_cmpfloat(empty, <, 8);
    g_assert_cmpfloat(tile, >, empty + 20);
    g_assert_cmpfloat(tile_motion, <, 0.1);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* Audio only, to Ogg/Opus (with a late sender: the start gate) and to MP4/AAC. */
static void test_audio_only(void)
{
    g_autofree char *dir = temp_dir();
    static const char *const names[] = {"audio.ogg", "audio.mp4"};
    static const char *const want[] = {"opus", "aac"};
    for (guint k = 0; k < 2; k++) {
        g_autofree char *path = g_build_filename(dir, names[k], NULL);
        RrCompositeConfig config = config_for(path, 1280, 720);
        config.audio_only = TRUE;
        Ctx ctx = {0};
        composite_new(&ctx, &config);
        rr_composite_add_participant(ctx.comp, "A", "Alice");
        feed_add(&ctx, "OPUS", "A", "500");
        feed_add(&ctx, "VP8", "A", "ball"); /* ignored: accepted and dropped */
        g_autoptr(GError) error = NULL;
        g_assert_true(rr_composite_start(ctx.comp, &error));
        /* Start gate: nothing is written before the first media. */
        run_for(&ctx, 1200);
        g_assert_false(rr_composite_is_started(ctx.comp));
        g_assert_false(ctx.started);
        g_assert_cmpuint(rr_composite_get_bytes_written(ctx.comp), ==, 0);
        for (guint i = 0; i < ctx.n_feeds; i++)
            rr_test_sender_start(ctx.feeds[i].sender);
        run_until(&ctx, &ctx.started, 10000, "first media");
        g_assert_true(rr_composite_is_started(ctx.comp));
        run_for(&ctx, 2500);
        GstClockTime end = rr_composite_get_running_time(ctx.comp);
        stop_and_wait(&ctx, 10000);
        /* The file starts at the first media, not at rr_composite_start(). */
        g_assert_cmpuint(ctx.result.started, >, 1000 * GST_MSECOND);
        g_assert_cmpuint(ctx.result.video_frames, ==, 0);
        check_file(&ctx, path, want[k], (end - ctx.result.started) / 1e9, 0);
        gsize ns = 0;
        g_autofree gint16 *pcm = decode_pcm(path, &ns);
        /* The tone in 100 ms windows (one over the whole file would also ask for an
         * unbroken phase, which a late packet concealed under load breaks). */
        guint windows = 0, toned = 0;
        for (gsize w = 2000; w + 800 <= ns; w += 800, windows++)
            toned += tone_power(pcm, w, w + 800, 500) > 0.5;
        g_test_message("%s: 500 Hz in %u of %u windows of 100 ms (%.3f over the whole file)",
                       names[k], toned, windows, tone_power(pcm, 2000, ns, 500));
        g_assert_cmpuint(windows, >=, 20);
        g_assert_cmpuint(toned, >=, windows * 9 / 10);
        ctx_clear(&ctx);
    }
    rr_test_remove_dir(dir);
}

/* Video only, to Matroska: one H.264 stream; audio tracks are accepted and dropped. */
static void test_video_only(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "video.mkv", NULL);
    RrCompositeConfig config = config_for(path, 320, 240);
    config.video_only = TRUE;
    config.layout = "single-speaker-dark";
    Ctx ctx = {0};
    composite_new(&ctx, &config);
    rr_composite_add_participant(ctx.comp, "A", "Alice");
    feed_add(&ctx, "OPUS", "A", "500");
    feed_add(&ctx, "VP8", "A", "ball");
    start_all(&ctx);
    run_until(&ctx, &ctx.started, 10000, "first media");
    run_for(&ctx, 2500);
    GstClockTime end = rr_composite_get_running_time(ctx.comp);
    stop_and_wait(&ctx, 10000);
    check_file(&ctx, path, "h264", (end - ctx.result.started) / 1e9, 30);
    g_assert_cmpuint(ctx.result.video_frames, >, 50);
    guint n = 0;
    g_autofree guint8 *frames = decode_gray(path, &n);
    /* The 320x240 video fills the 320x240 frame. */
    g_assert_cmpfloat(motion(frames, 20, n, 0.0, 0.0, 1.0, 1.0), >, 0.3);
    double moving = moving_fraction(frames, 20, n, 0.0, 0.0, 1.0, 1.0);
    g_test_message("moving frames: %.3f", moving);
    g_assert_cmpfloat(moving, >, 0.9);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* Fragmented MP4 is readable while it is being written (and after a crash): the
 * fragments already in the .part carry audio as well as video, interleaved — not only
 * video with the audio held back until the end. */
static void test_part_has_audio(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "live.mp4", NULL);
    g_autofree char *part = g_strconcat(path, ".part", NULL);
    g_autofree char *copy = g_build_filename(dir, "copy.mp4", NULL);
    RrCompositeConfig config = config_for(path, 320, 180);
    Ctx ctx = {0};
    composite_new(&ctx, &config);
    rr_composite_add_participant(ctx.comp, "A", "Alice");
    feed_add(&ctx, "VP8", "A", "ball");
    feed_add(&ctx, "OPUS", "A", "600");
    start_all(&ctx);
    run_until(&ctx, &ctx.started, 10000, "first media");
    run_for(&ctx, 5000);
    /* What a crash now would leave: the .part as it is. */
    g_autofree char *contents = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(part, &contents, &len, NULL));
    g_assert_true(g_file_set_contents(copy, contents, (gssize)len, NULL));
    guint video = count_packets(copy, "v"), audio = count_packets(copy, "a");
    gsize ns = 0;
    g_autofree gint16 *pcm = decode_pcm(copy, &ns);
    g_test_message(".part after 5 s: %" G_GSIZE_FORMAT " bytes, %u video, %u audio packets, "
                   "%.2f s of audio",
                   len, video, audio, ns / 8000.0);
    stop_and_wait(&ctx, 10000);
    g_assert_no_error(ctx.error);
    /* 1 s fragments: at least 3 s of each already written (AAC: 1024 samples a packet). */
    g_assert_cmpuint(video, >=, 90);
    g_assert_cmpuint(audio, >=, 3 * 48000 / 1024);
    g_assert_cmpuint(ns, >=, 3 * 8000);
    g_assert_cmpfloat(tone_power(pcm, 8000, ns, 600), >, 0.3);
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* Mean relative power of tone @freq over file seconds [from, to) of @pcm (8 kHz), and the
 * lowest of its half-second windows there. */
static double tone_between(const gint16 *pcm, gsize ns, double from, double to, double freq,
                           double *min_window)
{
    gsize a = (gsize)(from * 8000), b = MIN((gsize)(to * 8000), ns);
    g_assert_cmpuint(a + 4000, <=, b);
    double lowest = 1;
    for (gsize w = a; w + 4000 <= b; w += 4000)
        lowest = MIN(lowest, tone_power(pcm, w, w + 4000, freq));
    if (min_window)
        *min_window = lowest;
    return tone_power(pcm, a, b, freq);
}

/* The audio mix while the room changes: A's mic is muted (it sends nothing), C joins
 * late, A unmutes. Each voice is heard exactly while it is there: a late joiner is heard
 * from its join on, a silent pad never silences the others, and an unmuted one returns. */
static void test_audio_changes(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "changes.mp4", NULL);
    RrCompositeConfig config = config_for(path, 320, 180);
    Ctx ctx = {0};
    composite_new(&ctx, &config);
    rr_composite_add_participant(ctx.comp, "A", "Alice");
    rr_composite_add_participant(ctx.comp, "B", "Bob");
    feed_add(&ctx, "VP8", "A", "ball");
    Feed *a = feed_add(&ctx, "OPUS", "A", "400");
    feed_add(&ctx, "OPUS", "B", "700");
    start_all(&ctx);
    run_until(&ctx, &ctx.started, 10000, "first media");
    run_for(&ctx, 2000);
    GstClockTime mute_at = rr_composite_get_running_time(ctx.comp);
    rr_composite_set_track_muted(ctx.comp, (guint)a->track, TRUE);
    g_atomic_int_set(&a->paused, 1);
    run_for(&ctx, 2500);
    GstClockTime join_at = rr_composite_get_running_time(ctx.comp);
    rr_composite_add_participant(ctx.comp, "C", "Carol");
    Feed *cf = feed_add(&ctx, "OPUS", "C", "1100");
    rr_test_sender_start(cf->sender);
    run_for(&ctx, 3000);
    GstClockTime unmute_at = rr_composite_get_running_time(ctx.comp);
    g_atomic_int_set(&a->paused, 0);
    rr_composite_set_track_muted(ctx.comp, (guint)a->track, FALSE);
    run_for(&ctx, 2500);
    GstClockTime end = rr_composite_get_running_time(ctx.comp);
    stop_and_wait(&ctx, 10000);
    GstClockTime g = ctx.result.started;
    check_file(&ctx, path, "h264,aac", (end - g) / 1e9, 30);

    gsize ns = 0;
    g_autofree gint16 *pcm = decode_pcm(path, &ns);
#define FSEC(rt) (((gint64)(rt) - (gint64)g) / 1e9)
    double mute = FSEC(mute_at), join = FSEC(join_at), unmute = FSEC(unmute_at), fin = FSEC(end);
    g_test_message("file seconds: mute %.2f, join %.2f, unmute %.2f, end %.2f (%.2f decoded)", mute,
                   join, unmute, fin, ns / 8000.0);
    /* Windows well inside each state (a change takes effect within the receive latency).
     * The first starts 1 s in: while the jitterbuffers' timelines settle after the start
     * burst, the mixer may re-align a track once (a glitch of up to ~0.4 s, seen under
     * ASan; a known start transient of composites, not what this test is about). */
    struct {
        double from, to;
        gboolean a, c;
    } states[] = {{1.0, mute - 0.2, TRUE, FALSE},
                  {mute + 0.8, join - 0.2, FALSE, FALSE},
                  {join + 1.0, unmute - 0.2, FALSE, TRUE},
                  {unmute + 1.0, fin - 0.3, TRUE, TRUE}};
    for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
        double wa, wb, wc;
        double pa = tone_between(pcm, ns, states[i].from, states[i].to, 400, &wa);
        double pb = tone_between(pcm, ns, states[i].from, states[i].to, 700, &wb);
        double pc = tone_between(pcm, ns, states[i].from, states[i].to, 1100, &wc);
        g_test_message("[%.2f, %.2f): A %.3f (min %.3f) B %.3f (min %.3f) C %.3f (min %.3f)",
                       states[i].from, states[i].to, pa, wa, pb, wb, pc, wc);
        /* B speaks throughout: never silenced by the others' changes. */
        g_assert_cmpfloat(wb, >, 0.05);
        if (states[i].a)
            g_assert_cmpfloat(wa, >, 0.05);
        else
            g_assert_cmpfloat(pa, <, 0.01);
        if (states[i].c)
            g_assert_cmpfloat(wc, >, 0.05);
        else
            g_assert_cmpfloat(pc, <, 0.01);
    }
#undef FSEC
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* Stop with a deadline shorter than the drain: finished with a timeout error, the file
 * still renamed and playable; stop with no media; a pipeline error. */
static void test_stop_and_errors(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "timeout.mp4", NULL);
    {
        RrCompositeConfig config = config_for(path, 320, 180);
        Ctx ctx = {0};
        composite_new(&ctx, &config);
        rr_composite_add_participant(ctx.comp, "A", "Alice");
        feed_add(&ctx, "H264", "A", "ball");
        start_all(&ctx);
        run_until(&ctx, &ctx.started, 10000, "first media");
        run_for(&ctx, 3000);
        gint64 t0 = g_get_monotonic_time();
        stop_and_wait(&ctx, 50);
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
        g_assert_error(ctx.error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_TIMEOUT);
        g_assert_false(ctx.result.complete);
        g_assert_cmpstr(ctx.result.path, ==, path);
        RrTestProbe probe;
        g_assert_true(rr_test_ffprobe(path, &probe));
        g_assert_cmpstr(probe.codec, ==, "h264");
        g_assert_cmpint(probe.frames, >, 30);
        ctx_clear(&ctx);
    }
    {
        /* No media at all: a quick, clean finish. */
        g_autofree char *empty = g_build_filename(dir, "empty.webm", NULL);
        RrCompositeConfig config = config_for(empty, 320, 180);
        Ctx ctx = {0};
        composite_new(&ctx, &config);
        g_autoptr(GError) error = NULL;
        g_assert_true(rr_composite_start(ctx.comp, &error));
        run_for(&ctx, 300);
        gint64 t0 = g_get_monotonic_time();
        stop_and_wait(&ctx, 3000);
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
        g_assert_no_error(ctx.error);
        g_assert_false(ctx.started);
        g_assert_cmpuint(ctx.result.started, ==, GST_CLOCK_TIME_NONE);
        g_assert_cmpuint(ctx.result.duration, ==, 0);
        ctx_clear(&ctx);
    }
    {
        /* An element error while running ends the recording with that error. */
        g_autofree char *bad = g_build_filename(dir, "error.mp4", NULL);
        RrCompositeConfig config = config_for(bad, 320, 180);
        Ctx ctx = {0};
        composite_new(&ctx, &config);
        g_autoptr(GError) error = NULL;
        g_assert_true(rr_composite_start(ctx.comp, &error));
        run_for(&ctx, 200);
        GstElement *bin = rr_recv_get_bin(rr_composite_get_recv(ctx.comp));
        GST_ELEMENT_ERROR(bin, STREAM, DECODE, ("injected failure"), (NULL));
        run_until(&ctx, &ctx.finished, 5000, "finished after an error");
        g_assert_error(ctx.error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STREAM);
        g_assert_nonnull(strstr(ctx.error->message, "injected failure"));
        g_assert_false(ctx.result.complete);
        ctx_clear(&ctx);
    }
    rr_test_remove_dir(dir);
}

static void test_bad_config(void)
{
    RrCompositeConfig config = config_for("/tmp/x.mp4", 1280, 720);
    g_autoptr(GError) error = NULL;
    config.layout = "carousel";
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    config.layout = NULL;
    config.encode.width = 1281;
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    config.encode.width = 1280;
    config.container = RR_CONTAINER_OGG; /* with video */
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    config.audio_only = config.video_only = TRUE;
    config.container = RR_CONTAINER_MP4;
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    config.audio_only = config.video_only = FALSE;
    config.path = "/nonexistent-dir/x.mp4";
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO);
    g_clear_error(&error);

    /* Tracks: unknown participant, unknown codec, unknown track index. */
    g_autofree char *dir = temp_dir();
    g_autofree char *path = g_build_filename(dir, "x.mp4", NULL);
    config.path = path;
    g_autoptr(RrComposite) comp = rr_composite_new(&config, NULL, &callbacks, NULL, &error);
    g_assert_no_error(error);
    RrCompositeTrack t = {.rtp = {.encoding_name = "VP8", .payload_type = 96},
                          .participant = "nobody"};
    g_assert_cmpint(rr_composite_add_track(comp, &t, &error), ==, -1);
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    rr_composite_add_participant(comp, "A", "Alice");
    t.participant = "A";
    t.rtp.encoding_name = "G722";
    g_assert_cmpint(rr_composite_add_track(comp, &t, &error), ==, -1);
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    static const guint8 junk[14] = {0};
    g_assert_false(rr_composite_push_rtp(comp, 5, junk, sizeof junk, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    t.rtp.encoding_name = "VP8";
    g_assert_cmpint(rr_composite_add_track(comp, &t, &error), ==, 0);
    g_assert_false(rr_composite_push_rtp(comp, 0, junk, sizeof junk, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_clear_pointer(&comp, rr_composite_free);
    rr_test_remove_dir(dir);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/composite/bad-config", test_bad_config);
    g_test_add_func("/pipeline/composite/grid", test_grid);
    g_test_add_func("/pipeline/composite/dynamic", test_dynamic);
    g_test_add_func("/pipeline/composite/camera-grace", test_camera_grace);
    g_test_add_func("/pipeline/composite/audio-only", test_audio_only);
    g_test_add_func("/pipeline/composite/video-only", test_video_only);
    g_test_add_func("/pipeline/composite/stop-and-errors", test_stop_and_errors);
    g_test_add_func("/pipeline/composite/part-has-audio", test_part_has_audio);
    g_test_add_func("/pipeline/composite/audio-changes", test_audio_changes);
    int ret = g_test_run();
    gst_deinit();
    return ret;
}
