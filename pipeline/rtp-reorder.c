/* pipeline/rtp-reorder: see rtp-reorder.h. */
#include "pipeline/rtp-reorder.h"

#include <gst/rtp/rtp.h>

GST_DEBUG_CATEGORY_STATIC(rr_rtp_reorder_debug);
#define GST_CAT_DEFAULT rr_rtp_reorder_debug

#define DEFAULT_LATENCY_MS      200
#define DEFAULT_RTX_MAX_RETRIES 10
/* Retransmission requests sent per packet pushed, at most (a long gap is asked for over
 * the following packets). */
#define MAX_REQUESTS_PER_PUSH 64
/* Extended sequence numbers start here, so that going back never goes below 0. */
#define EXT_BASE ((guint64)1 << 32)

typedef struct {
    guint64 ext;
    GstBuffer *buf;
} Held;

typedef struct {
    guint64 ext;
    GstClockTime noticed;  /* arrival time of the packet that showed the gap */
    GstClockTime last_req; /* NONE: not asked for yet */
    guint retries;         /* requests sent */
} Missing;

struct _RrRtpReorder {
    GstElement parent;
    GstPad *sinkpad;
    GstPad *srcpad;
    GMutex lock; /* everything below */
    /* Properties. */
    guint latency_ms;
    gboolean do_retransmission;
    guint rtx_max_retries;
    gint64 ts_offset;
    /* Sequence state (streaming thread). */
    gboolean have_seq;
    guint64 next;     /* extended sequence number expected next */
    guint64 max;      /* highest extended sequence number seen */
    guint32 ssrc;     /* of the newest packet */
    GstClockTime now; /* arrival time of the newest packet */
    GArray *held;     /* Held, ascending ext, all > next */
    GArray *missing;  /* Missing, ascending ext, all >= next */
    /* Statistics. */
    guint64 num_pushed, num_lost, num_late, num_duplicates, rtx_count;
};

enum {
    PROP_0,
    PROP_LATENCY,
    PROP_DO_RETRANSMISSION,
    PROP_RTX_MAX_RETRIES,
    PROP_RTX_NEXT_SEQNUM,
    PROP_TS_OFFSET,
    PROP_STATS,
};

enum { SIGNAL_HANDLE_SYNC, N_SIGNALS };
static guint signals[N_SIGNALS];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));
static GstStaticPadTemplate rtcp_template = GST_STATIC_PAD_TEMPLATE(
    "sink_rtcp", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS("application/x-rtcp"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));

G_DEFINE_TYPE(RrRtpReorder, rr_rtp_reorder, GST_TYPE_ELEMENT)

/* ---- sequence state (under lock) ---- */

static void held_clear(GArray *held)
{
    for (guint i = 0; i < held->len; i++)
        gst_buffer_unref(g_array_index(held, Held, i).buf);
    g_array_set_size(held, 0);
}

/* Moves the held packets that now follow in order onto @out. */
static void release_ready(RrRtpReorder *self, GQueue *out)
{
    guint n = 0;
    while (n < self->held->len && g_array_index(self->held, Held, n).ext == self->next) {
        g_queue_push_tail(out, g_array_index(self->held, Held, n).buf);
        self->next++;
        self->num_pushed++;
        n++;
    }
    if (n > 0)
        g_array_remove_range(self->held, 0, n);
}

/* Gives up the oldest missing packet (always the expected one while packets are held). */
static void give_up_oldest(RrRtpReorder *self, GQueue *out)
{
    Missing *m = &g_array_index(self->missing, Missing, 0);
    GST_DEBUG_OBJECT(self, "giving up #%u after %u requests", (guint)(m->ext & 0xffff), m->retries);
    if (m->ext >= self->next)
        self->next = m->ext + 1;
    self->num_lost++;
    g_array_remove_index(self->missing, 0);
    release_ready(self, out);
}

/* Everything held goes out in order, the gaps given up: EOS, or a sequence restart. */
static void release_all(RrRtpReorder *self, GQueue *out)
{
    self->num_lost += self->missing->len;
    g_array_set_size(self->missing, 0);
    for (guint i = 0; i < self->held->len; i++) {
        g_queue_push_tail(out, g_array_index(self->held, Held, i).buf);
        self->num_pushed++;
    }
    g_array_set_size(self->held, 0);
    self->have_seq = FALSE;
}

static void missing_remove(RrRtpReorder *self, guint64 ext)
{
    for (guint i = 0; i < self->missing->len; i++) {
        guint64 e = g_array_index(self->missing, Missing, i).ext;
        if (e == ext) {
            g_array_remove_index(self->missing, i);
            return;
        }
        if (e > ext)
            return;
    }
}

/* Inserts @buf (@ext > next) in order; FALSE when it is already held. */
static gboolean held_insert(RrRtpReorder *self, guint64 ext, GstBuffer *buf)
{
    guint i = self->held->len;
    while (i > 0 && g_array_index(self->held, Held, i - 1).ext > ext)
        i--;
    if (i > 0 && g_array_index(self->held, Held, i - 1).ext == ext)
        return FALSE;
    Held h = {ext, buf};
    g_array_insert_val(self->held, i, h);
    return TRUE;
}

/* Sorts one packet in; what may go out is appended to @out. Takes @buf. */
static void sort_in(RrRtpReorder *self, guint16 seq, GstBuffer *buf, GQueue *out)
{
    if (!self->have_seq) {
        self->have_seq = TRUE;
        self->next = EXT_BASE + seq;
        self->max = self->next - 1;
    }
    guint64 ext = self->max + (guint64)(gint64)(gint16)(seq - (guint16)self->max);
    if (ext > self->max + RR_RTP_REORDER_MAX_JUMP || ext + RR_RTP_REORDER_MAX_JUMP < self->next) {
        GST_INFO_OBJECT(self, "sequence jumps to #%u: restarting", seq);
        release_all(self, out);
        self->have_seq = TRUE;
        self->next = ext = EXT_BASE + seq;
        self->max = self->next - 1;
    }
    if (ext < self->next) {
        self->num_late++;
        gst_buffer_unref(buf);
        return;
    }
    if (ext <= self->max)
        missing_remove(self, ext); /* fills a gap */
    if (ext == self->next) {
        g_queue_push_tail(out, buf);
        self->next++;
        self->num_pushed++;
        release_ready(self, out);
    } else if (!held_insert(self, ext, buf)) {
        self->num_duplicates++;
        gst_buffer_unref(buf);
        return;
    }
    if (ext > self->max) {
        /* Every packet between the highest seen and this one is missing. */
        for (guint64 e = MAX(self->max + 1, self->next); e < ext; e++) {
            Missing m = {e, self->now, GST_CLOCK_TIME_NONE, 0};
            g_array_append_val(self->missing, m);
        }
        self->max = ext;
    }
}

/* Gaps missing for the latency (or too much held) are given up. */
static void expire(RrRtpReorder *self, GQueue *out)
{
    GstClockTime latency = (GstClockTime)self->latency_ms * GST_MSECOND;
    while (self->missing->len > 0) {
        Missing *m = &g_array_index(self->missing, Missing, 0);
        gboolean due = GST_CLOCK_TIME_IS_VALID(self->now) && GST_CLOCK_TIME_IS_VALID(m->noticed) &&
                       self->now >= m->noticed + latency;
        if (!due && self->held->len <= RR_RTP_REORDER_MAX_HELD)
            break;
        give_up_oldest(self, out);
    }
}

/* Retransmission requests due now, as events to send upstream. */
static void requests_due(RrRtpReorder *self, GPtrArray *events)
{
    if (!self->do_retransmission || !GST_CLOCK_TIME_IS_VALID(self->now))
        return;
    GstClockTime retry = RR_RTP_REORDER_RETRY_MS * GST_MSECOND;
    for (guint i = 0; i < self->missing->len && events->len < MAX_REQUESTS_PER_PUSH; i++) {
        Missing *m = &g_array_index(self->missing, Missing, i);
        if (m->retries >= self->rtx_max_retries)
            continue;
        if (GST_CLOCK_TIME_IS_VALID(m->last_req) && self->now < m->last_req + retry)
            continue;
        guint delay_ms = GST_CLOCK_TIME_IS_VALID(m->noticed) && self->now > m->noticed
                             ? (guint)((self->now - m->noticed) / GST_MSECOND)
                             : 0;
        GstStructure *s = gst_structure_new(
            "GstRTPRetransmissionRequest", "seqnum", G_TYPE_UINT, (guint)(m->ext & 0xffff), "ssrc",
            G_TYPE_UINT, self->ssrc, "running-time", G_TYPE_UINT64, self->now, "delay", G_TYPE_UINT,
            delay_ms, "retry", G_TYPE_UINT, m->retries, "frequency", G_TYPE_UINT,
            (guint)RR_RTP_REORDER_RETRY_MS, "period", G_TYPE_UINT, self->latency_ms, "deadline",
            G_TYPE_UINT, self->latency_ms, "avg-rtt", G_TYPE_UINT, 0u, NULL);
        GST_DEBUG_OBJECT(
            self, "asking for #%u (request %u, %u ms missing, now %" GST_TIME_FORMAT ")",
            (guint)(m->ext & 0xffff), m->retries + 1, delay_ms, GST_TIME_ARGS(self->now));
        g_ptr_array_add(events, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
        m->retries++;
        m->last_req = self->now;
        self->rtx_count++;
    }
}

static void reset(RrRtpReorder *self)
{
    g_mutex_lock(&self->lock);
    held_clear(self->held);
    g_array_set_size(self->missing, 0);
    self->have_seq = FALSE;
    self->now = GST_CLOCK_TIME_NONE;
    g_mutex_unlock(&self->lock);
}

/* ---- pads ---- */

static GstFlowReturn push_out(RrRtpReorder *self, GQueue *out)
{
    GstFlowReturn ret = GST_FLOW_OK;
    GstBuffer *buf;
    while ((buf = g_queue_pop_head(out)) != NULL) {
        if (ret != GST_FLOW_OK) {
            gst_buffer_unref(buf);
            continue;
        }
        ret = gst_pad_push(self->srcpad, buf);
    }
    if (ret < GST_FLOW_EOS)
        GST_ELEMENT_FLOW_ERROR(self, ret);
    return ret;
}

static GstFlowReturn on_chain(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
    RrRtpReorder *self = RR_RTP_REORDER(parent);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) {
        GST_DEBUG_OBJECT(self, "dropping a buffer that is not RTP");
        gst_buffer_unref(buf);
        return GST_FLOW_OK;
    }
    guint16 seq = gst_rtp_buffer_get_seq(&rtp);
    guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    gst_rtp_buffer_unmap(&rtp);

    GQueue out = G_QUEUE_INIT;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    g_mutex_lock(&self->lock);
    self->ssrc = ssrc;
    if (GST_BUFFER_PTS_IS_VALID(buf))
        self->now = GST_BUFFER_PTS(buf);
    sort_in(self, seq, buf, &out);
    expire(self, &out);
    requests_due(self, events);
    g_mutex_unlock(&self->lock);

    /* Requests first: the packets pushed out may end up in the muxer for a while. */
    for (guint i = 0; i < events->len; i++)
        gst_pad_push_event(self->sinkpad, g_ptr_array_index(events, i));
    return push_out(self, &out);
}

static gboolean on_sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
    RrRtpReorder *self = RR_RTP_REORDER(parent);
    switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_EOS: {
        GQueue out = G_QUEUE_INIT;
        g_mutex_lock(&self->lock);
        release_all(self, &out);
        g_mutex_unlock(&self->lock);
        push_out(self, &out);
        break;
    }
    case GST_EVENT_FLUSH_STOP:
        reset(self);
        break;
    default:
        break;
    }
    return gst_pad_push_event(self->srcpad, event);
}

/* Upstream events (keyframe requests from the depayloader) go to the RTP input only. */
static gboolean on_src_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
    RrRtpReorder *self = RR_RTP_REORDER(parent);
    return gst_pad_push_event(self->sinkpad, event);
}

/* Queries from downstream go to the RTP input only; the latency is what packets can be
 * held. */
static gboolean on_src_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
    RrRtpReorder *self = RR_RTP_REORDER(parent);
    if (!gst_pad_peer_query(self->sinkpad, query))
        return FALSE;
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        gboolean live;
        GstClockTime min, max;
        gst_query_parse_latency(query, &live, &min, &max);
        g_mutex_lock(&self->lock);
        GstClockTime ours = (GstClockTime)self->latency_ms * GST_MSECOND;
        g_mutex_unlock(&self->lock);
        min += ours;
        if (GST_CLOCK_TIME_IS_VALID(max))
            max += ours;
        gst_query_set_latency(query, live, min, max);
    }
    return TRUE;
}

static GstFlowReturn on_rtcp_chain(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
    gst_buffer_unref(buf);
    return GST_FLOW_OK;
}

static gboolean on_rtcp_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
    gst_event_unref(event);
    return TRUE;
}

static GstPad *request_new_pad(GstElement *element, GstPadTemplate *templ, const gchar *name,
                               const GstCaps *caps)
{
    GstPad *existing = gst_element_get_static_pad(element, "sink_rtcp");
    if (existing != NULL) {
        gst_object_unref(existing);
        return NULL;
    }
    GstPad *pad = gst_pad_new_from_template(templ, "sink_rtcp");
    gst_pad_set_chain_function(pad, on_rtcp_chain);
    gst_pad_set_event_function(pad, on_rtcp_event);
    gst_element_add_pad(element, pad); /* activated with the element */
    return pad;
}

static void release_pad(GstElement *element, GstPad *pad)
{
    gst_pad_set_active(pad, FALSE);
    gst_element_remove_pad(element, pad);
}

static GstStateChangeReturn change_state(GstElement *element, GstStateChange transition)
{
    RrRtpReorder *self = RR_RTP_REORDER(element);
    GstStateChangeReturn ret =
        GST_ELEMENT_CLASS(rr_rtp_reorder_parent_class)->change_state(element, transition);
    if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
        reset(self);
    return ret;
}

/* ---- GObject ---- */

static void set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
    RrRtpReorder *self = RR_RTP_REORDER(object);
    g_mutex_lock(&self->lock);
    switch (id) {
    case PROP_LATENCY:
        self->latency_ms = g_value_get_uint(value);
        break;
    case PROP_DO_RETRANSMISSION:
        self->do_retransmission = g_value_get_boolean(value);
        break;
    case PROP_RTX_MAX_RETRIES:
        self->rtx_max_retries = (guint)MAX(g_value_get_int(value), 0);
        break;
    case PROP_RTX_NEXT_SEQNUM:
        break; /* always off: only packets known missing are asked for */
    case PROP_TS_OFFSET:
        self->ts_offset = g_value_get_int64(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        break;
    }
    g_mutex_unlock(&self->lock);
}

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    RrRtpReorder *self = RR_RTP_REORDER(object);
    g_mutex_lock(&self->lock);
    switch (id) {
    case PROP_LATENCY:
        g_value_set_uint(value, self->latency_ms);
        break;
    case PROP_DO_RETRANSMISSION:
        g_value_set_boolean(value, self->do_retransmission);
        break;
    case PROP_RTX_MAX_RETRIES:
        g_value_set_int(value, (gint)self->rtx_max_retries);
        break;
    case PROP_RTX_NEXT_SEQNUM:
        g_value_set_boolean(value, FALSE);
        break;
    case PROP_TS_OFFSET:
        g_value_set_int64(value, self->ts_offset);
        break;
    case PROP_STATS:
        g_value_take_boxed(
            value, gst_structure_new("application/x-rtp-jitterbuffer-stats", "num-pushed",
                                     G_TYPE_UINT64, self->num_pushed, "num-lost", G_TYPE_UINT64,
                                     self->num_lost, "num-late", G_TYPE_UINT64, self->num_late,
                                     "num-duplicates", G_TYPE_UINT64, self->num_duplicates,
                                     "rtx-count", G_TYPE_UINT64, self->rtx_count, NULL));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
        break;
    }
    g_mutex_unlock(&self->lock);
}

static void finalize(GObject *object)
{
    RrRtpReorder *self = RR_RTP_REORDER(object);
    held_clear(self->held);
    g_array_unref(self->held);
    g_array_unref(self->missing);
    g_mutex_clear(&self->lock);
    G_OBJECT_CLASS(rr_rtp_reorder_parent_class)->finalize(object);
}

static void rr_rtp_reorder_class_init(RrRtpReorderClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    object_class->set_property = set_property;
    object_class->get_property = get_property;
    object_class->finalize = finalize;
    element_class->change_state = change_state;
    element_class->request_new_pad = request_new_pad;
    element_class->release_pad = release_pad;

    GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
    g_object_class_install_property(
        object_class, PROP_LATENCY,
        g_param_spec_uint("latency", "Latency", "How long a missing packet is waited for (ms)", 0,
                          G_MAXUINT, DEFAULT_LATENCY_MS, rw));
    g_object_class_install_property(object_class, PROP_DO_RETRANSMISSION,
                                    g_param_spec_boolean("do-retransmission", "Retransmission",
                                                         "Ask for missing packets again", FALSE,
                                                         rw));
    g_object_class_install_property(object_class, PROP_RTX_MAX_RETRIES,
                                    g_param_spec_int("rtx-max-retries", "Retries",
                                                     "Requests per missing packet, at most", -1,
                                                     G_MAXINT, DEFAULT_RTX_MAX_RETRIES, rw));
    g_object_class_install_property(
        object_class, PROP_RTX_NEXT_SEQNUM,
        g_param_spec_boolean("rtx-next-seqnum", "Next seqnum",
                             "Accepted for rtpjitterbuffer compatibility; always off", FALSE, rw));
    g_object_class_install_property(object_class, PROP_TS_OFFSET,
                                    g_param_spec_int64("ts-offset", "Timestamp offset",
                                                       "Accepted and ignored", G_MININT64,
                                                       G_MAXINT64, 0, rw));
    g_object_class_install_property(object_class, PROP_STATS,
                                    g_param_spec_boxed("stats", "Statistics",
                                                       "As rtpjitterbuffer's", GST_TYPE_STRUCTURE,
                                                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    signals[SIGNAL_HANDLE_SYNC] =
        g_signal_new("handle-sync", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);

    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &rtcp_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);
    gst_element_class_set_static_metadata(element_class, "RTP reorder buffer", "Filter/Network/RTP",
                                          "Puts RTP packets in order on the pushing thread, asks "
                                          "for missing ones, gives them up after the latency",
                                          "roomrec");
    GST_DEBUG_CATEGORY_INIT(rr_rtp_reorder_debug, "rrreorder", 0, "roomrec RTP reorder buffer");
}

static void rr_rtp_reorder_init(RrRtpReorder *self)
{
    g_mutex_init(&self->lock);
    self->latency_ms = DEFAULT_LATENCY_MS;
    self->rtx_max_retries = DEFAULT_RTX_MAX_RETRIES;
    self->now = GST_CLOCK_TIME_NONE;
    self->held = g_array_new(FALSE, FALSE, sizeof(Held));
    self->missing = g_array_new(FALSE, FALSE, sizeof(Missing));

    self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
    gst_pad_set_chain_function(self->sinkpad, on_chain);
    gst_pad_set_event_function(self->sinkpad, on_sink_event);
    GST_PAD_SET_PROXY_CAPS(self->sinkpad);
    GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
    gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

    self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
    gst_pad_set_event_function(self->srcpad, on_src_event);
    gst_pad_set_query_function(self->srcpad, on_src_query);
    gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

GstElement *rr_rtp_reorder_new(void)
{
    return g_object_new(RR_TYPE_RTP_REORDER, NULL);
}
