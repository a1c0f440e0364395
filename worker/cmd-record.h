/* worker/cmd-record: `roomrec record`, one recording from flags or a job file.
 *
 * Turns the flags (or --job-file / --job-env, a LiveKit StartEgressRequest-like JSON) into
 * a validated job (worker/job.h), runs an RrRecorder on the main context until it
 * finishes, shows progress on stderr, and prints the EgressInfo at the end (--json on
 * stdout, --info-file). The contract (flags, exit codes) is README.md's `roomrec record`; exit
 * codes are RR_EXIT_* from cli.h. Called by rr_cli_main() on the main thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int rr_cmd_record(int argc, char **argv);

G_END_DECLS
