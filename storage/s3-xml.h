/* storage/s3-xml: reading S3's XML answers — errors, InitiateMultipartUpload and
 * CompleteMultipartUpload — with GLib's GMarkup parser, and turning a failed answer into
 * a GError whose code and words say what happened (AUTH for a refused signature or key,
 * NO_BUCKET, SERVER for 5xx/SlowDown, REQUEST for the rest of 4xx).
 *
 * The body is outside input: anything malformed is an RR_STORAGE_ERROR_RESPONSE error,
 * never a crash. Pure functions, any thread; strings returned are owned by the caller.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The parts of an S3 XML document that roomrec reads (the root's direct children). */
typedef struct {
    char *root;      /* root element name: "Error", "InitiateMultipartUploadResult", ... */
    char *code;      /* Error/Code */
    char *message;   /* Error/Message */
    char *upload_id; /* InitiateMultipartUploadResult/UploadId */
    char *etag;      /* CompleteMultipartUploadResult/ETag */
    char *key;       /* .../Key */
} RrS3Xml;

gboolean rr_s3_xml_parse(const char *body, gsize len, RrS3Xml *out, GError **error);
void rr_s3_xml_clear(RrS3Xml *xml);

/* (transfer full) The error for an HTTP @status answer with @body (may be empty) to
 * request @what ("PUT s3://b/k") on @bucket. */
GError *rr_s3_error_from_response(long status, const char *body, gsize len, const char *bucket,
                                  const char *what);
/* The UploadId of an InitiateMultipartUpload answer. */
char *rr_s3_xml_initiate_upload_id(const char *body, gsize len, GError **error);
/* The ETag of a CompleteMultipartUpload answer ("" when the server sends none); an
 * <Error> document (S3 may send one with status 200) is that error. */
char *rr_s3_xml_complete_etag(const char *body, gsize len, const char *bucket, GError **error);

G_END_DECLS
