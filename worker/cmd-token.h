/* worker/cmd-token: `roomrec token`, print a recorder access token (or decode one).
 *
 * Called by rr_cli_main() on the main thread; argv[0] is "token". Reads
 * LIVEKIT_API_KEY / LIVEKIT_API_SECRET (the LiveKit CLI's names) when --api-key /
 * --api-secret are not given. Returns an RR_EXIT_* code.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int rr_cmd_token(int argc, char **argv);

G_END_DECLS
