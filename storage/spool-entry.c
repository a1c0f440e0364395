/* storage/spool-entry: a finished file staged in the spool before its upload, the entry
 * lock and the recovery of a cut-short move. See spool.h (Staging, Locks).
 */
#include "storage/local.h"
#include "storage/spool-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean io_error(GError **error, const char *path, const char *what, int err)
{
    g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO, "%s: %s: %s", path, what,
                g_strerror(err));
    return FALSE;
}

static gboolean fsync_path(const char *path, int flags, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return io_error(error, path, "cannot open", errno);
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    return rc == 0 || io_error(error, path, "fsync failed", err);
}

static gboolean fsync_parent(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    return fsync_path(dir, O_DIRECTORY, error);
}

int rr_spool_lock(const char *json_path, gboolean *busy)
{
    *busy = FALSE;
    int fd = open(json_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        *busy = errno == EWOULDBLOCK;
        close(fd);
        return -1;
    }
    /* The holder may have removed the entry before we got the lock. */
    struct stat held, now;
    if (fstat(fd, &held) != 0 || stat(json_path, &now) != 0 || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev) {
        close(fd);
        return -1;
    }
    return fd;
}

/* @src into @dest: renamed (or, across file systems or with @keep, hard-linked / copied
 * durably); the source is gone afterwards unless @keep. */
static gboolean move_in(const char *src, const char *dest, gboolean keep, GError **error)
{
    if (keep ? link(src, dest) == 0 : rename(src, dest) == 0) {
        if (!fsync_path(dest, 0, error))
            return FALSE;
    } else if (errno == EXDEV || (keep && (errno == EPERM || errno == EMLINK))) {
        if (!rr_storage_copy_durable(src, dest, NULL, error))
            return FALSE;
        if (!keep && g_unlink(src) != 0)
            g_warning("storage: %s copied into the spool but not removed: %s", src,
                      g_strerror(errno));
    } else {
        return io_error(error, dest,
                        keep ? "cannot link into the spool"
                             : "cannot move into "
                               "the spool",
                        errno);
    }
    return fsync_parent(dest, error) && (keep || fsync_parent(src, error));
}

gboolean rr_spool_recover_data(const char *data, const char *source, GError **error)
{
    if (g_file_test(data, G_FILE_TEST_IS_REGULAR))
        return TRUE;
    if (source == NULL || !g_file_test(source, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO,
                    "%s: missing (and its source %s is not there)", data,
                    source ? source : "(none)");
        return FALSE;
    }
    g_message("storage: %s was being staged when its process ended; moving it into the spool",
              source);
    if (!move_in(source, data, FALSE, error))
        return g_file_test(data, G_FILE_TEST_IS_REGULAR);
    return TRUE;
}

void rr_spool_remove(const char *data, const char *json)
{
    if (g_unlink(data) != 0 && errno != ENOENT)
        g_warning("storage: %s uploaded but not removed: %s", data, g_strerror(errno));
    if (g_unlink(json) != 0 && errno != ENOENT)
        g_warning("storage: %s uploaded but not removed: %s", json, g_strerror(errno));
    g_autoptr(GError) e = NULL;
    if (!fsync_parent(json, &e))
        g_warning("storage: %s", e->message);
}

void rr_spool_entry_free(RrSpoolEntry *e)
{
    if (e == NULL)
        return;
    if (e->lock_fd >= 0)
        close(e->lock_fd);
    g_free(e->id);
    g_free(e->data_path);
    g_free(e->json_path);
    g_free(e->key);
    g_free(e->name);
    g_free(e->source);
    g_free(e->content_type);
    g_free(e);
}

/* The sidecar under a temporary name, locked, then renamed into place: the lock is held
 * from the moment the entry is visible. (transfer full) the lock fd, or -1. */
static int write_locked_sidecar(const char *json, const char *text, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(json);
    g_autofree char *base = g_path_get_basename(json);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX.tmp", dir, base);
    int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) {
        io_error(error, tmp, "cannot create the spool sidecar", errno);
        return -1;
    }
    gsize n = strlen(text), done = 0;
    gboolean ok = flock(fd, LOCK_EX | LOCK_NB) == 0 || io_error(error, tmp, "cannot lock", errno);
    while (ok && done < n) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            ok = io_error(error, tmp, "write failed", errno);
        else
            done += (gsize)w;
    }
    if (ok && fsync(fd) != 0)
        ok = io_error(error, tmp, "fsync failed", errno);
    if (ok && rename(tmp, json) != 0)
        ok = io_error(error, json, "cannot rename into place", errno);
    if (!ok) {
        g_unlink(tmp);
        close(fd);
        return -1;
    }
    if (!fsync_path(dir, O_DIRECTORY, error)) {
        g_unlink(json);
        close(fd);
        return -1;
    }
    return fd;
}

RrSpoolEntry *rr_spool_stage(const char *spool_dir, RrStore *primary, const char *local_path,
                             const char *key, const char *content_type, const char *label,
                             gboolean keep_local, GError **error)
{
    if (content_type == NULL || *content_type == '\0')
        content_type = rr_storage_content_type_for(key && *key ? key : local_path);
    g_autofree char *base = NULL;
    if (key == NULL || *key == '\0')
        key = base = g_path_get_basename(local_path);
    g_autofree char *full = rr_storage_key_join(primary->prefix, key, "key", error);
    if (full == NULL)
        return NULL;
    GStatBuf st;
    if (g_stat(local_path, &st) != 0) {
        io_error(error, local_path, "cannot stat", errno);
        return NULL;
    }
    if (g_mkdir_with_parents(spool_dir, 0700) != 0) {
        io_error(error, spool_dir, "cannot create the spool directory", errno);
        return NULL;
    }
    g_autoptr(RrSpoolEntry) e = g_new0(RrSpoolEntry, 1);
    e->lock_fd = -1;
    e->id = g_uuid_string_random();
    e->data_path = g_strdup_printf("%s/%s.data", spool_dir, e->id);
    e->json_path = g_strdup_printf("%s/%s.json", spool_dir, e->id);
    e->key = g_steal_pointer(&full);
    e->name = g_strdup(key);
    e->source = g_canonicalize_filename(local_path, NULL);
    e->content_type = g_strdup(content_type);
    g_autofree char *dest = rr_store_describe(primary);
    const char *src = e->source;
    g_autofree char *text =
        rr_spool_sidecar_json(e->key, content_type, st.st_size, dest, src, "", label);
    e->lock_fd = write_locked_sidecar(e->json_path, text, error);
    if (e->lock_fd < 0) {
        g_prefix_error(error, "spool sidecar: ");
        return NULL;
    }
    if (!move_in(src, e->data_path, keep_local, error)) {
        /* Nothing of the entry stays; the file is where it was (or, if the move itself
         * happened and only an fsync failed, in the spool: then the entry stays). */
        if (!g_file_test(e->data_path, G_FILE_TEST_EXISTS))
            g_unlink(e->json_path);
        return NULL;
    }
    return g_steal_pointer(&e);
}

gboolean rr_spool_entry_upload(RrSpoolEntry *e, RrStore *primary, RrStore *backup,
                               RrUploadOutcome *out, GError **error)
{
    memset(out, 0, sizeof *out);
    g_autoptr(GError) perr = NULL;
    out->result = rr_store_put(primary, e->data_path, e->key, e->content_type, &perr);
    g_autoptr(GError) berr = NULL;
    if (out->result == NULL) {
        out->primary_error = g_strdup(perr->message);
        g_warning("storage: the primary store (%s) failed: %s", primary->klass->name,
                  perr->message);
        if (backup != NULL) {
            out->result = rr_store_add_file(backup, e->data_path, e->name, e->content_type, &berr);
            out->backup_used = out->result != NULL;
            if (out->result == NULL)
                g_warning("storage: the backup store (%s) failed too: %s", backup->klass->name,
                          berr->message);
        }
    }
    if (out->result != NULL) {
        rr_spool_remove(e->data_path, e->json_path);
        return TRUE;
    }
    out->spool_path = g_strdup(e->data_path);
    if (berr != NULL)
        g_set_error(error, perr->domain, perr->code, "%s; backup: %s", perr->message,
                    berr->message);
    else
        g_set_error_literal(error, perr->domain, perr->code, perr->message);
    return FALSE;
}
