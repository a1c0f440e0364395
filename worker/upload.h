/* worker/upload: a finished recording's files (and its manifest) to S3, as `roomrec
 * record` (alone or as a worker's child) ends.
 *
 * Where: the file output's own "s3" (job.h) first, else the worker config's storage.s3
 * (with storage.prefix); the config's backup.s3 is the backup store; when every store
 * fails, the file waits in the spool directory (config backup_storage, else
 * OUTPUT_DIR/.roomrec-spool), which the worker retries when it starts
 * (rr_upload_spool_retry). Keys are the output paths relative to the output directory;
 * the manifest (unless disable_manifest) is KEY.json beside the file.
 *
 * rr_upload_run_async() runs the blocking uploads (libcurl) on a GTask thread, so the
 * caller's main loop stays live; it owns the RrEgressInfo it is given until the callback,
 * then the info holds the outcome: every file result's location is its object URL (or
 * the backup's location, backupStorageUsed set) and its size the stored size; the local
 * file is removed after a confirmed upload (kept with keep_local). A file no store took
 * makes the status FAILED, "upload failed: REASON", and is listed at its spool copy
 * (spoolPath) — the local file is removed only once that copy is durable — or, when
 * even the spool failed, at its local path. The spool sidecar carries the egress id so
 * that the run that uploads it can update the status. No credential reaches a log, an
 * error or the info.
 */
#pragma once

#include "storage/spool.h"
#include "worker/config.h"
#include "worker/egress-info.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct RrUpload RrUpload;

/* Which output of the job the stores are for: its own "s3" comes first. */
typedef enum {
    RR_UPLOAD_FILE,     /* the file output (job->s3; the manifest) */
    RR_UPLOAD_SEGMENTS, /* the segment output (job->segments->s3; upload-live.h) */
    RR_UPLOAD_IMAGES,   /* the image output (job->images->s3; upload-live.h) */
} RrUploadOutput;

typedef struct {
    const RrJobSpec *job;         /* (borrowed) its output's s3, disable_manifest */
    RrUploadOutput output;        /* which output (RR_UPLOAD_FILE when not set) */
    const RrWorkerConfig *config; /* (borrowed, may be NULL) storage, backup, backup_storage */
    const char *output_dir;       /* keys are relative to it; NULL: the current directory */
    const char *spool_dir;        /* overrides the config's backup_storage */
    gboolean keep_local;          /* keep the local files after a confirmed upload */
} RrUploadConfig;

/* (transfer full) The stores for @config, or NULL: with @error set when a store's
 * settings are bad (naming the field), without when nothing is to be uploaded. Registers
 * the job's S3 secrets with the log redactor. Everything needed is copied. */
RrUpload *rr_upload_new(const RrUploadConfig *config, GError **error);
void rr_upload_free(RrUpload *upload);

/* Before the upload: moves @info's finished local files into the spool (each with a
 * sidecar naming its key and the egress id, durably; storage/spool.h, Staging) and points
 * their file results there (location and spoolPath), so that a process killed during the
 * upload leaves them in the spool, where the worker taking the job over (or any later
 * spool retry) finds them. The entries stay locked by @upload until it is freed or the
 * process ends. A file that cannot be staged is uploaded from where it is, as before.
 * Blocking (a rename; a copy across file systems). TRUE when something was staged. */
gboolean rr_upload_stage(RrUpload *upload, RrEgressInfo *info);

/* Blocking: moves the finished file @path into the spool as an entry of @egress_id (its
 * key relative to the output directory), unlocked at once; (transfer full) the entry's
 * data path, or NULL with @error (the file is where it was). */
char *rr_upload_stage_file(RrUpload *upload, const char *path, const char *egress_id,
                           GError **error);

/* Uploads @info's files (taken: owned by the upload until @callback, which gets it back
 * from rr_upload_run_finish). @callback runs on the thread-default main context. */
void rr_upload_run_async(RrUpload *upload, RrEgressInfo *info, GAsyncReadyCallback callback,
                         gpointer user_data);
/* (transfer full) the info with the outcome. */
RrEgressInfo *rr_upload_run_finish(RrUpload *upload, GAsyncResult *result);

/* (transfer full) The key of @path: relative to @base_dir when inside it, else its base
 * name (each store adds its prefix). Pure. */
char *rr_upload_key_for(const char *base_dir, const char *path);

/* (transfer full) The spool directory for @config and @output_dir (NULL: cwd). */
char *rr_upload_spool_dir(const RrWorkerConfig *config, const char *output_dir);

/* (transfer full) An S3 store from a config block (@what names it in errors: "storage.s3"),
 * with @prefix. */
RrStore *rr_upload_store_from_config(const RrConfigS3 *s3, const char *prefix, const char *what,
                                     GError **error);

/* (transfer full) The storage keys of @config (storage.prefix, storage.s3, backup,
 * backup_storage = the spool for @output_dir) as a JSON object that
 * rr_worker_config_load_data() reads back — what the worker gives its children in
 * ROOMREC_STORAGE (it holds secrets: an environment value, never an argument). NULL when
 * @config has no storage.s3. */
char *rr_upload_config_to_json(const RrWorkerConfig *config, const char *output_dir);

/* Blocking: uploads what waits in the spool of @config (storage.s3, then backup.s3);
 * @uploaded gets an RrSpoolUploaded* per file stored. FALSE with @error when something
 * stays (or no store is configured while files wait). */
gboolean rr_upload_spool_retry(const RrWorkerConfig *config, const char *output_dir,
                               GPtrArray *uploaded, guint *remaining, GError **error);

/* Whether a spool entry's @label (NULL: none) belongs to @egress_id (a char *): its file
 * or any of its labelled entries (manifest, segments, images, playlists). */
gboolean rr_upload_label_is_of(const char *label, gpointer egress_id);

/* Blocking: uploads the spool entries of @egress_id with @upload's stores (the job's own
 * s3, else the config's) — the files of a recording whose process died during their
 * upload. @uploaded gets an RrSpoolUploaded* per file stored; @busy counts the entries
 * another process is uploading right now (skipped). FALSE with @error when one failed. */
gboolean rr_upload_spooled_of(RrUpload *upload, const char *egress_id, GPtrArray *uploaded,
                              guint *remaining, guint *busy, GError **error);

/* How many finished files of @egress_id (and manifests) wait in @spool_dir (their
 * sidecars); segments, images and playlists, spooled while recording, do not count. */
guint rr_upload_spool_count_of(const char *spool_dir, const char *egress_id);

/* (transfer none) The spool directory of @upload. */
const char *rr_upload_get_spool_dir(RrUpload *upload);

/* Spool labels: EGRESS_ID, or EGRESS_ID + one of these (what the file is). */
#define RR_UPLOAD_LABEL_SEGMENT       "#segment"
#define RR_UPLOAD_LABEL_IMAGE         "#image"
#define RR_UPLOAD_LABEL_PLAYLIST      "#playlist"
#define RR_UPLOAD_LABEL_LIVE_PLAYLIST "#live-playlist"

/* Rewrites an EgressInfo JSON object after a spool entry was uploaded: the file result
 * whose spoolPath is @u->spool_path gets the object's location (a "#manifest" label:
 * manifestLocation; "#playlist"/"#live-playlist": the segments result's playlist
 * locations); when no file waits any more (for a segment, image or playlist: when
 * @spool_remaining, the entries still in the spool, is 0), a FAILED status that only
 * failed for the upload becomes COMPLETE with details saying so. TRUE when @info
 * changed. */
gboolean rr_upload_apply_spooled(JsonObject *info, const RrSpoolUploaded *u, guint spool_remaining);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrUpload, rr_upload_free)

G_END_DECLS
