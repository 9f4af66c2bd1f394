"""framerpc.balanced.Channel over fake servers on loopback: round robin, failover with ejection,
the transparent retry of calls that never left the client, dns:///localhost, stubs on it."""
import socket
import unittest

import framerpc
import framerpc.balanced
import stream_test_frpc
from fake_server import FakeServer
from framerpc import envelope_pb2 as pb
from stream_test_pb2 import Chunk


def dead_address():
    """A loopback port nothing listens on (bound and closed: connecting is refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    address = "127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()
    return address


def requests(server):
    return len(server.frames(pb.REQUEST))


class BalancedTest(unittest.TestCase):
    def setUp(self):
        self.a, self.b = FakeServer(), FakeServer()

    def tearDown(self):
        self.a.close()
        self.b.close()

    def test_round_robin_takes_turns(self):
        with framerpc.balanced.Channel("ipv4:%s,%s" % (self.a.address, self.b.address),
                                       policy="round_robin") as channel:
            stub = stream_test_frpc.StreamTestStub(channel)
            for _ in range(10):
                stub.Unary(Chunk(data=b"x"), timeout=10)
        self.assertEqual((requests(self.a), requests(self.b)), (5, 5))

    def test_a_dead_server_is_skipped_without_failing_a_call(self):
        # pick_first: the dead address first. Its connection cannot be made, so the call never
        # left the client and goes to the next server at once.
        target = "%s,%s" % (dead_address(), self.a.address)
        with framerpc.balanced.Channel(target, eject_time=60) as channel:
            stub = stream_test_frpc.StreamTestStub(channel)
            for _ in range(5):
                stub.Unary(Chunk(data=b"x"), timeout=10)
            context = framerpc.ClientContext(timeout=10)
            stub.Unary(Chunk(data=b"x"), context=context)  # a context survives the retry
        self.assertEqual(requests(self.a), 6)

    def test_every_server_dead_is_unavailable(self):
        with framerpc.balanced.Channel("%s,%s" % (dead_address(), dead_address())) as channel:
            stub = stream_test_frpc.StreamTestStub(channel)
            with self.assertRaises(framerpc.UnsentError) as caught:
                stub.Unary(Chunk(data=b"x"), timeout=10)
            self.assertEqual(caught.exception.code, framerpc.StatusCode.UNAVAILABLE)

    def test_errors_of_the_server_are_not_retried(self):
        with framerpc.balanced.Channel("%s,%s" % (self.a.address, self.b.address),
                                       policy="round_robin") as channel:
            stub = stream_test_frpc.StreamTestStub(channel)
            with self.assertRaises(framerpc.RpcError) as caught:
                stub.Unary(Chunk(data=b"fail"), timeout=10)
            self.assertEqual(caught.exception.code, framerpc.StatusCode.NOT_FOUND)
        self.assertEqual(requests(self.a) + requests(self.b), 1)

    def test_dns_localhost_and_streams(self):
        port = self.a.address.rsplit(":", 1)[1]
        with framerpc.balanced.Channel("dns:///localhost:" + port) as channel:
            self.assertIn("127.0.0.1:" + port, channel.endpoints)
            stub = stream_test_frpc.StreamTestStub(channel)
            stub.Unary(Chunk(data=b"x"), timeout=10)
            stream = stub.Chat(timeout=10)
            stream.write(Chunk(data=b"hi"))
            stream.done_writing()
            stream.finish()

    def test_bad_targets_and_options(self):
        for bad in ("dns:///localhost", "dns://8.8.8.8/x:1", "ipv4:", "a:1,,b:2", "nocolon"):
            with self.assertRaises(ValueError, msg=bad):
                framerpc.balanced.Channel(bad)
        with self.assertRaises(ValueError):
            framerpc.balanced.Channel("a:1,b:2", policy="random")


if __name__ == "__main__":
    unittest.main()
