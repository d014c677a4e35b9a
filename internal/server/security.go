package server

import (
	"net/http"
	"strings"

	"github.com/raftflow/engine/internal/auth"
)

// guardHTTP puts the HTTP port's details behind the admin key (design
// guide §5: HTTP is health only without credentials):
//
//   - /livez, /healthz, /readyz: always open (probes).
//   - /status, /digest: the admin key (auth.Keys.AdminKey) when any key is
//     set, unless Config.PublicStatus; open when no key is set at all.
//   - /metrics: the same, unless Config.PublicMetrics (scrapers without
//     credentials). Its task queue and namespace labels are client data,
//     bounded in number (internal/metrics).
//   - /debug/pprof/ (with Config.Pprof): the admin key when any key is set,
//     always (cmdline shows the flags, a key given as a flag included).
//
// Everything else is the mux's (404).
func (s *Server) guardHTTP(mux *http.ServeMux) http.Handler {
	admin := auth.AdminHTTP(s.cfg.keys(), mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/debug/pprof/"):
			admin.ServeHTTP(w, r)
		case (p == "/status" || p == "/digest") && !s.cfg.PublicStatus:
			admin.ServeHTTP(w, r)
		case p == "/metrics" && !s.cfg.PublicMetrics:
			admin.ServeHTTP(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
}
