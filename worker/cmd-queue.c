/* worker/cmd-queue: `roomrec submit|status|list|stop`. See cmd-queue.h. */
#include "worker/cmd-queue.h"
#include "worker/service-admission.h"

#include "queue/queue.h"
#include "worker/cli.h"
#include "worker/egress-info.h"
#include "worker/job.h"
#include "worker/log.h"

#include <stdio.h>

/* The Redis options every command takes. */
typedef struct {
    char *redis;
    char *password;
    char *prefix;
} RedisOptions;

static void redis_options_clear(RedisOptions *o)
{
    g_free(o->redis);
    g_free(o->password);
    g_free(o->prefix);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RedisOptions, redis_options_clear)

static void add_redis_options(GOptionContext *ctx, RedisOptions *o)
{
    GOptionEntry entries[] = {
        {"redis", 0, 0, G_OPTION_ARG_STRING, &o->redis,
         "Redis address (env REDIS_ADDRESS, default 127.0.0.1:6379)", "HOST:PORT"},
        {"redis-password", 0, 0, G_OPTION_ARG_STRING, &o->password,
         "Redis password (env REDIS_PASSWORD; prefer the environment)", "PASSWORD"},
        {"prefix", 0, 0, G_OPTION_ARG_STRING, &o->prefix,
         "key prefix (env ROOMREC_KEY_PREFIX, default roomrec:)", "PREFIX"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionGroup *g =
        g_option_group_new("redis", "Redis options:", "Show the Redis options", NULL, NULL);
    g_option_group_add_entries(g, entries);
    g_option_context_add_group(ctx, g);
}

static RrQueue *open_queue(const char *cmd, RedisOptions *o)
{
    const char *address = o->redis ? o->redis : g_getenv("REDIS_ADDRESS");
    const char *password = o->password ? o->password : g_getenv("REDIS_PASSWORD");
    const char *prefix = o->prefix ? o->prefix : g_getenv("ROOMREC_KEY_PREFIX");
    if (password && *password)
        rr_log_add_secret(password);
    RrQueueConfig c;
    rr_queue_config_init(&c);
    g_autofree char *host = NULL;
    g_autoptr(GError) error = NULL;
    if (address && *address) {
        if (!rr_queue_parse_address(address, &host, &c.port, &error)) {
            fprintf(stderr, "roomrec %s: --redis: %s\n", cmd, error->message);
            return NULL;
        }
        c.host = host;
    }
    if (password && *password)
        c.password = password;
    if (prefix && *prefix)
        c.prefix = prefix;
    RrQueue *q = rr_queue_new(&c, &error);
    if (!q)
        fprintf(stderr, "roomrec %s: %s\n", cmd, error->message);
    return q;
}

/* Parses the options; FALSE with the exit code in *rc. */
static gboolean parse(GOptionContext *ctx, const char *cmd, int *argc, char ***argv, int nargs,
                      int *rc)
{
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "roomrec %s: %s\n", cmd, error->message);
        *rc = RR_EXIT_USAGE;
        return FALSE;
    }
    if (*argc - 1 != nargs) {
        if (*argc - 1 > nargs)
            fprintf(stderr, "roomrec %s: unexpected argument '%s'\n", cmd, (*argv)[nargs + 1]);
        else
            fprintf(stderr, "roomrec %s: missing argument (see 'roomrec %s --help')\n", cmd, cmd);
        *rc = RR_EXIT_USAGE;
        return FALSE;
    }
    return TRUE;
}

double rr_cmd_queue_default_cost(const RrJobSpec *spec)
{
    /* The worker's own default costs (cpu_cost.*), so that a submitted job fits the
     * capacity a default worker offers. */
    RrAdmissionConfig ac;
    rr_admission_config_init(&ac);
    RrAdmission *a = rr_admission_new(&ac);
    double cost = rr_admission_job_cost(a, spec);
    rr_admission_free(a);
    return cost;
}

int rr_cmd_submit(int argc, char **argv)
{
    g_auto(RedisOptions) ro = {0};
    double cost = -1;
    GOptionEntry entries[] = {
        {"cost", 0, 0, G_OPTION_ARG_DOUBLE, &cost,
         "CPU cost for admission, in cores (default: the worker's cpu_cost for the job's "
         "kind: room composite 0.35, audio-only 0.05, participant and track composite 0.2, "
         "track 0.02)",
         "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("JOB.json - enqueue a recording job");
    g_option_context_set_summary(
        ctx, "Validates JOB.json (the `record --job-file` format; '-' reads stdin), puts it on\n"
             "the Redis queue for `roomrec worker` and prints its egress id.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    add_redis_options(ctx, &ro);
    int rc;
    if (!parse(ctx, "submit", &argc, &argv, 1, &rc))
        return rc;

    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    gsize len = 0;
    if (g_strcmp0(argv[1], "-") == 0) {
        g_autoptr(GIOChannel) in = g_io_channel_unix_new(0);
        if (g_io_channel_read_to_end(in, &text, &len, &error) != G_IO_STATUS_NORMAL) {
            fprintf(stderr, "roomrec submit: stdin: %s\n", error ? error->message : "read error");
            return RR_EXIT_USAGE;
        }
    } else if (!g_file_get_contents(argv[1], &text, &len, &error)) {
        fprintf(stderr, "roomrec submit: %s\n", error->message);
        return RR_EXIT_USAGE;
    }
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse(text, len, &error);
    if (!spec) {
        fprintf(stderr, "roomrec submit: %s: %s\n", argv[1], error->message);
        return RR_EXIT_USAGE;
    }
    if (cost < 0)
        cost = rr_cmd_queue_default_cost(spec);
    g_autofree char *id =
        spec->egress_id && *spec->egress_id ? g_strdup(spec->egress_id) : rr_queue_new_egress_id();
    g_autoptr(RrEgressInfo) info = rr_egress_info_new(id, spec);
    g_autofree char *info_json = rr_egress_info_to_json(info, FALSE);

    g_autoptr(RrQueue) q = open_queue("submit", &ro);
    if (!q)
        return RR_EXIT_USAGE;
    g_autofree char *stored = NULL;
    RrQueueSubmit s = {
        .job_json = text,
        .egress_id = id,
        .type = rr_job_kind_to_string(spec->kind),
        .cost = cost,
        .room = spec->room_name,
        .info_json = info_json,
    };
    if (!rr_queue_submit(q, &s, &stored, &error)) {
        fprintf(stderr, "roomrec submit: %s\n", error->message);
        return g_error_matches(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID) ? RR_EXIT_USAGE
                                                                              : RR_EXIT_FAILED;
    }
    printf("%s\n", stored);
    return RR_EXIT_OK;
}

static char *pretty_json(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text, -1, NULL))
        return g_strdup(text);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, json_parser_get_root(p));
    return json_generator_to_data(gen, NULL);
}

int rr_cmd_status(int argc, char **argv)
{
    g_auto(RedisOptions) ro = {0};
    g_autoptr(GOptionContext) ctx = g_option_context_new("EGRESS_ID - show an egress's status");
    g_option_context_set_summary(ctx, "Prints the EgressInfo JSON of a queued, running or "
                                      "finished egress.");
    add_redis_options(ctx, &ro);
    int rc;
    if (!parse(ctx, "status", &argc, &argv, 1, &rc))
        return rc;
    g_autoptr(RrQueue) q = open_queue("status", &ro);
    if (!q)
        return RR_EXIT_USAGE;
    g_autoptr(GError) error = NULL;
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(q, argv[1], &error);
    if (!st) {
        fprintf(stderr, "roomrec status: %s\n", error->message);
        return RR_EXIT_FAILED;
    }
    g_autofree char *text = pretty_json(st->info_json);
    printf("%s\n", text);
    return RR_EXIT_OK;
}

static char *format_ms(gint64 ms)
{
    if (ms <= 0)
        return g_strdup("-");
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(ms / 1000);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("-");
}

int rr_cmd_list(int argc, char **argv)
{
    g_auto(RedisOptions) ro = {0};
    g_autofree char *room = NULL;
    gboolean active = FALSE, json = FALSE;
    GOptionEntry entries[] = {
        {"room", 0, 0, G_OPTION_ARG_STRING, &room, "only this room's egresses", "ROOM"},
        {"active", 0, 0, G_OPTION_ARG_NONE, &active, "only egresses that have not ended", NULL},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print a JSON array of EgressInfo", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- list egresses");
    g_option_context_set_summary(ctx, "Lists the egresses known to the queue, oldest first.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    add_redis_options(ctx, &ro);
    int rc;
    if (!parse(ctx, "list", &argc, &argv, 0, &rc))
        return rc;
    g_autoptr(RrQueue) q = open_queue("list", &ro);
    if (!q)
        return RR_EXIT_USAGE;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = rr_queue_list(q, room, active, &error);
    if (!list) {
        fprintf(stderr, "roomrec list: %s\n", error->message);
        return RR_EXIT_FAILED;
    }
    if (json) {
        GString *out = g_string_new("[");
        for (guint i = 0; i < list->len; i++) {
            RrQueueStatus *s = g_ptr_array_index(list, i);
            g_string_append_printf(out, "%s%s", i ? "," : "", *s->info_json ? s->info_json : "{}");
        }
        g_string_append(out, "]");
        g_autofree char *text = pretty_json(out->str);
        g_string_free(out, TRUE);
        printf("%s\n", text);
        return RR_EXIT_OK;
    }
    printf("%-18s %-22s %-20s %-20s %4s %s\n", "EGRESS_ID", "STATUS", "ROOM", "WORKER", "PART",
           "UPDATED");
    for (guint i = 0; i < list->len; i++) {
        RrQueueStatus *s = g_ptr_array_index(list, i);
        g_autofree char *when = format_ms(s->updated_at);
        printf("%-18s %-22s %-20s %-20s %4u %s\n", s->egress_id, s->status,
               *s->room ? s->room : "-", *s->worker ? s->worker : "-", s->part, when);
    }
    return RR_EXIT_OK;
}

int rr_cmd_stop(int argc, char **argv)
{
    g_auto(RedisOptions) ro = {0};
    g_autoptr(GOptionContext) ctx = g_option_context_new("EGRESS_ID - stop an egress");
    g_option_context_set_summary(ctx, "Asks the worker holding the egress to stop it (it finalises "
                                      "the recording);\na queued egress is stopped when a worker "
                                      "takes it.");
    add_redis_options(ctx, &ro);
    int rc;
    if (!parse(ctx, "stop", &argc, &argv, 1, &rc))
        return rc;
    g_autoptr(RrQueue) q = open_queue("stop", &ro);
    if (!q)
        return RR_EXIT_USAGE;
    g_autoptr(GError) error = NULL;
    if (!rr_queue_send_control(q, argv[1], "{\"stop\":true}", &error)) {
        fprintf(stderr, "roomrec stop: %s\n", error->message);
        return RR_EXIT_FAILED;
    }
    printf("stop requested for %s\n", argv[1]);
    return RR_EXIT_OK;
}

int rr_cmd_layout(int argc, char **argv)
{
    g_auto(RedisOptions) ro = {0};
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("EGRESS_ID LAYOUT - switch a room composite's layout");
    g_option_context_set_summary(ctx, "Asks the worker holding the egress to switch its room "
                                      "composite to LAYOUT\n(grid, speaker, single-speaker, each "
                                      "optionally with -light or -dark).");
    add_redis_options(ctx, &ro);
    int rc;
    if (!parse(ctx, "layout", &argc, &argv, 2, &rc))
        return rc;
    if (!rr_job_layout_is_valid(argv[2])) {
        fprintf(stderr,
                "roomrec layout: LAYOUT: unknown layout \"%s\" (grid, speaker, single-speaker, "
                "with -light/-dark)\n",
                g_utf8_validate(argv[2], -1, NULL) ? argv[2] : "?");
        return RR_EXIT_USAGE;
    }
    g_autoptr(RrQueue) q = open_queue("layout", &ro);
    if (!q)
        return RR_EXIT_USAGE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "layout");
    json_builder_add_string_value(b, argv[2]);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *msg = json_to_string(root, FALSE);
    g_autoptr(GError) error = NULL;
    if (!rr_queue_send_control(q, argv[1], msg, &error)) {
        fprintf(stderr, "roomrec layout: %s\n", error->message);
        return RR_EXIT_FAILED;
    }
    printf("layout %s requested for %s\n", argv[2], argv[1]);
    return RR_EXIT_OK;
}
