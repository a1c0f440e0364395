/* worker/record-link: the child's end of the worker ↔ child pipes (`roomrec record
 * --status-fd N --control-fd M`, worker/child-proto.h has the messages).
 *
 * The link writes a status line at every EgressInfo change and a progress line when
 * asked (cmd-record does every 2 s), and reads control lines: {"stop":true} calls
 * rr_recorder_stop() (drain, COMPLETE), {"layout":...} rr_recorder_set_layout(). The
 * control pipe closing (the worker died) is a stop too, so a child never records on
 * alone. Writes to a closed status pipe are dropped (SIGPIPE is ignored once a link
 * exists). Runs on the main context of `roomrec record`; borrows the recorder, which
 * must outlive the link. Either fd may be -1 (not used).
 */
#pragma once

#include "worker/recorder.h"

G_BEGIN_DECLS

typedef struct RrRecordLink RrRecordLink;

/* Takes ownership of both fds (closed by rr_record_link_free). */
RrRecordLink *rr_record_link_new(int status_fd, int control_fd, RrRecorder *rec, GError **error);
void rr_record_link_free(RrRecordLink *link);

/* One status line for @info (the recorder's current output path with it). */
void rr_record_link_status(RrRecordLink *link, const RrEgressInfo *info);
/* @func (@user_data) is called once when the control pipe closes (the worker died), after
 * the stop that this is. */
void rr_record_link_on_worker_gone(RrRecordLink *link, GSourceFunc func, gpointer user_data);

/* One progress line. */
void rr_record_link_progress(RrRecordLink *link);

/* The lines themselves (for a room child too, worker/record-host.h): (transfer full)
 * JSON without newline; @output and @egress_id are left out when NULL. */
char *rr_record_link_status_json(const RrEgressInfo *info, const char *output,
                                 const char *egress_id);
char *rr_record_link_progress_json(const RrRecorderProgress *progress, const char *output,
                                   const char *egress_id);
/* Writes @json and a newline to @fd (all of it); FALSE when the reader is gone. */
gboolean rr_record_link_write_line(int fd, const char *json);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrRecordLink, rr_record_link_free)

G_END_DECLS
