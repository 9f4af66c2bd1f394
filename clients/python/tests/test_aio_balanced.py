"""framerpc.aio_balanced.Channel: round robin and the transparent retry of calls never sent over
fake servers on loopback, then failover over three real framerpc_servers: one killed with
SIGKILL and one stopped with SIGTERM (GOAWAY and drain) while calls go on, with no failed call."""
import asyncio
import os
import signal
import socket
import subprocess
import tempfile
import unittest

import framerpc
import framerpc.aio_balanced
import stream_test_frpc
from fake_server import FakeServer
from framerpc import envelope_pb2 as pb
from stream_test_pb2 import Chunk

from proto import echo_frpc
from proto.echo_pb2 import SayRequest

SERVER = os.environ.get("FRAMERPC_SERVER")


def dead_address():
    """A loopback port nothing listens on (bound and closed: connecting is refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    address = "127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()
    return address


def requests(server):
    return len(server.frames(pb.REQUEST))


class AioBalancedFakeTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.a, self.b = FakeServer(), FakeServer()

    async def asyncTearDown(self):
        self.a.close()
        self.b.close()

    async def test_round_robin_takes_turns(self):
        async with framerpc.aio_balanced.Channel(
                "ipv4:%s,%s" % (self.a.address, self.b.address), policy="round_robin") as channel:
            stub = stream_test_frpc.StreamTestAsyncStub(channel)
            for _ in range(10):
                await stub.Unary(Chunk(data=b"x"), timeout=10)
        self.assertEqual((requests(self.a), requests(self.b)), (5, 5))

    async def test_a_dead_server_is_skipped_without_failing_a_call(self):
        target = "%s,%s" % (dead_address(), self.a.address)  # pick_first: the dead one first
        async with framerpc.aio_balanced.Channel(target, eject_time=60) as channel:
            stub = stream_test_frpc.StreamTestAsyncStub(channel)
            for _ in range(5):
                await stub.Unary(Chunk(data=b"x"), timeout=10)
            context = framerpc.ClientContext(timeout=10)
            await stub.Unary(Chunk(data=b"x"), context=context)  # a context survives the retry
        self.assertEqual(requests(self.a), 6)

    async def test_every_server_dead_is_unsent_unavailable(self):
        async with framerpc.aio_balanced.Channel(
                "%s,%s" % (dead_address(), dead_address())) as channel:
            stub = stream_test_frpc.StreamTestAsyncStub(channel)
            with self.assertRaises(framerpc.UnsentError) as caught:
                await stub.Unary(Chunk(data=b"x"), timeout=10)
            self.assertEqual(caught.exception.code, framerpc.StatusCode.UNAVAILABLE)

    async def test_errors_of_the_server_are_not_retried(self):
        async with framerpc.aio_balanced.Channel(
                "%s,%s" % (self.a.address, self.b.address), policy="round_robin") as channel:
            stub = stream_test_frpc.StreamTestAsyncStub(channel)
            with self.assertRaises(framerpc.RpcError) as caught:
                await stub.Unary(Chunk(data=b"fail"), timeout=10)
            self.assertEqual(caught.exception.code, framerpc.StatusCode.NOT_FOUND)
        self.assertEqual(requests(self.a) + requests(self.b), 1)

    async def test_dns_localhost_and_streams(self):
        port = self.a.address.rsplit(":", 1)[1]
        async with framerpc.aio_balanced.Channel("dns:///localhost:" + port) as channel:
            stub = stream_test_frpc.StreamTestAsyncStub(channel)
            await stub.Unary(Chunk(data=b"x"), timeout=10)
            self.assertIn("127.0.0.1:" + port, channel.endpoints)
            stream = await stub.Chat(timeout=10)
            await stream.write(Chunk(data=b"hi"))
            await stream.done_writing()
            await stream.finish()

    async def test_bad_targets_and_options(self):
        for bad in ("dns:///localhost", "ipv4:", "a:1,,b:2", "nocolon"):
            with self.assertRaises(ValueError, msg=bad):
                framerpc.aio_balanced.Channel(bad)
        with self.assertRaises(ValueError):
            framerpc.aio_balanced.Channel("a:1,b:2", policy="random")


def start_server(workdir):
    """A framerpc_server on 127.0.0.1:0; returns (process, address)."""
    with open(os.path.join(workdir, "stderr"), "w") as stderr:
        process = subprocess.Popen([SERVER, "--listen=127.0.0.1:0", "--shutdown_grace=5s"],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    prefix = "framerpc_server: serving "
    while True:
        line = process.stdout.readline()
        if not line.startswith("framerpc_server: ") or line.startswith(prefix):
            break
    if not line.startswith(prefix):
        process.kill()
        process.wait()
        raise AssertionError("server did not start: %r" % line)
    return process, line[len(prefix):].strip().split(", ")[0]


@unittest.skipUnless(SERVER, "needs FRAMERPC_SERVER (//clients/python:interop_test)")
class AioBalancedFailoverTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.workdirs = [tempfile.TemporaryDirectory() for _ in range(3)]
        started = [start_server(w.name) for w in self.workdirs]
        self.processes = [p for p, _ in started]
        self.addresses = [a for _, a in started]
        self.channel = framerpc.aio_balanced.Channel(
            "ipv4:" + ",".join(self.addresses), policy="round_robin", eject_time=60)
        self.stub = echo_frpc.EchoServiceAsyncStub(self.channel)

    async def asyncTearDown(self):
        await self.channel.close()
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)
        for workdir in self.workdirs:
            workdir.cleanup()

    async def say(self, n):
        """n calls one after another; returns how many failed."""
        failed = 0
        for i in range(n):
            text = "call %d" % i
            try:
                reply = await self.stub.Say(SayRequest(text=text), timeout=10)
                failed += reply.text != text
            except framerpc.RpcError:
                failed += 1
        return failed

    async def server_gone(self, i):
        """Waits until server i has exited and the client's connection to it has seen the end."""
        await asyncio.get_running_loop().run_in_executor(None, self.processes[i].wait)
        endpoint = self.channel._endpoints[self.addresses[i]]
        for conn in list(endpoint.channel._connections):
            await conn.task  # its read loop ends when it reads the end of the stream

    async def test_kill_9_of_one_server_fails_no_call(self):
        self.assertEqual(await self.say(30), 0)  # each server has a connection now
        self.processes[1].send_signal(signal.SIGKILL)
        await self.server_gone(1)
        self.assertEqual(await self.say(300), 0)
        endpoint = self.channel._endpoints[self.addresses[1]]
        self.assertGreater(endpoint.ejected_until, 0)  # its refused connection ejected it

    async def test_sigterm_of_one_server_fails_no_call(self):
        async def caller():
            return await self.say(100)
        tasks = [asyncio.ensure_future(caller()) for _ in range(8)]
        self.processes[2].send_signal(signal.SIGTERM)
        failures = await asyncio.gather(*tasks)
        await self.server_gone(2)
        self.assertEqual(sum(failures), 0)
        self.assertEqual(await self.say(30), 0)


if __name__ == "__main__":
    unittest.main()
