#!/usr/bin/env node
'use strict';
// Exits 0 if PACKAGE_DIR/node_modules holds exactly what its package-lock.json pins (as `npm ci`
// installs it), else says what to run. One checker for every npm package in the repository
// (clients/node, adapters/grpc/interop): used by their tests and by scripts/npm_ci.sh.
//
//   node clients/node/scripts/check-node-modules.js [PACKAGE_DIR [NAME]]
//
// PACKAGE_DIR defaults to clients/node; NAME (how messages name it) to the directory's path.
const fs = require('fs');
const path = require('path');

const pkg = process.argv[2] || path.resolve(__dirname, '..');
const name = process.argv[3] || pkg;
function fail(why) {
  process.stderr.write(`${name}: ${why}; run scripts/install-deps.sh (npm ci in ${name})\n`);
  process.exit(1);
}
let lock;
try {
  lock = JSON.parse(fs.readFileSync(path.join(pkg, 'package-lock.json'), 'utf8'));
} catch (error) {
  fail(`cannot read package-lock.json: ${error.message}`);
}
// An optional package for another platform (as @bufbuild/buf's binaries are) is not installed.
function forThisPlatform(entry) {
  const allows = (list, value) => !list || list.includes(value) ||
    (list.some((v) => v.startsWith('!')) && !list.includes(`!${value}`));
  return allows(entry.os, process.platform) && allows(entry.cpu, process.arch);
}
for (const [where, entry] of Object.entries(lock.packages || {})) {
  if (where === '' || entry.link) continue;
  if (entry.optional && !forThisPlatform(entry)) continue;
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(path.join(pkg, where, 'package.json'), 'utf8'));
  } catch (_) {
    fail(`${where} is missing`);
  }
  if (installed.version !== entry.version) {
    fail(`${where} is ${installed.version}, package-lock.json pins ${entry.version}`);
  }
}
