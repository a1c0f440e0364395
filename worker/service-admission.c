/* worker/service-admission: CPU-cost admission. See service-admission.h. */
#include "worker/service-admission.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_SAMPLES 64

typedef struct {
    double cost;
    int pid;
    gint64 started_us;
    guint n;                   /* samples held */
    gint64 at_us[MAX_SAMPLES]; /* oldest first */
    guint64 ticks[MAX_SAMPLES];
} Job;

struct RrAdmission {
    RrAdmissionConfig cfg;
    GHashTable *jobs; /* id → Job */
    double ticks_per_s;
};

void rr_admission_config_init(RrAdmissionConfig *c)
{
    *c = (RrAdmissionConfig){
        .room_composite = 0.35,
        .audio_room_composite = 0.05,
        .participant = 0.2,
        .track_composite = 0.2,
        .track = 0.02,
        .max_cpu_utilization = 0.8,
    };
}

RrAdmission *rr_admission_new(const RrAdmissionConfig *config)
{
    RrAdmission *a = g_new0(RrAdmission, 1);
    a->cfg = *config;
    if (!a->cfg.cores)
        a->cfg.cores = g_get_num_processors();
    if (!a->cfg.ramp_ms)
        a->cfg.ramp_ms = 10000;
    if (!a->cfg.window_ms)
        a->cfg.window_ms = 3000;
    a->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    long t = sysconf(_SC_CLK_TCK);
    a->ticks_per_s = t > 0 ? (double)t : 100;
    return a;
}

void rr_admission_free(RrAdmission *a)
{
    if (!a)
        return;
    g_hash_table_unref(a->jobs);
    g_free(a);
}

double rr_admission_capacity(const RrAdmission *a)
{
    return a->cfg.max_cpu_utilization * a->cfg.cores;
}

double rr_admission_job_cost(const RrAdmission *a, const RrJobSpec *spec)
{
    switch (spec->kind) {
    case RR_JOB_ROOM_COMPOSITE:
        return spec->audio_only ? a->cfg.audio_room_composite : a->cfg.room_composite;
    case RR_JOB_TRACK_COMPOSITE:
        return a->cfg.track_composite;
    case RR_JOB_PARTICIPANT:
        return a->cfg.participant;
    case RR_JOB_TRACK:
        return a->cfg.track;
    }
    return a->cfg.room_composite;
}

double rr_admission_type_cost(const RrAdmission *a, const char *type)
{
    const struct {
        const char *name;
        double cost;
    } t[] = {
        {"room_composite", a->cfg.room_composite},
        {"audio_room_composite", a->cfg.audio_room_composite},
        {"participant", a->cfg.participant},
        {"track_composite", a->cfg.track_composite},
        {"track", a->cfg.track},
    };
    for (guint i = 0; type && i < G_N_ELEMENTS(t); i++)
        if (strcmp(type, t[i].name) == 0)
            return t[i].cost;
    return -1;
}

void rr_admission_add(RrAdmission *a, const char *id, double cost, gint64 now_us)
{
    Job *j = g_new0(Job, 1);
    j->cost = cost;
    j->started_us = now_us;
    g_hash_table_replace(a->jobs, g_strdup(id), j);
}

void rr_admission_set_pid(RrAdmission *a, const char *id, int pid)
{
    Job *j = g_hash_table_lookup(a->jobs, id);
    if (j)
        j->pid = pid;
}

void rr_admission_remove(RrAdmission *a, const char *id)
{
    g_hash_table_remove(a->jobs, id);
}

guint rr_admission_running(const RrAdmission *a)
{
    return g_hash_table_size(a->jobs);
}

double rr_admission_committed(const RrAdmission *a)
{
    double sum = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, a->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        sum += ((Job *)v)->cost;
    return sum;
}

void rr_admission_sample(RrAdmission *a, const char *id, guint64 cpu_ticks, gint64 now_us)
{
    Job *j = g_hash_table_lookup(a->jobs, id);
    if (!j)
        return;
    /* Drop samples that fell out of the window, keeping one at or before its start so
     * the window is covered; and make room. */
    gint64 from = now_us - (gint64)a->cfg.window_ms * 1000;
    guint drop = 0;
    while (drop + 1 < j->n && j->at_us[drop + 1] <= from)
        drop++;
    if (j->n - drop == MAX_SAMPLES)
        drop++;
    if (drop) {
        memmove(j->at_us, j->at_us + drop, (j->n - drop) * sizeof j->at_us[0]);
        memmove(j->ticks, j->ticks + drop, (j->n - drop) * sizeof j->ticks[0]);
        j->n -= drop;
    }
    j->at_us[j->n] = now_us;
    j->ticks[j->n] = cpu_ticks;
    j->n++;
}

gboolean rr_admission_read_proc(int pid, guint64 *cpu_ticks)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
        return FALSE;
    /* "pid (comm) state ..." — comm may hold spaces and parentheses: skip to the last ')'. */
    const char *p = strrchr(text, ')');
    if (!p)
        return FALSE;
    unsigned long long utime, stime;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2)
        return FALSE;
    *cpu_ticks = utime + stime;
    return TRUE;
}

void rr_admission_sample_proc(RrAdmission *a, gint64 now_us)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, a->jobs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Job *j = v;
        guint64 ticks;
        if (j->pid > 0 && rr_admission_read_proc(j->pid, &ticks))
            rr_admission_sample(a, k, ticks, now_us);
    }
}

static double job_measured(const RrAdmission *a, const Job *j)
{
    if (j->n < 2 || j->at_us[j->n - 1] <= j->at_us[0])
        return 0;
    double secs = (j->at_us[j->n - 1] - j->at_us[0]) / 1e6;
    double ticks =
        j->ticks[j->n - 1] >= j->ticks[0] ? (double)(j->ticks[j->n - 1] - j->ticks[0]) : 0;
    return ticks / a->ticks_per_s / secs;
}

/* Cores the jobs' processes used: a process several jobs share (a room child) counts
 * once, at the largest figure its jobs have (the one sampled longest). */
double rr_admission_measured(const RrAdmission *a)
{
    double sum = 0;
    g_autoptr(GHashTable) per_pid = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, a->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const Job *j = v;
        double m = job_measured(a, j);
        if (j->pid <= 0) {
            sum += m;
            continue;
        }
        double *best = g_hash_table_lookup(per_pid, GINT_TO_POINTER(j->pid));
        if (!best) {
            best = g_new0(double, 1);
            g_hash_table_insert(per_pid, GINT_TO_POINTER(j->pid), best);
        }
        *best = MAX(*best, m);
    }
    g_hash_table_iter_init(&it, per_pid);
    while (g_hash_table_iter_next(&it, NULL, &v))
        sum += *(double *)v;
    return sum;
}

double rr_admission_available(const RrAdmission *a, gint64 now_us)
{
    double cap = rr_admission_capacity(a);
    double committed = 0, measured = rr_admission_measured(a);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, a->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const Job *j = v;
        committed += j->cost;
        /* A recording still ramping up counts its cost on top of what it uses. */
        if (now_us - j->started_us < (gint64)a->cfg.ramp_ms * 1000)
            measured += j->cost;
    }
    double avail = cap - MAX(committed, measured);
    return avail > 0 ? avail : 0;
}
