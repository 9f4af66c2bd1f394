'use strict';
// protoc-gen-frpcjs: the modules it generates (types, enums, clients, methods, escaping, imports
// sharing one registry), its parameters and errors, and the .d.ts files, compiled with tsc --strict
// against a usage file when TypeScript is installed (a devDependency, so it is after npm ci).
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const framerpc = require('../lib');
const { generated } = require('./helpers');
const { ROOT } = require('./vectors');

const PLUGIN = process.env.FRAMERPC_PROTOC_PLUGIN || path.resolve(__dirname, '..', 'bin', 'protoc-gen-frpcjs.js');
const GEN = process.env.FRAMERPC_GEN;

function protoc(args, cwd = ROOT) {
  return spawnSync('protoc', [`--plugin=protoc-gen-frpcjs=${PLUGIN}`, ...args], { cwd, encoding: 'utf8' });
}

// The generator test proto is generated here, into GEN (beside the others run_tests.sh made).
test.before(() => {
  const result = protoc(['-I.', `--frpcjs_out=${GEN}`, 'clients/node/tests/generator_test.proto']);
  assert.equal(result.status, 0, result.stderr);
});

test('messages, enums and clients are exported; method descriptors follow the rpc kinds', () => {
  const echo = generated('proto/echo.proto');
  const nt = generated('clients/node/tests/test_service.proto');
  assert.equal(echo.SayRequest.fullName, '.framerpc.echo.SayRequest');
  assert.equal(echo.EchoServiceClient.service, 'framerpc.echo.EchoService');
  assert.deepEqual(Object.keys(nt.NodeTestClient.methods), ['Hold', 'Probe', 'Count', 'Sum', 'Echo', 'constructor_']);
  const kinds = Object.fromEntries(Object.entries(nt.NodeTestClient.methods).map(([k, m]) => [k, [m.path, m.kind]]));
  assert.deepEqual(kinds, {
    Hold: ['/framerpc.nodetest.NodeTest/Hold', 'unary'],
    Probe: ['/framerpc.nodetest.NodeTest/Probe', 'unary'],
    Count: ['/framerpc.nodetest.NodeTest/Count', 'server_streaming'],
    Sum: ['/framerpc.nodetest.NodeTest/Sum', 'client_streaming'],
    Echo: ['/framerpc.nodetest.NodeTest/Echo', 'bidi_streaming'],
    constructor_: ['/framerpc.nodetest.NodeTest/constructor', 'unary'],
  });
  // A type imported from another file is that file's own type: one registry for all modules.
  assert.equal(nt.NodeTestClient.methods.constructor_.requestType, echo.SayRequest);
  assert.deepEqual(nt.ProbeRequest_Until, { STARTED: 0, BLOCKED: 1, RETURNED: 2 });
  assert.ok(Object.isFrozen(nt.ProbeRequest_Until));
  assert.throws(() => new echo.EchoServiceClient({}), /needs a framerpc.Channel/);
  const client = new nt.NodeTestClient(new framerpc.Channel('unix:/nonexistent'));
  assert.equal(typeof client.constructor_, 'function');
  assert.equal(client.constructor, nt.NodeTestClient);
});

test('field shapes: maps, oneofs, optional, nested, well-known types, 64-bit', () => {
  const g = generated('clients/node/tests/generator_test.proto');
  const message = g.All.fromObject({
    nums: [1, 2, 300], counts: { a: 5 }, color: 'RED', name: 'x', maybe: 0, when: { seconds: 5, nanos: 1 },
    sub: { mode: 'FAST' }, subs: [{ mode: 1 }], byId: { 7: { mode: 1 } }, big: '18446744073709551615',
    snakeCaseField: 'snake',
  });
  const bytes = g.All.encode(message).finish();
  const back = g.All.toObject(g.All.decode(bytes), { longs: String, enums: String, oneofs: true });
  assert.deepEqual(back, {
    nums: [1, 2, 300], counts: { a: '5' }, color: 'RED', name: 'x', choice: 'name', maybe: 0,
    when: { seconds: '5', nanos: 1 }, sub: { mode: 'FAST' }, subs: [{ mode: 'FAST' }], byId: { 7: { mode: 'FAST' } },
    big: '18446744073709551615', snakeCaseField: 'snake',
  });
  assert.equal(bytes.subarray(0, 6).toString('hex'), '0a040102ac02');  // repeated scalars packed (proto3)
  assert.deepEqual(g.Color, { COLOR_UNSPECIFIED: 0, RED: 1 });
  assert.deepEqual(g.All_Sub_Mode, { MODE_UNSPECIFIED: 0, FAST: 1 });
  assert.deepEqual(Object.keys(g.KindsClient.methods), ['Get', 'Watch', 'Up', 'Chat', 'function_']);
  assert.equal(g.KindsClient.methods.function_.requestType, g.All_Sub);
});

test('parameters: runtime and dts; unknown parameters are errors', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'frpcjs-param-'));
  try {
    let result = protoc(['-I.', `--frpcjs_out=runtime=../lib/index.js,dts=false:${out}`, 'proto/echo.proto']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(fs.readdirSync(path.join(out, 'proto')), ['echo_frpc.js']);
    assert.match(fs.readFileSync(path.join(out, 'proto', 'echo_frpc.js'), 'utf8'), /require\("\.\.\/lib\/index\.js"\)/);
    result = protoc(['-I.', `--frpcjs_out=colour=blue:${out}`, 'proto/echo.proto']);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /unknown parameter 'colour' \(known: runtime, dts\)/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('the generated .d.ts files compile with tsc --strict against a usage file', (t) => {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc');
  } catch (_) {
    t.skip('typescript is not installed (npm ci in clients/node installs it)');
    return;
  }
  fs.copyFileSync(path.join(__dirname, 'usage.ts'), path.join(GEN, 'usage.ts'));
  fs.writeFileSync(path.join(GEN, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'commonjs', moduleResolution: 'node',
      types: ['node'], typeRoots: [path.resolve(__dirname, '..', 'node_modules', '@types')], skipLibCheck: false,
    },
    files: ['usage.ts'],
  }));
  const result = spawnSync(process.execPath, [tsc, '-p', GEN], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
