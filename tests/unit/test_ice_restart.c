/* Unit tests for ICE restarts in rtc/ice, on loopback with real libnice agents.
 *
 * The "server" is a plain libnice agent (controlling, full ICE, trickle) on the test's
 * GMainContext. A restart replaces it with a new agent — new ports and new credentials,
 * like pion's agent after an ICE restart (LiveKit and the test room) — while ours
 * restarts its stream (rr_ice_transport_restart). Cases: the new server's candidates come
 * after the restart offer, or before it (on a resumed signalling connection, which the
 * test room does); data must flow on the new path afterwards, and on the old selected
 * pair while the restart is in progress.
 */
#include "rtc/ice.h"
#include "rtc/rtc-error.h"

#include <nice/agent.h>
#include <string.h>

typedef struct {
    NiceAgent *agent;
    guint stream;
    gboolean gathered, connected;
    GPtrArray *cands; /* "a=candidate:..." */
    GPtrArray *rx;    /* GBytes */
} Server;

typedef struct {
    GMainContext *ctx;
    Server *server;
    RrIceTransport *ice;
    GPtrArray *our_cands; /* every local candidate line trickled, in order */
    RrIceState state;
    GError *failure;
    GPtrArray *our_rx; /* GBytes */
    gboolean closed;
    gboolean hide_ours; /* keep our candidates from the server: only our checks can connect */
} Fx;

static void server_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data)
{
    Server *sv = data;
    g_ptr_array_add(sv->cands, nice_agent_generate_local_candidate_sdp(agent, c));
}

static void server_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
    ((Server *)data)->gathered = TRUE;
}

static void server_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
    if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED)
        ((Server *)data)->connected = TRUE;
}

static void server_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
                        gpointer data)
{
    g_ptr_array_add(((Server *)data)->rx, g_bytes_new(buf, len));
}

static gboolean iterate_until(Fx *fx, gboolean (*done)(Fx *), guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!done(fx) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(fx->ctx, FALSE))
            g_usleep(1000);
    return done(fx);
}

static gboolean server_gathered(Fx *fx)
{
    return fx->server->gathered;
}

static Server *server_new(Fx *fx)
{
    Server *sv = g_new0(Server, 1);
    sv->cands = g_ptr_array_new_with_free_func(g_free);
    sv->rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    sv->agent =
        nice_agent_new_full(fx->ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
    g_object_set(sv->agent, "controlling-mode", TRUE, "ice-udp", TRUE, "ice-tcp", FALSE, "upnp",
                 FALSE, NULL);
    NiceAddress lo;
    nice_address_init(&lo);
    nice_address_set_from_string(&lo, "127.0.0.1");
    nice_agent_add_local_address(sv->agent, &lo);
    sv->stream = nice_agent_add_stream(sv->agent, 1);
    g_signal_connect(sv->agent, "new-candidate-full", G_CALLBACK(server_new_candidate), sv);
    g_signal_connect(sv->agent, "candidate-gathering-done", G_CALLBACK(server_gathering_done), sv);
    g_signal_connect(sv->agent, "component-state-changed", G_CALLBACK(server_state), sv);
    nice_agent_attach_recv(sv->agent, sv->stream, 1, fx->ctx, server_recv, sv);
    Server *prev = fx->server;
    fx->server = sv;
    g_assert_true(nice_agent_gather_candidates(sv->agent, sv->stream));
    g_assert_true(iterate_until(fx, server_gathered, 5000));
    g_assert_cmpuint(sv->cands->len, >, 0);
    fx->server = prev;
    return sv;
}

static void on_server_closed(GObject *source, GAsyncResult *res, gpointer data)
{
    *(gboolean *)data = TRUE;
}

static gboolean flag_set(gboolean *flag, GMainContext *ctx, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!*flag && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(1000);
    return *flag;
}

static void server_free(Server *sv, GMainContext *ctx)
{
    gboolean closed = FALSE;
    nice_agent_close_async(sv->agent, on_server_closed, &closed);
    flag_set(&closed, ctx, 3000);
    g_object_unref(sv->agent);
    g_ptr_array_unref(sv->cands);
    g_ptr_array_unref(sv->rx);
    g_free(sv);
}

/* Our candidates go to the current server as we trickle them. */
static void give_to_server(Fx *fx, const char *cand)
{
    g_autofree char *line = g_strconcat("a=", cand, NULL);
    NiceCandidate *nc =
        nice_agent_parse_remote_candidate_sdp(fx->server->agent, fx->server->stream, line);
    g_assert_nonnull(nc);
    GSList l = {.data = nc};
    nice_agent_set_remote_candidates(fx->server->agent, fx->server->stream, 1, &l);
    nice_candidate_free(nc);
}

static void on_local_candidate(RrIceTransport *ice, const char *cand, gpointer data)
{
    Fx *fx = data;
    g_ptr_array_add(fx->our_cands, g_strdup(cand));
    if (!fx->hide_ours)
        give_to_server(fx, cand);
}

static void on_state(RrIceTransport *ice, RrIceState state, const RrIcePair *selected,
                     const GError *error, gpointer data)
{
    Fx *fx = data;
    fx->state = state;
    if (error) {
        g_clear_error(&fx->failure);
        fx->failure = g_error_copy(error);
    }
}

static void on_receive(RrIceTransport *ice, const guint8 *data, gsize len, gpointer user_data)
{
    g_ptr_array_add(((Fx *)user_data)->our_rx, g_bytes_new(data, len));
}

static const RrIceCallbacks callbacks = {
    .local_candidate = on_local_candidate,
    .state_changed = on_state,
    .receive = on_receive,
};

static void forward_server_candidates(Fx *fx, Server *sv)
{
    for (guint i = 0; i < sv->cands->len; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_true(rr_ice_transport_add_remote_candidate(fx->ice, sv->cands->pdata[i], &err));
        g_assert_no_error(err);
    }
    rr_ice_transport_remote_gathering_done(fx->ice);
}

/* Ours and the server's credentials, as offer and answer carry them. */
static void exchange_credentials(Fx *fx, gboolean restart)
{
    g_autofree char *su = NULL, *sp = NULL, *ou = NULL, *op = NULL;
    g_autoptr(GError) err = NULL;
    nice_agent_get_local_credentials(fx->server->agent, fx->server->stream, &su, &sp);
    if (restart)
        g_assert_true(rr_ice_transport_restart(fx->ice, su, sp, FALSE, &err));
    else
        g_assert_true(rr_ice_transport_set_remote_credentials(fx->ice, su, sp, FALSE, &err));
    g_assert_no_error(err);
    rr_ice_transport_get_local_credentials(fx->ice, &ou, &op);
    nice_agent_set_remote_credentials(fx->server->agent, fx->server->stream, ou, op);
}

static gboolean both_connected(Fx *fx)
{
    return ((fx->state == RR_ICE_STATE_CONNECTED || fx->state == RR_ICE_STATE_READY) &&
            fx->server->connected) ||
           fx->state == RR_ICE_STATE_FAILED;
}

static Fx *fx_connect(void)
{
    Fx *fx = g_new0(Fx, 1);
    fx->ctx = g_main_context_new();
    g_main_context_push_thread_default(fx->ctx);
    fx->our_cands = g_ptr_array_new_with_free_func(g_free);
    fx->our_rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    fx->server = server_new(fx);
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.tcp = FALSE;
    static const char *const lo[] = {"127.0.0.1", NULL};
    cfg.local_addresses = lo;
    g_autoptr(GError) err = NULL;
    fx->ice = rr_ice_transport_new(fx->ctx, &cfg, &callbacks, fx, &err);
    g_assert_no_error(err);
    exchange_credentials(fx, FALSE);
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    forward_server_candidates(fx, fx->server);
    g_assert_true(iterate_until(fx, both_connected, 10000));
    g_assert_no_error(fx->failure);
    /* the answer went out */
    rr_ice_transport_open_candidate_window(fx->ice, FALSE);
    return fx;
}

static void on_closed(gpointer data)
{
    ((Fx *)data)->closed = TRUE;
}

static void fx_free(Fx *fx)
{
    rr_ice_transport_close_async(fx->ice, on_closed, fx);
    flag_set(&fx->closed, fx->ctx, 3000);
    server_free(fx->server, fx->ctx);
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(fx->ctx, FALSE);
    g_ptr_array_unref(fx->our_cands);
    g_ptr_array_unref(fx->our_rx);
    g_clear_error(&fx->failure);
    g_main_context_pop_thread_default(fx->ctx);
    g_main_context_unref(fx->ctx);
    g_free(fx);
}

static gboolean server_got_one(Fx *fx)
{
    return fx->server->rx->len > 0;
}

static gboolean ours_got_one(Fx *fx)
{
    return fx->our_rx->len > 0;
}

/* One datagram each way over the current path, compared byte for byte. */
static void check_path(Fx *fx, const char *what)
{
    g_ptr_array_set_size(fx->server->rx, 0);
    g_ptr_array_set_size(fx->our_rx, 0);
    g_autoptr(GError) err = NULL;
    gsize n = strlen(what);
    g_assert_true(rr_ice_transport_send(fx->ice, (const guint8 *)what, n, &err));
    g_assert_no_error(err);
    g_assert_true(iterate_until(fx, server_got_one, 5000));
    g_assert_cmpmem(g_bytes_get_data(fx->server->rx->pdata[0], NULL),
                    g_bytes_get_size(fx->server->rx->pdata[0]), what, n);
    g_assert_cmpint(nice_agent_send(fx->server->agent, fx->server->stream, 1, (guint)n, what), ==,
                    (gint)n);
    g_assert_true(iterate_until(fx, ours_got_one, 5000));
    g_assert_cmpmem(g_bytes_get_data(fx->our_rx->pdata[0], NULL),
                    g_bytes_get_size(fx->our_rx->pdata[0]), what, n);
}

static void restart_case(gboolean candidates_first)
{
    Fx *fx = fx_connect();
    check_path(fx, "before the restart");
    g_autoptr(RrIceReport) r0 = rr_ice_transport_get_report(fx->ice);
    g_assert_cmpuint(r0->restarts, ==, 0);
    g_assert_cmpint(r0->last_restart_ms, ==, -1);
    g_autofree char *old_remote =
        g_strdup_printf("%s:%u", r0->selected->remote->address, r0->selected->remote->port);

    /* The server restarts: a new agent, new ports, new credentials. */
    Server *old = fx->server;
    Server *sv = server_new(fx);
    if (candidates_first) {
        /* A resume: the new signalling connection carries the new agent's candidates
         * (and its end-of-candidates) before the offer that restarts ICE. */
        rr_ice_transport_open_candidate_window(fx->ice, TRUE);
        forward_server_candidates(fx, sv);
    }
    g_autoptr(GError) err = NULL;
    fx->server = sv;
    exchange_credentials(fx, TRUE);
    g_assert_cmpint(fx->state, <, RR_ICE_STATE_CONNECTED);
    /* While the new check list runs, data still goes out on the old pair. */
    fx->server = old;
    g_ptr_array_set_size(old->rx, 0);
    g_assert_true(rr_ice_transport_send(fx->ice, (const guint8 *)"during", 6, &err));
    g_assert_no_error(err);
    g_assert_true(iterate_until(fx, server_got_one, 5000));
    fx->server = sv;
    server_free(old, fx->ctx);

    /* The answer is out: ours trickles again to the new agent. The new agent does not get
     * them, so that only our checks (to the candidates we were given) can connect; the
     * server learns our address from them. */
    fx->hide_ours = TRUE;
    guint before = fx->our_cands->len;
    rr_ice_transport_retrickle(fx->ice);
    g_assert_cmpuint(fx->our_cands->len, >, before);
    rr_ice_transport_open_candidate_window(fx->ice, FALSE);
    if (!candidates_first)
        forward_server_candidates(fx, sv);
    g_assert_true(iterate_until(fx, both_connected, 10000));
    g_assert_no_error(fx->failure);
    check_path(fx, "after the restart");

    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_autofree char *text = rr_ice_report_to_text(r);
    g_test_message("%s", text);
    g_assert_cmpuint(r->restarts, ==, 1);
    g_assert_cmpuint(r->restarts_completed, ==, 1);
    g_assert_cmpint(r->last_restart_ms, >=, 0);
    g_assert_nonnull(r->selected);
    g_autofree char *new_remote =
        g_strdup_printf("%s:%u", r->selected->remote->address, r->selected->remote->port);
    g_assert_cmpstr(new_remote, !=, old_remote);
    fx_free(fx);
}

static void test_candidates_after_offer(void)
{
    restart_case(FALSE);
}

static void test_candidates_before_offer(void)
{
    restart_case(TRUE);
}

/* Candidates trickled before a window opened belong to the old generation: a restart
 * does not bring them back (they would only add dead pairs). */
static void test_window_closed_by_answer(void)
{
    Fx *fx = fx_connect();
    g_autoptr(RrIceReport) r0 = rr_ice_transport_get_report(fx->ice);
    guint remote_before = r0->remote->len;
    Server *sv = server_new(fx);
    Server *old = fx->server;
    fx->server = sv;
    exchange_credentials(fx, TRUE);
    g_autoptr(RrIceReport) r1 = rr_ice_transport_get_report(fx->ice);
    g_assert_cmpuint(r1->remote->len, ==, remote_before);
    fx->server = old;
    server_free(sv, fx->ctx);
    fx_free(fx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/ice/restart/candidates-after-offer", test_candidates_after_offer);
    g_test_add_func("/rtc/ice/restart/candidates-before-offer", test_candidates_before_offer);
    g_test_add_func("/rtc/ice/restart/window-closed-by-answer", test_window_closed_by_answer);
    return g_test_run();
}
