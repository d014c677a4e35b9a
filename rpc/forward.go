package rpc

import (
	"context"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// forwardedKey marks a call a follower forwarded, so a call never hops twice
// (two nodes that each think the other leads would otherwise loop).
const forwardedKey = "raftflow-forwarded"

type forwarder struct {
	s     *Service
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func newForwarder(s *Service) *forwarder {
	return &forwarder{s: s, conns: map[string]*grpc.ClientConn{}}
}

// intercept is the unary interceptor: a local method (see gates) is served
// here; on the leader, a method passes its gate (readable) first; a
// follower forwards the call to the leader, once.
func (f *forwarder) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	g := gateOf(info.FullMethod)
	if g == gateLocal {
		return handler(ctx, req)
	}
	if f.s.node.IsLeader() {
		if err := f.s.readable(ctx, g); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if len(md.Get(forwardedKey)) > 0 {
		return nil, unavailable("raftflow: forwarded to a node that is not the leader; retry")
	}
	addr := f.leaderGRPCAddr()
	if addr == "" {
		return nil, unavailable("raftflow: no leader known; retry")
	}
	out, err := newResponse(info.FullMethod)
	if err != nil {
		return nil, err
	}
	conn, err := f.conn(addr)
	if err != nil {
		return nil, unavailable("raftflow: cannot reach leader: " + err.Error())
	}
	md = md.Copy()
	md.Set(forwardedKey, "1")
	// These are set by the transport on each hop, never forwarded.
	md.Delete(":authority")
	md.Delete("content-type")
	md.Delete("user-agent")
	if err := conn.Invoke(metadata.NewOutgoingContext(ctx, md), info.FullMethod, req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// leaderGRPCAddr is where client calls are forwarded: the gRPC address the
// member table records for the leader, and only for a leader that is a
// voter of the current raft configuration at the raft address the table
// records for it ("" otherwise: the call fails Unavailable rather than
// carry a client's credentials to an address nobody configured).
func (f *forwarder) leaderGRPCAddr() string {
	id, raftAddr := f.s.node.ConfiguredLeader()
	if id == "" {
		return ""
	}
	for _, n := range f.s.fsm.Nodes() {
		if n.Id == id && (n.RaftAddr == "" || n.RaftAddr == raftAddr) {
			return n.GrpcAddr
		}
	}
	return ""
}

// newResponse makes an empty response message for a gRPC method by looking
// the method up in the protobuf registry.
func newResponse(fullMethod string) (proto.Message, error) {
	svc, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil, invalidArg("bad method name %q", fullMethod)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, invalidArg("unknown service %q", svc)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || sd.Methods().ByName(protoreflect.Name(method)) == nil {
		return nil, invalidArg("unknown method %q", fullMethod)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(sd.Methods().ByName(protoreflect.Name(method)).Output().FullName())
	if err != nil {
		return nil, invalidArg("unknown response type for %q", fullMethod)
	}
	return mt.New().Interface(), nil
}

func (f *forwarder) conn(addr string) (*grpc.ClientConn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.conns[addr]; ok {
		return c, nil
	}
	creds := insecure.NewCredentials()
	if f.s.cfg.ClientTLS != nil {
		creds = credentials.NewTLS(f.s.cfg.ClientTLS)
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)))
	if err != nil {
		return nil, err
	}
	f.conns[addr] = c
	return c, nil
}

func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for a, c := range f.conns {
		c.Close()
		delete(f.conns, a)
	}
}
