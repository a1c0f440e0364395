/* queue/queue: the Redis Streams job queue — jobs, leases, status, control.
 *
 * An RrQueue owns one synchronous hiredis connection to Redis (directly, or to the master
 * a Sentinel names) and is used from ONE thread: the caller's main loop (the supervisor
 * of `roomrec worker`, or an operator command). Every call sends its commands with a
 * command timeout (default 2 s) and returns FALSE/NULL with a GError in RR_QUEUE_ERROR on
 * failure; nothing blocks longer than connect + command timeouts. Strings and structs
 * returned are (transfer full) unless said otherwise.
 *
 * DESIGN
 * ------
 * Keys ({P} = the key prefix, default "roomrec:", prepended as is, so "roomrec:jobs";
 * everything the queue writes lives under it, so several clusters can share one Redis):
 *   {P}jobs           stream, one entry per submitted job: egress_id, job (JSON), type,
 *                     cost, submitted_at (unix ms)
 *   {P}workers        its consumer group (created on first use, MKSTREAM)
 *   {P}egress:<id>    hash: info (EgressInfo JSON), status, final ("0"/"1"), room, worker,
 *                     part, created_at, updated_at (unix ms), stage (the worker's: "uploading"
 *                     once the recording has ended and its files wait in the spool for
 *                     their upload, so that a worker reclaiming the job uploads them
 *                     instead of recording a new part)
 *   {P}egress         sorted set of egress ids by created_at (for list)
 *   {P}events         stream of status changes (egress_id, status, worker, info), capped
 *                     with MAXLEN ~ events_maxlen
 *   {P}ctl:<id>       list of control messages for the job's holder ({"stop":true},
 *                     {"layout":"speaker"}), popped by the holder
 *
 * Delivery: a job is read with XREADGROUP and stays in the group's pending list (PEL)
 * until the holder acknowledges it with rr_queue_ack() once it has FINISHED (its final
 * status is written first). A job is never acknowledged at start, so a worker dying
 * mid-recording loses nothing.
 *
 * Capacity: each entry carries its cost. rr_queue_read() runs one Lua script that looks
 * at the NEXT job (the oldest reclaimable one, else the first not yet delivered), and
 * delivers it only if its cost fits in what the caller says it has available; otherwise
 * it delivers nothing and reports the cost it would need (RR_QUEUE_READ_BUSY). The check
 * and the delivery are one atomic script, so a worker never holds a job it cannot
 * afford, and no job is taken and given back. The queue is FIFO: an expensive job at the
 * head waits for a worker with room for it rather than being overtaken.
 *
 * Lease: the lease of a held job is the idle time of its PEL entry. The holder refreshes
 * it (rr_queue_refresh, every lease/3 or so) with a Lua script that checks in XPENDING
 * that it is still the owner and then XCLAIMs the entry to itself with min-idle 0 JUSTID
 * (idle reset, delivery count unchanged). If another consumer owns it, the call fails
 * with RR_QUEUE_ERROR_LOST: the caller must stop its copy at once. A holder that has
 * not refreshed successfully for a whole lease (counted from when it SENT its last
 * successful refresh) may have been taken over — unless Redis itself was away (restart,
 * failover), since a queue reclaims nothing for a lease after its reconnect (below) and
 * every holder that comes back within that lease refreshes first. The holder decides:
 * stopping at once never overlaps but stops every recording whenever Redis goes away;
 * `roomrec worker` records on and stops when its refresh says LOST (docs/WORKER.md), so
 * only a worker cut off from a Redis that the others still reach overlaps, until it
 * reaches Redis again.
 *
 * Reclaim: an entry idle for longer than the lease belongs to a dead (or cut off)
 * worker; rr_queue_read() claims it (XPENDING IDLE + XCLAIM in the same script, again
 * only if its cost fits). XCLAIM raises the entry's delivery count, which becomes the
 * job's part number: part 1 is the first run, part N+1 continues a recording whose
 * worker died during part N (into a new file; the status lists every part). A queue does
 * NOT reclaim anything until it has been connected for one full lease after its last
 * (re)connect: after a Redis restart or failover every idle time may look expired, and
 * the live holders must get the chance to refresh first.
 *
 * Connection: on any connection error the context is dropped and the call fails with
 * RR_QUEUE_ERROR_DISCONNECTED; the next call reconnects, but not before a backoff
 * (100 ms doubling to 5 s or a quarter of the lease, whichever is less; reset by a
 * successful connect) has passed — until then calls
 * fail fast with DISCONNECTED. Commands are never retried behind the caller's back (a
 * submit may or may not have happened when the link broke; the caller decides). AUTH
 * (username optional) and SELECT run on every connect. With Sentinel, the sentinels are
 * asked in turn for SENTINEL get-master-addr-by-name on every connect, and the address
 * they name is checked with ROLE to be a master, so a reconnect follows a failover; a
 * READONLY reply (a demoted master) also drops the connection. hiredis 0.14 (Debian 12)
 * has no TLS: use_tls fails with RR_QUEUE_ERROR_UNSUPPORTED. The password never reaches
 * a log or an error message.
 *
 * Status values are opaque strings to the queue (the worker writes LiveKit's
 * "EGRESS_ACTIVE" etc.); the caller says whether a status is final. Final statuses
 * expire after status_ttl_s (default 7 days); list drops ids whose status has expired.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RR_QUEUE_ERROR (rr_queue_error_quark())
GQuark rr_queue_error_quark(void);

typedef enum {
    RR_QUEUE_ERROR_FAILED,       /* anything not covered below */
    RR_QUEUE_ERROR_DISCONNECTED, /* no connection to Redis (or it broke during the call) */
    RR_QUEUE_ERROR_PROTOCOL,     /* Redis replied with an error or something unexpected */
    RR_QUEUE_ERROR_NOT_FOUND,    /* no egress / job with that id */
    RR_QUEUE_ERROR_INVALID,      /* bad argument from outside: malformed JSON, too big, ... */
    RR_QUEUE_ERROR_UNSUPPORTED,  /* e.g. TLS with hiredis 0.14 */
    RR_QUEUE_ERROR_LOST,         /* the job is held by another consumer now: stop it */
    RR_QUEUE_ERROR_EXISTS,       /* submit: an egress with that id exists already */
    RR_QUEUE_ERROR_FINAL,        /* send_control: the egress has ended already */
    RR_QUEUE_ERROR_AUTH,         /* AUTH refused (wrong password / user) */
} RrQueueError;

/* Connection and behaviour settings; strings are borrowed during rr_queue_new() only
 * (the queue copies them). Start from rr_queue_config_init(). */
typedef struct {
    const char *host;     /* direct mode: Redis host (default "127.0.0.1") */
    int port;             /* default 6379 */
    const char *username; /* NULL: AUTH with the password only */
    const char *password; /* NULL: no AUTH. Never logged. */
    int db;               /* SELECT, default 0 */
    gboolean use_tls;     /* not available with hiredis 0.14: rr_queue_new() fails */
    /* Sentinel mode when non-NULL: NULL-terminated "host:port" list, and the master's
     * name. The password/username above are for the master; sentinel_password for the
     * sentinels (NULL: none). */
    const char *const *sentinel_addrs;
    const char *sentinel_master;
    const char *sentinel_password;
    const char *prefix;       /* key prefix, default "roomrec:" */
    guint command_timeout_ms; /* per command and per connect, default 2000 */
    guint lease_ms;           /* lease of a held job, default 10000 */
    guint status_ttl_s;       /* how long a final status is kept, default 7 days */
    gsize max_job_bytes;      /* submit refuses bigger jobs, default 64 KiB */
    guint events_maxlen;      /* {P}events cap (approximate), default 10000 */
} RrQueueConfig;

void rr_queue_config_init(RrQueueConfig *config);

/* Parses "HOST:PORT", "[V6]:PORT" or "HOST" (port 6379) into host/port. */
gboolean rr_queue_parse_address(const char *address, char **host, int *port, GError **error);

typedef struct _RrQueue RrQueue;

/* Validates the config and copies it; does not connect (the first call does, so a
 * worker can start while Redis is down). Fails on a bad config only. */
RrQueue *rr_queue_new(const RrQueueConfig *config, GError **error);
void rr_queue_free(RrQueue *q);

/* Connects now if not connected (honouring the backoff). Calls do this themselves;
 * useful to report a bad address or password at start. */
gboolean rr_queue_connect(RrQueue *q, GError **error);
gboolean rr_queue_is_connected(RrQueue *q);
/* "host:port" of the Redis currently connected (the master in Sentinel mode), or NULL.
 * (transfer none), valid until the next call. */
const char *rr_queue_address(RrQueue *q);
/* Whether reclaiming is allowed yet: connected for at least a lease since the last
 * (re)connect. */
gboolean rr_queue_may_reclaim(RrQueue *q);
const char *rr_queue_prefix(RrQueue *q); /* (transfer none) */
guint rr_queue_lease_ms(RrQueue *q);

/* A new egress id: "EG_" + 12 random base62 characters. (transfer full) */
char *rr_queue_new_egress_id(void);

/* ---- jobs ---- */

typedef struct {
    const char *job_json;  /* the request (the `record --job-file` JSON object) */
    const char *egress_id; /* NULL: the job's "egress_id"/"egressId", else a new id. If
                            * both are given they must match. The stored job always has
                            * its "egress_id". */
    const char *type;      /* the job's kind, for admission ("room_composite", ...) */
    double cost;           /* the CPU cost the worker must have available (>= 0) */
    const char *room;      /* room name, for list --room (may be NULL) */
    const char *info_json; /* the initial status (EgressInfo JSON, EGRESS_STARTING);
                            * NULL: a minimal {"egressId","roomName","status"} */
} RrQueueSubmit;

/* Checks that job_json is a JSON object no bigger than max_job_bytes (nothing more: the
 * job parser is the caller's), then writes the status (EGRESS_STARTING), the index, an
 * event and the stream entry in one atomic script. @egress_id: (out) (transfer full).
 * RR_QUEUE_ERROR_EXISTS when a status for that id exists already. */
gboolean rr_queue_submit(RrQueue *q, const RrQueueSubmit *job, char **egress_id, GError **error);

typedef struct {
    char *entry_id; /* the stream entry id */
    char *egress_id;
    char *job_json; /* as submitted, with "egress_id" set */
    char *type;
    double cost;
    guint part;          /* 1: first run; N > 1: reclaimed, continues into part N */
    gint64 submitted_at; /* unix ms */
} RrQueueJob;

void rr_queue_job_free(RrQueueJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrQueueJob, rr_queue_job_free)

typedef enum {
    RR_QUEUE_READ_NONE, /* nothing waiting (or only reclaimable jobs during the grace) */
    RR_QUEUE_READ_JOB,  /* *job is set: the caller holds it now */
    RR_QUEUE_READ_BUSY, /* the next job costs more than available (*needed_cost) */
} RrQueueReadResult;

/* Takes the next job for @consumer (a name unique to this worker process, e.g.
 * "host-pid") if its cost is <= @available_cost: first the oldest job whose lease has
 * expired (when rr_queue_may_reclaim()), else the next new one. Never blocks waiting for
 * jobs: callers poll (e.g. every 500 ms) while they have capacity. @job: (out),
 * @needed_cost: (out) (optional). Returns RR_QUEUE_READ_NONE with @error set on failure. */
RrQueueReadResult rr_queue_read(RrQueue *q, const char *consumer, double available_cost,
                                RrQueueJob **job, double *needed_cost, GError **error);

/* Renews the lease of @job held by @consumer. RR_QUEUE_ERROR_LOST: another consumer
 * holds it now; RR_QUEUE_ERROR_NOT_FOUND: it is not pending any more (acked). In both
 * cases the caller must stop the job without writing a final status. */
gboolean rr_queue_refresh(RrQueue *q, const char *consumer, const RrQueueJob *job, GError **error);

/* The job has finished (its final status written with rr_queue_set_status first):
 * XACK + XDEL its entry and drop its control list, only if @consumer still holds it
 * (else LOST / NOT_FOUND as for refresh). */
gboolean rr_queue_ack(RrQueue *q, const char *consumer, const RrQueueJob *job, GError **error);

/* Gives a held job back without finishing it (a draining worker): its lease is made
 * expired at once so another worker may reclaim it (continuing into the next part).
 * Only if @consumer holds it. */
gboolean rr_queue_release(RrQueue *q, const char *consumer, const RrQueueJob *job, GError **error);

/* ---- status ---- */

typedef struct {
    char *egress_id;
    char *status; /* "EGRESS_STARTING", ... as written */
    gboolean final;
    char *room;   /* "" when unknown */
    char *worker; /* the consumer that wrote it last, "" for submit */
    guint part;
    gint64 created_at, updated_at; /* unix ms */
    char *info_json;               /* the EgressInfo JSON as written */
} RrQueueStatus;

void rr_queue_status_free(RrQueueStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrQueueStatus, rr_queue_status_free)

/* Writes the status of @egress_id (hash + index + an event on {P}events) atomically.
 * @worker: the consumer name (may be NULL), @part: the job's part (0: unchanged).
 * A final status gets the status TTL. NOT_FOUND when the egress was never submitted. */
gboolean rr_queue_set_status(RrQueue *q, const char *egress_id, const char *status, gboolean final,
                             const char *info_json, const char *worker, guint part, GError **error);

/* NULL with RR_QUEUE_ERROR_NOT_FOUND when there is no such egress. */
RrQueueStatus *rr_queue_get_status(RrQueue *q, const char *egress_id, GError **error);

/* Sets the stage field of @egress_id's status (see Keys; "" clears it). NOT_FOUND when
 * there is no such egress. */
gboolean rr_queue_set_stage(RrQueue *q, const char *egress_id, const char *stage, GError **error);
/* *@stage: (transfer full) the stage, NULL when none is set (or no such egress). */
gboolean rr_queue_get_stage(RrQueue *q, const char *egress_id, char **stage, GError **error);

/* Statuses oldest first; @room (NULL: all) and @active_only (not final) filter.
 * (transfer full) (element-type RrQueueStatus). */
GPtrArray *rr_queue_list(RrQueue *q, const char *room, gboolean active_only, GError **error);

/* ---- control: operator → the worker holding the job ---- */

/* Queues @message_json (a JSON object, e.g. {"stop":true} or {"layout":"speaker"}) for
 * the holder of @egress_id. NOT_FOUND: no such egress; FINAL: it has ended already. */
gboolean rr_queue_send_control(RrQueue *q, const char *egress_id, const char *message_json,
                               GError **error);

/* Pops the oldest control message for @egress_id into *message_json (NULL when none). */
gboolean rr_queue_pop_control(RrQueue *q, const char *egress_id, char **message_json,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrQueue, rr_queue_free)

G_END_DECLS
