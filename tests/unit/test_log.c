/* Unit tests for worker/log: redaction and line formats. */
#include "worker/log.h"

#include <json-glib/json-glib.h>

static void test_redact_jwt(void)
{
    g_autofree char *r = rr_log_redact(
        "GET /rtc?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl&protocol=16");
    g_assert_null(strstr(r, "eyJ"));
    g_assert_null(strstr(r, "c2lnbmF0dXJl"));
    g_assert_nonnull(strstr(r, "protocol=16"));
    g_assert_nonnull(strstr(r, "[redacted]"));
}

static void test_redact_params(void)
{
    g_autofree char *r =
        rr_log_redact("turn user=u credential=hunter22 Authorization: Bearer abc.def.ghi");
    g_assert_null(strstr(r, "hunter22"));
    g_assert_null(strstr(r, "abc.def.ghi"));
    g_assert_nonnull(strstr(r, "user=u"));
}

static void test_redact_registered(void)
{
    rr_log_add_secret("s3cr3t-api-value");
    rr_log_add_secret("ab"); /* too short to be registered */
    g_autofree char *r = rr_log_redact("secret is s3cr3t-api-value, twice: s3cr3t-api-value; ab");
    g_assert_null(strstr(r, "s3cr3t"));
    g_assert_nonnull(strstr(r, "ab"));
}

/* libnice's debug lines print the TURN username and password, and ICE passwords. */
static void test_redact_libnice(void)
{
    g_autofree char *relay =
        rr_log_redact("Agent 0x55d0: added relay server [127.0.0.1]:3478 of type 0 to s/c 1/1 "
                      "with user/pass : lk-user -- turn pass w0rd");
    g_assert_null(strstr(relay, "lk-user"));
    g_assert_null(strstr(relay, "w0rd"));
    g_assert_nonnull(strstr(relay, "[127.0.0.1]:3478"));
    g_assert_nonnull(strstr(relay, "user/pass : [redacted]"));
    g_autofree char *check =
        rr_log_redact("Agent 0x1 : STUN-CC REQ [::1]:1 --> [::1]:2, username='a:b' (3), "
                      "password='Qz9-ice-pwd' (11), prio=6e0001ff, controlling.");
    g_assert_null(strstr(check, "Qz9-ice-pwd"));
    g_assert_nonnull(strstr(check, "prio=6e0001ff"));
}

static void test_format_text(void)
{
    rr_log_set_job_id("EG_test");
    g_autofree char *line =
        rr_log_format(RR_LOG_FORMAT_TEXT, G_LOG_LEVEL_WARNING, "rtc", "hello", 1700000000123456);
    g_assert_cmpstr(line, ==, "2023-11-14T22:13:20.123Z WARN rtc [job EG_test] hello");
    rr_log_set_job_id(NULL);
}

static void test_format_json(void)
{
    rr_log_set_job_id("EG_json");
    g_autofree char *line = rr_log_format(RR_LOG_FORMAT_JSON, G_LOG_LEVEL_INFO, NULL,
                                          "token=abcdef \"quoted\"", 1700000000000000);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "level"), ==, "INFO");
    g_assert_cmpstr(json_object_get_string_member(o, "job"), ==, "EG_json");
    g_assert_cmpstr(json_object_get_string_member(o, "domain"), ==, "roomrec");
    g_assert_cmpstr(json_object_get_string_member(o, "msg"), ==, "token=[redacted] \"quoted\"");
    rr_log_set_job_id(NULL);
}

/* The terminal's status line stays below the records: each record clears it, is printed
 * on a line of its own, and the status line is drawn again. */
static void test_status_line(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    g_assert_nonnull(out);
    rr_log_init(RR_LOG_FORMAT_TEXT, G_LOG_LEVEL_MESSAGE);
    rr_log_set_output(out);
    rr_log_add_secret("status-secret-xyz");
    g_message("before");
    rr_log_status_line("ACTIVE 00:00:01 status-secret-xyz");
    g_message("during");
    g_info("dropped below the level");
    rr_log_status_line("ACTIVE 00:00:02");
    rr_log_status_line(NULL);
    rr_log_status_line(NULL); /* nothing left to clear: no output */
    g_message("after");
    rr_log_set_output(NULL);
    fclose(out);

    /* Records start at column 0 once the status line's characters are cleared. */
    g_auto(GStrv) lines = g_strsplit(buf, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 4);
    g_assert_true(g_str_has_prefix(lines[0], "20"));
    g_assert_true(g_str_has_suffix(lines[0], " NOTICE roomrec before"));
    g_assert_true(g_str_has_prefix(lines[1], "\r\033[KACTIVE 00:00:01 [redacted]\r\033[K20"));
    g_assert_true(g_str_has_suffix(lines[1], " NOTICE roomrec during"));
    g_assert_true(
        g_str_has_prefix(lines[2], "ACTIVE 00:00:01 [redacted]\r\033[KACTIVE 00:00:02\r\033[K20"));
    g_assert_true(g_str_has_suffix(lines[2], " NOTICE roomrec after"));
    g_assert_cmpstr(lines[3], ==, "");
    free(buf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/worker/log/redact-jwt", test_redact_jwt);
    g_test_add_func("/worker/log/redact-params", test_redact_params);
    g_test_add_func("/worker/log/redact-registered", test_redact_registered);
    g_test_add_func("/worker/log/redact-libnice", test_redact_libnice);
    g_test_add_func("/worker/log/format-text", test_format_text);
    g_test_add_func("/worker/log/format-json", test_format_json);
    g_test_add_func("/worker/log/status-line", test_status_line);
    return g_test_run();
}
