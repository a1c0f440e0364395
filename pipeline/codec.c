/* pipeline/codec: see codec.h. */
#include "pipeline/codec.h"
#include "pipeline/elements.h"
#include "pipeline/pipeline-error.h"

#include <gst/gst.h>

/* H.264 goes out as avc3 (parameter sets in-band at every IDR), so a resolution change
 * mid-stream (simulcast layer switch) needs no new codec_data in the MP4 header. */
static const RrCodec codecs[] = {
    {RR_CODEC_OPUS, "OPUS", RR_MEDIA_AUDIO, 48000, "rtpopusdepay", "opusparse", NULL, "oggmux",
     "ogg", "opusdec"},
    {RR_CODEC_VP8, "VP8", RR_MEDIA_VIDEO, 90000, "rtpvp8depay", NULL, NULL, "webmmux", "webm",
     "vp8dec"},
    {RR_CODEC_VP9, "VP9", RR_MEDIA_VIDEO, 90000, "rtpvp9depay", "vp9parse", NULL, "webmmux", "webm",
     "vp9dec"},
    {RR_CODEC_H264, "H264", RR_MEDIA_VIDEO, 90000, "rtph264depay", "h264parse",
     "video/x-h264,stream-format=avc3,alignment=au", "mp4mux", "mp4", "avdec_h264"},
};

const RrCodec *rr_codec_find(const char *encoding_name, GError **error)
{
    if (encoding_name != NULL) {
        for (gsize i = 0; i < G_N_ELEMENTS(codecs); i++) {
            if (g_ascii_strcasecmp(codecs[i].encoding_name, encoding_name) == 0)
                return &codecs[i];
        }
    }
    g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_UNSUPPORTED,
                "codec \"%s\" is not supported (VP8, VP9, H264 and Opus are)",
                encoding_name ? encoding_name : "(none)");
    return NULL;
}

const RrCodec *rr_codec_get(RrCodecId id)
{
    for (gsize i = 0; i < G_N_ELEMENTS(codecs); i++) {
        if (codecs[i].id == id)
            return &codecs[i];
    }
    g_return_val_if_reached(NULL);
}

const char *rr_codec_media(const RrCodec *codec)
{
    return codec->kind == RR_MEDIA_AUDIO ? "audio" : "video";
}

gboolean rr_codec_check_elements(const RrCodec *codec, GError **error)
{
    g_autoptr(GPtrArray) needed = rr_elements_for_track(codec, FALSE);
    return rr_elements_check(needed, error);
}
