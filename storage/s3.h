/* storage/s3: the S3 back end of RrStore, on libcurl with SigV4 (CURLOPT_AWS_SIGV4).
 *
 * A file up to multipart_threshold goes up in one PUT; a larger one as a multipart
 * upload (s3-multipart.c): parts of rr_s3_part_size() bytes, `parallel` at a time, each
 * retried by the retry policy; on a final failure the upload is aborted. Every request is
 * retried on NETWORK/SERVER errors (retry.h). Path-style (endpoint/bucket/key) or
 * virtual-host (bucket.host/key) addressing; TLS verified unless tls_no_verify.
 *
 * RrS3Config is plain fields, borrowed: rr_s3_store_new() copies what it needs. The
 * secret and session token are never logged nor put in an error, a result or a
 * description; call rr_s3_config_register_secrets() with the log redactor (worker/log's
 * rr_log_add_secret: storage/ does not depend on worker/) before anything may log.
 * The store is used by one thread at a time; on_event is called from the part threads.
 */
#pragma once

#include "storage/retry.h"
#include "storage/storage.h"

G_BEGIN_DECLS

typedef enum {
    RR_S3_EVENT_PART_START, /* a part's first attempt is about to start */
    RR_S3_EVENT_PART_DONE,  /* a part is stored */
    RR_S3_EVENT_RETRY,      /* a request failed and will be tried again after delay_ms */
} RrS3EventKind;

typedef struct {
    RrS3EventKind kind;
    guint part;          /* 1-based part number, 0 for a request that is not a part */
    guint parts;         /* number of parts, 0 for a single PUT */
    guint attempt;       /* RETRY: the failed attempt (1-based) */
    guint delay_ms;      /* RETRY: the wait before the next one */
    const GError *error; /* RETRY: why */
} RrS3Event;

typedef void (*RrS3EventFunc)(const RrS3Event *event, gpointer user_data);

typedef struct {
    const char *access_key;    /* required */
    const char *secret;        /* required */
    const char *session_token; /* optional: x-amz-security-token */
    const char *region;        /* default "us-east-1" */
    const char *endpoint;      /* "https://host[:port]"; default https://s3.REGION.amazonaws.com */
    const char *bucket;        /* required */
    gboolean force_path_style; /* endpoint/bucket/key instead of bucket.host/key */
    GHashTable *metadata;      /* optional: name -> value, sent as x-amz-meta-NAME */
    const char *tagging;       /* optional: "k1=v1&k2=v2" (x-amz-tagging) */
    const char *content_disposition; /* optional */
    gboolean tls_no_verify;          /* do not verify the server's certificate (tests only) */
    const char *ca_file;             /* optional CA bundle */
    guint64 multipart_threshold;     /* bytes; larger files go multipart; default 64 MiB */
    guint64 part_size;               /* minimum part size; default 8 MiB, at least 5 MiB */
    guint parallel;                  /* parts in flight; default 4 */
    RrRetryPolicy retry;             /* zero fields: RR_RETRY_POLICY_DEFAULT's */
    guint64 max_send_speed;          /* bytes/s per connection, 0: unlimited (tests) */
    RrS3EventFunc on_event;          /* optional, called from upload threads */
    gpointer user_data;
} RrS3Config;

/* (transfer full) An S3 store, or NULL with an RR_STORAGE_ERROR_CONFIG error naming the
 * field (missing access_key/secret/bucket, a bad endpoint, a bucket name that cannot be a
 * host name with virtual-host addressing). */
RrStore *rr_s3_store_new(const RrS3Config *config, GError **error);
/* Calls @add with the secret and the session token (those set). */
void rr_s3_config_register_secrets(const RrS3Config *config, void (*add)(const char *secret));

/* Multipart sizing: the part size for a @file_size-byte object — at least @min_part
 * (raised to S3's 5 MiB), large enough for at most 10,000 parts, rounded up to a MiB;
 * 0 with an error when the object exceeds S3's 5 TiB or a part would exceed 5 GiB. */
guint64 rr_s3_part_size(guint64 file_size, guint64 min_part, GError **error);
/* The number of parts of @part_size bytes for @file_size bytes (at least 1). */
guint rr_s3_part_count(guint64 file_size, guint64 part_size);

G_END_DECLS
