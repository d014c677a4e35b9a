// Command rollingload is the workload of scripts/rolling-restart.sh: a
// worker and a starter on one cluster-aware client (sdk.Dial over every
// node), starting workflows (a timer, then an activity) at a steady rate
// until its stop file appears, then waiting for every one of them. It
// exits non-zero unless every workflow it started completed with the
// expected result, so nothing acknowledged was lost.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/sdk"
)

const queue = "rolling-restart"

func Greet(ctx workflow.Context, i int) (string, error) {
	if err := workflow.Sleep(ctx, 50*time.Millisecond); err != nil {
		return "", err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, Hello, i).Get(ctx, &out)
	return out, err
}

func Hello(_ context.Context, i int) (string, error) { return fmt.Sprintf("hello %d", i), nil }

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:7233", "comma-separated gRPC addresses of every node")
	rate := flag.Duration("every", 20*time.Millisecond, "start one workflow this often")
	stop := flag.String("stop-file", "", "stop starting workflows once this file exists")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := sdk.Dial(context.Background(), sdk.Options{Endpoints: sdk.SplitEndpoints(*endpoints), Logger: logger, RetryTimeout: 2 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(Greet)
	w.RegisterActivity(Hello)
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	run := fmt.Sprintf("rr-%d", time.Now().UnixNano())
	var started, completed, failed atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(*rate)
	defer tick.Stop()
	last := time.Now()
	for i := 0; ; i++ {
		if _, err := os.Stat(*stop); *stop != "" && err == nil {
			break
		}
		<-tick.C
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			id := fmt.Sprintf("%s-%d", run, i)
			r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, Greet, i)
			if err != nil {
				failed.Add(1)
				log.Printf("start %s: %v", id, err)
				return
			}
			started.Add(1)
			var out string
			if err := r.Get(ctx, &out); err != nil || out != fmt.Sprintf("hello %d", i) {
				failed.Add(1)
				log.Printf("result of %s: %q %v", id, out, err)
				return
			}
			completed.Add(1)
		}(i)
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			log.Printf("load: started %d, completed %d, failed %d", started.Load(), completed.Load(), failed.Load())
		}
	}
	wg.Wait()
	fmt.Printf("rolling load: started %d, completed %d, failed %d\n", started.Load(), completed.Load(), failed.Load())
	if failed.Load() > 0 || started.Load() != completed.Load() || started.Load() == 0 {
		os.Exit(1)
	}
}
