/* storage/s3: the S3 store, one signed request, and single-PUT uploads. See s3.h. */
#include "storage/s3-priv.h"

#include "storage/s3-xml.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)

static gpointer global_init(gpointer data)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return NULL;
}

void rr_s3_config_register_secrets(const RrS3Config *config, void (*add)(const char *secret))
{
    if (config->secret != NULL && *config->secret != '\0')
        add(config->secret);
    if (config->session_token != NULL && *config->session_token != '\0')
        add(config->session_token);
}

/* ---- sizing ---- */

#define MIB           (G_GUINT64_CONSTANT(1) << 20)
#define S3_MIN_PART   (5 * MIB)
#define S3_MAX_PART   (5 * 1024 * MIB)
#define S3_MAX_PARTS  10000
#define S3_MAX_OBJECT (5 * 1024 * 1024 * MIB)

guint64 rr_s3_part_size(guint64 file_size, guint64 min_part, GError **error)
{
    if (file_size > S3_MAX_OBJECT) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG,
                    "file of %" G_GUINT64_FORMAT " bytes: more than S3's 5 TiB object limit",
                    file_size);
        return 0;
    }
    guint64 part = MAX(min_part, S3_MIN_PART);
    guint64 need = (file_size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
    part = MAX(part, need);
    part = (part + MIB - 1) / MIB * MIB;
    if (part > S3_MAX_PART) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG,
                    "part_size: %" G_GUINT64_FORMAT " bytes is more than S3's 5 GiB part limit",
                    part);
        return 0;
    }
    return part;
}

guint rr_s3_part_count(guint64 file_size, guint64 part_size)
{
    if (part_size == 0 || file_size == 0)
        return 1;
    return (guint)((file_size + part_size - 1) / part_size);
}

/* ---- one request ---- */

typedef struct {
    int fd;
    guint64 offset, length, pos;
} ReadState;

static size_t read_cb(char *buf, size_t size, size_t n, void *user)
{
    ReadState *rs = user;
    size_t want = size * n;
    if (want > rs->length - rs->pos)
        want = (size_t)(rs->length - rs->pos);
    if (want == 0)
        return 0;
    ssize_t got;
    do
        got = pread(rs->fd, buf, want, (off_t)(rs->offset + rs->pos));
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return CURL_READFUNC_ABORT; /* the file shrank or cannot be read */
    rs->pos += (guint64)got;
    return (size_t)got;
}

static int seek_cb(void *user, curl_off_t offset, int origin)
{
    ReadState *rs = user;
    if (origin != SEEK_SET || offset < 0 || (guint64)offset > rs->length)
        return CURL_SEEKFUNC_FAIL;
    rs->pos = (guint64)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t n, void *user)
{
    GString *body = user;
    size_t len = size * n;
    if (body->len < MAX_BODY)
        g_string_append_len(body, data, (gssize)MIN(len, MAX_BODY - body->len));
    return len;
}

static size_t header_cb(char *data, size_t size, size_t n, void *user)
{
    RrS3Response *resp = user;
    size_t len = size * n;
    if (len > 5 && g_ascii_strncasecmp(data, "ETag:", 5) == 0) {
        g_autofree char *v = g_strndup(data + 5, len - 5);
        g_free(resp->etag);
        resp->etag = g_strdup(g_strstrip(v));
    }
    return len;
}

void rr_s3_response_clear(RrS3Response *resp)
{
    if (resp->body != NULL)
        g_string_free(resp->body, TRUE);
    g_free(resp->etag);
    memset(resp, 0, sizeof *resp);
}

char *rr_s3_object_url(RrS3Store *s, const char *key)
{
    g_autofree char *esc = rr_storage_key_uri_encode(key);
    return g_strdup_printf("%s%s/%s", s->scheme_host, s->path_prefix, esc);
}

static GError *curl_failure(CURLcode rc, const char *errbuf, const char *what, RrS3Store *s)
{
    RrStorageError code = RR_STORAGE_ERROR_NETWORK;
    const char *kind = "no answer from the S3 server";
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        code = RR_STORAGE_ERROR_TLS;
        kind = "TLS with the S3 server failed";
        break;
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        code = RR_STORAGE_ERROR_IO;
        kind = "reading the local file failed";
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        code = RR_STORAGE_ERROR_CONFIG;
        kind = "endpoint: not a usable URL";
        break;
    default:
        break;
    }
    return g_error_new(RR_STORAGE_ERROR, code, "%s %s%s (%s) [%s]", kind, s->scheme_host,
                       s->path_prefix, *errbuf ? errbuf : curl_easy_strerror(rc), what);
}

static gboolean request_once(RrS3Store *s, CURL *curl, const RrS3Request *req, RrS3Response *resp,
                             GError **error)
{
    rr_s3_response_clear(resp);
    resp->body = g_string_new(NULL);
    curl_easy_reset(curl);
    g_autofree char *url = rr_s3_object_url(s, req->key);
    if (req->query != NULL) {
        char *q = g_strconcat(url, "?", req->query, NULL);
        g_free(url);
        url = q;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(curl, CURLOPT_USERPWD, s->userpwd);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    /* A stalled transfer (no byte for a minute) is a network failure. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, s->tls_no_verify ? 0L : 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, s->tls_no_verify ? 0L : 2L);
    if (s->ca_file != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
    if (s->max_send_speed > 0)
        curl_easy_setopt(curl, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->max_send_speed);

    struct curl_slist *hdrs = NULL;
    g_autofree char *sha_hdr = NULL;
    ReadState rs = {.fd = req->fd, .offset = req->offset, .length = req->length};
    if (req->fd >= 0) {
        /* libcurl 7.88 does not hash the payload itself; the body is not signed. */
        sha_hdr = g_strdup("x-amz-content-sha256: UNSIGNED-PAYLOAD");
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(curl, CURLOPT_READDATA, &rs);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, &rs);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->length);
    } else {
        const char *body = req->body ? req->body : "";
        g_autofree char *sha =
            g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)body, req->body_len);
        sha_hdr = g_strdup_printf("x-amz-content-sha256: %s", sha);
        if (g_strcmp0(req->method, "POST") == 0) {
            curl_easy_setopt(curl, CURLOPT_POST, 1L);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        } else if (g_strcmp0(req->method, "GET") != 0) {
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
        }
        if (g_strcmp0(req->method, "HEAD") == 0)
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    hdrs = curl_slist_append(hdrs, sha_hdr);
    g_autofree char *token_hdr = NULL;
    if (s->session_token != NULL) {
        token_hdr = g_strdup_printf("x-amz-security-token: %s", s->session_token);
        hdrs = curl_slist_append(hdrs, token_hdr);
    }
    if (req->headers != NULL)
        for (guint i = 0; i < req->headers->len; i++)
            hdrs = curl_slist_append(hdrs, g_ptr_array_index(req->headers, i));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);

    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(hdrs);
    /* Nothing of the request (credentials) stays in the handle between requests. */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        g_propagate_error(error, curl_failure(rc, errbuf, req->what, s));
        return FALSE;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->status < 200 || resp->status > 299) {
        g_propagate_error(error, rr_s3_error_from_response(resp->status, resp->body->str,
                                                           resp->body->len, s->bucket, req->what));
        return FALSE;
    }
    return TRUE;
}

gboolean rr_s3_request(RrS3Store *s, CURL *curl, const RrS3Request *req, RrS3Response *resp,
                       GError **error)
{
    RrRetryPolicy policy = rr_retry_policy_normalise(&s->retry);
    for (guint attempt = 1;; attempt++) {
        g_autoptr(GError) err = NULL;
        if (request_once(s, curl, req, resp, &err))
            return TRUE;
        if (!rr_retry_should_retry(&policy, attempt, err)) {
            if (attempt > 1)
                g_prefix_error(&err, "after %u attempts: ", attempt);
            g_propagate_error(error, g_steal_pointer(&err));
            return FALSE;
        }
        guint delay = rr_retry_delay_ms(&policy, attempt, g_random_double());
        g_message("S3 %s: attempt %u of %u failed, retrying in %u ms: %s", req->what, attempt,
                  policy.max_attempts, delay, err->message);
        if (s->on_event != NULL) {
            RrS3Event ev = {.kind = RR_S3_EVENT_RETRY,
                            .part = req->part,
                            .parts = req->parts,
                            .attempt = attempt,
                            .delay_ms = delay,
                            .error = err};
            s->on_event(&ev, s->user_data);
        }
        g_usleep((gulong)delay * 1000);
    }
}

/* ---- the store ---- */

static RrStoreResult *s3_put(RrStore *store, const char *local_path, const char *key,
                             const char *content_type, GError **error)
{
    RrS3Store *s = (RrS3Store *)store;
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO, "%s: cannot open: %s", local_path,
                    g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO, "%s: not a regular file",
                    local_path);
        close(fd);
        return NULL;
    }
    guint64 size = (guint64)st.st_size;
    RrStoreResult *result = NULL;
    if (size > s->multipart_threshold) {
        result = rr_s3_multipart_upload(s, fd, size, key, content_type, error);
    } else {
        CURL *curl = curl_easy_init();
        g_autoptr(GPtrArray) hdrs = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(hdrs, g_strdup_printf("Content-Type: %s", content_type));
        for (guint i = 0; i < s->put_hdrs->len; i++)
            g_ptr_array_add(hdrs, g_strdup(g_ptr_array_index(s->put_hdrs, i)));
        g_autofree char *what = g_strdup_printf("PUT s3://%s/%s", s->bucket, key);
        RrS3Request req = {
            .method = "PUT", .key = key, .what = what, .headers = hdrs, .fd = fd, .length = size};
        RrS3Response resp = {0};
        if (rr_s3_request(s, curl, &req, &resp, error)) {
            result = g_new0(RrStoreResult, 1);
            result->location = rr_s3_object_url(s, key);
            result->size = (gint64)size;
            result->etag = g_strdup(resp.etag ? resp.etag : "");
        }
        rr_s3_response_clear(&resp);
        curl_easy_cleanup(curl);
    }
    close(fd);
    return result;
}

static char *s3_describe(RrStore *store)
{
    RrS3Store *s = (RrS3Store *)store;
    return g_strdup_printf("s3://%s at %s%s", s->bucket, s->scheme_host, s->path_prefix);
}

static void s3_free(RrStore *store)
{
    RrS3Store *s = (RrS3Store *)store;
    g_free(s->access_key);
    if (s->secret != NULL)
        memset(s->secret, 0, strlen(s->secret));
    g_free(s->secret);
    g_free(s->session_token);
    g_free(s->region);
    g_free(s->bucket);
    g_free(s->scheme_host);
    g_free(s->path_prefix);
    g_free(s->sigv4);
    if (s->userpwd != NULL)
        memset(s->userpwd, 0, strlen(s->userpwd));
    g_free(s->userpwd);
    g_ptr_array_unref(s->put_hdrs);
    g_free(s->ca_file);
    g_free(s);
}

static const RrStoreClass s3_class = {
    .name = "s3",
    .put = s3_put,
    .describe = s3_describe,
    .free = s3_free,
};

static gboolean header_value_ok(const char *v)
{
    for (const char *c = v; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 && *c != '\t')
            return FALSE;
    return TRUE;
}

static gboolean header_name_ok(const char *n)
{
    if (*n == '\0')
        return FALSE;
    for (const char *c = n; *c != '\0'; c++)
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
            return FALSE;
    return TRUE;
}

static gboolean bucket_is_host_label(const char *b)
{
    gsize n = strlen(b);
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return FALSE;
    for (const char *c = b; *c != '\0'; c++)
        if (!(g_ascii_islower(*c) || g_ascii_isdigit(*c) || *c == '-' || *c == '.'))
            return FALSE;
    return TRUE;
}

#define CONFIG_ERROR(...)                                                                          \
    (g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG, __VA_ARGS__), NULL)

RrStore *rr_s3_store_new(const RrS3Config *c, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, global_init, NULL);

    if (c->access_key == NULL || *c->access_key == '\0')
        return CONFIG_ERROR("s3.access_key: missing");
    if (strchr(c->access_key, ':') != NULL || !header_value_ok(c->access_key))
        return CONFIG_ERROR("s3.access_key: contains ':' or a control character");
    if (c->secret == NULL || *c->secret == '\0')
        return CONFIG_ERROR("s3.secret: missing");
    if (c->bucket == NULL || *c->bucket == '\0')
        return CONFIG_ERROR("s3.bucket: missing");
    if (strchr(c->bucket, '/') != NULL || !header_value_ok(c->bucket) || strlen(c->bucket) > 255)
        return CONFIG_ERROR("s3.bucket: \"/\", a control character, or too long");
    if (c->session_token != NULL && !header_value_ok(c->session_token))
        return CONFIG_ERROR("s3.session_token: contains a control character");
    const char *region = c->region && *c->region ? c->region : "us-east-1";
    for (const char *r = region; *r != '\0'; r++)
        if (!g_ascii_isalnum(*r) && *r != '-' && *r != '_')
            return CONFIG_ERROR("s3.region: \"%s\" is not a region name", region);

    g_autofree char *default_ep = g_strdup_printf("https://s3.%s.amazonaws.com", region);
    const char *endpoint = c->endpoint && *c->endpoint ? c->endpoint : default_ep;
    g_autoptr(GError) uerr = NULL;
    g_autoptr(GUri) uri = g_uri_parse(endpoint, G_URI_FLAGS_NONE, &uerr);
    if (uri == NULL)
        return CONFIG_ERROR("s3.endpoint: not a URL: %s", uerr->message);
    const char *scheme = g_uri_get_scheme(uri);
    if (g_ascii_strcasecmp(scheme, "https") != 0 && g_ascii_strcasecmp(scheme, "http") != 0)
        return CONFIG_ERROR("s3.endpoint: scheme \"%s\", expected https or http", scheme);
    const char *host = g_uri_get_host(uri);
    if (host == NULL || *host == '\0')
        return CONFIG_ERROR("s3.endpoint: no host");
    if (g_uri_get_userinfo(uri) != NULL || g_uri_get_query(uri) != NULL ||
        (*g_uri_get_path(uri) != '\0' && strcmp(g_uri_get_path(uri), "/") != 0))
        return CONFIG_ERROR("s3.endpoint: only scheme://host[:port] is allowed");
    if (!c->force_path_style && !bucket_is_host_label(c->bucket))
        return CONFIG_ERROR("s3.bucket: \"%s\" cannot be a host name; set force_path_style",
                            c->bucket);

    RrS3Store *s = g_new0(RrS3Store, 1);
    s->parent.klass = &s3_class;
    s->parent.prefix = g_strdup("");
    s->access_key = g_strdup(c->access_key);
    s->secret = g_strdup(c->secret);
    s->session_token = c->session_token && *c->session_token ? g_strdup(c->session_token) : NULL;
    s->region = g_strdup(region);
    s->bucket = g_strdup(c->bucket);
    int port = g_uri_get_port(uri);
    gboolean v6 = strchr(host, ':') != NULL;
    g_autofree char *hostport = port > 0 ? g_strdup_printf(v6 ? "[%s]:%d" : "%s:%d", host, port)
                                         : g_strdup_printf(v6 ? "[%s]" : "%s", host);
    g_autofree char *lscheme = g_ascii_strdown(scheme, -1);
    if (c->force_path_style) {
        s->scheme_host = g_strdup_printf("%s://%s", lscheme, hostport);
        s->path_prefix = g_strdup_printf("/%s", s->bucket);
    } else {
        s->scheme_host = g_strdup_printf("%s://%s.%s", lscheme, s->bucket, hostport);
        s->path_prefix = g_strdup("");
    }
    s->sigv4 = g_strdup_printf("aws:amz:%s:s3", region);
    s->userpwd = g_strdup_printf("%s:%s", c->access_key, c->secret);
    s->put_hdrs = g_ptr_array_new_with_free_func(g_free);
    if (c->metadata != NULL) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, c->metadata);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            if (!header_name_ok(k) || !header_value_ok(v)) {
                rr_store_free(&s->parent);
                return CONFIG_ERROR("s3.metadata: \"%s\": a name of letters, digits, '-' and "
                                    "'_' and a value without control characters are needed",
                                    (const char *)k);
            }
            g_autofree char *lk = g_ascii_strdown(k, -1);
            g_ptr_array_add(s->put_hdrs, g_strdup_printf("x-amz-meta-%s: %s", lk, (const char *)v));
        }
    }
    if (c->tagging != NULL && *c->tagging != '\0') {
        if (!header_value_ok(c->tagging)) {
            rr_store_free(&s->parent);
            return CONFIG_ERROR("s3.tagging: contains a control character");
        }
        g_ptr_array_add(s->put_hdrs, g_strdup_printf("x-amz-tagging: %s", c->tagging));
    }
    if (c->content_disposition != NULL && *c->content_disposition != '\0') {
        if (!header_value_ok(c->content_disposition)) {
            rr_store_free(&s->parent);
            return CONFIG_ERROR("s3.content_disposition: contains a control character");
        }
        g_ptr_array_add(s->put_hdrs,
                        g_strdup_printf("Content-Disposition: %s", c->content_disposition));
    }
    s->tls_no_verify = c->tls_no_verify;
    s->ca_file = g_strdup(c->ca_file);
    s->multipart_threshold = c->multipart_threshold ? c->multipart_threshold : 64 * MIB;
    s->part_size = MAX(c->part_size ? c->part_size : 8 * MIB, S3_MIN_PART);
    s->parallel = CLAMP(c->parallel ? c->parallel : 4, 1, 32);
    s->retry = rr_retry_policy_normalise(&c->retry);
    s->max_send_speed = c->max_send_speed;
    s->on_event = c->on_event;
    s->user_data = c->user_data;
    return &s->parent;
}
