package main

// SynthParticipant is a scenario participant: it "publishes" PubTracks fed by
// GStreamer sources. All fields are guarded by Room.mu.

import (
	"time"

	lk "roomrec/lkproto"
)

type SynthParticipant struct {
	Sid      string
	Identity string
	Name     string
	Metadata string
	JoinedAt time.Time
	Version  uint32
	Tracks   []*PubTrack
	Speaking bool
	HasSpeak bool // scenario has speak events: tone only while speaking
	ClockPPM int  // capture clock skew of its media (Modes.ClockPPM unless the spec sets it)
	rec      *PublisherRec
}

func newSynthParticipant(spec *ParticipantSpec) *SynthParticipant {
	p := &SynthParticipant{Sid: newID("PA_"), Identity: spec.Identity, Name: spec.Name,
		Metadata: spec.Metadata, JoinedAt: time.Now(), Version: 1, ClockPPM: modes.ClockPPM}
	if spec.ClockPPM != nil {
		p.ClockPPM = *spec.ClockPPM
	}
	for _, e := range spec.Events {
		if e.Action == "speak" {
			p.HasSpeak = true
		}
	}
	p.rec = &PublisherRec{Identity: p.Identity, Sid: p.Sid, JoinedAt: rfc3339(p.JoinedAt),
		ClockPPM: p.ClockPPM, Tracks: []*PubTrackRec{}}
	return p
}

func (p *SynthParticipant) toneOn() bool { return !p.HasSpeak || p.Speaking }

func (p *SynthParticipant) track(name string) *PubTrack {
	for _, t := range p.Tracks {
		if t.Spec.Name == name {
			return t
		}
	}
	return nil
}

// publish creates and starts a track.
func (p *SynthParticipant) publish(spec TrackSpec) (*PubTrack, error) {
	t := newPubTrack(p, spec)
	if err := t.start(p.toneOn()); err != nil {
		return nil, err
	}
	p.Tracks = append(p.Tracks, t)
	repMu.Lock()
	p.rec.Tracks = append(p.rec.Tracks, t.rec)
	repMu.Unlock()
	return t, nil
}

func (p *SynthParticipant) unpublish(t *PubTrack) {
	for i, x := range p.Tracks {
		if x == t {
			p.Tracks = append(p.Tracks[:i], p.Tracks[i+1:]...)
			break
		}
	}
	t.stop()
	repMu.Lock()
	t.rec.UnpublishedAt = rfc3339(time.Now())
	repMu.Unlock()
}

func (p *SynthParticipant) info(state lk.ParticipantInfo_State) *lk.ParticipantInfo {
	pi := &lk.ParticipantInfo{Sid: p.Sid, Identity: p.Identity, Name: p.Name, State: state,
		Metadata: p.Metadata, JoinedAt: p.JoinedAt.Unix(), Version: p.Version,
		Permission:  &lk.ParticipantPermission{CanSubscribe: true, CanPublish: true, CanPublishData: true},
		IsPublisher: len(p.Tracks) > 0, Kind: lk.ParticipantInfo_STANDARD}
	for _, t := range p.Tracks {
		pi.Tracks = append(pi.Tracks, t.info())
	}
	return pi
}
