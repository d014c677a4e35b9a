package sdk

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeInvoker answers with errs in turn (nil once they run out) and
// records each attempt's request.
type fakeInvoker struct {
	errs     []error
	attempts int
	reqIDs   []string
}

func (f *fakeInvoker) invoke(_ context.Context, _ string, req, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
	f.attempts++
	switch r := req.(type) {
	case *workflowservice.StartWorkflowExecutionRequest:
		f.reqIDs = append(f.reqIDs, r.RequestId)
	case *workflowservice.SignalWorkflowExecutionRequest:
		f.reqIDs = append(f.reqIDs, r.RequestId)
	}
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

var (
	unavailable = status.Error(codes.Unavailable, "no leader known")
	fastPolicy  = retryPolicy{timeout: 10 * time.Second, initial: time.Millisecond, max: 2 * time.Millisecond}
)

func method(name string) string { return workflowServicePrefix + name }

func TestRetryUnavailable(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		req      any
		errs     []error
		wantErr  codes.Code
		attempts int
	}{
		{"start retried until it succeeds", "StartWorkflowExecution", &workflowservice.StartWorkflowExecutionRequest{},
			[]error{unavailable, unavailable}, codes.OK, 3},
		{"signal retried", "SignalWorkflowExecution", &workflowservice.SignalWorkflowExecutionRequest{},
			[]error{unavailable}, codes.OK, 2},
		{"poll retried", "PollActivityTaskQueue", &workflowservice.PollActivityTaskQueueRequest{},
			[]error{unavailable}, codes.OK, 2},
		{"completion retried", "RespondWorkflowTaskCompleted", &workflowservice.RespondWorkflowTaskCompletedRequest{},
			[]error{unavailable}, codes.OK, 2},
		{"terminate not retried", "TerminateWorkflowExecution", &workflowservice.TerminateWorkflowExecutionRequest{},
			[]error{unavailable}, codes.Unavailable, 1},
		{"shutdown worker not retried (best effort; would delay a worker's stop)", "ShutdownWorker", &workflowservice.ShutdownWorkerRequest{},
			[]error{unavailable}, codes.Unavailable, 1},
		{"register namespace not retried", "RegisterNamespace", &workflowservice.RegisterNamespaceRequest{},
			[]error{unavailable}, codes.Unavailable, 1},
		{"other codes not retried", "StartWorkflowExecution", &workflowservice.StartWorkflowExecutionRequest{},
			[]error{status.Error(codes.InvalidArgument, "bad"), unavailable}, codes.InvalidArgument, 1},
		{"deadline not retried", "GetWorkflowExecutionHistory", &workflowservice.GetWorkflowExecutionHistoryRequest{},
			[]error{status.Error(codes.DeadlineExceeded, "late")}, codes.DeadlineExceeded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeInvoker{errs: tt.errs}
			err := retryInterceptor(fastPolicy)(context.Background(), method(tt.method), tt.req, nil, nil, f.invoke)
			if got := status.Code(err); got != tt.wantErr {
				t.Fatalf("error %v (code %v), want code %v", err, got, tt.wantErr)
			}
			if f.attempts != tt.attempts {
				t.Fatalf("%d attempts, want %d", f.attempts, tt.attempts)
			}
		})
	}
}

// TestRetryRequestID: a start or signal without a request ID gets one
// before the first attempt, and every attempt carries the same; one the
// caller set is kept.
func TestRetryRequestID(t *testing.T) {
	f := &fakeInvoker{errs: []error{unavailable, unavailable}}
	req := &workflowservice.StartWorkflowExecutionRequest{}
	if err := retryInterceptor(fastPolicy)(context.Background(), method("StartWorkflowExecution"), req, nil, nil, f.invoke); err != nil {
		t.Fatal(err)
	}
	if len(f.reqIDs) != 3 || f.reqIDs[0] == "" || f.reqIDs[1] != f.reqIDs[0] || f.reqIDs[2] != f.reqIDs[0] {
		t.Fatalf("request ids per attempt: %q", f.reqIDs)
	}

	f = &fakeInvoker{errs: []error{unavailable}}
	sig := &workflowservice.SignalWorkflowExecutionRequest{RequestId: "mine"}
	if err := retryInterceptor(fastPolicy)(context.Background(), method("SignalWorkflowExecution"), sig, nil, nil, f.invoke); err != nil {
		t.Fatal(err)
	}
	if len(f.reqIDs) != 2 || f.reqIDs[0] != "mine" || f.reqIDs[1] != "mine" {
		t.Fatalf("request ids per attempt: %q", f.reqIDs)
	}
}

// TestRetryGivesUp: the retry stops when the policy's time is spent, or
// before a pause that would end after the call's deadline, or when the
// call's context ends, and returns the last Unavailable error.
func TestRetryGivesUp(t *testing.T) {
	always := func() []error {
		errs := make([]error, 1000)
		for i := range errs {
			errs[i] = unavailable
		}
		return errs
	}
	t.Run("policy timeout", func(t *testing.T) {
		f := &fakeInvoker{errs: always()}
		p := retryPolicy{timeout: 0, initial: time.Millisecond, max: time.Millisecond}
		err := retryInterceptor(p)(context.Background(), method("GetSystemInfo"), &workflowservice.GetSystemInfoRequest{}, nil, nil, f.invoke)
		if status.Code(err) != codes.Unavailable || f.attempts != 1 {
			t.Fatalf("err %v after %d attempts; want Unavailable after 1", err, f.attempts)
		}
	})
	t.Run("call deadline", func(t *testing.T) {
		f := &fakeInvoker{errs: always()}
		p := retryPolicy{timeout: time.Hour, initial: time.Hour, max: time.Hour}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := retryInterceptor(p)(ctx, method("GetSystemInfo"), &workflowservice.GetSystemInfoRequest{}, nil, nil, f.invoke)
		if status.Code(err) != codes.Unavailable || f.attempts != 1 {
			t.Fatalf("err %v after %d attempts; want Unavailable after 1", err, f.attempts)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f := &fakeInvoker{errs: always()}
		inv := func(ctx context.Context, m string, req, reply any, cc *grpc.ClientConn, opts ...grpc.CallOption) error {
			if f.attempts == 2 {
				cancel()
			}
			return f.invoke(ctx, m, req, reply, cc, opts...)
		}
		p := retryPolicy{timeout: time.Hour, initial: time.Millisecond, max: time.Millisecond}
		err := retryInterceptor(p)(ctx, method("GetSystemInfo"), &workflowservice.GetSystemInfoRequest{}, nil, nil, inv)
		if !errors.Is(err, unavailable) && status.Code(err) != codes.Unavailable {
			t.Fatalf("err %v", err)
		}
		if f.attempts != 3 {
			t.Fatalf("%d attempts, want 3 (stop once ctx is done)", f.attempts)
		}
	})
}

func TestRetryDelay(t *testing.T) {
	p := retryPolicy{initial: 20 * time.Millisecond, max: time.Second}
	for n, want := range map[int]time.Duration{1: 20 * time.Millisecond, 2: 40 * time.Millisecond, 4: 160 * time.Millisecond, 7: time.Second, 50: time.Second} {
		for range 20 {
			if d := p.delay(n); d < want/2 || d > want {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestClientOptions(t *testing.T) {
	if _, err := ClientOptions(Options{}); err == nil {
		t.Fatal("no endpoints accepted")
	}
	if _, err := ClientOptions(Options{Endpoints: []string{"dns:///x:1"}}); err == nil {
		t.Fatal("a URL accepted as endpoint")
	}
	o := Options{Endpoints: []string{" a:1", "b:2", "a:1", ""}}
	o.Client.HostPort = "c:3"
	if _, err := ClientOptions(o); err == nil {
		t.Fatal("Client.HostPort accepted")
	}
	o.Client.HostPort = ""
	co, err := ClientOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	if co.Namespace != DefaultNamespace || co.HostPort != "raftflow:///cluster" {
		t.Fatalf("namespace %q host %q", co.Namespace, co.HostPort)
	}
	if got := SplitEndpoints(" a:1, ,b:2,"); len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("SplitEndpoints: %q", got)
	}
}
