/* worker/service-room: room children of `roomrec worker`. One `roomrec record --host`
 * process runs the jobs of one room (the same LiveKit URL and room name), up to
 * jobs_per_child of them at a time; a room with more jobs gets a second child. Each job
 * is sent as a start line; the child's lines come back tagged with the egress id and go
 * to that job. A job's final status ends it here (its file is finalised by then); once a
 * child has no job left its control pipe is closed and it exits. A child that ends while
 * jobs still run in it (a crash) ends each of them FAILED with the reason. See
 * service-priv.h and docs/WORKER.md. */
#include "worker/service-priv.h"

#include "worker/worker-error.h"

#include <signal.h>
#include <string.h>

#define DEFAULT_JOBS_PER_CHILD 64

struct RrServiceRoom {
    RrService *svc;
    char *key; /* ws_url "\n" room name */
    RrServiceChild *child;
    GHashTable *jobs; /* egress id → RrServiceJob (borrowed) while it runs here */
    gboolean closing; /* control closed: takes no new job */
    gboolean exited;
    guint free_source;
};

static char *room_key(const RrService *s, const RrJobSpec *spec)
{
    const char *url = spec->ws_url ? spec->ws_url : s->cfg->ws_url;
    return g_strconcat(url ? url : "", "\n", spec->room_name ? spec->room_name : "", NULL);
}

static guint cap(const RrService *s)
{
    return s->opts.jobs_per_child ? s->opts.jobs_per_child : DEFAULT_JOBS_PER_CHILD;
}

static void close_if_idle(RrServiceRoom *r)
{
    if (r->closing || g_hash_table_size(r->jobs) > 0)
        return;
    r->closing = TRUE;
    g_message("worker: room child %d has no job left: closing it", rr_service_child_pid(r->child));
    rr_service_child_close_control(r->child);
}

/* Takes @j out of the room (its recording is over there). */
static void drop_job(RrServiceRoom *r, RrServiceJob *j)
{
    g_hash_table_remove(r->jobs, j->q->egress_id);
    j->room = NULL;
}

static void on_event(RrServiceChild *c, const RrChildEvent *ev, gpointer ud)
{
    RrServiceRoom *r = ud;
    if (!ev->egress_id) {
        g_warning("worker: room child %d: a line without egress_id, dropped",
                  rr_service_child_pid(c));
        return;
    }
    RrServiceJob *j = g_hash_table_lookup(r->jobs, ev->egress_id);
    if (!j) {
        g_warning("worker: room child %d: a line for %.64s, which is not running there",
                  rr_service_child_pid(c), ev->egress_id);
        return;
    }
    rr_service_job_event(j, ev);
    if (ev->is_status && ev->final) {
        drop_job(r, j);
        rr_service_job_ended(j, FALSE, 0, 0);
        close_if_idle(r);
    }
}

static gboolean free_later(gpointer ud)
{
    RrServiceRoom *r = ud;
    r->free_source = 0;
    g_ptr_array_remove(r->svc->rooms, r); /* frees it */
    return G_SOURCE_REMOVE;
}

static void on_exited(RrServiceChild *c, int code, int sig, gpointer ud)
{
    RrServiceRoom *r = ud;
    r->exited = TRUE;
    r->closing = TRUE;
    guint left = g_hash_table_size(r->jobs);
    if (sig)
        g_message("worker: room child %d ended by signal %d with %u job(s) in it",
                  rr_service_child_pid(c), sig, left);
    else
        g_message("worker: room child %d exited with code %d with %u job(s) in it",
                  rr_service_child_pid(c), code, left);
    GList *jobs = g_hash_table_get_values(r->jobs);
    for (GList *l = jobs; l; l = l->next) {
        RrServiceJob *j = l->data;
        drop_job(r, j);
        rr_service_job_ended(j, TRUE, code, sig);
    }
    g_list_free(jobs);
    r->free_source = g_idle_add(free_later, r);
}

static const RrServiceChildCallbacks room_callbacks = {
    .event = on_event,
    .exited = on_exited,
};

static RrServiceRoom *spawn_room(RrService *s, const char *key, GError **error)
{
    const RrWorkerConfig *c = s->cfg;
    g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);
    if (c->ws_url)
        g_ptr_array_add(env, g_strconcat("LIVEKIT_URL=", c->ws_url, NULL));
    if (c->api_key)
        g_ptr_array_add(env, g_strconcat("LIVEKIT_API_KEY=", c->api_key, NULL));
    if (c->api_secret)
        g_ptr_array_add(env, g_strconcat("LIVEKIT_API_SECRET=", c->api_secret, NULL));
    g_ptr_array_add(env, NULL);
    g_autofree char *out_dir =
        g_canonicalize_filename(s->opts.output_dir ? s->opts.output_dir : ".", NULL);
    g_autofree char *out_arg = g_strconcat("--output-dir=", out_dir, NULL);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, out_arg);
    for (const char *const *a = s->opts.record_args; a && *a; a++)
        g_ptr_array_add(args, (gpointer)*a);
    g_ptr_array_add(args, NULL);
    RrServiceChildConfig cc = {
        .exe = s->opts.exe,
        .host = TRUE,
        .extra_args = (const char *const *)args->pdata,
        .env = (const char *const *)env->pdata,
        .cwd = s->opts.output_dir,
    };
    RrServiceRoom *r = g_new0(RrServiceRoom, 1);
    r->svc = s;
    r->key = g_strdup(key);
    r->jobs = g_hash_table_new(g_str_hash, g_str_equal);
    r->child = rr_service_child_spawn(&cc, &room_callbacks, r, error);
    if (!r->child) {
        rr_service_room_free(r);
        return NULL;
    }
    g_ptr_array_add(s->rooms, r);
    return r;
}

gboolean rr_service_room_start_job(RrService *s, RrServiceJob *j, GError **error)
{
    g_autofree char *key = room_key(s, j->spec);
    RrServiceRoom *r = NULL;
    for (guint i = 0; i < s->rooms->len && !r; i++) {
        RrServiceRoom *o = g_ptr_array_index(s->rooms, i);
        if (!o->closing && g_hash_table_size(o->jobs) < cap(s) && strcmp(o->key, key) == 0)
            r = o;
    }
    if (!r) {
        r = spawn_room(s, key, error);
        if (!r)
            return FALSE;
        g_message("worker: room child %d for room %s", rr_service_child_pid(r->child),
                  j->spec->room_name ? j->spec->room_name : "");
    }
    g_autofree char *line = rr_host_command_start_json(j->q->egress_id, j->q->job_json, j->q->part);
    if (!line) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "the job is not a JSON object");
        close_if_idle(r);
        return FALSE;
    }
    if (!rr_service_child_send_line(r->child, line)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED,
                    "the room child %d does not take jobs any more",
                    rr_service_child_pid(r->child));
        close_if_idle(r);
        return FALSE;
    }
    g_hash_table_insert(r->jobs, j->q->egress_id, j);
    j->room = r;
    rr_admission_set_pid(s->admission, j->q->egress_id, rr_service_child_pid(r->child));
    return TRUE;
}

gboolean rr_service_room_send(RrServiceJob *j, const RrControl *control)
{
    if (!j->room)
        return FALSE;
    g_autofree char *line = rr_host_command_control_json(j->q->egress_id, control);
    return rr_service_child_send_line(j->room->child, line);
}

void rr_service_room_detach(RrServiceJob *j)
{
    if (!j->room)
        return;
    RrServiceRoom *r = j->room;
    drop_job(r, j);
    close_if_idle(r);
}

void rr_service_rooms_kill(RrService *s)
{
    for (guint i = 0; i < s->rooms->len; i++) {
        RrServiceRoom *r = g_ptr_array_index(s->rooms, i);
        if (!r->exited)
            rr_service_child_signal(r->child, SIGKILL);
    }
}

void rr_service_rooms_pids(RrService *s, GArray *pids)
{
    for (guint i = 0; i < s->rooms->len; i++) {
        RrServiceRoom *r = g_ptr_array_index(s->rooms, i);
        if (!r->exited) {
            int pid = rr_service_child_pid(r->child);
            g_array_append_val(pids, pid);
        }
    }
}

void rr_service_room_free(RrServiceRoom *r)
{
    if (!r)
        return;
    if (r->free_source)
        g_source_remove(r->free_source);
    /* Jobs still here are owned by the service and are being freed with it. */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, r->jobs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        ((RrServiceJob *)v)->room = NULL;
    g_hash_table_unref(r->jobs);
    rr_service_child_free(r->child);
    g_free(r->key);
    g_free(r);
}
