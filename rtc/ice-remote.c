/* rtc/ice-remote: remote candidates (see ice.h): parsing, skipping what libnice cannot use,
 * handing them to the agent, and adding the NAT-mapped and signalling-address copies that
 * docs/ARCHITECTURE.md's "ICE and connectivity" describes.
 */
#define G_LOG_DOMAIN "rtc"

#include "rtc/ice-priv.h"
#include "rtc/rtc-error.h"

#include <string.h>

/* ---- remote candidates ---- */

static char *candidate_key(const RrIceCandidate *c)
{
    return g_strdup_printf("%d %s %u", rr_ice_proto_is_tcp(c->proto) ? c->proto : 0, c->address,
                           c->port);
}

static void skip_remote(RrIceTransport *ice, const RrIceCandidate *c, RrIceOrigin origin,
                        const char *why)
{
    g_debug("ICE: skipping remote candidate %s:%u (%s)", c->address, c->port, why);
    RrIceRemote *r = g_new0(RrIceRemote, 1);
    r->rc.candidate = rr_ice_candidate_copy(c);
    r->rc.origin = origin;
    r->rc.note = g_strdup_printf("skipped: %s", why);
    g_ptr_array_add(ice->skipped, r);
}

/* Hand one candidate to libnice and record it. Takes @note. */
static gboolean add_remote(RrIceTransport *ice, RrIceCandidate *c, RrIceOrigin origin, char *note,
                           GError **error)
{
    g_autofree char *key = candidate_key(c);
    g_autofree char *owned_note = note;
    if (g_hash_table_contains(ice->remote_keys, key))
        return TRUE;
    NiceCandidate *nc = rr_ice_candidate_to_nice(c, ice->stream_id, error);
    if (!nc)
        return FALSE;
    GSList list = {.data = nc, .next = NULL};
    int n = nice_agent_set_remote_candidates(ice->agent, ice->stream_id, 1, &list);
    nice_candidate_free(nc);
    if (n < 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_ICE,
                    "ICE: libnice refused remote candidate %s:%u", c->address, c->port);
        return FALSE;
    }
    g_hash_table_add(ice->remote_keys, g_steal_pointer(&key));
    RrIceRemote *r = g_new0(RrIceRemote, 1);
    r->rc.candidate = rr_ice_candidate_copy(c);
    r->rc.origin = origin;
    r->rc.note = g_steal_pointer(&owned_note);
    g_ptr_array_add(ice->remote, r);
    g_debug("ICE remote candidate %s %s %s:%u (%s)", rr_ice_candidate_type_to_string(c->type),
            rr_ice_proto_to_string(c->proto), c->address, c->port, rr_ice_origin_to_string(origin));
    return TRUE;
}

static gboolean same_ip(const char *a, const char *b)
{
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(a);
    g_autoptr(GInetAddress) ib = g_inet_address_new_from_string(b);
    return ia && ib && g_inet_address_equal(ia, ib);
}

static gboolean same_family(const char *a, const char *b)
{
    return (strchr(a, ':') != NULL) == (strchr(b, ':') != NULL);
}

static RrIceCandidate *derived(const RrIceCandidate *c, const char *ip, guint16 port, char suffix,
                               guint32 priority_drop)
{
    RrIceCandidate *d = rr_ice_candidate_copy(c);
    g_free(d->address);
    d->address = g_strdup(ip);
    d->port = port;
    gsize fl = strlen(d->foundation);
    if (fl >= RR_ICE_FOUNDATION_MAX)
        fl = RR_ICE_FOUNDATION_MAX - 1;
    d->foundation[fl] = suffix;
    d->foundation[fl + 1] = '\0';
    d->priority = d->priority > priority_drop ? d->priority - priority_drop : 0;
    return d;
}

static void add_signalling_address_copy(RrIceTransport *ice, const RrIceCandidate *c)
{
    const char *sig = ice->signalling_address;
    if (!ice->try_signalling_address || !sig || same_ip(sig, c->address) ||
        !same_family(sig, c->address) ||
        (c->type != RR_ICE_CANDIDATE_HOST && c->type != RR_ICE_CANDIDATE_SRFLX) ||
        (c->proto != RR_ICE_PROTO_UDP && c->proto != RR_ICE_PROTO_TCP_PASSIVE) || c->port == 0)
        return;
    g_autoptr(RrIceCandidate) d = derived(c, sig, c->port, 's', 2);
    d->type = RR_ICE_CANDIDATE_HOST;
    g_clear_pointer(&d->raddr, g_free);
    d->rport = 0;
    char *note = g_strdup_printf("signalling address with the port of %s:%u", c->address, c->port);
    g_autoptr(GError) err = NULL;
    if (!add_remote(ice, d, RR_ICE_ORIGIN_SIGNALLING_ADDRESS, note, &err))
        g_debug("ICE: %s", err->message);
}

/* NAT map copies of a signalled candidate; the signalling address when none matched. */
static void expand_remote(RrIceTransport *ice, const RrIceCandidate *c)
{
    gboolean matched = FALSE;
    for (guint i = 0; i < ice->nat_map->len; i++) {
        RrIceNatEntry *e = &g_array_index(ice->nat_map, RrIceNatEntry, i);
        if (!same_ip(e->from_ip, c->address) || (e->from_port && e->from_port != c->port))
            continue;
        matched = TRUE;
        guint16 port = e->to_port ? e->to_port : c->port;
        g_autoptr(RrIceCandidate) d = derived(c, e->to_ip, port, 'n', 1);
        char *note = g_strdup_printf("mapped from %s:%u by the NAT map", c->address, c->port);
        g_autoptr(GError) err = NULL;
        if (!add_remote(ice, d, RR_ICE_ORIGIN_NAT_MAP, note, &err))
            g_debug("ICE: %s", err->message);
    }
    if (!matched)
        add_signalling_address_copy(ice, c);
}

/* The most candidate lines a window keeps (a server trickles a handful). */
#define WINDOW_MAX 64

static gboolean add_signalled(RrIceTransport *ice, const char *line, const char *note,
                              GError **error);

gboolean rr_ice_transport_add_remote_candidate(RrIceTransport *ice, const char *line,
                                               GError **error)
{
    if (!add_signalled(ice, line, NULL, error))
        return FALSE;
    if (ice->window->len >= WINDOW_MAX)
        g_ptr_array_remove_index(ice->window, 0);
    g_ptr_array_add(ice->window, g_strdup(line));
    return TRUE;
}

void rr_ice_transport_open_candidate_window(RrIceTransport *ice, gboolean fresh_signalling)
{
    g_ptr_array_set_size(ice->window, 0);
    ice->window_final = FALSE;
    ice->window_fresh = fresh_signalling;
}

void rr_ice_remote_replay_window(RrIceTransport *ice)
{
    if (ice->window->len)
        g_debug("ICE restart: re-adding %u candidate(s) signalled before the offer",
                ice->window->len);
    for (guint i = 0; i < ice->window->len; i++) {
        g_autoptr(GError) err = NULL;
        if (!add_signalled(ice, g_ptr_array_index(ice->window, i),
                           "signalled before the ICE restart offer", &err))
            g_debug("ICE: %s", err->message);
    }
    /* An end-of-candidates from the server's current agent also ends the new generation;
     * one that may be older would fail the restarted check list too early. */
    if (ice->window_fresh && ice->window_final)
        rr_ice_transport_remote_gathering_done(ice);
}

void rr_ice_remote_window_final(RrIceTransport *ice)
{
    ice->window_final = TRUE;
}

static gboolean add_signalled(RrIceTransport *ice, const char *line, const char *note,
                              GError **error)
{
    g_autoptr(RrIceCandidate) c = rr_ice_candidate_parse(line, error);
    if (!c)
        return FALSE;
    if (c->component != 1) {
        skip_remote(ice, c, RR_ICE_ORIGIN_SIGNALLED, "component other than 1 (rtcp-mux)");
        return TRUE;
    }
    if (rr_ice_candidate_has_hostname(c)) {
        skip_remote(ice, c, RR_ICE_ORIGIN_SIGNALLED,
                    g_str_has_suffix(c->address, ".local") ? "mDNS host name"
                                                           : "host name instead of an IP");
        return TRUE;
    }
    if (rr_ice_proto_is_tcp(c->proto) && !ice->tcp) {
        skip_remote(ice, c, RR_ICE_ORIGIN_SIGNALLED, "ICE-TCP disabled");
        return TRUE;
    }
    /* The loopback rule decided without it (see rr_ice_loopback_reason). */
    if (!note && ice->gathering_started && !ice->fixed_local_addresses && !ice->loopback_reason &&
        rr_ice_is_loopback(c->address))
        note = "loopback, signalled after gathering started without loopback";
    if (!add_remote(ice, c, RR_ICE_ORIGIN_SIGNALLED, g_strdup(note), error))
        return FALSE;
    expand_remote(ice, c);
    return TRUE;
}

void rr_ice_transport_set_signalling_address(RrIceTransport *ice, const char *ip)
{
    g_autoptr(GInetAddress) ia = ip ? g_inet_address_new_from_string(ip) : NULL;
    g_autofree char *addr = ia ? g_inet_address_to_string(ia) : NULL;
    /* Unchanged (a resume to the same server): the copies exist, and re-deriving them from
     * candidates of an ICE generation that ended would only add dead pairs. */
    if (g_strcmp0(addr, ice->signalling_address) == 0)
        return;
    g_free(ice->signalling_address);
    ice->signalling_address = g_steal_pointer(&addr);
    if (!ice->signalling_address)
        return;
    /* Candidates that came before: apply to the signalled ones without a NAT map match. */
    guint n = ice->remote->len;
    for (guint i = 0; i < n; i++) {
        RrIceRemote *r = g_ptr_array_index(ice->remote, i);
        if (r->rc.origin != RR_ICE_ORIGIN_SIGNALLED)
            continue;
        gboolean mapped = FALSE;
        for (guint j = 0; j < ice->nat_map->len; j++) {
            RrIceNatEntry *e = &g_array_index(ice->nat_map, RrIceNatEntry, j);
            mapped |= same_ip(e->from_ip, r->rc.candidate->address) &&
                      (!e->from_port || e->from_port == r->rc.candidate->port);
        }
        if (!mapped) {
            g_autoptr(RrIceCandidate) c = rr_ice_candidate_copy(r->rc.candidate);
            add_signalling_address_copy(ice, c);
        }
    }
}
