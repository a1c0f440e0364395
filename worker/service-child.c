/* worker/service-child: a recording child process. See service-child.h. */
#include "worker/service-child.h"

#include "worker/worker-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct RrServiceChild {
    GSubprocess *proc;
    int pid;
    int control_fd;
    int status_fd;
    guint status_watch;
    GString *inbuf;
    GCancellable *cancel;
    RrServiceChildCallbacks cbs;
    gpointer ud;
    gboolean eof, reaped, reported;
    int exit_code, term_signal;
};

static void maybe_report(RrServiceChild *c)
{
    if (!c->eof || !c->reaped || c->reported)
        return;
    c->reported = TRUE;
    if (c->cbs.exited)
        c->cbs.exited(c, c->exit_code, c->term_signal, c->ud);
}

static void handle_line(RrServiceChild *c, const char *line, gsize len)
{
    RrChildEvent ev;
    g_autoptr(GError) e = NULL;
    if (len == 0)
        return;
    if (rr_child_event_parse(line, (gssize)len, &ev, &e)) {
        if (c->cbs.event)
            c->cbs.event(c, &ev, c->ud);
        rr_child_event_clear(&ev);
    } else {
        g_warning("worker: child %d: bad status line: %s", c->pid, e->message);
    }
}

static gboolean on_status(gint fd, GIOCondition cond, gpointer ud)
{
    RrServiceChild *c = ud;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n > 0) {
        g_string_append_len(c->inbuf, buf, n);
        char *nl;
        while ((nl = memchr(c->inbuf->str, '\n', c->inbuf->len))) {
            gsize len = (gsize)(nl - c->inbuf->str);
            *nl = '\0';
            handle_line(c, c->inbuf->str, len);
            g_string_erase(c->inbuf, 0, (gssize)len + 1);
        }
        if (c->inbuf->len > RR_CHILD_PROTO_MAX_LINE) {
            g_warning("worker: child %d: status line too long, dropped", c->pid);
            g_string_truncate(c->inbuf, 0);
        }
        return G_SOURCE_CONTINUE;
    }
    c->status_watch = 0;
    c->eof = TRUE;
    maybe_report(c);
    return G_SOURCE_REMOVE;
}

static void on_wait(GObject *src, GAsyncResult *res, gpointer ud)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = g_subprocess_wait_finish(G_SUBPROCESS(src), res, &error);
    if (!ok && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    RrServiceChild *c = ud;
    GSubprocess *p = G_SUBPROCESS(src);
    if (g_subprocess_get_if_signaled(p)) {
        c->exit_code = -1;
        c->term_signal = g_subprocess_get_term_sig(p);
    } else {
        c->exit_code = g_subprocess_get_exit_status(p);
        c->term_signal = 0;
    }
    c->reaped = TRUE;
    maybe_report(c);
}

RrServiceChild *rr_service_child_spawn(const RrServiceChildConfig *cfg,
                                       const RrServiceChildCallbacks *cbs, gpointer ud,
                                       GError **error)
{
    int status_pipe[2], control_pipe[2];
    if (!g_unix_open_pipe(status_pipe, FD_CLOEXEC, error))
        return NULL;
    if (!g_unix_open_pipe(control_pipe, FD_CLOEXEC, error)) {
        close(status_pipe[0]);
        close(status_pipe[1]);
        return NULL;
    }
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    for (const char *const *e = cfg->env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq) {
            g_autofree char *k = g_strndup(*e, eq - *e);
            g_subprocess_launcher_setenv(l, k, eq + 1, TRUE);
        }
    }
    if (cfg->cwd)
        g_subprocess_launcher_set_cwd(l, cfg->cwd);
    /* The launcher closes the child's ends in the parent once spawned. */
    g_subprocess_launcher_take_fd(l, status_pipe[1], 3);
    g_subprocess_launcher_take_fd(l, control_pipe[0], 4);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(cfg->exe ? cfg->exe : "/proc/self/exe"));
    g_ptr_array_add(argv, g_strdup("record"));
    if (cfg->host) {
        g_ptr_array_add(argv, g_strdup("--host"));
    } else {
        g_ptr_array_add(argv, g_strdup("--job-file"));
        g_ptr_array_add(argv, g_strdup(cfg->job_file));
    }
    g_ptr_array_add(argv, g_strdup("--status-fd=3"));
    g_ptr_array_add(argv, g_strdup("--control-fd=4"));
    if (cfg->part > 1 && !cfg->host)
        g_ptr_array_add(argv, g_strdup_printf("--part=%u", cfg->part));
    for (const char *const *a = cfg->extra_args; a && *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    GSubprocess *proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, error);
    if (!proc) {
        close(status_pipe[0]);
        close(control_pipe[1]);
        return NULL;
    }
    RrServiceChild *c = g_new0(RrServiceChild, 1);
    c->proc = proc;
    const char *id = g_subprocess_get_identifier(proc);
    c->pid = id ? atoi(id) : 0;
    c->control_fd = control_pipe[1];
    c->cbs = *cbs;
    c->ud = ud;
    c->cancel = g_cancellable_new();
    c->status_fd = status_pipe[0];
    c->inbuf = g_string_new(NULL);
    g_unix_set_fd_nonblocking(c->status_fd, TRUE, NULL);
    c->status_watch = g_unix_fd_add(c->status_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_status, c);
    g_subprocess_wait_async(proc, c->cancel, on_wait, c);
    return c;
}

int rr_service_child_pid(const RrServiceChild *c)
{
    return c->pid;
}

gboolean rr_service_child_send(RrServiceChild *c, const RrControl *control)
{
    g_autofree char *json = rr_control_to_json(control);
    return rr_service_child_send_line(c, json);
}

void rr_service_child_close_control(RrServiceChild *c)
{
    if (c->control_fd >= 0) {
        close(c->control_fd);
        c->control_fd = -1;
    }
}

gboolean rr_service_child_send_line(RrServiceChild *c, const char *json)
{
    if (c->control_fd < 0)
        return FALSE;
    g_autofree char *line = g_strconcat(json, "\n", NULL);
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t n = write(c->control_fd, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        off += (size_t)n;
    }
    return TRUE;
}

void rr_service_child_signal(RrServiceChild *c, int signum)
{
    if (!c->reaped)
        g_subprocess_send_signal(c->proc, signum);
}

void rr_service_child_free(RrServiceChild *c)
{
    if (!c)
        return;
    g_cancellable_cancel(c->cancel);
    if (c->control_fd >= 0)
        close(c->control_fd);
    if (c->status_watch)
        g_source_remove(c->status_watch);
    close(c->status_fd);
    g_string_free(c->inbuf, TRUE);
    g_clear_object(&c->cancel);
    g_clear_object(&c->proc);
    g_free(c);
}
