/* rtc/ice-candidate: ICE candidate lines and trickle candidate JSON.
 *
 * Parses and formats the SDP candidate attribute of RFC 8839 ("candidate:1 1 udp 2130706431
 * 10.0.0.1 7882 typ host generation 0", with or without a leading "a="), including the
 * ICE-TCP "tcptype" extension of RFC 6544, and the JSON candidateInit that LiveKit's trickle
 * messages carry ({"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0,
 * "usernameFragment":null}). Everything here is input from the network: malformed text
 * gives an RR_RTC_ERROR_INVALID_INPUT error, never an abort. Also converts to and from
 * libnice's NiceCandidate.
 *
 * Pure functions, callable from any thread. Returned structs and strings are owned by the
 * caller.
 */
#pragma once

#include <glib.h>
#include <nice/agent.h>

G_BEGIN_DECLS

typedef enum {
    RR_ICE_CANDIDATE_HOST,
    RR_ICE_CANDIDATE_SRFLX,
    RR_ICE_CANDIDATE_PRFLX,
    RR_ICE_CANDIDATE_RELAY,
} RrIceCandidateType;

/* Transport protocol of a candidate: UDP, or TCP with its RFC 6544 tcptype. */
typedef enum {
    RR_ICE_PROTO_UDP,
    RR_ICE_PROTO_TCP_ACTIVE,
    RR_ICE_PROTO_TCP_PASSIVE,
    RR_ICE_PROTO_TCP_SO,
} RrIceProto;

#define RR_ICE_FOUNDATION_MAX 32

typedef struct {
    char foundation[RR_ICE_FOUNDATION_MAX + 1]; /* 1*32 ice-char */
    guint component;                            /* 1..256 */
    RrIceProto proto;
    guint32 priority;
    char *address; /* IP literal, or a host name (mDNS "xxx.local") */
    guint16 port;  /* 0 or 9 for active TCP candidates */
    RrIceCandidateType type;
    char *raddr;     /* related address or NULL */
    guint16 rport;   /* related port (only meaningful with raddr) */
    char *ufrag;     /* "ufrag" extension or NULL */
    gint generation; /* "generation" extension or -1 */
} RrIceCandidate;

RrIceCandidate *rr_ice_candidate_new(void);
void rr_ice_candidate_free(RrIceCandidate *candidate);
RrIceCandidate *rr_ice_candidate_copy(const RrIceCandidate *candidate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrIceCandidate, rr_ice_candidate_free)

/* Parse one candidate attribute: "candidate:..." or "a=candidate:...", trailing CR/LF
 * allowed. Unknown extension attributes are skipped. (transfer full) */
RrIceCandidate *rr_ice_candidate_parse(const char *line, GError **error);
/* Format as "candidate:..." (no "a=", no line ending). (transfer full) */
char *rr_ice_candidate_to_string(const RrIceCandidate *candidate);

/* TRUE if the address is a host name (e.g. an mDNS ".local" name) rather than an IP. */
gboolean rr_ice_candidate_has_hostname(const RrIceCandidate *candidate);
/* TRUE for TCP candidates of any tcptype. */
gboolean rr_ice_proto_is_tcp(RrIceProto proto);

/* Short names: "host", "srflx", "prflx", "relay"; "udp", "tcp-active", "tcp-passive",
 * "tcp-so". (static strings) */
const char *rr_ice_candidate_type_to_string(RrIceCandidateType type);
const char *rr_ice_proto_to_string(RrIceProto proto);

/* Trickle candidateInit (the W3C RTCIceCandidateInit dictionary as JSON). */
typedef struct {
    char *candidate;      /* "candidate:..." or "" (end of candidates) */
    char *sdp_mid;        /* or NULL */
    gint sdp_mline_index; /* or -1 */
    char *ufrag;          /* "usernameFragment" or NULL */
} RrIceCandidateInit;

/* Parse the JSON; the "candidate" member is required (it may be empty), the others are
 * optional and may be null. The candidate line itself is not parsed here. */
gboolean rr_ice_candidate_init_parse(const char *json, RrIceCandidateInit *out, GError **error);
void rr_ice_candidate_init_clear(RrIceCandidateInit *init);
/* (transfer full) JSON text; @sdp_mid may be NULL, @sdp_mline_index -1 to omit, @ufrag
 * NULL gives "usernameFragment":null. */
char *rr_ice_candidate_init_to_json(const char *candidate, const char *sdp_mid,
                                    gint sdp_mline_index, const char *ufrag);

/* libnice conversion. to_nice needs an IP literal address (resolve host names first);
 * the candidate gets @stream_id and component 1 (BUNDLE + rtcp-mux). (transfer full) */
NiceCandidate *rr_ice_candidate_to_nice(const RrIceCandidate *candidate, guint stream_id,
                                        GError **error);
RrIceCandidate *rr_ice_candidate_from_nice(const NiceCandidate *nc);

G_END_DECLS
