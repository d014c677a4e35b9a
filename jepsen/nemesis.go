package jepsen

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/raftflow/engine/rpc/adminpb"
)

// Fault kinds.
const (
	KillRandom        = "kill-random"
	KillLeader        = "kill-leader"
	PauseRandom       = "pause-random"
	PauseLeader       = "pause-leader"
	PartitionLeader   = "partition-leader"
	PartitionMajority = "partition-majority"
	PartitionBridge   = "partition-bridge"
	PartitionOneWay   = "partition-oneway"
	PacketLoss        = "loss"
	ClientCut         = "client-cut"
	Membership        = "membership"
	ClockSkew         = "clock-skew"
)

// Groups names sets of kinds for --nemesis.
var Groups = map[string][]string{
	"kill":       {KillRandom, KillLeader},
	"pause":      {PauseRandom, PauseLeader},
	"partition":  {PartitionLeader, PartitionMajority, PartitionBridge, PartitionOneWay},
	"loss":       {PacketLoss},
	"client":     {ClientCut},
	"membership": {Membership},
	"clock":      {ClockSkew},
}

// AllKinds is every fault kind.
var AllKinds = []string{KillRandom, KillLeader, PauseRandom, PauseLeader, PartitionLeader, PartitionMajority,
	PartitionBridge, PartitionOneWay, PacketLoss, ClientCut, Membership, ClockSkew}

// ParseNemeses expands a comma-separated list of kinds and groups ("all").
func ParseNemeses(s string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case f == "all":
			for _, k := range AllKinds {
				add(k)
			}
		case Groups[f] != nil:
			for _, k := range Groups[f] {
				add(k)
			}
		default:
			ok := false
			for _, k := range AllKinds {
				if k == f {
					ok = true
				}
			}
			if !ok {
				return nil, fmt.Errorf("unknown nemesis %q", f)
			}
			add(f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no nemesis given")
	}
	return out, nil
}

// Fault is one scheduled fault: applied At (since traffic began), held for
// Hold, then healed. Pick chooses among nodes where the kind picks at
// random; Param is the loss probability or the clock offset in seconds.
type Fault struct {
	At    time.Duration `json:"at"`
	Kind  string        `json:"kind"`
	Hold  time.Duration `json:"hold"`
	Pick  int           `json:"pick"`
	Param float64       `json:"param,omitempty"`
}

// Schedule is a seeded fault plan; --repro replays one from schedule.json.
type Schedule struct {
	Seed     int64         `json:"seed"`
	Nemeses  []string      `json:"nemeses"`
	Duration time.Duration `json:"duration"`
	Faults   []Fault       `json:"faults"`
}

// NewSchedule draws faults from kinds: quiet 2-6 s, hold 3-10 s, repeated
// until the traffic's last 5 s, which stay quiet.
func NewSchedule(seed int64, kinds []string, d time.Duration) *Schedule {
	rng := rand.New(rand.NewSource(seed))
	s := &Schedule{Seed: seed, Nemeses: kinds, Duration: d}
	t := 3 * time.Second
	for {
		t += time.Duration(2000+rng.Intn(4000)) * time.Millisecond
		hold := time.Duration(3000+rng.Intn(7000)) * time.Millisecond
		if t+hold > d-5*time.Second {
			break
		}
		f := Fault{At: t, Kind: kinds[rng.Intn(len(kinds))], Hold: hold, Pick: rng.Intn(1 << 20)}
		switch f.Kind {
		case PacketLoss:
			f.Param = 0.1 + 0.3*rng.Float64()
		case ClockSkew:
			f.Param = float64(rng.Intn(20) - 10)
			if f.Param == 0 {
				f.Param = 7
			}
		}
		s.Faults = append(s.Faults, f)
		t += hold
	}
	return s
}

// LoadSchedule reads a schedule.json written by a run.
func LoadSchedule(path string) (*Schedule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Schedule
	return &s, json.Unmarshal(b, &s)
}

// Event is one fault as it happened (the nemesis timeline).
type Event struct {
	Kind   string   `json:"kind"`
	Start  int64    `json:"start"` // ns since the run began
	End    int64    `json:"end"`
	Nodes  []string `json:"nodes"`
	Detail string   `json:"detail,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Nemesis applies a schedule to a cluster.
type Nemesis struct {
	cl  *Cluster
	rec *Recorder
	log func(string, ...any)

	mu       sync.Mutex
	timeline []Event
}

func NewNemesis(cl *Cluster, rec *Recorder, logf func(string, ...any)) *Nemesis {
	return &Nemesis{cl: cl, rec: rec, log: logf}
}

// Timeline returns the events so far.
func (n *Nemesis) Timeline() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := append([]Event(nil), n.timeline...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// Run applies every fault at its time; t0 is when traffic began.
func (n *Nemesis) Run(ctx context.Context, s *Schedule, t0 time.Time) {
	for _, f := range s.Faults {
		if wait := time.Until(t0.Add(f.At)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return
		}
		n.apply(ctx, f)
	}
}

func (n *Nemesis) pick(f Fault, k int) int { return (f.Pick + k) % len(n.cl.Nodes) }

func (n *Nemesis) leaderOr(f Fault) (*Node, string) {
	if l := n.cl.Leader(); l != nil {
		return l, "leader"
	}
	return n.cl.Nodes[n.pick(f, 0)], "no leader known: random node"
}

func (n *Nemesis) others(x *Node) []*Node {
	var out []*Node
	for _, o := range n.cl.Nodes {
		if o != x {
			out = append(out, o)
		}
	}
	return out
}

// isolate cuts x off from the given peers in both directions (rules in x's
// namespace only).
func (n *Nemesis) isolate(x *Node, peers ...*Node) error {
	for _, p := range peers {
		if err := n.cl.Net.IPTables(x.Index, "-A", "INPUT", "-s", p.IP, "-j", "DROP"); err != nil {
			return err
		}
		if err := n.cl.Net.IPTables(x.Index, "-A", "OUTPUT", "-d", p.IP, "-j", "DROP"); err != nil {
			return err
		}
	}
	return nil
}

func hold(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (n *Nemesis) apply(ctx context.Context, f Fault) {
	ev := Event{Kind: f.Kind, Start: n.rec.Now()}
	var err error
	var heal func()
	switch f.Kind {
	case KillRandom, KillLeader:
		x := n.cl.Nodes[n.pick(f, 0)]
		if f.Kind == KillLeader {
			x, ev.Detail = n.leaderOr(f)
		}
		ev.Nodes = []string{x.ID}
		x.Kill()
		heal = func() { err = x.Start() }
	case PauseRandom, PauseLeader:
		x := n.cl.Nodes[n.pick(f, 0)]
		if f.Kind == PauseLeader {
			x, ev.Detail = n.leaderOr(f)
		}
		ev.Nodes = []string{x.ID}
		x.Pause()
		heal = x.Resume
	case PartitionLeader, PartitionMajority:
		x := n.cl.Nodes[n.pick(f, 0)]
		if f.Kind == PartitionLeader {
			x, ev.Detail = n.leaderOr(f)
		}
		ev.Nodes = []string{x.ID}
		ev.Detail = strings.TrimSpace(ev.Detail + " isolated from the other two")
		err = n.isolate(x, n.others(x)...)
		heal = func() { n.cl.Net.Heal(x.Index) }
	case PartitionBridge:
		b := n.cl.Nodes[n.pick(f, 0)]
		o := n.others(b)
		ev.Nodes = []string{o[0].ID, b.ID, o[1].ID}
		ev.Detail = fmt.Sprintf("%s and %s cut apart; %s sees both", o[0].ID, o[1].ID, b.ID)
		err = n.isolate(o[0], o[1])
		heal = func() { n.cl.Net.Heal(o[0].Index) }
	case PartitionOneWay:
		a, b := n.cl.Nodes[n.pick(f, 0)], n.cl.Nodes[n.pick(f, 1)]
		ev.Nodes = []string{a.ID, b.ID}
		ev.Detail = fmt.Sprintf("%s hears nothing from %s; %s hears %s", a.ID, b.ID, b.ID, a.ID)
		err = n.cl.Net.IPTables(a.Index, "-A", "INPUT", "-s", b.IP, "-j", "DROP")
		heal = func() { n.cl.Net.Heal(a.Index) }
	case PacketLoss:
		ev.Detail = fmt.Sprintf("drop %.0f%% of packets into every node", f.Param*100)
		for _, x := range n.cl.Nodes {
			ev.Nodes = append(ev.Nodes, x.ID)
			if e := n.cl.Net.IPTables(x.Index, "-A", "INPUT", "-m", "statistic", "--mode", "random",
				"--probability", fmt.Sprintf("%.3f", f.Param), "-j", "DROP"); e != nil {
				err = e
			}
		}
		heal = func() {
			for _, x := range n.cl.Nodes {
				n.cl.Net.Heal(x.Index)
			}
		}
	case ClientCut:
		x := n.cl.Nodes[n.pick(f, 0)]
		ev.Nodes = []string{x.ID}
		ev.Detail = "clients cannot reach " + x.ID
		err = n.cl.Net.IPTables(x.Index, "-A", "INPUT", "-s", n.cl.Net.ClientIP, "-j", "DROP")
		if err == nil {
			err = n.cl.Net.IPTables(x.Index, "-A", "OUTPUT", "-d", n.cl.Net.ClientIP, "-j", "DROP")
		}
		heal = func() { n.cl.Net.Heal(x.Index) }
	case Membership:
		x := n.cl.Nodes[n.pick(f, 0)]
		ev.Nodes = []string{x.ID}
		err = n.removeAndWipe(ctx, x)
		if err != nil {
			ev.Detail = "remove failed; node left as it was"
			heal = func() {}
		} else {
			ev.Detail = "removed, data wiped, re-added empty"
			heal = func() { err = x.Start() }
		}
	case ClockSkew:
		// The leader's clock is the one that stamps proposals and fires
		// timers, so skew it there.
		x, who := n.leaderOr(f)
		off := time.Duration(f.Param * float64(time.Second))
		ev.Nodes = []string{x.ID}
		ev.Detail = fmt.Sprintf("%s clock %+v (chaos builds only)", who, off)
		err = x.SetClockOffset(off)
		heal = func() { x.SetClockOffset(0) }
	default:
		err = fmt.Errorf("unknown fault %q", f.Kind)
		heal = func() {}
	}
	n.log("nemesis: %s %v %s", f.Kind, ev.Nodes, ev.Detail)
	hold(ctx, f.Hold)
	heal()
	ev.End = n.rec.Now()
	if err != nil {
		ev.Error = err.Error()
		n.log("nemesis: %s error: %v", f.Kind, err)
	}
	n.mu.Lock()
	n.timeline = append(n.timeline, ev)
	n.mu.Unlock()
}

// removeAndWipe removes x from the raft configuration through another node
// (forwarded to the leader), kills it and deletes its data.
func (n *Nemesis) removeAndWipe(ctx context.Context, x *Node) error {
	var last error
	// Retry for a while: right after an election a follower's leader hint
	// can be stale ("forwarded to a node that is not the leader").
	deadline := time.Now().Add(15 * time.Second)
	for done := false; !done && time.Now().Before(deadline) && ctx.Err() == nil; {
		for _, o := range n.others(x) {
			if !o.Running() {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			last = n.cl.Admin(cctx, o, func(a adminpb.AdminServiceClient) error {
				_, err := a.Remove(cctx, &adminpb.RemoveRequest{NodeId: x.ID})
				return err
			})
			cancel()
			if last == nil {
				done = true
				break
			}
		}
		if !done {
			hold(ctx, 500*time.Millisecond)
		}
	}
	if last != nil {
		// The removal may still have committed (the answer was lost);
		// only wipe a node that is certainly out, so ask the leader's
		// configuration for a few seconds before giving up.
		out := false
		for i := 0; i < 25 && !out; i++ {
			out = n.removed(x)
			if !out {
				hold(ctx, 200*time.Millisecond)
			}
		}
		if !out {
			return last
		}
	}
	x.Kill()
	return x.Wipe()
}

// removed reports whether the current leader (another node) has x out of
// its configuration.
func (n *Nemesis) removed(x *Node) bool {
	for _, o := range n.others(x) {
		if !o.Running() {
			continue
		}
		st, err := o.Status()
		if err != nil || st.State != "Leader" {
			continue
		}
		for _, m := range st.Members {
			if m.ID == x.ID {
				return false
			}
		}
		return true
	}
	return false
}

// HealAll undoes every fault: network rules, pauses, clocks, dead nodes.
// A node the cluster removed (its raft reports Shutdown, e.g. a Remove whose
// answer was lost) is wiped and joins again, as an operator would do.
func (n *Nemesis) HealAll() error {
	var first error
	for _, x := range n.cl.Nodes {
		x.Resume()
		x.SetClockOffset(0)
		if err := n.cl.Net.Heal(x.Index); err != nil && first == nil {
			first = err
		}
		if err := x.Start(); err != nil && first == nil {
			first = err
		}
	}
	for _, x := range n.cl.Nodes {
		if st, err := x.Status(); err == nil && st.State == "Shutdown" && n.removed(x) {
			ev := Event{Kind: Membership, Start: n.rec.Now(), Nodes: []string{x.ID}, Detail: "heal: removed node wiped and re-added"}
			x.Kill()
			if err := x.Wipe(); err != nil && first == nil {
				first = err
			}
			if err := x.Start(); err != nil && first == nil {
				first = err
			}
			ev.End = n.rec.Now()
			n.log("nemesis: %s %v %s", ev.Kind, ev.Nodes, ev.Detail)
			n.mu.Lock()
			n.timeline = append(n.timeline, ev)
			n.mu.Unlock()
		}
	}
	return first
}
