/* storage/storage-error: the error domain of everything under storage/.
 *
 * The codes say what went wrong in words a status can carry: RR_STORAGE_ERROR_AUTH is
 * "the S3 server refused our credentials" (wrong secret, unknown key, expired token),
 * NO_BUCKET "the bucket does not exist", NETWORK "no answer" (connect, send, receive,
 * timeouts), SERVER a 5xx or SlowDown. rr_retry_is_retryable() (retry.h) decides from
 * the code which failures are worth another attempt. Add codes at the end.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_STORAGE_ERROR (rr_storage_error_quark())
GQuark rr_storage_error_quark(void);

typedef enum {
    RR_STORAGE_ERROR_FAILED,    /* anything not covered below */
    RR_STORAGE_ERROR_AUTH,      /* credentials refused (403 SignatureDoesNotMatch, ...) */
    RR_STORAGE_ERROR_NO_BUCKET, /* 404 NoSuchBucket */
    RR_STORAGE_ERROR_NETWORK,   /* connection refused, reset, timed out, DNS */
    RR_STORAGE_ERROR_SERVER,    /* 5xx, 503 SlowDown: the server's trouble, retryable */
    RR_STORAGE_ERROR_REQUEST,   /* 4xx other than the above: our request was refused */
    RR_STORAGE_ERROR_TLS,       /* certificate not verified, handshake failed */
    RR_STORAGE_ERROR_CONFIG,    /* a storage config field is missing or invalid */
    RR_STORAGE_ERROR_IO,        /* reading or writing a local file */
    RR_STORAGE_ERROR_EXISTS,    /* the destination exists (local back end never overwrites) */
    RR_STORAGE_ERROR_RESPONSE,  /* the server's answer could not be understood */
} RrStorageError;

/* "auth", "no-bucket", ... (static). */
const char *rr_storage_error_code_name(RrStorageError code);

G_END_DECLS
