"""Streaming interop (docs/protocol.md §11): the Python client against the C++ server's streaming
transport, through stream_interop_server (the StreamTest service of stream_test.proto in C++).
Both ends enforce the windows: a C++ server sending beyond the client's window fails the call with
INTERNAL here, and a client sending beyond the server's makes the server end the call with
RESOURCE_EXHAUSTED, so a clean run shows both agree on the credit accounting."""
import asyncio
import os
import signal
import subprocess
import unittest

import framerpc
import framerpc.aio
from framerpc import RpcError, StatusCode

import stream_test_frpc
from stream_test_pb2 import Chunk, Outer, Summary, WatchRequest

SERVER = os.environ.get("FRAMERPC_STREAM_SERVER")


@unittest.skipUnless(SERVER or os.environ.get("TEST_SRCDIR"),
                     "set FRAMERPC_STREAM_SERVER to the path of stream_interop_server")
class StreamInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not SERVER:
            raise AssertionError("FRAMERPC_STREAM_SERVER is not set")
        cls.process = subprocess.Popen([SERVER, "127.0.0.1:0"], stdout=subprocess.PIPE,
                                       text=True)
        line = cls.process.stdout.readline()
        if not line.startswith("serving "):
            cls.process.kill()
            cls.process.wait()
            raise AssertionError("stream_interop_server did not start: %r" % line)
        cls.address = line[len("serving "):].strip()

    @classmethod
    def tearDownClass(cls):
        cls.process.send_signal(signal.SIGTERM)
        cls.process.communicate(timeout=30)
        if cls.process.returncode != 0:
            raise AssertionError("server exited with %d" % cls.process.returncode)

    def setUp(self):
        self.channel = framerpc.Channel(self.address)
        self.stub = stream_test_frpc.StreamTestStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def assertRpcError(self, error, code, message):
        self.assertEqual((error.code, error.message), (code, message))

    def test_unary_methods_of_the_same_service(self):
        self.assertEqual(self.stub.Unary(Chunk(data=b"abc")), Summary(count=1, bytes=3))
        self.assertEqual(self.stub.Nested(Outer.Inner(note="n")).text, "n")
        self.assertEqual(self.stub.lambda_(Chunk(data=b"l", index=3)), Chunk(data=b"l", index=3))
        with self.assertRaises(RpcError) as caught:
            self.stub.Unary(Chunk(data=b"fail"))
        self.assertRpcError(caught.exception, StatusCode.NOT_FOUND, "no such chunk")

    def test_server_streaming(self):
        # No request attachment: the C++ server-streaming handler reads its request message
        # without one (rpc/service.h), so ServerContext::request_attachment() stays empty.
        stream = self.stub.Watch(WatchRequest(count=100, size=1000), timeout=30)
        items = []
        while True:
            item = stream.read_with_attachment()
            if item is None:
                break
            items.append(item)
        self.assertEqual([c.index for c, _ in items], list(range(100)))
        self.assertTrue(all(c.data == bytes([c.index % 251]) * 1000 and a == b""
                            for c, a in items))
        self.assertIsNone(stream.finish())

    def test_many_bytes_through_a_small_receive_window(self):
        stream = self.stub.Watch(WatchRequest(count=200, size=50000), window=65536, timeout=60)
        self.assertEqual(sum(len(c.data) for c in stream), 200 * 50000)
        self.assertIsNone(stream.error)

    def test_a_reader_that_stops_stops_the_server(self):
        window = 128 << 10
        stream = self.stub.Watch(WatchRequest(count=0, size=10000), window=window, timeout=60)
        conn, call = stream._conn, stream._call
        with conn.cond:  # the server has used up the window: it must now wait for credit
            self.assertTrue(conn.cond.wait_for(lambda: call.recv_credit <= 0 or call.done, 30))
            buffered = sum(item[2] for item in call.inbox)
        self.assertIsNone(call.error)
        self.assertLessEqual(buffered, window + 10100)
        self.assertIsNotNone(stream.read())
        stream.cancel()
        with self.assertRaises(RpcError) as caught:
            stream.finish()
        self.assertRpcError(caught.exception, StatusCode.CANCELLED, "cancelled by the client")
        self.assertEqual(self.stub.Unary(Chunk(data=b"ok")).bytes, 2)

    def test_client_streaming_beyond_the_servers_window(self):
        upload = self.stub.Upload(timeout=60)
        for i in range(30):
            self.assertTrue(upload.write(Chunk(data=b"u" * 100000, index=i), attachment=b"ab"))
        self.assertEqual(upload.finish(), Summary(count=30, bytes=30 * 100002))

    def test_bidi(self):
        chat = self.stub.Chat(timeout=30)
        for i in range(50):
            self.assertTrue(chat.write(Chunk(data=b"msg%d" % i, index=i), attachment=b"a%d" % i))
            self.assertEqual(chat.read_with_attachment(),
                             (Chunk(data=b"MSG%d" % i, index=i), b"a%d" % i))
        self.assertTrue(chat.done_writing())
        self.assertIsNone(chat.read())
        self.assertIsNone(chat.finish())

    def test_bidi_ends_from_the_server(self):
        chat = self.stub.Chat()
        chat.write(Chunk(data=b"end"))
        self.assertIsNone(chat.read())
        self.assertIsNone(chat.finish())
        chat = self.stub.Chat()
        chat.write(Chunk(data=b"abort"))
        with self.assertRaises(RpcError) as caught:
            chat.finish()
        self.assertRpcError(caught.exception, StatusCode.ABORTED, "aborted by the handler")

    def test_cancel_mid_stream(self):
        stream = self.stub.Watch(WatchRequest(count=0, size=100))
        for _ in range(3):
            self.assertIsNotNone(stream.read())
        stream.cancel()
        with self.assertRaises(RpcError) as caught:
            list(stream)
        self.assertRpcError(caught.exception, StatusCode.CANCELLED, "cancelled by the client")
        self.assertEqual(self.stub.Unary(Chunk(data=b"after")).bytes, 5)

    def test_deadline_mid_stream(self):
        stream = self.stub.Watch(WatchRequest(count=0, size=100), timeout=0.5)
        with self.assertRaises(RpcError) as caught:
            for _ in stream:
                pass
        # Whichever end noticed first, the status is the same (§7.2, §11).
        self.assertRpcError(caught.exception, StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")

    def test_unknown_streaming_method(self):
        stream = self.channel.stream_call("/framerpc.pytest.StreamTest/Nope",
                                          framerpc.MethodKind.BIDI_STREAMING, Chunk)
        with self.assertRaises(RpcError) as caught:
            stream.finish()
        self.assertRpcError(caught.exception, StatusCode.UNIMPLEMENTED,
                            "unknown method '/framerpc.pytest.StreamTest/Nope'")

    def test_asyncio_streams(self):
        async def main():
            async with framerpc.aio.Channel(self.address) as channel:
                stub = stream_test_frpc.StreamTestAsyncStub(channel)
                watch = await stub.Watch(WatchRequest(count=50, size=20000), window=65536)
                self.assertEqual([c.index async for c in watch], list(range(50)))
                upload = await stub.Upload()
                for i in range(20):
                    await upload.write(Chunk(data=b"x" * 100000))
                self.assertEqual(await upload.finish(), Summary(count=20, bytes=2000000))
                chat = await stub.Chat()
                await chat.write(Chunk(data=b"hey"))
                self.assertEqual((await chat.read()).data, b"HEY")
                await chat.done_writing()
                self.assertIsNone(await chat.finish())

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
