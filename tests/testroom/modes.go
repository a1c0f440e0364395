package main

// Timing modes that reproduce what real servers and publishers do to a recorder's
// timing (issue 13): how the room's RTCP sender reports pair RTP and NTP time and how
// often they come, send-side jitter and bursts (the room delays and holds packets in
// its own send path: the kernel here has no netem), and publishers whose capture clock
// runs fast. Set by flags, or by the scenario's "modes" object (a flag given on the
// command line wins); the effective modes are in the report ("modes").

import (
	"flag"
	"fmt"
	"time"
)

const (
	// SRCapture: a report pairs an RTP time with the instant that media was captured
	// (on the room's clock), extrapolated to the report's send time: exact lip sync.
	SRCapture = "capture"
	// SRSendJitter: a report pairs the RTP time of the last packet sent with that
	// packet's send time plus uniform jitter in ±SRJitter (what some SFUs do).
	SRSendJitter = "send-jitter"
)

// Modes are the effective timing modes.
type Modes struct {
	SRMode     string
	SRInterval time.Duration // 0 = no sender reports at all
	SRJitter   time.Duration
	// SendJitter: each packet is delayed by a uniform 0..SendJitter in the room's send
	// path, order kept per track.
	SendJitter time.Duration
	// SendHoldEvery: about every SendHoldEvery (uniform 0.5..1.5 ×) a track's packets are
	// held for SendHoldMin..SendHoldMax, then sent in one burst. 0 = never.
	SendHoldEvery time.Duration
	SendHoldMin   time.Duration
	SendHoldMax   time.Duration
	// ClockPPM: default publisher clock skew (a participant's "clock_ppm" wins).
	ClockPPM int
}

// ModesSpec is the scenario's "modes" object (all optional).
type ModesSpec struct {
	SRMode          *string  `json:"sr_mode,omitempty"`
	SRIntervalS     *float64 `json:"sr_interval_s,omitempty"`
	SRJitterMs      *float64 `json:"sr_jitter_ms,omitempty"`
	SendJitterMs    *float64 `json:"send_jitter_ms,omitempty"`
	SendHoldEveryS  *float64 `json:"send_hold_every_s,omitempty"`
	SendHoldMinMs   *float64 `json:"send_hold_min_ms,omitempty"`
	SendHoldMaxMs   *float64 `json:"send_hold_max_ms,omitempty"`
	PublisherClkPPM *int     `json:"clock_ppm,omitempty"`
}

// ModesRec is the report's record of the effective modes.
type ModesRec struct {
	SRMode          string  `json:"sr_mode"`
	SRIntervalMs    float64 `json:"sr_interval_ms"`
	SRJitterMs      float64 `json:"sr_jitter_ms"`
	SendJitterMs    float64 `json:"send_jitter_ms"`
	SendHoldEveryMs float64 `json:"send_hold_every_ms"`
	SendHoldMinMs   float64 `json:"send_hold_min_ms"`
	SendHoldMaxMs   float64 `json:"send_hold_max_ms"`
	ClockPPM        int     `json:"clock_ppm"`
}

var modes = Modes{SRMode: SRCapture, SRInterval: time.Second, SRJitter: 30 * time.Millisecond,
	SendHoldMin: 100 * time.Millisecond, SendHoldMax: 200 * time.Millisecond}

func registerModeFlags(fs *flag.FlagSet, m *Modes) {
	fs.StringVar(&m.SRMode, "sr-mode", m.SRMode, "sender reports: capture (RTP time ↔ capture time) | send-jitter (RTP time of the last packet ↔ its send time ± -sr-jitter)")
	fs.DurationVar(&m.SRInterval, "sr-interval", m.SRInterval, "sender report interval per track (0 = no sender reports)")
	fs.DurationVar(&m.SRJitter, "sr-jitter", m.SRJitter, "send-jitter sender reports: NTP time jitter, uniform ±this")
	fs.DurationVar(&m.SendJitter, "send-jitter", m.SendJitter, "delay each packet by a uniform 0..this in the send path, order kept per track (0 = off)")
	fs.DurationVar(&m.SendHoldEvery, "send-hold-every", m.SendHoldEvery, "about this often (0.5..1.5×), hold a track's packets for -send-hold-min..max, then burst (0 = off)")
	fs.DurationVar(&m.SendHoldMin, "send-hold-min", m.SendHoldMin, "shortest hold of -send-hold-every")
	fs.DurationVar(&m.SendHoldMax, "send-hold-max", m.SendHoldMax, "longest hold of -send-hold-every")
	fs.IntVar(&m.ClockPPM, "clock-ppm", m.ClockPPM, "publishers' capture clocks run this many ppm fast (1000 = 0.1 %), unless a participant sets clock_ppm")
}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// apply sets the modes the scenario gives, except those in set (flags given).
func (s *ModesSpec) apply(m *Modes, set map[string]bool) {
	if s == nil {
		return
	}
	if s.SRMode != nil && !set["sr-mode"] {
		m.SRMode = *s.SRMode
	}
	if s.SRIntervalS != nil && !set["sr-interval"] {
		m.SRInterval = msDur(*s.SRIntervalS * 1000)
	}
	if s.SRJitterMs != nil && !set["sr-jitter"] {
		m.SRJitter = msDur(*s.SRJitterMs)
	}
	if s.SendJitterMs != nil && !set["send-jitter"] {
		m.SendJitter = msDur(*s.SendJitterMs)
	}
	if s.SendHoldEveryS != nil && !set["send-hold-every"] {
		m.SendHoldEvery = msDur(*s.SendHoldEveryS * 1000)
	}
	if s.SendHoldMinMs != nil && !set["send-hold-min"] {
		m.SendHoldMin = msDur(*s.SendHoldMinMs)
	}
	if s.SendHoldMaxMs != nil && !set["send-hold-max"] {
		m.SendHoldMax = msDur(*s.SendHoldMaxMs)
	}
	if s.PublisherClkPPM != nil && !set["clock-ppm"] {
		m.ClockPPM = *s.PublisherClkPPM
	}
}

func (m *Modes) check() error {
	switch m.SRMode {
	case SRCapture, SRSendJitter:
	default:
		return fmt.Errorf("sr-mode: %q is neither %s nor %s", m.SRMode, SRCapture, SRSendJitter)
	}
	if m.SRInterval < 0 || (m.SRInterval > 0 && m.SRInterval < 10*time.Millisecond) || m.SRInterval > time.Hour {
		return fmt.Errorf("sr-interval: %v out of 0 or 10ms..1h", m.SRInterval)
	}
	if m.SRJitter < 0 || m.SRJitter > 10*time.Second {
		return fmt.Errorf("sr-jitter: %v out of 0..10s", m.SRJitter)
	}
	if m.SendJitter < 0 || m.SendJitter > 10*time.Second {
		return fmt.Errorf("send-jitter: %v out of 0..10s", m.SendJitter)
	}
	if m.SendHoldEvery < 0 || m.SendHoldEvery > time.Hour {
		return fmt.Errorf("send-hold-every: %v out of 0..1h", m.SendHoldEvery)
	}
	if m.SendHoldMin < 0 || m.SendHoldMax < m.SendHoldMin || m.SendHoldMax > 10*time.Second {
		return fmt.Errorf("send-hold-min/max: %v..%v not an interval within 0..10s", m.SendHoldMin, m.SendHoldMax)
	}
	if m.SendHoldEvery > 0 && m.SendHoldEvery <= m.SendHoldMax {
		return fmt.Errorf("send-hold-every: %v not longer than send-hold-max %v", m.SendHoldEvery, m.SendHoldMax)
	}
	if err := checkPPM(m.ClockPPM); err != nil {
		return fmt.Errorf("clock-ppm: %w", err)
	}
	return nil
}

func checkPPM(ppm int) error {
	if ppm < -100000 || ppm > 100000 {
		return fmt.Errorf("%d out of -100000..100000", ppm)
	}
	return nil
}

func (m *Modes) record() *ModesRec {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &ModesRec{SRMode: m.SRMode, SRIntervalMs: ms(m.SRInterval), SRJitterMs: ms(m.SRJitter),
		SendJitterMs: ms(m.SendJitter), SendHoldEveryMs: ms(m.SendHoldEvery),
		SendHoldMinMs: ms(m.SendHoldMin), SendHoldMaxMs: ms(m.SendHoldMax), ClockPPM: m.ClockPPM}
}
