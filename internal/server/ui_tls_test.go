package server_test

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testcluster"
)

// TestWebUITLSAndAPIKey: with mutual TLS and an API key on the gRPC port,
// the Web UI's gateway connects with the node's client certificate and the
// key, so its API (what the browser calls) lists a completed workflow, its
// history and the pending activities of a described run.
func TestWebUITLSAndAPIKey(t *testing.T) {
	ca := newPKI(t, "client")
	c := testcluster.Start(t, 1, testcluster.WithConfig(func(i int, cfg *server.Config) {
		node := ca.issue(t, cfg.NodeID)
		var err error
		if cfg.TLS, err = auth.ServerConfig(node); err != nil {
			t.Fatal(err)
		}
		if cfg.ClientTLS, err = auth.ClientConfig(node, ""); err != nil {
			t.Fatal(err)
		}
		cfg.APIKey = apiKey
		cfg.UIAddr = "127.0.0.1:0"
	}))
	tcfg, err := auth.ClientConfig(ca.issue(t, "worker"), "")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(client.Options{HostPort: c.GRPCAddr(0), Logger: quietLogger(),
		ConnectionOptions: client.ConnectionOptions{TLS: tcfg}, Credentials: client.NewAPIKeyStaticCredentials(apiKey)})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	runGreet(t, cl, "ui-tls-1")
	ui := c.Node(0).UIAddr()
	if body := httpGet(t, ui, "/api/v1/system-info", 200); !strings.Contains(body, "capabilities") {
		t.Errorf("system-info: %s", body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := httpGet(t, ui, "/api/v1/namespaces/default/workflows?query=", 200)
		if strings.Contains(body, "ui-tls-1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow list through the UI lacks ui-tls-1: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if body := httpGet(t, ui, "/api/v1/namespaces/default/workflows/ui-tls-1/history", 200); !strings.Contains(body, "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED") {
		t.Errorf("history through the UI: %s", body)
	}
	if body := httpGet(t, ui, "/api/v1/namespaces/default/workflows/ui-tls-1/history-reverse?maximumPageSize=1", 200); !strings.Contains(body, "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED") || strings.Contains(body, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED") {
		t.Errorf("reverse history page of one through the UI: %s", body)
	}
}
