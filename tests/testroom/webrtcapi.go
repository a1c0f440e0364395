package main

// The pion API shared by every subscriber PeerConnection: codecs as LiveKit offers
// them (sender reports come from the down tracks, see modes.go), and ICE settings like livekit-server's rtc config
// (NAT 1:1 IPs, port range, optional UDP mux and passive ICE-TCP, loopback included).

import (
	"fmt"
	"net"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
)

const (
	ptOpus    = 111
	ptVP8     = 96
	ptVP8RTX  = 97
	ptH264    = 102
	ptH264R   = 103
	ptH264M0  = 108
	ptH264M0R = 109
)

func registerCodecs(m *webrtc.MediaEngine) error {
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		for _, c := range allCodecs(k) {
			if err := m.RegisterCodec(c, k); err != nil {
				return err
			}
		}
	}
	return nil
}

func allCodecs(kind webrtc.RTPCodecType) []webrtc.RTPCodecParameters {
	if kind == webrtc.RTPCodecTypeAudio {
		return []webrtc.RTPCodecParameters{{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}}},
			PayloadType: ptOpus}}
	}
	videoFB := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: ptVP8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/rtx", ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", ptVP8)}, PayloadType: ptVP8RTX},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: videoFB}, PayloadType: ptH264},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/rtx", ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", ptH264)}, PayloadType: ptH264R},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f", RTCPFeedback: videoFB}, PayloadType: ptH264M0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/rtx", ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", ptH264M0)}, PayloadType: ptH264M0R},
	}
}

// codecPrefs orders the codecs of a track's m-section with its own codec (and RTX)
// first, the others after, as LiveKit does. Every section lists all codecs of its
// kind: pion v3 negotiates codecs per PeerConnection and kind (from the first
// section), so per-section codec lists would break tracks of a second codec.
func codecPrefs(codec string) []webrtc.RTPCodecParameters {
	kind, lead := webrtc.RTPCodecTypeVideo, uint8(ptVP8)
	switch codec {
	case "opus":
		kind, lead = webrtc.RTPCodecTypeAudio, ptOpus
	case "H264":
		lead = ptH264
	}
	all := allCodecs(kind)
	var first, rest []webrtc.RTPCodecParameters
	for _, c := range all {
		if uint8(c.PayloadType) == lead || c.SDPFmtpLine == fmt.Sprintf("apt=%d", lead) {
			first = append(first, c)
		} else {
			rest = append(rest, c)
		}
	}
	return append(first, rest...)
}

func newWebRTCAPI(c *Config) (*webrtc.API, func(), error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, nil, err
	}
	// No interceptors: the down tracks send their own sender reports (as Modes says)
	// and answer NACKs themselves, so that resent packets can be counted.
	reg := &interceptor.Registry{}
	s := webrtc.SettingEngine{}
	s.SetIncludeLoopbackCandidate(true)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(c.NodeIPs) > 0 {
		s.SetNAT1To1IPs(c.NodeIPs, webrtc.ICECandidateTypeHost)
	}
	if c.UDPPortMin > 0 || c.UDPPortMax > 0 {
		if err := s.SetEphemeralUDPPortRange(uint16(c.UDPPortMin), uint16(c.UDPPortMax)); err != nil {
			return nil, nil, err
		}
	}
	if len(c.Interfaces) > 0 {
		allowed := map[string]bool{}
		for _, i := range c.Interfaces {
			allowed[i] = true
		}
		s.SetInterfaceFilter(func(name string) bool { return allowed[name] })
	}
	var closers []func()
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if c.UDPMuxPort > 0 {
		udp, err := net.ListenUDP("udp", &net.UDPAddr{Port: c.UDPMuxPort})
		if err != nil {
			return nil, nil, fmt.Errorf("udp mux port: %w", err)
		}
		mux := webrtc.NewICEUDPMux(nil, udp)
		s.SetICEUDPMux(mux)
		closers = append(closers, func() { mux.Close() })
		networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	if c.TCPPort > 0 {
		tl, err := net.ListenTCP("tcp", &net.TCPAddr{Port: c.TCPPort})
		if err != nil {
			return nil, nil, fmt.Errorf("tcp port: %w", err)
		}
		mux := webrtc.NewICETCPMux(nil, tl, 8)
		s.SetICETCPMux(mux)
		closers = append(closers, func() { mux.Close() })
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}
	s.SetNetworkTypes(networks)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s))
	return api, func() {
		for _, f := range closers {
			f()
		}
	}, nil
}
