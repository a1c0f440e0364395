/* worker/config: YAML, environment and flags → RrWorkerConfig. See config.h.
 *
 * One table (the schema below) names every key with its kind and place in the struct;
 * the YAML walker, the environment, the flag setter, the checks, the secret
 * registration and the destructor all go through it, so a key is added in one place.
 */
#include "worker/config.h"

#include "worker/log.h"
#include "worker/worker-error.h"

#include <gio/gio.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <yaml.h>

#define INVALID RR_WORKER_ERROR_INVALID_CONFIG

typedef enum {
    K_STRING,
    K_SECRET, /* a string never printed, registered with the log redactor */
    K_BOOL,
    K_INT,
    K_DOUBLE,
    K_LIST, /* char ** */
    K_MAP,
} Kind;

typedef struct Key Key;
struct Key {
    const char *name;
    Kind kind;
    size_t offset; /* of the value in RrWorkerConfig; K_MAP: of its has_* flag or NO_FLAG */
    double min;    /* numbers: the lowest value (excluded when min_open) */
    double max;    /* numbers: the highest value */
    gboolean min_open;
    const char *rule;           /* what a bad value must be, for the error message */
    const Key *children;        /* K_MAP */
    const char *const *choices; /* K_STRING: the allowed values, NULL: any */
};

#define NO_FLAG ((size_t)-1)
#define OFF(m)  offsetof(RrWorkerConfig, m)
#define STR(n, m)                                                                                  \
    {                                                                                              \
        .name = n, .kind = K_STRING, .offset = OFF(m)                                              \
    }
#define SECRET(n, m)                                                                               \
    {                                                                                              \
        .name = n, .kind = K_SECRET, .offset = OFF(m)                                              \
    }
#define BOOL(n, m)                                                                                 \
    {                                                                                              \
        .name = n, .kind = K_BOOL, .offset = OFF(m), .rule = "must be true or false"               \
    }
#define INT(n, m, lo, hi, r)                                                                       \
    {                                                                                              \
        .name = n, .kind = K_INT, .offset = OFF(m), .min = lo, .max = hi, .rule = r                \
    }
#define COST(n, m)                                                                                 \
    {                                                                                              \
        .name = n, .kind = K_DOUBLE, .offset = OFF(m), .min = 0, .max = 1024, .min_open = TRUE,    \
        .rule = "must be a number > 0"                                                             \
    }
#define LIST(n, m)                                                                                 \
    {                                                                                              \
        .name = n, .kind = K_LIST, .offset = OFF(m), .rule = "must be a list of strings"           \
    }
#define MAP(n, flag, c)                                                                            \
    {                                                                                              \
        .name = n, .kind = K_MAP, .offset = flag, .children = c                                    \
    }
#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static const Key redis_keys[] = {
    STR("address", redis.address),
    STR("username", redis.username),
    SECRET("password", redis.password),
    INT("db", redis.db, 0, G_MAXINT32, "must be an integer >= 0"),
    BOOL("use_tls", redis.use_tls),
    STR("sentinel_master_name", redis.sentinel_master_name),
    STR("sentinel_username", redis.sentinel_username),
    SECRET("sentinel_password", redis.sentinel_password),
    LIST("sentinel_addresses", redis.sentinel_addresses),
    END,
};

static const Key cpu_keys[] = {
    COST("room_composite_cpu_cost", cpu_cost.room_composite_cpu_cost),
    COST("audio_room_composite_cpu_cost", cpu_cost.audio_room_composite_cpu_cost),
    COST("participant_cpu_cost", cpu_cost.participant_cpu_cost),
    COST("track_composite_cpu_cost", cpu_cost.track_composite_cpu_cost),
    COST("track_cpu_cost", cpu_cost.track_cpu_cost),
    {.name = "max_cpu_utilization",
     .kind = K_DOUBLE,
     .offset = OFF(cpu_cost.max_cpu_utilization),
     .min = 0,
     .max = 1,
     .min_open = TRUE,
     .rule = "must be a number > 0 and <= 1"},
    END,
};

static const Key logging_keys[] = {
    {.name = "level",
     .kind = K_STRING,
     .offset = OFF(logging.level),
     .choices = log_levels,
     .rule = "must be one of debug, info, warn, error"},
    BOOL("json", logging.json),
    END,
};

static const Key webhook_keys[] = {
    LIST("urls", webhook.urls),
    SECRET("api_key", webhook.api_key),
    END,
};

static const Key s3_keys[] = {
    STR("access_key", storage.s3.access_key),
    SECRET("secret", storage.s3.secret),
    SECRET("session_token", storage.s3.session_token),
    STR("assume_role_arn", storage.s3.assume_role_arn),
    STR("assume_role_external_id", storage.s3.assume_role_external_id),
    STR("region", storage.s3.region),
    STR("endpoint", storage.s3.endpoint),
    STR("bucket", storage.s3.bucket),
    BOOL("force_path_style", storage.s3.force_path_style),
    INT("max_retries", storage.s3.max_retries, 0, 1000, "must be an integer from 0 to 1000"),
    STR("max_retry_delay", storage.s3.max_retry_delay),
    STR("min_retry_delay", storage.s3.min_retry_delay),
    STR("content_disposition", storage.s3.content_disposition),
    END,
};

static const Key backup_s3_keys[] = {
    STR("access_key", backup.s3.access_key),
    SECRET("secret", backup.s3.secret),
    SECRET("session_token", backup.s3.session_token),
    STR("assume_role_arn", backup.s3.assume_role_arn),
    STR("assume_role_external_id", backup.s3.assume_role_external_id),
    STR("region", backup.s3.region),
    STR("endpoint", backup.s3.endpoint),
    STR("bucket", backup.s3.bucket),
    BOOL("force_path_style", backup.s3.force_path_style),
    INT("max_retries", backup.s3.max_retries, 0, 1000, "must be an integer from 0 to 1000"),
    STR("max_retry_delay", backup.s3.max_retry_delay),
    STR("min_retry_delay", backup.s3.min_retry_delay),
    STR("content_disposition", backup.s3.content_disposition),
    END,
};

static const Key azure_keys[] = {
    STR("account_name", storage.azure.account_name),
    SECRET("account_key", storage.azure.account_key),
    STR("container_name", storage.azure.container_name),
    END,
};

static const Key gcp_keys[] = {
    SECRET("credentials_json", storage.gcp.credentials_json),
    STR("bucket", storage.gcp.bucket),
    END,
};

static const Key alioss_keys[] = {
    STR("access_key", storage.alioss.access_key), SECRET("secret", storage.alioss.secret),
    STR("region", storage.alioss.region),         STR("endpoint", storage.alioss.endpoint),
    STR("bucket", storage.alioss.bucket),         END,
};

static const Key storage_keys[] = {
    STR("prefix", storage.prefix),
    BOOL("generate_presigned_url", storage.generate_presigned_url),
    MAP("s3", OFF(storage.has_s3), s3_keys),
    MAP("azure", OFF(storage.has_azure), azure_keys),
    MAP("gcp", OFF(storage.has_gcp), gcp_keys),
    MAP("alioss", OFF(storage.has_alioss), alioss_keys),
    END,
};

static const Key backup_keys[] = {
    STR("prefix", backup.prefix),
    MAP("s3", OFF(backup.has_s3), backup_s3_keys),
    END,
};

static const Key root_keys[] = {
    STR("api_key", api_key),
    SECRET("api_secret", api_secret),
    STR("ws_url", ws_url),
    MAP("redis", NO_FLAG, redis_keys),
    INT("health_port", health_port, 0, 65535, "must be a port from 0 (off) to 65535"),
    INT("prometheus_port", prometheus_port, 0, 65535, "must be a port from 0 (off) to 65535"),
    MAP("cpu_cost", NO_FLAG, cpu_keys),
    MAP("logging", NO_FLAG, logging_keys),
    MAP("webhook", NO_FLAG, webhook_keys),
    STR("key_prefix", key_prefix),
    INT("lease_seconds", lease_seconds, 1, 3600, "must be an integer from 1 to 3600"),
    STR("worker_id", worker_id),
    MAP("storage", NO_FLAG, storage_keys),
    MAP("backup", NO_FLAG, backup_keys),
    STR("backup_storage", backup_storage),
    END,
};

static const Key root = MAP("", NO_FLAG, root_keys);

/* ---- the struct through the schema ---- */

static void *slot(RrWorkerConfig *c, const Key *k)
{
    return (char *)c + k->offset;
}

static void walk_free(RrWorkerConfig *c, const Key *keys)
{
    for (const Key *k = keys; k->name; k++) {
        if (k->kind == K_STRING || k->kind == K_SECRET)
            g_clear_pointer((char **)slot(c, k), g_free);
        else if (k->kind == K_LIST)
            g_clear_pointer((char ***)slot(c, k), g_strfreev);
        else if (k->kind == K_MAP)
            walk_free(c, k->children);
    }
}

static void walk_secrets(RrWorkerConfig *c, const Key *keys)
{
    for (const Key *k = keys; k->name; k++) {
        if (k->kind == K_SECRET)
            rr_log_add_secret(*(char **)slot(c, k));
        else if (k->kind == K_MAP)
            walk_secrets(c, k->children);
    }
}

/* The private part: the struct is public and read-only, the frozen flag lives beside it. */
typedef struct {
    RrWorkerConfig pub;
    gboolean frozen;
} Config;

RrWorkerConfig *rr_worker_config_new(void)
{
    Config *priv = g_new0(Config, 1);
    RrWorkerConfig *c = &priv->pub;
    c->redis.sentinel_addresses = g_new0(char *, 1);
    c->cpu_cost.room_composite_cpu_cost = 0.35;
    c->cpu_cost.audio_room_composite_cpu_cost = 0.05;
    c->cpu_cost.participant_cpu_cost = 0.2;
    c->cpu_cost.track_composite_cpu_cost = 0.2;
    c->cpu_cost.track_cpu_cost = 0.02;
    c->cpu_cost.max_cpu_utilization = 0.8;
    c->logging.level = g_strdup("info");
    c->webhook.urls = g_new0(char *, 1);
    c->key_prefix = g_strdup("roomrec:");
    c->lease_seconds = 10;
    return c;
}

void rr_worker_config_free(RrWorkerConfig *config)
{
    if (!config)
        return;
    walk_free(config, root_keys);
    g_free((Config *)config);
}

static gboolean check_open(RrWorkerConfig *c, GError **error)
{
    if (((Config *)c)->frozen) {
        g_set_error(error, RR_WORKER_ERROR, INVALID, "config: read-only after it was checked");
        return FALSE;
    }
    return TRUE;
}

static gboolean fail(GError **error, const char *path, const char *msg)
{
    g_set_error(error, RR_WORKER_ERROR, INVALID, "%s: %s", path, msg);
    return FALSE;
}

/* ---- scalars (YAML plain/quoted text, environment, flags) ---- */

static gboolean is_null(const char *v, gboolean plain)
{
    return plain && (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
                     !strcmp(v, "NULL"));
}

static gboolean parse_bool(const char *v, gboolean *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    for (guint i = 0; yes[i]; i++) {
        if (!g_ascii_strcasecmp(v, yes[i]))
            return *out = TRUE, TRUE;
        if (!g_ascii_strcasecmp(v, no[i]))
            return *out = FALSE, TRUE;
    }
    return FALSE;
}

static gboolean in_range(const Key *k, double v)
{
    return (k->min_open ? v > k->min : v >= k->min) && v <= k->max;
}

static char **split_list(const char *v)
{
    g_auto(GStrv) parts = g_strsplit(v, ",", -1);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; parts[i]; i++) {
        char *item = g_strstrip(parts[i]);
        if (*item)
            g_ptr_array_add(out, g_strdup(item));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* Sets leaf @k from the text @v (@len bytes); @plain: a YAML plain scalar or a flag, where
 * "null" and "~" mean "not set". */
static gboolean set_scalar(RrWorkerConfig *c, const Key *k, const char *path, const char *v,
                           gsize len, gboolean plain, GError **error)
{
    if (memchr(v, '\0', len))
        return fail(error, path, "must not contain a NUL byte");
    if (!g_utf8_validate(v, (gssize)len, NULL))
        return fail(error, path, "must be UTF-8 text");
    gboolean null = is_null(v, plain);
    switch (k->kind) {
    case K_STRING:
    case K_SECRET: {
        char **s = slot(c, k);
        if (!null && k->choices && !g_strv_contains(k->choices, v))
            return fail(error, path, k->rule);
        g_free(*s);
        *s = null ? NULL : g_strdup(v);
        return TRUE;
    }
    case K_BOOL: {
        gboolean b = FALSE;
        if (null)
            return TRUE;
        if (!parse_bool(v, &b))
            return fail(error, path, k->rule);
        *(gboolean *)slot(c, k) = b;
        return TRUE;
    }
    case K_INT: {
        gint64 n = 0;
        if (null)
            return TRUE;
        if (!g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, &n, NULL) ||
            !in_range(k, (double)n))
            return fail(error, path, k->rule);
        *(gint64 *)slot(c, k) = n;
        return TRUE;
    }
    case K_DOUBLE: {
        if (null)
            return TRUE;
        char *end = NULL;
        double d = *v && !g_ascii_isspace(*v) ? g_ascii_strtod(v, &end) : NAN;
        if (!end || *end || !isfinite(d) || !in_range(k, d))
            return fail(error, path, k->rule);
        *(double *)slot(c, k) = d;
        return TRUE;
    }
    case K_LIST: {
        char ***l = slot(c, k);
        g_strfreev(*l);
        *l = null ? g_new0(char *, 1) : split_list(v);
        return TRUE;
    }
    case K_MAP:
        break;
    }
    return fail(error, path, "is a section: set its keys");
}

/* ---- YAML ---- */

static char *join_path(const char *path, const char *name)
{
    return *path ? g_strdup_printf("%s.%s", path, name) : g_strdup(name);
}

static gboolean load_node(RrWorkerConfig *c, yaml_document_t *doc, yaml_node_t *node, const Key *k,
                          const char *path, GError **error);

static gboolean load_list(RrWorkerConfig *c, yaml_document_t *doc, yaml_node_t *node, const Key *k,
                          const char *path, GError **error)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top;
         i++) {
        yaml_node_t *item = yaml_document_get_node(doc, *i);
        g_autofree char *ip = g_strdup_printf("%s[%u]", path, items->len);
        const char *v = item ? (const char *)item->data.scalar.value : NULL;
        if (!item || item->type != YAML_SCALAR_NODE || memchr(v, '\0', item->data.scalar.length) ||
            !*v) {
            g_ptr_array_free(items, TRUE);
            return fail(error, ip, "must be a non-empty string");
        }
        g_ptr_array_add(items, g_strdup(v));
    }
    g_ptr_array_set_free_func(items, NULL);
    g_ptr_array_add(items, NULL);
    char ***l = slot(c, k);
    g_strfreev(*l);
    *l = (char **)g_ptr_array_free(items, FALSE);
    return TRUE;
}

static gboolean load_map(RrWorkerConfig *c, yaml_document_t *doc, yaml_node_t *node, const Key *k,
                         const char *path, GError **error)
{
    guint64 seen = 0; /* every section has fewer than 64 keys */
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (!kn || kn->type != YAML_SCALAR_NODE ||
            memchr(kn->data.scalar.value, '\0', kn->data.scalar.length))
            return fail(error, *path ? path : "config", "keys must be plain strings");
        const char *name = (const char *)kn->data.scalar.value;
        g_autofree char *sub = join_path(path, name);
        guint idx = 0;
        const Key *child = k->children;
        while (child->name && strcmp(child->name, name) != 0)
            child++, idx++;
        if (!child->name)
            return fail(error, sub, "unknown key");
        if (seen & (G_GUINT64_CONSTANT(1) << idx))
            return fail(error, sub, "given twice");
        seen |= G_GUINT64_CONSTANT(1) << idx;
        if (!vn || !load_node(c, doc, vn, child, sub, error))
            return vn ? FALSE : fail(error, sub, "missing value");
    }
    return TRUE;
}

static gboolean load_node(RrWorkerConfig *c, yaml_document_t *doc, yaml_node_t *node, const Key *k,
                          const char *path, GError **error)
{
    gboolean plain =
        node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    gboolean null = plain && is_null((const char *)node->data.scalar.value, TRUE);
    if (k->kind == K_MAP) {
        if (null)
            return TRUE;
        if (node->type != YAML_MAPPING_NODE)
            return fail(error, path, "must be a mapping of keys");
        if (k->offset != NO_FLAG)
            *(gboolean *)slot(c, k) = TRUE;
        return load_map(c, doc, node, k, path, error);
    }
    if (k->kind == K_LIST) {
        if (null)
            return set_scalar(c, k, path, "", 0, TRUE, error);
        if (node->type != YAML_SEQUENCE_NODE)
            return fail(error, path, k->rule);
        return load_list(c, doc, node, k, path, error);
    }
    if (node->type != YAML_SCALAR_NODE)
        return fail(error, path,
                    k->rule ? k->rule : "must be a string (a single value, not a list or map)");
    /* Booleans and numbers are plain scalars; "5" in quotes is a string. */
    if (!plain && (k->kind == K_BOOL || k->kind == K_INT || k->kind == K_DOUBLE))
        return fail(error, path, k->rule);
    return set_scalar(c, k, path, (const char *)node->data.scalar.value, node->data.scalar.length,
                      plain, error);
}

static gboolean yaml_fail(yaml_parser_t *parser, GError **error)
{
    g_set_error(error, RR_WORKER_ERROR, INVALID, "config: YAML error at line %zu, column %zu: %s",
                parser->problem_mark.line + 1, parser->problem_mark.column + 1,
                parser->problem ? parser->problem : "unreadable");
    return FALSE;
}

gboolean rr_worker_config_load_data(RrWorkerConfig *config, const char *yaml, gssize len,
                                    GError **error)
{
    g_return_val_if_fail(config != NULL && yaml != NULL, FALSE);
    if (!check_open(config, error))
        return FALSE;
    gsize n = len < 0 ? strlen(yaml) : (gsize)len;
    if (n > RR_CONFIG_MAX_FILE_SIZE) {
        g_set_error(error, RR_WORKER_ERROR, INVALID, "config: larger than %d bytes",
                    RR_CONFIG_MAX_FILE_SIZE);
        return FALSE;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        g_set_error(error, RR_WORKER_ERROR, INVALID, "config: out of memory");
        return FALSE;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, n);
    gboolean ok = FALSE;
    if (!yaml_parser_load(&parser, &doc)) {
        ok = yaml_fail(&parser, error);
        yaml_parser_delete(&parser);
        return ok;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top)
        ok = TRUE; /* an empty file */
    else if (top->type != YAML_MAPPING_NODE &&
             !(top->type == YAML_SCALAR_NODE && top->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
               is_null((const char *)top->data.scalar.value, TRUE)))
        ok = fail(error, "config", "must be a mapping of keys");
    else
        ok = load_node(config, &doc, top, &root, "", error);
    yaml_document_delete(&doc);
    if (ok && top) {
        /* One document per file. */
        if (!yaml_parser_load(&parser, &doc)) {
            ok = yaml_fail(&parser, error);
        } else {
            if (yaml_document_get_root_node(&doc))
                ok = fail(error, "config", "holds more than one YAML document");
            yaml_document_delete(&doc);
        }
    }
    yaml_parser_delete(&parser);
    return ok;
}

gboolean rr_worker_config_load_file(RrWorkerConfig *config, const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) e = NULL;
    if (!check_open(config, error))
        return FALSE;
    if (!g_file_get_contents(path, &data, &len, &e)) {
        g_set_error(error, RR_WORKER_ERROR, INVALID, "config file: %s", e->message);
        return FALSE;
    }
    if (!rr_worker_config_load_data(config, data, (gssize)len, &e)) {
        g_set_error(error, RR_WORKER_ERROR, INVALID, "%s: %s", path, e->message);
        return FALSE;
    }
    return TRUE;
}

/* ---- keys by path: flags and environment ---- */

static const Key *find_key(const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, ".", -1);
    const Key *k = &root;
    for (guint i = 0; parts[i]; i++) {
        if (k->kind != K_MAP)
            return NULL;
        const Key *child = k->children;
        while (child->name && strcmp(child->name, parts[i]) != 0)
            child++;
        if (!child->name)
            return NULL;
        k = child;
    }
    return k == &root ? NULL : k;
}

gboolean rr_worker_config_set(RrWorkerConfig *config, const char *key, const char *value,
                              GError **error)
{
    g_return_val_if_fail(config != NULL && key != NULL && value != NULL, FALSE);
    if (!check_open(config, error))
        return FALSE;
    const Key *k = find_key(key);
    if (!k)
        return fail(error, key, "unknown key");
    if (k->kind == K_MAP)
        return fail(error, key, "is a section: set its keys");
    return set_scalar(config, k, key, value, strlen(value), TRUE, error);
}

static const struct {
    const char *env;
    const char *key;
} env_keys[] = {
    {"LIVEKIT_API_KEY", "api_key"},
    {"LIVEKIT_API_SECRET", "api_secret"},
    {"LIVEKIT_WS_URL", "ws_url"},
    {"REDIS_ADDRESS", "redis.address"},
    {"REDIS_USERNAME", "redis.username"},
    {"REDIS_PASSWORD", "redis.password"},
    {"REDIS_DB", "redis.db"},
    {"REDIS_USE_TLS", "redis.use_tls"},
    {"REDIS_SENTINEL_MASTER_NAME", "redis.sentinel_master_name"},
    {"REDIS_SENTINEL_USERNAME", "redis.sentinel_username"},
    {"REDIS_SENTINEL_PASSWORD", "redis.sentinel_password"},
    {"REDIS_SENTINEL_ADDRESSES", "redis.sentinel_addresses"},
    {"HEALTH_PORT", "health_port"},
    {"PROMETHEUS_PORT", "prometheus_port"},
    {"WEBHOOK_URLS", "webhook.urls"},
    {"WEBHOOK_API_KEY", "webhook.api_key"},
    {"ROOMREC_KEY_PREFIX", "key_prefix"},
    {"ROOMREC_LEASE_SECONDS", "lease_seconds"},
    {"ROOMREC_WORKER_ID", "worker_id"},
    {"ROOMREC_LOG_LEVEL", "logging.level"},
};

gboolean rr_worker_config_apply_env(RrWorkerConfig *config, const char *const *envp, GError **error)
{
    g_return_val_if_fail(config != NULL, FALSE);
    if (!check_open(config, error))
        return FALSE;
    g_auto(GStrv) own = envp ? NULL : g_get_environ();
    const char *const *env = envp ? envp : (const char *const *)own;
    for (guint i = 0; i < G_N_ELEMENTS(env_keys); i++) {
        const char *v = g_environ_getenv((char **)env, env_keys[i].env);
        if (!v || !*v)
            continue;
        g_autoptr(GError) e = NULL;
        if (!rr_worker_config_set(config, env_keys[i].key, v, &e)) {
            g_set_error(error, RR_WORKER_ERROR, INVALID, "%s (environment %s)", e->message,
                        env_keys[i].env);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- the whole ---- */

static gboolean set(const char *s)
{
    return s && *s;
}

static gboolean valid_url(const char *url, const char *const *schemes)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
        return FALSE;
    for (guint i = 0; schemes[i]; i++)
        if (!g_ascii_strcasecmp(g_uri_get_scheme(uri), schemes[i]))
            return TRUE;
    return FALSE;
}

static gboolean valid_host_port(const char *address)
{
    g_autoptr(GSocketConnectable) a = g_network_address_parse(address, 6379, NULL);
    return a != NULL;
}

static gboolean valid_worker_id(const char *id)
{
    gsize n = strlen(id);
    if (n == 0 || n > 128)
        return FALSE;
    for (const char *p = id; *p; p++)
        if (!g_ascii_isalnum(*p) && !strchr("._:-", *p))
            return FALSE;
    return TRUE;
}

gboolean rr_worker_config_finish(RrWorkerConfig *c, GError **error)
{
    static const char *const http[] = {"http", "https", NULL};
    static const char *const ws[] = {"ws", "wss", "http", "https", NULL};
    g_return_val_if_fail(c != NULL, FALSE);
    if (!check_open(c, error))
        return FALSE;
    if (set(c->api_key) != set(c->api_secret))
        return fail(error, set(c->api_key) ? "api_secret" : "api_key",
                    set(c->api_key) ? "required with api_key" : "required with api_secret");
    if (c->ws_url && !valid_url(c->ws_url, ws))
        return fail(error, "ws_url", "must be a ws://, wss://, http:// or https:// URL");
    if (c->redis.address && !valid_host_port(c->redis.address))
        return fail(error, "redis.address", "must be host:port");
    for (guint i = 0; c->redis.sentinel_addresses[i]; i++) {
        if (!valid_host_port(c->redis.sentinel_addresses[i])) {
            g_autofree char *p = g_strdup_printf("redis.sentinel_addresses[%u]", i);
            return fail(error, p, "must be host:port");
        }
    }
    if (c->redis.sentinel_addresses[0] && !set(c->redis.sentinel_master_name))
        return fail(error, "redis.sentinel_master_name", "required with redis.sentinel_addresses");
    for (guint i = 0; c->webhook.urls[i]; i++) {
        if (!valid_url(c->webhook.urls[i], http)) {
            g_autofree char *p = g_strdup_printf("webhook.urls[%u]", i);
            return fail(error, p, "must be an http:// or https:// URL");
        }
    }
    if (set(c->webhook.api_key) && !rr_worker_config_secret_for_key(c, c->webhook.api_key))
        return fail(error, "webhook.api_key",
                    "no secret for this key (roomrec holds one key pair: api_key and api_secret)");
    if (c->webhook.urls[0] && !set(c->api_secret))
        return fail(error, "webhook.urls",
                    "webhooks are signed: api_key and api_secret are required");
    if (c->worker_id && !valid_worker_id(c->worker_id))
        return fail(error, "worker_id", "must be 1 to 128 letters, digits, '.', '_', ':' or '-'");
    if (c->key_prefix && strpbrk(c->key_prefix, " \t\r\n"))
        return fail(error, "key_prefix", "must not contain spaces");
    if (!c->key_prefix)
        c->key_prefix = g_strdup("");
    if (!c->logging.level)
        c->logging.level = g_strdup("info");
    if (!set(c->webhook.api_key)) {
        g_free(c->webhook.api_key);
        c->webhook.api_key = g_strdup(c->api_key);
    }
    walk_secrets(c, root_keys);
    ((Config *)c)->frozen = TRUE;
    return TRUE;
}

const char *rr_worker_config_secret_for_key(const RrWorkerConfig *config, const char *api_key)
{
    g_return_val_if_fail(config != NULL, NULL);
    if (!set(api_key) || !set(config->api_key) || !set(config->api_secret) ||
        strcmp(api_key, config->api_key) != 0)
        return NULL;
    return config->api_secret;
}
