/* rtc/sdp: the LiveKit subscriber offer as plain C data, and the recorder's answer.
 *
 * rr_sdp_offer_parse() turns the server's offer (text from SessionDescription.sdp) into
 * an RrSdpOffer: ICE credentials, ice-lite, DTLS fingerprint and setup role, the BUNDLE
 * group and, per m-section, its codecs, RTX mapping, SSRCs (with FID groups), header
 * extensions and SCTP parameters. It also checks that the offer is something a
 * recorder can answer (fingerprint, ICE credentials, setup actpass/passive, BUNDLE).
 *
 * rr_sdp_answer_build() chooses what roomrec can record in every m-section (Opus for
 * audio, never RED; VP8/VP9/H264 for video, AV1/H265 only when enabled) and writes the
 * answer with GstSDPMessage: same mids in the same order, BUNDLE, rtcp-mux,
 * setup:active, recvonly, no candidates (they are trickled). The choice per m-section
 * (RrSdpChoice) tells the session which SSRC and payload type belong to which mid.
 *
 * Called from the job's networking GMainContext (signalling); pure functions, no
 * threads, no I/O. Everything returned is owned by the caller (free with
 * rr_sdp_offer_free / rr_sdp_answer_free or g_autoptr); strings inside belong to their
 * struct.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Offers larger than this are refused (a LiveKit offer with 100 tracks is ~200 KiB). */
#define RR_SDP_MAX_SIZE (1024 * 1024)

typedef enum {
    RR_SDP_KIND_AUDIO,
    RR_SDP_KIND_VIDEO,
    RR_SDP_KIND_APPLICATION,
    RR_SDP_KIND_OTHER,
} RrSdpKind;

typedef enum {
    RR_SDP_DIRECTION_SENDRECV, /* also when the m-section has no direction attribute */
    RR_SDP_DIRECTION_SENDONLY,
    RR_SDP_DIRECTION_RECVONLY,
    RR_SDP_DIRECTION_INACTIVE,
} RrSdpDirection;

typedef enum {
    RR_SDP_SETUP_NONE, /* no a=setup */
    RR_SDP_SETUP_ACTPASS,
    RR_SDP_SETUP_ACTIVE,
    RR_SDP_SETUP_PASSIVE,
    RR_SDP_SETUP_HOLDCONN,
} RrSdpSetup;

/* One payload type of an m-section (a format of the m= line plus its rtpmap/fmtp). */
typedef struct {
    guint pt;
    char *name;         /* encoding name as written ("opus", "VP8", "rtx"); "" if unknown */
    guint clock_rate;   /* 0 if unknown */
    guint channels;     /* 1 when the rtpmap gives none (audio) or for video */
    char *fmtp;         /* NULL when there is no a=fmtp */
    GPtrArray *rtcp_fb; /* char*: "nack", "nack pli", "ccm fir", "transport-cc"... */
} RrSdpCodec;

typedef struct {
    guint pt;  /* the RTX payload type */
    guint apt; /* the payload type it retransmits */
} RrSdpRtxMap;

typedef struct {
    guint32 ssrc;
    char *cname; /* NULL if absent */
    char *msid;  /* "stream track" or NULL */
} RrSdpSsrc;

typedef struct {
    guint32 primary;
    guint32 rtx;
} RrSdpFidPair;

typedef struct {
    guint id;
    char *uri;
} RrSdpExtmap;

typedef struct {
    char *mid;   /* "" if the m-section has no a=mid */
    char *media; /* the m= media token: "audio", "video", "application"... */
    char *proto; /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP"... */
    RrSdpKind kind;
    guint port;
    gboolean rejected; /* port 0 */
    RrSdpDirection direction;
    gboolean rtcp_mux;
    gboolean rtcp_rsize;
    char *ice_ufrag; /* media-level values, NULL if absent */
    char *ice_pwd;
    char *fingerprint;      /* media-level "alg HEX:..." as written, NULL if absent */
    RrSdpSetup setup;       /* media-level a=setup */
    char *msid;             /* media-level a=msid, NULL if absent */
    GPtrArray *codecs;      /* RrSdpCodec*, in m= line order */
    GArray *rtx;            /* RrSdpRtxMap */
    GPtrArray *ssrcs;       /* RrSdpSsrc*, in order of first appearance */
    GArray *fid;            /* RrSdpFidPair from a=ssrc-group:FID */
    GPtrArray *extmaps;     /* RrSdpExtmap* */
    guint sctp_port;        /* application: a=sctp-port (or the old m= format), else 0 */
    guint max_message_size; /* application: a=max-message-size, 0 if absent */
} RrSdpMedia;

typedef struct {
    /* Effective values: session level, else the first bundled m-section's. */
    char *ice_ufrag;
    char *ice_pwd;
    gboolean ice_lite;
    char *fingerprint_alg; /* lower case, e.g. "sha-256" */
    char *fingerprint;     /* hex with colons as written, e.g. "AB:CD:..." */
    RrSdpSetup setup;
    char **bundle;    /* mids of a=group:BUNDLE, NULL-terminated (empty if none) */
    GPtrArray *media; /* RrSdpMedia*, in offer order */
} RrSdpOffer;

/* Parses and checks an offer. Errors (RR_RTC_ERROR): INVALID_INPUT for text that is not
 * SDP, a missing fingerprint, ICE credentials or a=setup, or several m-sections without
 * BUNDLE; UNSUPPORTED for setup:active/holdconn (the recorder must be the DTLS client).
 * len may be -1 for a NUL-terminated string. */
RrSdpOffer *rr_sdp_offer_parse(const char *sdp, gssize len, GError **error);
void rr_sdp_offer_free(RrSdpOffer *offer);

/* The m-section with this mid, or NULL. */
const RrSdpMedia *rr_sdp_offer_find_mid(const RrSdpOffer *offer, const char *mid);
/* The codec with this payload type in media, or NULL. */
const RrSdpCodec *rr_sdp_media_find_codec(const RrSdpMedia *media, guint pt);

/* Value of key in an fmtp parameter string ("a=1;b=2"), newly allocated, or NULL. */
char *rr_sdp_fmtp_get(const char *fmtp, const char *key);

/* Codecs the recorder accepts (RrSdpAnswerParams.codecs). */
typedef enum {
    RR_SDP_CODEC_OPUS = 1 << 0,
    RR_SDP_CODEC_VP8 = 1 << 1,
    RR_SDP_CODEC_VP9 = 1 << 2,
    RR_SDP_CODEC_H264 = 1 << 3,
    RR_SDP_CODEC_AV1 = 1 << 4,  /* only if the pipeline can depayload AV1 */
    RR_SDP_CODEC_H265 = 1 << 5, /* only if the pipeline can depayload H265 */
} RrSdpCodecFlags;

#define RR_SDP_CODECS_DEFAULT                                                                      \
    (RR_SDP_CODEC_OPUS | RR_SDP_CODEC_VP8 | RR_SDP_CODEC_VP9 | RR_SDP_CODEC_H264)

typedef struct {
    const char *ice_ufrag;                /* ours (required) */
    const char *ice_pwd;                  /* ours (required) */
    const char *fingerprint;              /* ours, "sha-256 AB:CD:..." (required) */
    gboolean ice_lite;                    /* announce a=ice-lite (FALSE: roomrec is a full agent) */
    gboolean ice_trickle;                 /* add a=ice-options:trickle (default TRUE) */
    RrSdpCodecFlags codecs;               /* default RR_SDP_CODECS_DEFAULT */
    gboolean send_transport_cc;           /* keep rtcp-fb transport-cc (we would send TWCC) */
    gboolean send_remb;                   /* keep rtcp-fb goog-remb (we would send REMB) */
    const char *const *header_extensions; /* URIs to accept (NULL: none) */
    guint sctp_port;                      /* default 5000 */
    guint max_message_size;               /* default 262144 */
    guint64 session_id;                   /* o= session id; 0: random */
    guint session_version;                /* o= session version; default 2 */
} RrSdpAnswerParams;

/* Fills params with the defaults above (credentials NULL). */
void rr_sdp_answer_params_init(RrSdpAnswerParams *params);

/* What was chosen for one m-section of the offer (same order as the offer). */
typedef struct {
    char *mid;
    RrSdpKind kind;
    gboolean rejected;  /* answered with port 0 */
    gboolean receiving; /* answered recvonly (FALSE: inactive or rejected) */
    char *reason;       /* why rejected or inactive, NULL otherwise */
    guint pt;           /* chosen payload type (media, not rejected) */
    char *codec;        /* "opus", "VP8", "VP9", "H264", "AV1", "H265" (canonical case) */
    guint clock_rate;
    guint channels;
    char *fmtp;        /* the offer's fmtp for pt, or NULL */
    gint rtx_pt;       /* RTX payload type for pt, -1 if none */
    GArray *ssrcs;     /* guint32: primary (media) SSRCs of the m-section */
    GArray *rtx_ssrcs; /* guint32: RTX SSRC of ssrcs[i], 0 if none (same length) */
} RrSdpChoice;

typedef struct {
    char *sdp;          /* the answer text */
    GPtrArray *choices; /* RrSdpChoice*, one per offer m-section, in order */
} RrSdpAnswer;

/* Builds the answer. Errors: INVALID_INPUT if params lack credentials or the fingerprint
 * is not "alg HEX:HEX...". An m-section with nothing recordable is answered rejected
 * (port 0) with choice->reason set; that is not an error. */
RrSdpAnswer *rr_sdp_answer_build(const RrSdpOffer *offer, const RrSdpAnswerParams *params,
                                 GError **error);
void rr_sdp_answer_free(RrSdpAnswer *answer);

/* The choice whose primary or RTX SSRCs contain ssrc (is_rtx tells which), or NULL. */
const RrSdpChoice *rr_sdp_answer_find_ssrc(const RrSdpAnswer *answer, guint32 ssrc,
                                           gboolean *is_rtx);
const RrSdpChoice *rr_sdp_answer_find_mid(const RrSdpAnswer *answer, const char *mid);

const char *rr_sdp_kind_to_string(RrSdpKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrSdpOffer, rr_sdp_offer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrSdpAnswer, rr_sdp_answer_free)

G_END_DECLS
