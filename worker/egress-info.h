/* worker/egress-info: the status of one recording, as LiveKit's EgressInfo.
 *
 * RrEgressInfo is plain data the recorder keeps up to date (status, times, error, file
 * results); rr_egress_info_to_json() writes it in protobuf-JSON style — lowerCamelCase
 * names, enum names ("EGRESS_COMPLETE"), int64 values as strings, times in unix
 * nanoseconds — with the request echoed under "roomComposite" / "trackComposite" /
 * "participant" / "track"; uploads add backupStorageUsed, manifestLocation and, for a
 * file waiting in the spool, the file result's spoolPath. Not thread-safe: one owner (the
 * recorder's context).
 */
#pragma once

#include "worker/job.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* LiveKit EgressStatus values. */
typedef enum {
    RR_EGRESS_STARTING = 0,
    RR_EGRESS_ACTIVE = 1,
    RR_EGRESS_ENDING = 2,
    RR_EGRESS_COMPLETE = 3,
    RR_EGRESS_FAILED = 4,
    RR_EGRESS_ABORTED = 5,
    RR_EGRESS_LIMIT_REACHED = 6,
} RrEgressStatus;

/* "EGRESS_STARTING", ... */
const char *rr_egress_status_to_string(RrEgressStatus status);
/* Whether @status is final (COMPLETE, FAILED, ABORTED, LIMIT_REACHED). */
gboolean rr_egress_status_is_final(RrEgressStatus status);

typedef struct {
    char *filename;              /* base name */
    char *location;              /* full path */
    gint64 started_at, ended_at; /* unix ns */
    gint64 duration;             /* ns */
    gint64 size;                 /* bytes */
    char *spool_path;            /* not uploaded yet: the copy waiting in the spool */
} RrFileResult;

/* LiveKit SegmentsInfo. */
typedef struct {
    char *playlist_name, *playlist_location;           /* base name, full path */
    char *live_playlist_name, *live_playlist_location; /* NULL: none */
    gint64 duration;                                   /* ns */
    gint64 size;                                       /* bytes */
    gint64 segment_count;
    gint64 started_at, ended_at; /* unix ns */
} RrSegmentsResultInfo;

/* LiveKit ImagesInfo. */
typedef struct {
    char *filename_prefix;
    gint64 image_count;
    gint64 started_at, ended_at; /* unix ns */
} RrImagesResultInfo;

typedef struct {
    char *egress_id;
    char *room_id;
    char *room_name;
    RrEgressStatus status;
    gint64 started_at, ended_at, updated_at; /* unix ns, 0: not yet */
    char *error;                             /* NULL: none */
    int error_code;                          /* 0: none */
    char *details;                           /* NULL: none */
    GPtrArray *file_results;                 /* RrFileResult* */
    gboolean backup_storage_used;            /* the backup store has the files */
    char *manifest_location;                 /* NULL: no manifest uploaded */
    GPtrArray *segment_results;              /* RrSegmentsResultInfo* */
    GPtrArray *image_results;                /* RrImagesResultInfo* */
    const RrJobSpec *job;                    /* (borrowed, may be NULL) for the echo */
} RrEgressInfo;

RrEgressInfo *rr_egress_info_new(const char *egress_id, const RrJobSpec *job);
void rr_egress_info_free(RrEgressInfo *info);

/* Sets the status and updated_at (now). */
void rr_egress_info_set_status(RrEgressInfo *info, RrEgressStatus status);
/* Sets error (and its code and details; NULL keeps them unset). */
void rr_egress_info_set_error(RrEgressInfo *info, const char *error, int code, const char *details);
RrFileResult *rr_egress_info_add_file(RrEgressInfo *info, const char *location);
/* (transfer full) A deep copy (the job stays borrowed). */
RrEgressInfo *rr_egress_info_copy(const RrEgressInfo *info);
/* (Added) A segments result for @playlist (and @live_playlist, may be NULL). */
RrSegmentsResultInfo *rr_egress_info_add_segments(RrEgressInfo *info, const char *playlist,
                                                  const char *live_playlist);
RrImagesResultInfo *rr_egress_info_add_images(RrEgressInfo *info, const char *prefix);

/* Appends the info as one JSON object value. */
void rr_egress_info_build_json(const RrEgressInfo *info, JsonBuilder *builder);
/* (transfer full) */
char *rr_egress_info_to_json(const RrEgressInfo *info, gboolean pretty);

/* Current time in unix nanoseconds. */
gint64 rr_egress_now_ns(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrEgressInfo, rr_egress_info_free)

G_END_DECLS
