package asllocal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/duro-dev/duro/asl"
	"github.com/duro-dev/duro/asl/jsonv"
)

func TestParseMapping(t *testing.T) {
	res, target, err := ParseMapping("arn:aws:lambda:us-east-1:1:function:f=jq -c '.a == 1'")
	if err != nil || res != "arn:aws:lambda:us-east-1:1:function:f" || target != "jq -c '.a == 1'" {
		t.Fatalf("ParseMapping = %q, %q, %v", res, target, err)
	}
	for _, bad := range []string{"", "noequals", "=cmd", "res=", "res=   "} {
		if _, _, err := ParseMapping(bad); !errors.Is(err, ErrBadMapping) {
			t.Errorf("ParseMapping(%q) err = %v", bad, err)
		}
	}
}

func TestCommandResults(t *testing.T) {
	tasks := &Tasks{Targets: map[string]string{
		"echo":   "cat",
		"empty":  "true",
		"bad":    "echo not-json",
		"lambda": `echo '{"errorType":"Lambda.Oops","errorMessage":"m"}'; exit 2`,
		"env":    `printf '"%s/%s"' "$DURO_STATE_NAME" "$DURO_TASK_ATTEMPT"`,
	}}
	in, _ := jsonv.Parse([]byte(`{"k":[1.50]}`))
	run := func(res string) asl.TaskResult {
		return tasks.RunTask(context.Background(), &asl.TaskCommand{Resource: res, Input: in, StateName: "S", Attempt: 2})
	}
	if r := run("echo"); r.Error != "" || jsonv.String(r.Output) != `{"k":[1.50]}` {
		t.Errorf("echo = %+v", r)
	}
	if r := run("empty"); r.Error != "" || r.Output != nil {
		t.Errorf("empty = %+v", r)
	}
	if r := run("bad"); r.Error != asl.ErrTaskFailed {
		t.Errorf("bad = %+v", r)
	}
	if r := run("lambda"); r.Error != "Lambda.Oops" || r.Cause != "m" {
		t.Errorf("lambda = %+v", r)
	}
	if r := run("env"); jsonv.String(r.Output) != `"S/2"` {
		t.Errorf("env = %+v", r)
	}
	if r := run("unmapped"); r.Error != asl.ErrTaskFailed {
		t.Errorf("unmapped = %+v", r)
	}
}

func TestCommandTimeoutKillsChildren(t *testing.T) {
	tasks := &Tasks{Targets: map[string]string{"slow": "sleep 30 | cat"}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := tasks.RunTask(ctx, &asl.TaskCommand{Resource: "slow", Input: nil})
	if !r.TimedOut {
		t.Fatalf("result = %+v, want a timeout", r)
	}
}

func TestRealClockSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (RealClock{}).SleepUntil(ctx, time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := (RealClock{}).SleepUntil(context.Background(), time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("past deadline: %v", err)
	}
}
