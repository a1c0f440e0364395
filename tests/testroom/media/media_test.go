package media

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

type rxPacket struct {
	at  time.Time
	pkt rtp.Packet
}

type collector struct {
	mu      sync.Mutex
	packets []rxPacket
	dec     *Decoder
	stopped bool // set after Stop returned: any later packet is a bug
	late    int
	bad     int
}

func (c *collector) onPacket(b []byte) {
	now := time.Now()
	var p rtp.Packet
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		c.late++
		return
	}
	if err := p.Unmarshal(b); err != nil {
		c.bad++
		return
	}
	c.packets = append(c.packets, rxPacket{now, p})
	if c.dec != nil {
		c.dec.Push(b)
	}
}

func (c *collector) markStopped() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkHeaders verifies PT, SSRC, contiguous sequence numbers and that RTP time
// advances with the wall clock (within 10 %). Returns the number of distinct
// timestamps (frames) and the wall-clock span.
func checkHeaders(t *testing.T, ps []rxPacket, pt uint8, ssrc uint32, rate float64) (int, time.Duration) {
	t.Helper()
	if len(ps) < 10 {
		t.Fatalf("only %d packets", len(ps))
	}
	frames := 1
	for i, p := range ps {
		if p.pkt.Version != 2 || p.pkt.PayloadType != pt || p.pkt.SSRC != ssrc {
			t.Fatalf("packet %d: version %d pt %d ssrc %#x", i, p.pkt.Version, p.pkt.PayloadType, p.pkt.SSRC)
		}
		if i == 0 {
			continue
		}
		if p.pkt.SequenceNumber != ps[i-1].pkt.SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, p.pkt.SequenceNumber, ps[i-1].pkt.SequenceNumber)
		}
		if p.pkt.Timestamp != ps[i-1].pkt.Timestamp {
			frames++
			if int32(p.pkt.Timestamp-ps[i-1].pkt.Timestamp) < 0 {
				t.Fatalf("packet %d: timestamp went back", i)
			}
		}
	}
	first, last := ps[0], ps[len(ps)-1]
	wall := last.at.Sub(first.at)
	media := time.Duration(float64(last.pkt.Timestamp-first.pkt.Timestamp) / rate * float64(time.Second))
	if r := float64(media) / float64(wall); r < 0.9 || r > 1.1 {
		t.Fatalf("RTP time %v over wall %v (ratio %.3f)", media, wall, r)
	}
	return frames, wall
}

func runVideo(t *testing.T, codec string) {
	const pt, ssrc = 96, 0x1234abcd
	dec, err := NewDecoder(codec, pt)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{dec: dec}
	src, err := Start(Config{Codec: codec, Label: "Alice " + codec, PayloadType: pt, SSRC: ssrc}, c.onPacket)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	forcedAt := time.Now()
	src.ForceKeyframe()
	time.Sleep(1500 * time.Millisecond)
	src.Stop()
	c.markStopped()
	src.Stop() // idempotent
	time.Sleep(100 * time.Millisecond)
	frames, _ := dec.Close()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.late != 0 || c.bad != 0 {
		t.Fatalf("%d packets after Stop, %d unparsable", c.late, c.bad)
	}
	ps := c.packets
	n, wall := checkHeaders(t, ps, pt, ssrc, 90000)
	fps := float64(n-1) / wall.Seconds()
	t.Logf("%s: %d packets, %d frames in %v (%.1f fps), %d decoded", codec, len(ps), n, wall, fps, len(frames))
	if fps < 27 || fps > 33 {
		t.Errorf("frame rate %.1f, want ~30", fps)
	}
	if !IsKeyframe(codec, ps[0].pkt.Payload) {
		t.Errorf("first packet is not a keyframe")
	}
	var keyAfter time.Duration = -1
	for _, p := range ps {
		if p.at.After(forcedAt) && IsKeyframe(codec, p.pkt.Payload) {
			keyAfter = p.at.Sub(forcedAt)
			break
		}
	}
	t.Logf("%s: keyframe %v after ForceKeyframe", codec, keyAfter)
	if keyAfter < 0 || keyAfter > 200*time.Millisecond {
		t.Errorf("no keyframe within 200 ms of ForceKeyframe (%v)", keyAfter)
	}
	if float64(len(frames)) < 0.8*float64(n) {
		t.Errorf("decoded %d frames of %d sent", len(frames), n)
	}
	for _, f := range frames {
		if f.Width != 640 || f.Height != 360 {
			t.Fatalf("decoded frame %dx%d", f.Width, f.Height)
		}
	}
}

func TestVideoVP8(t *testing.T)  { runVideo(t, "VP8") }
func TestVideoH264(t *testing.T) { runVideo(t, "H264") }

// toneHz estimates the frequency from upward zero crossings.
func toneHz(s []int16) float64 {
	first, last, n := -1, -1, 0
	for i := 1; i < len(s); i++ {
		if s[i-1] < 0 && s[i] >= 0 {
			if first < 0 {
				first = i
			} else {
				n++
			}
			last = i
		}
	}
	if n == 0 {
		return 0
	}
	return float64(n) * 48000 / float64(last-first)
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	if len(s) == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestAudioOpus(t *testing.T) {
	const pt, ssrc, tone = 111, 0xdeadbeef, 523
	dec, err := NewDecoder("opus", pt)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{dec: dec}
	src, err := Start(Config{Codec: "opus", Label: "Alice mic", PayloadType: pt, SSRC: ssrc, ToneHz: tone}, c.onPacket)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	mutedAt := time.Now()
	src.SetSpeaking(false)
	time.Sleep(1 * time.Second)
	src.Stop()
	c.markStopped()
	time.Sleep(100 * time.Millisecond)
	out, derr := dec.Close()
	if derr != nil {
		t.Fatal(derr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.packets
	n, wall := checkHeaders(t, ps, pt, ssrc, 48000)
	rate := float64(len(ps)-1) / wall.Seconds()
	t.Logf("opus: %d packets (%d timestamps) in %v: %.1f/s; %d decoded buffers", len(ps), n, wall, rate, len(out))
	if rate < 45 || rate > 55 {
		t.Errorf("packet rate %.1f/s, want 50", rate)
	}
	// The first step is shorter (opusenc drops its look-ahead from the first frame).
	for i := 2; i < len(ps); i++ {
		if d := ps[i].pkt.Timestamp - ps[i-1].pkt.Timestamp; d != 960 {
			t.Fatalf("timestamp step %d, want 960", d)
		}
	}
	// Speaking part: decoded buffers well before the mute (arrival ≈ capture + 100 ms).
	var on, off []int16
	for _, f := range out {
		switch {
		case f.Time.Before(mutedAt.Add(-300 * time.Millisecond)):
			on = append(on, f.Samples...)
		case f.Time.After(mutedAt.Add(400 * time.Millisecond)):
			off = append(off, f.Samples...)
		}
	}
	if len(on) > 48000 {
		on = on[len(on)-48000:] // the last second of tone
	}
	hz := toneHz(on)
	t.Logf("tone %.1f Hz (rms %.0f), muted rms %.1f over %d samples", hz, rms(on), rms(off), len(off))
	if math.Abs(hz-tone) > tone*0.03 {
		t.Errorf("tone %.1f Hz, want %d", hz, tone)
	}
	if rms(on) < 1000 {
		t.Errorf("tone too quiet: rms %.0f", rms(on))
	}
	if len(off) < 9600 || rms(off) > 50 {
		t.Errorf("muted part: %d samples, rms %.1f", len(off), rms(off))
	}
}

// bursts returns the start times of runs of "on" instants separated by > 500 ms.
func bursts(times []time.Time) []time.Time {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	var out []time.Time
	for i, tm := range times {
		if i == 0 || tm.Sub(times[i-1]) > 500*time.Millisecond {
			out = append(out, tm)
		}
	}
	return out
}

func TestFlashLipSync(t *testing.T) {
	vdec, err := NewDecoder("VP8", 96)
	if err != nil {
		t.Fatal(err)
	}
	adec, err := NewDecoder("opus", 111)
	if err != nil {
		t.Fatal(err)
	}
	vc, ac := &collector{dec: vdec}, &collector{dec: adec}
	v, err := Start(Config{Codec: "VP8", Label: "flash", Flash: true, PayloadType: 96, SSRC: 1}, vc.onPacket)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(Config{Codec: "opus", Label: "flash", Flash: true, PayloadType: 111, SSRC: 2}, ac.onPacket)
	if err != nil {
		v.Stop()
		t.Fatal(err)
	}
	time.Sleep(4500 * time.Millisecond)
	v.Stop()
	a.Stop()
	vout, _ := vdec.Close()
	aout, _ := adec.Close()

	var white, loud []time.Time
	dark := 0
	for _, f := range vout {
		if f.Luma > 200 {
			white = append(white, f.Time)
		} else {
			dark++
		}
	}
	for _, f := range aout {
		for i, s := range f.Samples {
			if s > 3000 || s < -3000 {
				loud = append(loud, f.Time.Add(time.Duration(i)*time.Second/48000))
			}
		}
	}
	wb, ab := bursts(white), bursts(loud)
	t.Logf("video: %d white / %d other frames, bursts %v", len(white), dark, wb)
	t.Logf("audio: bursts %v", ab)
	if len(wb) < 2 || len(ab) < 2 || dark < len(white)*5 {
		t.Fatalf("expected >= 2 flashes in each stream: video %d, audio %d", len(wb), len(ab))
	}
	if len(white) > len(wb)*4 {
		t.Errorf("%d white frames in %d flashes, want about 3 per flash", len(white), len(wb))
	}
	for _, w := range wb {
		best := time.Duration(math.MaxInt64)
		for _, b := range ab {
			if d := w.Sub(b); d.Abs() < best.Abs() {
				best = d
			}
		}
		// Arrival is capture + pipeline latency; the flash starts on an even second.
		phase := time.Duration(w.UnixNano()%int64(FlashPeriod)) - 100*time.Millisecond
		t.Logf("flash at %s: video - audio = %v, video onset phase %v", w.Format("15:04:05.000"), best, phase)
		if best.Abs() > 40*time.Millisecond {
			t.Errorf("video flash %v away from audio flash", best)
		}
	}
}

func TestCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, codec := range []string{"VP8", "H264", "opus"} {
		var mu sync.Mutex
		bytes := 0
		src, err := Start(Config{Codec: codec, Label: "cpu " + codec}, func(b []byte) {
			mu.Lock()
			bytes += len(b)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // skip start-up
		c0, w0 := cpuTime(), time.Now()
		mu.Lock()
		b0 := bytes
		mu.Unlock()
		time.Sleep(3 * time.Second)
		c1, w1 := cpuTime(), time.Now()
		mu.Lock()
		b1 := bytes
		mu.Unlock()
		src.Stop()
		t.Logf("%s (640x360@30 for video): CPU %.1f%% of one core, %.0f kbit/s", codec,
			100*float64(c1-c0)/float64(w1.Sub(w0)), float64(b1-b0)*8/1000/w1.Sub(w0).Seconds())
	}
}

func TestStopFromCallback(t *testing.T) {
	var src *Source
	ready := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	s, err := Start(Config{Codec: "opus"}, func(b []byte) {
		<-ready
		mu.Lock()
		calls++
		mu.Unlock()
		src.Stop() // must not deadlock
	})
	if err != nil {
		t.Fatal(err)
	}
	src = s
	close(ready)
	select {
	case <-s.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("source did not stop")
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.Stop(); s.ForceKeyframe(); s.SetSpeaking(true) }()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("%d callbacks, want 1", calls)
	}
}

func TestStartErrors(t *testing.T) {
	for _, c := range []Config{{Codec: "AV1"}, {Codec: "VP8", Kind: "audio"}, {Codec: "VP8", Width: 641}, {Codec: "opus", MTU: 10},
		{Codec: "VP8", Pattern: "plaid"}, {Codec: "VP8", Color: 0x1000000}} {
		if _, err := Start(c, func([]byte) {}); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestParseColor(t *testing.T) {
	for in, want := range map[string]uint32{"": 0, "0xff8000": 0xff8000, "#00C0ff": 0x00c0ff} {
		if got, err := ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
	for _, in := range []string{"red", "0x12345", "0x1234567", "#gg0000"} {
		if _, err := ParseColor(in); err == nil {
			t.Errorf("ParseColor(%q): no error", in)
		}
	}
}

func TestIsKeyframe(t *testing.T) {
	cases := []struct {
		codec string
		p     []byte
		want  bool
	}{
		{"VP8", []byte{0x10, 0x10}, true},                   // S, no ext, key
		{"VP8", []byte{0x10, 0x11}, false},                  // interframe
		{"VP8", []byte{0x00, 0x10}, false},                  // not start
		{"VP8", []byte{0x90, 0x80, 0x81, 0x23, 0x50}, true}, // X, I, 15-bit pid
		{"VP8", []byte{0x90, 0xe0, 0x05, 0x07, 0x40, 0x51}, false},
		{"VP8", []byte{0x90, 0xe0, 0x05, 0x07, 0x40, 0x50}, true},
		{"VP8", []byte{0x90}, false},
		{"H264", []byte{0x65, 0x88}, true},
		{"H264", []byte{0x41, 0x9a}, false},
		{"H264", []byte{0x7c, 0x85, 0x00}, true},  // FU-A start IDR
		{"H264", []byte{0x7c, 0x05, 0x00}, false}, // FU-A middle
		{"H264", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"H264", []byte{0x78, 0x00, 0x02, 0x41, 0x9a}, false},
		{"H264", []byte{0x78, 0x00, 0x09, 0x65}, false}, // truncated
		{"opus", []byte{0x65}, false},
		{"VP8", nil, false},
	}
	for i, c := range cases {
		if got := IsKeyframe(c.codec, c.p); got != c.want {
			t.Errorf("case %d (%s % x): %v", i, c.codec, c.p, got)
		}
	}
}

// TestLoad runs several participants at once (RR_MEDIA_LOAD=N video+audio pairs,
// half VP8, half H264) and checks every video stream keeps ~30 fps.
func TestLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RR_MEDIA_LOAD"))
	if n <= 0 {
		t.Skip("set RR_MEDIA_LOAD=N to run N participants")
	}
	type stream struct {
		src    *Source
		mu     sync.Mutex
		frames map[uint32]bool
	}
	var streams []*stream
	defer func() {
		for _, s := range streams {
			s.src.Stop()
		}
	}()
	for i := 0; i < n; i++ {
		for _, codec := range []string{[]string{"VP8", "H264"}[i%2], "opus"} {
			s := &stream{frames: map[uint32]bool{}}
			src, err := Start(Config{Codec: codec, Label: fmt.Sprintf("user %d", i)}, func(b []byte) {
				var p rtp.Packet
				if p.Unmarshal(b) == nil {
					s.mu.Lock()
					s.frames[p.Timestamp] = true
					s.mu.Unlock()
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			s.src = src
			streams = append(streams, s)
		}
	}
	time.Sleep(time.Second)
	for _, s := range streams {
		s.mu.Lock()
		s.frames = map[uint32]bool{}
		s.mu.Unlock()
	}
	c0, w0 := cpuTime(), time.Now()
	time.Sleep(5 * time.Second)
	c1, w1 := cpuTime(), time.Now()
	secs := w1.Sub(w0).Seconds()
	t.Logf("%d participants: CPU %.0f%% of one core", n, 100*float64(c1-c0)/float64(w1.Sub(w0)))
	for _, s := range streams {
		s.mu.Lock()
		rate := float64(len(s.frames)) / secs
		s.mu.Unlock()
		cfg := s.src.Config()
		t.Logf("%s %s: %.1f frames/s", cfg.Label, cfg.Codec, rate)
		want := 30.0
		if cfg.Kind == "audio" {
			want = 50
		}
		if rate < want*0.9 {
			t.Errorf("%s %s: %.1f frames/s, want %.0f", cfg.Label, cfg.Codec, rate, want)
		}
	}
}

func TestElements(t *testing.T) {
	els, err := Elements(Config{Codec: "VP8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"videotestsrc", "textoverlay", "timeoverlay", "vp8enc", "rtpvp8pay", "appsink"}
	if strings.Join(els, " ") != strings.Join(want, " ") {
		t.Fatalf("VP8 elements %v, want %v", els, want)
	}
	els, _ = Elements(Config{Codec: "opus"})
	if strings.Join(els, " ") != "audiotestsrc opusenc rtpopuspay appsink" {
		t.Fatalf("opus elements %v", els)
	}
	for _, c := range []string{"VP8", "H264", "opus"} {
		els, _ := Elements(Config{Codec: c})
		for _, e := range els {
			if ElementPackage(e) == "" {
				t.Errorf("no package for %s", e)
			}
		}
		if missing, err := MissingElements(Config{Codec: c}); err != nil || len(missing) != 0 {
			t.Errorf("%s: missing %v (%v) on a machine set up by scripts/setup.sh", c, missing, err)
		}
	}
	if _, err := Elements(Config{Codec: "G722"}); err == nil {
		t.Fatal("G722 accepted")
	}
	if !HaveElement("videotestsrc") || HaveElement("nosuchelement") {
		t.Fatal("HaveElement")
	}
	got := DescribeMissing([]string{"textoverlay", "x264enc", "textoverlay", "nosuch"})
	wantMsg := `GStreamer elements "textoverlay" (Debian package gstreamer1.0-x), "x264enc" ` +
		`(Debian package gstreamer1.0-plugins-ugly), "nosuch" (package unknown) are not ` +
		`installed; install with: apt-get install gstreamer1.0-plugins-ugly gstreamer1.0-x`
	if got != wantMsg {
		t.Fatalf("DescribeMissing:\n%s\nwant\n%s", got, wantMsg)
	}
}

// A publisher clock running fast: audio blocks are captured (and RTP time advances) that
// much faster than the room's clock, and capture times are on the room's clock.
func TestFastClock(t *testing.T) {
	const ppm = 50000 // 5 %: measurable in a few seconds despite scheduling noise
	type pkt struct {
		ts      uint32
		arrival time.Time
		capture time.Time
	}
	var mu sync.Mutex
	var got []pkt
	s, err := StartTimed(Config{Codec: "opus", ClockPPM: ppm, SSRC: 3}, func(b []byte, capture time.Time) {
		mu.Lock()
		got = append(got, pkt{binary.BigEndian.Uint32(b[4:8]), time.Now(), capture})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	s.Stop()
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 100 {
		t.Fatalf("%d packets", len(got))
	}
	first, last := got[len(got)/10], got[len(got)-1]
	rtp := float64(last.ts-first.ts) / 48000
	wall := last.arrival.Sub(first.arrival).Seconds()
	capt := last.capture.Sub(first.capture).Seconds()
	minLag := time.Duration(1 << 62)
	for _, p := range got {
		if lag := p.arrival.Sub(p.capture); lag < minLag {
			minLag = lag
		}
	}
	t.Logf("%d packets: RTP %.3f s over %.3f s arrival, %.3f s capture: rate %.4f / %.4f; sent ≥ %v after capture",
		len(got), rtp, wall, capt, rtp/wall, rtp/capt, minLag)
	// RTP time against capture time (on the room's clock): the clock's rate, exactly.
	if r := rtp / capt; r < 1.045 || r > 1.055 {
		t.Errorf("RTP time runs %.4f × capture time, want 1.05", r)
	}
	// Capture times are on the room's clock: every packet leaves at least about the
	// pipeline latency (100 ms) after its capture (a load only makes that longer). On
	// the publisher's fast clock they would run 5 % ahead, 175 ms by the end.
	if minLag < 50*time.Millisecond {
		t.Errorf("a packet sent %v after its capture: capture times are not on the room's clock", minLag)
	}
}
