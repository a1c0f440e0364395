/* worker/recorder-explain: why a recording never started, in words (the details of an
 * ABORTED status), and which tracks a job wants. See recorder.h. */
#include "worker/recorder.h"

#include "rtc/proto/livekit_rtc.pb-c.h"

#include <string.h>

#define MAX_PAIRS 12

gboolean rr_recorder_track_matches(const RrTrack *t, const char *id)
{
    if (!id || !*id)
        return FALSE;
    if (g_strcmp0(t->sid, id) == 0)
        return TRUE;
    const char *slash = strchr(id, '/');
    return slash &&
           strncmp(t->participant_identity ? t->participant_identity : "", id, slash - id) == 0 &&
           t->participant_identity[slash - id] == '\0' && g_strcmp0(t->name, slash + 1) == 0;
}

static gboolean info_matches(const RrParticipant *p, const Livekit__TrackInfo *ti, const char *id)
{
    RrTrack t = {.sid = ti->sid, .name = ti->name, .participant_identity = p->identity};
    return rr_recorder_track_matches(&t, id);
}

static const char *proto_name(RrIceProto p)
{
    return p == RR_ICE_PROTO_UDP ? "udp" : "tcp";
}

static void append_candidate(GString *s, const RrIceReport *rep, GPtrArray *list, guint i)
{
    if (i >= list->len) {
        g_string_append(s, "?");
        return;
    }
    const RrIceReportCandidate *c = g_ptr_array_index(list, i);
    g_string_append_printf(s, "%s %s %s:%u", rr_ice_candidate_type_to_string(c->candidate->type),
                           proto_name(c->candidate->proto), c->candidate->address,
                           c->candidate->port);
}

/* One paragraph from the ICE report: state, candidates, every pair and its outcome. */
static void explain_ice(GString *d, RrSession *s)
{
    RrPeer *peer = rr_session_get_peer(s);
    if (!peer) {
        g_string_append(d, "the server never offered a media connection");
        return;
    }
    g_autoptr(RrIceReport) rep = rr_ice_transport_get_report(rr_peer_get_ice(peer));
    g_string_append_printf(d, "the media connection never came up (ICE %s after %.1f s",
                           rr_ice_state_to_string(rep->state), rep->elapsed_ms / 1000.0);
    if (rep->state == RR_ICE_STATE_CONNECTED || rep->state == RR_ICE_STATE_READY)
        g_string_append(d, ", DTLS did not complete");
    g_string_append_printf(d, "): %u local and %u remote candidate(s)", rep->local->len,
                           rep->remote->len);
    if (rep->skipped->len)
        g_string_append_printf(d, ", %u remote candidate(s) skipped", rep->skipped->len);
    if (!rep->inbound_checks_seen)
        g_string_append(d, "; no connectivity check from the server reached us");
    g_string_append_printf(d, "; candidate pairs (%u):", rep->pairs->len);
    if (rep->pairs->len == 0)
        g_string_append(d, " none");
    for (guint i = 0; i < rep->pairs->len && i < MAX_PAIRS; i++) {
        const RrIceReportPair *p = g_ptr_array_index(rep->pairs, i);
        g_string_append(d, i ? "; " : " ");
        append_candidate(d, rep, rep->local, p->local);
        g_string_append(d, " -> ");
        append_candidate(d, rep, rep->remote, p->remote);
        g_string_append_printf(d, ": %s", p->outcome ? p->outcome : "?");
    }
    if (rep->pairs->len > MAX_PAIRS)
        g_string_append_printf(d, "; ... %u more", rep->pairs->len - MAX_PAIRS);
    for (guint i = 0; i < rep->servers->len; i++) {
        const RrIceReportServer *sv = g_ptr_array_index(rep->servers, i);
        g_string_append_printf(d, "; server %s: %s", sv->url, sv->status ? sv->status : "?");
    }
    if (rep->summary && *rep->summary)
        g_string_append_printf(d, ". %s", rep->summary);
}

/* Does the job want this published track? */
static gboolean wanted(const RrJobSpec *job, const RrParticipant *p, const Livekit__TrackInfo *ti)
{
    gboolean video = ti->type == LIVEKIT__TRACK_TYPE__VIDEO;
    gboolean screen = (int)ti->source == RR_TRACK_SOURCE_SCREEN_SHARE ||
                      (int)ti->source == RR_TRACK_SOURCE_SCREEN_SHARE_AUDIO;
    switch (job->kind) {
    case RR_JOB_TRACK:
        return info_matches(p, ti, job->track_id);
    case RR_JOB_TRACK_COMPOSITE:
        return info_matches(p, ti, job->audio_track_id) || info_matches(p, ti, job->video_track_id);
    case RR_JOB_PARTICIPANT:
        return g_strcmp0(p->identity, job->identity) == 0 && screen == job->screen_share;
    case RR_JOB_ROOM_COMPOSITE:
        return ti->type != LIVEKIT__TRACK_TYPE__DATA && !(job->audio_only && video) &&
               !(job->video_only && !video);
    }
    return FALSE;
}

char **rr_recorder_wanted_sids(const RrJobSpec *job, const RrParticipant *p)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    for (guint i = 0; p->tracks && i < p->tracks->len; i++) {
        const Livekit__TrackInfo *ti = g_ptr_array_index(p->tracks, i);
        if (ti->sid && *ti->sid && wanted(job, p, ti))
            g_strv_builder_add(b, ti->sid);
    }
    return g_strv_builder_end(b);
}

static const char *job_target(const RrJobSpec *job, GString *tmp)
{
    switch (job->kind) {
    case RR_JOB_TRACK:
        g_string_printf(tmp, "track %s", job->track_id);
        break;
    case RR_JOB_TRACK_COMPOSITE:
        g_string_printf(tmp, "tracks %s%s%s", job->audio_track_id ? job->audio_track_id : "",
                        job->audio_track_id && job->video_track_id ? " and " : "",
                        job->video_track_id ? job->video_track_id : "");
        break;
    case RR_JOB_PARTICIPANT:
        g_string_printf(tmp, "%s of participant %s",
                        job->screen_share ? "screen share" : "camera/microphone", job->identity);
        break;
    case RR_JOB_ROOM_COMPOSITE:
        g_string_printf(tmp, "%s tracks",
                        job->audio_only   ? "audio"
                        : job->video_only ? "video"
                                          : "audio or video");
        break;
    }
    return tmp->str;
}

char *rr_recorder_explain_no_start(RrSession *s, const RrJobSpec *job, const char *own_identity)
{
    GString *d = g_string_new(NULL);
    RrSessionState st = rr_session_get_state(s);
    if (st == RR_SESSION_NEW || st == RR_SESSION_CONNECTING) {
        g_string_printf(d, "never joined room \"%s\": the signalling connection did not complete",
                        job->room_name);
        return g_string_free(d, FALSE);
    }
    guint publishers = 0, others = 0, n_wanted = 0;
    g_autoptr(GString) published = g_string_new(NULL);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, rr_session_get_participants(s));
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const RrParticipant *p = v;
        if (p->kind == LIVEKIT__PARTICIPANT_INFO__KIND__EGRESS ||
            g_strcmp0(p->identity, own_identity) == 0)
            continue;
        others++;
        if (p->tracks->len)
            publishers++;
        for (guint i = 0; i < p->tracks->len; i++) {
            const Livekit__TrackInfo *ti = g_ptr_array_index(p->tracks, i);
            g_string_append_printf(published, "%s%s/%s (%s)", published->len ? ", " : "",
                                   p->identity, ti->name, ti->sid);
            if (wanted(job, p, ti))
                n_wanted++;
        }
    }
    g_autoptr(GString) target = g_string_new(NULL);
    if (publishers == 0) {
        g_string_printf(d,
                        "no publishers in room \"%s\" (%u other participant(s), none "
                        "publishing)",
                        job->room_name, others);
    } else if (n_wanted == 0) {
        g_string_printf(d, "%s never published in room \"%s\"; published: %s",
                        job_target(job, target), job->room_name, published->str);
    } else if (st != RR_SESSION_CONNECTED) {
        explain_ice(d, s);
    } else {
        g_string_printf(d, "connected, but %s sent no decodable media:", job_target(job, target));
        GHashTable *tracks = rr_session_get_tracks(s);
        guint n = 0;
        g_hash_table_iter_init(&it, tracks);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const RrTrack *t = v;
            g_string_append_printf(
                d,
                "%s %s/%s: %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT " keyframe packets%s",
                n++ ? ";" : "", t->participant_identity, t->name, t->stats.packets,
                t->stats.keyframes, t->muted ? " (muted)" : "");
        }
        if (n == 0)
            g_string_append(d, " no track was received");
    }
    return g_string_free(d, FALSE);
}
