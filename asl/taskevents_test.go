package asl

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTaskEventsByResource: an activity records Activity* events (ActivityStarted with the worker
// when the driver reports the start), a Lambda function's own ARN the legacy LambdaFunction*
// events, a service integration the Task* trio; Started is recorded once, and a replay that
// feeds the same outcomes, the start included, rebuilds the same history.
func TestTaskEventsByResource(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		resource string
		worker   string
		want     []string
		detail   string
	}{
		{"arn:aws:states:us-east-1:123456789012:activity:greet", "w1",
			[]string{"ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"},
			"activityStartedEventDetails"},
		{"arn:aws:lambda:us-east-1:123456789012:function:shout", "",
			[]string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
			""},
		{"arn:aws:states:::lambda:invoke", "",
			[]string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
			"taskStartedEventDetails"},
	} {
		m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+tc.resource+`","End":true}}}`)
		cfg := ExecutionConfig{ExecutionArn: "arn:x", StartTime: t0}
		x, cmds := m.Start(cfg)
		require.Len(t, cmds, 1)
		id := cmds[0].ID
		outcomes := []Outcome{
			{CommandID: id, Kind: OutcomeStarted, Worker: tc.worker, Time: t0.Add(time.Second)},
			{CommandID: id, Kind: OutcomeStarted, Worker: tc.worker, Time: t0.Add(2 * time.Second)}, // a redelivery
			{CommandID: id, Kind: OutcomeSucceeded, Output: mustParse(t, `{"ok":true}`), Time: t0.Add(3 * time.Second)},
		}
		for _, o := range outcomes {
			_, err := x.Apply(o)
			require.NoError(t, err, tc.resource)
		}
		var types []string
		for _, ev := range x.History() {
			types = append(types, ev.Type)
		}
		require.Equal(t, tc.want, types, tc.resource)
		started := x.History()[3]
		require.Equal(t, t0.Add(time.Second), started.Timestamp, "Started is recorded when the worker takes the task")
		if tc.worker != "" {
			d, _ := started.JSON().Get(tc.detail)
			require.NotNil(t, d, tc.resource)
		}
		r, err := m.Replay(cfg, outcomes)
		require.NoError(t, err)
		require.Equal(t, HistoryJSON(x.History()), HistoryJSON(r.History()), tc.resource)
	}
	// A start reported for a command that is no task is refused, and changes nothing.
	m := mustCompile(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`)
	x, cmds := m.Start(ExecutionConfig{StartTime: t0})
	n := len(x.History())
	_, err := x.Apply(Outcome{CommandID: cmds[0].ID, Kind: OutcomeStarted})
	require.ErrorIs(t, err, ErrUnknownCommand)
	require.Len(t, x.History(), n)
}
