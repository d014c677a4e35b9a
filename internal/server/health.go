package server

import (
	"context"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// healthServices are the names grpc.health.v1 answers for: the server as a
// whole ("") and Temporal's frontend, which the SDK's CheckHealth asks about.
var healthServices = []string{"", "temporal.api.workflowservice.v1.WorkflowService"}

// healthServer is grpc.health.v1 backed by Server.Ready: Check computes
// the answer at the call; Watch streams the status a background loop keeps
// up to date (every healthInterval).
type healthServer struct {
	*health.Server
	s *Server
}

const healthInterval = 250 * time.Millisecond

func (h *healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	known := false
	for _, n := range healthServices {
		known = known || n == req.GetService()
	}
	if !known {
		return h.Server.Check(ctx, req) // NotFound, as the stock server
	}
	return &healthpb.HealthCheckResponse{Status: h.status()}, nil
}

func (h *healthServer) status() healthpb.HealthCheckResponse_ServingStatus {
	if ok, _ := h.s.Ready(); ok {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

// run keeps Watch's status current until ctx is done, then reports
// NOT_SERVING for good (Shutdown).
func (h *healthServer) run(ctx context.Context) {
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		st := h.status()
		for _, n := range healthServices {
			h.SetServingStatus(n, st)
		}
		select {
		case <-ctx.Done():
			h.Shutdown()
			return
		case <-t.C:
		}
	}
}
