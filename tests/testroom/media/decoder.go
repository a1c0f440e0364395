package media

/*
#include <stdlib.h>
#include "decoder.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Decoded is one decoded video frame or audio buffer from a Decoder.
type Decoded struct {
	Time          time.Time // wall-clock time (jitter-buffered arrival of the media)
	Width, Height int       // video
	Luma          float64   // video: mean luma of the frame, 0..255 (white ≈ 235)
	Samples       []int16   // audio: mono samples at 48 kHz
}

// Decoder decodes received RTP (for tests): appsrc → rtpjitterbuffer → depayloader →
// decoder → appsink, fed in real time with Push.
type Decoder struct {
	c      *C.RrMediaDecoder
	mu     sync.Mutex
	closed bool
	out    []Decoded
	done   chan struct{}
}

func decoderDesc(codec string, pt uint8) (string, error) {
	var caps, chain string
	switch strings.ToUpper(codec) {
	case "VP8":
		caps = "media=video,clock-rate=90000,encoding-name=VP8"
		chain = "rtpvp8depay ! vp8dec ! videoconvert ! video/x-raw,format=I420"
	case "H264":
		caps = "media=video,clock-rate=90000,encoding-name=H264"
		chain = "rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=I420"
	case "OPUS":
		caps = "media=audio,clock-rate=48000,encoding-name=OPUS"
		chain = "rtpopusdepay ! opusdec ! audioconvert ! " +
			"audio/x-raw,format=S16LE,rate=48000,channels=1"
	default:
		return "", fmt.Errorf("media: no decoder for codec %q", codec)
	}
	return fmt.Sprintf("appsrc name=src is-live=true do-timestamp=true format=time "+
		"caps=\"application/x-rtp,%s,payload=%d\" ! rtpjitterbuffer latency=200 ! %s ! "+
		"appsink name=sink sync=false max-buffers=0 emit-signals=false", caps, pt, chain), nil
}

// NewDecoder starts a decoding pipeline for codec ("VP8", "H264", "opus") and PT.
func NewDecoder(codec string, pt uint8) (*Decoder, error) {
	desc, err := decoderDesc(codec, pt)
	if err != nil {
		return nil, err
	}
	cdesc := C.CString(desc)
	defer C.free(unsafe.Pointer(cdesc))
	var cerr *C.char
	d := &Decoder{done: make(chan struct{})}
	d.c = C.rr_media_decoder_new(cdesc, &cerr)
	if d.c == nil {
		return nil, fmt.Errorf("media decoder: %s", takeCString(cerr))
	}
	go d.pull()
	return d, nil
}

func (d *Decoder) pull() {
	defer close(d.done)
	for {
		var o C.RrMediaDecoded
		switch C.rr_media_decoder_pull(d.c, 100, &o) {
		case C.RR_MEDIA_PULL_EOS:
			return
		case C.RR_MEDIA_PULL_TIMEOUT:
			d.mu.Lock()
			closed := d.closed
			d.mu.Unlock()
			if closed {
				return
			}
			continue
		}
		f := Decoded{Width: int(o.width), Height: int(o.height), Luma: float64(o.luma)}
		if o.time_ns != 0 {
			f.Time = time.Unix(0, int64(o.time_ns))
		}
		if o.samples != nil {
			src := unsafe.Slice((*int16)(unsafe.Pointer(o.samples)), int(o.n_samples))
			f.Samples = append([]int16(nil), src...)
			C.free(unsafe.Pointer(o.samples))
		}
		d.mu.Lock()
		d.out = append(d.out, f)
		d.mu.Unlock()
	}
}

// Push feeds one serialized RTP packet (ignored after Close).
func (d *Decoder) Push(pkt []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || len(pkt) == 0 {
		return
	}
	C.rr_media_decoder_push(d.c, unsafe.Pointer(&pkt[0]), C.int(len(pkt)))
}

// Close drains the pipeline (up to 2 s), frees it and returns everything decoded,
// plus the first pipeline error if there was one.
func (d *Decoder) Close() ([]Decoded, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		<-d.done
		return d.out, nil
	}
	C.rr_media_decoder_end(d.c)
	d.mu.Unlock()
	select {
	case <-d.done:
	case <-time.After(2 * time.Second):
	}
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	<-d.done
	var err error
	if e := C.rr_media_decoder_error(d.c); e != nil {
		err = fmt.Errorf("media decoder: %s", takeCString(e))
	}
	C.rr_media_decoder_free(d.c)
	d.c = nil
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out, err
}
