/* worker/record-host: a room child running several recordings. See record-host.h. */
#include "worker/record-host.h"

#include "worker/child-proto.h"
#include "worker/log.h"
#include "worker/record-link.h"
#include "worker/worker-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PROGRESS_MS 2000
/* How long recordings that start while the room child's first is connecting wait for
 * it to learn the path to the server (see start()). */
#define PILOT_WAIT_MS 3000

typedef struct {
    RrRecordHost *host;
    char *egress_id;
    RrJobSpec *spec;
    RrRecorder *rec;
    char *url;          /* its server */
    gboolean path_seen; /* its media connection's path was looked at */
    guint free_source;
} Entry;

struct RrRecordHost {
    int status_fd, control_fd;
    RrRecorderConfig base;
    GMainLoop *loop;
    GHashTable *entries; /* egress id → Entry */
    guint control_watch, progress_timer;
    GString *inbuf;
    gboolean control_closed;
    gboolean log_tagged;
    /* The direct path the latest recording here to connect came through, and its
     * server: later recordings to that server gather only on it
     * (RrSessionConfig.path_address). */
    char *path_url, *path_address;
    gboolean path_tcp;
    /* The recording connecting while no path is known, and those started meanwhile,
     * waiting for it (Entry*, not started yet). */
    Entry *pilot;
    guint pilot_timer, release_source;
    GPtrArray *waiting;
};

static void release_waiting(RrRecordHost *h, const char *why);

static gboolean on_path_known(gpointer ud)
{
    RrRecordHost *h = ud;
    h->release_source = 0;
    release_waiting(h, "its path is known");
    return G_SOURCE_REMOVE;
}

static void entry_free(Entry *e)
{
    if (e->host->waiting)
        g_ptr_array_remove(e->host->waiting, e);
    if (e->host->pilot == e)
        release_waiting(e->host, "it ended");
    if (e->free_source)
        g_source_remove(e->free_source);
    rr_recorder_free(e->rec);
    rr_job_spec_free(e->spec);
    g_free(e->url);
    g_free(e->egress_id);
    g_free(e);
}

static void write_line(RrRecordHost *h, const char *json)
{
    if (h->status_fd < 0)
        return;
    if (!rr_record_link_write_line(h->status_fd, json)) {
        g_message("record: status pipe closed (%s)", g_strerror(errno));
        close(h->status_fd);
        h->status_fd = -1;
    }
}

static void maybe_done(RrRecordHost *h)
{
    if (h->control_closed && g_hash_table_size(h->entries) == 0 && h->loop)
        g_main_loop_quit(h->loop);
}

/* A room child's recordings reach one server: the sockets of every local address in each
 * of their ICE agents would cost main-loop work for nothing (docs/WORKER.md). Once per
 * recording, when its media is up (looked at every status and progress line): the
 * latest path seen working (a recording that fell back from the learned path teaches
 * the one it found). */
static void learn_path(Entry *e)
{
    RrRecordHost *h = e->host;
    g_autofree char *address = NULL;
    gboolean tcp = FALSE;
    if (e->path_seen || !e->url || !rr_recorder_get_host_path(e->rec, &address, &tcp))
        return;
    e->path_seen = TRUE;
    if (g_strcmp0(address, h->path_address) == 0 && tcp == h->path_tcp &&
        g_strcmp0(e->url, h->path_url) == 0)
        return;
    g_free(h->path_address);
    g_free(h->path_url);
    h->path_address = g_steal_pointer(&address);
    h->path_tcp = tcp;
    h->path_url = g_strdup(e->url);
    g_message("record: %s connected directly from %s (%s): later recordings of this room "
              "gather only there",
              e->egress_id, h->path_address, h->path_tcp ? "TCP" : "UDP");
    if (h->pilot == e && !h->release_source)
        /* Not from inside the recorder's callback (it may come from a packet's push). */
        h->release_source = g_idle_add(on_path_known, h);
}

static void on_status(RrRecorder *r, const RrEgressInfo *info, gpointer ud)
{
    Entry *e = ud;
    g_autofree char *json =
        rr_record_link_status_json(info, rr_recorder_get_output_path(r), e->egress_id);
    write_line(e->host, json);
    learn_path(e);
}

static gboolean free_entry(gpointer ud)
{
    Entry *e = ud;
    RrRecordHost *h = e->host;
    e->free_source = 0;
    g_hash_table_remove(h->entries, e->egress_id);
    maybe_done(h);
    return G_SOURCE_REMOVE;
}

static void on_finished(RrRecorder *r, const RrEgressInfo *info, gpointer ud)
{
    Entry *e = ud;
    g_message("record: %s ended %s", e->egress_id, rr_egress_status_to_string(info->status));
    /* Not from inside the recorder's own callback. */
    if (!e->free_source)
        e->free_source = g_idle_add(free_entry, e);
}

static const RrRecorderCallbacks callbacks = {.status = on_status, .finished = on_finished};

/* A FAILED status for a recording that could not start. */
static void refuse(RrRecordHost *h, const char *egress_id, const RrJobSpec *spec, const char *why)
{
    g_warning("record: %s not started: %s", egress_id, why);
    g_autoptr(RrEgressInfo) info = rr_egress_info_new(egress_id, spec);
    rr_egress_info_set_error(info, why, 400, NULL);
    info->ended_at = rr_egress_now_ns();
    rr_egress_info_set_status(info, RR_EGRESS_FAILED);
    g_autofree char *json = rr_record_link_status_json(info, NULL, egress_id);
    write_line(h, json);
}

/* Start the recordings waiting for the pilot's path (with it, if learned). */
static void release_waiting(RrRecordHost *h, const char *why)
{
    if (h->pilot_timer)
        g_source_remove(h->pilot_timer);
    h->pilot_timer = 0;
    if (h->release_source)
        g_source_remove(h->release_source);
    h->release_source = 0;
    const char *pilot = h->pilot ? h->pilot->egress_id : "?";
    h->pilot = NULL;
    if (h->waiting->len == 0)
        return;
    g_message("record: %u recording(s) waited for %s (%s): starting them%s%s", h->waiting->len,
              pilot, why, h->path_address ? " on " : "", h->path_address ? h->path_address : "");
    g_autoptr(GPtrArray) go = g_steal_pointer(&h->waiting);
    h->waiting = g_ptr_array_new();
    for (guint i = 0; i < go->len; i++) {
        Entry *e = g_ptr_array_index(go, i);
        if (h->path_address && g_strcmp0(h->path_url, e->url) == 0)
            rr_recorder_set_path(e->rec, h->path_address, h->path_tcp);
        rr_recorder_start(e->rec);
    }
}

static gboolean on_pilot_timeout(gpointer ud)
{
    RrRecordHost *h = ud;
    h->pilot_timer = 0;
    release_waiting(h, "no direct connection yet");
    return G_SOURCE_REMOVE;
}

/* A waiting recording to be stopped is started first: it stops as one just started. */
static void start_if_waiting(RrRecordHost *h, Entry *e)
{
    if (g_ptr_array_remove(h->waiting, e))
        rr_recorder_start(e->rec);
}

static void start(RrRecordHost *h, RrHostCommand *cmd)
{
    if (g_hash_table_contains(h->entries, cmd->egress_id)) {
        g_warning("record: %s is already recording here: start ignored", cmd->egress_id);
        return;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse(cmd->job_json, -1, &error);
    if (!spec) {
        refuse(h, cmd->egress_id, NULL, error->message);
        return;
    }
    rr_log_add_secret(spec->token);
    rr_log_add_secret(spec->api_secret);
    if (!h->log_tagged && spec->room_name) {
        g_autofree char *tag = g_strconcat("room ", spec->room_name, NULL);
        rr_log_set_job_id(tag);
        h->log_tagged = TRUE;
    }
    RrRecorderConfig cfg = h->base;
    cfg.job = spec;
    cfg.egress_id = cmd->egress_id;
    cfg.part = cmd->part > 1 ? cmd->part : 0;
    if (spec->ws_url)
        cfg.session.url = spec->ws_url;
    if (spec->token)
        cfg.session.token = spec->token;
    if (spec->api_key)
        cfg.session.api_key = spec->api_key;
    if (spec->api_secret)
        cfg.session.api_secret = spec->api_secret;
    if (!cfg.session.url ||
        (!cfg.session.token && (!cfg.session.api_key || !cfg.session.api_secret))) {
        refuse(h, cmd->egress_id, spec,
               "ws_url: a LiveKit URL and either a token or an API key and secret are needed "
               "(in the job or the worker's config)");
        return;
    }
    if (h->path_address &&
        !(cfg.session.ice.local_addresses && cfg.session.ice.local_addresses[0]) &&
        g_strcmp0(h->path_url, cfg.session.url) == 0) {
        cfg.session.path_address = h->path_address;
        cfg.session.path_tcp = h->path_tcp;
    }
    Entry *e = g_new0(Entry, 1);
    e->host = h;
    e->url = g_strdup(cfg.session.url);
    e->egress_id = g_strdup(cmd->egress_id);
    e->spec = g_steal_pointer(&spec);
    e->rec = rr_recorder_new(NULL, &cfg, &callbacks, e, &error);
    if (!e->rec) {
        refuse(h, cmd->egress_id, e->spec, error->message);
        entry_free(e);
        return;
    }
    g_hash_table_replace(h->entries, e->egress_id, e);
    if (!h->path_address && h->pilot && !h->control_closed) {
        /* Recordings of a room usually come in a burst: rather than each gathering on
         * every local address, they wait (at most PILOT_WAIT_MS) for the first's path. */
        g_message("record: %s waits for %s's connection (at most %d ms) (%u recording here)",
                  e->egress_id, h->pilot->egress_id, PILOT_WAIT_MS, g_hash_table_size(h->entries));
        g_ptr_array_add(h->waiting, e);
        return;
    }
    if (!h->path_address) {
        h->pilot = e;
        h->pilot_timer = g_timeout_add(PILOT_WAIT_MS, on_pilot_timeout, h);
    }
    g_message("record: %s starts (%u recording here)", e->egress_id, g_hash_table_size(h->entries));
    rr_recorder_start(e->rec);
}

static void handle_line(RrRecordHost *h, const char *line, gsize len)
{
    RrHostCommand cmd;
    g_autoptr(GError) error = NULL;
    if (len == 0)
        return;
    if (!rr_host_command_parse(line, (gssize)len, &cmd, &error)) {
        g_warning("record: command ignored: %s", error->message);
        return;
    }
    if (cmd.kind == RR_HOST_START) {
        start(h, &cmd);
    } else {
        Entry *e = g_hash_table_lookup(h->entries, cmd.egress_id);
        if (!e) {
            g_warning("record: %s is not recording here: command ignored", cmd.egress_id);
        } else if (cmd.kind == RR_HOST_STOP) {
            g_message("record: %s: stopping (stop requested)", e->egress_id);
            start_if_waiting(h, e);
            rr_recorder_stop(e->rec);
        } else if (!rr_recorder_set_layout(e->rec, cmd.layout, &error)) {
            g_warning("record: %s: layout %s not applied: %s", e->egress_id, cmd.layout,
                      error->message);
        } else {
            g_message("record: %s: layout now %s", e->egress_id, cmd.layout);
        }
    }
    rr_host_command_clear(&cmd);
}

static gboolean on_control(gint fd, GIOCondition cond, gpointer ud)
{
    RrRecordHost *h = ud;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        h->control_watch = 0;
        h->control_closed = TRUE;
        if (g_hash_table_size(h->entries) > 0)
            rr_record_host_stop_all(h, "the worker closed the control pipe");
        maybe_done(h);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(h->inbuf, buf, n);
    char *nl;
    while ((nl = memchr(h->inbuf->str, '\n', h->inbuf->len))) {
        gsize len = (gsize)(nl - h->inbuf->str);
        *nl = '\0';
        handle_line(h, h->inbuf->str, len);
        g_string_erase(h->inbuf, 0, (gssize)len + 1);
    }
    if (h->inbuf->len > RR_CHILD_PROTO_MAX_LINE) {
        g_warning("record: command line too long, dropped");
        g_string_truncate(h->inbuf, 0);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_progress(gpointer ud)
{
    RrRecordHost *h = ud;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, h->entries);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Entry *e = v;
        if (g_ptr_array_find(h->waiting, e, NULL))
            continue; /* not started */
        learn_path(e);
        RrRecorderProgress p;
        rr_recorder_get_progress(e->rec, &p);
        g_autofree char *json =
            rr_record_link_progress_json(&p, rr_recorder_get_output_path(e->rec), e->egress_id);
        write_line(h, json);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean open_fd(int fd)
{
    return fd > 2 && fcntl(fd, F_GETFD) != -1;
}

RrRecordHost *rr_record_host_new(int status_fd, int control_fd, const RrRecorderConfig *base,
                                 GError **error)
{
    if (!open_fd(status_fd) || !open_fd(control_fd)) {
        g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                    "--host needs --status-fd and --control-fd (open file descriptors above 2)");
        if (status_fd > 2)
            close(status_fd);
        if (control_fd > 2)
            close(control_fd);
        return NULL;
    }
    RrRecordHost *h = g_new0(RrRecordHost, 1);
    h->status_fd = status_fd;
    h->control_fd = control_fd;
    h->base = *base;
    h->base.job = NULL;
    h->base.egress_id = NULL;
    h->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)entry_free);
    h->inbuf = g_string_new(NULL);
    h->waiting = g_ptr_array_new();
    signal(SIGPIPE, SIG_IGN);
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    fcntl(control_fd, F_SETFD, FD_CLOEXEC);
    g_unix_set_fd_nonblocking(control_fd, TRUE, NULL);
    h->control_watch = g_unix_fd_add(control_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control, h);
    h->progress_timer = g_timeout_add(PROGRESS_MS, on_progress, h);
    return h;
}

void rr_record_host_run(RrRecordHost *h)
{
    h->loop = g_main_loop_new(NULL, FALSE);
    if (!(h->control_closed && g_hash_table_size(h->entries) == 0))
        g_main_loop_run(h->loop);
    g_clear_pointer(&h->loop, g_main_loop_unref);
}

void rr_record_host_stop_all(RrRecordHost *h, const char *why)
{
    g_message("record: stopping %u recording(s) (%s)", g_hash_table_size(h->entries), why);
    release_waiting(h, "stopping");
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, h->entries);
    while (g_hash_table_iter_next(&it, NULL, &v))
        rr_recorder_stop(((Entry *)v)->rec);
}

guint rr_record_host_count(RrRecordHost *h)
{
    return g_hash_table_size(h->entries);
}

void rr_record_host_free(RrRecordHost *h)
{
    if (!h)
        return;
    if (h->control_watch)
        g_source_remove(h->control_watch);
    if (h->progress_timer)
        g_source_remove(h->progress_timer);
    if (h->pilot_timer)
        g_source_remove(h->pilot_timer);
    if (h->release_source)
        g_source_remove(h->release_source);
    h->pilot = NULL;
    g_clear_pointer(&h->waiting, g_ptr_array_unref);
    g_hash_table_unref(h->entries);
    if (h->status_fd >= 0)
        close(h->status_fd);
    if (h->control_fd >= 0)
        close(h->control_fd);
    g_string_free(h->inbuf, TRUE);
    g_free(h->path_url);
    g_free(h->path_address);
    g_free(h);
}
