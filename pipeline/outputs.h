/* pipeline/outputs: the extra outputs a composite recording can write besides (or instead
 * of) its file — HLS segments with their playlists (output-segments.c) and JPEG snapshots
 * (output-images.c) — each a GstBin that the composite links to its tees:
 *
 *   encoded H.264 tee → [segments bin: queue → h264parse (byte-stream, SPS/PPS at every
 *   encoded AAC tee   →  key frame) / queue → aacparse → splitmuxsink (mpegtsmux, split
 *                        at key frames every segment_duration)]
 *   raw video tee     → [images bin: leaky queue → videorate (1/interval fps) →
 *                        videoscale → jpegenc → multifilesink]
 *
 * Images start half a second into the recording (its first frames show little more than
 * the background, the tiles appearing with their first decoded frames).
 * Files are named PREFIX_00000.ts / PREFIX_00000.jpeg (INDEX) or PREFIX_<UTC time,
 * YYYYMMDDhhmmssmmm>.ts/.jpeg (TIMESTAMP). Every file, once closed, is reported through
 * an RrOutputClosedFunc (the hook for uploads): a segment, then the playlist and the live
 * playlist rewritten after it; an image as it is written.
 *
 * THREADS: new/free/handle_message/finish on the composite's context thread (the bus
 * watch); the bins' streaming threads only name files. The composite owns the outputs;
 * the bins are owned by the pipeline once added.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum {
    RR_FILE_SUFFIX_INDEX,     /* PREFIX_00000.EXT */
    RR_FILE_SUFFIX_TIMESTAMP, /* PREFIX_20240131120000123.EXT (UTC, milliseconds) */
} RrFileSuffix;

/* What a closed file is, for the uploader. */
typedef enum {
    RR_OUTPUT_FILE,          /* the recording's file (at the end) */
    RR_OUTPUT_SEGMENT,       /* an HLS segment */
    RR_OUTPUT_PLAYLIST,      /* the full playlist, rewritten after a segment */
    RR_OUTPUT_LIVE_PLAYLIST, /* the live playlist, rewritten after a segment */
    RR_OUTPUT_IMAGE,         /* a JPEG snapshot */
} RrOutputKind;

const char *rr_output_kind_to_string(RrOutputKind kind);

/* A file was closed (and is complete on disk). Context thread. */
typedef void (*RrOutputClosedFunc)(const char *path, RrOutputKind kind, gpointer user_data);

/* ---- segments ---- */

typedef struct {
    const char *prefix;             /* segment files: PREFIX_<suffix>.ts */
    const char *playlist_path;      /* full playlist */
    const char *live_playlist_path; /* live playlist (sliding window), NULL: none */
    guint segment_duration_s;       /* 1..3600 */
    RrFileSuffix suffix;
} RrSegmentsConfig;

typedef struct {
    const char *playlist_path;
    const char *live_playlist_path; /* NULL: none */
    guint segment_count;
    GstClockTime duration; /* sum of the segments' durations */
    guint64 size;          /* bytes of all segments */
} RrSegmentsResult;

typedef struct RrSegmentsOutput RrSegmentsOutput;

/* Validates @config (copied) and builds the bin (sink pads "video" and/or "audio";
 * @audio must be AAC). RR_PIPELINE_ERROR_* on a bad config or a missing element. */
RrSegmentsOutput *rr_segments_output_new(const RrSegmentsConfig *config, gboolean video,
                                         gboolean audio, RrOutputClosedFunc closed,
                                         gpointer user_data, GError **error);
void rr_segments_output_free(RrSegmentsOutput *s);
/* (transfer none) the bin, to add to the pipeline and link. */
GstElement *rr_segments_output_get_bin(RrSegmentsOutput *s);
/* Handles a bus message of the bin: a segment closed (playlists rewritten, callbacks), or
 * the end of the stream (*ended TRUE: the last segment is closed). Returns whether the
 * message was the bin's. A playlist that cannot be written is reported in @error. */
gboolean rr_segments_output_handle_message(RrSegmentsOutput *s, GstMessage *msg, gboolean *ended,
                                           GError **error);
/* Ends the playlists (EXT-X-ENDLIST) and fills @result (strings owned by @s). */
gboolean rr_segments_output_finish(RrSegmentsOutput *s, RrSegmentsResult *result, GError **error);

/* ---- images ---- */

typedef struct {
    const char *prefix;  /* PREFIX_<suffix>.jpeg */
    guint interval_s;    /* capture_interval, 1..86400 */
    guint width, height; /* even, 16..4096 */
    RrFileSuffix suffix;
} RrImagesConfig;

typedef struct {
    const char *prefix;
    guint count;
} RrImagesResult;

typedef struct RrImagesOutput RrImagesOutput;

/* Builds the bin (sink pad "sink": raw video). */
RrImagesOutput *rr_images_output_new(const RrImagesConfig *config, RrOutputClosedFunc closed,
                                     gpointer user_data, GError **error);
void rr_images_output_free(RrImagesOutput *o);
GstElement *rr_images_output_get_bin(RrImagesOutput *o);
/* As rr_segments_output_handle_message(): an image written, or the end of the stream. */
gboolean rr_images_output_handle_message(RrImagesOutput *o, GstMessage *msg, gboolean *ended,
                                         GError **error);
void rr_images_output_result(RrImagesOutput *o, RrImagesResult *result);

/* The suffix part of a file name for TIMESTAMP (UTC, @unix_usec). (transfer full) */
char *rr_output_timestamp_suffix(gint64 unix_usec);

G_END_DECLS
