/* worker/upload-live: segments, playlists and images uploaded while recording. See
 * upload-live.h. */
#include "worker/upload-live.h"

#include "storage/spool.h"
#include "worker/log.h"
#include "worker/upload-priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    RrOutputKind kind;
    char *path;  /* NULL: the finish marker */
    char *text;  /* playlists: their text when reported */
    GTask *task; /* the finish marker's */
} Item;

struct RrLiveUpload {
    RrUpload *segments; /* may be NULL */
    RrUpload *images;   /* may be NULL */
    char *label;
    GThreadPool *pool;       /* one thread: items in order */
    gboolean segment_missed; /* pool thread only: a segment missed the primary store */
    GMutex lock;
    /* Under lock (written by the pool thread). */
    guint stored, failed;
    char *playlist_location, *live_playlist_location;
    GString *why;
};

static void item_free(Item *it)
{
    g_free(it->path);
    g_free(it->text);
    g_clear_object(&it->task);
    g_free(it);
}

static void note_failure(RrLiveUpload *l, const char *text)
{
    g_mutex_lock(&l->lock);
    l->failed++;
    if (l->why->len)
        g_string_append(l->why, "; ");
    g_string_append(l->why, text);
    g_mutex_unlock(&l->lock);
}

/* The spool label's suffix for a file of @kind (upload.h). */
static const char *label_suffix(RrOutputKind kind)
{
    switch (kind) {
    case RR_OUTPUT_PLAYLIST:
        return RR_UPLOAD_LABEL_PLAYLIST;
    case RR_OUTPUT_LIVE_PLAYLIST:
        return RR_UPLOAD_LABEL_LIVE_PLAYLIST;
    case RR_OUTPUT_IMAGE:
        return RR_UPLOAD_LABEL_IMAGE;
    default:
        return RR_UPLOAD_LABEL_SEGMENT;
    }
}

static void remove_local(const RrUpload *u, const char *path)
{
    if (!u->keep_local && g_unlink(path) != 0 && errno != ENOENT)
        g_warning("upload: cannot remove %s after its upload: %s", path, g_strerror(errno));
}

/* @local (a file, or a playlist's snapshot) stored as the key of @path. @must: a file no
 * store takes goes to the spool and fails the upload (else it is only logged: a playlist
 * that the next one replaces). Returns the object's location (transfer full) or NULL. */
static char *store(RrLiveUpload *l, RrUpload *u, const char *local, const char *path,
                   RrOutputKind kind, gboolean must, gboolean *primary_missed)
{
    g_autofree char *key = rr_upload_key_for(rr_upload_output_dir(u), path);
    RrUploadOutcome out = {0};
    g_autoptr(GError) e = NULL;
    g_autofree char *label = g_strconcat(l->label, label_suffix(kind), NULL);
    gboolean ok = rr_storage_upload_labelled(u->primary, u->backup, must ? u->spool_dir : NULL,
                                             local, key, NULL, label, &out, &e);
    char *location = NULL;
    *primary_missed = !ok || out.backup_used;
    if (ok) {
        g_debug("upload: %s stored at %s%s", path, out.result->location,
                out.backup_used ? " (backup storage)" : "");
        location = g_strdup(out.result->location);
        g_mutex_lock(&l->lock);
        l->stored++;
        g_mutex_unlock(&l->lock);
    } else {
        g_autofree char *msg = rr_log_redact(e->message);
        g_autofree char *text =
            out.spool_path
                ? g_strdup_printf("%s (the file waits in the spool: %s)", msg, out.spool_path)
                : g_strdup_printf("%s (the file stays at %s)", msg, path);
        g_warning("upload: %s", text);
        if (must)
            note_failure(l, text);
    }
    if (ok || out.spool_path)
        remove_local(u, local);
    rr_upload_outcome_clear(&out);
    return location;
}

/* A playlist as it was when reported: written beside it as ".NAME.upload", stored under
 * the playlist's key. */
static void store_playlist(RrLiveUpload *l, RrUpload *u, const Item *it)
{
    gboolean final = strstr(it->text, "#EXT-X-ENDLIST") != NULL;
    if (!final && l->segment_missed)
        return; /* it would list a segment the bucket does not have */
    g_autofree char *dir = g_path_get_dirname(it->path);
    g_autofree char *base = g_path_get_basename(it->path);
    g_autofree char *name = g_strdup_printf(".%s.upload", base);
    g_autofree char *snap = g_build_filename(dir, name, NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(snap, it->text, -1, &e)) {
        g_autofree char *text = g_strdup_printf("playlist %s: %s", it->path, e->message);
        note_failure(l, text);
        return;
    }
    gboolean missed = FALSE;
    g_autofree char *location = store(l, u, snap, it->path, it->kind, final, &missed);
    if (g_unlink(snap) != 0 && errno != ENOENT)
        g_warning("upload: cannot remove %s: %s", snap, g_strerror(errno));
    if (location == NULL)
        return;
    g_mutex_lock(&l->lock);
    char **slot =
        it->kind == RR_OUTPUT_PLAYLIST ? &l->playlist_location : &l->live_playlist_location;
    g_free(*slot);
    *slot = g_steal_pointer(&location);
    g_mutex_unlock(&l->lock);
    if (final)
        remove_local(u, it->path);
}

static void run_item(gpointer data, gpointer user_data)
{
    Item *it = data;
    RrLiveUpload *l = user_data;
    if (it->path == NULL) {
        g_task_return_boolean(it->task, TRUE);
        item_free(it);
        return;
    }
    RrUpload *u = it->kind == RR_OUTPUT_IMAGE ? l->images : l->segments;
    gboolean missed = FALSE;
    if (it->text) {
        store_playlist(l, u, it);
    } else {
        g_autofree char *location = store(l, u, it->path, it->path, it->kind, TRUE, &missed);
        if (missed && it->kind == RR_OUTPUT_SEGMENT)
            l->segment_missed = TRUE;
    }
    item_free(it);
}

RrLiveUpload *rr_live_upload_new(RrUpload *segments, RrUpload *images, const char *label)
{
    if (!segments && !images)
        return NULL;
    RrLiveUpload *l = g_new0(RrLiveUpload, 1);
    l->segments = segments;
    l->images = images;
    l->label = g_strdup(label);
    l->why = g_string_new(NULL);
    g_mutex_init(&l->lock);
    /* Not exclusive, at most one thread: the items run one at a time, in order. */
    l->pool = g_thread_pool_new(run_item, l, 1, FALSE, NULL);
    return l;
}

void rr_live_upload_free(RrLiveUpload *l)
{
    if (!l)
        return;
    g_thread_pool_free(l->pool, FALSE, TRUE); /* finishes the queue first */
    rr_upload_free(l->segments);
    rr_upload_free(l->images);
    g_free(l->label);
    g_free(l->playlist_location);
    g_free(l->live_playlist_location);
    g_string_free(l->why, TRUE);
    g_mutex_clear(&l->lock);
    g_free(l);
}

void rr_live_upload_add(RrLiveUpload *l, const char *path, RrOutputKind kind)
{
    gboolean image = kind == RR_OUTPUT_IMAGE;
    if (kind == RR_OUTPUT_FILE || (image && !l->images) || (!image && !l->segments))
        return;
    Item *it = g_new0(Item, 1);
    it->kind = kind;
    it->path = g_strdup(path);
    if (kind == RR_OUTPUT_PLAYLIST || kind == RR_OUTPUT_LIVE_PLAYLIST) {
        g_autoptr(GError) e = NULL;
        if (!g_file_get_contents(path, &it->text, NULL, &e)) {
            g_warning("upload: cannot read playlist %s: %s", path, e->message);
            item_free(it);
            return;
        }
    }
    g_thread_pool_push(l->pool, it, NULL);
}

void rr_live_upload_finish_async(RrLiveUpload *l, GAsyncReadyCallback callback, gpointer user_data)
{
    Item *it = g_new0(Item, 1);
    it->task = g_task_new(NULL, NULL, callback, user_data);
    g_task_set_source_tag(it->task, rr_live_upload_finish_async);
    g_thread_pool_push(l->pool, it, NULL);
}

void rr_live_upload_finish_finish(RrLiveUpload *l, GAsyncResult *result)
{
    (void)l;
    g_task_propagate_boolean(G_TASK(result), NULL);
}

void rr_live_upload_counts(RrLiveUpload *l, guint *stored, guint *failed)
{
    g_mutex_lock(&l->lock);
    if (stored)
        *stored = l->stored;
    if (failed)
        *failed = l->failed;
    g_mutex_unlock(&l->lock);
}

void rr_live_upload_apply(RrLiveUpload *l, RrEgressInfo *info)
{
    g_mutex_lock(&l->lock);
    for (guint i = 0; l->segments && i < info->segment_results->len; i++) {
        RrSegmentsResultInfo *s = g_ptr_array_index(info->segment_results, i);
        if (l->playlist_location) {
            g_free(s->playlist_location);
            s->playlist_location = g_strdup(l->playlist_location);
        }
        if (l->live_playlist_location && s->live_playlist_location) {
            g_free(s->live_playlist_location);
            s->live_playlist_location = g_strdup(l->live_playlist_location);
        }
    }
    g_autofree char *why = l->why->len ? g_strdup(l->why->str) : NULL;
    guint stored = l->stored;
    g_mutex_unlock(&l->lock);
    g_message("upload: %u segment/playlist/image upload(s) stored%s", stored,
              why ? ", some failed" : "");
    if (why)
        rr_upload_set_failed(info, why);
    info->updated_at = rr_egress_now_ns();
}
