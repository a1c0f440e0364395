/* rtc/signal-codec: LiveKit signalling messages to and from bytes.
 *
 * Thin, safe helpers over the protobuf-c code generated from rtc/proto/livekit_rtc.proto:
 * one encoder per SignalRequest the recorder sends, a bounded decoder for the server's
 * SignalResponse frames, the trickle `candidateInit` JSON both ways, and a one-line
 * description of a response for logs (never with tokens or TURN credentials).
 *
 * Pure functions, no state: call them from the job's signalling GMainContext (or any
 * thread). Encoders return (transfer full) GBytes. rr_signal_decode_response() returns a
 * (transfer full) Livekit__SignalResponse, freed with rr_signal_response_free() (or
 * g_autoptr(Livekit__SignalResponse)); its strings are valid UTF-8 (checked on decode).
 * Bad input gives RR_RTC_ERROR_INVALID_INPUT with a clear message, never an abort.
 *
 * A response whose oneof is not one this build knows (a newer server's message) is NOT
 * an error: it decodes with message_case == NOT_SET and rr_signal_response_is_unknown()
 * TRUE; callers ignore it. Only a frame with no fields at all is rejected as empty.
 */
#pragma once

#include <glib.h>

#include "livekit_rtc.pb-c.h"

G_BEGIN_DECLS

#define RR_SIGNAL_MAX_MESSAGE_SIZE   (4 * 1024 * 1024)
#define RR_SIGNAL_MAX_CANDIDATE_JSON (16 * 1024)

/* ---- requests (client → server) ---- */

/* answer{type "answer", sdp, id}: the reply to the server's offer with the same id. */
GBytes *rr_signal_encode_answer(const char *sdp, guint32 id);

/* trickle{candidateInit, target, final}. @candidate_init_json from
 * rr_signal_candidate_init_to_json(). */
GBytes *rr_signal_encode_trickle(const char *candidate_init_json, Livekit__SignalTarget target,
                                 gboolean final);

/* subscription{track_sids, subscribe}. @track_sids is NULL-terminated (may be NULL). */
GBytes *rr_signal_encode_subscription(const char *const *track_sids, gboolean subscribe);

/* subscription{subscribe, participant_tracks[{participant_sid, track_sids}]}. */
GBytes *rr_signal_encode_participant_tracks(const char *participant_sid,
                                            const char *const *track_sids, gboolean subscribe);

/* track_setting{track_sids, disabled, quality, width, height, fps}. */
GBytes *rr_signal_encode_track_setting(const char *const *track_sids, Livekit__VideoQuality quality,
                                       guint32 width, guint32 height, guint32 fps,
                                       gboolean disabled);

/* leave{reason, action}; the recorder sends CLIENT_INITIATED + DISCONNECT. */
GBytes *rr_signal_encode_leave(Livekit__DisconnectReason reason,
                               Livekit__LeaveRequest__Action action);

/* ping (int64 field 14, the legacy form) and ping_req{timestamp, rtt} (ms). */
GBytes *rr_signal_encode_ping(gint64 timestamp_ms);
GBytes *rr_signal_encode_ping_req(gint64 timestamp_ms, gint64 rtt_ms);

/* What a resuming client tells the server (sync_state). NULL SDPs are left out. For a
 * subscriber-primary recorder: answer = our last answer on the subscriber PC, offer =
 * the server's offer it answered; @track_sids lists the tracks whose subscription
 * differs from auto-subscribe, with @subscribe = !auto_subscribe (as LiveKit's clients). */
typedef struct {
    const char *answer_sdp;
    guint32 answer_id;
    const char *offer_sdp;
    guint32 offer_id;
    const char *const *track_sids;
    gboolean subscribe;
} RrSignalSyncState;

GBytes *rr_signal_encode_sync_state(const RrSignalSyncState *state);

/* ---- responses (server → client) ---- */

/* (transfer full): the decoded frame, or NULL and RR_RTC_ERROR_INVALID_INPUT for an empty,
 * oversized (> RR_SIGNAL_MAX_MESSAGE_SIZE), malformed or non-UTF-8 message. */
Livekit__SignalResponse *rr_signal_decode_response(const guint8 *data, gsize len, GError **error);
void rr_signal_response_free(Livekit__SignalResponse *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Livekit__SignalResponse, rr_signal_response_free)

/* TRUE when @msg carries only a message type this build does not know. */
gboolean rr_signal_response_is_unknown(const Livekit__SignalResponse *msg);

/* (transfer full): "offer id=7 sdp=1234B m=3 mids{0:TR_abc}" etc.: type and key fields
 * on one line; refresh tokens only as a length, no TURN usernames/credentials,
 * user-supplied strings shortened and stripped of control characters. */
char *rr_signal_response_describe(const Livekit__SignalResponse *msg);

/* ---- trickle candidateInit JSON ---- */

/* (transfer full): {"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0,
 * "usernameFragment":null}, the RTCIceCandidateInit form LiveKit clients send.
 * @sdp_mid NULL and @sdp_mline_index < 0 give null; @username_fragment NULL gives null.
 * An empty @candidate means end-of-candidates. */
char *rr_signal_candidate_init_to_json(const char *candidate, const char *sdp_mid,
                                       gint sdp_mline_index, const char *username_fragment);

typedef struct {
    char *candidate;         /* never NULL after a successful parse; "" = end-of-candidates */
    char *sdp_mid;           /* NULL when absent or null */
    gint sdp_mline_index;    /* -1 when absent or null */
    char *username_fragment; /* NULL when absent or null */
} RrCandidateInit;

/* Parse the server's candidateInit JSON (@len -1: NUL-terminated). On failure @out is
 * left cleared and RR_RTC_ERROR_INVALID_INPUT is set. Free with rr_candidate_init_clear(). */
gboolean rr_signal_candidate_init_parse(const char *json, gssize len, RrCandidateInit *out,
                                        GError **error);
void rr_candidate_init_clear(RrCandidateInit *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RrCandidateInit, rr_candidate_init_clear)

/* Name of a SignalResponse case for logs ("offer", "join", ..., "unknown"). */
const char *rr_signal_response_case_name(Livekit__SignalResponse__MessageCase c);

G_END_DECLS
