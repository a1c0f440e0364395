/* storage/s3-multipart: a large file as an S3 multipart upload.
 *
 *   POST key?uploads=            -> UploadId
 *   PUT  key?partNumber=N&uploadId=ID   x `parallel` threads, each part retried
 *   POST key?uploadId=ID  <CompleteMultipartUpload> with every part's ETag
 *   DELETE key?uploadId=ID       when a part or the completion fails for good
 *
 * Query parameters are written sorted and `uploads=` with its '=': libcurl 7.88 signs
 * the query as written, and S3's canonical form sorts them and keeps the '='.
 */
#include "storage/s3-priv.h"

#include "storage/s3-xml.h"

typedef struct {
    RrS3Store *s;
    int fd;
    guint64 size, part_size;
    guint parts;
    const char *key;
    char *upload_id_q; /* uploadId, escaped for a query */
    GMutex lock;
    guint next;     /* next part to take (1-based) */
    GError *failed; /* the first final failure: the others stop */
    char **etags;   /* [parts] */
} Upload;

static gpointer part_thread(gpointer data)
{
    Upload *up = data;
    CURL *curl = curl_easy_init();
    for (;;) {
        g_mutex_lock(&up->lock);
        guint n = up->failed == NULL && up->next <= up->parts ? up->next++ : 0;
        g_mutex_unlock(&up->lock);
        if (n == 0)
            break;
        if (up->s->on_event != NULL) {
            RrS3Event ev = {.kind = RR_S3_EVENT_PART_START, .part = n, .parts = up->parts};
            up->s->on_event(&ev, up->s->user_data);
        }
        guint64 off = (guint64)(n - 1) * up->part_size;
        g_autofree char *query = g_strdup_printf("partNumber=%u&uploadId=%s", n, up->upload_id_q);
        g_autofree char *what = g_strdup_printf("PUT part %u of %u of s3://%s/%s", n, up->parts,
                                                up->s->bucket, up->key);
        RrS3Request req = {.method = "PUT",
                           .key = up->key,
                           .query = query,
                           .what = what,
                           .fd = up->fd,
                           .offset = off,
                           .length = MIN(up->part_size, up->size - off),
                           .part = n,
                           .parts = up->parts};
        RrS3Response resp = {0};
        GError *err = NULL;
        gboolean ok = rr_s3_request(up->s, curl, &req, &resp, &err);
        g_mutex_lock(&up->lock);
        if (ok)
            up->etags[n - 1] = g_strdup(resp.etag ? resp.etag : "");
        else if (up->failed == NULL)
            up->failed = g_steal_pointer(&err);
        g_mutex_unlock(&up->lock);
        g_clear_error(&err);
        rr_s3_response_clear(&resp);
        if (ok && up->s->on_event != NULL) {
            RrS3Event ev = {.kind = RR_S3_EVENT_PART_DONE, .part = n, .parts = up->parts};
            up->s->on_event(&ev, up->s->user_data);
        }
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static void abort_upload(Upload *up, CURL *curl)
{
    RrS3Store *s = up->s;
    g_autofree char *query = g_strdup_printf("uploadId=%s", up->upload_id_q);
    g_autofree char *what =
        g_strdup_printf("DELETE (abort) multipart upload of s3://%s/%s", s->bucket, up->key);
    RrS3Request req = {.method = "DELETE", .key = up->key, .query = query, .what = what, .fd = -1};
    RrS3Response resp = {0};
    /* One attempt: the upload already failed after its retries. */
    RrRetryPolicy saved = s->retry;
    s->retry.max_attempts = 1;
    g_autoptr(GError) err = NULL;
    if (!rr_s3_request(s, curl, &req, &resp, &err))
        g_warning("S3: could not abort the failed multipart upload (the server keeps its "
                  "parts until a lifecycle rule removes them): %s",
                  err->message);
    s->retry = saved;
    rr_s3_response_clear(&resp);
}

/* (transfer full) the ETag of the completed object, or NULL. */
static char *complete_upload(Upload *up, CURL *curl, GError **error)
{
    RrS3Store *s = up->s;
    const char *key = up->key;
    RrS3Response resp = {0};
    GString *xml = g_string_new("<CompleteMultipartUpload>");
    for (guint i = 0; i < up->parts; i++) {
        g_autofree char *etag = g_markup_escape_text(up->etags[i], -1);
        g_string_append_printf(xml, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
                               i + 1, etag);
    }
    g_string_append(xml, "</CompleteMultipartUpload>");
    g_autofree char *query = g_strdup_printf("uploadId=%s", up->upload_id_q);
    g_autofree char *what_done =
        g_strdup_printf("POST (complete multipart upload) s3://%s/%s", s->bucket, key);
    g_autoptr(GPtrArray) xhdrs = g_ptr_array_new();
    g_ptr_array_add(xhdrs, "Content-Type: application/xml");
    RrS3Request done = {.method = "POST",
                        .key = key,
                        .query = query,
                        .what = what_done,
                        .headers = xhdrs,
                        .fd = -1,
                        .body = xml->str,
                        .body_len = xml->len};
    char *etag = NULL;
    if (rr_s3_request(s, curl, &done, &resp, error))
        etag = rr_s3_xml_complete_etag(resp.body->str, resp.body->len, s->bucket, error);
    rr_s3_response_clear(&resp);
    g_string_free(xml, TRUE);
    return etag;
}

RrStoreResult *rr_s3_multipart_upload(RrS3Store *s, int fd, guint64 size, const char *key,
                                      const char *content_type, GError **error)
{
    guint64 part_size = rr_s3_part_size(size, s->part_size, error);
    if (part_size == 0)
        return NULL;
    CURL *curl = curl_easy_init();
    RrStoreResult *result = NULL;

    /* Initiate, with the object's headers. */
    g_autoptr(GPtrArray) hdrs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(hdrs, g_strdup_printf("Content-Type: %s", content_type));
    for (guint i = 0; i < s->put_hdrs->len; i++)
        g_ptr_array_add(hdrs, g_strdup(g_ptr_array_index(s->put_hdrs, i)));
    g_autofree char *what_init =
        g_strdup_printf("POST (initiate multipart upload) s3://%s/%s", s->bucket, key);
    RrS3Request init = {.method = "POST",
                        .key = key,
                        .query = "uploads=",
                        .what = what_init,
                        .headers = hdrs,
                        .fd = -1};
    RrS3Response resp = {0};
    if (!rr_s3_request(s, curl, &init, &resp, error)) {
        rr_s3_response_clear(&resp);
        curl_easy_cleanup(curl);
        return NULL;
    }
    g_autofree char *upload_id =
        rr_s3_xml_initiate_upload_id(resp.body->str, resp.body->len, error);
    rr_s3_response_clear(&resp);
    if (upload_id == NULL) {
        curl_easy_cleanup(curl);
        return NULL;
    }

    Upload up = {.s = s,
                 .fd = fd,
                 .size = size,
                 .part_size = part_size,
                 .parts = rr_s3_part_count(size, part_size),
                 .key = key,
                 .upload_id_q = g_uri_escape_string(upload_id, NULL, FALSE),
                 .next = 1};
    g_mutex_init(&up.lock);
    up.etags = g_new0(char *, up.parts + 1);
    g_message("S3: multipart upload of s3://%s/%s: %" G_GUINT64_FORMAT " bytes in %u parts "
              "of %" G_GUINT64_FORMAT ", %u at a time",
              s->bucket, key, size, up.parts, part_size, MIN(s->parallel, up.parts));

    g_autoptr(GError) err = NULL;
    guint nthreads = MIN(s->parallel, up.parts);
    GThread **threads = g_new0(GThread *, nthreads);
    for (guint i = 0; i < nthreads; i++)
        threads[i] = g_thread_new("rr-s3-part", part_thread, &up);
    for (guint i = 0; i < nthreads; i++)
        g_thread_join(threads[i]);
    g_free(threads);

    if (up.failed != NULL) {
        abort_upload(&up, curl);
        g_propagate_prefixed_error(error, g_steal_pointer(&up.failed),
                                   "multipart upload aborted: ");
        goto out;
    }

    char *etag = complete_upload(&up, curl, &err);
    if (etag == NULL) {
        abort_upload(&up, curl);
        g_propagate_prefixed_error(error, g_steal_pointer(&err), "multipart upload aborted: ");
        goto out;
    }
    result = g_new0(RrStoreResult, 1);
    result->location = rr_s3_object_url(s, key);
    result->size = (gint64)size;
    result->etag = etag;

out:
    g_strfreev(up.etags);
    g_free(up.upload_id_q);
    g_mutex_clear(&up.lock);
    curl_easy_cleanup(curl);
    return result;
}
