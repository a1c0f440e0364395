/* rr-upload: drives storage/ from the command line for the integration tests and the
 * upload benchmark.
 *
 *   ROOMREC_S3_SECRET=... rr-upload --endpoint URL --bucket B --access-key K [options] FILE
 *   ROOMREC_S3_SECRET=... rr-upload --spool-retry DIR --endpoint URL ...
 *
 * Uploads FILE (primary S3 store, then --backup-dir, then --spool-dir) and prints one JSON
 * object on stdout: location, size, etag, backup_storage_used, spool_path, error and
 * error_code (RR_STORAGE_ERROR's name). Log records go to stderr through worker/log's
 * redactor, with the secret registered. --hold-after-first-part FILE makes every part
 * after the first wait until FILE exists (a test stops the server meanwhile).
 * Exit: 0 stored, 1 not stored, 2 bad flags.
 */
#include "storage/local.h"
#include "storage/s3.h"
#include "storage/spool.h"
#include "worker/log.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *hold_file;
static gint first_done;

static void on_event(const RrS3Event *ev, gpointer user_data)
{
    switch (ev->kind) {
    case RR_S3_EVENT_PART_START:
        fprintf(stderr, "rr-upload: part %u of %u started\n", ev->part, ev->parts);
        if (hold_file != NULL && ev->part >= 2) {
            fprintf(stderr, "rr-upload: part %u waits for %s\n", ev->part, hold_file);
            for (int i = 0; i < 6000 && !g_file_test(hold_file, G_FILE_TEST_EXISTS); i++)
                g_usleep(100 * 1000);
        }
        break;
    case RR_S3_EVENT_PART_DONE:
        fprintf(stderr, "rr-upload: part %u of %u done\n", ev->part, ev->parts);
        g_atomic_int_inc(&first_done);
        break;
    case RR_S3_EVENT_RETRY:
        fprintf(stderr, "rr-upload: retry: part %u attempt %u failed, next in %u ms\n", ev->part,
                ev->attempt, ev->delay_ms);
        break;
    }
    fflush(stderr);
}

static void print_json(const RrUploadOutcome *o, const GError *err, guint uploaded, guint remaining)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    if (o != NULL && o->result != NULL) {
        json_builder_set_member_name(b, "location");
        json_builder_add_string_value(b, o->result->location);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, o->result->size);
        json_builder_set_member_name(b, "etag");
        json_builder_add_string_value(b, o->result->etag);
    }
    if (o != NULL) {
        json_builder_set_member_name(b, "backup_storage_used");
        json_builder_add_boolean_value(b, o->backup_used);
        json_builder_set_member_name(b, "spool_path");
        json_builder_add_string_value(b, o->spool_path);
    } else {
        json_builder_set_member_name(b, "uploaded");
        json_builder_add_int_value(b, uploaded);
        json_builder_set_member_name(b, "remaining");
        json_builder_add_int_value(b, remaining);
    }
    if (err != NULL) {
        g_autofree char *msg = rr_log_redact(err->message);
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, msg);
        json_builder_set_member_name(b, "error_code");
        json_builder_add_string_value(
            b, err->domain == RR_STORAGE_ERROR ? rr_storage_error_code_name(err->code) : "other");
    }
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

int main(int argc, char **argv)
{
    g_autofree char *endpoint = NULL, *bucket = NULL, *region = NULL, *access_key = NULL;
    g_autofree char *prefix = NULL, *key = NULL, *content_type = NULL, *backup_dir = NULL;
    g_autofree char *spool_dir = NULL, *spool_retry = NULL, *tagging = NULL, *disposition = NULL;
    g_auto(GStrv) metadata = NULL;
    gboolean path_style = FALSE;
    gint64 threshold = 0, part_size = 0, max_speed = 0;
    int parallel = 0, retries = 0, retry_base = 0, retry_max = 0;
    GOptionEntry entries[] = {
        {"endpoint", 0, 0, G_OPTION_ARG_STRING, &endpoint, "S3 endpoint URL", "URL"},
        {"bucket", 0, 0, G_OPTION_ARG_STRING, &bucket, "bucket", "B"},
        {"region", 0, 0, G_OPTION_ARG_STRING, &region, "region", "R"},
        {"access-key", 0, 0, G_OPTION_ARG_STRING, &access_key, "access key (secret: env)", "K"},
        {"path-style", 0, 0, G_OPTION_ARG_NONE, &path_style, "path-style addressing", NULL},
        {"prefix", 0, 0, G_OPTION_ARG_STRING, &prefix, "key prefix", "P"},
        {"key", 0, 0, G_OPTION_ARG_STRING, &key, "key (default: the file's name)", "K"},
        {"content-type", 0, 0, G_OPTION_ARG_STRING, &content_type, "content type", "T"},
        {"metadata", 0, 0, G_OPTION_ARG_STRING_ARRAY, &metadata, "x-amz-meta-", "K=V"},
        {"tagging", 0, 0, G_OPTION_ARG_STRING, &tagging, "tags", "K=V&..."},
        {"content-disposition", 0, 0, G_OPTION_ARG_STRING, &disposition, "header", "V"},
        {"multipart-threshold", 0, 0, G_OPTION_ARG_INT64, &threshold, "bytes", "N"},
        {"part-size", 0, 0, G_OPTION_ARG_INT64, &part_size, "bytes", "N"},
        {"parallel", 0, 0, G_OPTION_ARG_INT, &parallel, "parts at a time", "N"},
        {"retries", 0, 0, G_OPTION_ARG_INT, &retries, "attempts per request", "N"},
        {"retry-base-ms", 0, 0, G_OPTION_ARG_INT, &retry_base, "first backoff", "MS"},
        {"retry-max-ms", 0, 0, G_OPTION_ARG_INT, &retry_max, "backoff cap", "MS"},
        {"max-send-speed", 0, 0, G_OPTION_ARG_INT64, &max_speed, "bytes/s", "N"},
        {"backup-dir", 0, 0, G_OPTION_ARG_FILENAME, &backup_dir, "backup store", "DIR"},
        {"spool-dir", 0, 0, G_OPTION_ARG_FILENAME, &spool_dir, "spool", "DIR"},
        {"spool-retry", 0, 0, G_OPTION_ARG_FILENAME, &spool_retry, "upload a spool", "DIR"},
        {"hold-after-first-part", 0, 0, G_OPTION_ARG_FILENAME, &hold_file, "test hook", "FILE"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[FILE]");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "rr-upload: %s\n", error->message);
        return 2;
    }
    if ((spool_retry == NULL) != (argc == 2)) {
        fprintf(stderr, "rr-upload: one FILE, or --spool-retry DIR\n");
        return 2;
    }
    rr_log_init(RR_LOG_FORMAT_TEXT, G_LOG_LEVEL_MESSAGE);

    g_autoptr(GHashTable) meta = g_hash_table_new(g_str_hash, g_str_equal);
    for (char **m = metadata; m && *m; m++) {
        char *eq = strchr(*m, '=');
        if (eq == NULL) {
            fprintf(stderr, "rr-upload: --metadata %s: K=V expected\n", *m);
            return 2;
        }
        *eq = '\0';
        g_hash_table_insert(meta, *m, eq + 1);
    }
    RrS3Config cfg = {
        .access_key = access_key,
        .secret = g_getenv("ROOMREC_S3_SECRET"),
        .region = region,
        .endpoint = endpoint,
        .bucket = bucket,
        .force_path_style = path_style,
        .metadata = meta,
        .tagging = tagging,
        .content_disposition = disposition,
        .multipart_threshold = (guint64)threshold,
        .part_size = (guint64)part_size,
        .parallel = (guint)parallel,
        .retry = {.max_attempts = (guint)retries,
                  .base_delay_ms = (guint)retry_base,
                  .max_delay_ms = (guint)retry_max},
        .max_send_speed = (guint64)max_speed,
        .on_event = on_event,
    };
    rr_s3_config_register_secrets(&cfg, rr_log_add_secret);
    g_autoptr(RrStore) primary = rr_s3_store_new(&cfg, &error);
    if (primary == NULL) {
        fprintf(stderr, "rr-upload: %s\n", error->message);
        return 2;
    }
    g_autoptr(RrStore) backup = NULL;
    if (backup_dir != NULL && (backup = rr_local_store_new(backup_dir, &error)) == NULL) {
        fprintf(stderr, "rr-upload: %s\n", error->message);
        return 2;
    }
    if (spool_retry != NULL) {
        guint up = 0, left = 0;
        gboolean ok =
            rr_storage_spool_retry(spool_retry, primary, backup, &up, &left, NULL, &error);
        print_json(NULL, error, up, left);
        return ok ? 0 : 1;
    }
    if (!rr_store_begin(primary, prefix, &error) ||
        (backup != NULL && !rr_store_begin(backup, prefix, &error))) {
        fprintf(stderr, "rr-upload: %s\n", error->message);
        return 2;
    }
    RrUploadOutcome out;
    gboolean ok =
        rr_storage_upload(primary, backup, spool_dir, argv[1], key, content_type, &out, &error);
    print_json(&out, error, 0, 0);
    rr_upload_outcome_clear(&out);
    return ok ? 0 : 1;
}
