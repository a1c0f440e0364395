/* storage/s3-xml: S3 XML answers with GMarkup. See s3-xml.h. */
#include "storage/s3-xml.h"

#include "storage/storage-error.h"

#include <string.h>

#define MAX_TEXT 4096

typedef struct {
    RrS3Xml *out;
    int depth;
    char **target; /* the field the current root child fills, or NULL */
    GString *text;
} ParseState;

static void on_start(GMarkupParseContext *ctx, const char *name, const char **attr_names,
                     const char **attr_values, gpointer user_data, GError **error)
{
    ParseState *st = user_data;
    st->depth++;
    if (st->depth == 1) {
        g_free(st->out->root);
        st->out->root = g_strdup(name);
        return;
    }
    if (st->depth != 2)
        return;
    st->target = NULL;
    if (strcmp(name, "Code") == 0)
        st->target = &st->out->code;
    else if (strcmp(name, "Message") == 0)
        st->target = &st->out->message;
    else if (strcmp(name, "UploadId") == 0)
        st->target = &st->out->upload_id;
    else if (strcmp(name, "ETag") == 0)
        st->target = &st->out->etag;
    else if (strcmp(name, "Key") == 0)
        st->target = &st->out->key;
    g_string_truncate(st->text, 0);
}

static void on_end(GMarkupParseContext *ctx, const char *name, gpointer user_data, GError **error)
{
    ParseState *st = user_data;
    if (st->depth == 2 && st->target != NULL) {
        g_free(*st->target);
        *st->target = g_strdup(st->text->str);
        st->target = NULL;
    }
    st->depth--;
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data,
                    GError **error)
{
    ParseState *st = user_data;
    if (st->depth == 2 && st->target != NULL && st->text->len + len <= MAX_TEXT)
        g_string_append_len(st->text, text, len);
}

void rr_s3_xml_clear(RrS3Xml *xml)
{
    g_clear_pointer(&xml->root, g_free);
    g_clear_pointer(&xml->code, g_free);
    g_clear_pointer(&xml->message, g_free);
    g_clear_pointer(&xml->upload_id, g_free);
    g_clear_pointer(&xml->etag, g_free);
    g_clear_pointer(&xml->key, g_free);
}

gboolean rr_s3_xml_parse(const char *body, gsize len, RrS3Xml *out, GError **error)
{
    static const GMarkupParser parser = {on_start, on_end, on_text, NULL, NULL};
    memset(out, 0, sizeof *out);
    if (body == NULL || len == 0) {
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE,
                    "S3 answer: empty body where an XML document was expected");
        return FALSE;
    }
    ParseState st = {.out = out, .text = g_string_new(NULL)};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &st, NULL);
    g_autoptr(GError) local = NULL;
    gboolean ok = g_markup_parse_context_parse(ctx, body, (gssize)len, &local) &&
                  g_markup_parse_context_end_parse(ctx, &local);
    g_markup_parse_context_free(ctx);
    g_string_free(st.text, TRUE);
    if (ok && out->root == NULL) {
        ok = FALSE;
        g_set_error(&local, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY, "no root element");
    }
    if (!ok) {
        rr_s3_xml_clear(out);
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE,
                    "S3 answer: not a readable XML document: %s", local->message);
    }
    return ok;
}

/* A server-provided string made safe for one log line: printable ASCII, <= 160 bytes. */
static char *clean(const char *s)
{
    if (s == NULL || *s == '\0')
        return g_strdup("");
    GString *out = g_string_new(NULL);
    for (const char *c = s; *c != '\0' && out->len < 160; c++)
        g_string_append_c(out, (*c >= 0x20 && *c < 0x7f) ? *c : '?');
    return g_string_free(out, FALSE);
}

GError *rr_s3_error_from_response(long status, const char *body, gsize len, const char *bucket,
                                  const char *what)
{
    RrS3Xml xml = {0};
    g_autofree char *code = NULL, *message = NULL;
    if (rr_s3_xml_parse(body, len, &xml, NULL) && g_strcmp0(xml.root, "Error") == 0) {
        code = clean(xml.code);
        message = clean(xml.message);
    }
    rr_s3_xml_clear(&xml);
    if (code == NULL || *code == '\0') {
        g_free(code);
        code = g_strdup_printf("HTTP %ld", status);
    }
    g_autofree char *detail = message && *message ? g_strdup_printf(" (%s: %s)", code, message)
                                                  : g_strdup_printf(" (%s)", code);
    if (what == NULL)
        what = "S3 request";
    if (bucket == NULL)
        bucket = "";

    if (strcmp(code, "NoSuchBucket") == 0)
        return g_error_new(RR_STORAGE_ERROR, RR_STORAGE_ERROR_NO_BUCKET,
                           "S3 bucket \"%s\" does not exist%s [%s]", bucket, detail, what);
    if (status == 401 || status == 403 || strcmp(code, "InvalidAccessKeyId") == 0 ||
        strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "ExpiredToken") == 0 ||
        strcmp(code, "InvalidToken") == 0)
        return g_error_new(RR_STORAGE_ERROR, RR_STORAGE_ERROR_AUTH,
                           "S3 authentication failed: the server refused the access key, "
                           "secret or session token%s [%s]",
                           detail, what);
    if (status >= 500 || strcmp(code, "SlowDown") == 0 || strcmp(code, "InternalError") == 0 ||
        strcmp(code, "RequestTimeout") == 0)
        return g_error_new(RR_STORAGE_ERROR, RR_STORAGE_ERROR_SERVER,
                           "S3 server error, HTTP %ld%s [%s]", status, detail, what);
    return g_error_new(RR_STORAGE_ERROR, RR_STORAGE_ERROR_REQUEST,
                       "S3 refused the request, HTTP %ld%s [%s]", status, detail, what);
}

char *rr_s3_xml_initiate_upload_id(const char *body, gsize len, GError **error)
{
    RrS3Xml xml = {0};
    if (!rr_s3_xml_parse(body, len, &xml, error))
        return NULL;
    char *id = NULL;
    if (g_strcmp0(xml.root, "InitiateMultipartUploadResult") != 0)
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE,
                    "S3 answer to InitiateMultipartUpload: root element <%s>, expected "
                    "<InitiateMultipartUploadResult>",
                    xml.root);
    else if (xml.upload_id == NULL || *xml.upload_id == '\0' || strlen(xml.upload_id) > 1024)
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE,
                    "S3 answer to InitiateMultipartUpload: UploadId missing, empty or too long");
    else
        id = g_steal_pointer(&xml.upload_id);
    rr_s3_xml_clear(&xml);
    return id;
}

char *rr_s3_xml_complete_etag(const char *body, gsize len, const char *bucket, GError **error)
{
    RrS3Xml xml = {0};
    if (!rr_s3_xml_parse(body, len, &xml, error))
        return NULL;
    char *etag = NULL;
    if (g_strcmp0(xml.root, "Error") == 0)
        g_propagate_error(
            error, rr_s3_error_from_response(200, body, len, bucket, "CompleteMultipartUpload"));
    else if (g_strcmp0(xml.root, "CompleteMultipartUploadResult") != 0)
        g_set_error(error, RR_STORAGE_ERROR, RR_STORAGE_ERROR_RESPONSE,
                    "S3 answer to CompleteMultipartUpload: root element <%s>, expected "
                    "<CompleteMultipartUploadResult>",
                    xml.root);
    else
        etag = g_strdup(xml.etag ? xml.etag : "");
    rr_s3_xml_clear(&xml);
    return etag;
}
