'use strict';
// Workflows of the TypeScript smoke suite. The worker bundles this file with the SDK's webpack
// bundler and runs it in its deterministic sandbox, so it may import only @temporalio/workflow.

const wf = require('@temporalio/workflow');

const { greet, shout } = wf.proxyActivities({ startToCloseTimeout: '10s' });

const { flaky } = wf.proxyActivities({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '100ms', maximumAttempts: 5 },
});

const finishSignal = wf.defineSignal('finish');
const stateQuery = wf.defineQuery('state');

// twoActivities calls two activities in sequence and combines their results.
async function twoActivities(name) {
  const greeting = await greet(name);
  const loud = await shout(greeting);
  return `${greeting} | ${loud}`;
}

// retried calls an activity that fails until its third attempt and returns what it returned.
async function retried() {
  return await flaky();
}

// waitForSignal blocks until the "finish" signal arrives and returns its value; the "state" query
// reports where it is.
async function waitForSignal(label) {
  let value;
  let state = 'waiting';
  wf.setHandler(finishSignal, (v) => {
    value = v;
    state = 'signalled';
  });
  wf.setHandler(stateQuery, () => ({ label, state, signalled: value !== undefined }));
  await wf.condition(() => value !== undefined);
  state = 'done';
  return value;
}

// sleeper sleeps for ms milliseconds of workflow time and returns how long workflow time advanced.
async function sleeper(ms) {
  const before = Date.now();
  await wf.sleep(ms);
  return Date.now() - before;
}

// patchedWorkflow takes the new branch of patch "x", then sleeps briefly so that the run spans more
// than one workflow task.
async function patchedWorkflow() {
  const branch = wf.patched('x') ? 'new' : 'old';
  await wf.sleep(50);
  return branch;
}

module.exports = { twoActivities, retried, waitForSignal, sleeper, patchedWorkflow };
