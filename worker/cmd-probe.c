/* worker/cmd-probe: `roomrec probe`. See cmd-probe.h. */
#include "worker/cmd-probe.h"

#include "rtc/rtc-error.h"
#include "rtc/session.h"
#include "worker/cli.h"
#include "worker/ice-options.h"
#include "worker/log.h"

#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

typedef struct {
    GMainLoop *loop;
    RrSession *session;
    GError *error; /* why the session ended early */
    gboolean connected_once;
    gboolean done;
    double pli_every;
    guint pli_timer;
} Probe;

static void on_state(RrSession *s, RrSessionState state, const GError *error, gpointer ud)
{
    Probe *p = ud;
    if (state == RR_SESSION_CONNECTED)
        p->connected_once = TRUE;
    if (state == RR_SESSION_FAILED || (state == RR_SESSION_CLOSED && error)) {
        g_clear_error(&p->error);
        p->error = error ? g_error_copy(error)
                         : g_error_new(RR_RTC_ERROR, RR_RTC_ERROR_FAILED, "session failed");
        g_main_loop_quit(p->loop);
    }
}

static void on_track_added(RrSession *s, const RrTrack *t, gpointer ud)
{
    fprintf(stderr, "probe: track %s: %s %s from %s%s\n", t->sid,
            t->kind == RR_TRACK_KIND_VIDEO ? "video" : "audio", t->codec, t->participant_identity,
            t->muted ? " (muted)" : "");
}

static void on_track_removed(RrSession *s, const RrTrack *t, gpointer ud)
{
    fprintf(stderr, "probe: track %s of %s ended\n", t->sid, t->participant_identity);
}

static void on_track_muted(RrSession *s, const RrTrack *t, gpointer ud)
{
    fprintf(stderr, "probe: track %s of %s %s\n", t->sid, t->participant_identity,
            t->muted ? "muted" : "unmuted");
}

static void on_secret(RrSession *s, const char *secret, gpointer ud)
{
    rr_log_add_secret(secret);
}

static const RrSessionCallbacks callbacks = {
    .state_changed = on_state,
    .secret = on_secret,
    .track_added = on_track_added,
    .track_removed = on_track_removed,
    .track_muted = on_track_muted,
};

static gboolean on_deadline(gpointer ud)
{
    Probe *p = ud;
    p->done = TRUE;
    g_main_loop_quit(p->loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer ud)
{
    Probe *p = ud;
    p->done = TRUE;
    g_main_loop_quit(p->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_pli(gpointer ud)
{
    Probe *p = ud;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, rr_session_get_tracks(p->session));
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const RrTrack *t = v;
        if (t->kind == RR_TRACK_KIND_VIDEO)
            rr_session_request_keyframe(p->session, t->sid, NULL);
    }
    return G_SOURCE_CONTINUE;
}

static int exit_code_for(const GError *e)
{
    if (!e)
        return RR_EXIT_OK;
    if (e->domain == RR_RTC_ERROR) {
        switch (e->code) {
        case RR_RTC_ERROR_AUTH:
            return RR_EXIT_AUTH;
        case RR_RTC_ERROR_CONNECT:
        case RR_RTC_ERROR_TIMEOUT:
            return RR_EXIT_SIGNALLING;
        case RR_RTC_ERROR_ICE:
        case RR_RTC_ERROR_DTLS:
        case RR_RTC_ERROR_SRTP:
            return RR_EXIT_MEDIA;
        case RR_RTC_ERROR_INVALID_INPUT:
        case RR_RTC_ERROR_UNSUPPORTED:
            return RR_EXIT_PROTOCOL;
        default:
            return RR_EXIT_FAILED;
        }
    }
    return RR_EXIT_FAILED;
}

static const char *get_str(JsonObject *o, const char *k)
{
    return o && json_object_has_member(o, k) && JSON_NODE_HOLDS_VALUE(json_object_get_member(o, k))
               ? json_object_get_string_member(o, k)
               : "";
}

static void print_text(Probe *p, JsonObject *root)
{
    JsonObject *ses = json_object_get_object_member(root, "session");
    printf("room %s (%s) as %s, session %s\n", get_str(ses, "room"), get_str(ses, "room_sid"),
           get_str(ses, "participant_sid"), get_str(ses, "state"));
    JsonArray *parts = json_object_get_array_member(ses, "participants");
    printf("participants: %u\n", json_array_get_length(parts));
    for (guint i = 0; i < json_array_get_length(parts); i++) {
        JsonObject *po = json_array_get_object_element(parts, i);
        JsonArray *tr = json_object_get_array_member(po, "tracks");
        printf("  %s (%s) %u track(s)\n", get_str(po, "identity"), get_str(po, "sid"),
               json_array_get_length(tr));
    }
    JsonArray *tracks = json_object_get_array_member(ses, "tracks");
    printf("tracks received: %u\n", json_array_get_length(tracks));
    for (guint i = 0; i < json_array_get_length(tracks); i++) {
        JsonObject *t = json_array_get_object_element(tracks, i);
        printf("  %-14s %-5s %-4s from %-10s packets %-7" G_GINT64_FORMAT
               " lost %-4" G_GINT64_FORMAT " keyframes %-3" G_GINT64_FORMAT " %.0f kbit/s%s\n",
               get_str(t, "sid"), get_str(t, "kind"), get_str(t, "codec"),
               get_str(t, "participant"), json_object_get_int_member(t, "packets"),
               json_object_get_int_member(t, "lost"), json_object_get_int_member(t, "keyframes"),
               json_object_get_double_member(t, "kbps"),
               json_object_get_boolean_member(t, "muted") ? " (muted)" : "");
    }
    JsonNode *peer_node = json_object_get_member(ses, "peer");
    if (!peer_node || JSON_NODE_HOLDS_NULL(peer_node)) {
        printf("no peer connection (no offer from the server)\n");
        return;
    }
    JsonObject *peer = json_node_get_object(peer_node);
    printf("dtls: %s, srtp %s, sctp %s, data channels:", get_str(peer, "dtls_state"),
           get_str(peer, "srtp_profile"),
           json_object_get_boolean_member(peer, "sctp_up") ? "up" : "down");
    JsonArray *ch = json_object_get_array_member(peer, "data_channels");
    for (guint i = 0; i < json_array_get_length(ch); i++)
        printf(" %s", json_array_get_string_element(ch, i));
    printf("\nsrtp auth failures: %" G_GINT64_FORMAT "\n",
           json_object_get_int_member(peer, "srtp_auth_failures"));
}

int rr_cmd_probe(int argc, char **argv)
{
    g_autofree char *url = NULL, *api_key = NULL, *api_secret = NULL, *room = NULL;
    g_autofree char *identity = NULL, *token = NULL;
    g_auto(GStrv) tracks = NULL;
    double duration = 10, pli_every = 0;
    gboolean json = FALSE, no_auto = FALSE;
    RrIceOptions ice;
    rr_ice_options_init(&ice);
    GOptionEntry entries[] = {
        {"url", 0, 0, G_OPTION_ARG_STRING, &url, "LiveKit server URL (env LIVEKIT_URL)", "URL"},
        {"api-key", 0, 0, G_OPTION_ARG_STRING, &api_key, "API key (env LIVEKIT_API_KEY)", "KEY"},
        {"api-secret", 0, 0, G_OPTION_ARG_STRING, &api_secret,
         "API secret (env LIVEKIT_API_SECRET)", "SECRET"},
        {"room", 0, 0, G_OPTION_ARG_STRING, &room, "room to join", "NAME"},
        {"identity", 0, 0, G_OPTION_ARG_STRING, &identity, "identity (default EG_random)", "ID"},
        {"token", 0, 0, G_OPTION_ARG_STRING, &token,
         "use this access token as is (env LIVEKIT_TOKEN)", "JWT"},
        {"duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "seconds to stay (default 10)", "S"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print the report as JSON", NULL},
        {"track", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tracks,
         "subscribe to this track only (repeatable)", "TR_x"},
        {"no-auto-subscribe", 0, 0, G_OPTION_ARG_NONE, &no_auto, "subscribe to nothing by default",
         NULL},
        {"pli-every", 0, 0, G_OPTION_ARG_DOUBLE, &pli_every,
         "request a keyframe on every video track every S seconds", "S"},
        {NULL},
    };
    g_autoptr(GOptionContext) oc =
        g_option_context_new("- join a room as a hidden recorder and report");
    g_option_context_add_main_entries(oc, entries, NULL);
    rr_ice_options_add_entries(&ice, oc);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "roomrec probe: %s\n", err->message);
        rr_ice_options_clear(&ice);
        return RR_EXIT_USAGE;
    }
    if (!url)
        url = g_strdup(g_getenv("LIVEKIT_URL"));
    if (!api_key)
        api_key = g_strdup(g_getenv("LIVEKIT_API_KEY"));
    if (!api_secret)
        api_secret = g_strdup(g_getenv("LIVEKIT_API_SECRET"));
    if (!token)
        token = g_strdup(g_getenv("LIVEKIT_TOKEN"));
    if (!url || (!token && (!api_key || !api_secret || !room))) {
        fprintf(stderr, "roomrec probe: need --url and either --token or --api-key, "
                        "--api-secret and --room (see --help)\n");
        rr_ice_options_clear(&ice);
        return RR_EXIT_USAGE;
    }
    rr_log_add_secret(api_secret);
    rr_log_add_secret(token);

    RrSessionConfig cfg;
    rr_session_config_init(&cfg);
    cfg.url = url;
    cfg.token = token;
    cfg.api_key = api_key;
    cfg.api_secret = api_secret;
    cfg.room = room;
    cfg.identity = identity;
    cfg.auto_subscribe = !no_auto && !tracks;
    cfg.track_sids = (const char *const *)tracks;
    cfg.send_receiver_reports = TRUE;
    rr_ice_options_apply(&ice, &cfg.ice);

    Probe p = {.loop = g_main_loop_new(NULL, FALSE), .pli_every = pli_every};
    p.session = rr_session_new(g_main_context_default(), &cfg, &callbacks, &p, &err);
    if (!p.session) {
        fprintf(stderr, "roomrec probe: %s\n", err->message);
        g_main_loop_unref(p.loop);
        rr_ice_options_clear(&ice);
        return exit_code_for(err);
    }
    guint sig_int = g_unix_signal_add(SIGINT, on_signal, &p);
    guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &p);
    guint deadline = g_timeout_add((guint)(MAX(0.1, duration) * 1000), on_deadline, &p);
    if (pli_every > 0)
        p.pli_timer = g_timeout_add((guint)(pli_every * 1000), on_pli, &p);
    rr_session_start(p.session);
    g_main_loop_run(p.loop);

    /* Report before leaving (leaving tears the tracks down). */
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "session");
    rr_session_build_json(p.session, b);
    json_builder_set_member_name(b, "error");
    if (p.error)
        json_builder_add_string_value(b, p.error->message);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    int code = exit_code_for(p.error);
    if (!p.error && !p.connected_once)
        code = RR_EXIT_MEDIA;
    if (code == RR_EXIT_OK) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, rr_session_get_tracks(p.session));
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (!((RrTrack *)v)->muted && ((RrTrack *)v)->stats.packets == 0)
                code = RR_EXIT_NO_MEDIA;
    }
    if (json) {
        g_autofree char *text = json_to_string(root, TRUE);
        printf("%s\n", text);
    } else {
        print_text(&p, json_node_get_object(root));
        RrPeer *peer = rr_session_get_peer(p.session);
        if (peer) {
            g_autoptr(RrIceReport) rep = rr_ice_transport_get_report(rr_peer_get_ice(peer));
            g_autofree char *text = rr_ice_report_to_text(rep);
            printf("%s\n", text);
        }
    }
    if (p.error)
        fprintf(stderr, "roomrec probe: %s\n", p.error->message);
    else if (!p.connected_once)
        fprintf(stderr, "roomrec probe: the media connection did not come up within %.0f s\n",
                duration);
    fflush(stdout);

    rr_session_leave(p.session);
    /* Let the leave and close frames go out. */
    gint64 end = g_get_monotonic_time() + 300 * 1000;
    while (g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(5000);
    g_source_remove(sig_int);
    g_source_remove(sig_term);
    if (!p.done)
        g_source_remove(deadline);
    if (p.pli_timer)
        g_source_remove(p.pli_timer);
    rr_session_free(p.session);
    g_clear_error(&p.error);
    g_main_loop_unref(p.loop);
    rr_ice_options_clear(&ice);
    return code;
}
