/* worker/cmd-queue: the operator commands on the Redis queue — `roomrec submit`,
 * `status`, `list`, `stop`, `layout`.
 *
 * Called by rr_cli_main() on the main thread; argv[0] is the command name. Each opens
 * its own RrQueue (queue/queue.h) from --redis HOST:PORT (env REDIS_ADDRESS, default
 * 127.0.0.1:6379), --redis-password (env REDIS_PASSWORD; never printed) and --prefix
 * (env ROOMREC_KEY_PREFIX, default "roomrec:"). `submit` validates the job with the job
 * parser (worker/job.h) before anything reaches Redis. Returns an RR_EXIT_* code: 0 done,
 * 1 Redis unreachable / no such egress / already ended, 2 bad flags or job.
 */
#pragma once

#include "worker/job.h"

#include <glib.h>

G_BEGIN_DECLS

int rr_cmd_submit(int argc, char **argv);
int rr_cmd_status(int argc, char **argv);
int rr_cmd_list(int argc, char **argv);
int rr_cmd_stop(int argc, char **argv);
/* `roomrec layout ID LAYOUT`: the layout name is checked with rr_job_layout_is_valid()
 * before it is queued (2 when unknown). */
int rr_cmd_layout(int argc, char **argv);

/* The CPU cost @spec gets when `submit --cost` is not given: the worker's default
 * cpu_cost for its kind (worker/service-admission.h). */
double rr_cmd_queue_default_cost(const RrJobSpec *spec);

G_END_DECLS
