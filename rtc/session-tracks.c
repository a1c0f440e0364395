/* rtc/session-tracks: a session's participants and tracks — which tracks are reported,
 * from the offer's mids, the participant updates and the answer. See session.c. */
#include "rtc/session-priv.h"

void rr_sess_track_free(RrTrack *t)
{
    g_free(t->sid);
    g_free(t->name);
    g_free(t->participant_sid);
    g_free(t->participant_identity);
    g_free(t->participant_name);
    g_free(t->mime_type);
    g_free(t->codec);
    g_free(t->fmtp);
    g_free(t->mid);
    g_array_unref(t->keyframe_times);
    g_array_unref(t->pli_times);
    g_free(t);
}

void rr_sess_participant_free(RrParticipant *p)
{
    g_free(p->sid);
    g_free(p->identity);
    g_free(p->name);
    g_free(p->metadata);
    g_ptr_array_unref(p->tracks);
    g_free(p);
}

static void track_info_free(gpointer p)
{
    protobuf_c_message_free_unpacked(p, NULL);
}

static Livekit__TrackInfo *track_info_copy(const Livekit__TrackInfo *info)
{
    gsize n = livekit__track_info__get_packed_size(info);
    g_autofree guint8 *buf = g_malloc(n ? n : 1);
    livekit__track_info__pack(info, buf);
    return livekit__track_info__unpack(NULL, n, buf);
}

/* ---- tracks ---- */

static const Livekit__TrackInfo *find_track_info(RrSession *s, const char *track_sid,
                                                 RrParticipant **owner)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->participants);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        RrParticipant *p = v;
        for (guint i = 0; i < p->tracks->len; i++) {
            const Livekit__TrackInfo *ti = g_ptr_array_index(p->tracks, i);
            if (g_strcmp0(ti->sid, track_sid) == 0) {
                *owner = p;
                return ti;
            }
        }
    }
    return NULL;
}

gboolean rr_session_track_published(RrSession *s, const char *track_sid)
{
    RrParticipant *owner;
    return find_track_info(s, track_sid, &owner) != NULL;
}

static void remove_track(RrSession *s, const char *sid)
{
    RrTrack *t = g_hash_table_lookup(s->tracks, sid);
    if (!t)
        return;
    g_info("session: track %s (%s of %s) removed", t->sid, t->codec, t->participant_identity);
    g_autofree char *key = NULL;
    g_hash_table_steal_extended(s->tracks, sid, (gpointer *)&key, NULL);
    if (s->cbs.track_removed)
        s->cbs.track_removed(s, t, s->ud);
    rr_sess_track_free(t);
}

void rr_sess_remove_all_tracks(RrSession *s)
{
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(s->tracks, NULL);
    g_autoptr(GPtrArray) sids = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; keys[i]; i++)
        g_ptr_array_add(sids, g_strdup(keys[i]));
    for (guint i = 0; i < sids->len; i++)
        remove_track(s, g_ptr_array_index(sids, i));
}

static RrTrack *track_new(const RrSdpChoice *c, const Livekit__TrackInfo *ti,
                          const RrParticipant *p)
{
    RrTrack *t = g_new0(RrTrack, 1);
    t->keyframe_times = g_array_new(FALSE, FALSE, sizeof(gint64));
    t->pli_times = g_array_new(FALSE, FALSE, sizeof(gint64));
    t->sid = g_strdup(ti->sid);
    t->name = g_strdup(ti->name);
    t->participant_sid = g_strdup(p->sid);
    t->participant_identity = g_strdup(p->identity);
    t->participant_name = g_strdup(p->name);
    t->kind = c->kind == RR_SDP_KIND_VIDEO ? RR_TRACK_KIND_VIDEO : RR_TRACK_KIND_AUDIO;
    t->source = (RrTrackSource)ti->source;
    t->mime_type = g_strdup(ti->mime_type);
    t->codec = g_strdup(c->codec);
    t->clock_rate = c->clock_rate;
    t->channels = c->channels;
    t->pt = c->pt;
    t->rtx_pt = c->rtx_pt;
    t->ssrc = c->ssrcs->len ? g_array_index(c->ssrcs, guint32, 0) : 0;
    t->rtx_ssrc = c->rtx_ssrcs->len ? g_array_index(c->rtx_ssrcs, guint32, 0) : 0;
    t->fmtp = g_strdup(c->fmtp);
    t->mid = g_strdup(c->mid);
    t->muted = ti->muted;
    t->width = ti->width;
    t->height = ti->height;
    return t;
}

/* Bring the reported tracks in line with the latest answer, mapping and participants. */
void rr_sess_reconcile_tracks(RrSession *s)
{
    const RrSdpAnswer *answer = s->peer ? rr_peer_get_answer(s->peer) : NULL;
    /* Removals first (a reused m-section may now carry another track). */
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(s->tracks, NULL);
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; keys[i]; i++) {
        RrTrack *t = g_hash_table_lookup(s->tracks, keys[i]);
        RrParticipant *owner = NULL;
        const RrSdpChoice *c = answer ? rr_sdp_answer_find_mid(answer, t->mid) : NULL;
        const char *mapped = g_hash_table_lookup(s->mid_to_track, t->mid);
        if (!c || !c->receiving || g_strcmp0(mapped, t->sid) != 0 ||
            !find_track_info(s, t->sid, &owner) || c->pt != t->pt)
            g_ptr_array_add(gone, g_strdup(t->sid));
    }
    for (guint i = 0; i < gone->len; i++)
        remove_track(s, g_ptr_array_index(gone, i));
    if (!answer)
        return;
    for (guint i = 0; i < answer->choices->len; i++) {
        const RrSdpChoice *c = g_ptr_array_index(answer->choices, i);
        if (!c->receiving || (c->kind != RR_SDP_KIND_AUDIO && c->kind != RR_SDP_KIND_VIDEO))
            continue;
        const char *sid = g_hash_table_lookup(s->mid_to_track, c->mid);
        RrParticipant *owner = NULL;
        const Livekit__TrackInfo *ti = sid ? find_track_info(s, sid, &owner) : NULL;
        if (!ti)
            continue;
        RrTrack *t = g_hash_table_lookup(s->tracks, sid);
        if (!t) {
            t = track_new(c, ti, owner);
            g_hash_table_insert(s->tracks, g_strdup(t->sid), t);
            g_info("session: track %s added: %s %s of %s (%s), ssrc %u%s", t->sid,
                   t->kind == RR_TRACK_KIND_VIDEO ? "video" : "audio", t->codec,
                   t->participant_identity, rr_track_source_to_string(t->source), t->ssrc,
                   t->muted ? ", muted" : "");
            if (s->cbs.track_added)
                s->cbs.track_added(s, t, s->ud);
        } else if (t->muted != ti->muted) {
            t->muted = ti->muted;
            g_info("session: track %s %s", t->sid, t->muted ? "muted" : "unmuted");
            if (s->cbs.track_muted)
                s->cbs.track_muted(s, t, s->ud);
        }
    }
}

RrTrack *rr_sess_track_for_mid(RrSession *s, const char *mid)
{
    const char *sid = g_hash_table_lookup(s->mid_to_track, mid);
    return sid ? g_hash_table_lookup(s->tracks, sid) : NULL;
}

void rr_sess_track_count(RrTrack *t, const RrRtpHeader *hdr, const guint8 *pkt)
{
    RrTrackStats *st = &t->stats;
    gint64 now = g_get_monotonic_time();
    if (st->packets == 0) {
        st->base_seq = st->highest_seq = hdr->seq;
        st->first_us = now;
    } else {
        gint16 delta = (gint16)(hdr->seq - (guint16)st->highest_seq);
        if (delta > 0)
            st->highest_seq += delta;
        st->max_gap_us = MAX(st->max_gap_us, now - st->last_us);
    }
    st->packets++;
    st->bytes += hdr->payload_len;
    st->last_us = now;
    guint64 expected = (guint64)(st->highest_seq - st->base_seq) + 1;
    st->lost = expected > st->packets ? expected - st->packets : 0;
    /* A keyframe may span several flagged packets (H.264 SPS + IDR): count frames. */
    if ((st->keyframes == 0 || hdr->timestamp != st->keyframe_ts) &&
        rr_rtp_is_keyframe(rr_rtp_codec_from_name(t->codec), pkt + hdr->header_len,
                           hdr->payload_len)) {
        st->keyframes++;
        st->keyframe_ts = hdr->timestamp;
        if (t->keyframe_times->len < RR_TRACK_MAX_TIMES) {
            gint64 wall = g_get_real_time();
            g_array_append_val(t->keyframe_times, wall);
        }
    }
}

/* ---- participants ---- */

void rr_sess_apply_participant(RrSession *s, const Livekit__ParticipantInfo *pi)
{
    if (!pi->sid || !*pi->sid || g_strcmp0(pi->sid, s->participant_sid) == 0)
        return;
    RrParticipant *p = g_hash_table_lookup(s->participants, pi->sid);
    if (p && pi->version && pi->version < p->version) {
        g_debug("session: dropping stale update v%u of %s (have v%u)", pi->version, pi->sid,
                p->version);
        return;
    }
    if (pi->state == LIVEKIT__PARTICIPANT_INFO__STATE__DISCONNECTED) {
        if (!p)
            return;
        g_info("session: participant %s (%s) left", p->identity, p->sid);
        p->state = pi->state;
        g_ptr_array_set_size(p->tracks, 0);
        rr_sess_reconcile_tracks(s);
        g_autofree char *key = NULL;
        g_hash_table_steal_extended(s->participants, pi->sid, (gpointer *)&key, NULL);
        if (s->cbs.participant)
            s->cbs.participant(s, p, s->ud);
        rr_sess_participant_free(p);
        return;
    }
    if (!p) {
        p = g_new0(RrParticipant, 1);
        p->sid = g_strdup(pi->sid);
        p->tracks = g_ptr_array_new_with_free_func(track_info_free);
        g_hash_table_insert(s->participants, g_strdup(pi->sid), p);
        g_info("session: participant %s (%s) is in the room", pi->identity, pi->sid);
    }
    g_free(p->identity);
    p->identity = g_strdup(pi->identity);
    g_free(p->name);
    p->name = g_strdup(pi->name);
    g_free(p->metadata);
    p->metadata = g_strdup(pi->metadata);
    p->version = pi->version;
    p->state = pi->state;
    p->kind = pi->kind;
    p->is_publisher = pi->is_publisher;
    g_ptr_array_set_size(p->tracks, 0);
    for (gsize i = 0; i < pi->n_tracks; i++) {
        Livekit__TrackInfo *copy = track_info_copy(pi->tracks[i]);
        if (copy)
            g_ptr_array_add(p->tracks, copy);
    }
    if (s->cbs.participant)
        s->cbs.participant(s, p, s->ud);
}
