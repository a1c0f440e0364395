/* pipeline/composite-priv: the state shared by composite.c (pipeline, gates, lifecycle)
 * and composite-tracks.c (participants, track branches, name tiles, layout updates).
 * Private to pipeline/composite*.c. Threads and locks are described in composite.h's
 * DESIGN section; fields say which thread owns them.
 */
#pragma once

#include "pipeline/composite.h"
#include "pipeline/layout.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN(rr_composite_debug);

typedef struct RrCompParticipant RrCompParticipant;

/* Context thread only, unless noted. */
struct RrCompParticipant {
    char *id;
    char *name;
    gboolean removed;
    gint64 added_us;   /* monotonic time the participant was added */
    GstElement *tile;  /* name tile bin (NULL until needed) */
    GstPad *tile_pad;  /* (owned) its compositor pad */
    gboolean released; /* the tile's pad was released */
};

typedef struct {
    RrComposite *c;
    guint index;
    gint recv_index; /* -1: not recorded (audio in video_only, video in audio_only) */
    const RrCodec *codec;
    RrCompParticipant *participant;
    gboolean screen_share;
    gboolean muted;
    gboolean removed;
    gboolean released;   /* the branch was torn down */
    gint64 added_us;     /* monotonic time the track was added */
    GstElement *decoder; /* branch: recv src pad → decoder → queue → mixer pad */
    GstElement *queue;
    GstElement *sync;  /* video: clocksync between queue and decoder (NULL for audio) */
    GstPad *mixer_pad; /* (owned) compositor or audiomixer request pad */
    /* Under c->lock (the streaming probe reads them). */
    gboolean live;          /* video: frames flow since the last (un)mute */
    gboolean ever_live;     /* video: a frame was shown at least once */
    gboolean want_frame;    /* video: show once a frame at/after show_from passes */
    GstClockTime show_from; /* running time */
} RrCompTrack;

/* The gate in front of one encoder (see composite.h, "Start gate"). Streaming thread. */
typedef struct {
    RrComposite *c;
    gboolean video;
    GstElement *filter;   /* capsfilter: sink pad probe gates and retimes */
    gboolean offset_set;  /* the gate's segment was pushed */
    gboolean own_segment; /* pushing it now (lets it past the src pad probe) */
    gboolean eos_sent;    /* under c->lock */
} RrCompGate;

/* One pad's properties at a point of the output timeline. */
typedef struct {
    GstPad *pad; /* (owned) */
    gint x, y, width, height;
    gdouble alpha;
    guint zorder;
    gboolean mute;
    gboolean release; /* tear down once the output passes this point */
} RrCompPadState;

/* A full set of pad states, applied when the aggregator's output reaches @at. */
typedef struct {
    GstClockTime at;        /* running time */
    GArray *states;         /* RrCompPadState */
    const char *background; /* compositor background ("black"/"white"), NULL: audio */
} RrCompSnapshot;

typedef enum { STATE_NEW, STATE_RUNNING, STATE_STOPPING, STATE_DONE } RrCompState;

struct RrComposite {
    gatomicrefcount ref;
    GMainContext *context;
    RrCompositeCallbacks callbacks;
    gpointer user_data;
    gboolean closed; /* context thread: rr_composite_free() was called */

    /* Configuration (read-only after new). */
    char *path;
    char *temp_path;
    RrContainer container;
    gboolean has_video, has_audio;
    gboolean tile_text; /* textoverlay is installed: name tiles carry the name */
    RrEncodeSettings encode;
    RrAudioCodec audio_codec; /* resolved */
    guint audio_rate;         /* mixer and encoder rate */
    /* The audio encoder's delay (AAC priming, which MP4/Matroska files here do not
     * record): the audio gate opens this much later and the audio timeline starts there,
     * so that decoded audio lines up with the video. */
    GstClockTime audio_lead;
    guint latency_ms;
    guint fragment_ms;

    /* Context thread. */
    RrLayoutKind layout;
    RrLayoutTheme theme;
    char **speakers;
    GPtrArray *participants; /* RrCompParticipant, join order; removed ones stay */
    RrCompState state;
    guint stop_timeout_ms;
    GSource *bus_source;
    GSource *timeout_source;
    gboolean started_reported;
    guint name_tiles;     /* name tile bins created (for names) */
    gboolean grace_check; /* a layout update at the end of a camera's grace is queued */

    /* The graph (context thread builds and changes it). */
    RrRecv *recv;
    GstElement *pipeline;
    GstElement *compositor; /* NULL without video */
    GstElement *mixer;      /* NULL without audio */
    GstElement *sink;       /* filesink; NULL without a file */
    GstElement *venc_tee;   /* encoded video (NULL without video) */
    GstElement *aenc_tee;   /* encoded audio (NULL without audio) */
    GstElement *vraw_tee;   /* raw video for images (NULL without images) */
    gboolean has_file;
    RrSegmentsOutput *segments; /* NULL: none */
    RrImagesOutput *images;     /* NULL: none */
    guint outputs_pending;      /* context thread: outputs the end of stream has not reached */
    GError *output_error;       /* context thread: a playlist or image could not be written */
    RrCompGate vgate, agate;

    /* Shared with streaming threads. */
    GMutex lock;
    GPtrArray *tracks;        /* RrCompTrack; never shrinks (pushes look tracks up) */
    GstClockTime gate_time;   /* running time of the first media, on the output frame grid
                               * when there is video; NONE before */
    GstClockTime video_phase; /* running time of a compositor frame seen at the gate (its
                               * grid); NONE before the first */
    GstClockTime stop_time;   /* running time where the encoders end; NONE while running */
    GstClockTime last_end;    /* latest end of a buffer that passed a gate */
    guint64 video_frames;
    GQueue video_pending;  /* RrCompSnapshot for the compositor */
    GQueue audio_pending;  /* RrCompSnapshot for the audio mixer */
    GPtrArray *to_release; /* GstPad (owned) whose branches wait for teardown */
    gboolean release_queued;
};

/* composite.c */
RrComposite *rr_comp_ref(RrComposite *c);
void rr_comp_unref(RrComposite *c);
/* Pipeline running time now (0 before start). */
GstClockTime rr_comp_now(RrComposite *c);
/* The clocksync ts-offset that has a video frame decoded shortly before the
 * compositor's deadline for it (see track_branch). */
GstClockTime rr_comp_decode_offset(RrComposite *c);
GstClockTime rr_comp_snap_to_frame(RrComposite *c, GstClockTime rt);
/* Runs @func(c) on the context thread from any thread (never inline). */
void rr_comp_invoke(RrComposite *c, void (*func)(RrComposite *c, GstClockTime t), GstClockTime t);
/* The same, @delay_ms later (0: as soon as the context is idle). */
void rr_comp_invoke_after(RrComposite *c, void (*func)(RrComposite *c, GstClockTime t),
                          GstClockTime t, guint delay_ms);
GstElement *rr_comp_make(const char *factory, const char *name, GError **error);

/* composite-tracks.c */
/* Loads text rendering's fonts once per process, in the background (name tiles). */
void rr_comp_warm_up_text(void);
/* Recomputes the layout and mute states and queues them for output time @at. */
void rr_comp_schedule(RrComposite *c, GstClockTime at);
/* samples-selected handlers of the compositor and the audio mixer. */
void rr_comp_on_samples_selected(GstElement *agg, GstSegment *segment, guint64 pts, guint64 dts,
                                 guint64 duration, GstStructure *info, gpointer data);
void rr_comp_snapshot_free(gpointer data);
/* Frees participants' and tracks' memory (the pipeline is already in NULL). */
void rr_comp_participant_free(gpointer data);
void rr_comp_track_free(gpointer data);

G_END_DECLS
