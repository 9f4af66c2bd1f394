'use strict';
// The Node client against the real C++ servers, started here on port 0 (and a Unix socket) and
// waited for through their --ready_file:
//  - framerpc_server (FRAMERPC_SERVER): echo over TCP, [::1] and Unix, attachments, errors,
//    metadata, concurrency, a deadline, a cancellation, the command service's bidirectional
//    Exec, the file service's Download and Upload (checked by SHA-256 and XXH3-128), the
//    examples, graceful shutdown, and golden vectors sent raw;
//  - interop_server (FRAMERPC_INTEROP_SERVER, tests/interop_server.cc): every streaming kind on the
//    C++ streaming transport, small windows, a reader that stops (the server must block within one
//    window), a deadline the server enforces, and cancellations the server's handlers observe.
// Nothing sleeps: the tests wait on the servers' ready files (fs.watch), on the calls, and on the
// interop server's Probe method, which returns once a handler has reached a given point.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');

const framerpc = require('../lib');
const { FrameDecoder, HEADER_SIZE } = require('../lib/codec');
const { FrameKind } = require('../lib/envelope');
const { generated, rejectsWith, startServer, stopServer } = require('./helpers');
const { loadManifest, readHex } = require('./vectors');

const SERVER = process.env.FRAMERPC_SERVER;
const INTEROP_SERVER = process.env.FRAMERPC_INTEROP_SERVER;
const echo = generated('proto/echo.proto');
const nt = generated('clients/node/tests/test_service.proto');
const command = generated('services/command/command.proto');

function ipv6Loopback() {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

const skip = !SERVER || !INTEROP_SERVER ? 'set FRAMERPC_SERVER and FRAMERPC_INTEROP_SERVER (run_tests.sh does)' : false;

let dir;
let main;      // framerpc_server
let interop;   // interop_server
let tcp;
let unix;
let v6;
let interopTcp;

test.before(async () => {
  if (skip) return;
  // Unix socket paths are short; TEST_TMPDIR may not be.
  dir = fs.mkdtempSync(path.join('/tmp', 'frpc-node-interop-'));
  fs.mkdirSync(path.join(dir, 'main'));
  fs.mkdirSync(path.join(dir, 'interop'));
  const listen = ['127.0.0.1:0', `unix:${dir}/main.sock`];
  const hasV6 = await ipv6Loopback();
  if (hasV6) listen.push('[::1]:0');
  main = await startServer(SERVER, [`--listen=${listen.join(',')}`, '--io_threads=2', '--shutdown_grace=5s',
    '--enable_command_service', '--command_allow=/bin/cat,/bin/echo', '--trust_local_peers'], path.join(dir, 'main'));
  [tcp, unix, v6] = main.addresses;
  interop = await startServer(INTEROP_SERVER, ['127.0.0.1:0'], path.join(dir, 'interop'));
  [interopTcp] = interop.addresses;
});

test.after(async () => {
  if (skip) return;
  const results = await Promise.all([main, interop].filter(Boolean).map(stopServer));
  fs.rmSync(dir, { recursive: true, force: true });
  for (const result of results) assert.equal(result.code, 0, result.stderr);
});

// A test body run with a channel to `which` ("tcp", "unix", "interop"), known once the servers run.
function withChannel(which, body) {
  return async () => {
    const channel = new framerpc.Channel({ tcp, unix, interop: interopTcp }[which]);
    try {
      await body(channel);
    } finally {
      await channel.close();
    }
  };
}

// -----------------------------------------------------------------------------------------------
// framerpc_server: echo.

test('echo: Say over TCP, IPv6 and a Unix socket', { skip }, async () => {
  for (const target of [tcp, unix, v6].filter(Boolean)) {
    const channel = new framerpc.Channel(target);
    const stub = new echo.EchoServiceClient(channel);
    assert.equal((await stub.Say({ text: `hello over ${target}` })).text, `hello over ${target}`);
    assert.equal((await stub.Say({ text: 'shout it', uppercase: true })).text, 'SHOUT IT');
    await channel.close();
  }
});

test('echo: Bytes with attachments, metadata and a deadline', { skip }, withChannel('tcp', async (channel) => {
  const stub = new echo.EchoServiceClient(channel);
  const data = crypto.randomBytes(3 << 20);
  const call = stub.Bytes({}, { attachment: data, timeout: 30000, metadata: { 'x-trace': 'abc', bin: Buffer.from([0, 1]) } });
  assert.equal(Number((await call).size), data.length);
  assert.ok(call.responseAttachment.equals(data));
  const empty = stub.Bytes({});
  assert.equal(Number((await empty).size), 0);
  assert.equal(empty.responseAttachment.length, 0);
}));

test('echo: errors', { skip }, withChannel('tcp', async (channel) => {
  const stub = new echo.EchoServiceClient(channel);
  await rejectsWith(channel.unaryCall('/framerpc.echo.EchoService/Shout', Buffer.alloc(0)), 'UNIMPLEMENTED',
    "unknown method '/framerpc.echo.EchoService/Shout'");
  await rejectsWith(channel.unaryCall('/framerpc.echo.EchoService/Say', Buffer.from('0a0561', 'hex')), 'INVALID_ARGUMENT',
    'request is not a valid framerpc.echo.SayRequest');
  assert.equal((await stub.Say({ text: 'still fine' })).text, 'still fine');
}));

test('echo: many calls at once on one connection', { skip }, withChannel('tcp', async (channel) => {
  const stub = new echo.EchoServiceClient(channel);
  const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => stub.Say({ text: `#${i}` })));
  replies.forEach((reply, i) => assert.equal(reply.text, `#${i}`));
}));

test('echo: a deadline', { skip }, withChannel('tcp', async (channel) => {
  const stub = new echo.EchoServiceClient(channel);
  assert.equal((await stub.Say({ text: 'warm up' })).text, 'warm up');
  // Echo answers at once, so the deadline must pass before the reply is read. It does: the event
  // loop is held here past the deadline after the REQUEST has gone out, and a loop iteration runs
  // its due timers before it polls the socket the reply arrived on.
  const late = stub.Say({ text: 'late' }, { timeout: 1 });
  const until = performance.now() + 30;
  while (performance.now() < until) { /* hold the event loop */ }
  await rejectsWith(late, 'DEADLINE_EXCEEDED', 'deadline exceeded');
  // The server read the REQUEST and then the client's CANCEL; its reply for the abandoned call is
  // ignored, and the connection goes on.
  assert.equal((await stub.Say({ text: 'after' })).text, 'after');
  await rejectsWith(stub.Say({}, { timeout: 0 }), 'DEADLINE_EXCEEDED', 'deadline exceeded before the call started');
}));

test('echo: a cancellation', { skip }, withChannel('tcp', async (channel) => {
  const stub = new echo.EchoServiceClient(channel);
  assert.equal((await stub.Say({ text: 'warm up' })).text, 'warm up');
  const controller = new AbortController();
  const call = stub.Say({ text: 'never' }, { signal: controller.signal });
  controller.abort();  // the REQUEST is on the wire; CANCEL follows it
  await rejectsWith(call, 'CANCELLED', 'cancelled by the client');
  const other = stub.Say({ text: 'never either' });
  other.cancel();
  await rejectsWith(other, 'CANCELLED', 'cancelled by the client');
  assert.equal((await stub.Say({ text: 'after' })).text, 'after');
}));

test('echo: golden vectors sent raw get the golden replies', { skip }, async () => {
  const vectors = Object.fromEntries(loadManifest().vectors.map((v) => [v.name, v]));
  const exchange = (bytes) => new Promise((resolve, reject) => {
    const colon = tcp.lastIndexOf(':');
    const socket = net.connect({ host: tcp.slice(0, colon), port: Number(tcp.slice(colon + 1)) });
    const decoder = new FrameDecoder();
    let raw = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('end', () => reject(new Error('server closed without replying')));
    socket.on('data', (chunk) => {
      raw = Buffer.concat([raw, chunk]);
      decoder.push(chunk);
      const frame = decoder.next();
      if (frame !== null) {
        socket.destroy();
        resolve({ frame, raw: raw.subarray(0, HEADER_SIZE + frame.bodySize) });
      }
    });
    socket.write(bytes);
  });
  const { raw } = await exchange(readHex(vectors.unary_request_say.file));
  assert.equal(raw.toString('hex'), readHex(vectors.unary_response_say.file).toString('hex'));
  const { frame } = await exchange(readHex(vectors.bad_magic_http.file));
  assert.equal(frame.envelope.kind, FrameKind.CONNECTION_ERROR);
  assert.equal(frame.envelope.statusCode, vectors.bad_magic_http.error_code);
  assert.equal(frame.envelope.statusMessage, vectors.bad_magic_http.error_message);
});

/** Runs examples/<name> with `args` (and `input` on its stdin); resolves with {code, stdout, stderr}. */
function runExample(name, args, input = '') {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'examples', name), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

// -----------------------------------------------------------------------------------------------
// framerpc_server: the command service's bidirectional Exec.

function execOutput(stream) {
  return (async () => {
    let stdout = '';
    let stderr = '';
    let exit = null;
    for await (const response of stream) {
      if (response.kind === 'stdout') stdout += response.stdout.toString();
      else if (response.kind === 'stderr') stderr += response.stderr.toString();
      else if (response.kind === 'exit') exit = response.exit;
    }
    return { stdout, stderr, exit };
  })();
}

test('command: Exec streams stdin in and stdout out', { skip }, withChannel('unix', async (channel) => {
  const stub = new command.CommandServiceClient(channel);
  const exec = stub.Exec({ timeout: 30000 });
  await exec.write({ start: { command: { argv: ['/bin/cat'] }, streamStdin: true } });
  await exec.write({ stdin: Buffer.from('hello ') });
  await exec.write({ stdin: Buffer.from('from node\n') });
  await exec.write({ closeStdin: true });
  exec.end();
  const { stdout, exit } = await execOutput(exec);
  assert.equal(stdout, 'hello from node\n');
  assert.equal(exit.exitCode, 0);
  await exec.finished;

  // From an iterable: the command's arguments and its output.
  const echoed = stub.Exec([{ start: { command: { argv: ['/bin/echo', 'one', 'two'] } } }]);
  const result = await execOutput(echoed);
  assert.equal(result.stdout, 'one two\n');
  assert.equal(result.exit.exitCode, 0);

  // A program that is not allowed.
  const refused = stub.Exec([{ start: { command: { argv: ['/bin/ls'] } } }]);
  await rejectsWith(execOutput(refused), 'PERMISSION_DENIED');
}));

test('command: the run_command example, as a user runs it', { skip }, async () => {
  const ok = await runExample('run_command.js', [`--address=${unix}`, '--', '/bin/cat'], 'piped through cat\n');
  assert.deepEqual(ok, { code: 0, stdout: 'piped through cat\n', stderr: '' });
  const refused = await runExample('run_command.js', [`--address=${unix}`, '--', '/bin/ls']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^run_command: PERMISSION_DENIED: /);
});

// -----------------------------------------------------------------------------------------------
// framerpc_server: the file service (a server of its own, with a root directory).

const fileService = generated('services/file/file.proto');

test('files: a download checked with SHA-256, and an upload', { skip }, async () => {
  const own = fs.mkdtempSync(path.join('/tmp', 'frpc-node-files-'));
  const root = path.join(own, 'root');
  fs.mkdirSync(root);
  const content = crypto.randomBytes((3 << 20) + 12345);
  fs.writeFileSync(path.join(root, 'big.bin'), content);
  const server = await startServer(SERVER, [`--listen=unix:${own}/f.sock`, `--file_root=${root}`, '--file_writable', `--file_allow_uids=${process.getuid()}`], own);
  const channel = new framerpc.Channel(server.addresses[0]);
  try {
    const files = new fileService.FileServiceClient(channel);
    const download = files.Download({ path: 'big.bin' }, { timeout: 60000 });
    const first = await download.read();
    assert.equal(first.part, 'header');
    assert.equal(Number(first.header.length), content.length);
    const hash = crypto.createHash('sha256');
    const parts = [];
    let trailer = null;
    for (let item = await download.readWithAttachment(); item !== null; item = await download.readWithAttachment()) {
      if (item.message.part === 'trailer') {
        trailer = item.message.trailer;
      } else {
        assert.ok(item.attachment.length <= first.header.chunkBytes);
        hash.update(item.attachment);
        parts.push(Buffer.from(item.attachment));
      }
    }
    const received = Buffer.concat(parts);
    assert.ok(received.equals(content));
    const digest = hash.digest();
    assert.ok(Buffer.from(trailer.sha256).equals(digest), 'the trailer has the SHA-256 of the data');
    assert.ok(digest.equals(crypto.createHash('sha256').update(content).digest()));

    // Upload: header, the data as attachments, the SHA-256 last; the file appears whole.
    const data = crypto.randomBytes((2 << 20) + 777);
    const sha256 = crypto.createHash('sha256').update(data).digest();
    async function* request() {
      yield { header: { path: 'up.bin', size: data.length } };
      for (let at = 0; at < data.length; at += 256 * 1024) yield framerpc.withAttachment({}, data.subarray(at, at + 256 * 1024));
      yield { sha256 };
    }
    const reply = await files.Upload(request(), { timeout: 60000 }).finished;
    assert.equal(Number(reply.size), data.length);
    assert.ok(Buffer.from(reply.sha256).equals(sha256));
    assert.ok(fs.readFileSync(path.join(root, 'up.bin')).equals(data));
    // XXH3-128 asked for by name: the header echoes it, the trailer carries it, and an upload
    // checked against it commits; a wrong XXH3-128 digest is DATA_LOSS naming the algorithm.
    const xdownload = files.Download({ path: 'big.bin', checksum: 2 }, { timeout: 60000 });
    const xparts = [];
    let xheader = null;
    let xtrailer = null;
    for (let item = await xdownload.readWithAttachment(); item !== null; item = await xdownload.readWithAttachment()) {
      if (item.message.part === 'header') xheader = item.message.header;
      else if (item.message.part === 'trailer') xtrailer = item.message.trailer;
      else xparts.push(Buffer.from(item.attachment));
    }
    assert.equal(xheader.checksum, 2);
    const xdigest = (await framerpc.checksum.createHasher('xxh3')).update(Buffer.concat(xparts)).digest();
    assert.ok(Buffer.from(xtrailer.checksum.digest).equals(xdigest), 'the trailer has the XXH3-128 of the data');
    const upDigest = (await framerpc.checksum.createHasher('xxh3')).update(data).digest();
    async function* xrequest(digest) {
      yield { header: { path: 'xup.bin', size: data.length, checksum: 2, overwrite: true } };
      for (let at = 0; at < data.length; at += 256 * 1024) yield framerpc.withAttachment({}, data.subarray(at, at + 256 * 1024));
      yield { digest };
    }
    const xreply = await files.Upload(xrequest(upDigest), { timeout: 60000 }).finished;
    assert.ok(Buffer.from(xreply.checksum.digest).equals(upDigest));
    assert.ok(fs.readFileSync(path.join(root, 'xup.bin')).equals(data));
    await rejectsWith(files.Upload(xrequest(Buffer.alloc(16))).finished, 'DATA_LOSS',
      new RegExp(`has XXH3-128 ${upDigest.toString('hex')}, not the expected 0{32}`));
    // A wrong SHA-256 commits nothing.
    async function* corrupt() {
      yield { header: { path: 'bad.bin', size: 3, sha256: Buffer.alloc(32) } };
      yield framerpc.withAttachment({}, Buffer.from('abc'));
    }
    await rejectsWith(files.Upload(corrupt()).finished, 'DATA_LOSS');
    assert.equal(fs.existsSync(path.join(root, 'bad.bin')), false);

    // The download example, as a user runs it.
    const target = path.join(own, 'copy.bin');
    const example = await runExample('download.js', [`--address=${server.addresses[0]}`, '--path=big.bin', `--out=${target}`]);
    assert.equal(example.code, 0, example.stderr);
    const xxh = (await framerpc.checksum.createHasher('xxh3')).update(content).digest().toString('hex');
    assert.equal(example.stdout, `${target}: ${content.length} bytes, xxh3 ${xxh}\n`);
    assert.ok(fs.readFileSync(target).equals(content));
    const sha = await runExample('download.js', [`--address=${server.addresses[0]}`, '--path=big.bin', `--out=${target}`, '--checksum=sha256']);
    assert.equal(sha.code, 0, sha.stderr);
    assert.equal(sha.stdout, `${target}: ${content.length} bytes, sha256 ${crypto.createHash('sha256').update(content).digest('hex')}\n`);
    const md5 = await runExample('download.js', [`--address=${server.addresses[0]}`, '--path=big.bin', `--out=${target}`, '--checksum=md5']);
    assert.equal(md5.code, 1);
    assert.match(md5.stderr, /--checksum must be xxh3 or sha256, not 'md5'/);
    const missing = await runExample('download.js', [`--address=${server.addresses[0]}`, '--path=nope', `--out=${target}.2`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^download: NOT_FOUND: /);
    assert.equal(fs.existsSync(`${target}.2.part`), false);
  } finally {
    await channel.close();
    await stopServer(server);
    fs.rmSync(own, { recursive: true, force: true });
  }
});

// -----------------------------------------------------------------------------------------------
// interop_server: streams on the C++ transport.

function nodeTest(channel) {
  return new nt.NodeTestClient(channel);
}

function sumObject(reply) {
  return nt.SumReply.toObject(reply, { longs: Number, defaults: true });
}

test('streams: server-streaming, read to the end, with the request attachment', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const stream = stub.Count({ count: 5, chunkBytes: 10 }, { attachment: Buffer.from('per chunk'), timeout: 30000 });
  const seen = [];
  for (let item = await stream.readWithAttachment(); item !== null; item = await stream.readWithAttachment()) {
    assert.ok(item.message.data.equals(Buffer.alloc(10, Number(item.message.seq) % 251)));
    assert.equal(item.attachment.toString(), 'per chunk');
    seen.push(Number(item.message.seq));
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  await stream.finished;

  const failing = stub.Count({ count: 2, failWithCode: 9 });
  const got = [];
  await rejectsWith((async () => { for await (const c of failing) got.push(Number(c.seq)); })(),
    'FAILED_PRECONDITION', 'failed on purpose after the chunks');
}));

test('streams: client-streaming, with attachments, from writes and from an iterable', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const upload = stub.Sum({ timeout: 30000 });
  await upload.write({ seq: 1, data: Buffer.from('abc') });
  await upload.write({ seq: 2 }, Buffer.from('attached'));
  assert.deepEqual(sumObject(await upload.finish()), { count: 2, totalBytes: 3, attachmentBytes: 8, seqSum: 3 });

  // 4 MiB in 64 KiB messages: more than the server's window, so the writes wait for its credit.
  async function* chunks() {
    for (let seq = 0; seq < 64; seq++) yield framerpc.withAttachment({ seq }, Buffer.alloc(64 * 1024, seq));
  }
  assert.deepEqual(sumObject(await stub.Sum(chunks()).finished),
    { count: 64, totalBytes: 0, attachmentBytes: 64 * 65536, seqSum: 63 * 64 / 2 });
}));

test('streams: bidirectional echo', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const chat = stub.Echo({ timeout: 30000 });
  for (let seq = 0; seq < 3; seq++) {
    await chat.write({ seq, data: Buffer.from(`message ${seq}`) }, Buffer.from(`attachment ${seq}`));
    const back = await chat.readWithAttachment();
    assert.equal(Number(back.message.seq), seq);
    assert.equal(back.message.data.toString(), `message ${seq}`);
    assert.equal(back.attachment.toString(), `attachment ${seq}`);
  }
  chat.end();
  const rest = [];
  for await (const chunk of chat) rest.push(Number(chunk.seq));
  assert.deepEqual(rest, [3]);

  const aborted = stub.Echo();
  await aborted.write({ data: Buffer.from('abort') });
  await rejectsWith(aborted.finished, 'ABORTED', 'aborted by the handler');

  // Many streams at once on one connection, each an input iterable and a reader.
  const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const seqs = [];
    for await (const chunk of stub.Echo([0, 1, 2].map((j) => ({ seq: i * 10 + j })))) seqs.push(Number(chunk.seq));
    return seqs;
  }));
  results.forEach((seqs, i) => assert.deepEqual(seqs, [i * 10, i * 10 + 1, i * 10 + 2, 3]));
}));

test('streams: a small receive window, read through', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const stream = stub.Count({ count: 200, chunkBytes: 16 * 1024 }, { window: 64 * 1024 });
  let count = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.data.length, 16 * 1024);
    count++;
  }
  assert.equal(count, 200);
}));

test('streams: a reader that stops reading stops the server within one window', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const key = 'stopped-reader';
  const window = 256 * 1024;
  const chunkBytes = 32 * 1024;
  const stream = stub.Count({ forever: true, chunkBytes, key }, { window });
  assert.equal(Number((await stream.read()).seq), 0);  // then nothing more is read
  const cost = chunkBytes + 16;  // a frame's body: a little more than its data
  // Credit lets ceil(window / cost) writes go; the next one is the first that must block.
  const mustBlock = Math.ceil(window / cost) + 1;
  const blocked = await stub.Probe(
    { key, until: nt.ProbeRequest_Until.BLOCKED, minAttempts: mustBlock }, { timeout: 60000 });
  assert.ok(Number(blocked.writesCompleted) * chunkBytes <= window + cost,
    `${blocked.writesCompleted} writes of ${chunkBytes} bytes with a ${window}-byte window`);
  assert.ok(Number(blocked.writesCompleted) >= window / cost - 1, String(blocked.writesCompleted));
  stream.cancel();
  const returned = await stub.Probe({ key, until: nt.ProbeRequest_Until.RETURNED }, { timeout: 60000 });
  assert.equal(returned.sawCancellation, true);
}));

test('streams: a deadline mid-stream', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const chat = stub.Echo({ timeout: 300 });
  await chat.write({ seq: 1 });
  assert.equal(Number((await chat.read()).seq), 1);
  await rejectsWith(chat.read(), 'DEADLINE_EXCEEDED', 'deadline exceeded');
}));

test('holds: the server sees a cancellation and enforces a deadline', { skip }, withChannel('interop', async (channel) => {
  const stub = nodeTest(channel);
  const controller = new AbortController();
  const held = stub.Hold({ key: 'cancelled' }, { signal: controller.signal });
  await stub.Probe({ key: 'cancelled', until: nt.ProbeRequest_Until.STARTED }, { timeout: 60000 });
  controller.abort();
  await rejectsWith(held, 'CANCELLED', 'cancelled by the client');
  const afterCancel = await stub.Probe({ key: 'cancelled', until: nt.ProbeRequest_Until.RETURNED }, { timeout: 60000 });
  assert.equal(afterCancel.sawCancellation, true);  // the CANCEL reached the handler

  // Whichever end notices first, the call ends DEADLINE_EXCEEDED "deadline exceeded", and the
  // server cancels the handler.
  await rejectsWith(stub.Hold({ key: 'deadline' }, { timeout: 200 }), 'DEADLINE_EXCEEDED', 'deadline exceeded');
  const afterDeadline = await stub.Probe({ key: 'deadline', until: nt.ProbeRequest_Until.RETURNED }, { timeout: 60000 });
  assert.equal(afterDeadline.sawCancellation, true);

  assert.equal((await stub.constructor_({ text: 'a method named constructor' })).text, 'a method named constructor');
}));

// -----------------------------------------------------------------------------------------------
// Shutdown (last: it stops a server of its own).

test('graceful shutdown: the client sees GOAWAY and the close, and the next call reconnects', { skip }, async () => {
  const own = fs.mkdtempSync(path.join('/tmp', 'frpc-node-shutdown-'));
  try {
    const server = await startServer(SERVER, ['--listen=127.0.0.1:0', '--shutdown_grace=5s'], own);
    const [address] = server.addresses;
    const channel = new framerpc.Channel(address);
    const stub = new echo.EchoServiceClient(channel);
    assert.equal((await stub.Say({ text: 'before' })).text, 'before');
    const connection = channel._current;
    const { code, stdout, stderr } = await stopServer(server);  // SIGTERM: GOAWAY, then close
    assert.equal(code, 0, stderr);
    assert.match(stdout, /stopped/);
    await connection.closedPromise;  // the client has seen the end of that connection
    await rejectsWith(stub.Say({ text: 'after' }), 'UNAVAILABLE', new RegExp(`^connect to ${address} failed: connect ECONNREFUSED`));
    await channel.close();
  } finally {
    fs.rmSync(own, { recursive: true, force: true });
  }
});
