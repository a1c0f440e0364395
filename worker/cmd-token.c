/* worker/cmd-token: `roomrec token`. See cmd-token.h. */
#include "worker/cmd-token.h"

#include "rtc/token.h"
#include "worker/cli.h"
#include "worker/log.h"

#include <stdio.h>

/* "3600", "90s", "30m", "6h", "2d" → seconds; -1 when not a positive duration. */
static gint64 parse_ttl(const char *text)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(text, &end, 10);
    if (end == text || v == 0 || v > G_MAXINT32)
        return -1;
    gint64 mult = 1;
    if (*end == 'm')
        mult = 60;
    else if (*end == 'h')
        mult = 3600;
    else if (*end == 'd')
        mult = 86400;
    else if (*end != 's' && *end != '\0')
        return -1;
    if (*end && end[1] != '\0')
        return -1;
    return (gint64)v * mult;
}

static char *random_identity(void)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    GString *s = g_string_new("EG_");
    for (int i = 0; i < 12; i++)
        g_string_append_c(s, alphabet[g_random_int_range(0, sizeof(alphabet) - 1)]);
    return g_string_free(s, FALSE);
}

static int decode_and_print(const char *token)
{
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(JsonObject) claims = rr_token_decode(token, now, &error);
    if (!claims) {
        fprintf(stderr, "roomrec token: %s\n", error->message);
        return RR_EXIT_FAILED;
    }
    gint64 exp = rr_token_claims_expires_at(claims);
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(exp);
    g_autofree char *when = dt ? g_date_time_format_iso8601(dt) : g_strdup("?");
    const char *room = rr_token_claims_room(claims);
    const char *identity = rr_token_claims_identity(claims);
    const char *key = rr_token_claims_api_key(claims);
    printf("room: %s\nidentity: %s\napi key: %s\nexpires: %s (in %" G_GINT64_FORMAT " s)\n",
           room ? room : "(none)", identity ? identity : "(none)", key ? key : "(none)", when,
           exp - now);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), claims);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("claims (signature not checked): %s\n", text);
    return RR_EXIT_OK;
}

int rr_cmd_token(int argc, char **argv)
{
    g_autofree char *api_key = NULL, *api_secret = NULL, *room = NULL, *identity = NULL;
    g_autofree char *name = NULL, *ttl = NULL, *decode = NULL;
    GOptionEntry entries[] = {
        {"api-key", 0, 0, G_OPTION_ARG_STRING, &api_key, "API key (env LIVEKIT_API_KEY)", "KEY"},
        {"api-secret", 0, 0, G_OPTION_ARG_STRING, &api_secret,
         "API secret (env LIVEKIT_API_SECRET; prefer the environment)", "SECRET"},
        {"room", 0, 0, G_OPTION_ARG_STRING, &room, "room to join (required)", "ROOM"},
        {"identity", 0, 0, G_OPTION_ARG_STRING, &identity,
         "participant identity (default: a random EG_ id)", "ID"},
        {"name", 0, 0, G_OPTION_ARG_STRING, &name, "participant display name", "NAME"},
        {"ttl", 0, 0, G_OPTION_ARG_STRING, &ttl, "validity: seconds or 30m, 6h, 2d (default 6h)",
         "TTL"},
        {"decode", 0, 0, G_OPTION_ARG_STRING, &decode,
         "instead: show the room, identity and expiry of TOKEN (not verified)", "TOKEN"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- print a recorder access token");
    g_option_context_set_summary(
        ctx, "Prints a LiveKit access token for a hidden, subscribe-only recorder\n"
             "(kind egress, video grant roomJoin/canSubscribe/hidden/recorder).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "roomrec token: %s\n", error->message);
        return RR_EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, "roomrec token: unexpected argument '%s'\n", argv[1]);
        return RR_EXIT_USAGE;
    }
    if (decode)
        return decode_and_print(decode);

    if (!api_key)
        api_key = g_strdup(g_getenv("LIVEKIT_API_KEY"));
    if (!api_secret)
        api_secret = g_strdup(g_getenv("LIVEKIT_API_SECRET"));
    if (api_secret)
        rr_log_add_secret(api_secret);
    if (!api_key || !*api_key || !api_secret || !*api_secret) {
        fprintf(stderr, "roomrec token: --api-key and --api-secret (or LIVEKIT_API_KEY and "
                        "LIVEKIT_API_SECRET) are required\n");
        return RR_EXIT_USAGE;
    }
    if (!room || !*room) {
        fprintf(stderr, "roomrec token: --room is required\n");
        return RR_EXIT_USAGE;
    }
    RrTokenOptions opts;
    rr_token_options_init_recorder(&opts);
    if (ttl) {
        opts.ttl_seconds = parse_ttl(ttl);
        if (opts.ttl_seconds < 0) {
            fprintf(stderr, "roomrec token: --ttl '%s' is not a positive duration\n", ttl);
            return RR_EXIT_USAGE;
        }
    }
    if (!identity)
        identity = random_identity();
    opts.api_key = api_key;
    opts.api_secret = api_secret;
    opts.room = room;
    opts.identity = identity;
    opts.name = name;
    g_autofree char *token = rr_token_mint(&opts, &error);
    if (!token) {
        fprintf(stderr, "roomrec token: %s\n", error->message);
        return RR_EXIT_USAGE;
    }
    printf("%s\n", token);
    return RR_EXIT_OK;
}
