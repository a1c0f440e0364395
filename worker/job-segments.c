/* worker/job-segments: the segment (SegmentedFileOutput) and image (ImageOutput) outputs
 * of a composite request. See job.h and job-priv.h. */
#include "worker/job-priv.h"

#define DEFAULT_SEGMENT_DURATION 4 /* LiveKit egress's default */

static const EnumName protocols[] = {
    {"DEFAULT_SEGMENTED_FILE_PROTOCOL", 0}, {"HLS_PROTOCOL", 1}, {NULL, 0}};
static const EnumName segment_suffixes[] = {{"INDEX", 0}, {"TIMESTAMP", 1}, {NULL, 0}};
static const EnumName image_suffixes[] = {{"IMAGE_SUFFIX_INDEX", 0},
                                          {"IMAGE_SUFFIX_TIMESTAMP", 1},
                                          {"IMAGE_SUFFIX_NONE_OVERWRITE", 2},
                                          {NULL, 0}};
static const EnumName image_codecs[] = {{"IC_DEFAULT", 0}, {"IC_JPEG", 1}, {NULL, 0}};

void rr_job_segments_free(RrJobSegments *s)
{
    if (s == NULL)
        return;
    g_free(s->filename_prefix);
    g_free(s->playlist_name);
    g_free(s->live_playlist_name);
    g_free(s);
}

void rr_job_images_free(RrJobImages *i)
{
    if (i == NULL)
        return;
    g_free(i->filename_prefix);
    g_free(i);
}

static gboolean parse_segments(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {"protocol",
                                         "filename_prefix",
                                         "playlist_name",
                                         "live_playlist_name",
                                         "segment_duration",
                                         "filename_suffix",
                                         "disable_manifest",
                                         "s3",
                                         "gcp",
                                         "azure",
                                         "aliOSS",
                                         NULL};
    if (!rr_job_check_fields(o, path, fields, error) || !rr_job_refuse_uploads(o, path, error))
        return FALSE;
    RrJobSegments *s = g_new0(RrJobSegments, 1);
    spec->segments = s;
    int protocol = 0, suffix = 0;
    gint64 duration = 0;
    if (!rr_job_read_enum(o, path, "protocol", protocols, &protocol, error) ||
        !rr_job_read_string(o, path, "filename_prefix", &s->filename_prefix, error) ||
        !rr_job_read_string(o, path, "playlist_name", &s->playlist_name, error) ||
        !rr_job_read_string(o, path, "live_playlist_name", &s->live_playlist_name, error) ||
        !rr_job_read_int(o, path, "segment_duration", 0, 3600, &duration, error) ||
        !rr_job_read_enum(o, path, "filename_suffix", segment_suffixes, &suffix, error) ||
        !rr_job_read_bool(o, path, "disable_manifest", &s->disable_manifest, error))
        return FALSE;
    s->segment_duration = duration ? (guint)duration : DEFAULT_SEGMENT_DURATION;
    s->timestamp_suffix = suffix == 1;
    return TRUE;
}

static gboolean parse_image(JsonObject *o, const char *path, RrJobSpec *spec, GError **error)
{
    static const char *const fields[] = {
        "capture_interval", "width", "height", "filename_prefix", "filename_suffix", "image_codec",
        "disable_manifest", "s3",    "gcp",    "azure",           "aliOSS",          NULL};
    if (!rr_job_check_fields(o, path, fields, error) || !rr_job_refuse_uploads(o, path, error))
        return FALSE;
    RrJobImages *i = g_new0(RrJobImages, 1);
    spec->images = i;
    gint64 interval = 0, width = 0, height = 0;
    int suffix = 0, codec = 0;
    if (!rr_job_read_int(o, path, "capture_interval", 0, 86400, &interval, error) ||
        !rr_job_read_int(o, path, "width", 0, 4096, &width, error) ||
        !rr_job_read_int(o, path, "height", 0, 4096, &height, error) ||
        !rr_job_read_string(o, path, "filename_prefix", &i->filename_prefix, error) ||
        !rr_job_read_enum(o, path, "filename_suffix", image_suffixes, &suffix, error) ||
        !rr_job_read_enum(o, path, "image_codec", image_codecs, &codec, error) ||
        !rr_job_read_bool(o, path, "disable_manifest", &i->disable_manifest, error))
        return FALSE;
    g_autofree char *p = NULL;
    if (interval == 0) {
        g_autofree char *ip = rr_job_sub_path(path, "capture_interval");
        return rr_job_fail(error, INVALID, ip, "required (seconds between images, at least 1)");
    }
    if (suffix == 2) {
        rr_job_member(o, path, "filename_suffix", &p);
        return rr_job_fail(error, UNSUPPORTED, p, "IMAGE_SUFFIX_NONE_OVERWRITE is not supported");
    }
    if ((width && (width < 16 || width % 2)) || (height && (height < 16 || height % 2))) {
        return rr_job_fail(error, INVALID, path,
                           "width and height must be even and at least 16 (or 0: the "
                           "recording's size)");
    }
    i->capture_interval = (guint)interval;
    i->width = (guint)width;
    i->height = (guint)height;
    i->timestamp_suffix = suffix == 1;
    return TRUE;
}

/* The one element of @proto's array (empty: none), or more: unsupported. */
static gboolean one_of(JsonObject *o, const char *path, const char *proto, const char *what,
                       JsonObject **out, char **written, GError **error)
{
    JsonArray *a = NULL;
    g_autofree char *ap = NULL;
    *out = NULL;
    if (!rr_job_read_array(o, path, proto, &a, &ap, error))
        return FALSE;
    if (a == NULL || json_array_get_length(a) == 0)
        return TRUE;
    if (json_array_get_length(a) > 1)
        return rr_job_fail(error, UNSUPPORTED, ap, "only one %s is supported", what);
    *written = g_strdup_printf("%s[0]", ap);
    JsonNode *n = json_array_get_element(a, 0);
    if (!JSON_NODE_HOLDS_OBJECT(n))
        return rr_job_fail(error, INVALID, *written, "expected an object");
    *out = json_node_get_object(n);
    return TRUE;
}

gboolean rr_job_parse_extra_outputs(JsonObject *o, const char *path, RrJobSpec *spec,
                                    GError **error)
{
    JsonObject *seg = NULL, *segs = NULL, *img = NULL;
    g_autofree char *sp = NULL, *ssp = NULL, *ip = NULL;
    if (!rr_job_read_object(o, path, "segments", &seg, &sp, error) ||
        !one_of(o, path, "segment_outputs", "segment output", &segs, &ssp, error) ||
        !one_of(o, path, "image_outputs", "image output", &img, &ip, error))
        return FALSE;
    if (seg && segs)
        return rr_job_fail(error, INVALID, ssp, "give either segments or segment_outputs");
    if ((seg || segs) && !parse_segments(seg ? seg : segs, seg ? sp : ssp, spec, error))
        return FALSE;
    if (img && !parse_image(img, ip, spec, error))
        return FALSE;
    if (spec->images && spec->audio_only)
        return rr_job_fail(error, INVALID, ip, "image outputs need video (audio_only is set)");
    return TRUE;
}
