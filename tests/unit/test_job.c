/* Unit tests for worker/job and worker/egress-info: LiveKit egress requests in both
 * spellings, every kind of request, presets and advanced options, errors that name the
 * field's path, filepath templates and output names, and the EgressInfo JSON. */
#include "worker/egress-info.h"
#include "worker/job.h"
#include "worker/worker-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

static RrJobSpec *parse_ok(const char *json)
{
    g_autoptr(GError) error = NULL;
    RrJobSpec *spec = rr_job_spec_parse(json, -1, &error);
    if (!spec)
        g_error("job refused: %s\n%s", error->message, json);
    return spec;
}

/* Asserts that @json is refused with @code and a message containing @needle. */
static void parse_bad(const char *json, int code, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse(json, -1, &error);
    g_assert_null(spec);
    g_assert_nonnull(error);
    if (!strstr(error->message, needle) || error->code != code)
        g_error("expected code %d and \"%s\", got code %d \"%s\"\nfor %s", code, needle,
                error->code, error->message, json);
    g_assert_true(error->domain == RR_WORKER_ERROR);
}

/* Segment and image outputs, with or without a file. */
static void test_segments_images(void)
{
    const int I = RR_WORKER_ERROR_INVALID_JOB, U = RR_WORKER_ERROR_UNSUPPORTED;
    g_autoptr(RrJobSpec) a =
        parse_ok("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{"
                 "\"filename_prefix\":\"hls/{room_name}\",\"playlistName\":\"p.m3u8\","
                 "\"live_playlist_name\":\"live.m3u8\",\"segment_duration\":2,"
                 "\"filename_suffix\":\"TIMESTAMP\",\"protocol\":\"HLS_PROTOCOL\"}],"
                 "\"image_outputs\":[{\"capture_interval\":5,\"width\":320,\"height\":180,"
                 "\"filename_suffix\":\"IMAGE_SUFFIX_INDEX\",\"image_codec\":\"IC_JPEG\"}]}}");
    g_assert_false(a->has_file); /* segments and images only: no file */
    g_assert_nonnull(a->segments);
    g_assert_cmpstr(a->segments->filename_prefix, ==, "hls/{room_name}");
    g_assert_cmpstr(a->segments->playlist_name, ==, "p.m3u8");
    g_assert_cmpstr(a->segments->live_playlist_name, ==, "live.m3u8");
    g_assert_cmpuint(a->segments->segment_duration, ==, 2);
    g_assert_true(a->segments->timestamp_suffix);
    g_assert_nonnull(a->images);
    g_assert_cmpuint(a->images->capture_interval, ==, 5);
    g_assert_cmpuint(a->images->width, ==, 320);
    g_assert_false(a->images->timestamp_suffix);

    g_autoptr(RrJobSpec) b =
        parse_ok("{\"track_composite\":{\"room_name\":\"r\",\"video_track_id\":\"TR_v\","
                 "\"file\":{\"filepath\":\"f.mp4\"},\"segments\":{\"filename_prefix\":\"s\"}}}");
    g_assert_true(b->has_file);
    g_assert_cmpuint(b->segments->segment_duration, ==, 4); /* LiveKit's default */
    g_assert_null(b->images);

    g_autoptr(RrJobSpec) c = parse_ok("{\"room_composite\":{\"room_name\":\"r\"}}");
    g_assert_true(c->has_file);
    g_assert_null(c->segments);

    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{"
              "\"segment_duration\":-1}]}}",
              I, "room_composite.segment_outputs[0].segment_duration: -1 is out of range");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{"
              "\"filename_suffix\":\"SOMETIMES\"}]}}",
              I, "segment_outputs[0].filename_suffix: unknown value");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{"
              "\"s3\":{\"bucket\":\"b\"}}]}}",
              I, "segment_outputs[0].s3.access_key: required");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{"
              "\"azure\":{}}]}}",
              U, "segment_outputs[0].azure: Azure upload not supported yet");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{"
              "\"playlist\":\"x\"}]}}",
              I, "segment_outputs[0].playlist: unknown field");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"audio_only\":true,"
              "\"image_outputs\":[{\"capture_interval\":2}]}}",
              I, "image outputs need video");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"image_outputs\":[{"
              "\"capture_interval\":2,\"width\":321}]}}",
              I, "even");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"image_outputs\":[{"
              "\"capture_interval\":2,\"filename_suffix\":\"IMAGE_SUFFIX_NONE_OVERWRITE\"}]}}",
              U, "NONE_OVERWRITE");
    parse_bad("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"segments\":{}}}", I,
              "track.segments: unknown field");
}

static void test_room_composite_snake(void)
{
    g_autoptr(RrJobSpec) s =
        parse_ok("{\"egress_id\":\"EG_1\",\"ws_url\":\"ws://x\",\"token\":\"t\",\"room_composite\":"
                 "{\"room_name\":\"demo\",\"layout\":\"speaker-dark\",\"audio_only\":false,"
                 "\"preset\":\"H264_1080P_60\",\"file_outputs\":[{\"file_type\":\"MP4\","
                 "\"filepath\":\"out/{room_name}.mp4\"}]}}");
    g_assert_cmpint(s->kind, ==, RR_JOB_ROOM_COMPOSITE);
    g_assert_cmpstr(s->egress_id, ==, "EG_1");
    g_assert_cmpstr(s->ws_url, ==, "ws://x");
    g_assert_cmpstr(s->token, ==, "t");
    g_assert_cmpstr(s->room_name, ==, "demo");
    g_assert_cmpstr(s->layout, ==, "speaker-dark");
    g_assert_cmpstr(s->filepath, ==, "out/{room_name}.mp4");
    g_assert_cmpint(s->file_type, ==, RR_JOB_FILE_MP4);
    g_assert_true(s->has_preset);
    g_assert_cmpint(s->preset, ==, RR_PRESET_H264_1080P_60);
    g_assert_cmpuint(s->encode.width, ==, 1920);
    g_assert_cmpuint(s->encode.height, ==, 1080);
    g_assert_cmpuint(s->encode.fps, ==, 60);
}

static void test_room_composite_camel(void)
{
    g_autoptr(RrJobSpec) s = parse_ok(
        "{\"egressId\":\"EG_2\",\"wsUrl\":\"ws://y\",\"roomComposite\":{\"roomName\":\"r\","
        "\"audioOnly\":true,\"fileOutputs\":[{\"fileType\":2,\"filepath\":\"a.ogg\","
        "\"disableManifest\":true}],\"advanced\":{\"audioCodec\":\"OPUS\",\"audioBitrate\":"
        "\"96\",\"audioFrequency\":48000}}}");
    g_assert_cmpint(s->kind, ==, RR_JOB_ROOM_COMPOSITE);
    g_assert_cmpstr(s->ws_url, ==, "ws://y");
    g_assert_true(s->audio_only);
    g_assert_false(s->video_only);
    g_assert_cmpstr(s->layout, ==, "grid");
    g_assert_cmpint(s->file_type, ==, RR_JOB_FILE_OGG);
    g_assert_true(s->disable_manifest);
    g_assert_true(s->has_advanced);
    g_assert_cmpint(s->encode.audio_codec, ==, RR_AUDIO_CODEC_OPUS);
    g_assert_cmpuint(s->encode.audio_bitrate_kbps, ==, 96);
    g_assert_cmpuint(s->encode.audio_frequency, ==, 48000);
}

static void test_advanced(void)
{
    g_autoptr(RrJobSpec) s = parse_ok(
        "{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"width\":640,\"height\":360,"
        "\"depth\":24,\"framerate\":25,\"video_codec\":\"H264_HIGH\",\"video_bitrate\":800,"
        "\"key_frame_interval\":2.5,\"audio_codec\":2}}}");
    g_assert_cmpuint(s->encode.width, ==, 640);
    g_assert_cmpuint(s->encode.height, ==, 360);
    g_assert_cmpuint(s->encode.fps, ==, 25);
    g_assert_cmpint(s->encode.h264_profile, ==, RR_H264_PROFILE_HIGH);
    g_assert_cmpuint(s->encode.video_bitrate_kbps, ==, 800);
    g_assert_cmpfloat(s->encode.keyframe_interval_s, ==, 2.5);
    g_assert_cmpint(s->encode.audio_codec, ==, RR_AUDIO_CODEC_AAC);
    /* Unset options keep the defaults. */
    RrEncodeSettings d;
    rr_encode_settings_init(&d);
    g_assert_cmpuint(s->encode.audio_bitrate_kbps, ==, d.audio_bitrate_kbps);
}

static void test_presets_by_number(void)
{
    for (int i = 0; i < 8; i++) {
        g_autofree char *json =
            g_strdup_printf("{\"participant\":{\"room_name\":\"r\",\"identity\":\"bob\","
                            "\"preset\":%d}}",
                            i);
        g_autoptr(RrJobSpec) s = parse_ok(json);
        g_assert_cmpint(s->kind, ==, RR_JOB_PARTICIPANT);
        g_assert_cmpint(s->preset, ==, i);
        RrEncodeSettings e;
        rr_encode_settings_init(&e);
        g_assert_true(rr_encode_settings_apply_preset(&e, i, NULL));
        g_assert_cmpuint(s->encode.width, ==, e.width);
        g_assert_cmpuint(s->encode.height, ==, e.height);
        /* Portrait presets are taller than wide. */
        g_assert_true((i >= 4) == (s->encode.height > s->encode.width));
    }
}

static void test_other_kinds(void)
{
    g_autoptr(RrJobSpec) p = parse_ok("{\"participant\":{\"roomName\":\"r\",\"identity\":\"bob\","
                                      "\"screenShare\":true}}");
    g_assert_cmpint(p->kind, ==, RR_JOB_PARTICIPANT);
    g_assert_cmpstr(p->identity, ==, "bob");
    g_assert_true(p->screen_share);
    g_assert_cmpstr(p->filepath, ==, "");

    g_autoptr(RrJobSpec) tc = parse_ok("{\"track_composite\":{\"room_name\":\"r\","
                                       "\"audio_track_id\":\"TR_a\",\"video_track_id\":\"TR_v\"}}");
    g_assert_cmpint(tc->kind, ==, RR_JOB_TRACK_COMPOSITE);
    g_assert_cmpstr(tc->audio_track_id, ==, "TR_a");
    g_assert_cmpstr(tc->video_track_id, ==, "TR_v");
    g_assert_false(tc->audio_only || tc->video_only);

    g_autoptr(RrJobSpec) ta = parse_ok("{\"trackComposite\":{\"roomName\":\"r\","
                                       "\"audioTrackId\":\"TR_a\"}}");
    g_assert_true(ta->audio_only);

    g_autoptr(RrJobSpec) t =
        parse_ok("{\"url\":\"http://h\",\"api_key\":\"k\",\"api_secret\":"
                 "\"s\",\"track\":{\"room_name\":\"r\",\"track_id\":"
                 "\"alice/camera\",\"file\":{\"filepath\":\"x/{track_id}\"}}}");
    g_assert_cmpint(t->kind, ==, RR_JOB_TRACK);
    g_assert_cmpstr(t->ws_url, ==, "http://h");
    g_assert_cmpstr(t->api_key, ==, "k");
    g_assert_cmpstr(t->api_secret, ==, "s");
    g_assert_cmpstr(t->track_id, ==, "alice/camera");
    g_assert_cmpstr(t->filepath, ==, "x/{track_id}");

    /* null means "not set"; empty output lists are fine. */
    g_autoptr(RrJobSpec) n = parse_ok("{\"egress_id\":null,\"room_composite\":{\"room_name\":"
                                      "\"r\",\"layout\":null,\"stream_outputs\":[],"
                                      "\"segment_outputs\":[],\"file\":{\"filepath\":\"f.mp4\"}}}");
    g_assert_null(n->egress_id);
    g_assert_cmpstr(n->layout, ==, "grid");
    g_assert_cmpstr(n->filepath, ==, "f.mp4");
}

/* A request's own webhooks (LiveKit's WebhookConfig list), echoed in EgressInfo. */
static void test_webhooks(void)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(RrJobSpec) spec =
        rr_job_spec_parse("{\"track\":{\"room_name\":\"r\",\"track_id\":\"TR_1\",\"webhooks\":["
                          "{\"url\":\"http://127.0.0.1:1/a\"},"
                          "{\"url\":\"https://h.example/b\",\"signingKey\":\"APIk\"}]}}",
                          -1, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(spec->webhooks->len, ==, 2);
    const RrJobWebhook *w0 = g_ptr_array_index(spec->webhooks, 0);
    const RrJobWebhook *w1 = g_ptr_array_index(spec->webhooks, 1);
    g_assert_cmpstr(w0->url, ==, "http://127.0.0.1:1/a");
    g_assert_cmpstr(w0->signing_key, ==, "");
    g_assert_cmpstr(w1->signing_key, ==, "APIk");
    g_autoptr(RrEgressInfo) info = rr_egress_info_new("EG_w", spec);
    g_autofree char *json = rr_egress_info_to_json(info, FALSE);
    g_assert_nonnull(strstr(json, "\"webhooks\":[{\"url\":\"http://127.0.0.1:1/a\"},"
                                  "{\"url\":\"https://h.example/b\",\"signingKey\":\"APIk\"}]"));
    g_autoptr(RrJobSpec) none =
        rr_job_spec_parse("{\"room_composite\":{\"room_name\":\"r\"}}", -1, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(none->webhooks->len, ==, 0);

    const int I = RR_WORKER_ERROR_INVALID_JOB;
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"webhooks\":{}}}", I,
              "room_composite.webhooks: expected an array");
    parse_bad("{\"participant\":{\"room_name\":\"r\",\"identity\":\"a\",\"webhooks\":[{"
              "\"url\":\"ftp://x/\"}]}}",
              I, "participant.webhooks[0].url: expected an http:// or https:// URL");
    parse_bad("{\"track_composite\":{\"room_name\":\"r\",\"audio_track_id\":\"a\","
              "\"webhooks\":[{\"url\":\"http://x/\",\"signing\":\"k\"}]}}",
              I, "track_composite.webhooks[0].signing: unknown field");
    parse_bad("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"webhooks\":[{}]}}", I,
              "track.webhooks[0].url: required");
}

static void test_errors(void)
{
    const int I = RR_WORKER_ERROR_INVALID_JOB, U = RR_WORKER_ERROR_UNSUPPORTED;
    parse_bad("", I, "must be a JSON object");
    parse_bad("[1]", I, "must be a JSON object");
    parse_bad("{\"room_composite\":", I, "not valid JSON");
    parse_bad("{}", I, "one of room_composite");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{\"filpath\":\"x\"}]}}",
              I, "room_composite.file_outputs[0].filpath: unknown field");
    parse_bad("{\"roomComposite\":{\"roomName\":\"r\",\"fileOutputs\":[{\"fileTyp\":1}]}}", I,
              "roomComposite.fileOutputs[0].fileTyp: unknown field");
    parse_bad("{\"egress\":1,\"track\":{}}", I, "egress: unknown field");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\"},\"track\":{\"room_name\":\"r\","
              "\"track_id\":\"t\"}}",
              I, "only one request");
    parse_bad("{\"room_composite\":{}}", I, "room_composite.room_name: required");
    parse_bad("{\"room_composite\":{\"room_name\":5}}", I,
              "room_composite.room_name: expected a "
              "string");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"roomName\":\"r\"}}", I, "given twice");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"audio_only\":\"yes\"}}", I,
              "audio_only: expected true or false");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"audio_only\":true,\"video_only\":true}}",
              I, "exclude each other");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"layout\":\"mosaic\"}}", I,
              "room_composite.layout: unknown layout");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"preset\":\"H264_4K\"}}", I,
              "room_composite.preset: unknown value");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"preset\":9}}", I, "unknown value 9");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"preset\":0,\"advanced\":{}}}", I,
              "either preset or advanced");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"width\":1.5}}}", I,
              "room_composite.advanced.width: expected an integer");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"width\":99999}}}", I,
              "out of range");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"framerate\":-1}}}", I,
              "out of range");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"width\":641}}}", I,
              "room_composite.advanced");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"audio_codec\":3}}}", U,
              "MP3");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"advanced\":{\"video_codec\":\"VP8\"}}}",
              U, "only H.264");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"custom_base_url\":\"http://x\"}}", U,
              "custom_base_url: custom templates");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{\"s3\":{\"bucket\":"
              "\"b\"}}]}}",
              I, "room_composite.file_outputs[0].s3.access_key: required");
    parse_bad("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"file\":{\"azure\":{}}}}", U,
              "track.file.azure: Azure upload");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"stream_outputs\":[{\"urls\":[]}]}}", U,
              "stream outputs are not supported yet");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{},{}]}}", U,
              "room_composite.segment_outputs: only one segment output");
    parse_bad("{\"participant\":{\"room_name\":\"r\",\"identity\":\"a\",\"image_outputs\":[{}]}}",
              I, "participant.image_outputs[0].capture_interval: required");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{},{}]}}", U,
              "only one file output");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{\"file_type\":\"MP3\"}]"
              "}}",
              U, "MP3 output");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":{}}}", I,
              "expected an array");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[7]}}", I,
              "file_outputs[0]: expected an object");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"file\":{},\"file_outputs\":[{}]}}", I,
              "either file or file_outputs");
    parse_bad("{\"track_composite\":{\"room_name\":\"r\"}}", I, "audio_track_id or video_track_id");
    parse_bad("{\"participant\":{\"room_name\":\"r\"}}", I, "participant.identity: required");
    parse_bad("{\"track\":{\"room_name\":\"r\",\"track_id\":\"\"}}", I, "track.track_id: required");
    parse_bad("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"preset\":1}}", I,
              "track.preset: unknown field");
    parse_bad("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"websocket_url\":\"ws://x\"}}",
              U, "WebSocket");
    parse_bad("{\"web\":{\"url\":\"http://x\"}}", U, "web egress");
    parse_bad("{\"ws_url\":\"a\",\"url\":\"b\",\"track\":{\"room_name\":\"r\",\"track_id\":\"t\"}}",
              I, "either ws_url or url");
    parse_bad("{\"room_composite\":{\"room_name\":\"r\",\"audio_mixing\":1}}", U, "DEFAULT_MIXING");
    g_autoptr(GString) deep = g_string_new("{\"a\":");
    for (int i = 0; i < 5000; i++)
        g_string_append_c(deep, '[');
    parse_bad(deep->str, I, "nested");
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_job_spec_parse("{\"track\":{}}\0{}", 15, &error));
    g_assert_nonnull(strstr(error->message, "NUL"));
}

static void test_templates(void)
{
    RrJobTemplateVars v = {
        .room_name = "demo",
        .egress_id = "EG_x",
        .track_id = "TR_1",
        .track_type = "video",
        .track_source = "camera",
        .publisher_identity = "a/b",
        .unix_usec = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC,
    };
    g_autofree char *s = rr_job_expand_template(
        "{room_name}/{egress_id}-{track_id}-{track_type}-{track_source}-{publisher_identity}-"
        "{time}-{unknown}",
        &v);
    g_assert_cmpstr(s, ==, "demo/EG_x-TR_1-video-camera-a_b-2023-11-14T221320-{unknown}");

    g_autoptr(RrJobSpec) t =
        parse_ok("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"file\":{\"filepath\":"
                 "\"rec/{track_id}.mp4\"}}}");
    g_autofree char *to = rr_job_track_output(t, &v, "webm");
    g_assert_cmpstr(to, ==, "rec/TR_1.webm");
    g_autoptr(RrJobSpec) td = parse_ok("{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\"}}");
    g_autofree char *tdo = rr_job_track_output(td, &v, "ogg");
    g_assert_cmpstr(tdo, ==, "demo-a_b-TR_1-2023-11-14T221320.ogg");

    RrContainer c;
    g_autoptr(RrJobSpec) d = parse_ok("{\"room_composite\":{\"room_name\":\"r\"}}");
    g_autofree char *dp = rr_job_composite_output(d, &v, &c, NULL);
    g_assert_cmpstr(dp, ==, "demo-2023-11-14T221320.mp4");
    g_assert_cmpint(c, ==, RR_CONTAINER_MP4);
    g_autoptr(RrJobSpec) a =
        parse_ok("{\"room_composite\":{\"room_name\":\"r\",\"audio_only\":true,"
                 "\"file_outputs\":[{\"filepath\":\"out/\"}]}}");
    g_autofree char *ap = rr_job_composite_output(a, &v, &c, NULL);
    g_assert_cmpstr(ap, ==, "out/demo-2023-11-14T221320.ogg");
    g_assert_cmpint(c, ==, RR_CONTAINER_OGG);
    g_autoptr(RrJobSpec) m =
        parse_ok("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{\"filepath\":"
                 "\"x.mkv\"}]}}");
    g_autofree char *mp = rr_job_composite_output(m, &v, &c, NULL);
    g_assert_cmpstr(mp, ==, "x.mkv");
    g_assert_cmpint(c, ==, RR_CONTAINER_WEBM);
    g_autoptr(RrJobSpec) ft =
        parse_ok("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{\"file_type\":"
                 "\"MP4\",\"filepath\":\"x.webm\"}]}}");
    g_autofree char *fp = rr_job_composite_output(ft, &v, &c, NULL);
    g_assert_cmpstr(fp, ==, "x.mp4");
    g_autoptr(RrJobSpec) bad =
        parse_ok("{\"room_composite\":{\"room_name\":\"r\",\"file_outputs\":[{\"file_type\":"
                 "\"OGG\"}]}}");
    g_autoptr(GError) error = NULL;
    g_assert_null(rr_job_composite_output(bad, &v, &c, &error));
    g_assert_error(error, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB);
}

/* Template values from outside never add a directory or a step up. */
static void test_template_hostile(void)
{
    RrJobTemplateVars v = {
        .room_name = "..",
        .egress_id = "EG_x",
        .track_id = ".",
        .publisher_identity = "../../etc/a\nb\x01",
        .unix_usec = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC,
    };
    g_autofree char *s =
        rr_job_expand_template("rec/{room_name}/{track_id}/{publisher_identity}.mp4", &v);
    g_assert_cmpstr(s, ==, "rec/__/_/.._.._etc_a_b_.mp4");
    v.room_name = "...";
    v.track_id = "a..b";
    g_autofree char *s2 = rr_job_expand_template("{room_name}/{track_id}", &v);
    g_assert_cmpstr(s2, ==, "___/a..b");
    v.room_name = "/";
    g_autofree char *s3 = rr_job_expand_template("{room_name}", &v);
    g_assert_cmpstr(s3, ==, "_");
    /* The user's own directories in the template stay. */
    v.room_name = "demo";
    g_autofree char *s4 = rr_job_expand_template("../out/{room_name}.mp4", &v);
    g_assert_cmpstr(s4, ==, "../out/demo.mp4");
    g_autoptr(RrJobSpec) d = parse_ok("{\"room_composite\":{\"room_name\":\"r\"}}");
    v.room_name = "..";
    g_autofree char *dp = rr_job_composite_output(d, &v, NULL, NULL);
    g_assert_cmpstr(dp, ==, "__-2023-11-14T221320.mp4");
}

static char *read_text(const char *path)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* An existing file is never taken: numbered names, the real name returned. */
static void test_reserve_output(void)
{
    g_autofree char *dir = g_dir_make_tmp("rr-job-out-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *path = g_build_filename(dir, "room.mp4", NULL);
    g_autoptr(GError) err = NULL;

    g_autofree char *a = rr_job_reserve_output(path, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(a, ==, path);
    /* The reservation is NAME.part; NAME appears only with the finished recording. */
    g_autofree char *part_a = g_strconcat(a, ".part", NULL);
    g_assert_true(g_file_test(part_a, G_FILE_TEST_IS_REGULAR));
    g_assert_false(g_file_test(a, G_FILE_TEST_EXISTS));
    /* Taken: a second job gets "-1". */
    g_autofree char *b = rr_job_reserve_output(path, &err);
    g_assert_no_error(err);
    g_autofree char *want_b = g_build_filename(dir, "room-1.mp4", NULL);
    g_assert_cmpstr(b, ==, want_b);
    /* A recording already there is kept; so is a .part of someone else's. */
    g_assert_true(g_file_set_contents(a, "old recording", -1, NULL));
    g_autofree char *part2 = g_build_filename(dir, "room-2.mp4.part", NULL);
    g_assert_true(g_file_set_contents(part2, "in progress", -1, NULL));
    g_autofree char *c = rr_job_reserve_output(path, &err);
    g_assert_no_error(err);
    g_autofree char *want_c = g_build_filename(dir, "room-3.mp4", NULL);
    g_assert_cmpstr(c, ==, want_c);
    g_autofree char *old = read_text(a);
    g_assert_cmpstr(old, ==, "old recording");
    g_autofree char *inprog = read_text(part2);
    g_assert_cmpstr(inprog, ==, "in progress");
    g_assert_false(g_file_test(c, G_FILE_TEST_EXISTS));

    /* A name without an extension is numbered at its end. */
    g_autofree char *plain = g_build_filename(dir, "plain", NULL);
    g_assert_true(g_file_set_contents(plain, "x", -1, NULL));
    g_autofree char *p = rr_job_reserve_output(plain, &err);
    g_assert_no_error(err);
    g_autofree char *want_p = g_build_filename(dir, "plain-1", NULL);
    g_assert_cmpstr(p, ==, want_p);

    /* Release removes an empty reservation only. */
    g_autofree char *part_b = g_strconcat(b, ".part", NULL);
    rr_job_release_output(b);
    g_assert_false(g_file_test(part_b, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_set_contents(part_a, "recorded", -1, NULL));
    rr_job_release_output(a);
    g_assert_true(g_file_test(part_a, G_FILE_TEST_EXISTS));
    rr_job_release_output(NULL);

    /* A name the file system refuses: the path and the reason. */
    g_autofree char *longname = g_strnfill(240, 'r');
    g_autofree char *lp = g_strdup_printf("%s/%s-2026-01-01T000000.mp4", dir, longname);
    g_autofree char *l = rr_job_reserve_output(lp, &err);
    g_assert_null(l);
    g_assert_error(err, RR_WORKER_ERROR, RR_WORKER_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "cannot create output "));
    g_assert_nonnull(strstr(err->message, lp));
    g_assert_nonnull(strstr(err->message, g_strerror(ENAMETOOLONG)));
    g_clear_error(&err);
    /* The final name fits, its ".part" does not: refused too, nothing left behind. */
    g_autofree char *fits = g_strnfill(252, 'f');
    g_autofree char *fp = g_build_filename(dir, fits, NULL);
    g_autofree char *f = rr_job_reserve_output(fp, &err);
    g_assert_null(f);
    g_assert_nonnull(strstr(err->message, fp));
    g_assert_nonnull(strstr(err->message, g_strerror(ENAMETOOLONG)));
    g_assert_false(g_file_test(fp, G_FILE_TEST_EXISTS));
    g_clear_error(&err);
    /* No such directory. */
    g_autofree char *nodir = g_build_filename(dir, "missing", "x.mp4", NULL);
    g_autofree char *n = rr_job_reserve_output(nodir, &err);
    g_assert_null(n);
    g_assert_nonnull(strstr(err->message, g_strerror(ENOENT)));
    g_clear_error(&err);

    const char *names[] = {"room.mp4",        "room.mp4.part", "room-2.mp4.part",
                           "room-3.mp4.part", "plain",         "plain-1.part"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *fn = g_build_filename(dir, names[i], NULL);
        g_unlink(fn);
    }
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_egress_info(void)
{
    g_autoptr(RrJobSpec) s =
        parse_ok("{\"room_id\":\"RM_1\",\"room_composite\":{\"room_name\":\"demo\","
                 "\"preset\":\"H264_720P_60\",\"file_outputs\":[{\"filepath\":\"a.mp4\"}]}}");
    g_autoptr(RrEgressInfo) info = rr_egress_info_new("EG_7", s);
    g_assert_cmpint(info->status, ==, RR_EGRESS_STARTING);
    rr_egress_info_set_status(info, RR_EGRESS_ABORTED);
    rr_egress_info_set_error(info, "Start signal not received", 412, "no publishers");
    info->started_at = G_GINT64_CONSTANT(1700000000123456789);
    RrFileResult *f = rr_egress_info_add_file(info, "/tmp/x/a.mp4");
    f->size = 1234;
    f->duration = G_GINT64_CONSTANT(8000000000);
    g_autofree char *json = rr_egress_info_to_json(info, FALSE);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "egressId"), ==, "EG_7");
    g_assert_cmpstr(json_object_get_string_member(o, "roomId"), ==, "RM_1");
    g_assert_cmpstr(json_object_get_string_member(o, "roomName"), ==, "demo");
    g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "EGRESS_ABORTED");
    g_assert_cmpstr(json_object_get_string_member(o, "startedAt"), ==, "1700000000123456789");
    g_assert_cmpint(json_object_get_int_member(o, "errorCode"), ==, 412);
    g_assert_cmpstr(json_object_get_string_member(o, "details"), ==, "no publishers");
    JsonObject *rc = json_object_get_object_member(o, "roomComposite");
    g_assert_cmpstr(json_object_get_string_member(rc, "preset"), ==, "H264_720P_60");
    JsonObject *fr =
        json_array_get_object_element(json_object_get_array_member(o, "fileResults"), 0);
    g_assert_cmpstr(json_object_get_string_member(fr, "filename"), ==, "a.mp4");
    g_assert_cmpstr(json_object_get_string_member(fr, "size"), ==, "1234");
    g_assert_cmpstr(json_object_get_string_member(fr, "duration"), ==, "8000000000");
    static const char *const names[] = {"EGRESS_STARTING",     "EGRESS_ACTIVE", "EGRESS_ENDING",
                                        "EGRESS_COMPLETE",     "EGRESS_FAILED", "EGRESS_ABORTED",
                                        "EGRESS_LIMIT_REACHED"};
    for (int i = 0; i < 7; i++) {
        g_assert_cmpstr(rr_egress_status_to_string(i), ==, names[i]);
        g_assert_true(rr_egress_status_is_final(i) == (i >= 3));
    }
}

/* rr_job_layout_is_valid: what `roomrec layout` accepts is what a job's layout accepts. */
static void test_layout_names(void)
{
    const char *good[] = {"grid",       "speaker",      "single-speaker",
                          "grid-light", "speaker-dark", "single-speaker-light"};
    const char *bad[] = {"",       "mosaic", "grid-", "grid-blue", "Speaker", "speaker-light-dark",
                         "single", "grid\n"};
    for (guint i = 0; i < G_N_ELEMENTS(good); i++)
        g_assert_true(rr_job_layout_is_valid(good[i]));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_false(rr_job_layout_is_valid(bad[i]));
    g_assert_false(rr_job_layout_is_valid(NULL));
}

static void test_s3(void)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse(
        "{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"file\":{\"s3\":{"
        "\"accessKey\":\"AK\",\"secret\":\"sek-123\",\"session_token\":\"tok-456\","
        "\"bucket\":\"b\",\"endpoint\":\"http://127.0.0.1:9\",\"forcePathStyle\":true,"
        "\"metadata\":{\"room\":\"r\"},\"tagging\":\"a=b\",\"content_disposition\":\"inline\"}}}}",
        -1, &e);
    g_assert_no_error(e);
    g_assert_nonnull(spec->s3);
    g_assert_cmpstr(spec->s3->access_key, ==, "AK");
    g_assert_cmpstr(spec->s3->secret, ==, "sek-123");
    g_assert_cmpstr(spec->s3->session_token, ==, "tok-456");
    g_assert_true(spec->s3->force_path_style);
    g_assert_cmpstr(g_hash_table_lookup(spec->s3->metadata, "room"), ==, "r");
    g_assert_cmpstr(spec->s3->content_disposition, ==, "inline");
    /* The echo keeps the upload but not its secrets. */
    g_autoptr(RrEgressInfo) info = rr_egress_info_new("EG_1", spec);
    g_autofree char *json = rr_egress_info_to_json(info, FALSE);
    g_assert_null(strstr(json, "sek-123"));
    g_assert_null(strstr(json, "tok-456"));
    g_assert_nonnull(strstr(json, "\"secret\":\"<redacted>\""));
    g_assert_nonnull(strstr(json, "\"bucket\":\"b\""));

    static const struct {
        const char *s3, *msg;
        int code;
    } bad[] = {
        {"{\"access_key\":\"a\",\"secret\":\"s\"}", "s3.bucket: required",
         RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\"}", "s3.secret: required",
         RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"s\",\"endpoint\":\"ftp://x\"}",
         "s3.endpoint: must be an http", RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"s\",\"bukket\":\"x\"}",
         "s3.bukket: unknown field", RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"s\",\"metadata\":{\"k\":1}}",
         "s3.metadata.k: expected a string", RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"s\",\"tagging\":\"a\\r\\nX: y\"}",
         "s3.tagging: must not contain a line break", RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"s\",\"forcePathStyle\":1}",
         "s3.forcePathStyle: expected true or false", RR_WORKER_ERROR_INVALID_JOB},
        {"{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"s\",\"proxy\":{}}",
         "s3.proxy: not supported", RR_WORKER_ERROR_UNSUPPORTED},
        {"[]", "file.s3: expected an object", RR_WORKER_ERROR_INVALID_JOB},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *req = g_strdup_printf(
            "{\"track\":{\"room_name\":\"r\",\"track_id\":\"t\",\"file\":{\"s3\":%s}}}", bad[i].s3);
        g_autoptr(GError) err = NULL;
        g_autoptr(RrJobSpec) s = rr_job_spec_parse(req, -1, &err);
        g_assert_null(s);
        g_assert_error(err, RR_WORKER_ERROR, bad[i].code);
        if (!strstr(err->message, bad[i].msg))
            g_error("%s: got \"%s\", expected \"%s\"", bad[i].s3, err->message, bad[i].msg);
        g_assert_null(strstr(err->message, "\"s\""));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/job/room-composite-snake", test_room_composite_snake);
    g_test_add_func("/worker/job/room-composite-camel", test_room_composite_camel);
    g_test_add_func("/worker/job/advanced", test_advanced);
    g_test_add_func("/worker/job/presets", test_presets_by_number);
    g_test_add_func("/worker/job/kinds", test_other_kinds);
    g_test_add_func("/worker/job/errors", test_errors);
    g_test_add_func("/worker/job/webhooks", test_webhooks);
    g_test_add_func("/worker/job/s3", test_s3);
    g_test_add_func("/worker/job/templates", test_templates);
    g_test_add_func("/worker/job/template-hostile", test_template_hostile);
    g_test_add_func("/worker/job/reserve-output", test_reserve_output);
    g_test_add_func("/worker/job/egress-info", test_egress_info);
    g_test_add_func("/worker/job/layout-names", test_layout_names);
    g_test_add_func("/worker/job/segments-images", test_segments_images);
    return g_test_run();
}
