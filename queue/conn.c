/* queue/conn: the queue's Redis connection — config, connect (direct or through
 * Sentinel), AUTH/SELECT, the consumer group, backoff, and the command helper.
 * See queue.h (DESIGN: Connection). */
#include "queue/queue-priv.h"

#include <stdarg.h>
#include <string.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000

void rr_queue_config_init(RrQueueConfig *config)
{
    memset(config, 0, sizeof(*config));
    config->host = "127.0.0.1";
    config->port = 6379;
    config->prefix = "roomrec:";
    config->command_timeout_ms = 2000;
    config->lease_ms = 10000;
    config->status_ttl_s = 7 * 24 * 3600;
    config->max_job_bytes = 64 * 1024;
    config->events_maxlen = 10000;
}

gboolean rr_queue_parse_address(const char *address, char **host, int *port, GError **error)
{
    if (!address || !*address) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID, "redis address: empty");
        return FALSE;
    }
    const char *colon = NULL;
    g_autofree char *h = NULL;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close == address + 1 || (close[1] != '\0' && close[1] != ':')) {
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                        "redis address '%s': expected [IPV6]:PORT", address);
            return FALSE;
        }
        h = g_strndup(address + 1, close - address - 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(address, ':');
        h = colon ? g_strndup(address, colon - address) : g_strdup(address);
        if (!*h || (colon && strchr(h, ':'))) {
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                        "redis address '%s': expected HOST:PORT", address);
            return FALSE;
        }
    }
    int p = 6379;
    if (colon) {
        char *end = NULL;
        guint64 v = g_ascii_strtoull(colon + 1, &end, 10);
        if (end == colon + 1 || *end || v == 0 || v > 65535) {
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                        "redis address '%s': port is not a number in 1-65535", address);
            return FALSE;
        }
        p = (int)v;
    }
    *host = g_steal_pointer(&h);
    *port = p;
    return TRUE;
}

RrQueue *rr_queue_new(const RrQueueConfig *c, GError **error)
{
    if (c->use_tls) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_UNSUPPORTED,
                    "redis use_tls: not supported with hiredis %d.%d (no TLS before 1.0)",
                    HIREDIS_MAJOR, HIREDIS_MINOR);
        return NULL;
    }
    if (c->sentinel_addrs && c->sentinel_addrs[0]) {
        if (!c->sentinel_master || !*c->sentinel_master) {
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                        "redis sentinel_master_name: required with sentinel addresses");
            return NULL;
        }
        for (int i = 0; c->sentinel_addrs[i]; i++) {
            g_autofree char *h = NULL;
            int p;
            if (!rr_queue_parse_address(c->sentinel_addrs[i], &h, &p, error))
                return NULL;
        }
    } else if (!c->host || !*c->host || c->port <= 0 || c->port > 65535) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "redis address: host and a port in 1-65535 are required");
        return NULL;
    }
    if (c->db < 0) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID, "redis db: negative (%d)",
                    c->db);
        return NULL;
    }
    if (!c->prefix || strpbrk(c->prefix, " \t\r\n")) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "key prefix: must be set and contain no white space");
        return NULL;
    }
    if (c->lease_ms < 100 || c->command_timeout_ms == 0) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "queue lease (%u ms) must be >= 100 ms and the command timeout > 0",
                    c->lease_ms);
        return NULL;
    }
    RrQueue *q = g_new0(RrQueue, 1);
    q->host = g_strdup(c->host);
    q->port = c->port;
    q->username = g_strdup(c->username);
    q->password = g_strdup(c->password);
    q->db = c->db;
    if (c->sentinel_addrs && c->sentinel_addrs[0])
        q->sentinels = g_strdupv((char **)c->sentinel_addrs);
    q->sentinel_master = g_strdup(c->sentinel_master);
    q->sentinel_password = g_strdup(c->sentinel_password);
    q->prefix = g_strdup(c->prefix);
    q->timeout_ms = c->command_timeout_ms;
    q->lease_ms = c->lease_ms;
    q->status_ttl_s = c->status_ttl_s ? c->status_ttl_s : 7 * 24 * 3600;
    q->max_job_bytes = c->max_job_bytes ? c->max_job_bytes : 64 * 1024;
    q->events_maxlen = c->events_maxlen ? c->events_maxlen : 10000;
    return q;
}

static void drop_connection(RrQueue *q)
{
    if (q->ctx)
        redisFree(q->ctx);
    q->ctx = NULL;
    g_clear_pointer(&q->address, g_free);
}

void rr_queue_free(RrQueue *q)
{
    if (!q)
        return;
    drop_connection(q);
    g_free(q->host);
    g_free(q->username);
    if (q->password)
        memset(q->password, 0, strlen(q->password));
    g_free(q->password);
    g_strfreev(q->sentinels);
    g_free(q->sentinel_master);
    if (q->sentinel_password)
        memset(q->sentinel_password, 0, strlen(q->sentinel_password));
    g_free(q->sentinel_password);
    g_free(q->prefix);
    g_free(q->last_error);
    g_free(q);
}

char *rr_queue_key(RrQueue *q, const char *suffix, const char *id)
{
    return g_strconcat(q->prefix, suffix, id, NULL);
}

gint64 rr_queue_now_ms(void)
{
    return g_get_real_time() / 1000;
}

const char *rr_queue_prefix(RrQueue *q)
{
    return q->prefix;
}

guint rr_queue_lease_ms(RrQueue *q)
{
    return q->lease_ms;
}

gboolean rr_queue_is_connected(RrQueue *q)
{
    return q->ctx != NULL;
}

const char *rr_queue_address(RrQueue *q)
{
    return q->address;
}

gboolean rr_queue_may_reclaim(RrQueue *q)
{
    return q->ctx && g_get_monotonic_time() - q->connected_since >=
                         (gint64)q->lease_ms * G_TIME_SPAN_MILLISECOND;
}

/* A raw command on @c (no reconnect logic); NULL with *why set on a connection error. */
static redisReply *raw(redisContext *c, char **why, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r)
        *why = g_strdup(c->errstr[0] ? c->errstr : "connection lost");
    return r;
}

static redisContext *open_context(RrQueue *q, const char *host, int port, char **why)
{
    struct timeval tv = {q->timeout_ms / 1000, (q->timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        *why = g_strdup_printf("cannot connect to %s:%d: %s", host, port,
                               c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* AUTH (never echoing the password) and SELECT; FALSE with *why and *auth_failed. */
static gboolean auth_select(redisContext *c, const char *user, const char *password, int db,
                            const char *what, char **why, gboolean *auth_failed)
{
    if (password) {
        const char *argv[3] = {"AUTH", user ? user : password, password};
        g_autoptr(redisReply) r = raw(c, why, user ? 3 : 2, argv);
        if (!r)
            return FALSE;
        if (r->type == REDIS_REPLY_ERROR) {
            *why = g_strdup_printf("%s refused the credentials: %s", what, r->str);
            *auth_failed = TRUE;
            return FALSE;
        }
    }
    if (db > 0) {
        g_autofree char *n = g_strdup_printf("%d", db);
        const char *argv[2] = {"SELECT", n};
        g_autoptr(redisReply) r = raw(c, why, 2, argv);
        if (!r)
            return FALSE;
        if (r->type == REDIS_REPLY_ERROR) {
            *why = g_strdup_printf("%s: SELECT %d: %s", what, db, r->str);
            return FALSE;
        }
    }
    return TRUE;
}

/* Asks the sentinels in turn where the master is. */
static gboolean sentinel_lookup(RrQueue *q, char **host, int *port, char **why,
                                gboolean *auth_failed)
{
    GString *errors = g_string_new(NULL);
    for (int i = 0; q->sentinels[i]; i++) {
        g_autofree char *sh = NULL, *e = NULL;
        int sp;
        if (!rr_queue_parse_address(q->sentinels[i], &sh, &sp, NULL))
            continue;
        redisContext *c = open_context(q, sh, sp, &e);
        if (c && auth_select(c, NULL, q->sentinel_password, 0, "sentinel", &e, auth_failed)) {
            const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", q->sentinel_master};
            g_autoptr(redisReply) r = raw(c, &e, 3, argv);
            if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                r->element[0]->type == REDIS_REPLY_STRING &&
                r->element[1]->type == REDIS_REPLY_STRING) {
                *host = g_strdup(r->element[0]->str);
                *port = atoi(r->element[1]->str);
                redisFree(c);
                g_string_free(errors, TRUE);
                return TRUE;
            }
            if (r && !e)
                e = g_strdup_printf("sentinel %s does not know master '%s'", q->sentinels[i],
                                    q->sentinel_master);
        }
        if (c)
            redisFree(c);
        g_string_append_printf(errors, "%s%s", errors->len ? "; " : "", e ? e : "?");
    }
    *why = g_strdup_printf("no sentinel named the master: %s", errors->str);
    g_string_free(errors, TRUE);
    return FALSE;
}

/* Creates the consumer group (delivering entries already in the stream too). */
static gboolean ensure_group(RrQueue *q, redisContext *c, char **why)
{
    g_autofree char *stream = rr_queue_key(q, "jobs", NULL);
    g_autofree char *group = rr_queue_key(q, "workers", NULL);
    const char *argv[6] = {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"};
    g_autoptr(redisReply) r = raw(c, why, 6, argv);
    if (!r)
        return FALSE;
    if (r->type == REDIS_REPLY_ERROR && !g_str_has_prefix(r->str, "BUSYGROUP")) {
        *why = g_strdup_printf("creating the consumer group: %s", r->str);
        return FALSE;
    }
    return TRUE;
}

static gboolean try_connect(RrQueue *q, char **why, gboolean *auth_failed)
{
    g_autofree char *host = NULL;
    int port = q->port;
    if (q->sentinels) {
        if (!sentinel_lookup(q, &host, &port, why, auth_failed))
            return FALSE;
    } else {
        host = g_strdup(q->host);
    }
    redisContext *c = open_context(q, host, port, why);
    if (!c)
        return FALSE;
    if (!auth_select(c, q->username, q->password, q->db, "redis", why, auth_failed)) {
        redisFree(c);
        return FALSE;
    }
    if (q->sentinels) {
        /* A master just demoted may still be named for a moment: only a master will do. */
        const char *argv[1] = {"ROLE"};
        g_autoptr(redisReply) r = raw(c, why, 1, argv);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            strcmp(r->element[0]->str, "master") != 0) {
            if (!*why)
                *why = g_strdup_printf("%s:%d named by the sentinels is not a master", host, port);
            redisFree(c);
            return FALSE;
        }
    }
    if (!ensure_group(q, c, why)) {
        redisFree(c);
        return FALSE;
    }
    q->ctx = c;
    q->address = g_strdup_printf("%s:%d", host, port);
    return TRUE;
}

gboolean rr_queue_connect(RrQueue *q, GError **error)
{
    if (q->ctx)
        return TRUE;
    gint64 now = g_get_monotonic_time();
    if (now < q->next_attempt) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED,
                    "redis unreachable (%s); next attempt in %" G_GINT64_FORMAT " ms",
                    q->last_error ? q->last_error : "?", (q->next_attempt - now) / 1000);
        return FALSE;
    }
    g_autofree char *why = NULL;
    gboolean auth_failed = FALSE;
    if (!try_connect(q, &why, &auth_failed)) {
        /* Capped at a quarter of the lease too: after a Redis restart every worker must be
         * back (and refresh what it holds) well within the lease that the first one back
         * waits before it may reclaim anything. */
        guint cap = MAX(MIN(BACKOFF_MAX_MS, q->lease_ms / 4), BACKOFF_FIRST_MS);
        q->backoff_ms = q->backoff_ms ? MIN(q->backoff_ms * 2, cap) : BACKOFF_FIRST_MS;
        q->next_attempt = g_get_monotonic_time() + (gint64)q->backoff_ms * 1000;
        g_free(q->last_error);
        q->last_error = g_strdup(why);
        g_set_error(error, RR_QUEUE_ERROR,
                    auth_failed ? RR_QUEUE_ERROR_AUTH : RR_QUEUE_ERROR_DISCONNECTED, "redis: %s",
                    why);
        return FALSE;
    }
    q->backoff_ms = 0;
    q->next_attempt = 0;
    q->connected_since = g_get_monotonic_time();
    g_debug("connected to redis at %s", q->address);
    return TRUE;
}

redisReply *rr_queue_commandv(RrQueue *q, int argc, const char **argv, char **error_reply,
                              GError **error)
{
    if (!rr_queue_connect(q, error))
        return NULL;
    g_autofree char *why = NULL;
    redisReply *r = raw(q->ctx, &why, argc, argv);
    if (!r) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED, "redis at %s: %s (%s)",
                    q->address, why, argv[0]);
        drop_connection(q);
        /* Retry at once on the next call, then back off. */
        q->next_attempt = 0;
        q->backoff_ms = 0;
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        /* A demoted master or a Redis still loading its data: look for the master again. */
        if (g_str_has_prefix(r->str, "READONLY") || g_str_has_prefix(r->str, "LOADING") ||
            g_str_has_prefix(r->str, "MASTERDOWN")) {
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED, "redis at %s: %s",
                        q->address, r->str);
            freeReplyObject(r);
            drop_connection(q);
            return NULL;
        }
        if (error_reply) {
            /* Scripts' own error codes come back as "ERR CODE ...". */
            *error_reply =
                g_strdup(g_str_has_prefix(r->str, "ERR ") ? r->str + strlen("ERR ") : r->str);
        } else {
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "redis %s: %s", argv[0],
                        r->str);
        }
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

redisReply *rr_queue_command(RrQueue *q, char **error_reply, GError **error, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    va_list ap;
    va_start(ap, error);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        g_ptr_array_add(args, (gpointer)a);
    va_end(ap);
    return rr_queue_commandv(q, args->len, (const char **)args->pdata, error_reply, error);
}

char *rr_queue_new_egress_id(void)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    GString *s = g_string_new("EG_");
    for (int i = 0; i < 12; i++)
        g_string_append_c(s, alphabet[g_random_int_range(0, sizeof(alphabet) - 1)]);
    return g_string_free(s, FALSE);
}
