/* pipeline/hls-playlist: the two HLS media playlists of a segmented recording — the full
 * playlist (EXT-X-PLAYLIST-TYPE:EVENT while recording, EXT-X-ENDLIST at the end) and the
 * live playlist (a sliding window of the newest segments, with EXT-X-MEDIA-SEQUENCE) —
 * written to disk after every segment.
 *
 * Plain data and file writes, no GStreamer: the segments output (pipeline/output-segments.c)
 * adds each segment as it closes. Segment URIs are written relative to the playlist's
 * directory. Each playlist is written to "NAME.tmp" and renamed over NAME, so a player
 * polling it never reads half a file. One owner, one thread (the composite's context).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrHlsPlaylist RrHlsPlaylist;

#define RR_HLS_LIVE_WINDOW 5 /* segments in the live playlist */

/* @path: the full playlist; @live_path: the live playlist, or NULL for none. @target_s:
 * the requested segment duration (EXT-X-TARGETDURATION grows when a segment is longer). */
RrHlsPlaylist *rr_hls_playlist_new(const char *path, const char *live_path, guint target_s);
void rr_hls_playlist_free(RrHlsPlaylist *p);

/* Adds a closed segment (@segment_path: where it is on disk) of @duration_s seconds and
 * rewrites both playlists. RR_PIPELINE_ERROR_IO when one cannot be written. */
gboolean rr_hls_playlist_add(RrHlsPlaylist *p, const char *segment_path, double duration_s,
                             GError **error);
/* Marks the recording ended (EXT-X-ENDLIST in both) and rewrites them. */
gboolean rr_hls_playlist_end(RrHlsPlaylist *p, GError **error);

guint rr_hls_playlist_get_count(const RrHlsPlaylist *p);
/* Sum of the segments' durations, seconds. */
double rr_hls_playlist_get_duration(const RrHlsPlaylist *p);

/* (transfer full) the text of the full (@live FALSE) or live playlist as it is now. */
char *rr_hls_playlist_render(const RrHlsPlaylist *p, gboolean live);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrHlsPlaylist, rr_hls_playlist_free)

G_END_DECLS
