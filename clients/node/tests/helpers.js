'use strict';
// What the tests share: the generated stubs (FRAMERPC_GEN, made by run_tests.sh), assertions, and
// starting the real servers.
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { RpcError } = require('../lib/status');

const GEN = process.env.FRAMERPC_GEN;

/** A generated module, by the path of its .proto ("proto/echo.proto"). */
function generated(protoPath) {
  if (!GEN) throw new Error('FRAMERPC_GEN is not set: run the tests with tests/run_tests.sh');
  return require(path.join(GEN, protoPath.replace(/\.proto$/, '_frpc.js')));
}

/** Asserts that `promise` rejects with an RpcError of `code` and exactly `message` (a string or a RegExp). */
async function rejectsWith(promise, code, message) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof RpcError, `not an RpcError: ${error && error.stack}`);
    assert.equal(error.codeName, code, `${error.codeName}: ${error.message}`);
    if (message instanceof RegExp) assert.match(error.message, message);
    else if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

/**
 * Starts `binary` with `args` plus --ready_file, and resolves once it has written that file (it does
 * so, through a rename, when it serves) with {child, addresses, stderr()}.
 */
async function startServer(binary, args, dir) {
  const readyFile = path.join(dir, 'ready');
  const watcher = fs.watch(dir);
  const child = spawn(binary, [...args, `--ready_file=${readyFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => { stdout += d; });
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await new Promise((resolve, reject) => {
      const check = () => {
        if (fs.existsSync(readyFile)) resolve();
      };
      watcher.on('change', check);
      check();
      child.exited.then(({ code, signal }) => reject(new Error(
        `${path.basename(binary)} exited (${code ?? signal}) before it was ready: ${stderr}`)));
    });
  } finally {
    watcher.close();
  }
  const addresses = fs.readFileSync(readyFile, 'utf8').trim().split('\n');
  return { child, addresses, stderr: () => stderr, stdout: () => stdout };
}

async function stopServer(server) {
  server.child.kill('SIGTERM');
  const { code, signal } = await server.child.exited;
  return { code, signal, stdout: server.stdout(), stderr: server.stderr() };
}

module.exports = { generated, rejectsWith, startServer, stopServer };
