/* rtc/token: LiveKit access tokens (JWT, HS256).
 *
 * A recorder joins a room with a token signed by the API secret: `iss` = API key,
 * `sub` = identity, `name`, `nbf`, `exp`, `kind` ("egress") and a `video` grant
 * {roomJoin, room, canSubscribe, canPublish, canPublishData, hidden, recorder}, key
 * names exactly as LiveKit's ClaimGrants/VideoGrant. rr_token_mint() makes one;
 * rr_token_decode() checks the shape and times of a token given as is (without the
 * secret) and returns its claims; rr_token_sign() signs any claims (webhooks);
 * rr_token_verify() also checks the HS256 signature
 * (constant-time) and is what tests and the webhook/Twirp side use.
 *
 * Pure functions: callable from any thread. Strings and JsonObjects returned are owned
 * by the caller (transfer full); rr_token_claims_*() return strings owned by the
 * JsonObject. Malformed tokens fail with RR_RTC_ERROR_INVALID_INPUT; a bad signature,
 * wrong issuer or a token outside its nbf/exp window with RR_RTC_ERROR_AUTH. Tokens and
 * secrets never appear in error messages.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define RR_TOKEN_DEFAULT_TTL_SECONDS (6 * 3600) /* LiveKit's SDK default */
#define RR_TOKEN_LEEWAY_SECONDS      10         /* clock skew accepted by rr_token_verify */
#define RR_TOKEN_MAX_LENGTH          (64 * 1024)

typedef struct {
    const char *api_key;    /* iss; required */
    const char *api_secret; /* HMAC key; required */
    const char *identity;   /* sub; required (LiveKit refuses a join without it) */
    const char *name;       /* optional display name */
    const char *room;       /* video.room; required */
    const char *kind;       /* "egress" by default; NULL or "" leaves it out */
    const char *metadata;   /* optional participant metadata */
    gint64 ttl_seconds;     /* 0: RR_TOKEN_DEFAULT_TTL_SECONDS; negative is an error */
    gint64 now;             /* unix seconds for nbf; <= 0: the real clock */
    gboolean room_join;
    gboolean can_subscribe;
    gboolean can_publish;
    gboolean can_publish_data;
    gboolean hidden;
    gboolean recorder;
} RrTokenOptions;

/* Fill @opts with the recorder defaults: kind "egress", roomJoin, canSubscribe, hidden,
 * recorder; no publishing; default TTL; real clock. Strings are left NULL. */
void rr_token_options_init_recorder(RrTokenOptions *opts);

/* (transfer full): a signed JWT, or NULL and RR_RTC_ERROR_INVALID_INPUT when the key,
 * secret, identity or room is empty, a string is not UTF-8 or the TTL is negative. */
char *rr_token_mint(const RrTokenOptions *opts, GError **error);

/* (transfer full): a JWT of @claims (any JSON object, e.g. a webhook's {iss, nbf, exp,
 * sha256}) with the header {"alg":"HS256","typ":"JWT"}, signed with @api_secret. The one
 * JWT signer of roomrec: rr_token_mint() uses it. RR_RTC_ERROR_INVALID_INPUT when the
 * secret is empty or not UTF-8. */
char *rr_token_sign(JsonObject *claims, const char *api_secret, GError **error);

/* (transfer full): the claims of @token after checking that it is three base64url
 * parts, the header is JSON with alg HS256, the payload a JSON object with a numeric
 * `exp`, and (when @now > 0, unix seconds) that the token has not expired at @now and
 * its nbf is at most RR_TOKEN_LEEWAY_SECONDS ahead. The signature is NOT checked. */
JsonObject *rr_token_decode(const char *token, gint64 now, GError **error);

/* (transfer full): like rr_token_decode() plus an HS256 check with @api_secret
 * (constant-time) and, when @api_key is not NULL, `iss` == @api_key. Times are checked
 * against @now (<= 0: the real clock) with RR_TOKEN_LEEWAY_SECONDS of tolerance. */
JsonObject *rr_token_verify(const char *token, const char *api_secret, const char *api_key,
                            gint64 now, GError **error);

/* Claim accessors (NULL / 0 when absent or of the wrong type). */
const char *rr_token_claims_identity(JsonObject *claims);
const char *rr_token_claims_room(JsonObject *claims);
const char *rr_token_claims_api_key(JsonObject *claims);
gint64 rr_token_claims_expires_at(JsonObject *claims);

G_END_DECLS
