package saga

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

// Reservation is stock set aside for an order.
type Reservation struct {
	ID       string
	Item     string
	Quantity int
}

// Charge is money taken for an order.
type Charge struct {
	ID          string
	AmountCents int64
}

// Shipment is a parcel on its way.
type Shipment struct {
	ID      string
	Carrier string
}

// Undeliverable lists the destinations no carrier serves: shipping there
// fails, which makes the saga compensate.
var Undeliverable = map[string]bool{"Atlantis": true, "El Dorado": true}

// Services stands in for the three services an order touches: inventory,
// payments and shipping, kept in memory. Its exported methods are the
// activities (register the value with worker.RegisterActivity). Every
// activity is idempotent, keyed by the order ID, because an activity may
// run more than once (a retry after a lost answer).
type Services struct {
	mu           sync.Mutex
	stock        map[string]int
	reservations map[string]Reservation // by reservation ID
	charges      map[string]Charge      // by charge ID, until refunded
	refunded     map[string]bool
	shipments    map[string]Shipment
}

// NewServices returns services with the given stock per item.
func NewServices(stock map[string]int) *Services {
	s := &Services{
		stock: map[string]int{}, reservations: map[string]Reservation{},
		charges: map[string]Charge{}, refunded: map[string]bool{}, shipments: map[string]Shipment{},
	}
	for item, n := range stock {
		s.stock[item] = n
	}
	return s
}

// ReserveInventory sets the order's items aside.
func (s *Services) ReserveInventory(ctx context.Context, o Order) (Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Reservation{ID: "res-" + o.ID, Item: o.Item, Quantity: o.Quantity}
	if _, ok := s.reservations[r.ID]; ok {
		return r, nil
	}
	if s.stock[o.Item] < o.Quantity {
		return Reservation{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("only %d x %s in stock", s.stock[o.Item], o.Item), "OutOfStock", nil)
	}
	s.stock[o.Item] -= o.Quantity
	s.reservations[r.ID] = r
	activity.GetLogger(ctx).Info("inventory reserved", "reservation", r.ID)
	return r, nil
}

// ReleaseInventory puts a reservation back in stock (compensation).
func (s *Services) ReleaseInventory(ctx context.Context, r Reservation) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reservations[r.ID]; !ok {
		return "nothing to release for " + r.ID, nil
	}
	delete(s.reservations, r.ID)
	s.stock[r.Item] += r.Quantity
	activity.GetLogger(ctx).Info("inventory released", "reservation", r.ID)
	return fmt.Sprintf("released %d x %s (%s)", r.Quantity, r.Item, r.ID), nil
}

// ChargePayment charges the order's amount.
func (s *Services) ChargePayment(ctx context.Context, o Order) (Charge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Charge{ID: "ch-" + o.ID, AmountCents: o.AmountCents}
	if o.AmountCents <= 0 {
		return Charge{}, temporal.NewNonRetryableApplicationError("nothing to charge", "BadAmount", nil)
	}
	if _, ok := s.charges[c.ID]; !ok && !s.refunded[c.ID] {
		s.charges[c.ID] = c
		activity.GetLogger(ctx).Info("payment charged", "charge", c.ID)
	}
	return c, nil
}

// RefundPayment refunds a charge (compensation).
func (s *Services) RefundPayment(ctx context.Context, c Charge) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.charges[c.ID]; !ok {
		return "nothing to refund for " + c.ID, nil
	}
	delete(s.charges, c.ID)
	s.refunded[c.ID] = true
	activity.GetLogger(ctx).Info("payment refunded", "charge", c.ID)
	return fmt.Sprintf("refunded %s (%s)", money(c.AmountCents), c.ID), nil
}

// Ship hands the order to a carrier; destinations in Undeliverable fail
// for good.
func (s *Services) Ship(ctx context.Context, o Order) (Shipment, error) {
	if Undeliverable[o.ShipTo] {
		return Shipment{}, temporal.NewNonRetryableApplicationError("no carrier delivers to "+o.ShipTo, "Undeliverable", nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := Shipment{ID: "parcel-" + o.ID, Carrier: "Raft Express"}
	s.shipments[sh.ID] = sh
	activity.GetLogger(ctx).Info("shipped", "parcel", sh.ID, "to", o.ShipTo)
	return sh, nil
}

// Stock is the items of item in stock.
func (s *Services) Stock(item string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stock[item]
}

// Charged is the total amount charged and not refunded, in cents.
func (s *Services) Charged() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for _, c := range s.charges {
		sum += c.AmountCents
	}
	return sum
}

// Register registers the order workflow and s's activities on a worker.
func Register(r worker.Registry, s *Services) {
	r.RegisterWorkflow(OrderWorkflow)
	// Stock and Charged are not activities.
	r.RegisterActivityWithOptions(s, activity.RegisterOptions{SkipInvalidStructFunctions: true})
}
