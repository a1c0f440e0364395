/* Unit tests for pipeline/encode: defaults, LiveKit presets, validation and the string
 * conversions the CLI and job parser use. */
#include "pipeline/encode.h"
#include "pipeline/pipeline-error.h"

#include <string.h>

static void test_defaults(void)
{
    RrEncodeSettings s;
    rr_encode_settings_init(&s);
    g_assert_cmpuint(s.width, ==, 1280);
    g_assert_cmpuint(s.height, ==, 720);
    g_assert_cmpuint(s.fps, ==, 30);
    g_assert_cmpuint(s.video_bitrate_kbps, ==, 3000);
    g_assert_cmpfloat(s.keyframe_interval_s, ==, 4.0);
    g_assert_cmpint(s.h264_profile, ==, RR_H264_PROFILE_MAIN);
    g_assert_cmpint(s.audio_codec, ==, RR_AUDIO_CODEC_DEFAULT);
    g_assert_cmpuint(s.audio_bitrate_kbps, ==, 128);
    g_assert_cmpuint(s.audio_frequency, ==, 44100);
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_encode_settings_validate(&s, &error));
    g_assert_no_error(error);
}

static void test_presets(void)
{
    static const struct {
        int preset;
        guint w, h, fps, kbps;
        const char *name;
    } cases[] = {
        {RR_PRESET_H264_720P_30, 1280, 720, 30, 3000, "H264_720P_30"},
        {RR_PRESET_H264_720P_60, 1280, 720, 60, 4500, "H264_720P_60"},
        {RR_PRESET_H264_1080P_30, 1920, 1080, 30, 4500, "H264_1080P_30"},
        {RR_PRESET_H264_1080P_60, 1920, 1080, 60, 6000, "H264_1080P_60"},
        {RR_PRESET_PORTRAIT_H264_720P_30, 720, 1280, 30, 3000, "PORTRAIT_H264_720P_30"},
        {RR_PRESET_PORTRAIT_H264_720P_60, 720, 1280, 60, 4500, "PORTRAIT_H264_720P_60"},
        {RR_PRESET_PORTRAIT_H264_1080P_30, 1080, 1920, 30, 4500, "PORTRAIT_H264_1080P_30"},
        {RR_PRESET_PORTRAIT_H264_1080P_60, 1080, 1920, 60, 6000, "PORTRAIT_H264_1080P_60"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        RrEncodeSettings s;
        rr_encode_settings_init(&s);
        s.audio_codec = RR_AUDIO_CODEC_OPUS;
        g_autoptr(GError) error = NULL;
        g_assert_true(rr_encode_settings_apply_preset(&s, cases[i].preset, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s.width, ==, cases[i].w);
        g_assert_cmpuint(s.height, ==, cases[i].h);
        g_assert_cmpuint(s.fps, ==, cases[i].fps);
        g_assert_cmpuint(s.video_bitrate_kbps, ==, cases[i].kbps);
        /* Presets leave the rest alone. */
        g_assert_cmpint(s.audio_codec, ==, RR_AUDIO_CODEC_OPUS);
        g_assert_true(rr_encode_settings_validate(&s, NULL));
        /* Names and numbers both work. */
        RrEncodePreset p = 99;
        g_assert_true(rr_encode_preset_from_string(cases[i].name, &p));
        g_assert_cmpint(p, ==, cases[i].preset);
        g_autofree char *lower = g_ascii_strdown(cases[i].name, -1);
        g_assert_true(rr_encode_preset_from_string(lower, &p));
        g_assert_cmpint(p, ==, cases[i].preset);
        g_autofree char *num = g_strdup_printf("%d", cases[i].preset);
        g_assert_true(rr_encode_preset_from_string(num, &p));
        g_assert_cmpint(p, ==, cases[i].preset);
        g_assert_cmpstr(rr_encode_preset_to_string(cases[i].preset), ==, cases[i].name);
    }
    RrEncodeSettings s;
    rr_encode_settings_init(&s);
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_encode_settings_apply_preset(&s, 8, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    g_assert_false(rr_encode_settings_apply_preset(&s, -1, &error));
    g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
    g_assert_cmpuint(s.width, ==, 1280);
    RrEncodePreset p;
    g_assert_false(rr_encode_preset_from_string("8", &p));
    g_assert_false(rr_encode_preset_from_string("H264_4K", &p));
    g_assert_false(rr_encode_preset_from_string("", &p));
    g_assert_false(rr_encode_preset_from_string(NULL, &p));
}

/* Each bad field is refused with an error naming it. */
static void test_validate(void)
{
    static const struct {
        const char *field;
        guint width, height, fps, vkbps;
        double keyint;
        guint akbps, rate;
    } bad[] = {
        {"width", 1281, 720, 30, 3000, 4, 128, 44100},
        {"width", 8, 720, 30, 3000, 4, 128, 44100},
        {"width", 4098, 720, 30, 3000, 4, 128, 44100},
        {"height", 1280, 0, 30, 3000, 4, 128, 44100},
        {"height", 1280, 721, 30, 3000, 4, 128, 44100},
        {"fps", 1280, 720, 0, 3000, 4, 128, 44100},
        {"fps", 1280, 720, 61, 3000, 4, 128, 44100},
        {"video bitrate", 1280, 720, 30, 0, 4, 128, 44100},
        {"key frame interval", 1280, 720, 30, 3000, 0, 128, 44100},
        {"key frame interval", 1280, 720, 30, 3000, 61, 128, 44100},
        {"audio bitrate", 1280, 720, 30, 3000, 4, 0, 44100},
        {"audio frequency", 1280, 720, 30, 3000, 4, 128, 32000},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        RrEncodeSettings s;
        rr_encode_settings_init(&s);
        s.width = bad[i].width;
        s.height = bad[i].height;
        s.fps = bad[i].fps;
        s.video_bitrate_kbps = bad[i].vkbps;
        s.keyframe_interval_s = bad[i].keyint;
        s.audio_bitrate_kbps = bad[i].akbps;
        s.audio_frequency = bad[i].rate;
        g_autoptr(GError) error = NULL;
        g_assert_false(rr_encode_settings_validate(&s, &error));
        g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
        g_assert_nonnull(strstr(error->message, bad[i].field));
    }
    RrEncodeSettings s;
    rr_encode_settings_init(&s);
    s.h264_profile = 7;
    g_assert_false(rr_encode_settings_validate(&s, NULL));
    rr_encode_settings_init(&s);
    s.audio_codec = 9;
    g_assert_false(rr_encode_settings_validate(&s, NULL));
    rr_encode_settings_init(&s);
    s.width = 16;
    s.height = 4096;
    s.fps = 60;
    s.audio_frequency = 48000;
    s.keyframe_interval_s = 0.5;
    g_assert_true(rr_encode_settings_validate(&s, NULL));
}

static void test_strings(void)
{
    RrH264Profile prof;
    g_assert_true(rr_h264_profile_from_string("baseline", &prof));
    g_assert_cmpint(prof, ==, RR_H264_PROFILE_BASELINE);
    g_assert_true(rr_h264_profile_from_string("MAIN", &prof));
    g_assert_cmpint(prof, ==, RR_H264_PROFILE_MAIN);
    g_assert_true(rr_h264_profile_from_string("High", &prof));
    g_assert_cmpint(prof, ==, RR_H264_PROFILE_HIGH);
    g_assert_false(rr_h264_profile_from_string("high10", &prof));
    g_assert_false(rr_h264_profile_from_string(NULL, &prof));
    g_assert_cmpstr(rr_h264_profile_to_string(RR_H264_PROFILE_HIGH), ==, "high");

    RrContainer c;
    g_assert_true(rr_container_from_string("mp4", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_MP4);
    g_assert_true(rr_container_from_string("MKV", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_WEBM);
    g_assert_true(rr_container_from_string("webm", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_WEBM);
    g_assert_true(rr_container_from_string("ogg", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_OGG);
    g_assert_false(rr_container_from_string("avi", &c));
    g_assert_true(rr_container_from_path("/tmp/a.b/room-1.MP4", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_MP4);
    g_assert_true(rr_container_from_path("out.ogg", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_OGG);
    g_assert_true(rr_container_from_path("x/y.mkv", &c));
    g_assert_cmpint(c, ==, RR_CONTAINER_WEBM);
    g_assert_false(rr_container_from_path("/tmp/a.b/noext", &c));
    g_assert_false(rr_container_from_path("/tmp/.mp4", &c));
    g_assert_false(rr_container_from_path("file.txt", &c));
    g_assert_cmpstr(rr_container_extension(RR_CONTAINER_OGG), ==, "ogg");
    g_assert_cmpstr(rr_container_extension(RR_CONTAINER_WEBM), ==, "webm");
    g_assert_cmpstr(rr_container_extension(RR_CONTAINER_MP4), ==, "mp4");

    RrAudioCodec a;
    g_assert_true(rr_audio_codec_from_string("Opus", &a));
    g_assert_cmpint(a, ==, RR_AUDIO_CODEC_OPUS);
    g_assert_true(rr_audio_codec_from_string("aac", &a));
    g_assert_cmpint(a, ==, RR_AUDIO_CODEC_AAC);
    g_assert_false(rr_audio_codec_from_string("mp3", &a));
    g_assert_cmpstr(rr_audio_codec_to_string(RR_AUDIO_CODEC_AAC), ==, "aac");
    g_assert_cmpint(rr_audio_codec_resolve(RR_AUDIO_CODEC_DEFAULT, RR_CONTAINER_MP4), ==,
                    RR_AUDIO_CODEC_AAC);
    g_assert_cmpint(rr_audio_codec_resolve(RR_AUDIO_CODEC_DEFAULT, RR_CONTAINER_WEBM), ==,
                    RR_AUDIO_CODEC_OPUS);
    g_assert_cmpint(rr_audio_codec_resolve(RR_AUDIO_CODEC_DEFAULT, RR_CONTAINER_OGG), ==,
                    RR_AUDIO_CODEC_OPUS);
    g_assert_cmpint(rr_audio_codec_resolve(RR_AUDIO_CODEC_OPUS, RR_CONTAINER_MP4), ==,
                    RR_AUDIO_CODEC_OPUS);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/encode/defaults", test_defaults);
    g_test_add_func("/pipeline/encode/presets", test_presets);
    g_test_add_func("/pipeline/encode/validate", test_validate);
    g_test_add_func("/pipeline/encode/strings", test_strings);
    return g_test_run();
}
