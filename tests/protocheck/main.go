// Command protocheck is the Go half of the protocol cross-check run by
// tests/node/protocheck.mjs. It uses the Go code that protoc-gen-go generates from
// rtc/proto/livekit_rtc.proto (the test room's import "roomrec/lkproto") and has three
// modes:
//
//	protocheck roundtrip DIR   decode every message listed in DIR/manifest.json, count
//	                           the bytes it kept as unknown fields, re-encode it twice
//	                           (unknown fields kept / dropped) and write the results
//	                           to DIR/<name>.go.bin, DIR/<name>.go-known.bin and
//	                           DIR/go-results.json
//	protocheck golden          print the golden vectors of LiveKit messages, built
//	                           from the generated Go types, as JSON {name: hex}
//	protocheck descriptor OUT  write the FileDescriptorProto compiled into the Go code
//	                           (binary) to OUT
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	lk "roomrec/lkproto"
)

type manifestEntry struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // full name without package, e.g. "SignalRequest"
	File   string `json:"file"`
	Subset bool   `json:"subset"`
}

type result struct {
	OK           bool   `json:"ok"`
	Error        string `json:"error,omitempty"`
	UnknownBytes int    `json:"unknown_bytes"`
	Out          string `json:"out,omitempty"`
	OutKnown     string `json:"out_known,omitempty"`
	JSON         string `json:"json,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "roundtrip":
		if len(os.Args) != 3 {
			usage()
		}
		err = roundtrip(os.Args[2])
	case "golden":
		err = golden()
	case "descriptor":
		if len(os.Args) != 3 {
			usage()
		}
		err = descriptor(os.Args[2])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "protocheck:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: protocheck roundtrip DIR | golden | descriptor OUT")
	os.Exit(2)
}

// unknownBytes sums the unknown-field bytes of m and of every message below it.
func unknownBytes(m protoreflect.Message) int {
	n := len(m.GetUnknown())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					n += unknownBytes(mv.Message())
					return true
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					n += unknownBytes(l.Get(i).Message())
				}
			}
		case fd.Message() != nil:
			n += unknownBytes(v.Message())
		}
		return true
	})
	return n
}

func roundtrip(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var entries []manifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	results := map[string]*result{}
	det := proto.MarshalOptions{Deterministic: true}
	for _, e := range entries {
		r := &result{}
		results[e.Name] = r
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("livekit." + e.Type))
		if err != nil {
			r.Error = fmt.Sprintf("type %s: %v", e.Type, err)
			continue
		}
		in, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			return err
		}
		m := mt.New().Interface()
		if err := proto.Unmarshal(in, m); err != nil {
			r.Error = "decode: " + err.Error()
			continue
		}
		r.UnknownBytes = unknownBytes(m.ProtoReflect())
		out, err := det.Marshal(m)
		if err != nil {
			r.Error = "encode: " + err.Error()
			continue
		}
		r.Out = e.Name + ".go.bin"
		if err := os.WriteFile(filepath.Join(dir, r.Out), out, 0o644); err != nil {
			return err
		}
		known := mt.New().Interface()
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(in, known); err != nil {
			r.Error = "decode (known fields): " + err.Error()
			continue
		}
		outKnown, err := det.Marshal(known)
		if err != nil {
			r.Error = "encode (known fields): " + err.Error()
			continue
		}
		r.OutKnown = e.Name + ".go-known.bin"
		if err := os.WriteFile(filepath.Join(dir, r.OutKnown), outKnown, 0o644); err != nil {
			return err
		}
		j, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(known)
		if err == nil {
			r.JSON = string(j)
		}
		r.OK = true
	}
	out, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go-results.json"), out, 0o644)
}

// goldenMessages builds the golden vectors of LiveKit messages from the
// generated Go types.
func goldenMessages() map[string]proto.Message {
	return map[string]proto.Message{
		"req_subscription": &lk.SignalRequest{Message: &lk.SignalRequest_Subscription{
			Subscription: &lk.UpdateSubscription{TrackSids: []string{"TR_abc"}, Subscribe: true}}},
		"req_ping_req": &lk.SignalRequest{Message: &lk.SignalRequest_PingReq{
			PingReq: &lk.Ping{Timestamp: 1700000000000, Rtt: 12}}},
		"req_leave": &lk.SignalRequest{Message: &lk.SignalRequest_Leave{
			Leave: &lk.LeaveRequest{Reason: lk.DisconnectReason_CLIENT_INITIATED,
				Action: lk.LeaveRequest_DISCONNECT}}},
		"req_answer": &lk.SignalRequest{Message: &lk.SignalRequest_Answer{
			Answer: &lk.SessionDescription{Type: "answer", Sdp: "v=0\r\n", Id: 3}}},
		"resp_offer": &lk.SignalResponse{Message: &lk.SignalResponse_Offer{
			Offer: &lk.SessionDescription{Type: "offer", Sdp: "v=0", Id: 7,
				MidToTrackId: map[string]string{"0": "TR_abc"}}}},
	}
}

func golden() error {
	msgs := goldenMessages()
	names := make([]string, 0, len(msgs))
	for n := range msgs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]string{}
	for _, n := range names {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msgs[n])
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		out[n] = hex.EncodeToString(b)
	}
	j, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(j))
	return nil
}

func descriptor(path string) error {
	fdp := protodesc.ToFileDescriptorProto(lk.File_livekit_rtc_proto)
	b, err := proto.Marshal(fdp)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
