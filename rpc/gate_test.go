package rpc_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/raftflow/engine/rpc"
	"github.com/raftflow/engine/rpc/adminpb"
)

// servedFiles are the generated descriptors of every service the gRPC
// server registers (rpc.Service.Register and internal/server's health).
var servedFiles = []protoreflect.FileDescriptor{
	workflowservice.File_temporal_api_workflowservice_v1_service_proto,
	operatorservice.File_temporal_api_operatorservice_v1_service_proto,
	adminpb.File_rpc_adminpb_admin_proto,
	healthpb.File_grpc_health_v1_health_proto,
}

// servedMethods is every method of servedFiles by full gRPC method name.
func servedMethods(t *testing.T) map[string]protoreflect.MethodDescriptor {
	out := map[string]protoreflect.MethodDescriptor{}
	for _, fd := range servedFiles {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				m := sd.Methods().Get(j)
				out["/"+string(sd.FullName())+"/"+string(m.Name())] = m
			}
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d methods in the served descriptors", len(out))
	}
	return out
}

// TestReadGateTable: every method of every served service is classified,
// and the table names no method that does not exist (a renamed one).
func TestReadGateTable(t *testing.T) {
	gates := rpc.Gates()
	served := servedMethods(t)
	for name := range served {
		if _, ok := gates[name]; !ok {
			t.Errorf("%s is missing from the gate table (rpc/gate.go): classify it read, write, unimplemented, ungated or local", name)
		}
	}
	for name := range gates {
		if _, ok := served[name]; !ok {
			t.Errorf("the gate table lists %s, which no served service has", name)
		}
	}
}

// TestReadGateUnknownIsRead: a method missing from the table is gated as a
// read (barrier and quorum), never served ungated.
func TestReadGateUnknownIsRead(t *testing.T) {
	for _, m := range []string{
		"/temporal.api.workflowservice.v1.WorkflowService/NoSuchMethod",
		"/raftflow.admin.v1.AdminService/NoSuchMethod",
		"/raftflow.test.Panic/Boom",
		"",
	} {
		if g := rpc.GateOf(m); g != "read" {
			t.Errorf("gate of unknown method %q = %s, want read", m, g)
		}
	}
}

// TestReadGateUnimplemented: every method the table calls unimplemented
// answers Unimplemented on a real node, so a handler added for one fails
// here until the method is classified read or write.
func TestReadGateUnimplemented(t *testing.T) {
	srv := startEngine(t)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	served := servedMethods(t)
	n := 0
	for name, g := range rpc.Gates() {
		if g != "unimplemented" {
			continue
		}
		m, ok := served[name]
		if !ok {
			continue // TestReadGateTable reports it
		}
		n++
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := conn.Invoke(ctx, name, newRequest(t, m), newResponse(t, m))
		cancel()
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("%s answers %v, want Unimplemented: it has a handler now; classify it read or write in rpc/gate.go", name, err)
		}
	}
	if n == 0 {
		t.Fatal("no unimplemented method in the gate table")
	}
}

// newResponse makes an empty response of a method.
func newResponse(tb testing.TB, m protoreflect.MethodDescriptor) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(m.Output().FullName())
	if err != nil {
		tb.Fatal(err)
	}
	return mt.New().Interface()
}
