/* rtc/ice-priv: the inside of RrIceTransport, shared by ice.c (the agent), ice-report.c
 * (the connectivity report), ice-config.c, ice-remote.c, ice-probe.c (reachability probes run on
 * failure) and ice-tls-tunnel.c (TURN over TLS). Not for use outside rtc/ice*.c.
 */
#pragma once

#include "rtc/ice.h"

#include <nice/agent.h>

G_BEGIN_DECLS

typedef enum {
    RR_ICE_SERVER_STUN,
    RR_ICE_SERVER_TURN_UDP,
    RR_ICE_SERVER_TURN_TCP,
    RR_ICE_SERVER_TURN_TLS,
} RrIceServerKind;

typedef struct _RrIceTlsTunnel RrIceTlsTunnel;

typedef struct {
    RrIceServerKind kind;
    char *url;  /* normalised, no credentials */
    char *host; /* as written (name or IP) */
    guint16 port;
    char *username;
    char *credential; /* secret: never logged */
    char *ip;         /* resolved, or NULL */
    gboolean used;    /* given to libnice */
    gboolean relay_seen;
    gboolean done; /* status is final */
    gboolean ok;
    char *status;
    RrIceTlsTunnel *tunnel; /* TURN_TLS only */
    guint16 nice_port;      /* port libnice was given (the tunnel's for TLS) */
    char *nice_ip;
    char *probe; /* result of the TURN probe on failure, or NULL */
} RrIceServerState;

typedef struct {
    char *from_ip;
    guint16 from_port; /* 0 = any port */
    char *to_ip;
    guint16 to_port;
} RrIceNatEntry;

/* A remote candidate we handed to libnice (or skipped). */
typedef struct {
    RrIceReportCandidate rc;
    char *probe; /* reachability probe result on failure, or NULL */
} RrIceRemote;

struct _RrIceTransport {
    GMainContext *context;
    NiceAgent *agent;
    guint stream_id;
    RrIceCallbacks cb;
    gpointer user_data;

    /* configuration */
    guint allowed_types;
    gboolean udp, tcp;
    gboolean try_signalling_address;
    guint connect_timeout_ms, turn_timeout_ms;
    gboolean turn_tls_verify;
    GPtrArray *servers;    /* RrIceServerState* */
    GPtrArray *turn_order; /* RrIceServerState* (borrowed), in nice_agent_set_relay_info order */
    GArray *nat_map;       /* RrIceNatEntry */
    char *signalling_address;
    gboolean fixed_local_addresses; /* configured: gather on these only */
    char *loopback_reason;          /* set when the loopback rule added loopback */

    /* progress */
    RrIceState state;
    gboolean gather_requested, gathering_started;
    guint resolving; /* pending host name lookups */
    GCancellable *cancellable;
    gint64 gather_time; /* monotonic, µs */
    gboolean local_gathering_done, remote_gathering_done, inbound_checks_seen;
    gboolean remote_credentials_set;
    char *remote_ufrag, *remote_pwd; /* kept for the failure probes */
    gboolean controlling;
    gpointer probe; /* ice-probe.c state while probing */
    GSource *timeout_source;
    GSource *turn_timer;
    RrIcePair *selected;
    GError *failure;
    gboolean probing; /* failure probes running; FAILED is announced when they end */

    /* what happened, for the report */
    GPtrArray *local;        /* RrIceReportCandidate* */
    GPtrArray *remote;       /* RrIceRemote* */
    GPtrArray *skipped;      /* RrIceRemote* */
    GHashTable *remote_keys; /* "proto addr port" of remote candidates already added */

    /* ICE restarts (see rr_ice_transport_open_candidate_window) */
    GPtrArray *window;     /* char*: candidate lines signalled since the window opened */
    gboolean window_final; /* the server's final trickle came in the window */
    gboolean window_fresh; /* the window opened with a new signalling connection */
    gint64 restart_time;   /* monotonic µs of the restart in progress, 0 if none */
    guint restarts, restarts_completed;
    gint64 last_restart_ms; /* restart → connected of the latest completed one, -1 if none */

    /* re-entrancy: callbacks may free the transport */
    guint in_callback;
    gboolean free_pending;
};

/* ice-config.c */
gboolean rr_ice_parse_ip_port(const char *s, gboolean port_allowed, char **ip, guint16 *port);
gboolean rr_ice_nat_entry_parse(const char *s, RrIceNatEntry *e, GError **error);
void rr_ice_nat_entry_clear(gpointer entry);
/* Never fails: an unusable URL gives a state with done set and a status saying why. */
RrIceServerState *rr_ice_server_state_parse(const RrIceServer *server);
const char *rr_ice_server_kind_name(RrIceServerKind kind);
gboolean rr_ice_is_loopback(const char *ip);

/* ice-remote.c */
/* After nice_agent_restart_stream(): hand the candidates of the window to the restarted
 * stream (and the final trickle when the window is fresh). */
void rr_ice_remote_replay_window(RrIceTransport *ice);
/* The server's end-of-candidates came (recorded for the window). */
void rr_ice_remote_window_final(RrIceTransport *ice);

/* ice.c */
void rr_ice_server_state_free(RrIceServerState *s);
void rr_ice_remote_free(RrIceRemote *r);
void rr_ice_report_candidate_clear(RrIceReportCandidate *rc);
/* Turn a failure into the FAILED state (after probes). Takes @error. */
void rr_ice_transport_fail(RrIceTransport *ice, GError *error);

/* ice-report.c */
/* (transfer full) the summary sentence(s) for the current state. */
char *rr_ice_report_summary(RrIceTransport *ice, const RrIceReport *report);

/* ice-probe.c: reachability probes of the remote candidates and of failed TURN servers,
 * bounded by @timeout_ms; calls @done on the context when all have finished. */
void rr_ice_probe_start(RrIceTransport *ice, guint timeout_ms, void (*done)(RrIceTransport *));
/* Stop probing without calling done (the transport is being freed). */
void rr_ice_probe_cancel(RrIceTransport *ice);

/* ice-tls-tunnel.c: a local TCP listener on 127.0.0.1 whose connections are relayed over
 * TLS to @host:@port (libnice 0.1.21 speaks plain TCP for NICE_RELAY_TYPE_TURN_TLS in
 * RFC 5245 mode). */
RrIceTlsTunnel *rr_ice_tls_tunnel_new(GMainContext *context, const char *host, const char *ip,
                                      guint16 port, gboolean verify, GError **error);
guint16 rr_ice_tls_tunnel_get_port(RrIceTlsTunnel *tunnel);
/* The last TLS error, or NULL. (transfer none) */
const char *rr_ice_tls_tunnel_get_error(RrIceTlsTunnel *tunnel);
void rr_ice_tls_tunnel_free(RrIceTlsTunnel *tunnel);

G_END_DECLS
