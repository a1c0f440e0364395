/* queue/jobs: submit, read (with the capacity check and reclaim), lease refresh, ack and
 * release — each one Lua script, so each is atomic. See queue.h (DESIGN). */
#include "queue/queue-priv.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* KEYS: jobs stream, status hash, index, events.
 * ARGV: egress id, job, type, cost, room, info, now ms, events maxlen. */
static const char SUBMIT_LUA[] =
    "if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('EXISTS') end\n"
    "redis.call('HSET', KEYS[2], 'info', ARGV[6], 'status', 'EGRESS_STARTING', 'final', '0',\n"
    "  'room', ARGV[5], 'worker', '', 'part', '0', 'created_at', ARGV[7], 'updated_at', ARGV[7])\n"
    "redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1])\n"
    "redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', 'egress_id', ARGV[1],\n"
    "  'status', 'EGRESS_STARTING', 'worker', '', 'part', '0', 'info', ARGV[6])\n"
    "return redis.call('XADD', KEYS[1], '*', 'egress_id', ARGV[1], 'job', ARGV[2],\n"
    "  'type', ARGV[3], 'cost', ARGV[4], 'submitted_at', ARGV[7])\n";

/* KEYS: jobs stream. ARGV: group, consumer, available cost, lease ms, may reclaim (1/0).
 * Returns {'none'} | {'busy', cost} | {'job', id, fields, deliveries}. */
static const char READ_LUA[] =
    "local function cost_of(f)\n"
    "  for i = 1, #f, 2 do if f[i] == 'cost' then return tonumber(f[i + 1]) or 0 end end\n"
    "  return 0\n"
    "end\n"
    "local avail = tonumber(ARGV[3])\n"
    "if ARGV[5] == '1' then\n"
    "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[4], '-', '+', 1)\n"
    "  if #p > 0 then\n"
    "    local id = p[1][1]\n"
    "    local e = redis.call('XRANGE', KEYS[1], id, id)\n"
    "    if #e == 0 then\n"
    "      redis.call('XACK', KEYS[1], ARGV[1], id)\n"
    "    else\n"
    "      local c = cost_of(e[1][2])\n"
    "      if c > avail then return {'busy', tostring(c)} end\n"
    "      local r = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], id)\n"
    "      if #r > 0 then return {'job', r[1][1], r[1][2], p[1][4] + 1} end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local last = nil\n"
    "for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
    "  local name, ld\n"
    "  for i = 1, #g, 2 do\n"
    "    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then\n"
    "      ld = g[i + 1] end\n"
    "  end\n"
    "  if name == ARGV[1] then last = ld end\n"
    "end\n"
    "if not last then return redis.error_reply('NOGROUP consumer group missing') end\n"
    "local e = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)\n"
    "if #e == 0 then return {'none'} end\n"
    "local c = cost_of(e[1][2])\n"
    "if c > avail then return {'busy', tostring(c)} end\n"
    "local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1,\n"
    "  'STREAMS', KEYS[1], '>')\n"
    "local entry = r[1][2][1]\n"
    "return {'job', entry[1], entry[2], 1}\n";

/* KEYS: jobs stream, control list. ARGV: group, entry id, consumer, action, lease ms.
 * Acts only if @consumer owns the pending entry. */
static const char HOLD_LUA[] =
    "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)\n"
    "if #p == 0 then return redis.error_reply('NOTPENDING') end\n"
    "if p[1][2] ~= ARGV[3] then return redis.error_reply('LOST ' .. p[1][2]) end\n"
    "if ARGV[4] == 'refresh' then\n"
    "  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')\n"
    "elseif ARGV[4] == 'ack' then\n"
    "  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "  redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "  redis.call('DEL', KEYS[2])\n"
    "else\n"
    "  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[5], 'JUSTID')\n"
    "end\n"
    "return 1\n";

void rr_queue_job_free(RrQueueJob *job)
{
    if (!job)
        return;
    g_free(job->entry_id);
    g_free(job->egress_id);
    g_free(job->job_json);
    g_free(job->type);
    g_free(job);
}

static gboolean valid_egress_id(const char *id)
{
    if (!id || !*id || strlen(id) > 128)
        return FALSE;
    for (const char *p = id; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    return TRUE;
}

/* Parses the job, takes or sets its egress id; (transfer full) the JSON to store. */
static char *prepare_job(RrQueue *q, const RrQueueSubmit *in, char **egress_id, GError **error)
{
    if (!in->job_json) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID, "job: missing");
        return NULL;
    }
    gsize len = strlen(in->job_json);
    if (len > q->max_job_bytes) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "job: %" G_GSIZE_FORMAT " bytes, more than the %" G_GSIZE_FORMAT " allowed",
                    len, q->max_job_bytes);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    if (!json_parser_load_from_data(parser, in->job_json, len, &perr)) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID, "job: not JSON: %s",
                    perr->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID, "job: not a JSON object");
        return NULL;
    }
    JsonObject *obj = json_node_get_object(root);
    const char *member = json_object_has_member(obj, "egress_id")  ? "egress_id"
                         : json_object_has_member(obj, "egressId") ? "egressId"
                                                                   : NULL;
    const char *in_job = NULL;
    if (member) {
        JsonNode *n = json_object_get_member(obj, member);
        if (!JSON_NODE_HOLDS_NULL(n)) {
            if (json_node_get_value_type(n) != G_TYPE_STRING) {
                g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID, "job: %s: not a string",
                            member);
                return NULL;
            }
            in_job = json_node_get_string(n);
            if (!*in_job)
                in_job = NULL;
        }
    }
    if (in->egress_id && in_job && strcmp(in->egress_id, in_job) != 0) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "job: %s '%s' differs from the egress id given (%s)", member, in_job,
                    in->egress_id);
        return NULL;
    }
    g_autofree char *id = g_strdup(in->egress_id ? in->egress_id : in_job);
    if (!id)
        id = rr_queue_new_egress_id();
    if (!valid_egress_id(id)) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "job: egress_id: only letters, digits, '_', '-' and '.' (1-128) allowed");
        return NULL;
    }
    if (member)
        json_object_remove_member(obj, member);
    json_object_set_string_member(obj, "egress_id", id);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    *egress_id = g_steal_pointer(&id);
    return json_generator_to_data(gen, NULL);
}

static char *minimal_info(const char *egress_id, const char *room)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "egressId");
    json_builder_add_string_value(b, egress_id);
    json_builder_set_member_name(b, "roomName");
    json_builder_add_string_value(b, room ? room : "");
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, "EGRESS_STARTING");
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

gboolean rr_queue_submit(RrQueue *q, const RrQueueSubmit *in, char **egress_id, GError **error)
{
    if (!(in->cost >= 0 && in->cost < 1e9)) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID,
                    "job cost: must be a number >= 0");
        return FALSE;
    }
    g_autofree char *id = NULL;
    g_autofree char *job = prepare_job(q, in, &id, error);
    if (!job)
        return FALSE;
    g_autofree char *info = in->info_json ? g_strdup(in->info_json) : minimal_info(id, in->room);
    g_autofree char *k_jobs = rr_queue_key(q, "jobs", NULL);
    g_autofree char *k_status = rr_queue_key(q, "egress:", id);
    g_autofree char *k_index = rr_queue_key(q, "egress", NULL);
    g_autofree char *k_events = rr_queue_key(q, "events", NULL);
    char cost[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(cost, sizeof(cost), in->cost);
    g_autofree char *now = g_strdup_printf("%" G_GINT64_FORMAT, rr_queue_now_ms());
    g_autofree char *maxlen = g_strdup_printf("%u", q->events_maxlen);
    g_autofree char *err = NULL;
    g_autoptr(redisReply) r = rr_queue_command(
        q, &err, error, "EVAL", SUBMIT_LUA, "4", k_jobs, k_status, k_index, k_events, id, job,
        in->type ? in->type : "", cost, in->room ? in->room : "", info, now, maxlen, NULL);
    if (!r) {
        if (err && g_str_has_prefix(err, "EXISTS"))
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_EXISTS, "egress %s: exists already",
                        id);
        else if (err)
            g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "submit: %s", err);
        return FALSE;
    }
    *egress_id = g_steal_pointer(&id);
    return TRUE;
}

static const char *field(redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fields->element[i]->str, name) == 0 &&
            fields->element[i + 1]->type == REDIS_REPLY_STRING)
            return fields->element[i + 1]->str;
    return NULL;
}

static RrQueueJob *job_from_reply(redisReply *r, GError **error)
{
    if (r->elements != 4 || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[2]->type != REDIS_REPLY_ARRAY || r->element[3]->type != REDIS_REPLY_INTEGER) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "read: unexpected reply");
        return NULL;
    }
    redisReply *f = r->element[2];
    const char *egress_id = field(f, "egress_id"), *job = field(f, "job");
    if (!egress_id || !job) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL,
                    "read: stream entry %s has no %s", r->element[1]->str,
                    egress_id ? "job" : "egress_id");
        return NULL;
    }
    RrQueueJob *j = g_new0(RrQueueJob, 1);
    j->entry_id = g_strdup(r->element[1]->str);
    j->egress_id = g_strdup(egress_id);
    j->job_json = g_strdup(job);
    j->type = g_strdup(field(f, "type") ? field(f, "type") : "");
    const char *cost = field(f, "cost");
    j->cost = cost ? g_ascii_strtod(cost, NULL) : 0;
    const char *at = field(f, "submitted_at");
    j->submitted_at = at ? g_ascii_strtoll(at, NULL, 10) : 0;
    j->part = (guint)MAX(1, r->element[3]->integer);
    return j;
}

RrQueueReadResult rr_queue_read(RrQueue *q, const char *consumer, double available_cost,
                                RrQueueJob **job, double *needed_cost, GError **error)
{
    g_return_val_if_fail(consumer && *consumer, RR_QUEUE_READ_NONE);
    *job = NULL;
    g_autofree char *k_jobs = rr_queue_key(q, "jobs", NULL);
    g_autofree char *group = rr_queue_key(q, "workers", NULL);
    char avail[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(avail, sizeof(avail), available_cost);
    g_autofree char *lease = g_strdup_printf("%u", q->lease_ms);
    /* Connect first: the grace depends on how long we have been connected. */
    if (!rr_queue_connect(q, error))
        return RR_QUEUE_READ_NONE;
    const char *may = rr_queue_may_reclaim(q) ? "1" : "0";
    g_autoptr(redisReply) r = rr_queue_command(q, NULL, error, "EVAL", READ_LUA, "1", k_jobs, group,
                                               consumer, avail, lease, may, NULL);
    if (!r)
        return RR_QUEUE_READ_NONE;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "read: unexpected reply");
        return RR_QUEUE_READ_NONE;
    }
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "none") == 0)
        return RR_QUEUE_READ_NONE;
    if (strcmp(kind, "busy") == 0) {
        if (needed_cost)
            *needed_cost = r->elements > 1 && r->element[1]->type == REDIS_REPLY_STRING
                               ? g_ascii_strtod(r->element[1]->str, NULL)
                               : 0;
        return RR_QUEUE_READ_BUSY;
    }
    *job = job_from_reply(r, error);
    return *job ? RR_QUEUE_READ_JOB : RR_QUEUE_READ_NONE;
}

static gboolean hold_action(RrQueue *q, const char *consumer, const RrQueueJob *job,
                            const char *action, GError **error)
{
    g_autofree char *k_jobs = rr_queue_key(q, "jobs", NULL);
    g_autofree char *k_ctl = rr_queue_key(q, "ctl:", job->egress_id);
    g_autofree char *group = rr_queue_key(q, "workers", NULL);
    g_autofree char *lease = g_strdup_printf("%u", q->lease_ms);
    g_autofree char *err = NULL;
    g_autoptr(redisReply) r = rr_queue_command(q, &err, error, "EVAL", HOLD_LUA, "2", k_jobs, k_ctl,
                                               group, job->entry_id, consumer, action, lease, NULL);
    if (r)
        return TRUE;
    if (!err)
        return FALSE;
    if (g_str_has_prefix(err, "LOST"))
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_LOST,
                    "egress %s: %s: the job is held by %s now", job->egress_id, action,
                    err + strlen("LOST "));
    else if (g_str_has_prefix(err, "NOTPENDING"))
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND,
                    "egress %s: %s: the job is not pending any more", job->egress_id, action);
    else
        g_set_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_PROTOCOL, "egress %s: %s: %s",
                    job->egress_id, action, err);
    return FALSE;
}

gboolean rr_queue_refresh(RrQueue *q, const char *consumer, const RrQueueJob *job, GError **error)
{
    return hold_action(q, consumer, job, "refresh", error);
}

gboolean rr_queue_ack(RrQueue *q, const char *consumer, const RrQueueJob *job, GError **error)
{
    return hold_action(q, consumer, job, "ack", error);
}

gboolean rr_queue_release(RrQueue *q, const char *consumer, const RrQueueJob *job, GError **error)
{
    return hold_action(q, consumer, job, "release", error);
}
