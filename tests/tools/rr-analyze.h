/* tests/tools/rr-analyze.h: the state shared by rr-analyze's files (rr-analyze.c:
 * arguments, decoding, discovery, video; rr-analyze-audio.c: tones, flash/beep onsets).
 * See rr-analyze.c for what the tool does. */
#pragma once

#include <glib.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>

#define RR_AN_RATE         48000
#define RR_AN_TONE_BLOCK   4800 /* 100 ms */
#define RR_AN_ONSET_WIN    480  /* 10 ms */
#define RR_AN_ONSET_STEP   48   /* 1 ms */
#define RR_AN_ONSET_RUN    25   /* steps a beep stays above the threshold (25 ms) */
#define RR_AN_QUIET_NS     (300 * GST_MSECOND)
#define RR_AN_PAIR_WINDOW  (500 * GST_MSECOND)
#define RR_AN_MAX_REGIONS  64
#define RR_AN_MAX_TONES    16
#define RR_AN_REGION_STATS 4 /* y, u, v, motion */

typedef struct {
    char *name;
    double x, y, w, h;  /* fractions of the frame */
    int px, py, pw, ph; /* pixels in the analysis frame */
} RrAnRegion;

typedef struct {
    GstClockTime pts;
    double *stats; /* n_regions × RR_AN_REGION_STATS */
} RrAnFrame;

typedef struct {
    RrAnRegion regions[RR_AN_MAX_REGIONS];
    int n_regions; /* the last one is always "frame" (the whole picture) */
    int width, height;
    GArray *frames; /* RrAnFrame */
    guint8 *prev_y;
    gboolean have_prev;
    GstClockTime max_gap;
    guint non_monotonic;
} RrAnVideo;

typedef struct {
    GArray *samples; /* gint16, one timeline from t0 (gaps filled with silence) */
    GstClockTime t0;
    gboolean have_t0;
    guint gaps;
    GstClockTime last_end;
} RrAnAudio;

/* --sync: one participant's flash tone and candidate tiles (see rr-analyze-sync.c). */
#define RR_AN_MAX_SYNC  8
#define RR_AN_MAX_TILES 8

typedef struct {
    gint64 pts;
    gint32 counter; /* the frame number read from the bar code, -1 when unreadable */
    gint8 tile;     /* the candidate tile it was read in, -1 */
    float luma;     /* mean luma of the picture's flash band (NAN when unreadable) */
} RrAnSyncFrame;

typedef struct {
    char *name;
    double tone;
    double tiles[RR_AN_MAX_TILES][4]; /* x, y, w, h fractions of the frame */
    int n_tiles;
    GArray *frames; /* RrAnSyncFrame */
} RrAnSync;

typedef struct {
    /* options */
    int grid_rows, grid_cols;
    double tones[RR_AN_MAX_TONES];
    int n_tones;
    gboolean flash;
    double flash_luma;
    int timeout_s;
    RrAnSync sync[RR_AN_MAX_SYNC];
    int n_sync;
    double sync_aspect; /* the participants' picture aspect (w / h) inside their tiles */
    /* state */
    GstElement *pipeline;
    gboolean video_linked, audio_linked;
    RrAnVideo video;
    RrAnAudio audio;
    JsonBuilder *errors_b;
    JsonBuilder *warnings_b;
    guint n_errors, n_warnings;
    char *first_error;
} RrAn;

static inline /* Milliseconds, rounded (JSON doubles print with 17 digits). */
    gint64
    rr_an_ms(GstClockTime t)
{
    return GST_CLOCK_TIME_IS_VALID(t) ? (gint64)((t + GST_MSECOND / 2) / GST_MSECOND) : -1;
}

static inline double rr_an_round(double v, double unit)
{
    return round(v / unit) * unit;
}

/* rr-analyze-audio.c: the "audio" and "flash" members; x: the decoded audio (n samples,
 * mono 48 kHz, [-1, 1)). */
void rr_an_audio_json(RrAn *an, JsonBuilder *b, const float *x, gsize n);
void rr_an_flash_json(RrAn *an, JsonBuilder *b, const float *x, gsize n);
/* Audio onsets (ns) of a tone (tone_hz 0: broadband) in the decoded audio. */
GArray *rr_an_audio_onsets(RrAnAudio *a, const float *x, gsize n, double tone_hz);

/* rr-analyze-sync.c: --sync NAME:TONE[:x,y,w,h[/x,y,w,h...]] (a participant, its beep tone
 * and the candidate tiles its picture may be in; default the whole frame), the per-frame
 * reading of each participant's bar code and flash band (from the video streaming
 * thread), and the "sync" member. */
gboolean rr_an_parse_sync(RrAn *an, const char *spec, GError **error);
void rr_an_sync_frame(RrAn *an, const GstVideoFrame *f, GstClockTime pts);
void rr_an_sync_json(RrAn *an, JsonBuilder *b, const float *x, gsize n);
void rr_an_sync_free(RrAn *an);
