/* Unit tests of worker/service-admission (CPU-cost admission) and worker/child-proto
 * (the worker ↔ child messages). */
#include "worker/child-proto.h"
#include "worker/service-admission.h"

#include <unistd.h>

#define S 1000000 /* one second in µs */

static RrAdmission *two_cores(void)
{
    RrAdmissionConfig c;
    rr_admission_config_init(&c);
    c.cores = 2;
    return rr_admission_new(&c);
}

static void test_costs(void)
{
    RrAdmission *a = two_cores();
    g_assert_cmpfloat_with_epsilon(rr_admission_capacity(a), 1.6, 1e-9);
    RrJobSpec spec = {.kind = RR_JOB_ROOM_COMPOSITE};
    g_assert_cmpfloat(rr_admission_job_cost(a, &spec), ==, 0.35);
    spec.audio_only = TRUE;
    g_assert_cmpfloat(rr_admission_job_cost(a, &spec), ==, 0.05);
    spec.kind = RR_JOB_TRACK;
    g_assert_cmpfloat(rr_admission_job_cost(a, &spec), ==, 0.02);
    spec.kind = RR_JOB_PARTICIPANT;
    g_assert_cmpfloat(rr_admission_job_cost(a, &spec), ==, 0.2);
    spec.kind = RR_JOB_TRACK_COMPOSITE;
    g_assert_cmpfloat(rr_admission_job_cost(a, &spec), ==, 0.2);
    g_assert_cmpfloat(rr_admission_type_cost(a, "audio_room_composite"), ==, 0.05);
    g_assert_cmpfloat(rr_admission_type_cost(a, "nope"), <, 0);
    rr_admission_free(a);
}

/* Committed costs bound what is available; removing a job gives it back. */
static void test_committed(void)
{
    RrAdmission *a = two_cores();
    g_assert_cmpfloat_with_epsilon(rr_admission_available(a, 0), 1.6, 1e-9);
    rr_admission_add(a, "a", 0.35, 0);
    rr_admission_add(a, "b", 0.35, 0);
    rr_admission_add(a, "c", 0.35, 0);
    rr_admission_add(a, "d", 0.35, 0);
    g_assert_cmpuint(rr_admission_running(a), ==, 4);
    g_assert_cmpfloat_with_epsilon(rr_admission_available(a, 100 * S), 0.2, 1e-9);
    rr_admission_add(a, "e", 0.35, 100 * S);
    g_assert_cmpfloat(rr_admission_available(a, 100 * S), ==, 0); /* never negative */
    rr_admission_remove(a, "e");
    rr_admission_remove(a, "a");
    g_assert_cmpfloat_with_epsilon(rr_admission_available(a, 100 * S), 0.55, 1e-9);
    rr_admission_free(a);
}

/* A recording that uses more than its cost holds back new jobs; one that is still
 * ramping up counts its cost on top of what it uses so far. */
static void test_measured(void)
{
    RrAdmission *a = two_cores();
    double tps = (double)sysconf(_SC_CLK_TCK);
    rr_admission_add(a, "big", 0.2, 0);
    /* 1.2 cores over 3 s. */
    rr_admission_sample(a, "big", 0, 20 * S);
    rr_admission_sample(a, "big", (guint64)(1.2 * tps * 3), 23 * S);
    g_assert_cmpfloat_with_epsilon(rr_admission_measured(a), 1.2, 0.02);
    g_assert_cmpfloat_with_epsilon(rr_admission_available(a, 23 * S), 0.4, 0.02);
    /* A new one, ramping: its cost counts although it has used nothing yet. */
    rr_admission_add(a, "new", 0.35, 23 * S);
    g_assert_cmpfloat_with_epsilon(rr_admission_available(a, 24 * S), 0.05, 0.02);
    /* Samples out of the window are dropped: later, "big" idles. */
    for (int t = 24; t <= 40; t++)
        rr_admission_sample(a, "big", (guint64)(1.2 * tps * 3), (gint64)t * S);
    g_assert_cmpfloat_with_epsilon(rr_admission_measured(a), 0, 1e-9);
    /* After the ramp, "new" counts by its (zero) use; committed rules. */
    g_assert_cmpfloat_with_epsilon(rr_admission_available(a, 40 * S), 1.6 - 0.55, 1e-9);
    rr_admission_free(a);
}

static void test_proc(void)
{
    guint64 t0 = 0, t1 = 0;
    g_assert_true(rr_admission_read_proc(getpid(), &t0));
    volatile double x = 0;
    gint64 end = g_get_monotonic_time() + 300000;
    while (g_get_monotonic_time() < end)
        x += 1;
    g_assert_true(rr_admission_read_proc(getpid(), &t1));
    g_assert_cmpuint(t1, >, t0);
    g_assert_false(rr_admission_read_proc(-1, &t0));
    g_assert_false(rr_admission_read_proc(G_MAXINT, &t0));
}

static void test_control(void)
{
    RrControl c;
    g_autoptr(GError) e = NULL;
    g_assert_true(rr_control_parse("{\"stop\":true}", -1, &c, &e));
    g_assert_cmpint(c.kind, ==, RR_CONTROL_STOP);
    rr_control_clear(&c);
    g_assert_true(rr_control_parse("{\"layout\":\"speaker-dark\"}", -1, &c, &e));
    g_assert_cmpint(c.kind, ==, RR_CONTROL_LAYOUT);
    g_assert_cmpstr(c.layout, ==, "speaker-dark");
    g_autofree char *back = rr_control_to_json(&c);
    g_assert_cmpstr(back, ==, "{\"layout\":\"speaker-dark\"}");
    rr_control_clear(&c);
    const struct {
        const char *in, *err;
    } bad[] = {
        {"{\"stop\":false}", "stop: must be true"},
        {"{\"layout\":\"circle\"}", "layout: unknown layout"},
        {"{\"layout\":3}", "layout: must be a layout name"},
        {"{\"lyout\":\"grid\"}", "lyout: unknown field"},
        {"{}", "control message: empty"},
        {"{\"stop\":true,\"layout\":\"grid\"}", "control message: give one of"},
        {"[1]", "control message: must be a JSON object"},
        {"{\"stop\":", "control message: not JSON"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&e);
        g_assert_false(rr_control_parse(bad[i].in, -1, &c, &e));
        g_assert_nonnull(e);
        if (!g_str_has_prefix(e->message, bad[i].err))
            g_error("%s: got \"%s\", want \"%s...\"", bad[i].in, e->message, bad[i].err);
    }
}

static void test_child_event(void)
{
    RrChildEvent ev;
    g_autoptr(GError) e = NULL;
    g_assert_true(rr_child_event_parse(
        "{\"status\":\"EGRESS_COMPLETE\",\"info\":{\"egressId\":\"EG_1\"},\"output\":\"/r/a.mp4\"}",
        -1, &ev, &e));
    g_assert_true(ev.is_status);
    g_assert_true(ev.final);
    g_assert_cmpstr(ev.output, ==, "/r/a.mp4");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ev.info), "egressId"), ==,
                    "EG_1");
    rr_child_event_clear(&ev);
    g_assert_true(
        rr_child_event_parse("{\"progress\":{\"elapsed_s\":2.5,\"bytes\":100}}", -1, &ev, &e));
    g_assert_false(ev.is_status);
    g_assert_cmpint(ev.bytes, ==, 100);
    g_assert_null(ev.output);
    rr_child_event_clear(&ev);
    const char *bad[] = {"{\"status\":\"EGRESS_NOPE\",\"info\":{}}",
                         "{\"status\":\"EGRESS_ACTIVE\"}",
                         "{\"progress\":{\"elapsed_s\":-1,\"bytes\":1}}",
                         "{\"progress\":{\"elapsed_s\":1,\"bytes\":1},\"output\":5}",
                         "{}",
                         "nope"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&e);
        g_assert_false(rr_child_event_parse(bad[i], -1, &ev, &e));
        g_assert_nonnull(e);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/admission/costs", test_costs);
    g_test_add_func("/worker/admission/committed", test_committed);
    g_test_add_func("/worker/admission/measured", test_measured);
    g_test_add_func("/worker/admission/proc", test_proc);
    g_test_add_func("/worker/child-proto/control", test_control);
    g_test_add_func("/worker/child-proto/child-event", test_child_event);
    return g_test_run();
}
