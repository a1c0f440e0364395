/* worker/ice-options: shared ICE flags. See ice-options.h. */
#include "worker/ice-options.h"

#include "worker/log.h"

void rr_ice_options_init(RrIceOptions *o)
{
    *o = (RrIceOptions){.ice_timeout_s = 20};
}

void rr_ice_options_add_entries(RrIceOptions *o, GOptionContext *context)
{
    GOptionEntry entries[] = {
        {"ice-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->ice_urls,
         "extra STUN/TURN URL (repeatable)", "URL"},
        {"turn-username", 0, 0, G_OPTION_ARG_STRING, &o->turn_username,
         "username for --ice-server TURN", "U"},
        {"turn-password", 0, 0, G_OPTION_ARG_STRING, &o->turn_password,
         "password for --ice-server TURN", "P"},
        {"force-relay", 0, 0, G_OPTION_ARG_NONE, &o->force_relay, "use TURN relays only", NULL},
        {"no-udp", 0, 0, G_OPTION_ARG_NONE, &o->no_udp, "no ICE over UDP", NULL},
        {"no-tcp", 0, 0, G_OPTION_ARG_NONE, &o->no_tcp, "no ICE-TCP", NULL},
        {"nat-map", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->nat_map,
         "PUBLIC=INTERNAL address map for server candidates (repeatable)", "A=B"},
        {"no-signalling-fallback", 0, 0, G_OPTION_ARG_NONE, &o->no_signalling_fallback,
         "do not try the signalling address with the advertised ports", NULL},
        {"local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->local_addresses,
         "gather on this local IP only (repeatable; default: every interface, loopback too for a "
         "server on loopback)",
         "IP"},
        {"ice-timeout", 0, 0, G_OPTION_ARG_INT, &o->ice_timeout_s, "seconds for ICE (default 20)",
         "S"},
        {NULL},
    };
    g_option_context_add_main_entries(context, entries, NULL);
}

void rr_ice_options_apply(RrIceOptions *o, RrIceConfig *cfg)
{
    rr_log_add_secret(o->turn_password);
    if (!o->servers)
        o->servers = g_array_new(FALSE, FALSE, sizeof(RrIceServer));
    g_array_set_size(o->servers, 0);
    for (guint i = 0; o->ice_urls && o->ice_urls[i]; i++) {
        RrIceServer s = {o->ice_urls[i], o->turn_username, o->turn_password};
        g_array_append_val(o->servers, s);
    }
    cfg->servers = (const RrIceServer *)o->servers->data;
    cfg->n_servers = o->servers->len;
    if (o->force_relay)
        cfg->allowed_types = RR_ICE_ALLOW_RELAY;
    cfg->udp = !o->no_udp;
    cfg->tcp = !o->no_tcp;
    cfg->nat_map = (const char *const *)o->nat_map;
    cfg->local_addresses = (const char *const *)o->local_addresses;
    cfg->try_signalling_address = !o->no_signalling_fallback;
    cfg->connect_timeout_ms = (guint)MAX(1, o->ice_timeout_s) * 1000;
}

void rr_ice_options_clear(RrIceOptions *o)
{
    g_clear_pointer(&o->ice_urls, g_strfreev);
    g_clear_pointer(&o->nat_map, g_strfreev);
    g_clear_pointer(&o->local_addresses, g_strfreev);
    g_clear_pointer(&o->turn_username, g_free);
    g_clear_pointer(&o->turn_password, g_free);
    g_clear_pointer(&o->servers, g_array_unref);
}
