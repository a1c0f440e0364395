package media

// The GStreamer elements a source is made of, and whether they are installed: the test
// room checks a scenario's media before it starts, so a machine without a plugin (say
// gstreamer1.0-x, whose textoverlay labels the cameras) refuses the scenario with the
// reason instead of publishing less than it says.

/*
#include <stdlib.h>
#include "source.h"
*/
import "C"

import (
	"fmt"
	"sort"
	"strings"
	"unsafe"
)

// elementPackages maps the elements pipelineDesc uses to the Debian package holding
// their plugin (dpkg -S on the plugin's .so).
var elementPackages = map[string]string{
	"audiotestsrc": "gstreamer1.0-plugins-base",
	"videotestsrc": "gstreamer1.0-plugins-base",
	"opusenc":      "gstreamer1.0-plugins-base",
	"appsink":      "gstreamer1.0-plugins-base",
	"textoverlay":  "gstreamer1.0-x",
	"timeoverlay":  "gstreamer1.0-x",
	"vp8enc":       "gstreamer1.0-plugins-good",
	"rtpvp8pay":    "gstreamer1.0-plugins-good",
	"rtph264pay":   "gstreamer1.0-plugins-good",
	"rtpopuspay":   "gstreamer1.0-plugins-good",
	"x264enc":      "gstreamer1.0-plugins-ugly",
}

// ElementPackage is the Debian package of element, or "" if unknown.
func ElementPackage(element string) string { return elementPackages[element] }

// Elements lists the GStreamer elements the pipeline of cfg is made of (from the
// description Start would build; caps filters are not elements of their own).
func Elements(cfg Config) ([]string, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	var out []string
	for _, seg := range strings.Split(pipelineDesc(&cfg), "!") {
		f := strings.Fields(seg)
		if len(f) == 0 || strings.Contains(f[0], "/") {
			continue
		}
		out = append(out, f[0])
	}
	return out, nil
}

// HaveElement reports whether the GStreamer registry has the element.
func HaveElement(name string) bool {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.rr_media_have_element(cs) != 0
}

// MissingElements returns the elements of cfg that are not installed.
func MissingElements(cfg Config) ([]string, error) {
	els, err := Elements(cfg)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, e := range els {
		if !HaveElement(e) {
			missing = append(missing, e)
		}
	}
	return missing, nil
}

// DescribeMissing words a list of missing elements with their packages:
// `"x264enc" (Debian package gstreamer1.0-plugins-ugly), ...`.
func DescribeMissing(elements []string) string {
	seen := map[string]bool{}
	var parts, pkgs []string
	for _, e := range elements {
		if seen[e] {
			continue
		}
		seen[e] = true
		p := ElementPackage(e)
		if p == "" {
			parts = append(parts, fmt.Sprintf("%q (package unknown)", e))
			continue
		}
		parts = append(parts, fmt.Sprintf("%q (Debian package %s)", e, p))
		if !seen["pkg:"+p] {
			seen["pkg:"+p] = true
			pkgs = append(pkgs, p)
		}
	}
	sort.Strings(pkgs)
	s := "GStreamer element " + strings.Join(parts, ", ") + " is not installed"
	if len(parts) > 1 {
		s = "GStreamer elements " + strings.Join(parts, ", ") + " are not installed"
	}
	if len(pkgs) > 0 {
		s += "; install with: apt-get install " + strings.Join(pkgs, " ")
	}
	return s
}
