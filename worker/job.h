/* worker/job: a LiveKit egress request (JSON) turned into a validated, read-only spec.
 *
 * The input is a StartEgressRequest-like object:
 *   {"egress_id", "ws_url" | "url", "token", "api_key", "api_secret", "room_id",
 *    exactly one of "room_composite" | "track_composite" | "participant" | "track"}
 * with the fields of LiveKit's RoomCompositeEgressRequest, TrackCompositeEgressRequest,
 * ParticipantEgressRequest and TrackEgressRequest (livekit_egress.proto). Protobuf JSON
 * rules apply: a field may be spelled as its proto name (snake_case) or its JSON name
 * (lowerCamelCase), enums by name or number, integers as numbers or decimal strings, null
 * means "not set". Every unknown field is an error naming its path
 * ("room_composite.file_outputs[0].filpath: unknown field"); so is a bad value. A file
 * output's, segment output's or image output's "s3" (LiveKit's S3Upload) is kept in the
 * spec (job-s3.c). Outputs roomrec cannot produce yet (GCP/Azure/OSS upload, streams,
 * MP3, VP8 composites, custom base URLs) are RR_WORKER_ERROR_UNSUPPORTED with a clear
 * message. Composite kinds take one segment output (SegmentedFileOutput, HLS) and one
 * image output (ImageOutput, JPEG) besides or instead of the file (worker/job-segments.c).
 * Each request may carry LiveKit's "webhooks" list ({url, signing_key}): extra webhook
 * targets for this egress only.
 *
 * The spec owns its strings and is not modified after parsing. Pure functions, no I/O,
 * thread-safe. Secrets (token, api_secret, s3.secret, s3.session_token) are kept in the
 * spec and never logged here; the request echo leaves them out.
 */
#pragma once

#include "pipeline/encode.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
    RR_JOB_ROOM_COMPOSITE,
    RR_JOB_TRACK_COMPOSITE,
    RR_JOB_PARTICIPANT,
    RR_JOB_TRACK,
} RrJobKind;

/* LiveKit EncodedFileType values roomrec writes. */
typedef enum {
    RR_JOB_FILE_DEFAULT = 0,
    RR_JOB_FILE_MP4 = 1,
    RR_JOB_FILE_OGG = 2,
} RrJobFileType;

/* An output's S3 upload (LiveKit's S3Upload); strings NULL when absent. */
typedef struct {
    char *access_key;
    char *secret;        /* secret */
    char *session_token; /* secret */
    char *region;
    char *endpoint;
    char *bucket;
    gboolean force_path_style;
    GHashTable *metadata; /* name -> value; never NULL */
    char *tagging;
    char *content_disposition;
} RrJobS3;

/* LiveKit SegmentedFileOutput (HLS). */
typedef struct {
    char *filename_prefix;     /* template; "" → "{room_name}-{time}" */
    char *playlist_name;       /* template; "" → PREFIX.m3u8 */
    char *live_playlist_name;  /* template; "" → no live playlist (LiveKit's default) */
    guint segment_duration;    /* seconds; LiveKit's default 4 */
    gboolean timestamp_suffix; /* filename_suffix TIMESTAMP (else INDEX) */
    gboolean disable_manifest;
    RrJobS3 *s3; /* the output's S3 upload, NULL: none (the worker config's storage) */
} RrJobSegments;

/* LiveKit ImageOutput (JPEG). */
typedef struct {
    guint capture_interval; /* seconds, required */
    guint width, height;    /* 0: the encoding's size */
    char *filename_prefix;  /* template; "" → "{room_name}-{time}" */
    gboolean timestamp_suffix;
    gboolean disable_manifest;
    RrJobS3 *s3; /* the output's S3 upload, NULL: none (the worker config's storage) */
} RrJobImages;

void rr_job_segments_free(RrJobSegments *s);
void rr_job_images_free(RrJobImages *i);

/* A request's own webhook target (LiveKit's WebhookConfig). */
typedef struct {
    char *url;         /* http:// or https:// */
    char *signing_key; /* the API key whose secret signs; "" → the worker's webhook key */
} RrJobWebhook;

typedef struct {
    RrJobKind kind;
    /* StartEgressRequest level (NULL when absent). */
    char *egress_id;
    char *ws_url;
    char *token;
    char *api_key;
    char *api_secret;
    char *room_id;
    /* Every request. */
    char *room_name;
    /* room_composite */
    char *layout; /* validated name; "grid" when not given */
    gboolean audio_only;
    gboolean video_only; /* track_composite: set from which track ids are given */
    /* participant */
    char *identity;
    gboolean screen_share;
    /* track_composite */
    char *audio_track_id;
    char *video_track_id;
    /* track: a track sid (TR_...) or IDENTITY/TRACKNAME */
    char *track_id;
    /* The file output. */
    char *filepath; /* template as given; "" → a default name */
    RrJobFileType file_type;
    gboolean disable_manifest;
    RrJobS3 *s3;             /* the output's S3 upload, NULL: none (the worker config's storage) */
    gboolean has_file;       /* a file is written (FALSE: only segments and/or images) */
    RrJobSegments *segments; /* NULL: none */
    RrJobImages *images;     /* NULL: none */
    /* Composite kinds: defaults, then the preset or the advanced options. */
    gboolean has_preset;
    int preset;
    gboolean has_advanced;
    RrEncodeSettings encode;
    /* The request's "webhooks" (RrJobWebhook*); never NULL in a parsed spec. */
    GPtrArray *webhooks;
} RrJobSpec;

/* Parses and validates a request. @len may be -1 for a NUL-terminated string. Errors:
 * RR_WORKER_ERROR_INVALID_JOB or RR_WORKER_ERROR_UNSUPPORTED, the message starting with
 * the offending field's path. */
RrJobSpec *rr_job_spec_parse(const char *json, gssize len, GError **error);
/* The same, from an already parsed JSON object. */
RrJobSpec *rr_job_spec_from_object(JsonObject *request, GError **error);
void rr_job_spec_free(RrJobSpec *spec);

/* An "s3" object at @path (job-s3.c): required bucket, access_key and secret; an
 * endpoint must be an http(s) URL; metadata a map of strings. NULL with an error naming
 * the field. */
RrJobS3 *rr_job_s3_parse(JsonObject *o, const char *path, GError **error);
void rr_job_s3_free(RrJobS3 *s3);
/* Appends the upload as a protobuf-JSON object, secret and session token as
 * "<redacted>". */
void rr_job_s3_build_json(const RrJobS3 *s3, JsonBuilder *builder);

/* "room_composite", "track_composite", "participant", "track". */
const char *rr_job_kind_to_string(RrJobKind kind);
/* Whether @layout is a room composite layout name the job parser accepts: "grid",
 * "speaker", "single-speaker", each optionally with "-light" or "-dark". */
gboolean rr_job_layout_is_valid(const char *layout);
/* The EgressInfo member that echoes the request: "roomComposite", "trackComposite",
 * "participant", "track". */
const char *rr_job_kind_to_info_member(RrJobKind kind);
/* Appends the request as one protobuf-JSON object value (lowerCamelCase, enum names,
 * no secrets) for EgressInfo. */
void rr_job_spec_build_request_json(const RrJobSpec *spec, JsonBuilder *builder);

/* Values for filepath templates ({room_name} {room_id} {time} {egress_id} {track_id}
 * {track_type} {track_source} {publisher_identity}); NULL values expand to "". */
typedef struct {
    const char *room_name;
    const char *room_id;
    const char *egress_id;
    const char *track_id;
    const char *track_type;   /* "audio" / "video" */
    const char *track_source; /* "camera", "microphone", "screen_share", ... */
    const char *publisher_identity;
    gint64 unix_usec; /* {time}, as LiveKit writes it: 2006-01-02T150405 (UTC) */
} RrJobTemplateVars;

/* (transfer full) @tmpl with every known {name} replaced; unknown ones are kept. Values
 * come from outside and are sanitised: "/" and control characters become "_", a value of
 * only dots ("." or "..") becomes as many "_" (the result stays inside the template's
 * directories). */
char *rr_job_expand_template(const char *tmpl, const RrJobTemplateVars *vars);

/* The output file of a composite job (room/track composite, participant): the expanded
 * filepath (default "{room_name}-{time}"), with the extension of the container, and that
 * container (explicit file_type, else the path's extension, else MP4 — OGG for
 * audio-only). RR_WORKER_ERROR_INVALID_JOB when the container cannot hold the media
 * (OGG with video). A path ending in '/' is a directory for the default name. */
char *rr_job_composite_output(const RrJobSpec *spec, const RrJobTemplateVars *vars,
                              RrContainer *container, GError **error);

/* The names of a segment output (templates expanded), as LiveKit's egress makes them: the
 * playlist is PLAYLIST.m3u8 (".m3u8" appended when missing; default: the filename
 * prefix's base name, else "{room_name}-{time}"); a filename prefix without a directory
 * goes into the playlist's; a playlist without a directory goes into the prefix's; the
 * prefix defaults to the playlist's name; the live playlist exists only when
 * live_playlist_name is given and must be in the playlist's directory. Names are relative
 * (to the output directory) unless a template made them absolute. */
typedef struct {
    char *prefix;        /* segment files: PREFIX_<suffix>.ts */
    char *playlist;      /* DIR/NAME.m3u8 */
    char *live_playlist; /* NULL: none */
} RrJobSegmentNames;

/* Fills @names; RR_WORKER_ERROR_INVALID_JOB when the live playlist is in another directory
 * (names untouched). */
gboolean rr_job_segment_names(const RrJobSegments *segments, const RrJobTemplateVars *vars,
                              RrJobSegmentNames *names, GError **error);
void rr_job_segment_names_clear(RrJobSegmentNames *names);
/* (transfer full) An image output's file prefix (default "{room_name}-{time}"), expanded. */
char *rr_job_image_prefix(const RrJobImages *images, const RrJobTemplateVars *vars);

#define RR_JOB_OUTPUT_MAX_TRIES 1000

/* Reserves the output file name @path, or, when it (or its ".part") exists, the first free
 * "NAME-1.EXT", "NAME-2.EXT", ...: "NAME.part", where the pipeline writes, is created
 * exclusively as the reservation; NAME itself appears only when the pipeline renames the
 * finished file to it (never over an existing file). Returns the name taken (transfer
 * full), or NULL with "cannot create output PATH: REASON" (RR_WORKER_ERROR_FAILED). The
 * directory must exist. */
char *rr_job_reserve_output(const char *path, GError **error);
/* Removes the reservation "@path.part" if it is still empty (nothing was recorded). */
void rr_job_release_output(const char *path);

/* The output file of a track egress: the expanded filepath (default
 * "{room_name}-{publisher_identity}-{track_id}-{time}") with @extension (the codec's
 * container, without the dot) replacing a media extension or appended. */
char *rr_job_track_output(const RrJobSpec *spec, const RrJobTemplateVars *vars,
                          const char *extension);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrJobSpec, rr_job_spec_free)

G_END_DECLS
