/* Unit tests: the names and storage keys of segment, playlist and image outputs
 * (rr_job_segment_names, rr_job_image_prefix, rr_upload_key_for, rr_storage_key_join):
 * LiveKit's rules for filename_prefix / playlist_name / live_playlist_name, templates,
 * keys relative to the output directory, the store's prefix. */
#include "storage/storage.h"
#include "worker/job.h"
#include "worker/upload.h"
#include "worker/worker-error.h"

static const RrJobTemplateVars vars = {
    .room_name = "my room",
    .room_id = "RM_1",
    .egress_id = "EG_1",
    .unix_usec = 1706702400000000, /* 2024-01-31T120000 */
};

typedef struct {
    const char *prefix, *playlist, *live;          /* the request */
    const char *want_prefix, *want_pl, *want_live; /* the names */
} NameCase;

static void test_names(void)
{
    static const NameCase cases[] = {
        /* Everything given, one directory. */
        {"rec/seg", "rec/index.m3u8", "rec/live.m3u8", "rec/seg", "rec/index.m3u8",
         "rec/live.m3u8"},
        /* ".m3u8" appended; no live playlist unless named (LiveKit's default). */
        {"seg", "index", NULL, "seg", "index.m3u8", NULL},
        /* A playlist without a directory goes into the prefix's. */
        {"a/b/seg", "index.m3u8", "live", "a/b/seg", "a/b/index.m3u8", "a/b/live.m3u8"},
        /* A prefix without a directory goes into the playlist's. */
        {"seg", "p/index.m3u8", NULL, "p/seg", "p/index.m3u8", NULL},
        /* A prefix in a subdirectory of its own stays there, under the playlist's. */
        {"s/seg", "p/index.m3u8", "p/live.m3u8", "p/s/seg", "p/index.m3u8", "p/live.m3u8"},
        /* No playlist name: the prefix's base name. */
        {"x/rec", NULL, NULL, "x/rec", "x/rec.m3u8", NULL},
        /* No prefix: the playlist's name. */
        {NULL, "out/show.m3u8", NULL, "out/show", "out/show.m3u8", NULL},
        /* Nothing: {room_name}-{time} (the room name sanitised by the template). */
        {"", "", "", "my room-2024-01-31T120000", "my room-2024-01-31T120000.m3u8", NULL},
        /* Templates. */
        {"{room_name}/{egress_id}", "{room_name}/{room_id}.m3u8", "{room_name}/live-{egress_id}",
         "my room/EG_1", "my room/RM_1.m3u8", "my room/live-EG_1.m3u8"},
        /* Absolute paths stay absolute. */
        {"/data/r/seg", "/data/r/r.m3u8", "/data/r/l.m3u8", "/data/r/seg", "/data/r/r.m3u8",
         "/data/r/l.m3u8"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const NameCase *c = &cases[i];
        RrJobSegments js = {.filename_prefix = (char *)c->prefix,
                            .playlist_name = (char *)c->playlist,
                            .live_playlist_name = (char *)c->live};
        RrJobSegmentNames n = {0};
        g_autoptr(GError) e = NULL;
        g_assert_true(rr_job_segment_names(&js, &vars, &n, &e));
        g_assert_no_error(e);
        g_assert_cmpstr(n.prefix, ==, c->want_prefix);
        g_assert_cmpstr(n.playlist, ==, c->want_pl);
        g_assert_cmpstr(n.live_playlist, ==, c->want_live);
        rr_job_segment_names_clear(&n);
    }
}

static void test_names_live_elsewhere(void)
{
    RrJobSegments js = {.filename_prefix = "seg",
                        .playlist_name = "a/index.m3u8",
                        .live_playlist_name = "b/live.m3u8"};
    RrJobSegmentNames n = {0};
    g_autoptr(GError) e = NULL;
    g_assert_false(rr_job_segment_names(&js, &vars, &n, &e));
    g_assert_error(e, RR_WORKER_ERROR, RR_WORKER_ERROR_INVALID_JOB);
    g_assert_nonnull(strstr(e->message, "live_playlist_name"));
    g_assert_null(n.playlist);
}

static void test_names_hostile_template(void)
{
    /* A room name with "/" and ".." stays inside the template's directories. */
    RrJobTemplateVars v = vars;
    v.room_name = "../../etc";
    RrJobSegments js = {.filename_prefix = "rec/{room_name}", .playlist_name = NULL};
    RrJobSegmentNames n = {0};
    g_assert_true(rr_job_segment_names(&js, &v, &n, NULL));
    g_assert_cmpstr(n.prefix, ==, "rec/.._.._etc");
    g_assert_cmpstr(n.playlist, ==, "rec/.._.._etc.m3u8");
    rr_job_segment_names_clear(&n);
}

static void test_image_prefix(void)
{
    RrJobImages ji = {.filename_prefix = "snap/{room_name}"};
    g_autofree char *p = rr_job_image_prefix(&ji, &vars);
    g_assert_cmpstr(p, ==, "snap/my room");
    RrJobImages none = {0};
    g_autofree char *d = rr_job_image_prefix(&none, &vars);
    g_assert_cmpstr(d, ==, "my room-2024-01-31T120000");
}

static void test_keys(void)
{
    static const char *const cases[][3] = {
        {"/out", "/out/rec/seg_00001.ts", "rec/seg_00001.ts"},
        {"/out/", "/out/rec/index.m3u8", "rec/index.m3u8"},
        {"/out", "rec/img_00000.jpeg", "rec/img_00000.jpeg"}, /* relative: under the dir */
        {"/out", "/elsewhere/seg_00000.ts", "seg_00000.ts"},  /* outside: its base name */
        {"/out", "/outside/x.ts", "x.ts"},                    /* not fooled by a shared start */
        {"/", "/data/a.ts", "data/a.ts"},
        {"/out", "/out/./a/../seg.ts", "seg.ts"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *k = rr_upload_key_for(cases[i][0], cases[i][1]);
        g_assert_cmpstr(k, ==, cases[i][2]);
    }
}

static void test_keys_with_store_prefix(void)
{
    /* What each store does with a key: its prefix (storage.prefix) joined by one '/'. */
    RrJobSegments js = {.filename_prefix = "{room_name}/seg",
                        .playlist_name = "index",
                        .live_playlist_name = "live"};
    RrJobSegmentNames n = {0};
    g_assert_true(rr_job_segment_names(&js, &vars, &n, NULL));
    g_autofree char *seg = g_strconcat("/out/", n.prefix, "_00000.ts", NULL);
    g_autofree char *pl = g_strconcat("/out/", n.playlist, NULL);
    g_autofree char *kseg = rr_upload_key_for("/out", seg);
    g_autofree char *kpl = rr_upload_key_for("/out", pl);
    g_autofree char *fseg = rr_storage_key_join("recordings/", kseg, "key", NULL);
    g_autofree char *fpl = rr_storage_key_join("recordings/", kpl, "key", NULL);
    g_assert_cmpstr(fseg, ==, "recordings/my room/seg_00000.ts");
    g_assert_cmpstr(fpl, ==, "recordings/my room/index.m3u8");
    /* The playlist's relative segment URI ("seg_00000.ts") resolves beside it. */
    g_autofree char *dir = g_path_get_dirname(fpl);
    g_autofree char *base = g_path_get_basename(fseg);
    g_autofree char *resolved = g_build_path("/", dir, base, NULL);
    g_assert_cmpstr(resolved, ==, fseg);
    rr_job_segment_names_clear(&n);
}

static void test_job_s3_on_segments_and_images(void)
{
    const char *json =
        "{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{\"filename_prefix\":"
        "\"s\",\"s3\":{\"bucket\":\"b\",\"access_key\":\"a\",\"secret\":\"x\"}}],"
        "\"image_outputs\":[{\"capture_interval\":2,\"s3\":{\"bucket\":\"i\",\"access_key\":"
        "\"a\",\"secret\":\"y\"}}]}}";
    g_autoptr(GError) e = NULL;
    g_autoptr(RrJobSpec) spec = rr_job_spec_parse(json, -1, &e);
    g_assert_no_error(e);
    g_assert_nonnull(spec->segments->s3);
    g_assert_cmpstr(spec->segments->s3->bucket, ==, "b");
    g_assert_nonnull(spec->images->s3);
    g_assert_cmpstr(spec->images->s3->bucket, ==, "i");
    g_assert_null(spec->s3);

    /* A bad s3 block names its field; other uploads stay refused. */
    const char *bad = "{\"room_composite\":{\"room_name\":\"r\",\"segment_outputs\":[{\"s3\":"
                      "{\"bucket\":\"b\",\"access_key\":\"a\"}}]}}";
    g_autoptr(GError) e2 = NULL;
    g_autoptr(RrJobSpec) s2 = rr_job_spec_parse(bad, -1, &e2);
    g_assert_null(s2);
    g_assert_nonnull(strstr(e2->message, "segment_outputs[0].s3"));
    const char *gcp = "{\"room_composite\":{\"room_name\":\"r\",\"image_outputs\":[{"
                      "\"capture_interval\":1,\"gcp\":{}}]}}";
    g_autoptr(GError) e3 = NULL;
    g_autoptr(RrJobSpec) s3 = rr_job_spec_parse(gcp, -1, &e3);
    g_assert_error(e3, RR_WORKER_ERROR, RR_WORKER_ERROR_UNSUPPORTED);
    g_assert_null(s3);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/segment-keys/names", test_names);
    g_test_add_func("/worker/segment-keys/live-elsewhere", test_names_live_elsewhere);
    g_test_add_func("/worker/segment-keys/hostile-template", test_names_hostile_template);
    g_test_add_func("/worker/segment-keys/image-prefix", test_image_prefix);
    g_test_add_func("/worker/segment-keys/keys", test_keys);
    g_test_add_func("/worker/segment-keys/store-prefix", test_keys_with_store_prefix);
    g_test_add_func("/worker/segment-keys/job-s3", test_job_s3_on_segments_and_images);
    return g_test_run();
}
