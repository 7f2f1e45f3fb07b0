// Package e2e is Duro's end-to-end suite: each test starts a real Duro node on a loopback port (in
// process, or as a subprocess for the crash test) and drives it with the official, unmodified Temporal
// Go SDK client and worker, then checks results, error types and the recorded history.
//
// It covers activities (several per workflow; retries with backoff to success, to a non-retryable
// failure and to exhausted attempts; the four activity timeouts; heartbeat details carried across
// a retry), timers (short ones, a cancelled one, and month-long ones fired by moving the node's
// manual clock), signals before and during activities, queries on running and closed workflows,
// SideEffect and GetVersion replayed by a fresh worker, cancellation and termination, a saga's
// compensations, start idempotency and ID conflicts, workflow run, execution and task timeouts,
// bad input answered with the right gRPC status and no change to state (with fuzz targets over
// StartWorkflowExecution and task tokens), durability across SIGKILL
// (crash_test.go) and a throughput benchmark (BenchmarkOneActivityWorkflow).
//
// The store is a temp SQLite file per test; with DURO_E2E_STORE set to a postgres:// URL each test
// gets a fresh schema there instead, so the same suite runs on either driver. DURO_E2E_LOG_LEVEL
// (warn by default) sets the level of the node's and the SDK's logs in test output.
package e2e
