/* Unit tests for pipeline/elements: the element → package table, the lists of what each
 * pipeline builds, and the checks — run against a real GStreamer registry that lacks
 * some plugins: main() points GStreamer, before gst_init(), at a private copy of the
 * system plugin directory (symlinks) without libgstpango (textoverlay), libgstlibav
 * (avdec_h264, avenc_aac) and libgstvoaacenc (voaacenc), with a registry file of its own. */
#include "pipeline/codec.h"
#include "pipeline/composite.h"
#include "pipeline/elements.h"
#include "pipeline/pipeline-error.h"

#include <glib/gstdio.h>
#include <string.h>

static const char *const left_out[] = {"libgstpango.so", "libgstlibav.so", "libgstvoaacenc.so"};

static char *tmp_dir;

static RrCompositeConfig composite_config(gboolean audio_only, RrAudioCodec audio)
{
    RrCompositeConfig c = {.path = "x.mp4", .layout = "grid", .container = RR_CONTAINER_MP4};
    rr_encode_settings_init(&c.encode);
    c.encode.audio_codec = audio;
    c.audio_only = audio_only;
    return c;
}

static void test_packages(void)
{
    g_assert_cmpstr(rr_elements_package("x264enc"), ==, "gstreamer1.0-plugins-ugly");
    g_assert_cmpstr(rr_elements_package("avdec_h264"), ==, "gstreamer1.0-libav");
    g_assert_cmpstr(rr_elements_package("textoverlay"), ==, "gstreamer1.0-x");
    g_assert_cmpstr(rr_elements_package("compositor"), ==, "gstreamer1.0-plugins-base");
    g_assert_cmpstr(rr_elements_package("h264parse"), ==, "gstreamer1.0-plugins-bad");
    g_assert_cmpstr(rr_elements_package("vp8dec"), ==, "gstreamer1.0-plugins-good");
    g_assert_null(rr_elements_package("nosuchelement"));
    g_assert_null(rr_elements_package(NULL));

    /* Every element any pipeline lists has a package in the table. */
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    for (int container = RR_CONTAINER_MP4; container <= RR_CONTAINER_OGG; container++) {
        for (int audio = 0; audio < 2; audio++) {
            RrCompositeConfig c =
                composite_config(audio, audio ? RR_AUDIO_CODEC_AAC : RR_AUDIO_CODEC_OPUS);
            c.container = (RrContainer)container;
            g_ptr_array_add(all, rr_elements_for_composite(&c));
        }
    }
    g_ptr_array_add(all, rr_elements_for_track_egress());
    const char *codecs[] = {"VP8", "VP9", "H264", "opus"};
    for (gsize i = 0; i < G_N_ELEMENTS(codecs); i++) {
        const RrCodec *codec = rr_codec_find(codecs[i], NULL);
        g_assert_nonnull(codec);
        g_ptr_array_add(all, rr_elements_for_track(codec, TRUE));
        g_ptr_array_add(all, rr_elements_for_track(codec, FALSE));
    }
    for (guint i = 0; i < all->len; i++) {
        GPtrArray *list = g_ptr_array_index(all, i);
        g_assert_cmpuint(list->len, >, 0);
        for (guint k = 0; k < list->len; k++) {
            g_auto(GStrv) names = g_strsplit(g_ptr_array_index(list, k), "|", -1);
            for (guint n = 0; names[n] != NULL; n++) {
                if (rr_elements_package(names[n]) == NULL)
                    g_error("no package for \"%s\"", names[n]);
            }
        }
    }
}

static void test_lists(void)
{
    RrCompositeConfig c = composite_config(FALSE, RR_AUDIO_CODEC_OPUS);
    g_autoptr(GPtrArray) video = rr_elements_for_composite(&c);
    const char *want[] = {"rtpbin", "compositor", "x264enc", "h264parse",
                          "mp4mux", "audiomixer", "opusenc", "filesink"};
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
        g_assert_true(g_ptr_array_find_with_equal_func(video, want[i], g_str_equal, NULL));
    c = composite_config(TRUE, RR_AUDIO_CODEC_AAC);
    g_autoptr(GPtrArray) audio = rr_elements_for_composite(&c);
    g_assert_false(g_ptr_array_find_with_equal_func(audio, "x264enc", g_str_equal, NULL));
    g_assert_false(g_ptr_array_find_with_equal_func(audio, "compositor", g_str_equal, NULL));
    g_assert_true(g_ptr_array_find_with_equal_func(audio, "voaacenc|avenc_aac", g_str_equal, NULL));
    g_assert_cmpstr(rr_elements_composite_muxer(RR_CONTAINER_WEBM, FALSE, RR_AUDIO_CODEC_OPUS), ==,
                    "webmmux");
    g_assert_cmpstr(rr_elements_composite_muxer(RR_CONTAINER_WEBM, TRUE, RR_AUDIO_CODEC_OPUS), ==,
                    "matroskamux");

    /* Segments and images without a file: their elements, no muxer or filesink. */
    RrSegmentsConfig seg = {.prefix = "s", .playlist_path = "s.m3u8", .segment_duration_s = 4};
    RrImagesConfig img = {.prefix = "i", .interval_s = 2, .width = 320, .height = 180};
    c = composite_config(FALSE, RR_AUDIO_CODEC_DEFAULT);
    c.path = NULL;
    c.segments = &seg;
    c.images = &img;
    g_autoptr(GPtrArray) extra = rr_elements_for_composite(&c);
    const char *want_extra[] = {"splitmuxsink", "mpegtsmux", "aacparse",     "tee",
                                "videorate",    "jpegenc",   "multifilesink"};
    for (gsize i = 0; i < G_N_ELEMENTS(want_extra); i++)
        g_assert_true(g_ptr_array_find_with_equal_func(extra, want_extra[i], g_str_equal, NULL));
    g_assert_false(g_ptr_array_find_with_equal_func(extra, "mp4mux", g_str_equal, NULL));
    g_assert_false(g_ptr_array_find_with_equal_func(extra, "filesink", g_str_equal, NULL));

    const RrCodec *h264 = rr_codec_find("H264", NULL);
    g_autoptr(GPtrArray) dec = rr_elements_for_track(h264, TRUE);
    g_assert_true(g_ptr_array_find_with_equal_func(dec, "avdec_h264", g_str_equal, NULL));
    g_assert_true(g_ptr_array_find_with_equal_func(dec, "rtph264depay", g_str_equal, NULL));
    g_assert_false(g_ptr_array_find_with_equal_func(dec, "mp4mux", g_str_equal, NULL));
    g_autoptr(GPtrArray) mux = rr_elements_for_track(h264, FALSE);
    g_assert_true(g_ptr_array_find_with_equal_func(mux, "mp4mux", g_str_equal, NULL));
    g_assert_false(g_ptr_array_find_with_equal_func(mux, "avdec_h264", g_str_equal, NULL));
}

static GPtrArray *list_of(const char *first, ...)
{
    GPtrArray *a = g_ptr_array_new();
    va_list ap;
    va_start(ap, first);
    for (const char *e = first; e != NULL; e = va_arg(ap, const char *))
        g_ptr_array_add(a, (gpointer)e);
    va_end(ap);
    return a;
}

static void test_check(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ok = list_of("queue", "x264enc", "vp8dec", "opusenc", NULL);
    g_assert_true(rr_elements_check(ok, &error));
    g_assert_no_error(error);

    /* One missing element: named with its package. */
    g_autoptr(GPtrArray) one = list_of("queue", "avdec_h264", "queue", NULL);
    g_assert_false(rr_elements_check(one, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT);
    g_assert_cmpstr(error->message, ==,
                    "GStreamer element \"avdec_h264\" (Debian package gstreamer1.0-libav) is not "
                    "installed; install with: apt-get install gstreamer1.0-libav");
    g_clear_error(&error);

    /* Every missing one, once each; alternatives are met by either. */
    g_autoptr(GPtrArray) many = list_of("textoverlay", "avdec_h264", "textoverlay",
                                        "voaacenc|opusenc", "nosuchelement", NULL);
    g_assert_false(rr_elements_check(many, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT);
    g_assert_cmpstr(error->message, ==,
                    "GStreamer elements \"textoverlay\" (Debian package gstreamer1.0-x), "
                    "\"avdec_h264\" (Debian package gstreamer1.0-libav), \"nosuchelement\" "
                    "(package unknown) are not installed; install with: apt-get install "
                    "gstreamer1.0-x gstreamer1.0-libav");
    g_clear_error(&error);

    g_autoptr(GPtrArray) alt = list_of("voaacenc|avenc_aac", NULL);
    g_assert_false(rr_elements_check(alt, &error));
    g_assert_cmpstr(error->message, ==,
                    "GStreamer element \"voaacenc\" or \"avenc_aac\" (Debian package "
                    "gstreamer1.0-plugins-bad or gstreamer1.0-libav) is not installed; install "
                    "with: apt-get install gstreamer1.0-plugins-bad");
    g_clear_error(&error);
    g_assert_cmpstr(rr_elements_aac_encoder(), ==, "avenc_aac");

    /* The codec table's own check (track egress: depayloader, parser, muxer). */
    g_assert_true(rr_codec_check_elements(rr_codec_find("H264", NULL), &error));
    g_assert_no_error(error);
}

/* Warnings about missing optional elements, counted (and kept off the fatal path) by
 * the log writer main() installs. */
static guint optional_warnings;

static GLogWriterOutput count_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                     gpointer unused)
{
    for (gsize i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0 && (level & G_LOG_LEVEL_WARNING) &&
            fields[i].length < 0 && strstr(fields[i].value, "is not installed: ")) {
            g_atomic_int_inc(&optional_warnings);
            g_test_message("warning: %s", (const char *)fields[i].value);
            return G_LOG_WRITER_HANDLED;
        }
    }
    return g_log_writer_default(level, fields, n, unused);
}

static void test_optional(void)
{
    guint before = g_atomic_int_get(&optional_warnings);
    g_assert_true(rr_elements_optional("compositor", "nothing"));
    g_assert_cmpuint(g_atomic_int_get(&optional_warnings), ==, before);
    /* One warning, however often it is asked. */
    for (int i = 0; i < 5; i++)
        g_assert_false(rr_elements_optional("textoverlay", "name tiles are drawn without names"));
    g_assert_cmpuint(g_atomic_int_get(&optional_warnings), ==, before + 1);
}

static void test_composite(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "out.mp4", NULL);
    g_autoptr(GError) error = NULL;

    /* AAC needs voaacenc or avenc_aac: neither is here. */
    RrCompositeConfig c = composite_config(TRUE, RR_AUDIO_CODEC_AAC);
    c.path = path;
    g_assert_null(rr_composite_new(&c, NULL, NULL, NULL, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT);
    g_assert_nonnull(strstr(error->message, "\"voaacenc\" or \"avenc_aac\""));
    g_clear_error(&error);

    /* Video with Opus: made without textoverlay (one warning in the process, whichever
     * test asks first); an H.264 track cannot be decoded, a VP8 one can. */
    c = composite_config(FALSE, RR_AUDIO_CODEC_OPUS);
    c.path = path;
    guint warnings = g_atomic_int_get(&optional_warnings);
    RrComposite *comp = rr_composite_new(&c, NULL, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(comp);
    rr_composite_add_participant(comp, "A", "Alice");
    RrCompositeTrack t = {.rtp = {.encoding_name = "H264", .payload_type = 102, .ssrc = 1},
                          .participant = "A"};
    g_assert_cmpint(rr_composite_add_track(comp, &t, &error), ==, -1);
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT);
    g_assert_nonnull(strstr(error->message, "\"avdec_h264\" (Debian package gstreamer1.0-libav)"));
    g_clear_error(&error);
    t.rtp = (RrRecvTrackConfig){.encoding_name = "VP8", .payload_type = 96, .ssrc = 2};
    g_assert_cmpint(rr_composite_add_track(comp, &t, &error), >=, 0);
    g_assert_no_error(error);
    rr_composite_free(comp);
    g_assert_cmpuint(g_atomic_int_get(&optional_warnings), ==, MAX(warnings, 1u));
}

/* A copy of the system plugin directory without left_out[], and a registry of its own. */
static void setup_registry(void)
{
    tmp_dir = g_dir_make_tmp("rr-elements-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    g_autofree char *plugins = g_build_filename(tmp_dir, "plugins", NULL);
    g_assert_cmpint(g_mkdir(plugins, 0700), ==, 0);
    g_autoptr(GDir) dir = g_dir_open(RR_GST_PLUGINS_DIR, 0, NULL);
    g_assert_nonnull(dir);
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
        gboolean skip = !g_str_has_suffix(name, ".so");
        for (gsize i = 0; i < G_N_ELEMENTS(left_out); i++)
            skip |= strcmp(name, left_out[i]) == 0;
        if (skip)
            continue;
        g_autofree char *from = g_build_filename(RR_GST_PLUGINS_DIR, name, NULL);
        g_autofree char *to = g_build_filename(plugins, name, NULL);
        g_assert_cmpint(symlink(from, to), ==, 0);
    }
    g_autofree char *registry = g_build_filename(tmp_dir, "registry.bin", NULL);
    g_setenv("GST_PLUGIN_SYSTEM_PATH", plugins, TRUE);
    g_setenv("GST_REGISTRY", registry, TRUE);
    g_unsetenv("GST_PLUGIN_PATH");
}

static void remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

int main(int argc, char **argv)
{
    setup_registry();
    g_log_set_writer_func(count_writer, NULL, NULL);
    gst_init(&argc, &argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/elements/packages", test_packages);
    g_test_add_func("/pipeline/elements/lists", test_lists);
    g_test_add_func("/pipeline/elements/check", test_check);
    g_test_add_func("/pipeline/elements/optional", test_optional);
    g_test_add_func("/pipeline/elements/composite", test_composite);
    int ret = g_test_run();
    gst_deinit();
    remove_tree(tmp_dir);
    g_free(tmp_dir);
    return ret;
}
