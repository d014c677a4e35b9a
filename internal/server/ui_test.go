package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testcluster"
)

// chromiumPath finds a Chromium to drive: $CHROMIUM, else Debian's
// chromium (CI installs it) or another usual name on PATH.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestWebUIBrowser drives the embedded Temporal Web UI in headless
// Chromium: a workflow completed with the official SDK appears on the
// workflow list page, its link opens its page, and the history shows its
// events and result (a screenshot of that page goes to t.TempDir(), and to
// $UI_SCREENSHOT_DIR when set). Then, on a running workflow: the Pending
// Activities tab lists its blocked activity, the Workers page lists its
// worker, the Queries tab runs its "state" query, and More Actions >
// Terminate terminates it.
func TestWebUIBrowser(t *testing.T) {
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("no chromium binary found (install Debian's chromium: apt-get install -y chromium, or set $CHROMIUM); skipping the Web UI browser test")
	}
	c := testcluster.Start(t, 1, testcluster.WithConfig(func(_ int, cfg *server.Config) { cfg.UIAddr = "127.0.0.1:0" }))
	base := "http://" + c.Node(0).UIAddr()
	// Heartbeats every second, so the Workers page lists the worker soon.
	cl, err := client.Dial(client.Options{HostPort: c.GRPCAddr(0), Logger: quietLogger(), WorkerHeartbeatInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const id = "ui-greet-1"
	runGreet(t, cl, id)
	runID := cl.GetWorkflow(ctxFor(t, 10*time.Second), id, "").GetRunID()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	// Record the UI's API calls that fail and the page's uncaught
	// exceptions, to say why when a page does not show what it should.
	var mu sync.Mutex
	var failures []string
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if strings.Contains(ev.Response.URL, "/api/v1/") && ev.Response.Status >= 400 {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s: HTTP %d", ev.Response.URL, ev.Response.Status))
				mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			mu.Lock()
			failures = append(failures, "exception: "+ev.ExceptionDetails.Text)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start chromium (%s): %v", chrome, err)
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range failures {
			t.Logf("UI: %s", f)
		}
	}()
	bodyText := func() string {
		txt, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		return txt
	}

	// The list page shows the workflow, completed, with a link to it.
	link := chromedp.CSS(`a[href*="/workflows/` + id + `/"]`)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/namespaces/default/workflows"),
		chromedp.WaitVisible(link),
	); err != nil {
		t.Fatalf("workflow list page: %v\npage text:\n%s", err, bodyText())
	}
	listText := bodyText()
	if !strings.Contains(listText, id) || !strings.Contains(strings.ToLower(listText), "completed") {
		t.Errorf("list page does not show %s as Completed:\n%s", id, listText)
	}
	if href, err := chromedp.Run(ctx, chromedp.AttributeValue(link, "href")); err == nil {
		t.Logf("list page links %s", href.Value)
	}

	// Open it (it opens on the timeline), switch to the Event History tab
	// and wait for the history: its events and the result.
	tab := "/workflows/" + id + "/" + runID + "/history"
	historyTab := chromedp.CSS(`a[href$="` + tab + `"], a[href*="` + tab + `?"]`)
	err = chromedp.Do(ctx,
		chromedp.Click(link),
		chromedp.WaitVisible(historyTab),
		chromedp.Click(historyTab),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes("Hello raftflow!") && /Workflow ?Execution ?Completed/i.test(document.body.innerText)`, chromedp.WithPollingTimeout(30*time.Second)))
			return err
		}),
	)
	pageText := bodyText()
	if err != nil {
		t.Fatalf("workflow page: %v\npage text:\n%s", err, pageText)
	}
	flat := strings.ToLower(strings.ReplaceAll(pageText, " ", ""))
	for _, want := range []string{"WorkflowExecutionStarted", "TimerFired", "ActivityTaskCompleted", "WorkflowExecutionCompleted", "Helloraftflow!"} {
		if !strings.Contains(flat, strings.ToLower(want)) {
			t.Errorf("workflow page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("workflow page text:\n%s", pageText)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG (below: JPEG)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "workflow.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("UI_SCREENSHOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "workflow.png"), png, 0o644)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))

	// A running workflow: its pending activity, a query, and terminate.
	w := worker.New(cl, uiTaskQueue, worker.Options{})
	w.RegisterWorkflow(awaitBlocked)
	w.RegisterActivity(blockUntilCancelled)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	const id2 = "ui-blocked-1"
	run2, err := cl.ExecuteWorkflow(ctxFor(t, 10*time.Second), client.StartWorkflowOptions{ID: id2, TaskQueue: uiTaskQueue}, awaitBlocked)
	if err != nil {
		t.Fatal(err)
	}
	page2 := base + "/namespaces/default/workflows/" + id2 + "/" + run2.GetRunID()
	waitText := func(what string, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("%s: %v\npage text:\n%s", what, err, bodyText())
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page2+"/pending-activities")); err != nil {
		t.Fatal(err)
	}
	waitText("pending activities tab", `document.body.innerText.includes("blockUntilCancelled")`)

	// The Workers page lists the worker from its heartbeats (ListWorkers).
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/namespaces/default/workers")); err != nil {
		t.Fatal(err)
	}
	waitText("workers page", `document.body.innerText.includes("`+uiTaskQueue+`")`)

	// The query tab lists the workflow's query types (the SDK's metadata
	// query, itself a query) with "state" first; run it.
	if err := chromedp.Do(ctx, chromedp.Navigate(page2+"/query")); err != nil {
		t.Fatal(err)
	}
	waitText("query tab", `document.querySelector("#query-select")?.value === "state"`)
	click(t, ctx, "button", "Run Query")
	waitText("query result", `document.body.innerText.includes("waiting for blockUntilCancelled")`)

	// Terminate through More Actions and the confirmation dialog.
	click(t, ctx, "button", "More Actions")
	click(t, ctx, "[role=menuitem], li, button", "Terminate")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const i = [...document.querySelectorAll("#workflow-termination-reason")].find(e => e.offsetParent !== null);
		if (!i) return false;
		i.value = "terminated from the Web UI test"; i.dispatchEvent(new Event("input", {bubbles: true}));
		return true })()`)); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, "[data-testid=confirm-modal-button]", "Terminate")
	waitText("terminated status", `document.body.innerText.includes("TERMINATED") || document.body.innerText.includes("Terminated")`)
	ctxD, cancelD := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelD()
	desc, err := cl.DescribeWorkflowExecution(ctxD, id2, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.WorkflowExecutionInfo.Status.String(); st != "Terminated" {
		t.Errorf("after terminating in the UI the run is %s", st)
	}
}

const uiTaskQueue = "server-ui-test"

// awaitBlocked answers the query "state" and waits for an activity that
// only ends when cancelled: a run with a pending activity to terminate.
func awaitBlocked(ctx workflow.Context) (string, error) {
	state := "waiting for blockUntilCancelled"
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Hour})
	var out string
	err := workflow.ExecuteActivity(ctx, blockUntilCancelled).Get(ctx, &out)
	return out, err
}

func blockUntilCancelled(ctx context.Context) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// click clicks the first visible element matching css whose text is text,
// waiting up to 10 s for it to appear.
func click(t *testing.T, ctx context.Context, css, text string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const e = [...document.querySelectorAll(%q)].find(e => e.offsetParent !== null && e.innerText.trim() === %q);
		if (!e) return false;
		e.click(); return true })()`, css, text)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("click %s %q: %v\npage text:\n%s", css, text, err, body)
	}
}
