package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/sqlite"
)

// crashEnv names the database file the crash child writes to.
const crashEnv = "DURO_SQLITE_CRASH_CHILD_DB"

// crashBatch is the transition batch the child commits as step i: it creates run i (events 1..3, a
// task) and moves run i-1 to version 2 (events 4..5).
func crashBatch(i int) []*store.Transition {
	run := func(i int) store.Execution {
		return store.Execution{
			Namespace: "default", WorkflowID: fmt.Sprintf("wf-%d", i), RunID: fmt.Sprintf("run-%06d", i),
			Version: 1, State: []byte("v1"), WorkflowType: "T", TaskQueue: "q", Status: 1,
		}
	}
	e := run(i)
	create := &store.Transition{
		Execution: e,
		Events:    []store.Event{{EventID: 1}, {EventID: 2}, {EventID: 3}},
		NewTasks: []*store.Task{{
			TaskQueueKey: store.TaskQueueKey{Namespace: "default", Name: "q", Kind: store.TaskWorkflow},
			WorkflowID:   e.WorkflowID, RunID: e.RunID, ScheduledEventID: 2,
		}},
	}
	if i == 1 {
		return []*store.Transition{create}
	}
	prev := run(i - 1)
	update := &store.Transition{ExpectedVersion: 1, Execution: prev, Events: []store.Event{{EventID: 4}, {EventID: 5}}}
	update.Execution.Version, update.Execution.State = 2, []byte("v2")
	return []*store.Transition{create, update}
}

// TestMain runs the crash child instead of the tests when crashEnv is set (TestSurvivesSIGKILL
// starts this test binary that way).
func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
	}
	os.Exit(m.Run())
}

// crashChild commits crashBatch(1), crashBatch(2), … and reports each one after Apply returns,
// until it is killed.
func crashChild(path string) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	for i := 1; ; i++ {
		errs, err := s.Apply(ctx, crashBatch(i))
		if err != nil {
			fmt.Println("apply:", err)
			os.Exit(2)
		}
		for _, err := range errs {
			if err != nil {
				fmt.Println("transition:", err)
				os.Exit(2)
			}
		}
		fmt.Printf("committed %d\n", i) // only after Apply returned
	}
}

// A process killed with SIGKILL in the middle of its commits leaves every Apply that returned
// durable and every other one absent as a whole: no run is half written.
func TestSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "crash.db")
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())

		// Kill at a different point each round, while the child is between or inside commits.
		killAfter := 20 + 37*round
		last := 0
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			n, ok := strings.CutPrefix(line, "committed ")
			require.True(t, ok, "child said %q", line)
			last, err = strconv.Atoi(n)
			require.NoError(t, err)
			if last == killAfter {
				require.NoError(t, cmd.Process.Kill())
				break
			}
		}
		_ = cmd.Wait()
		cancel()
		require.Equal(t, killAfter, last, "the child stopped early")

		s, err := sqlite.Open(t.Context(), path)
		require.NoError(t, err)
		n, err := s.CountExecutions(t.Context(), store.ExecutionFilter{Namespace: "default"})
		require.NoError(t, err)
		// Every reported step is there. The child may have committed a few more steps than the
		// parent read before the kill; those must be whole too.
		require.GreaterOrEqual(t, n, int64(last), "round %d: reported commits are lost", round)
		for i := 1; i <= int(n); i++ {
			e, err := s.GetExecution(t.Context(), "default", fmt.Sprintf("wf-%d", i), fmt.Sprintf("run-%06d", i))
			require.NoError(t, err, "run %d", i)
			wantEvents := 3
			if i < int(n) {
				require.Equal(t, int64(2), e.Version, "run %d was moved on by step %d", i, i+1)
				wantEvents = 5
			} else {
				require.Equal(t, int64(1), e.Version, "the newest run %d", i)
			}
			evs, err := s.ReadEvents(t.Context(), "default", e.RunID, 1, 0, 0)
			require.NoError(t, err)
			require.Len(t, evs, wantEvents, "run %d", i)
		}
		count, err := s.CountTasks(t.Context(), store.TaskQueueKey{Namespace: "default", Name: "q", Kind: store.TaskWorkflow})
		require.NoError(t, err)
		require.Equal(t, n, count, "one task per run")
		require.NoError(t, s.Close())
	}
}
