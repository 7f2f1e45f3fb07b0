// Package tssmoke is Duro's smoke suite for the official Temporal TypeScript SDK: a second SDK, built
// on a different core (Rust sdk-core for the worker, grpc-js for the client), keeps the frontend
// honest where the Go SDK is lenient.
//
// TestTypeScriptSDK starts an in-process Duro node on a loopback port with a temp SQLite store and
// runs ts/smoke.js with the machine's Node.js: one process holding a worker and a client of
// @temporalio/{client,worker,workflow,activity}, pinned in ts/package.json and ts/package-lock.json.
// The script checks a workflow of two activities, an activity retried to success, a signal, a query
// on a running workflow, a timer, a patched workflow (and its replay), cancellation during a long
// sleep and a start conflicting with a running workflow ID. The test asserts the script's exit code
// and that every check printed PASS.
//
// The npm packages are installed by the test itself with `npm ci` into a cache directory outside the
// repository, named by the SHA-256 of package.json and package-lock.json
// ($DURO_TSSMOKE_CACHE, else the user cache directory's duro/, e.g. ~/.cache/duro/tssmoke-<hash>), so
// only the first run after a lockfile change pays for the download. A missing node or npm, or a
// failed install, fails the test; it never skips.
//
// DURO_E2E_LOG_LEVEL (warn by default) sets the node's log level; TSSMOKE_LOG_LEVEL (WARN by default)
// sets the SDK's.
package tssmoke
