/* worker/job-segments: the segment (SegmentedFileOutput) and image (ImageOutput) outputs
 * of a composite request. See job.h and job-priv.h. */
#include "worker/job-priv.h"

#include <string.h>

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
    rr_job_s3_free(s->s3);
    g_free(s);
}

void rr_job_images_free(RrJobImages *i)
{
    if (i == NULL)
        return;
    g_free(i->filename_prefix);
    rr_job_s3_free(i->s3);
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
    if (!rr_job_check_fields(o, path, fields, error))
        return FALSE;
    RrJobSegments *s = g_new0(RrJobSegments, 1);
    spec->segments = s;
    if (!rr_job_parse_upload(o, path, &s->s3, error))
        return FALSE;
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
    if (!rr_job_check_fields(o, path, fields, error))
        return FALSE;
    RrJobImages *i = g_new0(RrJobImages, 1);
    spec->images = i;
    if (!rr_job_parse_upload(o, path, &i->s3, error))
        return FALSE;
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

/* ---- names ---- */

static char *expand_given(const char *tmpl, const RrJobTemplateVars *vars)
{
    return tmpl && *tmpl ? rr_job_expand_template(tmpl, vars) : g_strdup("");
}

/* Splits @path into its directory part (with the trailing '/', "" for none) and name. */
static void split(const char *path, char **dir, char **name)
{
    const char *slash = strrchr(path, '/');
    *dir = slash ? g_strndup(path, (gsize)(slash - path + 1)) : g_strdup("");
    *name = g_strdup(slash ? slash + 1 : path);
}

static void strip_m3u8(char *name)
{
    if (g_str_has_suffix(name, ".m3u8"))
        name[strlen(name) - strlen(".m3u8")] = '\0';
}

gboolean rr_job_segment_names(const RrJobSegments *js, const RrJobTemplateVars *vars,
                              RrJobSegmentNames *names, GError **error)
{
    g_autofree char *prefix = expand_given(js->filename_prefix, vars);
    g_autofree char *playlist = expand_given(js->playlist_name, vars);
    g_autofree char *live = expand_given(js->live_playlist_name, vars);
    g_autofree char *pdir = NULL, *pname = NULL, *ldir = NULL, *lname = NULL;
    g_autofree char *fdir = NULL, *fname = NULL;
    split(playlist, &pdir, &pname);
    split(live, &ldir, &lname);
    split(prefix, &fdir, &fname);
    if (*ldir && strcmp(ldir, pdir) != 0 && !(*pdir == '\0' && strcmp(ldir, fdir) == 0)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "live_playlist_name: must be in the same directory as playlist_name");
        return FALSE;
    }
    strip_m3u8(pname);
    strip_m3u8(lname);
    if (*fdir) {
        if (strcmp(pdir, fdir) == 0) {
            fdir[0] = '\0';
        } else if (*pdir == '\0') {
            g_free(pdir);
            pdir = g_steal_pointer(&fdir);
            fdir = g_strdup("");
        }
    }
    if (*pname == '\0') {
        g_free(pname);
        pname = *fname ? g_strdup(fname) : rr_job_expand_template("{room_name}-{time}", vars);
    }
    if (*fname == '\0') {
        g_free(fname);
        fname = g_strdup(pname);
    }
    names->playlist = g_strconcat(pdir, pname, ".m3u8", NULL);
    names->live_playlist = *lname ? g_strconcat(pdir, lname, ".m3u8", NULL) : NULL;
    names->prefix = g_strconcat(pdir, fdir, fname, NULL);
    return TRUE;
}

void rr_job_segment_names_clear(RrJobSegmentNames *names)
{
    g_clear_pointer(&names->prefix, g_free);
    g_clear_pointer(&names->playlist, g_free);
    g_clear_pointer(&names->live_playlist, g_free);
}

char *rr_job_image_prefix(const RrJobImages *ji, const RrJobTemplateVars *vars)
{
    const char *t = ji->filename_prefix;
    return rr_job_expand_template(t && *t ? t : "{room_name}-{time}", vars);
}
