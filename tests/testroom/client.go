package main

// Client is a participant connected over signalling (the system under test). It
// outlives its signalling sessions (resume), owns one subscriber Peer and the
// DownTracks it is subscribed to. Fields below "guarded by Room.mu" are only touched
// with the room lock held.

import (
	"strings"
	"sync"
	"time"

	lk "roomrec/lkproto"
)

type Client struct {
	room     *Room
	Identity string
	Sid      string
	Name     string
	claims   *Claims
	kind     lk.ParticipantInfo_Kind
	hidden   bool
	recorder bool
	perm     *lk.ParticipantPermission
	protocol int
	autoSub  bool
	adaptive bool
	joinedAt time.Time
	rec      *ClientRec

	// guarded by Room.mu
	version     uint32
	explicit    map[string]bool
	settings    map[string]*lk.UpdateTrackSettings
	downs       map[string]*DownTrack
	peer        *Peer
	closed      bool
	resumeTimer *time.Timer
	nsessions   int

	sessMu sync.Mutex
	sess   *Session
	lastRc *SessionRec
}

func kindValue(s string) lk.ParticipantInfo_Kind {
	switch strings.ToLower(s) {
	case "ingress":
		return lk.ParticipantInfo_INGRESS
	case "egress":
		return lk.ParticipantInfo_EGRESS
	case "sip":
		return lk.ParticipantInfo_SIP
	case "agent":
		return lk.ParticipantInfo_AGENT
	}
	return lk.ParticipantInfo_STANDARD
}

func newClient(r *Room, cl *Claims, q connParams) *Client {
	g := cl.Video
	c := &Client{room: r, Identity: cl.Subject, Sid: newID("PA_"), Name: cl.Name, claims: cl,
		kind: kindValue(cl.Kind), hidden: g.Hidden, recorder: g.Recorder, protocol: q.protocol,
		autoSub: q.autoSubscribe, adaptive: q.adaptive, joinedAt: time.Now(), version: 1,
		explicit: map[string]bool{}, settings: map[string]*lk.UpdateTrackSettings{},
		downs: map[string]*DownTrack{}}
	c.perm = &lk.ParticipantPermission{CanSubscribe: boolOr(g.CanSubscribe, true),
		CanPublish: boolOr(g.CanPublish, true), CanPublishData: boolOr(g.CanPublishData, true),
		Hidden: g.Hidden, Recorder: g.Recorder}
	c.rec = &ClientRec{Identity: c.Identity, Sid: c.Sid, Name: c.Name, Hidden: c.hidden,
		Recorder: c.recorder, Kind: c.kind.String(), Protocol: q.protocol, SDK: q.sdk,
		Version: q.version, AutoSubscribe: q.autoSubscribe, Adaptive: q.adaptive,
		Sessions: []*SessionRec{}, Tracks: map[string]*TrackStatRec{}}
	return c
}

func (c *Client) info() *lk.ParticipantInfo {
	state := lk.ParticipantInfo_JOINED
	if c.closed {
		state = lk.ParticipantInfo_DISCONNECTED
	} else if c.peer != nil && c.peer.isConnected() {
		state = lk.ParticipantInfo_ACTIVE
	}
	return &lk.ParticipantInfo{Sid: c.Sid, Identity: c.Identity, Name: c.Name, State: state,
		Metadata: c.claims.Metadata, JoinedAt: c.joinedAt.Unix(), Version: c.version,
		Permission: c.perm, Kind: c.kind}
}

// ---- signalling ----

func (c *Client) session() *Session {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	return c.sess
}

func (c *Client) hasSession() bool { return c.session() != nil }

// send writes to the current session; false when there is none or it failed.
func (c *Client) send(msg *lk.SignalResponse) bool {
	s := c.session()
	if s == nil {
		return false
	}
	return s.send(msg) == nil
}

// curRec is the report of the current (or last) session; caller holds repMu.
func (c *Client) curRec() *SessionRec {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	return c.lastRc
}

func (c *Client) attach(s *Session) {
	c.sessMu.Lock()
	c.sess = s
	c.lastRc = s.rec
	c.sessMu.Unlock()
	repMu.Lock()
	c.rec.Sessions = append(c.rec.Sessions, s.rec)
	repMu.Unlock()
}

// detach clears the current session if it is s; reports whether it was.
func (c *Client) detach(s *Session) bool {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	if c.sess != s {
		return false
	}
	c.sess = nil
	return true
}

// ---- subscriptions (Room.mu held) ----

func (c *Client) wants(t *PubTrack) bool {
	if !c.perm.CanSubscribe {
		return false
	}
	if c.autoSub {
		if v, ok := c.explicit[t.Sid]; ok {
			return v
		}
		return true
	}
	return c.explicit[t.Sid]
}

func (c *Client) statsFor(t *PubTrack) *TrackStatRec {
	repMu.Lock()
	defer repMu.Unlock()
	st := c.rec.Tracks[t.Sid]
	if st == nil {
		st = &TrackStatRec{Participant: t.Owner.Identity, Name: t.Spec.Name, Kind: t.Spec.Kind,
			Codec: t.Spec.Codec}
		c.rec.Tracks[t.Sid] = st
	}
	return st
}

// layerAndPause applies the client's track settings (default HIGH, LOW with adaptive stream).
func (c *Client) layerAndPause(t *PubTrack) (int, bool, string) {
	q := qualityHigh
	if c.adaptive {
		q = qualityLow
	}
	s := c.settings[t.Sid]
	if s == nil {
		idx := t.layerFor(q)
		return idx, false, qualityName(t.Layers[idx].Quality)
	}
	if s.Disabled {
		idx := t.layerFor(q)
		return idx, true, "paused"
	}
	var idx int
	if s.Width > 0 || s.Height > 0 {
		idx = t.layerForSize(s.Width, s.Height)
	} else if s.Quality == lk.VideoQuality_OFF {
		return t.layerFor(qualityLow), true, "OFF"
	} else {
		idx = t.layerFor(int(s.Quality))
	}
	return idx, false, qualityName(t.Layers[idx].Quality)
}

// reconcileLocked adds/removes down tracks so they match wants(), then renegotiates.
func (c *Client) reconcileLocked(tracks []*PubTrack) {
	if c.closed || c.peer == nil {
		return
	}
	changed := false
	present := map[string]*PubTrack{}
	for _, t := range tracks {
		present[t.Sid] = t
		if !c.wants(t) {
			continue
		}
		if _, ok := c.downs[t.Sid]; ok {
			continue
		}
		layer, paused, _ := c.layerAndPause(t)
		st := c.statsFor(t)
		d := newDownTrack(t, c, st, layer, paused)
		if err := c.peer.addTrack(d); err != nil {
			reportError("%s: add track %s: %v", c.Identity, t.Sid, err)
			continue
		}
		repMu.Lock()
		st.Subscribed = true
		st.Paused = paused
		if t.isVideo() {
			st.Layer = qualityName(t.Layers[layer].Quality)
		}
		repMu.Unlock()
		t.addDown(d)
		c.downs[t.Sid] = d
		changed = true
	}
	for sid, d := range c.downs {
		if t, ok := present[sid]; ok && c.wants(t) {
			continue
		}
		d.pub.removeDown(d)
		c.peer.removeTrack(d)
		delete(c.downs, sid)
		repMu.Lock()
		d.stats.Subscribed = false
		repMu.Unlock()
		changed = true
	}
	if changed {
		c.peer.scheduleNegotiation()
	}
}

// dropAllLocked removes every down track (client closing).
func (c *Client) dropAllLocked() {
	for sid, d := range c.downs {
		d.pub.removeDown(d)
		delete(c.downs, sid)
	}
}
