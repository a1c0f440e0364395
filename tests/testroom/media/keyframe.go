package media

import "strings"

// IsKeyframe reports whether an RTP payload (without the RTP header) starts a
// keyframe: for VP8 the first packet of a key frame (descriptor S=1, partition 0, and
// the VP8 frame header's P bit clear); for H264 a packet carrying an IDR slice start
// (single NAL type 5, STAP-A containing type 5 or an SPS (7), FU-A with start bit and
// type 5) or an SPS (which precedes every IDR with config-interval=-1). Other codecs
// and malformed payloads give false.
func IsKeyframe(codec string, payload []byte) bool {
	switch strings.ToUpper(codec) {
	case "VP8":
		return isVP8Keyframe(payload)
	case "H264":
		return isH264Keyframe(payload)
	}
	return false
}

func isVP8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	b0 := p[0]
	if b0&0x10 == 0 || b0&0x07 != 0 { // S bit, partition index 0
		return false
	}
	i := 1
	if b0&0x80 != 0 { // X: extension byte
		if len(p) <= i {
			return false
		}
		x := p[i]
		i++
		if x&0x80 != 0 { // I: picture ID
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 { // M: 15-bit
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	if len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0 // P bit of the VP8 frame tag: 0 = key frame
}

func isH264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; {
	case t == 5 || t == 7:
		return true
	case t == 24: // STAP-A: 16-bit size + NAL unit, repeated
		for i := 1; i+2 < len(p); {
			n := int(p[i])<<8 | int(p[i+1])
			i += 2
			if n == 0 || i+n > len(p) {
				return false
			}
			if nt := p[i] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += n
		}
	case t == 28: // FU-A
		return len(p) >= 2 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}
