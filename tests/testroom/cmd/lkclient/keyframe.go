package main

import (
	"strings"

	"roomrec/testroom/media"
)

func isKeyframe(mime string, payload []byte) bool {
	return media.IsKeyframe(strings.TrimPrefix(strings.ToLower(mime), "video/"), payload)
}
