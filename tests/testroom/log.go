package main

import (
	"fmt"
	"log"
	"os"
	"strings"
)

// Log levels; logs go to stderr and never contain the API secret or full tokens.
const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
)

var logLevel = levelInfo

var logger = log.New(os.Stderr, "testroom ", log.LstdFlags|log.Lmicroseconds)

func setLogLevel(s string) {
	switch strings.ToLower(s) {
	case "debug":
		logLevel = levelDebug
	case "warn", "warning":
		logLevel = levelWarn
	case "error":
		logLevel = levelError
	default:
		logLevel = levelInfo
	}
}

func logf(level int, format string, args ...interface{}) {
	if level < logLevel {
		return
	}
	tag := [...]string{"DEBUG", "INFO", "WARN", "ERROR"}[level]
	logger.Output(2, tag+" "+fmt.Sprintf(format, args...))
}

func debugf(format string, args ...interface{}) { logf(levelDebug, format, args...) }
func infof(format string, args ...interface{})  { logf(levelInfo, format, args...) }
func warnf(format string, args ...interface{})  { logf(levelWarn, format, args...) }
