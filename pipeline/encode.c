/* pipeline/encode: see encode.h. */
#include "pipeline/encode.h"
#include "pipeline/pipeline-error.h"

#include <string.h>

typedef struct {
    guint width, height, fps, video_kbps;
} RrPresetValues;

/* LiveKit's presets: 720p 3000 kbps at 30 fps / 4500 at 60, 1080p 4500 / 6000; the
 * portrait ones swap width and height. */
static const RrPresetValues presets[] = {
    [RR_PRESET_H264_720P_30] = {1280, 720, 30, 3000},
    [RR_PRESET_H264_720P_60] = {1280, 720, 60, 4500},
    [RR_PRESET_H264_1080P_30] = {1920, 1080, 30, 4500},
    [RR_PRESET_H264_1080P_60] = {1920, 1080, 60, 6000},
    [RR_PRESET_PORTRAIT_H264_720P_30] = {720, 1280, 30, 3000},
    [RR_PRESET_PORTRAIT_H264_720P_60] = {720, 1280, 60, 4500},
    [RR_PRESET_PORTRAIT_H264_1080P_30] = {1080, 1920, 30, 4500},
    [RR_PRESET_PORTRAIT_H264_1080P_60] = {1080, 1920, 60, 6000},
};

void rr_encode_settings_init(RrEncodeSettings *s)
{
    memset(s, 0, sizeof *s);
    s->width = 1280;
    s->height = 720;
    s->fps = 30;
    s->video_bitrate_kbps = 3000;
    s->keyframe_interval_s = 4.0;
    s->h264_profile = RR_H264_PROFILE_MAIN;
    s->audio_codec = RR_AUDIO_CODEC_DEFAULT;
    s->audio_bitrate_kbps = 128;
    s->audio_frequency = 44100;
}

gboolean rr_encode_settings_apply_preset(RrEncodeSettings *s, int preset, GError **error)
{
    if (preset < 0 || (gsize)preset >= G_N_ELEMENTS(presets)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "unknown encoding preset %d (0..%u)", preset, (guint)G_N_ELEMENTS(presets) - 1);
        return FALSE;
    }
    const RrPresetValues *p = &presets[preset];
    s->width = p->width;
    s->height = p->height;
    s->fps = p->fps;
    s->video_bitrate_kbps = p->video_kbps;
    return TRUE;
}

static gboolean invalid(GError **error, const char *field, const char *fmt, guint value)
{
    g_autofree char *what = g_strdup_printf(fmt, value);
    g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT, "encoding %s: %s", field,
                what);
    return FALSE;
}

gboolean rr_encode_settings_validate(const RrEncodeSettings *s, GError **error)
{
    if (s->width < 16 || s->width > 4096 || s->width % 2 != 0)
        return invalid(error, "width", "%u is not an even number in 16..4096", s->width);
    if (s->height < 16 || s->height > 4096 || s->height % 2 != 0)
        return invalid(error, "height", "%u is not an even number in 16..4096", s->height);
    if (s->fps < 1 || s->fps > 60)
        return invalid(error, "fps", "%u is not in 1..60", s->fps);
    if (s->video_bitrate_kbps < 10 || s->video_bitrate_kbps > 100000)
        return invalid(error, "video bitrate", "%u kbps is not in 10..100000",
                       s->video_bitrate_kbps);
    if (!(s->keyframe_interval_s > 0 && s->keyframe_interval_s <= 60)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "encoding key frame interval: %g s is not in (0, 60]", s->keyframe_interval_s);
        return FALSE;
    }
    if ((guint)s->h264_profile > RR_H264_PROFILE_HIGH)
        return invalid(error, "H.264 profile", "%u is unknown", (guint)s->h264_profile);
    if ((guint)s->audio_codec > RR_AUDIO_CODEC_AAC)
        return invalid(error, "audio codec", "%u is unknown", (guint)s->audio_codec);
    if (s->audio_bitrate_kbps < 8 || s->audio_bitrate_kbps > 512)
        return invalid(error, "audio bitrate", "%u kbps is not in 8..512", s->audio_bitrate_kbps);
    if (s->audio_frequency != 44100 && s->audio_frequency != 48000)
        return invalid(error, "audio frequency", "%u Hz is not 44100 or 48000", s->audio_frequency);
    return TRUE;
}

static const char *const profile_names[] = {
    [RR_H264_PROFILE_BASELINE] = "baseline",
    [RR_H264_PROFILE_MAIN] = "main",
    [RR_H264_PROFILE_HIGH] = "high",
};

gboolean rr_h264_profile_from_string(const char *str, RrH264Profile *out)
{
    for (gsize i = 0; str != NULL && i < G_N_ELEMENTS(profile_names); i++) {
        if (g_ascii_strcasecmp(str, profile_names[i]) == 0) {
            *out = (RrH264Profile)i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *rr_h264_profile_to_string(RrH264Profile profile)
{
    return (guint)profile < G_N_ELEMENTS(profile_names) ? profile_names[profile] : "unknown";
}

gboolean rr_container_from_string(const char *str, RrContainer *out)
{
    static const struct {
        const char *name;
        RrContainer container;
    } names[] = {
        {"mp4", RR_CONTAINER_MP4},
        {"webm", RR_CONTAINER_WEBM},
        {"mkv", RR_CONTAINER_WEBM},
        {"ogg", RR_CONTAINER_OGG},
    };
    for (gsize i = 0; str != NULL && i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(str, names[i].name) == 0) {
            *out = names[i].container;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean rr_container_from_path(const char *path, RrContainer *out)
{
    if (path == NULL)
        return FALSE;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        return FALSE;
    return rr_container_from_string(dot + 1, out);
}

const char *rr_container_extension(RrContainer c)
{
    switch (c) {
    case RR_CONTAINER_MP4:
        return "mp4";
    case RR_CONTAINER_WEBM:
        return "webm";
    case RR_CONTAINER_OGG:
        return "ogg";
    }
    return "mp4";
}

static const char *const preset_names[] = {
    [RR_PRESET_H264_720P_30] = "H264_720P_30",
    [RR_PRESET_H264_720P_60] = "H264_720P_60",
    [RR_PRESET_H264_1080P_30] = "H264_1080P_30",
    [RR_PRESET_H264_1080P_60] = "H264_1080P_60",
    [RR_PRESET_PORTRAIT_H264_720P_30] = "PORTRAIT_H264_720P_30",
    [RR_PRESET_PORTRAIT_H264_720P_60] = "PORTRAIT_H264_720P_60",
    [RR_PRESET_PORTRAIT_H264_1080P_30] = "PORTRAIT_H264_1080P_30",
    [RR_PRESET_PORTRAIT_H264_1080P_60] = "PORTRAIT_H264_1080P_60",
};

gboolean rr_encode_preset_from_string(const char *str, RrEncodePreset *out)
{
    if (str == NULL || *str == '\0')
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(preset_names); i++) {
        if (g_ascii_strcasecmp(str, preset_names[i]) == 0) {
            *out = (RrEncodePreset)i;
            return TRUE;
        }
    }
    guint64 n;
    if (g_ascii_string_to_unsigned(str, 10, 0, G_N_ELEMENTS(preset_names) - 1, &n, NULL)) {
        *out = (RrEncodePreset)n;
        return TRUE;
    }
    return FALSE;
}

const char *rr_encode_preset_to_string(RrEncodePreset preset)
{
    return (guint)preset < G_N_ELEMENTS(preset_names) ? preset_names[preset] : "unknown";
}

gboolean rr_audio_codec_from_string(const char *str, RrAudioCodec *out)
{
    static const char *const names[] = {"default", "opus", "aac"};
    for (gsize i = 0; str != NULL && i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(str, names[i]) == 0) {
            *out = (RrAudioCodec)i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *rr_audio_codec_to_string(RrAudioCodec codec)
{
    switch (codec) {
    case RR_AUDIO_CODEC_DEFAULT:
        return "default";
    case RR_AUDIO_CODEC_OPUS:
        return "opus";
    case RR_AUDIO_CODEC_AAC:
        return "aac";
    }
    return "unknown";
}

RrAudioCodec rr_audio_codec_resolve(RrAudioCodec codec, RrContainer container)
{
    if (codec != RR_AUDIO_CODEC_DEFAULT)
        return codec;
    return container == RR_CONTAINER_MP4 ? RR_AUDIO_CODEC_AAC : RR_AUDIO_CODEC_OPUS;
}
