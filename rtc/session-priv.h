/* rtc/session-priv: what session.c, session-tracks.c and session-report.c share — the
 * session's state and the track/participant bookkeeping. Not for other modules. */
#pragma once

#include "rtc/session.h"

#include "rtc/rtp.h"
#include "rtc/signal-client.h"
#include "rtc/signal-codec.h"

G_BEGIN_DECLS

#define RR_SESSION_DEFAULT_PROTOCOL 16

struct _RrSession {
    GMainContext *ctx;
    RrSessionCallbacks cbs;
    gpointer ud;

    /* configuration (owned copies) */
    char *url, *api_key, *api_secret, *room, *identity, *name;
    char **track_sids;
    gboolean auto_subscribe;
    RrIceConfig ice;
    GArray *ice_servers; /* RrIceServer with owned strings: configured ones */
    char **ice_nat_map, **ice_local_addresses;
    char *path_address;    /* a path known to reach the server (config), or NULL: */
    gboolean path_tcp;     /* ...over TCP */
    gboolean path_used;    /* the current peer gathers on it alone */
    gboolean path_dropped; /* it failed once: gather on every address */
    guint join_timeout_s, resume_attempts;
    gboolean send_rr;
    int protocol;

    char *token; /* current (refreshed) token */
    RrSignalClient *sig;
    RrCert *cert;
    RrPeer *peer;
    RrSessionState state;
    gboolean leaving;
    gboolean resuming; /* the open socket was a resume */
    guint resume_tries;
    guint rejoin_tries;    /* rejoins since media last flowed */
    gboolean media_flowed; /* DTLS came up at least once */
    guint retry_source, join_timer, ping_timer, rr_timer;

    char *participant_sid, *room_name, *room_sid;
    GArray *join_servers; /* RrIceServer with owned strings from the JoinResponse */
    gboolean force_relay;
    guint ping_interval_s, ping_timeout_s;
    gint64 last_pong_us, rtt_ms;
    char *signalling_ip;

    GHashTable *participants; /* sid → RrParticipant* */
    GHashTable *tracks;       /* track sid → RrTrack* */
    GHashTable *mid_to_track; /* mid → track sid (latest offer) */
    GHashTable *speakers;     /* sid → float level (boxed as double*) */
    char *offer_sdp, *answer_sdp;
    guint32 offer_id;
    guint32 local_ssrc;

    struct {
        guint joins, resumes, rejoins, offers, answers, candidates_sent, candidates_received;
        guint pings, pongs, updates, leaves_received, refreshed_tokens, keyframe_requests;
        guint ice_restarts;
    } n;
};

/* session-tracks.c */
void rr_sess_track_free(RrTrack *t);
void rr_sess_participant_free(RrParticipant *p);
/* Reports track_added/track_removed as offer, answer and participant updates agree. */
void rr_sess_reconcile_tracks(RrSession *s);
void rr_sess_remove_all_tracks(RrSession *s);
RrTrack *rr_sess_track_for_mid(RrSession *s, const char *mid);
void rr_sess_track_count(RrTrack *t, const RrRtpHeader *hdr, const guint8 *pkt);
void rr_sess_apply_participant(RrSession *s, const Livekit__ParticipantInfo *pi);

G_END_DECLS
