/* Unit tests for queue/: the Redis Streams job queue against a real redis-server this
 * test starts (tests/unit/redis-server.h): submit/read/ack, egress ids, prefixes,
 * capacity, leases (refresh, expiry and reclaim, LOST, the post-connect grace, release),
 * status and list, control messages, passwords, a Redis crash and restart (AOF), and a
 * Sentinel failover. Leases are short (1.5 s); no assertion depends on a timing except
 * through generous waits. */
#include "queue/queue.h"
#include "redis-server.h"

#include <string.h>

#define LEASE_MS  1500
#define JOB(room) "{\"room_composite\":{\"room_name\":\"" room "\"}}"

static RrTestRedis redis;

static RrQueue *new_queue_at(int port, const char *prefix, guint lease_ms)
{
    RrQueueConfig c;
    rr_queue_config_init(&c);
    c.port = port;
    c.prefix = prefix;
    c.lease_ms = lease_ms;
    g_autoptr(GError) error = NULL;
    RrQueue *q = rr_queue_new(&c, &error);
    g_assert_no_error(error);
    return q;
}

/* A queue on the shared server with a fresh prefix per test (tests do not see each
 * other's keys). */
static char *test_prefix(void)
{
    static int n;
    return g_strdup_printf("t%d-%u:", ++n, g_random_int());
}

static char *submit(RrQueue *q, const char *job, double cost, const char *room)
{
    RrQueueSubmit s = {.job_json = job, .type = "room_composite", .cost = cost, .room = room};
    g_autoptr(GError) error = NULL;
    char *id = NULL;
    g_assert_true(rr_queue_submit(q, &s, &id, &error));
    g_assert_no_error(error);
    return id;
}

static RrQueueJob *read_job(RrQueue *q, const char *consumer, double avail)
{
    g_autoptr(GError) error = NULL;
    RrQueueJob *job = NULL;
    RrQueueReadResult r = rr_queue_read(q, consumer, avail, &job, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(r, ==, RR_QUEUE_READ_JOB);
    return job;
}

static void assert_nothing(RrQueue *q, const char *consumer, double avail)
{
    g_autoptr(GError) error = NULL;
    RrQueueJob *job = NULL;
    RrQueueReadResult r = rr_queue_read(q, consumer, avail, &job, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(r, ==, RR_QUEUE_READ_NONE);
    g_assert_null(job);
}

static gint64 xlen(int port, const char *prefix)
{
    redisReply *r = rr_test_redis_cmd(port, "XLEN %sjobs", prefix);
    g_assert_nonnull(r);
    g_assert_cmpint(r->type, ==, REDIS_REPLY_INTEGER);
    gint64 n = r->integer;
    freeReplyObject(r);
    return n;
}

static void wait_grace(RrQueue *q)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_queue_connect(q, &error));
    for (int i = 0; i < 600 && !rr_queue_may_reclaim(q); i++)
        g_usleep(50 * 1000);
    g_assert_true(rr_queue_may_reclaim(q));
}

static void test_submit_read_ack(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) q = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *id = submit(q, JOB("r1"), 1, "r1");
    g_assert_true(g_str_has_prefix(id, "EG_"));
    g_assert_cmpuint(strlen(id), ==, 15);

    g_autoptr(GError) error = NULL;
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(q, id, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(st->status, ==, "EGRESS_STARTING");
    g_assert_false(st->final);
    g_assert_cmpstr(st->room, ==, "r1");
    g_assert_nonnull(strstr(st->info_json, id));

    g_autoptr(RrQueueJob) job = read_job(q, "w1", 10);
    g_assert_cmpstr(job->egress_id, ==, id);
    g_assert_cmpuint(job->part, ==, 1);
    g_assert_cmpstr(job->type, ==, "room_composite");
    g_assert_cmpfloat(job->cost, ==, 1);
    g_assert_cmpint(job->submitted_at, >, 0);
    g_autofree char *quoted = g_strdup_printf("\"egress_id\":\"%s\"", id);
    g_assert_nonnull(strstr(job->job_json, quoted));
    g_assert_nonnull(strstr(job->job_json, "\"room_name\":\"r1\""));
    assert_nothing(q, "w1", 10);
    assert_nothing(q, "w2", 10);

    g_assert_true(rr_queue_set_status(q, id, "EGRESS_ACTIVE", FALSE, "{\"status\":\"A\"}", "w1",
                                      job->part, &error));
    g_assert_true(rr_queue_refresh(q, "w1", job, &error));
    /* The stage: none, then "uploading", then cleared; only for an egress that exists. */
    g_autofree char *stage = NULL;
    g_assert_true(rr_queue_get_stage(q, id, &stage, &error));
    g_assert_null(stage);
    g_assert_true(rr_queue_set_stage(q, id, "uploading", &error));
    g_assert_true(rr_queue_get_stage(q, id, &stage, &error));
    g_assert_cmpstr(stage, ==, "uploading");
    g_clear_pointer(&stage, g_free);
    g_assert_true(rr_queue_set_stage(q, id, "", &error));
    g_assert_true(rr_queue_get_stage(q, id, &stage, &error));
    g_assert_null(stage);
    g_assert_false(rr_queue_set_stage(q, "EG_nope", "uploading", &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    redisReply *ghost = rr_test_redis_cmd(redis.port, "EXISTS %segress:EG_nope", prefix);
    g_assert_cmpint(ghost->integer, ==, 0);
    freeReplyObject(ghost);
    g_assert_true(
        rr_queue_set_status(q, id, "EGRESS_COMPLETE", TRUE, "{\"status\":\"C\"}", "w1", 0, &error));
    g_assert_true(rr_queue_ack(q, "w1", job, &error));
    g_assert_no_error(error);
    g_assert_cmpint(xlen(redis.port, prefix), ==, 0);
    assert_nothing(q, "w1", 10);
    /* Acked: the lease is gone. */
    g_assert_false(rr_queue_refresh(q, "w1", job, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND);
    g_clear_error(&error);

    g_autoptr(RrQueueStatus) done = rr_queue_get_status(q, id, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(done->status, ==, "EGRESS_COMPLETE");
    g_assert_true(done->final);
    g_assert_cmpstr(done->worker, ==, "w1");
    g_assert_cmpuint(done->part, ==, 1);
    g_assert_cmpstr(done->info_json, ==, "{\"status\":\"C\"}");

    /* Events: submit, active, complete, in order. */
    redisReply *ev = rr_test_redis_cmd(redis.port, "XRANGE %sevents - +", prefix);
    g_assert_nonnull(ev);
    g_assert_cmpuint(ev->elements, ==, 3);
    const char *want[] = {"EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_COMPLETE"};
    for (int i = 0; i < 3; i++) {
        redisReply *f = ev->element[i]->element[1];
        g_assert_cmpstr(f->element[1]->str, ==, id);
        g_assert_cmpstr(f->element[3]->str, ==, want[i]);
    }
    freeReplyObject(ev);
    /* A final status expires. */
    redisReply *ttl = rr_test_redis_cmd(redis.port, "TTL %segress:%s", prefix, id);
    g_assert_cmpint(ttl->integer, >, 0);
    freeReplyObject(ttl);

    g_assert_false(
        rr_queue_set_status(q, "EG_nope", "EGRESS_ACTIVE", FALSE, "{}", "w1", 0, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND);
}

static void test_egress_ids(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) q = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *id = submit(q, "{\"egressId\":\"EG_mine\",\"track\":{}}", 0, NULL);
    g_assert_cmpstr(id, ==, "EG_mine");
    g_autoptr(RrQueueJob) job = read_job(q, "w", 1);
    g_assert_nonnull(strstr(job->job_json, "\"egress_id\":\"EG_mine\""));
    g_assert_null(strstr(job->job_json, "egressId"));

    struct {
        const char *job;
        int code;
        const char *text;
    } bad[] = {
        {"{\"egress_id\":\"EG_mine\"}", RR_QUEUE_ERROR_EXISTS, "exists already"},
        {"{\"room_composite\":", RR_QUEUE_ERROR_INVALID, "not JSON"},
        {"[1,2]", RR_QUEUE_ERROR_INVALID, "not a JSON object"},
        {"{\"egress_id\":5}", RR_QUEUE_ERROR_INVALID, "egress_id: not a string"},
        {"{\"egress_id\":\"a b\"}", RR_QUEUE_ERROR_INVALID, "egress_id"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        RrQueueSubmit s = {.job_json = bad[i].job};
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        g_assert_false(rr_queue_submit(q, &s, &out, &error));
        g_assert_error(error, RR_QUEUE_ERROR, bad[i].code);
        g_assert_nonnull(strstr(error->message, bad[i].text));
    }
    /* Too big. */
    GString *big = g_string_new("{\"x\":\"");
    while (big->len < 70000)
        g_string_append(big, "aaaaaaaaaa");
    g_string_append(big, "\"}");
    RrQueueSubmit s = {.job_json = big->str};
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_assert_false(rr_queue_submit(q, &s, &out, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID);
    g_string_free(big, TRUE);
    /* Nothing of the refused jobs reached the stream. */
    g_assert_cmpint(xlen(redis.port, prefix), ==, 1);
}

static void test_prefix_isolation(void)
{
    g_autofree char *pa = test_prefix(), *pb = test_prefix();
    g_autoptr(RrQueue) a = new_queue_at(redis.port, pa, LEASE_MS);
    g_autoptr(RrQueue) b = new_queue_at(redis.port, pb, LEASE_MS);
    g_autofree char *id = submit(a, JOB("iso"), 1, "iso");
    assert_nothing(b, "w", 10);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lb = rr_queue_list(b, NULL, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(lb->len, ==, 0);
    g_assert_null(rr_queue_get_status(b, id, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND);
    g_autoptr(RrQueueJob) job = read_job(a, "w", 10);
    g_assert_cmpstr(job->egress_id, ==, id);
    /* Every key the queue wrote starts with the prefix. */
    redisReply *keys = rr_test_redis_cmd(redis.port, "KEYS %s*", pa);
    g_assert_cmpuint(keys->elements, >=, 4);
    freeReplyObject(keys);
}

static void test_capacity(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) q = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *big = submit(q, JOB("a"), 5, "a");
    g_autofree char *small = submit(q, JOB("b"), 1, "b");
    g_autoptr(GError) error = NULL;
    RrQueueJob *job = NULL;
    double needed = 0;
    /* The head costs 5: with 2 available nothing is taken, not even the cheap one behind. */
    g_assert_cmpint(rr_queue_read(q, "w", 2, &job, &needed, &error), ==, RR_QUEUE_READ_BUSY);
    g_assert_no_error(error);
    g_assert_null(job);
    g_assert_cmpfloat(needed, ==, 5);
    g_assert_cmpint(rr_queue_read(q, "w", 4.5, &job, &needed, &error), ==, RR_QUEUE_READ_BUSY);
    /* Nobody holds anything. */
    redisReply *p = rr_test_redis_cmd(redis.port, "XPENDING %sjobs %sworkers", prefix, prefix);
    g_assert_cmpint(p->element[0]->integer, ==, 0);
    freeReplyObject(p);
    g_autoptr(RrQueueJob) j1 = read_job(q, "w", 5);
    g_assert_cmpstr(j1->egress_id, ==, big);
    g_autoptr(RrQueueJob) j2 = read_job(q, "w", 1);
    g_assert_cmpstr(j2->egress_id, ==, small);
    assert_nothing(q, "w", 100);
}

static void test_lease_reclaim(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) a = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autoptr(RrQueue) b = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *id = submit(a, JOB("lease"), 1, "lease");
    g_autoptr(RrQueueJob) ja = read_job(a, "wa", 10);
    wait_grace(b);
    g_autoptr(GError) error = NULL;
    /* A keeps its lease fresh for two leases: B never gets the job. */
    gint64 until = g_get_monotonic_time() + 2 * LEASE_MS * 1000;
    while (g_get_monotonic_time() < until) {
        g_assert_true(rr_queue_refresh(a, "wa", ja, &error));
        g_assert_no_error(error);
        assert_nothing(b, "wb", 10);
        g_usleep(100 * 1000);
    }
    /* A stops refreshing (it "died"): B reclaims it after the lease, as part 2. */
    RrQueueJob *jb = NULL;
    for (int i = 0; i < 200 && !jb; i++) {
        RrQueueReadResult r = rr_queue_read(b, "wb", 10, &jb, NULL, &error);
        g_assert_no_error(error);
        if (r == RR_QUEUE_READ_NONE)
            g_usleep(100 * 1000);
    }
    g_assert_nonnull(jb);
    g_assert_cmpstr(jb->egress_id, ==, id);
    g_assert_cmpstr(jb->entry_id, ==, ja->entry_id);
    g_assert_cmpuint(jb->part, ==, 2);
    g_assert_cmpstr(jb->job_json, ==, ja->job_json);
    /* A comes back: LOST on refresh and on ack; B still holds the job. */
    g_assert_false(rr_queue_refresh(a, "wa", ja, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_LOST);
    g_assert_nonnull(strstr(error->message, "wb"));
    g_clear_error(&error);
    g_assert_false(rr_queue_ack(a, "wa", ja, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_LOST);
    g_clear_error(&error);
    g_assert_false(rr_queue_release(a, "wa", ja, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_LOST);
    g_clear_error(&error);
    g_assert_true(rr_queue_refresh(b, "wb", jb, &error));
    g_assert_true(rr_queue_ack(b, "wb", jb, &error));
    g_assert_no_error(error);
    g_assert_cmpint(xlen(redis.port, prefix), ==, 0);
    rr_queue_job_free(jb);
}

static void test_grace(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) a = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *id = submit(a, JOB("grace"), 1, "grace");
    g_autoptr(RrQueueJob) ja = read_job(a, "wa", 10);
    /* Let the lease expire without refreshing. */
    g_usleep((LEASE_MS + 300) * 1000);
    /* A queue that has just connected does not reclaim during its first lease... */
    g_autoptr(RrQueue) b = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_queue_connect(b, &error));
    g_assert_false(rr_queue_may_reclaim(b));
    assert_nothing(b, "wb", 10);
    /* ...and then it does. */
    wait_grace(b);
    g_autoptr(RrQueueJob) jb = read_job(b, "wb", 10);
    g_assert_cmpstr(jb->egress_id, ==, id);
    g_assert_cmpuint(jb->part, ==, 2);
}

static void test_release(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) a = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autoptr(RrQueue) b = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *id = submit(a, JOB("rel"), 1, "rel");
    g_autoptr(RrQueueJob) ja = read_job(a, "wa", 10);
    wait_grace(b);
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_queue_refresh(a, "wa", ja, &error));
    assert_nothing(b, "wb", 10);
    /* Released, the job's lease has expired at once. */
    g_assert_true(rr_queue_release(a, "wa", ja, &error));
    g_assert_no_error(error);
    g_autoptr(RrQueueJob) jb = read_job(b, "wb", 10);
    g_assert_cmpstr(jb->egress_id, ==, id);
    g_assert_cmpuint(jb->part, ==, 2);
}

static void test_control(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) q = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *id = submit(q, JOB("ctl"), 1, "ctl");
    g_autoptr(GError) error = NULL;
    g_assert_false(rr_queue_send_control(q, "EG_unknown", "{\"stop\":true}", &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "EG_unknown"));
    g_clear_error(&error);
    g_assert_false(rr_queue_send_control(q, id, "stop", &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID);
    g_clear_error(&error);

    char *msg = NULL;
    g_assert_true(rr_queue_pop_control(q, id, &msg, &error));
    g_assert_null(msg);
    g_assert_true(rr_queue_send_control(q, id, "{\"layout\":\"speaker\"}", &error));
    g_assert_true(rr_queue_send_control(q, id, "{\"stop\":true}", &error));
    g_assert_no_error(error);
    g_assert_true(rr_queue_pop_control(q, id, &msg, &error));
    g_assert_cmpstr(msg, ==, "{\"layout\":\"speaker\"}");
    g_free(msg);
    g_assert_true(rr_queue_pop_control(q, id, &msg, &error));
    g_assert_cmpstr(msg, ==, "{\"stop\":true}");
    g_free(msg);
    g_assert_true(rr_queue_pop_control(q, id, &msg, &error));
    g_assert_null(msg);

    /* The ack drops what is left; an ended egress takes no more. */
    g_autoptr(RrQueueJob) job = read_job(q, "w", 10);
    g_assert_true(rr_queue_send_control(q, id, "{\"stop\":true}", &error));
    g_assert_true(rr_queue_set_status(q, id, "EGRESS_ABORTED", TRUE, "{}", "w", 0, &error));
    g_assert_true(rr_queue_ack(q, "w", job, &error));
    g_assert_true(rr_queue_pop_control(q, id, &msg, &error));
    g_assert_null(msg);
    g_assert_false(rr_queue_send_control(q, id, "{\"stop\":true}", &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_FINAL);
    g_assert_nonnull(strstr(error->message, "EGRESS_ABORTED"));
}

static void test_list(void)
{
    g_autofree char *prefix = test_prefix();
    g_autoptr(RrQueue) q = new_queue_at(redis.port, prefix, LEASE_MS);
    g_autofree char *a = submit(q, JOB("r1"), 1, "r1");
    g_usleep(2000); /* distinct created_at: the list's order */
    g_autofree char *b = submit(q, JOB("r1"), 1, "r1");
    g_usleep(2000);
    g_autofree char *c = submit(q, JOB("r2"), 1, "r2");
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_queue_set_status(q, a, "EGRESS_COMPLETE", TRUE, "{}", "w", 1, &error));

    struct {
        const char *room;
        gboolean active;
        const char *ids[4];
    } cases[] = {
        {NULL, FALSE, {a, b, c}}, {"r1", FALSE, {a, b}}, {NULL, TRUE, {b, c}},
        {"r1", TRUE, {b}},        {"r3", FALSE, {NULL}},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) l = rr_queue_list(q, cases[i].room, cases[i].active, &error);
        g_assert_no_error(error);
        guint n = 0;
        while (cases[i].ids[n])
            n++;
        g_assert_cmpuint(l->len, ==, n);
        for (guint k = 0; k < n; k++) {
            RrQueueStatus *s = g_ptr_array_index(l, k);
            g_assert_cmpstr(s->egress_id, ==, cases[i].ids[k]);
        }
    }
    /* An expired status drops out of the index. */
    redisReply *r = rr_test_redis_cmd(redis.port, "DEL %segress:%s", prefix, a);
    freeReplyObject(r);
    g_autoptr(GPtrArray) l = rr_queue_list(q, NULL, FALSE, &error);
    g_assert_cmpuint(l->len, ==, 2);
    r = rr_test_redis_cmd(redis.port, "ZCARD %segress", prefix);
    g_assert_cmpint(r->integer, ==, 2);
    freeReplyObject(r);
}

static void test_config(void)
{
    RrQueueConfig c;
    rr_queue_config_init(&c);
    c.use_tls = TRUE;
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_queue_new(&c, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "TLS"));
    g_clear_error(&error);

    const char *sentinels[] = {"127.0.0.1:26379", NULL};
    rr_queue_config_init(&c);
    c.sentinel_addrs = sentinels;
    g_assert_null(rr_queue_new(&c, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID);
    g_clear_error(&error);

    struct {
        const char *in, *host;
        int port;
    } ok[] = {
        {"redis:7000", "redis", 7000}, {"10.0.0.1", "10.0.0.1", 6379}, {"[::1]:6380", "::1", 6380}};
    for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_autofree char *h = NULL;
        int p = 0;
        g_assert_true(rr_queue_parse_address(ok[i].in, &h, &p, &error));
        g_assert_cmpstr(h, ==, ok[i].host);
        g_assert_cmpint(p, ==, ok[i].port);
    }
    const char *bad[] = {"", "host:", "host:0", "host:99999", "host:x", ":6379", "[::1", "a:b:c"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *h = NULL;
        int p = 0;
        g_assert_false(rr_queue_parse_address(bad[i], &h, &p, &error));
        g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_INVALID);
        g_clear_error(&error);
    }
}

static void test_password(void)
{
    const char *extra[] = {"--requirepass", "s3cret-pw-ABC", NULL};
    RrTestRedis r;
    rr_test_redis_start(&r, extra);
    RrQueueConfig c;
    rr_queue_config_init(&c);
    c.port = r.port;
    c.password = "wrong-pw-XYZ";
    g_autoptr(GError) error = NULL;
    g_autoptr(RrQueue) bad = rr_queue_new(&c, &error);
    g_assert_false(rr_queue_connect(bad, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_AUTH);
    g_assert_null(strstr(error->message, "wrong-pw-XYZ"));
    g_clear_error(&error);
    /* Without a password: Redis says NOAUTH at the first command. */
    c.password = NULL;
    g_autoptr(RrQueue) none = rr_queue_new(&c, &error);
    g_assert_false(rr_queue_connect(none, &error));
    g_clear_error(&error);

    c.password = "s3cret-pw-ABC";
    c.db = 3;
    g_autoptr(RrQueue) q = rr_queue_new(&c, &error);
    g_autofree char *id = submit(q, JOB("pw"), 1, "pw");
    g_autoptr(RrQueueJob) job = read_job(q, "w", 1);
    g_assert_cmpstr(job->egress_id, ==, id);
    rr_test_redis_stop(&r);
}

/* Redis crashes (SIGKILL) and comes back on the same port with its append-only file: the
 * holder reconnects (with backoff), keeps its lease, statuses and the pending job
 * survive, and nothing is delivered twice. */
static void test_restart(void)
{
    RrTestRedis r;
    rr_test_redis_start(&r, NULL);
    g_autoptr(RrQueue) a = new_queue_at(r.port, "rs:", LEASE_MS);
    g_autofree char *id1 = submit(a, JOB("rs"), 1, "rs");
    g_autofree char *id2 = submit(a, JOB("rs"), 1, "rs");
    g_autoptr(RrQueueJob) ja = read_job(a, "wa", 1);
    g_assert_cmpstr(ja->egress_id, ==, id1);
    g_autoptr(GError) error = NULL;
    g_assert_true(rr_queue_set_status(a, id1, "EGRESS_ACTIVE", FALSE, "{}", "wa", 1, &error));

    rr_test_redis_kill(&r, TRUE);
    g_assert_false(rr_queue_refresh(a, "wa", ja, &error));
    g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED);
    g_clear_error(&error);
    g_assert_false(rr_queue_is_connected(a));
    /* Fails fast while it is down (connection refused, then the backoff). */
    for (int i = 0; i < 5; i++) {
        g_assert_false(rr_queue_refresh(a, "wa", ja, &error));
        g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED);
        g_clear_error(&error);
    }
    g_usleep(3 * LEASE_MS * 1000); /* longer than a lease: the PEL idle time says "expired" */
    rr_test_redis_restart(&r);

    /* The holder is back within the backoff (at most 5 s) and refreshes first... */
    gboolean ok = FALSE;
    for (int i = 0; i < 300 && !ok; i++) {
        ok = rr_queue_refresh(a, "wa", ja, &error);
        if (!ok) {
            g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED);
            g_clear_error(&error);
            g_usleep(50 * 1000);
        }
    }
    g_assert_true(ok);
    g_assert_false(rr_queue_may_reclaim(a));
    /* ...so a worker that comes up with it, even after its grace, gets only the new job. */
    g_autoptr(RrQueue) b = new_queue_at(r.port, "rs:", LEASE_MS);
    g_autoptr(RrQueueJob) jb = read_job(b, "wb", 10);
    g_assert_cmpstr(jb->egress_id, ==, id2);
    g_assert_cmpuint(jb->part, ==, 1);
    wait_grace(b);
    g_assert_true(rr_queue_refresh(a, "wa", ja, &error));
    g_assert_true(rr_queue_refresh(b, "wb", jb, &error));
    assert_nothing(b, "wb", 10);
    g_autoptr(RrQueueStatus) st = rr_queue_get_status(b, id1, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(st->status, ==, "EGRESS_ACTIVE");
    g_assert_true(rr_queue_ack(a, "wa", ja, &error));
    g_assert_true(rr_queue_ack(b, "wb", jb, &error));
    g_assert_no_error(error);
    g_assert_cmpint(xlen(r.port, "rs:"), ==, 0);
    rr_test_redis_stop(&r);
}

/* A master, a replica and one sentinel: the queue finds the master through the sentinel,
 * and after the master dies it follows the failover to the promoted replica. */
static void test_sentinel(void)
{
    RrTestRedis master, replica, sentinel;
    rr_test_redis_start(&master, NULL);
    g_autofree char *mport = g_strdup_printf("%d", master.port);
    const char *rextra[] = {"--replicaof", "127.0.0.1", mport, NULL};
    rr_test_redis_start(&replica, rextra);
    rr_test_sentinel_start(&sentinel, master.port);

    g_autofree char *saddr = g_strdup_printf("127.0.0.1:%d", sentinel.port);
    const char *sentinels[] = {"127.0.0.1:1", saddr, NULL}; /* the first is down */
    RrQueueConfig c;
    rr_queue_config_init(&c);
    c.sentinel_addrs = sentinels;
    c.sentinel_master = "mymaster";
    c.prefix = "sn:";
    c.command_timeout_ms = 1000;
    g_autoptr(GError) error = NULL;
    g_autoptr(RrQueue) q = rr_queue_new(&c, &error);
    g_assert_no_error(error);
    g_autofree char *id = submit(q, JOB("sn"), 1, "sn");
    g_autofree char *maddr = g_strdup_printf("127.0.0.1:%d", master.port);
    g_assert_cmpstr(rr_queue_address(q), ==, maddr);
    /* The replica has it before the master goes. */
    gboolean copied = FALSE;
    for (int i = 0; i < 300 && !copied; i++) {
        redisReply *e = rr_test_redis_cmd(replica.port, "EXISTS sn:egress:%s", id);
        copied = e && e->type == REDIS_REPLY_INTEGER && e->integer == 1;
        if (e)
            freeReplyObject(e);
        if (!copied)
            g_usleep(100 * 1000);
    }
    g_assert_true(copied);
    /* The sentinel must know the replica to promote it (it asks the master's INFO). */
    gboolean known = FALSE;
    for (int i = 0; i < 300 && !known; i++) {
        redisReply *rs = rr_test_redis_cmd(sentinel.port, "SENTINEL replicas mymaster");
        known = rs && rs->type == REDIS_REPLY_ARRAY && rs->elements > 0;
        if (rs)
            freeReplyObject(rs);
        if (!known)
            g_usleep(100 * 1000);
    }
    g_assert_true(known);

    rr_test_redis_kill(&master, TRUE);
    g_autoptr(RrQueueStatus) st = NULL;
    for (int i = 0; i < 600 && !st; i++) {
        st = rr_queue_get_status(q, id, &error);
        if (!st) {
            g_assert_error(error, RR_QUEUE_ERROR, RR_QUEUE_ERROR_DISCONNECTED);
            g_clear_error(&error);
            g_usleep(100 * 1000);
        }
    }
    g_assert_nonnull(st);
    g_assert_cmpstr(st->status, ==, "EGRESS_STARTING");
    g_autofree char *raddr = g_strdup_printf("127.0.0.1:%d", replica.port);
    g_assert_cmpstr(rr_queue_address(q), ==, raddr);
    /* The promoted replica takes writes: the job is read from there. */
    g_autoptr(RrQueueJob) job = read_job(q, "w", 1);
    g_assert_cmpstr(job->egress_id, ==, id);
    g_assert_true(rr_queue_ack(q, "w", job, &error));
    g_assert_no_error(error);
    rr_test_redis_stop(&sentinel);
    rr_test_redis_stop(&replica);
    rr_test_redis_stop(&master);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    rr_test_redis_start(&redis, NULL);
    g_test_add_func("/queue/config", test_config);
    g_test_add_func("/queue/submit-read-ack", test_submit_read_ack);
    g_test_add_func("/queue/egress-ids", test_egress_ids);
    g_test_add_func("/queue/prefix", test_prefix_isolation);
    g_test_add_func("/queue/capacity", test_capacity);
    g_test_add_func("/queue/lease-reclaim", test_lease_reclaim);
    g_test_add_func("/queue/grace", test_grace);
    g_test_add_func("/queue/release", test_release);
    g_test_add_func("/queue/control", test_control);
    g_test_add_func("/queue/list", test_list);
    g_test_add_func("/queue/password", test_password);
    g_test_add_func("/queue/restart", test_restart);
    g_test_add_func("/queue/sentinel", test_sentinel);
    int rc = g_test_run();
    rr_test_redis_stop(&redis);
    return rc;
}
