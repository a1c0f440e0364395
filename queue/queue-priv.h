/* queue/queue-priv: the RrQueue struct and the command helpers shared by the files of
 * queue/ (conn.c: connection, Sentinel, backoff; jobs.c: submit/read/lease; status.c:
 * status, list, control). Same thread rules as queue.h: one thread per RrQueue. */
#pragma once

#include "queue/queue.h"

#include <hiredis/hiredis.h>

G_BEGIN_DECLS

struct _RrQueue {
    char *host;
    int port;
    char *username;
    char *password;
    int db;
    GStrv sentinels; /* NULL: direct mode */
    char *sentinel_master;
    char *sentinel_password;
    char *prefix;
    guint timeout_ms;
    guint lease_ms;
    guint status_ttl_s;
    gsize max_job_bytes;
    guint events_maxlen;

    redisContext *ctx;      /* NULL: disconnected */
    char *address;          /* "host:port" of ctx */
    gint64 connected_since; /* monotonic µs of the last connect */
    gint64 next_attempt;    /* monotonic µs before which no connect is tried */
    guint backoff_ms;       /* next backoff, 0: none yet */
    char *last_error;       /* why the last connect failed */
};

/* (transfer full) prefix + @suffix (+ @id when not NULL). */
char *rr_queue_key(RrQueue *q, const char *suffix, const char *id);

/* Runs one command given as a NULL-terminated list of strings, connecting first when
 * needed. A connection error drops the connection (DISCONNECTED); an error reply is
 * returned as RR_QUEUE_ERROR_PROTOCOL with its text unless @error_reply is non-NULL, in
 * which case error replies are handed back in *@error_reply (transfer full) and NULL is
 * returned with no GError. (transfer full) the reply. */
redisReply *rr_queue_command(RrQueue *q, char **error_reply, GError **error,
                             ...) G_GNUC_NULL_TERMINATED;
/* The same with an argument vector. */
redisReply *rr_queue_commandv(RrQueue *q, int argc, const char **argv, char **error_reply,
                              GError **error);

/* Current time, unix ms. */
gint64 rr_queue_now_ms(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(redisReply, freeReplyObject)

G_END_DECLS
