'use strict';
// The client against the in-test fake server (fake_server.js): unary calls (metadata,
// attachments, errors, deadlines, cancellation), the connection's life (GOAWAY,
// CONNECTION_ERROR, bad frames, loss, connect failures, close), and every kind of streaming call
// with §11 flow control in both directions, including a server that breaks it. Nothing sleeps:
// the tests wait on the fake server's events and on the calls themselves.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Readable, Writable } = require('stream');
const { pipeline } = require('stream/promises');
const { spawnSync } = require('child_process');
const path = require('path');

const framerpc = require('../lib');
const { FrameKind, FrameFlag } = require('../lib/envelope');
const { FakeServer, WINDOW } = require('./fake_server');
const { generated, rejectsWith } = require('./helpers');

const echo = generated('proto/echo.proto');
const nt = generated('clients/node/tests/test_service.proto');
const SAY = '/framerpc.echo.EchoService/Say';
const { CANCEL, REQUEST, STREAM_MESSAGE, WINDOW_UPDATE } = FrameKind;

// An echo service on the fake server: Say replies with the request's text, Bytes with the
// request's attachment.
function echoHandlers(extra = {}) {
  return {
    [SAY]: (call) => {
      const request = echo.SayRequest.decode(call.request.message);
      call.respond({ message: echo.SayReply.encode({ text: request.text }).finish() });
    },
    '/framerpc.echo.EchoService/Bytes': (call) => {
      const size = call.request.attachment.length;
      call.respond({ message: echo.BytesReply.encode({ size }).finish(), attachment: call.request.attachment });
    },
    ...extra,
  };
}

async function withServer(handlers, body, options = {}) {
  const server = new FakeServer(handlers);
  const address = await server.listen(options);
  const channel = new framerpc.Channel(address, options.channel);
  try {
    await body({ server, channel, address, echoStub: new echo.EchoServiceClient(channel), stub: new nt.NodeTestClient(channel) });
  } finally {
    await channel.close();
    await server.close();
  }
}

const hold = () => {};  // a handler that never answers

// -----------------------------------------------------------------------------------------------
// Unary calls.

test('unary: a typed call, metadata, attachments and the REQUEST on the wire', () => withServer(echoHandlers(), async ({ server, echoStub }) => {
  const reply = await echoStub.Say({ text: 'hé' }, { metadata: { 'x-trace': 'abc', bin: Buffer.from([0, 1]) }, timeout: 5000 });
  assert.equal(reply.text, 'hé');
  assert.ok(reply instanceof echo.SayReply.ctor);
  const call = await server.call(1);
  assert.equal(call.method, SAY);
  assert.equal(call.id, 1);
  assert.deepEqual(call.metadata, [['x-trace', 'abc'], ['bin', '\u0000\u0001']]);
  assert.ok(call.timeoutUs > 4000000 && call.timeoutUs <= 5000000, String(call.timeoutUs));

  const data = Buffer.alloc(3 << 20, 0xab);
  const bytesCall = echoStub.Bytes({}, { attachment: data });
  assert.equal(Number((await bytesCall).size), data.length);
  assert.ok(bytesCall.responseAttachment.equals(data));
  assert.equal(bytesCall.callId, 2);
  const empty = echoStub.Bytes(echo.BytesRequest.create());
  assert.equal(Number((await empty).size), 0);
  assert.equal(empty.responseAttachment.length, 0);
  assert.equal((await server.call(2)).timeoutUs, 0);  // no deadline: none sent
}));

test('unary: calls by path take and return bytes; many calls at once are matched by id', () => withServer({
  [SAY]: async (call) => {
    const server = call.conn.server;
    await server.waitFor(() => server.calls.length === 50);  // answer only once all are in
    call.respond({ message: call.request.message });
  },
}, async ({ channel }) => {
  const calls = Array.from({ length: 50 }, (_, i) => channel.unaryCall(SAY, echo.SayRequest.encode({ text: `#${i}` }).finish()));
  const replies = await Promise.all(calls);
  replies.forEach((bytes, i) => assert.equal(echo.SayRequest.decode(bytes).text, `#${i}`));
}));

test('unary: error statuses', () => withServer(echoHandlers({
  '/e/Fail': (call) => call.respond({ code: 5, statusMessage: 'no such thing' }),
  '/e/Odd': (call) => call.respond({ code: 99, statusMessage: 'from the future' }),
  '/e/Garbage': (call) => call.respond({ message: Buffer.from([0x0f]) }),
}), async ({ channel, echoStub }) => {
  await rejectsWith(channel.unaryCall('/e/Fail', Buffer.alloc(0)), 'NOT_FOUND', 'no such thing');
  await rejectsWith(channel.unaryCall('/e/Odd', Buffer.alloc(0)), 'UNKNOWN', 'from the future');
  await rejectsWith(channel.unaryCall('/e/Missing', Buffer.alloc(0)), 'UNIMPLEMENTED', "unknown method '/e/Missing'");
  const garbage = framerpc.method({ path: '/e/Garbage', kind: 'unary', requestType: echo.SayRequest, responseType: echo.SayReply });
  await rejectsWith(channel.unaryCall(garbage, {}), 'INTERNAL', 'response message does not parse');
  const error = await echoStub.Say({}, { metadata: 7 }).catch((e) => e);
  assert.ok(error instanceof TypeError);
  await assert.rejects(echoStub.Say(echo.BytesRequest.create()), { name: 'TypeError', message: 'expected a framerpc.echo.SayRequest, not a framerpc.echo.BytesRequest' });
  await assert.rejects(echoStub.Say('text'), TypeError);
  await assert.rejects(channel.unaryCall(SAY, 'not bytes'), TypeError);
  assert.equal((await echoStub.Say({ text: 'still fine' })).text, 'still fine');
}));

test('unary: deadlines', () => withServer(echoHandlers({ '/t/Hold': hold }), async ({ server, channel, echoStub }) => {
  const late = channel.unaryCall('/t/Hold', Buffer.alloc(0), { timeout: 50 });
  await rejectsWith(late, 'DEADLINE_EXCEEDED', 'deadline exceeded');
  const held = await server.call(1);
  assert.ok(held.timeoutUs >= 1 && held.timeoutUs <= 50000, String(held.timeoutUs));
  await server.frame(CANCEL, held.id);  // the server is told
  held.respond({ message: Buffer.alloc(0) });  // a late RESPONSE is ignored
  assert.equal((await echoStub.Say({ text: 'next' })).text, 'next');

  const before = server.frames.length;
  await rejectsWith(echoStub.Say({}, { timeout: 0 }), 'DEADLINE_EXCEEDED', 'deadline exceeded before the call started');
  await rejectsWith(echoStub.Say({}, { deadline: new Date(Date.now() - 1) }), 'DEADLINE_EXCEEDED', 'deadline exceeded before the call started');
  assert.equal((await echoStub.Say({ text: 'sync' }, { deadline: Date.now() + 60000 })).text, 'sync');
  assert.deepEqual(server.frames.slice(before).map((f) => f.kind), [REQUEST]);  // nothing sent for the two
  assert.equal((await echoStub.Say({ text: 'no deadline' }, { timeout: Infinity })).text, 'no deadline');
  assert.equal((await echoStub.Say({ text: 'far' }, { timeout: 1e300 })).text, 'far');
  assert.deepEqual(server.calls.slice(-2).map((c) => c.timeoutUs), [0, Number.MAX_SAFE_INTEGER]);
}));

test('unary: cancellation by AbortSignal and by cancel()', () => withServer(echoHandlers({ '/t/Hold': hold }), async ({ server, channel, echoStub }) => {
  const controller = new AbortController();
  const call = channel.unaryCall('/t/Hold', Buffer.alloc(0), { signal: controller.signal });
  const held = await server.call(1);
  controller.abort();
  await rejectsWith(call, 'CANCELLED', 'cancelled by the client');
  await server.frame(CANCEL, held.id);

  const second = channel.unaryCall('/t/Hold', Buffer.alloc(0));
  const held2 = await server.call(2);
  assert.equal(second.cancel(), true);
  assert.equal(second.cancel(), false);
  await rejectsWith(second, 'CANCELLED', 'cancelled by the client');
  await server.frame(CANCEL, held2.id);

  await rejectsWith(echoStub.Say({}, { signal: AbortSignal.abort() }), 'CANCELLED', 'cancelled before start');
  assert.equal((await echoStub.Say({ text: 'after' })).text, 'after');
  assert.equal(server.calls.length, 3);
}));

test('unary: a call ended while the connection is being set up is never sent', () => withServer(echoHandlers(), async ({ server, echoStub }) => {
  const first = echoStub.Say({ text: 'never' });
  first.cancel();  // same tick: the connection is not up yet
  await rejectsWith(first, 'CANCELLED', 'cancelled by the client');
  assert.equal((await echoStub.Say({ text: 'second' })).text, 'second');
  assert.deepEqual(server.frames.map((f) => [f.kind, f.callId]), [[REQUEST, 2]]);  // no REQUEST 1, no CANCEL
}));

test('unary: a request over the limits is refused and nothing is sent; so is a reply over them', () => withServer(echoHandlers({
  '/t/Big': (call) => call.respond({ message: Buffer.alloc(2000) }),
}), async ({ server, channel }) => {
  await rejectsWith(channel.unaryCall(SAY, Buffer.alloc(2000)), 'RESOURCE_EXHAUSTED', /^frame body of \d+ bytes exceeds the limit of 1024$/);
  await rejectsWith(channel.unaryCall(SAY, Buffer.alloc(0), { metadata: { k: 'v'.repeat(20) } }), 'RESOURCE_EXHAUSTED', 'metadata of 21 bytes exceeds the limit of 16');
  assert.equal(server.frames.length, 0);
  await rejectsWith(channel.unaryCall('/t/Big', Buffer.alloc(0)), 'UNAVAILABLE',
    /^bad frame from unix:.*: frame body of \d+ bytes exceeds the limit of 1024$/);
}, { channel: { limits: { maxBodyBytes: 1024, maxEnvelopeBytes: 512, maxMetadataBytes: 16 } } }));

// -----------------------------------------------------------------------------------------------
// The connection.

test('GOAWAY: calls above last_call_id fail at once, the others complete, the next call reconnects', () => withServer(echoHandlers({ '/t/Hold': hold }), async ({ server, channel, echoStub }) => {
  const one = channel.unaryCall('/t/Hold', Buffer.alloc(0));
  const two = channel.unaryCall('/t/Hold', Buffer.alloc(0));
  const [held1] = [await server.call(1), await server.call(2)];
  held1.conn.send({ kind: FrameKind.GOAWAY, lastCallId: 1 });
  await rejectsWith(two, 'UNAVAILABLE', 'server is shutting down; the call was not processed');
  await assert.rejects(two, (error) => error.unsent === true);  // it reached no handler
  held1.respond({ message: Buffer.from('ok') });
  assert.equal((await one).toString(), 'ok');
  assert.equal((await echoStub.Say({ text: 'new connection' })).text, 'new connection');
  assert.equal(server.connections.length, 2);
  assert.equal((await server.call(3)).conn, server.connections[1]);
}));

test('PING: answered at once with ACK and the same 64-bit ping_data, on an idle connection too; an ACK is not answered', () => withServer(echoHandlers({ '/t/Hold': hold }), async ({ server, channel, echoStub }) => {
  const { encodeFrame } = require('../lib/codec');
  const pings = () => server.frames.filter((f) => f.kind === FrameKind.PING).map((f) => f.frame.envelope);
  assert.equal((await echoStub.Say({ text: 'open' })).text, 'open');  // the connection is idle now
  const conn = server.connections[0];
  // In one write: the client reads both at once, so an answer to the ACK would come first.
  conn.socket.write(Buffer.concat([
    encodeFrame({ kind: FrameKind.PING, flags: FrameFlag.ACK, pingData: 5 }),
    encodeFrame({ kind: FrameKind.PING, pingData: 0xfedcba9876543210n }),
  ]));
  await server.waitFor(() => pings().length >= 1);
  assert.deepEqual(pings().map((e) => [e.flags, e.pingData, e.callId]), [[FrameFlag.ACK, 0xfedcba9876543210n, 0]]);
  const held = channel.unaryCall('/t/Hold', Buffer.alloc(0));  // and during a call
  (await server.call(2)).conn.send({ kind: FrameKind.PING, pingData: 2n ** 64n - 1n });
  await server.waitFor(() => pings().length >= 2);
  assert.equal(pings()[1].pingData, 2n ** 64n - 1n);
  held.cancel();
  await rejectsWith(held, 'CANCELLED');
}));

test('CONNECTION_ERROR fails every call with its code; OK reads as UNKNOWN', () => withServer(echoHandlers({ '/t/Hold': hold }), async ({ server, channel, echoStub }) => {
  const calls = [channel.unaryCall('/t/Hold', Buffer.alloc(0)), channel.unaryCall('/t/Hold', Buffer.alloc(0))];
  (await server.call(2)).conn.send({ kind: FrameKind.CONNECTION_ERROR, statusCode: 3, statusMessage: 'call id 0 is not allowed' });
  for (const call of calls) await rejectsWith(call, 'INVALID_ARGUMENT', 'server closed the connection: call id 0 is not allowed');
  const third = channel.unaryCall('/t/Hold', Buffer.alloc(0));
  (await server.call(3)).conn.send({ kind: FrameKind.CONNECTION_ERROR, statusMessage: 'odd' });
  await rejectsWith(third, 'UNKNOWN', 'server closed the connection: odd');
  assert.equal((await echoStub.Say({ text: 'again' })).text, 'again');
}));

test('a bad frame from the server fails the calls and closes the connection', () => withServer({ '/t/Hold': hold }, async ({ server, channel, address }) => {
  const call = channel.unaryCall('/t/Hold', Buffer.alloc(0));
  (await server.call(1)).conn.socket.write('HTTP/1.1 400 Bad Request\r\n');
  await rejectsWith(call, 'UNAVAILABLE', `bad frame from ${address}: bad magic: not a framerpc stream (first bytes HTTP)`);
  await server.waitFor(() => server.connections[0].closed);
}));

test('a lost connection fails its calls; the next call reconnects', () => withServer(echoHandlers({ '/t/Hold': hold }), async ({ server, channel, echoStub, address }) => {
  const call = channel.unaryCall('/t/Hold', Buffer.alloc(0));
  (await server.call(1)).conn.socket.end();
  await rejectsWith(call, 'UNAVAILABLE', `connection to ${address} lost: end of stream`);
  assert.equal((await echoStub.Say({ text: 'back' })).text, 'back');
}));

test('connect failures', async () => {
  const channel = new framerpc.Channel('unix:/nonexistent/framerpc.sock');
  await rejectsWith(channel.unaryCall(SAY, Buffer.alloc(0)), 'UNAVAILABLE', /^connect to unix:\/nonexistent\/framerpc.sock failed: connect ENOENT/);
  await channel.close();
  const server = new FakeServer();
  const address = await server.listen({ tcp: true });
  await server.close();  // the port is free again: nothing listens there
  const tcp = new framerpc.Channel(address);
  await rejectsWith(tcp.unaryCall(SAY, Buffer.alloc(0)), 'UNAVAILABLE', new RegExp(`^connect to ${address} failed: connect ECONNREFUSED`));
  await tcp.close();
});

test('close(): calls in flight and later calls fail with CANCELLED "channel closed"', () => withServer({ '/t/Hold': hold }, async ({ server, channel }) => {
  const call = rejectsWith(channel.unaryCall('/t/Hold', Buffer.alloc(0)), 'CANCELLED', 'channel closed');
  const stream = channel.bidiStreamingCall('/t/Hold');
  await server.call(2);
  await channel.close();
  await call;
  await rejectsWith(stream.finished, 'CANCELLED', 'channel closed');
  await rejectsWith(channel.unaryCall('/t/Hold', Buffer.alloc(0)), 'CANCELLED', 'channel closed');
}));

test('targets', () => {
  assert.deepEqual(framerpc.parseAddress('127.0.0.1:7000'), { text: '127.0.0.1:7000', host: '127.0.0.1', port: 7000, family: 4 });
  assert.deepEqual(framerpc.parseAddress('[::1]:0'), { text: '[::1]:0', host: '::1', port: 0, family: 6 });
  assert.deepEqual(framerpc.parseAddress('localhost:1'), { text: 'localhost:1', host: 'localhost', port: 1, family: 0 });
  assert.deepEqual(framerpc.parseAddress('unix:/tmp/x'), { text: 'unix:/tmp/x', path: '/tmp/x' });
  for (const [bad, message] of [['nocolon', /is not host:port/], ['h:99999', /bad port/], ['::1:80', /need brackets/],
    ['[::1', /unterminated/], ['[::1]80', /missing ':port'/], ['[zz]:1', /bad IPv6/], [':80', /missing host/],
    ['unix:', /1 to 107 bytes/], ['unix:@name', /abstract unix sockets \('unix:@name'\) are not supported by the Node client/],
    ['unix:/a\0b', /contains a NUL byte/], ['udp:1.2.3.4:5', /not supported/]]) {
    assert.throws(() => new framerpc.Channel(bad), message, bad);
  }
});

test('an idle channel does not keep the process alive', () => {
  // A child makes a call and neither closes its channel nor exits: it must end by itself.
  const script = `
    const framerpc = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib'))});
    const { FakeServer } = require(${JSON.stringify(path.resolve(__dirname, 'fake_server.js'))});
    (async () => {
      const server = new FakeServer({ '/a/B': (call) => call.respond({ message: Buffer.from('x') }) });
      const address = await server.listen();
      const reply = await new framerpc.Channel(address).unaryCall('/a/B', Buffer.alloc(0));
      console.log('reply', reply.toString());
      server._server.unref();
      for (const c of server.connections) c.socket.unref();
    })();`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'reply x\n');
});

// -----------------------------------------------------------------------------------------------
// Streaming calls.

const COUNT = '/framerpc.nodetest.NodeTest/Count';
const SUM = '/framerpc.nodetest.NodeTest/Sum';
const ECHO = '/framerpc.nodetest.NodeTest/Echo';

function countHandler(options = {}) {
  return async (call) => {
    const first = await call.recv();
    assert.ok(call.halfClosed || (await call.recv()) === null);
    const request = nt.CountRequest.decode(first.message);
    for (let seq = 0; seq < Number(request.count); seq++) {
      const chunk = nt.Chunk.encode({ seq, data: Buffer.alloc(request.chunkBytes, seq % 256) }).finish();
      if (!(await call.send(chunk, first.attachment, options))) return;
    }
    call.respond({ code: request.failWithCode, statusMessage: request.failWithCode ? 'failed on purpose' : '' });
  };
}

async function sumHandler(call) {
  const totals = { count: 0, totalBytes: 0, attachmentBytes: 0, seqSum: 0 };
  for (let frame = await call.recv(); frame !== null; frame = await call.recv()) {
    const chunk = nt.Chunk.decode(frame.message);
    totals.count++;
    totals.totalBytes += chunk.data.length;
    totals.attachmentBytes += frame.attachment.length;
    totals.seqSum += Number(chunk.seq);
  }
  call.respond({ message: nt.SumReply.encode(totals).finish() });
}

async function echoHandler(call) {
  let echoed = 0;
  for (let frame = await call.recv(); frame !== null; frame = await call.recv()) {
    const chunk = nt.Chunk.decode(frame.message);
    if (chunk.data.toString() === 'abort') {
      call.respond({ code: 10, statusMessage: 'aborted by the handler' });
      return;
    }
    await call.send(frame.message, frame.attachment);
    echoed++;
  }
  await call.send(nt.Chunk.encode({ seq: echoed }).finish());
  call.respond();
}

const streamHandlers = () => ({ [COUNT]: countHandler(), [SUM]: sumHandler, [ECHO]: echoHandler });

test('server-streaming: read to the end, with the request attachment; the frames on the wire', () => withServer(streamHandlers(), async ({ server, stub }) => {
  const stream = stub.Count({ count: 5, chunkBytes: 3 }, { attachment: Buffer.from('att'), timeout: 10000 });
  const seen = [];
  for await (const chunk of stream) seen.push([Number(chunk.seq), chunk.data.toString('hex')]);
  assert.deepEqual(seen, [0, 1, 2, 3, 4].map((i) => [i, Buffer.alloc(3, i).toString('hex')]));
  assert.equal(await stream.finished, undefined);
  assert.equal(await stream.read(), null);
  const call = await server.call(1);
  assert.equal(call.request.payload.length, 0);  // a streaming REQUEST carries no message
  assert.equal(call.request.envelope.windowUpdate, 0);  // the default window is not sent
  const wire = server.frames.filter((f) => f.callId === call.id).map((f) => [f.kind, f.frame.envelope.flags]);
  assert.deepEqual(wire, [[REQUEST, 0], [STREAM_MESSAGE, 0], [STREAM_MESSAGE, 1]]);

  const withAttachments = stub.Count({ count: 2 }, { attachment: Buffer.from('xyz') });
  const first = await withAttachments.readWithAttachment();
  assert.equal(first.attachment.toString(), 'xyz');
  assert.equal((await withAttachments.readWithAttachment()).attachment.toString(), 'xyz');
  assert.equal(await withAttachments.readWithAttachment(), null);
}));

test('server-streaming: an error status after messages; unread messages are dropped', () => withServer(streamHandlers(), async ({ server, stub }) => {
  const stream = stub.Count({ count: 3, failWithCode: 9 });
  await rejectsWith(stream.finished, 'FAILED_PRECONDITION', 'failed on purpose');
  await rejectsWith(stream.read(), 'FAILED_PRECONDITION', 'failed on purpose');
  const iterated = stub.Count({ count: 2, failWithCode: 9 });
  const seen = [];
  await rejectsWith((async () => { for await (const c of iterated) seen.push(Number(c.seq)); })(), 'FAILED_PRECONDITION');
  assert.ok(seen.length <= 2);
}));

test('server-streaming: the receive window, credit returned as the application reads', () => withServer({ [COUNT]: hold }, async ({ server, stub }) => {
  const window = 64 * 1024;
  const stream = stub.Count({}, { window });
  const call = await server.call(1);
  assert.equal(call.request.envelope.windowUpdate, window);
  assert.equal(call.sendCredit, window);
  // The server fills the window with 4 KiB messages (the last one may overshoot it, §11.2).
  const chunk = nt.Chunk.encode({ data: Buffer.alloc(4096) }).finish();
  let sent = 0;
  while (call.sendCredit > 0) {
    await call.send(chunk);
    sent++;
  }
  const cost = 4 + chunk.length;  // a frame's body: envelope (kind, call id) + message
  assert.equal(sent, Math.ceil(window / (chunk.length + 4)));
  // Nothing was read, so no credit came back.
  assert.equal(server.frames.filter((f) => f.kind === WINDOW_UPDATE).length, 0);
  // Reading half the window's worth returns it in one WINDOW_UPDATE.
  let readBytes = 0;
  while (readBytes < window / 2) {
    await stream.read();
    readBytes += cost;
  }
  const update = await server.frame(WINDOW_UPDATE, call.id);
  assert.equal(update.frame.envelope.windowUpdate, readBytes);
  stream.cancel();
  await server.frame(CANCEL, call.id);
}));

test('server-streaming: a server that sends beyond the window gets CANCEL; the call fails with INTERNAL', () => withServer({ [COUNT]: hold }, async ({ server, stub }) => {
  const stream = stub.Count({}, { window: 100 });
  const call = await server.call(1);
  const chunk = nt.Chunk.encode({ data: Buffer.alloc(200) }).finish();
  await call.send(chunk);  // allowed: the credit was above zero
  await call.send(chunk, undefined, { ignoreCredit: true });  // not allowed
  await rejectsWith(stream.finished, 'INTERNAL', 'flow control window exceeded by the server');
  await server.frame(CANCEL, call.id);
  await rejectsWith(stream.read(), 'INTERNAL', 'flow control window exceeded by the server');
}));

test('streams: a bad WINDOW_UPDATE gets CANCEL and INTERNAL', () => withServer({ [SUM]: hold, [ECHO]: hold }, async ({ server, stub }) => {
  const upload = stub.Sum();
  const call = await server.call(1);
  call.windowUpdate(0);
  await rejectsWith(upload.finished, 'INTERNAL', 'bad WINDOW_UPDATE from the server');
  await server.frame(CANCEL, call.id);
  const chat = stub.Echo();
  const call2 = await server.call(2);
  call2.windowUpdate(2 ** 31 - WINDOW);  // 1 MiB + that is above 2^31 - 1
  await rejectsWith(chat.finished, 'INTERNAL', 'bad WINDOW_UPDATE from the server');
}));

test('client-streaming: writes, attachments, the half-close, the reply', () => withServer(streamHandlers(), async ({ server, stub }) => {
  const upload = stub.Sum({ metadata: { who: 'node' } });
  assert.equal(await upload.write({ seq: 1, data: Buffer.from('abc') }), true);
  assert.equal(await upload.write(nt.Chunk.create({ seq: 2 }), Buffer.from('attached')), true);
  const reply = await upload.finish();
  assert.deepEqual(nt.SumReply.toObject(reply, { longs: Number }), { count: 2, totalBytes: 3, attachmentBytes: 8, seqSum: 3 });
  assert.equal(await upload.write({ seq: 3 }), false);  // the call has ended
  assert.deepEqual((await server.call(1)).metadata, [['who', 'node']]);

  // From an async iterable, with withAttachment() items.
  async function* chunks() {
    for (let i = 0; i < 10; i++) yield i % 2 ? framerpc.withAttachment({ seq: i }, Buffer.alloc(i)) : { seq: i, data: Buffer.alloc(i) };
  }
  const fromIterable = stub.Sum(chunks(), { timeout: 10000 });
  assert.deepEqual(nt.SumReply.toObject(await fromIterable.finished, { longs: Number }),
    { count: 10, totalBytes: 20, attachmentBytes: 25, seqSum: 45 });
  // A failing input cancels the call.
  async function* broken() {
    yield { seq: 1 };
    throw new Error('disk on fire');
  }
  await rejectsWith(stub.Sum(broken()).finished, 'CANCELLED', 'request stream failed: disk on fire');
}));

test('client-streaming: writes wait for credit; the server never gets more than its window', () => withServer({ [SUM]: hold }, async ({ server, stub }) => {
  const upload = stub.Sum();
  const call = await server.call(1);
  call.creditReturn = false;
  const data = Buffer.alloc(64 * 1024);  // 65546-byte bodies: the 16th takes the credit below 0
  const writes = [];
  let settled = 0;
  for (let i = 0; i < 20; i++) writes.push(upload.write({ seq: i, data }).then((ok) => (settled++, ok)));
  upload.end();
  await server.waitFor(() => call.inbox.length === 16);
  await new Promise((resolve) => setImmediate(resolve));  // let the writes' callbacks run
  assert.equal(settled, 16);  // the other four wait for credit
  assert.equal(call.halfClosed, false);  // and the half-close waits behind them
  call.windowUpdate(WINDOW);
  await server.waitFor(() => call.halfClosed);
  assert.deepEqual(await Promise.all(writes), Array(20).fill(true));
  assert.equal(call.inbox.length, 20);
  call.respond({ message: nt.SumReply.encode({ count: 20 }).finish() });
  assert.equal(Number((await upload.finished).count), 20);
}));

test('bidirectional: an exchange, async iteration, the end', () => withServer(streamHandlers(), async ({ stub }) => {
  const chat = stub.Echo({ timeout: 10000 });
  await chat.write({ seq: 1, data: Buffer.from('one') }, Buffer.from('a1'));
  const back = await chat.readWithAttachment();
  assert.equal(back.message.data.toString(), 'one');
  assert.equal(back.attachment.toString(), 'a1');
  await chat.write({ seq: 2, data: Buffer.from('two') });
  assert.equal(Number((await chat.read()).seq), 2);
  chat.end();
  const rest = [];
  for await (const chunk of chat) rest.push(Number(chunk.seq));
  assert.deepEqual(rest, [2]);  // the handler's last chunk: the number echoed
  await chat.finished;

  const aborted = stub.Echo();
  await aborted.write({ data: Buffer.from('abort') });
  await rejectsWith(aborted.read(), 'ABORTED', 'aborted by the handler');
}));

test('bidirectional: input iterable and a concurrent reader', () => withServer(streamHandlers(), async ({ stub }) => {
  const chat = stub.Echo([1, 2, 3].map((seq) => ({ seq })));
  const seqs = [];
  for await (const chunk of chat) seqs.push(Number(chunk.seq));
  assert.deepEqual(seqs, [1, 2, 3, 3]);
}));

test('streams: leaving a for-await loop early cancels the call', () => withServer(streamHandlers(), async ({ server, stub }) => {
  const stream = stub.Count({ count: 100, chunkBytes: 64 * 1024 });  // more than one window
  for await (const chunk of stream) {
    if (Number(chunk.seq) === 2) break;
  }
  await rejectsWith(stream.finished, 'CANCELLED', 'cancelled by the client');
  await server.frame(CANCEL, (await server.call(1)).id);
}));

test('streams: a deadline ends a stream mid-flow', () => withServer({ [ECHO]: hold }, async ({ server, stub }) => {
  const chat = stub.Echo({ timeout: 50 });
  const call = await server.call(1);
  await call.send(nt.Chunk.encode({ seq: 7 }).finish());
  assert.equal(Number((await chat.read()).seq), 7);
  await rejectsWith(chat.read(), 'DEADLINE_EXCEEDED', 'deadline exceeded');
  await server.frame(CANCEL, call.id);
  assert.equal(await chat.write({ seq: 8 }), false);
}));

test('streams: cancellation by signal, before and during', () => withServer({ [ECHO]: hold }, async ({ server, stub }) => {
  await rejectsWith(stub.Echo({ signal: AbortSignal.abort() }).finished, 'CANCELLED', 'cancelled before start');
  const controller = new AbortController();
  const chat = stub.Echo({ signal: controller.signal });
  const call = await server.call(1);
  const pending = chat.read();
  controller.abort();
  await rejectsWith(pending, 'CANCELLED', 'cancelled by the client');
  await server.frame(CANCEL, call.id);
  assert.equal(server.calls.length, 1);
}));

test('streams: finish() drops unread messages and returns their credit', () => withServer({ [ECHO]: hold }, async ({ server, stub }) => {
  const chat = stub.Echo({ window: 1000 });
  const call = await server.call(1);
  const chunk = nt.Chunk.encode({ data: Buffer.alloc(300) }).finish();
  for (let i = 0; i < 4; i++) await call.send(chunk);  // 4 x 308 bytes: the window is used up
  assert.ok(call.sendCredit <= 0);
  const finishing = chat.finish();
  await server.waitFor(() => call.halfClosed && call.sendCredit > 0);  // the credit came back
  await call.send(chunk);  // dropped on arrival, credit returned
  call.respond();
  await finishing;
}));

test('streams: Node stream adapters', () => withServer(streamHandlers(), async ({ stub }) => {
  const received = [];
  await pipeline(stub.Count({ count: 4 }).readable(), new Writable({
    objectMode: true,
    write(chunk, _, callback) {
      received.push(Number(chunk.seq));
      callback();
    },
  }));
  assert.deepEqual(received, [0, 1, 2, 3]);
  const upload = stub.Sum();
  await pipeline(Readable.from([{ seq: 1 }, framerpc.withAttachment({ seq: 2 }, Buffer.from('zz'))]), upload.writable());
  assert.deepEqual(nt.SumReply.toObject(await upload.finished, { longs: Number, defaults: true }), { count: 2, totalBytes: 0, attachmentBytes: 2, seqSum: 3 });
  const chat = stub.Echo();
  const duplex = chat.duplex();
  duplex.write({ seq: 5 });
  duplex.end();
  const out = [];
  for await (const chunk of duplex) out.push(Number(chunk.seq));
  assert.deepEqual(out, [5, 1]);
}));

test('streams by path take and give bytes', () => withServer(streamHandlers(), async ({ channel }) => {
  const stream = channel.serverStreamingCall(COUNT, nt.CountRequest.encode({ count: 2 }).finish());
  const got = [];
  for await (const bytes of stream) got.push(Buffer.isBuffer(bytes));
  assert.deepEqual(got, [true, true]);
}));
