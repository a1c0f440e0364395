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

/* Uploads every file waiting in @spool_dir to @primary (then @backup, may be NULL) under
 * its recorded key; an entry is removed only once stored. @uploaded/@remaining (may be
 * NULL) count entries; @results (may be NULL) gets an RrStoreResult* per upload. TRUE
 * when nothing remains; FALSE with the first failure otherwise (a missing @spool_dir is
 * an empty spool). */
gboolean rr_storage_spool_retry(const char *spool_dir, RrStore *primary, RrStore *backup,
                                guint *uploaded, guint *remaining, GPtrArray *results,
                                GError **error);

G_END_DECLS
