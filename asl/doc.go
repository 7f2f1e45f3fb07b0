// Package asl is Duro's Amazon States Language interpreter: it parses and validates state machine
// definitions ([Compile], [Validate]) and runs them as a pure decider ([Execution]).
//
// # The decider
//
// An [Execution] never sleeps, does I/O, reads the clock or draws random numbers. It is driven from
// outside: [Machine.Start] and [Execution.Apply] take the time of the step and, at the start, a
// seed for its randomness; they return [Command]s (run a task with this input and these timeouts,
// start a timer, start child executions, cancel a pending command, complete, fail). The caller
// carries the commands out and reports each result back as an [Outcome]. Given the same
// definition, configuration and outcomes in the same order, an execution emits the same commands
// and the same history: so an engine persists only the outcomes (which its history holds anyway)
// and rebuilds an execution after a crash by replaying them, and each step costs work in
// proportion to what it does, never to the size of the execution (a 10,000-item Map stays linear).
//
// Work inside one step runs from a FIFO queue rather than by recursion, so long chains of states
// and wide Maps use constant stack. Inline Map runs at most 40 iterations at once (AWS's limit)
// unless MaxConcurrency is lower; Parallel branches run at once in the decider's sense, several
// pending tasks at a time. Two bounds keep an execution within the engine's limits: at most
// ExecutionConfig.MaxPendingTasks task commands are outstanding (more wait in FIFO order), and
// entering a state once the history holds ExecutionConfig.MaxHistoryEvents events fails the
// execution with States.Runtime, which also stops loops that never wait.
//
// Retry and Catch belong to the decider: each task command is one attempt, backoffs are timers,
// JitterStrategy FULL draws from the seeded generator, and States.Runtime is never retried or
// caught (States.ALL does not match it, nor States.DataLimitExceeded).
//
// # Values
//
// All data is jsonv values (ordered objects, numbers kept as text). Values are never mutated once
// produced: data flow copies only the containers it changes, so inputs, outputs and history events
// share structure safely.
//
// # History
//
// As it goes, an execution records Step Functions' own events (ExecutionStarted, PassStateEntered,
// TaskScheduled, MapIterationStarted, ...) with ids and previous event ids, so a Step Functions API
// can project them one to one ([Event.JSON]).
//
// [Runner] is a small in-memory driver loop over an execution for the command line and tests.
package asl
