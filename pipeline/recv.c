/* pipeline/recv: see recv.h for the design and the diagram. */
#include "pipeline/recv.h"
#include "pipeline/elements.h"
#include "pipeline/pad-time.h"
#include "pipeline/pipeline-error.h"
#include "pipeline/rtp-reorder.h"
#include "pipeline/rtp-timeline.h"

#include <gst/app/gstappsink.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(rr_recv_debug);
#define GST_CAT_DEFAULT rr_recv_debug

/* How often to repeat a keyframe request while a video track waits for its first one. */
#define KEYFRAME_RETRY_US (1 * G_USEC_PER_SEC)
/* Retransmission requests per lost packet (libwebrtc's limit too); unbounded, the
 * jitterbuffer can spin on requests for a packet that will not come. */
#define RTX_MAX_RETRIES 10
/* Shortest regular RTCP interval of a receive session (see rr_recv_add_track). */
#define RTCP_MIN_INTERVAL (100 * GST_MSECOND)
/* ...of an audio session: Opus conceals a lost packet (PLC) where a video decoder
 * breaks until the next keyframe, so a later second NACK costs little, while every
 * regular RTCP packet is work on three threads. */
#define RTCP_MIN_INTERVAL_AUDIO (500 * GST_MSECOND)
/* Packets are pushed in batches (see push_rtp): a video frame, AUDIO_BATCH audio
 * packets, at most BATCH_MAX_PACKETS... */
#define AUDIO_BATCH       3
#define BATCH_MAX_PACKETS 128
/* ...held at most this long (checked when the next packet comes). */
#define BATCH_MAX_WAIT (100 * GST_MSECOND)
/* Sender reports read from one RTCP compound packet, at most. */
#define MAX_SENDER_REPORTS 8

typedef struct {
    RrRecv *recv; /* not a reference: tracks live exactly as long as recv */
    guint index;
    const RrCodec *codec;
    RrRecvTrackConfig config; /* encoding_name points into codec */
    /* Input: src pads of no element, linked to rtpbin's recv_rtp/rtcp_sink_N and pushed
     * on the caller's thread (see push_packet), under push_lock. */
    GstPad *rtp_pad;
    GstPad *rtcp_pad;
    GMutex push_lock;
    /* Video packets of the frame being received, pushed together (see push_rtp). */
    GstBufferList *batch;
    guint32 batch_ts;
    GstClockTime batch_arrival;
    GstElement *rtcp_sink;
    GstElement *depay;
    GstElement *last; /* parser, or depay when there is none */
    GstPad *ghost;
    GHashTable *jitterbuffers; /* SSRC → (owned) jitterbuffer; RTX SSRCs get one too */
    guint32 active_ssrc;       /* the SSRC linked to the depayloader */
    GstElement *rtx_receive;   /* (owned) NULL without RTX */
    /* Streaming-thread state of the gate (only touched by the output probe). */
    gboolean gate_open;
    gint64 last_request_us;
    /* Counters (atomic or under recv->lock). */
    guint64 rtp_in, rtcp_in, rtcp_out, units_out, dropped, keyframe_requests;
    GstClockTime first_media;
    gint fir_count;
    RrRtpTimeline timeline;  /* only with config.rtp_timeline or sync_group */
    RrLipsyncTrack *lipsync; /* (owned by recv->lipsync) with sync_group */
    char *sync_group;        /* config.sync_group points here */
} RrRecvTrack;

struct RrRecv {
    gatomicrefcount ref;
    GMainContext *context;
    RrRecvCallbacks callbacks;
    gpointer user_data;
    gboolean closed; /* only read/written on the context thread */
    GstElement *bin;
    GstElement *rtpbin;
    GMutex lock; /* protects tracks (the array; tracks are never removed) and stats */
    GPtrArray *tracks;
    RrLipsync *lipsync; /* the sync groups' sender-report mappings */
};

/* ---- refcounting and callback delivery ---- */

static RrRecv *recv_ref(RrRecv *recv)
{
    g_atomic_ref_count_inc(&recv->ref);
    return recv;
}

static void track_free(gpointer data)
{
    RrRecvTrack *t = data;
    g_clear_pointer(&t->jitterbuffers, g_hash_table_unref);
    GstPad *inputs[] = {t->rtp_pad, t->rtcp_pad};
    for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
        if (inputs[i] == NULL)
            continue;
        gst_pad_set_active(inputs[i], FALSE);
        gst_object_unref(inputs[i]);
    }
    g_clear_pointer(&t->batch, gst_buffer_list_unref);
    g_mutex_clear(&t->push_lock);
    g_clear_object(&t->rtx_receive);
    rr_rtp_timeline_clear(&t->timeline);
    g_free(t->sync_group);
    g_free(t);
}

static void recv_unref(RrRecv *recv)
{
    if (!g_atomic_ref_count_dec(&recv->ref))
        return;
    gst_clear_object(&recv->bin);
    g_ptr_array_unref(recv->tracks);
    rr_lipsync_free(recv->lipsync);
    g_mutex_clear(&recv->lock);
    g_main_context_unref(recv->context);
    g_free(recv);
}

typedef enum { EVENT_RTCP_OUT, EVENT_FIRST_MEDIA } RrRecvEventKind;

typedef struct {
    RrRecv *recv;
    RrRecvEventKind kind;
    guint track;
    GBytes *bytes;
    GstClockTime time;
} RrRecvEvent;

static gboolean event_dispatch(gpointer data)
{
    RrRecvEvent *ev = data;
    RrRecv *recv = ev->recv;
    if (recv->closed)
        return G_SOURCE_REMOVE;
    switch (ev->kind) {
    case EVENT_RTCP_OUT:
        if (recv->callbacks.rtcp_out)
            recv->callbacks.rtcp_out(ev->track, ev->bytes, recv->user_data);
        break;
    case EVENT_FIRST_MEDIA:
        if (recv->callbacks.first_media)
            recv->callbacks.first_media(ev->track, ev->time, recv->user_data);
        break;
    }
    return G_SOURCE_REMOVE;
}

static void event_free(gpointer data)
{
    RrRecvEvent *ev = data;
    g_clear_pointer(&ev->bytes, g_bytes_unref);
    recv_unref(ev->recv);
    g_free(ev);
}

/* Queue an event for the context thread. An idle source rather than
 * g_main_context_invoke(), which would run the callback right here, on a streaming
 * thread, whenever the context is not currently owned. */
static void event_queue(RrRecv *recv, RrRecvEventKind kind, guint track, GBytes *bytes,
                        GstClockTime time)
{
    RrRecvEvent *ev = g_new0(RrRecvEvent, 1);
    ev->recv = recv_ref(recv);
    ev->kind = kind;
    ev->track = track;
    ev->bytes = bytes;
    ev->time = time;
    g_autoptr(GSource) source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, event_dispatch, ev, event_free);
    g_source_set_static_name(source, "rr-recv-event");
    g_source_attach(source, recv->context);
}

static RrRecvTrack *track_get(RrRecv *recv, guint index)
{
    RrRecvTrack *t = NULL;
    g_mutex_lock(&recv->lock);
    if (index < recv->tracks->len)
        t = g_ptr_array_index(recv->tracks, index);
    g_mutex_unlock(&recv->lock);
    return t;
}

/* ---- keyframe requests ---- */

static void track_request_keyframe(RrRecvTrack *t)
{
    if (t->codec->kind != RR_MEDIA_VIDEO)
        return;
    /* all-headers=TRUE makes rtpsession send a FIR instead of a PLI. */
    gboolean fir = t->config.ccm_fir && !t->config.nack_pli;
    GstEvent *event = gst_video_event_new_upstream_force_key_unit(
        GST_CLOCK_TIME_NONE, fir, (guint)g_atomic_int_add(&t->fir_count, 1) + 1);
    g_autoptr(GstPad) pad = gst_element_get_static_pad(t->depay, "src");
    g_mutex_lock(&t->recv->lock);
    t->keyframe_requests++;
    g_mutex_unlock(&t->recv->lock);
    GST_DEBUG_OBJECT(t->depay, "requesting a keyframe (%s)", fir ? "FIR" : "PLI");
    gst_pad_send_event(pad, event);
}

static void keyframe_async(GstElement *element, gpointer data)
{
    RrRecvTrack *t = data;
    track_request_keyframe(t);
}

static void keyframe_async_done(gpointer data)
{
    RrRecvTrack *t = data;
    recv_unref(t->recv);
}

/* From a streaming thread: the request travels upstream through rtpbin, so it is made
 * from GStreamer's thread pool rather than under the caller's stream lock. */
static void track_request_keyframe_async(RrRecvTrack *t)
{
    recv_ref(t->recv);
    gst_element_call_async(t->depay, keyframe_async, t, keyframe_async_done);
}

void rr_recv_request_keyframe(RrRecv *recv, guint track)
{
    RrRecvTrack *t = track_get(recv, track);
    if (t != NULL)
        track_request_keyframe(t);
}

/* ---- streaming-thread handlers ---- */

static GstFlowReturn on_rtcp_sample(GstAppSink *sink, gpointer data)
{
    RrRecvTrack *t = data;
    g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf == NULL || !gst_buffer_map(buf, &map, GST_MAP_READ))
        return GST_FLOW_OK;
    GBytes *bytes = g_bytes_new(map.data, map.size);
    gst_buffer_unmap(buf, &map);
    g_mutex_lock(&t->recv->lock);
    t->rtcp_out++;
    g_mutex_unlock(&t->recv->lock);
    event_queue(t->recv, EVENT_RTCP_OUT, t->index, bytes, GST_CLOCK_TIME_NONE);
    return GST_FLOW_OK;
}

static gboolean timeline_restamp_in_list(GstBuffer **buf, guint idx, gpointer data)
{
    (void)idx;
    *buf = gst_buffer_make_writable(*buf);
    rr_rtp_timeline_restamp(data, *buf);
    return TRUE;
}

/* On the depayloader's sink pad (RTP from the jitterbuffer). */
static GstPadProbeReturn on_depay_input(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrRecvTrack *t = data;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
        rr_rtp_timeline_restamp(&t->timeline, buf);
        GST_PAD_PROBE_INFO_DATA(info) = buf;
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
        gst_buffer_list_foreach(list, timeline_restamp_in_list, &t->timeline);
        GST_PAD_PROBE_INFO_DATA(info) = list;
    } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        GstEvent *moved = GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM
                              ? rr_rtp_timeline_lost_event(&t->timeline, event)
                              : NULL;
        if (moved != NULL) {
            gst_event_unref(event);
            GST_PAD_PROBE_INFO_DATA(info) = moved;
        }
    }
    return GST_PAD_PROBE_OK;
}

/* The gate on the track's output: drop until the first decodable unit, then report it. */
static GstPadProbeReturn on_track_output(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrRecvTrack *t = data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!t->gate_open) {
        gboolean decodable = t->codec->kind == RR_MEDIA_AUDIO ||
                             !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
        if (!decodable) {
            gint64 now = g_get_monotonic_time();
            if (now - t->last_request_us >= KEYFRAME_RETRY_US) {
                t->last_request_us = now;
                track_request_keyframe_async(t);
            }
            g_mutex_lock(&t->recv->lock);
            t->dropped++;
            g_mutex_unlock(&t->recv->lock);
            return GST_PAD_PROBE_DROP;
        }
        t->gate_open = TRUE;
        GstClockTime running = rr_pad_buffer_running_time(pad, buf);
        g_mutex_lock(&t->recv->lock);
        t->first_media = running;
        g_mutex_unlock(&t->recv->lock);
        rr_rtp_timeline_set_first_pts(&t->timeline, GST_BUFFER_PTS(buf));
        GST_INFO_OBJECT(pad, "track %u: first decodable unit at %" GST_TIME_FORMAT, t->index,
                        GST_TIME_ARGS(running));
        event_queue(t->recv, EVENT_FIRST_MEDIA, t->index, NULL, running);
    }
    g_mutex_lock(&t->recv->lock);
    t->units_out++;
    g_mutex_unlock(&t->recv->lock);
    return GST_PAD_PROBE_OK;
}

/* rtpbin: a new stream (SSRC, PT) in session @N. Link it to the track's depayloader;
 * a later SSRC on the same session replaces the earlier one. */
static void on_pad_added(GstElement *rtpbin, GstPad *pad, gpointer data)
{
    RrRecv *recv = data;
    g_autofree char *name = gst_pad_get_name(pad);
    guint session, ssrc, pt;
    if (sscanf(name, "recv_rtp_src_%u_%u_%u", &session, &ssrc, &pt) != 3)
        return;
    RrRecvTrack *t = track_get(recv, session);
    if (t == NULL)
        return;
    g_autoptr(GstPad) sink = gst_element_get_static_pad(t->depay, "sink");
    g_autoptr(GstPad) old = gst_pad_get_peer(sink);
    if (old != NULL) {
        GST_INFO_OBJECT(rtpbin, "track %u: stream %s replaces the previous one", t->index, name);
        gst_pad_unlink(old, sink);
    }
    GstPadLinkReturn ret = gst_pad_link(pad, sink);
    if (ret != GST_PAD_LINK_OK) {
        GST_ERROR_OBJECT(rtpbin, "track %u: cannot link %s: %s", t->index, name,
                         gst_pad_link_get_name(ret));
        return;
    }
    g_mutex_lock(&recv->lock);
    t->active_ssrc = ssrc;
    g_mutex_unlock(&recv->lock);
    GST_INFO_OBJECT(rtpbin, "track %u: receiving %s", t->index, name);
    track_request_keyframe_async(t);
}

static void on_new_jitterbuffer(GstElement *rtpbin, GstElement *jb, guint session, guint ssrc,
                                gpointer data)
{
    RrRecv *recv = data;
    RrRecvTrack *t = track_get(recv, session);
    if (t == NULL)
        return;
    /* Retransmissions only where the sender takes NACKs (a=rtcp-fb:PT nack), and only for
     * packets known missing (a later one arrived): by default the jitterbuffer also
     * guesses when the next packet is due and asks for it when it is not there in time,
     * but packets are read in poll ticks (rtc/poll.h) and in batches, so that guess fired
     * about ten times a second per video track for packets that were on their way: each a
     * timer wake-up, an RTCP packet, a retransmission and a duplicate to drop. */
    g_object_set(jb, "do-retransmission", t->config.nack, "rtx-max-retries", RTX_MAX_RETRIES,
                 "rtx-next-seqnum", FALSE, NULL);
    g_mutex_lock(&recv->lock);
    g_hash_table_replace(t->jitterbuffers, GUINT_TO_POINTER(ssrc), gst_object_ref(jb));
    g_mutex_unlock(&recv->lock);
}

/* rtpbin asks for the jitterbuffer of a new stream of session @session: a track
 * recorded as sent (rtp_timeline) gets a reorder buffer that runs on the pushing thread
 * (pipeline/rtp-reorder.h), the others rtpbin's own rtpjitterbuffer (NULL). */
static GstElement *on_request_jitterbuffer(GstElement *rtpbin, guint session, gpointer data)
{
    RrRecvTrack *t = track_get(data, session);
    if (t == NULL || !t->config.rtp_timeline)
        return NULL;
    return rr_rtp_reorder_new();
}

static GstCaps *track_rtp_caps(RrRecvTrack *t, guint pt)
{
    const RrRecvTrackConfig *c = &t->config;
    if (pt == c->payload_type) {
        GstCaps *caps = gst_caps_new_simple(
            "application/x-rtp", "media", G_TYPE_STRING, rr_codec_media(t->codec), "clock-rate",
            G_TYPE_INT, (gint)c->clock_rate, "encoding-name", G_TYPE_STRING,
            t->codec->encoding_name, "payload", G_TYPE_INT, (gint)c->payload_type, NULL);
        GstStructure *s = gst_caps_get_structure(caps, 0);
        if (c->nack)
            gst_structure_set(s, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE, NULL);
        if (c->nack_pli)
            gst_structure_set(s, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE, NULL);
        if (c->ccm_fir)
            gst_structure_set(s, "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
        return caps;
    }
    if (c->rtx_payload_type != 0 && pt == c->rtx_payload_type) {
        return gst_caps_new_simple(
            "application/x-rtp", "media", G_TYPE_STRING, rr_codec_media(t->codec), "clock-rate",
            G_TYPE_INT, (gint)c->clock_rate, "encoding-name", G_TYPE_STRING, "RTX", "payload",
            G_TYPE_INT, (gint)pt, "apt", G_TYPE_INT, (gint)c->payload_type, NULL);
    }
    return NULL;
}

static GstCaps *on_request_pt_map(GstElement *rtpbin, guint session, guint pt, gpointer data)
{
    RrRecvTrack *t = track_get(data, session);
    return t != NULL ? track_rtp_caps(t, pt) : NULL;
}

/* rtpbin asks, when session @session is created, for an element between the session and
 * the SSRC demuxer: rtprtxreceive, turning RTX packets back into the original stream. */
static GstElement *on_request_aux_receiver(GstElement *rtpbin, guint session, gpointer data)
{
    RrRecvTrack *t = track_get(data, session);
    if (t == NULL || t->config.rtx_payload_type == 0)
        return NULL;
    GstElement *rtx = gst_element_factory_make("rtprtxreceive", NULL);
    if (rtx == NULL)
        return NULL;
    g_autofree char *pt = g_strdup_printf("%u", t->config.payload_type);
    GstStructure *pt_map = gst_structure_new("application/x-rtp-pt-map", pt, G_TYPE_UINT,
                                             t->config.rtx_payload_type, NULL);
    g_object_set(rtx, "payload-type-map", pt_map, NULL);
    gst_structure_free(pt_map);
    if (t->config.ssrc != 0 && t->config.rtx_ssrc != 0) {
        g_autofree char *ssrc = g_strdup_printf("%u", t->config.ssrc);
        GstStructure *ssrc_map = gst_structure_new("application/x-rtp-ssrc-map", ssrc, G_TYPE_UINT,
                                                   t->config.rtx_ssrc, NULL);
        g_object_set(rtx, "ssrc-map", ssrc_map, NULL);
        gst_structure_free(ssrc_map);
    }
    g_mutex_lock(&t->recv->lock);
    g_set_object(&t->rtx_receive, rtx);
    g_mutex_unlock(&t->recv->lock);

    GstElement *bin = gst_bin_new(NULL);
    gst_bin_add(GST_BIN(bin), rtx);
    g_autoptr(GstPad) sink = gst_element_get_static_pad(rtx, "sink");
    g_autoptr(GstPad) src = gst_element_get_static_pad(rtx, "src");
    g_autofree char *sink_name = g_strdup_printf("sink_%u", session);
    g_autofree char *src_name = g_strdup_printf("src_%u", session);
    gst_element_add_pad(bin, gst_ghost_pad_new(sink_name, sink));
    gst_element_add_pad(bin, gst_ghost_pad_new(src_name, src));
    return bin;
}

/* ---- construction ---- */

RrRecv *rr_recv_new(GMainContext *context, guint latency_ms, const RrRecvCallbacks *callbacks,
                    gpointer user_data, GError **error)
{
    static gsize debug_once;
    if (g_once_init_enter(&debug_once)) {
        GST_DEBUG_CATEGORY_INIT(rr_recv_debug, "rrrecv", 0, "roomrec receive bin");
        g_once_init_leave(&debug_once, 1);
    }
    GstElement *rtpbin = gst_element_factory_make("rtpbin", "rtpbin");
    if (rtpbin == NULL) {
        rr_elements_set_missing(error, "rtpbin");
        return NULL;
    }
    RrRecv *recv = g_new0(RrRecv, 1);
    g_atomic_ref_count_init(&recv->ref);
    recv->context = g_main_context_ref(context ? context : g_main_context_default());
    if (callbacks)
        recv->callbacks = *callbacks;
    recv->user_data = user_data;
    g_mutex_init(&recv->lock);
    recv->tracks = g_ptr_array_new_with_free_func(track_free);
    recv->lipsync = rr_lipsync_new();
    recv->bin = gst_object_ref_sink(gst_bin_new("recv"));
    recv->rtpbin = rtpbin;
    g_object_set(rtpbin, "latency", latency_ms ? latency_ms : RR_RECV_DEFAULT_LATENCY_MS,
                 "do-retransmission", TRUE, "do-lost", TRUE, "rtp-profile", GST_RTP_PROFILE_AVPF,
                 "rtcp-sync-send-time", FALSE, "ntp-sync", FALSE, NULL);
    g_signal_connect(rtpbin, "pad-added", G_CALLBACK(on_pad_added), recv);
    g_signal_connect(rtpbin, "request-pt-map", G_CALLBACK(on_request_pt_map), recv);
    g_signal_connect(rtpbin, "request-aux-receiver", G_CALLBACK(on_request_aux_receiver), recv);
    g_signal_connect(rtpbin, "new-jitterbuffer", G_CALLBACK(on_new_jitterbuffer), recv);
    g_signal_connect(rtpbin, "request-jitterbuffer", G_CALLBACK(on_request_jitterbuffer), recv);
    gst_bin_add(GST_BIN(recv->bin), rtpbin);
    return recv;
}

void rr_recv_free(RrRecv *recv)
{
    if (recv == NULL)
        return;
    recv->closed = TRUE;
    /* Signal handlers hold a plain pointer: disconnect them before dropping our ref. */
    g_signal_handlers_disconnect_by_data(recv->rtpbin, recv);
    recv_unref(recv);
}

GstElement *rr_recv_get_bin(RrRecv *recv)
{
    return recv->bin;
}

guint rr_recv_get_n_tracks(RrRecv *recv)
{
    g_mutex_lock(&recv->lock);
    guint n = recv->tracks->len;
    g_mutex_unlock(&recv->lock);
    return n;
}

const RrCodec *rr_recv_get_codec(RrRecv *recv, guint track)
{
    RrRecvTrack *t = track_get(recv, track);
    return t ? t->codec : NULL;
}

GstPad *rr_recv_get_track_pad(RrRecv *recv, guint track)
{
    RrRecvTrack *t = track_get(recv, track);
    return t ? t->ghost : NULL;
}

static gboolean validate_config(const RrRecvTrackConfig *c, GError **error)
{
    if (c->payload_type > 127 || c->rtx_payload_type > 127) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "payload type out of range (%u, rtx %u)", c->payload_type, c->rtx_payload_type);
        return FALSE;
    }
    if (c->rtx_payload_type != 0 && c->rtx_payload_type == c->payload_type) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "RTX payload type %u equals the media payload type", c->payload_type);
        return FALSE;
    }
    if (c->clock_rate > 1000000) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "clock rate %u is out of range", c->clock_rate);
        return FALSE;
    }
    return TRUE;
}

static GstElement *make_element(const char *factory, const char *name, GError **error)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (e == NULL) {
        rr_elements_set_missing(error, factory);
        return NULL;
    }
    return gst_object_ref_sink(e); /* callers hold a full ref, the bin takes its own */
}

/* Input pads answer latency queries as a live source with no latency of its own (as
 * appsrc is-live did): without an answer, every latency query through the jitterbuffers
 * would fail. */
static gboolean on_input_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
        return TRUE;
    }
    return gst_pad_query_default(pad, parent, query);
}

/* An input pad: a src pad of no element, active for the track's whole life (a pad of no
 * element is not activated by state changes: while rtpbin is not running, pushes just
 * return FLUSHING), with its stream-start, caps and segment stored as sticky events that
 * go to rtpbin before the first packet does. */
static GstPad *input_pad_new(const char *kind, guint index, GstCaps *caps)
{
    g_autofree char *name = g_strdup_printf("%s_in_%u", kind, index);
    GstPad *pad = gst_object_ref_sink(gst_pad_new(name, GST_PAD_SRC));
    gst_pad_set_query_function(pad, on_input_query);
    gst_pad_use_fixed_caps(pad);
    gst_pad_set_active(pad, TRUE);
    g_autofree char *stream_id = g_strdup_printf("rr-recv/%s/%u", kind, index);
    gst_pad_push_event(pad, gst_event_new_stream_start(stream_id));
    gst_pad_push_event(pad, gst_event_new_caps(caps));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(pad, gst_event_new_segment(&segment));
    return pad;
}

static gboolean link_input(GstPad *pad, GstElement *rtpbin, const char *sink_pad, GError **error)
{
    g_autoptr(GstPad) sink = gst_element_request_pad_simple(rtpbin, sink_pad);
    if (sink == NULL || gst_pad_link(pad, sink) != GST_PAD_LINK_OK) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED, "cannot link %s to %s:%s",
                    GST_PAD_NAME(pad), GST_ELEMENT_NAME(rtpbin), sink_pad);
        return FALSE;
    }
    return TRUE;
}

static gboolean link_request(GstElement *src, const char *src_pad, GstElement *sink,
                             const char *sink_pad, GError **error)
{
    if (!gst_element_link_pads(src, src_pad, sink, sink_pad)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                    "cannot link %s:%s to %s:%s", GST_ELEMENT_NAME(src), src_pad,
                    GST_ELEMENT_NAME(sink), sink_pad);
        return FALSE;
    }
    return TRUE;
}

gint rr_recv_add_track(RrRecv *recv, const RrRecvTrackConfig *config, GError **error)
{
    g_return_val_if_fail(recv != NULL && config != NULL, -1);
    const RrCodec *codec = rr_codec_find(config->encoding_name, error);
    if (codec == NULL || !validate_config(config, error))
        return -1;
    guint index = rr_recv_get_n_tracks(recv);

    g_autofree char *rtcp_sink_name = g_strdup_printf("rtcp_sink_%u", index);
    g_autofree char *depay_name = g_strdup_printf("depay_%u", index);
    g_autofree char *parse_name = g_strdup_printf("parse_%u", index);
    g_autoptr(GstElement) rtcp_sink = make_element("appsink", rtcp_sink_name, error);
    g_autoptr(GstElement) depay =
        rtcp_sink ? make_element(codec->depayloader, depay_name, error) : NULL;
    g_autoptr(GstElement) parser = NULL;
    if (depay == NULL)
        return -1;
    if (codec->parser != NULL && (parser = make_element(codec->parser, parse_name, error)) == NULL)
        return -1;

    RrRecvTrack *t = g_new0(RrRecvTrack, 1);
    t->recv = recv;
    t->index = index;
    t->codec = codec;
    t->config = *config;
    t->config.encoding_name = codec->encoding_name;
    t->sync_group = g_strdup(config->sync_group);
    t->config.sync_group = t->sync_group;
    if (t->config.clock_rate == 0)
        t->config.clock_rate = codec->clock_rate;
    t->first_media = GST_CLOCK_TIME_NONE;
    rr_rtp_timeline_init(&t->timeline, t->index, t->config.clock_rate);
    if (!t->config.rtp_timeline && t->sync_group != NULL && *t->sync_group != '\0') {
        t->lipsync = rr_lipsync_add_track(recv->lipsync, t->sync_group, index, t->config.clock_rate,
                                          codec->kind == RR_MEDIA_AUDIO);
        rr_rtp_timeline_set_lipsync(&t->timeline, t->lipsync);
    }
    g_mutex_init(&t->push_lock);
    t->jitterbuffers = g_hash_table_new_full(NULL, NULL, NULL, gst_object_unref);
    t->last_request_us = g_get_monotonic_time();

    g_autoptr(GstCaps) rtp_caps = track_rtp_caps(t, t->config.payload_type);
    g_autoptr(GstCaps) rtcp_caps = gst_caps_new_empty_simple("application/x-rtcp");
    t->rtp_pad = input_pad_new("rtp", index, rtp_caps);
    t->rtcp_pad = input_pad_new("rtcp", index, rtcp_caps);
    g_object_set(rtcp_sink, "sync", FALSE, "async", FALSE, "max-buffers", 1000, NULL);
    GstAppSinkCallbacks sink_cb = {.new_sample = on_rtcp_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(rtcp_sink), &sink_cb, t, NULL);
    if (codec->kind == RR_MEDIA_VIDEO)
        g_object_set(depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, NULL);
    if (codec->id == RR_CODEC_H264)
        g_object_set(parser, "config-interval", -1, NULL);

    t->rtcp_sink = rtcp_sink;
    t->depay = depay;
    t->last = parser ? parser : depay;
    /* Publish the track before rtpbin sessions exist: its signals look it up. */
    g_mutex_lock(&recv->lock);
    g_ptr_array_add(recv->tracks, t);
    g_mutex_unlock(&recv->lock);

    GstBin *bin = GST_BIN(recv->bin);
    gst_bin_add_many(bin, rtcp_sink, depay, NULL);
    if (parser != NULL)
        gst_bin_add(bin, parser);

    g_autofree char *rtp_sink_pad = g_strdup_printf("recv_rtp_sink_%u", index);
    g_autofree char *rtcp_sink_pad = g_strdup_printf("recv_rtcp_sink_%u", index);
    g_autofree char *rtcp_src_pad = g_strdup_printf("send_rtcp_src_%u", index);
    if (!link_input(t->rtp_pad, recv->rtpbin, rtp_sink_pad, error) ||
        !link_input(t->rtcp_pad, recv->rtpbin, rtcp_sink_pad, error) ||
        !link_request(recv->rtpbin, rtcp_src_pad, t->rtcp_sink, "sink", error) ||
        (t->last != t->depay && !link_request(t->depay, "src", t->last, "sink", error))) {
        /* The elements stay in the bin, unlinked; the track is unusable but harmless. */
        return -1;
    }

    /* Regular RTCP at most every RTCP_MIN_INTERVAL(_AUDIO): AVPF allows one early packet
     * per regular interval, so this is also how late a second NACK or PLI can be. */
    GObject *session = NULL;
    g_signal_emit_by_name(recv->rtpbin, "get-internal-session", index, &session);
    if (session != NULL) {
        g_object_set(
            session, "rtcp-min-interval",
            (guint64)(codec->kind == RR_MEDIA_VIDEO ? RTCP_MIN_INTERVAL : RTCP_MIN_INTERVAL_AUDIO),
            NULL);
        g_object_unref(session);
    }

    if (t->config.rtp_timeline || t->lipsync != NULL) {
        g_autoptr(GstPad) depay_sink = gst_element_get_static_pad(t->depay, "sink");
        gst_pad_add_probe(depay_sink,
                          GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                              GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                          on_depay_input, t, NULL);
    }
    g_autoptr(GstPad) out = gst_element_get_static_pad(t->last, "src");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, on_track_output, t, NULL);
    g_autofree char *ghost_name = g_strdup_printf("src_%u", index);
    t->ghost = gst_ghost_pad_new(ghost_name, out);
    if (GST_STATE(recv->bin) > GST_STATE_NULL)
        gst_pad_set_active(t->ghost, TRUE);
    gst_element_add_pad(recv->bin, t->ghost);

    GstElement *elements[] = {t->rtcp_sink, t->last, t->depay};
    for (gsize i = 0; i < G_N_ELEMENTS(elements); i++)
        gst_element_sync_state_with_parent(elements[i]);
    GST_INFO_OBJECT(recv->bin, "track %u: %s pt %u rtx pt %u clock %u", index, codec->encoding_name,
                    t->config.payload_type, t->config.rtx_payload_type, t->config.clock_rate);
    return (gint)index;
}

/* ---- input ---- */

/* @t's sender reports to its lip-sync mapping: those of its media SSRC (or, before the
 * first media packet, of the SSRC the track was announced with). */
static void lipsync_reports(RrRecvTrack *t, const guint8 *data, gsize len)
{
    RrSenderReport reports[MAX_SENDER_REPORTS];
    guint n = rr_sender_reports_parse(data, len, reports, G_N_ELEMENTS(reports));
    guint32 ssrc = t->config.ssrc;
    gboolean known = rr_rtp_timeline_get_media_ssrc(&t->timeline, &ssrc) || ssrc != 0;
    for (guint i = 0; known && i < n; i++) {
        if (reports[i].ssrc == ssrc)
            rr_lipsync_sender_report(t->lipsync, reports[i].ssrc, reports[i].rtp_ts,
                                     reports[i].ntp);
    }
}

/* Pushes the held frame. Under push_lock. */
static GstFlowReturn batch_flush(RrRecvTrack *t)
{
    if (t->batch == NULL)
        return GST_FLOW_OK;
    GstBufferList *list = g_steal_pointer(&t->batch);
    return gst_pad_push_list(t->rtp_pad, list);
}

/* One RTP packet into rtpbin (takes @buf), under push_lock. Media packets are held and
 * then pushed back to back, so that the jitterbuffer's thread wakes once per batch
 * instead of once per packet — most of what a track egress costs is that wake-up:
 * - video: a frame (a 1.5 Mbit/s 720p stream is ~5 packets a frame), until its marker
 *   bit, or the next frame's first packet when the marker packet is lost;
 * - audio: AUDIO_BATCH packets (20 ms each with Opus), well inside the jitterbuffer's
 *   latency.
 * A batch never waits more than BATCH_MAX_WAIT (checked as packets come, and flushed at
 * the end of the track). RTX and anything unexpected go at once, after the batch. */
static GstFlowReturn push_rtp(RrRecvTrack *t, GstBuffer *buf, const guint8 *data,
                              GstClockTime arrival)
{
    gboolean media = (data[1] & 0x7f) == t->config.payload_type;
    gboolean video = t->codec->kind == RR_MEDIA_VIDEO;
    guint32 ts = GST_READ_UINT32_BE(data + 4);
    GstFlowReturn ret = GST_FLOW_OK;
    if (t->batch != NULL &&
        (!media || (video && ts != t->batch_ts) || arrival >= t->batch_arrival + BATCH_MAX_WAIT))
        ret = batch_flush(t);
    if (!media) {
        GstFlowReturn r = gst_pad_push(t->rtp_pad, buf);
        return ret == GST_FLOW_OK ? r : ret;
    }
    if (t->batch == NULL) {
        t->batch = gst_buffer_list_new();
        t->batch_ts = ts;
        t->batch_arrival = arrival;
    }
    gst_buffer_list_add(t->batch, buf);
    guint n = gst_buffer_list_length(t->batch);
    if ((video && (data[1] & 0x80)) || (!video && n >= AUDIO_BATCH) || n >= BATCH_MAX_PACKETS) {
        GstFlowReturn r = batch_flush(t);
        return ret == GST_FLOW_OK ? r : ret;
    }
    return ret;
}

static gboolean push_packet(RrRecv *recv, guint track, gboolean rtcp, const guint8 *data, gsize len,
                            GError **error)
{
    RrRecvTrack *t = track_get(recv, track);
    if (t == NULL) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "no track %u in this recording", track);
        return FALSE;
    }
    if (data == NULL || len < (rtcp ? 8u : 12u) || len > 65535 || (data[0] >> 6) != 2) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "track %u: not an %s packet (%zu bytes)", track, rtcp ? "RTCP" : "RTP", len);
        return FALSE;
    }
    if (!rtcp && (t->config.rtp_timeline || t->lipsync != NULL) &&
        (data[1] & 0x7f) == t->config.payload_type)
        rr_rtp_timeline_received(&t->timeline, GST_READ_UINT32_BE(data + 8),
                                 GST_READ_UINT32_BE(data + 4));
    /* Stamp the arrival time (the jitterbuffer works from it) on rtpbin's clock. Before
     * the pipeline runs there is none, and nothing could take the packet anyway. */
    GstClock *clock = gst_element_get_clock(recv->rtpbin);
    GstClockTime arrival = GST_CLOCK_TIME_NONE;
    if (clock != NULL) {
        GstClockTime now = gst_clock_get_time(clock);
        GstClockTime base = gst_element_get_base_time(recv->rtpbin);
        if (now >= base)
            arrival = now - base;
        gst_object_unref(clock);
    }
    GstFlowReturn ret = GST_FLOW_FLUSHING;
    if (GST_CLOCK_TIME_IS_VALID(arrival)) {
        if (rtcp && t->lipsync != NULL)
            lipsync_reports(t, data, len);
        else if (t->lipsync != NULL && (data[1] & 0x7f) == t->config.payload_type)
            rr_lipsync_packet_arrived(t->lipsync, GST_READ_UINT32_BE(data + 8),
                                      GST_READ_UINT32_BE(data + 4), arrival);
        GstBuffer *buf = gst_buffer_new_memdup(data, len);
        GST_BUFFER_DTS(buf) = GST_BUFFER_PTS(buf) = arrival;
        GST_LOG("track %u: %s packet, %zu bytes, arrival %" GST_TIME_FORMAT, track,
                rtcp ? "RTCP" : "RTP", len, GST_TIME_ARGS(arrival));
        /* Straight into rtpbin on this thread: rtpsession and the jitterbuffer's input
         * run here, and the jitterbuffer's own thread takes it from there (one thread
         * hop, not three as through an appsrc and a queue). */
        g_mutex_lock(&t->push_lock);
        ret = rtcp ? gst_pad_push(t->rtcp_pad, buf) : push_rtp(t, buf, data, arrival);
        g_mutex_unlock(&t->push_lock);
    }
    g_mutex_lock(&recv->lock);
    if (rtcp)
        t->rtcp_in++;
    else
        t->rtp_in++;
    g_mutex_unlock(&recv->lock);
    if (ret == GST_FLOW_OK || ret == GST_FLOW_FLUSHING)
        return TRUE;
    g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_STATE, "track %u: %s input %s", track,
                rtcp ? "RTCP" : "RTP", ret == GST_FLOW_EOS ? "has ended" : "failed");
    return FALSE;
}

gboolean rr_recv_push_rtp(RrRecv *recv, guint track, const guint8 *data, gsize len, GError **error)
{
    return push_packet(recv, track, FALSE, data, len, error);
}

gboolean rr_recv_push_rtcp(RrRecv *recv, guint track, const guint8 *data, gsize len, GError **error)
{
    return push_packet(recv, track, TRUE, data, len, error);
}

/* End of stream on both inputs of @t: later pushes fail with "has ended". */
static void track_end(RrRecvTrack *t)
{
    g_mutex_lock(&t->push_lock);
    batch_flush(t);
    gst_pad_push_event(t->rtcp_pad, gst_event_new_eos());
    gst_pad_push_event(t->rtp_pad, gst_event_new_eos());
    g_mutex_unlock(&t->push_lock);
}

void rr_recv_end(RrRecv *recv)
{
    /* Tracks are never removed, so walking up to the current count needs no lock. */
    guint n = rr_recv_get_n_tracks(recv);
    for (guint i = 0; i < n; i++) {
        RrRecvTrack *t = track_get(recv, i);
        track_end(t);
    }
}

void rr_recv_end_track(RrRecv *recv, guint track)
{
    RrRecvTrack *t = track_get(recv, track);
    if (t == NULL)
        return;
    track_end(t);
}

static guint64 stats_u64(const GstStructure *s, const char *field)
{
    guint64 v = 0;
    if (s != NULL && !gst_structure_get_uint64(s, field, &v)) {
        guint u = 0;
        if (gst_structure_get_uint(s, field, &u))
            v = u;
    }
    return v;
}

gboolean rr_recv_get_stats(RrRecv *recv, guint track, RrRecvTrackStats *stats)
{
    RrRecvTrack *t = track_get(recv, track);
    if (t == NULL)
        return FALSE;
    memset(stats, 0, sizeof *stats);
    g_mutex_lock(&recv->lock);
    stats->rtp_packets_in = t->rtp_in;
    stats->rtcp_packets_in = t->rtcp_in;
    stats->rtcp_packets_out = t->rtcp_out;
    stats->units_out = t->units_out;
    stats->dropped_before_start = t->dropped;
    stats->keyframe_requests = t->keyframe_requests;
    stats->first_media = t->first_media;
    stats->received = rr_rtp_timeline_get_received(&t->timeline);
    stats->timeline_breaks = rr_rtp_timeline_get_breaks(&t->timeline);
    stats->started = GST_CLOCK_TIME_IS_VALID(t->first_media);
    GstElement *jb = g_hash_table_lookup(t->jitterbuffers, GUINT_TO_POINTER(t->active_ssrc));
    if (jb != NULL)
        gst_object_ref(jb);
    GstElement *rtx = t->rtx_receive ? gst_object_ref(t->rtx_receive) : NULL;
    g_mutex_unlock(&recv->lock);
    if (jb != NULL) {
        GstStructure *s = NULL;
        g_object_get(jb, "stats", &s, NULL);
        stats->jb_pushed = stats_u64(s, "num-pushed");
        stats->jb_lost = stats_u64(s, "num-lost");
        stats->jb_late = stats_u64(s, "num-late");
        stats->jb_duplicates = stats_u64(s, "num-duplicates");
        stats->rtx_requests = stats_u64(s, "rtx-count");
        if (s != NULL)
            gst_structure_free(s);
        gst_object_unref(jb);
    }
    if (rtx != NULL) {
        guint n = 0;
        g_object_get(rtx, "num-rtx-assoc-packets", &n, NULL);
        stats->rtx_packets = n;
        gst_object_unref(rtx);
    }
    return TRUE;
}
