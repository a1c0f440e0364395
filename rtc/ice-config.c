/* rtc/ice-config: parsing what RrIceConfig carries (see ice.h): ICE server URLs, NAT map
 * entries, IP[:port] strings, and the loopback rule. Pure functions.
 */
#include "rtc/ice-priv.h"
#include "rtc/rtc-error.h"

#include <string.h>

void rr_ice_config_init(RrIceConfig *config)
{
    memset(config, 0, sizeof *config);
    config->allowed_types = RR_ICE_ALLOW_ALL;
    config->udp = TRUE;
    config->tcp = TRUE;
    config->try_signalling_address = TRUE;
    config->connect_timeout_ms = 20000;
    config->turn_timeout_ms = 5000;
    config->turn_tls_verify = TRUE;
}

void rr_ice_server_state_free(RrIceServerState *s)
{
    if (!s)
        return;
    g_free(s->url);
    g_free(s->host);
    g_free(s->username);
    if (s->credential)
        memset(s->credential, 0, strlen(s->credential));
    g_free(s->credential);
    g_free(s->ip);
    g_free(s->status);
    g_free(s->nice_ip);
    g_free(s->probe);
    if (s->tunnel)
        rr_ice_tls_tunnel_free(s->tunnel);
    g_free(s);
}

void rr_ice_nat_entry_clear(gpointer p)
{
    RrIceNatEntry *e = p;
    g_free(e->from_ip);
    g_free(e->to_ip);
}

/* ---- parsing of configuration ---- */

/* "ip", "ip:port", "[v6]:port", "v6". */
gboolean rr_ice_parse_ip_port(const char *s, gboolean port_allowed, char **ip, guint16 *port)
{
    g_autofree char *host = NULL;
    const char *port_str = NULL;
    *port = 0;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end)
            return FALSE;
        host = g_strndup(s + 1, end - s - 1);
        if (end[1] == ':')
            port_str = end + 2;
        else if (end[1])
            return FALSE;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':')) {
            host = g_strndup(s, colon - s);
            port_str = colon + 1;
        } else {
            host = g_strdup(s);
        }
    }
    if (port_str) {
        guint64 v;
        if (!port_allowed || !g_ascii_string_to_unsigned(port_str, 10, 1, 65535, &v, NULL))
            return FALSE;
        *port = (guint16)v;
    }
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
    if (!ia)
        return FALSE;
    *ip = g_inet_address_to_string(ia);
    return TRUE;
}

gboolean rr_ice_nat_entry_parse(const char *s, RrIceNatEntry *e, GError **error)
{
    const char *eq = strchr(s, '=');
    g_autofree char *left = eq ? g_strstrip(g_strndup(s, eq - s)) : NULL;
    g_autofree char *right = eq ? g_strstrip(g_strdup(eq + 1)) : NULL;
    memset(e, 0, sizeof *e);
    if (!eq || !rr_ice_parse_ip_port(left, TRUE, &e->from_ip, &e->from_port) ||
        !rr_ice_parse_ip_port(right, TRUE, &e->to_ip, &e->to_port) ||
        (e->from_port == 0) != (e->to_port == 0)) {
        rr_ice_nat_entry_clear(e);
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "NAT map entry \"%s\": expected public_ip=internal_ip or ip:port=ip:port", s);
        return FALSE;
    }
    return TRUE;
}

/* Parse an ICE server URL into a new state (status set if unusable). */
RrIceServerState *rr_ice_server_state_parse(const RrIceServer *server)
{
    RrIceServerState *s = g_new0(RrIceServerState, 1);
    const char *url = server->url ? server->url : "";
    s->username = g_strdup(server->username);
    s->credential = g_strdup(server->credential);
    const char *colon = strchr(url, ':');
    g_autofree char *scheme = colon ? g_ascii_strdown(url, colon - url) : NULL;
    const char *rest = colon ? colon + 1 : "";
    if (g_str_has_prefix(rest, "//")) /* tolerate "turn://host" */
        rest += 2;
    const char *q = strchr(rest, '?');
    g_autofree char *hostport = q ? g_strndup(rest, q - rest) : g_strdup(rest);
    g_autofree char *transport = NULL;
    if (q) {
        g_auto(GStrv) params = g_strsplit(q + 1, "&", -1);
        for (guint i = 0; params[i]; i++)
            if (g_str_has_prefix(params[i], "transport="))
                transport = g_ascii_strdown(params[i] + strlen("transport="), -1);
    }
    guint16 def_port = 3478;
    if (g_strcmp0(scheme, "stun") == 0 && !transport) {
        s->kind = RR_ICE_SERVER_STUN;
    } else if (g_strcmp0(scheme, "turn") == 0 && (!transport || strcmp(transport, "udp") == 0)) {
        s->kind = RR_ICE_SERVER_TURN_UDP;
    } else if (g_strcmp0(scheme, "turn") == 0 && strcmp(transport, "tcp") == 0) {
        s->kind = RR_ICE_SERVER_TURN_TCP;
    } else if (g_strcmp0(scheme, "turns") == 0 && (!transport || strcmp(transport, "tcp") == 0)) {
        s->kind = RR_ICE_SERVER_TURN_TLS;
        def_port = 5349;
    } else {
        /* Never echo the whole URL: it is outside input of unknown shape. */
        s->url = g_strdup_printf("%s:...", scheme ? scheme : "?");
        s->status = g_strdup("unsupported ICE server URL (stun:, turn:, turns: over tcp only)");
        s->done = TRUE;
        return s;
    }
    /* host[:port], host may be [v6] */
    g_autofree char *host = NULL;
    const char *port_str = NULL;
    if (hostport[0] == '[') {
        char *end = strchr(hostport, ']');
        if (end) {
            host = g_strndup(hostport + 1, end - hostport - 1);
            if (end[1] == ':')
                port_str = end + 2;
        }
    } else {
        char *c = strrchr(hostport, ':');
        host = c ? g_strndup(hostport, c - hostport) : g_strdup(hostport);
        if (c)
            port_str = c + 1;
    }
    guint64 port = def_port;
    gboolean ok = host && *host && strlen(host) < 254;
    for (const char *p = host; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '.' || *p == '-' || *p == ':';
    if (ok && port_str)
        ok = g_ascii_string_to_unsigned(port_str, 10, 1, 65535, &port, NULL);
    if (!ok) {
        s->url = g_strdup_printf("%s:...", scheme);
        s->status = g_strdup("unparseable ICE server URL");
        s->done = TRUE;
        return s;
    }
    s->host = g_steal_pointer(&host);
    s->port = (guint16)port;
    gboolean v6 = strchr(s->host, ':') != NULL;
    s->url = g_strdup_printf("%s:%s%s%s:%u%s%s", scheme, v6 ? "[" : "", s->host, v6 ? "]" : "",
                             s->port, transport ? "?transport=" : "", transport ? transport : "");
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(s->host);
    if (ia)
        s->ip = g_inet_address_to_string(ia);
    return s;
}

const char *rr_ice_server_kind_name(RrIceServerKind kind)
{
    switch (kind) {
    case RR_ICE_SERVER_STUN:
        return "STUN";
    case RR_ICE_SERVER_TURN_UDP:
        return "TURN UDP";
    case RR_ICE_SERVER_TURN_TCP:
        return "TURN TCP";
    case RR_ICE_SERVER_TURN_TLS:
        return "TURN TLS";
    }
    return "?";
}

/* ---- the loopback rule (see ice.h) ---- */

gboolean rr_ice_is_loopback(const char *ip)
{
    g_autoptr(GInetAddress) a = ip ? g_inet_address_new_from_string(ip) : NULL;
    return a && g_inet_address_get_is_loopback(a);
}

char *rr_ice_loopback_reason(const char *signalling_address, const char *const *remote_addresses)
{
    if (rr_ice_is_loopback(signalling_address))
        return g_strdup_printf("the signalling address %s is loopback", signalling_address);
    for (guint i = 0; remote_addresses && remote_addresses[i]; i++)
        if (rr_ice_is_loopback(remote_addresses[i]))
            return g_strdup_printf("the server's candidate %s is loopback", remote_addresses[i]);
    return NULL;
}
