"""The asyncio client (framerpc.aio.Channel and the generated async stubs) against the fake
server. The fake server runs on threads; waiting on it is done in an executor so that the event
loop keeps serving the client."""
import asyncio
import threading
import traceback
import unittest

import framerpc
import framerpc.aio
from framerpc import envelope_pb2 as pb
from framerpc import RpcError, StatusCode
from framerpc.codec import encode_frame

import stream_test_frpc
from fake_server import FakeServer
from stream_test_pb2 import Chunk, Summary, WatchRequest


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.server = FakeServer()
        self.channel = framerpc.aio.Channel(self.server.address)
        self.stub = stream_test_frpc.StreamTestAsyncStub(self.channel)

    async def asyncTearDown(self):
        await self.channel.close()
        self.server.close()

    async def server_wait(self, predicate):
        await asyncio.get_running_loop().run_in_executor(None, self.server.wait_for, predicate)

    async def assert_rpc_error(self, awaitable, code, message):
        with self.assertRaises(RpcError) as caught:
            await awaitable
        self.assertEqual((caught.exception.code, caught.exception.message), (code, message))

    async def hang(self, **kwargs):
        before = set(self.server.hanging)
        task = asyncio.ensure_future(self.stub.Unary(Chunk(data=b"hang"), **kwargs))
        await self.server_wait(lambda: set(self.server.hanging) - before)
        (call_id,) = set(self.server.hanging) - before
        return task, call_id

    async def test_unary(self):
        context = framerpc.ClientContext(timeout=5, metadata=[("k", "v")], attachment=b"att")
        reply = await self.stub.Unary(Chunk(data=b"abcd"), context=context)
        self.assertEqual(reply, Summary(count=1, bytes=4))
        self.assertEqual(context.response_attachment, b"att")
        await self.assert_rpc_error(self.stub.Unary(Chunk(data=b"fail")), StatusCode.NOT_FOUND,
                                    "no such chunk")

    async def test_concurrent_calls_share_one_connection(self):
        replies = await asyncio.gather(*[self.stub.Unary(Chunk(data=b"x" * i))
                                         for i in range(50)])
        self.assertEqual([r.bytes for r in replies], list(range(50)))
        self.assertEqual(len(self.server.connections), 1)

    async def test_deadline_sends_cancel(self):
        await self.assert_rpc_error(self.stub.Unary(Chunk(data=b"hang"), timeout=0.2),
                                    StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        (call_id,) = self.server.hanging
        await self.server_wait(lambda: self.server.frames(pb.CANCEL, call_id))

    async def test_expired_deadline(self):
        await self.assert_rpc_error(self.stub.Unary(Chunk(), timeout=-1),
                                    StatusCode.DEADLINE_EXCEEDED,
                                    "deadline exceeded before the call started")

    async def test_task_cancellation_sends_cancel(self):
        task, call_id = await self.hang()
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        await self.server_wait(lambda: self.server.frames(pb.CANCEL, call_id))
        self.assertEqual((await self.stub.Unary(Chunk(data=b"ok"))).bytes, 2)

    async def test_context_cancel_from_another_thread(self):
        context = framerpc.ClientContext()
        task, call_id = await self.hang(context=context)
        thread = threading.Thread(target=context.cancel)
        thread.start()
        await self.assert_rpc_error(task, StatusCode.CANCELLED, "cancelled by the client")
        thread.join()
        await self.server_wait(lambda: self.server.frames(pb.CANCEL, call_id))

    async def test_each_raise_is_a_fresh_error(self):
        # One shared instance would chain every raise's traceback onto it (see test_client).
        errors = []
        for _ in range(2):
            with self.assertRaises(RpcError) as caught:
                await self.stub.Unary(Chunk(data=b"hang"), timeout=0.05)
            errors.append(caught.exception)
        first, second = errors
        self.assertEqual(first.code, StatusCode.DEADLINE_EXCEEDED)
        self.assertIsNot(first, second)
        self.assertEqual(len(traceback.extract_tb(first.__traceback__)),
                         len(traceback.extract_tb(second.__traceback__)))
        tasks = [(await self.hang())[0] for _ in range(2)]
        self.server.drop_connections()
        lost = []
        for task in tasks:
            with self.assertRaises(RpcError) as caught:
                await task
            lost.append(caught.exception)
        self.assertIsNot(lost[0], lost[1])
        self.assertEqual(len(traceback.extract_tb(lost[0].__traceback__)),
                         len(traceback.extract_tb(lost[1].__traceback__)))

    async def test_pings_are_answered_and_acks_are_not(self):
        await self.stub.Unary(Chunk(data=b"x"))  # the connection is open, and idle
        self.server.send_all(None, raw=encode_frame(pb.Envelope(kind=pb.PING, flags=pb.ACK,
                                                                ping_data=5))
                             + encode_frame(pb.Envelope(kind=pb.PING, ping_data=(1 << 64) - 1)))
        await self.server_wait(lambda: self.server.frames(pb.PING))
        self.assertEqual([(a.flags, a.ping_data) for a in self.server.frames(pb.PING)],
                         [(pb.ACK, (1 << 64) - 1)])
        task, call_id = await self.hang()
        self.server.send_all(pb.Envelope(kind=pb.PING, ping_data=9))
        await self.server_wait(lambda: len(self.server.frames(pb.PING)) == 2)
        self.assertEqual(self.server.frames(pb.PING)[1].ping_data, 9)
        self.server.hanging[call_id].finish(0, response=Summary(count=2))
        self.assertEqual((await task).count, 2)

    async def test_goaway(self):
        first, first_id = await self.hang()
        second, second_id = await self.hang()
        self.server.goaway(first_id)
        await self.assert_rpc_error(second, StatusCode.UNAVAILABLE,
                                    "server is shutting down; the call was not processed")
        self.server.hanging[first_id].finish(0, response=Summary(count=3))
        self.assertEqual((await first).count, 3)
        await self.stub.Unary(Chunk())
        self.assertEqual(len(self.server.connections), 2)

    async def test_connection_lost(self):
        task, _ = await self.hang()
        self.server.drop_connections()
        await self.assert_rpc_error(task, StatusCode.UNAVAILABLE,
                                    "connection to %s lost: end of stream" % self.server.address)
        self.assertEqual((await self.stub.Unary(Chunk(data=b"z"))).bytes, 1)

    async def test_server_streaming(self):
        stream = await self.stub.Watch(WatchRequest(count=4, size=2), attachment=b"t")
        got = []
        async for chunk in stream:
            got.append(chunk.index)
        self.assertEqual(got, [0, 1, 2, 3])
        self.assertIsNone(await stream.finish())

    async def test_receive_window(self):
        window = 128 << 10
        stream = await self.stub.Watch(WatchRequest(count=40, size=20000), window=window)
        # Reading everything returns credit in batches, so all 40 messages arrive.
        count = 0
        while (await stream.read_with_attachment()) is not None:
            count += 1
        self.assertEqual(count, 40)
        updates = self.server.frames(pb.WINDOW_UPDATE, stream.call_id)
        self.assertTrue(updates)
        self.assertTrue(all(u.window_update >= window // 2 for u in updates))
        self.assertEqual(self.server.violations, [])

    async def test_client_streaming_under_back_pressure(self):
        stream = await self.stub.Upload()
        for i in range(30):
            self.assertTrue(await stream.write(Chunk(data=b"u" * 100000, index=i)))
        self.assertEqual(await stream.finish(), Summary(count=30, bytes=3000000))
        # 3 MB through a 1 MiB window: only possible with the credit the server returned, and
        # the server saw no message beyond its window.
        self.assertEqual(self.server.violations, [])

    async def test_bidi(self):
        stream = await self.stub.Chat()
        await stream.write(Chunk(data=b"hi", index=1), attachment=b"a")
        self.assertEqual(await stream.read_with_attachment(), (Chunk(data=b"HI", index=1), b"a"))
        await stream.done_writing()
        self.assertIsNone(await stream.read())
        self.assertIsNone(await stream.finish())

    async def test_bidi_error_and_bad_window(self):
        stream = await self.stub.Chat()
        await stream.write(Chunk(data=b"abort"))
        await self.assert_rpc_error(stream.finish(), StatusCode.ABORTED, "aborted by the handler")
        stream = await self.stub.Chat()
        await stream.write(Chunk(data=b"bad-window"))
        await self.assert_rpc_error(stream.finish(), StatusCode.INTERNAL,
                                    "bad WINDOW_UPDATE from the server")
        await self.server_wait(lambda: self.server.frames(pb.CANCEL, stream.call_id))

    async def test_stream_deadline_and_cancel(self):
        stream = await self.stub.Watch(WatchRequest(count=0, size=10), timeout=0.3)
        with self.assertRaises(RpcError) as caught:
            async for _ in stream:
                pass
        self.assertEqual(caught.exception.code, StatusCode.DEADLINE_EXCEEDED)
        async with await self.stub.Watch(WatchRequest(count=0, size=10)) as stream:
            self.assertEqual((await stream.read()).index, 0)
        await self.server_wait(lambda: self.server.frames(pb.CANCEL, stream.call_id))


if __name__ == "__main__":
    unittest.main()
