/* worker/log: structured log writer with secret redaction. See log.h. */
#include "worker/log.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

static GMutex log_lock;
static GPtrArray *log_secrets; /* (element-type utf8), guarded by log_lock */
static char *log_job_id;       /* guarded by log_lock */
static RrLogFormat log_format; /* set once in rr_log_init */
static GLogLevelFlags log_min_level = G_LOG_LEVEL_MESSAGE;
static GRegex *log_patterns; /* set once, read-only afterwards */
static FILE *log_out;        /* stderr unless a test redirects it */
static char *log_status;     /* the terminal's status line, guarded by log_lock */

/* JWTs, "key=value" credentials in URLs and headers, bearer tokens, and libnice's debug
 * lines that carry credentials: a relay's "with user/pass : USER -- PASS" (the rest of the
 * line) and a connectivity check's "password='PWD'". */
#define RR_LOG_PATTERN                                                                             \
    "eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*"                                    \
    "|(?<=access_token=|token=|secret=|password=|credential=|X-Amz-Signature=)[^&\\s\"']+"         \
    "|(?<=password=')[^']+"                                                                        \
    "|(?<=user/pass : )[^\\n]+"                                                                    \
    "|(?<=[Bb]earer )[^\\s\"']+"

static GRegex *patterns(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        log_patterns = g_regex_new(RR_LOG_PATTERN, G_REGEX_OPTIMIZE, 0, NULL);
        g_once_init_leave(&once, 1);
    }
    return log_patterns;
}

void rr_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4)
        return;
    g_mutex_lock(&log_lock);
    if (!log_secrets)
        log_secrets = g_ptr_array_new_with_free_func(g_free);
    /* The same secret comes again with every rejoin. */
    if (log_secrets->len < 256 &&
        !g_ptr_array_find_with_equal_func(log_secrets, secret, g_str_equal, NULL))
        g_ptr_array_add(log_secrets, g_strdup(secret));
    g_mutex_unlock(&log_lock);
}

/* Caller holds log_lock. */
static char *rr_log_redact_unlocked(const char *message)
{
    GString *out = g_string_new(message ? message : "");
    for (guint i = 0; log_secrets && i < log_secrets->len; i++)
        g_string_replace(out, g_ptr_array_index(log_secrets, i), "[redacted]", 0);
    char *r = g_regex_replace_literal(patterns(), out->str, -1, 0, "[redacted]", 0, NULL);
    g_string_free(out, TRUE);
    return r;
}

char *rr_log_redact(const char *message)
{
    g_mutex_lock(&log_lock);
    char *r = rr_log_redact_unlocked(message);
    g_mutex_unlock(&log_lock);
    return r;
}

static const char *level_name(GLogLevelFlags level)
{
    if (level & G_LOG_LEVEL_ERROR)
        return "ERROR";
    if (level & G_LOG_LEVEL_CRITICAL)
        return "CRITICAL";
    if (level & G_LOG_LEVEL_WARNING)
        return "WARN";
    if (level & G_LOG_LEVEL_MESSAGE)
        return "NOTICE";
    if (level & G_LOG_LEVEL_INFO)
        return "INFO";
    return "DEBUG";
}

char *rr_log_format(RrLogFormat format, GLogLevelFlags level, const char *domain,
                    const char *message, gint64 unix_usec)
{
    g_autofree char *clean = rr_log_redact(message);
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_usec / G_USEC_PER_SEC);
    g_autofree char *ts = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
    g_autofree char *job = NULL;
    g_mutex_lock(&log_lock);
    job = g_strdup(log_job_id);
    g_mutex_unlock(&log_lock);
    int ms = (int)((unix_usec % G_USEC_PER_SEC) / 1000);

    if (format == RR_LOG_FORMAT_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "time");
        g_autofree char *t = g_strdup_printf("%s.%03dZ", ts, ms);
        json_builder_add_string_value(b, t);
        json_builder_set_member_name(b, "level");
        json_builder_add_string_value(b, level_name(level));
        json_builder_set_member_name(b, "domain");
        json_builder_add_string_value(b, domain ? domain : "roomrec");
        if (job) {
            json_builder_set_member_name(b, "job");
            json_builder_add_string_value(b, job);
        }
        json_builder_set_member_name(b, "msg");
        json_builder_add_string_value(b, clean);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        return json_to_string(root, FALSE);
    }
    return g_strdup_printf("%s.%03dZ %s %s%s%s%s %s", ts, ms, level_name(level),
                           domain ? domain : "roomrec", job ? " [job " : "", job ? job : "",
                           job ? "]" : "", clean);
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                               gpointer user_data)
{
    const char *domain = NULL, *message = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
        else if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
    }
    /* Below the minimum level, print only what G_MESSAGES_DEBUG asks for. */
    if ((level & G_LOG_LEVEL_MASK) > log_min_level &&
        g_log_writer_default_would_drop(level, domain))
        return G_LOG_WRITER_HANDLED;
    g_autofree char *line = rr_log_format(log_format, level, domain, message, g_get_real_time());
    FILE *out = log_out ? log_out : stderr;
    g_mutex_lock(&log_lock);
    /* A status line is taken off the terminal, the record printed, and the status line
     * drawn again below it. */
    if (log_status)
        fputs("\r\033[K", out);
    fprintf(out, "%s\n", line);
    if (log_status)
        fputs(log_status, out);
    fflush(out);
    g_mutex_unlock(&log_lock);
    return G_LOG_WRITER_HANDLED;
}

void rr_log_init(RrLogFormat format, GLogLevelFlags min_level)
{
    log_format = format;
    log_min_level = min_level;
    patterns();
    g_log_set_writer_func(writer, NULL, NULL);
}

void rr_log_set_job_id(const char *job_id)
{
    g_mutex_lock(&log_lock);
    g_free(log_job_id);
    log_job_id = g_strdup(job_id);
    g_mutex_unlock(&log_lock);
}

void rr_log_status_line(const char *line)
{
    FILE *out = log_out ? log_out : stderr;
    g_mutex_lock(&log_lock);
    if (line == NULL && log_status == NULL) {
        g_mutex_unlock(&log_lock);
        return;
    }
    g_free(log_status);
    log_status = line ? rr_log_redact_unlocked(line) : NULL;
    fputs("\r\033[K", out);
    if (log_status)
        fputs(log_status, out);
    fflush(out);
    g_mutex_unlock(&log_lock);
}

void rr_log_set_output(FILE *out)
{
    g_mutex_lock(&log_lock);
    log_out = out;
    g_mutex_unlock(&log_lock);
}
