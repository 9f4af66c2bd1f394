"""A small framerpc server in Python, following docs/protocol.md §7-§11, that serves the
StreamTest service of stream_test.proto for the client's tests.

It records every frame it receives and exposes hooks (GOAWAY, CONNECTION_ERROR, raw bytes, hanging
calls, a gate that stops Upload handlers from reading) so that tests can drive and observe the
protocol without sleeping: everything observable is guarded by one Condition that tests wait on.
It enforces flow control like the real server: a STREAM_MESSAGE beyond the credit it granted ends
the call with RESOURCE_EXHAUSTED "flow control window exceeded" and is counted in `violations`.
"""
import collections
import socket
import threading

from framerpc import envelope_pb2 as pb
from framerpc import MethodKind
from framerpc.codec import FrameDecoder, encode_frame
from framerpc.status import FrameError

import stream_test_frpc
import stream_test_pb2

WINDOW = 1 << 20
METHODS = {m.path: m for m in stream_test_frpc.StreamTestStub.METHODS}


class ServerCall:
    def __init__(self, conn, envelope, method):
        self.conn = conn
        self.server = conn.server
        self.id = envelope.call_id
        self.method = method
        self.kind = method.kind if method else MethodKind.UNARY
        self.metadata = [(e.key, e.value) for e in envelope.metadata]
        self.timeout_us = envelope.timeout_us
        self.send_credit = envelope.window_update or WINDOW  # server -> client
        self.recv_credit = WINDOW  # client -> server
        self.returnable = 0
        self.inbox = collections.deque()
        self.half_closed = False
        self.cancelled = False
        self.ended = False

    # Called by handlers, with no lock held.

    def read(self):
        """The next client message (message, attachment), or None after the half-close or the
        end of the call. Returns credit in batches of at least half the window."""
        server = self.server
        with server.cond:
            server.cond.wait_for(lambda: self.inbox or self.half_closed or self.ended)
            if not self.inbox:
                return None
            message, attachment, cost = self.inbox.popleft()
            self.returnable += cost
            update = None
            if self.returnable >= WINDOW // 2:
                update, self.returnable = self.returnable, 0
                self.recv_credit += update
        if update:
            self.conn.send(pb.Envelope(kind=pb.WINDOW_UPDATE, call_id=self.id,
                                       window_update=update))
        return message, attachment

    def write(self, message, attachment=b"", ignore_flow_control=False):
        """Sends a STREAM_MESSAGE, blocking while the client has granted no credit. False once
        the call has ended."""
        frame = encode_frame(pb.Envelope(kind=pb.STREAM_MESSAGE, call_id=self.id), message,
                             attachment)
        server = self.server
        with server.cond:
            if not ignore_flow_control:
                server.cond.wait_for(lambda: self.send_credit > 0 or self.ended)
            if self.ended:
                return False
            self.send_credit -= len(frame) - 16
            server.cond.notify_all()
        self.conn.send_bytes(frame)
        return True

    def finish(self, code=0, message="", response=None, attachment=b""):
        with self.server.cond:
            if self.ended:
                return
            self.ended = True
            self.conn.calls.pop(self.id, None)
            self.server.cond.notify_all()
        envelope = pb.Envelope(kind=pb.RESPONSE, call_id=self.id, status_code=code,
                               status_message=message.encode())
        self.conn.send(envelope, response if code == 0 and response is not None else b"",
                       attachment if code == 0 else b"")


class FakeConnection:
    def __init__(self, server, sock, index):
        self.server = server
        self.sock = sock
        self.index = index
        self.calls = {}
        self.write_lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._read_loop, daemon=True)
        self.thread.start()

    def send_bytes(self, data):
        with self.write_lock:
            try:
                self.sock.sendall(data)
            except OSError:
                pass

    def send(self, envelope, message=b"", attachment=b""):
        self.send_bytes(encode_frame(envelope, message, attachment))

    def _read_loop(self):
        decoder = FrameDecoder()
        server = self.server
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                decoder.feed(data)
                for frame in decoder:
                    self._on_frame(frame)
        except (OSError, FrameError):
            pass
        with server.cond:
            self.closed = True
            for call in self.calls.values():
                call.ended = call.cancelled = True
            self.calls.clear()
            server.cond.notify_all()

    def _on_frame(self, frame):
        server = self.server
        env = frame.envelope
        with server.cond:
            server.received.append((self.index, env))
            server.cond.notify_all()
            call = self.calls.get(env.call_id)
            start = None
            if env.kind == pb.REQUEST:
                method = METHODS.get(env.method.decode())
                call = ServerCall(self, env, method)
                self.calls[call.id] = call
                start = call
            elif env.kind == pb.STREAM_MESSAGE and call is not None:
                if env.flags & pb.END_OF_STREAM:
                    call.half_closed = True
                elif call.recv_credit <= 0:
                    server.violations.append(call.id)
                    call.ended = True
                    self.calls.pop(call.id, None)
                    start = ("violation", call)
                else:
                    call.recv_credit -= frame.body_size
                    message = call.method.request_class.FromString(frame.message_bytes)
                    call.inbox.append((message, frame.attachment, frame.body_size))
            elif env.kind == pb.WINDOW_UPDATE and call is not None:
                call.send_credit += env.window_update
            elif env.kind == pb.CANCEL and call is not None:
                call.cancelled = call.ended = True
                self.calls.pop(call.id, None)
            server.cond.notify_all()
        if isinstance(start, tuple):
            self.send(pb.Envelope(kind=pb.RESPONSE, call_id=start[1].id, status_code=8,
                                  status_message=b"flow control window exceeded"))
        elif start is not None:
            if start.method is None:
                start.finish(12, "unknown method '%s'" % env.method.decode())
                return
            payload = frame.message_bytes, frame.attachment
            threading.Thread(target=server.run_handler, args=(start, payload),
                             daemon=True).start()


class FakeServer:
    """Serves StreamTest on 127.0.0.1:<free port>."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.cond = threading.Condition()
        self.connections = []
        self.received = []  # (connection index, Envelope) of every frame received
        self.violations = []  # ids of calls that broke flow control
        self.hanging = {}  # call id -> ServerCall of unary "hang" calls
        self.upload_gate = threading.Event()
        self.upload_gate.set()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.upload_gate.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for conn in list(self.connections):
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.thread.join()
            conn.sock.close()

    def _accept_loop(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.cond:
                conn = FakeConnection(self, sock, len(self.connections))
                self.connections.append(conn)
                self.cond.notify_all()

    # -- for tests -------------------------------------------------------------------------------

    def wait_for(self, predicate, timeout=30):
        with self.cond:
            if not self.cond.wait_for(predicate, timeout):
                raise AssertionError("fake server: condition not reached in %ss" % timeout)

    def frames(self, kind, call_id=None):
        with self.cond:
            return [env for _, env in self.received
                    if env.kind == kind and (call_id is None or env.call_id == call_id)]

    def send_all(self, envelope, raw=None):
        for conn in list(self.connections):
            if raw is not None:
                conn.send_bytes(raw)
            else:
                conn.send(envelope)

    def goaway(self, last_call_id):
        self.send_all(pb.Envelope(kind=pb.GOAWAY, last_call_id=last_call_id))

    def drop_connections(self):
        for conn in list(self.connections):
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- StreamTest handlers ---------------------------------------------------------------------

    def run_handler(self, call, payload):
        getattr(self, "_" + call.method.name.lower())(call, payload)

    def _unary(self, call, payload):
        chunk = stream_test_pb2.Chunk.FromString(payload[0])
        if chunk.data == b"fail":
            call.finish(5, "no such chunk")
        elif chunk.data == b"hang":
            with self.cond:
                self.hanging[call.id] = call
                self.cond.notify_all()
        elif chunk.data == b"garbage-reply":
            call.finish(0, response=b"\xff\xff\xff")
        else:
            call.finish(0, response=stream_test_pb2.Summary(count=1, bytes=len(chunk.data)),
                        attachment=payload[1])

    def _watch(self, call, payload):
        if payload[0] or payload[1]:
            call.finish(3, "a streaming REQUEST carries no message")
            return
        item = call.read()
        if item is None:
            call.finish(3, "missing request message")
            return
        request, attachment = item
        i = 0
        while request.count == 0 or i < request.count:
            chunk = stream_test_pb2.Chunk(data=bytes([i % 251]) * request.size, index=i)
            if not call.write(chunk, attachment, request.ignore_flow_control):
                return
            i += 1
        call.finish(0)

    def _upload(self, call, payload):
        count = size = 0
        while True:
            self.upload_gate.wait()
            item = call.read()
            if item is None:
                break
            count += 1
            size += len(item[0].data) + len(item[1])
        if not call.cancelled:
            call.finish(0, response=stream_test_pb2.Summary(count=count, bytes=size))

    def _chat(self, call, payload):
        while True:
            item = call.read()
            if item is None:
                break
            chunk, attachment = item
            if chunk.data == b"bad-window":
                call.conn.send(pb.Envelope(kind=pb.WINDOW_UPDATE, call_id=call.id,
                                           window_update=0))
                continue
            if chunk.data == b"end":
                call.finish(0)
                return
            if chunk.data == b"abort":
                call.finish(10, "aborted by the handler")
                return
            reply = stream_test_pb2.Chunk(data=chunk.data.upper(), index=chunk.index)
            call.write(reply, attachment)
        if not call.cancelled:
            call.finish(0)

    def _nested(self, call, payload):
        from proto import echo_pb2
        note = stream_test_pb2.Outer.Inner.FromString(payload[0]).note
        call.finish(0, response=echo_pb2.SayReply(text=note))

    def _lambda(self, call, payload):
        call.finish(0, response=payload[0])
