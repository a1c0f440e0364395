/* pipeline/audio-fade: see audio-fade.h. */
#include "pipeline/audio-fade.h"

#include <gst/audio/audio.h>

struct RrAudioFade {
    guint64 done;  /* frames faded in so far */
    guint64 total; /* frames of the whole fade, 0 until the format is known */
    gboolean off;  /* not S16LE, or over */
};

RrAudioFade *rr_audio_fade_new(void)
{
    return g_new0(RrAudioFade, 1);
}

guint64 rr_audio_fade_get_done(RrAudioFade *fade)
{
    return fade->done;
}

GstPadProbeReturn rr_audio_fade_in_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrAudioFade *f = data;
    if (f->off || !(info->type & GST_PAD_PROBE_TYPE_BUFFER))
        return GST_PAD_PROBE_OK;
    g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
    GstAudioInfo ai;
    if (caps == NULL || !gst_audio_info_from_caps(&ai, caps) ||
        GST_AUDIO_INFO_FORMAT(&ai) != GST_AUDIO_FORMAT_S16LE ||
        GST_AUDIO_INFO_LAYOUT(&ai) != GST_AUDIO_LAYOUT_INTERLEAVED ||
        GST_AUDIO_INFO_CHANNELS(&ai) < 1 || GST_AUDIO_INFO_RATE(&ai) < 1) {
        f->off = TRUE;
        return GST_PAD_PROBE_OK;
    }
    guint channels = (guint)GST_AUDIO_INFO_CHANNELS(&ai);
    f->total = (guint64)GST_AUDIO_INFO_RATE(&ai) * RR_AUDIO_FADE_MS / 1000;
    GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstMapInfo map;
    if (!gst_buffer_map(buf, &map, GST_MAP_READWRITE))
        return GST_PAD_PROBE_OK;
    gint16 *s = (gint16 *)map.data;
    gsize frames = map.size / (sizeof *s * channels);
    for (gsize i = 0; i < frames && f->done < f->total; i++, f->done++) {
        /* Linear ramp from 0 to (almost) full scale. */
        gint32 gain = (gint32)(f->done * 32768 / f->total);
        for (guint ch = 0; ch < channels; ch++) {
            gint16 *v = &s[i * channels + ch];
            *v = (gint16)(((gint32)GINT16_FROM_LE(*v) * gain) / 32768);
            *v = GINT16_TO_LE(*v);
        }
    }
    gst_buffer_unmap(buf, &map);
    if (f->done >= f->total)
        f->off = TRUE;
    return GST_PAD_PROBE_OK;
}
