/* pipeline/elements: which GStreamer elements a recording needs, which Debian package
 * installs each, and whether they are installed.
 *
 * A job is checked before it joins its room: rr_elements_for_composite() and
 * rr_elements_for_track_egress() list what the pipeline builds at its start (receive
 * side, mixers, encoders, muxer); rr_elements_for_track() what a track of a known codec
 * adds (depayloader, parser, then the muxer of a track egress or the decoder of a
 * composite). rr_elements_check() fails naming every missing element and its package,
 * so a machine without, say, gstreamer1.0-plugins-ugly fails the job at once instead of
 * recording less. Optional elements (textoverlay for name tiles) are checked with
 * rr_elements_optional(): one warning per element per process, never one per use.
 *
 * The lists are (transfer container) GPtrArrays of static strings; an entry "a|b" is met
 * by either element. Everything here may be called from any thread after gst_init().
 */
#pragma once

#include <gst/gst.h>

#include "pipeline/codec.h"
#include "pipeline/composite.h"
#include "pipeline/encode.h"

G_BEGIN_DECLS

/* The Debian package holding @element's plugin, or NULL when the table does not know it.
 * (transfer none) */
const char *rr_elements_package(const char *element);

/* Whether every entry of @needed is installed; otherwise FALSE with
 * RR_PIPELINE_ERROR_MISSING_ELEMENT naming each missing element with its package. */
gboolean rr_elements_check(const GPtrArray *needed, GError **error);

/* Sets @error (RR_PIPELINE_ERROR_MISSING_ELEMENT) for one element that could not be made,
 * naming its package. */
void rr_elements_set_missing(GError **error, const char *element);

/* Whether the optional @element is installed. The first time it is found missing in this
 * process, one warning says so, with its package and @what is lost without it. */
gboolean rr_elements_optional(const char *element, const char *what);

/* Made at a composite's start (receive side, background sources, mixers, encoders,
 * muxer, file). Name tiles are optional and not listed. */
GPtrArray *rr_elements_for_composite(const RrCompositeConfig *config);
/* Made at a track egress's start, before its codec is known. */
GPtrArray *rr_elements_for_track_egress(void);
/* What a track of @codec adds: depayloader and parser, then the decoder and the branch
 * before it (@decode, a composite) or the single-track muxer (a track egress). */
GPtrArray *rr_elements_for_track(const RrCodec *codec, gboolean decode);

/* The muxer of a composite in @container. */
const char *rr_elements_composite_muxer(RrContainer container, gboolean video,
                                        RrAudioCodec audio_codec);
/* The AAC encoder to use: voaacenc if installed, else avenc_aac. */
const char *rr_elements_aac_encoder(void);

G_END_DECLS
