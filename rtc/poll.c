#include "rtc/poll.h"

static gint tick_ms = RR_POLL_COALESCE_DEFAULT_MS; /* atomic */

/* A GPollFunc: ready descriptors are returned at once; otherwise the caller is about to
 * sleep, and sleeps one tick first so that datagrams arriving meanwhile are batched. */
static gint coalescing_poll(GPollFD *fds, guint nfds, gint timeout)
{
    gint n = g_poll(fds, nfds, 0);
    if (n != 0 || timeout == 0)
        return n;
    gint tick = g_atomic_int_get(&tick_ms);
    if (timeout > 0 && timeout < tick)
        tick = timeout;
    g_usleep((gulong)tick * 1000);
    return g_poll(fds, nfds, timeout < 0 ? -1 : timeout - tick);
}

void rr_poll_coalesce(GMainContext *context, guint tick)
{
    const char *env = g_getenv(RR_POLL_COALESCE_ENV);
    guint64 from_env = 0;
    if (tick == 0 && env != NULL && g_ascii_string_to_unsigned(env, 10, 0, 100, &from_env, NULL)) {
        if (from_env == 0)
            return; /* every wake-up as it comes */
        tick = (guint)from_env;
    }
    if (tick == 0)
        tick = RR_POLL_COALESCE_DEFAULT_MS;
    g_atomic_int_set(&tick_ms, (gint)MIN(tick, 100u));
    g_main_context_set_poll_func(context ? context : g_main_context_default(), coalescing_poll);
}
