/* worker/job-priv: the typed JSON readers of job parsing, shared by job.c (requests,
 * encoding, files) and job-segments.c (segment and image outputs). Every reader leaves
 * its output untouched when the member is absent or null and fails with
 * RR_WORKER_ERROR_INVALID_JOB naming the member's path as written. Pure functions.
 */
#pragma once

#include "worker/job.h"
#include "worker/worker-error.h"

G_BEGIN_DECLS

#define INVALID     RR_WORKER_ERROR_INVALID_JOB
#define UNSUPPORTED RR_WORKER_ERROR_UNSUPPORTED

typedef struct {
    const char *name;
    int value;
} EnumName;

char *rr_job_sub_path(const char *path, const char *name);
gboolean rr_job_fail(GError **error, int code, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
gboolean rr_job_check_fields(JsonObject *o, const char *path, const char *const *fields,
                             GError **error);
JsonNode *rr_job_member(JsonObject *o, const char *path, const char *proto, char **written);
gboolean rr_job_read_string(JsonObject *o, const char *path, const char *proto, char **out,
                            GError **error);
gboolean rr_job_read_bool(JsonObject *o, const char *path, const char *proto, gboolean *out,
                          GError **error);
gboolean rr_job_read_int(JsonObject *o, const char *path, const char *proto, gint64 min, gint64 max,
                         gint64 *out, GError **error);
gboolean rr_job_read_enum(JsonObject *o, const char *path, const char *proto, const EnumName *names,
                          int *out, GError **error);
gboolean rr_job_read_object(JsonObject *o, const char *path, const char *proto, JsonObject **out,
                            char **written, GError **error);
gboolean rr_job_read_array(JsonObject *o, const char *path, const char *proto, JsonArray **out,
                           char **written, GError **error);
/* An output's "s3" into *@out (job-s3.c; untouched when absent); gcp/azure/aliOSS
 * members are refused (not supported). */
gboolean rr_job_parse_upload(JsonObject *o, const char *path, RrJobS3 **out, GError **error);

/* job-segments.c: "segments" / "segment_outputs" and "image_outputs" of @o. */
gboolean rr_job_parse_extra_outputs(JsonObject *o, const char *path, RrJobSpec *spec,
                                    GError **error);

G_END_DECLS
