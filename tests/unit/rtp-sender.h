/* tests/unit/rtp-sender.h: a real RTP sender for pipeline/ tests (header-only, tests
 * only; every unit test is a single-file program).
 *
 *   videotestsrc/audiotestsrc (live) → vp8enc | x264enc | opusenc → payloader
 *     → rtpbin send session 0 (rtprtxsend as aux sender: answers NACKs on the RTX SSRC)
 *        send_rtp_src_0  → appsink → on_rtp()   (optionally dropping 1 in N media packets)
 *        send_rtcp_src_0 → appsink → on_rtcp()  (SR + SDES CNAME)
 *        recv_rtcp_sink_0 ← appsrc ← rr_test_sender_push_rtcp()  (RR, NACK, PLI, FIR)
 *
 * on_rtp/on_rtcp run on the sender's streaming threads. Also: RTCP feedback counting and
 * ffprobe/ffmpeg helpers for checking output files by decoding them, and main-loop and
 * temporary-directory helpers.
 */
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <glib/gstdio.h>
#include <gst/rtp/rtp.h>
#include <string.h>

typedef void (*RrTestPacketFunc)(const guint8 *data, gsize len, gpointer user_data);

typedef struct {
    const char *codec; /* "VP8", "H264", "OPUS" */
    guint pt;
    guint rtx_pt; /* 0 for audio */
    guint32 ssrc;
    guint32 rtx_ssrc;
    GstElement *pipeline;
    GstElement *rtpbin;
    GstElement *rtcp_in;
    GstElement *encoder;
    guint drop_every; /* drop media packet number k*N (1-based), 0: none */
    RrTestPacketFunc on_rtp;
    RrTestPacketFunc on_rtcp;
    gpointer user_data;
    gint forward; /* atomic: 0 = swallow packets (not yet "connected") */
    gint media_packets, dropped, rtx_packets, rtcp_packets, keyframes, frames;
} RrTestSender;

static inline GstElement *rr_test_sender_aux(GstElement *rtpbin, guint session, gpointer data)
{
    RrTestSender *s = data;
    if (s->rtx_pt == 0)
        return NULL;
    GstElement *bin = gst_bin_new(NULL);
    GstElement *rtx = gst_element_factory_make("rtprtxsend", NULL);
    char key[16];
    g_snprintf(key, sizeof key, "%u", s->pt);
    GstStructure *pt_map =
        gst_structure_new("application/x-rtp-pt-map", key, G_TYPE_UINT, s->rtx_pt, NULL);
    g_snprintf(key, sizeof key, "%u", s->ssrc);
    GstStructure *ssrc_map =
        gst_structure_new("application/x-rtp-ssrc-map", key, G_TYPE_UINT, s->rtx_ssrc, NULL);
    g_object_set(rtx, "payload-type-map", pt_map, "ssrc-map", ssrc_map, "max-size-time", 2000,
                 NULL);
    gst_structure_free(pt_map);
    gst_structure_free(ssrc_map);
    gst_bin_add(GST_BIN(bin), rtx);
    GstPad *p = gst_element_get_static_pad(rtx, "sink");
    char name[32];
    g_snprintf(name, sizeof name, "sink_%u", session);
    gst_element_add_pad(bin, gst_ghost_pad_new(name, p));
    gst_object_unref(p);
    p = gst_element_get_static_pad(rtx, "src");
    g_snprintf(name, sizeof name, "src_%u", session);
    gst_element_add_pad(bin, gst_ghost_pad_new(name, p));
    gst_object_unref(p);
    return bin;
}

static inline GstFlowReturn rr_test_sender_rtp_sample(GstAppSink *sink, gpointer data)
{
    RrTestSender *s = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf != NULL && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        if (map.size >= 12 && g_atomic_int_get(&s->forward)) {
            guint pt = map.data[1] & 0x7f;
            gboolean drop = FALSE;
            if (s->rtx_pt != 0 && pt == s->rtx_pt) {
                g_atomic_int_inc(&s->rtx_packets);
            } else {
                gint n = g_atomic_int_add(&s->media_packets, 1) + 1;
                if (s->drop_every != 0 && n % (gint)s->drop_every == 0) {
                    drop = TRUE;
                    g_atomic_int_inc(&s->dropped);
                }
            }
            if (!drop && s->on_rtp)
                s->on_rtp(map.data, map.size, s->user_data);
        }
        gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

static inline GstFlowReturn rr_test_sender_rtcp_sample(GstAppSink *sink, gpointer data)
{
    RrTestSender *s = data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (sample == NULL)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buf != NULL && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        if (g_atomic_int_get(&s->forward)) {
            g_atomic_int_inc(&s->rtcp_packets);
            if (s->on_rtcp)
                s->on_rtcp(map.data, map.size, s->user_data);
        }
        gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

static inline GstPadProbeReturn rr_test_sender_enc_probe(GstPad *pad, GstPadProbeInfo *info,
                                                         gpointer data)
{
    RrTestSender *s = data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    g_atomic_int_inc(&s->frames);
    if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
        g_atomic_int_inc(&s->keyframes);
    return GST_PAD_PROBE_OK;
}

/* @keyint: frames between keyframes, 0: only the first one and those requested. */
static inline RrTestSender *rr_test_sender_new(const char *codec, guint keyint, guint drop_every,
                                               RrTestPacketFunc on_rtp, RrTestPacketFunc on_rtcp,
                                               gpointer user_data)
{
    RrTestSender *s = g_new0(RrTestSender, 1);
    s->codec = codec;
    s->ssrc = 0x11223344;
    s->rtx_ssrc = 0x55667788;
    s->drop_every = drop_every;
    s->on_rtp = on_rtp;
    s->on_rtcp = on_rtcp;
    s->user_data = user_data;
    s->forward = 1;
    guint ki = keyint ? keyint : 100000;
    char *desc;
    if (g_str_equal(codec, "VP8")) {
        s->pt = 96;
        s->rtx_pt = 97;
        desc = g_strdup_printf(
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
            "framerate=30/1 ! vp8enc name=enc deadline=1 cpu-used=16 threads=1 "
            "keyframe-max-dist=%u target-bitrate=400000 ! rtpvp8pay pt=%u ssrc=%u mtu=1100 "
            "picture-id-mode=15-bit",
            ki, s->pt, s->ssrc);
    } else if (g_str_equal(codec, "H264")) {
        s->pt = 102;
        s->rtx_pt = 103;
        desc = g_strdup_printf(
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
            "framerate=30/1 ! x264enc name=enc tune=zerolatency speed-preset=ultrafast "
            "threads=1 key-int-max=%u bitrate=400 ! video/x-h264,profile=constrained-baseline "
            "! rtph264pay pt=%u ssrc=%u mtu=1100 config-interval=-1 aggregate-mode=zero-latency",
            ki, s->pt, s->ssrc);
    } else {
        s->pt = 111;
        desc = g_strdup_printf("audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=960 "
                               "! audio/x-raw,rate=48000,channels=2 ! opusenc name=enc "
                               "frame-size=20 ! rtpopuspay pt=%u ssrc=%u",
                               s->pt, s->ssrc);
    }
    GError *error = NULL;
    GstElement *src = gst_parse_bin_from_description(desc, TRUE, &error);
    g_assert_no_error(error);
    g_free(desc);
    s->encoder = gst_bin_get_by_name(GST_BIN(src), "enc");
    GstPad *enc_src = gst_element_get_static_pad(s->encoder, "src");
    gst_pad_add_probe(enc_src, GST_PAD_PROBE_TYPE_BUFFER, rr_test_sender_enc_probe, s, NULL);
    gst_object_unref(enc_src);

    s->pipeline = gst_pipeline_new("sender");
    s->rtpbin = gst_element_factory_make("rtpbin", "sender_rtpbin");
    g_object_set(s->rtpbin, "rtp-profile", GST_RTP_PROFILE_AVPF, NULL);
    g_signal_connect(s->rtpbin, "request-aux-sender", G_CALLBACK(rr_test_sender_aux), s);
    GstElement *rtp_out = gst_element_factory_make("appsink", "rtp_out");
    GstElement *rtcp_out = gst_element_factory_make("appsink", "rtcp_out");
    s->rtcp_in = gst_element_factory_make("appsrc", "rtcp_in");
    GstCaps *caps = gst_caps_new_empty_simple("application/x-rtcp");
    g_object_set(s->rtcp_in, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE,
                 "do-timestamp", TRUE, NULL);
    gst_caps_unref(caps);
    g_object_set(rtp_out, "sync", FALSE, "async", FALSE, NULL);
    g_object_set(rtcp_out, "sync", FALSE, "async", FALSE, NULL);
    GstAppSinkCallbacks rtp_cb = {.new_sample = rr_test_sender_rtp_sample};
    GstAppSinkCallbacks rtcp_cb = {.new_sample = rr_test_sender_rtcp_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(rtp_out), &rtp_cb, s, NULL);
    gst_app_sink_set_callbacks(GST_APP_SINK(rtcp_out), &rtcp_cb, s, NULL);
    gst_bin_add_many(GST_BIN(s->pipeline), src, s->rtpbin, rtp_out, rtcp_out, s->rtcp_in, NULL);
    g_assert_true(gst_element_link_pads(src, "src", s->rtpbin, "send_rtp_sink_0"));
    g_assert_true(gst_element_link_pads(s->rtpbin, "send_rtp_src_0", rtp_out, "sink"));
    g_assert_true(gst_element_link_pads(s->rtpbin, "send_rtcp_src_0", rtcp_out, "sink"));
    g_assert_true(gst_element_link_pads(s->rtcp_in, "src", s->rtpbin, "recv_rtcp_sink_0"));
    return s;
}

static inline void rr_test_sender_start(RrTestSender *s)
{
    g_assert_cmpint(gst_element_set_state(s->pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
}

/* Stops the streaming threads: no on_rtp/on_rtcp calls after this returns. */
static inline void rr_test_sender_stop(RrTestSender *s)
{
    g_atomic_int_set(&s->forward, 0);
    gst_element_set_state(s->pipeline, GST_STATE_NULL);
}

static inline void rr_test_sender_free(RrTestSender *s)
{
    rr_test_sender_stop(s);
    gst_object_unref(s->encoder);
    gst_object_unref(s->pipeline);
    g_free(s);
}

/* Any thread. */
static inline void rr_test_sender_push_rtcp(RrTestSender *s, const guint8 *data, gsize len)
{
    gst_app_src_push_buffer(GST_APP_SRC(s->rtcp_in), gst_buffer_new_memdup(data, len));
}

/* Counts the feedback messages in an RTCP compound packet. */
typedef struct {
    guint packets, rr, nack, pli, fir;
} RrTestRtcpCount;

static inline void rr_test_rtcp_count(const guint8 *data, gsize len, RrTestRtcpCount *count)
{
    GstBuffer *buf = gst_buffer_new_memdup(data, len);
    GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
    count->packets++;
    if (gst_rtcp_buffer_validate_reduced(buf) && gst_rtcp_buffer_map(buf, GST_MAP_READ, &rtcp)) {
        GstRTCPPacket p;
        for (gboolean more = gst_rtcp_buffer_get_first_packet(&rtcp, &p); more;
             more = gst_rtcp_packet_move_to_next(&p)) {
            GstRTCPType type = gst_rtcp_packet_get_type(&p);
            GstRTCPFBType fb = GST_RTCP_FB_TYPE_INVALID;
            if (type == GST_RTCP_TYPE_RTPFB || type == GST_RTCP_TYPE_PSFB)
                fb = gst_rtcp_packet_fb_get_type(&p);
            if (type == GST_RTCP_TYPE_RR)
                count->rr++;
            else if (type == GST_RTCP_TYPE_RTPFB && fb == GST_RTCP_RTPFB_TYPE_NACK)
                count->nack++;
            else if (type == GST_RTCP_TYPE_PSFB && fb == GST_RTCP_PSFB_TYPE_PLI)
                count->pli++;
            else if (type == GST_RTCP_TYPE_PSFB && fb == GST_RTCP_PSFB_TYPE_FIR)
                count->fir++;
        }
        gst_rtcp_buffer_unmap(&rtcp);
    }
    gst_buffer_unref(buf);
}

/* ffprobe's view of a media file (first stream). */
typedef struct {
    char codec[32];
    char format[64];
    double duration; /* format duration, seconds; < 0 if unknown */
    gint64 frames;   /* nb_read_frames of the first stream (decoded), -1 if unknown */
} RrTestProbe;

static inline gboolean rr_test_ffprobe(const char *path, RrTestProbe *out)
{
    const char *argv[] = {"ffprobe",
                          "-v",
                          "error",
                          "-count_frames",
                          "-show_entries",
                          "stream=codec_name,nb_read_frames:format=duration,format_name",
                          "-of",
                          "default=nw=1",
                          path,
                          NULL};
    char *out_text = NULL;
    gint status = 0;
    memset(out, 0, sizeof *out);
    out->duration = -1;
    out->frames = -1;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out_text, NULL, &status, NULL))
        return FALSE;
    char **lines = g_strsplit(out_text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "codec_name=") && out->codec[0] == '\0')
            g_strlcpy(out->codec, *l + 11, sizeof out->codec);
        else if (g_str_has_prefix(*l, "format_name="))
            g_strlcpy(out->format, *l + 12, sizeof out->format);
        else if (g_str_has_prefix(*l, "duration=") && g_ascii_isdigit((*l)[9]))
            out->duration = g_ascii_strtod(*l + 9, NULL);
        else if (g_str_has_prefix(*l, "nb_read_frames=") && out->frames < 0 &&
                 g_ascii_isdigit((*l)[15]))
            out->frames = g_ascii_strtoll(*l + 15, NULL, 10);
    }
    g_strfreev(lines);
    g_free(out_text);
    return g_spawn_check_wait_status(status, NULL);
}

/* TRUE if ffmpeg decodes the whole file without printing a single error. *errors gets
 * ffmpeg's error output (transfer full). */
static inline gboolean rr_test_decodes_clean(const char *path, char **errors)
{
    const char *argv[] = {"ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-", NULL};
    char *err_text = NULL;
    gint status = 0;
    gboolean ok =
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err_text, &status, NULL) &&
        g_spawn_check_wait_status(status, NULL) && err_text != NULL && err_text[0] == '\0';
    if (errors)
        *errors = err_text;
    else
        g_free(err_text);
    return ok;
}

/* Main-loop helpers for the pipeline tests: run @loop for @ms, or until *@flag (a failed
 * test after @ms); the loop is woken every 20 ms to look at the clock or the flag. */
static inline gboolean rr_test_tick(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static inline void rr_test_run_for(GMainLoop *loop, guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    guint id = g_timeout_add(20, rr_test_tick, loop);
    while (g_get_monotonic_time() < end)
        g_main_loop_run(loop);
    g_source_remove(id);
}

static inline void rr_test_run_until(GMainLoop *loop, gboolean *flag, guint ms, const char *what)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    guint id = g_timeout_add(20, rr_test_tick, loop);
    while (!*flag) {
        if (g_get_monotonic_time() > end)
            g_error("timed out waiting for %s", what);
        g_main_loop_run(loop);
    }
    g_source_remove(id);
}

/* Removes a flat test directory, unless RR_TEST_KEEP is set (to look at the files). */
static inline void rr_test_remove_dir(const char *dir)
{
    if (g_getenv("RR_TEST_KEEP") != NULL)
        return;
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL) {
        char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}
