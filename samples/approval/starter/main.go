// Command starter drives the approval sample:
//
//	starter start   -id R1 [-requester you -amount-cents 120000 -approver ann -escalation bob -deadline 2m -escalation-deadline 5m]
//	                 starts request R1 and waits for its outcome
//	starter status  -id R1                   prints where R1 stands (the state query)
//	starter approve -id R1 -by ann [-comment ...]
//	starter reject  -id R1 -by ann [-comment ...]
//
// It dials every node listed in TEMPORAL_ADDRESS (comma-separated, default
// 127.0.0.1:7233) with sdk.Dial.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/raftflow/engine/samples/approval"
	"github.com/raftflow/engine/sdk"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	id := fs.String("id", "", "request ID (required)")
	req := approval.Request{Description: "new laptop"}
	var vote approval.Vote
	switch cmd {
	case "start":
		fs.StringVar(&req.Requester, "requester", requester(), "who asks (notified of the outcome)")
		fs.StringVar(&req.Description, "description", req.Description, "what is requested")
		fs.Int64Var(&req.AmountCents, "amount-cents", 120000, "amount in cents")
		fs.StringVar(&req.Approver, "approver", "ann", "who decides first")
		fs.StringVar(&req.Escalation, "escalation", "bob", "who decides after the deadline")
		fs.DurationVar(&req.Deadline, "deadline", 2*time.Minute, "time the approver has")
		fs.DurationVar(&req.EscalationDeadline, "escalation-deadline", 5*time.Minute, "time the escalation approver has")
	case "approve", "reject":
		fs.StringVar(&vote.By, "by", "", "who votes (required)")
		fs.StringVar(&vote.Comment, "comment", "", "why")
	case "status":
	default:
		usage()
	}
	fs.Parse(os.Args[2:])
	if *id == "" || ((cmd == "approve" || cmd == "reject") && vote.By == "") {
		fs.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: endpoints()})
	cancel()
	if err != nil {
		log.Fatalln("Unable to create client", err)
	}
	defer c.Close()
	ctx = context.Background()

	switch cmd {
	case "start":
		req.ID = *id
		run, err := approval.Start(ctx, c, req)
		if err != nil {
			log.Fatalln("Unable to start", err)
		}
		fmt.Printf("Request %s waits for %s (workflow %s). Approve with:\n  go run ./samples/approval/starter approve -id %s -by %s\n",
			req.ID, req.Approver, run.ID(), req.ID, req.Approver)
		st, err := run.Get(ctx)
		if err != nil {
			log.Fatalln("Request failed", err)
		}
		printState(st)
	case "status":
		st, err := approval.Current(ctx, c, *id)
		if err != nil {
			log.Fatalln("Unable to query", err)
		}
		printState(st)
	case "approve", "reject":
		if err := approval.Decide(ctx, c, *id, cmd == "approve", vote); err != nil {
			log.Fatalln("Unable to signal", err)
		}
		fmt.Printf("Sent %s from %s to request %s.\n", cmd, vote.By, *id)
	}
}

func printState(st approval.State) {
	fmt.Printf("Status: %s (approver %s, deadline %s, escalated %v)\n", st.Status, st.Approver, st.Deadline.Format(time.RFC3339), st.Escalated)
	if st.DecidedBy != "" {
		fmt.Printf("Decided by %s: %q\n", st.DecidedBy, st.Comment)
	}
}

func requester() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "requester"
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: starter start|status|approve|reject -id ID [flags]")
	os.Exit(2)
}

func endpoints() []string {
	if eps := sdk.SplitEndpoints(os.Getenv("TEMPORAL_ADDRESS")); len(eps) > 0 {
		return eps
	}
	return []string{"127.0.0.1:7233"}
}
