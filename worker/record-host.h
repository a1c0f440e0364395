/* worker/record-host: a room child — `roomrec record --host --status-fd N --control-fd M`
 * runs every recording `roomrec worker` sends it, side by side on one main loop
 * (docs/WORKER.md, "Process model"; the lines are in worker/child-proto.h).
 *
 * A {"egress_id":ID,"start":JOB,"part":N} line on the control fd creates and starts an
 * RrRecorder for JOB; {"egress_id":ID,"stop":true} and {"egress_id":ID,"layout":L} go
 * to that recorder. Each recorder's status changes (and a progress line every 2 s) go to
 * the status fd tagged with its egress id; a job that cannot start (bad job, no LiveKit
 * URL or credentials) gets a FAILED status line at once. A recorder is freed once it has
 * finished. The control pipe closing (the worker died or has nothing more for this
 * child) stops every recording still running; rr_record_host_run() returns once it has
 * closed and nothing is left. A malformed command is logged with its reason and dropped.
 *
 * Runs on the thread-default main context. The base config (session URL and keys, ICE,
 * timeouts, output directory) is copied by value: its strings are borrowed and must
 * outlive the host; job, egress_id and part are taken from each start command.
 */
#pragma once

#include "worker/recorder.h"

G_BEGIN_DECLS

typedef struct RrRecordHost RrRecordHost;

/* Takes ownership of both fds (closed by rr_record_host_free); both must be open fds
 * above 2. */
RrRecordHost *rr_record_host_new(int status_fd, int control_fd, const RrRecorderConfig *base,
                                 GError **error);
void rr_record_host_free(RrRecordHost *host);

/* Runs until the control pipe has closed and every recording has finished. */
void rr_record_host_run(RrRecordHost *host);
/* Stops every running recording (drain, COMPLETE), as SIGTERM does. */
void rr_record_host_stop_all(RrRecordHost *host, const char *why);
/* Recordings still held (started and not yet finished). */
guint rr_record_host_count(RrRecordHost *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrRecordHost, rr_record_host_free)

G_END_DECLS
