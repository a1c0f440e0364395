package main

// DownTrack is one subscriber's view of a PubTrack: a pion TrackLocal that forwards
// the selected layer's packets with the sender's SSRC and the negotiated payload type,
// rewriting sequence numbers and timestamps so that layer switches stay continuous
// (switching on a keyframe of the new layer), answering NACKs from a packet history,
// and dropping everything while paused (track_setting disabled) or muted. It also sends
// the track's RTCP sender reports as Modes says (srLoop).

import (
	"encoding/binary"
	"math/rand"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
)

const historySize = 1024

type DownTrack struct {
	pub    *PubTrack
	client *Client
	stats  *TrackStatRec

	mu      sync.Mutex
	bound   bool
	ssrc    uint32
	pt      uint8
	clock   uint32
	writer  webrtc.TrackLocalWriter
	sender  *webrtc.RTPSender
	cur     int // layer being forwarded, -1 = waiting for a keyframe of target
	target  int
	paused  bool
	started bool
	resync  bool
	lastSeq uint16
	lastTs  uint32
	lastAt  time.Time // when the last packet was sent
	lastCap time.Time // when the last packet's media was captured (room clock)
	packets uint32
	octets  uint32
	seqOff  uint16
	tsOff   uint32
	lastKey uint32
	anyKey  bool
	hist    [historySize][]byte
}

func newDownTrack(pub *PubTrack, c *Client, stats *TrackStatRec, layer int, paused bool) *DownTrack {
	d := &DownTrack{pub: pub, client: c, stats: stats, cur: -1, target: layer, paused: paused}
	if !pub.isVideo() {
		d.target = 0
	}
	return d
}

// ---- webrtc.TrackLocal ----

func (d *DownTrack) ID() string       { return d.pub.Sid }
func (d *DownTrack) RID() string      { return "" }
func (d *DownTrack) StreamID() string { return d.pub.Owner.Sid + "|" + d.pub.Sid }
func (d *DownTrack) Kind() webrtc.RTPCodecType {
	if d.pub.isVideo() {
		return webrtc.RTPCodecTypeVideo
	}
	return webrtc.RTPCodecTypeAudio
}

func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	var chosen *webrtc.RTPCodecParameters
	for _, c := range ctx.CodecParameters() {
		c := c
		if !strings.EqualFold(c.MimeType, d.pub.mime()) {
			continue
		}
		if d.pub.Spec.Codec == "H264" && !strings.Contains(c.SDPFmtpLine, "packetization-mode=1") {
			if chosen == nil {
				chosen = &c
			}
			continue
		}
		chosen = &c
		break
	}
	if chosen == nil {
		warnf("%s: no codec for %s among %+v", d.client.Identity, d.pub.mime(), ctx.CodecParameters())
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	d.bound = true
	d.ssrc = uint32(ctx.SSRC())
	d.pt = uint8(chosen.PayloadType)
	d.clock = chosen.ClockRate
	d.writer = ctx.WriteStream()
	d.cur = -1
	d.resync = true
	d.mu.Unlock()
	debugf("%s: bound %s ssrc %d pt %d", d.client.Identity, d.pub.Sid, d.ssrc, d.pt)
	d.requestKeyframe()
	return *chosen, nil
}

func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.bound = false
	d.writer = nil
	d.mu.Unlock()
	return nil
}

// ---- control ----

func (d *DownTrack) requestKeyframe() {
	if !d.pub.isVideo() {
		return
	}
	d.mu.Lock()
	t := d.target
	d.mu.Unlock()
	repMu.Lock()
	if len(d.stats.RequestTimes) < maxTimes {
		d.stats.RequestTimes = append(d.stats.RequestTimes, time.Now().UnixMilli())
	}
	repMu.Unlock()
	d.pub.forceKeyframe(t)
}

// setLayer selects the layer to forward (switch happens on its next keyframe).
func (d *DownTrack) setLayer(idx int) {
	if !d.pub.isVideo() {
		return
	}
	d.mu.Lock()
	changed := d.target != idx
	d.target = idx
	d.mu.Unlock()
	repMu.Lock()
	d.stats.Layer = qualityName(d.pub.Layers[idx].Quality)
	repMu.Unlock()
	if changed {
		d.requestKeyframe()
	}
}

func (d *DownTrack) setPaused(p bool) {
	d.mu.Lock()
	was := d.paused
	d.paused = p
	if was && !p {
		d.cur = -1
		d.resync = true
	}
	d.mu.Unlock()
	repMu.Lock()
	d.stats.Paused = p
	repMu.Unlock()
	if was && !p {
		d.requestKeyframe()
	}
}

// writePacket forwards one source packet (called from a streaming thread).
func (d *DownTrack) writePacket(layer int, pkt []byte, key bool, capture time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || d.paused || d.writer == nil {
		return
	}
	if d.pub.isVideo() {
		if d.target != d.cur && layer == d.target && key {
			if d.cur != -1 {
				repMu.Lock()
				d.stats.LayerSwitches++
				repMu.Unlock()
			}
			d.cur = d.target
			d.resync = true
		}
		if layer != d.cur {
			return
		}
	} else {
		d.cur = 0
	}
	seq := binary.BigEndian.Uint16(pkt[2:4])
	ts := binary.BigEndian.Uint32(pkt[4:8])
	now := time.Now()
	if d.resync {
		if d.started {
			delta := uint32(now.Sub(d.lastAt).Seconds() * float64(d.clock))
			if delta == 0 {
				delta = 1
			}
			d.seqOff = d.lastSeq + 1 - seq
			d.tsOff = d.lastTs + delta - ts
		}
		d.resync = false
		d.started = true
	}
	out := make([]byte, len(pkt))
	copy(out, pkt)
	oseq := seq + d.seqOff
	ots := ts + d.tsOff
	out[1] = out[1]&0x80 | d.pt&0x7f
	binary.BigEndian.PutUint16(out[2:4], oseq)
	binary.BigEndian.PutUint32(out[4:8], ots)
	binary.BigEndian.PutUint32(out[8:12], d.ssrc)
	if _, err := d.writer.Write(out); err != nil {
		return
	}
	d.hist[oseq%historySize] = out
	d.lastSeq, d.lastTs, d.lastAt, d.lastCap = oseq, ots, now, capture
	d.packets++
	if payload, ok := rtpPayload(out); ok {
		d.octets += uint32(len(payload))
	}
	newKey := key && (!d.anyKey || ots != d.lastKey)
	if newKey {
		d.anyKey = true
		d.lastKey = ots
	}
	repMu.Lock()
	d.stats.PacketsSent++
	d.stats.BytesSent += len(out)
	if newKey {
		d.stats.KeyframesSent++
		if len(d.stats.KeyframeTimes) < maxTimes {
			d.stats.KeyframeTimes = append(d.stats.KeyframeTimes, now.UnixMilli())
		}
	}
	repMu.Unlock()
}

// resend answers a NACK from the history; returns how many packets went out again.
func (d *DownTrack) resend(n *rtcp.TransportLayerNack) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil {
		return 0
	}
	count := 0
	for _, pair := range n.Nacks {
		for _, seq := range pair.PacketList() {
			p := d.hist[seq%historySize]
			if p == nil || binary.BigEndian.Uint16(p[2:4]) != seq {
				continue
			}
			if _, err := d.writer.Write(p); err == nil {
				count++
			}
		}
	}
	return count
}

// rtcpLoop reads the client's RTCP for this sender until the sender stops, and runs
// the track's sender reports meanwhile.
func (d *DownTrack) rtcpLoop(sender *webrtc.RTPSender, write func([]rtcp.Packet) error) {
	done := make(chan struct{})
	defer close(done)
	go d.srLoop(done, write)
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			d.handleRTCP(p)
		}
	}
}

func (d *DownTrack) handleRTCP(p rtcp.Packet) {
	c := d.client
	switch p := p.(type) {
	case *rtcp.ReceiverReport:
		repMu.Lock()
		c.rec.RTCP.RR++
		repMu.Unlock()
	case *rtcp.SenderReport:
		repMu.Lock()
		c.rec.RTCP.SR++
		repMu.Unlock()
	case *rtcp.TransportLayerNack:
		n := d.resend(p)
		repMu.Lock()
		c.rec.RTCP.NACK++
		d.stats.NACK++
		d.stats.NACKPacketsResent += n
		repMu.Unlock()
	case *rtcp.PictureLossIndication:
		repMu.Lock()
		c.rec.RTCP.PLI++
		d.stats.PLI++
		if len(d.stats.PLITimes) < maxTimes {
			d.stats.PLITimes = append(d.stats.PLITimes, time.Now().UnixMilli())
		}
		repMu.Unlock()
		d.keyframeForFeedback()
	case *rtcp.FullIntraRequest:
		repMu.Lock()
		c.rec.RTCP.FIR++
		d.stats.FIR++
		repMu.Unlock()
		d.keyframeForFeedback()
	case *rtcp.ReceiverEstimatedMaximumBitrate:
		repMu.Lock()
		c.rec.RTCP.REMB++
		repMu.Unlock()
	case *rtcp.TransportLayerCC:
		repMu.Lock()
		c.rec.RTCP.TWCC++
		repMu.Unlock()
	}
}

// maxTimes bounds the PLI and keyframe time lists of a downtrack's report.
const maxTimes = 256

func (d *DownTrack) keyframeForFeedback() {
	d.mu.Lock()
	l := d.cur
	if l < 0 {
		l = d.target
	}
	d.mu.Unlock()
	d.pub.forceKeyframe(l)
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900 in 32.32 fixed point).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 → 1970
	ns := t.UnixNano()
	secs := uint64(ns/1e9) + ntpEpochOffset
	frac := (uint64(ns%1e9) << 32) / 1e9
	return secs<<32 | frac
}

// senderReport is the report due now, or nil before the first packet. Modes.SRMode
// says how its RTP and NTP times pair.
func (d *DownTrack) senderReport(now time.Time, rng *rand.Rand) *rtcp.SenderReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || !d.started || d.clock == 0 {
		return nil
	}
	sr := &rtcp.SenderReport{SSRC: d.ssrc, PacketCount: d.packets, OctetCount: d.octets}
	switch modes.SRMode {
	case SRSendJitter:
		j := time.Duration(0)
		if modes.SRJitter > 0 {
			j = time.Duration(rng.Int63n(2*int64(modes.SRJitter)+1)) - modes.SRJitter
		}
		sr.NTPTime = ntpTime(d.lastAt.Add(j))
		sr.RTPTime = d.lastTs
	default: // SRCapture: the last packet's capture instant, extrapolated to now
		since := now.Sub(d.lastCap)
		sr.NTPTime = ntpTime(now)
		sr.RTPTime = d.lastTs + uint32(int64(since.Seconds()*float64(d.clock)))
	}
	return sr
}

// srLoop sends a sender report every Modes.SRInterval (none when 0) until done.
func (d *DownTrack) srLoop(done <-chan struct{}, write func([]rtcp.Packet) error) {
	if modes.SRInterval <= 0 || write == nil {
		return
	}
	rng := rand.New(rand.NewSource(int64(randUint32())))
	tick := time.NewTicker(modes.SRInterval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			sr := d.senderReport(now, rng)
			if sr == nil {
				continue
			}
			if err := write([]rtcp.Packet{sr}); err != nil {
				debugf("%s: sender report: %v", d.client.Identity, err)
				continue
			}
			repMu.Lock()
			d.stats.SRSent++
			repMu.Unlock()
		}
	}
}
