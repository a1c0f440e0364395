/* worker/cmd-worker: `roomrec worker`. See cmd-worker.h. */
#include "worker/cmd-worker.h"

#include "worker/cli.h"
#include "worker/config.h"
#include "worker/service.h"

#include <signal.h>
#include <stdio.h>

int rr_cmd_worker(int argc, char **argv)
{
    g_autofree char *config_file = NULL, *redis = NULL, *prefix = NULL, *worker_id = NULL;
    g_autofree char *output_dir = NULL, *local_address = NULL;
    int health_port = -1;
    int jobs_per_child = 64;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, "YAML config (LiveKit egress keys)",
         "FILE"},
        {"redis", 0, 0, G_OPTION_ARG_STRING, &redis, "Redis address (redis.address)", "HOST:PORT"},
        {"prefix", 0, 0, G_OPTION_ARG_STRING, &prefix, "Redis key prefix (key_prefix)", "P"},
        {"worker-id", 0, 0, G_OPTION_ARG_STRING, &worker_id,
         "this worker's name in the queue (default HOST-PID)", "ID"},
        {"output-dir", 0, 0, G_OPTION_ARG_FILENAME, &output_dir,
         "relative output paths are written here (default: the current directory)", "DIR"},
        {"jobs-per-child", 0, 0, G_OPTION_ARG_INT, &jobs_per_child,
         "the jobs of one room share a recording process, up to N (default 64; 1: a process "
         "per job)",
         "N"},
        {"health-port", 0, 0, G_OPTION_ARG_INT, &health_port,
         "serve /health and /metrics on this port (health_port)", "N"},
        {"local-address", 0, 0, G_OPTION_ARG_STRING, &local_address,
         "recordings use only this local address for ICE (as record --local-address)", "IP"},
        {NULL},
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("- take recording jobs from Redis");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "roomrec worker: %s\n", err->message);
        return RR_EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, "roomrec worker: unexpected argument '%s'\n", argv[1]);
        return RR_EXIT_USAGE;
    }
    g_autoptr(RrWorkerConfig) cfg = rr_worker_config_new();
    g_autofree char *hp = health_port >= 0 ? g_strdup_printf("%d", health_port) : NULL;
    const struct {
        const char *key, *value;
    } flags[] = {{"redis.address", redis},
                 {"key_prefix", prefix},
                 {"worker_id", worker_id},
                 {"health_port", hp}};
    if ((config_file && !rr_worker_config_load_file(cfg, config_file, &err)) ||
        !rr_worker_config_apply_env(cfg, NULL, &err)) {
        fprintf(stderr, "roomrec worker: %s\n", err->message);
        return RR_EXIT_USAGE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(flags); i++) {
        if (flags[i].value && !rr_worker_config_set(cfg, flags[i].key, flags[i].value, &err)) {
            fprintf(stderr, "roomrec worker: %s\n", err->message);
            return RR_EXIT_USAGE;
        }
    }
    if (!rr_worker_config_finish(cfg, &err)) {
        fprintf(stderr, "roomrec worker: %s\n", err->message);
        return RR_EXIT_USAGE;
    }
    if (output_dir && g_mkdir_with_parents(output_dir, 0755) != 0) {
        fprintf(stderr, "roomrec worker: --output-dir %s: cannot create it\n", output_dir);
        return RR_EXIT_USAGE;
    }
    /* A child that died leaves its control pipe closed: a write there must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const char *record_args[3] = {NULL};
    g_autofree char *la =
        local_address ? g_strconcat("--local-address=", local_address, NULL) : NULL;
    record_args[0] = la;
    if (jobs_per_child < 1 || jobs_per_child > 10000) {
        fprintf(stderr, "roomrec worker: --jobs-per-child: must be from 1 to 10000\n");
        return RR_EXIT_USAGE;
    }
    RrServiceOptions opts = {.config = cfg,
                             .output_dir = output_dir,
                             .record_args = record_args,
                             .jobs_per_child = (guint)jobs_per_child};
    g_autoptr(RrService) svc = rr_service_new(&opts, &err);
    if (!svc) {
        fprintf(stderr, "roomrec worker: %s\n", err->message);
        return RR_EXIT_FAILED;
    }
    return rr_service_run(svc);
}
