/* Unit tests for the loopback rule of rtc/ice (rr_ice_loopback_reason): a server that
 * gathers on 127.0.0.1 only is reached without configured local addresses when the
 * signalling address or one of its early candidates is loopback; configured local
 * addresses still restrict gathering; a loopback candidate seen only after gathering
 * started is marked in the report.
 *
 * The "server" is a plain libnice agent (controlling, full ICE, trickle, UDP) gathering on
 * 127.0.0.1 only, in the same process and on the same GMainContext; candidates travel
 * between the two as SDP strings through the public API.
 */
#include "rtc/ice.h"

#include <nice/agent.h>
#include <nice/interfaces.h>
#include <string.h>

/* ------------------------------------------------------------------ the rule */

static void test_rule(void)
{
    g_assert_null(rr_ice_loopback_reason(NULL, NULL));
    g_assert_null(rr_ice_loopback_reason("192.0.2.1", NULL));
    g_autofree char *v4 = rr_ice_loopback_reason("127.0.0.1", NULL);
    g_assert_cmpstr(v4, ==, "the signalling address 127.0.0.1 is loopback");
    g_autofree char *v4b = rr_ice_loopback_reason("127.1.2.3", NULL);
    g_assert_nonnull(v4b);
    g_autofree char *v6 = rr_ice_loopback_reason("::1", NULL);
    g_assert_cmpstr(v6, ==, "the signalling address ::1 is loopback");

    const char *const plain[] = {"10.0.0.1", "2001:db8::1", NULL};
    g_assert_null(rr_ice_loopback_reason("203.0.113.9", plain));
    const char *const mixed[] = {"10.0.0.1", "127.0.0.1", NULL};
    g_autofree char *cand = rr_ice_loopback_reason("203.0.113.9", mixed);
    g_assert_cmpstr(cand, ==, "the server's candidate 127.0.0.1 is loopback");
    g_autofree char *cand_nosig = rr_ice_loopback_reason(NULL, mixed);
    g_assert_cmpstr(cand_nosig, ==, "the server's candidate 127.0.0.1 is loopback");
    /* the signalling address is named first */
    g_autofree char *both = rr_ice_loopback_reason("::1", mixed);
    g_assert_cmpstr(both, ==, "the signalling address ::1 is loopback");

    /* host names and junk are not IP addresses, hence not loopback */
    const char *const junk[] = {"localhost", "", "127.0.0.1.example", "::1::", NULL};
    g_assert_null(rr_ice_loopback_reason("localhost", junk));
    g_assert_null(rr_ice_loopback_reason("", NULL));
}

/* ------------------------------------------------------------------ real sessions */

typedef struct {
    GMainContext *ctx;
    NiceAgent *server;
    guint sstream;
    gboolean server_gathered, server_connected;
    GPtrArray *server_cands; /* "a=candidate:..." */
    RrIceTransport *ice;
    gboolean our_gathered, closed;
    RrIceState state;
    RrIcePair *selected;
} Fx;

static void server_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data)
{
    Fx *fx = data;
    g_ptr_array_add(fx->server_cands, nice_agent_generate_local_candidate_sdp(agent, c));
}

static void server_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
    ((Fx *)data)->server_gathered = TRUE;
}

static void server_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
    if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED)
        ((Fx *)data)->server_connected = TRUE;
}

static void server_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
                        gpointer data)
{
}

static void on_local_candidate(RrIceTransport *ice, const char *cand, gpointer data)
{
    Fx *fx = data;
    g_autofree char *line = g_strconcat("a=", cand, NULL);
    NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp(fx->server, fx->sstream, line);
    g_assert_nonnull(nc);
    GSList l = {.data = nc};
    nice_agent_set_remote_candidates(fx->server, fx->sstream, 1, &l);
    nice_candidate_free(nc);
}

static void on_gathering_done(RrIceTransport *ice, gpointer data)
{
    Fx *fx = data;
    fx->our_gathered = TRUE;
    nice_agent_peer_candidate_gathering_done(fx->server, fx->sstream);
}

static void on_state(RrIceTransport *ice, RrIceState state, const RrIcePair *selected,
                     const GError *error, gpointer data)
{
    Fx *fx = data;
    fx->state = state;
    if (selected) {
        rr_ice_pair_free(fx->selected);
        fx->selected = rr_ice_pair_copy(selected);
    }
}

static const RrIceCallbacks callbacks = {
    .local_candidate = on_local_candidate,
    .gathering_done = on_gathering_done,
    .state_changed = on_state,
};

static gboolean iterate_until(Fx *fx, gboolean *flag, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!*flag && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(fx->ctx, FALSE))
            g_usleep(1000);
    return *flag;
}

/* A server on 127.0.0.1 only, gathered; ours made from @local_addresses (NULL: none
 * configured) with credentials exchanged. */
static Fx *fx_new(const char *const *local_addresses)
{
    Fx *fx = g_new0(Fx, 1);
    fx->ctx = g_main_context_new();
    g_main_context_push_thread_default(fx->ctx);
    fx->server_cands = g_ptr_array_new_with_free_func(g_free);
    fx->server =
        nice_agent_new_full(fx->ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
    g_object_set(fx->server, "controlling-mode", TRUE, "ice-tcp", FALSE, "upnp", FALSE, NULL);
    NiceAddress lo;
    nice_address_init(&lo);
    nice_address_set_from_string(&lo, "127.0.0.1");
    nice_agent_add_local_address(fx->server, &lo);
    fx->sstream = nice_agent_add_stream(fx->server, 1);
    g_signal_connect(fx->server, "new-candidate-full", G_CALLBACK(server_new_candidate), fx);
    g_signal_connect(fx->server, "candidate-gathering-done", G_CALLBACK(server_gathering_done), fx);
    g_signal_connect(fx->server, "component-state-changed", G_CALLBACK(server_state), fx);
    nice_agent_attach_recv(fx->server, fx->sstream, 1, fx->ctx, server_recv, fx);
    g_assert_true(nice_agent_gather_candidates(fx->server, fx->sstream));
    g_assert_true(iterate_until(fx, &fx->server_gathered, 5000));
    g_assert_cmpuint(fx->server_cands->len, >, 0);

    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.tcp = FALSE;
    cfg.local_addresses = local_addresses;
    cfg.connect_timeout_ms = 15000;
    g_autoptr(GError) err = NULL;
    fx->ice = rr_ice_transport_new(fx->ctx, &cfg, &callbacks, fx, &err);
    g_assert_no_error(err);
    g_autofree char *su = NULL, *sp = NULL, *ou = NULL, *op = NULL;
    nice_agent_get_local_credentials(fx->server, fx->sstream, &su, &sp);
    g_assert_true(rr_ice_transport_set_remote_credentials(fx->ice, su, sp, FALSE, &err));
    rr_ice_transport_get_local_credentials(fx->ice, &ou, &op);
    nice_agent_set_remote_credentials(fx->server, fx->sstream, ou, op);
    return fx;
}

static void on_closed(gpointer data)
{
    ((Fx *)data)->closed = TRUE;
}

static void on_server_closed(GObject *src, GAsyncResult *res, gpointer data)
{
    *(gboolean *)data = TRUE;
}

static void fx_free(Fx *fx)
{
    if (fx->ice) {
        rr_ice_transport_close_async(fx->ice, on_closed, fx);
        iterate_until(fx, &fx->closed, 3000);
    }
    gboolean server_closed = FALSE;
    nice_agent_close_async(fx->server, on_server_closed, &server_closed);
    iterate_until(fx, &server_closed, 3000);
    g_object_unref(fx->server);
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(fx->ctx, FALSE);
    g_ptr_array_unref(fx->server_cands);
    rr_ice_pair_free(fx->selected);
    g_main_context_pop_thread_default(fx->ctx);
    g_main_context_unref(fx->ctx);
    g_free(fx);
}

static void add_server_candidates(Fx *fx)
{
    for (guint i = 0; i < fx->server_cands->len; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_true(rr_ice_transport_add_remote_candidate(
            fx->ice, g_ptr_array_index(fx->server_cands, i), &err));
        g_assert_no_error(err);
    }
}

static gboolean connected(Fx *fx)
{
    return (fx->state == RR_ICE_STATE_CONNECTED || fx->state == RR_ICE_STATE_READY) &&
           fx->server_connected;
}

static void wait_connected(Fx *fx)
{
    gint64 end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!connected(fx) && fx->state != RR_ICE_STATE_FAILED && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(fx->ctx, FALSE))
            g_usleep(1000);
    if (!connected(fx)) {
        g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
        g_autofree char *text = rr_ice_report_to_text(r);
        g_printerr("%s", text);
    }
    g_assert_true(connected(fx));
}

static gboolean is_loopback(const char *ip)
{
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(ip);
    return a && g_inet_address_get_is_loopback(a);
}

static guint count_local(const RrIceReport *r, gboolean loopback)
{
    guint n = 0;
    for (guint i = 0; i < r->local->len; i++) {
        const RrIceReportCandidate *c = g_ptr_array_index(r->local, i);
        n += is_loopback(c->candidate->address) == loopback;
    }
    return n;
}

static gboolean has_local(const RrIceReport *r, const char *ip)
{
    g_autoptr(GInetAddress) want = g_inet_address_new_from_string(ip);
    for (guint i = 0; i < r->local->len; i++) {
        const RrIceReportCandidate *c = g_ptr_array_index(r->local, i);
        g_autoptr(GInetAddress) a = g_inet_address_new_from_string(c->candidate->address);
        if (a && g_inet_address_equal(a, want))
            return TRUE;
    }
    return FALSE;
}

/* Connects on loopback, and the machine's other addresses are gathered too. */
static void assert_loopback_session(Fx *fx, const char *reason)
{
    rr_ice_transport_remote_gathering_done(fx->ice);
    wait_connected(fx);
    g_assert_true(is_loopback(fx->selected->local->address));
    g_assert_true(iterate_until(fx, &fx->our_gathered, 5000));
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_assert_cmpstr(r->loopback, ==, reason);
    g_assert_true(has_local(r, "127.0.0.1"));
    GList *ips = nice_interfaces_get_local_ips(FALSE);
    for (GList *l = ips; l; l = l->next) {
        if (g_str_has_prefix(l->data, "fe80:")) /* link-local: libnice may skip it */
            continue;
        if (!has_local(r, l->data))
            g_error("the machine's address %s was not gathered", (char *)l->data);
    }
    g_list_free_full(ips, g_free);
    g_autoptr(JsonBuilder) b = json_builder_new();
    rr_ice_report_build_json(r, b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "loopback"), ==,
                    reason);
}

static void test_signalling_loopback(void)
{
    Fx *fx = fx_new(NULL);
    rr_ice_transport_set_signalling_address(fx->ice, "127.0.0.1");
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    add_server_candidates(fx); /* trickled after the offer, as LiveKit does */
    assert_loopback_session(fx, "the signalling address 127.0.0.1 is loopback");
    fx_free(fx);
}

static void test_early_candidate(void)
{
    Fx *fx = fx_new(NULL);
    add_server_candidates(fx); /* trickled before gathering started, no signalling address */
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    assert_loopback_session(fx, "the server's candidate 127.0.0.1 is loopback");
    fx_free(fx);
}

/* A remote server: libnice's own enumeration, no loopback; a loopback candidate that
 * comes after gathering started is marked. */
static void test_not_loopback(void)
{
    Fx *fx = fx_new(NULL);
    rr_ice_transport_set_signalling_address(fx->ice, "198.51.100.7");
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    g_assert_true(iterate_until(fx, &fx->our_gathered, 5000));
    add_server_candidates(fx);
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_assert_null(r->loopback);
    g_assert_cmpuint(count_local(r, TRUE), ==, 0);
    guint late = 0;
    for (guint i = 0; i < r->remote->len; i++) {
        const RrIceReportCandidate *c = g_ptr_array_index(r->remote, i);
        if (c->origin == RR_ICE_ORIGIN_SIGNALLED && c->note &&
            strstr(c->note, "signalled after gathering started without loopback"))
            late++;
    }
    g_assert_cmpuint(late, ==, fx->server_cands->len);
    g_autofree char *text = rr_ice_report_to_text(r);
    g_assert_null(strstr(text, "loopback gathered too"));
    fx_free(fx);
}

/* Configured local addresses are used as they are, loopback server or not. */
static void test_configured_addresses(void)
{
    static const char *const lo[] = {"127.0.0.1", NULL};
    Fx *fx = fx_new(lo);
    rr_ice_transport_set_signalling_address(fx->ice, "127.0.0.1");
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    add_server_candidates(fx);
    rr_ice_transport_remote_gathering_done(fx->ice);
    wait_connected(fx);
    g_assert_true(iterate_until(fx, &fx->our_gathered, 5000));
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_assert_null(r->loopback);
    g_assert_cmpuint(count_local(r, FALSE), ==, 0); /* 127.0.0.1 only */
    g_assert_cmpuint(count_local(r, TRUE), >, 0);
    fx_free(fx);

    /* A configured non-loopback address keeps loopback out even for a loopback server. */
    GList *ips = nice_interfaces_get_local_ips(FALSE);
    const char *other = NULL;
    for (GList *l = ips; l && !other; l = l->next)
        if (!strchr(l->data, ':'))
            other = l->data;
    if (!other) {
        g_list_free_full(ips, g_free);
        g_test_message("no non-loopback IPv4 address here: second half skipped");
        return;
    }
    const char *const only[] = {other, NULL};
    fx = fx_new(only);
    rr_ice_transport_set_signalling_address(fx->ice, "127.0.0.1");
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    g_assert_true(iterate_until(fx, &fx->our_gathered, 5000));
    g_autoptr(RrIceReport) r2 = rr_ice_transport_get_report(fx->ice);
    g_assert_null(r2->loopback);
    g_assert_cmpuint(count_local(r2, TRUE), ==, 0);
    g_assert_true(has_local(r2, other));
    fx_free(fx);
    g_list_free_full(ips, g_free);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/ice/loopback/rule", test_rule);
    g_test_add_func("/rtc/ice/loopback/signalling-address", test_signalling_loopback);
    g_test_add_func("/rtc/ice/loopback/early-candidate", test_early_candidate);
    g_test_add_func("/rtc/ice/loopback/not-loopback", test_not_loopback);
    g_test_add_func("/rtc/ice/loopback/configured-addresses", test_configured_addresses);
    return g_test_run();
}
