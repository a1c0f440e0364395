/* Unit tests for pipeline/layout: the pure geometry of the room composite layouts. */
#include "pipeline/layout.h"
#include "pipeline/pipeline-error.h"

/* No two visible rectangles overlap, all are inside the frame, even, non-empty. */
static void check_sane(const RrLayoutRect *r, guint n, gint w, gint h)
{
    for (guint i = 0; i < n; i++) {
        if (!r[i].visible) {
            g_assert_cmpuint(r[i].zorder, ==, 0);
            continue;
        }
        g_assert_cmpint(r[i].x, >=, 0);
        g_assert_cmpint(r[i].y, >=, 0);
        g_assert_cmpint(r[i].width, >, 0);
        g_assert_cmpint(r[i].height, >, 0);
        g_assert_cmpint(r[i].x + r[i].width, <=, w);
        g_assert_cmpint(r[i].y + r[i].height, <=, h);
        g_assert_cmpint(r[i].x % 2, ==, 0);
        g_assert_cmpint(r[i].y % 2, ==, 0);
        g_assert_cmpint(r[i].width % 2, ==, 0);
        g_assert_cmpint(r[i].height % 2, ==, 0);
        g_assert_cmpuint(r[i].zorder, >=, 1);
        for (guint j = i + 1; j < n; j++) {
            if (!r[j].visible)
                continue;
            gboolean apart = r[i].x + r[i].width <= r[j].x || r[j].x + r[j].width <= r[i].x ||
                             r[i].y + r[i].height <= r[j].y || r[j].y + r[j].height <= r[i].y;
            g_assert_true(apart);
        }
    }
}

static void check_rect(const RrLayoutRect *r, gint x, gint y, gint w, gint h)
{
    g_assert_true(r->visible);
    g_assert_cmpint(r->x, ==, x);
    g_assert_cmpint(r->y, ==, y);
    g_assert_cmpint(r->width, ==, w);
    g_assert_cmpint(r->height, ==, h);
}

static void test_parse(void)
{
    static const struct {
        const char *name;
        RrLayoutKind kind;
        RrLayoutTheme theme;
    } good[] = {
        {NULL, RR_LAYOUT_GRID, RR_LAYOUT_THEME_DARK},
        {"", RR_LAYOUT_GRID, RR_LAYOUT_THEME_DARK},
        {"grid", RR_LAYOUT_GRID, RR_LAYOUT_THEME_DARK},
        {"grid-light", RR_LAYOUT_GRID, RR_LAYOUT_THEME_LIGHT},
        {"grid-dark", RR_LAYOUT_GRID, RR_LAYOUT_THEME_DARK},
        {"Speaker", RR_LAYOUT_SPEAKER, RR_LAYOUT_THEME_DARK},
        {"speaker-light", RR_LAYOUT_SPEAKER, RR_LAYOUT_THEME_LIGHT},
        {"speaker-dark", RR_LAYOUT_SPEAKER, RR_LAYOUT_THEME_DARK},
        {"single-speaker", RR_LAYOUT_SINGLE_SPEAKER, RR_LAYOUT_THEME_DARK},
        {"single-speaker-light", RR_LAYOUT_SINGLE_SPEAKER, RR_LAYOUT_THEME_LIGHT},
        {"SINGLE-SPEAKER-DARK", RR_LAYOUT_SINGLE_SPEAKER, RR_LAYOUT_THEME_DARK},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        RrLayoutKind kind = 99;
        RrLayoutTheme theme = 99;
        g_autoptr(GError) error = NULL;
        g_assert_true(rr_layout_parse(good[i].name, &kind, &theme, &error));
        g_assert_no_error(error);
        g_assert_cmpint(kind, ==, good[i].kind);
        g_assert_cmpint(theme, ==, good[i].theme);
    }
    static const char *const bad[] = {"grids",
                                      "gird",
                                      "speaker-",
                                      "speaker-blue",
                                      "-light",
                                      "single",
                                      "single-speaker-light-dark",
                                      " grid"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(rr_layout_parse(bad[i], NULL, NULL, &error));
        g_assert_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT);
        g_assert_nonnull(g_strstr_len(error->message, -1, bad[i]));
    }
    g_assert_cmpstr(rr_layout_kind_to_string(RR_LAYOUT_SINGLE_SPEAKER), ==, "single-speaker");
}

static void test_grid(void)
{
    RrLayoutItem items[16] = {{0}};
    RrLayoutRect r[16];
    for (guint i = 0; i < G_N_ELEMENTS(items); i++)
        items[i].has_video = i % 3 != 2; /* name tiles get tiles too */
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 0, -1, r), ==, -1);

    /* 1: full frame. 2: side by side. 4: quadrants. */
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 1, -1, r), ==, -1);
    check_rect(&r[0], 0, 0, 1280, 720);
    rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 2, -1, r);
    check_rect(&r[0], 0, 0, 640, 720);
    check_rect(&r[1], 640, 0, 640, 720);
    rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 4, 2, r); /* speaker ignored */
    check_rect(&r[0], 0, 0, 640, 360);
    check_rect(&r[1], 640, 0, 640, 360);
    check_rect(&r[2], 0, 360, 640, 360);
    check_rect(&r[3], 640, 360, 640, 360);
    /* 3: two on top, the third centred below. */
    rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 3, -1, r);
    check_rect(&r[0], 0, 0, 640, 360);
    check_rect(&r[1], 640, 0, 640, 360);
    check_rect(&r[2], 320, 360, 640, 360);
    /* 5: 3x2, last row of two centred. */
    rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 5, -1, r);
    check_rect(&r[0], 0, 0, 426, 360);
    check_rect(&r[3], 214, 360, 426, 360);
    /* 9: 3x3. */
    rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 9, -1, r);
    check_rect(&r[8], 2 * 426, 2 * 240, 426, 240);
    /* 1..16: all visible, disjoint, inside. */
    for (guint n = 1; n <= 16; n++) {
        rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, n, -1, r);
        check_sane(r, n, 1280, 720);
        for (guint i = 0; i < n; i++)
            g_assert_true(r[i].visible);
        rr_layout_compute(RR_LAYOUT_GRID, 720, 1280, items, n, -1, r);
        check_sane(r, n, 720, 1280);
    }
    /* 10 participants: 4 columns, 3 rows. */
    rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 10, -1, r);
    check_rect(&r[0], 0, 0, 320, 240);
    check_rect(&r[8], 320, 480, 320, 240); /* last row of two, centred */
    /* Portrait: 2 are stacked. */
    rr_layout_compute(RR_LAYOUT_GRID, 720, 1280, items, 2, -1, r);
    check_rect(&r[0], 0, 0, 720, 640);
    check_rect(&r[1], 0, 640, 720, 640);
}

static void test_speaker(void)
{
    RrLayoutItem items[6] = {{TRUE, FALSE}, {TRUE, FALSE}, {FALSE, FALSE},
                             {TRUE, FALSE}, {TRUE, FALSE}, {TRUE, FALSE}};
    RrLayoutRect r[6];
    /* Alone: full frame on stage. */
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 1, -1, r), ==, 0);
    check_rect(&r[0], 0, 0, 1280, 720);
    /* No active speaker: the first takes the stage; the others in 16:9 strip tiles. */
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 3, -1, r), ==, 0);
    check_rect(&r[0], 0, 0, 1024, 720);
    g_assert_cmpuint(r[0].zorder, ==, 1);
    check_rect(&r[1], 1024, 216, 256, 144);
    check_rect(&r[2], 1024, 360, 256, 144);
    g_assert_cmpuint(r[2].zorder, ==, 2);
    check_sane(r, 3, 1280, 720);
    /* The active speaker (a name tile here) takes the stage. */
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 3, 2, r), ==, 2);
    check_rect(&r[2], 0, 0, 1024, 720);
    check_rect(&r[0], 1024, 216, 256, 144);
    /* Out-of-range speaker index: the first. */
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 3, 7, r), ==, 0);
    /* Many in the strip: tiles shrink to fit the height. */
    rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 6, 1, r);
    check_sane(r, 6, 1280, 720);
    g_assert_cmpint(r[0].height, ==, 144);
    /* Portrait: stage on top, strip below. */
    rr_layout_compute(RR_LAYOUT_SPEAKER, 720, 1280, items, 3, 1, r);
    check_rect(&r[1], 0, 0, 720, 1024);
    check_sane(r, 3, 720, 1280);
    g_assert_cmpint(r[0].y, ==, 1024);
    g_assert_cmpint(r[2].y, ==, 1024);
    g_assert_cmpint(r[0].height, ==, 256);
}

static void test_single_speaker(void)
{
    RrLayoutItem items[3] = {{TRUE, FALSE}, {TRUE, FALSE}, {FALSE, FALSE}};
    RrLayoutRect r[3];
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SINGLE_SPEAKER, 1280, 720, items, 3, 1, r), ==, 1);
    check_rect(&r[1], 0, 0, 1280, 720);
    g_assert_false(r[0].visible);
    g_assert_false(r[2].visible);
    check_sane(r, 3, 1280, 720);
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SINGLE_SPEAKER, 1080, 1920, items, 3, -1, r), ==,
                    0);
    check_rect(&r[0], 0, 0, 1080, 1920);
    g_assert_false(r[1].visible);
}

/* A screen share takes the stage in every layout, over the active speaker. */
static void test_screen_share(void)
{
    RrLayoutItem items[4] = {{TRUE, FALSE}, {TRUE, FALSE}, {FALSE, FALSE}, {TRUE, TRUE}};
    RrLayoutRect r[4];
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_GRID, 1280, 720, items, 4, 1, r), ==, 3);
    check_rect(&r[3], 0, 0, 1024, 720);
    g_assert_true(r[0].visible && r[1].visible && r[2].visible);
    g_assert_cmpint(r[0].x, ==, 1024);
    check_sane(r, 4, 1280, 720);
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 4, 1, r), ==, 3);
    check_rect(&r[3], 0, 0, 1024, 720);
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SINGLE_SPEAKER, 1280, 720, items, 4, 1, r), ==, 3);
    check_rect(&r[3], 0, 0, 1280, 720);
    g_assert_false(r[1].visible);
    /* The first of two screen shares wins. */
    items[0].screen_share = TRUE;
    g_assert_cmpint(rr_layout_compute(RR_LAYOUT_SPEAKER, 1280, 720, items, 4, 1, r), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pipeline/layout/parse", test_parse);
    g_test_add_func("/pipeline/layout/grid", test_grid);
    g_test_add_func("/pipeline/layout/speaker", test_speaker);
    g_test_add_func("/pipeline/layout/single-speaker", test_single_speaker);
    g_test_add_func("/pipeline/layout/screen-share", test_screen_share);
    return g_test_run();
}
