/* pipeline/hls-playlist: see hls-playlist.h. */
#include "pipeline/hls-playlist.h"
#include "pipeline/pipeline-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct {
    char *uri; /* relative to the playlist's directory */
    double duration;
} Segment;

struct RrHlsPlaylist {
    char *path;
    char *live_path;
    char *dir;
    guint target;
    GArray *segments; /* Segment */
    double total;
    gboolean ended;
};

static void segment_clear(gpointer data)
{
    g_free(((Segment *)data)->uri);
}

RrHlsPlaylist *rr_hls_playlist_new(const char *path, const char *live_path, guint target_s)
{
    RrHlsPlaylist *p = g_new0(RrHlsPlaylist, 1);
    p->path = g_strdup(path);
    p->live_path = g_strdup(live_path);
    p->dir = g_path_get_dirname(path);
    p->target = MAX(target_s, 1u);
    p->segments = g_array_new(FALSE, TRUE, sizeof(Segment));
    g_array_set_clear_func(p->segments, segment_clear);
    return p;
}

void rr_hls_playlist_free(RrHlsPlaylist *p)
{
    if (p == NULL)
        return;
    g_array_unref(p->segments);
    g_free(p->path);
    g_free(p->live_path);
    g_free(p->dir);
    g_free(p);
}

/* @path relative to @dir when inside it, else as it is. */
static char *relative_uri(const char *dir, const char *path)
{
    gsize n = strlen(dir);
    if (strncmp(path, dir, n) == 0 && path[n] == '/')
        return g_strdup(path + n + 1);
    return g_strdup(path);
}

char *rr_hls_playlist_render(const RrHlsPlaylist *p, gboolean live)
{
    guint first = 0, n = p->segments->len;
    if (live && n > RR_HLS_LIVE_WINDOW)
        first = n - RR_HLS_LIVE_WINDOW;
    guint target = p->target;
    for (guint i = first; i < n; i++) {
        double d = g_array_index(p->segments, Segment, i).duration;
        target = MAX(target, (guint)lround(d)); /* RFC 8216: rounded duration <= target */
    }
    GString *s = g_string_new("#EXTM3U\n#EXT-X-VERSION:3\n");
    if (!live)
        g_string_append(s, "#EXT-X-PLAYLIST-TYPE:EVENT\n");
    g_string_append_printf(s, "#EXT-X-TARGETDURATION:%u\n#EXT-X-MEDIA-SEQUENCE:%u\n", target,
                           first);
    for (guint i = first; i < n; i++) {
        const Segment *seg = &g_array_index(p->segments, Segment, i);
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(num, sizeof num, "%.3f", seg->duration);
        g_string_append_printf(s, "#EXTINF:%s,\n%s\n", num, seg->uri);
    }
    if (p->ended)
        g_string_append(s, "#EXT-X-ENDLIST\n");
    return g_string_free(s, FALSE);
}

static gboolean write_atomic(const char *path, const char *text, GError **error)
{
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents_full(tmp, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &e)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO, "cannot write playlist %s: %s",
                    path, e->message);
        return FALSE;
    }
    if (g_rename(tmp, path) != 0) {
        int err = errno;
        g_unlink(tmp);
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO, "cannot rename %s to %s: %s",
                    tmp, path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

static gboolean write_both(RrHlsPlaylist *p, GError **error)
{
    g_autofree char *full = rr_hls_playlist_render(p, FALSE);
    if (!write_atomic(p->path, full, error))
        return FALSE;
    if (p->live_path == NULL)
        return TRUE;
    g_autofree char *live = rr_hls_playlist_render(p, TRUE);
    return write_atomic(p->live_path, live, error);
}

gboolean rr_hls_playlist_add(RrHlsPlaylist *p, const char *segment_path, double duration_s,
                             GError **error)
{
    Segment seg = {relative_uri(p->dir, segment_path), MAX(duration_s, 0.0)};
    g_array_append_val(p->segments, seg);
    p->total += seg.duration;
    return write_both(p, error);
}

gboolean rr_hls_playlist_end(RrHlsPlaylist *p, GError **error)
{
    p->ended = TRUE;
    return write_both(p, error);
}

guint rr_hls_playlist_get_count(const RrHlsPlaylist *p)
{
    return p->segments->len;
}

double rr_hls_playlist_get_duration(const RrHlsPlaylist *p)
{
    return p->total;
}
