/* pipeline/output-images: JPEG snapshots every capture interval. See outputs.h. */
#include "pipeline/elements.h"
#include "pipeline/outputs.h"
#include "pipeline/pipeline-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>

struct RrImagesOutput {
    char *prefix;
    RrFileSuffix suffix;
    RrOutputClosedFunc closed;
    gpointer user_data;
    GstElement *bin; /* (owned), message-forward: its sink's EOS reaches the bus */
    GstElement *sink;
    guint count;
    GMutex lock;
    gint64 wall_base; /* under lock: unix µs of media time 0 (set by the first frame), 0: unset */
    gboolean seen_content; /* streaming thread: a frame that is not one flat colour went by */
};

static GstElement *add(GstElement *bin, const char *factory, const char *name, GError **error)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (e == NULL) {
        rr_elements_set_missing(error, factory);
        return NULL;
    }
    gst_bin_add(GST_BIN(bin), e);
    return e;
}

/* Frames before this media time are not captured: the tiles appear with their first
 * decoded frames, so the recording's first frames show little more than the background.
 * Nor, until CONTENT_WAIT_MS, frames of one flat colour (the background alone: a
 * recorder short of CPU decodes its first frames later than FIRST_CAPTURE_MS). */
#define FIRST_CAPTURE_MS 500
#define CONTENT_WAIT_MS  5000
#define FLAT_RANGE       16

/* Whether the frame's first component (luma, or red) varies by less than FLAT_RANGE over
 * a sparse grid of its pixels. FALSE when it cannot be read. */
static gboolean frame_is_flat(GstPad *pad, GstBuffer *buf)
{
    g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
    GstVideoInfo vi;
    if (caps == NULL || !gst_video_info_from_caps(&vi, caps))
        return FALSE;
    GstVideoFrame f;
    if (!gst_video_frame_map(&f, &vi, buf, GST_MAP_READ))
        return FALSE;
    const guint8 *data = GST_VIDEO_FRAME_COMP_DATA(&f, 0);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&f, 0);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, 0);
    gint w = GST_VIDEO_FRAME_COMP_WIDTH(&f, 0), h = GST_VIDEO_FRAME_COMP_HEIGHT(&f, 0);
    guint lo = 255, hi = 0;
    for (gint gy = 0; gy < 18 && w > 0 && h > 0; gy++)
        for (gint gx = 0; gx < 32; gx++) {
            gint x = (gint)(((gint64)(2 * gx + 1) * w) / 64),
                 y = (gint)(((gint64)(2 * gy + 1) * h) / 36);
            guint v = data[(gsize)y * (gsize)stride + (gsize)x * (gsize)pstride];
            lo = MIN(lo, v);
            hi = MAX(hi, v);
        }
    gst_video_frame_unmap(&f);
    return hi < lo + FLAT_RANGE;
}

static GstPadProbeReturn on_early_frame(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    RrImagesOutput *o = data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    g_mutex_lock(&o->lock);
    if (o->wall_base == 0) {
        /* The wall clock of media time 0, for TIMESTAMP names: taken as frames arrive (in
         * real time), not when the bus reports a file (which may come late). */
        o->wall_base = g_get_real_time() - (gint64)(GST_BUFFER_PTS(buf) / GST_USECOND);
    }
    g_mutex_unlock(&o->lock);
    if (GST_BUFFER_PTS(buf) < (GstClockTime)FIRST_CAPTURE_MS * GST_MSECOND)
        return GST_PAD_PROBE_DROP;
    if (!o->seen_content) {
        if (GST_BUFFER_PTS(buf) < (GstClockTime)CONTENT_WAIT_MS * GST_MSECOND &&
            frame_is_flat(pad, buf))
            return GST_PAD_PROBE_DROP;
        o->seen_content = TRUE;
    }
    return GST_PAD_PROBE_OK;
}

static void set_caps(GstElement *capsfilter, const char *str)
{
    g_autoptr(GstCaps) caps = gst_caps_from_string(str);
    g_object_set(capsfilter, "caps", caps, NULL);
}

/* leaky queue → videorate → 1/interval fps → videoscale → size → jpegenc → multifilesink */
static gboolean build(RrImagesOutput *o, const RrImagesConfig *config, GError **error)
{
    GstElement *bin = o->bin;
    GstElement *q = add(bin, "queue", "img_queue", error);
    GstElement *rate = q ? add(bin, "videorate", "img_rate", error) : NULL;
    GstElement *rate_caps = rate ? add(bin, "capsfilter", "img_rate_caps", error) : NULL;
    GstElement *scale = rate_caps ? add(bin, "videoscale", "img_scale", error) : NULL;
    GstElement *size_caps = scale ? add(bin, "capsfilter", "img_size_caps", error) : NULL;
    GstElement *enc = size_caps ? add(bin, "jpegenc", "img_enc", error) : NULL;
    o->sink = enc ? add(bin, "multifilesink", "img_sink", error) : NULL;
    if (o->sink == NULL)
        return FALSE;
    /* Never hold up the recording: a slow JPEG encoder loses frames, not the file. */
    g_object_set(q, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64)GST_SECOND, NULL);
    gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
    g_object_set(rate, "drop-only", TRUE, NULL);
    g_autofree char *rs = g_strdup_printf("video/x-raw,framerate=1/%u", config->interval_s);
    set_caps(rate_caps, rs);
    g_autofree char *ss = g_strdup_printf("video/x-raw,width=%u,height=%u,pixel-aspect-ratio=1/1",
                                          config->width, config->height);
    set_caps(size_caps, ss);
    g_autofree char *location = o->suffix == RR_FILE_SUFFIX_INDEX
                                    ? g_strdup_printf("%s_%%05d.jpeg", o->prefix)
                                    : g_strdup_printf("%s_%%05d.jpeg.part", o->prefix);
    g_object_set(o->sink, "location", location, "post-messages", TRUE, "sync", FALSE, "async",
                 FALSE, NULL);
    if (!gst_element_link_many(q, rate, rate_caps, scale, size_caps, enc, o->sink, NULL)) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_FAILED,
                    "cannot link the images branch");
        return FALSE;
    }
    g_autoptr(GstPad) target = gst_element_get_static_pad(q, "sink");
    gst_pad_add_probe(target, GST_PAD_PROBE_TYPE_BUFFER, on_early_frame, o, NULL);
    gst_element_add_pad(bin, gst_ghost_pad_new("sink", target));
    return TRUE;
}

RrImagesOutput *rr_images_output_new(const RrImagesConfig *config, RrOutputClosedFunc closed,
                                     gpointer user_data, GError **error)
{
    if (config->prefix == NULL || *config->prefix == '\0') {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "images: no filename prefix");
        return NULL;
    }
    if (config->interval_s < 1 || config->interval_s > 86400) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "images: capture interval %u s is not within 1..86400", config->interval_s);
        return NULL;
    }
    if (config->width < 16 || config->width > 4096 || config->height < 16 ||
        config->height > 4096 || config->width % 2 || config->height % 2) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_INVALID_INPUT,
                    "images: size %ux%u is not even and within 16..4096", config->width,
                    config->height);
        return NULL;
    }
    RrImagesOutput *o = g_new0(RrImagesOutput, 1);
    o->prefix = g_strdup(config->prefix);
    o->suffix = config->suffix;
    o->closed = closed;
    o->user_data = user_data;
    g_mutex_init(&o->lock);
    o->bin = gst_object_ref_sink(gst_bin_new("images"));
    g_object_set(o->bin, "message-forward", TRUE, NULL);
    if (!build(o, config, error)) {
        rr_images_output_free(o);
        return NULL;
    }
    return o;
}

void rr_images_output_free(RrImagesOutput *o)
{
    if (o == NULL)
        return;
    gst_clear_object(&o->bin);
    g_mutex_clear(&o->lock);
    g_free(o->prefix);
    g_free(o);
}

GstElement *rr_images_output_get_bin(RrImagesOutput *o)
{
    return o->bin;
}

static gboolean image_written(RrImagesOutput *o, const GstStructure *st, GError **error)
{
    const char *filename = gst_structure_get_string(st, "filename");
    if (filename == NULL)
        return TRUE;
    g_autofree char *path = g_strdup(filename);
    if (o->suffix == RR_FILE_SUFFIX_TIMESTAMP) {
        /* The capture time: media time 0's wall clock + the image's timestamp. */
        GstClockTime pts = GST_CLOCK_TIME_NONE;
        gst_structure_get_clock_time(st, "timestamp", &pts);
        g_mutex_lock(&o->lock);
        gint64 base = o->wall_base;
        g_mutex_unlock(&o->lock);
        gint64 when = base && GST_CLOCK_TIME_IS_VALID(pts) ? base + (gint64)(pts / GST_USECOND)
                                                           : g_get_real_time();
        g_autofree char *ts = rr_output_timestamp_suffix(when);
        g_autofree char *final = g_strdup_printf("%s_%s.jpeg", o->prefix, ts);
        if (g_rename(filename, final) != 0) {
            int err = errno;
            g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO,
                        "cannot rename %s to %s: %s", filename, final, g_strerror(err));
            return FALSE;
        }
        g_free(path);
        path = g_steal_pointer(&final);
    }
    o->count++;
    if (o->closed)
        o->closed(path, RR_OUTPUT_IMAGE, o->user_data);
    return TRUE;
}

gboolean rr_images_output_handle_message(RrImagesOutput *o, GstMessage *msg, gboolean *ended,
                                         GError **error)
{
    *ended = FALSE;
    if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT)
        return FALSE;
    const GstStructure *st = gst_message_get_structure(msg);
    if (GST_MESSAGE_SRC(msg) == GST_OBJECT(o->sink) &&
        gst_structure_has_name(st, "GstMultiFileSink")) {
        image_written(o, st, error);
        return TRUE;
    }
    if (GST_MESSAGE_SRC(msg) == GST_OBJECT(o->bin) &&
        gst_structure_has_name(st, "GstBinForwarded")) {
        g_autoptr(GstMessage) inner = NULL;
        gst_structure_get(st, "message", GST_TYPE_MESSAGE, &inner, NULL);
        if (inner != NULL && GST_MESSAGE_TYPE(inner) == GST_MESSAGE_EOS &&
            GST_MESSAGE_SRC(inner) == GST_OBJECT(o->sink))
            *ended = TRUE;
        return TRUE;
    }
    return FALSE;
}

void rr_images_output_result(RrImagesOutput *o, RrImagesResult *result)
{
    result->prefix = o->prefix;
    result->count = o->count;
}
