/* Unit tests for rtc/ice: candidate lines and JSON, and real ICE sessions on loopback.
 *
 * The "server" is a plain libnice agent (controlling, full ICE, trickle) in the same
 * process and on the same GMainContext; candidates travel between the two as SDP strings
 * through the public API. TURN cases start a real coturn (`turnserver`) on 127.0.0.1 and
 * kill it by pid at the end (and, through PR_SET_PDEATHSIG, if the test dies first).
 */
#include "rtc/ice.h"
#include "rtc/rtc-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ candidates */

static void test_candidate_parse_host(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(RrIceCandidate) c = rr_ice_candidate_parse(
        "candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 "
        "ufrag abcd network-id 1",
        &err);
    g_assert_no_error(err);
    g_assert_cmpstr(c->foundation, ==, "1467250027");
    g_assert_cmpuint(c->component, ==, 1);
    g_assert_cmpint(c->proto, ==, RR_ICE_PROTO_UDP);
    g_assert_cmpuint(c->priority, ==, 2122260223u);
    g_assert_cmpstr(c->address, ==, "192.168.0.196");
    g_assert_cmpuint(c->port, ==, 46243);
    g_assert_cmpint(c->type, ==, RR_ICE_CANDIDATE_HOST);
    g_assert_null(c->raddr);
    g_assert_cmpint(c->generation, ==, 0);
    g_assert_cmpstr(c->ufrag, ==, "abcd");
    g_autofree char *s = rr_ice_candidate_to_string(c);
    g_assert_cmpstr(s, ==,
                    "candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host "
                    "generation 0 ufrag abcd");
}

static void test_candidate_parse_variants(void)
{
    g_autoptr(GError) err = NULL;
    /* a= prefix, CRLF, upper-case transport, srflx with related address */
    g_autoptr(RrIceCandidate) s = rr_ice_candidate_parse(
        "a=candidate:842163049 1 UDP 1677729535 203.0.113.5 61665 typ srflx raddr 10.0.0.2 "
        "rport 61665\r\n",
        &err);
    g_assert_no_error(err);
    g_assert_cmpint(s->type, ==, RR_ICE_CANDIDATE_SRFLX);
    g_assert_cmpstr(s->raddr, ==, "10.0.0.2");
    g_assert_cmpuint(s->rport, ==, 61665);
    /* ICE-TCP passive / active (port 9), IPv6, relay */
    g_autoptr(RrIceCandidate) p =
        rr_ice_candidate_parse("candidate:2 1 tcp 1518280447 2001:db8::1 7881 typ host tcptype "
                               "passive",
                               &err);
    g_assert_no_error(err);
    g_assert_cmpint(p->proto, ==, RR_ICE_PROTO_TCP_PASSIVE);
    g_assert_cmpstr(p->address, ==, "2001:db8::1");
    g_autoptr(RrIceCandidate) a = rr_ice_candidate_parse(
        "candidate:3 1 TCP 1518280447 10.0.0.3 9 typ host tcptype active", &err);
    g_assert_no_error(err);
    g_assert_cmpint(a->proto, ==, RR_ICE_PROTO_TCP_ACTIVE);
    g_assert_cmpuint(a->port, ==, 9);
    g_autoptr(RrIceCandidate) so =
        rr_ice_candidate_parse("candidate:4 1 tcp 1 10.0.0.3 5000 typ prflx tcptype so", &err);
    g_assert_no_error(err);
    g_assert_cmpint(so->proto, ==, RR_ICE_PROTO_TCP_SO);
    g_assert_cmpint(so->type, ==, RR_ICE_CANDIDATE_PRFLX);
    g_autoptr(RrIceCandidate) r = rr_ice_candidate_parse(
        "candidate:5 1 udp 16777215 198.51.100.7 50000 typ relay raddr 0.0.0.0 rport 0", &err);
    g_assert_no_error(err);
    g_assert_cmpint(r->type, ==, RR_ICE_CANDIDATE_RELAY);
    /* mDNS names parse (the transport skips them) */
    g_autoptr(RrIceCandidate) m = rr_ice_candidate_parse(
        "candidate:6 1 udp 2122260223 4a1c6b3e-2f6e-4b5a-9b0e-5e0f0c2f6f1a.local 54321 typ host",
        &err);
    g_assert_no_error(err);
    g_assert_true(rr_ice_candidate_has_hostname(m));
    g_assert_false(rr_ice_candidate_has_hostname(r));

    /* round trips */
    const RrIceCandidate *all[] = {s, p, a, so, r, m};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        g_autofree char *str = rr_ice_candidate_to_string(all[i]);
        g_autoptr(RrIceCandidate) back = rr_ice_candidate_parse(str, &err);
        g_assert_no_error(err);
        g_autofree char *str2 = rr_ice_candidate_to_string(back);
        g_assert_cmpstr(str, ==, str2);
    }
}

static void test_candidate_parse_errors(void)
{
    static const char *const bad[] = {
        "",
        "candidate:",
        "foo:1 1 udp 1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 5 typ",
        "candidate:1 1 udp 1 1.2.3.4 5 type host",
        "candidate:1 1 udp 1 1.2.3.4 5 typ bogus",
        "candidate:1 0 udp 1 1.2.3.4 5 typ host",
        "candidate:1 257 udp 1 1.2.3.4 5 typ host",
        "candidate:1 1 sctp 1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 4294967296 1.2.3.4 5 typ host",
        "candidate:1 1 udp -1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 65536 typ host",
        "candidate:1 1 udp 1 1.2.3.4 5x typ host",
        "candidate:1 1 udp 1 1.2.3.4 5  typ host",
        "candidate:1 1 udp 1 bad_host! 5 typ host",
        "candidate:1 1 udp 1 fe80::1%eth0 5 typ host",
        "candidate:1 1 tcp 1 1.2.3.4 5 typ host",                  /* no tcptype */
        "candidate:1 1 tcp 1 1.2.3.4 5 typ host tcptype sideways", /* bad tcptype */
        "candidate:1 1 udp 1 1.2.3.4 5 typ host tcptype active",   /* tcptype on UDP */
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr",           /* dangling */
        "candidate:1 1 udp 1 1.2.3.4 5 typ srflx rport 5",         /* rport alone */
        "candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 5 typ host",
        "candidate:a-b 1 udp 1 1.2.3.4 5 typ host",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(RrIceCandidate) c = rr_ice_candidate_parse(bad[i], &err);
        if (c)
            g_error("accepted: \"%s\"", bad[i]);
        g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
        g_assert_true(g_str_has_prefix(err->message, "ICE candidate: "));
    }
    g_autoptr(GError) err = NULL;
    g_assert_null(rr_ice_candidate_parse(NULL, &err));
    g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_candidate_json(void)
{
    g_autoptr(GError) err = NULL;
    RrIceCandidateInit init;
    g_assert_true(rr_ice_candidate_init_parse(
        "{\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 5 typ host\",\"sdpMid\":\"0\","
        "\"sdpMLineIndex\":0,\"usernameFragment\":null}",
        &init, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(init.candidate, ==, "candidate:1 1 udp 1 1.2.3.4 5 typ host");
    g_assert_cmpstr(init.sdp_mid, ==, "0");
    g_assert_cmpint(init.sdp_mline_index, ==, 0);
    g_assert_null(init.ufrag);
    rr_ice_candidate_init_clear(&init);

    g_autofree char *json =
        rr_ice_candidate_init_to_json("candidate:1 1 udp 1 1.2.3.4 5 typ host", "0", 0, NULL);
    g_assert_cmpstr(json, ==,
                    "{\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 5 typ host\",\"sdpMid\":\"0\","
                    "\"sdpMLineIndex\":0,\"usernameFragment\":null}");
    g_assert_true(rr_ice_candidate_init_parse(json, &init, &err));
    rr_ice_candidate_init_clear(&init);
    /* end of candidates */
    g_assert_true(rr_ice_candidate_init_parse("{\"candidate\":\"\"}", &init, &err));
    g_assert_cmpstr(init.candidate, ==, "");
    g_assert_cmpint(init.sdp_mline_index, ==, -1);
    rr_ice_candidate_init_clear(&init);

    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"sdpMid\":\"0\"}",
        "{\"candidate\":5}",
        "{\"candidate\":\"x\",\"sdpMLineIndex\":\"0\"}",
        "{\"candidate\":\"x\",\"sdpMLineIndex\":-1}",
        "{\"candidate\":\"x\",\"sdpMid\":[1]}",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&err);
        g_assert_false(rr_ice_candidate_init_parse(bad[i], &init, &err));
        g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
        g_assert_null(init.candidate);
    }
}

static void test_config_errors(void)
{
    RrIceConfig cfg;
    g_autoptr(GError) err = NULL;
    rr_ice_config_init(&cfg);
    const char *bad_map[] = {"203.0.113.5", NULL};
    cfg.nat_map = bad_map;
    g_assert_null(rr_ice_transport_new(NULL, &cfg, NULL, NULL, &err));
    g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&err);
    const char *half_port[] = {"203.0.113.5:7882=10.0.0.1", NULL};
    cfg.nat_map = half_port;
    g_assert_null(rr_ice_transport_new(NULL, &cfg, NULL, NULL, &err));
    g_clear_error(&err);
    cfg.nat_map = NULL;
    const char *bad_local[] = {"localhost", NULL};
    cfg.local_addresses = bad_local;
    g_assert_null(rr_ice_transport_new(NULL, &cfg, NULL, NULL, &err));
    g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

/* ------------------------------------------------------------------ harness */

typedef struct {
    GMainContext *ctx;
    /* the "server": plain libnice */
    NiceAgent *server;
    guint sstream;
    gboolean server_gathered;
    gboolean server_connected;
    GPtrArray *server_cands; /* "a=candidate:..." */
    GPtrArray *server_rx;    /* GBytes */
    gboolean send_ours_to_server;
    /* ours */
    RrIceTransport *ice;
    GPtrArray *our_cands;
    gboolean our_gathered;
    RrIceState state;
    GError *failure;
    RrIcePair *selected;
    GPtrArray *our_rx; /* GBytes */
    gboolean closed;
    gboolean free_on_failure; /* the owner frees the transport inside its FAILED callback */
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
    Fx *fx = data;
    if (state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED)
        fx->server_connected = TRUE;
}

static void server_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
                        gpointer data)
{
    g_ptr_array_add(((Fx *)data)->server_rx, g_bytes_new(buf, len));
}

static void on_local_candidate(RrIceTransport *ice, const char *cand, gpointer data)
{
    Fx *fx = data;
    g_assert_true(g_str_has_prefix(cand, "candidate:"));
    g_ptr_array_add(fx->our_cands, g_strdup(cand));
    if (fx->send_ours_to_server) {
        g_autofree char *line = g_strconcat("a=", cand, NULL);
        NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp(fx->server, fx->sstream, line);
        g_assert_nonnull(nc);
        GSList l = {.data = nc};
        nice_agent_set_remote_candidates(fx->server, fx->sstream, 1, &l);
        nice_candidate_free(nc);
    }
}

static void on_gathering_done(RrIceTransport *ice, gpointer data)
{
    Fx *fx = data;
    fx->our_gathered = TRUE;
    if (fx->send_ours_to_server)
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
    if (error) {
        g_clear_error(&fx->failure);
        fx->failure = g_error_copy(error);
    }
    if (state == RR_ICE_STATE_FAILED && fx->free_on_failure) {
        rr_ice_transport_free(ice);
        fx->ice = NULL;
    }
}

static void on_receive(RrIceTransport *ice, const guint8 *data, gsize len, gpointer user_data)
{
    g_ptr_array_add(((Fx *)user_data)->our_rx, g_bytes_new(data, len));
}

static const RrIceCallbacks callbacks = {
    .local_candidate = on_local_candidate,
    .gathering_done = on_gathering_done,
    .state_changed = on_state,
    .receive = on_receive,
};

static Fx *fx_new_full(gboolean udp, gboolean tcp, gboolean lite)
{
    Fx *fx = g_new0(Fx, 1);
    fx->ctx = g_main_context_new();
    g_main_context_push_thread_default(fx->ctx);
    fx->server_cands = g_ptr_array_new_with_free_func(g_free);
    fx->our_cands = g_ptr_array_new_with_free_func(g_free);
    fx->server_rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    fx->our_rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    fx->send_ours_to_server = TRUE;
    fx->server =
        nice_agent_new_full(fx->ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
    g_object_set(fx->server, "controlling-mode", TRUE, "ice-udp", udp, "ice-tcp", tcp, "upnp",
                 FALSE, NULL);
    NiceAddress lo;
    nice_address_init(&lo);
    nice_address_set_from_string(&lo, "127.0.0.1");
    nice_agent_add_local_address(fx->server, &lo);
    fx->sstream = nice_agent_add_stream(fx->server, 1);
    g_signal_connect(fx->server, "new-candidate-full", G_CALLBACK(server_new_candidate), fx);
    g_signal_connect(fx->server, "candidate-gathering-done", G_CALLBACK(server_gathering_done), fx);
    g_signal_connect(fx->server, "component-state-changed", G_CALLBACK(server_state), fx);
    nice_agent_attach_recv(fx->server, fx->sstream, 1, fx->ctx, server_recv, fx);
    return fx;
}

static Fx *fx_new(gboolean udp, gboolean tcp)
{
    return fx_new_full(udp, tcp, FALSE);
}

static gboolean iterate_until(Fx *fx, gboolean *flag, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!*flag && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(fx->ctx, FALSE))
            g_usleep(1000);
    return *flag;
}

static void server_gather(Fx *fx)
{
    g_assert_true(nice_agent_gather_candidates(fx->server, fx->sstream));
    g_assert_true(iterate_until(fx, &fx->server_gathered, 5000));
    g_assert_cmpuint(fx->server_cands->len, >, 0);
}

static void ours_new_full(Fx *fx, RrIceConfig *cfg, gboolean remote_lite)
{
    static const char *const lo[] = {"127.0.0.1", NULL};
    if (!cfg->local_addresses)
        cfg->local_addresses = lo;
    g_autoptr(GError) err = NULL;
    fx->ice = rr_ice_transport_new(fx->ctx, cfg, &callbacks, fx, &err);
    g_assert_no_error(err);
    /* credentials both ways, as offer and answer would carry them */
    g_autofree char *su = NULL, *sp = NULL, *ou = NULL, *op = NULL;
    nice_agent_get_local_credentials(fx->server, fx->sstream, &su, &sp);
    g_assert_true(rr_ice_transport_set_remote_credentials(fx->ice, su, sp, remote_lite, &err));
    rr_ice_transport_get_local_credentials(fx->ice, &ou, &op);
    nice_agent_set_remote_credentials(fx->server, fx->sstream, ou, op);
}

static void ours_new(Fx *fx, RrIceConfig *cfg)
{
    ours_new_full(fx, cfg, FALSE);
}

/* Trickle the server's candidates (optionally rewritten) and its end-of-candidates. */
static void forward_server_candidates(Fx *fx, char *(*rewrite)(const char *, gpointer),
                                      gpointer data)
{
    for (guint i = 0; i < fx->server_cands->len; i++) {
        const char *c = g_ptr_array_index(fx->server_cands, i);
        g_autofree char *line = rewrite ? rewrite(c, data) : g_strdup(c);
        g_autoptr(GError) err = NULL;
        g_assert_true(rr_ice_transport_add_remote_candidate(fx->ice, line, &err));
        g_assert_no_error(err);
    }
    rr_ice_transport_remote_gathering_done(fx->ice);
}

static gboolean connected_or_failed(Fx *fx)
{
    return ((fx->state == RR_ICE_STATE_READY || fx->state == RR_ICE_STATE_CONNECTED) &&
            fx->server_connected) ||
           fx->state == RR_ICE_STATE_FAILED;
}

static void wait_done(Fx *fx, guint timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!connected_or_failed(fx) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(fx->ctx, FALSE))
            g_usleep(1000);
}

/* Datagrams of several sizes both ways, each must arrive whole and unchanged. */
static void exchange_datagrams(Fx *fx)
{
    static const gsize sizes[] = {1, 13, 200, 1200, 1500};
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree guint8 *buf = g_malloc(sizes[i]);
        for (gsize k = 0; k < sizes[i]; k++)
            buf[k] = (guint8)(k * 7 + i);
        g_autoptr(GError) err = NULL;
        g_assert_true(rr_ice_transport_send(fx->ice, buf, sizes[i], &err));
        g_assert_no_error(err);
        buf[0] ^= 0xff; /* the reply direction carries a different first byte */
        g_assert_cmpint(nice_agent_send(fx->server, fx->sstream, 1, sizes[i], (gchar *)buf), ==,
                        (gint)sizes[i]);
    }
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while ((fx->server_rx->len < G_N_ELEMENTS(sizes) || fx->our_rx->len < G_N_ELEMENTS(sizes)) &&
           g_get_monotonic_time() < end)
        if (!g_main_context_iteration(fx->ctx, FALSE))
            g_usleep(1000);
    g_assert_cmpuint(fx->server_rx->len, ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(fx->our_rx->len, ==, G_N_ELEMENTS(sizes));
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        gsize n1, n2;
        const guint8 *a = g_bytes_get_data(g_ptr_array_index(fx->server_rx, i), &n1);
        const guint8 *b = g_bytes_get_data(g_ptr_array_index(fx->our_rx, i), &n2);
        g_assert_cmpuint(n1, ==, sizes[i]);
        g_assert_cmpuint(n2, ==, sizes[i]);
        for (gsize k = 0; k < sizes[i]; k++) {
            guint8 want = (guint8)(k * 7 + i);
            g_assert_cmpuint(a[k], ==, want);
            g_assert_cmpuint(b[k], ==, k == 0 ? (guint8)(want ^ 0xff) : want);
        }
    }
}

static void on_closed(gpointer data)
{
    ((Fx *)data)->closed = TRUE;
}

static void on_server_closed(GObject *source, GAsyncResult *res, gpointer data)
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
    g_ptr_array_unref(fx->our_cands);
    g_ptr_array_unref(fx->server_rx);
    g_ptr_array_unref(fx->our_rx);
    rr_ice_pair_free(fx->selected);
    g_clear_error(&fx->failure);
    g_main_context_pop_thread_default(fx->ctx);
    g_main_context_unref(fx->ctx);
    g_free(fx);
}

static void print_report(Fx *fx)
{
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_autofree char *text = rr_ice_report_to_text(r);
    g_test_message("%s", text);
}

/* ------------------------------------------------------------------ direct paths */

static void test_connect_udp(void)
{
    Fx *fx = fx_new(TRUE, FALSE);
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.tcp = FALSE;
    ours_new(fx, &cfg);
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    server_gather(fx);
    forward_server_candidates(fx, NULL, NULL);
    wait_done(fx, 10000);
    print_report(fx);
    g_assert_no_error(fx->failure);
    g_assert_true(fx->state == RR_ICE_STATE_CONNECTED || fx->state == RR_ICE_STATE_READY);
    g_assert_true(fx->our_gathered);
    g_assert_nonnull(fx->selected);
    g_assert_cmpint(fx->selected->local->proto, ==, RR_ICE_PROTO_UDP);
    g_assert_cmpint(fx->selected->local->type, ==, RR_ICE_CANDIDATE_HOST);
    g_assert_cmpstr(fx->selected->remote->address, ==, "127.0.0.1");
    g_assert_null(fx->selected->relay_server);
    exchange_datagrams(fx);

    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_assert_nonnull(r->selected);
    g_assert_cmpuint(r->local->len, >=, 1);
    g_assert_cmpuint(r->remote->len, >=, 1);
    gboolean saw_selected = FALSE;
    for (guint i = 0; i < r->pairs->len; i++)
        saw_selected |=
            g_strcmp0(((RrIceReportPair *)r->pairs->pdata[i])->outcome, "selected") == 0;
    g_assert_true(saw_selected);
    g_assert_true(g_str_has_prefix(r->summary, "connected via host udp 127.0.0.1:"));
    /* the JSON form is valid JSON with the summary in it */
    g_autoptr(JsonBuilder) b = json_builder_new();
    rr_ice_report_build_json(r, b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "state"), ==,
                    rr_ice_state_to_string(fx->state));
    fx_free(fx);
}

static void test_connect_tcp(void)
{
    Fx *fx = fx_new(FALSE, TRUE);
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.udp = FALSE;
    ours_new(fx, &cfg);
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    server_gather(fx);
    for (guint i = 0; i < fx->server_cands->len; i++)
        g_assert_nonnull(strstr(fx->server_cands->pdata[i], " TCP "));
    forward_server_candidates(fx, NULL, NULL);
    wait_done(fx, 10000);
    print_report(fx);
    g_assert_no_error(fx->failure);
    g_assert_nonnull(fx->selected);
    g_assert_true(rr_ice_proto_is_tcp(fx->selected->local->proto));
    g_assert_true(rr_ice_proto_is_tcp(fx->selected->remote->proto));
    /* RFC 4571 framing by libnice: boundaries survive the byte stream */
    exchange_datagrams(fx);
    fx_free(fx);
}

/* Against an ice-lite server we are the controlling agent and nominate. */
static void test_connect_remote_lite(void)
{
    Fx *fx = fx_new_full(TRUE, FALSE, TRUE);
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.tcp = FALSE;
    ours_new_full(fx, &cfg, TRUE);
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    server_gather(fx);
    forward_server_candidates(fx, NULL, NULL);
    wait_done(fx, 10000);
    print_report(fx);
    g_assert_no_error(fx->failure);
    g_assert_nonnull(fx->selected);
    exchange_datagrams(fx);
    fx_free(fx);
}

static void test_remote_candidate_input(void)
{
    Fx *fx = fx_new(TRUE, FALSE);
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    ours_new(fx, &cfg);
    g_autoptr(GError) err = NULL;
    g_assert_false(rr_ice_transport_add_remote_candidate(fx->ice, "candidate:garbage", &err));
    g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&err);
    g_assert_true(rr_ice_transport_add_remote_candidate(
        fx->ice, "candidate:1 1 udp 2122260223 abcdef01-2345.local 5000 typ host", &err));
    g_assert_true(rr_ice_transport_add_remote_candidate(
        fx->ice, "candidate:2 2 udp 2122260222 10.9.9.9 5001 typ host", &err));
    g_assert_true(rr_ice_transport_add_remote_candidate(
        fx->ice, "candidate:3 1 udp 2122260223 10.9.9.9 5000 typ host", &err));
    g_assert_no_error(err);
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    g_assert_cmpuint(r->skipped->len, ==, 2);
    g_assert_cmpuint(r->remote->len, ==, 1);
    g_assert_nonnull(strstr(((RrIceReportCandidate *)r->skipped->pdata[0])->note, "mDNS"));
    /* sending before connecting is an error, not a crash */
    g_assert_false(rr_ice_transport_send(fx->ice, (const guint8 *)"x", 1, &err));
    g_assert_error(err, RR_RTC_ERROR, RR_RTC_ERROR_ICE);
    fx_free(fx);
}

/* ------------------------------------------------------------------ NAT map */

typedef struct {
    const char *from;
    char *to;
} Rewrite;

static char *rewrite_candidate(const char *line, gpointer data)
{
    Rewrite *rw = data;
    g_autoptr(GString) s = g_string_new(line);
    g_string_replace(s, rw->from, rw->to, 1);
    return g_strdup(s->str);
}

static guint16 closed_udp_port(void)
{
    g_autoptr(GSocket) s =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(s, sa, FALSE, NULL));
    g_autoptr(GSocketAddress) bound = g_socket_get_local_address(s, NULL);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

/* The server advertises 127.0.0.1:WRONG (nothing listens there); the server never gets our
 * candidates, so only our checks can find a path (no peer-reflexive rescue). */
static void nat_case(gboolean with_map)
{
    Fx *fx = fx_new(TRUE, FALSE);
    fx->send_ours_to_server = FALSE;
    server_gather(fx);
    g_assert_cmpuint(fx->server_cands->len, ==, 1);
    g_auto(GStrv) tok = g_strsplit(fx->server_cands->pdata[0], " ", -1);
    guint16 real = (guint16)atoi(tok[5]);
    guint16 wrong = closed_udp_port();
    g_autofree char *from = g_strdup_printf(" 127.0.0.1 %u ", real);
    Rewrite rw = {from, g_strdup_printf(" 127.0.0.1 %u ", wrong)};
    g_autofree char *map = g_strdup_printf("127.0.0.1:%u=127.0.0.1:%u", wrong, real);
    const char *nat_map[] = {map, NULL};

    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.tcp = FALSE;
    cfg.connect_timeout_ms = 4000;
    if (with_map)
        cfg.nat_map = nat_map;
    ours_new(fx, &cfg);
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    forward_server_candidates(fx, rewrite_candidate, &rw);
    g_free(rw.to);
    gint64 t0 = g_get_monotonic_time();
    wait_done(fx, 12000);
    print_report(fx);
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    if (with_map) {
        g_assert_no_error(fx->failure);
        g_assert_nonnull(fx->selected);
        g_assert_cmpuint(fx->selected->remote->port, ==, real);
        gboolean mapped = FALSE;
        for (guint i = 0; i < r->remote->len; i++) {
            RrIceReportCandidate *c = r->remote->pdata[i];
            if (c->origin == RR_ICE_ORIGIN_NAT_MAP && c->candidate->port == real)
                mapped = TRUE;
        }
        g_assert_true(mapped);
        exchange_datagrams(fx);
    } else {
        g_assert_cmpint(fx->state, ==, RR_ICE_STATE_FAILED);
        g_assert_error(fx->failure, RR_RTC_ERROR, RR_RTC_ERROR_ICE);
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 8 * G_USEC_PER_SEC);
        g_autofree char *adv = g_strdup_printf("127.0.0.1:%u", wrong);
        g_test_message("failure: %s", fx->failure->message);
        g_assert_nonnull(strstr(fx->failure->message, "no reply from any server candidate"));
        g_assert_nonnull(strstr(fx->failure->message, adv));
        g_assert_nonnull(strstr(fx->failure->message, "nothing listens there"));
        g_assert_nonnull(strstr(fx->failure->message, "set a NAT map"));
        g_assert_nonnull(strstr(r->summary, "ICMP port unreachable"));
        g_assert_cmpuint(r->pairs->len, >=, 1);
        g_assert_true(g_str_has_prefix(((RrIceReportPair *)r->pairs->pdata[0])->outcome, "failed"));
    }
    fx_free(fx);
}

static void test_nat_map_port(void)
{
    nat_case(TRUE);
}

static void test_nat_unreachable(void)
{
    nat_case(FALSE);
}

/* The server advertises 127.0.0.2 (its sockets are bound to 127.0.0.1 only, so nothing
 * answers there); the transport also tries the signalling address 127.0.0.1 with the
 * advertised port, or the ip-form NAT map. */
static void addr_case(gboolean use_map)
{
    Fx *fx = fx_new(TRUE, FALSE);
    fx->send_ours_to_server = FALSE;
    server_gather(fx);
    Rewrite rw = {" 127.0.0.1 ", g_strdup(" 127.0.0.2 ")};
    const char *nat_map[] = {"127.0.0.2=127.0.0.1", NULL};
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.tcp = FALSE;
    cfg.connect_timeout_ms = 5000;
    if (use_map)
        cfg.nat_map = nat_map;
    ours_new(fx, &cfg);
    if (!use_map)
        rr_ice_transport_set_signalling_address(fx->ice, "127.0.0.1");
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    forward_server_candidates(fx, rewrite_candidate, &rw);
    g_free(rw.to);
    wait_done(fx, 10000);
    print_report(fx);
    g_assert_no_error(fx->failure);
    g_assert_nonnull(fx->selected);
    g_assert_cmpstr(fx->selected->remote->address, ==, "127.0.0.1");
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    RrIceOrigin want = use_map ? RR_ICE_ORIGIN_NAT_MAP : RR_ICE_ORIGIN_SIGNALLING_ADDRESS;
    gboolean found = FALSE;
    for (guint i = 0; i < r->remote->len; i++) {
        RrIceReportCandidate *c = r->remote->pdata[i];
        found |= c->origin == want && g_strcmp0(c->candidate->address, "127.0.0.1") == 0;
    }
    g_assert_true(found);
    exchange_datagrams(fx);
    fx_free(fx);
}

static void test_signalling_address(void)
{
    addr_case(FALSE);
}

static void test_nat_map_ip(void)
{
    addr_case(TRUE);
}

static void force_relay_case(gboolean free_on_failure)
{
    Fx *fx = fx_new(TRUE, FALSE);
    fx->free_on_failure = free_on_failure;
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.allowed_types = RR_ICE_ALLOW_RELAY;
    ours_new(fx, &cfg);
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    server_gather(fx);
    forward_server_candidates(fx, NULL, NULL);
    wait_done(fx, 5000);
    g_assert_cmpint(fx->state, ==, RR_ICE_STATE_FAILED);
    g_assert_cmpuint(fx->our_cands->len, ==, 0);
    g_assert_nonnull(strstr(fx->failure->message, "no TURN server is configured"));
    g_assert_true(free_on_failure == (fx->ice == NULL));
    fx_free(fx);
}

static void test_force_relay_without_turn(void)
{
    force_relay_case(FALSE);
}

static void test_free_in_callback(void)
{
    force_relay_case(TRUE);
}

/* ------------------------------------------------------------------ TURN (coturn) */

typedef struct {
    GPid pid;
    guint16 port;
    guint16 tls_port;
    char *dir;
} Coturn;

static void child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean port_free(guint16 port)
{
    gboolean ok = TRUE;
    GSocketType types[] = {G_SOCKET_TYPE_DATAGRAM, G_SOCKET_TYPE_STREAM};
    for (guint i = 0; i < 2 && ok; i++) {
        g_autoptr(GSocket) s =
            g_socket_new(G_SOCKET_FAMILY_IPV4, types[i], G_SOCKET_PROTOCOL_DEFAULT, NULL);
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(lo, port);
        ok = g_socket_bind(s, sa, FALSE, NULL);
    }
    return ok;
}

static gboolean tcp_open(guint16 port)
{
    g_autoptr(GSocketClient) c = g_socket_client_new();
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_to_host(c, "127.0.0.1", port, NULL, NULL);
    return conn != NULL;
}

static gboolean coturn_start(Coturn *t, gboolean tls)
{
    g_autofree char *bin = g_find_program_in_path("turnserver");
    if (!bin) {
        g_test_skip("turnserver (coturn) not installed");
        return FALSE;
    }
    memset(t, 0, sizeof *t);
    t->dir = g_dir_make_tmp("rr-ice-coturn-XXXXXX", NULL);
    g_assert_nonnull(t->dir);
    do {
        t->port = (guint16)g_random_int_range(20000, 40000);
        t->tls_port = t->port + 1;
    } while (!port_free(t->port) || !port_free(t->tls_port));
    guint16 relay_min = (guint16)g_random_int_range(41000, 60000);
    g_autofree char *cert = g_build_filename(t->dir, "cert.pem", NULL);
    g_autofree char *key = g_build_filename(t->dir, "key.pem", NULL);
    if (tls) {
        const char *argv[] = {"openssl",
                              "req",
                              "-x509",
                              "-newkey",
                              "ec",
                              "-pkeyopt",
                              "ec_paramgen_curve:prime256v1",
                              "-nodes",
                              "-days",
                              "1",
                              "-subj",
                              "/CN=turn.roomrec.test",
                              "-keyout",
                              key,
                              "-out",
                              cert,
                              NULL};
        gint status = -1;
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                       G_SPAWN_STDERR_TO_DEV_NULL,
                                   NULL, NULL, NULL, NULL, &status, NULL));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
    }
    g_autofree char *port_arg = g_strdup_printf("--listening-port=%u", t->port);
    g_autofree char *tls_arg = g_strdup_printf("--tls-listening-port=%u", t->tls_port);
    g_autofree char *min_arg = g_strdup_printf("--min-port=%u", relay_min);
    g_autofree char *max_arg = g_strdup_printf("--max-port=%u", relay_min + 200);
    g_autofree char *pid_arg = g_strdup_printf("--pidfile=%s/turn.pid", t->dir);
    g_autofree char *db_arg = g_strdup_printf("--userdb=%s/turndb", t->dir);
    g_autofree char *log_arg = g_strdup_printf("--log-file=%s/turn.log", t->dir);
    g_autofree char *cert_arg = g_strdup_printf("--cert=%s", cert);
    g_autofree char *key_arg = g_strdup_printf("--pkey=%s", key);
    GPtrArray *argv = g_ptr_array_new();
    const char *fixed[] = {bin,
                           "-n",
                           "--listening-ip=127.0.0.1",
                           "--relay-ip=127.0.0.1",
                           port_arg,
                           min_arg,
                           max_arg,
                           "--lt-cred-mech",
                           "--user=u:p",
                           "--realm=roomrec.test",
                           "--no-dtls",
                           "--allow-loopback-peers",
                           "--no-cli",
                           db_arg,
                           pid_arg,
                           log_arg,
                           "--simple-log",
                           "--no-stdout-log"};
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (char *)fixed[i]);
    if (tls) {
        g_ptr_array_add(argv, tls_arg);
        g_ptr_array_add(argv, cert_arg);
        g_ptr_array_add(argv, key_arg);
    } else {
        g_ptr_array_add(argv, "--no-tls");
    }
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) err = NULL;
    gboolean ok = g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                child_setup, NULL, &t->pid, &err);
    g_ptr_array_unref(argv);
    g_assert_no_error(err);
    g_assert_true(ok);
    for (int i = 0; i < 100 && !(tcp_open(t->port) && (!tls || tcp_open(t->tls_port))); i++)
        g_usleep(50000);
    g_assert_true(tcp_open(t->port));
    return TRUE;
}

static void coturn_stop(Coturn *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        int status;
        for (int i = 0; i < 40 && waitpid(t->pid, &status, WNOHANG) == 0; i++)
            g_usleep(50000);
        if (waitpid(t->pid, &status, WNOHANG) == 0) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
        }
        g_spawn_close_pid(t->pid);
    }
    if (t->dir) {
        const char *names[] = {"turn.pid", "turn.log", "cert.pem", "key.pem"};
        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
            g_autofree char *p = g_build_filename(t->dir, names[i], NULL);
            g_unlink(p);
        }
        /* coturn may add a date to the log name */
        GDir *d = g_dir_open(t->dir, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(t->dir, n, NULL);
            g_unlink(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(t->dir);
        g_free(t->dir);
    }
}

static void turn_case(const char *scheme, const char *host, const char *transport,
                      const char *password, gboolean expect_ok)
{
    Coturn t;
    if (!coturn_start(&t, g_str_equal(scheme, "turns")))
        return;
    Fx *fx = fx_new(TRUE, FALSE);
    g_autofree char *url =
        g_strdup_printf("%s:%s:%u?transport=%s", scheme, host,
                        g_str_equal(scheme, "turns") ? t.tls_port : t.port, transport);
    RrIceServer servers[] = {{.url = url, .username = "u", .credential = password}};
    RrIceConfig cfg;
    rr_ice_config_init(&cfg);
    cfg.servers = servers;
    cfg.n_servers = 1;
    cfg.allowed_types = RR_ICE_ALLOW_RELAY;
    cfg.tcp = FALSE;
    cfg.turn_tls_verify = FALSE; /* self-signed test certificate */
    cfg.connect_timeout_ms = expect_ok ? 10000 : 4000;
    cfg.turn_timeout_ms = 2000;
    ours_new(fx, &cfg);
    g_autoptr(GError) err = NULL;
    g_assert_true(rr_ice_transport_gather(fx->ice, &err));
    server_gather(fx);
    forward_server_candidates(fx, NULL, NULL);
    gint64 t0 = g_get_monotonic_time();
    wait_done(fx, 15000);
    print_report(fx);
    g_autoptr(RrIceReport) r = rr_ice_transport_get_report(fx->ice);
    if (expect_ok) {
        g_assert_no_error(fx->failure);
        g_assert_nonnull(fx->selected);
        g_assert_cmpint(fx->selected->local->type, ==, RR_ICE_CANDIDATE_RELAY);
        g_autofree char *srv =
            g_strdup_printf("127.0.0.1:%u", g_str_equal(scheme, "turns") ? t.tls_port : t.port);
        g_assert_cmpstr(fx->selected->relay_server, ==, srv);
        for (guint i = 0; i < fx->our_cands->len; i++)
            g_assert_nonnull(strstr(fx->our_cands->pdata[i], " typ relay"));
        RrIceReportServer *s = r->servers->pdata[0];
        g_assert_true(s->ok);
        g_assert_true(g_str_has_prefix(s->status, "allocated relay 127.0.0.1:"));
        exchange_datagrams(fx);
    } else {
        g_assert_cmpint(fx->state, ==, RR_ICE_STATE_FAILED);
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 8 * G_USEC_PER_SEC);
        g_test_message("failure: %s", fx->failure->message);
        g_assert_nonnull(strstr(fx->failure->message, "relay is forced but no TURN allocation "
                                                      "succeeded"));
        g_assert_nonnull(strstr(fx->failure->message, "no relay candidate"));
        g_assert_nonnull(strstr(fx->failure->message, "401"));
        g_assert_nonnull(strstr(fx->failure->message, "credentials"));
        g_assert_null(strstr(fx->failure->message, password)); /* never the secret */
        RrIceReportServer *s = r->servers->pdata[0];
        g_assert_false(s->ok);
    }
    fx_free(fx);
    coturn_stop(&t);
}

static void test_turn_udp(void)
{
    turn_case("turn", "127.0.0.1", "udp", "p", TRUE);
}

static void test_turn_tcp(void)
{
    turn_case("turn", "localhost", "tcp", "p", TRUE);
}

static void test_turn_tls(void)
{
    turn_case("turns", "127.0.0.1", "tcp", "p", TRUE);
}

static void test_turn_bad_password(void)
{
    turn_case("turn", "127.0.0.1", "udp", "wrong-secret-xyz", FALSE);
}

static void test_turn_tcp_bad_password(void)
{
    turn_case("turn", "127.0.0.1", "tcp", "wrong-secret-xyz", FALSE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/ice/candidate/parse-host", test_candidate_parse_host);
    g_test_add_func("/rtc/ice/candidate/parse-variants", test_candidate_parse_variants);
    g_test_add_func("/rtc/ice/candidate/parse-errors", test_candidate_parse_errors);
    g_test_add_func("/rtc/ice/candidate/json", test_candidate_json);
    g_test_add_func("/rtc/ice/config-errors", test_config_errors);
    g_test_add_func("/rtc/ice/remote-candidate-input", test_remote_candidate_input);
    g_test_add_func("/rtc/ice/connect-udp", test_connect_udp);
    g_test_add_func("/rtc/ice/connect-tcp", test_connect_tcp);
    g_test_add_func("/rtc/ice/connect-remote-lite", test_connect_remote_lite);
    g_test_add_func("/rtc/ice/nat-map-port", test_nat_map_port);
    g_test_add_func("/rtc/ice/nat-unreachable", test_nat_unreachable);
    g_test_add_func("/rtc/ice/nat-map-ip", test_nat_map_ip);
    g_test_add_func("/rtc/ice/signalling-address", test_signalling_address);
    g_test_add_func("/rtc/ice/force-relay-without-turn", test_force_relay_without_turn);
    g_test_add_func("/rtc/ice/free-in-callback", test_free_in_callback);
    g_test_add_func("/rtc/ice/turn-udp", test_turn_udp);
    g_test_add_func("/rtc/ice/turn-tcp", test_turn_tcp);
    g_test_add_func("/rtc/ice/turn-tls", test_turn_tls);
    g_test_add_func("/rtc/ice/turn-bad-password", test_turn_bad_password);
    g_test_add_func("/rtc/ice/turn-tcp-bad-password", test_turn_tcp_bad_password);
    return g_test_run();
}
