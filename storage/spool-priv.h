/* storage/spool-priv: what spool.c (the retry) and spool-entry.c (staging a finished file
 * before its upload) share: the sidecar's text, the entry lock and the recovery of a
 * file whose move into the spool was cut short. Same thread rules as spool.h.
 */
#pragma once

#include "storage/spool.h"

G_BEGIN_DECLS

/* (transfer full) The sidecar JSON (spool.h describes its fields). */
char *rr_spool_sidecar_json(const char *key, const char *content_type, gint64 size,
                            const char *destination, const char *source, const char *last_error,
                            const char *label);

/* Locks the entry whose sidecar is @json_path (flock on the sidecar, never blocking):
 * the fd holding the lock, or -1 when another process holds it (*busy TRUE) or the
 * sidecar is gone (uploaded and removed meanwhile, *busy FALSE). */
int rr_spool_lock(const char *json_path, gboolean *busy);

/* The entry's data is missing but its source (the sidecar's "source") is a regular file:
 * the process staging it died between the sidecar and the move. Moves the source in
 * (rename, or a durable copy across file systems). TRUE when @data exists afterwards. */
gboolean rr_spool_recover_data(const char *data, const char *source, GError **error);

/* Removes a stored entry: its data, then its sidecar (the directory fsync'd). */
void rr_spool_remove(const char *data, const char *json);

G_END_DECLS
