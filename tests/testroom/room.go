package main

// Room holds the state: synthetic participants (scenario), connected clients, the
// scenario clock. Room.mu guards all of it, including each client's subscription
// state; it is never taken from pion callbacks.

import (
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
	lk "roomrec/lkproto"
)

// DisconnectReason values newer than the checked-in .proto subset.
const reasonConnectionTimeout = lk.DisconnectReason(14) // CONNECTION_TIMEOUT

type Room struct {
	mu      sync.Mutex
	name    string
	sid     string
	created time.Time
	api     *webrtc.API
	sc      *Scenario
	specs   map[string]*ParticipantSpec
	synth   map[string]*SynthParticipant // present ones, by identity
	order   []string                     // scenario order of identities
	clients map[string]*Client           // live ones, by identity
	timers  []*time.Timer
	closed  bool
}

func newRoom(sc *Scenario, api *webrtc.API) *Room {
	r := &Room{name: sc.Room, sid: newID("RM_"), created: time.Now(), api: api, sc: sc,
		specs: map[string]*ParticipantSpec{}, synth: map[string]*SynthParticipant{},
		clients: map[string]*Client{}}
	for i := range sc.Participants {
		p := &sc.Participants[i]
		r.specs[p.Identity] = p
		r.order = append(r.order, p.Identity)
	}
	repMu.Lock()
	report.Room = r.name
	report.StartedAt = rfc3339(r.created)
	repMu.Unlock()
	return r
}

// start schedules joins and events relative to now.
func (r *Room) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range r.order {
		spec := r.specs[id]
		id := id
		r.after(spec.JoinAt, func() { r.withLock(func() { r.synthJoinLocked(id) }) })
		for i := range spec.Events {
			ev := spec.Events[i]
			r.after(ev.At, func() { r.withLock(func() { r.applyEventLocked(id, &ev, false) }) })
		}
	}
}

func (r *Room) after(sec float64, f func()) {
	r.timers = append(r.timers, time.AfterFunc(time.Duration(sec*float64(time.Second)), f))
}

func (r *Room) withLock(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	f()
}

// ---- synthetic participants ----

func (r *Room) synthJoinLocked(identity string) {
	if _, ok := r.synth[identity]; ok {
		return
	}
	spec := r.specs[identity]
	if spec == nil {
		spec = &ParticipantSpec{Identity: identity, Name: identity}
		r.specs[identity] = spec
		r.order = append(r.order, identity)
	}
	p := newSynthParticipant(spec)
	for _, ts := range spec.Tracks {
		if _, err := p.publish(ts); err != nil {
			reportError("%s: publish %s: %v", identity, ts.Name, err)
		}
	}
	r.synth[identity] = p
	repMu.Lock()
	report.Publishers = append(report.Publishers, p.rec)
	repMu.Unlock()
	infof("participant %s (%s) joined with %d tracks", identity, p.Sid, len(p.Tracks))
	r.broadcastLocked(p.info(lk.ParticipantInfo_ACTIVE), nil)
	r.reconcileAllLocked()
}

func (r *Room) synthLeaveLocked(identity string) {
	p := r.synth[identity]
	if p == nil {
		return
	}
	delete(r.synth, identity)
	r.reconcileAllLocked() // unsubscribes everyone from its tracks
	for _, t := range append([]*PubTrack(nil), p.Tracks...) {
		p.unpublish(t)
	}
	p.Version++
	repMu.Lock()
	p.rec.LeftAt = rfc3339(time.Now())
	repMu.Unlock()
	infof("participant %s left", identity)
	r.broadcastLocked(p.info(lk.ParticipantInfo_DISCONNECTED), nil)
}

func (r *Room) applyEventLocked(identity string, ev *EventSpec, live bool) error {
	if ev.Action == "join" {
		r.synthJoinLocked(identity)
		return nil
	}
	p := r.synth[identity]
	if p == nil {
		return fmt.Errorf("participant %q is not in the room", identity)
	}
	switch ev.Action {
	case "leave":
		r.synthLeaveLocked(identity)
	case "publish":
		if p.track(ev.trackSpec.Name) != nil {
			return fmt.Errorf("track %q already published", ev.trackSpec.Name)
		}
		t, err := p.publish(*ev.trackSpec)
		if err != nil {
			return err
		}
		p.Version++
		infof("%s published %s (%s)", identity, t.Spec.Name, t.Sid)
		r.broadcastLocked(p.info(lk.ParticipantInfo_ACTIVE), nil)
		r.reconcileAllLocked()
	case "unpublish":
		t := p.track(ev.trackName)
		if t == nil {
			return fmt.Errorf("no track %q", ev.trackName)
		}
		p.unpublish(t)
		p.Version++
		infof("%s unpublished %s", identity, t.Sid)
		r.reconcileAllLocked()
		r.broadcastLocked(p.info(lk.ParticipantInfo_ACTIVE), nil)
	case "mute", "unmute":
		t := p.track(ev.trackName)
		if t == nil {
			return fmt.Errorf("no track %q", ev.trackName)
		}
		t.setMuted(ev.Action == "mute")
		p.Version++
		r.broadcastLocked(p.info(lk.ParticipantInfo_ACTIVE), nil)
	case "speak":
		p.HasSpeak = true
		r.setSpeakingLocked(p, true)
		dur := ev.Until - ev.At
		if dur <= 0 {
			dur = 3
		}
		sid := p.Sid
		r.timers = append(r.timers, time.AfterFunc(time.Duration(dur*float64(time.Second)), func() {
			r.withLock(func() {
				if q := r.synth[identity]; q != nil && q.Sid == sid {
					r.setSpeakingLocked(q, false)
				}
			})
		}))
	default:
		return fmt.Errorf("unknown action %q", ev.Action)
	}
	return nil
}

func (r *Room) setSpeakingLocked(p *SynthParticipant, on bool) {
	if p.Speaking == on {
		return
	}
	p.Speaking = on
	for _, t := range p.Tracks {
		t.setSpeaking(p.toneOn())
	}
	level := float32(0)
	if on {
		level = 0.8
	}
	msg := &lk.SignalResponse{Message: &lk.SignalResponse_SpeakersChanged{SpeakersChanged: &lk.SpeakersChanged{
		Speakers: []*lk.SpeakerInfo{{Sid: p.Sid, Level: level, Active: on}}}}}
	for _, c := range r.clients {
		if c.send(msg) {
			repMu.Lock()
			if s := c.curRec(); s != nil {
				s.SpeakerUpdatesSent++
			}
			repMu.Unlock()
		}
	}
}

// ---- views ----

func (r *Room) tracksLocked() []*PubTrack {
	var out []*PubTrack
	for _, id := range r.order {
		if p := r.synth[id]; p != nil {
			out = append(out, p.Tracks...)
		}
	}
	return out
}

func (r *Room) trackBySidLocked(sid string) *PubTrack {
	for _, t := range r.tracksLocked() {
		if t.Sid == sid {
			return t
		}
	}
	return nil
}

func (r *Room) synthBySidLocked(sid string) *SynthParticipant {
	for _, p := range r.synth {
		if p.Sid == sid {
			return p
		}
	}
	return nil
}

// othersLocked lists what `self` may see: synthetic participants and visible clients.
func (r *Room) othersLocked(self *Client) []*lk.ParticipantInfo {
	var out []*lk.ParticipantInfo
	for _, id := range r.order {
		if p := r.synth[id]; p != nil {
			out = append(out, p.info(lk.ParticipantInfo_ACTIVE))
		}
	}
	for _, c := range r.clients {
		if c != self && !c.hidden {
			out = append(out, c.info())
		}
	}
	return out
}

func (r *Room) roomInfoLocked() *lk.Room {
	n, pubs := 0, 0
	recording := false
	for _, p := range r.synth {
		n++
		if len(p.Tracks) > 0 {
			pubs++
		}
	}
	for _, c := range r.clients {
		if !c.hidden {
			n++
		}
		if c.recorder {
			recording = true
		}
	}
	return &lk.Room{Sid: r.sid, Name: r.name, CreationTime: r.created.Unix(), EmptyTimeout: 300,
		NumParticipants: uint32(n), NumPublishers: uint32(pubs), ActiveRecording: recording}
}

func serverInfo() *lk.ServerInfo {
	return &lk.ServerInfo{Edition: lk.ServerInfo_Standard, Version: cfg.ServerVersion, Protocol: 16,
		NodeId: "ND_testroom"}
}

func clientConfig() *lk.ClientConfiguration {
	cc := &lk.ClientConfiguration{}
	if cfg.ForceRelay {
		cc.ForceRelay = lk.ClientConfigSetting_ENABLED
	}
	return cc
}

// broadcastLocked sends a participant update to every client but `except`.
// Hidden participants are never broadcast.
func (r *Room) broadcastLocked(pi *lk.ParticipantInfo, except *Client) {
	if pi.Permission != nil && pi.Permission.Hidden {
		return
	}
	msg := &lk.SignalResponse{Message: &lk.SignalResponse_Update{Update: &lk.ParticipantUpdate{
		Participants: []*lk.ParticipantInfo{pi}}}}
	for _, c := range r.clients {
		if c == except {
			continue
		}
		if c.send(msg) {
			repMu.Lock()
			if s := c.curRec(); s != nil {
				s.UpdatesSent++
			}
			repMu.Unlock()
		}
	}
}

func (r *Room) reconcileAllLocked() {
	tracks := r.tracksLocked()
	for _, c := range r.clients {
		c.reconcileLocked(tracks)
	}
}

// ---- shutdown / debug ----

// closeRoom sends every client leave{ROOM_DELETED, DISCONNECT} and drops them.
func (r *Room) closeRoomLocked() {
	for _, c := range r.clients {
		r.removeClientLocked(c, "room closed", &lk.LeaveRequest{Reason: lk.DisconnectReason_ROOM_DELETED,
			Action: lk.LeaveRequest_DISCONNECT})
	}
}

func (r *Room) shutdown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	for _, t := range r.timers {
		t.Stop()
	}
	for _, c := range r.clients {
		r.removeClientLocked(c, "server shutdown", &lk.LeaveRequest{Reason: lk.DisconnectReason_SERVER_SHUTDOWN,
			Action: lk.LeaveRequest_DISCONNECT})
	}
	for _, p := range r.synth {
		for _, t := range p.Tracks {
			t.stop()
		}
	}
	r.closed = true
}
