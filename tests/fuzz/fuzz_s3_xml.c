/* Fuzz target: S3's XML answers (errors, InitiateMultipartUpload,
 * CompleteMultipartUpload) as storage/s3-xml reads them: every reader on every input,
 * and the error built from it for a range of HTTP statuses. */
#include "storage/s3-xml.h"
#include "storage/storage-error.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    RrS3Xml xml;
    g_autoptr(GError) e1 = NULL;
    if (rr_s3_xml_parse(body, size, &xml, &e1)) {
        if (xml.root == NULL)
            abort();
        rr_s3_xml_clear(&xml);
    } else if (e1 == NULL || e1->domain != RR_STORAGE_ERROR || !e1->message[0]) {
        abort(); /* failure must say why */
    }
    g_autoptr(GError) e2 = NULL;
    g_autofree char *id = rr_s3_xml_initiate_upload_id(body, size, &e2);
    if ((id == NULL) == (e2 == NULL) || (id != NULL && id[0] == '\0'))
        abort();
    g_autoptr(GError) e3 = NULL;
    g_autofree char *etag = rr_s3_xml_complete_etag(body, size, "bucket", &e3);
    if ((etag == NULL) == (e3 == NULL))
        abort();
    static const long statuses[] = {200, 400, 403, 404, 500, 503};
    for (gsize i = 0; i < G_N_ELEMENTS(statuses); i++) {
        g_autoptr(GError) e = rr_s3_error_from_response(statuses[i], body, size, "b", "PUT");
        if (e == NULL || e->domain != RR_STORAGE_ERROR || !e->message[0])
            abort();
        for (const char *c = e->message; *c; c++)
            if ((unsigned char)*c < 0x20)
                abort(); /* one log line, no control characters from the server */
    }
    return 0;
}
