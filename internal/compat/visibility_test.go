package compat

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	filterpb "go.temporal.io/api/filter/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk/enginetest"
)

// minRetention is the engine's shortest namespace retention in the
// visibility tests (Temporal's API minimum is a day).
const minRetention = 500 * time.Millisecond

// startRetentionEngine starts a one-node engine whose namespace retention
// floor is minRetention and returns its address.
func startRetentionEngine(t *testing.T) string {
	t.Helper()
	return startEngine(t, enginetest.ServerConfig(func(_ int, cfg *server.Config) {
		cfg.MinNamespaceRetention = minRetention
	})).Addr()
}

var (
	customerKey = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	priorityKey = temporal.NewSearchAttributeKeyInt64("Priority")
	stageKey    = temporal.NewSearchAttributeKeyKeyword("Stage")
)

// Order waits for a "finish" signal (unless told to finish at once),
// upserting its Stage search attribute on the way.
func Order(ctx workflow.Context, finishAtOnce bool) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, stageKey.ValueSet("started")); err != nil {
		return "", err
	}
	if !finishAtOnce {
		workflow.GetSignalChannel(ctx, "finish").Receive(ctx, nil)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, stageKey.ValueSet("done")); err != nil {
		return "", err
	}
	return "ok", nil
}

func Ship(ctx workflow.Context) error { return nil }

// listIDs runs a list query and returns the workflow ids, following pages.
func listIDs(t *testing.T, c client.Client, query string, pageSize int32) []string {
	t.Helper()
	var ids []string
	var token []byte
	for pages := 0; ; pages++ {
		resp, err := c.ListWorkflow(testutil.Context(t, 10*time.Second), &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, PageSize: pageSize, NextPageToken: token,
		})
		if err != nil {
			t.Fatalf("ListWorkflow(%q): %v", query, err)
		}
		for _, e := range resp.Executions {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return ids
		}
		if pages > 100 {
			t.Fatalf("ListWorkflow(%q): paging does not end", query)
		}
	}
}

func TestListCountScan(t *testing.T) {
	addr := startRetentionEngine(t)
	c := dial(t, addr)
	tq := startQueueWorker(t, c, func(w worker.Registry) {
		w.RegisterWorkflow(Order)
		w.RegisterWorkflow(Ship)
	})
	ctx := testutil.Context(t, 30*time.Second)
	start := func(id string, wf any, sa temporal.SearchAttributes, args ...any) client.WorkflowRun {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq, TypedSearchAttributes: sa}, wf, args...)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	before := time.Now().UTC()
	// order-1..3 stay open; order-4 completes; ship-1 completes.
	for i := 1; i <= 3; i++ {
		start(fmt.Sprintf("order-%d", i), Order, temporal.NewSearchAttributes(
			customerKey.ValueSet(fmt.Sprintf("cust-%d", i%2)), priorityKey.ValueSet(int64(i))), false)
	}
	for _, run := range []client.WorkflowRun{
		start("order-4", Order, temporal.NewSearchAttributes(customerKey.ValueSet("cust-0"), priorityKey.ValueSet(4)), true),
		start("ship-1", Ship, temporal.SearchAttributes{}),
	} {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the open orders ran their first task (Stage upserted).
	testutil.Eventually(t, 10*time.Second, "stage upserts", func() (bool, string) {
		ids := listIDs(t, c, "Stage = 'started'", 0)
		return len(ids) == 3, fmt.Sprint(ids)
	})

	for _, tc := range []struct {
		query string
		want  []string // newest first
	}{
		{"", []string{"ship-1", "order-4", "order-3", "order-2", "order-1"}},
		{"ORDER BY StartTime ASC", []string{"order-1", "order-2", "order-3", "order-4", "ship-1"}},
		{"WorkflowType = 'Order' AND ExecutionStatus = 'Running'", []string{"order-3", "order-2", "order-1"}},
		{"ExecutionStatus = 'Completed'", []string{"ship-1", "order-4"}},
		{"ExecutionStatus != 'Running' AND CloseTime IS NOT NULL", []string{"ship-1", "order-4"}},
		{"CloseTime IS NULL", []string{"order-3", "order-2", "order-1"}},
		{"CustomerId = 'cust-0'", []string{"order-4", "order-2"}},
		{"CustomerId IN ('cust-1') OR WorkflowId = 'ship-1'", []string{"ship-1", "order-3", "order-1"}},
		{"Priority >= 2 AND Priority < 4", []string{"order-3", "order-2"}},
		{"Priority BETWEEN 3 AND 10", []string{"order-4", "order-3"}},
		{"WorkflowId STARTS_WITH 'order-' AND (Stage = 'done' OR Priority = 1)", []string{"order-4", "order-1"}},
		{"Stage = 'done'", []string{"order-4"}},
		{"TaskQueue = '" + tq + "' AND WorkflowType = 'Ship'", []string{"ship-1"}},
		{fmt.Sprintf("StartTime >= '%s'", before.Add(-time.Minute).Format(time.RFC3339Nano)), []string{"ship-1", "order-4", "order-3", "order-2", "order-1"}},
		{fmt.Sprintf("StartTime > '%s'", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), nil},
	} {
		for _, size := range []int32{0, 2} { // one page, and pages of two
			if got := listIDs(t, c, tc.query, size); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("list %q (page size %d): %v, want %v", tc.query, size, got, tc.want)
			}
		}
		count, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: tc.query})
		if err != nil || count.Count != int64(len(tc.want)) {
			t.Errorf("count %q: %v %v, want %d", tc.query, count, err, len(tc.want))
		}
	}

	// GROUP BY ExecutionStatus.
	grouped, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "GROUP BY ExecutionStatus"})
	if err != nil || grouped.Count != 5 || len(grouped.Groups) != 2 {
		t.Fatalf("grouped count: %v %v", grouped, err)
	}
	for _, g := range grouped.Groups {
		status := string(g.GroupValues[0].Data)
		if (status == `"Running"` && g.Count != 3) || (status == `"Completed"` && g.Count != 2) {
			t.Errorf("group %s: %d", status, g.Count)
		}
	}

	// Scan (deprecated API) answers like list.
	scan, err := c.ScanWorkflow(ctx, &workflowservice.ScanWorkflowExecutionsRequest{Query: "WorkflowType = 'Ship'"}) //lint:ignore SA1019 testing the deprecated API
	if err != nil || len(scan.Executions) != 1 || scan.Executions[0].GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("scan: %v %v", scan, err)
	}

	// Records carry what List users read.
	one, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowId = 'order-4'"})
	if err != nil || len(one.Executions) != 1 {
		t.Fatalf("list order-4: %v %v", one, err)
	}
	checkRecord(t, one.Executions[0])

	// Malformed queries: InvalidArgument with the position.
	for _, q := range []string{"WorkflowId = ", "StartTime > 'tomorrow'", "WorkflowId = 'a' ORDER BY RunId"} {
		_, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
		var inv *serviceerror.InvalidArgument
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), "position") {
			t.Errorf("list %q: %v, want InvalidArgument with a position", q, err)
		}
		if _, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q}); !errors.As(err, &inv) {
			t.Errorf("count %q: %v, want InvalidArgument", q, err)
		}
	}

	// The old list APIs.
	open, err := c.WorkflowService().ListOpenWorkflowExecutions(ctx, &workflowservice.ListOpenWorkflowExecutionsRequest{
		Namespace: "default", MaximumPageSize: 10,
		Filters: &workflowservice.ListOpenWorkflowExecutionsRequest_TypeFilter{TypeFilter: &filterpb.WorkflowTypeFilter{Name: "Order"}},
	})
	if err != nil || len(open.Executions) != 3 {
		t.Fatalf("list open: %v %v", open, err)
	}
	closed, err := c.WorkflowService().ListClosedWorkflowExecutions(ctx, &workflowservice.ListClosedWorkflowExecutionsRequest{Namespace: "default"})
	if err != nil || len(closed.Executions) != 2 {
		t.Fatalf("list closed: %v %v", closed, err)
	}

	// Search attributes seen are reported with their types.
	sa, err := c.GetSearchAttributes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]enumspb.IndexedValueType{
		"CustomerId": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "Priority": enumspb.INDEXED_VALUE_TYPE_INT,
		"Stage": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "WorkflowId": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"StartTime": enumspb.INDEXED_VALUE_TYPE_DATETIME, "ExecutionStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	} {
		if sa.Keys[name] != typ {
			t.Errorf("search attribute %s: %s, want %s", name, sa.Keys[name], typ)
		}
	}
}

func checkRecord(t *testing.T, e *workflowpb.WorkflowExecutionInfo) {
	t.Helper()
	if e.GetType().GetName() != "Order" || e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || e.GetCloseTime() == nil ||
		e.GetStartTime() == nil || e.GetHistoryLength() == 0 || e.GetTaskQueue() == "" || e.GetExecution().GetRunId() == "" {
		t.Fatalf("record %v", e)
	}
	if _, ok := e.GetSearchAttributes().GetIndexedFields()["Stage"]; !ok {
		t.Fatalf("record has no Stage search attribute: %v", e)
	}
}

func TestNamespaces(t *testing.T) {
	addr := startRetentionEngine(t)
	nsc := dialNamespaceClient(t, addr)
	ctx := testutil.Context(t, 30*time.Second)
	for _, ns := range []string{"ns-a", "ns-b"} {
		if err := nsc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: ns, Description: "test " + ns, WorkflowExecutionRetentionPeriod: durationpb.New(48 * time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Too short a retention is refused, naming the field.
	err := nsc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: "ns-c", WorkflowExecutionRetentionPeriod: durationpb.New(time.Millisecond)})
	var inv *serviceerror.InvalidArgument
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "retention") {
		t.Fatalf("short retention: %v", err)
	}

	// Same workflow id in both namespaces: each sees only its own.
	for _, ns := range []string{"ns-a", "ns-b"} {
		c := dialNamespace(t, addr, ns)
		tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(Ship) })
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "same-id", TaskQueue: tq}, Ship)
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if ns == "ns-b" {
			if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "only-b", TaskQueue: tq}, Ship); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, b := dialNamespace(t, addr, "ns-a"), dialNamespace(t, addr, "ns-b")
	testutil.Eventually(t, 10*time.Second, "only-b done", func() (bool, string) {
		ids := listIDs(t, b, "ExecutionStatus = 'Completed'", 0)
		return len(ids) == 2, fmt.Sprint(ids)
	})
	if ids := listIDs(t, a, "", 0); strings.Join(ids, ",") != "same-id" {
		t.Fatalf("ns-a lists %v", ids)
	}
	if ids := listIDs(t, b, "", 0); strings.Join(ids, ",") != "only-b,same-id" {
		t.Fatalf("ns-b lists %v", ids)
	}
	if ids := listIDs(t, dial(t, addr), "", 0); len(ids) != 0 {
		t.Fatalf("default lists %v", ids)
	}
	if _, err := a.DescribeWorkflowExecution(ctx, "only-b", ""); !errors.As(err, new(*serviceerror.NotFound)) {
		t.Fatalf("ns-a describes ns-b's workflow: %v", err)
	}
	// A page token from one namespace is refused in another.
	page, err := b.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1})
	if err != nil || len(page.NextPageToken) == 0 {
		t.Fatalf("first page: %v %v", page, err)
	}
	if _, err := a.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1, NextPageToken: page.NextPageToken}); !errors.As(err, &inv) {
		t.Fatalf("foreign page token: %v", err)
	}

	// Update and describe.
	if err := nsc.Update(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace:  "ns-a",
		UpdateInfo: &namespacepb.UpdateNamespaceInfo{Description: "renamed", OwnerEmail: "ops@example.com", Data: map[string]string{"team": "core"}},
		Config:     &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(72 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	d, err := nsc.Describe(ctx, "ns-a")
	if err != nil {
		t.Fatal(err)
	}
	if info := d.NamespaceInfo; info.Description != "renamed" || info.OwnerEmail != "ops@example.com" || info.Data["team"] != "core" ||
		d.Config.WorkflowExecutionRetentionTtl.AsDuration() != 72*time.Hour {
		t.Fatalf("described %v", d)
	}
	if err := nsc.Update(ctx, &workflowservice.UpdateNamespaceRequest{Namespace: "nope"}); !errors.As(err, new(*serviceerror.NamespaceNotFound)) {
		t.Fatalf("update of an unknown namespace: %v", err)
	}

	// ListNamespaces pages.
	var names []string
	var token []byte
	for {
		resp, err := dial(t, addr).WorkflowService().ListNamespaces(ctx, &workflowservice.ListNamespacesRequest{PageSize: 1, NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range resp.Namespaces {
			names = append(names, n.NamespaceInfo.Name)
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	if strings.Join(names, ",") != "default,ns-a,ns-b" {
		t.Fatalf("namespaces %v", names)
	}
}

func TestRetentionAndDelete(t *testing.T) {
	addr := startRetentionEngine(t)
	nsc := dialNamespaceClient(t, addr)
	ctx := testutil.Context(t, 30*time.Second)
	if err := nsc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: "brief", WorkflowExecutionRetentionPeriod: durationpb.New(minRetention),
	}); err != nil {
		t.Fatal(err)
	}
	c := dialNamespace(t, addr, "brief")
	tq := startQueueWorker(t, c, func(w worker.Registry) {
		w.RegisterWorkflow(Ship)
		w.RegisterWorkflow(Order)
	})

	// Retention: a closed run disappears on its own.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "short-lived", TaskQueue: tq}, Ship)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "retention deletes the run", func() (bool, string) {
		_, err := c.DescribeWorkflowExecution(ctx, "short-lived", run.GetRunID())
		return errors.As(err, new(*serviceerror.NotFound)), fmt.Sprint(err)
	})
	if ids := listIDs(t, c, "", 0); len(ids) != 0 {
		t.Fatalf("deleted run still listed: %v", ids)
	}
	it := c.GetWorkflowHistory(ctx, "short-lived", run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if _, err := it.Next(); !errors.As(err, new(*serviceerror.NotFound)) {
		t.Fatalf("history of a deleted run: %v", err)
	}

	// DeleteWorkflowExecution terminates a running workflow, then deletes it.
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "doomed", TaskQueue: tq}, Order, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace: "brief", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: "doomed"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeWorkflowExecution(ctx, "doomed", ""); !errors.As(err, new(*serviceerror.NotFound)) {
		t.Fatalf("describe after delete: %v", err)
	}
	if err := run.Get(ctx, nil); err == nil {
		t.Fatalf("a deleted workflow's result is available")
	}
	if _, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace: "brief", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: "doomed"},
	}); !errors.As(err, new(*serviceerror.NotFound)) {
		t.Fatalf("second delete: %v", err)
	}
	// The id can be used again.
	again, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "doomed", TaskQueue: tq}, Order, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
