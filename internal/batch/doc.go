// Package batch runs Temporal's batch operations: a job that terminates, cancels, signals, resets
// or deletes every workflow execution matching a visibility query (or of an explicit list), at a
// bounded rate, with progress a client can follow (StartBatchOperation, DescribeBatchOperation,
// ListBatchOperations, StopBatchOperation).
//
// A job is one store record (kind [Kind], named by its job ID) holding the request, the job's
// state, its counters and a cursor. No execution represents it, unlike Temporal's batcher
// workflow, so no listing of executions shows it. The invariants:
//
//   - Any node may work on any job, one at a time. A node claims a due job by compare-and-set of
//     its record, which then stays due only when the node's lease (the record's WakeAt) runs out;
//     each checkpoint renews it, and a node that stops releases its jobs at once.
//   - A job works through its executions in one stable order — the store's keyset listing,
//     newest StartTime first, by (StartTime, RunID) positions — a page at a time, and after each
//     page writes the counters and the cursor together in one compare-and-set. A job resumed on
//     any node starts from the last checkpoint: the page it was on is done again, which
//     neither skips an execution nor counts one twice.
//   - Every operation is idempotent: signal, cancel and reset carry a request ID derived from the
//     job and the run (the workflow, for reset), so the engine answers a repeat from what it
//     recorded; terminating or deleting what is already closed or gone finds it so. An execution
//     found closed or gone counts as done, as Temporal's batcher counts NotFound.
//   - A job applies to what existed when it started: the listing begins below the job's start
//     time, so runs started later are never touched (the runs a reset job creates start at their
//     reset, and a reset job also knows them by their start request ID). Terminate, cancel and
//     signal apply, as in Temporal, only to open executions: those open at the start, which
//     includes the ones that closed since (on their own, or by this job before a restart).
//   - Operations take tokens from a bucket of the job's rate (the request's
//     max_operations_per_second, capped by the node's limit, Temporal's 50 a second by default),
//     on the node's clock.
//   - A stopped job is FAILED, as Temporal reports its terminated batcher workflow; the node
//     working on it notices at its next checkpoint. Finished jobs are deleted after their
//     namespace's retention.
package batch
