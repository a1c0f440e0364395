/* Unit tests for rtc/token: mint/verify round trips, a token made by LiveKit's own
 * server SDK, tampering, expiry and malformed input. */
#include "rtc/rtc-error.h"
#include "rtc/token.h"

#include <string.h>

/* Made by livekit-server-sdk 2.19.2 (npm) on 2026-11:
 *   new AccessToken(KEY, SECRET, {identity: 'EG_vector', name: 'roomrec vector',
 *                   ttl: 50 * 365 * 24 * 3600}); at.kind = 'egress';
 *   at.addGrant({roomJoin: true, room: 'vector-room', canSubscribe: true,
 *                canPublish: false, canPublishData: false, hidden: true, recorder: true});
 * Its header is {"alg":"HS256"} (jose leaves out "typ"). */
#define LK_KEY    "APIroomrecTest"
#define LK_SECRET "roomrec-test-secret-0123456789abcdef"
#define LK_NBF    G_GINT64_CONSTANT(1795263059)
#define LK_EXP    G_GINT64_CONSTANT(3372063059)
#define LK_TOKEN                                                                                   \
    "eyJhbGciOiJIUzI1NiJ9."                                                                        \
    "eyJuYW1lIjoicm9vbXJlYyB2ZWN0b3IiLCJraW5kIjoiZWdyZXNzIiwidmlkZW8iOnsicm9vbUpvaW4iOnRy"         \
    "dWUsInJvb20iOiJ2ZWN0b3Itcm9vbSIsImNhblN1YnNjcmliZSI6dHJ1ZSwiY2FuUHVibGlzaCI6ZmFsc2Us"         \
    "ImNhblB1Ymxpc2hEYXRhIjpmYWxzZSwiaGlkZGVuIjp0cnVlLCJyZWNvcmRlciI6dHJ1ZX0sImlzcyI6IkFQ"         \
    "SXJvb21yZWNUZXN0IiwiZXhwIjozMzcyMDYzMDU5LCJuYmYiOjE3OTUyNjMwNTksInN1YiI6IkVHX3ZlY3Rv"         \
    "ciJ9.gJuIyZwgzTaRx9fMFeroBSPJ8n7C1gO9ymvun1jqaE0"

#define NOW G_GINT64_CONSTANT(1800000000)

static char *mint_default(gint64 now, gint64 ttl)
{
    RrTokenOptions o;
    rr_token_options_init_recorder(&o);
    o.api_key = "APIkey";
    o.api_secret = "a-secret-of-some-length";
    o.identity = "EG_abc";
    o.name = "roomrec";
    o.room = "my-room";
    o.now = now;
    o.ttl_seconds = ttl;
    g_autoptr(GError) error = NULL;
    char *t = rr_token_mint(&o, &error);
    g_assert_no_error(error);
    g_assert_nonnull(t);
    return t;
}

static gboolean obj_bool(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    return json_object_get_boolean_member(o, name);
}

static void test_round_trip(void)
{
    g_autofree char *t = mint_default(NOW, 3600);
    g_auto(GStrv) parts = g_strsplit(t, ".", -1);
    g_assert_cmpuint(g_strv_length(parts), ==, 3);
    /* base64url without padding */
    g_assert_null(strpbrk(t, "=+/"));

    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) c =
        rr_token_verify(t, "a-secret-of-some-length", "APIkey", NOW + 10, &error);
    g_assert_no_error(error);
    g_assert_nonnull(c);
    g_assert_cmpstr(rr_token_claims_api_key(c), ==, "APIkey");
    g_assert_cmpstr(rr_token_claims_identity(c), ==, "EG_abc");
    g_assert_cmpstr(rr_token_claims_room(c), ==, "my-room");
    g_assert_cmpint(rr_token_claims_expires_at(c), ==, NOW + 3600);
    g_assert_cmpint(json_object_get_int_member(c, "nbf"), ==, NOW);
    g_assert_cmpstr(json_object_get_string_member(c, "name"), ==, "roomrec");
    g_assert_cmpstr(json_object_get_string_member(c, "kind"), ==, "egress");
    JsonObject *v = json_object_get_object_member(c, "video");
    g_assert_nonnull(v);
    g_assert_true(obj_bool(v, "roomJoin"));
    g_assert_true(obj_bool(v, "canSubscribe"));
    g_assert_false(obj_bool(v, "canPublish"));
    g_assert_false(obj_bool(v, "canPublishData"));
    g_assert_true(obj_bool(v, "hidden"));
    g_assert_true(obj_bool(v, "recorder"));

    /* The unverified decoder sees the same claims. */
    g_autoptr(JsonObject) d = rr_token_decode(t, NOW + 10, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(rr_token_claims_room(d), ==, "my-room");

    /* Header is {"alg":"HS256","typ":"JWT"}. */
    gsize hlen = 0;
    g_autoptr(GString) std = g_string_new(parts[0]);
    while (std->len % 4)
        g_string_append_c(std, '=');
    g_autofree guchar *h = g_base64_decode(std->str, &hlen);
    g_autofree char *hs = g_strndup((const char *)h, hlen);
    g_assert_nonnull(strstr(hs, "\"alg\":\"HS256\""));
}

static void test_real_clock(void)
{
    g_autofree char *t = mint_default(0, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) c = rr_token_verify(t, "a-secret-of-some-length", NULL, 0, &error);
    g_assert_no_error(error);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 exp = rr_token_claims_expires_at(c);
    g_assert_cmpint(exp, >=, now + RR_TOKEN_DEFAULT_TTL_SECONDS - 5);
    g_assert_cmpint(exp, <=, now + RR_TOKEN_DEFAULT_TTL_SECONDS + 5);
}

static void test_livekit_vector(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) c = rr_token_verify(LK_TOKEN, LK_SECRET, LK_KEY, LK_NBF + 60, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(rr_token_claims_identity(c), ==, "EG_vector");
    g_assert_cmpstr(rr_token_claims_room(c), ==, "vector-room");
    g_assert_cmpint(rr_token_claims_expires_at(c), ==, LK_EXP);
    JsonObject *v = json_object_get_object_member(c, "video");
    g_assert_true(obj_bool(v, "recorder"));
    g_assert_true(obj_bool(v, "hidden"));

    /* Our minted token with the same inputs carries the same claims. */
    RrTokenOptions o;
    rr_token_options_init_recorder(&o);
    o.api_key = LK_KEY;
    o.api_secret = LK_SECRET;
    o.identity = "EG_vector";
    o.name = "roomrec vector";
    o.room = "vector-room";
    o.now = LK_NBF;
    o.ttl_seconds = LK_EXP - LK_NBF;
    g_autofree char *mine = rr_token_mint(&o, &error);
    g_assert_no_error(error);
    g_autoptr(JsonObject) m = rr_token_verify(mine, LK_SECRET, LK_KEY, LK_NBF + 60, &error);
    g_assert_no_error(error);
    g_autoptr(JsonNode) a = json_node_init_object(json_node_alloc(), c);
    g_autoptr(JsonNode) b = json_node_init_object(json_node_alloc(), m);
    g_assert_true(json_node_equal(a, b));

    /* Wrong secret, wrong key. */
    g_autoptr(JsonObject) bad = rr_token_verify(LK_TOKEN, "other-secret", LK_KEY, LK_NBF, &error);
    g_assert_null(bad);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_clear_error(&error);
    bad = rr_token_verify(LK_TOKEN, LK_SECRET, "APIother", LK_NBF, &error);
    g_assert_null(bad);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
}

static void test_tampered(void)
{
    g_autofree char *t = mint_default(NOW, 3600);
    g_auto(GStrv) parts = g_strsplit(t, ".", -1);
    g_autoptr(GError) error = NULL;

    /* Payload with another room, original signature. */
    RrTokenOptions o;
    rr_token_options_init_recorder(&o);
    o.api_key = "APIkey";
    o.api_secret = "a-secret-of-some-length";
    o.identity = "EG_abc";
    o.name = "roomrec";
    o.room = "other-room";
    o.now = NOW;
    o.ttl_seconds = 3600;
    g_autofree char *t2 = rr_token_mint(&o, &error);
    g_assert_no_error(error);
    g_auto(GStrv) parts2 = g_strsplit(t2, ".", -1);
    g_autofree char *forged = g_strjoin(".", parts[0], parts2[1], parts[2], NULL);
    g_autoptr(JsonObject) c = rr_token_verify(forged, o.api_secret, NULL, NOW, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_clear_error(&error);
    /* ...which the unverified decoder still reads. */
    c = rr_token_decode(forged, NOW, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(rr_token_claims_room(c), ==, "other-room");
    g_clear_pointer(&c, json_object_unref);

    /* Flip one signature character. */
    g_autofree char *sig = g_strdup(t);
    char *last = sig + strlen(sig) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    c = rr_token_verify(sig, o.api_secret, NULL, NOW, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_clear_error(&error);

    /* alg none */
    g_autofree char *none_h = g_base64_encode((const guchar *)"{\"alg\":\"none\"}", 14);
    g_strdelimit(none_h, "=", '\0');
    g_autofree char *none = g_strjoin(".", none_h, parts[1], parts[2], NULL);
    c = rr_token_verify(none, o.api_secret, NULL, NOW, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_expired(void)
{
    g_autofree char *t = mint_default(NOW, 60);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) c = rr_token_verify(t, "a-secret-of-some-length", NULL,
                                              NOW + 60 + RR_TOKEN_LEEWAY_SECONDS, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_assert_nonnull(strstr(error->message, "expired"));
    g_clear_error(&error);
    /* within the leeway */
    c = rr_token_verify(t, "a-secret-of-some-length", NULL, NOW + 65, &error);
    g_assert_no_error(error);
    g_clear_pointer(&c, json_object_unref);
    /* not yet valid */
    c = rr_token_verify(t, "a-secret-of-some-length", NULL, NOW - 100, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_clear_error(&error);
    /* decode (token given as is) reports expiry without leeway */
    c = rr_token_decode(t, NOW + 60, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_assert_nonnull(strstr(error->message, "expired"));
    g_clear_error(&error);
    /* decode tolerates clock skew on nbf only */
    c = rr_token_decode(t, NOW - 5, &error);
    g_assert_no_error(error);
    g_clear_pointer(&c, json_object_unref);
    c = rr_token_decode(t, NOW - 100, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_clear_error(&error);
    /* ...and with the real clock: a token that expired in 2001. */
    g_autofree char *old = mint_default(978307200, 60);
    c = rr_token_decode(old, g_get_real_time() / G_USEC_PER_SEC, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
}

static char *b64url(const char *s)
{
    char *e = g_base64_encode((const guchar *)s, strlen(s));
    g_strdelimit(e, "+", '-');
    g_strdelimit(e, "/", '_');
    char *eq = strchr(e, '=');
    if (eq)
        *eq = '\0';
    return e;
}

static void expect_invalid(const char *token)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) c = rr_token_decode(token, NOW, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_test_message("%.60s -> %s", token ? token : "(null)", error->message);
    g_clear_error(&error);
    c = rr_token_verify(token, "secret", NULL, NOW, &error);
    g_assert_null(c);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

static void test_malformed(void)
{
    g_autofree char *h = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    g_autofree char *p = b64url("{\"sub\":\"x\",\"exp\":2000000000}");
    g_autofree char *sig = b64url("0123456789abcdef0123456789abcdef");
    g_autofree char *notjson = b64url("not json");
    g_autofree char *array = b64url("[1,2]");
    g_autofree char *noexp = b64url("{\"sub\":\"x\"}");
    g_autofree char *strexp = b64url("{\"exp\":\"soon\"}");

    /* the well-formed one decodes */
    g_autofree char *good = g_strjoin(".", h, p, sig, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) c = rr_token_decode(good, NOW, &error);
    g_assert_no_error(error);
    g_assert_cmpint(rr_token_claims_expires_at(c), ==, 2000000000);

    expect_invalid(NULL);
    expect_invalid("");
    g_autofree char *two = g_strjoin(".", h, p, NULL);
    expect_invalid(two);
    g_autofree char *four = g_strjoin(".", h, p, sig, sig, NULL);
    expect_invalid(four);
    g_autofree char *badchar = g_strjoin(".", h, "eyJ*bad", sig, NULL);
    expect_invalid(badchar);
    g_autofree char *padded = g_strdup_printf("%s.%s=.%s", h, p, sig);
    expect_invalid(padded);
    g_autofree char *badlen = g_strjoin(".", h, "eyJhb", sig, NULL);
    expect_invalid(badlen);
    g_autofree char *nj = g_strjoin(".", h, notjson, sig, NULL);
    expect_invalid(nj);
    g_autofree char *arr = g_strjoin(".", h, array, sig, NULL);
    expect_invalid(arr);
    g_autofree char *ne = g_strjoin(".", h, noexp, sig, NULL);
    expect_invalid(ne);
    g_autofree char *se = g_strjoin(".", h, strexp, sig, NULL);
    expect_invalid(se);
    g_autofree char *nosig = g_strjoin(".", h, p, "", NULL);
    expect_invalid(nosig);
    g_autofree char *shortsig = g_strjoin(".", h, p, "AAAA", NULL);
    expect_invalid(shortsig);
    g_autofree char *hj = g_strjoin(".", notjson, p, sig, NULL);
    expect_invalid(hj);
    expect_invalid("...");
    /* oversized */
    g_autofree char *huge = g_strnfill(RR_TOKEN_MAX_LENGTH + 10, 'A');
    expect_invalid(huge);
    /* binary garbage in the payload */
    g_autofree char *bin = g_base64_encode((const guchar *)"\xff\xfe\x00{", 4);
    g_strdelimit(bin, "=", '\0');
    g_strdelimit(bin, "/", '_');
    g_strdelimit(bin, "+", '-');
    g_autofree char *bt = g_strjoin(".", h, bin, sig, NULL);
    expect_invalid(bt);
}

static void test_mint_errors(void)
{
    RrTokenOptions o;
    rr_token_options_init_recorder(&o);
    o.api_key = "k";
    o.api_secret = "s";
    o.identity = "i";
    o.room = "r";
    const char **fields[] = {&o.api_key, &o.api_secret, &o.identity, &o.room};
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        const char *saved = *fields[i];
        for (int empty = 0; empty < 2; empty++) {
            *fields[i] = empty ? "" : NULL;
            g_autoptr(GError) error = NULL;
            g_autofree char *t = rr_token_mint(&o, &error);
            g_assert_null(t);
            g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
        }
        *fields[i] = saved;
    }
    g_autoptr(GError) error = NULL;
    o.ttl_seconds = -1;
    g_autofree char *t = rr_token_mint(&o, &error);
    g_assert_null(t);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    o.ttl_seconds = 10;
    o.room = "bad\xff";
    t = rr_token_mint(&o, &error);
    g_assert_null(t);
    g_assert_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
    g_clear_error(&error);
    /* Error messages never carry the secret. */
    o.room = "r";
    o.api_secret = "super-secret-value";
    o.identity = "";
    t = rr_token_mint(&o, &error);
    g_assert_null(t);
    g_assert_null(strstr(error->message, "super-secret-value"));
}

/* `roomrec token` prints a token our verifier accepts; secrets from the environment. */
static void test_cli(void)
{
    const char *builddir = g_getenv("G_TEST_BUILDDIR");
    if (!builddir) {
        g_test_skip("G_TEST_BUILDDIR not set (run through ctest)");
        return;
    }
    g_autofree char *bin = g_build_filename(builddir, "..", "worker", "roomrec", NULL);
    if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("roomrec binary not built");
        return;
    }
    char *argv[] = {bin,      "token", "--room", "cli-room", "--identity",
                    "EG_cli", "--ttl", "2h",     NULL};
    g_auto(GStrv) env = g_get_environ();
    env = g_environ_setenv(env, "LIVEKIT_API_KEY", "APIcli", TRUE);
    env = g_environ_setenv(env, "LIVEKIT_API_SECRET", "cli-secret-0123456789", TRUE);
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(
        g_spawn_sync(NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, &error));
    g_strchomp(out);
    g_autoptr(JsonObject) c = rr_token_verify(out, "cli-secret-0123456789", "APIcli", 0, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(rr_token_claims_room(c), ==, "cli-room");
    g_assert_cmpstr(rr_token_claims_identity(c), ==, "EG_cli");
    gint64 left = rr_token_claims_expires_at(c) - g_get_real_time() / G_USEC_PER_SEC;
    g_assert_cmpint(left, >, 7200 - 30);
    g_assert_cmpint(left, <=, 7200);

    /* without a secret: usage error, nothing on stdout */
    char *argv2[] = {bin, "token", "--room", "r", NULL};
    g_auto(GStrv) env2 = g_environ_unsetenv(g_get_environ(), "LIVEKIT_API_SECRET");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    g_assert_true(
        g_spawn_sync(NULL, argv2, env2, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_cmpstr(out, ==, "");
    g_assert_nonnull(strstr(err, "LIVEKIT_API_SECRET"));
}

/* rr_token_sign: any claims (a webhook's iss/nbf/exp/sha256) signed and verifiable. */
static void test_sign_claims(void)
{
    g_autoptr(JsonObject) claims = json_object_new();
    json_object_set_string_member(claims, "iss", LK_KEY);
    json_object_set_int_member(claims, "nbf", NOW);
    json_object_set_int_member(claims, "exp", NOW + 300);
    json_object_set_string_member(claims, "sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    g_autoptr(GError) e = NULL;
    g_autofree char *token = rr_token_sign(claims, LK_SECRET, &e);
    g_assert_no_error(e);
    g_autoptr(JsonObject) got = rr_token_verify(token, LK_SECRET, LK_KEY, NOW + 1, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(json_object_get_string_member(got, "sha256"), ==,
                    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    g_assert_false(json_object_has_member(got, "video"));
    g_autoptr(JsonObject) bad = rr_token_verify(token, "other-secret-0123", LK_KEY, NOW + 1, &e);
    g_assert_null(bad);
    g_assert_error(e, RR_RTC_ERROR, RR_RTC_ERROR_AUTH);
    g_clear_error(&e);
    g_assert_null(rr_token_sign(claims, "", &e));
    g_assert_error(e, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/token/round-trip", test_round_trip);
    g_test_add_func("/rtc/token/real-clock", test_real_clock);
    g_test_add_func("/rtc/token/livekit-vector", test_livekit_vector);
    g_test_add_func("/rtc/token/tampered", test_tampered);
    g_test_add_func("/rtc/token/expired", test_expired);
    g_test_add_func("/rtc/token/malformed", test_malformed);
    g_test_add_func("/rtc/token/mint-errors", test_mint_errors);
    g_test_add_func("/rtc/token/sign-claims", test_sign_claims);
    g_test_add_func("/rtc/token/cli", test_cli);
    return g_test_run();
}
