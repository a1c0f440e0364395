/* storage/local: the local-directory back end of RrStore, and the durable copy it and
 * the spool use.
 *
 * A file is stored as ROOT/KEY: copied to a temporary name beside the destination
 * (".NAME.XXXXXX.tmp"), fsync'd, renamed into place atomically without ever replacing
 * an existing file (renameat2 RENAME_NOREPLACE: a second file with the same key is an
 * RR_STORAGE_ERROR_EXISTS error), and the directory fsync'd. Readers never see a partial
 * file under the final name; the source is left as it is. One thread at a time.
 */
#pragma once

#include "storage/storage.h"

G_BEGIN_DECLS

/* (transfer full) A store writing under @root (created if missing). */
RrStore *rr_local_store_new(const char *root, GError **error);

/* Copies @src to @dest as described above (parents of @dest created); @size_out (may be
 * NULL) gets the bytes copied. Fails with EXISTS when @dest exists. */
gboolean rr_storage_copy_durable(const char *src, const char *dest, gint64 *size_out,
                                 GError **error);

G_END_DECLS
