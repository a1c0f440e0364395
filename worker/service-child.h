/* worker/service-child: one recording child process of `roomrec worker`.
 *
 * Starts `roomrec record --job-file F --status-fd 3 --control-fd 4 [--part N]
 * [extra args]`, or a room child `roomrec record --host --status-fd 3 --control-fd 4
 * [extra args]` that is sent its jobs on the control pipe (the running binary,
 * /proc/self/exe) with the environment given (the
 * LiveKit URL and keys go there, not on the command line), reads its status lines
 * (worker/child-proto.h) and reports each one, sends it control messages, and reports
 * its end once both its status pipe has closed and it has been reaped. Freeing a child
 * that still runs closes its control pipe, which makes it stop and finalise its file.
 *
 * Runs on the thread-default main context of the caller (the supervisor's); callbacks
 * there. The child's stdout and stderr are the worker's (its log lines carry the job id).
 */
#pragma once

#include "worker/child-proto.h"

G_BEGIN_DECLS

typedef struct RrServiceChild RrServiceChild;

typedef struct {
    /* One parsed status or progress line. */
    void (*event)(RrServiceChild *c, const RrChildEvent *ev, gpointer user_data);
    /* Once: the child is gone. @exit_code is its exit status (-1 if signalled),
     * @term_signal the signal that killed it (0 if it exited). */
    void (*exited)(RrServiceChild *c, int exit_code, int term_signal, gpointer user_data);
} RrServiceChildCallbacks;

typedef struct {
    const char *exe;               /* NULL: /proc/self/exe */
    gboolean host;                 /* a room child (--host): no job file, no part */
    const char *job_file;          /* the job JSON (egress_id set) */
    guint part;                    /* > 1: --part N */
    const char *const *extra_args; /* NULL-terminated, appended (may be NULL) */
    const char *const *env;        /* NULL-terminated KEY=VALUE set on top of ours */
    const char *cwd;               /* the child's working directory (NULL: ours) */
} RrServiceChildConfig;

RrServiceChild *rr_service_child_spawn(const RrServiceChildConfig *config,
                                       const RrServiceChildCallbacks *callbacks, gpointer user_data,
                                       GError **error);
/* Closes the pipes (a running child stops) and forgets the callbacks. */
void rr_service_child_free(RrServiceChild *c);

int rr_service_child_pid(const RrServiceChild *c);
/* Writes one control line; FALSE when the child is not listening any more. */
gboolean rr_service_child_send(RrServiceChild *c, const RrControl *control);
/* Writes one line (@json, no newline in it); FALSE when the child is not listening. */
gboolean rr_service_child_send_line(RrServiceChild *c, const char *json);
/* Closes the control pipe: the child stops what it runs and ends. */
void rr_service_child_close_control(RrServiceChild *c);
/* Sends a signal to the child (SIGKILL as a last resort). */
void rr_service_child_signal(RrServiceChild *c, int signum);

G_END_DECLS
