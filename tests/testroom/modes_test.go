package main

import (
	"flag"
	"math/rand"
	"sync"
	"testing"
	"time"
)

func TestModesScenarioAndFlags(t *testing.T) {
	sc, err := parseScenario([]byte(`{"room":"r","modes":{"sr_mode":"send-jitter","sr_interval_s":5,
		"send_jitter_ms":40,"send_hold_every_s":2,"clock_ppm":1000},
		"participants":[{"identity":"a","clock_ppm":-500,"tracks":[{"kind":"video","counter":true}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := Modes{SRMode: SRCapture, SRInterval: time.Second, SRJitter: 30 * time.Millisecond,
		SendHoldMin: 100 * time.Millisecond, SendHoldMax: 200 * time.Millisecond}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	registerModeFlags(fs, &m)
	if err := fs.Parse([]string{"-sr-interval", "0"}); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	sc.Modes.apply(&m, set)
	if err := m.check(); err != nil {
		t.Fatal(err)
	}
	if m.SRMode != SRSendJitter || m.SRInterval != 0 || m.SendJitter != 40*time.Millisecond ||
		m.SendHoldEvery != 2*time.Second || m.ClockPPM != 1000 {
		t.Fatalf("modes %+v: the scenario's, except -sr-interval 0 from the flag", m)
	}
	if !sc.Participants[0].Tracks[0].Counter || *sc.Participants[0].ClockPPM != -500 {
		t.Fatalf("participant clock_ppm / track counter not read")
	}
	rec := m.record()
	if rec.SRMode != SRSendJitter || rec.SRIntervalMs != 0 || rec.SendHoldEveryMs != 2000 {
		t.Fatalf("record %+v", rec)
	}
}

func TestModesRefused(t *testing.T) {
	base := Modes{SRMode: SRCapture, SRInterval: time.Second, SendHoldMin: 100 * time.Millisecond,
		SendHoldMax: 200 * time.Millisecond}
	bad := []func(m *Modes){
		func(m *Modes) { m.SRMode = "ntp" },
		func(m *Modes) { m.SRInterval = -time.Second },
		func(m *Modes) { m.SendJitter = -time.Millisecond },
		func(m *Modes) { m.SendHoldEvery = 150 * time.Millisecond },
		func(m *Modes) { m.SendHoldMin = 300 * time.Millisecond },
		func(m *Modes) { m.ClockPPM = 200000 },
	}
	for i, f := range bad {
		m := base
		f(&m)
		if err := m.check(); err == nil {
			t.Errorf("case %d: %+v accepted", i, m)
		} else {
			t.Logf("case %d: %v", i, err)
		}
	}
	if _, err := parseScenario([]byte(`{"participants":[{"identity":"a","clock_ppm":1000000}]}`)); err == nil {
		t.Error("clock_ppm 1000000 accepted")
	}
}

// The send path keeps order, delays each packet by at most the jitter outside holds,
// and holds now and then for hold-min..max then bursts.
func TestSendPathJitterAndHolds(t *testing.T) {
	m := Modes{SendJitter: 20 * time.Millisecond, SendHoldEvery: 300 * time.Millisecond,
		SendHoldMin: 100 * time.Millisecond, SendHoldMax: 150 * time.Millisecond}
	rec := &PubTrackRec{}
	var mu sync.Mutex
	var got []int
	var delays []time.Duration
	p := newSendPath(m, rec, 1, func(layer int, pkt []byte, capture time.Time) {
		mu.Lock()
		got = append(got, int(pkt[0]))
		delays = append(delays, time.Since(capture))
		mu.Unlock()
	})
	for i := 0; i < 100; i++ {
		p.push(0, []byte{byte(i)}, time.Now())
		time.Sleep(10 * time.Millisecond)
	}
	p.close()
	if len(got) != 100 {
		t.Fatalf("%d of 100 packets delivered", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("packet %d delivered as %d-th: order not kept", v, i)
		}
	}
	long := 0
	for _, d := range delays {
		if d > 60*time.Millisecond {
			long++
		}
	}
	t.Logf("holds %d (%d ms), max delay %d ms, %d packets delayed > 60 ms", rec.Holds, rec.HoldMs,
		rec.MaxSendDelayMs, long)
	if rec.Holds < 1 || long < 1 || rec.MaxSendDelayMs < 100 || rec.MaxSendDelayMs > 170 {
		t.Errorf("expected holds of 100-150 ms: holds %d, max delay %d ms", rec.Holds, rec.MaxSendDelayMs)
	}
}

func TestSendPathOffIsDirect(t *testing.T) {
	called := false
	p := newSendPath(Modes{}, &PubTrackRec{}, 1, func(int, []byte, time.Time) { called = true })
	p.push(0, []byte{1}, time.Now())
	if !called {
		t.Fatal("without jitter/hold modes the packet must go through at once")
	}
	p.close()
}

func TestSenderReportModes(t *testing.T) {
	saved := modes
	defer func() { modes = saved }()
	c := &Client{Identity: "rec"}
	d := &DownTrack{client: c, stats: &TrackStatRec{}, bound: true, started: true, clock: 90000,
		ssrc: 7, lastTs: 900000, packets: 3, octets: 300}
	now := time.Now()
	d.lastCap = now.Add(-120 * time.Millisecond)
	d.lastAt = now.Add(-20 * time.Millisecond)
	rng := rand.New(rand.NewSource(1))

	modes.SRMode = SRCapture
	sr := d.senderReport(now, rng)
	if sr.NTPTime != ntpTime(now) || sr.RTPTime != 900000+10800 || sr.SSRC != 7 || sr.PacketCount != 3 {
		t.Fatalf("capture SR %+v: want NTP now and RTP last + 120 ms", sr)
	}
	modes.SRMode = SRSendJitter
	modes.SRJitter = 30 * time.Millisecond
	lo, hi := time.Duration(1<<62), -time.Duration(1<<62)
	for i := 0; i < 200; i++ {
		sr = d.senderReport(now, rng)
		if sr.RTPTime != 900000 {
			t.Fatalf("send-jitter SR RTP %d, want the last packet's", sr.RTPTime)
		}
		off := time.Duration(int64(sr.NTPTime-ntpTime(d.lastAt))) * time.Second >> 32
		if off < lo {
			lo = off
		}
		if off > hi {
			hi = off
		}
	}
	t.Logf("send-jitter NTP offsets %v .. %v", lo, hi)
	if lo < -31*time.Millisecond || hi > 31*time.Millisecond || hi-lo < 40*time.Millisecond {
		t.Errorf("NTP jitter %v..%v, want spread over ±30 ms", lo, hi)
	}
}
