/* worker/child-proto: the messages between `roomrec worker` and its recording children.
 *
 * Each job runs as a child `roomrec record --job-file F --status-fd N --control-fd M`
 * (docs/WORKER.md). Both pipes carry one JSON object per line:
 *
 *   child → parent (status fd):
 *     {"status":"EGRESS_ACTIVE","info":{EgressInfo},"output":"/rec/a.mp4"}  at every
 *         status change (the last one is final), "output" when the file is known
 *     {"progress":{"elapsed_s":4.0,"bytes":81234},"output":"/rec/a.mp4"}  every 2 s
 *   parent → child (control fd), also what an operator queues in Redis for a job:
 *     {"stop":true}              drain and finish COMPLETE (as SIGTERM)
 *     {"layout":"speaker"}       change a composite's layout (LiveKit template names)
 *
 * A room child (`roomrec record --host`, docs/WORKER.md) runs several recordings: every
 * line then carries the recording's "egress_id", and the parent starts each one:
 *   parent → child: {"egress_id":"EG_x","start":{JOB},"part":2}   ("part" optional)
 *                   {"egress_id":"EG_x","stop":true}, {"egress_id":"EG_x","layout":"grid"}
 *   child → parent: the status and progress lines above with "egress_id":"EG_x"
 *
 * The parsers take outside input (a control message comes from Redis): anything else is
 * an error naming the field and the reason, never a crash. Pure functions, any thread.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Longest line either side accepts (an EgressInfo is a few KiB). */
#define RR_CHILD_PROTO_MAX_LINE (256 * 1024)

typedef enum {
    RR_CONTROL_STOP,
    RR_CONTROL_LAYOUT,
} RrControlKind;

typedef struct {
    RrControlKind kind;
    char *layout; /* RR_CONTROL_LAYOUT: a valid layout name */
} RrControl;

/* Parses one control message. RR_WORKER_ERROR_INVALID_JOB ("layout: unknown layout
 * \"x\"", "stop: must be true", "lyout: unknown field") on anything else. */
gboolean rr_control_parse(const char *json, gssize len, RrControl *control, GError **error);
void rr_control_clear(RrControl *control);
/* (transfer full) The line (without newline) for @control. */
char *rr_control_to_json(const RrControl *control);

typedef struct {
    gboolean is_status; /* else progress */
    char *status;       /* "EGRESS_ACTIVE", ... (status lines) */
    gboolean final;     /* COMPLETE, FAILED, ABORTED, LIMIT_REACHED */
    JsonNode *info;     /* the EgressInfo object (status lines) */
    char *output;       /* NULL when not known yet */
    double elapsed_s;   /* progress */
    gint64 bytes;       /* progress */
    char *egress_id;    /* a room child's line: whose it is (else NULL) */
} RrChildEvent;

/* Parses one line of the status fd. */
gboolean rr_child_event_parse(const char *line, gssize len, RrChildEvent *event, GError **error);
void rr_child_event_clear(RrChildEvent *event);

typedef enum {
    RR_HOST_START,
    RR_HOST_STOP,
    RR_HOST_LAYOUT,
} RrHostCommandKind;

typedef struct {
    RrHostCommandKind kind;
    char *egress_id; /* always set, non-empty */
    char *job_json;  /* RR_HOST_START: the job object, as JSON text (not validated here) */
    guint part;      /* RR_HOST_START: 0 when not given */
    char *layout;    /* RR_HOST_LAYOUT: a valid layout name */
} RrHostCommand;

/* Parses one line a room child reads (RR_WORKER_ERROR_INVALID_JOB naming the field). */
gboolean rr_host_command_parse(const char *line, gssize len, RrHostCommand *cmd, GError **error);
void rr_host_command_clear(RrHostCommand *cmd);
/* (transfer full) The lines (without newline) the parent writes; NULL when @job_json
 * is not a JSON object. */
char *rr_host_command_start_json(const char *egress_id, const char *job_json, guint part);
char *rr_host_command_control_json(const char *egress_id, const RrControl *control);

/* Whether @status ("EGRESS_COMPLETE", ...) is a final EgressStatus name. */
gboolean rr_egress_status_name_is_final(const char *status);

G_END_DECLS
