// Package e2e is Duro's end-to-end suite: each test starts a real Duro node on a loopback port (in
// process, or as a subprocess for the crash test) and drives it with the official, unmodified Temporal
// Go SDK client and worker, then checks results, error types and the recorded history.
//
// What it covers, by file:
//
//   - activity_test.go: several activities per workflow; retries with backoff to success, to a
//     non-retryable failure and to exhausted attempts (failed attempts write no events); the four
//     activity timeouts; heartbeat details carried across a retry.
//   - timer_test.go: short and cancelled timers, and a 30-day timer fired by moving the node's
//     manual clock.
//   - signal_test.go, query_test.go: signals before and during an activity, request-ID dedup;
//     queries on running and closed workflows, unknown and failing queries.
//   - replay_test.go: SideEffect and GetVersion replayed by a fresh worker; local activities and
//     MutableSideEffect.
//   - cancel_test.go, saga_test.go: cancellation (started and unstarted activities), termination,
//     compensations in reverse order.
//   - start_test.go: start idempotency by request ID, ID conflict and reuse policies.
//   - timeout_test.go, task_test.go: workflow run, execution and task timeouts; transient
//     workflow-task attempts; sticky queues and their fallback to the normal queue.
//   - misc_test.go: async activity completion, signal-with-start, listing, history paging.
//   - badinput_test.go, fuzz_test.go: bad requests, unknown namespaces and workflows, oversized
//     payloads and stale or garbage task tokens answered with the right gRPC status and no change
//     to state; fuzz targets over StartWorkflowExecution and task tokens.
//   - crash_test.go: durability across two SIGKILLs of a `duro server` subprocess.
//   - bench_test.go: BenchmarkOneActivityWorkflow (workflows/s, p50/p99 start-to-result latency).
//
// The store is a temp SQLite file per test; with DURO_E2E_STORE set to a postgres:// URL each test
// gets a fresh schema there instead, so the same suite runs on either driver. DURO_E2E_LOG_LEVEL
// (warn by default) sets the level of the node's and the SDK's logs in test output.
package e2e
