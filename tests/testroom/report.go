package main

// The JSON report (written at exit, served at /debug/report). All mutations of report
// structures happen under repMu.

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

var repMu sync.Mutex

type Rejected struct {
	At     string `json:"at"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Reason string `json:"reason"`
}

type OfferRec struct {
	ID           uint32            `json:"id"`
	At           string            `json:"at"`
	ICERestart   bool              `json:"ice_restart,omitempty"`
	MidToTrackID map[string]string `json:"mid_to_track_id"`
	SDP          string            `json:"sdp,omitempty"`
}

type AnswerRec struct {
	ID  uint32 `json:"id"`
	At  string `json:"at"`
	SDP string `json:"sdp"`
}

type PairRec struct {
	Local  string `json:"local"`
	Remote string `json:"remote"`
}

type LeaveRec struct {
	Reason int32  `json:"reason"`
	Action int32  `json:"action"`
	At     string `json:"at,omitempty"`
}

type SubReqRec struct {
	At                string              `json:"at"`
	TrackSids         []string            `json:"track_sids"`
	Subscribe         bool                `json:"subscribe"`
	ParticipantTracks map[string][]string `json:"participant_tracks,omitempty"`
}

type TrackSettingRec struct {
	At        string   `json:"at"`
	TrackSids []string `json:"track_sids"`
	Disabled  bool     `json:"disabled"`
	Quality   string   `json:"quality"`
	Width     uint32   `json:"width"`
	Height    uint32   `json:"height"`
	FPS       uint32   `json:"fps"`
	Selected  string   `json:"selected_layer"`
}

type SessionRec struct {
	Index                int               `json:"index"`
	Resume               bool              `json:"resume"`
	JoinedAt             string            `json:"joined_at"`
	EndedAt              string            `json:"ended_at"`
	EndReason            string            `json:"end_reason"`
	Offers               []OfferRec        `json:"offers"`
	Answers              []AnswerRec       `json:"answers"`
	AnswerDeadlineMissed bool              `json:"answer_deadline_missed"`
	CandidatesReceived   []string          `json:"candidates_received"`
	EndOfCandidates      bool              `json:"end_of_candidates_received"`
	CandidatesSent       []string          `json:"candidates_sent"`
	FinalCandidateSent   bool              `json:"final_candidate_sent"`
	ICEState             string            `json:"ice_state"`
	ICEConnectedAt       string            `json:"ice_connected_at"`
	SelectedPair         *PairRec          `json:"selected_pair"`
	DTLSState            string            `json:"dtls_state"`
	PCState              string            `json:"pc_state"`
	DataChannelsOpen     []string          `json:"data_channels_open"`
	Established          bool              `json:"established"`
	EstablishedAt        string            `json:"established_at"`
	ResumeLeaveSent      bool              `json:"resume_leave_sent"`
	LeavesSent           []LeaveRec        `json:"leaves_sent"`
	Pings                int               `json:"pings"`
	LeaveReceived        *LeaveRec         `json:"leave_received"`
	SyncStateReceived    bool              `json:"sync_state_received"`
	SubscriptionRequests []SubReqRec       `json:"subscription_requests"`
	TrackSettings        []TrackSettingRec `json:"track_settings"`
	RefreshTokensSent    int               `json:"refresh_tokens_sent"`
	UpdatesSent          int               `json:"updates_sent"`
	SpeakerUpdatesSent   int               `json:"speaker_updates_sent"`
}

type RTCPRec struct {
	RR   int `json:"rr"`
	SR   int `json:"sr"`
	NACK int `json:"nack"`
	PLI  int `json:"pli"`
	FIR  int `json:"fir"`
	REMB int `json:"remb"`
	TWCC int `json:"twcc"`
}

type TrackStatRec struct {
	Participant       string `json:"participant"`
	Name              string `json:"name"`
	Kind              string `json:"kind"`
	Codec             string `json:"codec"`
	PacketsSent       int    `json:"packets_sent"`
	BytesSent         int    `json:"bytes_sent"`
	KeyframesSent     int    `json:"keyframes_sent"`
	PLI               int    `json:"pli"`
	FIR               int    `json:"fir"`
	NACK              int    `json:"nack"`
	NACKPacketsResent int    `json:"nack_packets_resent"`
	Layer             string `json:"layer"`
	LayerSwitches     int    `json:"layer_switches"`
	Paused            bool   `json:"paused"`
	Subscribed        bool   `json:"subscribed"`

	// Unix times (ms) of the first maxTimes PLIs received, keyframes sent and the room's
	// own keyframe requests (subscription start, layer switch, unpause, unmute): evidence
	// that each keyframe answered a request.
	PLITimes []int64 `json:"pli_times_ms,omitempty"`
	// Sender reports sent (Modes.SRMode/SRInterval).
	SRSent        int     `json:"sr_sent"`
	KeyframeTimes []int64 `json:"keyframe_times_ms,omitempty"`
	RequestTimes  []int64 `json:"keyframe_requests_ms,omitempty"`
}

type ClientRec struct {
	Identity      string                   `json:"identity"`
	Sid           string                   `json:"sid"`
	Name          string                   `json:"name"`
	Hidden        bool                     `json:"hidden"`
	Recorder      bool                     `json:"recorder"`
	Kind          string                   `json:"kind"`
	Protocol      int                      `json:"protocol"`
	SDK           string                   `json:"sdk"`
	Version       string                   `json:"version"`
	AutoSubscribe bool                     `json:"auto_subscribe"`
	Adaptive      bool                     `json:"adaptive_stream"`
	ClosedReason  string                   `json:"closed_reason"`
	Sessions      []*SessionRec            `json:"sessions"`
	RTCP          RTCPRec                  `json:"rtcp"`
	Tracks        map[string]*TrackStatRec `json:"tracks"`
}

type PubTrackRec struct {
	Sid            string `json:"sid"`
	Name           string `json:"name"`
	Codec          string `json:"codec"`
	PublishedAt    string `json:"published_at"`
	UnpublishedAt  string `json:"unpublished_at,omitempty"`
	PacketsIn      int    `json:"packets_in"`
	KeyframesForce int    `json:"keyframes_forced"`
	// Send path (Modes.SendJitter/SendHoldEvery): holds and their total length, the
	// longest delay a packet got, packets dropped because the queue was full.
	Holds          int `json:"send_holds"`
	HoldMs         int `json:"send_hold_ms"`
	MaxSendDelayMs int `json:"max_send_delay_ms"`
	SendQueueDrops int `json:"send_queue_drops"`
}

type PublisherRec struct {
	Identity string         `json:"identity"`
	Sid      string         `json:"sid"`
	JoinedAt string         `json:"joined_at"`
	LeftAt   string         `json:"left_at,omitempty"`
	ClockPPM int            `json:"clock_ppm"`
	Tracks   []*PubTrackRec `json:"tracks"`
}

type Report struct {
	Room       string          `json:"room"`
	Modes      *ModesRec       `json:"modes"`
	StartedAt  string          `json:"started_at"`
	WrittenAt  string          `json:"written_at"`
	Rejected   []Rejected      `json:"rejected"`
	Clients    []*ClientRec    `json:"clients"`
	Publishers []*PublisherRec `json:"publishers"`
	Errors     []string        `json:"errors"`
}

var report = &Report{Rejected: []Rejected{}, Clients: []*ClientRec{}, Publishers: []*PublisherRec{}, Errors: []string{}}

func reportError(format string, args ...interface{}) {
	warnf(format, args...)
	repMu.Lock()
	report.Errors = append(report.Errors, time.Now().UTC().Format(time.RFC3339)+" "+sprintf(format, args...))
	repMu.Unlock()
}

func reportJSON() []byte {
	repMu.Lock()
	defer repMu.Unlock()
	report.WrittenAt = rfc3339(time.Now())
	b, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return []byte(`{"error":"marshal"}`)
	}
	return append(b, '\n')
}

func writeReport(path string) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, reportJSON(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func newSessionRec(index int, resume bool) *SessionRec {
	return &SessionRec{Index: index, Resume: resume, JoinedAt: rfc3339(time.Now()),
		Offers: []OfferRec{}, Answers: []AnswerRec{}, CandidatesReceived: []string{},
		CandidatesSent: []string{}, DataChannelsOpen: []string{}, LeavesSent: []LeaveRec{},
		SubscriptionRequests: []SubReqRec{}, TrackSettings: []TrackSettingRec{}, ICEState: "new",
		DTLSState: "new", PCState: "new"}
}
