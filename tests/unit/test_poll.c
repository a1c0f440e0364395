/* Unit tests for rtc/poll: with coalescing, datagrams that arrive a millisecond apart are
 * read in a few wake-ups, none is lost, and timers still fire. Real UDP sockets on
 * loopback; a sender thread paces the datagrams. */
#include "rtc/poll.h"

#include <gio/gio.h>

#define N_DATAGRAMS 60

typedef struct {
    GSocket *rx;
    GSocketAddress *to;
    guint received;
    guint dispatches;
    GMainLoop *loop;
} Ctx;

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
    Ctx *ctx = data;
    ctx->dispatches++;
    guint8 buf[64];
    while (g_socket_receive(sock, (gchar *)buf, sizeof buf, NULL, NULL) > 0)
        ctx->received++;
    if (ctx->received >= N_DATAGRAMS)
        g_main_loop_quit(ctx->loop);
    return G_SOURCE_CONTINUE;
}

static gpointer send_paced(gpointer data)
{
    Ctx *ctx = data;
    g_autoptr(GSocket) tx =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    g_assert_nonnull(tx);
    for (guint i = 0; i < N_DATAGRAMS; i++) {
        g_assert_cmpint(g_socket_send_to(tx, ctx->to, "rtp", 3, NULL, NULL), ==, 3);
        g_usleep(1000);
    }
    return NULL;
}

static gboolean on_give_up(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

/* Receives N_DATAGRAMS sent 1 ms apart on @context (iterated here); returns dispatches. */
static guint receive_burst(GMainContext *context)
{
    Ctx ctx = {0};
    g_autoptr(GError) error = NULL;
    ctx.rx =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
    g_assert_no_error(error);
    g_socket_set_blocking(ctx.rx, FALSE);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(ctx.rx, any, FALSE, &error));
    ctx.to = g_socket_get_local_address(ctx.rx, &error);
    g_assert_no_error(error);
    ctx.loop = g_main_loop_new(context, FALSE);
    g_autoptr(GSource) watch = g_socket_create_source(ctx.rx, G_IO_IN, NULL);
    g_source_set_callback(watch, G_SOURCE_FUNC(on_readable), &ctx, NULL);
    g_source_attach(watch, context);
    g_autoptr(GSource) give_up = g_timeout_source_new_seconds(20);
    g_source_set_callback(give_up, on_give_up, ctx.loop, NULL);
    g_source_attach(give_up, context);
    GThread *sender = g_thread_new("sender", send_paced, &ctx);
    g_main_loop_run(ctx.loop);
    g_thread_join(sender);
    g_source_destroy(watch);
    g_source_destroy(give_up);
    g_assert_cmpuint(ctx.received, ==, N_DATAGRAMS);
    g_main_loop_unref(ctx.loop);
    g_object_unref(ctx.to);
    g_object_unref(ctx.rx);
    return ctx.dispatches;
}

static void test_coalesces(void)
{
    GMainContext *plain = g_main_context_new();
    guint plain_dispatches = receive_burst(plain);
    g_main_context_unref(plain);

    GMainContext *coalesced = g_main_context_new();
    rr_poll_coalesce(coalesced, 10);
    guint coalesced_dispatches = receive_burst(coalesced);
    g_main_context_unref(coalesced);
    g_test_message("%u datagrams 1 ms apart: %u wake-ups plainly, %u coalesced into 10 ms ticks",
                   N_DATAGRAMS, plain_dispatches, coalesced_dispatches);
    /* 60 ms of datagrams in 10 ms ticks: about 7 wake-ups; a slow sender only batches more. */
    g_assert_cmpuint(coalesced_dispatches, <=, N_DATAGRAMS / 3);
}

static gboolean on_timer(gpointer data)
{
    gint64 *fired_us = data;
    *fired_us = g_get_monotonic_time();
    return G_SOURCE_REMOVE;
}

static void test_timers_fire(void)
{
    GMainContext *context = g_main_context_new();
    rr_poll_coalesce(context, 0);
    gint64 fired_us = 0, start = g_get_monotonic_time();
    g_autoptr(GSource) timer = g_timeout_source_new(25);
    g_source_set_callback(timer, on_timer, &fired_us, NULL);
    g_source_attach(timer, context);
    while (fired_us == 0 && g_get_monotonic_time() - start < 10 * G_USEC_PER_SEC)
        g_main_context_iteration(context, TRUE);
    g_assert_cmpint(fired_us, >=, start + 25000);
    /* Never earlier; later by up to a tick (and whatever the scheduler adds). */
    g_test_message("a 25 ms timer fired after %.1f ms", (fired_us - start) / 1000.0);
    /* A non-blocking iteration does not sleep a tick. */
    gint64 t0 = g_get_monotonic_time();
    for (guint i = 0; i < 100; i++)
        g_main_context_iteration(context, FALSE);
    g_test_message("100 non-blocking iterations: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    g_main_context_unref(context);
}

/* ROOMREC_POLL_TICK_MS: 0 leaves the context as it was, another value is taken. */
static void test_env(void)
{
    GMainContext *context = g_main_context_new();
    GPollFunc plain = g_main_context_get_poll_func(context);
    g_setenv(RR_POLL_COALESCE_ENV, "0", TRUE);
    rr_poll_coalesce(context, 0);
    g_assert_true(g_main_context_get_poll_func(context) == plain);
    rr_poll_coalesce(context, 5); /* an explicit tick is not overridden */
    g_assert_true(g_main_context_get_poll_func(context) != plain);
    g_main_context_set_poll_func(context, plain);
    g_setenv(RR_POLL_COALESCE_ENV, "junk", TRUE);
    rr_poll_coalesce(context, 0); /* unparsable: the default */
    g_assert_true(g_main_context_get_poll_func(context) != plain);
    g_unsetenv(RR_POLL_COALESCE_ENV);
    g_main_context_unref(context);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/poll/coalesces", test_coalesces);
    g_test_add_func("/rtc/poll/timers-fire", test_timers_fire);
    g_test_add_func("/rtc/poll/env", test_env);
    return g_test_run();
}
