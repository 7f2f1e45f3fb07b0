package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestShutdownWorkerReleasesItsStickyQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	sticky := &taskqueuepb.TaskQueue{Name: e.id("sticky"), Kind: enumspb.TASK_QUEUE_KIND_STICKY, NormalName: tq}
	// A sticky timeout of an hour: only ShutdownWorker can bring the task back to the normal queue here.
	stickyAttrs := &taskqueuepb.StickyExecutionAttributes{WorkerTaskQueue: sticky, ScheduleToStartTimeout: durationpb.New(time.Hour)}
	wfID, runID := e.startRaw(tq, 0)

	first := e.pollWorkflowTask(tq)
	_, err := e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: first.GetTaskToken(), Identity: "e2e-raw-poller", StickyAttributes: stickyAttrs,
	})
	require.NoError(t, err)
	e.signalRaw(wfID, runID, "while-sticky") // the next task goes to the sticky queue

	_, err = e.raw.ShutdownWorker(e.ctx(), &workflowservice.ShutdownWorkerRequest{
		Namespace: namespace, StickyTaskQueue: sticky.GetName(), Identity: "e2e-raw-poller", Reason: "graceful shutdown",
	})
	require.NoError(t, err)

	next := e.pollQueue(&taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL})
	evs := next.GetHistory().GetEvents()
	require.Equal(t, int64(1), evs[0].GetEventId(), "the normal queue sends the full history")
	require.Equal(t, next.GetStartedEventId(), evs[len(evs)-1].GetEventId())
	require.Len(t, ofType(evs, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 1)

	// Later tasks of the run no longer go to the released sticky queue.
	_, err = e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: next.GetTaskToken(), Identity: "e2e-raw-poller",
	})
	require.NoError(t, err)
	e.signalRaw(wfID, runID, "after")
	again := e.pollQueue(&taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL})
	require.NotEmpty(t, again.GetTaskToken())
}
