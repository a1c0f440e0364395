/* rtc/ice: the ICE transport of a subscriber peer connection (libnice).
 *
 * One RrIceTransport is one libnice agent with one stream of one component (BUNDLE and
 * rtcp-mux put everything on it), in RFC 5245/8445 full mode with trickle ICE. It is
 * controlled by default (the answerer to a full-ICE server) and controlling when the offer
 * is ice-lite. It gathers host, server-reflexive (first STUN server) and relayed (one TURN
 * allocation per TURN URL: UDP, TCP; "turns:" is tunnelled through a local TLS client) and
 * ICE-TCP candidates, as the configuration allows, and adds what docs/ARCHITECTURE.md's "ICE
 * and connectivity" describes on the remote side: NAT-mapped copies of server candidates
 * ("public=internal") and, when no mapping matched, candidates at the address the
 * signalling connection reached.
 *
 * Flow: rr_ice_transport_new() → get_local_credentials() for the answer →
 * set_remote_credentials() from the offer → gather() → local candidates come out of the
 * local_candidate callback ("candidate:..." strings to trickle), remote ones go in with
 * add_remote_candidate(), the server's final trickle with remote_gathering_done() →
 * state_changed(CONNECTED/READY, selected pair) → send()/receive callback carry datagrams
 * (DTLS, SRTP, SRTCP: demultiplexing is the owner's job). ICE-TCP media is framed by
 * libnice (RFC 4571) so datagram boundaries survive. If the transport does not connect
 * within the configured timeout, or libnice fails all pairs, state_changed(FAILED) gets an
 * RR_RTC_ERROR_ICE error whose message is the report's summary; rr_ice_transport_get_report()
 * gives the whole connectivity report (what was gathered, what the server advertised, what
 * was added, per pair what is known, and the likely fix).
 *
 * Threading: everything runs on the GMainContext given to rr_ice_transport_new() (the
 * session's); call the functions from the thread that iterates it, and all callbacks are
 * invoked there. Callbacks may call any function here, including rr_ice_transport_free().
 * TURN credentials are never logged.
 */
#pragma once

#include "rtc/ice-candidate.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _RrIceTransport RrIceTransport;

typedef enum {
    RR_ICE_STATE_NEW,
    RR_ICE_STATE_GATHERING,
    RR_ICE_STATE_CONNECTING,
    RR_ICE_STATE_CONNECTED, /* a working pair; media may flow */
    RR_ICE_STATE_READY,     /* nomination done, selected pair final */
    RR_ICE_STATE_FAILED,
} RrIceState;

const char *rr_ice_state_to_string(RrIceState state);

/* An ICE server as in JoinResponse.ice_servers (one URL per entry). Borrowed. */
typedef struct {
    const char *url;        /* "stun:host[:port]", "turn:host[:port][?transport=udp|tcp]",
                               "turns:host[:port][?transport=tcp]" */
    const char *username;   /* TURN only */
    const char *credential; /* TURN only; a secret */
} RrIceServer;

/* Local candidate types to use. Without HOST only relayed candidates are paired ("force
 * relay", libnice's force-relay). SRFLX only adds the STUN server (libnice pairs
 * server-reflexive candidates through their host base anyway). */
typedef enum {
    RR_ICE_ALLOW_HOST = 1 << 0,
    RR_ICE_ALLOW_SRFLX = 1 << 1,
    RR_ICE_ALLOW_RELAY = 1 << 2,
    RR_ICE_ALLOW_ALL = 0x7,
} RrIceAllowedTypes;

/* Configuration; every pointer is borrowed and copied by rr_ice_transport_new(). Start
 * from rr_ice_config_init(). */
typedef struct {
    const RrIceServer *servers; /* JoinResponse servers and configured extra ones, in order */
    guint n_servers;
    guint allowed_types;                /* RrIceAllowedTypes; default ALL */
    gboolean udp;                       /* ICE-UDP host candidates; default TRUE. libnice derives
                                           TURN allocations from host sockets: keep it on for TURN UDP */
    gboolean tcp;                       /* ICE-TCP (active/passive/so); default TRUE */
    const char *const *local_addresses; /* IPs to gather on, exactly these; NULL = every
                                           interface, loopback only by the loopback rule
                                           (rr_ice_loopback_reason) */
    const char *const *nat_map;         /* "public_ip=internal_ip" or "ip:port=ip:port" entries */
    gboolean try_signalling_address;    /* default TRUE, see set_signalling_address() */
    guint connect_timeout_ms;           /* gather() to CONNECTED; default 20000 */
    guint turn_timeout_ms;              /* a TURN server without relay candidate after this long is
                                           reported as failed; default 5000 */
    guint port_min, port_max;           /* local port range; 0/0 = any */
    gboolean turn_tls_verify; /* verify the certificate of "turns:" servers; default TRUE */
} RrIceConfig;

void rr_ice_config_init(RrIceConfig *config);

/* A candidate pair (the selected one). */
typedef struct {
    RrIceCandidate *local;
    RrIceCandidate *remote;
    char *relay_server; /* "ip:port" of the TURN server if local is relayed, else NULL */
} RrIcePair;

void rr_ice_pair_free(RrIcePair *pair);
RrIcePair *rr_ice_pair_copy(const RrIcePair *pair);
/* "relay udp 127.0.0.1:50000 (TURN 127.0.0.1:3478) -> host udp 10.0.0.1:7882" (transfer
 * full) */
char *rr_ice_pair_to_string(const RrIcePair *pair);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrIcePair, rr_ice_pair_free)

/* Callbacks; all optional, all invoked on the transport's context. Pointers passed in are
 * valid for the call only. */
typedef struct {
    /* A local candidate to trickle to the server ("candidate:..."). */
    void (*local_candidate)(RrIceTransport *ice, const char *candidate, gpointer user_data);
    void (*gathering_done)(RrIceTransport *ice, gpointer user_data);
    /* @selected is the selected pair or NULL; @error is set for FAILED. Also called with
     * the same state when the selected pair changes. */
    void (*state_changed)(RrIceTransport *ice, RrIceState state, const RrIcePair *selected,
                          const GError *error, gpointer user_data);
    /* Every datagram received on the selected path (DTLS, SRTP, SRTCP...). */
    void (*receive)(RrIceTransport *ice, const guint8 *data, gsize len, gpointer user_data);
} RrIceCallbacks;

/* (transfer full) Fails on an invalid configuration (bad local address, NAT map entry or
 * server URL syntax). */
RrIceTransport *rr_ice_transport_new(GMainContext *context, const RrIceConfig *config,
                                     const RrIceCallbacks *callbacks, gpointer user_data,
                                     GError **error);
/* Immediately: no callback after this. Relay allocations are not released (use
 * close_async for that). */
void rr_ice_transport_free(RrIceTransport *ice);
/* Release TURN allocations, then free; @callback (may be NULL) runs on the context when
 * done. No transport callback after this call. */
void rr_ice_transport_close_async(RrIceTransport *ice, GDestroyNotify callback, gpointer user_data);

/* Our ufrag/pwd for the answer. (transfer full) */
void rr_ice_transport_get_local_credentials(RrIceTransport *ice, char **ufrag, char **pwd);
/* From the offer's a=ice-ufrag/a=ice-pwd; @remote_ice_lite makes us controlling. */
gboolean rr_ice_transport_set_remote_credentials(RrIceTransport *ice, const char *ufrag,
                                                 const char *pwd, gboolean remote_ice_lite,
                                                 GError **error);
/* The IP the signalling (WebSocket) connection actually reached. */
void rr_ice_transport_set_signalling_address(RrIceTransport *ice, const char *ip);
/* Start gathering (server host names are resolved first) and the connect timeout. The
 * local addresses are decided when libnice starts gathering (after the resolution): the
 * configured ones, else every interface, with loopback by the loopback rule below. */
gboolean rr_ice_transport_gather(RrIceTransport *ice, GError **error);
/* The loopback rule, for a transport without configured local addresses. libnice leaves
 * loopback interfaces out when it enumerates them itself, so a server that listens and
 * gathers on loopback only (a local development server) could never be paired with. So
 * gathering also uses the loopback addresses (with every other interface: adding one
 * address stops libnice's own enumeration) when @signalling_address, the IP the
 * signalling connection reached, or one of @remote_addresses, the server's candidates
 * known when gathering starts (the offer comes before them in LiveKit's trickle ICE, but
 * a server may trickle early), is a loopback address. The signalling address decides in
 * practice (a server on loopback is reached on loopback); a loopback candidate trickled
 * only after gathering started cannot add a local address any more (libnice gathers
 * once per stream and the server, the offerer, owns ICE restarts): it is marked in the
 * connectivity report, whose summary then names the fix (local address 127.0.0.1).
 * Returns why loopback is used ("the signalling address 127.0.0.1 is loopback"), or NULL
 * when it is not. (transfer full) */
char *rr_ice_loopback_reason(const char *signalling_address, const char *const *remote_addresses);
/* A remote candidate line ("candidate:..." or "a=candidate:..."). Host names (mDNS
 * ".local") and components other than 1 are skipped with a debug log and return TRUE;
 * malformed lines give RR_RTC_ERROR_INVALID_INPUT. */
gboolean rr_ice_transport_add_remote_candidate(RrIceTransport *ice, const char *candidate,
                                               GError **error);
/* The offer carries new ICE credentials (an ICE restart, e.g. after a resume): restart
 * the stream with them (libnice makes new local credentials: read them again for the
 * answer) and forget the remote candidates, except those of the candidate window (below),
 * which are handed to the restarted stream. Until the new check list connects, data keeps
 * going out on the old selected pair. Once the answer is sent, call
 * rr_ice_transport_retrickle(): the server dropped our candidates with its old agent. */
gboolean rr_ice_transport_restart(RrIceTransport *ice, const char *ufrag, const char *pwd,
                                  gboolean remote_ice_lite, GError **error);
/* Open a new candidate window. The server's trickle carries no ICE generation (pion sends
 * "usernameFragment": null) and a server may trickle the candidates of its restarted agent
 * before the offer that announces the restart (the test room does; LiveKit caches them
 * until the offer is out). libnice drops every remote candidate on restart, so candidates
 * signalled since the window opened are kept and re-added if a restart follows. Call it
 * after each answer is sent (@fresh_signalling FALSE) and when a new signalling connection
 * took over (@fresh_signalling TRUE: everything on it comes from the server's current
 * agent, so its end-of-candidates also carries over to the restarted stream). */
void rr_ice_transport_open_candidate_window(RrIceTransport *ice, gboolean fresh_signalling);
/* Hand every local candidate to the local_candidate callback again. */
void rr_ice_transport_retrickle(RrIceTransport *ice);
/* TRUE when remote credentials are set and differ from these. */
gboolean rr_ice_transport_remote_credentials_differ(RrIceTransport *ice, const char *ufrag,
                                                    const char *pwd);
/* The server's final trickle arrived: no more remote candidates. */
void rr_ice_transport_remote_gathering_done(RrIceTransport *ice);

/* Send one datagram on the selected pair. Fails (RR_RTC_ERROR_ICE) when not connected or
 * when the socket refuses it. */
gboolean rr_ice_transport_send(RrIceTransport *ice, const guint8 *data, gsize len, GError **error);

RrIceState rr_ice_transport_get_state(RrIceTransport *ice);
/* (transfer none) NULL until a pair is selected. */
const RrIcePair *rr_ice_transport_get_selected_pair(RrIceTransport *ice);

/* ---- connectivity report ---- */

typedef enum {
    RR_ICE_ORIGIN_GATHERED,           /* local: gathered by libnice */
    RR_ICE_ORIGIN_SIGNALLED,          /* remote: trickled by the server */
    RR_ICE_ORIGIN_NAT_MAP,            /* remote: added by the NAT map */
    RR_ICE_ORIGIN_SIGNALLING_ADDRESS, /* remote: signalling address + advertised port */
    RR_ICE_ORIGIN_PEER_REFLEXIVE,     /* learned from a check (local or remote) */
} RrIceOrigin;

const char *rr_ice_origin_to_string(RrIceOrigin origin);

typedef struct {
    RrIceCandidate *candidate;
    RrIceOrigin origin;
    char *note;  /* "mapped from 203.0.113.5:7882", "via TURN 1.2.3.4:3478", "skipped: ..." */
    char *probe; /* remote: result of the reachability probe after a failure, or NULL */
} RrIceReportCandidate;

typedef struct {
    char *url;     /* without credentials */
    char *address; /* resolved "ip:port" or NULL */
    gboolean ok;
    char *status; /* "allocated relay 1.2.3.4:50000", "... no relay candidate ...", ... */
    char *probe;  /* failed TURN servers: result of an unauthenticated Allocate, or NULL */
} RrIceReportServer;

typedef struct {
    guint local;   /* index into RrIceReport.local */
    guint remote;  /* index into RrIceReport.remote */
    char *outcome; /* "selected", "checking", "not selected", "failed: no reply", ... */
} RrIceReportPair;

typedef struct {
    RrIceState state;
    gint64 elapsed_ms; /* since gather() */
    gboolean local_gathering_done;
    gboolean remote_gathering_done;
    gboolean inbound_checks_seen; /* the server's checks reached us */
    gboolean force_relay;
    char *signalling_address;
    char *loopback;           /* why loopback is gathered on too (the loopback rule), or NULL */
    GPtrArray *servers;       /* RrIceReportServer* */
    GPtrArray *local;         /* RrIceReportCandidate* */
    GPtrArray *remote;        /* RrIceReportCandidate* (used ones) */
    GPtrArray *skipped;       /* RrIceReportCandidate* (not given to libnice, note says why) */
    GPtrArray *pairs;         /* RrIceReportPair* */
    RrIcePair *selected;      /* or NULL */
    char *summary;            /* one or two sentences naming the likely fix */
    guint restarts;           /* ICE restarts so far */
    guint restarts_completed; /* restarts that connected again */
    gint64 last_restart_ms;   /* restart → connected of the latest completed one, -1 if none */
} RrIceReport;

/* (transfer full) A snapshot. */
RrIceReport *rr_ice_transport_get_report(RrIceTransport *ice);
void rr_ice_report_free(RrIceReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrIceReport, rr_ice_report_free)
/* Append the report as one JSON object value to @builder (for `roomrec probe --json` and
 * job errors). */
void rr_ice_report_build_json(const RrIceReport *report, JsonBuilder *builder);
/* (transfer full) Multi-line human text. */
char *rr_ice_report_to_text(const RrIceReport *report);

G_END_DECLS
