"""The client side of the protocol without I/O: call state, frame handling, flow control.

The blocking and the asyncio channels both drive a ConnectionCore: they feed it the bytes they
read, write the frames it returns, and wake the callers of the calls it reports as changed. All
state here is guarded by the driver (a lock for the blocking channel, the event loop for asyncio).
Frame kinds and statuses are docs/protocol.md §7-§11.
"""
from __future__ import annotations

import collections
import enum
from typing import Dict, NamedTuple, Type

from google.protobuf.message import Message

from . import envelope_pb2 as pb
from .codec import FrameDecoder, HEADER_SIZE, frame_from_envelope, varint
from .status import FrameError, RpcError, StatusCode, UnsentError

INITIAL_WINDOW = 1 << 20  # §11.2: both directions of every stream start with 1 MiB of credit
MAX_WINDOW = (1 << 31) - 1
END_OF_STREAM = pb.END_OF_STREAM


class MethodKind(enum.Enum):
    UNARY = "unary"
    SERVER_STREAMING = "server_streaming"
    CLIENT_STREAMING = "client_streaming"
    BIDI_STREAMING = "bidi_streaming"

    @property
    def client_sends(self) -> bool:
        return self in (MethodKind.CLIENT_STREAMING, MethodKind.BIDI_STREAMING)

    @property
    def server_sends(self) -> bool:
        return self in (MethodKind.SERVER_STREAMING, MethodKind.BIDI_STREAMING)


class MethodInfo(NamedTuple):
    """What generated stubs list per method."""
    name: str
    path: str  # "/package.Service/Method"
    kind: MethodKind
    request_class: Type[Message]
    response_class: Type[Message]


def error_for_status(code, message):
    return RpcError(StatusCode.from_wire(code), message)


class Call:
    """One call on one connection."""

    __slots__ = ("id", "method", "kind", "response_class", "deadline", "done", "error",
                 "response", "response_attachment", "inbox", "send_credit", "recv_window",
                 "recv_credit", "returnable", "request_started", "half_closed", "waker")

    def __init__(self, call_id, method, kind, response_class, deadline, recv_window):
        self.id = call_id
        self.method = method
        self.kind = kind
        self.response_class = response_class
        self.deadline = deadline  # time.monotonic() value, or None
        self.done = False
        self.error = None  # RpcError once done with a non-OK status
        self.response = None
        self.response_attachment = b""
        self.inbox = collections.deque()  # (message, attachment, cost) from the server
        self.send_credit = INITIAL_WINDOW
        self.recv_window = recv_window
        self.recv_credit = recv_window
        self.returnable = 0  # consumed bytes whose credit has not been returned yet
        self.request_started = False  # the REQUEST has begun going out on the socket
        self.half_closed = False
        self.waker = None  # set by the asyncio driver


# The frames the client sends have their envelopes written here field by field, in field order,
# exactly as protobuf serializes them (tests/test_codec.py checks them against Envelope): kind (1),
# call_id (2), method (3), timeout_us (4), flags (7), metadata (8), attachment_size (9),
# window_update (10), ping_data (12). Fields at their default are left out.
_METHOD_FIELDS: Dict[str, bytes] = {}  # method -> its encoded field 3


def _method_field(method):
    field = _METHOD_FIELDS.get(method)
    if field is None:
        raw = method.encode()
        field = b"\x1a" + varint(len(raw)) + raw if raw else b""
        if len(_METHOD_FIELDS) < 4096:
            _METHOD_FIELDS[method] = field
    return field


def _head(kind, call_id):
    """kind and call_id."""
    return kind + (b"\x10" + varint(call_id) if call_id else b"")


_KIND_REQUEST = b"\x08\x01"
_KIND_CANCEL = b"\x08\x03"
_KIND_STREAM_MESSAGE = b"\x08\x04"
_KIND_WINDOW_UPDATE = b"\x08\x05"
_KIND_PING = b"\x08\x08"
_END_OF_STREAM_FLAG = b"\x38" + varint(END_OF_STREAM)
_ACK_FLAG = b"\x38" + varint(pb.ACK)


def _attachment_size(attachment):
    """Field 9; left out above 2^32 - 1, as encode_frame does (the frame is then refused)."""
    size = len(attachment)
    return b"\x48" + varint(size) if 0 < size <= 0xFFFFFFFF else b""


def timeout_us(deadline, now):
    """§7.2: the relative deadline sent, never 0 (which would mean none) for a set deadline."""
    if deadline is None:
        return 0
    return max(1, int((deadline - now) * 1_000_000))


class ConnectionCore:
    def __init__(self, target, limits):
        self.target = target
        self.limits = limits
        self.decoder = FrameDecoder(limits)
        self.calls = {}
        self.goaway = False  # no new calls on this connection
        self.closed = False  # nothing more is read or written
        self.close_error = None  # the RpcError the connection ended with
        self.changed = set()  # calls whose state changed since the driver last looked

    @property
    def usable(self):
        return not self.closed and not self.goaway

    # -- frames the client sends --------------------------------------------------------------

    def request_frame(self, call, message, attachment, metadata, now):
        """The REQUEST. For a unary call `message` is the request; a streaming REQUEST has none,
        and carries window_update when the receive window is not the default."""
        parts = [_head(_KIND_REQUEST, call.id), _method_field(call.method)]
        timeout = timeout_us(call.deadline, now)
        if timeout:
            parts.append(b"\x20" + varint(timeout))
        metadata_bytes = 0
        for key, value in metadata:
            entry = ((b"\x0a" + varint(len(key)) + key if key else b"")
                     + (b"\x12" + varint(len(value)) + value if value else b""))
            parts.append(b"\x42" + varint(len(entry)) + entry)
            metadata_bytes += len(key) + len(value)
        if attachment:
            parts.append(_attachment_size(attachment))
        if call.kind is not MethodKind.UNARY and call.recv_window != INITIAL_WINDOW:
            parts.append(b"\x50" + varint(call.recv_window))
        return frame_from_envelope(b"".join(parts), message, attachment, self.limits,
                                   metadata_bytes)

    def stream_message_frame(self, call, message, attachment):
        """A STREAM_MESSAGE; the caller checks and charges credit with its body size."""
        envelope = _head(_KIND_STREAM_MESSAGE, call.id)
        if attachment:
            envelope += _attachment_size(attachment)
        return frame_from_envelope(envelope, message, attachment, self.limits)

    def half_close_frame(self, call):
        call.half_closed = True
        return frame_from_envelope(_head(_KIND_STREAM_MESSAGE, call.id) + _END_OF_STREAM_FLAG,
                                   b"", b"", self.limits)

    @staticmethod
    def cancel_frame(call_id):
        return frame_from_envelope(_head(_KIND_CANCEL, call_id))

    @staticmethod
    def ping_ack_frame(ping_data):
        """§9.1: the answer to a PING, echoing its ping_data."""
        data = b"\x60" + varint(ping_data) if ping_data else b""
        return frame_from_envelope(_KIND_PING + _ACK_FLAG + data)

    # -- call lifecycle ----------------------------------------------------------------------------

    def register(self, call):
        self.calls[call.id] = call

    def complete(self, call, error=None):
        """Ends `call` locally (with `error`, or OK). Returns False if it had already ended."""
        if call.done:
            return False
        call.done = True
        call.error = error
        if error is not None:
            call.inbox.clear()  # §11: buffered messages are dropped when a call fails
        if self.calls.get(call.id) is call:
            del self.calls[call.id]
        self.changed.add(call)
        return True

    def abort(self, call, error):
        """Ends `call` with `error`. Returns the CANCEL to send (None if the call had already
        ended, or if its REQUEST never started going out)."""
        if not self.complete(call, error):
            return None
        return self.cancel_frame(call.id) if call.request_started and not self.closed else None

    def fail_all(self, error):
        """The connection is unusable: every call on it fails with `error`."""
        self.closed = True
        if self.close_error is None:
            self.close_error = error
        for call in list(self.calls.values()):
            self.complete(call, error)

    def connection_lost(self, reason):
        self.fail_all(RpcError(StatusCode.UNAVAILABLE,
                               "connection to %s lost: %s" % (self.target, reason)))

    def consumed(self, call, cost):
        """The application took a message of `cost` bytes. Returns a WINDOW_UPDATE when enough
        credit has accumulated (at least half the window, §11.2), else None."""
        call.returnable += cost
        if call.done or self.closed or call.returnable < max(1, call.recv_window // 2):
            return None
        amount = call.returnable
        call.returnable = 0
        call.recv_credit += amount
        return frame_from_envelope(_head(_KIND_WINDOW_UPDATE, call.id) + b"\x50"
                                   + varint(amount))

    # -- frames the client receives ------------------------------------------------------------

    def receive(self, data):
        """Processes bytes read from the socket. Returns the frames to send in reply (CANCELs for
        calls the server broke, PING ACKs). Sets `closed` on a bad frame or a CONNECTION_ERROR."""
        out = []
        if self.closed:
            return out
        try:
            for frame in self.decoder.frames(data):
                self._on_frame(frame, out)
                if self.closed:
                    break
        except FrameError as error:
            self.fail_all(RpcError(StatusCode.UNAVAILABLE,
                                   "bad frame from %s: %s" % (self.target, error.message)))
        return out

    def _on_frame(self, frame, out):
        envelope = frame.envelope
        kind = envelope.kind
        if kind == pb.RESPONSE:
            self._on_response(frame)
        elif kind == pb.STREAM_MESSAGE:
            self._on_stream_message(frame, out)
        elif kind == pb.WINDOW_UPDATE:
            call = self.calls.get(envelope.call_id)
            if call is None or call.kind is MethodKind.UNARY:
                return
            credit = call.send_credit + envelope.window_update
            if envelope.window_update == 0 or credit > MAX_WINDOW:
                self._violation(call, "bad WINDOW_UPDATE from the server", out)
                return
            call.send_credit = credit
            self.changed.add(call)
        elif kind == pb.GOAWAY:
            self.goaway = True
            # Refused calls reached no handler: a balanced channel sends them elsewhere.
            error = UnsentError(StatusCode.UNAVAILABLE,
                                "server is shutting down; the call was not processed")
            for call in [c for c in self.calls.values() if c.id > envelope.last_call_id]:
                self.complete(call, error)
        elif kind == pb.PING:
            # §9.1: answered at once, even with no call open (servers probe quiet connections);
            # an ACK is never answered.
            if not envelope.flags & pb.ACK:
                out.append(self.ping_ack_frame(envelope.ping_data))
        elif kind == pb.CONNECTION_ERROR:
            code = StatusCode.from_wire(envelope.status_code)
            if code == StatusCode.OK:
                code = StatusCode.UNKNOWN
            self.fail_all(RpcError(code, "server closed the connection: %s"
                                   % envelope.status_message.decode("utf-8", "replace")))
        # Other kinds (REQUEST, CANCEL, kinds from later versions) are ignored (§14).

    def _on_response(self, frame):
        envelope = frame.envelope
        call = self.calls.get(envelope.call_id)
        if call is None:
            return  # cancelled or timed out already
        if envelope.status_code != 0:
            self.complete(call, error_for_status(
                envelope.status_code, envelope.status_message.decode("utf-8", "replace")))
            return
        if call.kind is MethodKind.UNARY or call.kind is MethodKind.CLIENT_STREAMING:
            try:
                response = call.response_class.FromString(frame.message_bytes)
            except Exception:  # DecodeError, or a message the class rejects
                self.complete(call, RpcError(StatusCode.INTERNAL,
                                             "response message does not parse"))
                return
            call.response = response
            call.response_attachment = frame.attachment
        self.complete(call)

    def _on_stream_message(self, frame, out):
        envelope = frame.envelope
        call = self.calls.get(envelope.call_id)
        if call is None or not call.kind.server_sends or envelope.flags & END_OF_STREAM:
            return  # not an open receiving stream: ignored (§11 races); servers never half-close
        if call.recv_credit <= 0:
            self._violation(call, "flow control window exceeded by the server", out)
            return
        call.recv_credit -= frame.body_size
        try:
            message = call.response_class.FromString(frame.message_bytes)
        except Exception:
            self._violation(call, "response message does not parse", out)
            return
        call.inbox.append((message, frame.attachment, frame.body_size))
        self.changed.add(call)

    def _violation(self, call, message, out):
        """§11.1: the client sends CANCEL and fails the call locally with INTERNAL."""
        cancel = self.abort(call, RpcError(StatusCode.INTERNAL, message))
        if cancel is not None:
            out.append(cancel)


def normalize_metadata(metadata):
    """Metadata as a list of (bytes, bytes): from a mapping or pairs of str or bytes."""
    if not metadata:
        return []
    items = metadata.items() if hasattr(metadata, "items") else metadata
    out = []
    for key, value in items:
        out.append((key.encode() if isinstance(key, str) else bytes(key),
                    value.encode() if isinstance(value, str) else bytes(value)))
    return out


def check_window(window):
    if not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise ValueError("initial window must be in [1, 2^31 - 1], not %r" % (window,))
    return window


def frame_cost(frame_bytes):
    """A frame's flow-control cost: its body length."""
    return len(frame_bytes) - HEADER_SIZE
