/* pipeline/elements: see elements.h. */
#include "pipeline/elements.h"
#include "pipeline/pipeline-error.h"

#include <string.h>

/* Element → the Debian (12) package holding its plugin (dpkg -S on the plugin's .so). */
static const struct {
    const char *element;
    const char *package;
} packages[] = {
    /* coreelements: libgstreamer1.0-0 */
    {"capsfilter", "libgstreamer1.0-0"},
    {"clocksync", "libgstreamer1.0-0"},
    {"fakesink", "libgstreamer1.0-0"},
    {"filesink", "libgstreamer1.0-0"},
    {"queue", "libgstreamer1.0-0"},
    {"tee", "libgstreamer1.0-0"},
    /* app, audioconvert, audiomixer, audioresample, audiotestsrc, compositor, ogg, opus,
     * videoconvert, videotestsrc: gstreamer1.0-plugins-base */
    {"appsink", "gstreamer1.0-plugins-base"},
    {"appsrc", "gstreamer1.0-plugins-base"},
    {"audioconvert", "gstreamer1.0-plugins-base"},
    {"audiomixer", "gstreamer1.0-plugins-base"},
    {"audioresample", "gstreamer1.0-plugins-base"},
    {"audiotestsrc", "gstreamer1.0-plugins-base"},
    {"compositor", "gstreamer1.0-plugins-base"},
    {"oggmux", "gstreamer1.0-plugins-base"},
    {"opusdec", "gstreamer1.0-plugins-base"},
    {"opusenc", "gstreamer1.0-plugins-base"},
    {"videoconvert", "gstreamer1.0-plugins-base"},
    {"videoscale", "gstreamer1.0-plugins-base"},
    {"videotestsrc", "gstreamer1.0-plugins-base"},
    {"videorate", "gstreamer1.0-plugins-base"},
    /* rtpmanager, rtp, vpx, matroska, isomp4: gstreamer1.0-plugins-good */
    {"rtpbin", "gstreamer1.0-plugins-good"},
    {"rtpjitterbuffer", "gstreamer1.0-plugins-good"},
    {"rtprtxreceive", "gstreamer1.0-plugins-good"},
    {"rtpopusdepay", "gstreamer1.0-plugins-good"},
    {"rtpopuspay", "gstreamer1.0-plugins-good"},
    {"rtpvp8depay", "gstreamer1.0-plugins-good"},
    {"rtpvp8pay", "gstreamer1.0-plugins-good"},
    {"rtpvp9depay", "gstreamer1.0-plugins-good"},
    {"rtph264depay", "gstreamer1.0-plugins-good"},
    {"rtph264pay", "gstreamer1.0-plugins-good"},
    {"vp8dec", "gstreamer1.0-plugins-good"},
    {"vp8enc", "gstreamer1.0-plugins-good"},
    {"vp9dec", "gstreamer1.0-plugins-good"},
    {"matroskamux", "gstreamer1.0-plugins-good"},
    {"webmmux", "gstreamer1.0-plugins-good"},
    {"mp4mux", "gstreamer1.0-plugins-good"},
    {"qtmux", "gstreamer1.0-plugins-good"},
    /* audioparsers, multifile, jpeg: gstreamer1.0-plugins-good */
    {"aacparse", "gstreamer1.0-plugins-good"},
    {"splitmuxsink", "gstreamer1.0-plugins-good"},
    {"multifilesink", "gstreamer1.0-plugins-good"},
    {"jpegenc", "gstreamer1.0-plugins-good"},
    /* opusparse, videoparsersbad, voaacenc, fdkaac: gstreamer1.0-plugins-bad */
    {"opusparse", "gstreamer1.0-plugins-bad"},
    {"h264parse", "gstreamer1.0-plugins-bad"},
    {"vp9parse", "gstreamer1.0-plugins-bad"},
    {"mpegtsmux", "gstreamer1.0-plugins-bad"},
    {"voaacenc", "gstreamer1.0-plugins-bad"},
    {"fdkaacenc", "gstreamer1.0-plugins-bad"},
    /* x264: gstreamer1.0-plugins-ugly; libav: gstreamer1.0-libav; pango: gstreamer1.0-x */
    {"x264enc", "gstreamer1.0-plugins-ugly"},
    {"avdec_h264", "gstreamer1.0-libav"},
    {"avenc_aac", "gstreamer1.0-libav"},
    {"textoverlay", "gstreamer1.0-x"},
    {"timeoverlay", "gstreamer1.0-x"},
};

const char *rr_elements_package(const char *element)
{
    for (gsize i = 0; element != NULL && i < G_N_ELEMENTS(packages); i++) {
        if (strcmp(packages[i].element, element) == 0)
            return packages[i].package;
    }
    return NULL;
}

static gboolean installed(const char *element)
{
    g_autoptr(GstElementFactory) f = gst_element_factory_find(element);
    return f != NULL;
}

/* "\"x264enc\" (Debian package gstreamer1.0-plugins-ugly)"; for "a|b": "\"a\" or \"b\"
 * (Debian package P or Q)". Adds the packages to @install (once each). */
static void describe(GString *out, const char *entry, GPtrArray *install)
{
    g_auto(GStrv) names = g_strsplit(entry, "|", -1);
    g_autoptr(GString) pkgs = g_string_new(NULL);
    for (guint i = 0; names[i] != NULL; i++) {
        const char *pkg = rr_elements_package(names[i]);
        g_string_append_printf(out, "%s\"%s\"", i ? " or " : "", names[i]);
        if (pkg == NULL)
            continue;
        if (!strstr(pkgs->str, pkg))
            g_string_append_printf(pkgs, "%s%s", pkgs->len ? " or " : "", pkg);
        if (i == 0 && install != NULL &&
            !g_ptr_array_find_with_equal_func(install, pkg, g_str_equal, NULL))
            g_ptr_array_add(install, (gpointer)pkg);
    }
    if (pkgs->len)
        g_string_append_printf(out, " (Debian package %s)", pkgs->str);
    else
        g_string_append(out, " (package unknown)");
}

static gboolean entry_installed(const char *entry)
{
    if (strchr(entry, '|') == NULL)
        return installed(entry);
    g_auto(GStrv) names = g_strsplit(entry, "|", -1);
    for (guint i = 0; names[i] != NULL; i++) {
        if (installed(names[i]))
            return TRUE;
    }
    return FALSE;
}

gboolean rr_elements_check(const GPtrArray *needed, GError **error)
{
    g_autoptr(GPtrArray) missing = g_ptr_array_new();
    for (guint i = 0; i < needed->len; i++) {
        const char *e = g_ptr_array_index(needed, i);
        if (!g_ptr_array_find_with_equal_func(missing, e, g_str_equal, NULL) && !entry_installed(e))
            g_ptr_array_add(missing, (gpointer)e);
    }
    if (missing->len == 0)
        return TRUE;
    g_autoptr(GString) msg =
        g_string_new(missing->len == 1 ? "GStreamer element " : "GStreamer elements ");
    g_autoptr(GPtrArray) install = g_ptr_array_new();
    for (guint i = 0; i < missing->len; i++) {
        if (i)
            g_string_append(msg, ", ");
        describe(msg, g_ptr_array_index(missing, i), install);
    }
    g_string_append(msg, missing->len == 1 ? " is not installed" : " are not installed");
    if (install->len) {
        g_string_append(msg, "; install with: apt-get install");
        for (guint i = 0; i < install->len; i++)
            g_string_append_printf(msg, " %s", (const char *)g_ptr_array_index(install, i));
    }
    g_set_error_literal(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT, msg->str);
    return FALSE;
}

void rr_elements_set_missing(GError **error, const char *element)
{
    g_autoptr(GString) msg = g_string_new("GStreamer element ");
    describe(msg, element, NULL);
    g_string_append(msg, " is not installed");
    g_set_error_literal(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_MISSING_ELEMENT, msg->str);
}

G_LOCK_DEFINE_STATIC(warned);
static GHashTable *warned; /* optional elements found missing, warned about once */

gboolean rr_elements_optional(const char *element, const char *what)
{
    if (installed(element))
        return TRUE;
    G_LOCK(warned);
    if (warned == NULL)
        warned = g_hash_table_new(g_str_hash, g_str_equal);
    gboolean first = g_hash_table_add(warned, (gpointer)g_intern_string(element));
    G_UNLOCK(warned);
    if (first) {
        g_autoptr(GString) msg = g_string_new("GStreamer element ");
        describe(msg, element, NULL);
        g_warning("%s is not installed: %s", msg->str, what);
    }
    return FALSE;
}

/* ---- what each pipeline builds ---- */

static void add(GPtrArray *a, const char *element)
{
    if (element != NULL)
        g_ptr_array_add(a, (gpointer)element);
}

/* pipeline/recv.c: rtpbin (its jitterbuffers), an appsink per track for RTCP. */
static void add_receive(GPtrArray *a)
{
    add(a, "rtpbin");
    add(a, "rtpjitterbuffer");
    add(a, "appsink");
}

const char *rr_elements_composite_muxer(RrContainer container, gboolean video,
                                        RrAudioCodec audio_codec)
{
    switch (container) {
    case RR_CONTAINER_MP4:
        return "mp4mux";
    case RR_CONTAINER_OGG:
        return "oggmux";
    case RR_CONTAINER_WEBM:
        break;
    }
    /* WebM holds VP8/VP9 and Opus only: H.264 or AAC go to Matroska. */
    return video || audio_codec == RR_AUDIO_CODEC_AAC ? "matroskamux" : "webmmux";
}

const char *rr_elements_aac_encoder(void)
{
    return installed("voaacenc") ? "voaacenc" : "avenc_aac";
}

GPtrArray *rr_elements_for_composite(const RrCompositeConfig *config)
{
    GPtrArray *a = g_ptr_array_new();
    gboolean video = !config->audio_only, audio = !config->video_only;
    RrAudioCodec ac = rr_audio_codec_resolve(config->encode.audio_codec,
                                             config->path ? config->container : RR_CONTAINER_MP4);
    add_receive(a);
    add(a, "tee");
    if (config->path != NULL) {
        add(a, rr_elements_composite_muxer(config->container, video, ac));
        add(a, "filesink");
    }
    if (config->segments != NULL) {
        const char *v[] = {"splitmuxsink", "mpegtsmux", "h264parse", "aacparse"};
        for (gsize i = 0; i < G_N_ELEMENTS(v); i++)
            add(a, v[i]);
    }
    if (config->images != NULL) {
        const char *v[] = {"videorate", "videoscale", "jpegenc", "multifilesink"};
        for (gsize i = 0; i < G_N_ELEMENTS(v); i++)
            add(a, v[i]);
    }
    if (video) {
        const char *v[] = {"videotestsrc", "capsfilter", "compositor",
                           "queue",        "x264enc",    "h264parse"};
        for (gsize i = 0; i < G_N_ELEMENTS(v); i++)
            add(a, v[i]);
    }
    if (audio) {
        const char *v[] = {"audiotestsrc", "capsfilter",    "audiomixer", "queue",
                           "audioconvert", "audioresample", NULL};
        for (gsize i = 0; v[i] != NULL; i++)
            add(a, v[i]);
        add(a, ac == RR_AUDIO_CODEC_AAC ? "voaacenc|avenc_aac" : "opusenc");
    }
    return a;
}

GPtrArray *rr_elements_for_track_egress(void)
{
    GPtrArray *a = g_ptr_array_new();
    add_receive(a);
    add(a, "capsfilter");
    add(a, "filesink");
    return a;
}

GPtrArray *rr_elements_for_track(const RrCodec *codec, gboolean decode)
{
    GPtrArray *a = g_ptr_array_new();
    add(a, codec->depayloader);
    add(a, codec->parser);
    if (decode) {
        add(a, "queue");
        if (codec->kind == RR_MEDIA_VIDEO)
            add(a, "clocksync");
        add(a, codec->decoder);
    } else {
        add(a, codec->muxer);
    }
    return a;
}
