'use strict';
// The Node client over TLS against the real framerpc_server with mutual TLS (issue 14): a unary
// call and a bidirectional stream (Exec of /bin/cat, admitted by the client certificate's SPIFFE
// ID) over TCP and a Unix socket; and each refusal with its exact error: an unknown CA, a
// server-name mismatch, mutual TLS without a client certificate or with one from another CA, a
// plaintext client on the TLS port, bad options. Certificates are made here with the openssl CLI.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const tls = require('tls');

const framerpc = require('../lib');
const { generated, rejectsWith, startServer, stopServer } = require('./helpers');

const SERVER = process.env.FRAMERPC_SERVER;
const CLIENT_ID = 'spiffe://example.org/ns/test/sa/client';
const echo = generated('proto/echo.proto');
const command = generated('services/command/command.proto');
const skip = !SERVER ? 'set FRAMERPC_SERVER (run_tests.sh does)' : false;

/** CAs "main" and "other", and leaf certificates, as PEM files in `dir` (openssl CLI). */
function makePki(dir) {
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const ca of ['main', 'other']) {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${ca} CA`, '-keyout', file(`${ca}-ca.key`), '-out', file(`${ca}-ca.pem`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  }
  const leaf = (ca, name, san) => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`,
      '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
    fs.writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}-ca.pem`), '-CAkey', file(`${ca}-ca.key`),
      '-CAcreateserial', '-days', '1', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`));
  };
  leaf('main', 'server', 'DNS:localhost,IP:127.0.0.1');
  leaf('main', 'named', 'DNS:localhost');
  leaf('main', 'client', `URI:${CLIENT_ID}`);
  leaf('other', 'stranger', 'URI:spiffe://example.org/ns/test/sa/stranger');
  return file;
}

let dir;
let pki;
let server;
let tcp;
let unix;

test.before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join('/tmp', 'frpc-node-tls-'));  // Unix socket paths are short
  fs.mkdirSync(path.join(dir, 'pki'));
  fs.mkdirSync(path.join(dir, 'server'));
  pki = makePki(path.join(dir, 'pki'));
  server = await startServer(SERVER, [`--listen=127.0.0.1:0,unix:${dir}/s.sock`, '--io_threads=2',
    '--shutdown_grace=5s', `--tls_cert=${pki('server.pem')}`, `--tls_key=${pki('server.key')}`,
    `--tls_client_ca=${pki('main-ca.pem')}`, '--tls_client_auth=require',
    '--enable_command_service', '--command_allow=/bin/cat', `--command_allow_identities=${CLIENT_ID}`],
  path.join(dir, 'server'));
  [tcp, unix] = server.addresses;
});

test.after(async () => {
  if (skip) return;
  const result = await stopServer(server);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(result.code, 0, result.stderr);
});

function options(overrides = {}) {
  const all = { caFile: pki('main-ca.pem'), certFile: pki('client.pem'), keyFile: pki('client.key'), ...overrides };
  for (const key of Object.keys(all)) if (all[key] === undefined) delete all[key];
  return all;
}

async function cat(channel, chunks) {
  const exec = new command.CommandServiceClient(channel).Exec({ timeout: 30000 });
  await exec.write({ start: { command: { argv: ['/bin/cat'] }, streamStdin: true } });
  for (const chunk of chunks) await exec.write({ stdin: chunk });
  await exec.write({ closeStdin: true });
  exec.end();
  const out = [];
  let exit = null;
  for await (const response of exec) {
    if (response.kind === 'stdout') out.push(response.stdout);
    else if (response.kind === 'exit') exit = response.exit;
  }
  await exec.finished;
  assert.equal(exit.exitCode, 0);
  return Buffer.concat(out);
}

test('a unary call and an Exec stream over mutual TLS, on TCP and a Unix socket', { skip }, async () => {
  // TCP checks the certificate's IP SAN; the Unix socket names the server.
  for (const [target, tlsOptions] of [[tcp, options()], [unix, options({ serverName: 'localhost' })]]) {
    const channel = new framerpc.Channel(target, { tls: tlsOptions });
    try {
      const reply = await new echo.EchoServiceClient(channel).Say({ text: `tls over ${target}` });
      assert.equal(reply.text, `tls over ${target}`);
      const data = crypto.randomBytes(300000);  // several TLS records each way
      assert.deepEqual(await cat(channel, [data.subarray(0, 100000), data.subarray(100000)]), data);
    } finally {
      await channel.close();
    }
  }
});

test('a secureContext of the caller\'s, and insecure', { skip }, async () => {
  const secureContext = tls.createSecureContext({
    ca: fs.readFileSync(pki('main-ca.pem')), cert: fs.readFileSync(pki('client.pem')),
    key: fs.readFileSync(pki('client.key')),
  });
  const ways = {
    'a secureContext': { secureContext },
    insecure: options({ caFile: pki('other-ca.pem'), insecure: true, serverName: 'not.the.name' }),
  };
  for (const [what, tlsOptions] of Object.entries(ways)) {
    const channel = new framerpc.Channel(tcp, { tls: tlsOptions });
    try {
      assert.equal((await new echo.EchoServiceClient(channel).Say({ text: what })).text, what);
    } finally {
      await channel.close();
    }
  }
});

test('a BalancedChannel over dns:///localhost checks the name, not the addresses', { skip }, async () => {
  // A server whose certificate names localhost only: reached by address it is refused.
  const named = await startServer(SERVER, ['--listen=127.0.0.1:0', `--tls_cert=${pki('named.pem')}`,
    `--tls_key=${pki('named.key')}`], fs.mkdtempSync(path.join(dir, 'named-')));
  try {
    const [address] = named.addresses;
    const balanced = new framerpc.BalancedChannel(`dns:///localhost:${address.split(':')[1]}`, { tls: options() });
    try {
      assert.equal((await new echo.EchoServiceClient(balanced).Say({ text: 'by name' })).text, 'by name');
    } finally {
      await balanced.close();
    }
    const direct = new framerpc.Channel(address, { tls: options() });
    try {
      await rejectsWith(new echo.EchoServiceClient(direct).Say({ text: 'no' }),
        'UNAVAILABLE', /^TLS handshake with 127\.0\.0\.1:\d+ failed: certificate verify failed: .*127\.0\.0\.1.* \(name mismatch\)$/);
    } finally {
      await direct.close();
    }
  } finally {
    const result = await stopServer(named);
    assert.equal(result.code, 0, result.stderr);
  }
});

async function assertRefused(tlsOptions, message) {
  const channel = new framerpc.Channel(tcp, { tls: tlsOptions });
  try {
    await rejectsWith(new echo.EchoServiceClient(channel).Say({ text: 'no' }, { timeout: 10000 }),
      'UNAVAILABLE', message);
  } finally {
    await channel.close();
  }
}

test('an unknown CA is refused', { skip }, async () => {
  // The server sends its CA with its certificate (it has it as the client CA).
  await assertRefused(options({ caFile: pki('other-ca.pem') }),
    `TLS handshake with ${tcp} failed: certificate verify failed: self-signed certificate in certificate chain (unknown CA)`);
});

test('a server-name mismatch is refused', { skip }, async () => {
  await assertRefused(options({ serverName: 'billing.example.org' }),
    `TLS handshake with ${tcp} failed: certificate verify failed: Hostname/IP does not match certificate's ` +
    'altnames: Host: billing.example.org. is not in the cert\'s altnames: DNS:localhost, IP Address:127.0.0.1 (name mismatch)');
});

test('mutual TLS without a client certificate, or with one from another CA, is refused', { skip }, async () => {
  // TLS 1.3: the client's handshake is over before the server checks; the alert ends the
  // connection on its first read.
  await assertRefused(options({ certFile: undefined, keyFile: undefined }),
    `connection to ${tcp} lost: TLS read: tlsv13 alert certificate required`);
  await assertRefused(options({ certFile: pki('stranger.pem'), keyFile: pki('stranger.key') }),
    `connection to ${tcp} lost: TLS read: tlsv1 alert unknown ca`);
});

test('a plaintext client on the TLS port is told', { skip }, async () => {
  const channel = new framerpc.Channel(tcp);
  try {
    await rejectsWith(new echo.EchoServiceClient(channel).Say({ text: 'clear' }, { timeout: 10000 }),
      'FAILED_PRECONDITION');
  } finally {
    await channel.close();
  }
});

test('bad TLS options are refused when the channel is made', { skip }, () => {
  assert.throws(() => new framerpc.Channel(unix, { tls: options() }), /needs tls\.serverName/);
  assert.throws(() => new framerpc.Channel(tcp, { tls: { caFile: '/no/such.pem' } }), /tls\.caFile \/no\/such\.pem: ENOENT/);
  assert.throws(() => new framerpc.Channel(tcp, { tls: { certFile: pki('client.pem') } }), /certFile and tls\.keyFile go together/);
  assert.throws(() => new framerpc.Channel(tcp, { tls: { cafile: 'x' } }), /unknown TLS option 'cafile'/);
  assert.throws(() => new framerpc.Channel(tcp, { tls: { certFile: pki('client.pem'), keyFile: pki('server.key') } }),
    /key values mismatch/);
});
