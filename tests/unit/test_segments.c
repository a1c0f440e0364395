/* Unit tests for pipeline/hls-playlist and the composite's segment and image outputs
 * (pipeline/outputs.h): real RTP senders (tests/unit/rtp-sender.h) feed an RrComposite
 * writing a file, HLS segments and JPEG images at once; every output is decoded with
 * ffprobe/ffmpeg. */
#include "pipeline/composite.h"
#include "pipeline/hls-playlist.h"
#include "pipeline/pipeline-error.h"
#include "rtp-sender.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

static char *temp_dir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("rr-segments-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

static char *read_text(const char *path)
{
    char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    g_assert_no_error(error);
    return text;
}

/* ---- playlists ---- */

static void test_playlist(void)
{
    g_autofree char *dir = temp_dir();
    g_autofree char *full = g_build_filename(dir, "rec.m3u8", NULL);
    g_autofree char *live = g_build_filename(dir, "rec-live.m3u8", NULL);
    g_autoptr(RrHlsPlaylist) p = rr_hls_playlist_new(full, live, 2);
    g_autoptr(GError) error = NULL;
    for (guint i = 0; i < 7; i++) {
        g_autofree char *seg = g_strdup_printf("%s/rec_%05u.ts", dir, i);
        g_assert_true(rr_hls_playlist_add(p, seg, i == 3 ? 3.4 : 2.0, &error));
        g_assert_no_error(error);
    }
    g_assert_cmpuint(rr_hls_playlist_get_count(p), ==, 7);
    g_assert_cmpfloat_with_epsilon(rr_hls_playlist_get_duration(p), 15.4, 1e-9);

    g_autofree char *text = read_text(full);
    g_assert_true(g_str_has_prefix(text, "#EXTM3U\n"));
    g_assert_nonnull(strstr(text, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
    g_assert_nonnull(strstr(text, "#EXT-X-MEDIA-SEQUENCE:0\n"));
    /* The longest segment rounds to 3 s: the target grows to it. */
    g_assert_nonnull(strstr(text, "#EXT-X-TARGETDURATION:3\n"));
    g_assert_nonnull(strstr(text, "#EXTINF:3.400,\nrec_00003.ts\n"));
    g_assert_nonnull(strstr(text, "rec_00000.ts\n"));
    g_assert_null(strstr(text, "ENDLIST"));
    g_assert_null(strstr(text, dir)); /* URIs are relative */

    /* The live playlist: the newest RR_HLS_LIVE_WINDOW segments. */
    g_autofree char *ltext = read_text(live);
    g_assert_null(strstr(ltext, "PLAYLIST-TYPE"));
    g_assert_nonnull(strstr(ltext, "#EXT-X-MEDIA-SEQUENCE:2\n"));
    g_assert_null(strstr(ltext, "rec_00001.ts"));
    g_assert_nonnull(strstr(ltext, "rec_00002.ts"));
    g_assert_nonnull(strstr(ltext, "rec_00006.ts"));

    g_assert_true(rr_hls_playlist_end(p, &error));
    g_autofree char *ended = read_text(full);
    g_assert_true(g_str_has_suffix(ended, "#EXT-X-ENDLIST\n"));
    g_autofree char *lended = read_text(live);
    g_assert_true(g_str_has_suffix(lended, "#EXT-X-ENDLIST\n"));
    g_autofree char *tmp = g_strconcat(full, ".tmp", NULL);
    g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
    rr_test_remove_dir(dir);
}

static void test_playlist_unwritable(void)
{
    g_autoptr(RrHlsPlaylist) p = rr_hls_playlist_new("/nonexistent-dir/x.m3u8", NULL, 4);
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_hls_playlist_add(p, "/nonexistent-dir/x_00000.ts", 4, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "/nonexistent-dir/x.m3u8"));
}

static void test_timestamp_suffix(void)
{
    /* 2024-01-31 12:00:00.123 UTC */
    g_autofree char *s = rr_output_timestamp_suffix(1706702400123000);
    g_assert_cmpstr(s, ==, "20240131120000123");
}

/* ---- a composite with a file, segments and images ---- */

typedef struct {
    GMainLoop *loop;
    RrComposite *comp;
    RrTestSender *senders[2];
    gint tracks[2];
    gboolean started, finished;
    RrCompositeResult result;
    char *playlist, *live;
    guint images;
    GError *error;
    GPtrArray *closed;    /* "kind path" in order */
    GPtrArray *live_seen; /* segments decoded while recording */
    GPtrArray *segments;  /* segment paths, as closed */
    gboolean bad_live;    /* a live playlist listed a segment that was not closed yet */
    guint live_rewrites;
} Ctx;

typedef struct {
    Ctx *ctx;
    guint i;
} Feed;

static void feed_rtp(const guint8 *data, gsize len, gpointer user_data)
{
    Feed *f = user_data;
    if (f->ctx->tracks[f->i] >= 0)
        rr_composite_push_rtp(f->ctx->comp, (guint)f->ctx->tracks[f->i], data, len, NULL);
}

static void feed_rtcp(const guint8 *data, gsize len, gpointer user_data)
{
    Feed *f = user_data;
    if (f->ctx->tracks[f->i] >= 0)
        rr_composite_push_rtcp(f->ctx->comp, (guint)f->ctx->tracks[f->i], data, len, NULL);
}

static void on_rtcp_out(guint track, GBytes *packet, gpointer user_data)
{
    Ctx *ctx = user_data;
    gsize len;
    const guint8 *data = g_bytes_get_data(packet, &len);
    for (guint i = 0; i < 2; i++)
        if (ctx->tracks[i] == (gint)track && ctx->senders[i])
            rr_test_sender_push_rtcp(ctx->senders[i], data, len);
}

static void on_started(guint track, GstClockTime rt, gpointer user_data)
{
    (void)track;
    (void)rt;
    ((Ctx *)user_data)->started = TRUE;
}

static void on_finished(const RrCompositeResult *result, const GError *error, gpointer user_data)
{
    Ctx *ctx = user_data;
    g_assert_false(ctx->finished);
    ctx->finished = TRUE;
    ctx->result = *result;
    ctx->result.path = NULL;
    g_assert_true(result->has_segments);
    ctx->playlist = g_strdup(result->segments.playlist_path);
    ctx->live = g_strdup(result->segments.live_playlist_path);
    ctx->result.segments.playlist_path = ctx->result.segments.live_playlist_path = NULL;
    ctx->result.images.prefix = NULL;
    if (error)
        ctx->error = g_error_copy(error);
    g_main_loop_quit(ctx->loop);
}

static gboolean decodes(const char *path)
{
    g_autofree char *errors = NULL;
    gboolean ok = rr_test_decodes_clean(path, &errors);
    if (!ok)
        g_test_message("%s: %s", path, errors ? errors : "?");
    return ok;
}

/* While recording: every segment the live playlist lists is closed and decodes. */
static void on_file_closed(const char *path, RrOutputKind kind, gpointer user_data)
{
    Ctx *ctx = user_data;
    g_ptr_array_add(ctx->closed, g_strdup_printf("%s %s", rr_output_kind_to_string(kind), path));
    if (kind == RR_OUTPUT_SEGMENT)
        g_ptr_array_add(ctx->segments, g_strdup(path));
    if (kind != RR_OUTPUT_LIVE_PLAYLIST || ctx->finished)
        return;
    ctx->live_rewrites++;
    g_autofree char *text = read_text(path);
    g_autofree char *dir = g_path_get_dirname(path);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (**l == '\0' || **l == '#')
            continue;
        g_autofree char *seg = g_build_filename(dir, *l, NULL);
        if (!g_ptr_array_find_with_equal_func(ctx->segments, seg, g_str_equal, NULL))
            ctx->bad_live = TRUE;
        if (!g_ptr_array_find_with_equal_func(ctx->live_seen, seg, g_str_equal, NULL)) {
            g_assert_true(decodes(seg));
            g_ptr_array_add(ctx->live_seen, g_strdup(seg));
        }
    }
}

static const RrCompositeCallbacks callbacks = {.rtcp_out = on_rtcp_out,
                                               .started = on_started,
                                               .finished = on_finished,
                                               .file_closed = on_file_closed};

static double probe_double(const char *path, const char *entry)
{
    const char *argv[] = {"ffprobe", "-v", "error", "-show_entries", entry, "-of",
                          "csv=p=0", path, NULL};
    g_autofree char *out = NULL;
    gint status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return g_ascii_strtod(out, NULL);
}

static void run_composite(const char *dir, RrFileSuffix suffix, gboolean with_file, Ctx *ctx)
{
    g_autofree char *path = g_build_filename(dir, "rec.mp4", NULL);
    g_autofree char *prefix = g_build_filename(dir, "seg", NULL);
    g_autofree char *playlist = g_build_filename(dir, "rec.m3u8", NULL);
    g_autofree char *live = g_build_filename(dir, "rec-live.m3u8", NULL);
    g_autofree char *img_prefix = g_build_filename(dir, "img", NULL);
    RrSegmentsConfig seg = {.prefix = prefix,
                            .playlist_path = playlist,
                            .live_playlist_path = live,
                            .segment_duration_s = 2,
                            .suffix = suffix};
    RrImagesConfig img = {
        .prefix = img_prefix, .interval_s = 1, .width = 320, .height = 180, .suffix = suffix};
    RrCompositeConfig config = {.path = with_file ? path : NULL,
                                .container = RR_CONTAINER_MP4,
                                .segments = &seg,
                                .images = &img};
    rr_encode_settings_init(&config.encode);
    config.encode.width = 640;
    config.encode.height = 360;
    config.encode.video_bitrate_kbps = 800;

    g_autoptr(GError) error = NULL;
    ctx->loop = g_main_loop_new(NULL, FALSE);
    ctx->closed = g_ptr_array_new_with_free_func(g_free);
    ctx->live_seen = g_ptr_array_new_with_free_func(g_free);
    ctx->segments = g_ptr_array_new_with_free_func(g_free);
    ctx->comp = rr_composite_new(&config, NULL, &callbacks, ctx, &error);
    g_assert_no_error(error);
    rr_composite_add_participant(ctx->comp, "PA", "alice");
    static const char *const codecs[] = {"VP8", "OPUS"};
    Feed feeds[2];
    for (guint i = 0; i < 2; i++) {
        feeds[i] = (Feed){ctx, i};
        ctx->tracks[i] = -1;
        ctx->senders[i] = rr_test_sender_new(codecs[i], 30, 0, feed_rtp, feed_rtcp, &feeds[i]);
        RrTestSender *s = ctx->senders[i];
        RrCompositeTrack t = {
            .rtp = {.encoding_name = s->codec,
                    .payload_type = s->pt,
                    .rtx_payload_type = s->rtx_pt,
                    .ssrc = s->ssrc,
                    .nack = s->rtx_pt != 0,
                    .nack_pli = s->rtx_pt != 0},
            .participant = "PA",
        };
        ctx->tracks[i] = rr_composite_add_track(ctx->comp, &t, &error);
        g_assert_no_error(error);
    }
    g_assert_true(rr_composite_start(ctx->comp, &error));
    for (guint i = 0; i < 2; i++)
        rr_test_sender_start(ctx->senders[i]);
    rr_test_run_until(ctx->loop, &ctx->started, 10000, "first media");
    rr_test_run_for(ctx->loop, 7000);
    rr_composite_stop(ctx->comp, 10000);
    rr_test_run_until(ctx->loop, &ctx->finished, 20000, "composite finished");
    for (guint i = 0; i < 2; i++)
        rr_test_sender_stop(ctx->senders[i]);
    g_clear_pointer(&ctx->comp, rr_composite_free);
    for (guint i = 0; i < 2; i++)
        g_clear_pointer(&ctx->senders[i], rr_test_sender_free);
}

static void ctx_clear(Ctx *ctx)
{
    g_clear_pointer(&ctx->loop, g_main_loop_unref);
    g_clear_pointer(&ctx->closed, g_ptr_array_unref);
    g_clear_pointer(&ctx->live_seen, g_ptr_array_unref);
    g_clear_pointer(&ctx->segments, g_ptr_array_unref);
    g_clear_pointer(&ctx->playlist, g_free);
    g_clear_pointer(&ctx->live, g_free);
    g_clear_error(&ctx->error);
}

static guint count_files(const char *dir, const char *prefix, const char *suffix)
{
    guint n = 0;
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL)
        if (g_str_has_prefix(name, prefix) && g_str_has_suffix(name, suffix))
            n++;
    g_dir_close(d);
    return n;
}

static void test_file_segments_images(void)
{
    g_autofree char *dir = temp_dir();
    Ctx ctx = {0};
    run_composite(dir, RR_FILE_SUFFIX_INDEX, TRUE, &ctx);
    g_assert_no_error(ctx.error);
    g_assert_true(ctx.result.complete);
    g_assert_true(ctx.result.has_file);

    /* The file. */
    g_autofree char *path = g_build_filename(dir, "rec.mp4", NULL);
    g_assert_true(decodes(path));
    double file_dur = probe_double(path, "format=duration");
    g_test_message("file %.3f s, segments %.3f s in %u", file_dur,
                   ctx.result.segments.duration / 1e9, ctx.result.segments.segment_count);

    /* Segments: about 2 s each, the total within 1 s of the file, each decodes, PTS rising
     * from one to the next. */
    g_assert_cmpuint(ctx.result.segments.segment_count, >=, 3);
    g_assert_cmpuint(ctx.result.segments.segment_count, ==, ctx.segments->len);
    g_assert_cmpfloat(fabs(ctx.result.segments.duration / 1e9 - file_dur), <, 1.0);
    g_assert_cmpuint(ctx.result.segments.size, >, 0);
    double last_start = -1;
    for (guint i = 0; i < ctx.segments->len; i++) {
        const char *seg = g_ptr_array_index(ctx.segments, i);
        g_autofree char *expect = g_strdup_printf("%s/seg_%05u.ts", dir, i);
        g_assert_cmpstr(seg, ==, expect);
        g_assert_true(decodes(seg));
        double start = probe_double(seg, "format=start_time");
        g_assert_cmpfloat(start, >, last_start);
        last_start = start;
        g_autofree char *codecs = NULL;
        {
            const char *argv[] = {
                "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of",
                "csv=p=0", seg,  NULL};
            g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                       G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                       &codecs, NULL, NULL, NULL));
        }
        g_assert_nonnull(strstr(codecs, "h264"));
        g_assert_nonnull(strstr(codecs, "aac"));
    }
    /* The live playlists seen while recording listed closed segments only, which
     * decoded; the playlists end with ENDLIST. */
    g_assert_false(ctx.bad_live);
    g_assert_cmpuint(ctx.live_rewrites, >=, 2);
    g_assert_cmpuint(ctx.live_seen->len, >=, 2);
    g_autofree char *full = read_text(ctx.playlist);
    g_assert_true(g_str_has_suffix(full, "#EXT-X-ENDLIST\n"));
    g_assert_nonnull(strstr(full, "seg_00000.ts"));
    /* Every segment but the last lasts the requested 2 s (key frames divide it). */
    g_auto(GStrv) lines = g_strsplit(full, "\n", -1);
    guint extinf = 0;
    for (char **l = lines; *l; l++) {
        if (!g_str_has_prefix(*l, "#EXTINF:"))
            continue;
        double d = g_ascii_strtod(*l + 8, NULL);
        /* About 2 s (key frames every 60 frames; a loaded machine may stretch a GOP a
         * little), never the one-frame segments of a forced key frame. */
        if (++extinf < ctx.result.segments.segment_count)
            g_assert_cmpfloat(fabs(d - 2.0), <, 1.0);
    }
    g_assert_cmpuint(extinf, ==, ctx.result.segments.segment_count);
    g_assert_true(decodes(ctx.playlist)); /* ffmpeg plays the HLS playlist in order */
    double hls_dur = probe_double(ctx.playlist, "format=duration");
    g_assert_cmpfloat(fabs(hls_dur - file_dur), <, 1.0);

    /* Images: one a second, 320x180, decodable. */
    g_assert_true(ctx.result.has_images);
    guint n = count_files(dir, "img_", ".jpeg");
    g_test_message("%u images", n);
    g_assert_cmpuint(n, ==, ctx.result.images.count);
    g_assert_cmpfloat(fabs((double)n - file_dur), <=, 2.0);
    g_autofree char *img0 = g_build_filename(dir, "img_00000.jpeg", NULL);
    g_assert_true(decodes(img0));
    g_assert_cmpfloat(probe_double(img0, "stream=width"), ==, 320);
    g_assert_cmpfloat(probe_double(img0, "stream=height"), ==, 180);

    /* Order of the hook: each segment before the playlists that list it; the file last. */
    gboolean seg_seen = FALSE;
    for (guint i = 0; i < ctx.closed->len; i++) {
        const char *c = g_ptr_array_index(ctx.closed, i);
        if (g_str_has_prefix(c, "segment "))
            seg_seen = TRUE;
        if (g_str_has_prefix(c, "playlist "))
            g_assert_true(seg_seen);
    }
    const char *last = g_ptr_array_index(ctx.closed, ctx.closed->len - 1);
    g_assert_true(g_str_has_prefix(last, "file "));
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

/* No file: segments and images alone, named by time. */
static void test_segments_only_timestamp(void)
{
    g_autofree char *dir = temp_dir();
    Ctx ctx = {0};
    run_composite(dir, RR_FILE_SUFFIX_TIMESTAMP, FALSE, &ctx);
    g_assert_no_error(ctx.error);
    g_assert_true(ctx.result.complete);
    g_assert_false(ctx.result.has_file);
    g_assert_cmpuint(ctx.result.segments.segment_count, >=, 3);
    for (guint i = 0; i < ctx.segments->len; i++) {
        g_autofree char *base = g_path_get_basename(g_ptr_array_index(ctx.segments, i));
        /* seg_YYYYMMDDhhmmssmmm.ts */
        g_assert_cmpuint(strlen(base), ==, strlen("seg_") + 17 + strlen(".ts"));
        g_assert_true(decodes(g_ptr_array_index(ctx.segments, i)));
    }
    g_assert_cmpuint(count_files(dir, "img_", ".jpeg"), ==, ctx.result.images.count);
    g_assert_cmpuint(count_files(dir, "img_", ".part"), ==, 0);
    g_assert_cmpuint(count_files(dir, "rec", ".mp4"), ==, 0);
    g_autofree char *full = read_text(ctx.playlist);
    g_assert_true(g_str_has_suffix(full, "#EXT-X-ENDLIST\n"));
    ctx_clear(&ctx);
    rr_test_remove_dir(dir);
}

static void test_bad_config(void)
{
    RrSegmentsConfig seg = {
        .prefix = "/tmp/x", .playlist_path = "/tmp/x.m3u8", .segment_duration_s = 0};
    RrCompositeConfig config = {.segments = &seg, .container = RR_CONTAINER_MP4};
    rr_encode_settings_init(&config.encode);
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_assert_nonnull(strstr(error->message, "segment duration"));
    g_clear_error(&error);

    /* Opus audio cannot go to HLS segments. */
    seg.segment_duration_s = 4;
    config.path = "/tmp/x.webm";
    config.container = RR_CONTAINER_WEBM;
    g_assert_null(rr_composite_new(&config, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_assert_nonnull(strstr(error->message, "AAC"));
    g_clear_error(&error);

    RrImagesConfig img = {.prefix = "/tmp/i", .interval_s = 2, .width = 321, .height = 180};
    RrCompositeConfig c2 = {.images = &img, .container = RR_CONTAINER_MP4};
    rr_encode_settings_init(&c2.encode);
    g_assert_null(rr_composite_new(&c2, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_assert_nonnull(strstr(error->message, "321x180"));
    g_clear_error(&error);

    img.width = 320;
    c2.audio_only = TRUE;
    g_assert_null(rr_composite_new(&c2, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);

    /* Neither file nor extra outputs. */
    RrCompositeConfig c3 = {.container = RR_CONTAINER_MP4};
    rr_encode_settings_init(&c3.encode);
    g_assert_null(rr_composite_new(&c3, NULL, &callbacks, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/segments/playlist", test_playlist);
    g_test_add_func("/pipeline/segments/playlist-unwritable", test_playlist_unwritable);
    g_test_add_func("/pipeline/segments/timestamp-suffix", test_timestamp_suffix);
    g_test_add_func("/pipeline/segments/bad-config", test_bad_config);
    g_test_add_func("/pipeline/segments/file-segments-images", test_file_segments_images);
    g_test_add_func("/pipeline/segments/segments-only-timestamp", test_segments_only_timestamp);
    return g_test_run();
}
