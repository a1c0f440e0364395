package main

// Client lifecycle in the room: join, resume, session end, leave, removal, and the
// subscription / track-setting requests.

import (
	"time"

	"github.com/gorilla/websocket"
	lk "roomrec/lkproto"
)

type connParams struct {
	autoSubscribe bool
	adaptive      bool
	protocol      int
	sdk           string
	version       string
	reconnect     bool
	sid           string
}

// join runs a fresh join on an upgraded socket and then serves it.
func (r *Room) join(conn *websocket.Conn, cl *Claims, q connParams) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		conn.Close()
		return
	}
	if old := r.clients[cl.Subject]; old != nil {
		infof("%s: duplicate identity, removing the previous participant", cl.Subject)
		r.removeClientLocked(old, "duplicate identity", &lk.LeaveRequest{
			Reason: lk.DisconnectReason_DUPLICATE_IDENTITY, Action: lk.LeaveRequest_DISCONNECT})
	}
	c := newClient(r, cl, q)
	repMu.Lock()
	report.Clients = append(report.Clients, c.rec)
	repMu.Unlock()
	s := newSession(c, conn, 0, false)
	c.nsessions = 1
	c.attach(s)
	r.clients[c.Identity] = c
	infof("%s (%s) joined: protocol %d sdk %q auto_subscribe %v hidden %v", c.Identity, c.Sid, q.protocol,
		q.sdk, q.autoSubscribe, c.hidden)
	jr := &lk.JoinResponse{Room: r.roomInfoLocked(), Participant: c.info(),
		OtherParticipants: r.othersLocked(c), ServerVersion: cfg.ServerVersion,
		IceServers: cfg.ICEServers, SubscriberPrimary: true,
		ClientConfiguration: clientConfig(), PingTimeout: int32(cfg.PingTimeout),
		PingInterval: int32(cfg.PingInterval), ServerInfo: serverInfo()}
	s.send(&lk.SignalResponse{Message: &lk.SignalResponse_Join{Join: jr}})
	r.broadcastLocked(c.info(), c)
	peer, err := newPeer(c, r.api)
	if err != nil {
		reportError("%s: peer connection: %v", c.Identity, err)
		r.removeClientLocked(c, "peer connection error", nil)
		r.mu.Unlock()
		return
	}
	c.peer = peer
	if q.protocol > 7 { // existing tracks go in the first offer
		c.reconcileLocked(r.tracksLocked())
		peer.mu.Lock()
		if peer.negTimer != nil {
			peer.negTimer.Stop()
			peer.negTimer = nil
		}
		peer.mu.Unlock()
		peer.negotiate(false)
	} else {
		peer.negotiate(false)
		c.reconcileLocked(r.tracksLocked())
	}
	r.mu.Unlock()
	r.serve(c, s)
}

// resume attaches a new socket to an existing participant (reconnect=1).
func (r *Room) resume(conn *websocket.Conn, cl *Claims, q connParams) {
	r.mu.Lock()
	c := r.clients[cl.Subject]
	if r.closed || c == nil || c.closed {
		r.mu.Unlock()
		// LiveKit: participant missing → leave{STATE_MISMATCH, RECONNECT}
		infof("%s: resume for an unknown participant (sid %q): asking for a full reconnect", cl.Subject, q.sid)
		repMu.Lock()
		report.Rejected = append(report.Rejected, Rejected{At: rfc3339(time.Now()), Path: "/rtc",
			Status: 101, Reason: "resume of unknown participant " + cl.Subject})
		repMu.Unlock()
		tmp := &Session{c: &Client{Identity: cl.Subject}, conn: conn, rec: newSessionRec(0, true), done: make(chan struct{})}
		tmp.sendLeave(&lk.LeaveRequest{Reason: lk.DisconnectReason_STATE_MISMATCH, Action: lk.LeaveRequest_RECONNECT})
		time.Sleep(100 * time.Millisecond)
		conn.Close()
		return
	}
	if c.resumeTimer != nil {
		c.resumeTimer.Stop()
		c.resumeTimer = nil
	}
	if old := c.session(); old != nil {
		old.close("replaced by resume")
		c.detach(old)
	}
	s := newSession(c, conn, c.nsessions, true)
	c.nsessions++
	c.attach(s)
	infof("%s (%s): resuming (session %d)", c.Identity, c.Sid, s.rec.Index)
	s.send(&lk.SignalResponse{Message: &lk.SignalResponse_Reconnect{Reconnect: &lk.ReconnectResponse{
		IceServers: cfg.ICEServers, ClientConfiguration: clientConfig(), ServerInfo: serverInfo()}}})
	all := append(r.othersLocked(c), c.info())
	s.send(&lk.SignalResponse{Message: &lk.SignalResponse_Update{Update: &lk.ParticipantUpdate{Participants: all}}})
	s.send(&lk.SignalResponse{Message: &lk.SignalResponse_RoomUpdate{RoomUpdate: &lk.RoomUpdate{Room: r.roomInfoLocked()}}})
	c.peer.markResumed()
	if !c.peer.resendPendingOffer() {
		if cfg.ResumeRestart {
			c.peer.negotiate(true)
		} else {
			c.peer.negotiate(false)
		}
	} else if cfg.ResumeRestart {
		c.peer.mu.Lock()
		c.peer.restartPending = true
		c.peer.mu.Unlock()
	}
	r.mu.Unlock()
	r.serve(c, s)
}

// serve runs the session and handles its end.
func (r *Room) serve(c *Client, s *Session) {
	reason := s.run()
	infof("%s: signalling ended: %s", c.Identity, reason)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !c.detach(s) || c.closed || r.closed {
		return
	}
	// keep the participant for a resume, like LiveKit keeps it while its PC lives
	c.resumeTimer = time.AfterFunc(cfg.ResumeWindow, func() {
		r.withLock(func() {
			if !c.closed && !c.hasSession() {
				r.removeClientLocked(c, "no resume within "+cfg.ResumeWindow.String(), nil)
			}
		})
	})
}

// clientLeft: the client sent leave.
func (r *Room) clientLeft(c *Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeClientLocked(c, "client leave", nil)
}

// failClient: full reconnect demanded (leave sent, participant closed).
func (r *Room) failClient(c *Client, why string, l *lk.LeaveRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeClientLocked(c, why, l)
}

// signalLeave sends a leave and closes the signalling socket, keeping the participant.
// Safe from pion callbacks (no room lock).
func (r *Room) signalLeave(c *Client, why string, l *lk.LeaveRequest, closeSocket bool) {
	s := c.session()
	if s == nil {
		return
	}
	s.sendLeave(l)
	if closeSocket {
		s.close(why)
	}
}

func (r *Room) removeClientLocked(c *Client, why string, l *lk.LeaveRequest) {
	if c.closed {
		return
	}
	c.closed = true
	if r.clients[c.Identity] == c {
		delete(r.clients, c.Identity)
	}
	if c.resumeTimer != nil {
		c.resumeTimer.Stop()
	}
	if s := c.session(); s != nil {
		if l != nil {
			s.sendLeave(l)
		}
		s.close(why)
	}
	c.dropAllLocked()
	if c.peer != nil {
		c.peer.close()
	}
	c.version++
	repMu.Lock()
	c.rec.ClosedReason = why
	repMu.Unlock()
	infof("%s (%s) removed: %s", c.Identity, c.Sid, why)
	r.broadcastLocked(c.info(), c)
}

// ---- requests ----

func (r *Room) onSubscription(c *Client, u *lk.UpdateSubscription, record bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if record {
		rec := SubReqRec{At: rfc3339(time.Now()), TrackSids: append([]string{}, u.TrackSids...), Subscribe: u.Subscribe}
		if len(u.ParticipantTracks) > 0 {
			rec.ParticipantTracks = map[string][]string{}
			for _, pt := range u.ParticipantTracks {
				rec.ParticipantTracks[pt.ParticipantSid] = pt.TrackSids
			}
		}
		repMu.Lock()
		if s := c.curRec(); s != nil {
			s.SubscriptionRequests = append(s.SubscriptionRequests, rec)
		}
		repMu.Unlock()
	}
	sids := append([]string{}, u.TrackSids...)
	for _, pt := range u.ParticipantTracks {
		sids = append(sids, pt.TrackSids...)
	}
	for _, sid := range sids {
		if u.Subscribe && r.trackBySidLocked(sid) == nil {
			// SubscriptionError SE_TRACK_NOTFOUND = 2
			c.send(&lk.SignalResponse{Message: &lk.SignalResponse_SubscriptionResponse{
				SubscriptionResponse: &lk.SubscriptionResponse{TrackSid: sid, Err: 2}}})
		}
		c.explicit[sid] = u.Subscribe
	}
	c.reconcileLocked(r.tracksLocked())
}

func (r *Room) onTrackSetting(c *Client, u *lk.UpdateTrackSettings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	selected := ""
	for _, sid := range u.TrackSids {
		c.settings[sid] = u
		t := r.trackBySidLocked(sid)
		if t == nil {
			continue
		}
		layer, paused, name := c.layerAndPause(t)
		selected = name
		if d := c.downs[sid]; d != nil {
			d.setPaused(paused)
			if !paused {
				d.setLayer(layer)
			}
		}
	}
	repMu.Lock()
	if s := c.curRec(); s != nil {
		s.TrackSettings = append(s.TrackSettings, TrackSettingRec{At: rfc3339(time.Now()),
			TrackSids: append([]string{}, u.TrackSids...), Disabled: u.Disabled, Quality: u.Quality.String(),
			Width: u.Width, Height: u.Height, FPS: u.Fps, Selected: selected})
	}
	repMu.Unlock()
}

func (r *Room) onSyncState(c *Client, st *lk.SyncState) {
	if st == nil {
		return
	}
	if st.Answer != nil && st.Answer.Sdp != "" && c.peer != nil {
		// Only an answer to the offer in flight (one whose answer was lost with the old
		// socket). The answer in force is for an older offer — after a resume the offer in
		// flight is usually the ICE restart, whose answer is still to come.
		c.peer.mu.Lock()
		waiting := c.peer.inFlight && (st.Answer.Id == 0 || st.Answer.Id == c.peer.offerID)
		c.peer.mu.Unlock()
		if waiting {
			c.peer.onAnswer(st.Answer)
		}
	}
	if st.Subscription != nil && !c.autoSub {
		r.onSubscription(c, st.Subscription, false)
	}
}

// ---- debug actions ----

func (r *Room) clientByIdentity(id string) *Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clients[id]
}
