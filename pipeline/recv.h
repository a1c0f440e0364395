/* pipeline/recv: the receive side of one recording — decrypted RTP/RTCP in, one parsed
 * encoded stream per track out, RTCP feedback back to the sender.
 *
 * DESIGN
 *
 * One RrRecv per recording. It owns a GstBin holding ONE rtpbin for every track of the
 * recording, with one RTP session per track (session id = track index). Lip sync is
 * not rtpbin's (its RTCP sync needs shared CNAMEs, which senders do not give: LiveKit's
 * SFU sends one per track, pion none, and it follows each sender report as it comes):
 * tracks with a sync_group (the participant) are lined up by pipeline/lipsync.h from
 * sender reports read as they are pushed, on top of their RTP timelines (see
 * Timestamps). Sender reports are still passed to rtpbin unchanged (it answers with
 * receiver reports); rtcp-sync-send-time=FALSE and ntp-sync=FALSE as before.
 *
 *        ┌──────────────────────────────── recv (GstBin) ─────────────────────────────┐
 *  push  │ pad rtp_in_N ──────► recv_rtp_sink_N ┐                                     │
 *  ────► │                                      │ rtpbin (AVPF, NACK + RTX, do-lost)  │
 *  push  │ pad rtcp_in_N ─────► recv_rtcp_sink_N│  session N ─► rtprtxreceive (aux)   │
 *  ────► │                                      │  ─► ssrcdemux ─► jitterbuffer ─►    │
 *        │                                      │     ptdemux                         │
 *        │   appsink rtcp_sink_N ◄─ send_rtcp_src_N     recv_rtp_src_N_SSRC_PT ─┐     │
 *        │        │ (RTCP out: RR, NACK, PLI/FIR)                                ▼     │
 *        │        │                          depayloader ─► parser ─► [gate] ─► src_N ──► caller
 *        └────────┼───────────────────────────────────────────────────────────────────┘
 *                 ▼ rtcp_out callback (caller protects with SRTCP and sends)
 *
 * - The jitterbuffer asks for missing packets (do-retransmission, on tracks whose
 *   sender takes NACKs); rtpsession turns the
 *   requests into generic NACKs sent at once (AVPF early feedback); retransmissions come
 *   back on the RTX SSRC and rtprtxreceive restores the original packets.
 * - Keyframes: rr_recv_request_keyframe() sends an upstream GstForceKeyUnit event into
 *   the depayloader, which rtpsession turns into a PLI (or a FIR when the sender only
 *   takes FIR). One is sent automatically when the track's stream appears, again every
 *   second until the first keyframe, and by the depayloader when loss breaks decoding.
 * - The gate drops everything before the first decodable unit (a keyframe for video, the
 *   first packet for audio), so src_N always starts decodable, and reports it through
 *   first_media with its running time: the start gate of a recording.
 * - Timestamps. The jitterbuffers run in rtpbin's default "slave" mode: each packet's
 *   PTS is its RTP time mapped onto the receiver clock through a clock-skew estimate made
 *   from arrival times. That estimate starts from the first packet and moves towards the
 *   least-delayed packet seen over its first 2 s window, so when the first packets
 *   arrive late and in a burst (usual at the start of a WebRTC subscription) the output
 *   timeline is compressed by the burst's size during the first seconds: frames come out
 *   closer together than they were captured, or with the same PTS — duplicated and
 *   missed frames in a composite. So a track with rtp_timeline or a sync_group instead
 *   gets PTS = the first packet's jitterbuffer PTS + (RTP timestamp - first RTP
 *   timestamp) / clock rate, exactly the sender's media timeline, whatever the arrival
 *   jitter (pipeline/rtp-timeline.h). The jitterbuffer's times are still used to
 *   notice a break in the RTP timeline — a new SSRC, or RTP time and jitterbuffer time
 *   disagreeing by more than a second over one packet step (sender restart, a sender
 *   that stopped its RTP clock while paused): there the timeline is re-anchored right
 *   after the previous packet, advanced by the jitterbuffer's elapsed time. Packet-lost
 *   events are moved onto the same timeline.
 * - Lip sync (sync_group, not rtp_timeline): every sender report of the track's media
 *   SSRC goes into a least-squares fit of its last 32 reports (outliers out, clock rate
 *   estimated over 20 s), never followed one by one. The group's audio (else its first
 *   track with reports) is the reference and keeps its RTP timeline as it is — audio is
 *   never stretched or cut; every other track is moved onto the reference through the
 *   two fits (each from its fifth report on): only for a target over 20 ms (or three
 *   standard errors of the fits) away, at once beyond 60 ms, else by at most 10 % of
 *   the media time passing; never backwards. Until both have reports, arrival times
 *   stand in: how late each track's first packet came (a burst at the start of a
 *   subscription) against its least delayed packet is taken out. When reports stop, a
 *   track keeps its last fit. See pipeline/lipsync.h.
 *
 * THREADS
 *
 * Pushed packets enter rtpbin on the pushing thread (rtpsession and the jitterbuffer's
 * input run there, no queue in between); what leaves a jitterbuffer, down to the
 * caller's elements, runs on that jitterbuffer's own thread. A track with rtp_timeline
 * set (track egress) gets no jitterbuffer thread: rtpbin takes a reorder buffer for it
 * (pipeline/rtp-reorder.h: packets in order, NACK for gaps, gaps given up after the
 * latency) and everything down to the caller's elements runs on the pushing thread;
 * its packets' "jitterbuffer PTS" (see rtp_timeline above) is then their arrival time.
 * Before the pipeline runs (no clock), pushed packets are dropped; after rr_recv_end*,
 * pushes fail.
 *
 * Create, add tracks, request keyframes and free from the caller's thread (the one that
 * runs @context). rr_recv_push_rtp/_rtcp may be called from any thread. Callbacks are
 * always delivered on @context, never from a GStreamer streaming thread, and never after
 * rr_recv_free(). The caller owns the GstPipeline the bin is added to and must set it to
 * NULL before rr_recv_free().
 */
#pragma once

#include <gst/gst.h>

#include "pipeline/codec.h"

G_BEGIN_DECLS

typedef struct RrRecv RrRecv;

/* One received track, as negotiated in SDP. */
typedef struct {
    const char *encoding_name; /* "VP8", "VP9", "H264", "opus" (case-insensitive) */
    guint payload_type;        /* 0..127 */
    guint clock_rate;          /* 0: the codec's standard rate */
    guint32 ssrc;              /* 0: unknown */
    guint rtx_payload_type;    /* 0: no RTX */
    guint32 rtx_ssrc;          /* 0: unknown (rtprtxreceive associates it) */
    gboolean nack;             /* a=rtcp-fb:PT nack */
    gboolean nack_pli;         /* a=rtcp-fb:PT nack pli */
    gboolean ccm_fir;          /* a=rtcp-fb:PT ccm fir */
    /* Output PTS straight from the RTP timestamps (see DESIGN), for recording a track as
     * sent, without lip sync. FALSE: with a sync_group, the RTP timeline lined up with
     * the group's other tracks; without one, the jitterbuffer's clock-slaved times. */
    gboolean rtp_timeline;
    /* Lip-sync group (copied; NULL: none): tracks with the same group — the audio and
     * video of one participant — are timed by their RTP timelines and aligned from
     * their sender reports (see DESIGN), whatever CNAME the sender gives them. */
    const char *sync_group;
} RrRecvTrackConfig;

typedef struct {
    /* An RTCP compound packet generated for @track's session, to protect and send. */
    void (*rtcp_out)(guint track, GBytes *packet, gpointer user_data);
    /* The first decodable unit of @track left the gate at @running_time. */
    void (*first_media)(guint track, GstClockTime running_time, gpointer user_data);
} RrRecvCallbacks;

typedef struct {
    guint64 rtp_packets_in;
    guint64 rtcp_packets_in;
    guint64 rtcp_packets_out;
    guint64 units_out; /* depayloaded units (frames) past the gate */
    guint64 dropped_before_start;
    guint64 keyframe_requests; /* made by rr_recv (not counting the depayloader's own) */
    guint64 jb_pushed;         /* jitterbuffer statistics */
    guint64 jb_lost;
    guint64 jb_late;
    guint64 jb_duplicates;
    guint64 rtx_requests;    /* retransmissions asked for by the jitterbuffer */
    guint64 rtx_packets;     /* RTX packets associated and restored by rtprtxreceive */
    guint64 timeline_breaks; /* rtp_timeline: times the RTP timeline was re-anchored */
    gboolean started;
    GstClockTime first_media; /* running time, GST_CLOCK_TIME_NONE before start */
    /* rtp_timeline: media received so far, from the first unit out of the gate to the
     * newest packet pushed (what the jitterbuffer still holds included): the duration a
     * recording stopped now would have. GST_CLOCK_TIME_NONE before start. */
    GstClockTime received;
} RrRecvTrackStats;

/* Jitterbuffer latency. A recording can afford it, and retransmissions need it: in
 * GStreamer 1.22 rtpsession sends one early feedback packet per regular RTCP interval
 * (dithered by half of it once RTX adds a source), so a second NACK in the same
 * interval waits for the next regular RTCP — measured at up to ~400 ms here. */
#define RR_RECV_DEFAULT_LATENCY_MS 500

/* A receive bin with jitterbuffers of @latency_ms (0: the default). Callbacks are
 * copied. RR_PIPELINE_ERROR_MISSING_ELEMENT if rtpbin is not installed. */
RrRecv *rr_recv_new(GMainContext *context, guint latency_ms, const RrRecvCallbacks *callbacks,
                    gpointer user_data, GError **error);
/* No callbacks after this returns; the pipeline must be in NULL state. */
void rr_recv_free(RrRecv *recv);

/* The bin to add to the caller's pipeline. (transfer none) */
GstElement *rr_recv_get_bin(RrRecv *recv);

/* Adds a track and returns its index (0, 1, ...), or -1 with
 * RR_PIPELINE_ERROR_INVALID_INPUT / _UNSUPPORTED / _MISSING_ELEMENT. The bin gets a src
 * pad "src_<index>" at once, carrying the parsed encoded stream. */
gint rr_recv_add_track(RrRecv *recv, const RrRecvTrackConfig *config, GError **error);
guint rr_recv_get_n_tracks(RrRecv *recv);
/* The codec of @track. (transfer none) */
const RrCodec *rr_recv_get_codec(RrRecv *recv, guint track);
/* The bin's src pad for @track. (transfer none) */
GstPad *rr_recv_get_track_pad(RrRecv *recv, guint track);

/* One decrypted RTP (or RTX) packet / RTCP compound packet for @track (copied). Any
 * thread. Packets pushed while the pipeline is not playing are dropped (TRUE). FALSE
 * with RR_PIPELINE_ERROR_INVALID_INPUT for an unknown track or a packet that is not
 * RTP/RTCP, RR_PIPELINE_ERROR_STATE once the track has ended. */
gboolean rr_recv_push_rtp(RrRecv *recv, guint track, const guint8 *data, gsize len, GError **error);
gboolean rr_recv_push_rtcp(RrRecv *recv, guint track, const guint8 *data, gsize len,
                           GError **error);

/* Ask @track's sender for a keyframe (PLI, or FIR if the sender only takes FIR). */
void rr_recv_request_keyframe(RrRecv *recv, guint track);

/* End every track: EOS flows down each track's chain after the jitterbuffers drain. */
void rr_recv_end(RrRecv *recv);
/* End one track (it was unpublished): EOS flows down its chain after its jitterbuffer
 * drains; later pushes fail with RR_PIPELINE_ERROR_STATE. No-op for an unknown track. */
void rr_recv_end_track(RrRecv *recv, guint track);

/* Snapshot of @track's counters. FALSE for an unknown track. */
gboolean rr_recv_get_stats(RrRecv *recv, guint track, RrRecvTrackStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrRecv, rr_recv_free)

G_END_DECLS
