/* worker/job-output: filepath templates, output file names and the request echo of a job.
 * See job.h. */
#include "worker/job.h"

#include "worker/worker-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const char *const preset_names[] = {"H264_720P_30",           "H264_720P_60",
                                           "H264_1080P_30",          "H264_1080P_60",
                                           "PORTRAIT_H264_720P_30",  "PORTRAIT_H264_720P_60",
                                           "PORTRAIT_H264_1080P_30", "PORTRAIT_H264_1080P_60"};

/* A template value comes from the room (room and identity names, track ids): it may add
 * neither a directory nor a step up. "/" and control characters become "_", and a value
 * that is all dots ("." or "..") becomes as many "_", so that it never names the current
 * or the parent directory when it stands alone between two slashes. */
static void append_value(GString *out, const char *value)
{
    const char *v = value ? value : "";
    gboolean dots = *v != '\0' && strspn(v, ".") == strlen(v);
    for (const char *c = v; *c; c++) {
        gboolean bad = *c == '/' || (guchar)*c < 0x20 || *c == 0x7f || (dots && *c == '.');
        g_string_append_c(out, bad ? '_' : *c);
    }
}

char *rr_job_expand_template(const char *tmpl, const RrJobTemplateVars *v)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(
        (v->unix_usec ? v->unix_usec : g_get_real_time()) / G_USEC_PER_SEC);
    g_autofree char *time = dt ? g_date_time_format(dt, "%Y-%m-%dT%H%M%S") : g_strdup("0");
    const struct {
        const char *name;
        const char *value;
    } vars[] = {
        {"{room_name}", v->room_name},
        {"{room_id}", v->room_id},
        {"{time}", time},
        {"{egress_id}", v->egress_id},
        {"{track_id}", v->track_id},
        {"{track_type}", v->track_type},
        {"{track_source}", v->track_source},
        {"{publisher_identity}", v->publisher_identity},
    };
    GString *out = g_string_new(NULL);
    for (const char *p = tmpl; *p;) {
        gboolean done = FALSE;
        if (*p == '{') {
            for (guint i = 0; i < G_N_ELEMENTS(vars) && !done; i++) {
                gsize n = strlen(vars[i].name);
                if (strncmp(p, vars[i].name, n) == 0) {
                    append_value(out, vars[i].value);
                    p += n;
                    done = TRUE;
                }
            }
        }
        if (!done)
            g_string_append_c(out, *p++);
    }
    return g_string_free(out, FALSE);
}

static const char *const media_extensions[] = {".mp4",  ".webm", ".mkv", ".ogg", ".ogv",  ".oga",
                                               ".opus", ".m4a",  ".mp3", ".ivf", ".h264", NULL};

/* @path without a media extension (the caller frees). */
static char *strip_media_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot && (!slash || dot > slash))
        for (guint i = 0; media_extensions[i]; i++)
            if (g_ascii_strcasecmp(dot, media_extensions[i]) == 0)
                return g_strndup(path, dot - path);
    return g_strdup(path);
}

/* The expanded filepath, @default_name used when it is empty or a directory. */
static char *expand_path(const RrJobSpec *spec, const RrJobTemplateVars *vars,
                         const char *default_name)
{
    const char *fp = spec->filepath ? spec->filepath : "";
    g_autofree char *tmpl = NULL;
    if (!*fp)
        tmpl = g_strdup(default_name);
    else if (g_str_has_suffix(fp, "/"))
        tmpl = g_strconcat(fp, default_name, NULL);
    else
        tmpl = g_strdup(fp);
    return rr_job_expand_template(tmpl, vars);
}

char *rr_job_composite_output(const RrJobSpec *spec, const RrJobTemplateVars *vars,
                              RrContainer *container, GError **error)
{
    g_autofree char *path = expand_path(spec, vars, "{room_name}-{time}");
    RrContainer c = spec->audio_only ? RR_CONTAINER_OGG : RR_CONTAINER_MP4;
    if (spec->file_type == RR_JOB_FILE_MP4)
        c = RR_CONTAINER_MP4;
    else if (spec->file_type == RR_JOB_FILE_OGG)
        c = RR_CONTAINER_OGG;
    else if (!rr_container_from_path(path, &c))
        c = spec->audio_only ? RR_CONTAINER_OGG : RR_CONTAINER_MP4;
    if (c == RR_CONTAINER_OGG && !spec->audio_only) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "%s: an OGG file can only hold audio (set audio_only or use MP4)", path);
        return NULL;
    }
    /* WebM and Matroska share the container: keep the extension asked for. */
    const char *dot = strrchr(path, '.');
    gboolean keep = c == RR_CONTAINER_WEBM && dot &&
                    (g_ascii_strcasecmp(dot, ".mkv") == 0 || g_ascii_strcasecmp(dot, ".webm") == 0);
    if (container)
        *container = c;
    if (keep)
        return g_steal_pointer(&path);
    g_autofree char *base = strip_media_extension(path);
    return g_strconcat(base, ".", rr_container_extension(c), NULL);
}

char *rr_job_track_output(const RrJobSpec *spec, const RrJobTemplateVars *vars,
                          const char *extension)
{
    g_autofree char *path =
        expand_path(spec, vars, "{room_name}-{publisher_identity}-{track_id}-{time}");
    g_autofree char *base = strip_media_extension(path);
    return g_strconcat(base, ".", extension, NULL);
}

/* Creates @path exclusively; 0, or an errno. */
static int create_exclusive(const char *path)
{
    int fd = g_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

/* @path with "-@n" before its extension (the last dot of the file name, if any). */
static char *numbered_name(const char *path, guint n)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return g_strdup_printf("%s-%u", path, n);
    return g_strdup_printf("%.*s-%u%s", (int)(dot - path), path, n, dot);
}

char *rr_job_reserve_output(const char *path, GError **error)
{
    for (guint n = 0; n <= RR_JOB_OUTPUT_MAX_TRIES; n++) {
        g_autofree char *name = n == 0 ? g_strdup(path) : numbered_name(path, n);
        GStatBuf st;
        if (g_lstat(name, &st) == 0)
            continue; /* a recording (or anything) already there is kept */
        /* The pipeline writes NAME.part and renames it to NAME only when the file is
         * complete (never over an existing file): the .part, created exclusively, is the
         * reservation, and the final name does not exist before the recording does. */
        g_autofree char *part = g_strconcat(name, ".part", NULL);
        int e = create_exclusive(part);
        if (e == EEXIST)
            continue;
        if (e != 0) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED,
                        "cannot create output %s: %s", name, g_strerror(e));
            return NULL;
        }
        return g_steal_pointer(&name);
    }
    g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED,
                "cannot create output %s: it and %u numbered names exist", path,
                RR_JOB_OUTPUT_MAX_TRIES);
    return NULL;
}

void rr_job_release_output(const char *path)
{
    if (!path)
        return;
    g_autofree char *part = g_strconcat(path, ".part", NULL);
    GStatBuf st;
    if (g_lstat(part, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        g_unlink(part);
}

static void add_str(JsonBuilder *b, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v);
}

static void add_bool(JsonBuilder *b, const char *k, gboolean v)
{
    if (!v)
        return;
    json_builder_set_member_name(b, k);
    json_builder_add_boolean_value(b, v);
}

static void add_int(JsonBuilder *b, const char *k, gint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

static void build_encoding(const RrJobSpec *spec, JsonBuilder *b)
{
    if (spec->has_preset) {
        json_builder_set_member_name(b, "preset");
        json_builder_add_string_value(b, preset_names[spec->preset]);
    }
    if (!spec->has_advanced)
        return;
    const RrEncodeSettings *e = &spec->encode;
    static const char *const profiles[] = {"H264_BASELINE", "H264_MAIN", "H264_HIGH"};
    json_builder_set_member_name(b, "advanced");
    json_builder_begin_object(b);
    add_int(b, "width", e->width);
    add_int(b, "height", e->height);
    add_int(b, "framerate", e->fps);
    json_builder_set_member_name(b, "audioCodec");
    json_builder_add_string_value(b, e->audio_codec == RR_AUDIO_CODEC_OPUS  ? "OPUS"
                                     : e->audio_codec == RR_AUDIO_CODEC_AAC ? "AAC"
                                                                            : "DEFAULT_AC");
    add_int(b, "audioBitrate", e->audio_bitrate_kbps);
    add_int(b, "audioFrequency", e->audio_frequency);
    json_builder_set_member_name(b, "videoCodec");
    json_builder_add_string_value(b, profiles[e->h264_profile % 3]);
    add_int(b, "videoBitrate", e->video_bitrate_kbps);
    json_builder_set_member_name(b, "keyFrameInterval");
    json_builder_add_double_value(b, e->keyframe_interval_s);
    json_builder_end_object(b);
}

static void build_file(const RrJobSpec *spec, JsonBuilder *b, gboolean direct)
{
    static const char *const types[] = {"DEFAULT_FILETYPE", "MP4", "OGG"};
    json_builder_begin_object(b);
    if (!direct) {
        json_builder_set_member_name(b, "fileType");
        json_builder_add_string_value(b, types[spec->file_type % 3]);
    }
    add_str(b, "filepath", spec->filepath);
    add_bool(b, "disableManifest", spec->disable_manifest);
    if (spec->s3) {
        json_builder_set_member_name(b, "s3");
        rr_job_s3_build_json(spec->s3, b);
    }
    json_builder_end_object(b);
}

/* The request's own webhook targets, as LiveKit's WebhookConfig {url, signingKey}. */
static void build_webhooks(const RrJobSpec *spec, JsonBuilder *b)
{
    if (!spec->webhooks || spec->webhooks->len == 0)
        return;
    json_builder_set_member_name(b, "webhooks");
    json_builder_begin_array(b);
    for (guint i = 0; i < spec->webhooks->len; i++) {
        const RrJobWebhook *w = g_ptr_array_index(spec->webhooks, i);
        json_builder_begin_object(b);
        add_str(b, "url", w->url);
        if (w->signing_key && *w->signing_key)
            add_str(b, "signingKey", w->signing_key);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

void rr_job_spec_build_request_json(const RrJobSpec *spec, JsonBuilder *b)
{
    json_builder_begin_object(b);
    add_str(b, "roomName", spec->room_name);
    switch (spec->kind) {
    case RR_JOB_ROOM_COMPOSITE:
        add_str(b, "layout", spec->layout);
        add_bool(b, "audioOnly", spec->audio_only);
        add_bool(b, "videoOnly", spec->video_only);
        break;
    case RR_JOB_TRACK_COMPOSITE:
        add_str(b, "audioTrackId", spec->audio_track_id);
        add_str(b, "videoTrackId", spec->video_track_id);
        break;
    case RR_JOB_PARTICIPANT:
        add_str(b, "identity", spec->identity);
        add_bool(b, "screenShare", spec->screen_share);
        break;
    case RR_JOB_TRACK:
        add_str(b, "trackId", spec->track_id);
        json_builder_set_member_name(b, "file");
        build_file(spec, b, TRUE);
        build_webhooks(spec, b);
        json_builder_end_object(b);
        return;
    }
    build_encoding(spec, b);
    json_builder_set_member_name(b, "fileOutputs");
    json_builder_begin_array(b);
    build_file(spec, b, FALSE);
    json_builder_end_array(b);
    build_webhooks(spec, b);
    json_builder_end_object(b);
}
