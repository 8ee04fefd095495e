// Runs the expressions of ../benches/expressions.json on the reference JSONata (npm jsonata)
// and prints one JSON object: {"version", "results": {name: {"evals_per_sec", "result"}}}.
// Usage: node bench.js [seconds per expression] [only the expression with this name]
'use strict';
const fs = require('fs');
const path = require('path');
const jsonata = require('jsonata');

async function main() {
  const seconds = Number(process.argv[2] || '1');
  const only = process.argv[3];
  const bench = JSON.parse(fs.readFileSync(path.join(__dirname, '../benches/expressions.json'), 'utf8'));
  const bindings = { states: bench.states };
  const results = {};
  for (const { name, expr } of bench.expressions) {
    if (only && name !== only) continue;
    const compiled = jsonata(expr);
    let result;
    for (let i = 0; i < 2000; i++) result = await compiled.evaluate({}, bindings);
    const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    const start = process.hrtime.bigint();
    let count = 0;
    while (process.hrtime.bigint() < deadline) {
      for (let i = 0; i < 100; i++) await compiled.evaluate({}, bindings);
      count += 100;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    results[name] = { evals_per_sec: count / elapsed, result };
  }
  const version = require('jsonata/package.json').version;
  process.stdout.write(JSON.stringify({ version, results }) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
