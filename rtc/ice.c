/* rtc/ice: see ice.h. The agent, local candidates, state, timeouts and data. Configuration
 * parsing is in ice-config.c, remote candidates and the NAT map in ice-remote.c, the report
 * in ice-report.c, failure probes in ice-probe.c, TURN over TLS in ice-tls-tunnel.c.
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/ice-priv.h"
#include "rtc/rtc-error.h"

#include <nice/interfaces.h>
#include <string.h>

#define FAILURE_PROBE_MS 1500

const char *rr_ice_state_to_string(RrIceState state)
{
    static const char *const names[] = {"new",       "gathering", "connecting",
                                        "connected", "ready",     "failed"};
    return state <= RR_ICE_STATE_FAILED ? names[state] : "unknown";
}

const char *rr_ice_origin_to_string(RrIceOrigin origin)
{
    static const char *const names[] = {"gathered", "signalled", "nat-map", "signalling-address",
                                        "peer-reflexive"};
    return origin <= RR_ICE_ORIGIN_PEER_REFLEXIVE ? names[origin] : "unknown";
}

void rr_ice_pair_free(RrIcePair *pair)
{
    if (!pair)
        return;
    rr_ice_candidate_free(pair->local);
    rr_ice_candidate_free(pair->remote);
    g_free(pair->relay_server);
    g_free(pair);
}

RrIcePair *rr_ice_pair_copy(const RrIcePair *pair)
{
    RrIcePair *p = g_new0(RrIcePair, 1);
    p->local = rr_ice_candidate_copy(pair->local);
    p->remote = rr_ice_candidate_copy(pair->remote);
    p->relay_server = g_strdup(pair->relay_server);
    return p;
}

char *rr_ice_pair_to_string(const RrIcePair *pair)
{
    const RrIceCandidate *l = pair->local, *r = pair->remote;
    g_autofree char *via =
        pair->relay_server ? g_strdup_printf(" (TURN %s)", pair->relay_server) : g_strdup("");
    return g_strdup_printf("%s %s %s:%u%s -> %s %s %s:%u", rr_ice_candidate_type_to_string(l->type),
                           rr_ice_proto_to_string(l->proto), l->address, l->port, via,
                           rr_ice_candidate_type_to_string(r->type),
                           rr_ice_proto_to_string(r->proto), r->address, r->port);
}

void rr_ice_report_candidate_clear(RrIceReportCandidate *rc)
{
    g_clear_pointer(&rc->candidate, rr_ice_candidate_free);
    g_clear_pointer(&rc->note, g_free);
    g_clear_pointer(&rc->probe, g_free);
}

static void report_candidate_free(RrIceReportCandidate *rc)
{
    rr_ice_report_candidate_clear(rc);
    g_free(rc);
}

void rr_ice_remote_free(RrIceRemote *r)
{
    if (!r)
        return;
    rr_ice_report_candidate_clear(&r->rc);
    g_free(r->probe);
    g_free(r);
}

/* ---- callbacks into the owner (they may free us) ---- */

static void really_free(RrIceTransport *ice);

static void cb_enter(RrIceTransport *ice)
{
    ice->in_callback++;
}

/* FALSE when the owner freed the transport: the caller must return at once. */
static gboolean cb_leave(RrIceTransport *ice)
{
    ice->in_callback--;
    if (ice->free_pending) {
        if (ice->in_callback == 0)
            really_free(ice);
        return FALSE;
    }
    return TRUE;
}

static gboolean set_state(RrIceTransport *ice, RrIceState state)
{
    if (ice->state == state || ice->state == RR_ICE_STATE_FAILED)
        return TRUE;
    g_debug("ICE state %s -> %s", rr_ice_state_to_string(ice->state),
            rr_ice_state_to_string(state));
    ice->state = state;
    if (state >= RR_ICE_STATE_CONNECTED && ice->restart_time) {
        ice->last_restart_ms = (g_get_monotonic_time() - ice->restart_time) / 1000;
        ice->restart_time = 0;
        ice->restarts_completed++;
        g_info("ICE restart completed in %" G_GINT64_FORMAT " ms", ice->last_restart_ms);
    }
    if (state >= RR_ICE_STATE_CONNECTED && ice->timeout_source) {
        g_source_destroy(ice->timeout_source);
        g_clear_pointer(&ice->timeout_source, g_source_unref);
    }
    if (!ice->cb.state_changed)
        return TRUE;
    cb_enter(ice);
    ice->cb.state_changed(ice, state, ice->selected, NULL, ice->user_data);
    return cb_leave(ice);
}

/* ---- libnice signals ---- */

/* The TURN server a relayed candidate came from. libnice 0.1.21 cannot say
 * (nice_candidate_relay_address() dereferences a NULL pointer on the copies signals carry),
 * but it encodes the server's position in the relay list in the candidate's priority: local
 * preference bits 6-8 (RFC 8445 5.1.2.1 leaves local preference to the agent). */
static RrIceServerState *server_for_relay(RrIceTransport *ice, const NiceCandidate *nc)
{
    guint local_pref = (nc->priority >> 8) & 0xffff;
    guint index = (local_pref >> 6) & 0x7;
    if (index < ice->turn_order->len)
        return g_ptr_array_index(ice->turn_order, index);
    return ice->turn_order->len == 1 ? g_ptr_array_index(ice->turn_order, 0) : NULL;
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *nc, gpointer data)
{
    RrIceTransport *ice = data;
    if (nc->stream_id != ice->stream_id || nc->component_id != 1)
        return;
    RrIceCandidate *c = rr_ice_candidate_from_nice(nc);
    RrIceReportCandidate *rc = g_new0(RrIceReportCandidate, 1);
    rc->candidate = c;
    rc->origin = RR_ICE_ORIGIN_GATHERED;
    if (nc->type == NICE_CANDIDATE_TYPE_RELAYED) {
        RrIceServerState *s = server_for_relay(ice, nc);
        if (s) {
            s->relay_seen = s->ok = s->done = TRUE;
            g_free(s->status);
            s->status = g_strdup_printf("allocated relay %s:%u", c->address, c->port);
            rc->note =
                g_strdup_printf("via %s %s:%u", rr_ice_server_kind_name(s->kind), s->ip, s->port);
        }
    } else if (nc->type == NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE) {
        rc->note = g_strdup("from STUN/TURN binding");
    }
    g_ptr_array_add(ice->local, rc);
    g_autofree char *line = rr_ice_candidate_to_string(c);
    g_debug("ICE local candidate %s", line);
    if (ice->cb.local_candidate) {
        cb_enter(ice);
        ice->cb.local_candidate(ice, line, ice->user_data);
        cb_leave(ice);
    }
}

static void finish_turn_statuses(RrIceTransport *ice, const char *why)
{
    for (guint i = 0; i < ice->servers->len; i++) {
        RrIceServerState *s = g_ptr_array_index(ice->servers, i);
        if (s->done || !s->used || s->kind == RR_ICE_SERVER_STUN)
            continue;
        s->done = TRUE;
        g_free(s->status);
        s->status = g_strdup_printf("%s allocation on %s:%u: no relay candidate %s "
                                    "(auth failure or unreachable)",
                                    rr_ice_server_kind_name(s->kind), s->ip, s->port, why);
        if (s->tunnel && rr_ice_tls_tunnel_get_error(s->tunnel)) {
            g_free(s->status);
            s->status = g_strdup_printf("TURN TLS to %s:%u failed: %s", s->ip, s->port,
                                        rr_ice_tls_tunnel_get_error(s->tunnel));
        }
        g_info("ICE: %s", s->status);
    }
}

static gboolean check_early_failure(RrIceTransport *ice);

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
    RrIceTransport *ice = data;
    if (stream_id != ice->stream_id || ice->local_gathering_done)
        return;
    ice->local_gathering_done = TRUE;
    g_debug("ICE gathering done: %u local candidates", ice->local->len);
    finish_turn_statuses(ice, "when gathering ended");
    if (ice->cb.gathering_done) {
        cb_enter(ice);
        ice->cb.gathering_done(ice, ice->user_data);
        if (!cb_leave(ice))
            return;
    }
    check_early_failure(ice);
}

static void on_component_state(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                               gpointer data)
{
    RrIceTransport *ice = data;
    if (stream_id != ice->stream_id || component_id != 1)
        return;
    switch (state) {
    case NICE_COMPONENT_STATE_GATHERING:
        set_state(ice, RR_ICE_STATE_GATHERING);
        break;
    case NICE_COMPONENT_STATE_CONNECTING:
        set_state(ice, RR_ICE_STATE_CONNECTING);
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
        set_state(ice, RR_ICE_STATE_CONNECTED);
        break;
    case NICE_COMPONENT_STATE_READY:
        set_state(ice, RR_ICE_STATE_READY);
        break;
    case NICE_COMPONENT_STATE_FAILED:
        rr_ice_transport_fail(ice, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_ICE,
                                               ice->state >= RR_ICE_STATE_CONNECTED
                                                   ? "ICE connection lost"
                                                   : "ICE failed: every candidate pair failed"));
        break;
    default:
        break;
    }
}

static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component_id,
                             NiceCandidate *lc, NiceCandidate *rc, gpointer data)
{
    RrIceTransport *ice = data;
    if (stream_id != ice->stream_id || component_id != 1)
        return;
    RrIcePair *p = g_new0(RrIcePair, 1);
    p->local = rr_ice_candidate_from_nice(lc);
    p->remote = rr_ice_candidate_from_nice(rc);
    if (lc->type == NICE_CANDIDATE_TYPE_RELAYED) {
        RrIceServerState *s = server_for_relay(ice, lc);
        if (s)
            p->relay_server = g_strdup_printf("%s:%u", s->ip, s->port);
    }
    rr_ice_pair_free(ice->selected);
    ice->selected = p;
    g_autofree char *str = rr_ice_pair_to_string(p);
    g_info("ICE selected pair: %s", str);
    if (ice->state >= RR_ICE_STATE_CONNECTED && ice->state != RR_ICE_STATE_FAILED &&
        ice->cb.state_changed) {
        cb_enter(ice);
        ice->cb.state_changed(ice, ice->state, ice->selected, NULL, ice->user_data);
        cb_leave(ice);
    }
}

static void on_new_remote_candidate(NiceAgent *agent, NiceCandidate *nc, gpointer data)
{
    RrIceTransport *ice = data;
    if (nc->stream_id != ice->stream_id || nc->type != NICE_CANDIDATE_TYPE_PEER_REFLEXIVE)
        return;
    RrIceRemote *r = g_new0(RrIceRemote, 1);
    r->rc.candidate = rr_ice_candidate_from_nice(nc);
    r->rc.origin = RR_ICE_ORIGIN_PEER_REFLEXIVE;
    r->rc.note = g_strdup("the server's check came from this address");
    g_ptr_array_add(ice->remote, r);
}

static void on_initial_binding_request(NiceAgent *agent, guint stream_id, gpointer data)
{
    RrIceTransport *ice = data;
    if (stream_id == ice->stream_id)
        ice->inbound_checks_seen = TRUE;
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer data)
{
    RrIceTransport *ice = data;
    if (ice->cb.receive && !ice->free_pending) {
        cb_enter(ice);
        ice->cb.receive(ice, (const guint8 *)buf, len, ice->user_data);
        cb_leave(ice);
    }
}

/* ---- failure ---- */

static void announce_failure(RrIceTransport *ice)
{
    ice->probing = FALSE;
    g_autoptr(RrIceReport) report = rr_ice_transport_get_report(ice);
    g_autofree char *msg = g_strdup_printf("%s: %s", ice->failure->message, report->summary);
    g_free(ice->failure->message);
    ice->failure->message = g_steal_pointer(&msg);
    g_info("%s", ice->failure->message);
    if (!ice->cb.state_changed)
        return;
    cb_enter(ice);
    ice->cb.state_changed(ice, RR_ICE_STATE_FAILED, ice->selected, ice->failure, ice->user_data);
    cb_leave(ice);
}

void rr_ice_transport_fail(RrIceTransport *ice, GError *error)
{
    if (ice->state == RR_ICE_STATE_FAILED || ice->free_pending) {
        g_error_free(error);
        return;
    }
    g_clear_error(&ice->failure);
    ice->failure = error;
    gboolean was_connected = ice->state >= RR_ICE_STATE_CONNECTED;
    ice->state = RR_ICE_STATE_FAILED;
    if (ice->timeout_source) {
        g_source_destroy(ice->timeout_source);
        g_clear_pointer(&ice->timeout_source, g_source_unref);
    }
    finish_turn_statuses(ice, "before ICE failed");
    if (was_connected) {
        announce_failure(ice);
        return;
    }
    /* Find out what the paths we could not use do, then tell the owner. */
    ice->probing = TRUE;
    rr_ice_probe_start(ice, FAILURE_PROBE_MS, announce_failure);
}

static gboolean on_timeout(gpointer data)
{
    RrIceTransport *ice = data;
    g_clear_pointer(&ice->timeout_source, g_source_unref);
    if (ice->state < RR_ICE_STATE_CONNECTED)
        rr_ice_transport_fail(ice, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_ICE,
                                               "ICE did not connect within %u s",
                                               (ice->connect_timeout_ms + 999) / 1000));
    return G_SOURCE_REMOVE;
}

static gboolean on_turn_timer(gpointer data)
{
    RrIceTransport *ice = data;
    g_clear_pointer(&ice->turn_timer, g_source_unref);
    g_autofree char *why = g_strdup_printf("after %u s", (ice->turn_timeout_ms + 999) / 1000);
    finish_turn_statuses(ice, why);
    return G_SOURCE_REMOVE;
}

/* No local candidate can ever pair: fail now instead of waiting for the timeout. */
static gboolean check_early_failure(RrIceTransport *ice)
{
    if (!ice->local_gathering_done || !ice->remote_gathering_done ||
        ice->state >= RR_ICE_STATE_CONNECTED || ice->local->len > 0)
        return FALSE;
    rr_ice_transport_fail(
        ice, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_ICE, "ICE failed: no local candidates"));
    return TRUE;
}

/* ---- construction ---- */

static void add_local_address(RrIceTransport *ice, const char *ip)
{
    NiceAddress a;
    nice_address_init(&a);
    if (nice_address_set_from_string(&a, ip))
        nice_agent_add_local_address(ice->agent, &a);
}

/* The loopback rule (see rr_ice_loopback_reason): without configured addresses, either
 * libnice enumerates the interfaces itself (no loopback), or we add them all, loopback
 * included. */
static void choose_local_addresses(RrIceTransport *ice)
{
    if (ice->fixed_local_addresses)
        return;
    g_autoptr(GPtrArray) remote = g_ptr_array_new();
    for (guint i = 0; i < ice->remote->len; i++) {
        RrIceRemote *r = g_ptr_array_index(ice->remote, i);
        if (r->rc.origin == RR_ICE_ORIGIN_SIGNALLED)
            g_ptr_array_add(remote, r->rc.candidate->address);
    }
    g_ptr_array_add(remote, NULL);
    ice->loopback_reason =
        rr_ice_loopback_reason(ice->signalling_address, (const char *const *)remote->pdata);
    if (!ice->loopback_reason)
        return;
    GList *ips = nice_interfaces_get_local_ips(TRUE);
    for (GList *l = ips; l; l = l->next)
        add_local_address(ice, l->data);
    g_list_free_full(ips, g_free);
    g_info("ICE: gathering on loopback too: %s", ice->loopback_reason);
}

RrIceTransport *rr_ice_transport_new(GMainContext *context, const RrIceConfig *config,
                                     const RrIceCallbacks *callbacks, gpointer user_data,
                                     GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    g_autoptr(GArray) nat = g_array_new(FALSE, TRUE, sizeof(RrIceNatEntry));
    g_array_set_clear_func(nat, rr_ice_nat_entry_clear);
    for (guint i = 0; config->nat_map && config->nat_map[i]; i++) {
        RrIceNatEntry e;
        if (!rr_ice_nat_entry_parse(config->nat_map[i], &e, error))
            return NULL;
        g_array_append_val(nat, e);
    }
    g_autoptr(GPtrArray) local_addrs = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; config->local_addresses && config->local_addresses[i]; i++) {
        char *ip;
        guint16 port;
        if (!rr_ice_parse_ip_port(config->local_addresses[i], FALSE, &ip, &port)) {
            g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                        "local address \"%s\" is not an IP address", config->local_addresses[i]);
            return NULL;
        }
        g_ptr_array_add(local_addrs, ip);
    }
    if (!config->udp && !config->tcp) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE: both UDP and TCP are disabled");
        return NULL;
    }

    RrIceTransport *ice = g_new0(RrIceTransport, 1);
    ice->context = g_main_context_ref(context ? context : g_main_context_default());
    if (callbacks)
        ice->cb = *callbacks;
    ice->user_data = user_data;
    ice->allowed_types = config->allowed_types & RR_ICE_ALLOW_ALL;
    ice->udp = config->udp;
    ice->tcp = config->tcp;
    ice->try_signalling_address = config->try_signalling_address;
    ice->connect_timeout_ms = config->connect_timeout_ms ? config->connect_timeout_ms : 20000;
    ice->turn_timeout_ms = config->turn_timeout_ms ? config->turn_timeout_ms : 5000;
    ice->turn_tls_verify = config->turn_tls_verify;
    ice->nat_map = g_steal_pointer(&nat);
    ice->servers = g_ptr_array_new_with_free_func((GDestroyNotify)rr_ice_server_state_free);
    for (guint i = 0; i < config->n_servers; i++)
        g_ptr_array_add(ice->servers, rr_ice_server_state_parse(&config->servers[i]));
    ice->turn_order = g_ptr_array_new();
    ice->local = g_ptr_array_new_with_free_func((GDestroyNotify)report_candidate_free);
    ice->remote = g_ptr_array_new_with_free_func((GDestroyNotify)rr_ice_remote_free);
    ice->skipped = g_ptr_array_new_with_free_func((GDestroyNotify)rr_ice_remote_free);
    ice->remote_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ice->window = g_ptr_array_new_with_free_func(g_free);
    ice->last_restart_ms = -1;
    ice->cancellable = g_cancellable_new();

    ice->agent =
        nice_agent_new_full(ice->context, NICE_COMPATIBILITY_RFC5245,
                            NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_REGULAR_NOMINATION);
    gboolean force_relay = !(ice->allowed_types & RR_ICE_ALLOW_HOST);
    g_object_set(ice->agent, "controlling-mode", FALSE, "ice-udp", ice->udp, "ice-tcp", ice->tcp,
                 "force-relay", force_relay, "upnp", FALSE, NULL);
    ice->stream_id = nice_agent_add_stream(ice->agent, 1);
    nice_agent_set_stream_name(ice->agent, ice->stream_id, "application");
    if (config->port_min || config->port_max)
        nice_agent_set_port_range(ice->agent, ice->stream_id, 1, config->port_min,
                                  config->port_max ? config->port_max : 65535);
    for (guint i = 0; i < local_addrs->len; i++)
        add_local_address(ice, g_ptr_array_index(local_addrs, i));
    ice->fixed_local_addresses = local_addrs->len > 0;
    g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
    g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), ice);
    g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_component_state), ice);
    g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), ice);
    g_signal_connect(ice->agent, "new-remote-candidate-full", G_CALLBACK(on_new_remote_candidate),
                     ice);
    g_signal_connect(ice->agent, "initial-binding-request-received",
                     G_CALLBACK(on_initial_binding_request), ice);
    nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->context, on_recv, ice);
    return ice;
}

/* Stop everything that could call back; the agent stays. */
static void disconnect(RrIceTransport *ice)
{
    memset(&ice->cb, 0, sizeof ice->cb);
    g_cancellable_cancel(ice->cancellable);
    rr_ice_probe_cancel(ice);
    ice->probing = FALSE;
    if (ice->timeout_source)
        g_source_destroy(ice->timeout_source);
    g_clear_pointer(&ice->timeout_source, g_source_unref);
    if (ice->turn_timer)
        g_source_destroy(ice->turn_timer);
    g_clear_pointer(&ice->turn_timer, g_source_unref);
    if (ice->agent) {
        g_signal_handlers_disconnect_by_data(ice->agent, ice);
        nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->context, NULL, NULL);
    }
}

static gboolean unref_agent_idle(gpointer agent)
{
    g_object_unref(agent);
    return G_SOURCE_REMOVE;
}

static void really_free(RrIceTransport *ice)
{
    if (ice->agent) {
        /* We may be inside one of the agent's signal emissions: drop it from the loop. */
        GSource *idle = g_idle_source_new();
        g_source_set_callback(idle, unref_agent_idle, ice->agent, NULL);
        g_source_attach(idle, ice->context);
        g_source_unref(idle);
        ice->agent = NULL;
    }
    g_clear_object(&ice->cancellable);
    g_ptr_array_unref(ice->turn_order);
    g_ptr_array_unref(ice->servers);
    g_array_unref(ice->nat_map);
    g_ptr_array_unref(ice->local);
    g_ptr_array_unref(ice->remote);
    g_ptr_array_unref(ice->skipped);
    g_hash_table_unref(ice->remote_keys);
    g_ptr_array_unref(ice->window);
    rr_ice_pair_free(ice->selected);
    g_clear_error(&ice->failure);
    g_free(ice->signalling_address);
    g_free(ice->loopback_reason);
    g_free(ice->remote_ufrag);
    g_free(ice->remote_pwd);
    g_main_context_unref(ice->context);
    g_free(ice);
}

void rr_ice_transport_free(RrIceTransport *ice)
{
    if (!ice || ice->free_pending)
        return;
    disconnect(ice);
    ice->free_pending = TRUE;
    if (ice->in_callback == 0) {
        g_clear_object(&ice->agent);
        really_free(ice);
    }
}

typedef struct {
    NiceAgent *agent;
    GDestroyNotify callback;
    gpointer user_data;
} CloseData;

static void on_closed(GObject *source, GAsyncResult *res, gpointer data)
{
    CloseData *cd = data;
    g_object_unref(cd->agent);
    if (cd->callback)
        cd->callback(cd->user_data);
    g_free(cd);
}

void rr_ice_transport_close_async(RrIceTransport *ice, GDestroyNotify callback, gpointer user_data)
{
    if (!ice || ice->free_pending)
        return;
    disconnect(ice);
    CloseData *cd = g_new0(CloseData, 1);
    cd->agent = g_steal_pointer(&ice->agent);
    cd->callback = callback;
    cd->user_data = user_data;
    g_main_context_push_thread_default(ice->context);
    nice_agent_close_async(cd->agent, on_closed, cd);
    g_main_context_pop_thread_default(ice->context);
    ice->free_pending = TRUE;
    if (ice->in_callback == 0)
        really_free(ice);
}

/* ---- credentials, servers, gathering ---- */

void rr_ice_transport_get_local_credentials(RrIceTransport *ice, char **ufrag, char **pwd)
{
    nice_agent_get_local_credentials(ice->agent, ice->stream_id, ufrag, pwd);
}

gboolean rr_ice_transport_set_remote_credentials(RrIceTransport *ice, const char *ufrag,
                                                 const char *pwd, gboolean remote_ice_lite,
                                                 GError **error)
{
    /* RFC 8839: ufrag 4..256, pwd 22..256 ice-chars. */
    gsize ul = ufrag ? strlen(ufrag) : 0, pl = pwd ? strlen(pwd) : 0;
    gboolean ok = ul >= 4 && ul <= 256 && pl >= 22 && pl <= 256;
    for (gsize i = 0; ok && i < ul; i++)
        ok = g_ascii_isalnum(ufrag[i]) || ufrag[i] == '+' || ufrag[i] == '/';
    for (gsize i = 0; ok && i < pl; i++)
        ok = g_ascii_isalnum(pwd[i]) || pwd[i] == '+' || pwd[i] == '/';
    if (!ok) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE: remote ice-ufrag/ice-pwd missing or malformed");
        return FALSE;
    }
    g_object_set(ice->agent, "controlling-mode", remote_ice_lite, NULL);
    if (!nice_agent_set_remote_credentials(ice->agent, ice->stream_id, ufrag, pwd)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_ICE, "ICE: remote credentials refused");
        return FALSE;
    }
    ice->remote_credentials_set = TRUE;
    ice->controlling = remote_ice_lite;
    g_free(ice->remote_ufrag);
    g_free(ice->remote_pwd);
    ice->remote_ufrag = g_strdup(ufrag);
    ice->remote_pwd = g_strdup(pwd);
    return TRUE;
}

static void start_nice_gathering(RrIceTransport *ice)
{
    gboolean stun_set = FALSE;
    gboolean any_turn = FALSE;
    for (guint i = 0; i < ice->servers->len; i++) {
        RrIceServerState *s = g_ptr_array_index(ice->servers, i);
        if (s->done)
            continue;
        if (!s->ip) {
            s->done = TRUE;
            continue;
        }
        if (s->kind == RR_ICE_SERVER_STUN) {
            if (!(ice->allowed_types & RR_ICE_ALLOW_SRFLX) || stun_set) {
                s->done = TRUE;
                s->status = g_strdup(stun_set ? "not used: libnice takes one STUN server"
                                              : "not used: server-reflexive candidates disabled");
                continue;
            }
            g_object_set(ice->agent, "stun-server", s->ip, "stun-server-port", (guint)s->port,
                         NULL);
            stun_set = s->used = s->ok = s->done = TRUE;
            s->status = g_strdup("in use");
            continue;
        }
        if (!(ice->allowed_types & RR_ICE_ALLOW_RELAY)) {
            s->done = TRUE;
            s->status = g_strdup("not used: relay candidates disabled");
            continue;
        }
        if (ice->turn_order->len >= 8) { /* NICE_CANDIDATE_MAX_TURN_SERVERS */
            s->done = TRUE;
            s->status = g_strdup("not used: libnice takes at most 8 TURN servers");
            continue;
        }
        NiceRelayType type =
            s->kind == RR_ICE_SERVER_TURN_UDP ? NICE_RELAY_TYPE_TURN_UDP : NICE_RELAY_TYPE_TURN_TCP;
        s->nice_ip = g_strdup(s->ip);
        s->nice_port = s->port;
        if (s->kind == RR_ICE_SERVER_TURN_TLS) {
            g_autoptr(GError) err = NULL;
            s->tunnel = rr_ice_tls_tunnel_new(ice->context, s->host, s->ip, s->port,
                                              ice->turn_tls_verify, &err);
            if (!s->tunnel) {
                s->done = TRUE;
                s->status = g_strdup_printf("TURN TLS tunnel: %s", err->message);
                continue;
            }
            g_free(s->nice_ip);
            s->nice_ip = g_strdup("127.0.0.1");
            s->nice_port = rr_ice_tls_tunnel_get_port(s->tunnel);
        }
        if (!nice_agent_set_relay_info(ice->agent, ice->stream_id, 1, s->nice_ip, s->nice_port,
                                       s->username ? s->username : "",
                                       s->credential ? s->credential : "", type)) {
            s->done = TRUE;
            s->status = g_strdup("refused by libnice");
            continue;
        }
        s->used = any_turn = TRUE;
        s->status = g_strdup("allocating");
        g_ptr_array_add(ice->turn_order, s);
    }
    choose_local_addresses(ice);
    ice->gathering_started = TRUE;
    if (!nice_agent_gather_candidates(ice->agent, ice->stream_id)) {
        rr_ice_transport_fail(ice, g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_ICE,
                                               "ICE: could not gather candidates (no usable "
                                               "local address or port)"));
        return;
    }
    if (any_turn && !ice->local_gathering_done) {
        ice->turn_timer = g_timeout_source_new(ice->turn_timeout_ms);
        g_source_set_callback(ice->turn_timer, on_turn_timer, ice, NULL);
        g_source_attach(ice->turn_timer, ice->context);
    }
}

typedef struct {
    RrIceTransport *ice;
    RrIceServerState *server;
    GCancellable *cancellable;
} ResolveData;

static void on_resolved(GObject *source, GAsyncResult *res, gpointer data)
{
    ResolveData *rd = data;
    g_autoptr(GError) err = NULL;
    GList *addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &err);
    gboolean cancelled = g_cancellable_is_cancelled(rd->cancellable);
    g_object_unref(rd->cancellable);
    if (cancelled) {
        g_resolver_free_addresses(addrs);
        g_free(rd);
        return;
    }
    RrIceTransport *ice = rd->ice;
    RrIceServerState *s = rd->server;
    g_free(rd);
    if (!addrs) {
        s->done = TRUE;
        s->status = g_strdup_printf("cannot resolve %s: %s", s->host, err->message);
        g_info("ICE server %s: %s", s->url, s->status);
    } else {
        GInetAddress *pick = addrs->data;
        for (GList *l = addrs; l; l = l->next)
            if (g_inet_address_get_family(l->data) == G_SOCKET_FAMILY_IPV4) {
                pick = l->data;
                break;
            }
        s->ip = g_inet_address_to_string(pick);
        g_resolver_free_addresses(addrs);
    }
    if (--ice->resolving == 0 && ice->state != RR_ICE_STATE_FAILED)
        start_nice_gathering(ice);
}

gboolean rr_ice_transport_gather(RrIceTransport *ice, GError **error)
{
    if (ice->gather_requested) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_FAILED, "ICE: gather() called twice");
        return FALSE;
    }
    ice->gather_requested = TRUE;
    ice->gather_time = g_get_monotonic_time();
    ice->timeout_source = g_timeout_source_new(ice->connect_timeout_ms);
    g_source_set_callback(ice->timeout_source, on_timeout, ice, NULL);
    g_source_attach(ice->timeout_source, ice->context);
    if (!set_state(ice, RR_ICE_STATE_GATHERING))
        return TRUE;
    g_autoptr(GResolver) resolver = g_resolver_get_default();
    g_main_context_push_thread_default(ice->context);
    for (guint i = 0; i < ice->servers->len; i++) {
        RrIceServerState *s = g_ptr_array_index(ice->servers, i);
        if (s->done || s->ip)
            continue;
        ResolveData *rd = g_new0(ResolveData, 1);
        rd->ice = ice;
        rd->server = s;
        rd->cancellable = g_object_ref(ice->cancellable);
        ice->resolving++;
        g_resolver_lookup_by_name_async(resolver, s->host, ice->cancellable, on_resolved, rd);
    }
    g_main_context_pop_thread_default(ice->context);
    if (ice->resolving == 0)
        start_nice_gathering(ice);
    return TRUE;
}

void rr_ice_transport_remote_gathering_done(RrIceTransport *ice)
{
    rr_ice_remote_window_final(ice);
    if (ice->remote_gathering_done)
        return;
    ice->remote_gathering_done = TRUE;
    nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream_id);
    check_early_failure(ice);
}

/* ---- data ---- */

gboolean rr_ice_transport_send(RrIceTransport *ice, const guint8 *data, gsize len, GError **error)
{
    /* During a restart libnice keeps the old selected pair and sends on it. */
    gboolean restarting = ice->restart_time && ice->selected && ice->state != RR_ICE_STATE_FAILED;
    if (ice->state != RR_ICE_STATE_CONNECTED && ice->state != RR_ICE_STATE_READY && !restarting) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_ICE, "ICE: not connected (%s)",
                    rr_ice_state_to_string(ice->state));
        return FALSE;
    }
    if (len > G_MAXUINT16) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE: datagram of %" G_GSIZE_FORMAT " bytes is too large", len);
        return FALSE;
    }
    gint n = nice_agent_send(ice->agent, ice->stream_id, 1, (guint)len, (const gchar *)data);
    if (n < 0 || (gsize)n != len) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_ICE,
                    "ICE: send of %" G_GSIZE_FORMAT " bytes failed", len);
        return FALSE;
    }
    return TRUE;
}

RrIceState rr_ice_transport_get_state(RrIceTransport *ice)
{
    return ice->state;
}

const RrIcePair *rr_ice_transport_get_selected_pair(RrIceTransport *ice)
{
    return ice->selected;
}

/* ---- ICE restart ---- */

gboolean rr_ice_transport_restart(RrIceTransport *ice, const char *ufrag, const char *pwd,
                                  gboolean remote_ice_lite, GError **error)
{
    g_info("ICE restart requested by the server's offer");
    if (!nice_agent_restart_stream(ice->agent, ice->stream_id)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_ICE, "ICE: libnice refused the restart");
        return FALSE;
    }
    ice->restarts++;
    ice->restart_time = g_get_monotonic_time();
    /* libnice freed every remote candidate (it keeps the selected pair's for sending). */
    g_hash_table_remove_all(ice->remote_keys);
    ice->remote_gathering_done = FALSE;
    if (!rr_ice_transport_set_remote_credentials(ice, ufrag, pwd, remote_ice_lite, error))
        return FALSE;
    rr_ice_remote_replay_window(ice);
    return TRUE;
}

void rr_ice_transport_retrickle(RrIceTransport *ice)
{
    for (guint i = 0; ice->cb.local_candidate && i < ice->local->len; i++) {
        RrIceReportCandidate *rc = g_ptr_array_index(ice->local, i);
        g_autofree char *line = rr_ice_candidate_to_string(rc->candidate);
        cb_enter(ice);
        ice->cb.local_candidate(ice, line, ice->user_data);
        cb_leave(ice);
        if (ice->free_pending)
            break;
    }
}

gboolean rr_ice_transport_remote_credentials_differ(RrIceTransport *ice, const char *ufrag,
                                                    const char *pwd)
{
    return ice->remote_credentials_set &&
           (g_strcmp0(ufrag, ice->remote_ufrag) != 0 || g_strcmp0(pwd, ice->remote_pwd) != 0);
}
