package main

import (
	"encoding/json"
	"testing"

	"github.com/pion/webrtc/v3"
)

func TestCandidateJSON(t *testing.T) {
	c := webrtc.ICECandidate{Foundation: "1", Priority: 2130706431, Address: "127.0.0.1",
		Protocol: webrtc.ICEProtocolUDP, Port: 5000, Typ: webrtc.ICECandidateTypeHost, Component: 1}
	js := candidateJSON(&c, "0")
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 4 {
		t.Fatalf("keys: %v", m)
	}
	if s, _ := m["candidate"].(string); len(s) < 10 || s[:10] != "candidate:" {
		t.Fatalf("candidate %v", m["candidate"])
	}
	if m["sdpMid"] != "0" || m["sdpMLineIndex"] != float64(0) {
		t.Fatalf("mid/index %v", m)
	}
	if v, ok := m["usernameFragment"]; !ok || v != nil {
		t.Fatalf("usernameFragment %v", v)
	}
	back, err := parseCandidateInit(js)
	if err != nil || back.Candidate != m["candidate"] || *back.SDPMid != "0" {
		t.Fatalf("round trip %+v %v", back, err)
	}
}

func TestParseCandidateInitBrowser(t *testing.T) {
	ci, err := parseCandidateInit(`{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMid":"1","sdpMLineIndex":1,"usernameFragment":"abcd"}`)
	if err != nil || *ci.SDPMid != "1" || *ci.SDPMLineIndex != 1 || *ci.UsernameFragment != "abcd" {
		t.Fatalf("%+v %v", ci, err)
	}
	if _, err := parseCandidateInit("{"); err == nil {
		t.Fatal("bad JSON accepted")
	}
	ci, err = parseCandidateInit(`{"candidate":""}`)
	if err != nil || ci.Candidate != "" {
		t.Fatal("end-of-candidates")
	}
}
