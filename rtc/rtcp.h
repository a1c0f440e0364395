/* rtc/rtcp: RTCP compound parsing and the few RTCP packets a recorder sends.
 *
 * Parsing: rr_rtcp_iter_next() walks a (decrypted) compound packet and checks every
 * packet's version, length, padding and per-type minimum size, so the typed parsers
 * below never read out of bounds; malformed input is an RR_RTC_ERROR_INVALID_INPUT
 * error. Packets point into the caller's buffer (no copies).
 *
 * Building: receiver reports, SDES CNAME, PLI, FIR, generic NACK and REMB are appended
 * to a GByteArray; a compound packet per RFC 3550/4585 is RR + SDES (CNAME) followed by
 * any feedback (rr_rtcp_build_compound, then the rr_rtcp_build_<fb> calls).
 *
 * Called from the job's networking context. No state, no threads.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    RR_RTCP_SR = 200,
    RR_RTCP_RR = 201,
    RR_RTCP_SDES = 202,
    RR_RTCP_BYE = 203,
    RR_RTCP_APP = 204,
    RR_RTCP_RTPFB = 205,
    RR_RTCP_PSFB = 206,
    RR_RTCP_XR = 207,
} RrRtcpType;

/* Feedback message types (FMT). */
enum {
    RR_RTCP_RTPFB_NACK = 1,
    RR_RTCP_RTPFB_TWCC = 15,
    RR_RTCP_PSFB_PLI = 1,
    RR_RTCP_PSFB_FIR = 4,
    RR_RTCP_PSFB_AFB = 15, /* application layer feedback, e.g. REMB */
};

#define RR_RTCP_SDES_CNAME  1
#define RR_RTCP_MAX_REPORTS 31

/* One packet of a compound. */
typedef struct {
    guint8 type;  /* RrRtcpType or another value in 192..223 */
    guint8 count; /* RC, SC or FMT (5 bits) */
    gboolean padding;
    const guint8 *data; /* whole packet, header and padding included */
    gsize len;
    const guint8 *body; /* after the 4-byte header, without padding */
    gsize body_len;
} RrRtcpPacket;

typedef struct {
    const guint8 *data;
    gsize len;
    gsize offset;
} RrRtcpIter;

typedef struct {
    guint32 ssrc;           /* source this block is about */
    guint8 fraction_lost;   /* 8-bit fixed point */
    gint32 cumulative_lost; /* 24-bit signed on the wire */
    guint32 ext_highest_seq;
    guint32 jitter;
    guint32 lsr;  /* middle 32 bits of the last SR's NTP time */
    guint32 dlsr; /* delay since last SR, 1/65536 s */
} RrRtcpReportBlock;

typedef struct {
    guint32 ssrc;
    guint64 ntp; /* 32.32 fixed point */
    guint32 rtp_ts;
    guint32 packet_count;
    guint32 octet_count;
    guint n_reports;
    RrRtcpReportBlock reports[RR_RTCP_MAX_REPORTS];
} RrRtcpSr;

typedef struct {
    guint32 ssrc;
    guint n_reports;
    RrRtcpReportBlock reports[RR_RTCP_MAX_REPORTS];
} RrRtcpRr;

/* RTPFB/PSFB common part (RFC 4585 §6.1). */
typedef struct {
    guint8 fmt;
    guint32 sender_ssrc;
    guint32 media_ssrc;
    const guint8 *fci;
    gsize fci_len;
} RrRtcpFb;

typedef struct {
    guint32 ssrc;
    guint8 seq;
} RrRtcpFirEntry;

typedef struct {
    guint64 bitrate; /* bits per second (saturates) */
    guint n_ssrcs;
    guint32 ssrcs[255];
} RrRtcpRemb;

typedef struct {
    guint n_ssrcs;
    guint32 ssrcs[31];
    const guint8 *reason; /* not NUL-terminated; NULL if none */
    gsize reason_len;
} RrRtcpBye;

typedef struct {
    guint8 subtype;
    guint32 ssrc;
    char name[5]; /* 4 ASCII characters + NUL */
    const guint8 *data;
    gsize len;
} RrRtcpApp;

void rr_rtcp_iter_init(RrRtcpIter *iter, const guint8 *data, gsize len);
/* TRUE with *pkt filled; FALSE at the end (error not set) or on malformed input (error
 * set, iteration stops). */
gboolean rr_rtcp_iter_next(RrRtcpIter *iter, RrRtcpPacket *pkt, GError **error);
/* Checks a whole compound (at least one packet). */
gboolean rr_rtcp_validate(const guint8 *data, gsize len, GError **error);

gboolean rr_rtcp_parse_sr(const RrRtcpPacket *pkt, RrRtcpSr *sr, GError **error);
gboolean rr_rtcp_parse_rr(const RrRtcpPacket *pkt, RrRtcpRr *rr, GError **error);
gboolean rr_rtcp_parse_fb(const RrRtcpPacket *pkt, RrRtcpFb *fb, GError **error);
/* Appends the lost sequence numbers (guint16) of a generic NACK to seqs. */
gboolean rr_rtcp_parse_nack(const RrRtcpFb *fb, GArray *seqs, GError **error);
/* Number of FIR entries of a PSFB FMT 4; entry i into *entry. */
guint rr_rtcp_fir_count(const RrRtcpFb *fb);
gboolean rr_rtcp_fir_entry(const RrRtcpFb *fb, guint i, RrRtcpFirEntry *entry);
gboolean rr_rtcp_parse_remb(const RrRtcpFb *fb, RrRtcpRemb *remb, GError **error);
gboolean rr_rtcp_parse_bye(const RrRtcpPacket *pkt, RrRtcpBye *bye, GError **error);
gboolean rr_rtcp_parse_app(const RrRtcpPacket *pkt, RrRtcpApp *app, GError **error);
/* XR: the sender SSRC; the report blocks are checked for length only. */
gboolean rr_rtcp_parse_xr(const RrRtcpPacket *pkt, guint32 *ssrc, GError **error);

typedef void (*RrRtcpSdesFunc)(guint32 ssrc, guint8 item, const guint8 *value, gsize len,
                               gpointer user_data);
/* Calls func for every SDES item of every chunk. */
gboolean rr_rtcp_parse_sdes(const RrRtcpPacket *pkt, RrRtcpSdesFunc func, gpointer user_data,
                            GError **error);

/* Builders: append one packet to out. */
void rr_rtcp_build_rr(GByteArray *out, guint32 sender_ssrc, const RrRtcpReportBlock *blocks,
                      guint n_blocks);
void rr_rtcp_build_sdes_cname(GByteArray *out, guint32 ssrc, const char *cname);
void rr_rtcp_build_pli(GByteArray *out, guint32 sender_ssrc, guint32 media_ssrc);
void rr_rtcp_build_fir(GByteArray *out, guint32 sender_ssrc, guint32 media_ssrc, guint8 seq);
/* Packs seqs (in order, wrap-around aware) into PID+BLP entries; returns the number of
 * entries. Several packets if there are more than 255 entries; nothing if n_seqs is 0. */
guint rr_rtcp_build_nack(GByteArray *out, guint32 sender_ssrc, guint32 media_ssrc,
                         const guint16 *seqs, guint n_seqs);
void rr_rtcp_build_remb(GByteArray *out, guint32 sender_ssrc, guint64 bitrate, const guint32 *ssrcs,
                        guint n_ssrcs);
/* RR (blocks, at most 31) + SDES CNAME: the start of every compound we send. */
void rr_rtcp_build_compound(GByteArray *out, guint32 sender_ssrc, const RrRtcpReportBlock *blocks,
                            guint n_blocks, const char *cname);

G_END_DECLS
