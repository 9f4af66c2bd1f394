"""The framerpc frame codec (docs/protocol.md §3, §6, §8.1): pure functions over bytes, no sockets.

    frame = header(16) envelope payload
    header = "FRPC" version(1) reserved(3 zero bytes) body_length(u32 BE) envelope_length(u32 BE)
    payload = message bytes, then envelope.attachment_size attachment bytes

Every length is checked from the header before any of the body is buffered, and a wrong magic
byte as soon as it arrives. Errors are FrameError (an RpcError) with exactly the code and message
of the C++ codec; tests/vectors holds the cases both must agree on.
"""
from __future__ import annotations

import string
import struct
from typing import Iterator, Optional, Tuple, Union

from google.protobuf.message import DecodeError, Message

from .envelope_pb2 import Envelope
from ._types import BytesLike
from .status import FrameError, StatusCode, fresh

MAGIC = b"FRPC"
VERSION = 1
HEADER_SIZE = 16
_HEADER = struct.Struct(">4sB3sII")
_LENGTHS = struct.Struct(">II")
_MAX_UINT32 = 0xFFFFFFFF
# A header read at once: its first 8 bytes as one number (magic, version 1, reserved zeros), then
# the lengths; and what those 8 bytes must be.
_WHOLE_HEADER = struct.Struct(">QII")
_GOOD_PREFIX = int.from_bytes(MAGIC + bytes((VERSION, 0, 0, 0)), "big")
_PREFIX = MAGIC + bytes((VERSION, 0, 0, 0))


class FrameLimits:
    """Decoder and encoder limits (§6). A body or metadata exactly at its limit is accepted."""

    __slots__ = ("max_body_bytes", "max_envelope_bytes", "max_metadata_bytes")

    def __init__(self, max_body_bytes: int = 64 << 20, max_envelope_bytes: int = 64 << 10,
                 max_metadata_bytes: int = 16 << 10) -> None:
        for name, value in (("max_body_bytes", max_body_bytes),
                            ("max_envelope_bytes", max_envelope_bytes),
                            ("max_metadata_bytes", max_metadata_bytes)):
            if not isinstance(value, int) or not 0 <= value <= _MAX_UINT32:
                raise ValueError("%s must be an integer in [0, 2^32 - 1], not %r" % (name, value))
        self.max_body_bytes = max_body_bytes
        self.max_envelope_bytes = max_envelope_bytes
        self.max_metadata_bytes = max_metadata_bytes

    def __repr__(self):
        return "FrameLimits(max_body_bytes=%d, max_envelope_bytes=%d, max_metadata_bytes=%d)" % (
            self.max_body_bytes, self.max_envelope_bytes, self.max_metadata_bytes)


DEFAULT_LIMITS = FrameLimits()


class Frame:
    """One decoded frame. `payload` is the message bytes followed by the attachment bytes;
    `body_size` is the header's body length (what a frame costs in flow-control credit)."""

    __slots__ = ("envelope", "payload", "body_size")

    def __init__(self, envelope: Envelope, payload: bytes, body_size: int) -> None:
        self.envelope = envelope
        self.payload = payload
        self.body_size = body_size

    @property
    def message_bytes(self) -> bytes:
        attachment_size = self.envelope.attachment_size
        if not attachment_size:
            return self.payload
        return self.payload[:len(self.payload) - attachment_size]

    @property
    def attachment(self) -> bytes:
        return self.payload[len(self.payload) - self.envelope.attachment_size:]

    def __repr__(self):
        return "Frame(%s, payload=%d bytes)" % (
            str(self.envelope).replace("\n", " ").strip(), len(self.payload))


_HEX_DIGITS = frozenset(string.hexdigits.encode())
_NAMED_ESCAPES = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x27: "\\'", 0x5C: "\\\\"}


def c_hex_escape(data):
    """C-escapes bytes as absl::CHexEscape does: \\n \\r \\t \\" \\' \\\\ by name, other bytes
    outside 0x20..0x7e as \\xNN, and a hex digit right after a \\xNN escape as \\xNN too."""
    out = []
    last_hex = False
    for c in data:
        named = _NAMED_ESCAPES.get(c)
        if named is not None:
            out.append(named)
            last_hex = False
        elif c < 0x20 or c > 0x7E or (last_hex and c in _HEX_DIGITS):
            out.append("\\x%02x" % c)
            last_hex = True
        else:
            out.append(chr(c))
            last_hex = False
    return "".join(out)


def _metadata_bytes(envelope):
    return sum(len(entry.key) + len(entry.value) for entry in envelope.metadata)


def check_header(data, limits=DEFAULT_LIMITS):
    """Checks the header at the front of `data` (which may be shorter than a header).

    Returns (body_length, envelope_length) once the 16 header bytes are there, None while they are
    a valid prefix; raises FrameError as soon as the bytes seen prove the stream bad."""
    seen = min(len(data), 4)
    if bytes(data[:seen]) != MAGIC[:seen]:
        raise FrameError(StatusCode.INVALID_ARGUMENT,
                         "bad magic: not a framerpc stream (first bytes %s)"
                         % c_hex_escape(bytes(data[:seen])))
    if len(data) > 4 and data[4] != VERSION:
        raise FrameError(StatusCode.UNIMPLEMENTED,
                         "unsupported protocol version %d (supported: %d)" % (data[4], VERSION))
    for i in range(5, min(len(data), 8)):
        if data[i] != 0:
            raise FrameError(StatusCode.INVALID_ARGUMENT, "reserved header byte %d is not zero" % i)
    if len(data) < HEADER_SIZE:
        return None
    body, envelope = _LENGTHS.unpack_from(data, 8)
    if body > limits.max_body_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "frame body of %d bytes exceeds the limit of %d"
                         % (body, limits.max_body_bytes))
    if envelope == 0:
        raise FrameError(StatusCode.INVALID_ARGUMENT, "envelope length is 0")
    if envelope > body:
        raise FrameError(StatusCode.INVALID_ARGUMENT,
                         "envelope length %d exceeds body length %d" % (envelope, body))
    if envelope > limits.max_envelope_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "envelope of %d bytes exceeds the limit of %d"
                         % (envelope, limits.max_envelope_bytes))
    return body, envelope


def _check_envelope(envelope, payload_bytes, limits):
    metadata = _metadata_bytes(envelope)
    if metadata > limits.max_metadata_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "metadata of %d bytes exceeds the limit of %d"
                         % (metadata, limits.max_metadata_bytes))
    if envelope.attachment_size > payload_bytes:
        raise FrameError(StatusCode.INVALID_ARGUMENT,
                         "attachment size %d exceeds payload size %d"
                         % (envelope.attachment_size, payload_bytes))


def _decode_body(data, offset, body, envelope_length, limits):
    start = offset + HEADER_SIZE
    try:
        envelope = Envelope.FromString(bytes(data[start:start + envelope_length]))
    except DecodeError:
        raise FrameError(StatusCode.INVALID_ARGUMENT,
                         "envelope is not a valid framerpc.Envelope") from None
    payload_bytes = body - envelope_length
    _check_envelope(envelope, payload_bytes, limits)
    payload = bytes(data[start + envelope_length:start + body])
    return Frame(envelope, payload, body)


def decode_frame(data: BytesLike,
                 limits: FrameLimits = DEFAULT_LIMITS) -> Optional[Tuple[Frame, int]]:
    """Decodes the first frame of `data` (bytes-like, possibly partial or holding many frames).

    Returns (frame, consumed), or None while `data` is a valid prefix; raises FrameError."""
    lengths = check_header(data, limits)
    if lengths is None:
        return None
    body, envelope_length = lengths
    if len(data) - HEADER_SIZE < body:
        return None
    return _decode_body(data, 0, body, envelope_length, limits), HEADER_SIZE + body


class FrameDecoder:
    """Incremental decoder for a byte stream: feed() what arrives, then take frames with next().

    Buffers at most one frame (whose size the header has already checked) plus what was fed
    beyond it. Once it has raised FrameError it raises the same error for ever."""

    def __init__(self, limits: FrameLimits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._buffer = bytearray()
        self._offset = 0
        self._lengths: Optional[Tuple[int, int]] = None  # the checked (body, envelope) lengths of the frame at _offset
        self._error: Optional[FrameError] = None

    @property
    def buffered(self) -> int:
        return len(self._buffer) - self._offset

    def feed(self, data: BytesLike) -> None:
        """Appends bytes; raises FrameError at once if the header of the next frame is bad."""
        if self._error is not None:
            raise fresh(self._error)
        if self._offset and self._offset == len(self._buffer):
            self._buffer.clear()
            self._offset = 0
        self._buffer += data
        if self._lengths is None:
            self._check()

    def _check(self):
        try:
            view = memoryview(self._buffer)[self._offset:self._offset + HEADER_SIZE]
            try:
                self._lengths = check_header(view, self._limits)
            finally:
                view.release()
        except FrameError as error:
            self._error = error
            raise

    def next(self) -> Optional[Frame]:
        """The next complete frame, or None until more bytes are fed. Raises FrameError."""
        if self._error is not None:
            raise fresh(self._error)
        if self._lengths is None:
            if self._offset == len(self._buffer):
                return None
            self._check()
            if self._lengths is None:
                return None
        body, envelope_length = self._lengths
        if len(self._buffer) - self._offset - HEADER_SIZE < body:
            return None
        try:
            frame = _decode_body(self._buffer, self._offset, body, envelope_length, self._limits)
        except FrameError as error:
            self._error = error
            raise
        self._offset += HEADER_SIZE + body
        self._lengths = None
        if self._offset == len(self._buffer):
            self._buffer.clear()
            self._offset = 0
        elif self._offset >= 65536:
            del self._buffer[:self._offset]
            self._offset = 0
        return frame

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.next()
            if frame is None:
                return
            yield frame

    def frames(self, data: BytesLike) -> Iterator[Frame]:
        """feed(data), then yields every complete frame: the same frames and the same errors,
        at the same points, as feed() followed by next() until None. While nothing is buffered,
        the frames that `data` holds whole are decoded from it in place (the usual case: one
        read, one or more whole frames), and only a partial frame at its end is buffered."""
        if self._error is None and self._offset == len(self._buffer):
            limits = self._limits
            size = len(data)
            pos = 0
            while size - pos >= HEADER_SIZE:
                prefix, body, envelope_length = _WHOLE_HEADER.unpack_from(data, pos)
                if (prefix != _GOOD_PREFIX or body > limits.max_body_bytes
                        or not 0 < envelope_length <= body
                        or envelope_length > limits.max_envelope_bytes):
                    break  # the slow path below raises the right error
                start = pos + HEADER_SIZE
                end = start + body
                if end > size:
                    break
                try:
                    envelope = Envelope.FromString(data[start:start + envelope_length])
                except DecodeError:
                    break
                if ((envelope.metadata and _metadata_bytes(envelope) > limits.max_metadata_bytes)
                        or envelope.attachment_size > body - envelope_length):
                    break
                yield Frame(envelope, bytes(data[start + envelope_length:end]), body)
                pos = end
            if pos:
                if pos == size:
                    return
                data = data[pos:]
        self.feed(data)
        while True:
            frame = self.next()
            if frame is None:
                return
            yield frame


_VARINTS = [bytes((i,)) for i in range(128)]


def varint(value):
    """The protobuf varint of a non-negative integer."""
    if value < 0x80:
        return _VARINTS[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def frame_from_envelope(envelope_bytes, message=b"", attachment=b"", limits=DEFAULT_LIMITS,
                        metadata_bytes=0):
    """One frame from an envelope already serialized (with its attachment_size set, and
    `metadata_bytes` of metadata keys and values): the checks of encode_frame, in its order,
    with its errors. `message` is bytes or a protobuf message to serialize."""
    if not isinstance(message, (bytes, bytearray, memoryview)):
        message = message.SerializeToString()
    envelope_length = len(envelope_bytes)
    body = envelope_length + len(message) + len(attachment)
    if body > limits.max_body_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "frame body of %d bytes exceeds the limit of %d"
                         % (body, limits.max_body_bytes))
    if envelope_length > limits.max_envelope_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "envelope of %d bytes exceeds the limit of %d"
                         % (envelope_length, limits.max_envelope_bytes))
    if metadata_bytes > limits.max_metadata_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "metadata of %d bytes exceeds the limit of %d"
                         % (metadata_bytes, limits.max_metadata_bytes))
    return b"".join((_PREFIX, _LENGTHS.pack(body, envelope_length), envelope_bytes, message,
                     attachment))


def encode_frame(envelope: Envelope, message: Union[BytesLike, Message] = b"",
                 attachment: BytesLike = b"", limits: FrameLimits = DEFAULT_LIMITS) -> bytes:
    """One frame: `envelope` (whose attachment_size is set here), then `message` (bytes, or a
    protobuf message to serialize), then `attachment`. Raises FrameError, RESOURCE_EXHAUSTED for a
    frame over `limits` and INVALID_ARGUMENT for an envelope that serializes to 0 bytes."""
    if not isinstance(message, (bytes, bytearray, memoryview)):
        message = message.SerializeToString()
    attachment_size = len(attachment)
    if attachment_size > _MAX_UINT32:
        envelope_bytes = envelope.SerializeToString()  # attachment_size cannot hold the size
    else:
        envelope.attachment_size = attachment_size
        envelope_bytes = envelope.SerializeToString()
    if not envelope_bytes:
        raise FrameError(StatusCode.INVALID_ARGUMENT, "envelope is empty (set its kind)")
    body = len(envelope_bytes) + len(message) + attachment_size
    if attachment_size > _MAX_UINT32 or body > limits.max_body_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "frame body of %d bytes exceeds the limit of %d"
                         % (body, limits.max_body_bytes))
    if len(envelope_bytes) > limits.max_envelope_bytes:
        raise FrameError(StatusCode.RESOURCE_EXHAUSTED,
                         "envelope of %d bytes exceeds the limit of %d"
                         % (len(envelope_bytes), limits.max_envelope_bytes))
    _check_envelope(envelope, len(message) + attachment_size, limits)
    return b"".join((_HEADER.pack(MAGIC, VERSION, b"\0\0\0", body, len(envelope_bytes)),
                     envelope_bytes, message, attachment))
