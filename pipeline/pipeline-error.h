/* pipeline/pipeline-error: the error domain of everything under pipeline/.
 *
 * Every pipeline/ function that can fail on outside input (track descriptions, RTP and
 * RTCP packets, output paths) or on a GStreamer failure reports it as a GError in
 * RR_PIPELINE_ERROR with one of these codes. Errors that come from an element carry the
 * element's name in the message. Add codes at the end.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_PIPELINE_ERROR (rr_pipeline_error_quark())
GQuark rr_pipeline_error_quark(void);

typedef enum {
    RR_PIPELINE_ERROR_FAILED,          /* anything not covered below */
    RR_PIPELINE_ERROR_INVALID_INPUT,   /* malformed track description or packet */
    RR_PIPELINE_ERROR_UNSUPPORTED,     /* well-formed but not a codec/feature we handle */
    RR_PIPELINE_ERROR_MISSING_ELEMENT, /* a GStreamer plugin is not installed */
    RR_PIPELINE_ERROR_STATE,           /* a state change failed, or wrong call order */
    RR_PIPELINE_ERROR_STREAM,          /* an element posted an error while running */
    RR_PIPELINE_ERROR_TIMEOUT,         /* a deadline passed (e.g. EOS never reached the file) */
    RR_PIPELINE_ERROR_IO,              /* the output file could not be written or renamed */
} RrPipelineError;

G_END_DECLS
