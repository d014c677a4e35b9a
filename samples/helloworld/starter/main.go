// Command starter executes the hello-world workflow and prints its result.
package main

import (
	"context"
	"log"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/samples/helloworld"
)

func main() {
	hp := os.Getenv("TEMPORAL_ADDRESS")
	if hp == "" {
		hp = "127.0.0.1:7233"
	}
	c, err := client.Dial(client.Options{HostPort: hp})
	if err != nil {
		log.Fatalln("Unable to create client", err)
	}
	defer c.Close()
	options := client.StartWorkflowOptions{ID: "hello_world_workflowID", TaskQueue: helloworld.TaskQueue}
	we, err := c.ExecuteWorkflow(context.Background(), options, helloworld.Workflow, "Temporal")
	if err != nil {
		log.Fatalln("Unable to execute workflow", err)
	}
	log.Println("Started workflow", "WorkflowID", we.GetID(), "RunID", we.GetRunID())
	var result string
	if err := we.Get(context.Background(), &result); err != nil {
		log.Fatalln("Unable get workflow result", err)
	}
	log.Println("Workflow result:", result)
}
