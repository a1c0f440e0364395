/* tests/tools/rr-analyze.h: the state shared by rr-analyze's files (rr-analyze.c:
 * arguments, decoding, discovery, video; rr-analyze-audio.c: tones, flash/beep onsets).
 * See rr-analyze.c for what the tool does. */
#pragma once

#include <glib.h>
#include <gst/gst.h>
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

typedef struct {
    /* options */
    int grid_rows, grid_cols;
    double tones[RR_AN_MAX_TONES];
    int n_tones;
    gboolean flash;
    double flash_luma;
    int timeout_s;
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
