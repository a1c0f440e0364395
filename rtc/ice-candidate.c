/* rtc/ice-candidate: see ice-candidate.h.
 *
 * Our own strict parser instead of nice_agent_parse_remote_candidate_sdp(): libnice's
 * accepts only "a=candidate:", truncates out-of-range numbers silently, gives no reason
 * on failure and hits a g_return_if_fail on a TCP candidate without tcptype.
 */
#include "rtc/ice-candidate.h"

#include "rtc/rtc-error.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

RrIceCandidate *rr_ice_candidate_new(void)
{
    RrIceCandidate *c = g_new0(RrIceCandidate, 1);
    c->component = 1;
    c->generation = -1;
    return c;
}

void rr_ice_candidate_free(RrIceCandidate *candidate)
{
    if (!candidate)
        return;
    g_free(candidate->address);
    g_free(candidate->raddr);
    g_free(candidate->ufrag);
    g_free(candidate);
}

RrIceCandidate *rr_ice_candidate_copy(const RrIceCandidate *candidate)
{
    RrIceCandidate *c = g_memdup2(candidate, sizeof *candidate);
    c->address = g_strdup(candidate->address);
    c->raddr = g_strdup(candidate->raddr);
    c->ufrag = g_strdup(candidate->ufrag);
    return c;
}

const char *rr_ice_candidate_type_to_string(RrIceCandidateType type)
{
    switch (type) {
    case RR_ICE_CANDIDATE_HOST:
        return "host";
    case RR_ICE_CANDIDATE_SRFLX:
        return "srflx";
    case RR_ICE_CANDIDATE_PRFLX:
        return "prflx";
    case RR_ICE_CANDIDATE_RELAY:
        return "relay";
    }
    return "unknown";
}

const char *rr_ice_proto_to_string(RrIceProto proto)
{
    switch (proto) {
    case RR_ICE_PROTO_UDP:
        return "udp";
    case RR_ICE_PROTO_TCP_ACTIVE:
        return "tcp-active";
    case RR_ICE_PROTO_TCP_PASSIVE:
        return "tcp-passive";
    case RR_ICE_PROTO_TCP_SO:
        return "tcp-so";
    }
    return "unknown";
}

gboolean rr_ice_proto_is_tcp(RrIceProto proto)
{
    return proto != RR_ICE_PROTO_UDP;
}

static gboolean is_ice_char(char ch)
{
    return g_ascii_isalnum(ch) || ch == '+' || ch == '/';
}

static gboolean parse_uint(const char *s, guint64 max, guint64 *out)
{
    if (!s || !*s || strlen(s) > 10)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isdigit(*p))
            return FALSE;
    guint64 v = g_ascii_strtoull(s, NULL, 10);
    if (v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

/* An IP literal (no zone id) or a DNS name (letters, digits, '-', '.'). */
static gboolean valid_address(const char *s)
{
    gsize len = strlen(s);
    if (len == 0 || len > 253)
        return FALSE;
    if (strchr(s, ':')) {
        if (strchr(s, '%'))
            return FALSE;
        g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(s);
        return ia != NULL;
    }
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
            return FALSE;
    return TRUE;
}

static gboolean is_ip_literal(const char *s)
{
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(s);
    return ia != NULL;
}

gboolean rr_ice_candidate_has_hostname(const RrIceCandidate *candidate)
{
    return candidate->address && !is_ip_literal(candidate->address);
}

#define INVALID(...)                                                                               \
    do {                                                                                           \
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, __VA_ARGS__);                 \
        return NULL;                                                                               \
    } while (0)

RrIceCandidate *rr_ice_candidate_parse(const char *line, GError **error)
{
    if (!line)
        INVALID("ICE candidate: empty");
    if (g_str_has_prefix(line, "a="))
        line += 2;
    if (!g_str_has_prefix(line, "candidate:"))
        INVALID("ICE candidate: does not start with \"candidate:\"");
    g_autofree char *body = g_strdup(line + strlen("candidate:"));
    g_strchomp(body); /* trailing CR/LF and blanks */
    g_auto(GStrv) tok = g_strsplit(body, " ", -1);
    guint n = g_strv_length(tok);
    if (n < 8)
        INVALID("ICE candidate: %u fields, at least 8 expected", n);
    for (guint i = 0; i < n; i++)
        if (!*tok[i])
            INVALID("ICE candidate: empty field %u (double space?)", i + 1);

    g_autoptr(RrIceCandidate) c = rr_ice_candidate_new();
    gsize flen = strlen(tok[0]);
    if (flen > RR_ICE_FOUNDATION_MAX)
        INVALID("ICE candidate: foundation longer than %d characters", RR_ICE_FOUNDATION_MAX);
    for (gsize i = 0; i < flen; i++)
        if (!is_ice_char(tok[0][i]))
            INVALID("ICE candidate: invalid character in foundation");
    memcpy(c->foundation, tok[0], flen + 1);

    guint64 v;
    if (!parse_uint(tok[1], 256, &v) || v == 0)
        INVALID("ICE candidate: bad component id");
    c->component = (guint)v;

    gboolean tcp = FALSE;
    if (g_ascii_strcasecmp(tok[2], "udp") == 0)
        c->proto = RR_ICE_PROTO_UDP;
    else if (g_ascii_strcasecmp(tok[2], "tcp") == 0)
        tcp = TRUE;
    else
        INVALID("ICE candidate: unsupported transport (only UDP and TCP)");

    if (!parse_uint(tok[3], G_MAXUINT32, &v))
        INVALID("ICE candidate: bad priority");
    c->priority = (guint32)v;

    if (!valid_address(tok[4]))
        INVALID("ICE candidate: bad connection address");
    c->address = g_strdup(tok[4]);

    if (!parse_uint(tok[5], 65535, &v))
        INVALID("ICE candidate: bad port");
    c->port = (guint16)v;

    if (strcmp(tok[6], "typ") != 0)
        INVALID("ICE candidate: \"typ\" expected after the port");
    if (strcmp(tok[7], "host") == 0)
        c->type = RR_ICE_CANDIDATE_HOST;
    else if (strcmp(tok[7], "srflx") == 0)
        c->type = RR_ICE_CANDIDATE_SRFLX;
    else if (strcmp(tok[7], "prflx") == 0)
        c->type = RR_ICE_CANDIDATE_PRFLX;
    else if (strcmp(tok[7], "relay") == 0)
        c->type = RR_ICE_CANDIDATE_RELAY;
    else
        INVALID("ICE candidate: unknown candidate type");

    const char *tcptype = NULL;
    gboolean have_rport = FALSE;
    for (guint i = 8; i < n; i += 2) {
        const char *name = tok[i];
        const char *value = tok[i + 1];
        if (!value)
            INVALID("ICE candidate: attribute without a value at the end");
        if (strcmp(name, "raddr") == 0) {
            if (!valid_address(value))
                INVALID("ICE candidate: bad raddr");
            g_free(c->raddr);
            c->raddr = g_strdup(value);
        } else if (strcmp(name, "rport") == 0) {
            if (!parse_uint(value, 65535, &v))
                INVALID("ICE candidate: bad rport");
            c->rport = (guint16)v;
            have_rport = TRUE;
        } else if (strcmp(name, "tcptype") == 0) {
            tcptype = value;
        } else if (strcmp(name, "generation") == 0) {
            if (!parse_uint(value, G_MAXINT32, &v))
                INVALID("ICE candidate: bad generation");
            c->generation = (gint)v;
        } else if (strcmp(name, "ufrag") == 0) {
            g_free(c->ufrag);
            c->ufrag = g_strdup(value);
        }
        /* other extensions (network-id, network-cost, ...) are ignored */
    }
    if (have_rport && !c->raddr)
        INVALID("ICE candidate: rport without raddr");
    if (tcp) {
        if (!tcptype)
            INVALID("ICE candidate: TCP candidate without tcptype");
        if (strcmp(tcptype, "active") == 0)
            c->proto = RR_ICE_PROTO_TCP_ACTIVE;
        else if (strcmp(tcptype, "passive") == 0)
            c->proto = RR_ICE_PROTO_TCP_PASSIVE;
        else if (strcmp(tcptype, "so") == 0)
            c->proto = RR_ICE_PROTO_TCP_SO;
        else
            INVALID("ICE candidate: unknown tcptype");
    } else if (tcptype) {
        INVALID("ICE candidate: tcptype on a UDP candidate");
    }
    return g_steal_pointer(&c);
}

char *rr_ice_candidate_to_string(const RrIceCandidate *c)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component,
                           rr_ice_proto_is_tcp(c->proto) ? "tcp" : "udp", c->priority,
                           c->address ? c->address : "0.0.0.0", c->port,
                           rr_ice_candidate_type_to_string(c->type));
    if (c->raddr)
        g_string_append_printf(s, " raddr %s rport %u", c->raddr, c->rport);
    if (rr_ice_proto_is_tcp(c->proto))
        g_string_append_printf(s, " tcptype %s",
                               c->proto == RR_ICE_PROTO_TCP_ACTIVE    ? "active"
                               : c->proto == RR_ICE_PROTO_TCP_PASSIVE ? "passive"
                                                                      : "so");
    if (c->generation >= 0)
        g_string_append_printf(s, " generation %d", c->generation);
    if (c->ufrag)
        g_string_append_printf(s, " ufrag %s", c->ufrag);
    return g_string_free(s, FALSE);
}

/* ---- trickle JSON ---- */

void rr_ice_candidate_init_clear(RrIceCandidateInit *init)
{
    g_clear_pointer(&init->candidate, g_free);
    g_clear_pointer(&init->sdp_mid, g_free);
    g_clear_pointer(&init->ufrag, g_free);
    init->sdp_mline_index = -1;
}

static gboolean optional_string(JsonObject *o, const char *name, char **out, GError **error)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return TRUE;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE candidateInit: \"%s\" is not a string", name);
        return FALSE;
    }
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

gboolean rr_ice_candidate_init_parse(const char *json, RrIceCandidateInit *out, GError **error)
{
    memset(out, 0, sizeof *out);
    out->sdp_mline_index = -1;
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) jerr = NULL;
    if (!json || !json_parser_load_from_data(parser, json, -1, &jerr)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE candidateInit: not JSON: %s", jerr ? jerr->message : "empty");
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE candidateInit: not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    if (!optional_string(o, "candidate", &out->candidate, error) ||
        !optional_string(o, "sdpMid", &out->sdp_mid, error) ||
        !optional_string(o, "usernameFragment", &out->ufrag, error))
        goto fail;
    if (!out->candidate) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "ICE candidateInit: no \"candidate\" member");
        goto fail;
    }
    JsonNode *n = json_object_get_member(o, "sdpMLineIndex");
    if (n && !JSON_NODE_HOLDS_NULL(n)) {
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
            json_node_get_int(n) < 0 || json_node_get_int(n) > 65535) {
            g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                        "ICE candidateInit: bad \"sdpMLineIndex\"");
            goto fail;
        }
        out->sdp_mline_index = (gint)json_node_get_int(n);
    }
    return TRUE;
fail:
    rr_ice_candidate_init_clear(out);
    return FALSE;
}

char *rr_ice_candidate_init_to_json(const char *candidate, const char *sdp_mid,
                                    gint sdp_mline_index, const char *ufrag)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "candidate");
    json_builder_add_string_value(b, candidate ? candidate : "");
    if (sdp_mid) {
        json_builder_set_member_name(b, "sdpMid");
        json_builder_add_string_value(b, sdp_mid);
    }
    if (sdp_mline_index >= 0) {
        json_builder_set_member_name(b, "sdpMLineIndex");
        json_builder_add_int_value(b, sdp_mline_index);
    }
    json_builder_set_member_name(b, "usernameFragment");
    if (ufrag)
        json_builder_add_string_value(b, ufrag);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

/* ---- libnice ---- */

static NiceCandidateTransport proto_to_nice(RrIceProto p)
{
    switch (p) {
    case RR_ICE_PROTO_TCP_ACTIVE:
        return NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE;
    case RR_ICE_PROTO_TCP_PASSIVE:
        return NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
    case RR_ICE_PROTO_TCP_SO:
        return NICE_CANDIDATE_TRANSPORT_TCP_SO;
    case RR_ICE_PROTO_UDP:
        break;
    }
    return NICE_CANDIDATE_TRANSPORT_UDP;
}

NiceCandidate *rr_ice_candidate_to_nice(const RrIceCandidate *c, guint stream_id, GError **error)
{
    static const NiceCandidateType types[] = {
        [RR_ICE_CANDIDATE_HOST] = NICE_CANDIDATE_TYPE_HOST,
        [RR_ICE_CANDIDATE_SRFLX] = NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE,
        [RR_ICE_CANDIDATE_PRFLX] = NICE_CANDIDATE_TYPE_PEER_REFLEXIVE,
        [RR_ICE_CANDIDATE_RELAY] = NICE_CANDIDATE_TYPE_RELAYED,
    };
    if (!c->address || !is_ip_literal(c->address))
        INVALID("ICE candidate: address %s is not an IP address", c->address ? c->address : "");
    NiceCandidate *nc = nice_candidate_new(types[c->type]);
    nc->stream_id = stream_id;
    nc->component_id = 1;
    nc->transport = proto_to_nice(c->proto);
    nc->priority = c->priority;
    g_strlcpy(nc->foundation, c->foundation, NICE_CANDIDATE_MAX_FOUNDATION);
    nice_address_set_from_string(&nc->addr, c->address);
    nice_address_set_port(&nc->addr, c->port);
    if (c->raddr && is_ip_literal(c->raddr)) {
        nice_address_set_from_string(&nc->base_addr, c->raddr);
        nice_address_set_port(&nc->base_addr, c->rport);
    }
    return nc;
}

RrIceCandidate *rr_ice_candidate_from_nice(const NiceCandidate *nc)
{
    RrIceCandidate *c = rr_ice_candidate_new();
    g_strlcpy(c->foundation, nc->foundation, sizeof c->foundation);
    c->component = nc->component_id ? nc->component_id : 1;
    switch (nc->transport) {
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
        c->proto = RR_ICE_PROTO_TCP_ACTIVE;
        break;
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
        c->proto = RR_ICE_PROTO_TCP_PASSIVE;
        break;
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
        c->proto = RR_ICE_PROTO_TCP_SO;
        break;
    default:
        c->proto = RR_ICE_PROTO_UDP;
    }
    switch (nc->type) {
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        c->type = RR_ICE_CANDIDATE_SRFLX;
        break;
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        c->type = RR_ICE_CANDIDATE_PRFLX;
        break;
    case NICE_CANDIDATE_TYPE_RELAYED:
        c->type = RR_ICE_CANDIDATE_RELAY;
        break;
    default:
        c->type = RR_ICE_CANDIDATE_HOST;
    }
    c->priority = nc->priority;
    c->address = nice_address_dup_string(&nc->addr);
    c->port = nice_address_get_port(&nc->addr);
    /* Active TCP candidates have no port; RFC 6544 says to write 9. */
    if (c->proto == RR_ICE_PROTO_TCP_ACTIVE && c->port == 0)
        c->port = 9;
    if (nc->type != NICE_CANDIDATE_TYPE_HOST && nice_address_is_valid(&nc->base_addr) &&
        !nice_address_equal(&nc->addr, &nc->base_addr)) {
        c->raddr = nice_address_dup_string(&nc->base_addr);
        c->rport = nice_address_get_port(&nc->base_addr);
        if (c->rport == 0)
            c->rport = 9;
    }
    return c;
}
