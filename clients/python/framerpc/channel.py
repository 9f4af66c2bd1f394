"""The blocking framerpc client: Channel, ClientContext and the stream objects.

A Channel multiplexes every call over one connection (docs/protocol.md §7.1): callers write their
own frames under a write lock, and read the socket themselves while they wait (one at a time; see
_Connection), with a background thread reading when nobody waits. The connection is opened by the
first call; after it is lost, or after GOAWAY, the next call opens a new one. Calls are never
retried behind the caller's back.
"""
from __future__ import annotations

import itertools
import os
import select
import socket
import threading
import time
from typing import Generic, Iterator, Optional, Set, Tuple, Type

from google.protobuf.message import Message

from ._core import (Call, ConnectionCore, INITIAL_WINDOW, MethodKind, check_window, frame_cost,
                    normalize_metadata)
from .address import parse_address
from ._types import BytesLike, Metadata, ResponseT
from .codec import DEFAULT_LIMITS, FrameLimits
from .status import RpcError, StatusCode, UnsentError, fresh
from .tls import TlsOptions, TlsSocket

_READ_CHUNK = 256 * 1024
# The background reader takes the read role once no caller has waited for this long; it looks
# again after _IDLE, doubling up to _IDLE_MAX while callers keep waiting.
_IDLE = 0.002
_IDLE_MAX = 0.05
# A call goes out on a connection nobody is reading without first taking in what has arrived
# (probe()) when the read role was given back less than this long ago (as the C++ client's
# sync_probe_bypass).
_PROBE_BYPASS = 0.001
_monotonic = time.monotonic


class ClientContext:
    """Per-call options and control, for one call: the timeout (seconds, relative to the start of
    the call), metadata (a mapping or (key, value) pairs of str or bytes), the request attachment,
    and, after a unary call, `response_attachment`. `call_id` is set once the REQUEST has been
    written. cancel() may be called from any thread."""

    def __init__(self, timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                 attachment: BytesLike = b"") -> None:
        if timeout is not None and not isinstance(timeout, (int, float)):
            raise TypeError("timeout must be a number of seconds or None")
        self.timeout = timeout
        self.metadata = normalize_metadata(metadata)
        self.attachment = bytes(attachment)
        self.response_attachment = b""
        self.call_id = None  # set once the REQUEST has been written to the connection
        self._sent = threading.Event()
        self._lock = threading.Lock()
        self._cancelled = False
        self._used = False
        self._canceller = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Cancels the call: a call in flight sends CANCEL and fails with CANCELLED "cancelled by
        the client"; a call not started yet fails with CANCELLED "cancelled before start"."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            canceller = self._canceller
        if canceller is not None:
            canceller()

    def _begin(self):
        with self._lock:
            if self._used:
                raise ValueError("a ClientContext serves one call; make a new one")
            self._used = True
            return not self._cancelled

    def _attach(self, canceller):
        with self._lock:
            if self._cancelled:
                return False
            self._canceller = canceller
            return True


def make_context(context: Optional[ClientContext], timeout: Optional[float],
                 metadata: Optional[Metadata], attachment: BytesLike) -> ClientContext:
    if context is None:
        return ClientContext(timeout, metadata, attachment)
    if timeout is not None or metadata or attachment:
        raise ValueError("pass timeout, metadata and attachment either in the ClientContext or "
                         "as arguments, not both")
    return context


_CANCELLED_BY_CLIENT = RpcError(StatusCode.CANCELLED, "cancelled by the client")
_DEADLINE_EXCEEDED = RpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")


class _Connection:
    """One socket and its ConnectionCore; `cond` (`lock`) guards the core, the calls and the read
    role.

    Reading is caller-driven: a thread that waits for its call (wait()) and finds nobody reading
    takes the read role and reads the socket itself, feeds the core and wakes the other waiters;
    it gives the role back as soon as its own wait is over, and one of the others (woken by that)
    takes it. So a caller making one call at a time reads its own reply, with no thread hand-off.
    The background thread `reader` takes the role only when no caller has waited for a while
    (_IDLE), so that GOAWAY, a lost connection and stream data are still read when nobody waits;
    it gives the role back once callers wait again."""

    def __init__(self, channel, sock, target, limits):
        self.channel = channel
        self.sock = sock
        self.core = ConnectionCore(target, limits)
        # `lock` is `cond`'s lock: `with lock` is what `with cond` does, without a Python-level
        # call on every entry and exit.
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.write_lock = threading.Lock()
        self.pending = []  # control frames waiting for the write lock
        self.reading = False  # someone holds the read role
        self.reader_call = None  # the call whose waiter holds the role (abort() wakes it)
        self.activity = 0  # counts waits; the background reader stays away while it moves
        self.last_read = 0.0  # time.monotonic() when the read role was last given back
        # What the role holder reads into (recv() would allocate, and for a chunk this size
        # mmap and munmap, on every read).
        self._view = memoryview(bytearray(_READ_CHUNK))
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._poller = select.poll()
        self._sock_fd = sock.fileno()
        # Under TLS, plaintext the session already holds, which poll() cannot see.
        self._buffered = sock.pending if isinstance(sock, TlsSocket) else None
        self._poller.register(self._sock_fd, select.POLLIN)
        self._poller.register(self._wake_r, select.POLLIN)
        self._park = threading.Event()  # set once closed: the background reader finishes
        self.reader = threading.Thread(target=self._background, name="framerpc-reader",
                                       daemon=True)
        self.reader.start()

    # -- reading ---------------------------------------------------------------------------------

    def wait(self, call, predicate, interruptible=True):
        """With `cond` held: waits until predicate() or the call's deadline, reading the socket
        while nobody else does. False once the deadline has passed on a call still running, even
        if predicate() holds (§11: a deadline ends a stream mid-flow too).

        interruptible=False (a call without deadline that no other thread can cancel) reads with
        a plain blocking recv(); otherwise the reader polls the socket and a wake-up pipe, which
        abort() writes to when it ends the reader's own call."""
        deadline = call.deadline
        if deadline is not None and not call.done and _monotonic() >= deadline:
            return False
        if predicate():
            return True
        self.activity += 1
        cond = self.cond
        while True:
            if deadline is None:
                remaining = None
            else:
                remaining = deadline - _monotonic()
                if remaining <= 0:
                    return False
            if self.reading or self.core.closed:
                cond.wait(remaining)
            else:
                self._read(call, remaining, interruptible or remaining is not None)
            if predicate():
                return True

    def _read(self, call, timeout, interruptible):
        """With `cond` held and the read role free: takes the role, reads once (at most `timeout`
        seconds, None for no limit; 0 only checks), processes what came, gives the role back and
        wakes the waiters. `cond` is released during the read."""
        cond = self.cond
        self.reading = True
        self.reader_call = call
        cond.release()
        data = None
        reason = None
        try:
            if interruptible:
                ready = False
                if self._buffered is not None and self._buffered():
                    ready, timeout = True, 0
                for fd, _ in self._poller.poll(None if timeout is None else timeout * 1000):
                    if fd == self._sock_fd:
                        ready = True
                    else:
                        self._drain_wake()
                if ready:
                    data = self._view[:self.sock.recv_into(self._view, 0, socket.MSG_DONTWAIT)]
            else:
                data = self._view[:self.sock.recv_into(self._view)]
        except BlockingIOError:
            data = None
        except OSError as error:
            data = b""
            reason = error.strerror or str(error)
        finally:
            cond.acquire()
            self.reading = False
            self.reader_call = None
            self.last_read = _monotonic()
            out = None
            if data is not None:
                out = self._received(data, reason)
            cond.notify_all()
        if out:
            self._send_later(out)

    def probe(self):
        """Before a call goes out on a connection nobody is reading: takes in, without blocking,
        what has arrived (a GOAWAY, the end of the connection), as a reader would have."""
        with self.lock:
            if not self.reading and not self.core.closed:
                self._read(None, 0, True)

    def _received(self, data, reason):
        """With `cond` held: feeds what was read (empty: end of stream) to the core; `data` is
        not used after this returns. Returns the frames to send in reply."""
        core = self.core
        out = None
        if data:
            out = core.receive(data)
        elif not core.closed:
            core.connection_lost(reason or "end of stream")
        core.changed.clear()
        if core.closed:
            self._on_closed()
        return out

    def _send_later(self, frames):
        # Never block a reader on a write (the server may be waiting for us to read): a rare
        # frame like this goes out from a helper thread.
        with self.lock:
            self.pending.extend(frames)
        threading.Thread(target=self.flush_pending, daemon=True).start()

    def _drain_wake(self):
        try:
            while os.read(self._wake_r, 64):
                pass
        except OSError:
            pass

    def _wake_reader(self, call):
        """With `cond` held: `call` has just ended; if its waiter is the one reading, wake it."""
        if self.reader_call is call and self._wake_w is not None:
            try:
                os.write(self._wake_w, b"\0")
            except OSError:
                pass  # full: a wake-up is already pending

    def _on_closed(self):
        """With `cond` held, once the core is closed: ends every blocked read and write, and
        lets the background reader finish (it closes the socket)."""
        self._shutdown()
        self._park.set()

    def _background(self):
        """The background reader: reads only while no caller has waited for _IDLE seconds."""
        cond = self.cond
        seen = -1
        idle = _IDLE
        while True:
            with self.lock:
                if self.core.closed:
                    while self.reading:  # its read ends: the socket is shut down
                        cond.wait()
                    break
                take = not self.reading and self.activity == seen
                seen = self.activity
                if take:
                    self.reading = True
            if not take:
                self._park.wait(idle)
                idle = min(idle * 2, _IDLE_MAX)
                continue
            idle = _IDLE
            while True:
                reason = None
                try:
                    data = self._view[:self.sock.recv_into(self._view)]
                except OSError as error:
                    data = b""
                    reason = error.strerror or str(error)
                with self.lock:
                    out = self._received(data, reason)
                    stop = self.core.closed or self.activity != seen
                    if stop:
                        self.reading = False
                        self.last_read = _monotonic()
                    cond.notify_all()
                if out:
                    self._send_later(out)
                if stop:
                    break
        with self.write_lock:
            self.sock.close()
        with self.lock:
            wake_r, wake_w = self._wake_r, self._wake_w
            self._wake_w = None
        os.close(wake_r)
        os.close(wake_w)
        self.channel._forget(self)

    def _shutdown(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- writing ---------------------------------------------------------------------------------

    def write(self, call, data, deadline, first=False):
        """Writes `data` for `call` unless the call has ended. False if it was not written."""
        lock = self.write_lock
        if deadline is None:
            lock.acquire()
        elif not lock.acquire(timeout=max(0.0, deadline - _monotonic())):
            self.abort(call, _DEADLINE_EXCEEDED)
            return False
        try:
            with self.lock:
                if call.done or self.core.closed:
                    return False
                if first:
                    call.request_started = True
            try:
                self.sock.sendall(data)
            except OSError as error:
                with self.lock:
                    if not self.core.closed:
                        self.core.connection_lost(error.strerror or str(error))
                        self._on_closed()
                    self.core.changed.clear()
                    self.cond.notify_all()
                return False
            return True
        finally:
            lock.release()
            if self.pending:
                self.flush_pending()

    def post(self, frames):
        """Queues control frames (CANCEL, WINDOW_UPDATE) and sends them if the socket is free;
        otherwise the thread holding the write lock sends them when it is done."""
        with self.lock:
            self.pending.extend(frames)
        self.flush_pending()

    def flush_pending(self):
        while True:
            with self.lock:
                if not self.pending:
                    return
            if not self.write_lock.acquire(blocking=False):
                return  # the holder flushes after releasing
            try:
                with self.lock:
                    frames, self.pending = self.pending, []
                    closed = self.core.closed
                if not closed:
                    try:
                        self.sock.sendall(b"".join(frames))
                    except OSError:
                        self._shutdown()  # the next read reports the loss
            finally:
                self.write_lock.release()

    # -- calls -----------------------------------------------------------------------------------

    def abort(self, call, error):
        with self.lock:
            running = not call.done
            cancel = self.core.abort(call, error)
            if running:
                self._wake_reader(call)
            self.core.changed.clear()
            self.cond.notify_all()
        if cancel is not None:
            self.post([cancel])

    def close(self, error):
        with self.lock:
            self.core.fail_all(error)
            self.core.changed.clear()
            self._on_closed()
            self.cond.notify_all()


class Channel:
    """A blocking framerpc channel to `target` ("host:port", "[v6]:port" or "unix:/path").

    Thread-safe: any number of threads may make calls on it at once. Use it as a context manager,
    or close() it, to release the connection."""

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
        self._lock = threading.Lock()
        self._ids = itertools.count(1)  # next() is atomic: call ids need no lock
        self._current = None
        self._connections: Set[_Connection] = set()
        self._closed = False

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Fails the calls in flight with CANCELLED "channel closed" and closes the connections."""
        with self._lock:
            self._closed = True
            connections = list(self._connections)
            self._current = None
        for conn in connections:
            conn.close(RpcError(StatusCode.CANCELLED, "channel closed"))
        for conn in connections:
            if conn.reader is not threading.current_thread():
                conn.reader.join()

    def _forget(self, conn):
        with self._lock:
            self._connections.discard(conn)
            if self._current is conn:
                self._current = None

    # -- connecting ------------------------------------------------------------------------------

    def _connection(self, deadline):
        conn = self._current
        if conn is not None and not self._closed and conn.core.usable:
            # The common case, without the channel's lock. A GOAWAY or the end of the connection
            # that arrived while nobody was reading is taken in first (unless the connection was
            # read a moment ago), so that the call goes out on a new connection instead.
            if not conn.reading and _monotonic() - conn.last_read >= _PROBE_BYPASS:
                conn.probe()
            if conn.core.usable:
                return conn
        with self._lock:
            if self._closed:
                raise RpcError(StatusCode.CANCELLED, "channel closed")
            conn = self._current
            if conn is not None:
                with conn.lock:
                    if conn.core.usable:
                        return conn
                self._current = None
            sock = self._connect(deadline)
            try:
                conn = _Connection(self, sock, self.target, self.limits)
            except BaseException:  # no file descriptor for the wake-up pipe, say
                sock.close()
                raise
            self._current = conn
            self._connections.add(conn)
            return conn

    def _connect(self, deadline):
        start = time.monotonic()
        limit = self.connect_timeout
        deadline_first = False
        if deadline is not None and deadline - time.monotonic() < limit:
            limit = max(0.0, deadline - time.monotonic())
            deadline_first = True
        try:
            candidates = self._address.sockaddrs()
        except OSError as error:
            raise UnsentError(StatusCode.UNAVAILABLE, "cannot resolve %s: %s"
                           % (self.target, error.strerror or error)) from None
        last_error = None
        for family, sockaddr in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(limit)
                sock.connect(sockaddr)
                sock.settimeout(None)
                if family != socket.AF_UNIX:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.tls is None:
                    return sock
                # The connect timeout (or the call's deadline) covers the handshake too.
                secure = TlsSocket(sock, self.tls, self._server_name)
                secure.handshake(self.target, start + limit)
                return secure
            except socket.timeout:
                sock.close()
                if deadline_first:
                    raise fresh(_DEADLINE_EXCEEDED) from None
                raise UnsentError(StatusCode.UNAVAILABLE,
                                  "connect to %s timed out" % self.target) from None
            except RpcError:
                sock.close()
                raise
            except OSError as error:
                sock.close()
                last_error = error
        raise UnsentError(StatusCode.UNAVAILABLE, "connect to %s failed: %s"
                          % (self.target, last_error.strerror or last_error)) from None

    # -- starting calls ----------------------------------------------------------------------------

    def _start(self, method, kind, response_class, context, message=None, attachment=b"",
               half_close=False, window=None, timeout=None, metadata=()):
        """Sends the REQUEST (and, for server-streaming, the request message and the half-close).
        Returns (conn, call) or raises RpcError. Without a context (a call no other thread can
        reach), `timeout` and `metadata` (normalized) are given here."""
        if context is not None:
            if not context._begin():
                raise RpcError(StatusCode.CANCELLED, "cancelled before start")
            timeout = context.timeout
            metadata = context.metadata
        if timeout is None:
            deadline = None
        else:
            now = _monotonic()
            deadline = now + timeout
            if deadline <= now:
                raise RpcError(StatusCode.DEADLINE_EXCEEDED,
                               "deadline exceeded before the call started")
        call = Call(next(self._ids), method, kind, response_class, deadline,
                    window or self.initial_window)
        conn = self._connection(deadline)
        core = conn.core
        now = None if deadline is None else _monotonic()  # timeout_us counts from here
        if kind is MethodKind.UNARY:
            frames = core.request_frame(call, message, attachment, metadata, now)
        else:
            frames = core.request_frame(call, b"", b"", metadata, now)
            if message is not None:
                first = core.stream_message_frame(call, message, attachment)
                call.send_credit -= frame_cost(first)
                frames += first
            if half_close:
                frames += core.half_close_frame(call)
        with conn.lock:
            if core.closed:
                # Lost before the call was registered (a TLS alert read first, say): its reason.
                if core.close_error is not None:
                    raise fresh(core.close_error)
                raise RpcError(StatusCode.UNAVAILABLE, "connection to %s lost" % self.target)
            core.register(call)
        if context is None:
            conn.write(call, frames, deadline, first=True)
            return conn, call
        if not context._attach(lambda: conn.abort(call, _CANCELLED_BY_CLIENT)):
            conn.abort(call, _CANCELLED_BY_CLIENT)
        if conn.write(call, frames, deadline, first=True):
            context.call_id = call.id
            context._sent.set()
        return conn, call

    def unary_call(self, method: str, request: Message, response_class: Type[ResponseT], *,
                   timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                   attachment: BytesLike = b"",
                   context: Optional[ClientContext] = None) -> ResponseT:
        """Calls unary `method` ("/package.Service/Method") and returns the response message.
        Raises RpcError. The response attachment lands in context.response_attachment."""
        if context is None:
            # No ClientContext to make: nothing outside this call can reach it. Same checks as
            # ClientContext(timeout, metadata, attachment).
            if timeout is not None and not isinstance(timeout, (int, float)):
                raise TypeError("timeout must be a number of seconds or None")
            conn, call = self._start(method, MethodKind.UNARY, response_class, None,
                                     message=request, attachment=bytes(attachment),
                                     timeout=timeout, metadata=normalize_metadata(metadata))
            # Without a deadline, only data, the end of the connection or close() can end it.
            interruptible = timeout is not None
        else:
            context = make_context(context, timeout, metadata, attachment)
            conn, call = self._start(method, MethodKind.UNARY, response_class, context,
                                     message=request, attachment=context.attachment)
            interruptible = True
        try:
            if not call.done:
                with conn.lock:
                    in_time = conn.wait(call, lambda: call.done, interruptible)
                if not in_time:
                    conn.abort(call, _DEADLINE_EXCEEDED)
        except BaseException:  # KeyboardInterrupt, say: do not leave the call open
            conn.abort(call, _CANCELLED_BY_CLIENT)
            raise
        if call.error is not None:
            raise fresh(call.error)
        if context is not None:
            context.response_attachment = call.response_attachment
        return call.response

    def stream_call(self, method: str, kind: MethodKind, response_class: Type[ResponseT], *,
                    request: Optional[Message] = None,
                    request_class: Optional[Type[Message]] = None,
                    timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                    attachment: BytesLike = b"", context: Optional[ClientContext] = None,
                    window: Optional[int] = None) -> ClientStream[ResponseT]:
        """Starts a streaming call of `kind` and returns its ClientStream. For server-streaming,
        `request` (with `attachment`) is sent at once with the half-close. `window`: the initial
        receive window in bytes (default: the channel's, 1 MiB)."""
        if kind is MethodKind.UNARY:
            raise ValueError("stream_call is for streaming methods; use unary_call")
        if window is not None:
            check_window(window)
        context = make_context(context, timeout, metadata,
                               attachment if kind is MethodKind.SERVER_STREAMING else b"")
        if kind is MethodKind.SERVER_STREAMING:
            if request is None:
                raise ValueError("a server-streaming call needs its request message")
            conn, call = self._start(method, kind, response_class, context, message=request,
                                     attachment=context.attachment, half_close=True,
                                     window=window)
        else:
            if context.attachment:
                raise ValueError("a client-streaming or bidirectional REQUEST carries no "
                                 "attachment: pass attachments to write()")
            conn, call = self._start(method, kind, response_class, context, window=window)
        return ClientStream(conn, call, context, request_class)


class ClientStream(Generic[ResponseT]):
    """A streaming call (docs/protocol.md §11), returned by stream_call and the generated stubs.

    - write(message, attachment=b"") sends one message (client-streaming and bidirectional). It
      blocks while the server has granted no credit. False once the call has ended or after
      done_writing(); raises RpcError RESOURCE_EXHAUSTED (sending nothing) for a message over the
      frame limits.
    - done_writing() half-closes.
    - read() returns the next server message, or None at the end of the server's messages;
      read_with_attachment() returns (message, attachment) or None. Iterating yields the messages
      and raises the call's RpcError at the end if it failed.
    - finish() half-closes if that was not done, discards unread messages, waits for the end of the
      call and returns the response (client-streaming) or None; raises RpcError.
    - cancel(). Leaving a `with` block cancels a call that has not finished.

    One reader and one writer may use a stream at the same time.
    """

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
        """The RpcError the call ended with; None while running or after an OK end."""
        return self._call.error

    def cancel(self) -> None:
        self._context.cancel()

    def __enter__(self) -> ClientStream[ResponseT]:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._call.done:
            self.cancel()

    # -- writing ---------------------------------------------------------------------------------

    def write(self, message: Message, attachment: BytesLike = b"") -> bool:
        call, conn = self._call, self._conn
        if not call.kind.client_sends:
            raise TypeError("a %s call takes no further messages" % call.kind.value)
        if self._request_class is not None and not isinstance(message, self._request_class):
            raise TypeError("expected %s, got %s" % (self._request_class.__name__,
                                                     type(message).__name__))
        if self._writes_done:
            return False
        frame = conn.core.stream_message_frame(call, message, attachment)
        with conn.lock:
            in_time = conn.wait(call, lambda: call.done or call.send_credit > 0)
            if call.done:
                return False
            if in_time:
                call.send_credit -= frame_cost(frame)
        if not in_time:
            conn.abort(call, _DEADLINE_EXCEEDED)
            return False
        return conn.write(call, frame, call.deadline)

    def done_writing(self) -> bool:
        """Half-closes the client's side. False if the call has already ended."""
        call, conn = self._call, self._conn
        if self._writes_done:
            return not call.done
        self._writes_done = True
        with conn.lock:
            if call.done:
                return False
            frame = conn.core.half_close_frame(call)
        return conn.write(call, frame, call.deadline)

    # -- reading ---------------------------------------------------------------------------------

    def read_with_attachment(self) -> Optional[Tuple[ResponseT, bytes]]:
        call, conn = self._call, self._conn
        update = None
        with conn.lock:
            in_time = conn.wait(call, lambda: call.inbox or call.done)
            if in_time and call.inbox:
                message, attachment, cost = call.inbox.popleft()
                update = conn.core.consumed(call, cost)
            else:
                message = None
        if update is not None:
            conn.post([update])
        if message is not None:
            return message, attachment
        if not in_time:
            conn.abort(call, _DEADLINE_EXCEEDED)
        return None

    def read(self) -> Optional[ResponseT]:
        item = self.read_with_attachment()
        return None if item is None else item[0]

    def __iter__(self) -> Iterator[ResponseT]:
        while True:
            item = self.read_with_attachment()
            if item is None:
                break
            yield item[0]
        if self._call.error is not None:
            raise fresh(self._call.error)

    # -- the end ---------------------------------------------------------------------------------

    def finish(self) -> Optional[ResponseT]:
        call, conn = self._call, self._conn
        if call.kind.client_sends and not self._writes_done:
            self.done_writing()
        while True:
            update = None
            with conn.lock:
                in_time = conn.wait(call, lambda: call.inbox or call.done)
                cost = sum(item[2] for item in call.inbox)
                call.inbox.clear()
                if cost:
                    update = conn.core.consumed(call, cost)
                done = call.done
            if update is not None:
                conn.post([update])
            if done:
                break
            if not in_time:
                conn.abort(call, _DEADLINE_EXCEEDED)
        if call.error is not None:
            raise fresh(call.error)
        self._context.response_attachment = call.response_attachment
        return call.response
