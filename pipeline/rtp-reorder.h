/* pipeline/rtp-reorder: a jitterbuffer without a thread of its own, for recording a
 * track as it was sent (track egress).
 *
 * rtpjitterbuffer hands every packet to a thread of its own (and keeps a timer thread):
 * two thread switches per pushed batch, in a room child that runs dozens of egresses.
 * A track egress needs none of its timing — its file is timed by the RTP timeline
 * (pipeline/rtp-timeline.h), not by arrival — only the packets in order, the missing
 * ones asked for again, and the ones that do not come given up. This element does that
 * on the thread that pushes the packets: rtpbin takes it in place of rtpjitterbuffer
 * through its "request-jitterbuffer" signal (pipeline/recv.c does this for tracks with
 * rtp_timeline set), so everything down to the muxer runs on the pushing thread.
 *
 * - In order: a packet with the next sequence number goes out at once, with the held
 *   packets that follow it.
 * - A gap (a later packet arrived): the later packets are held; each missing packet is
 *   asked for (an upstream GstRTPRetransmissionRequest, which rtpsession turns into a
 *   NACK and rtprtxreceive uses to associate the RTX stream) when do-retransmission is
 *   set, again every RR_RTP_REORDER_RETRY_MS up to rtx-max-retries times, and given up
 *   once it has been missing for the latency: the held packets go out after the gap
 *   (the depayloader sees the sequence gap and marks the discontinuity).
 * - Time is the arrival time stamped on the packets (their PTS): deadlines are checked
 *   as packets come, so a stream that stops keeps what it holds until the next packet or
 *   EOS, which releases everything held.
 * - A packet behind what went out is dropped (late, or a duplicate); a jump of more than
 *   RR_RTP_REORDER_MAX_JUMP packets either way restarts the sequence (sender restart).
 * - Timestamps pass through unchanged: the PTS is the arrival time.
 *
 * rtpbin's jitterbuffer interface: "latency" (ms), "do-retransmission",
 * "rtx-max-retries", "rtx-next-seqnum" (accepted, always off), "ts-offset" (accepted,
 * ignored: lip sync is not for tracks recorded as sent), "stats" (num-pushed, num-lost,
 * num-late, num-duplicates, rtx-count, as rtpjitterbuffer's), a "sink_rtcp" request pad
 * (RTCP is dropped) and a "handle-sync" signal (never emitted).
 *
 * THREADS: the chain and events run on the pushing thread (under the pad's stream lock);
 * properties and stats may be read from any thread.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* How long after a request a missing packet is asked for again. */
#define RR_RTP_REORDER_RETRY_MS 40
/* A sequence number this far from the expected one restarts the sequence. */
#define RR_RTP_REORDER_MAX_JUMP 3000
/* At most this many packets are held; beyond it, the oldest gap is given up. */
#define RR_RTP_REORDER_MAX_HELD 1000

#define RR_TYPE_RTP_REORDER (rr_rtp_reorder_get_type())
G_DECLARE_FINAL_TYPE(RrRtpReorder, rr_rtp_reorder, RR, RTP_REORDER, GstElement)

/* A new element (floating). */
GstElement *rr_rtp_reorder_new(void);

G_END_DECLS
