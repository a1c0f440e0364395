/* tests/unit/redis-server: a real redis-server (or sentinel) for unit tests, started on
 * 127.0.0.1 on a free port in a temporary directory, with append-only persistence so it
 * can be killed and started again on the same port and data. The child gets
 * PR_SET_PDEATHSIG, so a failing test (abort) takes its servers with it; the normal path
 * stops them by pid. Header-only, for tests. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    GPid pid;
    int port;
    char *dir;    /* its data directory */
    char **extra; /* extra arguments, kept for restarts */
    gboolean sentinel;
} RrTestRedis;

static int rr_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    socklen_t len = sizeof(a);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void rr_test_redis_child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* A command on a fresh connection; NULL when the server does not answer. */
static redisReply *rr_test_redis_cmd(int port, const char *fmt, ...)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

static void rr_test_redis_spawn(RrTestRedis *r)
{
    g_autofree char *port = g_strdup_printf("%d", r->port);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("redis-server"));
    if (r->sentinel) {
        g_ptr_array_add(argv, g_build_filename(r->dir, "sentinel.conf", NULL));
        g_ptr_array_add(argv, g_strdup("--sentinel"));
    }
    const char *base[] = {"--port",    port,          "--bind", "127.0.0.1", "--dir",
                          r->dir,      "--daemonize", "no",     "--save",    "",
                          "--logfile", "redis.log",   NULL};
    for (int i = 0; base[i]; i++)
        g_ptr_array_add(argv, g_strdup(base[i]));
    if (!r->sentinel) {
        const char *aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
        for (int i = 0; aof[i]; i++)
            g_ptr_array_add(argv, g_strdup(aof[i]));
    }
    for (int i = 0; r->extra && r->extra[i]; i++)
        g_ptr_array_add(argv, g_strdup(r->extra[i]));
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) error = NULL;
    gboolean ok = g_spawn_async(r->dir, (char **)argv->pdata, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                rr_test_redis_child_setup, NULL, &r->pid, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    /* Up when it answers PING (generous: loaded machines, sanitizers). */
    for (int i = 0; i < 300; i++) {
        redisReply *rep = rr_test_redis_cmd(r->port, "PING");
        if (rep) {
            /* PONG, or NOAUTH from a server with a password: up; LOADING: not yet. */
            gboolean loading =
                rep->type == REDIS_REPLY_ERROR && g_str_has_prefix(rep->str, "LOADING");
            freeReplyObject(rep);
            if (!loading)
                return;
        }
        g_usleep(50 * 1000);
    }
    g_error("redis-server on port %d did not come up", r->port);
}

/* Starts a server; @extra: more arguments (e.g. "--requirepass", "pw"), may be NULL. */
static void rr_test_redis_start(RrTestRedis *r, const char *const *extra)
{
    memset(r, 0, sizeof(*r));
    g_autoptr(GError) error = NULL;
    r->dir = g_dir_make_tmp("rr-redis-XXXXXX", &error);
    g_assert_no_error(error);
    r->port = rr_test_free_port();
    r->extra = g_strdupv((char **)extra);
    rr_test_redis_spawn(r);
}

/* Starts a sentinel monitoring "mymaster" at @master_port (quorum 1, down after 1 s). */
static void rr_test_sentinel_start(RrTestRedis *r, int master_port)
{
    memset(r, 0, sizeof(*r));
    g_autoptr(GError) error = NULL;
    r->dir = g_dir_make_tmp("rr-sentinel-XXXXXX", &error);
    g_assert_no_error(error);
    r->port = rr_test_free_port();
    r->sentinel = TRUE;
    g_autofree char *conf = g_strdup_printf("sentinel monitor mymaster 127.0.0.1 %d 1\n"
                                            "sentinel down-after-milliseconds mymaster 1000\n"
                                            "sentinel failover-timeout mymaster 10000\n",
                                            master_port);
    g_autofree char *path = g_build_filename(r->dir, "sentinel.conf", NULL);
    g_assert_true(g_file_set_contents(path, conf, -1, NULL));
    rr_test_redis_spawn(r);
}

/* Kills the server: SIGKILL when @hard (a crash), else SIGTERM (a clean shutdown). */
static void rr_test_redis_kill(RrTestRedis *r, gboolean hard)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, hard ? SIGKILL : SIGTERM);
    int status;
    waitpid(r->pid, &status, 0);
    g_spawn_close_pid(r->pid);
    r->pid = 0;
}

/* Starts it again on the same port and data directory. */
static void rr_test_redis_restart(RrTestRedis *r)
{
    g_assert_cmpint(r->pid, ==, 0);
    rr_test_redis_spawn(r);
}

static void rr_test_redis_stop(RrTestRedis *r)
{
    rr_test_redis_kill(r, FALSE);
    if (r->dir) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->dir);
        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    }
    g_clear_pointer(&r->dir, g_free);
    g_clear_pointer(&r->extra, g_strfreev);
}
