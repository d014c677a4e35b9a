// Command worker runs the saga sample's worker: the order workflow and the
// inventory, payment and shipping activities (in memory, stocked with 100
// widgets and 100 gadgets). It dials every node listed in TEMPORAL_ADDRESS
// (comma-separated, default 127.0.0.1:7233) with sdk.Dial.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/samples/saga"
	"github.com/raftflow/engine/sdk"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: endpoints()})
	cancel()
	if err != nil {
		log.Fatalln("Unable to create client", err)
	}
	defer c.Close()
	w := worker.New(c, saga.TaskQueue, worker.Options{})
	saga.Register(w, saga.NewServices(map[string]int{"widget": 100, "gadget": 100}))
	if err := w.Run(worker.InterruptCh()); err != nil {
		log.Fatalln("Unable to start worker", err)
	}
}

func endpoints() []string {
	if eps := sdk.SplitEndpoints(os.Getenv("TEMPORAL_ADDRESS")); len(eps) > 0 {
		return eps
	}
	return []string{"127.0.0.1:7233"}
}
