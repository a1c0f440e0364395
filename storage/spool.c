/* storage/spool: primary -> backup -> spool, and the spool's retry. See spool.h. */
#include "storage/spool.h"

#include "storage/local.h"
#include "storage/spool-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

void rr_upload_outcome_clear(RrUploadOutcome *o)
{
    g_clear_pointer(&o->result, rr_store_result_free);
    g_clear_pointer(&o->spool_path, g_free);
    g_clear_pointer(&o->primary_error, g_free);
    o->backup_used = FALSE;
}

char *rr_spool_sidecar_json(const char *key, const char *content_type, gint64 size,
                            const char *destination, const char *source, const char *last_error,
                            const char *label)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, 1);
    json_builder_set_member_name(b, "key");
    json_builder_add_string_value(b, key);
    json_builder_set_member_name(b, "content_type");
    json_builder_add_string_value(b, content_type);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, size);
    json_builder_set_member_name(b, "destination");
    json_builder_add_string_value(b, destination);
    json_builder_set_member_name(b, "source");
    json_builder_add_string_value(b, source);
    json_builder_set_member_name(b, "created_at");
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *iso = g_date_time_format_iso8601(now);
    json_builder_add_string_value(b, iso);
    json_builder_set_member_name(b, "last_error");
    json_builder_add_string_value(b, last_error);
    if (label != NULL) {
        json_builder_set_member_name(b, "label");
        json_builder_add_string_value(b, label);
    }
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    return json_generator_to_data(gen, NULL);
}

static gboolean write_sidecar(const char *path, const char *key, const char *content_type,
                              gint64 size, const char *destination, const char *source,
                              const char *last_error, const char *label, GError **error)
{
    g_autofree char *text =
        rr_spool_sidecar_json(key, content_type, size, destination, source, last_error, label);
    /* g_file_set_contents: temporary name, fsync, rename. */
    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error)) {
        g_prefix_error(error, "spool sidecar: ");
        return FALSE;
    }
    return TRUE;
}

/* Copies @local_path into @spool_dir; (transfer full) the data path, or NULL. */
static char *spool_file(const char *spool_dir, RrStore *primary, const char *local_path,
                        const char *full_key, const char *content_type, const char *last_error,
                        const char *label, GError **error)
{
    g_autofree char *id = g_uuid_string_random();
    g_autofree char *data = g_strdup_printf("%s/%s.data", spool_dir, id);
    g_autofree char *json = g_strdup_printf("%s/%s.json", spool_dir, id);
    gint64 size = 0;
    if (!rr_storage_copy_durable(local_path, data, &size, error))
        return NULL;
    g_autofree char *dest = rr_store_describe(primary);
    g_autofree char *src = g_canonicalize_filename(local_path, NULL);
    if (!write_sidecar(json, full_key, content_type, size, dest, src, last_error, label, error)) {
        unlink(data);
        return NULL;
    }
    return g_steal_pointer(&data);
}

gboolean rr_storage_upload(RrStore *primary, RrStore *backup, const char *spool_dir,
                           const char *local_path, const char *key, const char *content_type,
                           RrUploadOutcome *out, GError **error)
{
    return rr_storage_upload_labelled(primary, backup, spool_dir, local_path, key, content_type,
                                      NULL, out, error);
}

gboolean rr_storage_upload_labelled(RrStore *primary, RrStore *backup, const char *spool_dir,
                                    const char *local_path, const char *key,
                                    const char *content_type, const char *label,
                                    RrUploadOutcome *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (content_type == NULL || *content_type == '\0')
        content_type = rr_storage_content_type_for(key && *key ? key : local_path);
    g_autoptr(GError) perr = NULL;
    out->result = rr_store_add_file(primary, local_path, key, content_type, &perr);
    if (out->result != NULL)
        return TRUE;
    out->primary_error = g_strdup(perr->message);
    g_warning("storage: the primary store (%s) failed: %s", primary->klass->name, perr->message);
    /* Bad keys are nobody's to store. */
    if (perr->domain == RR_STORAGE_ERROR && perr->code == RR_STORAGE_ERROR_CONFIG) {
        g_propagate_error(error, g_steal_pointer(&perr));
        return FALSE;
    }
    g_autoptr(GError) berr = NULL;
    if (backup != NULL) {
        out->result = rr_store_add_file(backup, local_path, key, content_type, &berr);
        if (out->result != NULL) {
            out->backup_used = TRUE;
            g_message("storage: the backup store (%s) has %s", backup->klass->name,
                      out->result->location);
            return TRUE;
        }
        g_warning("storage: the backup store (%s) failed too: %s", backup->klass->name,
                  berr->message);
    }
    g_autofree char *msg = berr != NULL
                               ? g_strdup_printf("%s; backup: %s", perr->message, berr->message)
                               : g_strdup(perr->message);
    if (spool_dir != NULL && *spool_dir != '\0') {
        g_autofree char *base = NULL;
        if (key == NULL || *key == '\0')
            key = base = g_path_get_basename(local_path);
        g_autofree char *full = rr_storage_key_join(primary->prefix, key, "key", NULL);
        g_autoptr(GError) serr = NULL;
        out->spool_path =
            full ? spool_file(spool_dir, primary, local_path, full, content_type, msg, label, &serr)
                 : NULL;
        if (out->spool_path != NULL) {
            g_warning("storage: no store took %s; it waits in the spool as %s", local_path,
                      out->spool_path);
        } else {
            g_set_error(error, perr->domain, perr->code, "%s; and spooling failed: %s", msg,
                        serr ? serr->message : "bad key");
            return FALSE;
        }
    }
    g_set_error_literal(error, perr->domain, perr->code, msg);
    return FALSE;
}

/* Reads a sidecar: (transfer full) key, content type, label and source, or FALSE. */
static gboolean read_sidecar(const char *path, char **key, char **content_type, char **label,
                             char **source, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_file(parser, path, error))
        return FALSE;
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    const char *k = o ? json_object_get_string_member_with_default(o, "key", NULL) : NULL;
    if (k == NULL || *k == '\0') {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE,
                    "%s: key: missing or not a string", path);
        return FALSE;
    }
    *key = g_strdup(k);
    *content_type = g_strdup(json_object_get_string_member_with_default(o, "content_type", ""));
    *label = g_strdup(json_object_get_string_member_with_default(o, "label", NULL));
    *source = g_strdup(json_object_get_string_member_with_default(o, "source", NULL));
    return TRUE;
}

void rr_spool_uploaded_free(RrSpoolUploaded *u)
{
    if (u == NULL)
        return;
    g_free(u->key);
    g_free(u->label);
    g_free(u->spool_path);
    rr_store_result_free(u->result);
    g_free(u);
}

gboolean rr_storage_spool_retry(const char *spool_dir, RrStore *primary, RrStore *backup,
                                guint *uploaded, guint *remaining, GPtrArray *results,
                                GError **error)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new();
    gboolean ok = rr_storage_spool_retry_full(spool_dir, primary, backup, uploaded, remaining,
                                              entries, error);
    for (guint i = 0; i < entries->len; i++) {
        RrSpoolUploaded *u = g_ptr_array_index(entries, i);
        if (results != NULL)
            g_ptr_array_add(results, g_steal_pointer(&u->result));
        rr_spool_uploaded_free(u);
    }
    return ok;
}

gboolean rr_storage_spool_retry_full(const char *spool_dir, RrStore *primary, RrStore *backup,
                                     guint *uploaded, guint *remaining, GPtrArray *uploaded_entries,
                                     GError **error)
{
    return rr_storage_spool_retry_match(spool_dir, primary, backup, NULL, NULL, uploaded, remaining,
                                        NULL, uploaded_entries, error);
}

gboolean rr_storage_spool_retry_match(const char *spool_dir, RrStore *primary, RrStore *backup,
                                      RrSpoolMatchFunc match, gpointer match_data, guint *uploaded,
                                      guint *remaining, guint *busy, GPtrArray *uploaded_entries,
                                      GError **error)
{
    guint up = 0, left = 0, held = 0;
    GError *first = NULL;
    g_autoptr(GDir) dir = g_dir_open(spool_dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_suffix(name, ".json") || name[0] == '.')
            continue;
        g_autofree char *id = g_strndup(name, strlen(name) - 5);
        g_autofree char *json = g_build_filename(spool_dir, name, NULL);
        g_autofree char *data = g_strdup_printf("%s/%s.data", spool_dir, id);
        g_autofree char *key = NULL, *ctype = NULL, *label = NULL, *source = NULL;
        GError *err = NULL;
        RrStoreResult *r = NULL;
        gboolean backup_used = FALSE;
        if (!read_sidecar(json, &key, &ctype, &label, &source, &err)) {
            /* kept: never delete what may be a recording */
        } else if (match != NULL && !match(label, match_data)) {
            continue;
        } else {
            gboolean in_use = FALSE;
            int lock = rr_spool_lock(json, &in_use);
            if (lock < 0 && in_use) {
                g_message("storage: spool entry %s is being uploaded by another process", id);
                held++;
                left++;
                continue;
            }
            if (lock < 0)
                continue; /* uploaded and removed meanwhile */
            if (!rr_spool_recover_data(data, source, &err)) {
                /* err says why */
            } else {
                r = rr_store_put(primary, data, key, ctype, &err);
                if (r == NULL && backup != NULL) {
                    g_warning("storage: spool %s: the primary failed: %s", id, err->message);
                    g_clear_error(&err);
                    r = rr_store_put(backup, data, key, ctype, &err);
                    backup_used = r != NULL;
                }
                if (r != NULL)
                    rr_spool_remove(data, json);
            }
            close(lock);
        }
        if (r == NULL) {
            g_warning("storage: spool entry %s stays: %s", id, err->message);
            left++;
            if (first == NULL)
                first = err;
            else
                g_error_free(err);
            continue;
        }
        g_message("storage: spooled %s uploaded to %s", key, r->location);
        up++;
        if (uploaded_entries != NULL) {
            RrSpoolUploaded *u = g_new0(RrSpoolUploaded, 1);
            u->key = g_steal_pointer(&key);
            u->label = g_steal_pointer(&label);
            u->spool_path = g_steal_pointer(&data);
            u->result = r;
            u->backup_used = backup_used;
            g_ptr_array_add(uploaded_entries, u);
        } else {
            rr_store_result_free(r);
        }
    }
    if (uploaded != NULL)
        *uploaded = up;
    if (remaining != NULL)
        *remaining = left;
    if (busy != NULL)
        *busy = held;
    if (first != NULL) {
        g_propagate_prefixed_error(error, first, "%u spooled file(s) not uploaded: ", left);
        return FALSE;
    }
    return TRUE;
}

guint rr_storage_spool_count_match(const char *spool_dir, RrSpoolMatchFunc match,
                                   gpointer match_data)
{
    guint n = 0;
    g_autoptr(GDir) dir = g_dir_open(spool_dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_suffix(name, ".json") || name[0] == '.')
            continue;
        g_autofree char *json = g_build_filename(spool_dir, name, NULL);
        g_autofree char *key = NULL, *ctype = NULL, *label = NULL, *source = NULL;
        if (read_sidecar(json, &key, &ctype, &label, &source, NULL) &&
            (match == NULL || match(label, match_data)))
            n++;
    }
    return n;
}
