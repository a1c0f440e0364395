package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/pion/webrtc/v3"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"

// newID makes LiveKit-style ids: prefix + 12 random characters.
func newID(prefix string) string {
	b := make([]byte, 12)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(idAlphabet))))
		b[i] = idAlphabet[n.Int64()]
	}
	return prefix + string(b)
}

func randUint32() uint32 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<32-1))
	return uint32(n.Int64()) + 1
}

func randDuration(min, max time.Duration) time.Duration {
	if max <= min {
		return min
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(max-min)))
	return min + time.Duration(n.Int64())
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// candidateInit is the JSON a LiveKit server puts in TrickleRequest.candidateInit.
type candidateInit struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
	UsernameFragment *string `json:"usernameFragment"`
}

// candidateJSON renders a local candidate like LiveKit does
// ({"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}).
func candidateJSON(c *webrtc.ICECandidate, mid string) string {
	init := c.ToJSON()
	idx := uint16(0)
	ci := candidateInit{Candidate: init.Candidate, SDPMid: &mid, SDPMLineIndex: &idx}
	b, _ := json.Marshal(ci)
	return string(b)
}

// parseCandidateInit reads a client's candidateInit JSON.
func parseCandidateInit(s string) (webrtc.ICECandidateInit, error) {
	var ci candidateInit
	if err := json.Unmarshal([]byte(s), &ci); err != nil {
		return webrtc.ICECandidateInit{}, err
	}
	return webrtc.ICECandidateInit{Candidate: ci.Candidate, SDPMid: ci.SDPMid,
		SDPMLineIndex: ci.SDPMLineIndex, UsernameFragment: ci.UsernameFragment}, nil
}

func sprintf(format string, args ...interface{}) string { return fmt.Sprintf(format, args...) }
