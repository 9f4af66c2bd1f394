'use strict';
// BalancedChannel over fake servers on loopback: round robin, a dead server skipped without a
// failed call (the transparent retry of calls that never left the client), every server dead,
// a server's own error not retried, dns:///localhost, and a generated client on it.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('net');

const framerpc = require('../lib');
const { FakeServer } = require('./fake_server');
const { generated } = require('./helpers');

const echo = generated('proto/echo.proto');
const SAY = '/framerpc.echo.EchoService/Say';

function namedServer(name, counter) {
  return new FakeServer({
    [SAY]: (call) => {
      counter[name] = (counter[name] || 0) + 1;
      const request = echo.SayRequest.decode(call.request.message);
      if (request.text === 'fail') {
        call.respond({ code: 5, statusMessage: 'no' });
        return;
      }
      call.respond({ message: echo.SayReply.encode({ text: name }).finish() });
    },
  });
}

// A loopback port nothing listens on: bound, then closed.
async function deadAddress() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${server.address().port}`;
  await new Promise((resolve) => server.close(resolve));
  return address;
}

async function withServers(body) {
  const counter = {};
  const a = namedServer('a', counter);
  const b = namedServer('b', counter);
  const addresses = [await a.listen({ tcp: true }), await b.listen({ tcp: true })];
  try {
    await body({ counter, addresses });
  } finally {
    await a.close();
    await b.close();
  }
}

test('round_robin takes turns', () => withServers(async ({ counter, addresses }) => {
  const channel = new framerpc.BalancedChannel(`ipv4:${addresses.join(',')}`, { policy: 'round_robin' });
  const stub = new echo.EchoServiceClient(channel);
  for (let i = 0; i < 10; i++) await stub.Say({ text: 'x' }, { timeout: 5000 });
  assert.deepEqual(counter, { a: 5, b: 5 });
  await channel.close();
}));

test('a dead server is skipped without failing a call', () => withServers(async ({ counter, addresses }) => {
  const channel = new framerpc.BalancedChannel(`${await deadAddress()},${addresses[0]}`, { ejectTime: 60000 });
  const stub = new echo.EchoServiceClient(channel);
  for (let i = 0; i < 5; i++) assert.equal((await stub.Say({ text: 'x' }, { timeout: 5000 })).text, 'a');
  assert.equal(counter.a, 5);
  await channel.close();
}));

test('every server dead is UNAVAILABLE, marked unsent', async () => {
  const channel = new framerpc.BalancedChannel(`${await deadAddress()},${await deadAddress()}`);
  const stub = new echo.EchoServiceClient(channel);
  await assert.rejects(stub.Say({ text: 'x' }, { timeout: 5000 }), (error) => {
    assert.equal(error.code, framerpc.StatusCode.UNAVAILABLE);
    assert.equal(error.unsent, true);
    return true;
  });
  await channel.close();
});

test("a server's own error is not retried", () => withServers(async ({ counter, addresses }) => {
  const channel = new framerpc.BalancedChannel(addresses.join(','), { policy: 'round_robin' });
  const stub = new echo.EchoServiceClient(channel);
  await assert.rejects(stub.Say({ text: 'fail' }, { timeout: 5000 }), (error) => error.code === framerpc.StatusCode.NOT_FOUND);
  assert.equal((counter.a || 0) + (counter.b || 0), 1);
  await channel.close();
}));

test('dns:///localhost resolves, and bad targets are refused', () => withServers(async ({ addresses }) => {
  const port = addresses[0].split(':')[1];
  const channel = new framerpc.BalancedChannel(`dns:///localhost:${port}`);
  const stub = new echo.EchoServiceClient(channel);
  assert.equal((await stub.Say({ text: 'x' }, { timeout: 5000 })).text, 'a');
  assert.ok(channel.endpoints.includes(`127.0.0.1:${port}`), channel.endpoints.join(' '));
  await channel.close();
  for (const bad of ['dns:///localhost', 'dns://8.8.8.8/x:1', 'ipv4:', 'a:1,,b:2']) {
    assert.throws(() => new framerpc.BalancedChannel(bad), TypeError, bad);
  }
  assert.throws(() => new framerpc.BalancedChannel('a:1,b:2', { policy: 'random' }), TypeError);
}));
