/* worker/service-priv: RrService's insides, shared by service.c (loop, reading, leases,
 * signals), service-job.c (one job's life: child, status, parts, ack) and
 * service-health.c (health and metrics). Same thread rules as service.h. */
#pragma once

#include "queue/queue.h"
#include "worker/job.h"
#include "worker/service-admission.h"
#include "worker/service-child.h"
#include "worker/service.h"
#include "worker/webhook.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct RrServiceJob RrServiceJob;
typedef struct RrServiceSpool RrServiceSpool;
typedef struct RrServiceRoom RrServiceRoom;
typedef struct RrServiceTakeover RrServiceTakeover;

struct RrService {
    RrServiceOptions opts;
    const RrWorkerConfig *cfg;
    GMainLoop *loop;
    RrQueue *queue;
    RrAdmission *admission;
    RrWebhookNotifier *webhooks; /* NULL: no webhook URLs and no keys */
    char *consumer;              /* the worker id: our consumer name */
    char *tmp_dir;               /* job files (0700) */
    GHashTable *jobs;            /* egress id → RrServiceJob */
    GPtrArray *rooms;            /* RrServiceRoom, every room child not yet reaped */
    gboolean draining, stopping;
    int exit_code;
    guint read_timer, lease_timer, tick_timer, sig_term, sig_int;
    guint lease_now; /* idle source: refresh every lease now (Redis is back) */
    gboolean was_connected, ever_connected;
    gint64 started_us;

    /* Metrics. */
    GHashTable *results; /* "type\tresult" → guint64 count (GUINT_TO_POINTER) */
    guint64 redis_reconnects;
    guint64 redis_errors;
    guint64 jobs_rejected;
    double max_committed; /* highest committed cost seen (tests check capacity) */
    SoupServer *health, *metrics;
    RrServiceSpool *spool; /* the spool's retry while it runs (service-spool.c) */
    guint spool_timer;     /* the next look at the spool */
    guint spool_delay_s;   /* its backoff while entries wait (0: none) */
};

struct RrServiceJob {
    RrService *svc;
    RrQueueJob *q;
    RrJobSpec *spec; /* NULL for a rejected job */
    char *type;      /* "room_composite", "audio_room_composite", ... */
    double cost;
    RrServiceChild *child; /* its own child (one process per job), or NULL */
    RrServiceRoom *room;   /* the room child it runs in (until its final status), or NULL */
    char *job_file;
    JsonArray *prev_files; /* earlier parts' fileResults */
    JsonNode *info;        /* the latest EgressInfo from the child (or ours) */
    char *status;          /* its status name */
    char *output;          /* the file being written */
    gint64 bytes;
    gboolean status_dirty; /* a status still to write to Redis */
    gboolean final;        /* the final status is known */
    gboolean final_written, acked, lost, stop_sent, gone;
    gboolean stage_dirty; /* the child's files wait in the spool: stage "uploading" to write */
    RrServiceTakeover *takeover; /* uploading what a dead worker's child left in the spool */
    gint64 refresh_ok_us;        /* when the last successful refresh was sent */
    gboolean lease_warned;       /* logged that it has not been refreshed for a lease */
};

/* service-job.c */
/* Starts a job the queue handed us (or rejects it with FAILED). */
void rr_service_job_start(RrService *s, RrQueueJob *q);
void rr_service_job_free(RrServiceJob *j);
/* Writes what is pending (status, final status, ack); called from the tick. Returns
 * TRUE when the job is done and may be dropped. */
gboolean rr_service_job_flush(RrServiceJob *j);
/* Asks the child to stop (drain, COMPLETE). */
void rr_service_job_stop(RrServiceJob *j, const char *why);
/* Pops and forwards the job's control messages. */
void rr_service_job_control(RrServiceJob *j);

/* service-spool.c */
/* Uploads what waits in the spool (on a thread) and updates those jobs' statuses. */
void rr_service_spool_start(RrService *s);
/* A job's files went to the spool: the next retry in SPOOL_RETRY_MIN_S (unless one is
 * running or backing off already). */
void rr_service_spool_soon(RrService *s);
/* The service goes away: a retry still running updates no status. */
void rr_service_spool_detach(RrService *s);

/* service-takeover.c: a job reclaimed after its recording had ended (stage "uploading"
 * in Redis, its files in our spool, or its status ENDING with its finished file at its
 * output path) is not recorded again: its files are uploaded from the spool and its
 * status finished (docs/WORKER.md, "Killed during the upload"). */
/* TRUE when @j is such a job: its takeover upload has started (or it is finished). */
gboolean rr_service_takeover_try(RrServiceJob *j);
/* @j goes away: a running takeover upload forgets it. */
void rr_service_takeover_detach(RrServiceJob *j);
/* service-job.c: the takeover's outcome: @info (taken) with @status, final. */
void rr_service_job_finish_takeover(RrServiceJob *j, JsonNode *info, const char *status);

/* Its child's status or progress line. */
void rr_service_job_event(RrServiceJob *j, const RrChildEvent *ev);
/* The recording is over: its process ended (@crashed, with @exit_code and @term_signal
 * as RrServiceChildCallbacks.exited gives them), or its room child reported its final
 * status (@crashed FALSE). A job without a final status is FAILED. */
void rr_service_job_ended(RrServiceJob *j, gboolean crashed, int exit_code, int term_signal);

/* service-room.c: room children (`roomrec record --host`), see docs/WORKER.md. */
/* Runs @j in the open room child of its room, or in a new one. */
gboolean rr_service_room_start_job(RrService *s, RrServiceJob *j, GError **error);
/* Sends @control (stop or layout) for @j; FALSE when its room child does not listen. */
gboolean rr_service_room_send(RrServiceJob *j, const RrControl *control);
/* @j is freed while still in a room child: forget it there. */
void rr_service_room_detach(RrServiceJob *j);
/* SIGKILL to every room child (the second stop). */
void rr_service_rooms_kill(RrService *s);
/* The pids of the room children (appended to @pids, ints). */
void rr_service_rooms_pids(RrService *s, GArray *pids);
void rr_service_room_free(RrServiceRoom *r);

/* service-health.c */
gboolean rr_service_health_start(RrService *s, GError **error);
void rr_service_health_stop(RrService *s);
void rr_service_count_result(RrService *s, const char *type, const char *result);

G_END_DECLS
