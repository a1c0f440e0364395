// Command testroom is a LiveKit-protocol room server for tests: signalling over
// WebSocket, a pion subscriber PeerConnection per client, synthetic participants
// publishing GStreamer-made media (see scenario.go), and a JSON report of what the
// clients did.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	lk "roomrec/lkproto"
	"roomrec/testroom/media"
)

// Config holds the command line.
type Config struct {
	Listen        string
	APIKey        string
	APISecret     string
	ScenarioPath  string
	ReportPath    string
	Duration      time.Duration
	NodeIPs       []string
	UDPPortMin    int
	UDPPortMax    int
	UDPMuxPort    int
	TCPPort       int
	Interfaces    []string
	ICEServers    []*lk.ICEServer
	ForceRelay    bool
	PingInterval  int
	PingTimeout   int
	EstablishMin  time.Duration
	EstablishMax  time.Duration
	AnswerTimeout time.Duration
	RefreshEvery  time.Duration
	ResumeWindow  time.Duration
	ResumeRestart bool
	ServerVersion string
	LogLevel      string
}

var cfg Config

func parseFlags() error {
	var nodeIP, ifaces, iceServers string
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:7880", "HTTP/WebSocket listen address")
	flag.StringVar(&cfg.APIKey, "api-key", "devkey", "API key (JWT iss)")
	flag.StringVar(&cfg.APISecret, "api-secret", "secret-secret-secret-secret-32b", "API secret (HS256)")
	flag.StringVar(&cfg.ScenarioPath, "scenario", "", "scenario JSON file")
	flag.StringVar(&cfg.ReportPath, "report", "", "report JSON written at exit")
	flag.DurationVar(&cfg.Duration, "duration", 0, "exit after this long (0 = until signalled)")
	flag.StringVar(&nodeIP, "node-ip", "", "advertise these IPs (NAT 1:1), comma separated")
	flag.IntVar(&cfg.UDPPortMin, "udp-port-min", 0, "ICE UDP port range min")
	flag.IntVar(&cfg.UDPPortMax, "udp-port-max", 0, "ICE UDP port range max")
	flag.IntVar(&cfg.UDPMuxPort, "udp-mux-port", 0, "single UDP port for all ICE (0 = off)")
	flag.IntVar(&cfg.TCPPort, "tcp-port", 0, "passive ICE-TCP port (0 = off)")
	flag.StringVar(&ifaces, "interfaces", "", "interfaces to gather on, comma separated (default all incl. loopback)")
	flag.StringVar(&iceServers, "ice-servers", "", `JSON array of {"urls":[..],"username":..,"credential":..}`)
	flag.BoolVar(&cfg.ForceRelay, "force-relay", false, "client_configuration.force_relay = ENABLED")
	flag.IntVar(&cfg.PingInterval, "ping-interval", 5, "ping interval (s) in JoinResponse")
	flag.IntVar(&cfg.PingTimeout, "ping-timeout", 15, "ping timeout (s)")
	flag.DurationVar(&cfg.EstablishMin, "establish-min", 10*time.Second, "fully-established window min")
	flag.DurationVar(&cfg.EstablishMax, "establish-max", 20*time.Second, "fully-established window max")
	flag.DurationVar(&cfg.AnswerTimeout, "answer-timeout", 15*time.Second, "answer deadline per offer")
	flag.DurationVar(&cfg.RefreshEvery, "refresh-interval", 60*time.Second, "refresh_token interval")
	flag.DurationVar(&cfg.ResumeWindow, "resume-window", 30*time.Second, "how long a participant without signalling is kept for resume")
	flag.BoolVar(&cfg.ResumeRestart, "resume-ice-restart", true, "after a resume, re-offer with ICE restart (LiveKit does)")
	flag.StringVar(&cfg.ServerVersion, "server-version", "1.8.4", "server_info.version")
	flag.StringVar(&cfg.LogLevel, "log-level", "info", "debug|info|warn|error")
	registerModeFlags(flag.CommandLine, &modes)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", flag.Args())
	}
	for _, s := range strings.Split(nodeIP, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if net.ParseIP(s) == nil {
				return fmt.Errorf("-node-ip: bad IP %q", s)
			}
			cfg.NodeIPs = append(cfg.NodeIPs, s)
		}
	}
	for _, s := range strings.Split(ifaces, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Interfaces = append(cfg.Interfaces, s)
		}
	}
	if iceServers != "" {
		var srv []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		}
		if err := json.Unmarshal([]byte(iceServers), &srv); err != nil {
			return fmt.Errorf("-ice-servers: %w", err)
		}
		for _, s := range srv {
			cfg.ICEServers = append(cfg.ICEServers, &lk.ICEServer{Urls: s.URLs, Username: s.Username, Credential: s.Credential})
		}
	}
	if cfg.EstablishMax < cfg.EstablishMin {
		return fmt.Errorf("-establish-max < -establish-min")
	}
	if cfg.PingTimeout <= 0 || cfg.PingInterval <= 0 {
		return fmt.Errorf("ping interval/timeout must be > 0")
	}
	if cfg.UDPPortMax < cfg.UDPPortMin || cfg.UDPPortMax > 65535 {
		return fmt.Errorf("bad UDP port range")
	}
	setLogLevel(cfg.LogLevel)
	return nil
}

func main() {
	if err := parseFlags(); err != nil {
		fmt.Fprintln(os.Stderr, "testroom:", err)
		os.Exit(2)
	}
	sc, err := loadScenario(cfg.ScenarioPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testroom:", err)
		os.Exit(2)
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	sc.Modes.apply(&modes, set)
	if err := modes.check(); err != nil {
		fmt.Fprintln(os.Stderr, "testroom:", err)
		os.Exit(2)
	}
	repMu.Lock()
	report.Modes = modes.record()
	repMu.Unlock()
	media.Init()
	// Publishing less than the scenario says (a camera whose pipeline cannot be made)
	// would let a test pass or fail for the wrong reason: refuse it.
	if err := sc.checkMedia(); err != nil {
		fmt.Fprintln(os.Stderr, "testroom:", err)
		os.Exit(3)
	}
	api, closeAPI, err := newWebRTCAPI(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testroom: webrtc:", err)
		os.Exit(1)
	}
	room := newRoom(sc, api)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testroom: listen:", err)
		os.Exit(1)
	}
	quit := make(chan string, 4)
	srv := &http.Server{Handler: newHTTPHandler(room, quit)}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			quit <- "http: " + err.Error()
		}
	}()
	room.start()
	fmt.Printf("testroom listening on http://%s\n", ln.Addr().String())
	os.Stdout.Sync()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	// A test that dies without its cleanup (ctest's timeout kills it outright) leaves the
	// room orphaned: notice that and go, instead of playing media forever.
	go func(parent int) {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				quit <- "the process that started the room is gone"
				return
			}
		}
	}(os.Getppid())
	var timeout <-chan time.Time
	if cfg.Duration > 0 {
		timeout = time.After(cfg.Duration)
	}
	var why string
	select {
	case s := <-sigs:
		why = "signal " + s.String()
	case <-timeout:
		why = "duration elapsed"
	case why = <-quit:
	}
	infof("shutting down: %s", why)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		room.shutdown()
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		warnf("shutdown took too long")
	}
	if err := writeReport(cfg.ReportPath); err != nil {
		fmt.Fprintln(os.Stderr, "testroom: report:", err)
	}
	srv.Close()
	closeAPI()
	os.Exit(0)
}
