/* worker/job-s3: a file output's "s3" object (LiveKit's S3Upload) → RrJobS3. See job.h.
 *
 * Field names as protobuf JSON allows them: the proto name or its lowerCamelCase JSON
 * name. Unknown fields are errors naming their path; LiveKit's assume-role and proxy
 * fields are refused as unsupported. Secrets never appear in an error or in the echo.
 */
#include "worker/job.h"

#include "worker/worker-error.h"

#include <string.h>

typedef struct {
    const char *proto, *json;
} Field;

static const Field fields[] = {
    {"access_key", "accessKey"},
    {"secret", "secret"},
    {"session_token", "sessionToken"},
    {"region", "region"},
    {"endpoint", "endpoint"},
    {"bucket", "bucket"},
    {"force_path_style", "forcePathStyle"},
    {"metadata", "metadata"},
    {"tagging", "tagging"},
    {"content_disposition", "contentDisposition"},
    {NULL, NULL},
};

static const Field unsupported[] = {
    {"assume_role_arn", "assumeRoleArn"},
    {"assume_role_external_id", "assumeRoleExternalId"},
    {"proxy", "proxy"},
    {NULL, NULL},
};

static gboolean fail(GError **error, int code, const char *path, const char *name, const char *what)
{
    g_set_error(error, RR_WORKER_ERROR, code, "%s.%s: %s", path, name, what);
    return FALSE;
}

static const Field *find(const Field *table, const char *name)
{
    for (const Field *f = table; f->proto; f++)
        if (strcmp(name, f->proto) == 0 || strcmp(name, f->json) == 0)
            return f;
    return NULL;
}

/* The member for @f (either spelling), NULL when absent or null. */
static JsonNode *get(JsonObject *o, const Field *f, const char **written)
{
    const char *name = json_object_has_member(o, f->proto) ? f->proto : f->json;
    JsonNode *n = json_object_get_member(o, name);
    *written = name;
    return n && !JSON_NODE_HOLDS_NULL(n) ? n : NULL;
}

static gboolean is_string(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING;
}

static gboolean read_str(JsonObject *o, const char *path, const char *proto, char **out,
                         GError **error)
{
    const char *w;
    JsonNode *n = get(o, find(fields, proto), &w);
    if (!n)
        return TRUE;
    if (!is_string(n))
        return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, w, "expected a string");
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

static gboolean set(const char *s)
{
    return s && *s;
}

static gboolean parse_into(JsonObject *o, const char *path, RrJobS3 *s3, GError **error)
{
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;
        const Field *f = find(fields, m);
        if (find(unsupported, m))
            return fail(error, RR_WORKER_ERROR_UNSUPPORTED, path, m, "not supported");
        if (!f)
            return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, m, "unknown field");
        if (strcmp(f->proto, f->json) != 0 && json_object_has_member(o, f->proto) &&
            json_object_has_member(o, f->json))
            return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, m, "given twice");
    }
    if (!read_str(o, path, "access_key", &s3->access_key, error) ||
        !read_str(o, path, "secret", &s3->secret, error) ||
        !read_str(o, path, "session_token", &s3->session_token, error) ||
        !read_str(o, path, "region", &s3->region, error) ||
        !read_str(o, path, "endpoint", &s3->endpoint, error) ||
        !read_str(o, path, "bucket", &s3->bucket, error) ||
        !read_str(o, path, "tagging", &s3->tagging, error) ||
        !read_str(o, path, "content_disposition", &s3->content_disposition, error))
        return FALSE;
    const char *w;
    JsonNode *n = get(o, find(fields, "force_path_style"), &w);
    if (n) {
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
            return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, w, "expected true or false");
        s3->force_path_style = json_node_get_boolean(n);
    }
    n = get(o, find(fields, "metadata"), &w);
    if (n) {
        if (!JSON_NODE_HOLDS_OBJECT(n))
            return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, w,
                        "expected an object of strings");
        JsonObject *mo = json_node_get_object(n);
        g_autoptr(GList) keys = json_object_get_members(mo);
        for (GList *l = keys; l; l = l->next) {
            JsonNode *v = json_object_get_member(mo, l->data);
            g_autofree char *mp = g_strdup_printf("%s.%s", w, (const char *)l->data);
            if (!is_string(v))
                return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, mp, "expected a string");
            if (!*(const char *)l->data || strpbrk(l->data, " \t\r\n:"))
                return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, mp,
                            "not a valid header name");
            if (strpbrk(json_node_get_string(v), "\r\n"))
                return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, mp,
                            "must not contain a line break");
            g_hash_table_insert(s3->metadata, g_strdup(l->data), g_strdup(json_node_get_string(v)));
        }
    }
    if (!set(s3->bucket))
        return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, "bucket", "required");
    if (!set(s3->access_key) || !set(s3->secret))
        return fail(error, RR_WORKER_ERROR_INVALID_JOB, path,
                    set(s3->access_key) ? "secret" : "access_key",
                    "required (roomrec does not read credentials from the environment)");
    if (s3->endpoint && !g_str_has_prefix(s3->endpoint, "http://") &&
        !g_str_has_prefix(s3->endpoint, "https://"))
        return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, "endpoint",
                    "must be an http:// or https:// URL");
    const char *headers[] = {s3->tagging, s3->content_disposition, s3->region};
    const char *names[] = {"tagging", "content_disposition", "region"};
    for (guint i = 0; i < G_N_ELEMENTS(headers); i++)
        if (headers[i] && strpbrk(headers[i], "\r\n"))
            return fail(error, RR_WORKER_ERROR_INVALID_JOB, path, names[i],
                        "must not contain a line break");
    return TRUE;
}

RrJobS3 *rr_job_s3_parse(JsonObject *o, const char *path, GError **error)
{
    RrJobS3 *s3 = g_new0(RrJobS3, 1);
    s3->metadata = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!parse_into(o, path, s3, error)) {
        rr_job_s3_free(s3);
        return NULL;
    }
    return s3;
}

void rr_job_s3_free(RrJobS3 *s3)
{
    if (!s3)
        return;
    g_free(s3->access_key);
    g_free(s3->secret);
    g_free(s3->session_token);
    g_free(s3->region);
    g_free(s3->endpoint);
    g_free(s3->bucket);
    g_hash_table_unref(s3->metadata);
    g_free(s3->tagging);
    g_free(s3->content_disposition);
    g_free(s3);
}

static void add(JsonBuilder *b, const char *k, const char *v)
{
    if (!v)
        return;
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

void rr_job_s3_build_json(const RrJobS3 *s3, JsonBuilder *b)
{
    json_builder_begin_object(b);
    add(b, "accessKey", s3->access_key);
    add(b, "secret", s3->secret ? "<redacted>" : NULL);
    add(b, "sessionToken", s3->session_token ? "<redacted>" : NULL);
    add(b, "region", s3->region);
    add(b, "endpoint", s3->endpoint);
    add(b, "bucket", s3->bucket);
    json_builder_set_member_name(b, "forcePathStyle");
    json_builder_add_boolean_value(b, s3->force_path_style);
    if (g_hash_table_size(s3->metadata) > 0) {
        json_builder_set_member_name(b, "metadata");
        json_builder_begin_object(b);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, s3->metadata);
        while (g_hash_table_iter_next(&it, &k, &v))
            add(b, k, v);
        json_builder_end_object(b);
    }
    add(b, "tagging", s3->tagging);
    add(b, "contentDisposition", s3->content_disposition);
    json_builder_end_object(b);
}
