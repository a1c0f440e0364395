/* worker/upload-live: the files of a recording's segment and image outputs uploaded while
 * it runs, so that a player can follow it from the bucket.
 *
 * Every closed file the pipeline reports (pipeline/outputs.h) is queued, in order, for
 * one upload thread (a GThreadPool of one): a segment is uploaded as soon as it is
 * closed, then the playlist and the live playlist as they were right after it (their
 * text is taken when they are reported, so a playlist in the bucket never lists a
 * segment that is not there yet); an image as it is written. Each file goes through the
 * stores of its output (upload.h: its own "s3", else the worker config's storage.s3; the
 * backup store; the existing retry policy); a segment or image no store takes waits in
 * the spool like a finished file. Once a segment has missed the primary store the
 * intermediate playlists are no longer uploaded (they would list it); the final playlist
 * (the one with EXT-X-ENDLIST) is always uploaded, and spooled if need be. Local files are
 * removed after a confirmed upload (or once their spool copy is durable) unless
 * keep_local; a playlist, once its final version is stored.
 *
 * THREADS: new/add/finish/apply/free on the recorder's context thread; the uploads run on
 * the pool's thread. rr_live_upload_finish_async() calls back (on the thread-default main
 * context of its caller) once everything queued before it is done. Keys are the paths
 * relative to the output directory (rr_upload_key_for), so the playlists' relative
 * segment URIs hold in the bucket. No credential reaches a log or the info.
 */
#pragma once

#include "pipeline/outputs.h"
#include "worker/upload.h"

G_BEGIN_DECLS

typedef struct RrLiveUpload RrLiveUpload;

/* (transfer full) Uploads for @segments and @images (taken; either may be NULL: that
 * output's files stay local); NULL when both are NULL. @label: the egress id (spool
 * sidecars). */
RrLiveUpload *rr_live_upload_new(RrUpload *segments, RrUpload *images, const char *label);
/* Waits for the queued uploads, then frees. */
void rr_live_upload_free(RrLiveUpload *live);

/* Queues @path (just closed, of @kind). Files of an output without an upload are ignored. */
void rr_live_upload_add(RrLiveUpload *live, const char *path, RrOutputKind kind);

/* @callback runs once every file queued so far is uploaded (or spooled). */
void rr_live_upload_finish_async(RrLiveUpload *live, GAsyncReadyCallback callback,
                                 gpointer user_data);
void rr_live_upload_finish_finish(RrLiveUpload *live, GAsyncResult *result);

/* After the finish: the segments result's playlist locations become their object URLs,
 * and a file no store took makes @info FAILED ("upload failed: ..."), as for files. */
void rr_live_upload_apply(RrLiveUpload *live, RrEgressInfo *info);

/* Counts so far (any thread): files stored (primary or backup), and files not stored. */
void rr_live_upload_counts(RrLiveUpload *live, guint *stored, guint *failed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrLiveUpload, rr_live_upload_free)

G_END_DECLS
