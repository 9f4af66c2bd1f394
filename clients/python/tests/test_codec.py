"""The Python frame codec against the shared vectors (tests/vectors) and its own edge cases."""
import importlib
import itertools
import json
import os
import random
import unittest

import framerpc
from framerpc import _core, MethodKind
from framerpc import envelope_pb2 as pb
from framerpc.codec import FrameDecoder, FrameLimits, c_hex_escape, check_header, decode_frame
from framerpc.codec import encode_frame
from framerpc.status import FrameError, StatusCode

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.environ.get("FRAMERPC_VECTORS") or os.path.join(HERE, "..", "..", "..", "tests",
                                                              "vectors")


def load_manifest():
    with open(os.path.join(VECTORS, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def read_hex(name):
    with open(os.path.join(VECTORS, name), encoding="ascii") as f:
        return bytes.fromhex("".join(f.read().split()))


def limits_of(entry):
    limits = entry.get("limits")
    return FrameLimits(**limits) if limits else framerpc.DEFAULT_LIMITS


def envelope_of(fields):
    env = pb.Envelope()
    for key, value in fields.items():
        if key == "kind":
            env.kind = pb.FrameKind.Value(value)
        elif key in ("method", "status_message"):
            setattr(env, key, value.encode())
        elif key == "metadata":
            for entry in value:
                env.metadata.add(key=entry["key"].encode(), value=entry["value"].encode())
        elif key == "ping_data":  # a decimal string
            env.ping_data = int(value)
        else:
            setattr(env, key, value)
    return env


def message_class(full_name):
    """The generated class of `full_name` if its module is importable (it is under Bazel)."""
    package, _, name = full_name.rpartition(".")
    modules = {"framerpc.echo": "proto.echo_pb2"}
    try:
        return getattr(importlib.import_module(modules[package]), name)
    except (KeyError, ImportError):
        return None


class VectorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = load_manifest()

    def test_manifest_shape(self):
        self.assertEqual(self.manifest["format"], 1)
        outcomes = [v["outcome"] for v in self.manifest["vectors"]]
        self.assertGreaterEqual(outcomes.count("FRAME"), 20)
        self.assertGreaterEqual(outcomes.count("ERROR"), 20)
        self.assertGreaterEqual(outcomes.count("NEED_MORE"), 3)

    def check_frame(self, vector, data, limits):
        result = decode_frame(data, limits)
        self.assertIsNotNone(result)
        frame, consumed = result
        self.assertEqual(consumed, vector["consumed"])
        decoded = pb.Envelope()
        decoded.CopyFrom(frame.envelope)
        decoded.DiscardUnknownFields()
        expected = envelope_of(vector["envelope"])
        self.assertEqual(decoded, expected)
        self.assertEqual(frame.message_bytes.hex(), vector["message_hex"])
        self.assertEqual(frame.attachment.hex(), vector["attachment_hex"])
        self.assertEqual(frame.body_size, consumed - 16)
        if vector.get("message_type"):
            cls = message_class(vector["message_type"])
            if cls is not None:
                message = cls.FromString(frame.message_bytes)
                self.assertEqual(message.SerializeToString(), frame.message_bytes)
        for n in range(consumed):
            self.assertIsNone(decode_frame(data[:n], limits), "prefix of %d bytes" % n)
        if vector["reencodes"]:
            envelope = envelope_of(vector["envelope"])
            envelope.ClearField("attachment_size")
            out = encode_frame(envelope, bytes.fromhex(vector["message_hex"]),
                               bytes.fromhex(vector["attachment_hex"]), limits)
            self.assertEqual(out.hex(), data[:consumed].hex())

    def test_decode_every_vector(self):
        for vector in self.manifest["vectors"]:
            with self.subTest(vector["name"]):
                data = read_hex(vector["file"])
                limits = limits_of(vector)
                outcome = vector["outcome"]
                if outcome == "FRAME":
                    self.check_frame(vector, data, limits)
                elif outcome == "NEED_MORE":
                    self.assertIsNone(decode_frame(data, limits))
                else:
                    self.assertEqual(outcome, "ERROR")
                    with self.assertRaises(FrameError) as caught:
                        decode_frame(data, limits)
                    self.assertEqual(int(caught.exception.code), vector["error_code"])
                    self.assertEqual(caught.exception.code.name, vector["error_code_name"])
                    self.assertEqual(caught.exception.message, vector["error_message"])

    def test_incremental_decoder_agrees(self):
        """FrameDecoder fed one byte at a time: frames come out whole, errors with the same code
        (the message may differ only for bad magic, which shows the bytes seen so far)."""
        for vector in self.manifest["vectors"]:
            with self.subTest(vector["name"]):
                data = read_hex(vector["file"])
                decoder = FrameDecoder(limits_of(vector))
                frames = []
                error = None
                try:
                    for i in range(len(data)):
                        decoder.feed(data[i:i + 1])
                        frames.extend(decoder)
                except FrameError as e:
                    error = e
                if vector["outcome"] == "ERROR":
                    self.assertIsNotNone(error)
                    self.assertEqual(int(error.code), vector["error_code"])
                    if not vector["error_message"].startswith("bad magic"):
                        self.assertEqual(error.message, vector["error_message"])
                    with self.assertRaises(FrameError):  # sticky
                        decoder.next()
                elif vector["outcome"] == "NEED_MORE":
                    self.assertIsNone(error)
                    self.assertEqual(frames, [])
                else:
                    self.assertIsNone(error)
                    self.assertGreaterEqual(len(frames), 1)
                    self.assertEqual(frames[0].payload.hex(),
                                     vector["message_hex"] + vector["attachment_hex"])

    def test_stream_of_all_valid_frames_in_random_chunks(self):
        valid = [v for v in self.manifest["vectors"]
                 if v["outcome"] == "FRAME" and "limits" not in v]
        stream = b"".join(read_hex(v["file"])[:v["consumed"]] for v in valid)
        rng = random.Random(6)
        for _ in range(20):
            decoder = FrameDecoder()
            frames = []
            pos = 0
            while pos < len(stream):
                n = rng.randint(1, 200)
                decoder.feed(stream[pos:pos + n])
                pos += n
                frames.extend(decoder)
            self.assertEqual(len(frames), len(valid))
            self.assertEqual(decoder.buffered, 0)
            for frame, v in zip(frames, valid):
                self.assertEqual(frame.payload.hex(), v["message_hex"] + v["attachment_hex"])

    def test_encode_errors(self):
        for entry in self.manifest["encode_errors"]:
            with self.subTest(entry["name"]):
                with self.assertRaises(FrameError) as caught:
                    encode_frame(envelope_of(entry["envelope"]),
                                 bytes.fromhex(entry["message_hex"]),
                                 bytes.fromhex(entry["attachment_hex"]), limits_of(entry))
                self.assertEqual(int(caught.exception.code), entry["error_code"])
                self.assertEqual(caught.exception.code.name, entry["error_code_name"])
                self.assertEqual(caught.exception.message, entry["error_message"])


class FramesTest(unittest.TestCase):
    """FrameDecoder.frames(), which decodes whole frames in place, against feed() and next()."""

    @staticmethod
    def outcome(feed_chunks, chunks, limits):
        frames, error = [], None
        try:
            for chunk in chunks:
                frames.extend(feed_chunks(chunk))
        except FrameError as e:
            error = (e.code, e.message)
        return [(str(f.envelope), f.payload, f.body_size) for f in frames], error

    def check_agree(self, data, limits, rng):
        for cuts in ([], [len(data)], sorted(rng.sample(range(1, len(data)), min(3, len(data) - 1)))
                     if len(data) > 1 else []):
            bounds = [0] + cuts + [len(data)]
            chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
            slow = FrameDecoder(limits)

            def feed_next(chunk):
                slow.feed(chunk)
                return list(slow)

            fast = FrameDecoder(limits)
            expected = self.outcome(feed_next, chunks, limits)
            self.assertEqual(self.outcome(lambda chunk: list(fast.frames(memoryview(chunk))),
                                          chunks, limits), expected)
            self.assertEqual(fast.buffered, slow.buffered)

    def test_every_vector_alone_and_after_a_good_frame(self):
        good = encode_frame(pb.Envelope(kind=pb.RESPONSE, call_id=9), b"msg", b"att")
        rng = random.Random(7)
        for vector in load_manifest()["vectors"]:
            with self.subTest(vector["name"]):
                data = read_hex(vector["file"])
                limits = limits_of(vector)
                self.check_agree(data, limits, rng)
                self.check_agree(good + data + good, limits, rng)

    def test_stream_of_all_valid_frames_in_random_chunks(self):
        valid = [v for v in load_manifest()["vectors"]
                 if v["outcome"] == "FRAME" and "limits" not in v]
        stream = b"".join(read_hex(v["file"])[:v["consumed"]] for v in valid)
        rng = random.Random(8)
        for _ in range(20):
            decoder = FrameDecoder()
            frames = []
            pos = 0
            while pos < len(stream):
                n = rng.randint(1, 400)
                frames.extend(decoder.frames(memoryview(stream)[pos:pos + n]))
                pos += n
            self.assertEqual(decoder.buffered, 0)
            self.assertEqual([f.payload.hex() for f in frames],
                             [v["message_hex"] + v["attachment_hex"] for v in valid])


class ClientFramesTest(unittest.TestCase):
    """The frames the client sends, whose envelopes _core writes by hand, are byte for byte what
    encode_frame makes of the same Envelope, errors included."""

    METHODS = ["/framerpc.echo.EchoService/Say", "/a.B/" + "m" * 200, "", "/ü.B/C"]
    IDS = [1, 127, 128, 16383, 16384, 1 << 32, (1 << 64) - 1]
    METADATA = [[], [(b"k", b"v")], [(b"", b"v"), (b"k", b""), (b"", b"")],
                [(b"key" * 50, b"\x00" * 300)]]

    def expected(self, limits=framerpc.DEFAULT_LIMITS, message=b"", attachment=b"", **fields):
        metadata = fields.pop("metadata", [])
        envelope = pb.Envelope(**fields)
        for key, value in metadata:
            envelope.metadata.add(key=key, value=value)
        return encode_frame(envelope, message, attachment, limits)

    def result(self, fn):
        try:
            return fn()
        except FrameError as error:
            return (error.code, error.message)

    def test_request(self):
        message = pb.MetadataEntry(key=b"request")
        errors = set()
        for limits in (framerpc.DEFAULT_LIMITS, FrameLimits(max_metadata_bytes=100),
                       FrameLimits(max_body_bytes=400), FrameLimits(max_envelope_bytes=250)):
            core = _core.ConnectionCore("t", limits)
            for method, call_id, metadata, attachment, deadline, kind, window in (
                    itertools.product(self.METHODS, self.IDS, self.METADATA, [b"", b"a" * 200],
                                      [None, 10.5, 100.0 + 1e-7, 1e6],
                                      [MethodKind.UNARY, MethodKind.BIDI_STREAMING],
                                      [framerpc.INITIAL_WINDOW, 1000])):
                call = _core.Call(call_id, method, kind, None, deadline, window)
                with self.subTest(method=method, call_id=call_id, metadata=metadata,
                                  attachment=len(attachment), deadline=deadline, kind=kind,
                                  window=window):
                    timeout = _core.timeout_us(deadline, 10.0)
                    if kind is MethodKind.UNARY:
                        got = self.result(lambda: core.request_frame(
                            call, message, attachment, metadata, 10.0))
                        want = self.result(lambda: self.expected(
                            limits, message, attachment, kind=pb.REQUEST, call_id=call_id,
                            method=method.encode(), timeout_us=timeout, metadata=metadata))
                    else:
                        got = self.result(lambda: core.request_frame(call, b"", b"", metadata,
                                                                     10.0))
                        want = self.result(lambda: self.expected(
                            limits, kind=pb.REQUEST, call_id=call_id, method=method.encode(),
                            timeout_us=timeout, metadata=metadata,
                            window_update=0 if window == framerpc.INITIAL_WINDOW else window))
                    self.assertEqual(got, want)
                    if isinstance(want, tuple):
                        errors.add(want[1].split(" of ")[0])
        self.assertEqual(errors, {"frame body", "envelope", "metadata"})

    def test_stream_frames_cancel_and_window_update(self):
        core = _core.ConnectionCore("t", framerpc.DEFAULT_LIMITS)
        for call_id in self.IDS + [0]:
            call = _core.Call(call_id, "/a.B/C", MethodKind.BIDI_STREAMING, None, None, 1000)
            for attachment in (b"", b"x", b"y" * 1000):
                self.assertEqual(core.stream_message_frame(call, b"\x08\x01", attachment),
                                 self.expected(message=b"\x08\x01", attachment=attachment,
                                               kind=pb.STREAM_MESSAGE, call_id=call_id))
            self.assertEqual(core.half_close_frame(call),
                             self.expected(kind=pb.STREAM_MESSAGE, call_id=call_id,
                                           flags=pb.END_OF_STREAM))
            self.assertEqual(core.cancel_frame(call_id),
                             self.expected(kind=pb.CANCEL, call_id=call_id))
            self.assertEqual(core.consumed(call, 700),
                             self.expected(kind=pb.WINDOW_UPDATE, call_id=call_id,
                                           window_update=700))
        for ping_data in (0, 1, 300, (1 << 64) - 1):
            self.assertEqual(core.ping_ack_frame(ping_data),
                             self.expected(kind=pb.PING, flags=pb.ACK, ping_data=ping_data))


class CodecTest(unittest.TestCase):
    def test_c_hex_escape(self):
        self.assertEqual(c_hex_escape(b"GET "), "GET ")
        self.assertEqual(c_hex_escape(b"\n\x00\x39\x41"), "\\n\\x00\\x39\\x41")
        self.assertEqual(c_hex_escape(b"\x00g"), "\\x00g")  # g is not a hex digit
        self.assertEqual(c_hex_escape(b"\r\t\"'\\"), "\\r\\t\\\"\\'\\\\")
        self.assertEqual(c_hex_escape(b"\x7f\xff~"), "\\x7f\\xff~")

    def test_header_is_checked_before_the_body(self):
        header = b"FRPC\x01\x00\x00\x00" + (100 << 20).to_bytes(4, "big") + (4).to_bytes(4, "big")
        decoder = FrameDecoder()
        with self.assertRaises(FrameError) as caught:
            decoder.feed(header)
        self.assertEqual(caught.exception.code, StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(decoder.buffered, 16)

    def test_bad_magic_rejected_at_the_first_byte(self):
        with self.assertRaises(FrameError) as caught:
            FrameDecoder().feed(b"G")
        self.assertEqual(caught.exception.message,
                         "bad magic: not a framerpc stream (first bytes G)")
        self.assertIsNone(check_header(b"FRP"))

    def test_a_failed_decoder_raises_a_fresh_error_each_time(self):
        decoder = FrameDecoder()
        errors = []
        for feed in (lambda: decoder.feed(b"G"), decoder.next, lambda: decoder.feed(b"x")):
            with self.assertRaises(FrameError) as caught:
                feed()
            errors.append(caught.exception)
        self.assertEqual(len({id(error) for error in errors}), 3)
        self.assertEqual(len(set(errors)), 1)  # equal: the same code and message

    def test_frame_then_garbage_yields_the_frame_first(self):
        good = encode_frame(pb.Envelope(kind=pb.CANCEL, call_id=3))
        decoder = FrameDecoder()
        decoder.feed(good + b"XXXX")
        frame = decoder.next()
        self.assertEqual(frame.envelope.call_id, 3)
        with self.assertRaises(FrameError):
            decoder.next()

    def test_encode_accepts_messages_and_sets_attachment_size(self):
        envelope = pb.Envelope(kind=pb.REQUEST, call_id=1, method=b"/a.B/C")
        frame = encode_frame(envelope, pb.MetadataEntry(key=b"k"), b"att")
        decoded, consumed = decode_frame(frame)
        self.assertEqual(consumed, len(frame))
        self.assertEqual(decoded.envelope.attachment_size, 3)
        self.assertEqual(decoded.message_bytes, b"\x0a\x01k")
        self.assertEqual(decoded.attachment, b"att")

    def test_limits_validation(self):
        with self.assertRaises(ValueError):
            FrameLimits(max_body_bytes=-1)
        with self.assertRaises(ValueError):
            FrameLimits(max_envelope_bytes=1 << 32)

    def test_status_from_wire(self):
        self.assertEqual(StatusCode.from_wire(5), StatusCode.NOT_FOUND)
        self.assertEqual(StatusCode.from_wire(17), StatusCode.UNKNOWN)
        self.assertEqual(StatusCode.from_wire(-1), StatusCode.UNKNOWN)
        error = framerpc.RpcError(StatusCode.NOT_FOUND, "x")
        self.assertEqual(str(error), "NOT_FOUND: x")


if __name__ == "__main__":
    unittest.main()
