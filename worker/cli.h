/* worker/cli: the roomrec subcommand table and exit codes.
 *
 * main() looks the first argument up in rr_cli_commands and calls its handler with the
 * remaining arguments (argv[0] is the subcommand name). Only commands that work are in
 * the table, so `roomrec --help` lists exactly what can be run.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit codes shared by every subcommand (documented in README.md). */
enum {
    RR_EXIT_OK = 0,
    RR_EXIT_FAILED = 1,
    RR_EXIT_USAGE = 2,
    RR_EXIT_AUTH = 3,          /* the server refused the token */
    RR_EXIT_SIGNALLING = 4,    /* server unreachable, wrong URL, socket lost, join timed out */
    RR_EXIT_MEDIA = 5,         /* ICE or DTLS never came up (connectivity report says why) */
    RR_EXIT_NO_MEDIA = 6,      /* connected, but a subscribed track received no media */
    RR_EXIT_PROTOCOL = 7,      /* the server sent something unusable (bad offer, garbage) */
    RR_EXIT_ABORTED = 8,       /* record: nothing recordable before the start timeout (412) */
    RR_EXIT_LIMIT_REACHED = 9, /* record: --max-duration reached */
};

typedef int (*RrCliFunc)(int argc, char **argv);

typedef struct {
    const char *name;
    const char *summary;
    RrCliFunc run;
} RrCliCommand;

extern const RrCliCommand rr_cli_commands[];

const RrCliCommand *rr_cli_find(const char *name);
/* (transfer full): the top-level help text. */
char *rr_cli_help(void);
int rr_cli_main(int argc, char **argv);

G_END_DECLS
