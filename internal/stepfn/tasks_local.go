package stepfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/asl"
	"github.com/duro-dev/duro/asl/jsonv"
	"github.com/duro-dev/duro/internal/asllocal"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
)

// Resources maps the Task resources of state machines written for AWS to things that run on this
// machine, so they run unchanged on a laptop: a Lambda function (by name or ARN, called through
// arn:aws:states:::lambda:invoke or its own ARN) or any other resource string, to a shell
// command (the input on stdin, the result JSON on stdout) or an http(s):// URL (the input POSTed,
// the response body the result).
//
// The file LoadResources reads is JSON: {"resources": {"<resource or function>": "<command or
// URL>", ...}}; a value may also be {"url": "..."} or {"command": "..."}.
type Resources struct {
	targets map[string]string
}

// LoadResources reads a resource file.
func LoadResources(path string) (*Resources, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read resource file: %w", err)
	}
	var doc struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("resource file %s: %w", path, err)
	}
	r := &Resources{targets: map[string]string{}}
	for key, raw := range doc.Resources {
		var target string
		if err := json.Unmarshal(raw, &target); err != nil {
			var obj struct {
				URL     string `json:"url"`
				Command string `json:"command"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil || (obj.URL == "") == (obj.Command == "") {
				return nil, fmt.Errorf("resource file %s: %q must map to a command, a URL, {\"url\": ...} or {\"command\": ...}", path, key)
			}
			target = obj.URL + obj.Command
			if obj.URL != "" && !strings.HasPrefix(obj.URL, "http://") && !strings.HasPrefix(obj.URL, "https://") {
				return nil, fmt.Errorf("resource file %s: the url of %q must start with http:// or https://", path, key)
			}
		}
		if strings.TrimSpace(target) == "" {
			return nil, fmt.Errorf("resource file %s: %q maps to nothing", path, key)
		}
		r.targets[key] = target
	}
	return r, nil
}

// NewResources maps resources to targets directly (tests, `duro sfn` flags).
func NewResources(targets map[string]string) *Resources {
	r := &Resources{targets: map[string]string{}}
	for k, v := range targets {
		r.targets[k] = v
	}
	return r
}

// lookup finds the target of a resource, or of a Lambda function by ARN, partial ARN or name.
func (r *Resources) lookup(keys ...string) (string, bool) {
	if r == nil {
		return "", false
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if t, ok := r.targets[k]; ok {
			return t, true
		}
		if name := lambdaName(k); name != "" {
			if t, ok := r.targets[name]; ok {
				return t, true
			}
		}
	}
	return "", false
}

// lambdaName reads a function name from a Lambda ARN (arn:aws:lambda:R:A:function:NAME[:QUAL])
// or a partial one (A:function:NAME); "" for anything else.
func lambdaName(s string) string {
	parts := strings.Split(s, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}

// localWorkers is how many local tasks a node runs at once.
const localWorkers = 16

// RunLocal serves the local task queue until ctx ends: Task states whose resource is not a Step
// Functions activity. A .waitForTaskToken task runs its resource (if one is mapped) to hand the
// token out, then waits for SendTaskSuccess or SendTaskFailure from anywhere; without a mapping
// it simply waits (the token is in the TaskScheduled event's parameters). A plain task without a
// mapping fails with States.TaskFailed, saying so.
func (s *Service) RunLocal(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < localWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.localWorker(ctx)
		}()
	}
	wg.Wait()
}

func (s *Service) localWorker(ctx context.Context) {
	key := store.TaskQueueKey{Namespace: s.cfg.Namespace, Name: LocalQueue, Kind: store.TaskActivity}
	poll := engine.PollInfo{Identity: "duro-local", Queue: LocalQueue}
	for ctx.Err() == nil {
		res, err := s.cfg.Matcher.Poll(ctx, key, "duro-local", time.Minute, func(ctx context.Context, t *store.Task) (any, error) {
			return s.cfg.Engine.StartActivityTask(ctx, t, poll)
		}, nil)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("local task poll failed", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		if res == nil {
			continue
		}
		s.runLocalTask(ctx, res.(*workflowservice.PollActivityTaskQueueResponse))
	}
}

// runLocalTask runs one local task attempt and reports its outcome.
func (s *Service) runLocalTask(ctx context.Context, resp *workflowservice.PollActivityTaskQueueResponse) {
	ref := engine.ActivityRef{
		Namespace: resp.GetWorkflowNamespace(), WorkflowID: resp.GetWorkflowExecution().GetWorkflowId(),
		RunID: resp.GetWorkflowExecution().GetRunId(), ActivityID: resp.GetActivityId(),
	}
	resource := resp.GetActivityType().GetName()
	var input any = jsonv.NewObject()
	if p := resp.GetInput().GetPayloads(); len(p) > 0 {
		if v, err := jsonv.Parse(p[0].GetData()); err == nil {
			input = v
		}
	}
	callback := strings.HasSuffix(resource, ".waitForTaskToken")
	base := strings.TrimSuffix(strings.TrimSuffix(resource, ".waitForTaskToken"), ".sync")
	payload, function := input, ""
	lambdaInvoke := base == "arn:aws:states:::lambda:invoke"
	if obj, ok := input.(*jsonv.Object); ok && lambdaInvoke {
		if f, ok := obj.Get("FunctionName"); ok {
			function, _ = f.(string)
		}
		payload, _ = obj.Get("Payload")
	}
	target, ok := s.cfg.Resources.lookup(function, base, resource)
	if !ok {
		if callback {
			return // nothing to call: the token waits for SendTaskSuccess / SendTaskFailure
		}
		s.report(ctx, ref, asl.TaskResult{Error: asl.ErrTaskFailed,
			Cause: fmt.Sprintf("Duro has no local resource for %s: map it in the file named by DURO_SFN_RESOURCES", resourceLabel(resource, function))})
		return
	}
	runCtx := ctx
	if d := resp.GetStartToCloseTimeout().AsDuration(); d > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if hb := resp.GetHeartbeatTimeout().AsDuration(); hb > 0 && !callback {
		stop := s.heartbeat(runCtx, ref, hb/3)
		defer stop()
	}
	tasks := &asllocal.Tasks{Targets: map[string]string{resource: target}}
	res := tasks.RunTask(runCtx, &asl.TaskCommand{Resource: resource, Input: payload})
	if res.TimedOut || res.HeartbeatTimedOut {
		return // the engine's durable timeout ends the task
	}
	if callback && res.Error == "" {
		return // handed out; the callback completes the task
	}
	if lambdaInvoke && res.Error == "" {
		o := jsonv.NewObject()
		o.Set("ExecutedVersion", "$LATEST")
		o.Set("Payload", res.Output)
		o.Set("StatusCode", jsonv.NumberFromInt(200))
		res.Output = o
	}
	s.report(ctx, ref, res)
}

func resourceLabel(resource, function string) string {
	if function != "" {
		return "the Lambda function " + function
	}
	return "the resource " + resource
}

// report records a local task's outcome; a task that is gone meanwhile (timed out, execution
// stopped) is not an error.
func (s *Service) report(ctx context.Context, ref engine.ActivityRef, res asl.TaskResult) {
	var err error
	if res.Error != "" {
		err = s.cfg.Engine.FailActivity(ctx, ref, engine.SFNFailure(res.Error, res.Cause), nil, "duro-local")
	} else {
		err = s.cfg.Engine.CompleteActivity(ctx, ref, jsonPayloads(string(jsonv.Marshal(res.Output))), "duro-local")
	}
	if err != nil && ctx.Err() == nil {
		s.log.Debug("local task outcome not recorded", "workflow", ref.WorkflowID, "activity", ref.ActivityID, "err", err)
	}
}

// heartbeat records, every interval until stop is called, that this node still runs the task:
// the engine hands the attempt to another node only when the heartbeats stop (the node died).
func (s *Service) heartbeat(ctx context.Context, ref engine.ActivityRef, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(interval, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := s.cfg.Engine.HeartbeatActivity(ctx, ref, nil); err != nil && ctx.Err() == nil {
					s.log.Debug("local task heartbeat", "workflow", ref.WorkflowID, "activity", ref.ActivityID, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
