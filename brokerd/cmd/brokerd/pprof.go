package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// pprofEnv names the environment variable that, when set to a listen
// address (e.g. 127.0.0.1:6061), serves Go's net/http/pprof for profiling
// a running broker (brokerbench's runs). Off by default; bind it to
// loopback only.
const pprofEnv = "BROKERD_PPROF_ADDR"

// startPprof serves /debug/pprof/ when pprofEnv is set; the returned
// function stops it. A bind failure is logged and the broker runs on.
func startPprof(logger zerolog.Logger) func() {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Warn().Err(err).Str("addr", addr).Msg("cannot bind the " + pprofEnv + " address; profiling stays off (choose a free port)")
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info().Str("component", "brokerd").Str("addr", ln.Addr().String()).Msg("pprof serving (" + pprofEnv + ")")
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }
}
