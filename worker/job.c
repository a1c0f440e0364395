/* worker/job: egress request JSON → RrJobSpec. See job.h.
 *
 * Every message is read the same way: first rr_job_check_fields() refuses members that are not
 * in the message's field list (accepting the proto name and its lowerCamelCase JSON
 * name), then typed readers pick the fields, each error naming the field's path as the
 * user wrote it.
 */
#include "worker/job-priv.h"

#include "worker/worker-error.h"

#include <math.h>
#include <string.h>

#define MAX_DEPTH 32

/* ---- field names and paths ---- */

/* The JSON name protobuf derives from a proto field name: "file_outputs" → "fileOutputs". */
static char *json_name(const char *proto)
{
    GString *s = g_string_new(NULL);
    gboolean upper = FALSE;
    for (const char *p = proto; *p; p++) {
        if (*p == '_') {
            upper = TRUE;
            continue;
        }
        g_string_append_c(s, upper ? g_ascii_toupper(*p) : *p);
        upper = FALSE;
    }
    return g_string_free(s, FALSE);
}

static gboolean name_matches(const char *written, const char *proto)
{
    if (strcmp(written, proto) == 0)
        return TRUE;
    g_autofree char *camel = json_name(proto);
    return strcmp(written, camel) == 0;
}

char *rr_job_sub_path(const char *path, const char *name)
{
    return *path ? g_strdup_printf("%s.%s", path, name) : g_strdup(name);
}

gboolean rr_job_fail(GError **error, int code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, RR_WORKER_ERROR, code, "%s%s%s", path, *path ? ": " : "", msg);
    return FALSE;
}

/* Refuses members of @o that are not one of @fields, and fields given twice (as the proto
 * and the JSON name). */
gboolean rr_job_check_fields(JsonObject *o, const char *path, const char *const *fields,
                             GError **error)
{
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;
        const char *const *f = fields;
        while (*f && !name_matches(m, *f))
            f++;
        g_autofree char *p = rr_job_sub_path(path, m);
        if (!*f)
            return rr_job_fail(error, INVALID, p, "unknown field");
        g_autofree char *camel = json_name(*f);
        const char *other = strcmp(m, *f) == 0 ? camel : *f;
        if (strcmp(other, m) != 0 && json_object_has_member(o, other))
            return rr_job_fail(error, INVALID, p, "given twice (also as \"%s\")", other);
    }
    return TRUE;
}

/* The member for @proto (either spelling), or NULL when absent or null; *written gets the
 * full path of the member as written. */
JsonNode *rr_job_member(JsonObject *o, const char *path, const char *proto, char **written)
{
    g_autofree char *camel = json_name(proto);
    const char *name = json_object_has_member(o, proto) ? proto : camel;
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return NULL;
    if (written)
        *written = rr_job_sub_path(path, name);
    return n;
}

static gboolean holds(JsonNode *n, GType type)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type;
}

gboolean rr_job_read_string(JsonObject *o, const char *path, const char *proto, char **out,
                            GError **error)
{
    g_autofree char *p = NULL;
    JsonNode *n = rr_job_member(o, path, proto, &p);
    if (!n)
        return TRUE;
    if (!holds(n, G_TYPE_STRING))
        return rr_job_fail(error, INVALID, p, "expected a string");
    g_free(*out);
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

gboolean rr_job_read_bool(JsonObject *o, const char *path, const char *proto, gboolean *out,
                          GError **error)
{
    g_autofree char *p = NULL;
    JsonNode *n = rr_job_member(o, path, proto, &p);
    if (!n)
        return TRUE;
    if (!holds(n, G_TYPE_BOOLEAN))
        return rr_job_fail(error, INVALID, p, "expected true or false");
    *out = json_node_get_boolean(n);
    return TRUE;
}

/* Numbers as JSON numbers or decimal strings (protobuf JSON). */
static gboolean node_number(JsonNode *n, double *out)
{
    if (holds(n, G_TYPE_INT64)) {
        *out = (double)json_node_get_int(n);
        return TRUE;
    }
    if (holds(n, G_TYPE_DOUBLE)) {
        *out = json_node_get_double(n);
        return isfinite(*out);
    }
    if (holds(n, G_TYPE_STRING)) {
        const char *s = json_node_get_string(n);
        char *end = NULL;
        if (!*s || g_ascii_isspace(*s))
            return FALSE;
        *out = g_ascii_strtod(s, &end);
        return *end == '\0' && isfinite(*out);
    }
    return FALSE;
}

gboolean rr_job_read_int(JsonObject *o, const char *path, const char *proto, gint64 min, gint64 max,
                         gint64 *out, GError **error)
{
    g_autofree char *p = NULL;
    JsonNode *n = rr_job_member(o, path, proto, &p);
    if (!n)
        return TRUE;
    double v;
    if (!node_number(n, &v) || floor(v) != v)
        return rr_job_fail(error, INVALID, p, "expected an integer");
    if (v < (double)min || v > (double)max)
        return rr_job_fail(error, INVALID, p,
                           "%.0f is out of range (%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ")", v,
                           min, max);
    *out = (gint64)v;
    return TRUE;
}

static gboolean read_double(JsonObject *o, const char *path, const char *proto, double min,
                            double max, double *out, GError **error)
{
    g_autofree char *p = NULL;
    JsonNode *n = rr_job_member(o, path, proto, &p);
    if (!n)
        return TRUE;
    double v;
    if (!node_number(n, &v))
        return rr_job_fail(error, INVALID, p, "expected a number");
    if (v < min || v > max)
        return rr_job_fail(error, INVALID, p, "%g is out of range (%g..%g)", v, min, max);
    *out = v;
    return TRUE;
}

/* An enum by name or number; names/numbers not in @names are errors. */
gboolean rr_job_read_enum(JsonObject *o, const char *path, const char *proto, const EnumName *names,
                          int *out, GError **error)
{
    g_autofree char *p = NULL;
    JsonNode *n = rr_job_member(o, path, proto, &p);
    if (!n)
        return TRUE;
    if (holds(n, G_TYPE_STRING)) {
        const char *s = json_node_get_string(n);
        for (const EnumName *e = names; e->name; e++)
            if (strcmp(e->name, s) == 0) {
                *out = e->value;
                return TRUE;
            }
        return rr_job_fail(error, INVALID, p, "unknown value \"%s\"", s);
    }
    if (holds(n, G_TYPE_INT64)) {
        gint64 v = json_node_get_int(n);
        for (const EnumName *e = names; e->name; e++)
            if (e->value == v) {
                *out = e->value;
                return TRUE;
            }
        return rr_job_fail(error, INVALID, p, "unknown value %" G_GINT64_FORMAT, v);
    }
    return rr_job_fail(error, INVALID, p, "expected an enum name or number");
}

/* The object member @proto, or NULL (absent/null); an error if it is not an object. */
gboolean rr_job_read_object(JsonObject *o, const char *path, const char *proto, JsonObject **out,
                            char **written, GError **error)
{
    *out = NULL;
    JsonNode *n = rr_job_member(o, path, proto, written);
    if (!n)
        return TRUE;
    if (!JSON_NODE_HOLDS_OBJECT(n))
        return rr_job_fail(error, INVALID, *written, "expected an object");
    *out = json_node_get_object(n);
    return TRUE;
}

gboolean rr_job_read_array(JsonObject *o, const char *path, const char *proto, JsonArray **out,
                           char **written, GError **error)
{
    *out = NULL;
    JsonNode *n = rr_job_member(o, path, proto, written);
    if (!n)
        return TRUE;
    if (!JSON_NODE_HOLDS_ARRAY(n))
        return rr_job_fail(error, INVALID, *written, "expected an array");
    *out = json_node_get_array(n);
    return TRUE;
}

/* ---- enums ---- */

static const EnumName file_types[] = {
    {"DEFAULT_FILETYPE", 0}, {"MP4", 1}, {"OGG", 2}, {"MP3", 3}, {NULL, 0}};
static const EnumName presets[] = {
    {"H264_720P_30", 0},           {"H264_720P_60", 1},           {"H264_1080P_30", 2},
    {"H264_1080P_60", 3},          {"PORTRAIT_H264_720P_30", 4},  {"PORTRAIT_H264_720P_60", 5},
    {"PORTRAIT_H264_1080P_30", 6}, {"PORTRAIT_H264_1080P_60", 7}, {NULL, 0}};
static const EnumName audio_codecs[] = {
    {"DEFAULT_AC", 0}, {"OPUS", 1}, {"AAC", 2}, {"AC_MP3", 3}, {NULL, 0}};
static const EnumName video_codecs[] = {{"DEFAULT_VC", 0}, {"H264_BASELINE", 1}, {"H264_MAIN", 2},
                                        {"H264_HIGH", 3},  {"VP8", 4},           {"VP9", 5},
                                        {"H265_MAIN", 6},  {"H265_HIGH", 7},     {NULL, 0}};
static const EnumName audio_mixings[] = {
    {"DEFAULT_MIXING", 0}, {"DUAL_CHANNEL_AGENT", 1}, {"DUAL_CHANNEL_ALTERNATE", 2}, {NULL, 0}};

/* ---- outputs ---- */

static const char *const uploads[] = {"gcp", "azure", "aliOSS", NULL};
static const char *const upload_names[] = {"GCP", "Azure", "Alibaba OSS", NULL};

static gboolean refuse_other_uploads(JsonObject *o, const char *path, GError **error)
{
    for (guint i = 0; uploads[i]; i++) {
        g_autofree char *p = NULL;
        if (rr_job_member(o, path, uploads[i], &p))
            return rr_job_fail(error, UNSUPPORTED, p, "%s upload not supported yet",
                               upload_names[i]);
    }
    return TRUE;
}

/* A file output's "s3" into spec->s3 (job-s3.c); the other uploads refused. */
static gboolean parse_uploads(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    return rr_job_parse_upload(o, path, &spec->s3, error);
}

gboolean rr_job_parse_upload(JsonObject *o, const char *path, RrJobS3 **out, GError **error)
{
    g_autofree char *sp = NULL;
    JsonNode *s3 = rr_job_member(o, path, "s3", &sp);
    if (s3 && !JSON_NODE_HOLDS_OBJECT(s3))
        return rr_job_fail(error, INVALID, sp, "expected an object");
    if (s3 && !(*out = rr_job_s3_parse(json_node_get_object(s3), sp, error)))
        return FALSE;
    return refuse_other_uploads(o, path, error);
}

/* EncodedFileOutput (composite kinds). */
static gboolean parse_encoded_file(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {"file_type", "filepath", "disable_manifest", "s3",
                                         "gcp",       "azure",    "aliOSS",           NULL};
    if (!rr_job_check_fields(o, path, fields, error) || !parse_uploads(o, path, spec, error))
        return FALSE;
    int type = 0;
    if (!rr_job_read_enum(o, path, "file_type", file_types, &type, error) ||
        !rr_job_read_string(o, path, "filepath", &spec->filepath, error) ||
        !rr_job_read_bool(o, path, "disable_manifest", &spec->disable_manifest, error))
        return FALSE;
    if (type == 3) {
        g_autofree char *p = NULL;
        rr_job_member(o, path, "file_type", &p);
        return rr_job_fail(error, UNSUPPORTED, p, "MP3 output not supported yet");
    }
    spec->file_type = (RrJobFileType)type;
    return TRUE;
}

/* DirectFileOutput (track egress). */
static gboolean parse_direct_file(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {"filepath", "disable_manifest", "s3", "gcp",
                                         "azure",    "aliOSS",           NULL};
    return rr_job_check_fields(o, path, fields, error) && parse_uploads(o, path, spec, error) &&
           rr_job_read_string(o, path, "filepath", &spec->filepath, error) &&
           rr_job_read_bool(o, path, "disable_manifest", &spec->disable_manifest, error);
}

/* file / file_outputs and the output kinds roomrec does not produce yet. */
static gboolean parse_outputs(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const struct {
        const char *field;
        const char *what;
    } refused[] = {
        {"stream", "stream outputs"},
        {"stream_outputs", "stream outputs"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *p = NULL;
        JsonNode *n = rr_job_member(o, path, refused[i].field, &p);
        if (!n)
            continue;
        if (JSON_NODE_HOLDS_ARRAY(n) && json_array_get_length(json_node_get_array(n)) == 0)
            continue;
        if (!JSON_NODE_HOLDS_ARRAY(n) && !JSON_NODE_HOLDS_OBJECT(n))
            return rr_job_fail(error, INVALID, p, "expected %s",
                               g_str_has_suffix(refused[i].field, "s") ? "an array" : "an object");
        return rr_job_fail(error, UNSUPPORTED, p, "%s are not supported yet", refused[i].what);
    }
    g_autofree char *fp = NULL, *fop = NULL;
    JsonObject *file = NULL;
    JsonArray *outs = NULL;
    if (!rr_job_read_object(o, path, "file", &file, &fp, error) ||
        !rr_job_read_array(o, path, "file_outputs", &outs, &fop, error))
        return FALSE;
    if (file && outs && json_array_get_length(outs) > 0)
        return rr_job_fail(error, INVALID, fop, "give either file or file_outputs, not both");
    if (!rr_job_parse_extra_outputs(o, path, spec, error))
        return FALSE;
    spec->has_file = TRUE;
    if (file)
        return parse_encoded_file(file, fp, spec, error);
    if (!outs || json_array_get_length(outs) == 0) {
        /* The default file, unless segments or images are the outputs. */
        spec->has_file = spec->segments == NULL && spec->images == NULL;
        return TRUE;
    }
    if (json_array_get_length(outs) > 1)
        return rr_job_fail(error, UNSUPPORTED, fop, "only one file output is supported");
    g_autofree char *ep = g_strdup_printf("%s[0]", fop);
    JsonNode *n = json_array_get_element(outs, 0);
    if (!JSON_NODE_HOLDS_OBJECT(n))
        return rr_job_fail(error, INVALID, ep, "expected an object");
    return parse_encoded_file(json_node_get_object(n), ep, spec, error);
}

/* ---- encoding ---- */

static gboolean parse_advanced(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {
        "width",       "height",        "depth",         "framerate",
        "audio_codec", "audio_bitrate", "audio_quality", "audio_frequency",
        "video_codec", "video_bitrate", "video_quality", "key_frame_interval",
        NULL};
    if (!rr_job_check_fields(o, path, fields, error))
        return FALSE;
    gint64 width = 0, height = 0, depth = 0, fps = 0, abr = 0, aq = 0, freq = 0, vbr = 0, vq = 0;
    int acodec = 0, vcodec = 0;
    double kfi = 0;
    if (!rr_job_read_int(o, path, "width", 0, 4096, &width, error) ||
        !rr_job_read_int(o, path, "height", 0, 4096, &height, error) ||
        !rr_job_read_int(o, path, "depth", 0, 32, &depth, error) ||
        !rr_job_read_int(o, path, "framerate", 0, 60, &fps, error) ||
        !rr_job_read_enum(o, path, "audio_codec", audio_codecs, &acodec, error) ||
        !rr_job_read_int(o, path, "audio_bitrate", 0, 1024, &abr, error) ||
        !rr_job_read_int(o, path, "audio_quality", 0, G_MAXINT32, &aq, error) ||
        !rr_job_read_int(o, path, "audio_frequency", 0, 192000, &freq, error) ||
        !rr_job_read_enum(o, path, "video_codec", video_codecs, &vcodec, error) ||
        !rr_job_read_int(o, path, "video_bitrate", 0, 100000, &vbr, error) ||
        !rr_job_read_int(o, path, "video_quality", 0, G_MAXINT32, &vq, error) ||
        !read_double(o, path, "key_frame_interval", 0, 60, &kfi, error))
        return FALSE;
    g_autofree char *ap = NULL, *vp = NULL;
    rr_job_member(o, path, "audio_codec", &ap);
    rr_job_member(o, path, "video_codec", &vp);
    if (acodec == 3)
        return rr_job_fail(error, UNSUPPORTED, ap, "MP3 audio is not supported");
    if (vcodec >= 4)
        return rr_job_fail(error, UNSUPPORTED, vp,
                           "only H.264 can be encoded for composite recordings (use a track egress "
                           "to record VP8/VP9 as is)");
    if (depth != 0 && depth != 24)
        return rr_job_fail(error, UNSUPPORTED, path, "depth %" G_GINT64_FORMAT " (only 24)", depth);
    RrEncodeSettings *e = &spec->encode;
    if (width)
        e->width = (guint)width;
    if (height)
        e->height = (guint)height;
    if (fps)
        e->fps = (guint)fps;
    if (vbr)
        e->video_bitrate_kbps = (guint)vbr;
    if (abr)
        e->audio_bitrate_kbps = (guint)abr;
    if (freq)
        e->audio_frequency = (guint)freq;
    if (kfi > 0)
        e->keyframe_interval_s = kfi;
    if (acodec)
        e->audio_codec = acodec == 1 ? RR_AUDIO_CODEC_OPUS : RR_AUDIO_CODEC_AAC;
    if (vcodec)
        e->h264_profile = vcodec == 1   ? RR_H264_PROFILE_BASELINE
                          : vcodec == 2 ? RR_H264_PROFILE_MAIN
                                        : RR_H264_PROFILE_HIGH;
    spec->has_advanced = TRUE;
    return TRUE;
}

static gboolean parse_encoding(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    rr_encode_settings_init(&spec->encode);
    g_autofree char *pp = NULL, *ap = NULL;
    JsonObject *adv = NULL;
    if (!rr_job_read_object(o, path, "advanced", &adv, &ap, error))
        return FALSE;
    if (rr_job_member(o, path, "preset", &pp)) {
        if (adv)
            return rr_job_fail(error, INVALID, pp, "give either preset or advanced, not both");
        int preset = 0;
        if (!rr_job_read_enum(o, path, "preset", presets, &preset, error))
            return FALSE;
        g_autoptr(GError) e = NULL;
        if (!rr_encode_settings_apply_preset(&spec->encode, preset, &e))
            return rr_job_fail(error, INVALID, pp, "%s", e->message);
        spec->has_preset = TRUE;
        spec->preset = preset;
    }
    if (adv && !parse_advanced(adv, ap, spec, error))
        return FALSE;
    g_autoptr(GError) e = NULL;
    if (!rr_encode_settings_validate(&spec->encode, &e))
        return rr_job_fail(error, INVALID, ap ? ap : path, "%s", e->message);
    return TRUE;
}

/* ---- webhooks ---- */

static gboolean require(const char *value, JsonObject *o, const char *path, const char *proto,
                        GError **error);

static void job_webhook_free(gpointer p)
{
    RrJobWebhook *w = p;
    g_free(w->url);
    g_free(w->signing_key);
    g_free(w);
}

static gboolean http_url(const char *url)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
        return FALSE;
    return !g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") ||
           !g_ascii_strcasecmp(g_uri_get_scheme(uri), "https");
}

/* The request's "webhooks": [{url, signing_key}] (LiveKit's WebhookConfig). */
static gboolean parse_webhooks(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {"url", "signing_key", NULL};
    g_autofree char *wp = NULL;
    JsonArray *list = NULL;
    if (!rr_job_read_array(o, path, "webhooks", &list, &wp, error))
        return FALSE;
    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        g_autofree char *ip = g_strdup_printf("%s[%u]", wp, i);
        JsonNode *n = json_array_get_element(list, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            return rr_job_fail(error, INVALID, ip, "expected an object");
        JsonObject *w = json_node_get_object(n);
        RrJobWebhook *hook = g_new0(RrJobWebhook, 1);
        g_ptr_array_add(spec->webhooks, hook);
        if (!rr_job_check_fields(w, ip, fields, error) ||
            !rr_job_read_string(w, ip, "url", &hook->url, error) ||
            !rr_job_read_string(w, ip, "signing_key", &hook->signing_key, error) ||
            !require(hook->url, w, ip, "url", error))
            return FALSE;
        if (!http_url(hook->url)) {
            g_autofree char *up = NULL;
            rr_job_member(w, ip, "url", &up);
            return rr_job_fail(error, INVALID, up, "expected an http:// or https:// URL");
        }
        if (!hook->signing_key)
            hook->signing_key = g_strdup("");
    }
    return TRUE;
}

/* ---- requests ---- */

static gboolean require(const char *value, JsonObject *o, const char *path, const char *proto,
                        GError **error)
{
    if (value && *value)
        return TRUE;
    g_autofree char *p = rr_job_sub_path(path, proto);
    return rr_job_fail(error, INVALID, p, "required");
}

gboolean rr_job_layout_is_valid(const char *layout)
{
    if (!layout)
        return FALSE;
    static const char *const bases[] = {"grid", "speaker", "single-speaker", NULL};
    for (guint i = 0; bases[i]; i++) {
        if (!g_str_has_prefix(layout, bases[i]))
            continue;
        const char *rest = layout + strlen(bases[i]);
        if (!*rest || strcmp(rest, "-light") == 0 || strcmp(rest, "-dark") == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean parse_room_composite(JsonObject *o, const char *path, RrJobSpec *spec,
                                     GError **error)
{
    static const char *const fields[] = {"room_name",
                                         "layout",
                                         "audio_only",
                                         "video_only",
                                         "custom_base_url",
                                         "file",
                                         "stream",
                                         "segments",
                                         "preset",
                                         "advanced",
                                         "file_outputs",
                                         "stream_outputs",
                                         "segment_outputs",
                                         "image_outputs",
                                         "audio_mixing",
                                         "webhooks",
                                         NULL};
    if (!rr_job_check_fields(o, path, fields, error))
        return FALSE;
    g_autofree char *base_url = NULL;
    int mixing = 0;
    if (!rr_job_read_string(o, path, "room_name", &spec->room_name, error) ||
        !rr_job_read_string(o, path, "layout", &spec->layout, error) ||
        !rr_job_read_bool(o, path, "audio_only", &spec->audio_only, error) ||
        !rr_job_read_bool(o, path, "video_only", &spec->video_only, error) ||
        !rr_job_read_string(o, path, "custom_base_url", &base_url, error) ||
        !rr_job_read_enum(o, path, "audio_mixing", audio_mixings, &mixing, error))
        return FALSE;
    if (!require(spec->room_name, o, path, "room_name", error))
        return FALSE;
    g_autofree char *p = NULL;
    if (base_url && *base_url) {
        rr_job_member(o, path, "custom_base_url", &p);
        return rr_job_fail(error, UNSUPPORTED, p,
                           "custom templates (a web page) are not supported");
    }
    if (mixing != 0) {
        rr_job_member(o, path, "audio_mixing", &p);
        return rr_job_fail(error, UNSUPPORTED, p, "only DEFAULT_MIXING is supported");
    }
    if (spec->audio_only && spec->video_only)
        return rr_job_fail(error, INVALID, path, "audio_only and video_only exclude each other");
    if (!spec->layout || !*spec->layout) {
        g_free(spec->layout);
        spec->layout = g_strdup("grid");
    } else if (!rr_job_layout_is_valid(spec->layout)) {
        rr_job_member(o, path, "layout", &p);
        return rr_job_fail(
            error, INVALID, p,
            "unknown layout \"%s\" (grid, speaker, single-speaker, with -light/-dark)",
            spec->layout);
    }
    return parse_encoding(o, path, spec, error) && parse_outputs(o, path, spec, error) &&
           parse_webhooks(o, path, spec, error);
}

static gboolean parse_track_composite(JsonObject *o, const char *path, RrJobSpec *spec,
                                      GError **error)
{
    static const char *const fields[] = {"room_name",       "audio_track_id",
                                         "video_track_id",  "file",
                                         "stream",          "segments",
                                         "preset",          "advanced",
                                         "file_outputs",    "stream_outputs",
                                         "segment_outputs", "image_outputs",
                                         "webhooks",        NULL};
    if (!rr_job_check_fields(o, path, fields, error) ||
        !rr_job_read_string(o, path, "room_name", &spec->room_name, error) ||
        !rr_job_read_string(o, path, "audio_track_id", &spec->audio_track_id, error) ||
        !rr_job_read_string(o, path, "video_track_id", &spec->video_track_id, error) ||
        !require(spec->room_name, o, path, "room_name", error))
        return FALSE;
    gboolean audio = spec->audio_track_id && *spec->audio_track_id;
    gboolean video = spec->video_track_id && *spec->video_track_id;
    if (!audio && !video)
        return rr_job_fail(error, INVALID, path, "audio_track_id or video_track_id is required");
    spec->audio_only = !video;
    spec->video_only = !audio;
    spec->layout = g_strdup("single-speaker");
    return parse_encoding(o, path, spec, error) && parse_outputs(o, path, spec, error) &&
           parse_webhooks(o, path, spec, error);
}

static gboolean parse_participant(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {"room_name",
                                         "identity",
                                         "screen_share",
                                         "preset",
                                         "advanced",
                                         "file_outputs",
                                         "stream_outputs",
                                         "segment_outputs",
                                         "image_outputs",
                                         "webhooks",
                                         NULL};
    if (!rr_job_check_fields(o, path, fields, error) ||
        !rr_job_read_string(o, path, "room_name", &spec->room_name, error) ||
        !rr_job_read_string(o, path, "identity", &spec->identity, error) ||
        !rr_job_read_bool(o, path, "screen_share", &spec->screen_share, error) ||
        !require(spec->room_name, o, path, "room_name", error) ||
        !require(spec->identity, o, path, "identity", error))
        return FALSE;
    spec->layout = g_strdup("single-speaker");
    return parse_encoding(o, path, spec, error) && parse_outputs(o, path, spec, error) &&
           parse_webhooks(o, path, spec, error);
}

static gboolean parse_track(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {"room_name",     "track_id", "file",
                                         "websocket_url", "webhooks", NULL};
    if (!rr_job_check_fields(o, path, fields, error) ||
        !rr_job_read_string(o, path, "room_name", &spec->room_name, error) ||
        !rr_job_read_string(o, path, "track_id", &spec->track_id, error) ||
        !require(spec->room_name, o, path, "room_name", error) ||
        !require(spec->track_id, o, path, "track_id", error))
        return FALSE;
    g_autofree char *p = NULL;
    if (rr_job_member(o, path, "websocket_url", &p))
        return rr_job_fail(error, UNSUPPORTED, p, "WebSocket streaming is not supported yet");
    JsonObject *file = NULL;
    if (!rr_job_read_object(o, path, "file", &file, &p, error) ||
        !parse_webhooks(o, path, spec, error))
        return FALSE;
    return !file || parse_direct_file(file, p, spec, error);
}

RrJobSpec *rr_job_spec_from_object(JsonObject *req, GError **error)
{
    static const char *const fields[] = {"egress_id",
                                         "room_id",
                                         "ws_url",
                                         "url",
                                         "token",
                                         "api_key",
                                         "api_secret",
                                         "room_composite",
                                         "track_composite",
                                         "participant",
                                         "track",
                                         "web",
                                         "cloud_backup_enabled",
                                         "estimated_cpu",
                                         NULL};
    static const struct {
        const char *field;
        RrJobKind kind;
    } kinds[] = {{"room_composite", RR_JOB_ROOM_COMPOSITE},
                 {"track_composite", RR_JOB_TRACK_COMPOSITE},
                 {"participant", RR_JOB_PARTICIPANT},
                 {"track", RR_JOB_TRACK}};
    g_autoptr(RrJobSpec) spec = g_new0(RrJobSpec, 1);
    spec->webhooks = g_ptr_array_new_with_free_func(job_webhook_free);
    gboolean backup = FALSE;
    double cpu = 0;
    g_autofree char *url = NULL;
    if (!rr_job_check_fields(req, "", fields, error) ||
        !rr_job_read_string(req, "", "egress_id", &spec->egress_id, error) ||
        !rr_job_read_string(req, "", "room_id", &spec->room_id, error) ||
        !rr_job_read_string(req, "", "ws_url", &spec->ws_url, error) ||
        !rr_job_read_string(req, "", "url", &url, error) ||
        !rr_job_read_string(req, "", "token", &spec->token, error) ||
        !rr_job_read_string(req, "", "api_key", &spec->api_key, error) ||
        !rr_job_read_string(req, "", "api_secret", &spec->api_secret, error) ||
        !rr_job_read_bool(req, "", "cloud_backup_enabled", &backup, error) ||
        !read_double(req, "", "estimated_cpu", 0, 1e6, &cpu, error))
        return NULL;
    if (url && spec->ws_url) {
        rr_job_fail(error, INVALID, "url", "give either ws_url or url, not both");
        return NULL;
    }
    if (url)
        spec->ws_url = g_steal_pointer(&url);
    g_autofree char *wp = NULL;
    if (rr_job_member(req, "", "web", &wp)) {
        rr_job_fail(error, UNSUPPORTED, wp, "web egress (a browser page) is not supported");
        return NULL;
    }
    JsonObject *found = NULL;
    g_autofree char *found_path = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        JsonObject *o = NULL;
        g_autofree char *p = NULL;
        if (!rr_job_read_object(req, "", kinds[i].field, &o, &p, error))
            return NULL;
        if (!o)
            continue;
        if (found) {
            rr_job_fail(error, INVALID, p, "only one request may be given (%s is there too)",
                        found_path);
            return NULL;
        }
        found = o;
        found_path = g_steal_pointer(&p);
        spec->kind = kinds[i].kind;
    }
    if (!found) {
        rr_job_fail(error, INVALID, "",
                    "one of room_composite, track_composite, participant or track is required");
        return NULL;
    }
    gboolean ok = FALSE;
    switch (spec->kind) {
    case RR_JOB_ROOM_COMPOSITE:
        ok = parse_room_composite(found, found_path, spec, error);
        break;
    case RR_JOB_TRACK_COMPOSITE:
        ok = parse_track_composite(found, found_path, spec, error);
        break;
    case RR_JOB_PARTICIPANT:
        ok = parse_participant(found, found_path, spec, error);
        break;
    case RR_JOB_TRACK:
        ok = parse_track(found, found_path, spec, error);
        break;
    }
    if (!ok)
        return NULL;
    if (!spec->filepath)
        spec->filepath = g_strdup("");
    return g_steal_pointer(&spec);
}

/* json-glib recurses per nesting level: refuse deep nesting before parsing. */
static gboolean nesting_ok(const char *json, gsize len)
{
    int depth = 0;
    gboolean in_str = FALSE;
    for (gsize i = 0; i < len; i++) {
        char c = json[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = FALSE;
        } else if (c == '"') {
            in_str = TRUE;
        } else if (c == '{' || c == '[') {
            if (++depth > MAX_DEPTH)
                return FALSE;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return TRUE;
}

RrJobSpec *rr_job_spec_parse(const char *json, gssize len, GError **error)
{
    gsize n = len < 0 ? strlen(json) : (gsize)len;
    if (!nesting_ok(json, n)) {
        rr_job_fail(error, INVALID, "", "the job JSON is nested more than %d levels deep",
                    MAX_DEPTH);
        return NULL;
    }
    if (memchr(json, '\0', n)) {
        rr_job_fail(error, INVALID, "", "the job JSON contains a NUL byte");
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) e = NULL;
    if (!json_parser_load_from_data(parser, json, (gssize)n, &e)) {
        rr_job_fail(error, INVALID, "", "not valid JSON: %s", e->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        rr_job_fail(error, INVALID, "", "the job must be a JSON object");
        return NULL;
    }
    return rr_job_spec_from_object(json_node_get_object(root), error);
}

void rr_job_spec_free(RrJobSpec *spec)
{
    if (!spec)
        return;
    g_free(spec->egress_id);
    g_free(spec->ws_url);
    g_free(spec->token);
    g_free(spec->api_key);
    g_free(spec->api_secret);
    g_free(spec->room_id);
    g_free(spec->room_name);
    g_free(spec->layout);
    g_free(spec->identity);
    g_free(spec->audio_track_id);
    g_free(spec->video_track_id);
    g_free(spec->track_id);
    g_free(spec->filepath);
    g_clear_pointer(&spec->s3, rr_job_s3_free);
    rr_job_segments_free(spec->segments);
    rr_job_images_free(spec->images);
    if (spec->webhooks)
        g_ptr_array_unref(spec->webhooks);
    g_free(spec);
}

const char *rr_job_kind_to_string(RrJobKind kind)
{
    static const char *const names[] = {"room_composite", "track_composite", "participant",
                                        "track"};
    return (guint)kind < G_N_ELEMENTS(names) ? names[kind] : "unknown";
}

const char *rr_job_kind_to_info_member(RrJobKind kind)
{
    static const char *const names[] = {"roomComposite", "trackComposite", "participant", "track"};
    return (guint)kind < G_N_ELEMENTS(names) ? names[kind] : "unknown";
}
