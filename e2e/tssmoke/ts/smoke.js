'use strict';
// The TypeScript smoke suite: one process runs a worker and a client of the official Temporal
// TypeScript SDK against a Duro node and checks what they see. The Go test in e2e/tssmoke starts the
// node and runs this script; it can also be run by hand against any node:
//
//   npm ci && DURO_ADDRESS=127.0.0.1:7233 node smoke.js
//
// Environment: DURO_ADDRESS (required), TSSMOKE_NAMESPACE ("default"), TSSMOKE_TASK_QUEUE (a fresh
// name), TSSMOKE_LOG_LEVEL (SDK log level, "WARN"), TSSMOKE_CHECK_TIMEOUT_MS (30000 per check).
// It prints "PASS <check>" or "FAIL <check>: <what differed>" for every check, then the summary line
// "TSSMOKE SUMMARY: <passed>/<total> passed", and exits 0 only if every check passed.

const util = require('node:util');
const crypto = require('node:crypto');
const { Client, Connection, WorkflowFailedError, WorkflowExecutionAlreadyStartedError, CancelledFailure } = require('@temporalio/client');
const { Worker, NativeConnection, Runtime, DefaultLogger, bundleWorkflowCode } = require('@temporalio/worker');
const { Context, ApplicationFailure } = require('@temporalio/activity');

const address = process.env.DURO_ADDRESS;
const namespace = process.env.TSSMOKE_NAMESPACE || 'default';
const suffix = crypto.randomBytes(4).toString('hex');
const taskQueue = process.env.TSSMOKE_TASK_QUEUE || `tssmoke-${suffix}`;
const logLevel = process.env.TSSMOKE_LOG_LEVEL || 'WARN';
const checkTimeoutMs = Number(process.env.TSSMOKE_CHECK_TIMEOUT_MS || 30000);
const started = Date.now();

function log(msg) {
  console.log(`[tssmoke +${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);
}

// sdkLogger prints the SDK's log entries one a line, errors as their message, so that the expected
// failures of the retry check do not flood the test log with stacks.
function sdkLogger() {
  return new DefaultLogger(logLevel, ({ level, message, meta }) => {
    const fields = Object.entries(meta || {})
      .filter(([k]) => !['sdkComponent', 'taskToken', 'namespace'].includes(k))
      .map(([k, v]) => `${k}=${v instanceof Error ? JSON.stringify(`${v.constructor.name}: ${v.message}`) : show(v)}`);
    log(`sdk ${level} ${message} ${fields.join(' ')}`);
  });
}

// --- activities -------------------------------------------------------------------------------

// calls counts the executions of flaky per workflow ID, as the worker saw them.
const calls = new Map();

const activities = {
  async greet(name) {
    return `Hello, ${name}`;
  },
  async shout(s) {
    return `${s.toUpperCase()}!`;
  },
  // flaky fails its first two attempts with a retryable failure and succeeds on the third.
  async flaky() {
    const info = Context.current().info;
    const id = info.workflowExecution.workflowId;
    calls.set(id, (calls.get(id) || 0) + 1);
    if (info.attempt < 3) {
      throw ApplicationFailure.retryable(`planned failure on attempt ${info.attempt}`, 'Planned');
    }
    return { attempt: info.attempt, calls: calls.get(id) };
  },
};

// --- assertions -------------------------------------------------------------------------------

function show(v) {
  return util.inspect(v, { depth: 6, breakLength: Infinity });
}

function expectEqual(what, got, want) {
  if (!util.isDeepStrictEqual(got, want)) {
    throw new Error(`${what}: got ${show(got)}, want ${show(want)}`);
  }
}

function expectTrue(what, cond, detail) {
  if (!cond) {
    throw new Error(`${what}${detail === undefined ? '' : `: ${detail}`}`);
  }
}

// describeError renders an error with its whole cause chain, for a failure report.
function describeError(err) {
  const parts = [];
  for (let e = err, depth = 0; e && depth < 8; e = e.cause, depth++) {
    if (e instanceof Error) {
      parts.push(`${e.constructor.name}: ${e.message}`);
    } else {
      parts.push(show(e));
      break;
    }
  }
  return parts.join(' <- caused by ');
}

// --- helpers ----------------------------------------------------------------------------------

function workflowId(check) {
  return `tssmoke-${check}-${suffix}`;
}

function sleepMs(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// events returns the history of a workflow as event objects.
async function events(handle) {
  const history = await handle.fetchHistory();
  return history.events || [];
}

// waitForEvent polls the history until an event has the attribute field attr (such as
// "workflowTaskCompletedEventAttributes"), so the check knows the worker has run the workflow.
async function waitForEvent(handle, attr, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const evs = await events(handle);
    if (evs.some((e) => e[attr])) {
      return evs;
    }
    if (Date.now() > deadline) {
      throw new Error(`history of ${handle.workflowId} has no event with ${attr} after ${timeoutMs} ms: ${show(evs.map(eventName))}`);
    }
    await sleepMs(100);
  }
}

function eventName(e) {
  const attr = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k]);
  return attr ? attr.replace(/EventAttributes$/, '') : `event ${e.eventId}`;
}

function countEvents(evs, attr) {
  return evs.filter((e) => e[attr]).length;
}

// --- checks -----------------------------------------------------------------------------------

// Each check gets { client, workflowBundle } and throws on the first thing that differs.
const checks = [
  {
    name: 'two-activities',
    async run({ client }) {
      const handle = await client.workflow.start('twoActivities', { taskQueue, workflowId: workflowId('two-activities'), args: ['Duro'] });
      const result = await handle.result();
      expectEqual('workflow result', result, 'Hello, Duro | HELLO, DURO!');
      const evs = await events(handle);
      expectEqual('ActivityTaskCompleted events', countEvents(evs, 'activityTaskCompletedEventAttributes'), 2);
    },
  },
  {
    name: 'activity-retry',
    async run({ client }) {
      const id = workflowId('activity-retry');
      const handle = await client.workflow.start('retried', { taskQueue, workflowId: id });
      const result = await handle.result();
      expectEqual('workflow result (attempt and calls seen by the activity)', result, { attempt: 3, calls: 3 });
      expectEqual('activity executions counted by the worker', calls.get(id), 3);
      const evs = await events(handle);
      expectEqual('ActivityTaskScheduled events', countEvents(evs, 'activityTaskScheduledEventAttributes'), 1);
      const startedEv = evs.find((e) => e.activityTaskStartedEventAttributes);
      expectTrue('history has an ActivityTaskStarted event', startedEv !== undefined, show(evs.map(eventName)));
      expectEqual('ActivityTaskStarted attempt', startedEv.activityTaskStartedEventAttributes.attempt, 3);
    },
  },
  {
    name: 'signal',
    async run({ client }) {
      const handle = await client.workflow.start('waitForSignal', { taskQueue, workflowId: workflowId('signal'), args: ['signal'] });
      await handle.signal('finish', 'value from the signal');
      const result = await handle.result();
      expectEqual('workflow result', result, 'value from the signal');
      const evs = await events(handle);
      const sig = evs.find((e) => e.workflowExecutionSignaledEventAttributes);
      expectTrue('history has a WorkflowExecutionSignaled event', sig !== undefined, show(evs.map(eventName)));
      expectEqual('signal name', sig.workflowExecutionSignaledEventAttributes.signalName, 'finish');
    },
  },
  {
    name: 'query',
    async run({ client }) {
      const handle = await client.workflow.start('waitForSignal', { taskQueue, workflowId: workflowId('query'), args: ['query'] });
      // Query only once the worker has run the first workflow task, which registers the handler.
      await waitForEvent(handle, 'workflowTaskCompletedEventAttributes');
      const state = await handle.query('state');
      expectEqual('query result on the running workflow', state, { label: 'query', state: 'waiting', signalled: false });
      const desc = await handle.describe();
      expectEqual('status while waiting', desc.status.name, 'RUNNING');
      await handle.signal('finish', 'after the query');
      expectEqual('workflow result', await handle.result(), 'after the query');
    },
  },
  {
    name: 'timer',
    async run({ client }) {
      const t0 = Date.now();
      const handle = await client.workflow.start('sleeper', { taskQueue, workflowId: workflowId('timer'), args: [1000] });
      const workflowElapsed = await handle.result();
      const wallElapsed = Date.now() - t0;
      expectTrue('workflow time advanced by at least the sleep', workflowElapsed >= 1000, `advanced ${workflowElapsed} ms`);
      expectTrue('wall time passed at least the sleep', wallElapsed >= 1000, `passed ${wallElapsed} ms`);
      const evs = await events(handle);
      expectEqual('TimerStarted events', countEvents(evs, 'timerStartedEventAttributes'), 1);
      expectEqual('TimerFired events', countEvents(evs, 'timerFiredEventAttributes'), 1);
    },
  },
  {
    name: 'patched',
    async run({ client, workflowBundle }) {
      const id = workflowId('patched');
      const handle = await client.workflow.start('patchedWorkflow', { taskQueue, workflowId: id });
      expectEqual('workflow result', await handle.result(), 'new');
      const history = await handle.fetchHistory();
      const markers = (history.events || []).filter((e) => e.markerRecordedEventAttributes);
      expectEqual('marker names', markers.map((e) => e.markerRecordedEventAttributes.markerName), ['core_patch']);
      // The stored history must replay on a fresh worker without a nondeterminism error.
      await Worker.runReplayHistory({ workflowBundle, replayName: 'tssmoke-patched' }, history, id);
    },
  },
  {
    name: 'cancel',
    async run({ client }) {
      const handle = await client.workflow.start('sleeper', { taskQueue, workflowId: workflowId('cancel'), args: [3600 * 1000] });
      await waitForEvent(handle, 'timerStartedEventAttributes');
      await handle.cancel();
      let err;
      try {
        const result = await handle.result();
        throw new Error(`workflow completed with ${show(result)} after cancellation, want WorkflowFailedError`);
      } catch (e) {
        err = e;
      }
      expectTrue('result error is a WorkflowFailedError', err instanceof WorkflowFailedError, describeError(err));
      expectTrue('its cause is a CancelledFailure', err.cause instanceof CancelledFailure, describeError(err));
      const desc = await handle.describe();
      expectEqual('status after cancellation', desc.status.name, 'CANCELLED');
    },
  },
  {
    name: 'already-started',
    async run({ client }) {
      const id = workflowId('already-started');
      const handle = await client.workflow.start('waitForSignal', { taskQueue, workflowId: id, args: ['first'] });
      let err;
      try {
        const second = await client.workflow.start('waitForSignal', { taskQueue, workflowId: id, args: ['second'] });
        err = new Error(`second start returned run ${second.firstExecutionRunId}, want WorkflowExecutionAlreadyStartedError`);
      } catch (e) {
        err = e;
      }
      expectTrue('second start raises WorkflowExecutionAlreadyStartedError', err instanceof WorkflowExecutionAlreadyStartedError, describeError(err));
      expectEqual('error workflowId', err.workflowId, id);
      expectEqual('error workflowType', err.workflowType, 'waitForSignal');
      // The first run is untouched: it still takes its signal and completes.
      await handle.signal('finish', 'first run done');
      expectEqual('first run result', await handle.result(), 'first run done');
    },
  },
];

function withTimeout(name, promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// runChecks runs every check concurrently and returns one result per check; it never rejects.
async function runChecks(env) {
  return Promise.all(
    checks.map(async (c) => {
      const t0 = Date.now();
      try {
        await withTimeout(c.name, c.run(env), checkTimeoutMs);
        const ms = Date.now() - t0;
        log(`PASS ${c.name} (${ms} ms)`);
        return { name: c.name, ok: true };
      } catch (err) {
        const msg = describeError(err);
        log(`FAIL ${c.name}: ${msg}`);
        if (err && err.stack) {
          console.log(err.stack);
        }
        return { name: c.name, ok: false, msg };
      }
    }),
  );
}

async function main() {
  if (!address) {
    throw new Error('DURO_ADDRESS is not set: want host:port of a Duro node');
  }
  log(`server ${address}, namespace ${namespace}, task queue ${taskQueue}`);
  Runtime.install({ logger: sdkLogger() });

  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows.js'),
    logger: sdkLogger(),
  });
  log('workflows bundled');

  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  log('connected');

  const worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowBundle,
    activities,
    shutdownGraceTime: '2s',
  });
  log('worker created');

  const results = await worker.runUntil(() => runChecks({ client, workflowBundle }));
  log('worker shut down');
  await connection.close();
  await nativeConnection.close();

  const passed = results.filter((r) => r.ok).length;
  for (const r of results.filter((x) => !x.ok)) {
    console.log(`FAILED CHECK ${r.name}: ${r.msg}`);
  }
  console.log(`TSSMOKE SUMMARY: ${passed}/${results.length} passed`);
  return passed === results.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.log(`tssmoke: fatal: ${describeError(err)}`);
    if (err && err.stack) {
      console.log(err.stack);
    }
    process.exit(2);
  },
);
