/* pipeline/lipsync: see lipsync.h. */
#include "pipeline/lipsync.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(rr_lipsync_debug);
#define GST_CAT_DEFAULT rr_lipsync_debug

/* Outliers: residuals further than this many (scaled) median absolute deviations from
 * the median residual, and never closer than OUTLIER_MIN_NS. */
#define OUTLIER_MADS   4.0
#define MAD_TO_SIGMA   1.4826
#define OUTLIER_MIN_NS 5e6
/* The estimated clock rate stays within this fraction of the nominal rate. */
#define MAX_RATE_ERROR 0.005

/* ---- the fit ---- */

void rr_sr_fit_init(RrSrFit *fit, guint clock_rate)
{
    memset(fit, 0, sizeof *fit);
    fit->rate = clock_rate ? clock_rate : 90000;
}

static int cmp_double(const void *a, const void *b)
{
    gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;
    return x < y ? -1 : x > y;
}

static gdouble median(const gdouble *v, guint n)
{
    gdouble s[RR_SR_FIT_WINDOW];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ntp = a + b x over the points with in[i]: least squares when @slope, else b = @b0. */
static void solve(const gdouble *x, const gdouble *y, const gboolean *in, guint n, gdouble b0,
                  gboolean slope, gdouble *a, gdouble *b)
{
    gdouble mx = 0, my = 0;
    guint m = 0;
    for (guint i = 0; i < n; i++) {
        if (in[i]) {
            mx += x[i];
            my += y[i];
            m++;
        }
    }
    mx /= m;
    my /= m;
    *b = b0;
    if (slope && m >= 3) {
        gdouble sxx = 0, sxy = 0;
        for (guint i = 0; i < n; i++) {
            if (in[i]) {
                sxx += (x[i] - mx) * (x[i] - mx);
                sxy += (x[i] - mx) * (y[i] - my);
            }
        }
        if (sxx > 0 && fabs(sxy / sxx / b0 - 1) <= MAX_RATE_ERROR)
            *b = sxy / sxx;
    }
    *a = my - *b * mx;
}

void rr_sr_fit_add(RrSrFit *fit, guint32 rtp, gint64 ntp_ns)
{
    fit->rtp[fit->head] = rtp;
    fit->ntp[fit->head] = ntp_ns;
    fit->head = (fit->head + 1) % RR_SR_FIT_WINDOW;
    if (fit->n < RR_SR_FIT_WINDOW)
        fit->n++;
    guint n = fit->n;
    gdouble b0 = (gdouble)GST_SECOND / fit->rate;
    gdouble x[RR_SR_FIT_WINDOW], y[RR_SR_FIT_WINDOW], r[RR_SR_FIT_WINDOW], d[RR_SR_FIT_WINDOW];
    gboolean in[RR_SR_FIT_WINDOW];
    gdouble xmin = 0, xmax = 0;
    for (guint i = 0; i < n; i++) {
        x[i] = (gdouble)(gint32)(fit->rtp[i] - rtp);
        y[i] = (gdouble)fit->ntp[i];
        xmin = MIN(xmin, x[i]);
        xmax = MAX(xmax, x[i]);
    }
    /* Robust start: the nominal rate, the median offset; then the outliers out. */
    for (guint i = 0; i < n; i++)
        r[i] = y[i] - b0 * x[i];
    gdouble med = median(r, n);
    for (guint i = 0; i < n; i++)
        d[i] = fabs(r[i] - med);
    gdouble limit = MAX(OUTLIER_MADS * MAD_TO_SIGMA * median(d, n), OUTLIER_MIN_NS);
    guint inliers = 0;
    for (guint i = 0; i < n; i++)
        inliers += (in[i] = d[i] <= limit);
    gboolean slope = (xmax - xmin) * b0 >= (gdouble)RR_SR_FIT_MIN_SPAN;
    gdouble a, b;
    solve(x, y, in, n, b0, slope, &a, &b);
    gdouble ss = 0;
    for (guint i = 0; i < n; i++) {
        if (in[i])
            ss += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
    }
    fit->valid = TRUE;
    fit->rtp0 = rtp;
    fit->a = a;
    fit->b = b;
    fit->inliers = inliers;
    /* The uncertainty of the fit's offset: the reports' scatter over sqrt(reports). */
    fit->error = inliers > 1 ? sqrt(ss / (inliers - 1) / inliers) : 0;
}

gboolean rr_sr_fit_ntp(const RrSrFit *fit, guint32 rtp, gdouble *ntp_ns)
{
    if (!fit->valid)
        return FALSE;
    *ntp_ns = fit->a + fit->b * (gdouble)(gint32)(rtp - fit->rtp0);
    return TRUE;
}

/* ---- sender reports ---- */

#define RTCP_SR 200

guint rr_sender_reports_parse(const guint8 *data, gsize len, RrSenderReport *reports, guint max)
{
    guint n = 0;
    for (gsize off = 0; data != NULL && off + 4 <= len && n < max;) {
        const guint8 *p = data + off;
        if ((p[0] >> 6) != 2)
            break;
        gsize plen = ((gsize)GST_READ_UINT16_BE(p + 2) + 1) * 4;
        if (plen > len - off)
            break;
        if (p[1] == RTCP_SR && plen >= 28) {
            reports[n].ssrc = GST_READ_UINT32_BE(p + 4);
            reports[n].ntp = GST_READ_UINT64_BE(p + 8);
            reports[n].rtp_ts = GST_READ_UINT32_BE(p + 16);
            n++;
        }
        off += plen;
    }
    return n;
}

/* ---- groups ---- */

typedef struct {
    char *name;
    gboolean have_base;
    gint64 base; /* NTP (ns) of the group's first report: fits are relative to it */
    GPtrArray *tracks;
    /* Added to every track's output (the sender's clock drift taken out): @shift from
     * output time @shift_at on (before the shift, as lined up), @shift_before until then,
     * so that what was captured at one moment gets the same shift in every track. */
    gdouble shift, shift_before, shift_at;
    guint slips;
} RrLipsyncGroup;

struct RrLipsyncTrack {
    RrLipsync *set; /* its lock */
    RrLipsyncGroup *group;
    guint index;
    guint rate;
    gboolean audio;
    gboolean have_media;
    guint32 media_ssrc; /* SSRC of the packets mapped */
    guint32 fit_ssrc;   /* SSRC of the reports in the fit */
    RrSrFit fit;
    gboolean have_out; /* the last packet mapped: */
    guint32 last_rtp;
    gdouble last_out;      /* its output time (ns) */
    gdouble last_pre;      /* ...before the group's shift */
    gdouble last_span;     /* how far its content reaches past last_pre (the last step) */
    gdouble last_timeline; /* its RTP timeline time (ns) */
    gdouble correction;    /* output − RTP timeline */
    gboolean mapped;       /* the correction follows the reference's reports */
    gboolean moving;       /* ...and is on its way to a new target */
    guint reports;         /* sender reports added, ever */
    guint over_seen;       /* the reports (this track's and the reference's) last seen */
    guint over_count;      /* successive report counts with the target out of the dead band */
    /* Arrivals (any thread): the first packet pushed, and how late it came against the
     * least delayed one since (RTP time passed minus arrival time passed, at most). */
    gboolean have_arrival;
    guint32 arrival_ssrc;
    GstClockTime arrival0;
    gdouble late;
    gboolean warned;
    /* Clock drift (any thread): the RTP time since the first packet, extended past wraps;
     * the least delay (arrival time passed minus RTP time passed) of the current window
     * and where the window started; the delay the group's shift is measured from. */
    guint32 drift_last_rtp;
    gint64 drift_ticks;
    GstClockTime drift_window_start;
    gdouble drift_window_min;
    gboolean have_drift_base;
    gdouble drift_base;
    gdouble drift_prev; /* the previous packet's delay */
};

struct RrLipsync {
    GMutex lock;
    GPtrArray *groups;
    GPtrArray *tracks;
};

static void group_free(gpointer data)
{
    RrLipsyncGroup *g = data;
    g_ptr_array_unref(g->tracks);
    g_free(g->name);
    g_free(g);
}

RrLipsync *rr_lipsync_new(void)
{
    static gsize debug_once;
    if (g_once_init_enter(&debug_once)) {
        GST_DEBUG_CATEGORY_INIT(rr_lipsync_debug, "rrlipsync", 0, "roomrec lip sync");
        g_once_init_leave(&debug_once, 1);
    }
    RrLipsync *ls = g_new0(RrLipsync, 1);
    g_mutex_init(&ls->lock);
    ls->groups = g_ptr_array_new_with_free_func(group_free);
    ls->tracks = g_ptr_array_new_with_free_func(g_free);
    return ls;
}

void rr_lipsync_free(RrLipsync *ls)
{
    if (ls == NULL)
        return;
    g_ptr_array_unref(ls->tracks);
    g_ptr_array_unref(ls->groups);
    g_mutex_clear(&ls->lock);
    g_free(ls);
}

RrLipsyncTrack *rr_lipsync_add_track(RrLipsync *ls, const char *group, guint index, guint rate,
                                     gboolean audio)
{
    g_mutex_lock(&ls->lock);
    RrLipsyncGroup *g = NULL;
    for (guint i = 0; i < ls->groups->len && g == NULL; i++) {
        RrLipsyncGroup *e = g_ptr_array_index(ls->groups, i);
        if (g_strcmp0(e->name, group) == 0)
            g = e;
    }
    if (g == NULL) {
        g = g_new0(RrLipsyncGroup, 1);
        g->name = g_strdup(group);
        g->tracks = g_ptr_array_new();
        g_ptr_array_add(ls->groups, g);
    }
    RrLipsyncTrack *t = g_new0(RrLipsyncTrack, 1);
    t->set = ls;
    t->group = g;
    t->index = index;
    t->rate = rate ? rate : 90000;
    t->audio = audio;
    rr_sr_fit_init(&t->fit, t->rate);
    g_ptr_array_add(g->tracks, t);
    g_ptr_array_add(ls->tracks, t);
    g_mutex_unlock(&ls->lock);
    return t;
}

static void track_reset_fit(RrLipsyncTrack *t, guint32 ssrc)
{
    rr_sr_fit_init(&t->fit, t->rate);
    t->fit_ssrc = ssrc;
    t->mapped = FALSE;
}

static gint64 ntp_to_ns(guint64 ntp)
{
    guint64 secs = ntp >> 32;
    guint64 frac = ntp & G_GUINT64_CONSTANT(0xffffffff);
    return (gint64)(secs * GST_SECOND + ((frac * GST_SECOND) >> 32));
}

void rr_lipsync_sender_report(RrLipsyncTrack *t, guint32 ssrc, guint32 rtp_ts, guint64 ntp)
{
    RrLipsync *ls = t->set;
    gint64 ns = ntp_to_ns(ntp);
    g_mutex_lock(&ls->lock);
    if (t->have_media && ssrc != t->media_ssrc) {
        g_mutex_unlock(&ls->lock);
        return;
    }
    RrLipsyncGroup *g = t->group;
    if (!g->have_base) {
        g->have_base = TRUE;
        g->base = ns;
    }
    if (t->fit.n == 0 || ssrc != t->fit_ssrc)
        track_reset_fit(t, ssrc);
    rr_sr_fit_add(&t->fit, rtp_ts, ns - g->base);
    t->reports++;
    GST_DEBUG("track %u: sender report rtp %u ntp %.1f ms: fit %.1f ms at rtp %u, rate %.1f "
              "(%u of %u reports in), correction %.1f ms",
              t->index, rtp_ts, (gdouble)(ns - g->base) / GST_MSECOND, t->fit.a / GST_MSECOND,
              t->fit.rtp0, (gdouble)GST_SECOND / t->fit.b, t->fit.inliers, t->fit.n,
              t->correction / GST_MSECOND);
    g_mutex_unlock(&ls->lock);
}

/* Whether @t's fit has enough reports to place tracks by. */
static gboolean fit_ready(const RrLipsyncTrack *t)
{
    return t->fit.valid && t->fit.n >= RR_LIPSYNC_MIN_REPORTS;
}

/* How far a track's target may be before it moves: RR_LIPSYNC_DEADBAND, or three times
 * the uncertainty of the two fits it comes from when that is more (reports that jitter,
 * few of them yet): a move only for a difference the reports really show. */
static gdouble deadband(const RrLipsyncTrack *t, const RrLipsyncTrack *r)
{
    gdouble e = sqrt(t->fit.error * t->fit.error + r->fit.error * r->fit.error);
    return MAX((gdouble)RR_LIPSYNC_DEADBAND, 3 * e);
}

/* The group's reference: an audio track with output, else the first track with output;
 * *@by_reports when its fit is ready. It does not change with which fits are ready:
 * another track mapped onto it by arrival times until both are, and never audio moved
 * because the video's reports came first. Under the lock. */
static RrLipsyncTrack *group_reference(RrLipsyncGroup *g, gboolean *by_reports)
{
    RrLipsyncTrack *first = NULL;
    for (guint i = 0; i < g->tracks->len; i++) {
        RrLipsyncTrack *t = g_ptr_array_index(g->tracks, i);
        if (!t->have_out)
            continue;
        if (t->audio) {
            first = t;
            break;
        }
        if (first == NULL)
            first = t;
    }
    *by_reports = first != NULL && fit_ready(first);
    return first;
}

/* The output time the reference @r gives sender NTP time @ntp. */
static gdouble reference_out(const RrLipsyncTrack *r, gdouble ntp)
{
    gdouble ticks = (ntp - r->fit.a) / r->fit.b; /* relative to r->fit.rtp0 */
    gdouble last = (gdouble)(gint32)(r->last_rtp - r->fit.rtp0);
    return r->last_pre + (ticks - last) * (gdouble)GST_SECOND / r->rate;
}

GstClockTime rr_lipsync_map(RrLipsyncTrack *t, guint32 ssrc, guint32 rtp_ts, GstClockTime timeline)
{
    if (!GST_CLOCK_TIME_IS_VALID(timeline))
        return timeline;
    RrLipsync *ls = t->set;
    gdouble tl = (gdouble)timeline;
    g_mutex_lock(&ls->lock);
    if (!t->have_media || ssrc != t->media_ssrc) {
        t->have_media = TRUE;
        t->media_ssrc = ssrc;
        if (t->fit.valid && t->fit_ssrc != ssrc)
            track_reset_fit(t, ssrc);
    }
    gboolean by_reports = FALSE;
    RrLipsyncTrack *r = group_reference(t->group, &by_reports);
    gdouble ntp;
    if (r != NULL && r != t) {
        gboolean reports = by_reports && fit_ready(t) && rr_sr_fit_ntp(&t->fit, rtp_ts, &ntp);
        /* With reports: through the two fits. Without: both tracks' content placed at
         * its least delayed arrival, moved as the reference is. */
        gdouble want = reports ? reference_out(r, ntp) - tl : r->late + r->correction - t->late;
        if (fabs(want) > (gdouble)RR_LIPSYNC_MAX) {
            if (!t->warned)
                GST_WARNING("track %u: %s place it %.0f ms from its group's reference track "
                            "%u: not followed",
                            t->index, reports ? "sender reports" : "arrival times",
                            want / GST_MSECOND, r->index);
            t->warned = TRUE;
        } else if (!reports) {
            /* Arrival times only ever show a track later than first thought, within its
             * first seconds. The first placement is at once; after it, only a move of
             * more than RR_LIPSYNC_ARRIVAL_DEADBAND (a burst, seen packet by packet), made all at
             * once: the least delayed arrival creeps by fractions of a ms as packets
             * come, and a composite's output tick shows another frame for any move of a
             * frame lying near the tick (a frame dropped or shown twice, a 33 ms step). */
            gdouble diff = want - t->correction;
            if (!t->have_out || fabs(diff) > (gdouble)RR_LIPSYNC_ARRIVAL_DEADBAND) {
                if (diff != 0)
                    GST_DEBUG("track %u: placed on track %u's timeline by arrival times: "
                              "moved by %.1f ms",
                              t->index, r->index, diff / GST_MSECOND);
                t->correction = want;
            }
            t->mapped = FALSE;
            t->moving = FALSE;
        } else {
            gdouble diff = want - t->correction;
            gboolean was_moving = t->moving;
            gboolean over = fabs(diff) > deadband(t, r);
            /* How many successive reports (of either track) have shown the target out of
             * the dead band: a fit of a few jittery reports crosses it now and then. */
            guint seen = t->reports + r->reports;
            if (!over)
                t->over_count = 0;
            else if (seen != t->over_seen)
                t->over_count++;
            t->over_seen = seen;
            gboolean confirmed = over && (t->over_count >= RR_LIPSYNC_CONFIRM || !t->have_out ||
                                          fabs(diff) > (gdouble)RR_LIPSYNC_JUMP);
            if (!t->mapped) {
                /* The first mapping by reports (the arrival times' before it). */
                t->mapped = TRUE;
                GST_DEBUG("track %u: sender reports place it %.1f ms from where it is "
                          "(dead band %.1f ms)",
                          t->index, diff / GST_MSECOND, deadband(t, r) / GST_MSECOND);
            }
            if (!t->moving && confirmed)
                t->moving = TRUE;
            if (t->moving && !was_moving)
                GST_DEBUG("track %u: moving by %.1f ms onto track %u (dead band %.1f ms, %u "
                          "and %u reports)",
                          t->index, diff / GST_MSECOND, r->index, deadband(t, r) / GST_MSECOND,
                          t->fit.n, r->fit.n);
            if (t->moving && (!t->have_out || fabs(diff) > (gdouble)RR_LIPSYNC_JUMP)) {
                /* A large move is made at once: the RTP timeline's anchor (the first
                 * packet's arrival) can be hundreds of ms off when the first packets came
                 * in a burst, and slewing that away would leave seconds out of sync; a
                 * jump costs the same frames as a slew would. */
                GST_INFO("track %u: placed on track %u's timeline by sender reports: moved "
                         "by %.1f ms",
                         t->index, r->index, diff / GST_MSECOND);
                t->correction = want;
            } else if (t->moving) {
                gdouble step = RR_LIPSYNC_SLEW * fabs(tl - t->last_timeline);
                t->correction += CLAMP(diff, -step, step);
            }
            if (t->moving && fabs(want - t->correction) < (gdouble)GST_MSECOND)
                t->moving = FALSE;
        }
    }
    RrLipsyncGroup *g = t->group;
    gdouble pre = tl + t->correction;
    gdouble out = MAX(pre + (pre >= g->shift_at ? g->shift : g->shift_before), 0);
    if (t->have_out && out < t->last_out && (gint32)(rtp_ts - t->last_rtp) >= 0)
        out = t->last_out; /* never backwards while the RTP timestamps go forwards */
    /* A packet's content lasts until the next one's (20 ms of audio, a frame of video):
     * the last step forwards, at most RR_LIPSYNC_MAX_SPAN. */
    if (t->have_out && pre > t->last_pre)
        t->last_span = MIN(pre - t->last_pre, (gdouble)RR_LIPSYNC_MAX_SPAN);
    t->have_out = TRUE;
    t->last_rtp = rtp_ts;
    t->last_out = out;
    t->last_pre = pre;
    t->last_timeline = tl;
    g_mutex_unlock(&ls->lock);
    GST_LOG("track %u: rtp %u timeline %" GST_TIME_FORMAT " -> %" GST_TIME_FORMAT
            " (correction %.1f ms, reference %d)",
            t->index, rtp_ts, GST_TIME_ARGS(timeline), GST_TIME_ARGS((GstClockTime)out),
            t->correction / GST_MSECOND, r ? (gint)r->index : -1);
    return (GstClockTime)llround(out);
}

/* Clock drift of the group's reference @t, at the close of one of its arrival windows
 * whose least delay was @min: a sender whose clock runs slow delivers its media later
 * and later against its RTP timeline, and the composite's deadlines would pass it by
 * after a while (its media dropped). Once the least delay has grown by RR_LIPSYNC_SLIP,
 * the whole group moves later by as much, at once (a gap of that length in its audio,
 * a frame held in its video: once every RR_LIPSYNC_SLIP / drift, 33 min at 100 ppm),
 * and stays lined up. Under the lock. */
static void drift_window_closed(RrLipsyncTrack *t, gdouble min)
{
    RrLipsyncGroup *g = t->group;
    if (!t->have_drift_base) {
        t->have_drift_base = TRUE;
        t->drift_base = min;
        return;
    }
    gboolean by_reports;
    if (group_reference(g, &by_reports) != t)
        return;
    gdouble lag = min - t->drift_base;
    /* Only later: media that comes earlier and earlier (a fast clock) waits longer in the
     * queues before the mixers, which hold seconds of it (hours at 100 ppm); moving the
     * group back would overlap its audio with itself. */
    if (lag < (gdouble)RR_LIPSYNC_SLIP)
        return;
    /* From just after the furthest any track of the group has got, the end of its last
     * packet's content (not its start: a flash in the video frames lying within the
     * audio packet already out would be moved and its beep not): each track shifts from
     * the same content on. */
    gdouble at = -G_MAXDOUBLE;
    for (guint i = 0; i < g->tracks->len; i++) {
        RrLipsyncTrack *o = g_ptr_array_index(g->tracks, i);
        if (o->have_out)
            at = MAX(at, o->last_pre + MAX(o->last_span, 1));
    }
    g->shift_before = g->shift;
    g->shift_at = at;
    g->shift += lag;
    g->slips++;
    t->drift_base = min;
    for (guint i = 0; i < g->tracks->len; i++) {
        RrLipsyncTrack *o = g_ptr_array_index(g->tracks, i);
        o->drift_base += o == t ? 0 : lag;
    }
    GST_INFO("group %s: its media comes %.0f ms %s against its RTP timeline than at the "
             "start (sender clock drift): all its tracks moved by %.0f ms (%u moves, %.0f "
             "ms in all)",
             g->name, fabs(lag) / GST_MSECOND, lag > 0 ? "later" : "earlier", lag / GST_MSECOND,
             g->slips, g->shift / GST_MSECOND);
}

void rr_lipsync_packet_arrived(RrLipsyncTrack *t, guint32 ssrc, guint32 rtp_ts,
                               GstClockTime arrival)
{
    if (!GST_CLOCK_TIME_IS_VALID(arrival))
        return;
    RrLipsync *ls = t->set;
    g_mutex_lock(&ls->lock);
    if (!t->have_arrival || ssrc != t->arrival_ssrc || arrival < t->arrival0) {
        t->have_arrival = TRUE;
        t->arrival_ssrc = ssrc;
        t->arrival0 = arrival;
        t->late = 0;
        t->drift_last_rtp = rtp_ts;
        t->drift_ticks = 0;
        t->drift_window_start = arrival;
        t->drift_window_min = 0;
        t->have_drift_base = FALSE;
        t->drift_prev = 0;
        g_mutex_unlock(&ls->lock);
        return;
    }
    gint32 step = (gint32)(rtp_ts - t->drift_last_rtp);
    if (step > 0) {
        t->drift_ticks += step;
        t->drift_last_rtp = rtp_ts;
    }
    gdouble rtp = (gdouble)(t->drift_ticks + MIN(step, 0)) * GST_SECOND / t->rate;
    gdouble delay = (gdouble)(arrival - t->arrival0) - rtp;
    gdouble jump = delay - t->drift_prev;
    t->drift_prev = delay;
    if (fabs(jump) > (gdouble)GST_SECOND) {
        /* A break in the RTP timeline from one packet to the next (a sender that stopped
         * its RTP clock while paused, or restarted it): the timeline is re-anchored there
         * (rtp-timeline.h), so this is no drift: the measure moves with it. */
        t->drift_base += jump;
        t->drift_window_min += jump;
    }
    if (arrival - t->arrival0 < RR_LIPSYNC_ARRIVAL_WINDOW)
        t->late = MAX(t->late, -delay);
    if (arrival - t->drift_window_start >= RR_LIPSYNC_ARRIVAL_WINDOW) {
        drift_window_closed(t, t->drift_window_min);
        t->drift_window_start = arrival;
        t->drift_window_min = delay;
    } else {
        t->drift_window_min = MIN(t->drift_window_min, delay);
    }
    g_mutex_unlock(&ls->lock);
}

gint64 rr_lipsync_get_correction(RrLipsyncTrack *t)
{
    RrLipsync *ls = t->set;
    g_mutex_lock(&ls->lock);
    gint64 c = (gint64)t->correction;
    g_mutex_unlock(&ls->lock);
    return c;
}

gboolean rr_lipsync_has_fit(RrLipsyncTrack *t)
{
    RrLipsync *ls = t->set;
    g_mutex_lock(&ls->lock);
    gboolean valid = t->fit.valid;
    g_mutex_unlock(&ls->lock);
    return valid;
}
