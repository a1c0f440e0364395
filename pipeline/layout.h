/* pipeline/layout: the geometry of a room composite — where each tile goes.
 *
 * Pure functions on plain data, no GStreamer: the composite (pipeline/composite.c) turns
 * its participants into an ordered list of items (one per camera or name tile, one per
 * screen share), asks for their rectangles, and applies them to compositor pads.
 *
 * Layouts (LiveKit template names, with optional "-light"/"-dark" suffix for the theme):
 * - grid: every item in an equal tile; cols = ceil(sqrt(n)) in landscape (rows in
 *   portrait), the last, incomplete row centred.
 * - speaker: the stage item large (4/5 of the width, or of the height in portrait), the
 *   others in 16:9 tiles in a strip on the right (below in portrait), centred.
 * - single-speaker: only the stage item, full frame; the others are hidden.
 * The stage is the first screen share if there is one (in every layout: a grid with a
 * screen share is laid out like speaker), else the active speaker, else the first item.
 * Rectangles have even coordinates and sizes (I420 chroma).
 *
 * Thread-safe; nothing is allocated.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    RR_LAYOUT_GRID,
    RR_LAYOUT_SPEAKER,
    RR_LAYOUT_SINGLE_SPEAKER,
} RrLayoutKind;

typedef enum {
    RR_LAYOUT_THEME_DARK, /* black background (the default) */
    RR_LAYOUT_THEME_LIGHT,
} RrLayoutTheme;

typedef struct {
    gboolean has_video;    /* FALSE: the item is a name tile */
    gboolean screen_share; /* a screen share (takes the stage) */
} RrLayoutItem;

typedef struct {
    gint x, y, width, height;
    gboolean visible;
    guint zorder; /* 1 for the stage, 2 for the others; 0 when hidden */
} RrLayoutRect;

/* "grid" | "speaker" | "single-speaker", each optionally followed by "-light" or
 * "-dark" (case-insensitive). NULL or "" is "grid". FALSE with
 * RR_PIPELINE_ERROR_INVALID_INPUT for anything else. @kind/@theme may be NULL. */
gboolean rr_layout_parse(const char *name, RrLayoutKind *kind, RrLayoutTheme *theme,
                         GError **error);
const char *rr_layout_kind_to_string(RrLayoutKind kind);

/* Lays @n items out in a @width x @height frame into @out (n entries). @speaker is the
 * index of the active speaker's item, or -1. Returns the stage item's index, or -1 for a
 * plain grid (no stage) or n == 0. */
gint rr_layout_compute(RrLayoutKind kind, guint width, guint height, const RrLayoutItem *items,
                       guint n, gint speaker, RrLayoutRect *out);

G_END_DECLS
