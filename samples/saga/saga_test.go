package saga_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/samples/saga"
	"github.com/raftflow/engine/sdk/enginetest"
)

// TestSaga runs the sample as its README does, against an in-process
// engine: the worker of samples/saga/worker and the starter's Place and
// Report. An order to Berlin ships; an order to Atlantis fails at
// shipping and is compensated in reverse order, leaving stock and payments
// as they were.
func TestSaga(t *testing.T) {
	srv := enginetest.Start(t)
	c := srv.Client()
	svc := startWorker(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ok := saga.Order{ID: "1", Item: "widget", Quantity: 2, AmountCents: 2500, ShipTo: "Berlin"}
	res, err := saga.Place(ctx, c, ok)
	if err != nil {
		t.Fatal(err)
	}
	wantTrail := []string{
		"reserve inventory: reserved 2 x widget (res-1)",
		"charge payment: charged $25.00 (ch-1)",
		"ship: shipped with Raft Express (parcel-1)",
	}
	if !slices.Equal(res.Trail, wantTrail) {
		t.Fatalf("trail %q, want %q", res.Trail, wantTrail)
	}
	if svc.Stock("widget") != 8 || svc.Charged() != 2500 {
		t.Fatalf("after shipping: stock %d, charged %d", svc.Stock("widget"), svc.Charged())
	}

	bad := saga.Order{ID: "2", Item: "widget", Quantity: 3, AmountCents: 900, ShipTo: "Atlantis"}
	res, err = saga.Place(ctx, c, bad)
	var failed *saga.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("want a *saga.FailedError, got %v (%+v)", err, res)
	}
	wantTrail = []string{
		"reserve inventory: reserved 3 x widget (res-2)",
		"charge payment: charged $9.00 (ch-2)",
		"ship: FAILED: no carrier delivers to Atlantis",
		"refund payment: refunded $9.00 (ch-2)",
		"release inventory: released 3 x widget (res-2)",
	}
	if !slices.Equal(failed.Trail, wantTrail) {
		t.Fatalf("trail %q, want %q", failed.Trail, wantTrail)
	}
	if svc.Stock("widget") != 8 || svc.Charged() != 2500 {
		t.Fatalf("after compensation: stock %d, charged %d; want 8 and 2500", svc.Stock("widget"), svc.Charged())
	}

	var out strings.Builder
	saga.Report(&out, bad, res, err)
	want := `Order 2 FAILED: order 2 failed at ship: no carrier delivers to Atlantis
Trail:
  1. reserve inventory: reserved 3 x widget (res-2)
  2. charge payment: charged $9.00 (ch-2)
  3. ship: FAILED: no carrier delivers to Atlantis
  4. refund payment: refunded $9.00 (ch-2)
  5. release inventory: released 3 x widget (res-2)
`
	if out.String() != want {
		t.Fatalf("starter prints:\n%s\nwant:\n%s", out.String(), want)
	}

	// Out of stock fails at the first step: nothing to compensate.
	_, err = saga.Place(ctx, c, saga.Order{ID: "3", Item: "widget", Quantity: 99, AmountCents: 100, ShipTo: "Berlin"})
	if !errors.As(err, &failed) || len(failed.Trail) != 1 || !strings.Contains(failed.Trail[0], "only 8 x widget in stock") {
		t.Fatalf("out of stock: %v", err)
	}
}

// TestSagaThreeNodes runs the failing order on a three-node engine whose
// leader is killed after the order was placed: the compensations still run
// in reverse order through the surviving nodes.
func TestSagaThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("three nodes")
	}
	srv := enginetest.Start(t, enginetest.Nodes(3))
	c := srv.Client()
	svc := startWorker(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok := saga.Order{ID: "3", Item: "widget", Quantity: 1, AmountCents: 100, ShipTo: "Berlin"}
	if _, err := saga.Place(ctx, c, ok); err != nil {
		t.Fatal(err)
	}
	srv.Kill(srv.Leader())
	bad := saga.Order{ID: "4", Item: "widget", Quantity: 2, AmountCents: 700, ShipTo: "Atlantis"}
	_, err := saga.Place(ctx, c, bad)
	var failed *saga.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("want a *saga.FailedError, got %v", err)
	}
	if n := len(failed.Trail); n != 5 || !strings.HasPrefix(failed.Trail[3], "refund payment") || !strings.HasPrefix(failed.Trail[4], "release inventory") {
		t.Fatalf("trail %q", failed.Trail)
	}
	if svc.Stock("widget") != 9 || svc.Charged() != 100 {
		t.Fatalf("after compensation: stock %d, charged %d; want 9 and 100", svc.Stock("widget"), svc.Charged())
	}
}

// startWorker runs the sample's worker against srv with 10 widgets in stock
// and returns the services it records into.
func startWorker(t *testing.T, srv *enginetest.Server) *saga.Services {
	t.Helper()
	svc := saga.NewServices(map[string]int{"widget": 10})
	testutil.StartWorker(t, srv.Client(), saga.TaskQueue, func(r worker.Registry) { saga.Register(r, svc) })
	return svc
}
