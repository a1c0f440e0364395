/* worker/upload-priv: RrUpload's insides, shared by upload.c (finished files) and
 * upload-live.c (segments and images while recording). Same thread rules as upload.h: a
 * store is used by one thread at a time.
 */
#pragma once

#include "worker/upload.h"

G_BEGIN_DECLS

struct RrUpload {
    RrStore *primary;
    RrStore *backup; /* may be NULL */
    char *spool_dir;
    char *output_dir; /* canonical */
    gboolean keep_local;
    gboolean manifest;
    GPtrArray *staged; /* RrSpoolEntry*, locked: the files moved into the spool */
};

/* The canonical output directory keys are relative to. */
const char *rr_upload_output_dir(const RrUpload *upload);

/* Marks @info FAILED with "upload failed: @why" (or appends that to the details of an
 * already failed one) and logs it. */
void rr_upload_set_failed(RrEgressInfo *info, const char *why);

G_END_DECLS
