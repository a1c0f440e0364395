/* bench/track_egress: CPU cost of many simultaneous track egresses (pipeline/track-egress).
 *
 *   bench_track_egress [--tracks 50] [--seconds 30] [--bitrate 1500] [--size 1280x720]
 *                      [--out DIR] [--keep]
 *
 * 1. Capture: a few seconds of real H.264 (x264enc, --bitrate kbps, 30 fps, keyframe every
 *    2 s) are encoded and packetized (rtph264pay, MTU 1200) once, up front, as fast as
 *    possible; every RTP packet is kept with its send time (the frame's timestamp).
 * 2. Replay: N RrTrackEgress (H.264 → fragmented MP4 in --out) run in this process; one
 *    feeder thread sends every packet at its time to all N, each with its own SSRC, looping
 *    the capture (sequence numbers and RTP timestamps continue across loops).
 * 3. Measure, over the replay only: process CPU time (getrusage) and the feeder thread's own
 *    CPU time, wall time, peak RSS (VmHWM); then stop every egress and check each file got
 *    about --seconds × 30 frames.
 * Prints a human summary and one "RESULT {json}" line. Never fails on timing; exit 1 only
 * when the egresses do not work (no file, no frames).
 *
 * Threads: the main thread runs the default GMainContext (egress callbacks); the feeder
 * thread only pushes packets (rr_track_egress_push_rtp is thread-safe).
 */
#include "pipeline/track-egress.h"

#include <gst/app/gstappsink.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define RR_BENCH_CAPTURE_S 10
#define RR_BENCH_FPS       30

typedef struct {
    GBytes *data;
    GstClockTime pts; /* send time from the start of the capture */
} RrBenchPacket;

typedef struct {
    RrTrackEgress *egress;
    guint32 ssrc;
    gboolean finished;
    RrTrackEgressResult result;
    char *path;
} RrBenchTrack;

typedef struct {
    GPtrArray *packets; /* RrBenchPacket* */
    GstClockTime capture_len;
    guint64 capture_bytes;
    RrBenchTrack *tracks;
    guint n_tracks;
    guint n_finished;
    double seconds;
    gint stop;              /* atomic: feeder stops */
    double feeder_cpu_s;    /* written by the feeder before it exits */
    guint64 pushed, errors; /* written by the feeder */
    GMainLoop *loop;
} RrBench;

static double rr_bench_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double rr_bench_thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A "VmHWM:"/"VmRSS:" line of /proc/self/status in kB, or -1. */
static gint64 rr_bench_status_kb(const char *field)
{
    g_autofree char *status = NULL;
    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
        return -1;
    const char *p = strstr(status, field);
    return p ? g_ascii_strtoll(p + strlen(field), NULL, 10) : -1;
}

/* ---------- capture ---------- */

static GstFlowReturn rr_bench_capture_sample(GstAppSink *sink, gpointer user_data)
{
    RrBench *b = user_data;
    g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ))
        return GST_FLOW_OK;
    RrBenchPacket *p = g_new0(RrBenchPacket, 1);
    p->data = g_bytes_new(map.data, map.size);
    p->pts = GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : 0;
    b->capture_bytes += map.size;
    gst_buffer_unmap(buf, &map);
    g_ptr_array_add(b->packets, p);
    return GST_FLOW_OK;
}

static void rr_bench_packet_free(gpointer p)
{
    RrBenchPacket *pkt = p;
    g_bytes_unref(pkt->data);
    g_free(pkt);
}

static gboolean rr_bench_capture(RrBench *b, guint kbps, guint width, guint height, GError **error)
{
    guint frames = RR_BENCH_CAPTURE_S * RR_BENCH_FPS;
    g_autofree char *desc = g_strdup_printf(
        "videotestsrc num-buffers=%u pattern=smpte horizontal-speed=6 ! "
        "video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 ! "
        "timeoverlay font-desc=\"Sans 48\" ! "
        "x264enc tune=zerolatency speed-preset=veryfast bitrate=%u key-int-max=%u "
        "vbv-buf-capacity=1000 ! video/x-h264,profile=constrained-baseline ! "
        "rtph264pay pt=102 ssrc=1 mtu=1200 config-interval=-1 aggregate-mode=zero-latency ! "
        "appsink name=sink sync=false",
        frames, width, height, RR_BENCH_FPS, kbps, 2 * RR_BENCH_FPS);
    g_autoptr(GstElement) pipeline = gst_parse_launch(desc, error);
    if (!pipeline)
        return FALSE;
    g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    GstAppSinkCallbacks cbs = {.new_sample = rr_bench_capture_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, b, NULL);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
    g_autoptr(GstMessage) m =
        gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    if (!m || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS || b->packets->len == 0) {
        g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "capture failed");
        return FALSE;
    }
    b->capture_len = (GstClockTime)frames * GST_SECOND / RR_BENCH_FPS;
    /* Send times from the first packet (x264enc offsets its timestamps by 1000 hours). */
    GstClockTime first = ((RrBenchPacket *)g_ptr_array_index(b->packets, 0))->pts;
    for (guint i = 0; i < b->packets->len; i++) {
        RrBenchPacket *p = g_ptr_array_index(b->packets, i);
        p->pts = p->pts > first ? p->pts - first : 0;
    }
    return TRUE;
}

/* ---------- replay ---------- */

static gpointer rr_bench_feeder(gpointer user_data)
{
    RrBench *b = user_data;
    double cpu0 = rr_bench_thread_cpu_s();
    gint64 t0 = g_get_monotonic_time();
    guint n = b->packets->len;
    guint32 ts_step = (guint32)(b->capture_len * 90000 / GST_SECOND);
    guint8 pkt[2048];
    for (guint64 i = 0; !g_atomic_int_get(&b->stop); i++) {
        guint loop = (guint)(i / n);
        const RrBenchPacket *p = g_ptr_array_index(b->packets, i % n);
        GstClockTime at = loop * b->capture_len + p->pts;
        if (at >= (GstClockTime)(b->seconds * GST_SECOND))
            break;
        gint64 wait = t0 + (gint64)(at / 1000) - g_get_monotonic_time();
        if (wait > 0)
            g_usleep((gulong)wait);
        gsize len;
        const guint8 *data = g_bytes_get_data(p->data, &len);
        if (len > sizeof pkt || len < 12)
            continue;
        memcpy(pkt, data, len);
        guint16 seq = (guint16)(((pkt[2] << 8) | pkt[3]) + loop * n);
        guint32 ts =
            ((guint32)pkt[4] << 24 | (guint32)pkt[5] << 16 | (guint32)pkt[6] << 8 | pkt[7]) +
            loop * ts_step;
        pkt[2] = seq >> 8, pkt[3] = seq & 0xff;
        pkt[4] = ts >> 24, pkt[5] = (ts >> 16) & 0xff, pkt[6] = (ts >> 8) & 0xff,
        pkt[7] = ts & 0xff;
        for (guint k = 0; k < b->n_tracks; k++) {
            guint32 ssrc = b->tracks[k].ssrc;
            pkt[8] = ssrc >> 24, pkt[9] = (ssrc >> 16) & 0xff, pkt[10] = (ssrc >> 8) & 0xff,
            pkt[11] = ssrc & 0xff;
            if (rr_track_egress_push_rtp(b->tracks[k].egress, pkt, len, NULL))
                b->pushed++;
            else
                b->errors++;
        }
    }
    b->feeder_cpu_s = rr_bench_thread_cpu_s() - cpu0;
    return NULL;
}

static void rr_bench_finished(const RrTrackEgressResult *result, const GError *error,
                              gpointer user_data)
{
    RrBenchTrack *t = user_data;
    t->finished = TRUE;
    t->result = *result;
    t->result.path = NULL;
    if (error)
        g_printerr("track %08x: %s\n", t->ssrc, error->message);
}

static gboolean rr_bench_poll_finished(gpointer user_data)
{
    RrBench *b = user_data;
    guint n = 0;
    for (guint k = 0; k < b->n_tracks; k++)
        n += b->tracks[k].finished;
    if (n == b->n_tracks) {
        g_main_loop_quit(b->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean rr_bench_quit(gpointer user_data)
{
    g_main_loop_quit(user_data);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    int tracks = 50, kbps = 1500;
    double seconds = 30;
    gboolean keep = FALSE;
    g_autofree char *out = NULL, *size = NULL;
    GOptionEntry entries[] = {
        {"tracks", 0, 0, G_OPTION_ARG_INT, &tracks, "Simultaneous egresses (50)", "N"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Replay length (30)", "S"},
        {"bitrate", 0, 0, G_OPTION_ARG_INT, &kbps, "H.264 bitrate (1500)", "KBPS"},
        {"size", 0, 0, G_OPTION_ARG_STRING, &size, "Picture size (1280x720)", "WxH"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Output directory (a new temporary one)", "DIR"},
        {"keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the output files", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- track egress CPU benchmark");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, gst_init_get_option_group());
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("bench_track_egress: %s\n", error->message);
        return 2;
    }
    unsigned w = 1280, h = 720;
    char tail;
    if (tracks < 1 || tracks > 1000 || seconds < 2 || seconds > 3600 || kbps < 50 || kbps > 50000 ||
        (size && (sscanf(size, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 4096 ||
                  h > 4096 || (w | h) & 1))) {
        g_printerr("bench_track_egress: bad arguments (see --help)\n");
        return 2;
    }
    gboolean own_out = out == NULL;
    if (own_out)
        out = g_dir_make_tmp("rr-bench-track-egress-XXXXXX", &error);
    if (!out || g_mkdir_with_parents(out, 0755) != 0) {
        g_printerr("bench_track_egress: no output directory\n");
        return 1;
    }

    RrBench b = {0};
    b.packets = g_ptr_array_new_with_free_func(rr_bench_packet_free);
    b.seconds = seconds;
    b.n_tracks = (guint)tracks;
    printf("capturing %u s of %ux%u@%u H.264 at %d kbps ...\n", RR_BENCH_CAPTURE_S, w, h,
           RR_BENCH_FPS, kbps);
    fflush(stdout);
    if (!rr_bench_capture(&b, (guint)kbps, w, h, &error)) {
        g_printerr("bench_track_egress: %s\n", error->message);
        return 1;
    }
    double in_kbps = b.capture_bytes * 8.0 / (b.capture_len / 1e9) / 1000;
    printf("captured %u RTP packets, %.0f kbps\n", b.packets->len, in_kbps);

    gint64 rss0 = rr_bench_status_kb("VmRSS:");
    b.tracks = g_new0(RrBenchTrack, b.n_tracks);
    RrTrackEgressCallbacks cbs = {.finished = rr_bench_finished};
    int ret = 0;
    for (guint k = 0; k < b.n_tracks; k++) {
        RrBenchTrack *t = &b.tracks[k];
        t->ssrc = 0x10000000u + k * 7919u;
        t->path = g_strdup_printf("%s/track-%03u.mp4", out, k);
        RrTrackEgressConfig cfg = {.track = {.encoding_name = "H264",
                                             .payload_type = 102,
                                             .clock_rate = 90000,
                                             .ssrc = t->ssrc,
                                             .nack = TRUE,
                                             .nack_pli = TRUE},
                                   .path = t->path};
        t->egress = rr_track_egress_new(&cfg, NULL, &cbs, t, &error);
        if (!t->egress || !rr_track_egress_start(t->egress, &error)) {
            g_printerr("bench_track_egress: egress %u: %s\n", k, error->message);
            return 1;
        }
    }
    b.loop = g_main_loop_new(NULL, FALSE);
    /* let every pipeline reach PLAYING before packets flow */
    g_timeout_add(500, rr_bench_quit, b.loop);
    g_main_loop_run(b.loop);

    printf("replaying to %u track egresses for %.0f s ...\n", b.n_tracks, seconds);
    fflush(stdout);
    double cpu0 = rr_bench_cpu_s();
    gint64 wall0 = g_get_monotonic_time();
    GThread *feeder = g_thread_new("feeder", rr_bench_feeder, &b);
    /* The main loop delivers egress callbacks (RTCP out, started) while the feeder runs. */
    g_timeout_add((guint)(seconds * 1000), rr_bench_quit, b.loop);
    g_main_loop_run(b.loop);
    g_atomic_int_set(&b.stop, 1);
    g_thread_join(feeder);
    double cpu = rr_bench_cpu_s() - cpu0;
    double wall = (g_get_monotonic_time() - wall0) / 1e6;
    gint64 hwm = rr_bench_status_kb("VmHWM:");
    double rss_mb = (rr_bench_status_kb("VmRSS:") - rss0) / 1024.0;

    for (guint k = 0; k < b.n_tracks; k++)
        rr_track_egress_stop(b.tracks[k].egress, 10000);
    g_timeout_add(100, rr_bench_poll_finished, &b);
    guint fail_timer = g_timeout_add_seconds(60, rr_bench_quit, b.loop);
    g_main_loop_run(b.loop);
    g_source_remove(fail_timer);

    guint64 min_units = G_MAXUINT64, max_units = 0, bytes = 0;
    guint complete = 0;
    for (guint k = 0; k < b.n_tracks; k++) {
        RrBenchTrack *t = &b.tracks[k];
        if (t->finished && t->result.complete)
            complete++;
        min_units = MIN(min_units, t->result.units);
        max_units = MAX(max_units, t->result.units);
        bytes += t->result.size;
    }
    double per_track = 100.0 * cpu / wall / b.n_tracks;
    double per_track_ex = 100.0 * (cpu - b.feeder_cpu_s) / wall / b.n_tracks;
    printf("\n== track egress: %u × H.264 %.0f kbps, %.1f s\n", b.n_tracks, in_kbps, wall);
    printf("process CPU      %.2f s = %.1f%% of one core\n", cpu, 100.0 * cpu / wall);
    printf("per track        %.2f%% of one core (%.2f%% without the feeder thread)\n", per_track,
           per_track_ex);
    printf("feeder thread    %.2f s (packet copies and pushes)\n", b.feeder_cpu_s);
    printf("RSS of egresses  %.1f MB (%.2f MB per track; process peak incl. capture %.1f MB)\n",
           rss_mb, rss_mb / b.n_tracks, hwm / 1024.0);
    printf("files            %u/%u complete, frames per file %" G_GUINT64_FORMAT
           "..%" G_GUINT64_FORMAT " (expected ~%.0f), %.1f MB total\n",
           complete, b.n_tracks, min_units, max_units, seconds * RR_BENCH_FPS, bytes / 1e6);
    printf("packets pushed   %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " refused)\n", b.pushed,
           b.errors);
    printf("RESULT {\"bench\":\"track_egress\",\"tracks\":%u,\"seconds\":%.1f,\"input_kbps\":%.0f,"
           "\"cpu_percent_per_track\":%.3f,\"cpu_percent_per_track_without_feeder\":%.3f,"
           "\"egress_rss_mb\":%.1f,\"peak_rss_mb\":%.1f,\"complete\":%u,\"min_frames\":"
           "%" G_GUINT64_FORMAT "}\n",
           b.n_tracks, wall, in_kbps, per_track, per_track_ex, rss_mb, hwm / 1024.0, complete,
           min_units);
    if (complete != b.n_tracks || min_units < seconds * RR_BENCH_FPS / 2) {
        g_printerr("bench_track_egress: egresses did not all produce their files\n");
        ret = 1;
    }

    for (guint k = 0; k < b.n_tracks; k++) {
        rr_track_egress_free(b.tracks[k].egress);
        if (!keep) {
            g_remove(b.tracks[k].path);
            g_autofree char *part = g_strconcat(b.tracks[k].path, ".part", NULL);
            g_remove(part);
        }
        g_free(b.tracks[k].path);
    }
    if (!keep && own_out)
        g_rmdir(out);
    g_free(b.tracks);
    g_ptr_array_unref(b.packets);
    g_main_loop_unref(b.loop);
    return ret;
}
