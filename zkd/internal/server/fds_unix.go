package server

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func maxFDs() int64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return -1
	}
	return int64(r.Cur)
}

// bootMs is the system uptime at process start, so elapsedMs matches
// Apache's Time.currentElapsedTime (System.nanoTime in ms, counted from boot
// on Linux) printed by cons as lresp.
var bootMs, startMono = func() (int64, time.Time) {
	now := time.Now()
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, now
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	if err != nil {
		return 0, now
	}
	return int64(secs * 1000), now
}()

func elapsedMs() int64 { return bootMs + time.Since(startMono).Milliseconds() }
