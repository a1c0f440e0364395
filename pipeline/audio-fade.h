/* pipeline/audio-fade: a short fade-in at the start of a decoded audio stream, so that a
 * track joining a mix part way through a sound (a late joiner, a track restarted) does
 * not start with a click.
 *
 * rr_audio_fade_in_probe() is a GstPadProbeCallback for BUFFER probes on a pad carrying
 * S16LE interleaved audio (what opusdec gives); its user data is an RrAudioFade from
 * rr_audio_fade_new() (free it with g_free, e.g. as the probe's destroy notify). Other
 * formats pass untouched. Runs on the pad's streaming thread; the fade's state is only
 * touched there.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Length of the fade-in. */
#define RR_AUDIO_FADE_MS 10

typedef struct RrAudioFade RrAudioFade;

/* (transfer full) a fade-in of RR_AUDIO_FADE_MS for one stream. */
RrAudioFade *rr_audio_fade_new(void);

GstPadProbeReturn rr_audio_fade_in_probe(GstPad *pad, GstPadProbeInfo *info, gpointer fade);

/* Frames faded so far (for tests). */
guint64 rr_audio_fade_get_done(RrAudioFade *fade);

G_END_DECLS
