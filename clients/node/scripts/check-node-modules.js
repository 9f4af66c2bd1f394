#!/usr/bin/env node
'use strict';
// Exits 0 if clients/node/node_modules holds exactly what package-lock.json pins (as `npm ci`
// installs it), else says what to run. Used by the tests and by scripts/install-deps.sh.
const fs = require('fs');
const path = require('path');

const pkg = process.argv[2] || path.resolve(__dirname, '..');
function fail(why) {
  process.stderr.write(`clients/node: ${why}; run scripts/install-deps.sh (npm ci in clients/node)\n`);
  process.exit(1);
}
let lock;
try {
  lock = JSON.parse(fs.readFileSync(path.join(pkg, 'package-lock.json'), 'utf8'));
} catch (error) {
  fail(`cannot read package-lock.json: ${error.message}`);
}
for (const [where, entry] of Object.entries(lock.packages || {})) {
  if (where === '' || entry.link) continue;
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(path.join(pkg, where, 'package.json'), 'utf8'));
  } catch (_) {
    fail(`${where} is missing`);
  }
  if (installed.version !== entry.version) fail(`${where} is ${installed.version}, package-lock.json pins ${entry.version}`);
}
