/* pipeline/composite: many received tracks decoded, laid out, mixed, encoded and written
 * to one file — room composite, track composite and participant egress.
 *
 *   RrRecv bin -src_N-> queue -> clocksync -> decoder -> compositor pad  (+ background, tiles)
 *   (one rtpbin,                   compositor -> [tee -> images] -> x264enc -> tee --+
 *    RTP timelines,
 *    lip sync)  -src_M-> queue -> opusdec -> audiomixer pad                          |
 *                                             audiomixer -> aac/opus -> tee ---------+
 *                     each encoded tee -> queue -> mux -> PATH.part, and -> segments (HLS)
 *
 * Outputs: one encoding is shared by the file (optional), HLS segments and JPEG images
 * (pipeline/outputs.h); the recording finishes when the end of the stream has reached
 * every output (the file written, the last segment closed and the playlists ended, the
 * last image written).
 *
 * The pipeline knows codecs, participants (an opaque id and a display name, to draw a
 * name tile), screen shares and layouts; not LiveKit. Live background sources keep the
 * output timeline continuous whatever the participants do: joins, leaves, mutes and layout
 * changes move tiles (compositor pad properties), never restart the encoder.
 *
 * Layouts (LiveKit template names; "-light"/"-dark" suffixes change the background):
 * - "grid": every visible participant in an equal tile, rows×cols chosen to fit.
 * - "speaker": the stage (active speaker, else the first participant) large, the others
 *   in a strip beside it.
 * - "single-speaker": only the stage participant, full frame.
 * A screen share takes the stage in every layout. A participant that has no video (or
 * whose video is muted) shows a tile with their name.
 *
 * Start gate: the file starts with the first decodable media of any track (first_media of
 * RrRecv); output before that is dropped and the file's timeline starts at 0 there.
 * Every track is timed by its RTP timeline (the sender's capture times, so a source at the
 * output rate fills every output frame once), and the tracks of one participant are lined
 * up from their sender reports (RrRecvTrackConfig.sync_group, pipeline/lipsync.h): the
 * participant's audio keeps its own timeline, the video is placed on it.
 *
 * DESIGN (details)
 *
 * - Output clock: the background sources are live (a 16x16 videotestsrc at the output
 *   rate, invisible at alpha 0 — the compositor's own background, black or white for
 *   -light, fills the frame — and audiotestsrc silence). The compositor and audiomixer
 *   are live aggregators with min-upstream-latency = jitterbuffer latency + 300 ms and
 *   latency 200 ms, and wait for every linked pad (ignore-inactive-pads=FALSE), so a
 *   track that joins late or whose packets wait for a retransmission is still in time.
 *   Each track's receive pad answers latency queries with the jitterbuffer latency (the
 *   depayloader is unlinked until rtpbin sees the stream, which would fail the query).
 * - Branches: video RrRecv src_N → queue → clocksync → vp8dec/vp9dec/avdec_h264 →
 *   compositor pad (the queue before the decoder: media waiting for the mixers' deadline
 *   waits encoded, and clocksync lets each frame on to be decoded 450 ms before that
 *   deadline — a compositor pad would otherwise hold up to a second of raw frames);
 *   the compositor scales and letterboxes (pad sizing-policy=keep-aspect-ratio) — no
 *   videoconvert/videoscale per track. Audio: queue → opusdec (PLC) → audiomixer pad;
 *   the mixer runs at 48 kHz (Opus' rate) and one audioresample after it feeds the
 *   encoder's rate. Name tiles: videotestsrc solid colour 320x180 at 5 fps → textoverlay
 *   → queue, created only for participants without visible video (plain, without
 *   textoverlay, when it is not installed: one warning at rr_composite_new()).
 * - Elements: rr_composite_new() fails with RR_PIPELINE_ERROR_MISSING_ELEMENT naming
 *   every missing element it needs (pipeline/elements.h), rr_composite_add_track() the
 *   track's depayloader, parser or decoder.
 * - Timed layout: every change (join, leave, mute, first frame of a track, speakers,
 *   set_layout) recomputes the whole layout (pipeline/layout.c) at the pipeline running
 *   time it happened and queues it as a snapshot of pad properties; the aggregators'
 *   "samples-selected" signal applies the newest due snapshot just before composing the
 *   output frame of that time. So a participant's last frames before a mute or leave
 *   are still shown, a tile appears with its first decoded frame (name tile until then),
 *   and the output timeline never pauses. Removed branches are torn down (drop probes,
 *   unlink, release the pad, NULL) on @context once the output has passed their removal.
 * - Gates: a capsfilter after each mixer drops output before the start gate (the running
 *   time of the first unit of any recorded track), clips the straddling buffer, rewrites
 *   timestamps to start at 0 in a segment of its own, and at rr_composite_stop() ends
 *   the stream with EOS once the output reaches the stop time, so audio and video end
 *   together. EOS at the filesink finishes the file.
 * - Encoders: x264enc speed-preset=veryfast tune=zerolatency, key-int-max = fps * key
 *   frame interval, profile through caps → h264parse; voaacenc (else avenc_aac) or
 *   opusenc. Muxers: mp4mux (fragmented), matroskamux (webmmux for Opus-only WebM),
 *   oggmux (audio-only Opus).
 *
 * Lifecycle: rr_composite_new() → rr_composite_start() → add participants/tracks, push
 * packets (any time, also while running) → rr_composite_stop() → finished callback
 * (exactly once; also on a pipeline error) → rr_composite_free().
 *
 * THREADS: everything except the push functions is called from the thread running
 * @context; pushes may come from any thread. Callbacks are delivered on @context.
 */
#pragma once

#include <gst/gst.h>

#include "pipeline/encode.h"
#include "pipeline/outputs.h"
#include "pipeline/recv.h"

G_BEGIN_DECLS

typedef struct RrComposite RrComposite;

typedef struct {
    const char *path;      /* final file path; written as "<path>.part" until finished; NULL:
                              no file (then segments or images must be given) */
    RrContainer container; /* must suit the media: OGG only with audio_only */
    gboolean audio_only;   /* no video branch at all */
    gboolean video_only;   /* no audio branch at all */
    const char *layout;    /* "grid" (default), "speaker", "single-speaker" (+ -light/-dark) */
    RrEncodeSettings encode;
    guint latency_ms;  /* jitterbuffer latency, 0: RR_RECV_DEFAULT_LATENCY_MS */
    guint fragment_ms; /* MP4 fragment duration, 0: 250 */
    /* (Added) Extra outputs of the same encoding (pipeline/outputs.h), NULL: none. HLS
     * segments need H.264 and AAC (the audio codec must resolve to AAC); the key frame
     * interval is shortened to divide the segment duration. Images need video. */
    const RrSegmentsConfig *segments;
    const RrImagesConfig *images;
} RrCompositeConfig;

/* One track of a participant. */
typedef struct {
    RrRecvTrackConfig rtp;
    const char *participant; /* opaque id (the participant sid); must be added first */
    gboolean screen_share;   /* a screen share (video) or its audio */
} RrCompositeTrack;

typedef struct {
    const char *path;      /* where the file is: the final path, or the .part on failure */
    gboolean complete;     /* EOS reached the file: the container is finalized */
    guint64 size;          /* bytes */
    GstClockTime duration; /* media time written */
    guint64 video_frames;  /* encoded video frames written */
    GstClockTime started;  /* pipeline running time of the start gate (NONE if never) */
    gboolean has_file;     /* FALSE: no file output (path is NULL, size 0) */
    gboolean has_segments, has_images;
    RrSegmentsResult segments; /* valid with has_segments */
    RrImagesResult images;     /* valid with has_images */
} RrCompositeResult;

typedef struct {
    /* An RTCP compound generated for @track's session, to protect and send. */
    void (*rtcp_out)(guint track, GBytes *packet, gpointer user_data);
    /* The start gate opened: the first decodable media of @track is in the file. */
    void (*started)(guint track, GstClockTime running_time, gpointer user_data);
    /* Called once: after rr_composite_stop() or a pipeline error. @error is NULL on a
     * clean finish. */
    void (*finished)(const RrCompositeResult *result, const GError *error, gpointer user_data);
    /* (Added) A file of the recording is closed and complete on disk: a segment, a
     * playlist rewritten after it, an image (as they close), the file (before finished).
     * The hook for uploads. May be NULL. */
    void (*file_closed)(const char *path, RrOutputKind kind, gpointer user_data);
} RrCompositeCallbacks;

/* Validates @config (copied) and builds the pipeline with its background sources, encoders
 * and muxer (not started). RR_PIPELINE_ERROR_* on a bad config, a missing element or a
 * missing output directory. */
RrComposite *rr_composite_new(const RrCompositeConfig *config, GMainContext *context,
                              const RrCompositeCallbacks *callbacks, gpointer user_data,
                              GError **error);
/* Stops the pipeline if still running (the .part file stays) and frees. No callbacks
 * after this returns. */
void rr_composite_free(RrComposite *c);

gboolean rr_composite_start(RrComposite *c, GError **error);
/* Finish the file: EOS, wait up to @timeout_ms (0: 10 s), finalize, rename; then the
 * finished callback. Returns whether the finished callback is still to come (running or
 * already stopping); FALSE when never started, or when a start failed or it finished. */
gboolean rr_composite_stop(RrComposite *c, guint timeout_ms);
/* Stop waiting for the end of the stream: the file is closed as it is now (renamed,
 * playable up to its last fragment) and the finished callback runs at once with a
 * RR_PIPELINE_ERROR_TIMEOUT, as when a stop times out. No-op unless running or stopping. */
void rr_composite_stop_now(RrComposite *c);

/* Participants, in join order (grid order). Adding a known id updates its name. Every
 * participant added gets a tile (its camera, else its name). */
void rr_composite_add_participant(RrComposite *c, const char *id, const char *name);
/* Removes the participant's tile and ends its tracks. */
void rr_composite_remove_participant(RrComposite *c, const char *id);
/* Adds a track and returns its index, or -1 with RR_PIPELINE_ERROR_*. Video tracks are
 * ignored for audio_only (and audio for video_only): they still get an index and their
 * packets are accepted and dropped. */
gint rr_composite_add_track(RrComposite *c, const RrCompositeTrack *track, GError **error);
/* The track was unpublished: its tile goes (the participant's name tile may return). */
void rr_composite_remove_track(RrComposite *c, guint track);
/* A muted video track shows the name tile; a muted audio track is silent. */
void rr_composite_set_track_muted(RrComposite *c, guint track, gboolean muted);
/* Active speakers, loudest first (participant ids, NULL-terminated; NULL = none). */
void rr_composite_set_speakers(RrComposite *c, const char *const *ids);
/* Change the layout while recording. RR_PIPELINE_ERROR_INVALID_INPUT for an unknown name. */
gboolean rr_composite_set_layout(RrComposite *c, const char *layout, GError **error);

/* Any thread. See rr_recv_push_rtp(). Packets of unrecorded tracks (audio in
 * video_only, video in audio_only) and of removed tracks are accepted and dropped. */
gboolean rr_composite_push_rtp(RrComposite *c, guint track, const guint8 *data, gsize len,
                               GError **error);
gboolean rr_composite_push_rtcp(RrComposite *c, guint track, const guint8 *data, gsize len,
                                GError **error);
void rr_composite_request_keyframe(RrComposite *c, guint track);

/* (transfer none) the receive side, for statistics. */
RrRecv *rr_composite_get_recv(RrComposite *c);
/* Bytes written so far (for progress), and whether the start gate has opened. */
guint64 rr_composite_get_bytes_written(RrComposite *c);
gboolean rr_composite_is_started(RrComposite *c);
/* (Added) The pipeline's running time now (0 before start): the clock of the timed
 * layout changes and of RrCompositeResult.started; a change made at running time T shows
 * in the file at T - started. */
GstClockTime rr_composite_get_running_time(RrComposite *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrComposite, rr_composite_free)

G_END_DECLS
