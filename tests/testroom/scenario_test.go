package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseScenarioExample(t *testing.T) {
	s, err := parseScenario([]byte(`{"room":"demo","participants":[{"identity":"alice","name":"Alice","join_at":0,
	 "tracks":[{"name":"camera","kind":"video","codec":"VP8","source":"camera","width":640,"height":360,"fps":30,"bitrate":600,
	   "simulcast":[{"quality":"LOW","width":320,"height":180,"bitrate":150}],"flash":false},
	   {"name":"mic","kind":"audio","codec":"opus","source":"microphone","tone_hz":440}],
	 "events":[{"at":5,"action":"mute","track":"camera"},{"at":8,"action":"unmute","track":"camera"},
	   {"at":3,"action":"speak","until":6},
	   {"at":10,"action":"publish","track":{"name":"screen","kind":"video","codec":"VP8","source":"screen_share"}},
	   {"at":12,"action":"unpublish","track":"screen"},{"at":20,"action":"leave"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Participants[0]
	if len(p.Tracks) != 2 || p.Tracks[0].Simulcast[0].Quality != "LOW" || p.Tracks[1].Codec != "opus" {
		t.Fatalf("tracks %+v", p.Tracks)
	}
	if p.Events[3].trackSpec == nil || p.Events[3].trackSpec.Width != 640 || p.Events[0].trackName != "camera" {
		t.Fatalf("events %+v", p.Events)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	bad := []string{
		`{"participants":[{"name":"x"}]}`,
		`{"participants":[{"identity":"a"},{"identity":"a"}]}`,
		`{"participants":[{"identity":"a","tracks":[{"codec":"AV1"}]}]}`,
		`{"participants":[{"identity":"a","tracks":[{"kind":"audio","codec":"VP8"}]}]}`,
		`{"participants":[{"identity":"a","events":[{"at":1,"action":"dance"}]}]}`,
		`{"participants":[{"identity":"a","events":[{"at":1,"action":"mute"}]}]}`,
		`{"participants":[{"identity":"a","events":[{"at":1,"action":"publish","track":"x"}]}]}`,
		`{"participants":[{"identity":"a","tracks":[{"kind":"video","simulcast":[{"quality":"HIGH"}]}]}]}`,
		`{"room":"x","unknown":1}`,
		`not json`,
	}
	for _, b := range bad {
		if _, err := parseScenario([]byte(b)); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
}

func TestScenarioFilesParse(t *testing.T) {
	files, _ := filepath.Glob("scenarios/*.json")
	if len(files) == 0 {
		t.Skip("no scenarios")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseScenario(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLayerChoice(t *testing.T) {
	spec := TrackSpec{Name: "cam", Kind: "video", Codec: "VP8", Width: 640, Height: 360,
		Simulcast: []LayerSpec{{Quality: "LOW"}, {Quality: "MEDIUM"}}}
	if err := normalizeTrack(&spec); err != nil {
		t.Fatal(err)
	}
	tr := newPubTrack(&SynthParticipant{Sid: "PA_x", Name: "x"}, spec)
	if len(tr.Layers) != 3 || tr.Layers[0].Quality != qualityLow || tr.Layers[2].Quality != qualityHigh {
		t.Fatalf("layers %+v", tr.Layers)
	}
	if tr.layerFor(qualityMedium) != 1 || tr.layerFor(qualityHigh) != 2 || tr.layerForSize(160, 90) != 0 || tr.layerForSize(200, 100) != 1 ||
		tr.layerForSize(1280, 720) != 2 {
		t.Fatal("layer choice")
	}
}
