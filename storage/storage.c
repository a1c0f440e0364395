/* storage/storage: the RrStore wrappers and key naming. See storage.h. */
#include "storage/storage.h"

#include <string.h>

gboolean rr_store_begin(RrStore *store, const char *prefix, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    char *norm = g_strdup("");
    if (prefix != NULL && *prefix != '\0') {
        g_free(norm);
        norm = rr_storage_key_join(prefix, NULL, "prefix", error);
        if (norm == NULL)
            return FALSE;
    }
    g_free(store->prefix);
    store->prefix = norm;
    return TRUE;
}

RrStoreResult *rr_store_put(RrStore *store, const char *local_path, const char *full_key,
                            const char *content_type, GError **error)
{
    g_return_val_if_fail(store != NULL && local_path != NULL && full_key != NULL, NULL);
    if (content_type == NULL || *content_type == '\0')
        content_type = rr_storage_content_type_for(full_key);
    return store->klass->put(store, local_path, full_key, content_type, error);
}

RrStoreResult *rr_store_add_file(RrStore *store, const char *local_path, const char *key,
                                 const char *content_type, GError **error)
{
    g_return_val_if_fail(store != NULL && local_path != NULL, NULL);
    g_autofree char *base = NULL;
    if (key == NULL || *key == '\0')
        key = base = g_path_get_basename(local_path);
    g_autofree char *full = rr_storage_key_join(store->prefix, key, "key", error);
    if (full == NULL)
        return NULL;
    return rr_store_put(store, local_path, full, content_type, error);
}

gboolean rr_store_finish(RrStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    return store->klass->finish == NULL || store->klass->finish(store, error);
}

char *rr_store_describe(RrStore *store)
{
    g_return_val_if_fail(store != NULL, NULL);
    return store->klass->describe(store);
}

void rr_store_free(RrStore *store)
{
    if (store == NULL)
        return;
    g_free(store->prefix);
    store->klass->free(store);
}

void rr_store_result_free(RrStoreResult *result)
{
    if (result == NULL)
        return;
    g_free(result->location);
    g_free(result->etag);
    g_free(result);
}

/* Appends the segments of @part to @out, checking each. */
static gboolean append_segments(GString *out, const char *part, const char *field, GError **error)
{
    if (part == NULL)
        return TRUE;
    g_auto(GStrv) segs = g_strsplit(part, "/", -1);
    for (char **s = segs; *s != NULL; s++) {
        if (**s == '\0')
            continue;
        if (strcmp(*s, ".") == 0 || strcmp(*s, "..") == 0) {
            g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG,
                        "%s: a \"%s\" path segment is not allowed in an object key", field, *s);
            return FALSE;
        }
        for (const char *c = *s; *c != '\0'; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG,
                            "%s: control character 0x%02x in an object key", field,
                            (unsigned char)*c);
                return FALSE;
            }
        }
        if (out->len > 0)
            g_string_append_c(out, '/');
        g_string_append(out, *s);
    }
    return TRUE;
}

char *rr_storage_key_join(const char *prefix, const char *name, const char *field, GError **error)
{
    if (field == NULL)
        field = "key";
    g_autoptr(GString) out = g_string_new(NULL);
    if (!append_segments(out, prefix, field, error) || !append_segments(out, name, field, error))
        return NULL;
    if (out->len == 0) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG, "%s: the object key is empty",
                    field);
        return NULL;
    }
    if (out->len > 1024) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG,
                    "%s: the object key is %zu bytes, more than S3's 1024", field, out->len);
        return NULL;
    }
    if (!g_utf8_validate(out->str, out->len, NULL)) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG,
                    "%s: the object key is not valid UTF-8", field);
        return NULL;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *rr_storage_key_uri_encode(const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    GString *out = g_string_sized_new(strlen(key) + 8);
    for (const unsigned char *c = (const unsigned char *)key; *c != '\0'; c++) {
        if (g_ascii_isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~' || *c == '/') {
            g_string_append_c(out, (char)*c);
        } else {
            g_string_append_c(out, '%');
            g_string_append_c(out, hex[*c >> 4]);
            g_string_append_c(out, hex[*c & 15]);
        }
    }
    return g_string_free(out, FALSE);
}

const char *rr_storage_content_type_for(const char *filename)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".mp4", "video/mp4"},
        {".m4a", "audio/mp4"},
        {".webm", "video/webm"},
        {".mkv", "video/x-matroska"},
        {".ogg", "audio/ogg"},
        {".ts", "video/mp2t"},
        {".m3u8", "application/x-mpegurl"},
        {".json", "application/json"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".png", "image/png"},
        {".txt", "text/plain"},
    };
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
            if (g_ascii_strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    }
    return "application/octet-stream";
}
