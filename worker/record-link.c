/* worker/record-link: the child's end of the worker pipes. See record-link.h. */
#include "worker/record-link.h"

#include "worker/child-proto.h"
#include "worker/worker-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

struct RrRecordLink {
    int status_fd, control_fd;
    RrRecorder *rec;
    guint control_watch;
    GString *inbuf;
    gboolean stopped;
    GSourceFunc on_gone; /* the control pipe closed */
    gpointer on_gone_data;
};

static gboolean valid_fd(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

gboolean rr_record_link_write_line(int fd, const char *json)
{
    g_autofree char *line = g_strconcat(json, "\n", NULL);
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t n = write(fd, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        off += (size_t)n;
    }
    return TRUE;
}

static void write_line(RrRecordLink *l, const char *json)
{
    if (l->status_fd < 0)
        return;
    if (!rr_record_link_write_line(l->status_fd, json)) {
        /* The worker is gone: nobody reads any more. */
        g_message("record: status pipe closed (%s)", g_strerror(errno));
        close(l->status_fd);
        l->status_fd = -1;
    }
}

static void add_tags(JsonBuilder *b, const char *output, const char *egress_id)
{
    if (output) {
        json_builder_set_member_name(b, "output");
        json_builder_add_string_value(b, output);
    }
    if (egress_id) {
        json_builder_set_member_name(b, "egress_id");
        json_builder_add_string_value(b, egress_id);
    }
}

static char *finish_json(JsonBuilder *b)
{
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

char *rr_record_link_status_json(const RrEgressInfo *info, const char *output,
                                 const char *egress_id)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, rr_egress_status_to_string(info->status));
    json_builder_set_member_name(b, "info");
    rr_egress_info_build_json(info, b);
    add_tags(b, output, egress_id);
    return finish_json(b);
}

char *rr_record_link_progress_json(const RrRecorderProgress *p, const char *output,
                                   const char *egress_id)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "progress");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "elapsed_s");
    json_builder_add_double_value(b, p->elapsed_s);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, (gint64)p->bytes);
    json_builder_end_object(b);
    add_tags(b, output, egress_id);
    return finish_json(b);
}

void rr_record_link_status(RrRecordLink *l, const RrEgressInfo *info)
{
    g_autofree char *json =
        rr_record_link_status_json(info, rr_recorder_get_output_path(l->rec), NULL);
    write_line(l, json);
}

void rr_record_link_progress(RrRecordLink *l)
{
    RrRecorderProgress p;
    rr_recorder_get_progress(l->rec, &p);
    g_autofree char *json =
        rr_record_link_progress_json(&p, rr_recorder_get_output_path(l->rec), NULL);
    write_line(l, json);
}

static void stop_once(RrRecordLink *l, const char *why)
{
    if (l->stopped)
        return;
    l->stopped = TRUE;
    g_message("record: stopping (%s)", why);
    rr_recorder_stop(l->rec);
}

static void handle_line(RrRecordLink *l, const char *line)
{
    RrControl c;
    g_autoptr(GError) e = NULL;
    if (!rr_control_parse(line, -1, &c, &e)) {
        g_warning("record: control message ignored: %s", e->message);
        return;
    }
    if (c.kind == RR_CONTROL_STOP) {
        stop_once(l, "stop requested");
    } else if (!rr_recorder_set_layout(l->rec, c.layout, &e)) {
        g_warning("record: layout %s not applied: %s", c.layout, e->message);
    } else {
        g_message("record: layout now %s", c.layout);
    }
    rr_control_clear(&c);
}

static gboolean on_control(gint fd, GIOCondition cond, gpointer ud)
{
    RrRecordLink *l = ud;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        l->control_watch = 0;
        stop_once(l, "the worker closed the control pipe");
        if (l->on_gone)
            l->on_gone(l->on_gone_data);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(l->inbuf, buf, n);
    char *nl;
    while ((nl = memchr(l->inbuf->str, '\n', l->inbuf->len))) {
        *nl = '\0';
        handle_line(l, l->inbuf->str);
        g_string_erase(l->inbuf, 0, nl - l->inbuf->str + 1);
    }
    if (l->inbuf->len > RR_CHILD_PROTO_MAX_LINE) {
        g_warning("record: control line too long, dropped");
        g_string_truncate(l->inbuf, 0);
    }
    return G_SOURCE_CONTINUE;
}

RrRecordLink *rr_record_link_new(int status_fd, int control_fd, RrRecorder *rec, GError **error)
{
    const int fds[2] = {status_fd, control_fd};
    const char *names[2] = {"--status-fd", "--control-fd"};
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0 && (fds[i] <= 2 || !valid_fd(fds[i]))) {
            g_set_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB,
                        "%s: %d is not an open file descriptor above 2", names[i], fds[i]);
            return NULL;
        }
    }
    RrRecordLink *l = g_new0(RrRecordLink, 1);
    l->status_fd = status_fd;
    l->control_fd = control_fd;
    l->rec = rec;
    l->inbuf = g_string_new(NULL);
    signal(SIGPIPE, SIG_IGN);
    if (status_fd >= 0)
        fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    if (control_fd >= 0) {
        fcntl(control_fd, F_SETFD, FD_CLOEXEC);
        g_unix_set_fd_nonblocking(control_fd, TRUE, NULL);
        l->control_watch = g_unix_fd_add(control_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control, l);
    }
    return l;
}

void rr_record_link_free(RrRecordLink *l)
{
    if (!l)
        return;
    if (l->control_watch)
        g_source_remove(l->control_watch);
    if (l->status_fd >= 0)
        close(l->status_fd);
    if (l->control_fd >= 0)
        close(l->control_fd);
    g_string_free(l->inbuf, TRUE);
    g_free(l);
}

void rr_record_link_on_worker_gone(RrRecordLink *l, GSourceFunc func, gpointer user_data)
{
    l->on_gone = func;
    l->on_gone_data = user_data;
}
