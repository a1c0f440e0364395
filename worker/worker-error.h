/* worker/worker-error: the error domain of everything under worker/.
 *
 * Jobs that cannot be run as given (malformed JSON, unknown fields, bad values) are
 * RR_WORKER_ERROR_INVALID_JOB; well-formed requests for something roomrec does not do yet
 * (S3 upload, streams, segments) are RR_WORKER_ERROR_UNSUPPORTED. Both map to exit code 2.
 * Add codes at the end.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_WORKER_ERROR (rr_worker_error_quark())
GQuark rr_worker_error_quark(void);

typedef enum {
    RR_WORKER_ERROR_FAILED,         /* anything not covered below */
    RR_WORKER_ERROR_INVALID_JOB,    /* the job (or the flags that make it) is malformed */
    RR_WORKER_ERROR_UNSUPPORTED,    /* well-formed, but roomrec cannot do it (yet) */
    RR_WORKER_ERROR_START_TIMEOUT,  /* nothing recordable before the start timeout */
    RR_WORKER_ERROR_INVALID_CONFIG, /* the worker's config (file, environment, flags) */
} RrWorkerError;

G_END_DECLS
