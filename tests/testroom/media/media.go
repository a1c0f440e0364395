// Package media produces the test room's synthetic participants' media: real encoded
// VP8/H264 video and Opus audio from live GStreamer pipelines (through cgo), delivered
// as serialized RTP packets in real time.
//
// Each Source is one pipeline: videotestsrc (scrolling SMPTE bars) → I420 caps → textoverlay
// (Label) → timeoverlay (running clock) → vp8enc|x264enc → rtpvp8pay|rtph264pay →
// appsink, or audiotestsrc (sine) → opusenc → rtpopuspay → appsink. The appsink syncs
// on the clock, so packets leave at their capture time plus a fixed pipeline latency
// (100 ms, the same for every pipeline), and the payloaders derive RTP timestamps from
// the capture running time: RTP time follows the wall clock, and a sender report built
// from "now ↔ last RTP timestamp" lines a participant's audio and video up.
//
// Clock and flash mode: every pipeline uses one private GstSystemClock on
// CLOCK_REALTIME, so base time + running time of a buffer is its Unix capture time,
// shared by all pipelines of the process. In Flash mode a pad probe on the test source
// makes the frame whose midpoint falls in [k·2s, k·2s+100ms) (measured from
// Config.Epoch, default the Unix epoch, i.e. even wall-clock seconds) a full white
// frame, and the audio probe zeroes every sample outside those same windows (sample
// exact). The video frames are moved (by less than a frame) onto the windows' frame
// grid (epoch + n/FPS), so the first white frame starts exactly at the window's start,
// as the tone does. Audio and video of one participant are separate Sources but flash at the
// same media instants because both decide from buffer PTS against the same clock.
//
// Threads: onPacket runs on a GStreamer streaming thread. Stop may be called from any
// goroutine, including from inside onPacket (then the teardown finishes
// asynchronously; no further packets are delivered either way). Pipeline errors are
// logged and stop the source.
package media

/*
#cgo pkg-config: gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0
#include <stdlib.h>
#include "source.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"log"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Config describes one synthetic track.
type Config struct {
	Kind               string // "video" | "audio" (inferred from Codec when empty)
	Codec              string // "VP8" | "H264" | "opus" (case-insensitive)
	Label              string // text drawn on video (participant name); also used in logs
	Width, Height, FPS int    // video; defaults 640x360@30
	BitrateKbps        int    // video target bitrate, default 600; audio: opus bitrate, default 64
	ToneHz             int    // audio: sine frequency; default 440
	// Flash: lip-sync test pattern. Every 2 s from Epoch, video shows a full white
	// frame for ~100 ms and audio plays the tone only then (silence otherwise).
	Flash       bool
	Epoch       time.Time // origin of the flash windows; zero = Unix epoch (even seconds)
	PayloadType uint8     // default 96 (VP8), 102 (H264), 111 (opus) when 0
	SSRC        uint32
	MTU         int // max RTP packet size, default 1200
	// Video picture: Pattern "" = scrolling SMPTE bars, "ball" = a white ball moving on a
	// Color (0xRRGGBB) background.
	Pattern string
	Color   uint32
	// KeyframeIntervalS: seconds between the encoder's own keyframes; 0 = 3 s.
	KeyframeIntervalS float64
	// ClockPPM: the publisher's capture clock runs this many parts per million fast
	// (negative: slow) against the room's clock: frames and audio samples are captured
	// that much more often in real time, and RTP timestamps still advance by the nominal
	// rate per frame/sample (1000 = 0.1 % fast). Flash windows follow the publisher's clock.
	ClockPPM int
	// Counter (video): draw the number of the frame (0, 1, 2, ... as captured) as a bar
	// code: 20 equal cells across the full width between 70 % and 80 % of the height,
	// white (1) or black (0): guards 1 0, the 16-bit Gray code of the number (most
	// significant bit first), an even parity cell over those 16, a guard 1.
	// tests/tools/rr-analyze --sync reads it.
	Counter bool
}

// Source is one running pipeline.
type Source struct {
	cfg      Config
	c        *C.RrMediaSource
	handle   cgo.Handle
	onPacket func(pkt []byte, capture time.Time)
	stopped  atomic.Bool
	once     sync.Once
	cMu      sync.RWMutex // held for writing while s.c is freed
	freed    bool
	done     chan struct{}
	busDone  chan struct{}
}

// FlashPeriod and FlashLength describe the flash windows of Config.Flash.
const (
	FlashPeriod = 2 * time.Second
	FlashLength = 100 * time.Millisecond
)

// CheckPattern validates Config.Pattern.
func CheckPattern(p string) error {
	switch p {
	case "", "smpte", "ball":
		return nil
	}
	return fmt.Errorf("media: unknown video pattern %q (smpte, ball)", p)
}

// ParseColor parses "0xRRGGBB" or "#RRGGBB" ("" is black).
func ParseColor(s string) (uint32, error) {
	if s == "" {
		return 0, nil
	}
	h := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(s), "0x"), "#")
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil || len(h) != 6 {
		return 0, fmt.Errorf("media: bad colour %q (want 0xRRGGBB)", s)
	}
	return uint32(v), nil
}

// Init initialises GStreamer once (safe to call many times, from any goroutine).
func Init() { C.rr_media_init() }

func (c *Config) normalize() error {
	switch strings.ToUpper(c.Codec) {
	case "VP8":
		c.Codec = "VP8"
	case "H264":
		c.Codec = "H264"
	case "OPUS":
		c.Codec = "opus"
	default:
		return fmt.Errorf("media: unsupported codec %q", c.Codec)
	}
	want := "video"
	if c.Codec == "opus" {
		want = "audio"
	}
	if c.Kind == "" {
		c.Kind = want
	}
	if c.Kind != want {
		return fmt.Errorf("media: codec %s is not a %s codec", c.Codec, c.Kind)
	}
	if c.Width == 0 {
		c.Width = 640
	}
	if c.Height == 0 {
		c.Height = 360
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.Width < 16 || c.Height < 16 || c.Width > 4096 || c.Height > 4096 ||
		c.Width%2 != 0 || c.Height%2 != 0 {
		return fmt.Errorf("media: bad video size %dx%d", c.Width, c.Height)
	}
	if c.FPS < 1 || c.FPS > 120 {
		return fmt.Errorf("media: bad frame rate %d", c.FPS)
	}
	if c.BitrateKbps == 0 {
		if c.Kind == "video" {
			c.BitrateKbps = 600
		} else {
			c.BitrateKbps = 64
		}
	}
	if c.BitrateKbps < 6 || c.BitrateKbps > 50000 {
		return fmt.Errorf("media: bad bitrate %d kbps", c.BitrateKbps)
	}
	if c.ToneHz == 0 {
		c.ToneHz = 440
	}
	if c.ToneHz < 20 || c.ToneHz > 20000 {
		return fmt.Errorf("media: bad tone frequency %d Hz", c.ToneHz)
	}
	if err := CheckPattern(c.Pattern); err != nil {
		return err
	}
	if c.Color > 0xffffff {
		return fmt.Errorf("media: bad colour %#x", c.Color)
	}
	if c.ClockPPM < -100000 || c.ClockPPM > 100000 {
		return fmt.Errorf("media: clock skew %d ppm out of -100000..100000", c.ClockPPM)
	}
	if c.MTU == 0 {
		c.MTU = 1200
	}
	if c.MTU < 200 || c.MTU > 9000 {
		return fmt.Errorf("media: bad MTU %d", c.MTU)
	}
	if c.PayloadType == 0 {
		c.PayloadType = map[string]uint8{"VP8": 96, "H264": 102, "opus": 111}[c.Codec]
	}
	if c.PayloadType > 127 {
		return fmt.Errorf("media: bad payload type %d", c.PayloadType)
	}
	return nil
}

// pipelineDesc builds the gst_parse_launch description of a normalized config.
func pipelineDesc(c *Config) string {
	pay := fmt.Sprintf("pt=%d ssrc=%d mtu=%d", c.PayloadType, c.SSRC, c.MTU)
	sink := "appsink name=sink sync=true drop=false max-buffers=256 emit-signals=false"
	if c.Kind == "audio" {
		return fmt.Sprintf("audiotestsrc name=src is-live=true wave=sine freq=%d volume=0.4 "+
			"samplesperbuffer=960 ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! "+
			"opusenc frame-size=20 bitrate=%d ! rtpopuspay name=pay %s ! %s",
			c.ToneHz, c.BitrateKbps*1000, pay, sink)
	}
	keyint := 3 * c.FPS
	if c.KeyframeIntervalS > 0 {
		keyint = int(c.KeyframeIntervalS * float64(c.FPS))
		if keyint < 1 {
			keyint = 1
		}
	}
	picture := "pattern=smpte horizontal-speed=4"
	if c.Pattern == "ball" {
		// A white ball on dark colours, a black one on light colours: enough contrast
		// for the motion to show in a recording.
		r, g, b := (c.Color>>16)&0xff, (c.Color>>8)&0xff, c.Color&0xff
		fg := uint32(0xffffffff)
		if 299*r+587*g+114*b > 140*1000 {
			fg = 0xff000000
		}
		picture = fmt.Sprintf("pattern=ball motion=wavy background-color=%d foreground-color=%d",
			0xff000000|c.Color, fg)
	}
	src := fmt.Sprintf("videotestsrc name=src is-live=true %s ! "+
		"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1 ! "+
		"textoverlay name=label font-desc=\"Sans Bold 28\" valignment=top halignment=left "+
		"shaded-background=true ! timeoverlay font-desc=\"Sans 14\" valignment=bottom halignment=right",
		picture, c.Width, c.Height, c.FPS)
	var enc string
	if c.Codec == "VP8" {
		enc = fmt.Sprintf("vp8enc name=enc deadline=1 cpu-used=16 threads=1 lag-in-frames=0 "+
			"keyframe-max-dist=%d end-usage=cbr target-bitrate=%d error-resilient=default ! "+
			"rtpvp8pay name=pay picture-id-mode=15-bit %s", keyint, c.BitrateKbps*1000, pay)
	} else {
		enc = fmt.Sprintf("x264enc name=enc tune=zerolatency speed-preset=ultrafast "+
			"key-int-max=%d bitrate=%d threads=1 ! "+
			"video/x-h264,profile=constrained-baseline,stream-format=byte-stream ! "+
			"rtph264pay name=pay config-interval=-1 aggregate-mode=zero-latency %s",
			keyint, c.BitrateKbps, pay)
	}
	return src + " ! " + enc + " ! " + sink
}

// Start builds and plays a live pipeline and calls onPacket for each RTP packet (a
// complete serialized RTP packet, fresh slice the callback may keep) from a
// streaming thread.
func Start(cfg Config, onPacket func(pkt []byte)) (*Source, error) {
	if onPacket == nil {
		return nil, errors.New("media: onPacket is nil")
	}
	return StartTimed(cfg, func(pkt []byte, _ time.Time) { onPacket(pkt) })
}

// StartTimed is Start with each packet's capture time: the instant its frame or audio
// block was captured, in the room's (real) clock, also with Config.ClockPPM set.
func StartTimed(cfg Config, onPacket func(pkt []byte, capture time.Time)) (*Source, error) {
	if onPacket == nil {
		return nil, errors.New("media: onPacket is nil")
	}
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	Init()
	s := &Source{cfg: cfg, onPacket: onPacket, done: make(chan struct{}),
		busDone: make(chan struct{})}
	s.handle = cgo.NewHandle(s)
	desc := C.CString(pipelineDesc(&cfg))
	defer C.free(unsafe.Pointer(desc))
	label := C.CString(cfg.Label)
	defer C.free(unsafe.Pointer(label))
	kind := C.int(C.RR_MEDIA_VIDEO)
	if cfg.Kind == "audio" {
		kind = C.RR_MEDIA_AUDIO
	}
	flash := C.int(0)
	if cfg.Flash {
		flash = 1
	}
	var epoch int64
	if !cfg.Epoch.IsZero() {
		epoch = cfg.Epoch.UnixNano()
	}
	var cerr *C.char
	counter := C.int(0)
	if cfg.Counter {
		counter = 1
	}
	s.c = C.rr_media_source_new(desc, kind, label, flash, C.int(cfg.FPS), C.int64_t(epoch),
		C.int(cfg.ClockPPM), counter, C.uintptr_t(s.handle), &cerr)
	if s.c == nil {
		s.handle.Delete()
		return nil, fmt.Errorf("media %s: %s", cfg.Label, takeCString(cerr))
	}
	go s.watchBus()
	if C.rr_media_source_play(s.c, &cerr) != 0 {
		err := fmt.Errorf("media %s: %s", cfg.Label, takeCString(cerr))
		s.Stop()
		return nil, err
	}
	return s, nil
}

func takeCString(p *C.char) string {
	if p == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

func (s *Source) watchBus() {
	defer close(s.busDone)
	for !s.stopped.Load() {
		var text *C.char
		switch C.rr_media_source_poll_bus(s.c, 200, &text) {
		case C.RR_MEDIA_BUS_ERROR:
			log.Printf("media %s (%s): pipeline error: %s; stopping", s.cfg.Label, s.cfg.Codec,
				takeCString(text))
			go s.Stop()
			return
		case C.RR_MEDIA_BUS_WARNING:
			log.Printf("media %s (%s): pipeline warning: %s", s.cfg.Label, s.cfg.Codec,
				takeCString(text))
		case C.RR_MEDIA_BUS_EOS:
			log.Printf("media %s (%s): unexpected end of stream; stopping", s.cfg.Label, s.cfg.Codec)
			go s.Stop()
			return
		}
	}
}

//export rrMediaGoPacket
func rrMediaGoPacket(h C.uintptr_t, data unsafe.Pointer, n C.int, captureNs C.longlong) {
	s := cgo.Handle(h).Value().(*Source)
	if s.stopped.Load() {
		return
	}
	capture := time.Now()
	if captureNs > 0 {
		capture = time.Unix(0, int64(captureNs))
	}
	s.onPacket(C.GoBytes(data, n), capture)
}

// ForceKeyframe asks the encoder to make the next video frame a keyframe (with
// SPS/PPS for H264), e.g. on PLI/FIR. No-op for audio or after Stop.
func (s *Source) ForceKeyframe() {
	if s.cfg.Kind != "video" {
		return
	}
	s.cMu.RLock()
	defer s.cMu.RUnlock()
	if !s.freed && !s.stopped.Load() {
		C.rr_media_source_force_keyframe(s.c)
	}
}

// SetSpeaking switches the audio tone on or off; off sends silence, packets keep
// flowing. In Flash mode the tone still plays only inside the flash windows.
func (s *Source) SetSpeaking(on bool) {
	if s.cfg.Kind != "audio" {
		return
	}
	v := C.int(0)
	if on {
		v = 1
	}
	s.cMu.RLock()
	defer s.cMu.RUnlock()
	if !s.freed {
		C.rr_media_source_set_speaking(s.c, v)
	}
}

// Config returns the normalized configuration (defaults filled in).
func (s *Source) Config() Config { return s.cfg }

// Done is closed once the source has stopped (by Stop or after a pipeline error).
func (s *Source) Done() <-chan struct{} { return s.done }

// Stop stops the pipeline. Idempotent and safe from any goroutine; when it returns,
// onPacket is not called again. Called from inside onPacket it returns at once and
// the pipeline is torn down in the background.
func (s *Source) Stop() {
	inCallback := C.rr_media_source_in_callback(s.c) != 0
	s.once.Do(func() {
		s.stopped.Store(true)
		C.rr_media_source_mark_stopped(s.c)
		if inCallback {
			go s.teardown()
		} else {
			s.teardown()
		}
	})
	if !inCallback {
		<-s.done
	}
}

func (s *Source) teardown() {
	C.rr_media_source_stop(s.c)
	C.rr_media_source_wake_bus(s.c)
	<-s.busDone
	s.cMu.Lock()
	s.freed = true
	C.rr_media_source_free(s.c)
	s.cMu.Unlock()
	s.handle.Delete()
	close(s.done)
}
