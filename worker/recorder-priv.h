/* worker/recorder-priv: RrRecorder's insides, shared by recorder.c (session, status,
 * timers), recorder-media.c (track egress) and recorder-composite.c (composites).
 * Same thread rules as recorder.h. */
#pragma once

#include "pipeline/composite.h"
#include "pipeline/track-egress.h"
#include "rtc/proto/livekit_rtc.pb-c.h"
#include "worker/recorder.h"

G_BEGIN_DECLS

struct RrRecorder {
    GMainContext *context;
    RrRecorderConfig config; /* strings point into the fields below */
    const RrJobSpec *job;
    char *egress_id;
    char *output_dir;
    RrRecorderCallbacks cbs;
    gpointer ud;
    RrSession *session;
    RrEgressInfo *info;
    GError *error;               /* behind a FAILED status */
    RrEgressStatus final_status; /* what rr_recorder_end() decided */
    gboolean active;             /* the start gate opened */
    gboolean stopping;           /* rr_recorder_end() ran */
    gboolean finished;           /* rr_recorder_finish() ran */
    gboolean left;
    gint64 active_since_us;
    guint start_timer, duration_timer, max_timer, finish_source;

    /* Media. */
    char *output_path;
    GError *start_error; /* the output cannot be created, or GStreamer elements the job
                          needs are not installed: FAILED at start, before joining */
    gboolean media_done; /* the pipeline's finished callback came (or there is none) */
    RrTrackEgress *egress;
    char *egress_sid;
    char *egress_codec;
    guint8 egress_pt;     /* the payload type the egress was made for */
    gint egress_pt_in;    /* after a rejoin: the track's new payload type, or -1 */
    gboolean egress_away; /* the track went with the media connection (a rejoin) */
    RrComposite *composite;
    GstClockTime comp_started_rt;  /* running time the composite's gate opened (or NONE) */
    GHashTable *comp_tracks;       /* track sid → RrRecCompTrack (recorder-composite.c) */
    GHashTable *comp_participants; /* participant sids added to the composite */
};

/* recorder.c */
void rr_recorder_end(RrRecorder *r, RrEgressStatus status, const GError *error,
                     const char *error_text, int code, const char *details);
void rr_recorder_finish(RrRecorder *r);
void rr_recorder_media_started(RrRecorder *r);
void rr_recorder_media_failed(RrRecorder *r, const GError *error);

/* recorder-media.c: dispatch to the pipeline in use. */
gboolean rr_recorder_media_init(RrRecorder *r, GError **error);
gboolean rr_recorder_media_start(RrRecorder *r, GError **error);
gboolean rr_recorder_media_add_track(RrRecorder *r, const RrTrack *t);
void rr_recorder_media_remove_track(RrRecorder *r, const RrTrack *t);
/* The session joined again after a rejoin (its participants are those of the new join). */
void rr_recorder_media_rejoined(RrRecorder *r);
void rr_recorder_media_mute(RrRecorder *r, const RrTrack *t);
void rr_recorder_media_participant(RrRecorder *r, const RrParticipant *p);
void rr_recorder_media_speakers(RrRecorder *r, const char *const *sids);
void rr_recorder_media_push_rtp(RrRecorder *r, const RrTrack *t, const guint8 *pkt, gsize len);
void rr_recorder_media_push_rtcp(RrRecorder *r, const RrTrack *t, const guint8 *pkt, gsize len);
/* Drain and finalise; TRUE when a finished callback will follow (then it calls
 * rr_recorder_finish), FALSE when there is nothing to wait for. */
gboolean rr_recorder_media_stop(RrRecorder *r, guint timeout_ms);
/* Close the file at once (the pipeline's stop_now); its finished callback runs inside. */
void rr_recorder_media_stop_now(RrRecorder *r);
void rr_recorder_media_progress(RrRecorder *r, RrRecorderProgress *p);
void rr_recorder_media_free(RrRecorder *r);

/* Helpers shared by the two pipelines (recorder-media.c). */
RrRecvTrackConfig rr_recorder_recv_config(const RrTrack *t);
void rr_recorder_template_vars(RrRecorder *r, const RrTrack *t, RrJobTemplateVars *vars);
/* @path made absolute under output_dir when relative, with its directory created and the
 * name taken (rr_job_reserve_output: a numbered name when the file exists). */
char *rr_recorder_place_output(RrRecorder *r, const char *path, GError **error);
void rr_recorder_file_done(RrRecorder *r, const char *path, gboolean complete, guint64 size,
                           GstClockTime duration, const GError *error);

/* recorder-composite.c */
gboolean rr_recorder_composite_init(RrRecorder *r, GError **error);
gboolean rr_recorder_composite_add_track(RrRecorder *r, const RrTrack *t);
void rr_recorder_composite_remove_track(RrRecorder *r, const RrTrack *t);
void rr_recorder_composite_mute(RrRecorder *r, const RrTrack *t);
void rr_recorder_composite_participant(RrRecorder *r, const RrParticipant *p);
gint rr_recorder_composite_index(RrRecorder *r, const RrTrack *t);
void rr_recorder_composite_rejoined(RrRecorder *r);

G_END_DECLS
