// Command lkclient is a small LiveKit-protocol subscriber used to check the test room
// end to end: it mints a token, joins (hidden recorder by default), answers the
// subscriber offers, trickles, pings, receives the server's data channels, counts RTP
// per track, sends PLIs, follows leave/resume/reconnect, and prints JSON stats.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	url, room, identity, name, kind, apiKey, secret string
	hidden, recorder, autoSub                       bool
	protocol                                        int
	duration, pliAt                                 time.Duration
	dcMode                                          string
	onClose                                         string
	subscribe                                       string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:7880", "server URL")
	flag.StringVar(&o.room, "room", "demo", "room")
	flag.StringVar(&o.identity, "identity", "lkclient", "identity")
	flag.StringVar(&o.name, "name", "", "name")
	flag.StringVar(&o.kind, "kind", "egress", "token kind claim")
	flag.StringVar(&o.apiKey, "api-key", "devkey", "API key")
	flag.StringVar(&o.secret, "api-secret", "secret-secret-secret-secret-32b", "API secret")
	flag.BoolVar(&o.hidden, "hidden", true, "hidden grant")
	flag.BoolVar(&o.recorder, "recorder", true, "recorder grant")
	flag.BoolVar(&o.autoSub, "auto-subscribe", true, "auto_subscribe")
	flag.IntVar(&o.protocol, "protocol", 16, "protocol version")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long to stay")
	flag.DurationVar(&o.pliAt, "pli-at", 5*time.Second, "send one PLI per video track at this time (0 = never)")
	flag.StringVar(&o.dcMode, "dc", "accept", "accept | strip (answer without m=application)")
	flag.StringVar(&o.onClose, "on-close", "resume", "after the socket drops without leave: resume | stop")
	flag.StringVar(&o.subscribe, "subscribe", "", "with -auto-subscribe=false: subscribe to every track of this participant identity")
	flag.Parse()

	c := newClient(o)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.run(); close(done) }()
	select {
	case <-time.After(o.duration):
	case <-sigs:
	case <-done:
	}
	c.stop()
	out, _ := json.MarshalIndent(c.snapshot(), "", "  ")
	fmt.Println(string(out))
}
