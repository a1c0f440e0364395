/* pipeline/composite-tracks: participants, track branches, name tiles and the timed
 * layout updates of a composite. See composite.h for the design. */
#include "pipeline/audio-fade.h"
#include "pipeline/composite-priv.h"
#include "pipeline/elements.h"
#include "pipeline/pad-time.h"
#include "pipeline/pipeline-error.h"

#include <string.h>

#define GST_CAT_DEFAULT rr_composite_debug

/* Name tiles: small, slow, live; the compositor scales them into their tile. */
#define TILE_WIDTH  320
#define TILE_HEIGHT 180
#define TILE_FPS    5
/* A participant gets a name tile only when they have no camera to show: not for the second
 * or so before a camera's first frame (a key frame is requested at once), when it would
 * then be kept, hidden, for the rest of the recording, costing a live source, a text
 * renderer and a compositor input. For GRACE_MS after a participant or a camera is added,
 * their tile is left empty (the background) while the camera's first frame is awaited;
 * after that, or at once when a camera that was shown is muted, the name tile comes. */
#define GRACE_MS 2000

/* ---- memory ---- */

void rr_comp_participant_free(gpointer data)
{
    RrCompParticipant *p = data;
    gst_clear_object(&p->tile_pad);
    g_free(p->id);
    g_free(p->name);
    g_free(p);
}

void rr_comp_track_free(gpointer data)
{
    RrCompTrack *t = data;
    gst_clear_object(&t->mixer_pad);
    g_free(t);
}

void rr_comp_snapshot_free(gpointer data)
{
    RrCompSnapshot *s = data;
    for (guint i = 0; i < s->states->len; i++)
        gst_object_unref(g_array_index(s->states, RrCompPadState, i).pad);
    g_array_unref(s->states);
    g_free(s);
}

static RrCompTrack *track_get(RrComposite *c, guint index)
{
    RrCompTrack *t = NULL;
    g_mutex_lock(&c->lock);
    if (index < c->tracks->len)
        t = g_ptr_array_index(c->tracks, index);
    g_mutex_unlock(&c->lock);
    return t;
}

static RrCompParticipant *participant_find(RrComposite *c, const char *id)
{
    for (guint i = 0; id != NULL && i < c->participants->len; i++) {
        RrCompParticipant *p = g_ptr_array_index(c->participants, i);
        if (!p->removed && g_strcmp0(p->id, id) == 0)
            return p;
    }
    return NULL;
}

/* ---- branch teardown (context thread) ---- */

static GstPadProbeReturn drop_all(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    /* Keep flushes and stream-start/caps/segment harmless; drop data and EOS. */
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
        return GST_PAD_PROBE_DROP;
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_IS_SERIALIZED(event))
            return GST_PAD_PROBE_DROP;
    }
    return GST_PAD_PROBE_OK;
}

static void add_drop_probe(GstPad *pad)
{
    gst_pad_add_probe(pad,
                      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                          GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      drop_all, NULL, NULL);
}

/* Detach @last (whose src pad feeds @mixer_pad) from the mixer and release the pad;
 * then stop and remove @elements. Data still on its way is dropped, never an error. */
static void teardown(RrComposite *c, GstElement *last, GstPad *mixer_pad, GstElement **elements,
                     guint n)
{
    g_autoptr(GstPad) src = gst_element_get_static_pad(last, "src");
    add_drop_probe(src);
    gst_pad_unlink(src, mixer_pad);
    GstElement *agg = GST_ELEMENT(gst_pad_get_parent(mixer_pad));
    if (agg != NULL) {
        gst_element_release_request_pad(agg, mixer_pad);
        gst_object_unref(agg);
    }
    for (guint i = 0; i < n; i++) {
        if (elements[i] == NULL)
            continue;
        gst_element_set_locked_state(elements[i], TRUE);
        gst_element_set_state(elements[i], GST_STATE_NULL);
        gst_bin_remove(GST_BIN(c->pipeline), elements[i]);
    }
}

static void track_teardown(RrComposite *c, RrCompTrack *t)
{
    if (t->released || t->decoder == NULL)
        return;
    t->released = TRUE;
    GstPad *recv_pad = rr_recv_get_track_pad(c->recv, (guint)t->recv_index);
    add_drop_probe(recv_pad);
    g_autoptr(GstPad) queue_sink = gst_element_get_static_pad(t->queue, "sink");
    gst_pad_unlink(recv_pad, queue_sink);
    GstElement *elements[] = {t->decoder, t->sync, t->queue};
    teardown(c, t->decoder, t->mixer_pad, elements, G_N_ELEMENTS(elements));
    t->decoder = t->sync = t->queue = NULL;
    GST_INFO("composite %s: track %u released", c->path, t->index);
}

static void participant_teardown(RrComposite *c, RrCompParticipant *p)
{
    if (p->released || p->tile == NULL)
        return;
    p->released = TRUE;
    GstElement *elements[] = {p->tile};
    teardown(c, p->tile, p->tile_pad, elements, 1);
    p->tile = NULL;
}

/* Context thread: tear down the branches whose pads the mixers have passed. */
static void do_releases(RrComposite *c, GstClockTime unused)
{
    g_mutex_lock(&c->lock);
    GPtrArray *pads = c->to_release;
    c->to_release = g_ptr_array_new_with_free_func(gst_object_unref);
    c->release_queued = FALSE;
    g_mutex_unlock(&c->lock);
    for (guint k = 0; k < pads->len; k++) {
        GstPad *pad = g_ptr_array_index(pads, k);
        for (guint i = 0; i < c->tracks->len; i++) {
            RrCompTrack *t = g_ptr_array_index(c->tracks, i);
            if (t->mixer_pad == pad && t->removed)
                track_teardown(c, t);
        }
        for (guint i = 0; i < c->participants->len; i++) {
            RrCompParticipant *p = g_ptr_array_index(c->participants, i);
            if (p->tile_pad == pad && p->removed)
                participant_teardown(c, p);
        }
    }
    g_ptr_array_unref(pads);
}

/* ---- timed updates ---- */

/* Streaming thread of the compositor or the mixer: apply the newest snapshot whose time
 * has come, before this output buffer is made. */
void rr_comp_on_samples_selected(GstElement *agg, GstSegment *segment, guint64 pts, guint64 dts,
                                 guint64 duration, GstStructure *info, gpointer data)
{
    RrComposite *c = data;
    GstClockTime now = gst_segment_to_running_time(segment, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID(now))
        return;
    gboolean video = agg == c->compositor;
    GQueue *queue = video ? &c->video_pending : &c->audio_pending;
    RrCompSnapshot *apply = NULL;
    g_mutex_lock(&c->lock);
    RrCompSnapshot *head;
    while ((head = g_queue_peek_head(queue)) != NULL && head->at <= now) {
        g_queue_pop_head(queue);
        for (guint i = 0; i < head->states->len; i++) {
            RrCompPadState *st = &g_array_index(head->states, RrCompPadState, i);
            if (st->release)
                g_ptr_array_add(c->to_release, gst_object_ref(st->pad));
        }
        if (apply)
            rr_comp_snapshot_free(apply);
        apply = head;
    }
    gboolean queue_release = c->to_release->len > 0 && !c->release_queued;
    if (queue_release)
        c->release_queued = TRUE;
    g_mutex_unlock(&c->lock);
    if (apply == NULL)
        return;
    for (guint i = 0; i < apply->states->len; i++) {
        RrCompPadState *st = &g_array_index(apply->states, RrCompPadState, i);
        if (video)
            g_object_set(st->pad, "xpos", st->x, "ypos", st->y, "width", st->width, "height",
                         st->height, "alpha", st->alpha, "zorder", st->zorder, NULL);
        else
            g_object_set(st->pad, "mute", st->mute, NULL);
    }
    if (video && apply->background != NULL)
        gst_util_set_object_arg(G_OBJECT(agg), "background", apply->background);
    GST_LOG_OBJECT(agg, "applied the layout of %" GST_TIME_FORMAT " at %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(apply->at), GST_TIME_ARGS(now));
    rr_comp_snapshot_free(apply);
    if (queue_release)
        rr_comp_invoke(c, do_releases, 0);
}

static void pending_push(RrComposite *c, GQueue *queue, RrCompSnapshot *s)
{
    g_mutex_lock(&c->lock);
    /* A snapshot holds the whole current state: it replaces any queued for a later time
     * (their releases are carried over, since the state they released is gone). */
    RrCompSnapshot *tail;
    while ((tail = g_queue_peek_tail(queue)) != NULL && tail->at >= s->at) {
        g_queue_pop_tail(queue);
        for (guint i = 0; i < tail->states->len; i++) {
            RrCompPadState *st = &g_array_index(tail->states, RrCompPadState, i);
            if (st->release) {
                RrCompPadState copy = *st;
                gst_object_ref(copy.pad);
                g_array_append_val(s->states, copy);
            }
        }
        rr_comp_snapshot_free(tail);
    }
    g_queue_push_tail(queue, s);
    g_mutex_unlock(&c->lock);
}

static RrCompSnapshot *snapshot_new(GstClockTime at)
{
    RrCompSnapshot *s = g_new0(RrCompSnapshot, 1);
    s->at = at;
    s->states = g_array_new(FALSE, TRUE, sizeof(RrCompPadState));
    return s;
}

static void snapshot_add(RrCompSnapshot *s, GstPad *pad, const RrLayoutRect *r, gboolean release)
{
    RrCompPadState st = {.pad = gst_object_ref(pad), .release = release};
    if (r != NULL && r->visible) {
        st.x = r->x;
        st.y = r->y;
        st.width = r->width;
        st.height = r->height;
        st.alpha = 1.0;
        st.zorder = r->zorder;
    } else {
        st.width = st.height = 2;
    }
    g_array_append_val(s->states, st);
}

static GstElement *name_tile_new(RrComposite *c, RrCompParticipant *p);

static gboolean track_shows_video(RrComposite *c, RrCompTrack *t)
{
    if (t->codec->kind != RR_MEDIA_VIDEO || t->decoder == NULL || t->removed || t->muted)
        return FALSE;
    g_mutex_lock(&c->lock);
    gboolean live = t->live;
    g_mutex_unlock(&c->lock);
    return live;
}

/* Milliseconds left of the grace of something added at @added_us (0: none). */
static guint grace_left(gint64 added_us)
{
    gint64 left_ms = GRACE_MS - (g_get_monotonic_time() - added_us) / 1000;
    return left_ms > 0 ? (guint)left_ms : 0;
}

/* A camera that may still show its first frame: its grace is not over, or its
 * participant's (tracks are added just after their participant). */
static guint camera_grace_left(RrComposite *c, RrCompTrack *t)
{
    if (t->codec->kind != RR_MEDIA_VIDEO || t->screen_share || t->decoder == NULL || t->removed ||
        t->muted)
        return 0;
    g_mutex_lock(&c->lock);
    gboolean ever = t->ever_live;
    g_mutex_unlock(&c->lock);
    return ever ? 0 : MAX(grace_left(t->added_us), grace_left(t->participant->added_us));
}

/* The camera to show for @p: one whose frames flow, else (while @p has no name tile) one
 * still within its grace, *@grace_ms being what is left of it. With neither, *@grace_ms
 * is what is left of @p's own grace if @p has no camera track at all yet, else 0. */
static RrCompTrack *participant_camera(RrComposite *c, RrCompParticipant *p, guint *grace_ms)
{
    RrCompTrack *pending = NULL;
    gboolean any_camera = FALSE; /* a camera track is there, muted or not */
    guint grace = 0;
    for (guint k = 0; k < c->tracks->len; k++) {
        RrCompTrack *t = g_ptr_array_index(c->tracks, k);
        if (t->participant != p || t->codec->kind != RR_MEDIA_VIDEO || t->screen_share)
            continue;
        if (track_shows_video(c, t)) {
            *grace_ms = 0;
            return t;
        }
        any_camera = any_camera || !t->removed;
        if (pending == NULL && p->tile == NULL && (grace = camera_grace_left(c, t)) > 0)
            pending = t;
    }
    /* Without a camera track at all, theirs may be added yet. */
    *grace_ms = pending ? grace : p->tile == NULL && !any_camera ? grace_left(p->added_us) : 0;
    return pending;
}

static void grace_check(RrComposite *c, GstClockTime unused)
{
    c->grace_check = FALSE;
    rr_comp_schedule(c, rr_comp_now(c));
}

static void schedule_video(RrComposite *c, GstClockTime at)
{
    guint np = c->participants->len;
    g_autofree RrLayoutItem *items = g_new0(RrLayoutItem, np + c->tracks->len);
    g_autofree GstPad **pads = g_new0(GstPad *, np + c->tracks->len);
    g_autofree gint *part_item = g_new(gint, MAX(np, 1u)); /* camera/name tile item */
    guint n = 0;
    for (guint i = 0; i < np; i++) {
        RrCompParticipant *p = g_ptr_array_index(c->participants, i);
        part_item[i] = -1;
        if (p->removed)
            continue;
        guint grace_ms;
        RrCompTrack *camera = participant_camera(c, p, &grace_ms);
        if (grace_ms > 0 && !c->grace_check) {
            /* Look again when the grace ends, should no frame have come by then. */
            c->grace_check = TRUE;
            rr_comp_invoke_after(c, grace_check, 0, grace_ms + 1);
        }
        if (camera != NULL) {
            part_item[i] = (gint)n;
            items[n].has_video = TRUE;
            pads[n++] = camera->mixer_pad;
        } else if (grace_ms > 0) {
            part_item[i] = (gint)n;
            pads[n++] = NULL; /* an empty tile for now */
        } else if (p->tile != NULL || name_tile_new(c, p) != NULL) {
            part_item[i] = (gint)n;
            pads[n++] = p->tile_pad;
        }
        for (guint k = 0; k < c->tracks->len; k++) {
            RrCompTrack *t = g_ptr_array_index(c->tracks, k);
            if (t->participant == p && t->screen_share && track_shows_video(c, t)) {
                items[n] = (RrLayoutItem){.has_video = TRUE, .screen_share = TRUE};
                pads[n++] = t->mixer_pad;
            }
        }
    }
    /* The loudest speaker (first in the list) that has an item. */
    gint speaker = -1;
    for (guint s = 0; c->speakers != NULL && c->speakers[s] != NULL && speaker < 0; s++) {
        for (guint i = 0; i < np && speaker < 0; i++) {
            RrCompParticipant *p = g_ptr_array_index(c->participants, i);
            if (!p->removed && g_strcmp0(p->id, c->speakers[s]) == 0)
                speaker = part_item[i];
        }
    }
    g_autofree RrLayoutRect *rects = g_new0(RrLayoutRect, MAX(n, 1u));
    rr_layout_compute(c->layout, c->encode.width, c->encode.height, items, n, speaker, rects);

    RrCompSnapshot *snap = snapshot_new(at);
    snap->background = c->theme == RR_LAYOUT_THEME_LIGHT ? "white" : "black";
    for (guint i = 0; i < n; i++)
        if (pads[i] != NULL)
            snapshot_add(snap, pads[i], &rects[i], FALSE);
    /* Every other pad is hidden; those of removed tracks/participants then released. */
    for (guint k = 0; k < c->tracks->len; k++) {
        RrCompTrack *t = g_ptr_array_index(c->tracks, k);
        if (t->codec->kind != RR_MEDIA_VIDEO || t->mixer_pad == NULL || t->released)
            continue;
        gboolean shown = FALSE;
        for (guint i = 0; i < n && !shown; i++)
            shown = pads[i] == t->mixer_pad;
        if (!shown)
            snapshot_add(snap, t->mixer_pad, NULL, t->removed);
    }
    for (guint i = 0; i < np; i++) {
        RrCompParticipant *p = g_ptr_array_index(c->participants, i);
        if (p->tile_pad == NULL || p->released)
            continue;
        gboolean shown = FALSE;
        for (guint k = 0; k < n && !shown; k++)
            shown = pads[k] == p->tile_pad;
        if (!shown)
            snapshot_add(snap, p->tile_pad, NULL, p->removed);
    }
    GST_DEBUG("composite %s: layout of %u tiles (%s) at %" GST_TIME_FORMAT, c->path, n,
              rr_layout_kind_to_string(c->layout), GST_TIME_ARGS(at));
    pending_push(c, &c->video_pending, snap);
}

static void schedule_audio(RrComposite *c, GstClockTime at)
{
    RrCompSnapshot *snap = snapshot_new(at);
    for (guint k = 0; k < c->tracks->len; k++) {
        RrCompTrack *t = g_ptr_array_index(c->tracks, k);
        if (t->codec->kind != RR_MEDIA_AUDIO || t->mixer_pad == NULL || t->released)
            continue;
        RrCompPadState st = {.pad = gst_object_ref(t->mixer_pad),
                             .mute = t->muted || t->removed,
                             .release = t->removed};
        g_array_append_val(snap->states, st);
    }
    pending_push(c, &c->audio_pending, snap);
}

void rr_comp_schedule(RrComposite *c, GstClockTime at)
{
    if (c->state == STATE_DONE)
        return;
    if (c->has_video)
        schedule_video(c, at);
    if (c->has_audio)
        schedule_audio(c, at);
}

/* ---- name tiles ---- */

/* Text rendering's first use in a process loads fontconfig's configuration and caches
 * (pango does it on a thread of its own, and the first text waits for it): a second or
 * more on a slow machine. Tiles are made when needed — when a camera is muted, often long
 * after the start — so that cost is paid once, early, off the streaming and context
 * threads: one frame through a textoverlay. */
static gpointer warm_up_text(gpointer unused)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GstElement) p = gst_parse_launch(
        "videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=64,height=36 ! textoverlay "
        "text=. font-desc=\"Sans 20\" ! fakesink",
        &error);
    if (p == NULL) {
        GST_WARNING("cannot warm up text rendering: %s", error->message);
        return NULL;
    }
    g_autoptr(GstBus) bus = gst_element_get_bus(p);
    if (gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) {
        g_autoptr(GstMessage) msg =
            gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    return NULL;
}

void rr_comp_warm_up_text(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        g_thread_unref(g_thread_new("rr-text-warm-up", warm_up_text, NULL));
        g_once_init_leave(&once, 1);
    }
}

static GstElement *name_tile_new(RrComposite *c, RrCompParticipant *p)
{
    /* Without textoverlay (warned about once, at the composite's start) the tile is plain:
     * still the participant's place in the layout. */
    g_autofree char *desc = g_strdup_printf(
        "videotestsrc is-live=true pattern=solid-color foreground-color=%u "
        "! video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 "
        "%s ! queue name=out max-size-buffers=0 max-size-bytes=0 max-size-time=3000000000",
        c->theme == RR_LAYOUT_THEME_LIGHT ? 0xffd0d0d0u : 0xff303030u, TILE_WIDTH, TILE_HEIGHT,
        TILE_FPS,
        c->tile_text ? "! textoverlay name=text valignment=center halignment=center "
                       "font-desc=\"Sans 20\" shaded-background=false"
                     : "");
    g_autoptr(GError) error = NULL;
    /* Ghost only the output: a ghosted text_sink would make textoverlay wait for text. */
    GstElement *bin = gst_parse_bin_from_description(desc, FALSE, &error);
    if (bin == NULL) {
        g_warning("composite %s: no name tile for %s: %s", c->path, p->id, error->message);
        return NULL;
    }
    g_autoptr(GstElement) out = gst_bin_get_by_name(GST_BIN(bin), "out");
    g_autoptr(GstPad) out_src = gst_element_get_static_pad(out, "src");
    gst_element_add_pad(bin, gst_ghost_pad_new("src", out_src));
    g_autofree char *name = g_strdup_printf("name_tile_%u", c->name_tiles++);
    gst_object_set_name(GST_OBJECT(bin), name);
    g_autoptr(GstElement) text = gst_bin_get_by_name(GST_BIN(bin), "text");
    if (text != NULL)
        g_object_set(text, "text", p->name ? p->name : p->id, NULL);
    gst_bin_add(GST_BIN(c->pipeline), bin);
    GstPad *pad = gst_element_request_pad_simple(c->compositor, "sink_%u");
    g_object_set(pad, "alpha", 0.0, "zorder", 0, NULL);
    gst_util_set_object_arg(G_OBJECT(pad), "sizing-policy", "keep-aspect-ratio");
    g_autoptr(GstPad) src = gst_element_get_static_pad(bin, "src");
    if (gst_pad_link(src, pad) != GST_PAD_LINK_OK) {
        g_warning("composite %s: cannot link the name tile of %s", c->path, p->id);
        gst_element_release_request_pad(c->compositor, pad);
        gst_object_unref(pad);
        gst_bin_remove(GST_BIN(c->pipeline), bin);
        return NULL;
    }
    p->tile = bin;
    p->tile_pad = pad; /* the request's reference */
    gst_element_sync_state_with_parent(bin);
    GST_INFO("composite %s: name tile for %s", c->path, p->id);
    return bin;
}

/* ---- participants ---- */

void rr_composite_add_participant(RrComposite *c, const char *id, const char *name)
{
    g_return_if_fail(id != NULL);
    RrCompParticipant *p = participant_find(c, id);
    if (p != NULL) {
        g_free(p->name);
        p->name = g_strdup(name);
        if (p->tile != NULL) {
            g_autoptr(GstElement) text = gst_bin_get_by_name(GST_BIN(p->tile), "text");
            if (text != NULL)
                g_object_set(text, "text", name ? name : id, NULL);
        }
        return;
    }
    p = g_new0(RrCompParticipant, 1);
    p->id = g_strdup(id);
    p->name = g_strdup(name);
    p->added_us = g_get_monotonic_time();
    g_ptr_array_add(c->participants, p);
    rr_comp_schedule(c, rr_comp_now(c));
}

static void track_end(RrComposite *c, RrCompTrack *t)
{
    if (t->removed)
        return;
    g_mutex_lock(&c->lock);
    t->removed = TRUE;
    g_mutex_unlock(&c->lock);
    if (t->recv_index >= 0)
        rr_recv_end_track(c->recv, (guint)t->recv_index);
}

void rr_composite_remove_participant(RrComposite *c, const char *id)
{
    RrCompParticipant *p = participant_find(c, id);
    if (p == NULL)
        return;
    p->removed = TRUE;
    for (guint i = 0; i < c->tracks->len; i++) {
        RrCompTrack *t = g_ptr_array_index(c->tracks, i);
        if (t->participant == p)
            track_end(c, t);
    }
    rr_comp_schedule(c, rr_comp_now(c));
}

/* ---- tracks ---- */

/* The output frame at or before @rt (lock held). The file's timeline starts on a frame
 * of the compositor, so that frame n of the file is at exactly n / fps: a start between
 * two frames would shorten the first and put every later one half way between two
 * ticks of the file's own frame rate (players and ffmpeg then see frames collide). */
GstClockTime rr_comp_snap_to_frame(RrComposite *c, GstClockTime rt)
{
    if (!c->has_video || c->encode.fps == 0)
        return rt;
    /* The compositor starts its grid at the background's first frame, 0 unless the phase
     * seen at the gate says otherwise. */
    GstClockTime phase = GST_CLOCK_TIME_IS_VALID(c->video_phase) ? c->video_phase : 0;
    if (rt < phase)
        return rt;
    guint64 n = gst_util_uint64_scale_int(rt - phase, c->encode.fps, GST_SECOND);
    return phase + gst_util_uint64_scale_int(n, GST_SECOND, c->encode.fps);
}

/* Streaming thread: every unit of a recorded track leaving the receive bin. The first
 * of all opens the start gate; the first after a (re)start or unmute shows the tile. */
static GstPadProbeReturn on_track_unit(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrCompTrack *t = data;
    RrComposite *c = t->c;
    GstClockTime rt = rr_pad_buffer_running_time(pad, GST_PAD_PROBE_INFO_BUFFER(info));
    if (!GST_CLOCK_TIME_IS_VALID(rt))
        return GST_PAD_PROBE_OK;
    gboolean show = FALSE;
    g_mutex_lock(&c->lock);
    if (!GST_CLOCK_TIME_IS_VALID(c->gate_time)) {
        c->gate_time = rr_comp_snap_to_frame(c, rt);
        GST_INFO_OBJECT(pad, "start gate at %" GST_TIME_FORMAT " (track %u)", GST_TIME_ARGS(rt),
                        t->index);
    }
    if (t->want_frame && (!GST_CLOCK_TIME_IS_VALID(t->show_from) || rt >= t->show_from)) {
        t->want_frame = FALSE;
        t->live = TRUE;
        t->ever_live = TRUE;
        show = TRUE;
    }
    g_mutex_unlock(&c->lock);
    if (show)
        rr_comp_invoke(c, rr_comp_schedule, rt);
    return GST_PAD_PROBE_OK;
}

/* Latency queries on a track's receive pad: before rtpbin has created the stream's pad
 * the depayloader is unlinked and the query would fail — and with it the mixers' whole
 * latency query, leaving them without a deadline. The answer is the jitterbuffer's
 * latency, which is what the receive chain adds. */
static GstPadProbeReturn on_track_query(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrCompTrack *t = data;
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
        return GST_PAD_PROBE_OK;
    gst_query_set_latency(query, TRUE, (GstClockTime)t->c->latency_ms * GST_MSECOND,
                          GST_CLOCK_TIME_NONE);
    return GST_PAD_PROBE_HANDLED;
}

/* Decoded video on its way to the compositor: see track_branch. */
static GstPadProbeReturn drop_duration(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    (void)data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (GST_BUFFER_DURATION_IS_VALID(buf)) {
        buf = gst_buffer_make_writable(buf);
        GST_BUFFER_DURATION(buf) = GST_CLOCK_TIME_NONE;
        GST_PAD_PROBE_INFO_DATA(info) = buf;
    }
    return GST_PAD_PROBE_OK;
}

/* recv src_N → queue → [clocksync, video] → decoder → compositor/audiomixer pad. */
static gboolean track_branch(RrComposite *c, RrCompTrack *t, GError **error)
{
    gboolean video = t->codec->kind == RR_MEDIA_VIDEO;
    g_autofree char *dec_name = g_strdup_printf("dec_%u", t->index);
    g_autofree char *queue_name = g_strdup_printf("queue_%u", t->index);
    g_autofree char *sync_name = g_strdup_printf("sync_%u", t->index);
    GstElement *dec = rr_comp_make(t->codec->decoder, dec_name, error);
    if (dec == NULL)
        return FALSE;
    GstElement *queue = rr_comp_make("queue", queue_name, error);
    GstElement *sync = queue && video ? rr_comp_make("clocksync", sync_name, error) : NULL;
    if (queue == NULL || (video && sync == NULL)) {
        gst_object_unref(gst_object_ref_sink(dec));
        if (queue != NULL)
            gst_object_unref(gst_object_ref_sink(queue));
        return FALSE;
    }
    if (t->codec->id == RR_CODEC_H264)
        g_object_set(dec, "output-corrupt", FALSE, "max-threads", 1, NULL);
    else if (video)
        g_object_set(dec, "threads", 1, NULL);
    else
        g_object_set(dec, "plc", TRUE, NULL);
    /* The queue sits before the decoder: what waits for the mixers' deadline (the
     * jitterbuffer's latency plus the decode margin) waits encoded, not as raw frames
     * (15 raw 640x360 frames are 5 MB; their VP8/H.264 is a few tens of kB). Room for
     * that latency and then some. */
    g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64)(c->latency_ms + 2000) * GST_MSECOND, NULL);
    gst_bin_add_many(GST_BIN(c->pipeline), dec, queue, NULL);
    if (sync != NULL) {
        /* ...and it stays encoded until shortly before the compositor needs it: a
         * compositor pad takes up to the mixer's whole latency (a second) of raw frames
         * — 10 MB a 640x360 camera — if the decoder runs as soon as packets come. Frames
         * are decoded DECODE_LEAD_MS before their deadline instead (the jitterbuffer's
         * latency has passed by then, so nothing waiting for a retransmission is held
         * up). clocksync passes latency answers on as they are. */
        g_object_set(sync, "ts-offset", (gint64)rr_comp_decode_offset(c), NULL);
        gst_bin_add(GST_BIN(c->pipeline), sync);
    }
    GstElement *agg = video ? c->compositor : c->mixer;
    GstPad *pad = gst_element_request_pad_simple(agg, "sink_%u");
    if (video) {
        g_object_set(pad, "alpha", 0.0, "zorder", 0, NULL);
        gst_util_set_object_arg(G_OBJECT(pad), "sizing-policy", "keep-aspect-ratio");
    }
    t->decoder = dec;
    t->queue = queue;
    t->sync = sync;
    t->mixer_pad = pad;
    g_autoptr(GstPad) dsrc = gst_element_get_static_pad(dec, "src");
    g_autoptr(GstPad) qsink = gst_element_get_static_pad(queue, "sink");
    GstPad *recv_pad = rr_recv_get_track_pad(c->recv, (guint)t->recv_index);
    gboolean linked =
        sync ? gst_element_link_many(queue, sync, dec, NULL) : gst_element_link(queue, dec);
    if (!linked || gst_pad_link(dsrc, pad) != GST_PAD_LINK_OK ||
        gst_pad_link(recv_pad, qsink) != GST_PAD_LINK_OK) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                    "cannot link the branch of track %u", t->index);
        return FALSE;
    }
    if (video) {
        /* The compositor fills an output frame with the newest input frame that starts
         * before the output frame ends (up to a frame ahead of time) — but with the first
         * one that overlaps it (up to a frame late) when frames have a duration, which
         * avdec_h264 sets and vp8dec does not. Without durations, and half a frame later,
         * every codec's picture is shown within half a frame of its time. */
        gst_pad_add_probe(dsrc, GST_PAD_PROBE_TYPE_BUFFER, drop_duration, NULL, NULL);
        gst_pad_set_offset(dsrc, (gint64)(GST_SECOND / MAX(c->encode.fps, 1u) / 2));
    } else {
        /* A track that joins part way through a sound starts without a click. */
        gst_pad_add_probe(dsrc, GST_PAD_PROBE_TYPE_BUFFER, rr_audio_fade_in_probe,
                          rr_audio_fade_new(), g_free);
    }
    gst_pad_add_probe(recv_pad, GST_PAD_PROBE_TYPE_BUFFER, on_track_unit, t, NULL);
    gst_pad_add_probe(recv_pad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, on_track_query, t, NULL);
    gst_element_sync_state_with_parent(queue);
    if (sync != NULL)
        gst_element_sync_state_with_parent(sync);
    gst_element_sync_state_with_parent(dec);
    return TRUE;
}

gint rr_composite_add_track(RrComposite *c, const RrCompositeTrack *track, GError **error)
{
    g_return_val_if_fail(track != NULL, -1);
    if (c->state == STATE_DONE || c->state == STATE_STOPPING) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STATE, "composite %s is finishing",
                    c->path);
        return -1;
    }
    RrCompParticipant *p = participant_find(c, track->participant);
    if (p == NULL) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "track of unknown participant \"%s\" (add the participant first)",
                    track->participant ? track->participant : "(none)");
        return -1;
    }
    const RrCodec *codec = rr_codec_find(track->rtp.encoding_name, error);
    if (codec == NULL)
        return -1;
    gboolean recorded = codec->kind == RR_MEDIA_VIDEO ? c->has_video : c->has_audio;
    if (recorded) {
        /* Its decoder (and depayloader, parser) can only be checked now its codec is known. */
        g_autoptr(GPtrArray) needed = rr_elements_for_track(codec, TRUE);
        if (!rr_elements_check(needed, error))
            return -1;
    }
    gint recv_index = -1;
    if (recorded && (recv_index = rr_recv_add_track(c->recv, &track->rtp, error)) < 0)
        return -1;

    RrCompTrack *t = g_new0(RrCompTrack, 1);
    t->c = c;
    t->recv_index = recv_index;
    t->codec = codec;
    t->participant = p;
    t->screen_share = track->screen_share;
    t->want_frame = TRUE;
    t->show_from = GST_CLOCK_TIME_NONE;
    t->added_us = g_get_monotonic_time();
    g_mutex_lock(&c->lock);
    t->index = c->tracks->len;
    g_ptr_array_add(c->tracks, t);
    g_mutex_unlock(&c->lock);
    if (recorded && !track_branch(c, t, error)) {
        /* The track stays, unrecorded: its packets are dropped. */
        track_end(c, t);
        return -1;
    }
    GST_INFO("composite %s: track %u (%s%s) of %s%s", c->path, t->index, codec->encoding_name,
             t->screen_share ? ", screen share" : "", p->id, recorded ? "" : ", not recorded");
    rr_comp_schedule(c, rr_comp_now(c));
    return (gint)t->index;
}

void rr_composite_remove_track(RrComposite *c, guint track)
{
    RrCompTrack *t = track_get(c, track);
    if (t == NULL || t->removed)
        return;
    track_end(c, t);
    rr_comp_schedule(c, rr_comp_now(c));
}

void rr_composite_set_track_muted(RrComposite *c, guint track, gboolean muted)
{
    RrCompTrack *t = track_get(c, track);
    if (t == NULL || t->removed || t->muted == muted)
        return;
    t->muted = muted;
    GstClockTime now = rr_comp_now(c);
    if (t->codec->kind == RR_MEDIA_VIDEO) {
        g_mutex_lock(&c->lock);
        t->live = FALSE;
        t->want_frame = !muted;
        t->show_from = now;
        g_mutex_unlock(&c->lock);
        if (!muted && t->recv_index >= 0)
            rr_recv_request_keyframe(c->recv, (guint)t->recv_index);
    }
    rr_comp_schedule(c, now);
}

void rr_composite_set_speakers(RrComposite *c, const char *const *ids)
{
    g_strfreev(c->speakers);
    c->speakers = ids && ids[0] ? g_strdupv((char **)ids) : NULL;
    if (c->layout != RR_LAYOUT_GRID)
        rr_comp_schedule(c, rr_comp_now(c));
}

gboolean rr_composite_set_layout(RrComposite *c, const char *layout, GError **error)
{
    RrLayoutKind kind;
    RrLayoutTheme theme;
    if (!rr_layout_parse(layout, &kind, &theme, error))
        return FALSE;
    c->layout = kind;
    c->theme = theme; /* the background changes with the next layout snapshot */
    g_message("composite %s: layout %s", c->path, layout ? layout : "grid");
    rr_comp_schedule(c, rr_comp_now(c));
    return TRUE;
}

/* ---- packets ---- */

static gboolean push(RrComposite *c, guint track, gboolean rtcp, const guint8 *data, gsize len,
                     GError **error)
{
    gint recv_index = -1;
    gboolean known = FALSE, removed = FALSE;
    g_mutex_lock(&c->lock);
    if (track < c->tracks->len) {
        RrCompTrack *t = g_ptr_array_index(c->tracks, track);
        known = TRUE;
        recv_index = t->recv_index;
        removed = t->removed;
    }
    g_mutex_unlock(&c->lock);
    if (!known) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "no track %u in this recording", track);
        return FALSE;
    }
    /* Unrecorded and ended tracks swallow their packets. */
    if (recv_index < 0 || removed)
        return TRUE;
    return rtcp ? rr_recv_push_rtcp(c->recv, (guint)recv_index, data, len, error)
                : rr_recv_push_rtp(c->recv, (guint)recv_index, data, len, error);
}

gboolean rr_composite_push_rtp(RrComposite *c, guint track, const guint8 *data, gsize len,
                               GError **error)
{
    return push(c, track, FALSE, data, len, error);
}

gboolean rr_composite_push_rtcp(RrComposite *c, guint track, const guint8 *data, gsize len,
                                GError **error)
{
    return push(c, track, TRUE, data, len, error);
}

void rr_composite_request_keyframe(RrComposite *c, guint track)
{
    RrCompTrack *t = track_get(c, track);
    if (t != NULL && t->recv_index >= 0)
        rr_recv_request_keyframe(c->recv, (guint)t->recv_index);
}
