// Runs jsonata-js (the reference implementation) on a JSON list of cases read from stdin:
// [{expr, input?, bindings?}], and prints [{result} | {undefined: true} | {code, message}].
// Usage: node reference.js DIR   (DIR holds node_modules/jsonata)
const path = require('path');
const jsonata = require(path.join(process.argv[2], 'node_modules', 'jsonata'));

function replacer(key, val) {
  if (typeof val === 'function') return undefined;
  if (val && typeof val === 'object' && (val._jsonata_lambda || val._jsonata_function)) return undefined;
  return val;
}

function hasNonFinite(v) {
  if (typeof v === 'number') return !isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  if (v && typeof v === 'object' && !v._jsonata_lambda) return Object.keys(v).some(k => hasNonFinite(v[k]));
  return false;
}

async function run(c) {
  try {
    const expr = jsonata(c.expr);
    const res = await expr.evaluate(c.input, c.bindings || {});
    if (hasNonFinite(res)) return { code: 'D1001', message: 'non-finite result' };
    if (typeof res === 'undefined') return { undefined: true };
    const s = JSON.stringify(res, replacer);
    if (typeof s === 'undefined') return { undefined: true };
    return { result: s };
  } catch (err) {
    return { code: err.code || ('JS:' + (err.name || 'Error')), message: err.message || String(err), position: err.position };
  }
}

let data = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', d => { data += d; });
process.stdin.on('end', async () => {
  const cases = JSON.parse(data);
  const out = [];
  for (const c of cases) out.push(await run(c));
  process.stdout.write(JSON.stringify(out));
});
