/* pipeline/layout: see layout.h. */
#include "pipeline/layout.h"
#include "pipeline/pipeline-error.h"

#include <string.h>

static const char *const kind_names[] = {
    [RR_LAYOUT_GRID] = "grid",
    [RR_LAYOUT_SPEAKER] = "speaker",
    [RR_LAYOUT_SINGLE_SPEAKER] = "single-speaker",
};

gboolean rr_layout_parse(const char *name, RrLayoutKind *kind, RrLayoutTheme *theme, GError **error)
{
    RrLayoutKind k = RR_LAYOUT_GRID;
    RrLayoutTheme t = RR_LAYOUT_THEME_DARK;
    if (name != NULL && *name != '\0') {
        gboolean found = FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS(kind_names) && !found; i++) {
            gsize len = strlen(kind_names[i]);
            if (g_ascii_strncasecmp(name, kind_names[i], len) != 0)
                continue;
            const char *rest = name + len;
            if (*rest == '\0') {
                found = TRUE;
            } else if (g_ascii_strcasecmp(rest, "-dark") == 0) {
                found = TRUE;
            } else if (g_ascii_strcasecmp(rest, "-light") == 0) {
                t = RR_LAYOUT_THEME_LIGHT;
                found = TRUE;
            }
            if (found)
                k = (RrLayoutKind)i;
        }
        if (!found) {
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                        "unknown layout \"%s\" (grid, speaker or single-speaker, with an "
                        "optional -light or -dark)",
                        name);
            return FALSE;
        }
    }
    if (kind)
        *kind = k;
    if (theme)
        *theme = t;
    return TRUE;
}

const char *rr_layout_kind_to_string(RrLayoutKind kind)
{
    return (guint)kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "unknown";
}

static gint even(gint v)
{
    return v & ~1;
}

static void set_rect(RrLayoutRect *r, gint x, gint y, gint w, gint h, guint zorder)
{
    r->x = even(x);
    r->y = even(y);
    r->width = MAX(even(w), 2);
    r->height = MAX(even(h), 2);
    r->visible = TRUE;
    r->zorder = zorder;
}

/* Equal tiles for the items whose index is in @which (@m of them) inside the box. */
static void grid(gint bx, gint by, gint bw, gint bh, const guint *which, guint m, RrLayoutRect *out)
{
    if (m == 0)
        return;
    guint side = 1;
    while (side * side < m)
        side++;
    guint cols, rows;
    if (bw >= bh) {
        cols = side;
        rows = (m + cols - 1) / cols;
    } else {
        rows = side;
        cols = (m + rows - 1) / rows;
    }
    gint tw = even(bw / (gint)cols), th = even(bh / (gint)rows);
    gint y0 = by + (bh - th * (gint)rows) / 2;
    for (guint i = 0; i < m; i++) {
        guint row = i / cols, col = i % cols;
        guint in_row = MIN(cols, m - row * cols);
        gint x0 = bx + (bw - tw * (gint)in_row) / 2;
        set_rect(&out[which[i]], x0 + tw * (gint)col, y0 + th * (gint)row, tw, th, 2);
    }
}

/* Stage large, the @m others (indices in @which) in a strip of 16:9 tiles. */
static void speaker(gint w, gint h, guint stage, const guint *which, guint m, RrLayoutRect *out)
{
    if (m == 0) {
        set_rect(&out[stage], 0, 0, w, h, 1);
        return;
    }
    if (w >= h) {
        gint strip = even(w / 5);
        set_rect(&out[stage], 0, 0, w - strip, h, 1);
        gint th = even(strip * 9 / 16);
        if (th * (gint)m > h)
            th = even(h / (gint)m);
        gint y0 = (h - th * (gint)m) / 2;
        for (guint i = 0; i < m; i++)
            set_rect(&out[which[i]], w - strip, y0 + th * (gint)i, strip, th, 2);
    } else {
        gint strip = even(h / 5);
        set_rect(&out[stage], 0, 0, w, h - strip, 1);
        gint tw = even(strip * 16 / 9);
        if (tw * (gint)m > w)
            tw = even(w / (gint)m);
        gint x0 = (w - tw * (gint)m) / 2;
        for (guint i = 0; i < m; i++)
            set_rect(&out[which[i]], x0 + tw * (gint)i, h - strip, tw, strip, 2);
    }
}

gint rr_layout_compute(RrLayoutKind kind, guint width, guint height, const RrLayoutItem *items,
                       guint n, gint speaker_index, RrLayoutRect *out)
{
    if (n == 0)
        return -1;
    memset(out, 0, n * sizeof *out);
    gint w = (gint)width, h = (gint)height;
    gint stage = -1;
    for (guint i = 0; i < n && stage < 0; i++)
        if (items[i].screen_share)
            stage = (gint)i;
    if (stage < 0 && kind != RR_LAYOUT_GRID)
        stage = speaker_index >= 0 && (guint)speaker_index < n ? speaker_index : 0;

    g_autofree guint *which = g_new(guint, n);
    guint m = 0;
    for (guint i = 0; i < n; i++)
        if ((gint)i != stage)
            which[m++] = i;
    if (stage < 0)
        grid(0, 0, w, h, which, m, out);
    else if (kind == RR_LAYOUT_SINGLE_SPEAKER)
        set_rect(&out[stage], 0, 0, w, h, 1);
    else
        speaker(w, h, (guint)stage, which, m, out);
    return stage;
}
