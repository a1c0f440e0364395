package main

// A synthetic participant's published track: one media.Source per layer (the main
// layer is HIGH, scenario "simulcast" entries add LOW/MEDIUM), fanned out to every
// subscribed DownTrack.

import (
	"fmt"
	"strings"
	"sync"
	"time"

	lk "roomrec/lkproto"
	"roomrec/testroom/media"
)

type Layer struct {
	Quality int
	Width   int
	Height  int
	Bitrate int
	SSRC    uint32
	src     *media.Source
}

type PubTrack struct {
	Sid     string
	Spec    TrackSpec
	Owner   *SynthParticipant
	Layers  []*Layer // sorted LOW..HIGH
	rec     *PubTrackRec
	mu      sync.Mutex
	muted   bool
	downs   map[*DownTrack]struct{}
	stopped bool
	path    *sendPath
}

func (t *PubTrack) isVideo() bool { return t.Spec.Kind == "video" }

func (t *PubTrack) mime() string {
	switch t.Spec.Codec {
	case "VP8":
		return "video/VP8"
	case "H264":
		return "video/H264"
	}
	return "audio/opus"
}

func newPubTrack(owner *SynthParticipant, spec TrackSpec) *PubTrack {
	t := &PubTrack{Sid: newID("TR_"), Spec: spec, Owner: owner, downs: map[*DownTrack]struct{}{}}
	if spec.Kind == "video" {
		for _, l := range spec.Simulcast {
			q, _ := qualityValue(l.Quality)
			t.Layers = append(t.Layers, &Layer{Quality: q, Width: l.Width, Height: l.Height, Bitrate: l.Bitrate, SSRC: randUint32()})
		}
		t.Layers = append(t.Layers, &Layer{Quality: qualityHigh, Width: spec.Width, Height: spec.Height, Bitrate: spec.Bitrate, SSRC: randUint32()})
		// sort by quality (few layers: insertion sort)
		for i := 1; i < len(t.Layers); i++ {
			for j := i; j > 0 && t.Layers[j].Quality < t.Layers[j-1].Quality; j-- {
				t.Layers[j], t.Layers[j-1] = t.Layers[j-1], t.Layers[j]
			}
		}
	} else {
		t.Layers = []*Layer{{Quality: qualityHigh, SSRC: randUint32()}}
	}
	t.rec = &PubTrackRec{Sid: t.Sid, Name: spec.Name, Codec: spec.Codec, PublishedAt: rfc3339(time.Now())}
	t.path = newSendPath(modes, t.rec, int64(randUint32()), t.onPacket)
	return t
}

// start launches one pipeline per layer.
func (t *PubTrack) start(speaking bool) error {
	for i, l := range t.Layers {
		idx := i
		mc := media.Config{Kind: t.Spec.Kind, Codec: t.Spec.Codec, Label: t.Owner.Name,
			FPS: t.Spec.FPS, Flash: t.Spec.Flash, ToneHz: t.Spec.ToneHz, SSRC: l.SSRC,
			Pattern: t.Spec.Pattern, KeyframeIntervalS: t.Spec.KeyframeInterval,
			ClockPPM: t.Owner.ClockPPM, Counter: t.Spec.Counter}
		mc.Color, _ = media.ParseColor(t.Spec.Color) // checked by normalizeTrack
		if t.isVideo() {
			mc.Width, mc.Height, mc.BitrateKbps = l.Width, l.Height, l.Bitrate
			if len(t.Layers) > 1 {
				mc.Label = fmt.Sprintf("%s %s", t.Owner.Name, qualityName(l.Quality))
			}
		}
		src, err := media.StartTimed(mc, func(pkt []byte, capture time.Time) {
			t.path.push(idx, pkt, capture)
		})
		if err != nil {
			t.stop()
			return err
		}
		if !t.isVideo() {
			src.SetSpeaking(speaking)
		}
		t.mu.Lock()
		l.src = src
		t.mu.Unlock()
	}
	return nil
}

func (t *PubTrack) stop() {
	t.mu.Lock()
	t.stopped = true
	var srcs []*media.Source
	for _, l := range t.Layers {
		if l.src != nil {
			srcs = append(srcs, l.src)
		}
	}
	t.mu.Unlock()
	for _, s := range srcs {
		s.Stop()
	}
	t.path.close()
}

func (t *PubTrack) setSpeaking(on bool) {
	if t.isVideo() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.Layers {
		if l.src != nil {
			l.src.SetSpeaking(on)
		}
	}
}

func (t *PubTrack) setMuted(m bool) {
	t.mu.Lock()
	t.muted = m
	downs := t.downSnapshotLocked()
	t.mu.Unlock()
	if !m {
		for _, d := range downs {
			d.requestKeyframe()
		}
	}
}

func (t *PubTrack) isMuted() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.muted
}

func (t *PubTrack) downSnapshotLocked() []*DownTrack {
	out := make([]*DownTrack, 0, len(t.downs))
	for d := range t.downs {
		out = append(out, d)
	}
	return out
}

func (t *PubTrack) addDown(d *DownTrack) {
	t.mu.Lock()
	t.downs[d] = struct{}{}
	t.mu.Unlock()
}

func (t *PubTrack) removeDown(d *DownTrack) {
	t.mu.Lock()
	delete(t.downs, d)
	t.mu.Unlock()
}

// forceKeyframe asks layer idx's encoder for a keyframe.
func (t *PubTrack) forceKeyframe(idx int) {
	t.mu.Lock()
	var src *media.Source
	if idx >= 0 && idx < len(t.Layers) {
		src = t.Layers[idx].src
	}
	t.mu.Unlock()
	if src != nil && t.isVideo() {
		src.ForceKeyframe()
		repMu.Lock()
		t.rec.KeyframesForce++
		repMu.Unlock()
	}
}

// onPacket fans a packet out to the down tracks (from a streaming thread or the send
// path's goroutine); capture is when its media was captured, on the room's clock.
func (t *PubTrack) onPacket(layer int, pkt []byte, capture time.Time) {
	if len(pkt) < 12 {
		return
	}
	t.mu.Lock()
	if t.stopped || t.muted {
		t.mu.Unlock()
		return
	}
	downs := t.downSnapshotLocked()
	t.mu.Unlock()
	repMu.Lock()
	t.rec.PacketsIn++
	repMu.Unlock()
	key := false
	if t.isVideo() {
		if payload, ok := rtpPayload(pkt); ok {
			key = media.IsKeyframe(t.Spec.Codec, payload)
		}
	}
	for _, d := range downs {
		d.writePacket(layer, pkt, key, capture)
	}
}

// layerFor picks the layer index for a requested quality: the best layer not above
// it, else the lowest.
func (t *PubTrack) layerFor(quality int) int {
	best := 0
	for i, l := range t.Layers {
		if l.Quality <= quality {
			best = i
		}
	}
	return best
}

// layerForSize picks the smallest layer at least as large as w x h (else the largest).
func (t *PubTrack) layerForSize(w, h uint32) int {
	for i, l := range t.Layers {
		if uint32(l.Width) >= w && uint32(l.Height) >= h {
			return i
		}
	}
	return len(t.Layers) - 1
}

func qualityName(q int) string {
	return lk.VideoQuality(q).String()
}

// info is the TrackInfo sent in participant updates.
func (t *PubTrack) info() *lk.TrackInfo {
	t.mu.Lock()
	muted := t.muted
	t.mu.Unlock()
	src, _ := sourceValue(t.Spec.Source)
	ti := &lk.TrackInfo{Sid: t.Sid, Name: t.Spec.Name, Muted: muted, Source: lk.TrackSource(src),
		MimeType: t.mime(), Stream: strings.ToLower(t.Spec.Source)}
	if t.isVideo() {
		ti.Type = lk.TrackType_VIDEO
		ti.Width, ti.Height = uint32(t.Spec.Width), uint32(t.Spec.Height)
		ti.Simulcast = len(t.Layers) > 1
		for _, l := range t.Layers {
			ti.Layers = append(ti.Layers, &lk.VideoLayer{Quality: lk.VideoQuality(l.Quality),
				Width: uint32(l.Width), Height: uint32(l.Height), Bitrate: uint32(l.Bitrate * 1000), Ssrc: l.SSRC})
		}
	} else {
		ti.Type = lk.TrackType_AUDIO
		ti.DisableDtx = true
	}
	ti.Codecs = []*lk.SimulcastCodecInfo{{MimeType: ti.MimeType, Mid: ti.Mid, Layers: ti.Layers}}
	return ti
}

// rtpPayload returns the payload of a serialized RTP packet.
func rtpPayload(b []byte) ([]byte, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, false
	}
	cc := int(b[0] & 0x0f)
	off := 12 + 4*cc
	if len(b) < off {
		return nil, false
	}
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return nil, false
		}
		extLen := int(b[off+2])<<8 | int(b[off+3])
		off += 4 + 4*extLen
		if len(b) < off {
			return nil, false
		}
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		pad := int(b[end-1])
		if pad == 0 || end-pad < off {
			return nil, false
		}
		end -= pad
	}
	return b[off:end], true
}
