/* storage/s3-priv: what s3.c and s3-multipart.c share: the store, and one signed
 * request (rr_s3_request: libcurl, SigV4, retried by the store's policy). Not public. */
#pragma once

#include "storage/s3.h"

#include <curl/curl.h>

typedef struct {
    RrStore parent;
    char *access_key, *secret, *session_token, *region, *bucket;
    char *scheme_host;   /* "https://host:port" with the bucket for virtual-host style */
    char *path_prefix;   /* "" or "/bucket" (path style) */
    char *sigv4;         /* "aws:amz:REGION:s3" */
    char *userpwd;       /* "key:secret" (never logged) */
    GPtrArray *put_hdrs; /* metadata, tagging, content-disposition headers for new objects */
    gboolean tls_no_verify;
    char *ca_file;
    guint64 multipart_threshold, part_size;
    guint parallel;
    RrRetryPolicy retry;
    guint64 max_send_speed;
    RrS3EventFunc on_event;
    gpointer user_data;
} RrS3Store;

typedef struct {
    const char *method; /* "PUT", "POST", "GET", "DELETE" */
    const char *key;    /* object key (not yet escaped) */
    const char *query;  /* NULL or sorted "a=1&b=2" */
    const char *what;   /* for errors: "PUT part 3 of key" */
    GPtrArray *headers; /* extra "Name: value" lines, or NULL */
    int fd;             /* body from a file: fd, offset, length (fd < 0: none) */
    guint64 offset, length;
    const char *body; /* or from memory */
    gsize body_len;
    guint part, parts; /* for events */
} RrS3Request;

typedef struct {
    long status;
    GString *body; /* up to 1 MiB */
    char *etag;    /* ETag header, quotes kept */
} RrS3Response;

void rr_s3_response_clear(RrS3Response *resp);
/* Performs @req with retries; TRUE on a 2xx answer (in @resp), else the classified
 * error. */
gboolean rr_s3_request(RrS3Store *s, CURL *curl, const RrS3Request *req, RrS3Response *resp,
                       GError **error);
/* The object's URL (without query). */
char *rr_s3_object_url(RrS3Store *s, const char *key);

/* s3-multipart.c: uploads @path (@size bytes, open as @fd) to @key in parts. */
RrStoreResult *rr_s3_multipart_upload(RrS3Store *s, int fd, guint64 size, const char *key,
                                      const char *content_type, GError **error);
