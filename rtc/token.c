/* rtc/token: LiveKit access tokens. See token.h. */
#include "rtc/token.h"

#include "rtc/rtc-error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define SHA256_LEN 32

void rr_token_options_init_recorder(RrTokenOptions *opts)
{
    g_return_if_fail(opts != NULL);
    memset(opts, 0, sizeof(*opts));
    opts->kind = "egress";
    opts->room_join = TRUE;
    opts->can_subscribe = TRUE;
    opts->can_publish = FALSE;
    opts->can_publish_data = FALSE;
    opts->hidden = TRUE;
    opts->recorder = TRUE;
}

/* ---- base64url (RFC 7515 §2: no padding) ---- */

static char *b64url_encode(const guint8 *data, gsize len)
{
    char *s = g_base64_encode(data, len);
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '=')
            continue;
        *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
    }
    *w = '\0';
    return s;
}

/* Strict: only the base64url alphabet, no padding, no impossible lengths. */
static GBytes *b64url_decode(const char *s, gsize len, const char *what, GError **error)
{
    if (len == 0 || len % 4 == 1) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token %s: bad base64url length %" G_GSIZE_FORMAT, what, len);
        return NULL;
    }
    GString *std = g_string_sized_new(len + 3);
    for (gsize i = 0; i < len; i++) {
        char c = s[i];
        if (g_ascii_isalnum(c))
            g_string_append_c(std, c);
        else if (c == '-')
            g_string_append_c(std, '+');
        else if (c == '_')
            g_string_append_c(std, '/');
        else {
            g_string_free(std, TRUE);
            g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                        "token %s: invalid base64url character at offset %" G_GSIZE_FORMAT, what,
                        i);
            return NULL;
        }
    }
    while (std->len % 4)
        g_string_append_c(std, '=');
    gsize out_len = 0;
    guchar *out = g_base64_decode(std->str, &out_len);
    g_string_free(std, TRUE);
    return g_bytes_new_take(out, out_len);
}

/* ---- JSON helpers ---- */

static JsonObject *parse_json_object(GBytes *bytes, const char *what, GError **error)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    if (len == 0 || memchr(data, '\0', len) || !g_utf8_validate(data, len, NULL)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token %s is not UTF-8 JSON text", what);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token %s is not valid JSON: %s", what, local->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token %s is not a JSON object", what);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static const char *get_string(JsonObject *obj, const char *name)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

/* A NumericDate (RFC 7519 §2): integer or fractional seconds. */
static gboolean get_number(JsonObject *obj, const char *name, gint64 *out)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return FALSE;
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) {
        *out = json_node_get_int(n);
        return TRUE;
    }
    if (t == G_TYPE_DOUBLE) {
        double d = json_node_get_double(n);
        if (!(d <= 9.0e15 && d >= -9.0e15)) /* also NaN */
            return FALSE;
        *out = (gint64)d;
        return TRUE;
    }
    return FALSE;
}

const char *rr_token_claims_identity(JsonObject *claims)
{
    return get_string(claims, "sub");
}

const char *rr_token_claims_api_key(JsonObject *claims)
{
    return get_string(claims, "iss");
}

const char *rr_token_claims_room(JsonObject *claims)
{
    JsonNode *n = claims ? json_object_get_member(claims, "video") : NULL;
    if (!n || !JSON_NODE_HOLDS_OBJECT(n))
        return NULL;
    return get_string(json_node_get_object(n), "room");
}

gint64 rr_token_claims_expires_at(JsonObject *claims)
{
    gint64 v = 0;
    return get_number(claims, "exp", &v) ? v : 0;
}

/* ---- minting ---- */

static gboolean check_field(const char *value, const char *what, gboolean required, GError **error)
{
    if (required && (!value || !*value)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "token: %s is empty", what);
        return FALSE;
    }
    if (value && !g_utf8_validate(value, -1, NULL)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "token: %s is not valid UTF-8",
                    what);
        return FALSE;
    }
    return TRUE;
}

static gboolean hmac_sha256(const char *secret, const char *data, gsize len, guint8 out[SHA256_LEN])
{
    unsigned int out_len = 0;
    guint8 empty = 0;
    const void *key = *secret ? (const void *)secret : (const void *)&empty;
    if (!HMAC(EVP_sha256(), key, (int)strlen(secret), (const unsigned char *)data, len, out,
              &out_len) ||
        out_len != SHA256_LEN)
        return FALSE;
    return TRUE;
}

static char *json_to_b64url(JsonNode *root)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    gsize len = 0;
    g_autofree char *text = json_generator_to_data(gen, &len);
    return b64url_encode((const guint8 *)text, len);
}

char *rr_token_mint(const RrTokenOptions *opts, GError **error)
{
    g_return_val_if_fail(opts != NULL, NULL);
    if (!check_field(opts->api_key, "API key", TRUE, error) ||
        !check_field(opts->api_secret, "API secret", TRUE, error) ||
        !check_field(opts->identity, "identity", TRUE, error) ||
        !check_field(opts->room, "room", TRUE, error) ||
        !check_field(opts->name, "name", FALSE, error) ||
        !check_field(opts->kind, "kind", FALSE, error) ||
        !check_field(opts->metadata, "metadata", FALSE, error))
        return NULL;
    if (opts->ttl_seconds < 0 || opts->ttl_seconds > G_MAXINT32 * (gint64)10) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token: TTL %" G_GINT64_FORMAT " s is out of range", opts->ttl_seconds);
        return NULL;
    }
    gint64 now = opts->now > 0 ? opts->now : g_get_real_time() / G_USEC_PER_SEC;
    gint64 ttl = opts->ttl_seconds ? opts->ttl_seconds : RR_TOKEN_DEFAULT_TTL_SECONDS;

    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "iss");
    json_builder_add_string_value(b, opts->api_key);
    json_builder_set_member_name(b, "sub");
    json_builder_add_string_value(b, opts->identity);
    if (opts->name && *opts->name) {
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, opts->name);
    }
    json_builder_set_member_name(b, "nbf");
    json_builder_add_int_value(b, now);
    json_builder_set_member_name(b, "exp");
    json_builder_add_int_value(b, now + ttl);
    if (opts->kind && *opts->kind) {
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, opts->kind);
    }
    if (opts->metadata && *opts->metadata) {
        json_builder_set_member_name(b, "metadata");
        json_builder_add_string_value(b, opts->metadata);
    }
    json_builder_set_member_name(b, "video");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "roomJoin");
    json_builder_add_boolean_value(b, opts->room_join);
    json_builder_set_member_name(b, "room");
    json_builder_add_string_value(b, opts->room);
    json_builder_set_member_name(b, "canSubscribe");
    json_builder_add_boolean_value(b, opts->can_subscribe);
    json_builder_set_member_name(b, "canPublish");
    json_builder_add_boolean_value(b, opts->can_publish);
    json_builder_set_member_name(b, "canPublishData");
    json_builder_add_boolean_value(b, opts->can_publish_data);
    json_builder_set_member_name(b, "hidden");
    json_builder_add_boolean_value(b, opts->hidden);
    json_builder_set_member_name(b, "recorder");
    json_builder_add_boolean_value(b, opts->recorder);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) payload = json_builder_get_root(b);
    return rr_token_sign(json_node_get_object(payload), opts->api_secret, error);
}

char *rr_token_sign(JsonObject *claims, const char *api_secret, GError **error)
{
    g_return_val_if_fail(claims != NULL, NULL);
    if (!check_field(api_secret, "API secret", TRUE, error))
        return NULL;
    g_autoptr(JsonBuilder) hb = json_builder_new_immutable();
    json_builder_begin_object(hb);
    json_builder_set_member_name(hb, "alg");
    json_builder_add_string_value(hb, "HS256");
    json_builder_set_member_name(hb, "typ");
    json_builder_add_string_value(hb, "JWT");
    json_builder_end_object(hb);
    g_autoptr(JsonNode) header = json_builder_get_root(hb);
    g_autoptr(JsonNode) payload = json_node_init_object(json_node_alloc(), claims);

    g_autofree char *h64 = json_to_b64url(header);
    g_autofree char *p64 = json_to_b64url(payload);
    g_autofree char *signing_input = g_strconcat(h64, ".", p64, NULL);
    guint8 mac[SHA256_LEN];
    if (!hmac_sha256(api_secret, signing_input, strlen(signing_input), mac)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_FAILED, "token: HMAC-SHA256 failed");
        return NULL;
    }
    g_autofree char *s64 = b64url_encode(mac, sizeof(mac));
    OPENSSL_cleanse(mac, sizeof(mac));
    return g_strconcat(signing_input, ".", s64, NULL);
}

/* ---- decoding and verification ---- */

typedef struct {
    const char *parts[3];
    gsize lens[3];
} TokenParts;

static gboolean split_token(const char *token, TokenParts *tp, GError **error)
{
    if (!token || !*token) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "token is empty");
        return FALSE;
    }
    gsize len = strnlen(token, RR_TOKEN_MAX_LENGTH + 1);
    if (len > RR_TOKEN_MAX_LENGTH) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token is longer than %d bytes", RR_TOKEN_MAX_LENGTH);
        return FALSE;
    }
    guint n = 0;
    const char *start = token;
    for (const char *p = token;; p++) {
        if (*p == '.' || *p == '\0') {
            if (n < 3) {
                tp->parts[n] = start;
                tp->lens[n] = (gsize)(p - start);
            }
            n++;
            start = p + 1;
        }
        if (*p == '\0')
            break;
    }
    if (n != 3) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token is not a JWT: %u part%s separated by '.', expected 3", n,
                    n == 1 ? "" : "s");
        return FALSE;
    }
    return TRUE;
}

static gboolean check_times(JsonObject *claims, gint64 now, gint64 exp_leeway, gint64 nbf_leeway,
                            GError **error)
{
    gint64 exp = 0, nbf = 0;
    if (!get_number(claims, "exp", &exp)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token has no numeric 'exp' claim");
        return FALSE;
    }
    gboolean has_nbf = json_object_has_member(claims, "nbf");
    if (has_nbf && !get_number(claims, "nbf", &nbf)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token 'nbf' claim is not a number");
        return FALSE;
    }
    if (now <= 0)
        return TRUE;
    if (now - exp_leeway >= exp) {
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(exp);
        g_autofree char *when = dt ? g_date_time_format_iso8601(dt) : g_strdup("?");
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH,
                    "token expired at %s (%" G_GINT64_FORMAT " s ago)", when, now - exp);
        return FALSE;
    }
    if (has_nbf && now + nbf_leeway < nbf) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH,
                    "token is not valid before %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT
                    " s from now)",
                    nbf, nbf - now);
        return FALSE;
    }
    return TRUE;
}

/* Shared by decode and verify: parts, header, claims and times. */
static JsonObject *decode_common(const char *token, TokenParts *tp, gint64 now, gint64 exp_leeway,
                                 gint64 nbf_leeway, GError **error)
{
    if (!split_token(token, tp, error))
        return NULL;
    g_autoptr(GBytes) hbytes = b64url_decode(tp->parts[0], tp->lens[0], "header", error);
    if (!hbytes)
        return NULL;
    g_autoptr(JsonObject) header = parse_json_object(hbytes, "header", error);
    if (!header)
        return NULL;
    const char *alg = get_string(header, "alg");
    if (g_strcmp0(alg, "HS256") != 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token algorithm is %s%s%s, expected HS256", alg ? "'" : "",
                    alg ? alg : "missing", alg ? "'" : "");
        return NULL;
    }
    g_autoptr(GBytes) pbytes = b64url_decode(tp->parts[1], tp->lens[1], "payload", error);
    if (!pbytes)
        return NULL;
    g_autoptr(JsonObject) claims = parse_json_object(pbytes, "payload", error);
    if (!claims)
        return NULL;
    if (tp->lens[2] == 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token has an empty signature");
        return NULL;
    }
    g_autoptr(GBytes) sig = b64url_decode(tp->parts[2], tp->lens[2], "signature", error);
    if (!sig)
        return NULL;
    if (g_bytes_get_size(sig) != SHA256_LEN) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                    "token signature is %" G_GSIZE_FORMAT " bytes, expected %d for HS256",
                    g_bytes_get_size(sig), SHA256_LEN);
        return NULL;
    }
    if (!check_times(claims, now, exp_leeway, nbf_leeway, error))
        return NULL;
    return g_steal_pointer(&claims);
}

JsonObject *rr_token_decode(const char *token, gint64 now, GError **error)
{
    /* A token given as is: expired means expired; an nbf a little ahead is clock skew. */
    TokenParts tp;
    return decode_common(token, &tp, now, 0, RR_TOKEN_LEEWAY_SECONDS, error);
}

JsonObject *rr_token_verify(const char *token, const char *api_secret, const char *api_key,
                            gint64 now, GError **error)
{
    g_return_val_if_fail(api_secret != NULL, NULL);
    if (now <= 0)
        now = g_get_real_time() / G_USEC_PER_SEC;
    TokenParts tp;
    /* Structure first (so malformed input is INVALID_INPUT), times after the MAC. */
    g_autoptr(JsonObject) claims = decode_common(token, &tp, 0, 0, 0, error);
    if (!claims)
        return NULL;
    g_autoptr(GBytes) sig = b64url_decode(tp.parts[2], tp.lens[2], "signature", error);
    if (!sig)
        return NULL;
    guint8 mac[SHA256_LEN];
    gsize signed_len = tp.lens[0] + 1 + tp.lens[1];
    if (!hmac_sha256(api_secret, token, signed_len, mac)) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_FAILED, "token: HMAC-SHA256 failed");
        return NULL;
    }
    gboolean ok = CRYPTO_memcmp(mac, g_bytes_get_data(sig, NULL), SHA256_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!ok) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH,
                    "token signature does not match the API secret");
        return NULL;
    }
    if (api_key && g_strcmp0(rr_token_claims_api_key(claims), api_key) != 0) {
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_AUTH,
                    "token issuer does not match the API key");
        return NULL;
    }
    if (!check_times(claims, now, RR_TOKEN_LEEWAY_SECONDS, RR_TOKEN_LEEWAY_SECONDS, error))
        return NULL;
    return g_steal_pointer(&claims);
}
