/* rtc/ice-report: the connectivity report of an RrIceTransport (see ice.h).
 *
 * What libnice 0.1.21 lets us observe: local candidates as gathered (with the TURN server of
 * each relayed one), the component state, the selected pair, peer-reflexive remote
 * candidates (the server's checks reached us from a new address) and whether any inbound
 * check arrived. It does not expose per-pair check state, so the pairs listed here are
 * those ICE forms from the two candidate lists (RFC 8445 6.1.2: same family, UDP with UDP,
 * TCP active with passive), with the outcome known for the selected one and, after a
 * failure, the result of ice-probe.c's probe of the remote side.
 */
#include "rtc/ice-priv.h"

#include <string.h>

static RrIceReportCandidate *rc_copy(const RrIceReportCandidate *rc, const char *probe)
{
    RrIceReportCandidate *c = g_new0(RrIceReportCandidate, 1);
    c->candidate = rr_ice_candidate_copy(rc->candidate);
    c->origin = rc->origin;
    c->note = g_strdup(rc->note);
    c->probe = g_strdup(probe ? probe : rc->probe);
    return c;
}

static void rc_free(RrIceReportCandidate *rc)
{
    rr_ice_report_candidate_clear(rc);
    g_free(rc);
}

static void server_free(RrIceReportServer *s)
{
    g_free(s->url);
    g_free(s->address);
    g_free(s->status);
    g_free(s->probe);
    g_free(s);
}

static void pair_free(RrIceReportPair *p)
{
    g_free(p->outcome);
    g_free(p);
}

void rr_ice_report_free(RrIceReport *r)
{
    if (!r)
        return;
    g_ptr_array_unref(r->servers);
    g_ptr_array_unref(r->local);
    g_ptr_array_unref(r->remote);
    g_ptr_array_unref(r->skipped);
    g_ptr_array_unref(r->pairs);
    rr_ice_pair_free(r->selected);
    g_free(r->signalling_address);
    g_free(r->loopback);
    g_free(r->summary);
    g_free(r);
}

static gboolean is_v6(const char *a)
{
    return a && strchr(a, ':') != NULL;
}

/* Would ICE pair these (local base/relay with remote)? */
static gboolean pairable(const RrIceCandidate *l, const RrIceCandidate *r)
{
    if (l->type == RR_ICE_CANDIDATE_SRFLX || is_v6(l->address) != is_v6(r->address))
        return FALSE;
    switch (l->proto) {
    case RR_ICE_PROTO_UDP:
        return r->proto == RR_ICE_PROTO_UDP;
    case RR_ICE_PROTO_TCP_ACTIVE:
        return r->proto == RR_ICE_PROTO_TCP_PASSIVE;
    case RR_ICE_PROTO_TCP_PASSIVE:
        return r->proto == RR_ICE_PROTO_TCP_ACTIVE;
    case RR_ICE_PROTO_TCP_SO:
        return r->proto == RR_ICE_PROTO_TCP_SO;
    }
    return FALSE;
}

static gboolean same_endpoint(const RrIceCandidate *a, const RrIceCandidate *b)
{
    return a->proto == b->proto && a->port == b->port && g_strcmp0(a->address, b->address) == 0;
}

RrIceReport *rr_ice_transport_get_report(RrIceTransport *ice)
{
    RrIceReport *r = g_new0(RrIceReport, 1);
    r->state = ice->state;
    r->elapsed_ms = ice->gather_time ? (g_get_monotonic_time() - ice->gather_time) / 1000 : 0;
    r->local_gathering_done = ice->local_gathering_done;
    r->remote_gathering_done = ice->remote_gathering_done;
    r->inbound_checks_seen = ice->inbound_checks_seen;
    r->force_relay = !(ice->allowed_types & RR_ICE_ALLOW_HOST);
    r->signalling_address = g_strdup(ice->signalling_address);
    r->loopback = g_strdup(ice->loopback_reason);
    r->servers = g_ptr_array_new_with_free_func((GDestroyNotify)server_free);
    r->local = g_ptr_array_new_with_free_func((GDestroyNotify)rc_free);
    r->remote = g_ptr_array_new_with_free_func((GDestroyNotify)rc_free);
    r->skipped = g_ptr_array_new_with_free_func((GDestroyNotify)rc_free);
    r->pairs = g_ptr_array_new_with_free_func((GDestroyNotify)pair_free);
    if (ice->selected)
        r->selected = rr_ice_pair_copy(ice->selected);
    r->restarts = ice->restarts;
    r->restarts_completed = ice->restarts_completed;
    r->last_restart_ms = ice->last_restart_ms;

    for (guint i = 0; i < ice->servers->len; i++) {
        const RrIceServerState *s = g_ptr_array_index(ice->servers, i);
        RrIceReportServer *o = g_new0(RrIceReportServer, 1);
        o->url = g_strdup(s->url);
        if (s->ip)
            o->address = is_v6(s->ip) ? g_strdup_printf("[%s]:%u", s->ip, s->port)
                                      : g_strdup_printf("%s:%u", s->ip, s->port);
        o->ok = s->ok;
        o->status = g_strdup(s->status                ? s->status
                             : ice->gathering_started ? "pending"
                                                      : "not used yet");
        o->probe = g_strdup(s->probe);
        g_ptr_array_add(r->servers, o);
    }
    for (guint i = 0; i < ice->local->len; i++)
        g_ptr_array_add(r->local, rc_copy(g_ptr_array_index(ice->local, i), NULL));
    for (guint i = 0; i < ice->remote->len; i++) {
        const RrIceRemote *x = g_ptr_array_index(ice->remote, i);
        g_ptr_array_add(r->remote, rc_copy(&x->rc, x->probe));
    }
    for (guint i = 0; i < ice->skipped->len; i++) {
        const RrIceRemote *x = g_ptr_array_index(ice->skipped, i);
        g_ptr_array_add(r->skipped, rc_copy(&x->rc, NULL));
    }

    for (guint li = 0; li < r->local->len; li++) {
        const RrIceReportCandidate *l = g_ptr_array_index(r->local, li);
        for (guint ri = 0; ri < r->remote->len; ri++) {
            const RrIceReportCandidate *rm = g_ptr_array_index(r->remote, ri);
            if (!pairable(l->candidate, rm->candidate))
                continue;
            RrIceReportPair *p = g_new0(RrIceReportPair, 1);
            p->local = li;
            p->remote = ri;
            gboolean selected =
                r->selected && same_endpoint(r->selected->remote, rm->candidate) &&
                (same_endpoint(r->selected->local, l->candidate) ||
                 (l->candidate->proto == RR_ICE_PROTO_TCP_ACTIVE &&
                  r->selected->local->proto == RR_ICE_PROTO_TCP_ACTIVE &&
                  g_strcmp0(l->candidate->address, r->selected->local->address) == 0));
            if (selected && r->state != RR_ICE_STATE_FAILED)
                p->outcome = g_strdup("selected");
            else if (r->state == RR_ICE_STATE_CONNECTED || r->state == RR_ICE_STATE_READY)
                p->outcome = g_strdup("not selected");
            else if (r->state == RR_ICE_STATE_FAILED)
                p->outcome = rm->probe ? g_strdup_printf("failed; probe: %s", rm->probe)
                                       : g_strdup("failed: no working reply");
            else
                p->outcome = g_strdup("checking");
            g_ptr_array_add(r->pairs, p);
        }
    }
    r->summary = rr_ice_report_summary(ice, r);
    return r;
}

static char *endpoint(const RrIceCandidate *c)
{
    return is_v6(c->address) ? g_strdup_printf("[%s]:%u", c->address, c->port)
                             : g_strdup_printf("%s:%u", c->address, c->port);
}

/* The failure explanation, most specific first. */
char *rr_ice_report_summary(RrIceTransport *ice, const RrIceReport *r)
{
    if (r->state == RR_ICE_STATE_CONNECTED || r->state == RR_ICE_STATE_READY) {
        g_autofree char *pair = r->selected ? rr_ice_pair_to_string(r->selected) : NULL;
        return g_strdup_printf("connected%s%s", pair ? " via " : "", pair ? pair : "");
    }
    if (r->state != RR_ICE_STATE_FAILED)
        return g_strdup_printf("%s: %u local and %u remote candidates so far",
                               rr_ice_state_to_string(r->state), r->local->len, r->remote->len);

    GString *s = g_string_new(NULL);
    guint n_turn = 0;
    GString *turn = g_string_new(NULL);
    for (guint i = 0; i < r->servers->len; i++) {
        const RrIceReportServer *srv = g_ptr_array_index(r->servers, i);
        if (!g_str_has_prefix(srv->url, "turn"))
            continue;
        n_turn++;
        if (srv->ok)
            continue;
        g_string_append_printf(turn, "%s%s%s%s", turn->len ? "; " : "", srv->status,
                               srv->probe ? ": " : "", srv->probe ? srv->probe : "");
    }
    guint n_signalled = 0;
    GPtrArray *advertised = g_ptr_array_new_with_free_func(g_free);
    GString *refused = g_string_new(NULL);
    gboolean any_answer = FALSE;
    gboolean remote_loopback = FALSE, local_loopback = FALSE;
    for (guint i = 0; i < r->local->len; i++) {
        const RrIceReportCandidate *c = g_ptr_array_index(r->local, i);
        local_loopback |= rr_ice_is_loopback(c->candidate->address);
    }
    for (guint i = 0; i < r->remote->len; i++) {
        const RrIceReportCandidate *c = g_ptr_array_index(r->remote, i);
        if (c->origin == RR_ICE_ORIGIN_SIGNALLED) {
            remote_loopback |= rr_ice_is_loopback(c->candidate->address);
            n_signalled++;
            gboolean seen = FALSE;
            for (guint j = 0; j < advertised->len; j++)
                seen |= strcmp(g_ptr_array_index(advertised, j), c->candidate->address) == 0;
            if (!seen)
                g_ptr_array_add(advertised, g_strdup(c->candidate->address));
        }
        if (c->probe && strstr(c->probe, "nothing listens"))
            g_string_append_printf(refused, "%s%s", refused->len ? "; " : "", c->probe);
        if (c->probe && strstr(c->probe, "answers ICE checks (binding success)"))
            any_answer = TRUE;
    }
    g_autofree char *adv = NULL;
    {
        g_ptr_array_add(advertised, NULL);
        adv = g_strjoinv(", ", (char **)advertised->pdata);
        g_ptr_array_unref(advertised);
    }

    if (r->local->len == 0) {
        if (r->force_relay && n_turn == 0)
            g_string_append(s, "relay is forced but no TURN server is configured: add one or "
                               "allow host candidates");
        else if (r->force_relay)
            g_string_append_printf(s,
                                   "relay is forced but no TURN allocation succeeded (%s): "
                                   "check the TURN server address and credentials%s",
                                   turn->str,
                                   any_answer ? "; the server's own candidates do answer from "
                                                "here, so allowing host candidates would connect"
                                              : "");
        else
            g_string_append(s, "no local candidates were gathered: check the local addresses "
                               "and that ICE-UDP/ICE-TCP are enabled");
    } else if (n_signalled == 0) {
        g_string_append_printf(
            s, "the server sent no usable ICE candidates (%u skipped)%s", r->skipped->len,
            r->remote_gathering_done ? "" : ", and its final candidate never came");
    } else {
        g_string_append_printf(s, "no reply from any server candidate; the server advertises %s",
                               adv);
        if (refused->len)
            g_string_append_printf(s, " (%s)", refused->str);
        if (any_answer)
            g_string_append(s, "; a fresh probe socket does get answers, so the failed pairs "
                               "were ours (local address or firewall)");
        else if (ice->nat_map->len == 0)
            g_string_append(s, " which is not reachable from here: set a NAT map "
                               "public=internal, or use TURN");
        else
            g_string_append(s, " which is not reachable from here, nor are the NAT-mapped "
                               "addresses: check the NAT map, or use TURN");
        if (r->signalling_address && ice->nat_map->len == 0 && !strstr(adv, r->signalling_address))
            g_string_append_printf(s, " (the signalling connection reached %s)",
                                   r->signalling_address);
        if (remote_loopback && !local_loopback)
            g_string_append(s, "; the server advertises loopback but we gathered on no "
                               "loopback address: add the local address 127.0.0.1");
        if (r->inbound_checks_seen)
            g_string_append(s, "; the server's checks did reach us");
        if (turn->len)
            g_string_append_printf(s, "; %s", turn->str);
    }
    g_string_free(refused, TRUE);
    g_string_free(turn, TRUE);
    return g_string_free(s, FALSE);
}

/* ---- output ---- */

static void add_str(JsonBuilder *b, const char *name, const char *value)
{
    if (!value)
        return;
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

static void candidate_json(JsonBuilder *b, const RrIceReportCandidate *rc)
{
    const RrIceCandidate *c = rc->candidate;
    json_builder_begin_object(b);
    add_str(b, "type", rr_ice_candidate_type_to_string(c->type));
    add_str(b, "protocol", rr_ice_proto_to_string(c->proto));
    add_str(b, "address", c->address);
    json_builder_set_member_name(b, "port");
    json_builder_add_int_value(b, c->port);
    add_str(b, "related_address", c->raddr);
    if (c->raddr) {
        json_builder_set_member_name(b, "related_port");
        json_builder_add_int_value(b, c->rport);
    }
    json_builder_set_member_name(b, "priority");
    json_builder_add_int_value(b, c->priority);
    add_str(b, "foundation", c->foundation);
    add_str(b, "origin", rr_ice_origin_to_string(rc->origin));
    add_str(b, "note", rc->note);
    add_str(b, "probe", rc->probe);
    json_builder_end_object(b);
}

static void candidates_json(JsonBuilder *b, const char *name, GPtrArray *list)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++)
        candidate_json(b, g_ptr_array_index(list, i));
    json_builder_end_array(b);
}

static char *short_candidate(const RrIceCandidate *c)
{
    g_autofree char *ep = endpoint(c);
    return g_strdup_printf("%s %s %s", rr_ice_candidate_type_to_string(c->type),
                           rr_ice_proto_to_string(c->proto), ep);
}

void rr_ice_report_build_json(const RrIceReport *r, JsonBuilder *b)
{
    json_builder_begin_object(b);
    add_str(b, "state", rr_ice_state_to_string(r->state));
    json_builder_set_member_name(b, "elapsed_ms");
    json_builder_add_int_value(b, r->elapsed_ms);
    json_builder_set_member_name(b, "force_relay");
    json_builder_add_boolean_value(b, r->force_relay);
    json_builder_set_member_name(b, "local_gathering_done");
    json_builder_add_boolean_value(b, r->local_gathering_done);
    json_builder_set_member_name(b, "remote_gathering_done");
    json_builder_add_boolean_value(b, r->remote_gathering_done);
    json_builder_set_member_name(b, "inbound_checks_seen");
    json_builder_add_boolean_value(b, r->inbound_checks_seen);
    add_str(b, "signalling_address", r->signalling_address);
    add_str(b, "loopback", r->loopback);
    json_builder_set_member_name(b, "servers");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->servers->len; i++) {
        const RrIceReportServer *s = g_ptr_array_index(r->servers, i);
        json_builder_begin_object(b);
        add_str(b, "url", s->url);
        add_str(b, "address", s->address);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, s->ok);
        add_str(b, "status", s->status);
        add_str(b, "probe", s->probe);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    candidates_json(b, "local_candidates", r->local);
    candidates_json(b, "remote_candidates", r->remote);
    candidates_json(b, "skipped_remote_candidates", r->skipped);
    json_builder_set_member_name(b, "pairs");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->pairs->len; i++) {
        const RrIceReportPair *p = g_ptr_array_index(r->pairs, i);
        const RrIceReportCandidate *l = g_ptr_array_index(r->local, p->local);
        const RrIceReportCandidate *rm = g_ptr_array_index(r->remote, p->remote);
        g_autofree char *ls = short_candidate(l->candidate);
        g_autofree char *rs = short_candidate(rm->candidate);
        json_builder_begin_object(b);
        add_str(b, "local", ls);
        add_str(b, "remote", rs);
        add_str(b, "outcome", p->outcome);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (r->selected) {
        g_autofree char *ls = short_candidate(r->selected->local);
        g_autofree char *rs = short_candidate(r->selected->remote);
        json_builder_set_member_name(b, "selected_pair");
        json_builder_begin_object(b);
        add_str(b, "local", ls);
        add_str(b, "remote", rs);
        add_str(b, "relay_server", r->selected->relay_server);
        json_builder_end_object(b);
    }
    add_str(b, "summary", r->summary);
    json_builder_set_member_name(b, "restarts");
    json_builder_add_int_value(b, r->restarts);
    json_builder_set_member_name(b, "restarts_completed");
    json_builder_add_int_value(b, r->restarts_completed);
    json_builder_set_member_name(b, "last_restart_ms");
    json_builder_add_int_value(b, r->last_restart_ms);
    json_builder_end_object(b);
}

static void text_candidates(GString *s, const char *title, GPtrArray *list)
{
    g_string_append_printf(s, "%s (%u):\n", title, list->len);
    for (guint i = 0; i < list->len; i++) {
        const RrIceReportCandidate *rc = g_ptr_array_index(list, i);
        g_autofree char *c = short_candidate(rc->candidate);
        g_string_append_printf(s, "  %s [%s]%s%s%s%s\n", c, rr_ice_origin_to_string(rc->origin),
                               rc->note ? " " : "", rc->note ? rc->note : "",
                               rc->probe ? "; probe: " : "", rc->probe ? rc->probe : "");
    }
}

char *rr_ice_report_to_text(const RrIceReport *r)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "ICE %s after %" G_GINT64_FORMAT " ms%s\n",
                           rr_ice_state_to_string(r->state), r->elapsed_ms,
                           r->force_relay ? " (relay forced)" : "");
    g_string_append_printf(s, "summary: %s\n", r->summary);
    g_string_append_printf(s, "servers (%u):\n", r->servers->len);
    for (guint i = 0; i < r->servers->len; i++) {
        const RrIceReportServer *srv = g_ptr_array_index(r->servers, i);
        g_string_append_printf(s, "  %s%s%s: %s%s%s\n", srv->url, srv->address ? " = " : "",
                               srv->address ? srv->address : "", srv->status,
                               srv->probe ? "; probe: " : "", srv->probe ? srv->probe : "");
    }
    if (r->loopback)
        g_string_append_printf(s, "loopback gathered too: %s\n", r->loopback);
    text_candidates(s, "local candidates", r->local);
    text_candidates(s, "remote candidates", r->remote);
    if (r->skipped->len)
        text_candidates(s, "skipped remote candidates", r->skipped);
    g_string_append_printf(s, "pairs (%u):\n", r->pairs->len);
    for (guint i = 0; i < r->pairs->len; i++) {
        const RrIceReportPair *p = g_ptr_array_index(r->pairs, i);
        const RrIceReportCandidate *l = g_ptr_array_index(r->local, p->local);
        const RrIceReportCandidate *rm = g_ptr_array_index(r->remote, p->remote);
        g_autofree char *ls = short_candidate(l->candidate);
        g_autofree char *rs = short_candidate(rm->candidate);
        g_string_append_printf(s, "  %s -> %s: %s\n", ls, rs, p->outcome);
    }
    if (r->selected) {
        g_autofree char *p = rr_ice_pair_to_string(r->selected);
        g_string_append_printf(s, "selected: %s\n", p);
    }
    g_string_append_printf(s, "server checks reached us: %s\n",
                           r->inbound_checks_seen ? "yes" : "no");
    return g_string_free(s, FALSE);
}
