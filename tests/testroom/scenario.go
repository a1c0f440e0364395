package main

// The scenario file: the room name and its synthetic participants, their tracks and
// timed events (seconds since the room started).

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"roomrec/testroom/media"
)

// LayerSpec is one extra simulcast layer of a video track.
type LayerSpec struct {
	Quality string `json:"quality"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Bitrate int    `json:"bitrate"`
}

// TrackSpec describes a published track.
type TrackSpec struct {
	Name      string      `json:"name"`
	Kind      string      `json:"kind"`
	Codec     string      `json:"codec"`
	Source    string      `json:"source"`
	Width     int         `json:"width"`
	Height    int         `json:"height"`
	FPS       int         `json:"fps"`
	Bitrate   int         `json:"bitrate"`
	Simulcast []LayerSpec `json:"simulcast"`
	Flash     bool        `json:"flash"`
	ToneHz    int         `json:"tone_hz"`
	// Video picture: Pattern "" (scrolling SMPTE bars) or "ball" (a moving ball on a
	// Color background, so a recording can tell participants' tiles apart); Color is
	// "0xRRGGBB" or "#RRGGBB".
	Pattern string `json:"pattern,omitempty"`
	Color   string `json:"color,omitempty"`
	// KeyframeInterval: seconds between the encoder's own keyframes (0 = 3 s); a long one
	// (60) leaves keyframes to PLIs.
	KeyframeInterval float64 `json:"keyframe_interval,omitempty"`
	// Counter: video frames carry their frame number as a bar code (media.Config.Counter).
	Counter bool `json:"counter,omitempty"`
}

// EventSpec is one timed change. Track is a name for mute/unmute/unpublish and a
// TrackSpec object for publish.
type EventSpec struct {
	At       float64         `json:"at"`
	Until    float64         `json:"until"`
	Action   string          `json:"action"`
	Identity string          `json:"identity,omitempty"`
	Track    json.RawMessage `json:"track,omitempty"`

	trackName string
	trackSpec *TrackSpec
}

// ParticipantSpec is one synthetic participant.
type ParticipantSpec struct {
	Identity string      `json:"identity"`
	Name     string      `json:"name"`
	Metadata string      `json:"metadata"`
	JoinAt   float64     `json:"join_at"`
	Tracks   []TrackSpec `json:"tracks"`
	Events   []EventSpec `json:"events"`
	// ClockPPM: this publisher's capture clock runs this many ppm fast (see Modes).
	ClockPPM *int `json:"clock_ppm,omitempty"`
}

// Scenario is the whole file.
type Scenario struct {
	Room         string            `json:"room"`
	Modes        *ModesSpec        `json:"modes,omitempty"`
	Participants []ParticipantSpec `json:"participants"`
}

func loadScenario(path string) (*Scenario, error) {
	if path == "" {
		return &Scenario{Room: "demo"}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseScenario(data)
}

func parseScenario(data []byte) (*Scenario, error) {
	var s Scenario
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if s.Room == "" {
		s.Room = "demo"
	}
	seen := map[string]bool{}
	for i := range s.Participants {
		p := &s.Participants[i]
		if p.Identity == "" {
			return nil, fmt.Errorf("scenario: participant %d has no identity", i)
		}
		if seen[p.Identity] {
			return nil, fmt.Errorf("scenario: duplicate identity %q", p.Identity)
		}
		seen[p.Identity] = true
		if p.Name == "" {
			p.Name = p.Identity
		}
		if p.ClockPPM != nil {
			if err := checkPPM(*p.ClockPPM); err != nil {
				return nil, fmt.Errorf("scenario: %s: clock_ppm: %w", p.Identity, err)
			}
		}
		names := map[string]bool{}
		for j := range p.Tracks {
			if err := normalizeTrack(&p.Tracks[j]); err != nil {
				return nil, fmt.Errorf("scenario: %s: %w", p.Identity, err)
			}
			if names[p.Tracks[j].Name] {
				return nil, fmt.Errorf("scenario: %s: duplicate track %q", p.Identity, p.Tracks[j].Name)
			}
			names[p.Tracks[j].Name] = true
		}
		for j := range p.Events {
			if err := normalizeEvent(&p.Events[j]); err != nil {
				return nil, fmt.Errorf("scenario: %s event %d: %w", p.Identity, j, err)
			}
		}
	}
	return &s, nil
}

func normalizeTrack(t *TrackSpec) error {
	switch strings.ToUpper(t.Codec) {
	case "VP8":
		t.Codec = "VP8"
	case "H264":
		t.Codec = "H264"
	case "OPUS":
		t.Codec = "opus"
	case "":
		if t.Kind == "audio" {
			t.Codec = "opus"
		} else {
			t.Codec = "VP8"
		}
	default:
		return fmt.Errorf("track %q: unsupported codec %q", t.Name, t.Codec)
	}
	want := "video"
	if t.Codec == "opus" {
		want = "audio"
	}
	if t.Kind == "" {
		t.Kind = want
	}
	if t.Kind != want {
		return fmt.Errorf("track %q: kind %q does not match codec %s", t.Name, t.Kind, t.Codec)
	}
	if t.Name == "" {
		t.Name = t.Kind
	}
	if t.Source == "" {
		if t.Kind == "audio" {
			t.Source = "microphone"
		} else {
			t.Source = "camera"
		}
	}
	if _, ok := sourceValue(t.Source); !ok {
		return fmt.Errorf("track %q: unknown source %q", t.Name, t.Source)
	}
	if t.Kind == "video" {
		if t.Width <= 0 {
			t.Width = 640
		}
		if t.Height <= 0 {
			t.Height = 360
		}
		if t.FPS <= 0 {
			t.FPS = 30
		}
		if t.Bitrate <= 0 {
			t.Bitrate = 600
		}
		for i := range t.Simulcast {
			l := &t.Simulcast[i]
			q, ok := qualityValue(l.Quality)
			if !ok || q == qualityHigh {
				return fmt.Errorf("track %q: simulcast layer quality must be LOW or MEDIUM", t.Name)
			}
			l.Quality = strings.ToUpper(l.Quality)
			if l.Width <= 0 || l.Height <= 0 {
				div := 2
				if q == qualityLow {
					div = 4
				}
				l.Width, l.Height = t.Width/div, t.Height/div
			}
			if l.Bitrate <= 0 {
				l.Bitrate = t.Bitrate / 3
			}
		}
	} else if len(t.Simulcast) > 0 {
		return fmt.Errorf("track %q: simulcast on audio", t.Name)
	}
	if _, err := media.ParseColor(t.Color); err != nil {
		return fmt.Errorf("track %q: %w", t.Name, err)
	}
	if err := media.CheckPattern(t.Pattern); err != nil {
		return fmt.Errorf("track %q: %w", t.Name, err)
	}
	if t.KeyframeInterval < 0 || t.KeyframeInterval > 3600 {
		return fmt.Errorf("track %q: keyframe_interval %v out of 0..3600 s", t.Name, t.KeyframeInterval)
	}
	return nil
}

func normalizeEvent(e *EventSpec) error {
	e.Action = strings.ToLower(e.Action)
	switch e.Action {
	case "publish":
		var ts TrackSpec
		if len(e.Track) == 0 || json.Unmarshal(e.Track, &ts) != nil {
			return fmt.Errorf("publish needs a track object")
		}
		if err := normalizeTrack(&ts); err != nil {
			return err
		}
		e.trackSpec = &ts
	case "unpublish", "mute", "unmute":
		if len(e.Track) == 0 || json.Unmarshal(e.Track, &e.trackName) != nil || e.trackName == "" {
			return fmt.Errorf("%s needs a track name", e.Action)
		}
	case "speak":
		if e.Until != 0 && e.Until < e.At {
			return fmt.Errorf("speak until %v before at %v", e.Until, e.At)
		}
	case "leave", "join":
	default:
		return fmt.Errorf("unknown action %q", e.Action)
	}
	if e.At < 0 {
		return fmt.Errorf("negative time")
	}
	return nil
}

const (
	qualityLow    = 0
	qualityMedium = 1
	qualityHigh   = 2
)

func qualityValue(s string) (int, bool) {
	switch strings.ToUpper(s) {
	case "LOW":
		return qualityLow, true
	case "MEDIUM":
		return qualityMedium, true
	case "HIGH", "":
		return qualityHigh, true
	}
	return 0, false
}

func sourceValue(s string) (int32, bool) {
	switch strings.ToLower(s) {
	case "unknown":
		return 0, true
	case "camera":
		return 1, true
	case "microphone":
		return 2, true
	case "screen_share":
		return 3, true
	case "screen_share_audio":
		return 4, true
	}
	return 0, false
}

// checkMedia refuses a scenario whose media this machine cannot make: every element the
// pipelines of its tracks (published at the start or by events) need must be installed.
// The error names each missing element, its package and the tracks that need it.
func (s *Scenario) checkMedia() error {
	var missing []string
	needers := map[string][]string{}
	check := func(p *ParticipantSpec, t *TrackSpec) error {
		els, err := media.MissingElements(media.Config{Kind: t.Kind, Codec: t.Codec,
			Pattern: t.Pattern})
		if err != nil {
			return fmt.Errorf("scenario: %s: track %q: %w", p.Identity, t.Name, err)
		}
		for _, e := range els {
			if needers[e] == nil {
				missing = append(missing, e)
			}
			needers[e] = append(needers[e], p.Identity+"/"+t.Name)
		}
		return nil
	}
	for i := range s.Participants {
		p := &s.Participants[i]
		for j := range p.Tracks {
			if err := check(p, &p.Tracks[j]); err != nil {
				return err
			}
		}
		for j := range p.Events {
			if ts := p.Events[j].trackSpec; ts != nil {
				if err := check(p, ts); err != nil {
					return err
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var uses []string
	for _, e := range missing {
		uses = append(uses, fmt.Sprintf("%s for %s", e, strings.Join(needers[e], ", ")))
	}
	return fmt.Errorf("scenario: cannot make its media: %s (needed: %s)",
		media.DescribeMissing(missing), strings.Join(uses, "; "))
}
