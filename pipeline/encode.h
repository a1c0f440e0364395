/* pipeline/encode: output encoding settings of a composite recording — LiveKit's
 * encoding presets and advanced options — and the containers they are written to.
 *
 * Plain data and pure functions: no GStreamer state, thread-safe. A settings struct is
 * filled from defaults (rr_encode_settings_init: LiveKit egress's defaults, 1280x720,
 * 30 fps, 3000 kbps H.264 main, key frame every 4 s, 128 kbps audio at 44.1 kHz, AAC in
 * MP4 and Opus elsewhere; Opus is always encoded at 48 kHz, the only rate near it that
 * Opus has), then a preset or advanced options overwrite it, then
 * rr_encode_settings_validate() checks it against what the pipeline can build.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* LiveKit EncodingOptionsPreset values. */
typedef enum {
    RR_PRESET_H264_720P_30 = 0,
    RR_PRESET_H264_720P_60 = 1,
    RR_PRESET_H264_1080P_30 = 2,
    RR_PRESET_H264_1080P_60 = 3,
    RR_PRESET_PORTRAIT_H264_720P_30 = 4,
    RR_PRESET_PORTRAIT_H264_720P_60 = 5,
    RR_PRESET_PORTRAIT_H264_1080P_30 = 6,
    RR_PRESET_PORTRAIT_H264_1080P_60 = 7,
} RrEncodePreset;

/* LiveKit AudioCodec / VideoCodec values that roomrec encodes. */
typedef enum {
    RR_AUDIO_CODEC_DEFAULT = 0, /* AAC in MP4, Opus in WebM/Ogg */
    RR_AUDIO_CODEC_OPUS = 1,
    RR_AUDIO_CODEC_AAC = 2,
} RrAudioCodec;

typedef enum {
    RR_H264_PROFILE_BASELINE,
    RR_H264_PROFILE_MAIN,
    RR_H264_PROFILE_HIGH,
} RrH264Profile;

typedef enum {
    RR_CONTAINER_MP4,  /* fragmented MP4 (H.264 + AAC/Opus) */
    RR_CONTAINER_WEBM, /* WebM/Matroska (H.264 goes to .mkv, VP8 to .webm) */
    RR_CONTAINER_OGG,  /* audio only (Opus) */
} RrContainer;

typedef struct {
    guint width, height; /* even, 16..4096 */
    guint fps;           /* 1..60 */
    guint video_bitrate_kbps;
    double keyframe_interval_s; /* 0 < x <= 60 */
    RrH264Profile h264_profile;
    RrAudioCodec audio_codec;
    guint audio_bitrate_kbps;
    guint audio_frequency; /* 44100 or 48000 */
} RrEncodeSettings;

/* LiveKit egress defaults: 1280x720@30, 3000 kbps, H.264 main, keyframe every 4 s,
 * audio default codec, 128 kbps, 44100 Hz. */
void rr_encode_settings_init(RrEncodeSettings *s);
/* Overwrites size, fps and bitrates with @preset's values. FALSE with
 * RR_PIPELINE_ERROR_INVALID_INPUT for an unknown preset. */
gboolean rr_encode_settings_apply_preset(RrEncodeSettings *s, int preset, GError **error);
/* RR_PIPELINE_ERROR_INVALID_INPUT naming the bad field. */
gboolean rr_encode_settings_validate(const RrEncodeSettings *s, GError **error);

/* "baseline" | "main" | "high" (case-insensitive). */
gboolean rr_h264_profile_from_string(const char *str, RrH264Profile *out);
const char *rr_h264_profile_to_string(RrH264Profile profile);
/* "mp4" | "webm" | "mkv" | "ogg"; and the container a file name's extension asks for. */
gboolean rr_container_from_string(const char *str, RrContainer *out);
gboolean rr_container_from_path(const char *path, RrContainer *out);
const char *rr_container_extension(RrContainer c);

/* Added for the CLI and jobs. */
/* A preset by LiveKit name ("H264_720P_30", case-insensitive) or number ("0".."7"). */
gboolean rr_encode_preset_from_string(const char *str, RrEncodePreset *out);
const char *rr_encode_preset_to_string(RrEncodePreset preset);
/* "opus" | "aac" (case-insensitive); "default" gives RR_AUDIO_CODEC_DEFAULT. */
gboolean rr_audio_codec_from_string(const char *str, RrAudioCodec *out);
const char *rr_audio_codec_to_string(RrAudioCodec codec);
/* The codec actually encoded for @codec in @container: DEFAULT becomes AAC in MP4 and
 * Opus in WebM/Matroska and Ogg. */
RrAudioCodec rr_audio_codec_resolve(RrAudioCodec codec, RrContainer container);

G_END_DECLS
