"""The blocking client (framerpc.Channel and generated stubs) against the fake server: unary calls,
errors, deadlines, cancellation, connection-level events and the streaming calls of §11 with flow
control. Nothing sleeps: tests wait on the fake server's condition or on the call itself."""
import socket
import threading
import traceback
import unittest

import framerpc
from framerpc import envelope_pb2 as pb
from framerpc import RpcError, StatusCode
from framerpc.codec import encode_frame

import stream_test_frpc
from fake_server import FakeServer
from stream_test_pb2 import Chunk, Outer, Summary, WatchRequest

UNARY = "/framerpc.pytest.StreamTest/Unary"


class Background:
    """Runs fn in a thread; result() re-raises what it raised."""

    def __init__(self, fn, *args, **kwargs):
        self._result = None
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, args, kwargs):
        try:
            self._result = fn(*args, **kwargs)
        except BaseException as error:  # handed to result()
            self._error = error

    def result(self, timeout=30):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("background call did not finish")
        if self._error is not None:
            raise self._error
        return self._result


class ClientTestBase(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer()
        self.channel = framerpc.Channel(self.server.address)
        self.stub = stream_test_frpc.StreamTestStub(self.channel)

    def tearDown(self):
        self.channel.close()
        self.server.close()

    def assertRpcError(self, code, message):
        return _RpcErrorContext(self, code, message)

    def hang(self, **kwargs):
        """Starts a unary call that the server never answers; returns (background, call id)."""
        before = set(self.server.hanging)
        call = Background(self.stub.Unary, Chunk(data=b"hang"), **kwargs)
        self.server.wait_for(lambda: set(self.server.hanging) - before)
        (call_id,) = set(self.server.hanging) - before
        return call, call_id


class _RpcErrorContext:
    def __init__(self, test, code, message):
        self.test, self.code, self.message = test, code, message

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if kind is None:
            self.test.fail("no RpcError raised")
        if not issubclass(kind, RpcError):
            return False
        self.test.assertEqual((error.code, error.message), (self.code, self.message))
        self.error = error
        return True


class UnaryTest(ClientTestBase):
    def test_ok_with_metadata_attachment_and_deadline(self):
        context = framerpc.ClientContext(timeout=5, metadata={"k": "v", b"bin": b"\x00\xff"},
                                         attachment=b"att")
        reply = self.stub.Unary(Chunk(data=b"abc"), context=context)
        self.assertEqual(reply, Summary(count=1, bytes=3))
        self.assertEqual(context.response_attachment, b"att")
        (request,) = self.server.frames(pb.REQUEST)
        self.assertEqual(request.method, UNARY.encode())
        self.assertEqual([(e.key, e.value) for e in request.metadata],
                         [(b"k", b"v"), (b"bin", b"\x00\xff")])
        self.assertTrue(0 < request.timeout_us <= 5_000_000)

    def test_no_deadline_sends_no_timeout(self):
        self.stub.Unary(Chunk(data=b"x"))
        (request,) = self.server.frames(pb.REQUEST)
        self.assertEqual(request.timeout_us, 0)

    def test_error_status(self):
        with self.assertRpcError(StatusCode.NOT_FOUND, "no such chunk"):
            self.stub.Unary(Chunk(data=b"fail"))

    def test_unknown_method(self):
        with self.assertRpcError(StatusCode.UNIMPLEMENTED,
                                 "unknown method '/framerpc.pytest.StreamTest/Nope'"):
            self.channel.unary_call("/framerpc.pytest.StreamTest/Nope", Chunk(), Summary)

    def test_response_that_does_not_parse(self):
        with self.assertRpcError(StatusCode.INTERNAL, "response message does not parse"):
            self.stub.Unary(Chunk(data=b"garbage-reply"))

    def test_deadline_fails_locally_and_sends_cancel(self):
        with self.assertRpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"):
            self.stub.Unary(Chunk(data=b"hang"), timeout=0.2)
        (call_id,) = self.server.hanging
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, call_id))

    def test_expired_deadline_sends_nothing(self):
        with self.assertRpcError(StatusCode.DEADLINE_EXCEEDED,
                                 "deadline exceeded before the call started"):
            self.stub.Unary(Chunk(data=b"x"), timeout=0)
        self.assertEqual(self.server.connections, [])

    def test_cancel_in_flight_sends_cancel(self):
        context = framerpc.ClientContext()
        call, call_id = self.hang(context=context)
        context.cancel()
        with self.assertRpcError(StatusCode.CANCELLED, "cancelled by the client"):
            call.result()
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, call_id))
        self.assertEqual(self.stub.Unary(Chunk(data=b"ok")).count, 1)  # the connection lives on

    def test_cancel_before_start(self):
        context = framerpc.ClientContext()
        context.cancel()
        with self.assertRpcError(StatusCode.CANCELLED, "cancelled before start"):
            self.stub.Unary(Chunk(), context=context)
        with self.assertRaises(ValueError):  # one context, one call
            self.stub.Unary(Chunk(), context=context)

    def test_many_threads_share_one_connection(self):
        calls = [Background(self.stub.Unary, Chunk(data=b"x" * i)) for i in range(32)]
        for i, call in enumerate(calls):
            self.assertEqual(call.result().bytes, i)
        self.assertEqual(len(self.server.connections), 1)
        ids = [env.call_id for env in self.server.frames(pb.REQUEST)]
        self.assertEqual(sorted(ids), list(range(1, 33)))

    def test_generated_stub_types(self):
        self.assertEqual(self.stub.Nested(Outer.Inner(note="deep")).text, "deep")
        self.assertEqual(self.stub.lambda_(Chunk(data=b"kw")).data, b"kw")
        with self.assertRaises(TypeError):
            self.stub.Unary(Summary())
        with self.assertRaises(ValueError):
            self.stub.Unary(Chunk(), timeout=1, context=framerpc.ClientContext())

    def test_request_over_the_limits_is_not_sent(self):
        channel = framerpc.Channel(self.server.address,
                                   limits=framerpc.FrameLimits(max_body_bytes=1024))
        with channel:
            stub = stream_test_frpc.StreamTestStub(channel)
            with self.assertRaises(RpcError) as caught:
                stub.Unary(Chunk(data=b"x" * 2000))
            self.assertEqual(caught.exception.code, StatusCode.RESOURCE_EXHAUSTED)
            self.assertRegex(caught.exception.message,
                             r"^frame body of \d+ bytes exceeds the limit of 1024$")
            self.assertEqual(stub.Unary(Chunk(data=b"small")).bytes, 5)
        self.assertEqual(len(self.server.frames(pb.REQUEST)), 1)


class ConnectionTest(ClientTestBase):
    def test_goaway_fails_only_calls_above_last_call_id(self):
        first, first_id = self.hang()
        second, second_id = self.hang()
        self.assertLess(first_id, second_id)
        self.server.goaway(first_id)
        with self.assertRpcError(StatusCode.UNAVAILABLE,
                                 "server is shutting down; the call was not processed") as caught:
            second.result()
        self.assertIsInstance(caught.error, framerpc.UnsentError)  # it reached no handler
        self.server.hanging[first_id].finish(0, response=Summary(count=7))
        self.assertEqual(first.result().count, 7)
        self.stub.Unary(Chunk(data=b"new"))  # on a new connection
        self.assertEqual(len(self.server.connections), 2)

    def test_connection_error_fails_every_call(self):
        calls = [self.hang()[0] for _ in range(3)]
        self.server.send_all(pb.Envelope(kind=pb.CONNECTION_ERROR, status_code=3,
                                         status_message=b"boom"))
        for call in calls:
            with self.assertRpcError(StatusCode.INVALID_ARGUMENT,
                                     "server closed the connection: boom"):
                call.result()

    def test_connection_error_with_ok_reads_as_unknown(self):
        call, _ = self.hang()
        self.server.send_all(pb.Envelope(kind=pb.CONNECTION_ERROR, status_message=b"odd"))
        with self.assertRpcError(StatusCode.UNKNOWN, "server closed the connection: odd"):
            call.result()

    def test_bad_frame_from_the_server(self):
        call, _ = self.hang()
        self.server.send_all(None, raw=b"XXXX")
        with self.assertRpcError(StatusCode.UNAVAILABLE,
                                 "bad frame from %s: bad magic: not a framerpc stream "
                                 "(first bytes XXXX)" % self.server.address):
            call.result()

    def test_out_of_range_status_reads_as_unknown(self):
        call, call_id = self.hang()
        self.server.hanging[call_id].finish(99, "strange")
        with self.assertRpcError(StatusCode.UNKNOWN, "strange"):
            call.result()

    def test_connection_lost_then_reconnect(self):
        call, _ = self.hang()
        self.server.drop_connections()
        with self.assertRpcError(StatusCode.UNAVAILABLE,
                                 "connection to %s lost: end of stream" % self.server.address):
            call.result()
        self.assertEqual(self.stub.Unary(Chunk(data=b"again")).bytes, 5)
        self.assertEqual(len(self.server.connections), 2)

    def test_connect_refused(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        address = "127.0.0.1:%d" % probe.getsockname()[1]
        probe.close()  # nothing listens there now
        with framerpc.Channel(address) as channel:
            with self.assertRaises(RpcError) as caught:
                channel.unary_call(UNARY, Chunk(), Summary)
        self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)
        self.assertTrue(caught.exception.message.startswith("connect to %s failed: " % address),
                        caught.exception.message)

    def test_close_fails_calls_in_flight(self):
        call, _ = self.hang()
        self.channel.close()
        with self.assertRpcError(StatusCode.CANCELLED, "channel closed"):
            call.result()
        with self.assertRpcError(StatusCode.CANCELLED, "channel closed"):
            self.stub.Unary(Chunk())

    def test_bad_targets(self):
        for target in ("nocolon", "[::1", "[::1]", "1.2.3.4:99999", "1.2.3.4:x", "unix:",
                       "unix:@", "unix:@" + "n" * 108, "unix:/a\0b", "udp:1.2.3.4:5", "::1:80"):
            with self.subTest(target), self.assertRaises(ValueError):
                framerpc.Channel(target)


class PingTest(ClientTestBase):
    """§9.1: the client answers a server's PING at once with PING+ACK and the same ping_data, also
    on a connection with no call open (servers probe quiet connections); an ACK is not answered."""

    def acks(self):
        return self.server.frames(pb.PING)

    def test_a_ping_on_an_idle_connection_is_answered(self):
        self.stub.Unary(Chunk(data=b"x"))  # the connection is open, and idle
        self.server.send_all(pb.Envelope(kind=pb.PING, ping_data=0xFEDCBA9876543210))
        self.server.wait_for(self.acks)
        (ack,) = self.acks()
        self.assertEqual((ack.flags, ack.ping_data, ack.call_id), (pb.ACK, 0xFEDCBA9876543210, 0))

    def test_a_ping_during_a_call_is_answered(self):
        call, call_id = self.hang()
        self.server.send_all(pb.Envelope(kind=pb.PING, ping_data=7))
        self.server.wait_for(self.acks)
        self.assertEqual([(a.flags, a.ping_data) for a in self.acks()], [(pb.ACK, 7)])
        self.server.hanging[call_id].finish(0, response=Summary(count=1))
        self.assertEqual(call.result().count, 1)

    def test_an_ack_is_not_answered(self):
        self.stub.Unary(Chunk(data=b"x"))
        # In one write, so that the client reads both at once and answers them in one batch: an
        # answer to the ACK would arrive with the answer to the PING.
        self.server.send_all(None, raw=encode_frame(pb.Envelope(kind=pb.PING, flags=pb.ACK,
                                                                ping_data=5))
                             + encode_frame(pb.Envelope(kind=pb.PING, ping_data=6)))
        self.server.wait_for(self.acks)
        self.assertEqual([(a.flags, a.ping_data) for a in self.acks()], [(pb.ACK, 6)])
        self.assertEqual(self.stub.Unary(Chunk(data=b"yz")).bytes, 2)  # still in step


class ErrorInstanceTest(ClientTestBase):
    """Every raise is a fresh RpcError. One instance raised again and again (as a module-level
    constant, or one error shared by every call of a lost connection) chains each raise's
    traceback onto the previous ones, keeping their frames alive, and is shared between threads."""

    def caught(self, fn):
        try:
            fn()
        except RpcError as error:
            return error
        self.fail("no RpcError raised")

    def assertDistinctShortTracebacks(self, first, second):
        self.assertIsNot(first, second)
        self.assertEqual((first.code, first.message), (second.code, second.message))
        first_tb = traceback.extract_tb(first.__traceback__)
        second_tb = traceback.extract_tb(second.__traceback__)
        self.assertEqual(len(first_tb), len(second_tb), "".join(traceback.format_list(second_tb)))
        self.assertLess(len(second_tb), 10)

    def test_deadline_exceeded_twice(self):
        first, second = [self.caught(lambda: self.stub.Unary(Chunk(data=b"hang"), timeout=0.05))
                         for _ in range(2)]
        self.assertEqual(first.code, StatusCode.DEADLINE_EXCEEDED)
        self.assertDistinctShortTracebacks(first, second)

    def test_cancelled_twice(self):
        errors = []
        for _ in range(2):
            context = framerpc.ClientContext()
            call, _ = self.hang(context=context)
            context.cancel()
            errors.append(self.caught(call.result))
        self.assertEqual(errors[0].code, StatusCode.CANCELLED)
        self.assertDistinctShortTracebacks(*errors)

    def test_one_lost_connection_raised_in_two_calls(self):
        calls = [self.hang()[0] for _ in range(2)]
        self.server.drop_connections()
        first, second = [self.caught(call.result) for call in calls]
        self.assertEqual(first.code, StatusCode.UNAVAILABLE)
        self.assertDistinctShortTracebacks(first, second)

    def test_a_failed_stream_raises_afresh(self):
        stream = self.stub.Watch(WatchRequest(count=0, size=10), timeout=0.05)  # endless
        first = self.caught(stream.finish)
        second = self.caught(stream.finish)
        self.assertEqual(first.code, StatusCode.DEADLINE_EXCEEDED)
        self.assertDistinctShortTracebacks(first, second)


class ReadRoleTest(ClientTestBase):
    """Callers read the socket themselves while they wait, one at a time, and the background
    thread reads when nobody waits (channel.py, _Connection). Whoever reads, every call must end
    as it would with a dedicated reader."""

    def test_a_waiter_holding_the_read_role_serves_the_others(self):
        # No deadline and no context: if this one reads, it does with a plain blocking recv().
        blocked, blocked_id = self.hang()
        calls = [Background(self.stub.Unary, Chunk(data=b"x" * i)) for i in range(16)]
        for i, call in enumerate(calls):
            self.assertEqual(call.result().bytes, i)
        with self.assertRpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"):
            self.stub.Unary(Chunk(data=b"hang"), timeout=0.2)
        context = framerpc.ClientContext()
        cancelled, _ = self.hang(context=context)
        context.cancel()
        with self.assertRpcError(StatusCode.CANCELLED, "cancelled by the client"):
            cancelled.result()
        self.server.hanging[blocked_id].finish(0, response=Summary(count=3))
        self.assertEqual(blocked.result().count, 3)
        self.assertEqual(len(self.server.connections), 1)

    def test_cancel_and_deadline_end_a_reading_waiter(self):
        for _ in range(5):
            context = framerpc.ClientContext(timeout=30)
            call, call_id = self.hang(context=context)
            context.cancel()
            with self.assertRpcError(StatusCode.CANCELLED, "cancelled by the client"):
                call.result()
            self.server.wait_for(lambda: self.server.frames(pb.CANCEL, call_id))
            with self.assertRpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"):
                self.stub.Unary(Chunk(data=b"hang"), timeout=0.05)

    def test_goaway_and_the_end_are_read_when_nobody_waits(self):
        self.stub.Unary(Chunk(data=b"a"))
        conn = self.channel._current
        self.server.goaway(1)
        with conn.cond:
            self.assertTrue(conn.cond.wait_for(lambda: conn.core.goaway, 30))
        self.assertEqual(self.stub.Unary(Chunk(data=b"b")).bytes, 1)
        self.assertEqual(len(self.server.connections), 2)
        conn = self.channel._current
        self.server.drop_connections()
        conn.reader.join(30)
        self.assertFalse(conn.reader.is_alive())
        self.assertTrue(conn.core.closed)
        self.assertIsNot(self.channel._current, conn)
        self.assertEqual(self.stub.Unary(Chunk(data=b"c")).bytes, 1)

    def test_a_stream_nobody_reads_does_not_hold_up_other_calls(self):
        stream = self.stub.Watch(WatchRequest(count=0, size=1000), window=16 << 10)
        for i in range(50):
            self.assertEqual(self.stub.Unary(Chunk(data=b"u" * i)).bytes, i)
        self.assertEqual(stream.read().index, 0)
        stream.cancel()
        with self.assertRpcError(StatusCode.CANCELLED, "cancelled by the client"):
            stream.finish()
        self.assertEqual(self.server.violations, [])

    def test_mixed_load_on_one_connection(self):
        def unary(n):
            for i in range(40):
                data = b"%d-%d" % (n, i)
                if i % 3 == 0:
                    reply = self.stub.Unary(Chunk(data=data))
                elif i % 3 == 1:
                    reply = self.stub.Unary(Chunk(data=data), timeout=30)
                else:
                    context = framerpc.ClientContext(attachment=data)
                    reply = self.stub.Unary(Chunk(data=data), context=context)
                    assert context.response_attachment == data
                assert reply.bytes == len(data), (reply, data)
            return n

        def watch():
            stream = self.stub.Watch(WatchRequest(count=300, size=500), window=4096)
            return [chunk.index for chunk in stream]

        def chat():
            stream = self.stub.Chat(timeout=30)
            replies = []
            for i in range(40):
                stream.write(Chunk(data=b"m%d" % i, index=i))
                replies.append(stream.read().data)
            stream.done_writing()
            stream.finish()
            return replies

        def upload():
            stream = self.stub.Upload()
            for i in range(25):
                stream.write(Chunk(data=b"p" * 100000, index=i))
            return stream.finish()

        jobs = [Background(unary, n) for n in range(6)]
        jobs += [Background(watch), Background(chat), Background(upload)]
        self.assertEqual([job.result() for job in jobs[:6]], list(range(6)))
        self.assertEqual(jobs[6].result(), list(range(300)))
        self.assertEqual(jobs[7].result(), [b"M%d" % i for i in range(40)])
        self.assertEqual(jobs[8].result(), Summary(count=25, bytes=2500000))
        self.assertEqual(len(self.server.connections), 1)
        self.assertEqual(self.server.violations, [])


class StreamingTest(ClientTestBase):
    def server_call(self, call_id):
        for conn in self.server.connections:
            if call_id in conn.calls:
                return conn.calls[call_id]
        raise AssertionError("no open call %d on the server" % call_id)

    def test_server_streaming(self):
        stream = self.stub.Watch(WatchRequest(count=5, size=3), attachment=b"tag")
        items = []
        while True:
            item = stream.read_with_attachment()
            if item is None:
                break
            items.append(item)
        self.assertEqual([(c.index, c.data, a) for c, a in items],
                         [(i, bytes([i]) * 3, b"tag") for i in range(5)])
        self.assertIsNone(stream.finish())
        # REQUEST (no payload, no window_update for the default window), the message, half-close.
        (request,) = self.server.frames(pb.REQUEST)
        self.assertEqual(request.window_update, 0)
        messages = self.server.frames(pb.STREAM_MESSAGE, stream.call_id)
        self.assertEqual([m.flags for m in messages], [0, pb.END_OF_STREAM])

    def test_server_streaming_iteration(self):
        chunks = list(self.stub.Watch(WatchRequest(count=3, size=1)))
        self.assertEqual([c.index for c in chunks], [0, 1, 2])

    def test_receive_window_stops_the_server_and_reading_returns_credit(self):
        window = 256 << 10
        stream = self.stub.Watch(WatchRequest(count=0, size=60000), window=window)
        self.server.wait_for(
            lambda: any(stream.call_id in c.calls for c in self.server.connections))
        server_call = self.server_call(stream.call_id)
        self.assertEqual(self.server.frames(pb.REQUEST)[0].window_update, window)
        # The server writes until it has no credit left, then blocks.
        self.server.wait_for(lambda: server_call.send_credit <= 0)
        client_call = stream._call
        with self.channel._current.cond:
            self.channel._current.cond.wait_for(
                lambda: client_call.recv_credit == server_call.send_credit)
            buffered = sum(item[2] for item in client_call.inbox)
        self.assertEqual(buffered, window - server_call.send_credit)
        self.assertLess(buffered, window + 60100)
        self.assertEqual(self.server.frames(pb.WINDOW_UPDATE), [])
        # Reading half the window returns it in one WINDOW_UPDATE, and the server goes on.
        with self.channel._current.cond:
            cost = client_call.inbox[0][2]
        for _ in range(-(-(window // 2) // cost)):
            self.assertIsNotNone(stream.read())
        self.server.wait_for(lambda: self.server.frames(pb.WINDOW_UPDATE, stream.call_id))
        update = self.server.frames(pb.WINDOW_UPDATE, stream.call_id)[0].window_update
        self.assertGreaterEqual(update, window // 2)
        stream.cancel()
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, stream.call_id))
        with self.assertRpcError(StatusCode.CANCELLED, "cancelled by the client"):
            list(stream)
        self.assertEqual(self.server.violations, [])

    def test_client_streaming(self):
        stream = self.stub.Upload()
        for i in range(10):
            self.assertTrue(stream.write(Chunk(data=b"d" * i, index=i), attachment=b"ab"))
        summary = stream.finish()
        self.assertEqual(summary, Summary(count=10, bytes=sum(range(10)) + 20))
        self.assertFalse(stream.write(Chunk()))  # after the half-close
        messages = self.server.frames(pb.STREAM_MESSAGE, stream.call_id)
        self.assertEqual(len(messages), 11)
        self.assertEqual(messages[-1].flags, pb.END_OF_STREAM)

    def test_send_window_blocks_the_writer_until_credit_returns(self):
        self.server.upload_gate.clear()  # the handler reads nothing yet
        stream = self.stub.Upload()
        chunk = Chunk(data=b"u" * 100000)
        total = 30
        writer = Background(lambda: [stream.write(chunk) for _ in range(total)])
        cost = len(framerpc.encode_frame(pb.Envelope(kind=pb.STREAM_MESSAGE,
                                                     call_id=stream.call_id), chunk)) - 16
        fits = -(-framerpc.INITIAL_WINDOW // cost)  # sent while credit is above zero
        self.server.wait_for(
            lambda: len(self.server.frames(pb.STREAM_MESSAGE, stream.call_id)) >= fits)
        self.assertLessEqual(stream._call.send_credit, 0)
        self.server.upload_gate.set()
        self.assertEqual(writer.result(), [True] * total)
        self.assertEqual(stream.finish(), Summary(count=total, bytes=total * 100000))
        # Nothing beyond the window was sent before the first WINDOW_UPDATE.
        frames = [env for _, env in self.server.received if env.call_id == stream.call_id]
        self.assertEqual(self.server.violations, [])
        self.assertGreaterEqual(len(frames), fits)

    def test_bidi(self):
        stream = self.stub.Chat()
        self.assertTrue(stream.write(Chunk(data=b"a", index=1)))
        self.assertEqual(stream.read(), Chunk(data=b"A", index=1))
        self.assertTrue(stream.write(Chunk(data=b"b", index=2), attachment=b"att"))
        self.assertEqual(stream.read_with_attachment(), (Chunk(data=b"B", index=2), b"att"))
        self.assertTrue(stream.done_writing())
        self.assertIsNone(stream.read())
        self.assertIsNone(stream.finish())

    def test_bidi_server_ends_first(self):
        stream = self.stub.Chat()
        stream.write(Chunk(data=b"end"))
        self.assertIsNone(stream.read())
        self.assertIsNone(stream.finish())
        self.assertFalse(stream.write(Chunk(data=b"late")))

    def test_bidi_error_status(self):
        stream = self.stub.Chat()
        stream.write(Chunk(data=b"x"))
        stream.write(Chunk(data=b"abort"))
        with self.assertRpcError(StatusCode.ABORTED, "aborted by the handler"):
            list(stream)
        with self.assertRpcError(StatusCode.ABORTED, "aborted by the handler"):
            stream.finish()

    def test_bad_window_update_cancels_the_call(self):
        stream = self.stub.Chat()
        stream.write(Chunk(data=b"bad-window"))
        with self.assertRpcError(StatusCode.INTERNAL, "bad WINDOW_UPDATE from the server"):
            stream.finish()
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, stream.call_id))

    def test_server_beyond_the_window_cancels_the_call(self):
        stream = self.stub.Watch(WatchRequest(count=50, size=30000, ignore_flow_control=True),
                                 window=65536)
        with self.assertRpcError(StatusCode.INTERNAL,
                                 "flow control window exceeded by the server"):
            stream.finish()
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, stream.call_id))

    def test_deadline_ends_a_flowing_stream(self):
        stream = self.stub.Watch(WatchRequest(count=0, size=10), timeout=0.3)
        with self.assertRpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"):
            for _ in stream:
                pass
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, stream.call_id))

    def test_leaving_with_cancels(self):
        with self.stub.Watch(WatchRequest(count=0, size=10)) as stream:
            self.assertEqual(stream.read().index, 0)
        self.server.wait_for(lambda: self.server.frames(pb.CANCEL, stream.call_id))
        self.assertEqual(stream.error, RpcError(StatusCode.CANCELLED, "cancelled by the client"))

    def test_message_over_the_limits_is_refused(self):
        channel = framerpc.Channel(self.server.address,
                                   limits=framerpc.FrameLimits(max_body_bytes=1024))
        with channel:
            stream = stream_test_frpc.StreamTestStub(channel).Upload()
            with self.assertRaises(RpcError) as caught:
                stream.write(Chunk(data=b"x" * 2000))
            self.assertEqual(caught.exception.code, StatusCode.RESOURCE_EXHAUSTED)
            self.assertTrue(stream.write(Chunk(data=b"fits")))
            self.assertEqual(stream.finish(), Summary(count=1, bytes=4))

    def test_wrong_kind_use(self):
        with self.assertRaises(TypeError):
            self.stub.Watch(WatchRequest(count=1)).write(WatchRequest())
        with self.assertRaises(TypeError):
            self.stub.Upload().write(Summary())
        with self.assertRaises(ValueError):
            self.channel.stream_call("/x.Y/Z", framerpc.MethodKind.UNARY, Chunk)


if __name__ == "__main__":
    unittest.main()
