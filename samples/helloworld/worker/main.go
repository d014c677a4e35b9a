// Command worker runs the hello-world worker against a raftflow engine
// (TEMPORAL_ADDRESS, default 127.0.0.1:7233), exactly as against Temporal.
package main

import (
	"log"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/samples/helloworld"
)

func main() {
	c, err := client.Dial(client.Options{HostPort: hostPort()})
	if err != nil {
		log.Fatalln("Unable to create client", err)
	}
	defer c.Close()
	w := worker.New(c, helloworld.TaskQueue, worker.Options{})
	w.RegisterWorkflow(helloworld.Workflow)
	w.RegisterActivity(helloworld.Activity)
	if err := w.Run(worker.InterruptCh()); err != nil {
		log.Fatalln("Unable to start worker", err)
	}
}

func hostPort() string {
	if a := os.Getenv("TEMPORAL_ADDRESS"); a != "" {
		return a
	}
	return "127.0.0.1:7233"
}
