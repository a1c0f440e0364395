/* Unit tests of storage/: key naming, multipart part sizing, the retry policy and S3
 * error classification, the S3 config checks, the local back end (temporary name,
 * atomic rename, never overwriting) and primary -> backup -> spool with the spool's
 * retry (local stores; the S3 paths run against radosgw in integration/storage_s3). */
#include "storage/local.h"
#include "storage/retry.h"
#include "storage/s3-xml.h"
#include "storage/s3.h"
#include "storage/spool.h"

#include <glib/gstdio.h>
#include <string.h>

#define MIB (G_GUINT64_CONSTANT(1) << 20)

static void test_key_join(void)
{
    static const struct {
        const char *prefix, *name, *want;
    } cases[] = {
        {NULL, "a.mp4", "a.mp4"},
        {"", "a.mp4", "a.mp4"},
        {"rec", "a.mp4", "rec/a.mp4"},
        {"rec/", "a.mp4", "rec/a.mp4"},
        {"/rec//EG_1/", "/x/a.mp4", "rec/EG_1/x/a.mp4"},
        {"room name", "tr ü.ogg", "room name/tr ü.ogg"},
        {"a", NULL, "a"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *k = rr_storage_key_join(cases[i].prefix, cases[i].name, "key", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(k, ==, cases[i].want);
    }
}

static void test_key_invalid(void)
{
    static const struct {
        const char *prefix, *name, *reason;
    } cases[] = {
        {"", "", "empty"},     {"/", "//", "empty"},     {"a/../b", "x", "\"..\""},
        {"a", "./x", "\".\""}, {"a", "x\ny", "control"}, {"a", "\xff\xfe", "UTF-8"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *k = rr_storage_key_join(cases[i].prefix, cases[i].name, "s3.key", &error);
        g_assert_null(k);
        g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG);
        g_assert_true(g_str_has_prefix(error->message, "s3.key: "));
        g_assert_nonnull(strstr(error->message, cases[i].reason));
    }
    g_autofree char *longname = g_strnfill(1025, 'k');
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_storage_key_join(NULL, longname, "key", &error));
    g_assert_nonnull(strstr(error->message, "1024"));
}

static void test_key_uri_encode(void)
{
    g_autofree char *a = rr_storage_key_uri_encode("rec/EG_1/a-b.c~d.mp4");
    g_assert_cmpstr(a, ==, "rec/EG_1/a-b.c~d.mp4");
    g_autofree char *b = rr_storage_key_uri_encode("room name/x+y=z&ü?.mp4");
    g_assert_cmpstr(b, ==, "room%20name/x%2By%3Dz%26%C3%BC%3F.mp4");
    g_assert_cmpstr(rr_storage_content_type_for("a/b.MP4"), ==, "video/mp4");
    g_assert_cmpstr(rr_storage_content_type_for("x.ogg"), ==, "audio/ogg");
    g_assert_cmpstr(rr_storage_content_type_for("x.d/noext"), ==, "application/octet-stream");
}

static void test_part_size(void)
{
    g_autoptr(GError) error = NULL;
    /* The tests' 20 MB file in 5 MiB parts: four parts, the last one short. */
    g_assert_cmpuint(rr_s3_part_size(20000000, 5 * MIB, &error), ==, 5 * MIB);
    g_assert_cmpuint(rr_s3_part_count(20000000, 5 * MIB), ==, 4);
    /* Below S3's 5 MiB minimum: raised. */
    g_assert_cmpuint(rr_s3_part_size(100 * MIB, 1 * MIB, &error), ==, 5 * MIB);
    /* Not a whole MiB: rounded up. */
    g_assert_cmpuint(rr_s3_part_size(100 * MIB, 5 * MIB + 1, &error), ==, 6 * MIB);
    /* 100 GiB in 8 MiB parts would be 12,800 parts: the size grows to stay <= 10,000. */
    guint64 big = 100 * 1024 * MIB;
    guint64 ps = rr_s3_part_size(big, 8 * MIB, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(ps, ==, 11 * MIB);
    g_assert_cmpuint(rr_s3_part_count(big, ps), <=, 10000);
    g_assert_cmpuint(rr_s3_part_count(5 * MIB, 5 * MIB), ==, 1);
    g_assert_cmpuint(rr_s3_part_count(5 * MIB + 1, 5 * MIB), ==, 2);
    g_assert_cmpuint(rr_s3_part_count(0, 5 * MIB), ==, 1);
    /* Over S3's 5 TiB: refused with a reason. */
    g_assert_cmpuint(rr_s3_part_size(6 * 1024 * 1024 * MIB, 8 * MIB, &error), ==, 0);
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "5 TiB"));
}

static void test_retry_delay(void)
{
    RrRetryPolicy p = {.max_attempts = 6, .base_delay_ms = 500, .max_delay_ms = 8000};
    /* Jitter 0: half of the doubled delay; jitter ~1: all of it; capped at max. */
    static const guint low[] = {250, 500, 1000, 2000, 4000, 4000, 4000};
    static const guint high[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
    for (guint a = 1; a <= G_N_ELEMENTS(low); a++) {
        g_assert_cmpuint(rr_retry_delay_ms(&p, a, 0.0), ==, low[a - 1]);
        guint h = rr_retry_delay_ms(&p, a, 0.999999);
        g_assert_cmpuint(h, <=, high[a - 1]);
        g_assert_cmpuint(h, >=, high[a - 1] - 1);
        guint mid = rr_retry_delay_ms(&p, a, 0.5);
        g_assert_cmpuint(mid, >=, low[a - 1]);
        g_assert_cmpuint(mid, <=, high[a - 1]);
    }
    /* A huge attempt number does not overflow. */
    g_assert_cmpuint(rr_retry_delay_ms(&p, 1000, 0.0), ==, 4000);
    /* Zero fields take the default's. */
    RrRetryPolicy z = {0};
    RrRetryPolicy n = rr_retry_policy_normalise(&z);
    g_assert_cmpuint(n.max_attempts, ==, 6);
    g_assert_cmpuint(rr_retry_delay_ms(&z, 1, 0.0), ==, 250);
}

static void test_retry_retryable(void)
{
    RrRetryPolicy p = {.max_attempts = 3, .base_delay_ms = 10, .max_delay_ms = 100};
    static const struct {
        RrStorageError code;
        gboolean retry;
    } cases[] = {
        {RR_STORAGE_ERROR_NETWORK, TRUE},  {RR_STORAGE_ERROR_SERVER, TRUE},
        {RR_STORAGE_ERROR_AUTH, FALSE},    {RR_STORAGE_ERROR_NO_BUCKET, FALSE},
        {RR_STORAGE_ERROR_REQUEST, FALSE}, {RR_STORAGE_ERROR_TLS, FALSE},
        {RR_STORAGE_ERROR_CONFIG, FALSE},  {RR_STORAGE_ERROR_IO, FALSE},
        {RR_STORAGE_ERROR_EXISTS, FALSE},  {RR_STORAGE_ERROR_RESPONSE, FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) e = g_error_new_literal(RR_STORAGE_ERROR, cases[i].code, "x");
        g_assert_cmpint(rr_retry_is_retryable(e), ==, cases[i].retry);
        g_assert_cmpint(rr_retry_should_retry(&p, 1, e), ==, cases[i].retry);
        g_assert_cmpint(rr_retry_should_retry(&p, 2, e), ==, cases[i].retry);
        g_assert_false(rr_retry_should_retry(&p, 3, e)); /* the last attempt */
    }
    g_autoptr(GError) other = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_AGAIN, "x");
    g_assert_false(rr_retry_is_retryable(other));
    g_assert_false(rr_retry_is_retryable(NULL));
}

/* What radosgw and AWS answer, as measured, and how each is classified. */
static void test_s3_error_classes(void)
{
    static const struct {
        long status;
        const char *body;
        RrStorageError code;
        const char *words;
        gboolean retry;
    } cases[] = {
        {403, "<Error><Code>SignatureDoesNotMatch</Code><Message></Message></Error>",
         RR_STORAGE_ERROR_AUTH, "S3 authentication failed", FALSE},
        {403, "<Error><Code>InvalidAccessKeyId</Code></Error>", RR_STORAGE_ERROR_AUTH,
         "InvalidAccessKeyId", FALSE},
        {400, "<Error><Code>ExpiredToken</Code></Error>", RR_STORAGE_ERROR_AUTH,
         "S3 authentication failed", FALSE},
        {404, "<Error><Code>NoSuchBucket</Code><BucketName>bk</BucketName></Error>",
         RR_STORAGE_ERROR_NO_BUCKET, "bucket \"bk\" does not exist", FALSE},
        {503, "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>",
         RR_STORAGE_ERROR_SERVER, "SlowDown: Reduce your rate", TRUE},
        {500, "<html>oops</html>", RR_STORAGE_ERROR_SERVER, "HTTP 500", TRUE},
        {502, "", RR_STORAGE_ERROR_SERVER, "HTTP 502", TRUE},
        {400, "<Error><Code>XAmzContentSHA256Mismatch</Code></Error>", RR_STORAGE_ERROR_REQUEST,
         "XAmzContentSHA256Mismatch", FALSE},
        {404, "<Error><Code>NoSuchUpload</Code></Error>", RR_STORAGE_ERROR_REQUEST, "NoSuchUpload",
         FALSE},
        {400, "<Error><Code>Bad\x01\nCode</Code></Error>", RR_STORAGE_ERROR_REQUEST, "Bad??Code",
         FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) e = rr_s3_error_from_response(cases[i].status, cases[i].body,
                                                        strlen(cases[i].body), "bk", "PUT x");
        g_assert_error(e, RR_STORAGE_ERROR, (gint)cases[i].code);
        if (strstr(e->message, cases[i].words) == NULL)
            g_error("case %zu: \"%s\" lacks \"%s\"", i, e->message, cases[i].words);
        g_assert_nonnull(strstr(e->message, "[PUT x]"));
        g_assert_cmpint(rr_retry_is_retryable(e), ==, cases[i].retry);
    }
}

static void test_s3_xml_answers(void)
{
    const char *init = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"x\">"
                       "<Bucket>b</Bucket><Key>k</Key><UploadId>2~abc</UploadId>"
                       "</InitiateMultipartUploadResult>";
    g_autoptr(GError) error = NULL;
    g_autofree char *id = rr_s3_xml_initiate_upload_id(init, strlen(init), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(id, ==, "2~abc");
    const char *noid = "<InitiateMultipartUploadResult><Key>k</Key>"
                       "</InitiateMultipartUploadResult>";
    g_assert_null(rr_s3_xml_initiate_upload_id(noid, strlen(noid), &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE);
    g_clear_error(&error);
    g_assert_null(rr_s3_xml_initiate_upload_id("<a>", 3, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE);
    g_clear_error(&error);
    /* radosgw sends an empty ETag. */
    const char *done = "<CompleteMultipartUploadResult><ETag></ETag>"
                       "</CompleteMultipartUploadResult>";
    g_autofree char *etag = rr_s3_xml_complete_etag(done, strlen(done), "b", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(etag, ==, "");
    const char *aws = "<CompleteMultipartUploadResult><ETag>&quot;e-3&quot;</ETag>"
                      "</CompleteMultipartUploadResult>";
    g_autofree char *etag2 = rr_s3_xml_complete_etag(aws, strlen(aws), "b", &error);
    g_assert_cmpstr(etag2, ==, "\"e-3\"");
    /* An error document with status 200: the error, retryable when it is InternalError. */
    const char *err200 = "<Error><Code>InternalError</Code><Message>try again</Message></Error>";
    g_assert_null(rr_s3_xml_complete_etag(err200, strlen(err200), "b", &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_SERVER);
    g_assert_true(rr_retry_is_retryable(error));
}

static void test_s3_config(void)
{
    RrS3Config ok = {.access_key = "AK",
                     .secret = "SECRET-VALUE-1234",
                     .bucket = "bk",
                     .endpoint = "http://127.0.0.1:9000",
                     .force_path_style = TRUE};
    g_autoptr(GError) error = NULL;
    g_autoptr(RrStore) s = rr_s3_store_new(&ok, &error);
    g_assert_no_error(error);
    g_autofree char *d = rr_store_describe(s);
    g_assert_cmpstr(d, ==, "s3://bk at http://127.0.0.1:9000/bk");
    RrS3Config vh = ok;
    vh.force_path_style = FALSE;
    vh.endpoint = NULL;
    vh.region = "eu-west-1";
    vh.bucket = "my-bucket";
    g_autoptr(RrStore) v = rr_s3_store_new(&vh, &error);
    g_assert_no_error(error);
    g_autofree char *dv = rr_store_describe(v);
    g_assert_cmpstr(dv, ==, "s3://my-bucket at https://my-bucket.s3.eu-west-1.amazonaws.com");

    static const struct {
        const char *field;
        RrS3Config c;
    } bad[] = {
        {"s3.access_key", {.secret = "s", .bucket = "b"}},
        {"s3.secret", {.access_key = "a", .bucket = "b"}},
        {"s3.bucket", {.access_key = "a", .secret = "s"}},
        {"s3.endpoint", {.access_key = "a", .secret = "s", .bucket = "bkt", .endpoint = "ftp://x"}},
        {"s3.endpoint",
         {.access_key = "a", .secret = "s", .bucket = "bkt", .endpoint = "http://h/path"}},
        {"s3.endpoint",
         {.access_key = "a", .secret = "s", .bucket = "bkt", .endpoint = "http://u:p@h"}},
        {"s3.bucket", {.access_key = "a", .secret = "s", .bucket = "Upper_Case"}},
        {"s3.region", {.access_key = "a", .secret = "s", .bucket = "bkt", .region = "x/y"}},
        {"s3.tagging", {.access_key = "a", .secret = "s", .bucket = "bkt", .tagging = "a\r\nb"}},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_null(rr_s3_store_new(&bad[i].c, &e));
        g_assert_error(e, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG);
        if (!g_str_has_prefix(e->message, bad[i].field))
            g_error("case %zu: \"%s\" does not name %s", i, e->message, bad[i].field);
    }
}

static GPtrArray *registered;
static void add_secret(const char *s)
{
    g_ptr_array_add(registered, g_strdup(s));
}

static void test_s3_secrets(void)
{
    registered = g_ptr_array_new_with_free_func(g_free);
    RrS3Config c = {.access_key = "AK", .secret = "sek", .session_token = "tok", .bucket = "b"};
    rr_s3_config_register_secrets(&c, add_secret);
    g_assert_cmpuint(registered->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(registered, 0), ==, "sek");
    g_assert_cmpstr(g_ptr_array_index(registered, 1), ==, "tok");
    g_ptr_array_unref(registered);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *p = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(p, text, -1, NULL));
    return p;
}

/* Names in @dir starting with '.' (temporary files). */
static guint hidden_files(const char *dir)
{
    guint n = 0;
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        n += name[0] == '.';
    return n;
}

static void test_local(void)
{
    g_autofree char *tmp = g_dir_make_tmp("rr-storage-XXXXXX", NULL);
    g_autofree char *src = write_file(tmp, "rec.mp4", "first recording");
    g_autofree char *root = g_build_filename(tmp, "out", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrStore) s = rr_local_store_new(root, &error);
    g_assert_no_error(error);
    g_assert_true(rr_store_begin(s, "/EG_1//files/", &error));
    g_autoptr(RrStoreResult) r = rr_store_add_file(s, src, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autofree char *want = g_build_filename(root, "EG_1/files/rec.mp4", NULL);
    g_assert_cmpstr(r->location, ==, want);
    g_assert_cmpint(r->size, ==, strlen("first recording"));
    g_autofree char *got = NULL;
    g_assert_true(g_file_get_contents(want, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "first recording");
    g_assert_true(g_file_test(src, G_FILE_TEST_EXISTS)); /* the source stays */
    g_autofree char *dir = g_path_get_dirname(want);
    g_assert_cmpuint(hidden_files(dir), ==, 0); /* no temporary file left */

    /* Same key again: refused, the first file untouched, no temporary file left. */
    g_autofree char *src2 = write_file(tmp, "other.mp4", "second");
    g_assert_null(rr_store_add_file(s, src2, "rec.mp4", NULL, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS);
    g_clear_error(&error);
    g_clear_pointer(&got, g_free);
    g_assert_true(g_file_get_contents(want, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "first recording");
    g_assert_cmpuint(hidden_files(dir), ==, 0);

    /* The rename itself never replaces: a file appearing after the check is kept. */
    g_autofree char *race = g_build_filename(tmp, "race", "x.bin", NULL);
    g_assert_true(rr_storage_copy_durable(src2, race, NULL, &error));
    g_assert_false(rr_storage_copy_durable(src, race, NULL, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS);
    g_clear_error(&error);

    /* A missing source: an IO error naming it, nothing created. */
    g_autofree char *missing = g_build_filename(tmp, "missing.mp4", NULL);
    g_assert_null(rr_store_add_file(s, missing, NULL, NULL, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "missing.mp4"));
    g_clear_error(&error);
    g_autofree char *nodest = g_build_filename(dir, "missing.mp4", NULL);
    g_assert_false(g_file_test(nodest, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(hidden_files(dir), ==, 0);

    /* A bad key is refused before anything is written. */
    g_assert_null(rr_store_add_file(s, src, "../escape.mp4", NULL, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_true(rr_store_finish(s, &error));

    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_backup_and_spool(void)
{
    g_autofree char *tmp = g_dir_make_tmp("rr-storage-XXXXXX", NULL);
    g_autofree char *src = write_file(tmp, "rec.ogg", "the recording");
    g_autofree char *proot = g_build_filename(tmp, "primary", NULL);
    g_autofree char *broot = g_build_filename(tmp, "backup", NULL);
    g_autofree char *spool = g_build_filename(tmp, "spool", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrStore) primary = rr_local_store_new(proot, &error);
    g_autoptr(RrStore) backup = rr_local_store_new(broot, &error);
    /* The primary fails: the key exists there already. */
    g_autofree char *taken = g_build_filename(proot, "rec.ogg", NULL);
    g_assert_true(g_file_set_contents(taken, "someone else's", -1, NULL));

    RrUploadOutcome out;
    g_assert_true(rr_storage_upload(primary, backup, spool, src, NULL, NULL, &out, &error));
    g_assert_no_error(error);
    g_assert_true(out.backup_used);
    g_assert_nonnull(strstr(out.primary_error, "exists"));
    g_assert_null(out.spool_path);
    g_autofree char *bpath = g_build_filename(broot, "rec.ogg", NULL);
    g_assert_cmpstr(out.result->location, ==, bpath);
    rr_upload_outcome_clear(&out);

    /* No backup: the spool keeps a copy and a sidecar naming the key. */
    g_assert_true(rr_store_begin(primary, "later", &error));
    g_autofree char *taken2 = g_build_filename(proot, "later", "rec.ogg", NULL);
    g_assert_true(rr_storage_copy_durable(taken, taken2, NULL, &error));
    g_assert_false(rr_storage_upload(primary, NULL, spool, src, NULL, NULL, &out, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS);
    g_clear_error(&error);
    g_assert_null(out.result);
    g_assert_nonnull(out.spool_path);
    g_autofree char *spooled = NULL;
    g_assert_true(g_file_get_contents(out.spool_path, &spooled, NULL, NULL));
    g_assert_cmpstr(spooled, ==, "the recording");
    g_autofree char *stem = g_strndup(out.spool_path, strlen(out.spool_path) - 5);
    g_autofree char *sidecar_path = g_strconcat(stem, ".json", NULL);
    g_autofree char *sidecar = NULL;
    g_assert_true(g_file_get_contents(sidecar_path, &sidecar, NULL, NULL));
    g_assert_nonnull(strstr(sidecar, "\"key\" : \"later/rec.ogg\""));
    g_assert_nonnull(strstr(sidecar, "\"content_type\" : \"audio/ogg\""));
    rr_upload_outcome_clear(&out);

    /* A retry while the primary still fails keeps the entry. */
    guint up = 9, left = 9;
    g_assert_false(rr_storage_spool_retry(spool, primary, NULL, &up, &left, NULL, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS);
    g_clear_error(&error);
    g_assert_cmpuint(up, ==, 0);
    g_assert_cmpuint(left, ==, 1);
    g_assert_true(g_file_test(sidecar_path, G_FILE_TEST_EXISTS));

    /* Once the destination is free, the retry stores it and empties the spool. */
    g_assert_cmpint(g_unlink(taken2), ==, 0);
    g_autoptr(GPtrArray) results =
        g_ptr_array_new_with_free_func((GDestroyNotify)rr_store_result_free);
    g_assert_true(rr_storage_spool_retry(spool, primary, NULL, &up, &left, results, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(up, ==, 1);
    g_assert_cmpuint(left, ==, 0);
    RrStoreResult *r = g_ptr_array_index(results, 0);
    g_assert_cmpstr(r->location, ==, taken2);
    g_clear_pointer(&spooled, g_free);
    g_assert_true(g_file_get_contents(taken2, &spooled, NULL, NULL));
    g_assert_cmpstr(spooled, ==, "the recording");
    g_assert_cmpuint(hidden_files(spool), ==, 0);
    g_autoptr(GDir) d = g_dir_open(spool, 0, NULL);
    g_assert_null(g_dir_read_name(d));

    /* A sidecar that cannot be read is kept, never deleted. */
    g_autofree char *junk = write_file(spool, "junk.json", "{not json");
    g_assert_false(rr_storage_spool_retry(spool, primary, NULL, &up, &left, NULL, &error));
    g_clear_error(&error);
    g_assert_cmpuint(left, ==, 1);
    g_assert_true(g_file_test(junk, G_FILE_TEST_EXISTS));
    /* A missing spool directory is an empty spool. */
    g_autofree char *none = g_build_filename(tmp, "none", NULL);
    g_assert_true(rr_storage_spool_retry(none, primary, NULL, &up, &left, NULL, &error));

    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

static gboolean label_is(const char *label, gpointer want)
{
    return g_strcmp0(label, want) == 0;
}

static char *slurp(const char *path)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* A finished file staged in the spool before its upload: moved in with its sidecar,
 * locked against other uploaders, uploaded from there (a failure keeps it), recovered
 * when its move was cut short. */
static void test_spool_stage(void)
{
    g_autofree char *tmp = g_dir_make_tmp("rr-storage-XXXXXX", NULL);
    g_autofree char *src = write_file(tmp, "rec.ogg", "the recording");
    g_autofree char *proot = g_build_filename(tmp, "primary", NULL);
    g_autofree char *spool = g_build_filename(tmp, "spool", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrStore) primary = rr_local_store_new(proot, &error);
    g_assert_true(rr_store_begin(primary, "p", &error));

    RrSpoolEntry *e = rr_spool_stage(spool, primary, src, "rec.ogg", NULL, "EG_x", FALSE, &error);
    g_assert_no_error(error);
    g_assert_nonnull(e);
    g_assert_false(g_file_test(src, G_FILE_TEST_EXISTS));
    g_autofree char *data = slurp(e->data_path);
    g_assert_cmpstr(data, ==, "the recording");
    g_autofree char *sidecar = slurp(e->json_path);
    g_assert_nonnull(strstr(sidecar, "\"key\" : \"p/rec.ogg\""));
    g_assert_nonnull(strstr(sidecar, "\"label\" : \"EG_x\""));
    g_assert_nonnull(strstr(sidecar, src));
    g_assert_cmpuint(rr_storage_spool_count_match(spool, label_is, "EG_x"), ==, 1);
    g_assert_cmpuint(rr_storage_spool_count_match(spool, label_is, "EG_y"), ==, 0);

    /* Held by its stager: a retry skips it. */
    guint up = 9, left = 9, busy = 9;
    g_assert_true(rr_storage_spool_retry_match(spool, primary, NULL, NULL, NULL, &up, &left, &busy,
                                               NULL, &error));
    g_assert_cmpuint(up, ==, 0);
    g_assert_cmpuint(left, ==, 1);
    g_assert_cmpuint(busy, ==, 1);
    g_assert_true(g_file_test(e->data_path, G_FILE_TEST_EXISTS));

    /* The store fails: the entry stays. */
    g_autofree char *taken = g_build_filename(proot, "p", "rec.ogg", NULL);
    g_assert_true(rr_storage_copy_durable(e->data_path, taken, NULL, &error));
    RrUploadOutcome out;
    g_assert_false(rr_spool_entry_upload(e, primary, NULL, &out, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS);
    g_clear_error(&error);
    g_assert_cmpstr(out.spool_path, ==, e->data_path);
    g_assert_true(g_file_test(e->json_path, G_FILE_TEST_EXISTS));
    rr_upload_outcome_clear(&out);
    /* Then works: stored under the same key, the entry gone. */
    g_assert_cmpint(g_unlink(taken), ==, 0);
    g_assert_true(rr_spool_entry_upload(e, primary, NULL, &out, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out.result->location, ==, taken);
    g_assert_false(g_file_test(e->data_path, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(e->json_path, G_FILE_TEST_EXISTS));
    rr_upload_outcome_clear(&out);
    rr_spool_entry_free(e);

    /* keep_local: the local file stays; once the stager lets go, a retry (for its label
     * only) uploads the entry. */
    g_autofree char *src2 = write_file(tmp, "keep.ogg", "kept");
    e = rr_spool_stage(spool, primary, src2, "keep.ogg", NULL, "EG_k", TRUE, &error);
    g_assert_nonnull(e);
    g_assert_true(g_file_test(src2, G_FILE_TEST_EXISTS));
    rr_spool_entry_free(e);
    g_assert_true(rr_storage_spool_retry_match(spool, primary, NULL, label_is, "EG_other", &up,
                                               &left, &busy, NULL, &error));
    g_assert_cmpuint(up, ==, 0);
    g_assert_cmpuint(left, ==, 0);
    g_assert_true(rr_storage_spool_retry_match(spool, primary, NULL, label_is, "EG_k", &up, &left,
                                               &busy, NULL, &error));
    g_assert_cmpuint(up, ==, 1);
    g_assert_true(g_file_test(src2, G_FILE_TEST_EXISTS));

    /* The stager died between its sidecar and the move: the retry moves the source in. */
    g_autofree char *src3 = write_file(tmp, "cut.ogg", "cut short");
    e = rr_spool_stage(spool, primary, src3, "cut.ogg", NULL, "EG_c", FALSE, &error);
    g_assert_nonnull(e);
    g_assert_cmpint(g_rename(e->data_path, src3), ==, 0);
    rr_spool_entry_free(e);
    g_assert_true(rr_storage_spool_retry_match(spool, primary, NULL, NULL, NULL, &up, &left, &busy,
                                               NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(up, ==, 1);
    g_assert_false(g_file_test(src3, G_FILE_TEST_EXISTS));
    g_autofree char *stored = g_build_filename(proot, "p", "cut.ogg", NULL);
    g_autofree char *back = slurp(stored);
    g_assert_cmpstr(back, ==, "cut short");
    g_autoptr(GDir) d = g_dir_open(spool, 0, NULL);
    g_assert_null(g_dir_read_name(d));

    /* A file that cannot be staged leaves nothing behind. */
    g_autofree char *missing = g_build_filename(tmp, "missing.ogg", NULL);
    g_assert_null(rr_spool_stage(spool, primary, missing, NULL, NULL, NULL, FALSE, &error));
    g_assert_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO);
    g_clear_error(&error);
    g_autoptr(GDir) d2 = g_dir_open(spool, 0, NULL);
    g_assert_null(g_dir_read_name(d2));

    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* A failing primary store is logged as a warning, which these tests cause on purpose;
     * criticals stay fatal. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_test_add_func("/storage/key/join", test_key_join);
    g_test_add_func("/storage/key/invalid", test_key_invalid);
    g_test_add_func("/storage/key/uri-encode", test_key_uri_encode);
    g_test_add_func("/storage/s3/part-size", test_part_size);
    g_test_add_func("/storage/retry/delay", test_retry_delay);
    g_test_add_func("/storage/retry/retryable", test_retry_retryable);
    g_test_add_func("/storage/s3/error-classes", test_s3_error_classes);
    g_test_add_func("/storage/s3/xml-answers", test_s3_xml_answers);
    g_test_add_func("/storage/s3/config", test_s3_config);
    g_test_add_func("/storage/s3/secrets", test_s3_secrets);
    g_test_add_func("/storage/local/atomic", test_local);
    g_test_add_func("/storage/spool/backup-and-retry", test_backup_and_spool);
    g_test_add_func("/storage/spool/stage", test_spool_stage);
    return g_test_run();
}
