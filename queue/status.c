/* queue/status: egress status (hash + index + events), list, and the control lists that
 * reach the worker holding a job. See queue.h (DESIGN: Keys). */
#include "queue/queue-priv.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* The status fields, in the order every reader asks for them. */
#define STATUS_FIELDS                                                                              \
    "status", "final", "room", "worker", "part", "created_at", "updated_at", "info"
#define N_STATUS_FIELDS 8

/* KEYS: status hash, events. ARGV: id, status, final, info, worker, part, now, ttl, maxlen */
static const char SET_STATUS_LUA[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOTFOUND') end\n"
    "redis.call('HSET', KEYS[1], 'info', ARGV[4], 'status', ARGV[2], 'final', ARGV[3],\n"
    "  'worker', ARGV[5], 'updated_at', ARGV[7])\n"
    "if ARGV[6] ~= '0' then redis.call('HSET', KEYS[1], 'part', ARGV[6]) end\n"
    "if ARGV[3] == '1' then redis.call('EXPIRE', KEYS[1], ARGV[8])\n"
    "else redis.call('PERSIST', KEYS[1]) end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'egress_id', ARGV[1],\n"
    "  'status', ARGV[2], 'worker', ARGV[5], 'part', redis.call('HGET', KEYS[1], 'part'),\n"
    "  'info', ARGV[4])\n"
    "return 1\n";

/* KEYS: status hash. ARGV: stage. */
static const char SET_STAGE_LUA[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOTFOUND') end\n"
    "redis.call('HSET', KEYS[1], 'stage', ARGV[1])\n"
    "return 1\n";

/* KEYS: index. ARGV: status key prefix, room ('' any), active only (1/0).
 * Returns id, then the N_STATUS_FIELDS values, per egress. */
static const char LIST_LUA[] =
    "local out = {}\n"
    "for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
    "  local h = redis.call('HMGET', ARGV[1] .. id, 'status', 'final', 'room', 'worker',\n"
    "    'part', 'created_at', 'updated_at', 'info')\n"
    "  if not h[1] then redis.call('ZREM', KEYS[1], id)\n"
    "  elseif (ARGV[2] == '' or h[3] == ARGV[2]) and (ARGV[3] == '0' or h[2] ~= '1') then\n"
    "    out[#out + 1] = id\n"
    "    for i = 1, 8 do out[#out + 1] = h[i] or '' end\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS: status hash, control list. ARGV: message, ttl. */
static const char SEND_CONTROL_LUA[] =
    "local f = redis.call('HGET', KEYS[1], 'final')\n"
    "if not f then return redis.error_reply('NOTFOUND') end\n"
    "if f == '1' then\n"
    "  return redis.error_reply('FINAL ' .. (redis.call('HGET', KEYS[1], 'status') or ''))\n"
    "end\n"
    "redis.call('RPUSH', KEYS[2], ARGV[1])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[2])\n"
    "return 1\n";

void rr_queue_status_free(RrQueueStatus *s)
{
    if (!s)
        return;
    g_free(s->egress_id);
    g_free(s->status);
    g_free(s->room);
    g_free(s->worker);
    g_free(s->info_json);
    g_free(s);
}

static gboolean check_id(const char *egress_id, GError **error)
{
    if (!egress_id || !*egress_id || strlen(egress_id) > 128 || strpbrk(egress_id, " \t\r\n")) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "egress id: empty, too long or contains white space");
        return FALSE;
    }
    return TRUE;
}

static const char *str_or_empty(redisReply *r)
{
    return r->type == REDIS_REPLY_STRING ? r->str : "";
}

/* From N_STATUS_FIELDS replies starting at @v. */
static RrQueueStatus *status_from(const char *egress_id, redisReply **v)
{
    RrQueueStatus *s = g_new0(RrQueueStatus, 1);
    s->egress_id = g_strdup(egress_id);
    s->status = g_strdup(str_or_empty(v[0]));
    s->final = strcmp(str_or_empty(v[1]), "1") == 0;
    s->room = g_strdup(str_or_empty(v[2]));
    s->worker = g_strdup(str_or_empty(v[3]));
    s->part = (guint)g_ascii_strtoull(str_or_empty(v[4]), NULL, 10);
    s->created_at = g_ascii_strtoll(str_or_empty(v[5]), NULL, 10);
    s->updated_at = g_ascii_strtoll(str_or_empty(v[6]), NULL, 10);
    s->info_json = g_strdup(str_or_empty(v[7]));
    return s;
}

gboolean rr_queue_set_status(RrQueue *q, const char *egress_id, const char *status, gboolean final,
                             const char *info_json, const char *worker, guint part, GError **error)
{
    if (!check_id(egress_id, error))
        return FALSE;
    g_autofree char *k_status = rr_queue_key(q, "egress:", egress_id);
    g_autofree char *k_events = rr_queue_key(q, "events", NULL);
    g_autofree char *p = g_strdup_printf("%u", part);
    g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT, rr_queue_now_ms());
    g_autofree char *ttl = g_strdup_printf("%u", q->status_ttl_s);
    g_autofree char *maxlen = g_strdup_printf("%u", q->events_maxlen);
    g_autofree char *err = NULL;
    g_autoptr(redisReply) r =
        rr_queue_command(q, &err, error, "EVAL", SET_STATUS_LUA, "2", k_status, k_events, egress_id,
                         status, final ? "1" : "0", info_json ? info_json : "",
                         worker ? worker : "", p, now, ttl, maxlen, NULL);
    if (r)
        return TRUE;
    if (err && g_str_has_prefix(err, "NOTFOUND"))
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND, "no egress with id %s",
                    egress_id);
    else if (err)
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "set status: %s", err);
    return FALSE;
}

RrQueueStatus *rr_queue_get_status(RrQueue *q, const char *egress_id, GError **error)
{
    if (!check_id(egress_id, error))
        return NULL;
    g_autofree char *k_status = rr_queue_key(q, "egress:", egress_id);
    g_autoptr(redisReply) r =
        rr_queue_command(q, NULL, error, "HMGET", k_status, STATUS_FIELDS, NULL);
    if (!r)
        return NULL;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != N_STATUS_FIELDS) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "status: unexpected reply");
        return NULL;
    }
    if (r->element[0]->type != REDIS_REPLY_STRING) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND, "no egress with id %s",
                    egress_id);
        return NULL;
    }
    return status_from(egress_id, r->element);
}

GPtrArray *rr_queue_list(RrQueue *q, const char *room, gboolean active_only, GError **error)
{
    g_autofree char *k_index = rr_queue_key(q, "egress", NULL);
    g_autofree char *status_prefix = rr_queue_key(q, "egress:", NULL);
    g_autoptr(redisReply) r =
        rr_queue_command(q, NULL, error, "EVAL", LIST_LUA, "1", k_index, status_prefix,
                         room ? room : "", active_only ? "1" : "0", NULL);
    if (!r)
        return NULL;
    const size_t stride = 1 + N_STATUS_FIELDS;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % stride != 0) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "list: unexpected reply");
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rr_queue_status_free);
    for (size_t i = 0; i < r->elements; i += stride)
        g_ptr_array_add(out, status_from(str_or_empty(r->element[i]), r->element + i + 1));
    return out;
}

gboolean rr_queue_send_control(RrQueue *q, const char *egress_id, const char *message_json,
                               GError **error)
{
    if (!check_id(egress_id, error))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!message_json || !json_parser_load_from_data(parser, message_json, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "control message: not a JSON object");
        return FALSE;
    }
    g_autofree char *k_status = rr_queue_key(q, "egress:", egress_id);
    g_autofree char *k_ctl = rr_queue_key(q, "ctl:", egress_id);
    g_autofree char *ttl = g_strdup_printf("%u", q->status_ttl_s);
    g_autofree char *err = NULL;
    g_autoptr(redisReply) r = rr_queue_command(q, &err, error, "EVAL", SEND_CONTROL_LUA, "2",
                                               k_status, k_ctl, message_json, ttl, NULL);
    if (r)
        return TRUE;
    if (err && g_str_has_prefix(err, "NOTFOUND"))
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND, "no egress with id %s",
                    egress_id);
    else if (err && g_str_has_prefix(err, "FINAL"))
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_FINAL, "egress %s has ended already (%s)",
                    egress_id, err + strlen("FINAL "));
    else if (err)
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "control: %s", err);
    return FALSE;
}

gboolean rr_queue_pop_control(RrQueue *q, const char *egress_id, char **message_json,
                              GError **error)
{
    *message_json = NULL;
    if (!check_id(egress_id, error))
        return FALSE;
    g_autofree char *k_ctl = rr_queue_key(q, "ctl:", egress_id);
    g_autoptr(redisReply) r = rr_queue_command(q, NULL, error, "LPOP", k_ctl, NULL);
    if (!r)
        return FALSE;
    if (r->type == REDIS_REPLY_STRING)
        *message_json = g_strdup(r->str);
    return TRUE;
}

gboolean rr_queue_set_stage(RrQueue *q, const char *egress_id, const char *stage, GError **error)
{
    if (!check_id(egress_id, error))
        return FALSE;
    g_autofree char *k_status = rr_queue_key(q, "egress:", egress_id);
    g_autofree char *err = NULL;
    g_autoptr(redisReply) r = rr_queue_command(q, &err, error, "EVAL", SET_STAGE_LUA, "1", k_status,
                                               stage ? stage : "", NULL);
    if (r)
        return TRUE;
    if (err && g_str_has_prefix(err, "NOTFOUND"))
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND, "no egress with id %s",
                    egress_id);
    else if (err)
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "set stage: %s", err);
    return FALSE;
}

gboolean rr_queue_get_stage(RrQueue *q, const char *egress_id, char **stage, GError **error)
{
    *stage = NULL;
    if (!check_id(egress_id, error))
        return FALSE;
    g_autofree char *k_status = rr_queue_key(q, "egress:", egress_id);
    g_autoptr(redisReply) r = rr_queue_command(q, NULL, error, "HGET", k_status, "stage", NULL);
    if (!r)
        return FALSE;
    if (r->type == REDIS_REPLY_STRING && r->len > 0)
        *stage = g_strdup(r->str);
    return TRUE;
}
