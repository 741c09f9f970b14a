package server

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// PprofEnv names the environment variable that, when set to a listen
// address (e.g. 127.0.0.1:6060 or 127.0.0.1:0), serves Go's net/http/pprof
// on it for profiling a running server. Off by default: the profiles
// expose the process's internals, so bind it to loopback only.
const PprofEnv = "ZKD_PPROF_ADDR"

// startPprof serves /debug/pprof/ when PprofEnv is set. A bind failure is
// logged and the server runs on without it.
func (s *Server) startPprof() {
	addr := os.Getenv(PprofEnv)
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.log.Warn().Err(err).Str("addr", addr).Msgf("cannot bind the pprof address from %s; profiling stays off (choose a free port)", PprofEnv)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.log.Info().Str("addr", ln.Addr().String()).Msg("pprof serving (" + PprofEnv + ")")
	go func() {
		<-s.quit
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(ln) }()
}
