package sfn

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// do sends one request to h and returns the recorded response.
func do(h http.Handler, method, target, ctype string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkWellFormed fails unless w is a well-formed AWS JSON answer: a request ID, the JSON content
// type, a JSON object body, no null anywhere, and on errors a __type and message.
func checkWellFormed(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if w.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("no x-amzn-RequestId")
	}
	if got := w.Header().Get("Content-Type"); got != contentType {
		t.Fatalf("Content-Type %q", got)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m == nil {
		t.Fatalf("body %q is not a JSON object: %v", w.Body.String(), err)
	}
	if hasNull(m) {
		t.Fatalf("body %q holds a JSON null", w.Body.String())
	}
	if w.Code != http.StatusOK {
		if typ, _ := m["__type"].(string); typ == "" {
			t.Fatalf("error %d without __type: %s", w.Code, w.Body.String())
		}
		if _, ok := m["message"].(string); !ok {
			t.Fatalf("error %d without message: %s", w.Code, w.Body.String())
		}
	}
	return m
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{MaxBodyBytes: 1 << 10}, stubBackend{}, nil)
	const list = targetPrefix + "ListStateMachines"
	tests := []struct {
		name         string
		method       string
		target, ctyp string
		body         string
		status       int
		code         string
	}{
		{"ok", "POST", list, contentType, `{}`, 200, ""},
		{"charset parameter", "POST", list, contentType + "; charset=utf-8", `{}`, 200, ""},
		{"unknown target", "POST", targetPrefix + "Frobnicate", contentType, `{}`, 400, "UnknownOperationException"},
		{"missing target", "POST", "", contentType, `{}`, 400, "UnknownOperationException"},
		{"other service's target", "POST", "DynamoDB_20120810.ListTables", contentType, `{}`, 400, "UnknownOperationException"},
		{"wrong content type", "POST", list, "application/json", `{}`, 404, "UnknownOperationException"},
		{"GET", "GET", list, contentType, ``, 404, "UnknownOperationException"},
		{"empty body", "POST", list, contentType, ``, 400, "SerializationException"},
		{"malformed JSON", "POST", list, contentType, `{"maxResults":`, 400, "SerializationException"},
		{"array body", "POST", list, contentType, `[]`, 400, "SerializationException"},
		{"trailing content", "POST", list, contentType, `{}{}`, 400, "SerializationException"},
		{"wrong member type", "POST", list, contentType, `{"maxResults":"ten"}`, 400, "SerializationException"},
		{"oversized body", "POST", list, contentType, `{"nextToken":"` + strings.Repeat("x", 2<<10) + `"}`, 413, "RequestEntityTooLargeException"},
		{"out of range", "POST", list, contentType, `{"maxResults":1001}`, 400, "ValidationException"},
		{"missing required", "POST", targetPrefix + "DescribeExecution", contentType, `{}`, 400, "ValidationException"},
		{"bad arn", "POST", targetPrefix + "DescribeExecution", contentType, `{"executionArn":"nope"}`, 400, "InvalidArn"},
		{"name too long", "POST", targetPrefix + "CreateActivity", contentType, `{"name":"` + strings.Repeat("a", 81) + `"}`, 400, "ValidationException"},
		{"bad name", "POST", targetPrefix + "CreateActivity", contentType, `{"name":"a/b"}`, 400, "InvalidName"},
		{"update without changes", "POST", targetPrefix + "UpdateStateMachine", contentType, `{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:m"}`, 400, "MissingRequiredParameter"},
		{"output not JSON", "POST", targetPrefix + "SendTaskSuccess", contentType, `{"taskToken":"t","output":"{"}`, 400, "InvalidOutput"},
		{"unclassified backend error", "POST", targetPrefix + "DescribeActivity", contentType, `{"activityArn":"arn:aws:states:us-east-1:123456789012:activity:a"}`, 500, "InternalFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := do(h, tt.method, tt.target, tt.ctyp, []byte(tt.body))
			m := checkWellFormed(t, w)
			if w.Code != tt.status || (tt.code != "" && m["__type"] != tt.code) {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body.String(), tt.status, tt.code)
			}
		})
	}
}

func TestTimestampJSON(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(CreateActivityOutput{ActivityArn: "a", CreationDate: Timestamp{mustTime(t, "2024-11-25T01:00:00.123Z")}})
	if string(b) != `{"activityArn":"a","creationDate":1732496400.123}` {
		t.Fatalf("got %s", b)
	}
	b, _ = json.Marshal(DescribeExecutionOutput{})
	for _, absent := range []string{"stopDate", "input", "output", "error", "cause", "inputDetails", "redriveCount"} {
		if bytes.Contains(b, []byte(absent)) {
			t.Errorf("%s present in %s", absent, b)
		}
	}
}

func TestARNs(t *testing.T) {
	t.Parallel()
	c := Config{}.WithDefaults()
	if got := c.ExecutionARN("m", "e"); got != "arn:aws:states:us-east-1:123456789012:execution:m:e" {
		t.Fatalf("ExecutionARN = %s", got)
	}
	a, err := ParseARN(c.StateMachineARN("m")+":3", "stateMachine")
	if err != nil || !c.Local(a) || len(a.Parts) != 2 || a.Parts[1] != "3" {
		t.Fatalf("version ARN: %+v %v", a, err)
	}
	if _, err := ParseARN(c.ActivityARN("x"), "stateMachine"); asError(err).Kind != KindInvalidArn {
		t.Fatalf("activity ARN as state machine: %v", err)
	}
	for _, s := range []string{"", "arn", "arn:aws:states:us-east-1:123456789012:stateMachine:", "arn:aws:lambda:us-east-1:123456789012:function:f"} {
		if _, err := ParseARN(s, "stateMachine"); asError(err).Kind != KindInvalidArn {
			t.Errorf("ParseARN(%q) = %v, want InvalidArn", s, err)
		}
	}
	for s, ok := range map[string]bool{"ok-name_1.2": true, "a b": false, "a\x00": false, "a:b": false, "é": true, "a\u0085": false} {
		if ValidName(s) != ok {
			t.Errorf("ValidName(%q) = %v", s, !ok)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"maxResults":5}`, `[]`, ``, `{"definition":"{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"End\":true}}}"}`, `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:m:e"}`, `{"name":"\u0000"}`, `{"input":"{"}`} {
		for _, a := range []string{"ListStateMachines", "ValidateStateMachineDefinition", "StartExecution", "CreateStateMachine", "SendTaskSuccess", "Nope", ""} {
			f.Add(a, []byte(s))
		}
	}
	h := NewHandler(Config{}, stubBackend{err: Errorf(KindResourceNotFound, "stub")}, nil)
	f.Fuzz(func(t *testing.T, action string, body []byte) {
		w := do(h, "POST", targetPrefix+action, contentType, body)
		m := checkWellFormed(t, w)
		if w.Code == http.StatusOK {
			if _, isErr := m["__type"]; isErr {
				t.Fatalf("200 with __type: %s", w.Body.String())
			}
		} else if w.Code >= 500 {
			t.Fatalf("server error for a client request: %d %s", w.Code, w.Body.String())
		}
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// hasNull reports whether a decoded JSON value holds a null anywhere.
func hasNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
}
