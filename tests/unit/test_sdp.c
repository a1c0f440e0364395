/* Unit tests for rtc/sdp: parsing LiveKit subscriber offers (tests/unit/data/livekit-sub-X.sdp) and
 * the answers built from them, checked by parsing the answer again with GstSDPMessage. */
#include "rtc/sdp.h"
#include "rtc/rtc-error.h"

#include <gst/sdp/sdp.h>
#include <string.h>

#define FP_OURS                                                                                    \
    "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"    \
    "01:23:45:67:89"

static const char *const example_files[] = {
    "livekit-sub-av.sdp",      "livekit-sub-h264.sdp",    "livekit-sub-vp9.sdp",
    "livekit-sub-av1.sdp",     "livekit-sub-icelite.sdp", "livekit-sub-dataonly.sdp",
    "livekit-sub-reoffer.sdp",
};

static char *load(const char *name)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "unit", "data", name, NULL);
    char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    return text;
}

static RrSdpOffer *parse_file(const char *name)
{
    g_autofree char *text = load(name);
    g_autoptr(GError) error = NULL;
    RrSdpOffer *o = rr_sdp_offer_parse(text, -1, &error);
    g_assert_no_error(error);
    g_assert_nonnull(o);
    return o;
}

static void params_init(RrSdpAnswerParams *p)
{
    rr_sdp_answer_params_init(p);
    p->ice_ufrag = "rrUfrag1";
    p->ice_pwd = "rrPasswordRrPasswordRrPw";
    p->fingerprint = FP_OURS;
    p->session_id = 42;
}

static RrSdpAnswer *answer_with(const RrSdpOffer *o, const RrSdpAnswerParams *p)
{
    g_autoptr(GError) error = NULL;
    RrSdpAnswer *a = rr_sdp_answer_build(o, p, &error);
    g_assert_no_error(error);
    g_assert_nonnull(a);
    return a;
}

static RrSdpAnswer *answer(const RrSdpOffer *o)
{
    RrSdpAnswerParams p;
    params_init(&p);
    return answer_with(o, &p);
}

/* Parses answer text again; the caller frees with gst_sdp_message_free. */
static GstSDPMessage *reparse(const char *sdp)
{
    GstSDPMessage *msg = NULL;
    g_assert_cmpint(gst_sdp_message_new(&msg), ==, GST_SDP_OK);
    g_assert_cmpint(gst_sdp_message_parse_buffer((const guint8 *)sdp, strlen(sdp), msg), ==,
                    GST_SDP_OK);
    return msg;
}

static gboolean media_has_attr(const GstSDPMedia *m, const char *key, const char *value)
{
    for (guint i = 0; i < gst_sdp_media_attributes_len(m); i++) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
        if (g_strcmp0(a->key, key) == 0 && (!value || g_strcmp0(a->value, value) == 0))
            return TRUE;
    }
    return FALSE;
}

static char *formats(const GstSDPMedia *m)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < gst_sdp_media_formats_len(m); i++)
        g_string_append_printf(s, "%s%s", i ? " " : "", gst_sdp_media_get_format(m, i));
    return g_string_free(s, FALSE);
}

/* Checks what every answer must have, whatever the offer. */
static void check_answer_common(const RrSdpOffer *o, const RrSdpAnswer *a)
{
    GstSDPMessage *msg = reparse(a->sdp);
    g_assert_cmpstr(gst_sdp_message_get_version(msg), ==, "0");
    g_assert_cmpuint(gst_sdp_message_medias_len(msg), ==, o->media->len);
    g_assert_null(gst_sdp_message_get_attribute_val(msg, "ice-lite"));
    g_assert_null(strstr(a->sdp, "a=candidate"));
    g_assert_cmpuint(a->choices->len, ==, o->media->len);
    g_autoptr(GString) bundle = g_string_new("BUNDLE");
    for (guint i = 0; i < o->media->len; i++) {
        const RrSdpMedia *om = g_ptr_array_index(o->media, i);
        const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
        const RrSdpChoice *c = g_ptr_array_index(a->choices, i);
        g_assert_cmpstr(c->mid, ==, om->mid);
        g_assert_cmpstr(gst_sdp_media_get_media(m), ==, om->media);
        g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "mid"), ==, om->mid);
        if (c->rejected) {
            g_assert_cmpuint(gst_sdp_media_get_port(m), ==, 0);
            g_assert_false(media_has_attr(m, "setup", NULL));
            continue;
        }
        g_string_append_printf(bundle, " %s", om->mid);
        g_assert_cmpuint(gst_sdp_media_get_port(m), ==, 9);
        g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "setup"), ==, "active");
        g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "fingerprint"), ==, FP_OURS);
        g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "ice-ufrag"), ==, "rrUfrag1");
        g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "ice-pwd"), ==,
                        "rrPasswordRrPasswordRrPw");
        g_assert_true(media_has_attr(m, "ice-options", "trickle"));
        if (om->kind == RR_SDP_KIND_APPLICATION) {
            g_assert_cmpstr(gst_sdp_media_get_proto(m), ==, "UDP/DTLS/SCTP");
            g_assert_cmpstr(gst_sdp_media_get_format(m, 0), ==, "webrtc-datachannel");
            g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "sctp-port"), ==, "5000");
            g_assert_cmpstr(gst_sdp_media_get_attribute_val(m, "max-message-size"), ==, "262144");
        } else {
            g_assert_true(media_has_attr(m, "rtcp-mux", NULL));
            g_assert_true(media_has_attr(m, c->receiving ? "recvonly" : "inactive", NULL));
            g_assert_false(media_has_attr(m, "sendrecv", NULL));
            g_assert_false(media_has_attr(m, "sendonly", NULL));
            g_autofree char *rtpmap = g_strdup_printf("%u %s/%u%s", c->pt, c->codec, c->clock_rate,
                                                      c->channels > 1 ? "/2" : "");
            g_assert_true(media_has_attr(m, "rtpmap", rtpmap));
        }
    }
    g_assert_cmpstr(gst_sdp_message_get_attribute_val(msg, "group"), ==, bundle->str);
    gst_sdp_message_free(msg);
}

static void test_parse_av(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-av.sdp");
    g_assert_cmpstr(o->ice_ufrag, ==, "kHpXqLmWvZtRbNsC");
    g_assert_cmpstr(o->ice_pwd, ==, "QdWmYtLrKxPzVbHnGsJfCaEuRiOp");
    g_assert_false(o->ice_lite);
    g_assert_cmpstr(o->fingerprint_alg, ==, "sha-256");
    g_assert_true(g_str_has_prefix(o->fingerprint, "4F:1B:8C:"));
    g_assert_cmpuint(strlen(o->fingerprint), ==, 32 * 3 - 1);
    g_assert_cmpint(o->setup, ==, RR_SDP_SETUP_ACTPASS);
    g_assert_cmpuint(g_strv_length(o->bundle), ==, 3);
    g_assert_cmpstr(o->bundle[2], ==, "2");
    g_assert_cmpuint(o->media->len, ==, 3);

    const RrSdpMedia *app = g_ptr_array_index(o->media, 0);
    g_assert_cmpint(app->kind, ==, RR_SDP_KIND_APPLICATION);
    g_assert_cmpstr(app->mid, ==, "0");
    g_assert_cmpuint(app->sctp_port, ==, 5000);
    g_assert_cmpuint(app->codecs->len, ==, 0);

    const RrSdpMedia *au = rr_sdp_offer_find_mid(o, "1");
    g_assert_nonnull(au);
    g_assert_cmpint(au->kind, ==, RR_SDP_KIND_AUDIO);
    g_assert_cmpint(au->direction, ==, RR_SDP_DIRECTION_SENDONLY);
    g_assert_true(au->rtcp_mux);
    g_assert_false(au->rejected);
    g_assert_cmpuint(au->codecs->len, ==, 4);
    const RrSdpCodec *red = g_ptr_array_index(au->codecs, 0);
    g_assert_cmpuint(red->pt, ==, 63);
    g_assert_cmpstr(red->name, ==, "red");
    const RrSdpCodec *opus = rr_sdp_media_find_codec(au, 111);
    g_assert_cmpstr(opus->name, ==, "opus");
    g_assert_cmpuint(opus->clock_rate, ==, 48000);
    g_assert_cmpuint(opus->channels, ==, 2);
    g_assert_cmpstr(opus->fmtp, ==, "minptime=10;useinbandfec=1");
    g_assert_cmpuint(opus->rtcp_fb->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(opus->rtcp_fb, 0), ==, "nack");
    const RrSdpCodec *pcmu = rr_sdp_media_find_codec(au, 0);
    g_assert_cmpstr(pcmu->name, ==, "PCMU");
    g_assert_cmpuint(au->ssrcs->len, ==, 1);
    const RrSdpSsrc *s = g_ptr_array_index(au->ssrcs, 0);
    g_assert_cmpuint(s->ssrc, ==, 3735928559u);
    g_assert_cmpstr(s->cname, ==, "PA_alice01");
    g_assert_cmpstr(s->msid, ==, "PA_alice01|TR_AMaud01 TR_AMaud01");
    g_assert_cmpstr(au->msid, ==, "PA_alice01|TR_AMaud01 TR_AMaud01");
    g_assert_cmpuint(au->extmaps->len, ==, 2);
    const RrSdpExtmap *e = g_ptr_array_index(au->extmaps, 1);
    g_assert_cmpuint(e->id, ==, 3);
    g_assert_true(g_str_has_suffix(e->uri, "transport-wide-cc-extensions-01"));

    const RrSdpMedia *v = rr_sdp_offer_find_mid(o, "2");
    g_assert_cmpint(v->kind, ==, RR_SDP_KIND_VIDEO);
    g_assert_cmpuint(v->codecs->len, ==, 20);
    g_assert_cmpuint(v->rtx->len, ==, 10);
    const RrSdpRtxMap *r = &g_array_index(v->rtx, RrSdpRtxMap, 0);
    g_assert_cmpuint(r->pt, ==, 97);
    g_assert_cmpuint(r->apt, ==, 96);
    const RrSdpCodec *vp8 = rr_sdp_media_find_codec(v, 96);
    g_assert_cmpuint(vp8->rtcp_fb->len, ==, 5);
    g_assert_cmpuint(v->fid->len, ==, 1);
    g_assert_cmpuint(g_array_index(v->fid, RrSdpFidPair, 0).primary, ==, 2882400001u);
    g_assert_cmpuint(g_array_index(v->fid, RrSdpFidPair, 0).rtx, ==, 2882400002u);
    g_assert_cmpuint(v->ssrcs->len, ==, 2);
    g_assert_cmpuint(v->extmaps->len, ==, 3);
}

static void test_parse_icelite(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-icelite.sdp");
    g_assert_true(o->ice_lite);
    g_autoptr(RrSdpAnswer) a = answer(o);
    check_answer_common(o, a);
    g_assert_null(strstr(a->sdp, "ice-lite"));
}

/* Every example parses, and its answer passes the common checks. */
static void test_examples_round_trip(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(example_files); i++) {
        g_test_message("%s", example_files[i]);
        g_autoptr(RrSdpOffer) o = parse_file(example_files[i]);
        g_autoptr(RrSdpAnswer) a = answer(o);
        check_answer_common(o, a);
    }
}

static void test_answer_av(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-av.sdp");
    g_autoptr(RrSdpAnswer) a = answer(o);
    check_answer_common(o, a);
    GstSDPMessage *msg = reparse(a->sdp);
    g_assert_cmpstr(gst_sdp_message_get_attribute_val(msg, "group"), ==, "BUNDLE 0 1 2");
    g_assert_true(g_str_has_prefix(a->sdp, "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\n"));

    /* Audio: Opus although RED is listed first; no RED, no G.711. */
    const GstSDPMedia *au = gst_sdp_message_get_media(msg, 1);
    g_autofree char *au_fmts = formats(au);
    g_assert_cmpstr(au_fmts, ==, "111");
    g_assert_true(media_has_attr(au, "rtpmap", "111 opus/48000/2"));
    g_assert_true(media_has_attr(au, "fmtp", "111 minptime=10;useinbandfec=1"));
    g_assert_true(media_has_attr(au, "rtcp-fb", "111 nack"));
    g_assert_false(media_has_attr(au, "rtcp-fb", "111 transport-cc"));
    g_assert_false(media_has_attr(au, "extmap", NULL));
    g_assert_true(media_has_attr(au, "recvonly", NULL));
    g_assert_null(strstr(a->sdp, "red/"));
    const RrSdpChoice *ca = g_ptr_array_index(a->choices, 1);
    g_assert_cmpuint(ca->pt, ==, 111);
    g_assert_cmpstr(ca->codec, ==, "opus");
    g_assert_cmpuint(ca->clock_rate, ==, 48000);
    g_assert_cmpint(ca->rtx_pt, ==, -1);
    g_assert_true(ca->receiving);
    g_assert_cmpuint(ca->ssrcs->len, ==, 1);
    g_assert_cmpuint(g_array_index(ca->ssrcs, guint32, 0), ==, 3735928559u);

    /* Video: VP8 (first offered) with its RTX first, nack/pli/fir only; then every other
     * recordable codec with its RTX (VP9, H264 — as browsers answer, so that pion's
     * per-connection codec list holds them all), never AV1/H265 by default. */
    const GstSDPMedia *v = gst_sdp_message_get_media(msg, 2);
    g_autofree char *v_fmts = formats(v);
    g_assert_true(g_str_has_prefix(v_fmts, "96 97 "));
    g_assert_false(media_has_attr(v, "rtpmap", "35 AV1/90000"));
    g_assert_nonnull(strstr(v_fmts, " 106 107")); /* H264 42e01f mode 1 */
    g_assert_false(media_has_attr(v, "rtpmap", "104 H264/90000"));
    g_assert_true(media_has_attr(v, "rtpmap", "96 VP8/90000"));
    g_assert_true(media_has_attr(v, "rtpmap", "97 rtx/90000"));
    g_assert_true(media_has_attr(v, "fmtp", "97 apt=96"));
    g_assert_true(media_has_attr(v, "rtcp-fb", "96 nack"));
    g_assert_true(media_has_attr(v, "rtcp-fb", "96 nack pli"));
    g_assert_true(media_has_attr(v, "rtcp-fb", "96 ccm fir"));
    g_assert_false(media_has_attr(v, "rtcp-fb", "96 goog-remb"));
    g_assert_false(media_has_attr(v, "rtcp-fb", "96 transport-cc"));
    g_assert_true(media_has_attr(v, "rtcp-rsize", NULL));
    const RrSdpChoice *cv = rr_sdp_answer_find_mid(a, "2");
    g_assert_nonnull(cv);
    g_assert_cmpstr(cv->codec, ==, "VP8");
    g_assert_cmpint(cv->rtx_pt, ==, 97);
    g_assert_cmpuint(cv->ssrcs->len, ==, 1);
    g_assert_cmpuint(g_array_index(cv->ssrcs, guint32, 0), ==, 2882400001u);
    g_assert_cmpuint(g_array_index(cv->rtx_ssrcs, guint32, 0), ==, 2882400002u);

    gboolean is_rtx = TRUE;
    g_assert_true(rr_sdp_answer_find_ssrc(a, 2882400001u, &is_rtx) == cv);
    g_assert_false(is_rtx);
    g_assert_true(rr_sdp_answer_find_ssrc(a, 2882400002u, &is_rtx) == cv);
    g_assert_true(is_rtx);
    g_assert_true(rr_sdp_answer_find_ssrc(a, 3735928559u, NULL) == ca);
    g_assert_null(rr_sdp_answer_find_ssrc(a, 12345, NULL));
    gst_sdp_message_free(msg);
}

static void test_answer_h264(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-h264.sdp");
    g_autoptr(RrSdpAnswer) a = answer(o);
    check_answer_common(o, a);
    const RrSdpChoice *c = rr_sdp_answer_find_mid(a, "1");
    g_assert_cmpstr(c->codec, ==, "H264");
    g_assert_cmpuint(c->pt, ==, 106);
    g_assert_cmpint(c->rtx_pt, ==, 107);
    g_assert_cmpstr(c->fmtp, ==,
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    g_assert_nonnull(strstr(a->sdp, "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;"
                                    "profile-level-id=42e01f\r\n"));
    g_assert_nonnull(strstr(a->sdp, "m=video 9 UDP/TLS/RTP/SAVPF 106 107"));
    g_assert_null(strstr(a->sdp, "packetization-mode=0"));

    /* Without 42e01f, the next preferred profile wins. */
    g_autofree char *text = load("livekit-sub-h264.sdp");
    g_autoptr(GString) s = g_string_new(text);
    g_string_replace(s, "profile-level-id=42e01f", "profile-level-id=42e034", 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrSdpOffer) o2 = rr_sdp_offer_parse(s->str, s->len, &error);
    g_assert_no_error(error);
    g_autoptr(RrSdpAnswer) a2 = answer(o2);
    c = rr_sdp_answer_find_mid(a2, "1");
    g_assert_cmpuint(c->pt, ==, 102);
    g_assert_cmpint(c->rtx_pt, ==, 103);

    /* Audio in this offer lists Opus first and RED last: still plain Opus. */
    c = rr_sdp_answer_find_mid(a, "2");
    g_assert_cmpstr(c->codec, ==, "opus");
    g_assert_cmpuint(c->pt, ==, 111);
}

static void test_answer_vp9(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-vp9.sdp");
    g_autoptr(RrSdpAnswer) a = answer(o);
    const RrSdpChoice *c = rr_sdp_answer_find_mid(a, "1");
    g_assert_cmpstr(c->codec, ==, "VP9");
    g_assert_cmpuint(c->pt, ==, 98);
    g_assert_cmpint(c->rtx_pt, ==, 99);
    g_assert_cmpstr(c->fmtp, ==, "profile-id=0");

    /* VP9 disabled: the next offered codec (VP8). */
    RrSdpAnswerParams p;
    params_init(&p);
    p.codecs &= ~RR_SDP_CODEC_VP9;
    g_autoptr(RrSdpAnswer) a2 = answer_with(o, &p);
    c = rr_sdp_answer_find_mid(a2, "1");
    g_assert_cmpstr(c->codec, ==, "VP8");
}

static void test_answer_av1(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-av1.sdp");
    g_autoptr(RrSdpAnswer) a = answer(o);
    const RrSdpChoice *c = rr_sdp_answer_find_mid(a, "1");
    g_assert_cmpstr(c->codec, ==, "VP8"); /* AV1 is off by default */
    g_assert_null(strstr(a->sdp, "AV1"));

    RrSdpAnswerParams p;
    params_init(&p);
    p.codecs |= RR_SDP_CODEC_AV1;
    g_autoptr(RrSdpAnswer) a2 = answer_with(o, &p);
    check_answer_common(o, a2);
    c = rr_sdp_answer_find_mid(a2, "1");
    g_assert_cmpstr(c->codec, ==, "AV1");
    g_assert_cmpuint(c->pt, ==, 35);
    g_assert_cmpint(c->rtx_pt, ==, 36);
    g_assert_nonnull(strstr(a2->sdp, "a=rtpmap:35 AV1/90000\r\n"));
}

static void test_answer_flags(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-av.sdp");
    static const char *const exts[] = {
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", NULL};
    RrSdpAnswerParams p;
    params_init(&p);
    p.send_transport_cc = TRUE;
    p.send_remb = TRUE;
    p.header_extensions = exts;
    p.ice_trickle = FALSE;
    g_autoptr(RrSdpAnswer) a = answer_with(o, &p);
    g_assert_nonnull(strstr(a->sdp, "a=rtcp-fb:96 transport-cc\r\n"));
    g_assert_nonnull(strstr(a->sdp, "a=rtcp-fb:96 goog-remb\r\n"));
    g_assert_nonnull(strstr(a->sdp, "a=rtcp-fb:111 transport-cc\r\n"));
    g_assert_nonnull(strstr(a->sdp, "a=extmap:3 http://www.ietf.org/id/draft-holmer"));
    g_assert_null(strstr(a->sdp, "abs-send-time"));
    g_assert_null(strstr(a->sdp, "ice-options"));
}

static void test_answer_reoffer(void)
{
    g_autoptr(RrSdpOffer) first = parse_file("livekit-sub-av.sdp");
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-reoffer.sdp");
    g_assert_cmpuint(o->media->len, ==, 5);
    const RrSdpMedia *m4 = rr_sdp_offer_find_mid(o, "4");
    g_assert_true(m4->rejected);
    g_autoptr(RrSdpAnswer) a = answer(o);
    check_answer_common(o, a);
    g_assert_nonnull(strstr(a->sdp, "a=group:BUNDLE 0 1 2 3\r\n"));

    /* mid 1 was reused for another track: new SSRC. */
    const RrSdpChoice *c1 = rr_sdp_answer_find_mid(a, "1");
    g_assert_cmpuint(g_array_index(c1->ssrcs, guint32, 0), ==, 123456789u);
    g_assert_null(rr_sdp_answer_find_ssrc(a, 3735928559u, NULL));
    /* mid 2 lost its track: inactive, still bundled, no SSRCs. */
    const RrSdpChoice *c2 = rr_sdp_answer_find_mid(a, "2");
    g_assert_false(c2->receiving);
    g_assert_false(c2->rejected);
    g_assert_nonnull(c2->reason);
    g_assert_cmpuint(c2->ssrcs->len, ==, 0);
    /* mid 3 was added. */
    const RrSdpChoice *c3 = rr_sdp_answer_find_mid(a, "3");
    g_assert_true(c3->receiving);
    g_assert_cmpstr(c3->codec, ==, "VP8");
    g_assert_cmpuint(g_array_index(c3->rtx_ssrcs, guint32, 0), ==, 987654322u);
    /* mid 4 is rejected in the offer and stays rejected. */
    const RrSdpChoice *c4 = g_ptr_array_index(a->choices, 4);
    g_assert_true(c4->rejected);
    g_assert_nonnull(strstr(a->sdp, "m=audio 0 UDP/TLS/RTP/SAVPF 63\r\n"));
    g_assert_null(rr_sdp_answer_find_mid(a, "4"));

    /* The m-sections of the first offer keep their place. */
    for (guint i = 0; i < first->media->len; i++)
        g_assert_cmpstr(((RrSdpChoice *)g_ptr_array_index(a->choices, i))->mid, ==,
                        ((RrSdpMedia *)g_ptr_array_index(first->media, i))->mid);
}

static void test_answer_no_opus(void)
{
    g_autofree char *text = load("livekit-sub-icelite.sdp");
    g_autoptr(GString) s = g_string_new(text);
    g_string_replace(s, "SAVPF 63 111 0 8", "SAVPF 63 0 8", 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrSdpOffer) o = rr_sdp_offer_parse(s->str, -1, &error);
    g_assert_no_error(error);
    g_autoptr(RrSdpAnswer) a = answer(o);
    check_answer_common(o, a);
    const RrSdpChoice *c = g_ptr_array_index(a->choices, 1);
    g_assert_true(c->rejected);
    g_assert_false(c->receiving);
    g_assert_nonnull(strstr(c->reason, "Opus"));
    g_assert_nonnull(strstr(c->reason, "PCMU/0"));
    g_assert_nonnull(strstr(a->sdp, "m=audio 0 "));
    g_assert_nonnull(strstr(a->sdp, "a=group:BUNDLE 0\r\n"));
}

static void test_answer_old_sctp(void)
{
    g_autofree char *text = load("livekit-sub-dataonly.sdp");
    g_autoptr(GString) s = g_string_new(text);
    g_string_replace(s, "UDP/DTLS/SCTP webrtc-datachannel", "DTLS/SCTP 5000", 0);
    g_string_replace(s, "a=sctp-port:5000", "a=sctpmap:5000 webrtc-datachannel 1024", 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(RrSdpOffer) o = rr_sdp_offer_parse(s->str, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(((RrSdpMedia *)g_ptr_array_index(o->media, 0))->sctp_port, ==, 5000);
    g_autoptr(RrSdpAnswer) a = answer(o);
    g_assert_nonnull(strstr(a->sdp, "m=application 9 DTLS/SCTP 5000\r\n"));
    g_assert_nonnull(strstr(a->sdp, "a=sctpmap:5000 webrtc-datachannel 1024\r\n"));
}

typedef struct {
    const char *from;
    const char *to;
    int code;
} Mutation;

/* Each mutation of a good offer must give a clear error. */
static void test_parse_errors(void)
{
    static const Mutation muts[] = {
        {"a=fingerprint:sha-256 4F:1B", "a=x-fingerprint:sha-256 4F:1B",
         RR_RTC_ERROR_INVALID_INPUT},
        {"a=fingerprint:sha-256 4F:1B", "a=fingerprint:sha-256 4G:1B", RR_RTC_ERROR_INVALID_INPUT},
        {"a=ice-ufrag:", "a=x-ice-ufrag:", RR_RTC_ERROR_INVALID_INPUT},
        {"a=ice-pwd:", "a=x-ice-pwd:", RR_RTC_ERROR_INVALID_INPUT},
        {"a=setup:actpass", "a=setup:active", RR_RTC_ERROR_UNSUPPORTED},
        {"a=setup:actpass", "a=setup:holdconn", RR_RTC_ERROR_UNSUPPORTED},
        {"a=setup:actpass", "a=x-setup:actpass", RR_RTC_ERROR_INVALID_INPUT},
        {"a=group:BUNDLE 0 1 2\r\n", "", RR_RTC_ERROR_INVALID_INPUT},
        {"a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1", RR_RTC_ERROR_INVALID_INPUT},
        {"a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1 2 7", RR_RTC_ERROR_INVALID_INPUT},
        {"a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/fast/2", RR_RTC_ERROR_INVALID_INPUT},
        {"a=rtpmap:111 opus/48000/2", "a=rtpmap:300 opus/48000/2", RR_RTC_ERROR_INVALID_INPUT},
        {"a=fmtp:97 apt=96", "a=fmtp:97 apx=96", RR_RTC_ERROR_INVALID_INPUT},
        {"SAVPF 63 111 0 8", "SAVPF 63 opus 0 8", RR_RTC_ERROR_INVALID_INPUT},
        {"a=mid:2", "a=mid:1", RR_RTC_ERROR_INVALID_INPUT},
        {"a=ssrc-group:FID 2882400001 2882400002", "a=ssrc-group:FID 2882400001",
         RR_RTC_ERROR_INVALID_INPUT},
        {"a=ssrc:3735928559 cname", "a=ssrc:-5 cname", RR_RTC_ERROR_INVALID_INPUT},
        {"a=extmap:2 ", "a=extmap:0 ", RR_RTC_ERROR_INVALID_INPUT},
        {"v=0", "v=1", RR_RTC_ERROR_INVALID_INPUT},
    };
    g_autofree char *text = load("livekit-sub-av.sdp");
    for (guint i = 0; i < G_N_ELEMENTS(muts); i++) {
        g_autoptr(GString) s = g_string_new(text);
        g_assert_cmpuint(g_string_replace(s, muts[i].from, muts[i].to, 0), >, 0);
        g_autoptr(GError) error = NULL;
        g_autoptr(RrSdpOffer) o = rr_sdp_offer_parse(s->str, s->len, &error);
        g_test_message("%s -> %s: %s", muts[i].from, muts[i].to, error ? error->message : "ok");
        g_assert_null(o);
        g_assert_error(error, RR_RTC_ERROR, muts[i].code);
    }

    static const char *const bad[] = {
        "",
        "hello",
        "v=0",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\nm=audio\r\n",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF\r\n",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(RrSdpOffer) o = rr_sdp_offer_parse(bad[i], -1, &error);
        g_assert_null(o);
        g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    }
    /* A NUL inside the given length. */
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_sdp_offer_parse("v=0\0\r\n", 6, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_answer_bad_params(void)
{
    g_autoptr(RrSdpOffer) o = parse_file("livekit-sub-dataonly.sdp");
    RrSdpAnswerParams p;
    const char *bad_fps[] = {
        NULL, "AB:CD", "sha-256", "sha-256 AB:C", "sha-256 AB:CD\r\na=x", "sha-256 ZZ:CD"};
    for (guint i = 0; i < G_N_ELEMENTS(bad_fps); i++) {
        params_init(&p);
        p.fingerprint = bad_fps[i];
        g_autoptr(GError) error = NULL;
        g_assert_null(rr_sdp_answer_build(o, &p, &error));
        g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    }
    params_init(&p);
    p.ice_ufrag = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_sdp_answer_build(o, &p, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    params_init(&p);
    p.ice_pwd = "short";
    g_assert_null(rr_sdp_answer_build(o, &p, &error));
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_fmtp(void)
{
    g_autofree char *a = rr_sdp_fmtp_get("minptime=10; useinbandfec=1", "useinbandfec");
    g_assert_cmpstr(a, ==, "1");
    g_autofree char *b = rr_sdp_fmtp_get("apt=96", "APT");
    g_assert_cmpstr(b, ==, "96");
    g_assert_null(rr_sdp_fmtp_get("111/111", "apt"));
    g_assert_null(rr_sdp_fmtp_get(NULL, "apt"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/sdp/parse/av", test_parse_av);
    g_test_add_func("/rtc/sdp/parse/ice-lite", test_parse_icelite);
    g_test_add_func("/rtc/sdp/parse/errors", test_parse_errors);
    g_test_add_func("/rtc/sdp/parse/fmtp", test_fmtp);
    g_test_add_func("/rtc/sdp/answer/examples", test_examples_round_trip);
    g_test_add_func("/rtc/sdp/answer/bundle-opus-vp8", test_answer_av);
    g_test_add_func("/rtc/sdp/answer/h264", test_answer_h264);
    g_test_add_func("/rtc/sdp/answer/vp9", test_answer_vp9);
    g_test_add_func("/rtc/sdp/answer/av1", test_answer_av1);
    g_test_add_func("/rtc/sdp/answer/flags", test_answer_flags);
    g_test_add_func("/rtc/sdp/answer/reoffer", test_answer_reoffer);
    g_test_add_func("/rtc/sdp/answer/no-opus", test_answer_no_opus);
    g_test_add_func("/rtc/sdp/answer/old-sctp", test_answer_old_sctp);
    g_test_add_func("/rtc/sdp/answer/bad-params", test_answer_bad_params);
    return g_test_run();
}
