// Command starter places one order through the saga sample's workflow and
// prints the outcome with its trail. By default the order ships to
// Atlantis, where no carrier delivers: shipping fails, the payment is
// refunded and the inventory released, in that order.
//
//	go run ./samples/saga/starter                  # fails and compensates
//	go run ./samples/saga/starter -ship-to Berlin  # ships
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/raftflow/engine/samples/saga"
	"github.com/raftflow/engine/sdk"
)

func main() {
	o := saga.Order{}
	flag.StringVar(&o.ID, "id", fmt.Sprintf("%d", time.Now().Unix()), "order ID (the workflow ID is order-<id>)")
	flag.StringVar(&o.Item, "item", "widget", "item to order")
	flag.IntVar(&o.Quantity, "quantity", 2, "how many")
	flag.Int64Var(&o.AmountCents, "amount-cents", 2500, "price in cents")
	flag.StringVar(&o.ShipTo, "ship-to", "Atlantis", "destination (Atlantis and El Dorado are undeliverable)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: endpoints()})
	if err != nil {
		log.Fatalln("Unable to create client", err)
	}
	defer c.Close()
	res, err := saga.Place(ctx, c, o)
	saga.Report(os.Stdout, o, res, err)
	if err != nil {
		os.Exit(1)
	}
}

func endpoints() []string {
	if eps := sdk.SplitEndpoints(os.Getenv("TEMPORAL_ADDRESS")); len(eps) > 0 {
		return eps
	}
	return []string{"127.0.0.1:7233"}
}
