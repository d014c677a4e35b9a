package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// fuzzStrings are the values mode m>0 writes into every string field:
// over the id limit, empty, odd bytes, just over the limit in multi-byte
// runes, over the key encoding's 64 KiB, and 1 MiB.
var fuzzStrings = []string{
	"",
	long(70000),
	"",
	"\x00/../%s\u2603\r\n'\"",
	strings.Repeat("é", 501),
	long(1 << 16),
	long(1 << 20),
}

// mutator sets string fields of a request to v: every one (target < 0),
// or only the target-th in walk order. It walks set messages, unset ones
// near the top (where the ids live) and the ids inside a task token, and
// adds an entry keyed v to string-keyed maps (search attribute names).
type mutator struct {
	v      string
	target int
	n      int // string fields seen
}

func (mu *mutator) hit() bool {
	mu.n++
	return mu.target < 0 || mu.n-1 == mu.target
}

func (mu *mutator) message(m protoreflect.Message, depth int) {
	if depth > 4 {
		return
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			if fd.MapKey().Kind() != protoreflect.StringKind || !mu.hit() {
				continue
			}
			mp := m.Mutable(fd).Map()
			val := mp.NewValue()
			switch fd.MapValue().Kind() {
			case protoreflect.StringKind:
				val = protoreflect.ValueOfString(mu.v)
			case protoreflect.BytesKind:
				val = protoreflect.ValueOfBytes([]byte(`"v"`))
			}
			mp.Set(protoreflect.ValueOfString(mu.v).MapKey(), val)
		case fd.IsList():
			if fd.Message() == nil || !m.Has(fd) {
				continue
			}
			l := m.Mutable(fd).List()
			for j := range l.Len() {
				mu.message(l.Get(j).Message(), depth+1)
			}
		case fd.Message() != nil:
			if fd.ContainingOneof() != nil && !m.Has(fd) {
				continue // one member of a oneof is enough
			}
			if m.Has(fd) || depth < 2 {
				mu.message(m.Mutable(fd).Message(), depth+1)
			}
		case fd.Kind() == protoreflect.StringKind:
			if mu.hit() {
				m.Set(fd, protoreflect.ValueOfString(mu.v))
			}
		case fd.Kind() == protoreflect.BytesKind && fd.Name() == "task_token":
			tok := &fsmpb.TaskToken{}
			if proto.Unmarshal(m.Get(fd).Bytes(), tok) != nil {
				continue
			}
			mu.message(tok.ProtoReflect(), depth+1)
			if b, err := proto.Marshal(tok); err == nil {
				m.Set(fd, protoreflect.ValueOfBytes(b))
			}
		}
	}
}

// plausible is a request of method m that gets past the first checks: ids
// set, namespace "default", a task token of the right shape.
func plausible(tb testing.TB, m protoreflect.MethodDescriptor) proto.Message {
	req := newRequest(tb, m)
	r := req.ProtoReflect()
	(&mutator{v: "seed", target: -1}).message(r, 0)
	set := func(name protoreflect.Name, kind protoreflect.Kind, v protoreflect.Value) {
		if fd := r.Descriptor().Fields().ByName(name); fd != nil && fd.Kind() == kind && !fd.IsList() {
			r.Set(fd, v)
		}
	}
	set("namespace", protoreflect.StringKind, protoreflect.ValueOfString("default"))
	set("cron_schedule", protoreflect.StringKind, protoreflect.ValueOfString(""))
	set("query", protoreflect.StringKind, protoreflect.ValueOfString(""))
	kind := fsmpb.TaskKind_TASK_KIND_WORKFLOW
	if strings.Contains(string(m.Name()), "Activity") {
		kind = fsmpb.TaskKind_TASK_KIND_ACTIVITY
	}
	set("task_token", protoreflect.BytesKind, protoreflect.ValueOfBytes(token(&fsmpb.TaskToken{Namespace: "default",
		WorkflowId: "seed", RunId: "seed", Kind: kind, ActivityId: "seed", Attempt: 1})))
	return req
}

// FuzzWorkflowService drives every WorkflowService method's real handler,
// on a real in-process engine, with a request unmarshalled from fuzz bytes
// whose string fields (all, or the field-th) are then set to a long, empty
// or odd value. No call may panic or stop the node, and the node must
// answer a simple call (a storage read) afterwards. As a unit test it runs
// the seed corpus: every method, empty and plausible, with every value in
// every field, and each string field alone past the key encoding's limit.
func FuzzWorkflowService(f *testing.F) {
	srv := startEngine(f)
	methods := workflowService().Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		f.Add(uint16(i), []byte(nil), uint8(0), uint8(0))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := call(srv.Service, m, ctx, newRequest(f, m))
		cancel()
		if status.Code(err) == codes.Unimplemented {
			continue // one seed is enough
		}
		req := plausible(f, m)
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		for v := range len(fuzzStrings) {
			f.Add(uint16(i), b, uint8(v), uint8(0))
		}
		count := &mutator{v: "", target: -1}
		count.message(proto.Clone(req).ProtoReflect(), 0)
		for field := 1; field <= min(count.n, 255); field++ { // each string alone past the key limit
			f.Add(uint16(i), b, uint8(5), uint8(field))
		}
	}
	f.Fuzz(func(t *testing.T, method uint16, data []byte, value, field uint8) {
		m := methods.Get(int(method) % methods.Len())
		req := newRequest(t, m)
		if proto.Unmarshal(data, req) != nil {
			proto.Reset(req)
		}
		if v := int(value) % len(fuzzStrings); v > 0 {
			(&mutator{v: fuzzStrings[v], target: int(field) - 1}).message(req.ProtoReflect(), 0)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := call(srv.Service, m, ctx, req) // any answer but a panic will do
		cancel()
		if testing.Verbose() {
			t.Logf("%s %d/%d: %v", m.Name(), value, field, trim(err))
		}

		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := srv.Service.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
			t.Fatalf("after %s: the node does not answer: %v", m.Name(), err)
		}
	})
}

func trim(err error) string {
	if err == nil {
		return "ok"
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160]
	}
	return s
}
