/* tests/tools/rr-analyze-sync.c: rr-analyze --sync, the per-participant lip-sync and
 * frame-exactness figures of a recording of the test room's flashing, frame-counting
 * publishers (tests/testroom: tracks with "flash" and "counter").
 *
 * Each --sync NAME:TONE[:TILES] names a participant, the tone of its beeps and the
 * candidate tiles (x,y,w,h fractions of the frame, separated by '/'; default the whole
 * frame) its picture may occupy (a composite's layout changes when someone joins). The
 * picture is fitted inside a tile keeping --sync-aspect (letterboxed as the compositor
 * does). Per decoded frame the first candidate whose bar code reads cleanly (guards,
 * parity, every cell clearly black or white) gives the frame's source frame number and
 * the mean luma of the picture's band from 30 % to 60 % of its height (the flash).
 *
 * Per participant: flash onsets (the band reaches --flash-luma after ≥ 300 ms below it,
 * readable frames only), beep onsets of its tone (rr_an_audio_onsets), every flash
 * paired with the nearest beep within 500 ms (offset = beep − flash, whole ms), the offsets'
 * mean/min/max, their drift (least-squares slope against the flash time, ms per
 * minute, and what it adds up to over the flashes' span), and the frame numbers seen in output
 * order: duplicated (the same number again), missing (numbers skipped), backwards, unreadable
 * frames after the first readable one (before_first: the output frames before it), and (missing +
 * duplicated) as a percentage of the source frames spanned. Frames and audio are analysed after the
 * decode; rr_an_sync_frame runs on the video streaming thread.
 */
#include "rr-analyze.h"

#include <stdio.h>
#include <string.h>

#define RR_AN_COUNTER_BITS  16
#define RR_AN_COUNTER_CELLS (RR_AN_COUNTER_BITS + 4)
#define RR_AN_COUNTER_Y0    0.70
#define RR_AN_COUNTER_Y1    0.80
#define RR_AN_CELL_HIGH     160 /* a white cell's mean luma is above, a black one's below: */
#define RR_AN_CELL_LOW      90
#define RR_AN_MAX_EVENTS    200

static gboolean rr_an_parse_tile(const char *s, double v[4])
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    if (g_strv_length(parts) != 4)
        return FALSE;
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        v[i] = g_ascii_strtod(parts[i], &end);
        if (end == parts[i] || *end != '\0' || !isfinite(v[i]))
            return FALSE;
    }
    return v[0] >= 0 && v[1] >= 0 && v[2] > 0 && v[3] > 0 && v[0] + v[2] <= 1.0001 &&
           v[1] + v[3] <= 1.0001;
}

gboolean rr_an_parse_sync(RrAn *an, const char *spec, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ":", 3);
    guint np = g_strv_length(parts);
    double tone = 0;
    char *end = NULL;
    if (np >= 2)
        tone = g_ascii_strtod(parts[1], &end);
    if (np < 2 || !*parts[0] || end == parts[1] || *end != '\0' || !(tone >= 20 && tone <= 20000)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--sync wants NAME:TONE[:x,y,w,h[/x,y,w,h...]] with a tone in 20..20000 Hz, "
                    "got \"%s\"",
                    spec);
        return FALSE;
    }
    if (an->n_sync >= RR_AN_MAX_SYNC) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--sync: at most %d",
                    RR_AN_MAX_SYNC);
        return FALSE;
    }
    RrAnSync *p = &an->sync[an->n_sync];
    memset(p, 0, sizeof *p);
    if (np == 3) {
        g_auto(GStrv) tiles = g_strsplit(parts[2], "/", -1);
        for (int i = 0; tiles[i]; i++) {
            if (p->n_tiles >= RR_AN_MAX_TILES ||
                !rr_an_parse_tile(tiles[i], p->tiles[p->n_tiles])) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--sync %s: tile \"%s\" is not x,y,w,h fractions inside [0,1] (at "
                            "most %d tiles)",
                            parts[0], tiles[i], RR_AN_MAX_TILES);
                return FALSE;
            }
            p->n_tiles++;
        }
    } else {
        p->tiles[0][2] = p->tiles[0][3] = 1;
        p->n_tiles = 1;
    }
    p->name = g_strdup(parts[0]);
    p->tone = tone;
    p->frames = g_array_new(FALSE, FALSE, sizeof(RrAnSyncFrame));
    an->n_sync++;
    return TRUE;
}

void rr_an_sync_free(RrAn *an)
{
    for (int i = 0; i < an->n_sync; i++) {
        g_free(an->sync[i].name);
        g_clear_pointer(&an->sync[i].frames, g_array_unref);
    }
    an->n_sync = 0;
}

/* Mean luma of rows [y0, y1) × columns [x0, x1) (every other pixel). */
static double rr_an_mean_luma(const guint8 *y, int stride, int x0, int x1, int y0, int y1)
{
    double s = 0;
    guint n = 0;
    for (int r = y0; r < y1; r++)
        for (int c = x0; c < x1; c += 2, n++)
            s += y[(gsize)r * stride + c];
    return n ? s / n : NAN;
}

/* Reads the bar code of the picture at (px, py, pw, ph): the frame number or -1. */
static gint32 rr_an_read_counter(const guint8 *y, int stride, int px, int py, int pw, int ph)
{
    int y0 = py + (int)(ph * (RR_AN_COUNTER_Y0 + 0.02)),
        y1 = py + (int)(ph * (RR_AN_COUNTER_Y1 - 0.02));
    if (y1 <= y0 || pw < RR_AN_COUNTER_CELLS * 4)
        return -1;
    gboolean cell[RR_AN_COUNTER_CELLS];
    for (int c = 0; c < RR_AN_COUNTER_CELLS; c++) {
        /* the middle half of the cell */
        int x0 = px + pw * (4 * c + 1) / (4 * RR_AN_COUNTER_CELLS);
        int x1 = px + pw * (4 * c + 3) / (4 * RR_AN_COUNTER_CELLS);
        double m = rr_an_mean_luma(y, stride, x0, MAX(x1, x0 + 1), y0, y1);
        if (m >= RR_AN_CELL_HIGH)
            cell[c] = TRUE;
        else if (m <= RR_AN_CELL_LOW)
            cell[c] = FALSE;
        else
            return -1;
    }
    if (!cell[0] || cell[1] || !cell[RR_AN_COUNTER_CELLS - 1])
        return -1;
    guint32 gray = 0, parity = 0;
    for (int b = 0; b < RR_AN_COUNTER_BITS; b++) {
        gray = gray << 1 | (guint32)cell[2 + b];
        parity ^= (guint32)cell[2 + b];
    }
    if (parity != (guint32)cell[RR_AN_COUNTER_CELLS - 2])
        return -1;
    guint32 n = gray;
    for (guint32 s = gray >> 1; s; s >>= 1)
        n ^= s;
    return (gint32)n;
}

void rr_an_sync_frame(RrAn *an, const GstVideoFrame *f, GstClockTime pts)
{
    const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA(f, 0);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(f, 0);
    int fw = GST_VIDEO_FRAME_WIDTH(f), fh = GST_VIDEO_FRAME_HEIGHT(f);
    for (int i = 0; i < an->n_sync; i++) {
        RrAnSync *p = &an->sync[i];
        RrAnSyncFrame sf = {(gint64)pts, -1, -1, NAN};
        for (int t = 0; t < p->n_tiles && sf.counter < 0; t++) {
            const double *tl = p->tiles[t];
            double tx = tl[0] * fw, ty = tl[1] * fh, tw = tl[2] * fw, th = tl[3] * fh;
            double pw = tw, ph = th;
            if (tw / th > an->sync_aspect)
                pw = th * an->sync_aspect;
            else
                ph = tw / an->sync_aspect;
            int px = (int)lround(tx + (tw - pw) / 2), py = (int)lround(ty + (th - ph) / 2);
            int ipw = MIN((int)lround(pw), fw - px), iph = MIN((int)lround(ph), fh - py);
            gint32 n = rr_an_read_counter(y, stride, px, py, ipw, iph);
            if (n < 0)
                continue;
            sf.counter = n;
            sf.tile = (gint8)t;
            sf.luma = (float)rr_an_mean_luma(y, stride, px, px + ipw, py + (int)(iph * 0.30),
                                             py + (int)(iph * 0.60));
        }
        g_array_append_val(p->frames, sf);
    }
}

static gint64 rr_an_ms_i(gint64 ns)
{
    return llround(ns / 1e6);
}

/* Flash onsets among the readable frames. */
static GArray *rr_an_sync_flashes(const RrAnSync *p, double thr)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(gint64));
    gint64 first = G_MININT64, last_above = G_MININT64;
    gboolean prev_below = FALSE;
    for (guint i = 0; i < p->frames->len; i++) {
        const RrAnSyncFrame *f = &g_array_index(p->frames, RrAnSyncFrame, i);
        if (f->counter < 0)
            continue;
        if (first == G_MININT64)
            first = f->pts;
        if (f->luma < thr) {
            prev_below = TRUE;
            continue;
        }
        if (prev_below &&
            (last_above == G_MININT64 || f->pts - last_above > (gint64)RR_AN_QUIET_NS) &&
            f->pts - first > (gint64)RR_AN_QUIET_NS)
            g_array_append_val(out, f->pts);
        last_above = f->pts;
        prev_below = FALSE;
    }
    return out;
}

static void rr_an_sync_pairs(JsonBuilder *b, GArray *von, GArray *aon)
{
    double sum = 0, mn = 0, mx = 0, st = 0, so = 0, stt = 0, sto = 0;
    guint count = 0;
    json_builder_set_member_name(b, "pairs");
    json_builder_begin_array(b);
    for (guint i = 0; i < von->len; i++) {
        gint64 tv = g_array_index(von, gint64, i);
        gint64 best = G_MAXINT64;
        for (guint j = 0; j < aon->len; j++) {
            gint64 d = g_array_index(aon, gint64, j) - tv;
            if (llabs(d) < llabs(best))
                best = d;
        }
        if (best == G_MAXINT64 || llabs(best) > (gint64)RR_AN_PAIR_WINDOW)
            continue;
        double off = best / 1e6, t = tv / 6e10; /* minutes */
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "video_ms");
        json_builder_add_int_value(b, rr_an_ms_i(tv));
        json_builder_set_member_name(b, "audio_ms");
        json_builder_add_int_value(b, rr_an_ms_i(tv + best));
        json_builder_set_member_name(b, "offset_ms");
        json_builder_add_int_value(b, llround(off));
        json_builder_end_object(b);
        mn = count ? MIN(mn, off) : off;
        mx = count ? MAX(mx, off) : off;
        sum += off, st += t, so += off, stt += t * t, sto += t * off;
        count++;
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, count);
    json_builder_set_member_name(b, "unpaired_flashes");
    json_builder_add_int_value(b, von->len - count);
    json_builder_set_member_name(b, "mean_offset_ms");
    json_builder_add_int_value(b, count ? llround(sum / count) : 0);
    json_builder_set_member_name(b, "min_offset_ms");
    json_builder_add_int_value(b, llround(mn));
    json_builder_set_member_name(b, "max_offset_ms");
    json_builder_add_int_value(b, llround(mx));
    json_builder_set_member_name(b, "max_abs_offset_ms");
    json_builder_add_int_value(b, llround(MAX(fabs(mn), fabs(mx))));
    /* Drift: least-squares slope of the offsets against time, from ≥ 3 pairs over ≥ 4 s. */
    double den = count * stt - st * st;
    double span = 0;
    if (count >= 2) {
        gint64 a = G_MAXINT64, z = G_MININT64;
        for (guint i = 0; i < von->len; i++) {
            a = MIN(a, g_array_index(von, gint64, i));
            z = MAX(z, g_array_index(von, gint64, i));
        }
        span = (z - a) / 1e9;
    }
    gboolean fit = count >= 3 && span >= 4 && den > 0;
    double slope = fit ? (count * sto - st * so) / den : 0;
    json_builder_set_member_name(b, "drift_ms_per_min");
    if (fit)
        json_builder_add_double_value(b, rr_an_round(slope, 0.01));
    else
        json_builder_add_null_value(b);
    /* What that drift adds up to over the flashes' span: a short recording's ms/min is
     * mostly the offsets' resolution (about a ms) over its few seconds. */
    json_builder_set_member_name(b, "drift_over_span_ms");
    if (fit)
        json_builder_add_double_value(b, rr_an_round(slope * span / 60, 0.01));
    else
        json_builder_add_null_value(b);
}

/* One "events" entry: at output time pts, the frame number went from prev to counter
 * with `unreadable` unreadable frames between. */
static void rr_an_sync_event(JsonBuilder *b, guint *n_events, gint64 pts, gint32 prev,
                             gint32 counter, guint unreadable)
{
    if (++*n_events > RR_AN_MAX_EVENTS)
        return;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ms");
    json_builder_add_int_value(b, rr_an_ms_i(pts));
    json_builder_set_member_name(b, "from");
    json_builder_add_int_value(b, prev);
    json_builder_set_member_name(b, "to");
    json_builder_add_int_value(b, counter);
    json_builder_set_member_name(b, "unreadable_between");
    json_builder_add_int_value(b, unreadable);
    json_builder_end_object(b);
}

static void rr_an_sync_frames_json(JsonBuilder *b, const RrAnSync *p)
{
    /* The irregular steps (not +1 per output frame) as "events", at most RR_AN_MAX_EVENTS. */
    g_autoptr(JsonBuilder) ev = json_builder_new();
    guint n_events = 0;
    json_builder_begin_array(ev);
    guint readable = 0, unreadable = 0, before = 0, dup = 0, missing = 0, backwards = 0,
          between = 0;
    gint32 first = -1, last = -1;
    gint64 first_pts = 0, last_pts = 0;
    guint tile_use[RR_AN_MAX_TILES] = {0};
    for (guint i = 0; i < p->frames->len; i++) {
        const RrAnSyncFrame *f = &g_array_index(p->frames, RrAnSyncFrame, i);
        if (f->counter < 0) {
            if (first >= 0)
                between++, unreadable++; /* after the first readable frame */
            else
                before++; /* the participant is not (yet) in the picture */
            continue;
        }
        tile_use[f->tile]++;
        if (first < 0) {
            first = f->counter, first_pts = f->pts;
        } else {
            gint64 d = (gint64)f->counter - last;
            if (d != 1 || between > 0)
                rr_an_sync_event(ev, &n_events, f->pts, last, f->counter, between);
            /* `between` unreadable output frames stood for d - 1 source frames */
            if (d < 0)
                backwards++;
            else if (d == 0)
                dup++;
            else if (d - 1 > (gint64)between)
                missing += (guint)(d - 1 - between);
            else if (d - 1 < (gint64)between)
                dup += (guint)(between - (d - 1));
        }
        between = 0;
        last = f->counter, last_pts = f->pts;
        readable++;
    }
    json_builder_set_member_name(b, "frames");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "output_frames");
    json_builder_add_int_value(b, p->frames->len);
    json_builder_set_member_name(b, "readable");
    json_builder_add_int_value(b, readable);
    json_builder_set_member_name(b, "unreadable");
    json_builder_add_int_value(b, unreadable);
    json_builder_set_member_name(b, "before_first");
    json_builder_add_int_value(b, before);
    json_builder_set_member_name(b, "first_counter");
    json_builder_add_int_value(b, first);
    json_builder_set_member_name(b, "last_counter");
    json_builder_add_int_value(b, last);
    json_builder_set_member_name(b, "first_ms");
    json_builder_add_int_value(b, rr_an_ms_i(first_pts));
    json_builder_set_member_name(b, "last_ms");
    json_builder_add_int_value(b, rr_an_ms_i(last_pts));
    gint64 spanned = first >= 0 ? (gint64)last - first + 1 : 0;
    json_builder_set_member_name(b, "source_frames_spanned");
    json_builder_add_int_value(b, spanned);
    json_builder_set_member_name(b, "missing");
    json_builder_add_int_value(b, missing);
    json_builder_set_member_name(b, "duplicated");
    json_builder_add_int_value(b, dup);
    json_builder_set_member_name(b, "backwards");
    json_builder_add_int_value(b, backwards);
    json_builder_set_member_name(b, "missing_duplicated_percent");
    json_builder_add_double_value(
        b, spanned > 0 ? rr_an_round(100.0 * (missing + dup) / (double)spanned, 0.001) : 0);
    json_builder_set_member_name(b, "source_fps");
    json_builder_add_double_value(
        b, last_pts > first_pts
               ? rr_an_round((last - first) / ((last_pts - first_pts) / 1e9), 0.001)
               : 0);
    json_builder_end_array(ev);
    json_builder_set_member_name(b, "events");
    json_builder_add_value(b, json_builder_get_root(ev));
    json_builder_set_member_name(b, "events_total");
    json_builder_add_int_value(b, n_events);
    json_builder_set_member_name(b, "tile_frames");
    json_builder_begin_array(b);
    for (int t = 0; t < p->n_tiles; t++)
        json_builder_add_int_value(b, tile_use[t]);
    json_builder_end_array(b);
    json_builder_end_object(b);
}

void rr_an_sync_json(RrAn *an, JsonBuilder *b, const float *x, gsize n)
{
    json_builder_set_member_name(b, "sync");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "participants");
    json_builder_begin_array(b);
    for (int i = 0; i < an->n_sync; i++) {
        RrAnSync *p = &an->sync[i];
        g_autoptr(GArray) von = rr_an_sync_flashes(p, an->flash_luma);
        g_autoptr(GArray) aon = rr_an_audio_onsets(&an->audio, x, n, p->tone);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, p->name);
        json_builder_set_member_name(b, "tone");
        json_builder_add_double_value(b, p->tone);
        json_builder_set_member_name(b, "flashes_ms");
        json_builder_begin_array(b);
        for (guint k = 0; k < von->len; k++)
            json_builder_add_int_value(b, rr_an_ms_i(g_array_index(von, gint64, k)));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "beeps_ms");
        json_builder_begin_array(b);
        for (guint k = 0; k < aon->len; k++)
            json_builder_add_int_value(b, rr_an_ms_i(g_array_index(aon, gint64, k)));
        json_builder_end_array(b);
        rr_an_sync_pairs(b, von, aon);
        rr_an_sync_frames_json(b, p);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}
