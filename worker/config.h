/* worker/config: the worker's configuration (YAML file, environment, flags).
 *
 * Keys follow LiveKit egress's config where the meaning is the same: api_key,
 * api_secret, ws_url, redis.{address,username,password,db,use_tls,
 * sentinel_master_name,sentinel_username,sentinel_password,sentinel_addresses},
 * health_port, prometheus_port, cpu_cost.{room_composite_cpu_cost,
 * audio_room_composite_cpu_cost,participant_cpu_cost,track_composite_cpu_cost,
 * track_cpu_cost,max_cpu_utilization}, storage.{prefix,generate_presigned_url,s3,azure,
 * gcp,alioss}, backup.{prefix,s3} (the store used when storage's fails, as LiveKit's
 * `backup`), backup_storage (the local directory where a recording waits when every
 * store fails: the spool), logging.{level,json}; LiveKit server's webhook.{urls,api_key};
 * and roomrec's own key_prefix, lease_seconds and worker_id.
 *
 * Precedence: built-in defaults < YAML file (rr_worker_config_load_file/_data) <
 * environment (rr_worker_config_apply_env) < flags (rr_worker_config_set, called by the
 * command's flag parser). rr_worker_config_finish() validates the whole, registers the
 * secrets with the log redactor and makes the config read-only: every loader and setter
 * fails afterwards. Errors are RR_WORKER_ERROR_INVALID_CONFIG and start with the key's
 * path ("redis.adress: unknown key", "cpu_cost.track_cpu_cost: must be a number > 0");
 * they never contain a secret's value.
 *
 * One owner (the thread that starts the worker) while loading; read-only and so
 * shareable between threads after rr_worker_config_finish(). The struct owns its
 * strings.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_CONFIG_MAX_FILE_SIZE (1024 * 1024)

typedef struct {
    char *access_key;
    char *secret;        /* secret */
    char *session_token; /* secret */
    char *assume_role_arn;
    char *assume_role_external_id;
    char *region;
    char *endpoint;
    char *bucket;
    gboolean force_path_style;
    gint64 max_retries;
    char *max_retry_delay; /* a Go duration as written ("5s"); checked by storage/ */
    char *min_retry_delay;
    char *content_disposition;
} RrConfigS3;

/* LiveKit egress's `storage` section; validated for types only (storage/ uses it). */
typedef struct {
    char *prefix;
    gboolean generate_presigned_url;
    gboolean has_s3, has_azure, has_gcp, has_alioss; /* which sections were given */
    RrConfigS3 s3;
    struct {
        char *account_name;
        char *account_key; /* secret */
        char *container_name;
    } azure;
    struct {
        char *credentials_json; /* secret */
        char *bucket;
    } gcp;
    struct {
        char *access_key;
        char *secret; /* secret */
        char *region;
        char *endpoint;
        char *bucket;
    } alioss;
} RrStorageConfig;

typedef struct {
    char *api_key;
    char *api_secret; /* secret */
    char *ws_url;
    struct {
        char *address; /* host:port */
        char *username;
        char *password; /* secret */
        gint64 db;
        gboolean use_tls;
        char *sentinel_master_name;
        char *sentinel_username;
        char *sentinel_password;   /* secret */
        char **sentinel_addresses; /* NULL-terminated; never NULL */
    } redis;
    gint64 health_port;     /* 0: off */
    gint64 prometheus_port; /* 0: off */
    struct {
        double room_composite_cpu_cost;       /* 0.35 */
        double audio_room_composite_cpu_cost; /* 0.05 */
        double participant_cpu_cost;          /* 0.2 */
        double track_composite_cpu_cost;      /* 0.2 */
        double track_cpu_cost;                /* 0.02 */
        double max_cpu_utilization;           /* 0.8 */
    } cpu_cost;
    struct {
        char *level; /* debug, info, warn, error; default info */
        gboolean json;
    } logging;
    struct {
        char **urls;   /* NULL-terminated; never NULL */
        char *api_key; /* signs the webhooks; defaults to api_key */
    } webhook;
    char *key_prefix;     /* "roomrec:" */
    gint64 lease_seconds; /* 10 */
    char *worker_id;      /* NULL: the worker makes one */
    RrStorageConfig storage;
    struct {
        char *prefix;
        gboolean has_s3;
        RrConfigS3 s3;
    } backup;             /* used when storage's store fails */
    char *backup_storage; /* the spool directory; NULL: OUTPUT_DIR/.roomrec-spool */
} RrWorkerConfig;

/* (transfer full) a config holding the defaults. */
RrWorkerConfig *rr_worker_config_new(void);
void rr_worker_config_free(RrWorkerConfig *config);

/* Reads a YAML file (at most RR_CONFIG_MAX_FILE_SIZE) over the current values. */
gboolean rr_worker_config_load_file(RrWorkerConfig *config, const char *path, GError **error);
/* The same from memory; @len may be -1 for a NUL-terminated string. */
gboolean rr_worker_config_load_data(RrWorkerConfig *config, const char *yaml, gssize len,
                                    GError **error);

/* Applies the environment variables of @envp (NULL: the process environment):
 * LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_WS_URL, REDIS_ADDRESS, REDIS_USERNAME,
 * REDIS_PASSWORD, REDIS_DB, REDIS_USE_TLS, REDIS_SENTINEL_MASTER_NAME,
 * REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD, REDIS_SENTINEL_ADDRESSES (comma
 * separated), HEALTH_PORT, PROMETHEUS_PORT, WEBHOOK_URLS (comma separated),
 * WEBHOOK_API_KEY, ROOMREC_KEY_PREFIX, ROOMREC_LEASE_SECONDS, ROOMREC_WORKER_ID,
 * ROOMREC_LOG_LEVEL. Errors name the variable and the key. */
gboolean rr_worker_config_apply_env(RrWorkerConfig *config, const char *const *envp,
                                    GError **error);

/* Sets one key by its path ("redis.db", "cpu_cost.track_cpu_cost", "webhook.urls") from
 * its text form, as a flag gives it (lists: comma separated). Same checks as the file. */
gboolean rr_worker_config_set(RrWorkerConfig *config, const char *key, const char *value,
                              GError **error);

/* Checks the config as a whole, registers its secrets with the log redactor
 * (rr_log_add_secret) and freezes it. */
gboolean rr_worker_config_finish(RrWorkerConfig *config, GError **error);

/* The secret belonging to API key @api_key, or NULL when this config holds none (roomrec
 * holds one pair: api_key/api_secret). */
const char *rr_worker_config_secret_for_key(const RrWorkerConfig *config, const char *api_key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrWorkerConfig, rr_worker_config_free)

G_END_DECLS
