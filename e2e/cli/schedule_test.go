package cli

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
)

// TestTemporalCLISchedules drives Duro's Schedules with `temporal schedule create / describe / list
// / trigger / backfill / toggle / delete`, checking each command's output and the runs the
// schedule starts (found through ListWorkflowExecutions with TemporalScheduledById, as users find
// them).
func TestTemporalCLISchedules(t *testing.T) {
	bin := ensureCLI(t)
	e := newEnv(t, bin)
	tq := "cli-sched-tq"
	e.startWorker(t, tq)
	const id = "cli-sched"

	// Every ten days (far apart: only trigger and backfill act during the test).
	out := e.cliRaw(t, "schedule", "create", "--schedule-id", id, "--interval", "10d",
		"--type", greeterType, "--task-queue", tq, "--workflow-id", "cli-sched-wf", "--input", `"Sched"`,
		"--overlap-policy", "AllowAll", "--notes", "made by the CLI")
	require.Empty(t, strings.TrimSpace(string(out)), "schedule create prints nothing on success")

	// A second create of the same ID is refused with Temporal's error.
	_, stderr, err := e.cli(t, "schedule", "create", "--schedule-id", id, "--interval", "1h",
		"--type", greeterType, "--task-queue", tq, "--workflow-id", "other")
	require.Error(t, err)
	require.Contains(t, stderr, "schedule with this ID is already registered")

	t.Run("describe", func(t *testing.T) {
		var desc workflowservice.DescribeScheduleResponse
		unmarshalProto(t, e.cliRaw(t, "schedule", "describe", "--schedule-id", id, "-o", "json"), &desc, false)
		s := desc.GetSchedule()
		require.Len(t, s.GetSpec().GetInterval(), 1)
		require.Equal(t, 240*time.Hour, s.GetSpec().GetInterval()[0].GetInterval().AsDuration())
		require.Equal(t, greeterType, s.GetAction().GetStartWorkflow().GetWorkflowType().GetName())
		require.Equal(t, tq, s.GetAction().GetStartWorkflow().GetTaskQueue().GetName())
		require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, s.GetPolicies().GetOverlapPolicy())
		require.Equal(t, 365*24*time.Hour, s.GetPolicies().GetCatchupWindow().AsDuration(), "the default catch-up window is shown")
		require.Equal(t, "made by the CLI", s.GetState().GetNotes())
		require.False(t, s.GetState().GetPaused())
		require.Len(t, desc.GetInfo().GetFutureActionTimes(), 10)
		first := desc.GetInfo().GetFutureActionTimes()[0].AsTime()
		require.True(t, first.After(time.Now()) && first.Before(time.Now().Add(241*time.Hour)), "next time %v", first)
		require.Zero(t, first.Unix()%(240*3600), "interval times are whole multiples of the interval since the epoch")
		require.NotNil(t, desc.GetInfo().GetCreateTime())
		require.Len(t, desc.GetConflictToken(), 8)

		text := string(e.cliRaw(t, "schedule", "describe", "--schedule-id", id))
		for _, want := range []string{id, "made by the CLI", "AllowAll", "10d"} {
			require.Contains(t, text, want, "schedule describe (text)")
		}
	})

	t.Run("list", func(t *testing.T) {
		raw := e.cliRaw(t, "schedule", "list", "-o", "json")
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &items), "schedule list output: %s", raw)
		require.Len(t, items, 1)
		var ent schedulepb.ScheduleListEntry
		unmarshalProto(t, items[0], &ent, false)
		require.Equal(t, id, ent.GetScheduleId())
		require.Equal(t, greeterType, ent.GetInfo().GetWorkflowType().GetName())
		require.Equal(t, "made by the CLI", ent.GetInfo().GetNotes())
		require.Len(t, ent.GetInfo().GetFutureActionTimes(), 5)

		text := string(e.cliRaw(t, "schedule", "list"))
		require.Contains(t, text, id)
		require.Contains(t, text, greeterType)
		require.Contains(t, string(e.cliRaw(t, "schedule", "list", "--long")), "made by the CLI")
		require.NotContains(t, string(e.cliRaw(t, "schedule", "list", "--query", "TemporalSchedulePaused = true")), id)
	})

	t.Run("trigger", func(t *testing.T) {
		out := e.cliRaw(t, "schedule", "trigger", "--schedule-id", id)
		require.Contains(t, string(out), "Trigger request sent")
		runs := e.scheduledRuns(t, id, 1)
		require.True(t, strings.HasPrefix(runs[0].id, "cli-sched-wf-"), "workflow ID %s", runs[0].id)
		require.Equal(t, "Hello, Sched!", e.result(t, runs[0].id, runs[0].runID))
	})

	t.Run("backfill", func(t *testing.T) {
		// Three interval times, the first one the start itself (a backfill's start is inclusive).
		every := 240 * time.Hour
		start := time.Unix(time.Now().Add(-100*every).Unix()/int64(every/time.Second)*int64(every/time.Second), 0).UTC()
		end := start.Add(2 * every)
		out := e.cliRaw(t, "schedule", "backfill", "--schedule-id", id,
			"--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339), "--overlap-policy", "AllowAll")
		require.Contains(t, string(out), "Backfill request sent")
		runs := e.scheduledRuns(t, id, 4)
		var got []time.Time
		for _, r := range runs[:3] {
			got = append(got, r.scheduled)
			require.Equal(t, "cli-sched-wf-"+r.scheduled.Format(time.RFC3339), r.id)
			require.Equal(t, "Hello, Sched!", e.result(t, r.id, r.runID))
		}
		require.Equal(t, []time.Time{start, start.Add(every), end}, got)

		var desc workflowservice.DescribeScheduleResponse
		require.Eventually(t, func() bool {
			unmarshalProto(t, e.cliRaw(t, "schedule", "describe", "--schedule-id", id, "-o", "json"), &desc, false)
			return desc.GetInfo().GetActionCount() == 4
		}, waitFor, tick, "describe shows the four actions")
		require.Len(t, desc.GetInfo().GetRecentActions(), 4)
	})

	t.Run("toggle", func(t *testing.T) {
		e.cliRaw(t, "schedule", "toggle", "--schedule-id", id, "--pause", "--reason", "paused from the CLI")
		var desc workflowservice.DescribeScheduleResponse
		unmarshalProto(t, e.cliRaw(t, "schedule", "describe", "--schedule-id", id, "-o", "json"), &desc, false)
		require.True(t, desc.GetSchedule().GetState().GetPaused())
		require.Equal(t, "paused from the CLI", desc.GetSchedule().GetState().GetNotes())
		require.Contains(t, string(e.cliRaw(t, "schedule", "list", "--query", "TemporalSchedulePaused = true")), id)
		e.cliRaw(t, "schedule", "toggle", "--schedule-id", id, "--unpause", "--reason", "back")
		unmarshalProto(t, e.cliRaw(t, "schedule", "describe", "--schedule-id", id, "-o", "json"), &desc, false)
		require.False(t, desc.GetSchedule().GetState().GetPaused())
	})

	t.Run("delete", func(t *testing.T) {
		out := e.cliRaw(t, "schedule", "delete", "--schedule-id", id)
		require.Contains(t, string(out), "Schedule deleted")
		_, stderr, err := e.cli(t, "schedule", "describe", "--schedule-id", id)
		require.Error(t, err)
		require.Contains(t, stderr, "schedule not found")
		raw := e.cliRaw(t, "schedule", "list", "-o", "json")
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &items), "schedule list output: %s", raw)
		require.Empty(t, items)
		// The runs it started stay.
		require.Len(t, e.scheduledRuns(t, id, 4), 4)
	})
}

// scheduledRun is a run a schedule started.
type scheduledRun struct {
	id, runID string
	scheduled time.Time // TemporalScheduledStartTime
}

// scheduledRuns waits until schedule id has started n runs and returns them, oldest scheduled time
// first.
func (e *env) scheduledRuns(t *testing.T, id string, n int) []scheduledRun {
	t.Helper()
	var runs []scheduledRun
	require.Eventually(t, func() bool {
		resp, err := e.c.WorkflowService().ListWorkflowExecutions(e.ctx(t), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: "TemporalScheduledById = '" + id + "'",
		})
		if err != nil {
			return false
		}
		runs = runs[:0]
		for _, info := range resp.GetExecutions() {
			r := scheduledRun{id: info.GetExecution().GetWorkflowId(), runID: info.GetExecution().GetRunId()}
			p := info.GetSearchAttributes().GetIndexedFields()["TemporalScheduledStartTime"]
			if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &r.scheduled) != nil {
				return false
			}
			r.scheduled = r.scheduled.UTC()
			runs = append(runs, r)
		}
		return len(runs) >= n
	}, waitFor, tick, "schedule %s: want %d runs", id, n)
	require.Len(t, runs, n)
	sort.Slice(runs, func(i, j int) bool { return runs[i].scheduled.Before(runs[j].scheduled) })
	return runs
}
