package main

// Peer is a client's subscriber PeerConnection, with pion as the offerer: server-made
// `_reliable`/`_lossy` data channels, one offer in flight at a time (renegotiation
// queued until the answer), trickle with the last candidate held back and sent with
// final=true, the answer deadline and LiveKit's "fully established" rule.
//
// Locks: p.mu guards negotiation state, p.cmu the held-back candidate, p.smu the
// connection state. pion callbacks never take Room.mu; actions that need the room
// (closing a client) run on their own goroutine.

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
	lk "roomrec/lkproto"
)

type Peer struct {
	c  *Client
	pc *webrtc.PeerConnection

	mu             sync.Mutex
	closed         bool
	offerID        uint32
	inFlight       bool
	pending        bool
	restartPending bool
	lastOffer      *lk.SessionDescription
	negTimer       *time.Timer
	answerTimer    *time.Timer
	remoteCands    []webrtc.ICECandidateInit

	cmu  sync.Mutex
	held *webrtc.ICECandidate

	smu          sync.Mutex
	relOpen      bool
	lossyOpen    bool
	iceConnected time.Time
	estTimer     *time.Timer
	established  bool
	failedSent   bool
}

func newPeer(c *Client, api *webrtc.API) (*Peer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &Peer{c: c, pc: pc}
	pc.OnICECandidate(p.onCandidate)
	pc.OnICEConnectionStateChange(p.onICEState)
	pc.OnConnectionStateChange(p.onPCState)
	pc.SCTP().Transport().OnStateChange(func(s webrtc.DTLSTransportState) {
		repMu.Lock()
		if r := c.curRec(); r != nil {
			r.DTLSState = s.String()
		}
		repMu.Unlock()
	})
	ordered := false
	retrans := uint16(0)
	rel, err := pc.CreateDataChannel("_reliable", &webrtc.DataChannelInit{})
	if err != nil {
		pc.Close()
		return nil, err
	}
	lossy, err := pc.CreateDataChannel("_lossy", &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: &retrans})
	if err != nil {
		pc.Close()
		return nil, err
	}
	rel.OnOpen(func() { p.onDCOpen("_reliable") })
	lossy.OnOpen(func() { p.onDCOpen("_lossy") })
	return p, nil
}

func (p *Peer) isConnected() bool {
	return p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

func (p *Peer) close() {
	p.mu.Lock()
	p.closed = true
	if p.answerTimer != nil {
		p.answerTimer.Stop()
	}
	if p.negTimer != nil {
		p.negTimer.Stop()
	}
	p.mu.Unlock()
	p.smu.Lock()
	if p.estTimer != nil {
		p.estTimer.Stop()
	}
	p.smu.Unlock()
	go p.pc.Close()
}

// ---- tracks ----

func (p *Peer) addTrack(d *DownTrack) error {
	kind := d.Kind()
	reusable := false
	for _, t := range p.pc.GetTransceivers() {
		if t.Kind() == kind && t.Sender() == nil && t.Mid() != "" &&
			(t.Direction() == webrtc.RTPTransceiverDirectionInactive || t.Direction() == webrtc.RTPTransceiverDirectionRecvonly) {
			reusable = true
			break
		}
	}
	var sender *webrtc.RTPSender
	if reusable {
		s, err := p.pc.AddTrack(d)
		if err != nil {
			return err
		}
		sender = s
	} else {
		t, err := p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		sender = t.Sender()
	}
	for _, t := range p.pc.GetTransceivers() {
		if t.Sender() == sender {
			if err := t.SetCodecPreferences(codecPrefs(d.pub.Spec.Codec)); err != nil {
				warnf("codec preferences: %v", err)
			}
		}
	}
	d.sender = sender
	go d.rtcpLoop(sender, p.pc.WriteRTCP)
	return nil
}

func (p *Peer) removeTrack(d *DownTrack) {
	if d.sender == nil {
		return
	}
	if err := p.pc.RemoveTrack(d.sender); err != nil {
		debugf("remove track: %v", err)
	}
}

// ---- negotiation ----

// scheduleNegotiation batches changes like LiveKit's negotiation debounce.
func (p *Peer) scheduleNegotiation() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.negTimer != nil {
		return
	}
	p.negTimer = time.AfterFunc(100*time.Millisecond, func() {
		p.mu.Lock()
		p.negTimer = nil
		p.mu.Unlock()
		p.negotiate(false)
	})
}

// negotiate sends an offer now, or queues it while one is in flight / no session.
func (p *Peer) negotiate(iceRestart bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if iceRestart {
		p.restartPending = true
	}
	if p.closed {
		return
	}
	sess := p.c.session()
	if p.inFlight || sess == nil {
		p.pending = true
		return
	}
	p.pending = false
	restart := p.restartPending
	p.restartPending = false
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		reportError("%s: create offer: %v", p.c.Identity, err)
		return
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		reportError("%s: set local offer: %v", p.c.Identity, err)
		return
	}
	p.offerID++
	mids := map[string]string{}
	for _, t := range p.pc.GetTransceivers() {
		if s := t.Sender(); s != nil && t.Mid() != "" {
			if d, ok := s.Track().(*DownTrack); ok {
				mids[t.Mid()] = d.pub.Sid
			}
		}
	}
	sd := &lk.SessionDescription{Type: "offer", Sdp: offer.SDP, Id: p.offerID, MidToTrackId: mids}
	p.lastOffer = sd
	p.inFlight = true
	id := p.offerID
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.Offers = append(r.Offers, OfferRec{ID: id, At: rfc3339(time.Now()), ICERestart: restart,
			MidToTrackID: mids, SDP: offer.SDP})
	}
	repMu.Unlock()
	infof("%s: offer %d (%d tracks, ice restart %v)", p.c.Identity, id, len(mids), restart)
	sess.send(&lk.SignalResponse{Message: &lk.SignalResponse_Offer{Offer: sd}})
	p.answerTimer = time.AfterFunc(cfg.AnswerTimeout, func() { p.onAnswerTimeout(id) })
}

// resendPendingOffer re-sends an offer still waiting for its answer (after resume).
func (p *Peer) resendPendingOffer() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inFlight || p.lastOffer == nil {
		return false
	}
	p.c.send(&lk.SignalResponse{Message: &lk.SignalResponse_Offer{Offer: p.lastOffer}})
	return true
}

func (p *Peer) onAnswerTimeout(id uint32) {
	p.mu.Lock()
	missed := p.inFlight && p.offerID == id && !p.closed
	p.mu.Unlock()
	if !missed {
		return
	}
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.AnswerDeadlineMissed = true
	}
	repMu.Unlock()
	warnf("%s: no answer to offer %d within %v: negotiation failed", p.c.Identity, id, cfg.AnswerTimeout)
	// LiveKit: IssueFullReconnect(NegotiateFailed) = leave{STATE_MISMATCH, RECONNECT}
	go p.c.room.failClient(p.c, "negotiation failed", &lk.LeaveRequest{
		Reason: lk.DisconnectReason_STATE_MISMATCH, Action: lk.LeaveRequest_RECONNECT})
}

func (p *Peer) onAnswer(sd *lk.SessionDescription) {
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.Answers = append(r.Answers, AnswerRec{ID: sd.Id, At: rfc3339(time.Now()), SDP: sd.Sdp})
	}
	repMu.Unlock()
	p.mu.Lock()
	if !p.inFlight || p.closed {
		p.mu.Unlock()
		reportError("%s: answer %d without an offer in flight", p.c.Identity, sd.Id)
		return
	}
	if sd.Id != 0 && sd.Id != p.offerID {
		warnf("%s: answer id %d for offer %d", p.c.Identity, sd.Id, p.offerID)
	}
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sd.Sdp})
	if p.answerTimer != nil {
		p.answerTimer.Stop()
	}
	p.inFlight = false
	cands := p.remoteCands
	p.remoteCands = nil
	pending := p.pending || p.restartPending
	p.mu.Unlock()
	if err != nil {
		reportError("%s: set remote answer: %v", p.c.Identity, err)
		go p.c.room.failClient(p.c, "bad answer", &lk.LeaveRequest{
			Reason: lk.DisconnectReason_STATE_MISMATCH, Action: lk.LeaveRequest_RECONNECT})
		return
	}
	for _, ci := range cands {
		if err := p.pc.AddICECandidate(ci); err != nil {
			debugf("%s: add queued candidate: %v", p.c.Identity, err)
		}
	}
	if pending {
		p.scheduleNegotiation()
	}
}

// ---- trickle ----

func (p *Peer) onCandidate(c *webrtc.ICECandidate) {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if c == nil { // gathering complete: the held candidate goes out with final=true
		if p.held != nil {
			p.sendCandidate(p.held, true)
			p.held = nil
		}
		return
	}
	if p.held != nil {
		p.sendCandidate(p.held, false)
	}
	p.held = c
}

func (p *Peer) sendCandidate(c *webrtc.ICECandidate, final bool) {
	js := candidateJSON(c, "0")
	p.c.send(&lk.SignalResponse{Message: &lk.SignalResponse_Trickle{Trickle: &lk.TrickleRequest{
		CandidateInit: js, Target: lk.SignalTarget_SUBSCRIBER, Final: final}}})
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.CandidatesSent = append(r.CandidatesSent, c.ToJSON().Candidate)
		if final {
			r.FinalCandidateSent = true
		}
	}
	repMu.Unlock()
}

func (p *Peer) onTrickle(t *lk.TrickleRequest) {
	ci, err := parseCandidateInit(t.CandidateInit)
	if t.CandidateInit != "" && err != nil {
		reportError("%s: bad candidateInit %q: %v", p.c.Identity, t.CandidateInit, err)
		return
	}
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		if ci.Candidate != "" {
			r.CandidatesReceived = append(r.CandidatesReceived, ci.Candidate)
		}
		if ci.Candidate == "" || t.Final {
			r.EndOfCandidates = true
		}
	}
	repMu.Unlock()
	if t.Target != lk.SignalTarget_SUBSCRIBER {
		warnf("%s: candidate for the publisher PC (not supported)", p.c.Identity)
		return
	}
	if ci.Candidate == "" {
		return
	}
	p.mu.Lock()
	if p.pc.RemoteDescription() == nil {
		p.remoteCands = append(p.remoteCands, ci)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	if err := p.pc.AddICECandidate(ci); err != nil {
		debugf("%s: add candidate: %v", p.c.Identity, err)
	}
}

// ---- connection state / fully established ----

func (p *Peer) onICEState(s webrtc.ICEConnectionState) {
	now := time.Now()
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.ICEState = s.String()
		if s == webrtc.ICEConnectionStateConnected && r.ICEConnectedAt == "" {
			r.ICEConnectedAt = rfc3339(now)
		}
	}
	repMu.Unlock()
	if s == webrtc.ICEConnectionStateConnected {
		p.recordPair()
		p.smu.Lock()
		if p.iceConnected.IsZero() {
			p.iceConnected = now
			wait := randDuration(cfg.EstablishMin, cfg.EstablishMax)
			debugf("%s: ICE connected, fully-established deadline %v", p.c.Identity, wait)
			p.estTimer = time.AfterFunc(wait, p.onEstablishDeadline)
		}
		p.smu.Unlock()
	}
}

func (p *Peer) recordPair() {
	pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return
	}
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.SelectedPair = &PairRec{Local: pair.Local.String(), Remote: pair.Remote.String()}
	}
	repMu.Unlock()
}

func (p *Peer) onPCState(s webrtc.PeerConnectionState) {
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.PCState = s.String()
		r.DTLSState = p.pc.SCTP().Transport().State().String()
	}
	repMu.Unlock()
	infof("%s: peer connection %s", p.c.Identity, s)
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.recordPair()
		p.checkEstablished()
	case webrtc.PeerConnectionStateFailed:
		// LiveKit onAnyTransportFailed: leave{RESUME} + close signalling, keep the participant
		p.smu.Lock()
		send := !p.failedSent
		p.failedSent = true
		p.smu.Unlock()
		if send {
			p.c.room.signalLeave(p.c, "peer connection failed", &lk.LeaveRequest{
				Reason: reasonConnectionTimeout, Action: lk.LeaveRequest_RESUME}, true)
		}
	}
}

func (p *Peer) onDCOpen(label string) {
	infof("%s: data channel %s open", p.c.Identity, label)
	p.smu.Lock()
	if label == "_reliable" {
		p.relOpen = true
	} else {
		p.lossyOpen = true
	}
	p.smu.Unlock()
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.DataChannelsOpen = append(r.DataChannelsOpen, label)
	}
	repMu.Unlock()
	p.checkEstablished()
}

func (p *Peer) isFullyEstablished() bool {
	p.smu.Lock()
	dc := p.relOpen && p.lossyOpen
	p.smu.Unlock()
	return dc && p.isConnected()
}

func (p *Peer) checkEstablished() {
	if !p.isFullyEstablished() {
		return
	}
	p.smu.Lock()
	first := !p.established
	p.established = true
	p.smu.Unlock()
	repMu.Lock()
	if r := p.c.curRec(); r != nil && !r.Established {
		r.Established = true
		r.EstablishedAt = rfc3339(time.Now())
	}
	repMu.Unlock()
	if first {
		infof("%s: subscriber fully established", p.c.Identity)
	}
}

// markResumed carries the established state into a resumed session's report.
func (p *Peer) markResumed() {
	p.smu.Lock()
	est, rel, lossy := p.established, p.relOpen, p.lossyOpen
	p.smu.Unlock()
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.Established = est
		if est {
			r.EstablishedAt = rfc3339(time.Now())
		}
		if rel {
			r.DataChannelsOpen = append(r.DataChannelsOpen, "_reliable")
		}
		if lossy {
			r.DataChannelsOpen = append(r.DataChannelsOpen, "_lossy")
		}
		r.ICEState = p.pc.ICEConnectionState().String()
		r.PCState = p.pc.ConnectionState().String()
		r.DTLSState = p.pc.SCTP().Transport().State().String()
	}
	repMu.Unlock()
}

func (p *Peer) onEstablishDeadline() {
	s := p.pc.ConnectionState()
	if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || p.isFullyEstablished() {
		return
	}
	p.smu.Lock()
	rel, lossy := p.relOpen, p.lossyOpen
	p.smu.Unlock()
	warnf("%s: not fully established after ICE connected (pc %s, _reliable %v, _lossy %v): leave RESUME",
		p.c.Identity, s, rel, lossy)
	repMu.Lock()
	if r := p.c.curRec(); r != nil {
		r.ResumeLeaveSent = true
	}
	repMu.Unlock()
	// LiveKit: connect timeout after ICE connected → handleConnectionFailed →
	// leave{CONNECTION_TIMEOUT, RESUME} and the signalling connection is closed.
	p.c.room.signalLeave(p.c, "not fully established", &lk.LeaveRequest{
		Reason: reasonConnectionTimeout, Action: lk.LeaveRequest_RESUME}, true)
}
