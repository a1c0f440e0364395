/* Unit tests for worker/config: defaults, a full YAML file, precedence (file < env <
 * flags), errors naming the key, read-only after finish, secrets redacted. */
#include "worker/config.h"
#include "worker/upload.h"
#include "worker/log.h"
#include "worker/worker-error.h"

#include <glib/gstdio.h>

static const char full_yaml[] = "api_key: APIkey1\n"
                                "api_secret: secret-value-0123456789\n"
                                "ws_url: wss://lk.example.com\n"
                                "redis:\n"
                                "  address: redis.local:6380\n"
                                "  username: rr\n"
                                "  password: redis-pass-xyz\n"
                                "  db: 3\n"
                                "  use_tls: true\n"
                                "health_port: 8080\n"
                                "prometheus_port: 9090\n"
                                "cpu_cost:\n"
                                "  room_composite_cpu_cost: 0.5\n"
                                "  track_cpu_cost: 0.01\n"
                                "  max_cpu_utilization: 0.9\n"
                                "logging:\n"
                                "  level: debug\n"
                                "  json: yes\n"
                                "webhook:\n"
                                "  api_key: APIkey1\n"
                                "  urls:\n"
                                "    - http://127.0.0.1:9999/hook\n"
                                "    - https://hooks.example.com/lk\n"
                                "key_prefix: \"rr-test:\"\n"
                                "lease_seconds: 15\n"
                                "worker_id: worker-1\n"
                                "storage:\n"
                                "  prefix: rec/\n"
                                "  s3:\n"
                                "    access_key: AKIA1\n"
                                "    secret: s3-secret-value\n"
                                "    region: us-east-1\n"
                                "    endpoint: http://127.0.0.1:9000\n"
                                "    bucket: recordings\n"
                                "    force_path_style: true\n"
                                "    max_retries: 3\n";

static void test_defaults(void)
{
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_autoptr(GError) e = NULL;
    g_assert_true(rr_worker_config_finish(c, &e));
    g_assert_no_error(e);
    g_assert_cmpfloat(c->cpu_cost.room_composite_cpu_cost, ==, 0.35);
    g_assert_cmpfloat(c->cpu_cost.audio_room_composite_cpu_cost, ==, 0.05);
    g_assert_cmpfloat(c->cpu_cost.participant_cpu_cost, ==, 0.2);
    g_assert_cmpfloat(c->cpu_cost.track_composite_cpu_cost, ==, 0.2);
    g_assert_cmpfloat(c->cpu_cost.track_cpu_cost, ==, 0.02);
    g_assert_cmpfloat(c->cpu_cost.max_cpu_utilization, ==, 0.8);
    g_assert_cmpstr(c->key_prefix, ==, "roomrec:");
    g_assert_cmpint(c->lease_seconds, ==, 10);
    g_assert_cmpstr(c->logging.level, ==, "info");
    g_assert_null(c->worker_id);
    g_assert_null(c->webhook.urls[0]);
    g_assert_null(c->redis.sentinel_addresses[0]);
}

static void test_full_file(void)
{
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_autoptr(GError) e = NULL;
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("rr-config-XXXXXX.yaml", &path, &e);
    g_assert_no_error(e);
    close(fd);
    g_assert_true(g_file_set_contents(path, full_yaml, -1, &e));
    g_assert_true(rr_worker_config_load_file(c, path, &e));
    g_assert_no_error(e);
    g_unlink(path);
    g_assert_true(rr_worker_config_finish(c, &e));
    g_assert_no_error(e);
    g_assert_cmpstr(c->api_key, ==, "APIkey1");
    g_assert_cmpstr(c->ws_url, ==, "wss://lk.example.com");
    g_assert_cmpstr(c->redis.address, ==, "redis.local:6380");
    g_assert_cmpint(c->redis.db, ==, 3);
    g_assert_true(c->redis.use_tls);
    g_assert_cmpint(c->health_port, ==, 8080);
    g_assert_cmpint(c->prometheus_port, ==, 9090);
    g_assert_cmpfloat(c->cpu_cost.room_composite_cpu_cost, ==, 0.5);
    g_assert_cmpfloat(c->cpu_cost.track_cpu_cost, ==, 0.01);
    g_assert_cmpfloat(c->cpu_cost.participant_cpu_cost, ==, 0.2); /* default kept */
    g_assert_cmpstr(c->logging.level, ==, "debug");
    g_assert_true(c->logging.json);
    g_assert_cmpuint(g_strv_length(c->webhook.urls), ==, 2);
    g_assert_cmpstr(c->webhook.urls[1], ==, "https://hooks.example.com/lk");
    g_assert_cmpstr(c->key_prefix, ==, "rr-test:");
    g_assert_cmpint(c->lease_seconds, ==, 15);
    g_assert_cmpstr(c->worker_id, ==, "worker-1");
    g_assert_true(c->storage.has_s3);
    g_assert_false(c->storage.has_gcp);
    g_assert_cmpstr(c->storage.s3.bucket, ==, "recordings");
    g_assert_true(c->storage.s3.force_path_style);
    g_assert_cmpint(c->storage.s3.max_retries, ==, 3);
    g_assert_cmpstr(rr_worker_config_secret_for_key(c, "APIkey1"), ==, "secret-value-0123456789");
    g_assert_null(rr_worker_config_secret_for_key(c, "other"));

    /* Secrets are registered with the log redactor. */
    g_autofree char *line =
        rr_log_redact("a=secret-value-0123456789 b=redis-pass-xyz c=s3-secret-value");
    g_assert_null(strstr(line, "secret-value-0123456789"));
    g_assert_null(strstr(line, "redis-pass-xyz"));
    g_assert_null(strstr(line, "s3-secret-value"));

    /* Read-only afterwards. */
    g_assert_false(rr_worker_config_set(c, "lease_seconds", "20", &e));
    g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG);
    g_clear_error(&e);
    g_assert_false(rr_worker_config_load_data(c, "lease_seconds: 20\n", -1, &e));
    g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG);
    g_assert_cmpint(c->lease_seconds, ==, 15);
}

static void test_precedence(void)
{
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_autoptr(GError) e = NULL;
    g_assert_true(rr_worker_config_load_data(
        c, "api_key: filekey\napi_secret: file-secret-1\nredis:\n  address: file:1\n  db: 1\n", -1,
        &e));
    g_assert_no_error(e);
    const char *env[] = {"LIVEKIT_API_KEY=envkey",
                         "LIVEKIT_API_SECRET=env-secret-2",
                         "REDIS_ADDRESS=env:2",
                         "REDIS_SENTINEL_ADDRESSES= s1:26379 , s2:26379 ",
                         "REDIS_SENTINEL_MASTER_NAME=mymaster",
                         "ROOMREC_LEASE_SECONDS=30",
                         "UNRELATED=1",
                         NULL};
    g_assert_true(rr_worker_config_apply_env(c, env, &e));
    g_assert_no_error(e);
    g_assert_cmpstr(c->api_key, ==, "envkey");
    g_assert_cmpstr(c->redis.address, ==, "env:2");
    g_assert_cmpint(c->redis.db, ==, 1); /* from the file: no env for it */
    g_assert_cmpuint(g_strv_length(c->redis.sentinel_addresses), ==, 2);
    g_assert_cmpstr(c->redis.sentinel_addresses[1], ==, "s2:26379");
    g_assert_true(rr_worker_config_set(c, "redis.address", "flag:3", &e));
    g_assert_true(rr_worker_config_set(c, "lease_seconds", "5", &e));
    g_assert_true(rr_worker_config_set(c, "webhook.urls", "http://a:1/x,http://b:2/y", &e));
    g_assert_no_error(e);
    g_assert_true(rr_worker_config_finish(c, &e));
    g_assert_no_error(e);
    g_assert_cmpstr(c->redis.address, ==, "flag:3");
    g_assert_cmpint(c->lease_seconds, ==, 5);
    g_assert_cmpstr(c->webhook.urls[1], ==, "http://b:2/y");
    g_assert_cmpstr(c->webhook.api_key, ==, "envkey"); /* defaults to api_key */
}

/* Each bad input must fail with exactly this message. */
static void test_errors(void)
{
    static const struct {
        const char *yaml;
        const char *message;
    } cases[] = {
        {"redis:\n  adress: x:1\n", "redis.adress: unknown key"},
        {"cpu_cost:\n  track_cpu_cost: 0\n", "cpu_cost.track_cpu_cost: must be a number > 0"},
        {"cpu_cost:\n  track_cpu_cost: cheap\n", "cpu_cost.track_cpu_cost: must be a number > 0"},
        {"cpu_cost:\n  max_cpu_utilization: 1.5\n",
         "cpu_cost.max_cpu_utilization: must be a number > 0 and <= 1"},
        {"health_port: 70000\n", "health_port: must be a port from 0 (off) to 65535"},
        {"redis:\n  db: \"3\"\n", "redis.db: must be an integer >= 0"},
        {"redis:\n  use_tls: maybe\n", "redis.use_tls: must be true or false"},
        {"redis: localhost\n", "redis: must be a mapping of keys"},
        {"api_key: [a, b]\n", "api_key: must be a string (a single value, not a list or map)"},
        {"webhook:\n  urls: http://x\n", "webhook.urls: must be a list of strings"},
        {"webhook:\n  urls: [http://x, {a: 1}]\n", "webhook.urls[1]: must be a non-empty string"},
        {"logging:\n  level: loud\n", "logging.level: must be one of debug, info, warn, error"},
        {"lease_seconds: 0\n", "lease_seconds: must be an integer from 1 to 3600"},
        {"key_prefix: a\nkey_prefix: b\n", "key_prefix: given twice"},
        {"storage:\n  s3:\n    bucket: [x]\n",
         "storage.s3.bucket: must be a string (a single value, not a list or map)"},
        {"storage:\n  s3:\n    force_path_style: 1x\n",
         "storage.s3.force_path_style: must be true or false"},
        {"storage:\n  gcs: {}\n", "storage.gcs: unknown key"},
        {"- a\n- b\n", "config: must be a mapping of keys"},
        {"a: b\n---\nc: d\n", "a: unknown key"},
        {"api_key: x\n---\nws_url: y\n", "config: holds more than one YAML document"},
        {"? [a]\n: b\n", "config: keys must be plain strings"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
        g_autoptr(GError) e = NULL;
        g_assert_false(rr_worker_config_load_data(c, cases[i].yaml, -1, &e));
        g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG);
        g_assert_cmpstr(e->message, ==, cases[i].message);
    }
    /* A YAML syntax error says where. */
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_autoptr(GError) e = NULL;
    g_assert_false(rr_worker_config_load_data(c, "a: [1, 2\n", -1, &e));
    g_assert_true(g_str_has_prefix(e->message, "config: YAML error at line "));
}

static void test_whole_errors(void)
{
    static const struct {
        const char *yaml;
        const char *message;
    } cases[] = {
        {"api_key: k\n", "api_secret: required with api_key"},
        {"api_secret: s3cr3t-abc\n", "api_key: required with api_secret"},
        {"webhook:\n  urls: [http://127.0.0.1:1/x]\n",
         "webhook.urls: webhooks are signed: api_key and api_secret are required"},
        {"api_key: k\napi_secret: s3cr3t-abc\nwebhook:\n  urls: [ftp://x/y]\n",
         "webhook.urls[0]: must be an http:// or https:// URL"},
        {"api_key: k\napi_secret: s3cr3t-abc\nwebhook:\n  api_key: other\n",
         "webhook.api_key: no secret for this key (roomrec holds one key pair: api_key and "
         "api_secret)"},
        {"ws_url: lk.example.com\n", "ws_url: must be a ws://, wss://, http:// or https:// URL"},
        {"redis:\n  sentinel_addresses: [a:1]\n",
         "redis.sentinel_master_name: required with redis.sentinel_addresses"},
        {"worker_id: a b\n", "worker_id: must be 1 to 128 letters, digits, '.', '_', ':' or '-'"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
        g_autoptr(GError) e = NULL;
        g_assert_true(rr_worker_config_load_data(c, cases[i].yaml, -1, &e));
        g_assert_no_error(e);
        g_assert_false(rr_worker_config_finish(c, &e));
        g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG);
        g_assert_cmpstr(e->message, ==, cases[i].message);
    }
    /* Environment and flag errors name the key (and the variable); no value leaks. */
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_autoptr(GError) e = NULL;
    const char *env[] = {"REDIS_DB=-secret-looking-7", NULL};
    g_assert_false(rr_worker_config_apply_env(c, env, &e));
    g_assert_cmpstr(e->message, ==, "redis.db: must be an integer >= 0 (environment REDIS_DB)");
    g_clear_error(&e);
    g_assert_false(rr_worker_config_set(c, "redis.adress", "x", &e));
    g_assert_cmpstr(e->message, ==, "redis.adress: unknown key");
    g_clear_error(&e);
    g_assert_false(rr_worker_config_set(c, "redis", "x", &e));
    g_assert_cmpstr(e->message, ==, "redis: is a section: set its keys");
    g_clear_error(&e);
    g_assert_false(rr_worker_config_load_file(c, "/nonexistent/roomrec.yaml", &e));
    g_assert_true(g_str_has_prefix(e->message, "config file: "));
}

static void test_nulls_and_empty(void)
{
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_autoptr(GError) e = NULL;
    g_assert_true(rr_worker_config_load_data(c, "", -1, &e));
    g_assert_true(rr_worker_config_load_data(c, "# only a comment\n", -1, &e));
    g_assert_true(rr_worker_config_load_data(
        c, "redis:\nworker_id: ~\ncpu_cost:\n  track_cpu_cost: null\nstorage: {s3: {}}\n", -1, &e));
    g_assert_no_error(e);
    g_assert_cmpfloat(c->cpu_cost.track_cpu_cost, ==, 0.02);
    g_assert_true(c->storage.has_s3);
    g_assert_true(rr_worker_config_finish(c, &e));
    g_assert_no_error(e);
}

/* backup and backup_storage parse; the storage keys a worker hands its children
 * (rr_upload_config_to_json) read back the same through the YAML loader. */
static void test_storage_roundtrip(void)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(RrWorkerConfig) c = rr_worker_config_new();
    g_assert_true(rr_worker_config_load_data(c,
                                             "storage:\n  prefix: rec/\n  s3:\n"
                                             "    access_key: AK\n    secret: \"s:e/c\\\"r\"\n"
                                             "    endpoint: http://127.0.0.1:9\n    bucket: b\n"
                                             "    force_path_style: true\n    max_retries: 2\n"
                                             "    min_retry_delay: 100ms\n"
                                             "backup:\n  s3:\n    access_key: AK2\n    secret: x\n"
                                             "    bucket: b2\n"
                                             "backup_storage: /var/spool/rr\n",
                                             -1, &e));
    g_assert_no_error(e);
    g_assert_true(rr_worker_config_finish(c, &e));
    g_assert_true(c->backup.has_s3);
    g_assert_cmpstr(c->backup.s3.bucket, ==, "b2");
    g_assert_cmpstr(c->backup_storage, ==, "/var/spool/rr");
    g_autofree char *json = rr_upload_config_to_json(c, "/tmp");
    g_assert_nonnull(json);
    g_autoptr(RrWorkerConfig) d = rr_worker_config_new();
    g_assert_true(rr_worker_config_load_data(d, json, -1, &e));
    g_assert_no_error(e);
    g_assert_true(rr_worker_config_finish(d, &e));
    g_assert_cmpstr(d->storage.prefix, ==, "rec/");
    g_assert_cmpstr(d->storage.s3.secret, ==, "s:e/c\"r");
    g_assert_cmpstr(d->storage.s3.endpoint, ==, "http://127.0.0.1:9");
    g_assert_true(d->storage.s3.force_path_style);
    g_assert_cmpint(d->storage.s3.max_retries, ==, 2);
    g_assert_cmpstr(d->storage.s3.min_retry_delay, ==, "100ms");
    g_assert_cmpstr(d->backup.s3.access_key, ==, "AK2");
    g_assert_cmpstr(d->backup_storage, ==, "/var/spool/rr");
    g_autofree char *spool = rr_upload_spool_dir(NULL, "/tmp/x");
    g_assert_cmpstr(spool, ==, "/tmp/x/.roomrec-spool");
    /* A bad retry delay is named. */
    g_autoptr(RrWorkerConfig) bad = rr_worker_config_new();
    g_assert_true(rr_worker_config_load_data(
        bad, "storage:\n  s3: {access_key: a, secret: s, bucket: b, max_retry_delay: soon}\n", -1,
        &e));
    g_assert_true(rr_worker_config_finish(bad, &e));
    RrUploadConfig uc = {.config = bad};
    g_autoptr(RrUpload) u = rr_upload_new(&uc, &e);
    g_assert_null(u);
    g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_CONFIG);
    g_assert_nonnull(strstr(e->message, "storage.s3.max_retry_delay"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/config/defaults", test_defaults);
    g_test_add_func("/worker/config/full-file", test_full_file);
    g_test_add_func("/worker/config/precedence", test_precedence);
    g_test_add_func("/worker/config/errors", test_errors);
    g_test_add_func("/worker/config/whole-errors", test_whole_errors);
    g_test_add_func("/worker/config/nulls", test_nulls_and_empty);
    g_test_add_func("/worker/config/storage-roundtrip", test_storage_roundtrip);
    return g_test_run();
}
