/* worker/cli: subcommand dispatch. See cli.h. */
#include "worker/cli.h"

#include "worker/cmd-probe.h"
#include "worker/cmd-queue.h"
#include "worker/cmd-record.h"
#include "worker/cmd-token.h"
#include "worker/cmd-worker.h"
#include "worker/log.h"

#include <stdio.h>
#include <string.h>

#ifndef RR_VERSION
#define RR_VERSION "0.1.0"
#endif

static int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "roomrec version: unexpected argument '%s'\n", argv[1]);
        return RR_EXIT_USAGE;
    }
    printf("roomrec %s\n", RR_VERSION);
    return RR_EXIT_OK;
}

const RrCliCommand rr_cli_commands[] = {
    {"version", "print the version and exit", cmd_version},
    {"probe", "join a room as a hidden recorder and report connectivity and media", rr_cmd_probe},
    {"record", "record a room, a participant or a track to a file", rr_cmd_record},
    {"token", "print a recorder access token", rr_cmd_token},
    {"worker", "take recording jobs from Redis (the cluster service)", rr_cmd_worker},
    {"submit", "put a recording job on the Redis queue and print its egress id", rr_cmd_submit},
    {"status", "show the status (EgressInfo) of a queued or running egress", rr_cmd_status},
    {"list", "list the egresses on the Redis queue", rr_cmd_list},
    {"stop", "stop a queued or running egress", rr_cmd_stop},
    {"layout", "switch a running room composite to another layout", rr_cmd_layout},
    {NULL, NULL, NULL},
};

const RrCliCommand *rr_cli_find(const char *name)
{
    for (const RrCliCommand *c = rr_cli_commands; name && c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

char *rr_cli_help(void)
{
    GString *s = g_string_new("usage: roomrec COMMAND [OPTIONS]\n\n"
                              "Records LiveKit-protocol rooms without a browser.\n\n"
                              "Commands:\n");
    for (const RrCliCommand *c = rr_cli_commands; c->name; c++)
        g_string_append_printf(s, "  %-10s %s\n", c->name, c->summary);
    g_string_append(s, "\nRun 'roomrec COMMAND --help' for a command's options.\n");
    return g_string_free(s, FALSE);
}

int rr_cli_main(int argc, char **argv)
{
    const char *level = g_getenv("ROOMREC_LOG_LEVEL");
    GLogLevelFlags min = G_LOG_LEVEL_MESSAGE;
    if (g_strcmp0(level, "info") == 0)
        min = G_LOG_LEVEL_INFO;
    else if (g_strcmp0(level, "debug") == 0)
        min = G_LOG_LEVEL_DEBUG;
    rr_log_init(g_strcmp0(g_getenv("ROOMREC_LOG_FORMAT"), "json") == 0 ? RR_LOG_FORMAT_JSON
                                                                       : RR_LOG_FORMAT_TEXT,
                min);

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        g_autofree char *help = rr_cli_help();
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? RR_EXIT_USAGE : RR_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv + 1);
    const RrCliCommand *c = rr_cli_find(argv[1]);
    if (!c) {
        fprintf(stderr, "roomrec: unknown command '%s' (see 'roomrec --help')\n", argv[1]);
        return RR_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
