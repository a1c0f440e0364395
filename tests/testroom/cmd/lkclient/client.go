package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"google.golang.org/protobuf/proto"
	lk "roomrec/lkproto"
)

var logger = log.New(os.Stderr, "lkclient ", log.Lmicroseconds)

type trackStats struct {
	Kind          string  `json:"kind"`
	Mime          string  `json:"mime"`
	Packets       int     `json:"packets"`
	Bytes         int     `json:"bytes"`
	Keyframes     int     `json:"keyframes"`
	FirstAt       string  `json:"first_at"`
	PLISent       int     `json:"pli_sent"`
	KeyAfterPLIms float64 `json:"keyframe_after_pli_ms"`
	pliAt         time.Time
	lastKeyTs     uint32
	anyKey        bool
}

type offerRec struct {
	ID     uint32            `json:"id"`
	MLines []string          `json:"mlines"`
	Mids   map[string]string `json:"mids"`
}

type leaveRec struct {
	Reason int32 `json:"reason"`
	Action int32 `json:"action"`
}

type stats struct {
	Joins           int                    `json:"joins"`
	Resumes         int                    `json:"resumes"`
	ReconnectResps  int                    `json:"reconnect_responses"`
	Sids            []string               `json:"sids"`
	SubscriberPrim  bool                   `json:"subscriber_primary"`
	PingInterval    int32                  `json:"ping_interval"`
	Others          []string               `json:"other_participants"`
	Offers          []offerRec             `json:"offers"`
	AnswersSent     int                    `json:"answers_sent"`
	CandidatesRecv  int                    `json:"candidates_received"`
	FinalCandidate  bool                   `json:"final_candidate"`
	CandidateSample string                 `json:"candidate_sample"`
	Pongs           int                    `json:"pongs"`
	Updates         int                    `json:"updates"`
	Speakers        int                    `json:"speakers_changed"`
	RefreshTokens   int                    `json:"refresh_tokens"`
	DataChannels    []string               `json:"data_channels"`
	Leaves          []leaveRec             `json:"leaves"`
	PCState         string                 `json:"pc_state"`
	Tracks          map[string]*trackStats `json:"tracks"`
	Errors          []string               `json:"errors"`
}

type client struct {
	o  options
	mu sync.Mutex
	st stats

	ws       *websocket.Conn
	wmu      sync.Mutex
	pc       *webrtc.PeerConnection
	sid      string
	stopped  bool
	started  time.Time
	pending  []webrtc.ICECandidateInit
	trackSSR map[string]uint32
}

func newClient(o options) *client {
	return &client{o: o, st: stats{Tracks: map[string]*trackStats{}, Errors: []string{},
		Offers: []offerRec{}, Leaves: []leaveRec{}, DataChannels: []string{}, Sids: []string{}},
		trackSSR: map[string]uint32{}, started: time.Now()}
}

func (c *client) errorf(format string, a ...interface{}) {
	msg := fmt.Sprintf(format, a...)
	logger.Print("ERROR ", msg)
	c.mu.Lock()
	c.st.Errors = append(c.st.Errors, msg)
	c.mu.Unlock()
}

func (c *client) snapshot() *stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pc != nil {
		c.st.PCState = c.pc.ConnectionState().String()
	}
	s := c.st
	return &s
}

func (c *client) token() string {
	b64 := base64.RawURLEncoding
	now := time.Now().Unix()
	claims := map[string]interface{}{"iss": c.o.apiKey, "sub": c.o.identity, "nbf": now - 5,
		"exp": now + 600, "name": c.o.name, "kind": c.o.kind,
		"video": map[string]interface{}{"roomJoin": true, "room": c.o.room, "canSubscribe": true,
			"canPublish": false, "canPublishData": false, "hidden": c.o.hidden, "recorder": c.o.recorder}}
	body, _ := json.Marshal(claims)
	msg := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString(body)
	m := hmac.New(sha256.New, []byte(c.o.secret))
	m.Write([]byte(msg))
	return msg + "." + b64.EncodeToString(m.Sum(nil))
}

func (c *client) stop() {
	c.mu.Lock()
	c.stopped = true
	ws, pc := c.ws, c.pc
	c.mu.Unlock()
	if ws != nil {
		c.send(&lk.SignalRequest{Message: &lk.SignalRequest_Leave{Leave: &lk.LeaveRequest{
			Reason: lk.DisconnectReason_CLIENT_INITIATED, Action: lk.LeaveRequest_DISCONNECT}}})
		time.Sleep(100 * time.Millisecond)
		ws.Close()
	}
	if pc != nil {
		pc.Close()
	}
}

func (c *client) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// run connects and follows leave/resume/reconnect until stopped.
func (c *client) run() {
	resume := false
	for !c.isStopped() {
		next := c.connect(resume)
		if c.isStopped() {
			return
		}
		switch next {
		case "resume":
			resume = true
		case "reconnect":
			resume = false
			c.mu.Lock()
			old := c.pc
			c.pc = nil
			c.mu.Unlock()
			if old != nil {
				old.Close()
			}
		default:
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (c *client) send(req *lk.SignalRequest) {
	data, err := proto.Marshal(req)
	if err != nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.WriteMessage(websocket.BinaryMessage, data)
	}
}

// connect runs one signalling connection; returns what to do next.
func (c *client) connect(resume bool) string {
	u, _ := url.Parse(c.o.url)
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = "/rtc"
	q := url.Values{}
	q.Set("access_token", c.token())
	if c.o.autoSub {
		q.Set("auto_subscribe", "1")
	} else {
		q.Set("auto_subscribe", "0")
	}
	q.Set("protocol", fmt.Sprint(c.o.protocol))
	q.Set("sdk", "go-lkclient")
	q.Set("version", "0.1")
	if resume {
		q.Set("reconnect", "1")
		q.Set("sid", c.sid)
	}
	u.RawQuery = q.Encode()
	ws, resp, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		c.errorf("dial (%d): %v", code, err)
		return "stop"
	}
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	pingStop := make(chan struct{})
	defer close(pingStop)
	go c.pinger(pingStop)
	next := c.onClose()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			logger.Printf("socket ended: %v", err)
			break
		}
		resp := &lk.SignalResponse{}
		if err := proto.Unmarshal(data, resp); err != nil {
			c.errorf("bad response: %v", err)
			continue
		}
		if n := c.handle(resp); n != "" {
			next = n
		}
	}
	c.mu.Lock()
	c.ws = nil
	c.mu.Unlock()
	return next
}

func (c *client) onClose() string {
	if c.o.onClose == "resume" {
		return "resume"
	}
	return "stop"
}

func (c *client) pinger(stop chan struct{}) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.send(&lk.SignalRequest{Message: &lk.SignalRequest_PingReq{PingReq: &lk.Ping{
				Timestamp: time.Now().UnixNano() / 1e6}}})
		}
	}
}

func (c *client) handle(r *lk.SignalResponse) string {
	switch m := r.Message.(type) {
	case *lk.SignalResponse_Join:
		j := m.Join
		c.mu.Lock()
		c.st.Joins++
		c.sid = j.Participant.Sid
		c.st.Sids = append(c.st.Sids, c.sid)
		c.st.SubscriberPrim = j.SubscriberPrimary
		c.st.PingInterval = j.PingInterval
		c.st.Others = nil
		for _, p := range j.OtherParticipants {
			c.st.Others = append(c.st.Others, p.Identity)
		}
		c.mu.Unlock()
		logger.Printf("joined as %s, %d others", j.Participant.Sid, len(j.OtherParticipants))
		if err := c.newPC(); err != nil {
			c.errorf("pc: %v", err)
		}
		if c.o.subscribe != "" && !c.o.autoSub {
			var sids []string
			for _, p := range j.OtherParticipants {
				if p.Identity == c.o.subscribe {
					for _, t := range p.Tracks {
						sids = append(sids, t.Sid)
					}
				}
			}
			c.send(&lk.SignalRequest{Message: &lk.SignalRequest_Subscription{Subscription: &lk.UpdateSubscription{
				TrackSids: sids, Subscribe: true}}})
		}
	case *lk.SignalResponse_Reconnect:
		c.mu.Lock()
		c.st.ReconnectResps++
		c.st.Resumes++
		c.mu.Unlock()
		logger.Printf("resumed")
	case *lk.SignalResponse_Offer:
		c.onOffer(m.Offer)
	case *lk.SignalResponse_Trickle:
		c.onTrickle(m.Trickle)
	case *lk.SignalResponse_Update:
		c.mu.Lock()
		c.st.Updates++
		c.mu.Unlock()
	case *lk.SignalResponse_SpeakersChanged:
		c.mu.Lock()
		c.st.Speakers++
		c.mu.Unlock()
	case *lk.SignalResponse_RefreshToken:
		c.mu.Lock()
		c.st.RefreshTokens++
		c.mu.Unlock()
	case *lk.SignalResponse_PongResp, *lk.SignalResponse_Pong:
		c.mu.Lock()
		c.st.Pongs++
		c.mu.Unlock()
	case *lk.SignalResponse_Leave:
		l := m.Leave
		c.mu.Lock()
		c.st.Leaves = append(c.st.Leaves, leaveRec{Reason: int32(l.Reason), Action: int32(l.Action)})
		c.mu.Unlock()
		logger.Printf("leave reason %d action %s", l.Reason, l.Action)
		switch l.Action {
		case lk.LeaveRequest_RESUME:
			return "resume"
		case lk.LeaveRequest_RECONNECT:
			return "reconnect"
		default:
			return "stop"
		}
	}
	return ""
}

func (c *client) newPC() error {
	c.mu.Lock()
	old := c.pc
	c.pc = nil
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return err
	}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		js, _ := json.Marshal(map[string]interface{}{"candidate": init.Candidate, "sdpMid": "0", "sdpMLineIndex": 0})
		c.send(&lk.SignalRequest{Message: &lk.SignalRequest_Trickle{Trickle: &lk.TrickleRequest{
			CandidateInit: string(js), Target: lk.SignalTarget_SUBSCRIBER}}})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		label := dc.Label()
		dc.OnOpen(func() {
			c.mu.Lock()
			c.st.DataChannels = append(c.st.DataChannels, label)
			c.mu.Unlock()
			logger.Printf("data channel %s open", label)
		})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { logger.Printf("pc %s", s) })
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { go c.readTrack(pc, tr) })
	c.mu.Lock()
	c.pc = pc
	c.mu.Unlock()
	return nil
}

func (c *client) onOffer(o *lk.SessionDescription) {
	c.mu.Lock()
	pc := c.pc
	var mlines []string
	for _, l := range strings.Split(o.Sdp, "\n") {
		if strings.HasPrefix(l, "m=") {
			mlines = append(mlines, strings.TrimSpace(l))
		}
	}
	c.st.Offers = append(c.st.Offers, offerRec{ID: o.Id, MLines: mlines, Mids: o.MidToTrackId})
	c.mu.Unlock()
	if pc == nil {
		c.errorf("offer without pc")
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.Sdp}); err != nil {
		c.errorf("set offer: %v", err)
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		c.errorf("answer: %v", err)
		return
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		c.errorf("set answer: %v", err)
		return
	}
	sdp := ans.SDP
	if c.o.dcMode == "strip" {
		sdp = stripApplication(sdp)
	}
	c.mu.Lock()
	c.st.AnswersSent++
	cands := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ci := range cands {
		pc.AddICECandidate(ci)
	}
	c.send(&lk.SignalRequest{Message: &lk.SignalRequest_Answer{Answer: &lk.SessionDescription{
		Type: "answer", Sdp: sdp, Id: o.Id}}})
}

// stripApplication removes the m=application section (and its mid from BUNDLE).
func stripApplication(sdp string) string {
	lines := strings.Split(sdp, "\r\n")
	var out []string
	skip := false
	appMid := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "m=") {
			skip = strings.HasPrefix(l, "m=application")
		}
		if skip {
			if strings.HasPrefix(l, "a=mid:") {
				appMid = strings.TrimPrefix(l, "a=mid:")
			}
			continue
		}
		out = append(out, l)
	}
	for i, l := range out {
		if strings.HasPrefix(l, "a=group:BUNDLE") && appMid != "" {
			f := strings.Fields(l)
			var keep []string
			for _, x := range f {
				if x != appMid {
					keep = append(keep, x)
				}
			}
			out[i] = strings.Join(keep, " ")
		}
	}
	return strings.TrimRight(strings.Join(out, "\r\n"), "\r\n") + "\r\n"
}

func (c *client) onTrickle(t *lk.TrickleRequest) {
	var ci webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(t.CandidateInit), &ci); err != nil {
		c.errorf("bad candidateInit %q", t.CandidateInit)
		return
	}
	c.mu.Lock()
	c.st.CandidatesRecv++
	if t.Final {
		c.st.FinalCandidate = true
	}
	if c.st.CandidateSample == "" {
		c.st.CandidateSample = t.CandidateInit
	}
	pc := c.pc
	if pc == nil || pc.RemoteDescription() == nil {
		c.pending = append(c.pending, ci)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := pc.AddICECandidate(ci); err != nil {
		c.errorf("add candidate: %v", err)
	}
}

func (c *client) readTrack(pc *webrtc.PeerConnection, tr *webrtc.TrackRemote) {
	id := tr.ID()
	codec := tr.Codec().MimeType
	c.mu.Lock()
	st := c.st.Tracks[id]
	if st == nil {
		st = &trackStats{Kind: tr.Kind().String(), Mime: codec}
		c.st.Tracks[id] = st
	}
	c.mu.Unlock()
	logger.Printf("track %s %s ssrc %d", id, codec, tr.SSRC())
	isVideo := tr.Kind() == webrtc.RTPCodecTypeVideo
	if isVideo && c.o.pliAt > 0 {
		go func() {
			wait := time.Until(c.started.Add(c.o.pliAt))
			if wait < 0 {
				return
			}
			time.Sleep(wait)
			c.mu.Lock()
			st.PLISent++
			st.pliAt = time.Now()
			c.mu.Unlock()
			pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
		}()
	}
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		key := isVideo && isKeyframe(codec, p.Payload)
		c.mu.Lock()
		st.Packets++
		st.Bytes += len(p.Payload)
		if st.FirstAt == "" {
			st.FirstAt = time.Now().UTC().Format(time.RFC3339Nano)
		}
		if key && (!st.anyKey || p.Timestamp != st.lastKeyTs) {
			st.anyKey = true
			st.lastKeyTs = p.Timestamp
			st.Keyframes++
			if !st.pliAt.IsZero() && st.KeyAfterPLIms == 0 {
				st.KeyAfterPLIms = float64(time.Since(st.pliAt).Microseconds()) / 1000
			}
		}
		c.mu.Unlock()
	}
}
