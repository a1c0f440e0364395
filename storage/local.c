/* storage/local: durable copies into a directory. See local.h. */
#include "storage/local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    RrStore parent;
    char *root;
} RrLocalStore;

static gboolean io_error(GError **error, const char *path, const char *doing, int err)
{
    g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_IO, "%s: %s: %s", path, doing,
                g_strerror(err));
    return FALSE;
}

static gboolean fsync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_error(error, dir, "cannot open the directory", errno);
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    return rc == 0 || io_error(error, dir, "fsync of the directory failed", err);
}

static gboolean copy_fd(int in, int out, const char *src, const char *tmp, gint64 *copied,
                        GError **error)
{
    *copied = 0;
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 24, 0);
        if (n == 0)
            return TRUE;
        if (n > 0) {
            *copied += n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
            return io_error(error, tmp, "copy failed", errno);
        break; /* fall back to read/write */
    }
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            return TRUE;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(error, src, "read failed", errno);
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return io_error(error, tmp, "write failed", errno);
            }
            off += w;
        }
        *copied += n;
    }
}

gboolean rr_storage_copy_durable(const char *src, const char *dest, gint64 *size_out,
                                 GError **error)
{
    g_autofree char *dir = g_path_get_dirname(dest);
    g_autofree char *base = g_path_get_basename(dest);
    if (g_mkdir_with_parents(dir, 0755) != 0)
        return io_error(error, dir, "cannot create the directory", errno);
    if (g_file_test(dest, G_FILE_TEST_EXISTS)) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS,
                    "%s: exists already (never overwritten)", dest);
        return FALSE;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return io_error(error, src, "cannot open", errno);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX.tmp", dir, base);
    int out = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    if (out < 0) {
        int err = errno;
        close(in);
        return io_error(error, tmp, "cannot create the temporary file", err);
    }
    gint64 copied = 0;
    gboolean ok = copy_fd(in, out, src, tmp, &copied, error);
    close(in);
    if (ok && fsync(out) != 0)
        ok = io_error(error, tmp, "fsync failed", errno);
    if (close(out) != 0 && ok)
        ok = io_error(error, tmp, "close failed", errno);
    if (ok && renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST)
            g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_EXISTS,
                        "%s: exists already (never overwritten)", dest);
        else
            io_error(error, dest, "rename into place failed", errno);
        ok = FALSE;
    }
    if (!ok) {
        unlink(tmp);
        return FALSE;
    }
    if (!fsync_dir(dir, error))
        return FALSE;
    if (size_out != NULL)
        *size_out = copied;
    return TRUE;
}

static RrStoreResult *local_put(RrStore *store, const char *local_path, const char *key,
                                const char *content_type, GError **error)
{
    RrLocalStore *s = (RrLocalStore *)store;
    g_autofree char *dest = g_build_filename(s->root, key, NULL);
    gint64 size = 0;
    if (!rr_storage_copy_durable(local_path, dest, &size, error))
        return NULL;
    RrStoreResult *r = g_new0(RrStoreResult, 1);
    r->location = g_steal_pointer(&dest);
    r->size = size;
    return r;
}

static char *local_describe(RrStore *store)
{
    return g_strdup_printf("directory %s", ((RrLocalStore *)store)->root);
}

static void local_free(RrStore *store)
{
    RrLocalStore *s = (RrLocalStore *)store;
    g_free(s->root);
    g_free(s);
}

static const RrStoreClass local_class = {
    .name = "local",
    .put = local_put,
    .describe = local_describe,
    .free = local_free,
};

RrStore *rr_local_store_new(const char *root, GError **error)
{
    if (root == NULL || *root == '\0') {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_CONFIG, "local.root: missing");
        return NULL;
    }
    if (g_mkdir_with_parents(root, 0755) != 0) {
        io_error(error, root, "cannot create the directory", errno);
        return NULL;
    }
    RrLocalStore *s = g_new0(RrLocalStore, 1);
    s->parent.klass = &local_class;
    s->parent.prefix = g_strdup("");
    s->root = g_canonicalize_filename(root, NULL);
    return &s->parent;
}
