'use strict';
// Generates stubs for .proto files of this repository into a temporary directory (removed at exit)
// with protoc and protoc-gen-frpcjs, and returns a function that loads one of them. For the bench
// and the examples, which run from the source tree; applications generate theirs at build time.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// The repository root, where the .proto files are; FRAMERPC_ROOT when the package is a copy
// elsewhere (its tests under Bazel, tests/run_tests.sh).
const ROOT = process.env.FRAMERPC_ROOT || path.resolve(__dirname, '..', '..', '..');
const PACKAGE = path.resolve(__dirname, '..');

function generateStubs(protoFiles) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'frpcjs-stubs-'));
  process.on('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  fs.mkdirSync(path.join(out, 'node_modules'));
  fs.symlinkSync(PACKAGE, path.join(out, 'node_modules', 'framerpc'));
  const result = spawnSync('protoc', ['-I', ROOT, `--plugin=protoc-gen-frpcjs=${path.join(PACKAGE, 'bin', 'protoc-gen-frpcjs.js')}`,
    `--frpcjs_out=dts=false:${out}`, ...protoFiles], { encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run protoc: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`protoc failed: ${result.stderr}`);
  return (protoFile) => require(path.join(out, protoFile.replace(/\.proto$/, '_frpc.js')));
}

module.exports = { generateStubs };
