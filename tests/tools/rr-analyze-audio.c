/* tests/tools/rr-analyze-audio: per-second tone shares, and flash/beep onsets and their
 * pairing, for rr-analyze (see rr-analyze.c). Runs on the main thread after decoding. */
#include "rr-analyze.h"

#include <math.h>
#include <stdlib.h>

/* |DFT|² of x[0..n) at bin k (Goertzel), x windowed by w (may be NULL). */
static double rr_an_goertzel(const float *x, const float *w, int n, double k)
{
    double coeff = 2 * cos(2 * G_PI * k / n), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s0 = x[i] * (w ? w[i] : 1.0f) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

void rr_an_audio_json(RrAn *an, JsonBuilder *b, const float *x, gsize n)
{
    RrAnAudio *a = &an->audio;
    json_builder_set_member_name(b, "audio");
    if (n == 0) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "samples");
    json_builder_add_int_value(b, (gint64)n);
    json_builder_set_member_name(b, "first_pts_ms");
    json_builder_add_int_value(b, rr_an_ms(a->t0));
    json_builder_set_member_name(b, "end_pts_ms");
    json_builder_add_int_value(b,
                               rr_an_ms(a->t0 + gst_util_uint64_scale(n, GST_SECOND, RR_AN_RATE)));
    json_builder_set_member_name(b, "gaps");
    json_builder_add_int_value(b, a->gaps);

    float win[RR_AN_TONE_BLOCK], win_short[RR_AN_TONE_BLOCK];
    for (int i = 0; i < RR_AN_TONE_BLOCK; i++)
        win[i] = (float)(0.5 - 0.5 * cos(2 * G_PI * i / (RR_AN_TONE_BLOCK - 1)));
    double sum_sq_all = 0;
    json_builder_set_member_name(b, "seconds");
    json_builder_begin_array(b);
    gsize i = 0;
    while (i < n) {
        GstClockTime t = a->t0 + gst_util_uint64_scale(i, GST_SECOND, RR_AN_RATE);
        gint64 sec = (gint64)(t / GST_SECOND);
        double sq = 0, tone_e[RR_AN_MAX_TONES] = {0}, tot_e = 0;
        guint blocks = 0;
        gsize start = i;
        /* whole 100 ms blocks whose start lies in this second */
        while (i < n && (gint64)((a->t0 + gst_util_uint64_scale(i, GST_SECOND, RR_AN_RATE)) /
                                 GST_SECOND) == sec) {
            gsize len = MIN((gsize)RR_AN_TONE_BLOCK, n - i);
            for (gsize j = 0; j < len; j++)
                sq += (double)x[i + j] * x[i + j];
            /* A short last block (≥ 20 ms) gets its own window: the last second counts. */
            if (len >= RR_AN_TONE_BLOCK / 5 && an->n_tones > 0) {
                const float *w = win;
                int bn = (int)len;
                if (bn != RR_AN_TONE_BLOCK) {
                    for (int j = 0; j < bn; j++)
                        win_short[j] = (float)(0.5 - 0.5 * cos(2 * G_PI * j / (bn - 1)));
                    w = win_short;
                }
                double e = 0;
                for (int j = 0; j < bn; j++) {
                    double y = x[i + j] * w[j];
                    e += y * y;
                }
                tot_e += e;
                blocks++;
                for (int k = 0; k < an->n_tones; k++) {
                    double bin = round(an->tones[k] * bn / RR_AN_RATE);
                    double p = 0;
                    for (int d = -1; d <= 1; d++)
                        p += rr_an_goertzel(x + i, w, bn, bin + d);
                    tone_e[k] += 2.0 * p / bn;
                }
            }
            i += len;
        }
        sum_sq_all += sq;
        double rms = sqrt(sq / (double)(i - start));
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "t");
        json_builder_add_int_value(b, sec);
        json_builder_set_member_name(b, "rms_db");
        json_builder_add_double_value(b, rr_an_round(rms > 1e-9 ? 20 * log10(rms) : -180, 0.1));
        if (an->n_tones > 0 && blocks > 0) { /* no "tones" for a last second < 20 ms */
            json_builder_set_member_name(b, "tones");
            json_builder_begin_object(b);
            for (int k = 0; k < an->n_tones; k++) {
                g_autofree char *key = g_strdup_printf("%g", an->tones[k]);
                json_builder_set_member_name(b, key);
                json_builder_add_double_value(
                    b, rr_an_round(tot_e > 1e-12 ? tone_e[k] / tot_e : 0, 0.001));
            }
            json_builder_end_object(b);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    double rms_all = sqrt(sum_sq_all / n);
    json_builder_set_member_name(b, "rms_db");
    json_builder_add_double_value(b, rr_an_round(rms_all > 1e-9 ? 20 * log10(rms_all) : -180, 0.1));
    json_builder_end_object(b);
}

/* ---------- flash/beep onsets ---------- */

/* Onsets of a level series (one value every step_ns from t0): the level crosses thr
 * upwards after ≥ RR_AN_QUIET_NS below it and stays above for min_run values (a beep,
 * not the click of another sound starting). Returns times in ns (+ shift_ns). */
static GArray *rr_an_onsets(const double *level, gsize n, GstClockTime t0, GstClockTime step_ns,
                            double thr, gint64 shift_ns, gsize min_run)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(gint64));
    gint64 last_above = G_MININT64;
    for (gsize i = 0; i < n; i++) {
        gint64 t = (gint64)(t0 + i * step_ns);
        if (level[i] < thr)
            continue;
        gsize run = 0;
        while (i + run < n && level[i + run] >= thr && run < min_run)
            run++;
        if (run < min_run)
            continue; /* too short: neither an onset nor "above" */
        if (i > 0 && level[i - 1] < thr &&
            (last_above == G_MININT64 || t - last_above > (gint64)RR_AN_QUIET_NS) &&
            t - (gint64)t0 > (gint64)RR_AN_QUIET_NS) {
            gint64 on = t + shift_ns;
            g_array_append_val(out, on);
        }
        last_above = t;
    }
    return out;
}

/* Video onsets of region r: frames are irregular, so walk them directly. */
static GArray *rr_an_video_onsets(RrAnVideo *v, int r, double thr)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(gint64));
    gint64 last_above = G_MININT64;
    GArray *fr = v->frames;
    for (guint i = 0; i < fr->len; i++) {
        const RrAnFrame *f = &g_array_index(fr, RrAnFrame, i);
        gint64 t = (gint64)f->pts;
        if (f->stats[(gsize)r * RR_AN_REGION_STATS] < thr)
            continue;
        gint64 first = (gint64)g_array_index(fr, RrAnFrame, 0).pts;
        const RrAnFrame *prev = i > 0 ? &g_array_index(fr, RrAnFrame, i - 1) : NULL;
        if (prev && prev->stats[(gsize)r * RR_AN_REGION_STATS] < thr &&
            (last_above == G_MININT64 || t - last_above > (gint64)RR_AN_QUIET_NS) &&
            t - first > (gint64)RR_AN_QUIET_NS)
            g_array_append_val(out, t);
        last_above = t;
    }
    return out;
}

/* Audio onsets: per 1 ms step, the level of the Hann-windowed 10 ms window starting there
 * (energy for the broadband series, amplitude for a tone), threshold half its largest
 * level held for RR_AN_ONSET_RUN steps (the length a beep must have: a shorter click,
 * however loud, neither counts as a beep nor sets the threshold for the beeps).
 * With a symmetric window a step onset reaches half the final level when it is at the
 * window's centre, so the onset is the crossing window's centre. tone_hz 0 = broadband. */
GArray *rr_an_audio_onsets(RrAnAudio *a, const float *x, gsize n, double tone_hz)
{
    if (n < RR_AN_ONSET_WIN)
        return g_array_new(FALSE, FALSE, sizeof(gint64));
    gsize steps = (n - RR_AN_ONSET_WIN) / RR_AN_ONSET_STEP + 1;
    g_autofree double *level = g_new(double, steps);
    float win[RR_AN_ONSET_WIN];
    double win_sum = 0;
    for (int i = 0; i < RR_AN_ONSET_WIN; i++) {
        win[i] = (float)(0.5 - 0.5 * cos(2 * G_PI * (i + 0.5) / RR_AN_ONSET_WIN));
        win_sum += win[i];
    }
    for (gsize s = 0; s < steps; s++) {
        const float *w = x + s * RR_AN_ONSET_STEP;
        double l = 0;
        if (tone_hz > 0) {
            /* amplitude of the tone: 2|X|/Σw (Hann: leakage from other tones is tiny) */
            double k = tone_hz * RR_AN_ONSET_WIN / RR_AN_RATE;
            l = 2 * sqrt(MAX(0, rr_an_goertzel(w, win, RR_AN_ONSET_WIN, k))) / win_sum;
        } else {
            for (int j = 0; j < RR_AN_ONSET_WIN; j++)
                l += (double)w[j] * w[j] * win[j];
        }
        level[s] = l;
    }
    double max = 0;
    for (gsize s = 0; s + RR_AN_ONSET_RUN <= steps; s++) {
        double held = level[s];
        for (gsize j = 1; j < RR_AN_ONSET_RUN; j++)
            held = MIN(held, level[s + j]);
        max = MAX(max, held);
    }
    /* A tone quieter than -46 dBFS (amplitude 0.005) is absent, not a beep. */
    if (tone_hz > 0 && max < 0.005)
        max = 0;
    if (max <= 1e-9)
        return g_array_new(FALSE, FALSE, sizeof(gint64));
    gint64 half_win = (gint64)gst_util_uint64_scale(RR_AN_ONSET_WIN / 2, GST_SECOND, RR_AN_RATE);
    return rr_an_onsets(level, steps, a->t0,
                        gst_util_uint64_scale(RR_AN_ONSET_STEP, GST_SECOND, RR_AN_RATE), max / 2,
                        half_win, RR_AN_ONSET_RUN);
}

static void rr_an_add_onsets(JsonBuilder *b, const char *name, GArray *on)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < on->len; i++)
        json_builder_add_int_value(b, llround(g_array_index(on, gint64, i) / 1e6));
    json_builder_end_array(b);
}

static void rr_an_add_match(JsonBuilder *b, const char *vname, GArray *von, const char *aname,
                            GArray *aon)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "video");
    json_builder_add_string_value(b, vname);
    json_builder_set_member_name(b, "audio");
    json_builder_add_string_value(b, aname);
    json_builder_set_member_name(b, "pairs");
    json_builder_begin_array(b);
    double sum = 0, max_abs = 0;
    guint count = 0;
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
        double off = best / 1e6;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "video_ms");
        json_builder_add_int_value(b, llround(tv / 1e6));
        json_builder_set_member_name(b, "offset_ms");
        json_builder_add_int_value(b, llround(off));
        json_builder_end_object(b);
        sum += off;
        max_abs = MAX(max_abs, fabs(off));
        count++;
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, count);
    json_builder_set_member_name(b, "mean_offset_ms");
    json_builder_add_int_value(b, count ? llround(sum / count) : 0);
    json_builder_set_member_name(b, "max_abs_offset_ms");
    json_builder_add_int_value(b, llround(max_abs));
    json_builder_end_object(b);
}

void rr_an_flash_json(RrAn *an, JsonBuilder *b, const float *x, gsize n)
{
    RrAnVideo *v = &an->video;
    int nv = v->frames->len > 0 ? v->n_regions : 0;
    GArray *von[RR_AN_MAX_REGIONS] = {0};
    GArray *aon[RR_AN_MAX_TONES + 1] = {0};
    char *anames[RR_AN_MAX_TONES + 1] = {0};
    for (int r = 0; r < nv; r++)
        von[r] = rr_an_video_onsets(v, r, an->flash_luma);
    aon[0] = rr_an_audio_onsets(&an->audio, x, n, 0);
    anames[0] = g_strdup("all");
    for (int k = 0; k < an->n_tones; k++) {
        aon[k + 1] = rr_an_audio_onsets(&an->audio, x, n, an->tones[k]);
        anames[k + 1] = g_strdup_printf("%g", an->tones[k]);
    }
    json_builder_set_member_name(b, "flash");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "video_onsets_ms");
    json_builder_begin_object(b);
    for (int r = 0; r < nv; r++)
        rr_an_add_onsets(b, v->regions[r].name, von[r]);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "audio_onsets_ms");
    json_builder_begin_object(b);
    for (int k = 0; k <= an->n_tones; k++)
        rr_an_add_onsets(b, anames[k], aon[k]);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "matches");
    json_builder_begin_array(b);
    for (int r = 0; r < nv; r++)
        for (int k = 0; k <= an->n_tones; k++)
            rr_an_add_match(b, v->regions[r].name, von[r], anames[k], aon[k]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    for (int r = 0; r < nv; r++)
        g_array_unref(von[r]);
    for (int k = 0; k <= an->n_tones; k++) {
        g_array_unref(aon[k]);
        g_free(anames[k]);
    }
}
