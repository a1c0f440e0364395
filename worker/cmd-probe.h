/* worker/cmd-probe: `roomrec probe`, join a room as a hidden recorder and report.
 *
 * The users' connectivity tester: joins, stays for --duration seconds, and prints the
 * participants, tracks, ICE candidates (local, remote, added), the selected pair, DTLS and
 * data-channel state and per-track media stats, as text or JSON (--json). Called by
 * rr_cli_main() on the main thread; returns an RR_EXIT_* code that says what failed.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int rr_cmd_probe(int argc, char **argv);

G_END_DECLS
