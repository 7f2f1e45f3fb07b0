package sfn

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"
)

// TestAWSCLIValidate drives the handler with the AWS CLI (installed on every development
// machine): dummy credentials and a region in the environment, --endpoint-url on loopback.
func TestAWSCLIValidate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewHandler(Config{}, stubBackend{}, nil))
	t.Cleanup(srv.Close)
	run := func(def string) map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "aws", "stepfunctions", "validate-state-machine-definition",
			"--endpoint-url", srv.URL, "--output", "json", "--definition", def)
		cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=dummy", "AWS_SECRET_ACCESS_KEY=dummy", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("aws output %q: %v", out, err)
		}
		return m
	}
	if m := run(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`); m["result"] != "OK" {
		t.Fatalf("valid definition: %v", m)
	}
	m := run(`{"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}}`)
	diags, _ := m["diagnostics"].([]any)
	if m["result"] != "FAIL" || len(diags) == 0 {
		t.Fatalf("invalid definition: %v", m)
	}
	d, _ := diags[0].(map[string]any)
	if d["severity"] != "ERROR" || d["code"] == "" || d["message"] == "" {
		t.Fatalf("diagnostic %v", d)
	}
}
