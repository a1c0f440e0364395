package main

// Session is one signalling WebSocket of a client: binary protobuf SignalRequest up,
// SignalResponse down (JSON when the client sends text frames), pings, refresh tokens.

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	lk "roomrec/lkproto"
)

type Session struct {
	c    *Client
	conn *websocket.Conn
	rec  *SessionRec

	wmu      sync.Mutex
	jsonMode bool
	closed   bool

	done      chan struct{}
	closeOnce sync.Once
	endReason string

	pmu      sync.Mutex
	lastPing time.Time
}

func newSession(c *Client, conn *websocket.Conn, index int, resume bool) *Session {
	return &Session{c: c, conn: conn, rec: newSessionRec(index, resume), done: make(chan struct{}),
		lastPing: time.Now()}
}

func (s *Session) send(msg *lk.SignalResponse) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return websocket.ErrCloseSent
	}
	var data []byte
	var err error
	mt := websocket.BinaryMessage
	if s.jsonMode {
		mt = websocket.TextMessage
		data, err = protojson.Marshal(msg)
	} else {
		data, err = proto.Marshal(msg)
	}
	if err != nil {
		return err
	}
	s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := s.conn.WriteMessage(mt, data); err != nil {
		debugf("%s: write: %v", s.c.Identity, err)
		return err
	}
	return nil
}

// sendLeave records and sends a LeaveRequest.
func (s *Session) sendLeave(l *lk.LeaveRequest) {
	repMu.Lock()
	s.rec.LeavesSent = append(s.rec.LeavesSent, LeaveRec{Reason: int32(l.Reason), Action: int32(l.Action),
		At: rfc3339(time.Now())})
	repMu.Unlock()
	infof("%s: leave{reason %d, action %s}", s.c.Identity, l.Reason, l.Action)
	s.send(&lk.SignalResponse{Message: &lk.SignalResponse_Leave{Leave: l}})
}

// close ends the session (abruptly: no close frame), recording why.
func (s *Session) close(reason string) {
	s.closeOnce.Do(func() {
		s.wmu.Lock()
		s.closed = true
		s.endReason = reason
		s.conn.Close()
		s.wmu.Unlock()
		close(s.done)
		repMu.Lock()
		s.rec.EndedAt = rfc3339(time.Now())
		s.rec.EndReason = reason
		repMu.Unlock()
	})
}

// run reads requests until the socket ends; returns the end reason.
func (s *Session) run() string {
	go s.timers()
	for {
		mt, data, err := s.conn.ReadMessage()
		if err != nil {
			s.close("socket closed: " + err.Error())
			break
		}
		req := &lk.SignalRequest{}
		if mt == websocket.TextMessage {
			s.wmu.Lock()
			s.jsonMode = true
			s.wmu.Unlock()
			err = protojson.Unmarshal(data, req)
		} else {
			err = proto.Unmarshal(data, req)
		}
		if err != nil {
			reportError("%s: bad signal request: %v", s.c.Identity, err)
			continue
		}
		if !s.handle(req) {
			break
		}
	}
	s.wmu.Lock()
	r := s.endReason
	s.wmu.Unlock()
	return r
}

// timers: ping timeout and refresh_token.
func (s *Session) timers() {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	refresh := time.NewTicker(cfg.RefreshEvery)
	defer refresh.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			s.pmu.Lock()
			idle := time.Since(s.lastPing)
			s.pmu.Unlock()
			if idle > time.Duration(cfg.PingTimeout)*time.Second {
				warnf("%s: no ping for %v: closing signalling", s.c.Identity, idle.Round(time.Second))
				s.close("ping timeout")
				return
			}
		case <-refresh.C:
			tok, err := refreshedToken(s.c.claims, cfg.APISecret, time.Now())
			if err == nil && s.send(&lk.SignalResponse{Message: &lk.SignalResponse_RefreshToken{RefreshToken: tok}}) == nil {
				repMu.Lock()
				s.rec.RefreshTokensSent++
				repMu.Unlock()
			}
		}
	}
}

func nowMs() int64 { return time.Now().UnixNano() / int64(time.Millisecond) }

// handle processes one request; false ends the read loop.
func (s *Session) handle(req *lk.SignalRequest) bool {
	c := s.c
	switch m := req.Message.(type) {
	case *lk.SignalRequest_Ping:
		s.gotPing()
		s.send(&lk.SignalResponse{Message: &lk.SignalResponse_Pong{Pong: nowMs()}})
	case *lk.SignalRequest_PingReq:
		s.gotPing()
		var ts int64
		if m.PingReq != nil {
			ts = m.PingReq.Timestamp
		}
		s.send(&lk.SignalResponse{Message: &lk.SignalResponse_PongResp{PongResp: &lk.Pong{
			LastPingTimestamp: ts, Timestamp: nowMs()}}})
	case *lk.SignalRequest_Answer:
		if m.Answer != nil && c.peer != nil {
			c.peer.onAnswer(m.Answer)
		}
	case *lk.SignalRequest_Offer:
		reportError("%s: publisher offer received (publishing is not supported by the test room)", c.Identity)
	case *lk.SignalRequest_Trickle:
		if m.Trickle != nil && c.peer != nil {
			c.peer.onTrickle(m.Trickle)
		}
	case *lk.SignalRequest_Subscription:
		if m.Subscription != nil {
			c.room.onSubscription(c, m.Subscription, true)
		}
	case *lk.SignalRequest_TrackSetting:
		if m.TrackSetting != nil {
			c.room.onTrackSetting(c, m.TrackSetting)
		}
	case *lk.SignalRequest_SyncState:
		repMu.Lock()
		s.rec.SyncStateReceived = true
		repMu.Unlock()
		c.room.onSyncState(c, m.SyncState)
	case *lk.SignalRequest_Leave:
		l := m.Leave
		if l == nil {
			l = &lk.LeaveRequest{}
		}
		repMu.Lock()
		s.rec.LeaveReceived = &LeaveRec{Reason: int32(l.Reason), Action: int32(l.Action), At: rfc3339(time.Now())}
		repMu.Unlock()
		infof("%s: client leave (reason %d)", c.Identity, l.Reason)
		s.close("client leave")
		c.room.clientLeft(c)
		return false
	default:
		debugf("%s: unhandled request %T", c.Identity, req.Message)
	}
	return true
}

func (s *Session) gotPing() {
	s.pmu.Lock()
	s.lastPing = time.Now()
	s.pmu.Unlock()
	repMu.Lock()
	s.rec.Pings++
	repMu.Unlock()
}
