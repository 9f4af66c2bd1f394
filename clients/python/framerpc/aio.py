"""The asyncio framerpc client: the same protocol and semantics as framerpc.Channel.

    async with framerpc.aio.Channel("127.0.0.1:7000") as channel:
        reply = await EchoServiceAsyncStub(channel).Say(SayRequest(text="hi"), timeout=1.0)

All methods must be called from the event loop the channel first ran on. ClientContext.cancel()
may be called from any thread. Cancelling the task awaiting a call cancels the call (CANCEL is
sent) and re-raises CancelledError.
"""
from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import AsyncIterator, Generic, Optional, Set, Tuple, Type

from google.protobuf.message import Message

from ._core import (Call, ConnectionCore, INITIAL_WINDOW, MethodKind, check_window, frame_cost)
from .address import parse_address
from .channel import ClientContext, make_context  # noqa: F401  (ClientContext is shared)
from ._types import BytesLike, Metadata, ResponseT
from .codec import DEFAULT_LIMITS, FrameLimits
from .status import RpcError, StatusCode, fresh
from .tls import TlsOptions, check_alpn, describe, handshake_error

_READ_CHUNK = 256 * 1024
_CANCELLED_BY_CLIENT = RpcError(StatusCode.CANCELLED, "cancelled by the client")
_DEADLINE_EXCEEDED = RpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")


class _Connection:
    def __init__(self, channel, reader, writer, target, limits):
        self.channel = channel
        self.loop = asyncio.get_running_loop()
        self.reader = reader
        self.writer = writer
        self.core = ConnectionCore(target, limits)
        self.drain_lock = asyncio.Lock()
        self.task = self.loop.create_task(self._read_loop())

    async def _read_loop(self):
        reason = "end of stream"
        try:
            while True:
                data = await self.reader.read(_READ_CHUNK)
                if not data:
                    break
                out = self.core.receive(data)
                self._wake()
                for frame in out:
                    self.send(frame)
                if self.core.closed:
                    break
        except ssl.SSLError as error:  # an alert from the server: "TLS read: <cause>"
            reason = "TLS read: %s" % describe(error)
        except OSError as error:
            reason = error.strerror or str(error)
        finally:
            if not self.core.closed:
                self.core.connection_lost(reason)
            self._wake()
            self.writer.close()
            self.channel._forget(self)

    def _wake(self):
        for call in self.core.changed:
            call.waker.set()
        self.core.changed.clear()

    def send(self, data):
        if not self.core.closed and not self.writer.is_closing():
            self.writer.write(data)

    async def drain(self):
        try:
            async with self.drain_lock:
                await self.writer.drain()
        except OSError:
            pass  # the reader reports the loss

    def abort(self, call, error):
        cancel = self.core.abort(call, error)
        self._wake()
        if cancel is not None:
            self.send(cancel)

    def abort_threadsafe(self, call, error):
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.abort(call, error)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.abort, call, error)

    async def wait(self, call, predicate):
        """Waits until predicate() or the call's deadline. False once the deadline has passed on
        a call still running, even if predicate() holds."""
        if call.deadline is not None and not call.done and time.monotonic() >= call.deadline:
            return False
        while not predicate():
            call.waker.clear()
            if call.deadline is None:
                await call.waker.wait()
                continue
            remaining = call.deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(call.waker.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return True

    def close(self, error):
        self.core.fail_all(error)
        self._wake()
        self.writer.close()


class Channel:
    """An asyncio framerpc channel to `target` ("host:port", "[v6]:port" or "unix:/path")."""

    def __init__(self, target: str, *, limits: Optional[FrameLimits] = None,
                 connect_timeout: float = 5.0, initial_window: int = INITIAL_WINDOW,
                 tls: Optional[TlsOptions] = None) -> None:
        self._address = parse_address(target)
        self.target = target
        self.limits = limits or DEFAULT_LIMITS
        self.connect_timeout = connect_timeout
        self.initial_window = check_window(initial_window)
        self.tls = tls
        self._server_name = None if tls is None else tls.name_for(self._address)
        self._next_id = 1
        self._current = None
        self._connections: Set[_Connection] = set()
        self._connect_lock = None
        self._closed = False

    async def __aenter__(self) -> Channel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Fails the calls in flight with CANCELLED "channel closed" and closes the connections."""
        self._closed = True
        self._current = None
        connections = list(self._connections)
        for conn in connections:
            conn.close(RpcError(StatusCode.CANCELLED, "channel closed"))
        for conn in connections:
            await conn.task
            try:
                await conn.writer.wait_closed()
            except OSError:
                pass

    def _forget(self, conn):
        self._connections.discard(conn)
        if self._current is conn:
            self._current = None

    async def _connection(self, deadline):
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._closed:
                raise RpcError(StatusCode.CANCELLED, "channel closed")
            conn = self._current
            if conn is not None and conn.core.usable:
                return conn
            self._current = None
            limit = self.connect_timeout
            deadline_first = False
            if deadline is not None and deadline - time.monotonic() < limit:
                limit = max(0.0, deadline - time.monotonic())
                deadline_first = True
            try:
                reader, writer = await asyncio.wait_for(self._open(limit), limit)
            except asyncio.TimeoutError:
                if deadline_first:
                    raise fresh(_DEADLINE_EXCEEDED) from None
                raise RpcError(StatusCode.UNAVAILABLE,
                               "connect to %s timed out" % self.target) from None
            except ssl.SSLError as error:
                raise handshake_error(self.target, error) from None
            except OSError as error:
                raise RpcError(StatusCode.UNAVAILABLE, "connect to %s failed: %s"
                               % (self.target, error.strerror or error)) from None
            conn = _Connection(self, reader, writer, self.target, self.limits)
            self._current = conn
            self._connections.add(conn)
            return conn

    async def _open(self, limit):
        """Connects (and, under TLS, runs the handshake, within `limit` seconds as well)."""
        address = self._address
        tls = {}
        if self.tls is not None:
            tls = dict(ssl=self.tls.context, server_hostname=self._server_name or "",
                       ssl_handshake_timeout=max(limit, 0.001))
        if address.family == socket.AF_UNIX:
            reader, writer = await asyncio.open_unix_connection(address.path, **tls)
        else:
            reader, writer = await asyncio.open_connection(address.host, address.port, **tls)
        if self.tls is not None:
            try:
                check_alpn(self.target, writer.get_extra_info("ssl_object").selected_alpn_protocol())
            except RpcError:
                writer.close()
                raise
        return reader, writer

    async def _start(self, method, kind, response_class, context, message=None, attachment=b"",
                     half_close=False, window=None):
        if not context._begin():
            raise RpcError(StatusCode.CANCELLED, "cancelled before start")
        now = time.monotonic()
        deadline = None if context.timeout is None else now + context.timeout
        if deadline is not None and deadline <= now:
            raise RpcError(StatusCode.DEADLINE_EXCEEDED,
                           "deadline exceeded before the call started")
        call_id = self._next_id
        self._next_id += 1
        call = Call(call_id, method, kind, response_class, deadline,
                    window or self.initial_window)
        call.waker = asyncio.Event()
        conn = await self._connection(deadline)
        core = conn.core
        if kind is MethodKind.UNARY:
            frames = core.request_frame(call, message, attachment, context.metadata,
                                        time.monotonic())
        else:
            frames = core.request_frame(call, b"", b"", context.metadata, time.monotonic())
            if message is not None:
                first = core.stream_message_frame(call, message, attachment)
                call.send_credit -= frame_cost(first)
                frames += first
            if half_close:
                frames += core.half_close_frame(call)
        if core.closed:
            # Lost before the call was registered (a TLS alert read first, say): its reason.
            if core.close_error is not None:
                raise fresh(core.close_error)
            raise RpcError(StatusCode.UNAVAILABLE, "connection to %s lost" % self.target)
        core.register(call)
        if not context._attach(lambda: conn.abort_threadsafe(call, _CANCELLED_BY_CLIENT)):
            conn.abort(call, _CANCELLED_BY_CLIENT)
            raise fresh(call.error)
        call.request_started = True
        conn.send(frames)
        context.call_id = call.id
        context._sent.set()
        return conn, call

    async def unary_call(self, method: str, request: Message, response_class: Type[ResponseT], *,
                         timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                         attachment: BytesLike = b"",
                         context: Optional[ClientContext] = None) -> ResponseT:
        """Calls unary `method` and returns the response message. Raises RpcError."""
        context = make_context(context, timeout, metadata, attachment)
        conn, call = await self._start(method, MethodKind.UNARY, response_class, context,
                                       message=request, attachment=context.attachment)
        try:
            await conn.drain()
            if not await conn.wait(call, lambda: call.done):
                conn.abort(call, _DEADLINE_EXCEEDED)
        except BaseException:  # CancelledError: the task was cancelled
            conn.abort(call, _CANCELLED_BY_CLIENT)
            raise
        if call.error is not None:
            raise fresh(call.error)
        context.response_attachment = call.response_attachment
        return call.response

    async def stream_call(self, method: str, kind: MethodKind, response_class: Type[ResponseT], *,
                          request: Optional[Message] = None,
                          request_class: Optional[Type[Message]] = None,
                          timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                          attachment: BytesLike = b"", context: Optional[ClientContext] = None,
                          window: Optional[int] = None) -> ClientStream[ResponseT]:
        """Starts a streaming call and returns its ClientStream (see framerpc.Channel)."""
        if kind is MethodKind.UNARY:
            raise ValueError("stream_call is for streaming methods; use unary_call")
        if window is not None:
            check_window(window)
        context = make_context(context, timeout, metadata,
                               attachment if kind is MethodKind.SERVER_STREAMING else b"")
        if kind is MethodKind.SERVER_STREAMING:
            if request is None:
                raise ValueError("a server-streaming call needs its request message")
            conn, call = await self._start(method, kind, response_class, context,
                                           message=request, attachment=context.attachment,
                                           half_close=True, window=window)
        else:
            if context.attachment:
                raise ValueError("a client-streaming or bidirectional REQUEST carries no "
                                 "attachment: pass attachments to write()")
            conn, call = await self._start(method, kind, response_class, context, window=window)
        await conn.drain()
        return ClientStream(conn, call, context, request_class)


class ClientStream(Generic[ResponseT]):
    """A streaming call on an asyncio channel: the methods of framerpc.ClientStream as coroutines
    (write, done_writing, read, read_with_attachment, finish), `async for` over the messages, and
    cancel(). Cancelling a task blocked in one of them cancels the call."""

    def __init__(self, conn, call, context, request_class=None):
        self._conn = conn
        self._call = call
        self._context = context
        self._request_class = request_class
        self._writes_done = call.half_closed

    @property
    def call_id(self) -> Optional[int]:
        return self._call.id

    @property
    def done(self) -> bool:
        return self._call.done

    @property
    def error(self) -> Optional[RpcError]:
        return self._call.error

    def cancel(self) -> None:
        self._context.cancel()

    async def __aenter__(self) -> ClientStream[ResponseT]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self._call.done:
            self.cancel()

    async def _guarded(self, coroutine):
        try:
            return await coroutine
        except asyncio.CancelledError:
            self._conn.abort(self._call, _CANCELLED_BY_CLIENT)
            raise

    async def write(self, message: Message, attachment: BytesLike = b"") -> bool:
        call, conn = self._call, self._conn
        if not call.kind.client_sends:
            raise TypeError("a %s call takes no further messages" % call.kind.value)
        if self._request_class is not None and not isinstance(message, self._request_class):
            raise TypeError("expected %s, got %s" % (self._request_class.__name__,
                                                     type(message).__name__))
        if self._writes_done:
            return False
        frame = conn.core.stream_message_frame(call, message, attachment)
        in_time = await self._guarded(conn.wait(call, lambda: call.done or call.send_credit > 0))
        if call.done:
            return False
        if not in_time:
            conn.abort(call, _DEADLINE_EXCEEDED)
            return False
        call.send_credit -= frame_cost(frame)
        conn.send(frame)
        await self._guarded(conn.drain())
        return True

    async def done_writing(self) -> bool:
        call, conn = self._call, self._conn
        if self._writes_done:
            return not call.done
        self._writes_done = True
        if call.done:
            return False
        conn.send(conn.core.half_close_frame(call))
        await self._guarded(conn.drain())
        return True

    async def read_with_attachment(self) -> Optional[Tuple[ResponseT, bytes]]:
        call, conn = self._call, self._conn
        in_time = await self._guarded(conn.wait(call, lambda: call.inbox or call.done))
        if in_time and call.inbox:
            message, attachment, cost = call.inbox.popleft()
            update = conn.core.consumed(call, cost)
            if update is not None:
                conn.send(update)
            return message, attachment
        if not in_time:
            conn.abort(call, _DEADLINE_EXCEEDED)
        return None

    async def read(self) -> Optional[ResponseT]:
        item = await self.read_with_attachment()
        return None if item is None else item[0]

    def __aiter__(self) -> AsyncIterator[ResponseT]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ResponseT]:
        while True:
            item = await self.read_with_attachment()
            if item is None:
                break
            yield item[0]
        if self._call.error is not None:
            raise fresh(self._call.error)

    async def finish(self) -> Optional[ResponseT]:
        call, conn = self._call, self._conn
        if call.kind.client_sends and not self._writes_done:
            await self.done_writing()
        while True:
            in_time = await self._guarded(conn.wait(call, lambda: call.inbox or call.done))
            cost = sum(item[2] for item in call.inbox)
            call.inbox.clear()
            if cost:
                update = conn.core.consumed(call, cost)
                if update is not None:
                    conn.send(update)
            if call.done:
                break
            if not in_time:
                conn.abort(call, _DEADLINE_EXCEEDED)
        if call.error is not None:
            raise fresh(call.error)
        self._context.response_attachment = call.response_attachment
        return call.response
