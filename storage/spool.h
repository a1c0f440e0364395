/* storage/spool: a finished file's way to safety — primary store, then backup store,
 * then a local spool directory that a later run retries.
 *
 * rr_storage_upload() tries the primary (which retries by itself), then the backup (as
 * LiveKit's backup_storage_used), and when both fail copies the file into the spool
 * directory: SPOOL/ID.data plus a sidecar SPOOL/ID.json naming the destination
 * ({"version":1,"key":..., "content_type":..., "size":..., "destination":...,
 * "source":..., "created_at":..., "last_error":...}; no credentials: those come from the
 * configuration of the run that retries). rr_storage_spool_retry() uploads every spooled
 * file and removes the spool entry only after a confirmed upload. The caller's local
 * file is never removed here.
 *
 * Staging (rr_spool_stage): a recording whose upload must survive a crash is moved into
 * the spool BEFORE its upload starts and uploaded from there (rr_spool_entry_upload), so
 * a process killed mid-upload leaves it in the spool and never outside: the sidecar is
 * written first (with the local path as "source"), then the file is moved in (rename,
 * or a durable copy across file systems; with keep_local a hard link or a copy), both
 * fsync'd with their directories. A retry that finds a sidecar whose data is missing
 * moves its source in (the stager died between the two steps).
 *
 * Locks: whoever uploads an entry holds an flock on its sidecar (the stager from before
 * the sidecar is visible until rr_spool_entry_free or its exit; a retry while it works
 * on the entry). A retry skips entries locked by someone else, so an entry is never
 * uploaded by two processes at once and a crash releases the lock by itself. Keys come
 * from the sidecar, so a retry stores the object under the same key (an overwrite,
 * never a second name).
 *
 * Blocking; one thread at a time per store. Outcome strings are owned by the outcome.
 */
#pragma once

#include "storage/storage.h"

G_BEGIN_DECLS

typedef struct {
    RrStoreResult *result; /* where the file went (primary or backup), NULL if not stored */
    gboolean backup_used;  /* the primary failed, the backup has it */
    char *spool_path;      /* the spooled copy (SPOOL/ID.data) when no store took it */
    char *primary_error;   /* why the primary failed, NULL if it did not */
} RrUploadOutcome;

void rr_upload_outcome_clear(RrUploadOutcome *outcome);

/* Stores @local_path as @key (under each store's prefix). TRUE when a store has it;
 * FALSE with @error (naming each store's failure) otherwise, and then, when @spool_dir
 * is set and the copy worked, @out->spool_path says where the file waits. @backup and
 * @spool_dir may be NULL. */
gboolean rr_storage_upload(RrStore *primary, RrStore *backup, const char *spool_dir,
                           const char *local_path, const char *key, const char *content_type,
                           RrUploadOutcome *out, GError **error);

/* rr_storage_upload() that also keeps @label (may be NULL: none) in the spool sidecar
 * ("label"): what the file belongs to (the worker: the egress id), for the retry. */
gboolean rr_storage_upload_labelled(RrStore *primary, RrStore *backup, const char *spool_dir,
                                    const char *local_path, const char *key,
                                    const char *content_type, const char *label,
                                    RrUploadOutcome *out, GError **error);

/* One spool entry uploaded by rr_storage_spool_retry_full(). */
typedef struct {
    char *key;             /* the full key it was stored under */
    char *label;           /* the sidecar's label, NULL when none */
    char *spool_path;      /* SPOOL/ID.data (now removed) */
    RrStoreResult *result; /* where it went */
    gboolean backup_used;  /* the backup store took it */
} RrSpoolUploaded;

void rr_spool_uploaded_free(RrSpoolUploaded *u);

/* rr_storage_spool_retry() with an RrSpoolUploaded* per upload in @uploaded_entries
 * (may be NULL). */
gboolean rr_storage_spool_retry_full(const char *spool_dir, RrStore *primary, RrStore *backup,
                                     guint *uploaded, guint *remaining, GPtrArray *uploaded_entries,
                                     GError **error);

/* A spool entry being uploaded by the process that staged it (holding its lock). */
typedef struct {
    char *id;
    char *data_path; /* SPOOL/ID.data */
    char *json_path; /* SPOOL/ID.json */
    char *key;       /* the full key (the primary's prefix applied) */
    char *name;      /* the key without prefix (the backup applies its own) */
    char *source;    /* where the file was before (canonical) */
    char *content_type;
    int lock_fd; /* the sidecar, flock'd; -1 once released */
} RrSpoolEntry;

/* Moves (@keep_local: links or copies) the finished file @local_path into @spool_dir as a
 * new entry for @key (under @primary's prefix) with @label (may be NULL), durably, as
 * described above, and returns it locked. On failure nothing of the entry is left and
 * @local_path is where it was. */
RrSpoolEntry *rr_spool_stage(const char *spool_dir, RrStore *primary, const char *local_path,
                             const char *key, const char *content_type, const char *label,
                             gboolean keep_local, GError **error);

/* Uploads @entry to @primary, then @backup (may be NULL), under its key; on success the
 * entry is removed from the spool (then @out->result says where it went), otherwise it
 * stays (@out->spool_path is its data) and @error names each store's failure. */
gboolean rr_spool_entry_upload(RrSpoolEntry *entry, RrStore *primary, RrStore *backup,
                               RrUploadOutcome *out, GError **error);

/* Releases the lock (the entry stays in the spool if it was not uploaded). */
void rr_spool_entry_free(RrSpoolEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrSpoolEntry, rr_spool_entry_free)

/* Which entries a retry takes: TRUE for those whose sidecar @label (NULL when none) the
 * caller wants. */
typedef gboolean (*RrSpoolMatchFunc)(const char *label, gpointer user_data);

/* rr_storage_spool_retry_full() for the entries @match (NULL: all) accepts. @busy (may
 * be NULL) counts the entries skipped because another process holds them (they are in
 * @remaining too, but not a failure). */
gboolean rr_storage_spool_retry_match(const char *spool_dir, RrStore *primary, RrStore *backup,
                                      RrSpoolMatchFunc match, gpointer match_data, guint *uploaded,
                                      guint *remaining, guint *busy, GPtrArray *uploaded_entries,
                                      GError **error);

/* How many entries (readable sidecars) in @spool_dir @match (NULL: all) accepts. */
guint rr_storage_spool_count_match(const char *spool_dir, RrSpoolMatchFunc match,
                                   gpointer match_data);

/* Uploads every file waiting in @spool_dir to @primary (then @backup, may be NULL) under
 * its recorded key; an entry is removed only once stored. @uploaded/@remaining (may be
 * NULL) count entries; @results (may be NULL) gets an RrStoreResult* per upload. TRUE
 * when nothing remains; FALSE with the first failure otherwise (a missing @spool_dir is
 * an empty spool). */
gboolean rr_storage_spool_retry(const char *spool_dir, RrStore *primary, RrStore *backup,
                                guint *uploaded, guint *remaining, GPtrArray *results,
                                GError **error);

G_END_DECLS
