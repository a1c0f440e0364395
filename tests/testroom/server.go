package main

// HTTP endpoints: /rtc (WebSocket), /rtc/validate, /rtc/v1 (404), /debug/*.

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	lk "roomrec/lkproto"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  16384,
	WriteBufferSize: 16384,
	CheckOrigin:     func(*http.Request) bool { return true },
}

type httpHandler struct {
	room *Room
	quit chan<- string
}

func newHTTPHandler(room *Room, quit chan<- string) http.Handler {
	h := &httpHandler{room: room, quit: quit}
	mux := http.NewServeMux()
	mux.HandleFunc("/rtc", h.rtc)
	mux.HandleFunc("/rtc/validate", h.validate)
	mux.HandleFunc("/rtc/v1", http.NotFound)
	mux.HandleFunc("/rtc/v1/", http.NotFound)
	mux.HandleFunc("/debug/report", h.report)
	mux.HandleFunc("/debug/kick", h.kick)
	mux.HandleFunc("/debug/leave", h.leave)
	mux.HandleFunc("/debug/close", h.closeRoom)
	mux.HandleFunc("/debug/shutdown", h.shutdown)
	mux.HandleFunc("/debug/event", h.event)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Write([]byte("OK"))
			return
		}
		http.NotFound(w, r)
	})
	return h.logged(mux)
}

func (h *httpHandler) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		debugf("%s %s", r.Method, r.URL.Path) // never the query: it carries the token
		next.ServeHTTP(w, r)
	})
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	w.Write([]byte(msg))
}

func reject(w http.ResponseWriter, r *http.Request, code int, err error) {
	repMu.Lock()
	report.Rejected = append(report.Rejected, Rejected{At: rfc3339(time.Now()), Path: r.URL.Path,
		Status: code, Reason: err.Error()})
	repMu.Unlock()
	infof("rejected %s: %d %v", r.URL.Path, code, err)
	httpError(w, code, err.Error())
}

// authorize extracts and checks the token like LiveKit's middleware + validation.
func (h *httpHandler) authorize(r *http.Request) (*Claims, int, error) {
	tok := ""
	if hdr := r.Header.Get("Authorization"); hdr != "" {
		if !strings.HasPrefix(hdr, "Bearer ") {
			return nil, 401, errMissingAuthHeader
		}
		tok = hdr[len("Bearer "):]
	} else {
		tok = r.FormValue("access_token")
	}
	if tok == "" {
		return nil, 401, errPermissionDenied
	}
	cl, err := verifyToken(tok, cfg.APIKey, cfg.APISecret, time.Now())
	if err != nil {
		return nil, 401, err
	}
	if code, err := checkJoin(cl, h.room.name); err != nil {
		return nil, code, err
	}
	return cl, 200, nil
}

func boolParam(s string) bool { return s == "1" || s == "true" }

func (h *httpHandler) validate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if _, code, err := h.authorize(r); err != nil {
		reject(w, r, code, err)
		return
	}
	w.Write([]byte("success"))
}

func (h *httpHandler) rtc(w http.ResponseWriter, r *http.Request) {
	cl, code, err := h.authorize(r)
	if err != nil {
		reject(w, r, code, err)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		w.WriteHeader(404)
		return
	}
	q := connParams{autoSubscribe: true, sdk: r.FormValue("sdk"), version: r.FormValue("version"),
		adaptive: boolParam(r.FormValue("adaptive_stream")), reconnect: boolParam(r.FormValue("reconnect")),
		sid: r.FormValue("sid")}
	if v := r.FormValue("auto_subscribe"); v != "" {
		q.autoSubscribe = boolParam(v)
	}
	q.protocol, _ = strconv.Atoi(r.FormValue("protocol"))
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		warnf("websocket upgrade: %v", err)
		return
	}
	if q.reconnect {
		h.room.resume(conn, cl, q)
	} else {
		h.room.join(conn, cl, q)
	}
}

func (h *httpHandler) report(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(reportJSON())
}

func postOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		httpError(w, 405, "POST only")
		return false
	}
	return true
}

func (h *httpHandler) kick(w http.ResponseWriter, r *http.Request) {
	if !postOnly(w, r) {
		return
	}
	c := h.room.clientByIdentity(r.FormValue("identity"))
	if c == nil || c.session() == nil {
		httpError(w, 404, "no connected client with that identity")
		return
	}
	c.session().close("kicked")
	w.Write([]byte("kicked\n"))
}

func (h *httpHandler) leave(w http.ResponseWriter, r *http.Request) {
	if !postOnly(w, r) {
		return
	}
	c := h.room.clientByIdentity(r.FormValue("identity"))
	if c == nil || c.session() == nil {
		httpError(w, 404, "no connected client with that identity")
		return
	}
	action := strings.ToUpper(r.FormValue("action"))
	var l *lk.LeaveRequest
	switch action {
	case "", "RESUME":
		l = &lk.LeaveRequest{Reason: reasonConnectionTimeout, Action: lk.LeaveRequest_RESUME}
	case "RECONNECT":
		l = &lk.LeaveRequest{Reason: lk.DisconnectReason_STATE_MISMATCH, Action: lk.LeaveRequest_RECONNECT}
	case "DISCONNECT":
		l = &lk.LeaveRequest{Reason: lk.DisconnectReason_PARTICIPANT_REMOVED, Action: lk.LeaveRequest_DISCONNECT}
	default:
		httpError(w, 400, "action must be RESUME, RECONNECT or DISCONNECT")
		return
	}
	if v := r.FormValue("reason"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			httpError(w, 400, "bad reason")
			return
		}
		l.Reason = lk.DisconnectReason(n)
	}
	if l.Action == lk.LeaveRequest_RESUME {
		h.room.signalLeave(c, "debug leave RESUME", l, true)
	} else {
		h.room.failClient(c, "debug leave "+action, l)
	}
	w.Write([]byte("ok\n"))
}

func (h *httpHandler) closeRoom(w http.ResponseWriter, r *http.Request) {
	if !postOnly(w, r) {
		return
	}
	h.room.withLock(h.room.closeRoomLocked)
	w.Write([]byte("ok\n"))
}

func (h *httpHandler) shutdown(w http.ResponseWriter, r *http.Request) {
	if !postOnly(w, r) {
		return
	}
	w.Write([]byte("ok\n"))
	select {
	case h.quit <- "debug shutdown":
	default:
	}
}

func (h *httpHandler) event(w http.ResponseWriter, r *http.Request) {
	if !postOnly(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		httpError(w, 400, err.Error())
		return
	}
	var ev EventSpec
	if err := json.Unmarshal(body, &ev); err != nil {
		httpError(w, 400, "bad event JSON: "+err.Error())
		return
	}
	if ev.Identity == "" {
		httpError(w, 400, "event needs identity")
		return
	}
	if err := normalizeEvent(&ev); err != nil {
		httpError(w, 400, err.Error())
		return
	}
	if ev.Action == "speak" && ev.Until > ev.At {
		// relative: speak for (until - at) seconds from now
	} else if ev.Action == "speak" {
		ev.At, ev.Until = 0, 3
	}
	var aerr error
	h.room.withLock(func() { aerr = h.room.applyEventLocked(ev.Identity, &ev, true) })
	if aerr != nil {
		httpError(w, 409, aerr.Error())
		return
	}
	w.Write([]byte("ok\n"))
}
