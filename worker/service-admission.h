/* worker/service-admission: how much work `roomrec worker` may take on (issue 11).
 *
 * Every job has a CPU cost by its type (LiveKit egress's cpu_cost keys: a room composite
 * 0.35 cores, an audio-only one 0.05, a participant 0.2, a track composite 0.2, a track
 * 0.02), and the worker's capacity is max_cpu_utilization × cores. Two limits, the
 * smaller wins, give the cost still available for the next job:
 *   - committed: capacity − the costs of the running jobs (and starts under way);
 *   - measured:  capacity − the CPU the recordings really use (their processes' CPU time
 *                over the last few seconds, from /proc/PID/stat) − the costs of
 *                recordings started in the last ramp_ms (10 s), which have not reached
 *                their real load yet.
 * The queue hands out a job only when its cost fits in what is available (the check and
 * the delivery are one step, queue/queue.h), so a burst of starts cannot overshoot, and
 * a set of recordings that costs more than configured holds back new ones instead of
 * being starved. Only this worker's recordings are measured, not the whole machine: a
 * worker sharing its machine with other work should be given a lower
 * max_cpu_utilization.
 *
 * Pure bookkeeping plus a /proc reader; one owner (the supervisor's main loop). Times
 * are monotonic microseconds passed in by the caller, so tests can drive them.
 */
#pragma once

#include "worker/job.h"

G_BEGIN_DECLS

typedef struct {
    double room_composite;       /* room_composite_cpu_cost */
    double audio_room_composite; /* audio_room_composite_cpu_cost */
    double participant;          /* participant_cpu_cost */
    double track_composite;      /* track_composite_cpu_cost */
    double track;                /* track_cpu_cost */
    double max_cpu_utilization;  /* share of the cores, (0, 1] */
    guint cores;                 /* 0: the machine's */
    guint ramp_ms;               /* 0: 10000 */
    guint window_ms;             /* measurement window, 0: 3000 */
} RrAdmissionConfig;

/* roomrec's defaults (the costs above, 0.8 utilisation, this machine's cores). */
void rr_admission_config_init(RrAdmissionConfig *config);

typedef struct RrAdmission RrAdmission;

RrAdmission *rr_admission_new(const RrAdmissionConfig *config);
void rr_admission_free(RrAdmission *a);

double rr_admission_capacity(const RrAdmission *a);
/* The cost of a job of that kind from the config. */
double rr_admission_job_cost(const RrAdmission *a, const RrJobSpec *spec);
/* The same by the queue's type name ("room_composite", "audio_room_composite", ...);
 * -1 for an unknown name. */
double rr_admission_type_cost(const RrAdmission *a, const char *type);

/* A job starts (@id unique) with @cost; @pid is its process once known (0: not yet). */
void rr_admission_add(RrAdmission *a, const char *id, double cost, gint64 now_us);
void rr_admission_set_pid(RrAdmission *a, const char *id, int pid);
void rr_admission_remove(RrAdmission *a, const char *id);
guint rr_admission_running(const RrAdmission *a);
double rr_admission_committed(const RrAdmission *a);

/* Records one CPU sample of a job's process: @cpu_ticks its utime+stime so far (clock
 * ticks, see rr_admission_read_proc). Samples older than the window are dropped. */
void rr_admission_sample(RrAdmission *a, const char *id, guint64 cpu_ticks, gint64 now_us);
/* Samples every job with a pid from /proc (what the supervisor calls every second). */
void rr_admission_sample_proc(RrAdmission *a, gint64 now_us);
/* utime+stime of @pid in clock ticks; FALSE when it is gone. */
gboolean rr_admission_read_proc(int pid, guint64 *cpu_ticks);

/* Cores the recordings used over the window (measured; jobs with < 2 samples count 0). */
double rr_admission_measured(const RrAdmission *a);
/* What the next job may cost: min(committed limit, measured limit), >= 0. */
double rr_admission_available(const RrAdmission *a, gint64 now_us);

G_END_DECLS
