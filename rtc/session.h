/* rtc/session: a hidden, subscribe-only participant in a LiveKit room.
 *
 * RrSession joins over signalling (rtc/signal-client), answers every server offer on the
 * subscriber peer connection (rtc/peer), trickles candidates both ways, pings, follows
 * `update`/`speakers_changed`/mutes, keeps `refresh_token`, resumes after a lost socket
 * (`reconnect=1&sid=`, then sync_state) and rejoins when the server says RECONNECT. What
 * comes out is the interface of rtc/ (docs/ARCHITECTURE.md): tracks appearing and going away with
 * their metadata, decrypted RTP per track, RTCP; what goes in is RTCP to send back.
 *
 * Local addresses: without configured ones (RrIceConfig.local_addresses), a server on
 * loopback (a local development server) is reached with no flags: each peer connection
 * is created after the signalling connection is up and is given the IP it reached, so
 * the ICE loopback rule (rr_ice_loopback_reason) decides when its gathering starts (at
 * the first offer) from that address and from the server candidates trickled until then.
 * A loopback candidate trickled only later cannot add loopback any more; the ICE report
 * marks it and names the fix (local address 127.0.0.1). A rejoin decides again.
 *
 * Threading: everything runs on the GMainContext given to rr_session_new(); call every
 * function from the thread that iterates it; every callback is invoked there. Pointers
 * passed to callbacks are valid during the call (tracks and participants until their
 * removal has been reported). Tokens and TURN credentials are never logged.
 */
#pragma once

#include "rtc/ice.h"
#include "rtc/peer.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _RrSession RrSession;

typedef enum {
    RR_SESSION_NEW,
    RR_SESSION_CONNECTING,   /* signalling being opened */
    RR_SESSION_JOINED,       /* JoinResponse received */
    RR_SESSION_CONNECTED,    /* DTLS up: media flows */
    RR_SESSION_RECONNECTING, /* resuming or rejoining */
    RR_SESSION_CLOSED,       /* left (ours or the server's leave) */
    RR_SESSION_FAILED,       /* could not join, or lost for good; see the error */
} RrSessionState;

const char *rr_session_state_to_string(RrSessionState state);

typedef enum {
    RR_TRACK_KIND_AUDIO,
    RR_TRACK_KIND_VIDEO,
} RrTrackKind;

/* LiveKit TrackSource values. */
typedef enum {
    RR_TRACK_SOURCE_UNKNOWN = 0,
    RR_TRACK_SOURCE_CAMERA = 1,
    RR_TRACK_SOURCE_MICROPHONE = 2,
    RR_TRACK_SOURCE_SCREEN_SHARE = 3,
    RR_TRACK_SOURCE_SCREEN_SHARE_AUDIO = 4,
} RrTrackSource;

const char *rr_track_source_to_string(RrTrackSource source);

typedef struct {
    guint64 packets;
    guint64 bytes;       /* RTP payload bytes */
    guint64 lost;        /* expected - received (never negative) */
    guint64 rtx;         /* retransmissions received */
    guint64 keyframes;   /* keyframes that started (distinct RTP timestamps) */
    gint64 first_us;     /* monotonic time of the first packet, 0 if none */
    gint64 last_us;      /* monotonic time of the latest packet */
    gint64 max_gap_us;   /* longest time between two packets */
    guint32 keyframe_ts; /* RTP timestamp of the latest keyframe */
    guint32 highest_seq; /* extended */
    guint32 base_seq;    /* extended */
} RrTrackStats;

/* A subscribed track that is receiving (read-only for callers). */
typedef struct {
    char *sid;
    char *name;
    char *participant_sid;
    char *participant_identity;
    char *participant_name;
    RrTrackKind kind;
    RrTrackSource source;
    char *mime_type; /* from TrackInfo, e.g. "video/VP8" */
    char *codec;     /* negotiated: "opus", "VP8", "VP9", "H264", "AV1" */
    guint clock_rate;
    guint channels;
    guint pt;
    gint rtx_pt; /* -1: none */
    guint32 ssrc;
    guint32 rtx_ssrc; /* 0: none */
    char *fmtp;
    char *mid;
    gboolean muted;
    guint width, height;
    RrTrackStats stats;
    /* Wall-clock times (g_get_real_time, µs) of the first RR_TRACK_MAX_TIMES keyframes
     * received and keyframe requests (PLIs) sent: evidence of PLI → keyframe. */
    GArray *keyframe_times; /* gint64 */
    GArray *pli_times;      /* gint64 */
} RrTrack;

#define RR_TRACK_MAX_TIMES 256

typedef struct {
    char *sid;
    char *identity;
    char *name;
    char *metadata;
    guint32 version;
    int state; /* ParticipantInfo.State */
    int kind;  /* ParticipantInfo.Kind */
    gboolean is_publisher;
    GPtrArray *tracks; /* Livekit__TrackInfo* copies; see rr_session_participant_track */
} RrParticipant;

typedef struct {
    void (*state_changed)(RrSession *s, RrSessionState state, const GError *error, gpointer ud);
    /* Joined, changed or left (state DISCONNECTED = 3). */
    void (*participant)(RrSession *s, const RrParticipant *p, gpointer ud);
    void (*track_added)(RrSession *s, const RrTrack *t, gpointer ud);
    void (*track_removed)(RrSession *s, const RrTrack *t, gpointer ud);
    void (*track_muted)(RrSession *s, const RrTrack *t, gpointer ud);
    /* Active speakers, loudest first (participant sids, NULL-terminated). */
    void (*speakers)(RrSession *s, const char *const *sids, gpointer ud);
    void (*rtp)(RrSession *s, const RrTrack *t, const guint8 *pkt, gsize len, gpointer ud);
    /* A decrypted RTCP compound from the server (sender reports, ...). */
    void (*rtcp)(RrSession *s, const guint8 *pkt, gsize len, gpointer ud);
    /* A secret the server sent (a TURN username or credential of the JoinResponse, a
     * refreshed token), before anything is done with it: register it with the log
     * redactor, since libraries below (libnice's debug output) may print it. */
    void (*secret)(RrSession *s, const char *secret, gpointer ud);
} RrSessionCallbacks;

typedef struct {
    const char *url;     /* ws(s)/http(s) URL of the LiveKit server */
    const char *token;   /* a token given as is, or NULL to mint one: */
    const char *api_key; /* with api_secret, room, identity */
    const char *api_secret;
    const char *room;
    const char *identity; /* default: a random "EG_" id */
    const char *name;
    gboolean auto_subscribe;        /* default TRUE */
    const char *const *track_sids;  /* explicit subscriptions (with auto_subscribe FALSE) */
    RrIceConfig ice;                /* servers are added to those of the JoinResponse */
    guint join_timeout_s;           /* signalling + JoinResponse; default 15 */
    guint resume_attempts;          /* default 8 */
    gboolean send_receiver_reports; /* RR every second from rtc's own stats (probe) */
    int protocol;                   /* default 16 */
    /* A path known to reach this server (rr_session_get_host_path of another session to
     * it): without configured local addresses, gather only on @path_address, UDP or
     * (@path_tcp) TCP, host candidates only — one socket instead of one or two per local
     * address. If that connection fails before media flowed, the session forgets the
     * path and rejoins gathering on every address. NULL: none. */
    const char *path_address;
    gboolean path_tcp;
} RrSessionConfig;

void rr_session_config_init(RrSessionConfig *config);

/* @config is copied. */
RrSession *rr_session_new(GMainContext *context, const RrSessionConfig *config,
                          const RrSessionCallbacks *callbacks, gpointer user_data, GError **error);
void rr_session_free(RrSession *s);

void rr_session_start(RrSession *s);
/* Send leave and close; state_changed(CLOSED) follows. */
void rr_session_leave(RrSession *s);

RrSessionState rr_session_get_state(RrSession *s);
/* (transfer none) */
GHashTable *rr_session_get_participants(RrSession *s); /* sid → RrParticipant* */
GHashTable *rr_session_get_tracks(RrSession *s);       /* track sid → RrTrack* */
const char *rr_session_get_room_name(RrSession *s);
const char *rr_session_get_participant_sid(RrSession *s);
RrPeer *rr_session_get_peer(RrSession *s); /* NULL before the first offer */
/* Whether a participant of the room (as last updated) publishes the track @track_sid. */
gboolean rr_session_track_published(RrSession *s, const char *track_sid);

/* Subscribe/unsubscribe explicitly (auto_subscribe off). Only changes are sent; the list is
 * kept and asked for again after a resume or a rejoin. */
void rr_session_subscribe(RrSession *s, const char *const *track_sids, gboolean subscribe);
/* Send RTCP (compound) to the server on the subscriber connection. */
gboolean rr_session_send_rtcp(RrSession *s, const guint8 *pkt, gsize len, GError **error);
/* Build and send a PLI for the track. */
gboolean rr_session_request_keyframe(RrSession *s, const char *track_sid, GError **error);

/* Set the known path (RrSessionConfig.path_address) of a session not started yet. */
void rr_session_set_path(RrSession *s, const char *address, gboolean tcp);

/* The local end of the selected ICE pair when it is one of this machine's addresses (a
 * host candidate, or the peer-reflexive one of an ICE-TCP active connection; no relay, no
 * NAT's address): its IP (transfer full) and whether it is TCP. FALSE otherwise or before
 * media flows. */
gboolean rr_session_get_host_path(RrSession *s, char **address, gboolean *tcp);

/* Counters of the session (joins, resumes, offers, ...) and per-track stats, as JSON. */
void rr_session_build_json(RrSession *s, JsonBuilder *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrSession, rr_session_free)

G_END_DECLS
