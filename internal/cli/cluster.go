// Package cli is the engine binary's operator commands:
//
//	engine cluster status|members|remove NODE|transfer-leadership [NODE]|snapshot
//
// Each talks to one node's gRPC address (the AdminService); followers
// forward what only the leader can do.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/rpc/adminpb"
)

const clusterUsage = `Usage: engine cluster [flags] COMMAND [ARGS] [flags]

Commands:
  status                       this node's view: state, leader, term, indexes, members
  members                      the raft configuration with every member's addresses
  remove NODE                  remove a member (on the leader; forwarded)
  transfer-leadership [NODE]   hand leadership to NODE (default: the most up-to-date voter)
  snapshot                     make the node at --address take a raft snapshot now

Every flag can also be set as ENGINE_<FLAG> in the environment (ENGINE_ADDRESS,
ENGINE_TLS_CA, ENGINE_ADMIN_API_KEY, ...); flags win. Every command is an
AdminService call: it sends --admin-api-key when set, else --api-key.
Exit status is 0 on success, 1 when the call fails, 2 on bad usage.

Flags:
`

type clusterOptions struct {
	address, output        string
	timeout                time.Duration
	tls                    auth.TLSFiles
	serverName             string
	apiKey, apiKeyFile     string
	adminKey, adminKeyFile string
	stdout, stderr         io.Writer // where output goes
}

// Cluster runs `engine cluster` with args (those after "cluster") and
// returns the process exit status.
func Cluster(args []string, stdout, stderr io.Writer) int {
	o := &clusterOptions{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("engine cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), clusterUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.address, "address", "127.0.0.1:7233", "gRPC address of any cluster node")
	fs.StringVar(&o.output, "o", "text", "output format: text or json")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
	fs.StringVar(&o.tls.CA, "tls-ca", "", "CA bundle (PEM) that verifies the node's certificate; enables TLS")
	fs.StringVar(&o.tls.Cert, "tls-cert", "", "client certificate (PEM) for mutual TLS; enables TLS")
	fs.StringVar(&o.tls.Key, "tls-key", "", "key (PEM) of --tls-cert")
	fs.StringVar(&o.serverName, "tls-server-name", "", "name to verify the node's certificate against (default: the host of --address); enables TLS")
	fs.StringVar(&o.apiKey, "api-key", "", "API key sent as authorization: Bearer <key>")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "file whose first line is the API key")
	fs.StringVar(&o.adminKey, "admin-api-key", "", "admin API key (the nodes' --admin-api-key), sent instead of --api-key")
	fs.StringVar(&o.adminKeyFile, "admin-api-key-file", "", "file whose first line is the admin API key")
	if err := ApplyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "engine cluster:", err)
		return 2
	}
	// Flags may come before and after the command.
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return usageStatus(err)
	}
	if o.output != "text" && o.output != "json" {
		fmt.Fprintf(stderr, "engine cluster: -o %q: want text or json\n", o.output)
		return 2
	}
	if len(positional) == 0 {
		fs.Usage()
		return 2
	}
	cmd, cargs := positional[0], positional[1:]
	want := map[string][2]int{"status": {0, 0}, "members": {0, 0}, "remove": {1, 1}, "transfer-leadership": {0, 1}, "snapshot": {0, 0}}
	n, ok := want[cmd]
	if !ok || len(cargs) < n[0] || len(cargs) > n[1] {
		if !ok {
			fmt.Fprintf(stderr, "engine cluster: unknown command %q\n", cmd)
		} else {
			fmt.Fprintf(stderr, "engine cluster %s: wrong number of arguments\n", cmd)
		}
		fs.Usage()
		return 2
	}
	if err := o.run(cmd, cargs); err != nil {
		fmt.Fprintf(stderr, "engine cluster %s: %s\n", cmd, describe(err))
		return 1
	}
	return 0
}

// parseInterleaved parses fs's flags wherever they appear in args and
// returns the other arguments in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if args = fs.Args(); len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func usageStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// describe renders a gRPC error as "Code: message".
func describe(err error) string {
	if s, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s: %s", s.Code(), s.Message())
	}
	return err.Error()
}

// ApplyEnv sets every flag of fs from ENGINE_<FLAG> when present (dashes
// become underscores), so that flags parsed afterwards win.
func ApplyEnv(fs *flag.FlagSet) error {
	var first error
	fs.VisitAll(func(f *flag.Flag) {
		name := "ENGINE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil && first == nil {
				first = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	return first
}

func (o *clusterOptions) dial() (*grpc.ClientConn, error) {
	tcfg, err := auth.ClientConfig(o.tls, o.serverName)
	if err != nil {
		return nil, err
	}
	key, err := auth.ReadKey(o.apiKey, o.apiKeyFile)
	if err != nil {
		return nil, err
	}
	// Every command is an AdminService call: the admin key when given.
	admin, err := auth.ReadKey(o.adminKey, o.adminKeyFile)
	if err != nil {
		return nil, err
	}
	if admin != "" {
		key = admin
	}
	opts := []grpc.DialOption{auth.DialCredentials(tcfg)}
	if key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(key)))
	}
	return grpc.NewClient(o.address, opts...)
}

func (o *clusterOptions) run(cmd string, args []string) error {
	conn, err := o.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	c := adminpb.NewAdminServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	switch cmd {
	case "status":
		st, err := c.Status(ctx, &adminpb.StatusRequest{})
		if err != nil {
			return err
		}
		return o.print(st, func(w io.Writer) { printStatus(w, st) })
	case "members":
		st, err := c.Status(ctx, &adminpb.StatusRequest{})
		if err != nil {
			return err
		}
		if o.output == "json" {
			return o.printJSON(map[string]any{"members": jsonList(st.Members)})
		}
		printMembers(o.stdout, st.Members)
		return nil
	case "remove":
		resp, err := c.Remove(ctx, &adminpb.RemoveRequest{NodeId: args[0]})
		if err != nil {
			return err
		}
		return o.print(resp, func(w io.Writer) { fmt.Fprintf(w, "removed %s\n", args[0]) })
	case "transfer-leadership":
		req := &adminpb.TransferLeadershipRequest{}
		if len(args) == 1 {
			req.NodeId = args[0]
		}
		resp, err := c.TransferLeadership(ctx, req)
		if err != nil {
			return err
		}
		return o.print(resp, func(w io.Writer) {
			fmt.Fprintf(w, "leadership transferred from %s to %s\n", resp.PreviousLeaderId, resp.LeaderId)
		})
	case "snapshot":
		resp, err := c.Snapshot(ctx, &adminpb.SnapshotRequest{})
		if err != nil {
			return err
		}
		return o.print(resp, func(w io.Writer) {
			fmt.Fprintf(w, "node %s took snapshot %s at index %d (term %d)\n", resp.NodeId, resp.SnapshotId, resp.Index, resp.Term)
		})
	}
	return fmt.Errorf("unknown command %q", cmd)
}

var jsonOpts = protojson.MarshalOptions{EmitUnpopulated: true, UseProtoNames: true}

func (o *clusterOptions) print(m proto.Message, text func(io.Writer)) error {
	if o.output == "json" {
		b, err := jsonOpts.Marshal(m)
		if err != nil {
			return err
		}
		return o.printJSON(json.RawMessage(b))
	}
	text(o.stdout)
	return nil
}

func (o *clusterOptions) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = o.stdout.Write(append(b, '\n'))
	return err
}

func jsonList(ms []*adminpb.Member) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(ms))
	for _, m := range ms {
		b, _ := jsonOpts.Marshal(m)
		out = append(out, b)
	}
	return out
}

func printStatus(w io.Writer, st *adminpb.StatusResponse) {
	leader := st.LeaderId
	if leader == "" {
		leader = "(none known)"
	} else if st.LeaderGrpcAddr != "" {
		leader += " (gRPC " + st.LeaderGrpcAddr + ")"
	}
	fmt.Fprintf(w, "node:     %s (%s)\nleader:   %s\nterm:     %d\nindexes:  last %d, commit %d, applied %d\nmembers:  %d\n\n",
		st.NodeId, st.State, leader, st.Term, st.LastIndex, st.CommitIndex, st.AppliedIndex, len(st.Members))
	printMembers(w, st.Members)
}

func printMembers(w io.Writer, ms []*adminpb.Member) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tSUFFRAGE\tRAFT\tGRPC\tHTTP")
	for _, m := range ms {
		role := "follower"
		if m.Leader {
			role = "leader"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Id, role, m.Suffrage, m.RaftAddr, dash(m.GrpcAddr), dash(m.HttpAddr))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
