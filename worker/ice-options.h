/* worker/ice-options: the ICE command-line options shared by `probe` and `record`.
 *
 * --local-address --ice-server --turn-username --turn-password --force-relay --no-udp
 * --no-tcp --nat-map --no-signalling-fallback --ice-timeout, parsed into RrIceOptions
 * and applied to an RrIceConfig. The config borrows from the options: keep them alive
 * (and unchanged) while the session that got the config is created. Main thread only.
 */
#pragma once

#include "rtc/ice.h"

G_BEGIN_DECLS

typedef struct {
    char **ice_urls;
    char **nat_map;
    char **local_addresses;
    char *turn_username;
    char *turn_password; /* a secret */
    gboolean force_relay;
    gboolean no_udp;
    gboolean no_tcp;
    gboolean no_signalling_fallback;
    int ice_timeout_s;
    GArray *servers; /* RrIceServer, built by rr_ice_options_apply() */
} RrIceOptions;

void rr_ice_options_init(RrIceOptions *opts);
/* Adds the options to @context's main group (entries point into @opts). */
void rr_ice_options_add_entries(RrIceOptions *opts, GOptionContext *context);
/* Fills the ICE part of a config from the parsed options; registers the TURN password
 * as a log secret. */
void rr_ice_options_apply(RrIceOptions *opts, RrIceConfig *config);
void rr_ice_options_clear(RrIceOptions *opts);

G_END_DECLS
