/* worker/recorder: one recording — the wiring between a room (rtc/RrSession) and a
 * pipeline (pipeline/RrTrackEgress or RrComposite), and its EgressInfo status.
 *
 *   RrSession ──track_added/removed/muted, participants, speakers──► RrRecorder
 *       │  rtp (per track) ──────────────────────────────────────►  ├─► RrTrackEgress (track)
 *       │  rtcp (sender reports, routed by SSRC) ─────────────────►  └─► RrComposite (others)
 *       ◄── rr_session_send_rtcp (RR, NACK, PLI from the pipeline) ◄─┘
 *
 * What is recorded follows the job (worker/job.h): a track egress records one track as is
 * (T is a sid or IDENTITY/TRACKNAME); a room composite every participant that publishes
 * (not EGRESS participants, not us); a track composite its two tracks; a participant
 * egress one identity's camera and microphone (or screen share and its audio). A PLI is
 * sent as soon as a recorded video track appears.
 *
 * Status: STARTING → ACTIVE (first decodable media in the file) → ENDING → COMPLETE.
 * Nothing recordable within the start timeout, or a connection that never came up →
 * ABORTED, error_code 412, "Start signal not received", with details saying why (no
 * publishers / which tracks never arrived / the ICE connectivity report). The duration
 * limit ends COMPLETE, the max duration LIMIT_REACHED, a session or pipeline failure
 * FAILED. A GStreamer element the job needs that is not installed (pipeline/elements.h)
 * ends it FAILED at rr_recorder_start(), before joining; a decoder missing for a track's
 * codec ends it FAILED when the track comes. rr_recorder_stop() (SIGINT/SIGTERM) drains
 * the pipeline (bounded by the drain timeout) and ends COMPLETE. The room is left in every
 * case before `finished`.
 *
 * Threads: everything on the GMainContext given to rr_recorder_new(); callbacks there.
 * The recorder borrows the job spec; it must outlive the recorder.
 */
#pragma once

#include "pipeline/outputs.h"
#include "rtc/session.h"
#include "worker/egress-info.h"
#include "worker/job.h"

G_BEGIN_DECLS

typedef struct RrRecorder RrRecorder;

typedef struct {
    const RrJobSpec *job;    /* (borrowed) what to record and where */
    const char *egress_id;   /* also the identity in the room */
    RrSessionConfig session; /* url, token or key/secret, ICE; room and identity are set
                                from the job and egress_id */
    guint start_timeout_ms;  /* 0: 20 s */
    guint64 duration_ms;     /* stop after this much recording → COMPLETE; 0: none */
    guint64 max_duration_ms; /* → LIMIT_REACHED; 0: none */
    guint drain_timeout_ms;  /* 0: 10 s */
    const char *output_dir;  /* relative output paths are resolved here; NULL: cwd */
    guint part;              /* > 1: a continued job's part N: "_partN" goes before the
                                output's extension ("room_part2.mp4"); 0 or 1: none */
} RrRecorderConfig;

typedef struct {
    /* Status moved (STARTING→ACTIVE→ENDING→final). */
    void (*status)(RrRecorder *r, const RrEgressInfo *info, gpointer user_data);
    /* Once, with a final status; the room has been left. */
    void (*finished)(RrRecorder *r, const RrEgressInfo *info, gpointer user_data);
    /* Optional: a segment, playlist or image was closed (complete on disk) — the hook for
     * uploads while recording (upload-live.h). */
    void (*file_closed)(RrRecorder *r, const char *path, RrOutputKind kind, gpointer user_data);
} RrRecorderCallbacks;

typedef struct {
    double elapsed_s;   /* since ACTIVE */
    guint64 bytes;      /* written to the output so far */
    guint participants; /* whose media is recorded */
    guint tracks;
} RrRecorderProgress;

RrRecorder *rr_recorder_new(GMainContext *context, const RrRecorderConfig *config,
                            const RrRecorderCallbacks *callbacks, gpointer user_data,
                            GError **error);
void rr_recorder_free(RrRecorder *r);

void rr_recorder_start(RrRecorder *r);
/* Stop recording, drain, finalise: COMPLETE (or ABORTED if it never started). */
void rr_recorder_stop(RrRecorder *r);
/* Stop without waiting for the drain: the file is closed as it is now (renamed, playable
 * up to its last fragment; the media counts as failed, "closed before the end of the
 * stream"), and `finished` follows within the room-leave grace (~0.3 s). For a stop that
 * must end in bounded time (a signal whose drain did not finish). */
void rr_recorder_stop_now(RrRecorder *r);

/* Change a composite's layout while recording (LiveKit template names). Fails for a
 * track egress, before the start, or for an unknown layout. */
gboolean rr_recorder_set_layout(RrRecorder *r, const char *layout, GError **error);
/* The output file being written (its final name), or NULL before it is known.
 * (transfer none) */
const char *rr_recorder_get_output_path(RrRecorder *r);

/* (transfer none) */
const RrEgressInfo *rr_recorder_get_info(RrRecorder *r);
/* The error behind a FAILED status (session or pipeline), or NULL. (transfer none) */
const GError *rr_recorder_get_error(RrRecorder *r);
void rr_recorder_get_progress(RrRecorder *r, RrRecorderProgress *progress);
/* The local address (transfer full) and transport of its media connection when that is a
 * direct one (rr_session_get_host_path); FALSE otherwise. */
gboolean rr_recorder_get_host_path(RrRecorder *r, char **address, gboolean *tcp);
/* Before rr_recorder_start(): gather only on this path (RrSessionConfig.path_address). */
void rr_recorder_set_path(RrRecorder *r, const char *address, gboolean tcp);

/* Whether @track is what a track-id string names: its sid or "IDENTITY/TRACKNAME". */
gboolean rr_recorder_track_matches(const RrTrack *track, const char *id);

/* (transfer full) The sids of @p's published tracks that @job records, NULL-terminated
 * (empty when none): what a recorder without auto-subscription subscribes to. */
char **rr_recorder_wanted_sids(const RrJobSpec *job, const RrParticipant *p);

/* (transfer full) Why nothing could be recorded, from the session's state: used as
 * the details of an ABORTED status. */
char *rr_recorder_explain_no_start(RrSession *session, const RrJobSpec *job,
                                   const char *own_identity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrRecorder, rr_recorder_free)

G_END_DECLS
