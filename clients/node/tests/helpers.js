'use strict';
// What the tests share: the generated stubs (FRAMERPC_GEN, made by run_tests.sh) and assertions.
const assert = require('node:assert/strict');
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

module.exports = { generated, rejectsWith };
