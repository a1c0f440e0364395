/* worker/cmd-worker: `roomrec worker`, the cluster service (worker/service.h).
 *
 *   roomrec worker [--config FILE] [--redis ADDR] [--prefix P] [--worker-id ID]
 *                  [--output-dir DIR] [--health-port N] [--local-address IP]
 *
 * Loads the config (defaults < YAML file < environment < these flags,
 * worker/config.h), then runs the supervisor until SIGTERM has drained it or SIGINT has
 * stopped it. Exit codes: 0 after a drain or stop, 2 for a bad flag or config, 1 when
 * the service cannot start. Called by rr_cli_main() on the main thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int rr_cmd_worker(int argc, char **argv);

G_END_DECLS
