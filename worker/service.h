/* worker/service: `roomrec worker`, the supervisor — jobs from Redis, one child process
 * per room (its recordings side by side, worker/service-room) or per job, leases, status,
 * control, drain.
 *
 *   queue/ (Redis) ──rr_queue_read (cost fits)──► RrService ──spawn──► roomrec record (child)
 *        ▲  status hash + events, ack, lease refresh    │  ◄──status lines── │
 *        └──────────────────────────────────────────────┘  ──control lines─► │
 *   webhooks (worker/webhook) ◄── every status change
 *   health + metrics (worker/service-health, libsoup)
 *
 * docs/WORKER.md describes the behaviour (admission, parts, leases, signals). Everything
 * runs on the thread-default main context of the thread that calls rr_service_run(); the
 * service borrows the config (which must outlive it).
 */
#pragma once

#include "worker/config.h"

G_BEGIN_DECLS

typedef struct RrService RrService;

typedef struct {
    const RrWorkerConfig *config;   /* (borrowed) finished config */
    const char *output_dir;         /* relative output paths go here; NULL: cwd */
    const char *const *record_args; /* extra `roomrec record` flags (ICE options) */
    const char *exe;                /* the binary for children; NULL: /proc/self/exe */
    guint jobs_per_child;           /* > 1: the jobs of one room share a room child
                                       (`record --host`), up to this many; 0: 64;
                                       1: one `record --job-file` child per job */
} RrServiceOptions;

RrService *rr_service_new(const RrServiceOptions *options, GError **error);
void rr_service_free(RrService *s);

/* Runs until drained (SIGTERM), stopped (SIGINT) or a fatal error; returns the exit
 * code (0 after a drain or stop). */
int rr_service_run(RrService *s);

/* What SIGTERM and SIGINT do (also for tests). */
void rr_service_drain(RrService *s);
void rr_service_stop_all(RrService *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrService, rr_service_free)

G_END_DECLS
