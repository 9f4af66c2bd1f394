#!/usr/bin/python3
"""Generates the shared framerpc test vectors: tests/vectors/manifest.json and frames/*.hex.

    /usr/bin/python3 tests/vectors/gen_vectors.py            # rewrite the files
    /usr/bin/python3 tests/vectors/gen_vectors.py --check    # fail if they are not up to date

The frames are built here independently of every codec under test: the envelope and the messages
are serialized by protoc-generated Python classes (python3-protobuf), the 16-byte header is packed
by hand. Expected error messages are written out literally from docs/protocol.md §8.1; they are not
computed by any decoder. Only the standard library, python3-protobuf and protoc are needed.
"""
import argparse
import collections
import importlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

DEFAULT_LIMITS = {"max_body_bytes": 64 << 20, "max_envelope_bytes": 64 << 10,
                  "max_metadata_bytes": 16 << 10}
SMALL_LIMITS = {"max_body_bytes": 64, "max_envelope_bytes": 64, "max_metadata_bytes": 16}
METADATA_LIMITS = {"max_body_bytes": 1024, "max_envelope_bytes": 1024, "max_metadata_bytes": 16}

INVALID_ARGUMENT = (3, "INVALID_ARGUMENT")
UNIMPLEMENTED = (12, "UNIMPLEMENTED")
RESOURCE_EXHAUSTED = (8, "RESOURCE_EXHAUSTED")

SAY = "/framerpc.echo.EchoService/Say"
BYTES = "/framerpc.echo.EchoService/Bytes"
# Vectors are codec-level: a streaming method need not exist anywhere to be framed.
WATCH = "/framerpc.example.Streams/Watch"


def load_protos(protoc):
    """protoc --python_out for envelope.proto and echo.proto into a temporary directory."""
    out = tempfile.mkdtemp(prefix="framerpc-vectors-")
    subprocess.run([protoc, "-I" + os.path.join(REPO, "transport"),
                    "-I" + os.path.join(REPO, "proto"), "--python_out=" + out,
                    "envelope.proto", "echo.proto"], check=True)
    sys.path.insert(0, out)
    try:
        return importlib.import_module("envelope_pb2"), importlib.import_module("echo_pb2")
    finally:
        sys.path.remove(out)
        shutil.rmtree(out)


def header(body, envelope, magic=b"FRPC", version=1, reserved=b"\0\0\0"):
    return magic + bytes([version]) + reserved + struct.pack(">II", body, envelope)


class Builder:
    def __init__(self, pb, echo):
        self.pb = pb
        self.echo = echo
        self.vectors = []
        self.encode_errors = []
        self.files = collections.OrderedDict()

    # -- envelopes -------------------------------------------------------------------------------

    def envelope(self, fields):
        """A framerpc.Envelope from readable fields (the manifest's EnvelopeFields)."""
        env = self.pb.Envelope()
        for key, value in fields.items():
            if key == "kind":
                env.kind = self.pb.FrameKind.Value(value)
            elif key in ("method", "status_message"):
                setattr(env, key, value.encode())
            elif key == "metadata":
                for entry in value:
                    env.metadata.add(key=entry["key"].encode(), value=entry["value"].encode())
            elif key == "ping_data":  # a decimal string, as proto JSON writes 64-bit integers
                env.ping_data = int(value)
            else:
                setattr(env, key, value)
        return env

    def attachment_for_body(self, fields, body):
        """An attachment that makes a frame with `fields` and no message `body` bytes long."""
        size = body
        for _ in range(3):  # attachment_size's own varint length settles quickly
            env = self.envelope(dict(fields, attachment_size=size)).SerializeToString()
            size = body - len(env)
        return b"\xab" * size

    def frame(self, fields, message=b"", attachment=b""):
        """A well-formed frame; `fields` gets attachment_size as an encoder would set it."""
        fields = dict(fields)
        if attachment:
            fields["attachment_size"] = len(attachment)
        env = self.envelope(fields).SerializeToString()
        payload = message + attachment
        return header(len(env) + len(payload), len(env)) + env + payload, fields

    # -- recording ---------------------------------------------------------------------------------

    def add_file(self, name, data):
        self.files[name + ".hex"] = data
        return "frames/" + name + ".hex"

    def valid(self, name, description, spec, fields, message=None, attachment=b"", limits=None,
              extra=b"", reencodes=True, envelope_bytes=None):
        msg = message.SerializeToString() if message is not None else b""
        data, fields = self.frame(fields, msg, attachment)
        if envelope_bytes is not None:  # a hand-made envelope (unknown fields, say)
            payload = msg + attachment
            data = header(len(envelope_bytes) + len(payload), len(envelope_bytes)) + \
                envelope_bytes + payload
        vector = collections.OrderedDict(
            name=name, file=self.add_file(name, data + extra), description=description, spec=spec)
        if limits:
            vector["limits"] = limits
        vector["outcome"] = "FRAME"
        vector["consumed"] = len(data)
        vector["envelope"] = fields
        vector["message_hex"] = msg.hex()
        if message is not None:
            vector["message_type"] = message.DESCRIPTOR.full_name
        vector["attachment_hex"] = attachment.hex()
        vector["reencodes"] = reencodes
        self.vectors.append(vector)
        return data

    def need_more(self, name, description, spec, data):
        self.vectors.append(collections.OrderedDict(
            name=name, file=self.add_file(name, data), description=description, spec=spec,
            outcome="NEED_MORE"))

    def error(self, name, description, spec, data, code, message, limits=None):
        vector = collections.OrderedDict(
            name=name, file=self.add_file(name, data), description=description, spec=spec)
        if limits:
            vector["limits"] = limits
        vector["outcome"] = "ERROR"
        vector["error_code"] = code[0]
        vector["error_code_name"] = code[1]
        vector["error_message"] = message
        self.vectors.append(vector)

    def encode_error(self, name, description, fields, code, message, msg=b"", attachment=b"",
                     limits=None):
        entry = collections.OrderedDict(name=name, description=description)
        if limits:
            entry["limits"] = limits
        entry["envelope"] = fields
        entry["message_hex"] = msg.hex()
        entry["attachment_hex"] = attachment.hex()
        entry["error_code"] = code[0]
        entry["error_code_name"] = code[1]
        entry["error_message"] = message
        self.encode_errors.append(entry)


def build(pb, echo):
    b = Builder(pb, echo)
    say_hi = echo.SayRequest(text="hi")

    # --- Unary calls ----------------------------------------------------------------------------
    request_say = b.valid(
        "unary_request_say", "The worked example of §4: REQUEST Say(text: \"hi\"), call 1.", "§4",
        {"kind": "REQUEST", "call_id": 1, "method": SAY}, say_hi)
    b.valid("unary_response_say", "§4's reply: RESPONSE OK, SayReply(text: \"hi\").", "§4",
            {"kind": "RESPONSE", "call_id": 1}, echo.SayReply(text="hi"))
    b.valid("unary_request_deadline_metadata",
            "REQUEST with a deadline (250 ms), two metadata entries, a multi-byte call id and a "
            "UTF-8 message.", "§5, §7.2",
            {"kind": "REQUEST", "call_id": 300, "method": SAY, "timeout_us": 250000,
             "metadata": [{"key": "x-request-id", "value": "42"},
                          {"key": "tenant", "value": "blue"}]},
            echo.SayRequest(text="h\u00e9llo", uppercase=True))
    b.valid("unary_request_empty_message",
            "REQUEST whose message has every field at its default: a 0-byte message.", "§3",
            {"kind": "REQUEST", "call_id": 2, "method": SAY}, echo.SayRequest())
    b.valid("error_response_unimplemented",
            "RESPONSE with an error status: no payload, the status message as sent.", "§8.2",
            {"kind": "RESPONSE", "call_id": 3, "status_code": 12,
             "status_message": "unknown method '/framerpc.echo.EchoService/Shout'"})
    b.valid("error_response_deadline", "RESPONSE DEADLINE_EXCEEDED.", "§7.2, §8.2",
            {"kind": "RESPONSE", "call_id": 4, "status_code": 4,
             "status_message": "deadline exceeded"})
    attachment = b"raw attachment bytes"
    b.valid("unary_request_attachment",
            "REQUEST Bytes: an empty message and a 20-byte attachment.", "§3, §5",
            {"kind": "REQUEST", "call_id": 5, "method": BYTES}, echo.BytesRequest(), attachment)
    b.valid("unary_response_attachment",
            "RESPONSE OK: BytesReply(size: 20) followed by the 20-byte attachment.", "§3, §5",
            {"kind": "RESPONSE", "call_id": 5}, echo.BytesReply(size=len(attachment)), attachment)
    b.valid("attachment_all_byte_values",
            "REQUEST Bytes whose attachment holds every byte value 0..255.", "§3",
            {"kind": "REQUEST", "call_id": 6, "method": BYTES}, echo.BytesRequest(),
            bytes(range(256)))

    # --- Connection-level and control frames ------------------------------------------------------
    cancel = b.valid("cancel", "CANCEL call 1 (§4).", "§4, §7.3",
                     {"kind": "CANCEL", "call_id": 1})
    goaway = b.valid("goaway", "GOAWAY with last_call_id 7 (§4).", "§4, §9",
                     {"kind": "GOAWAY", "last_call_id": 7})
    b.valid("goaway_nothing_accepted", "GOAWAY from a connection that accepted no call: "
            "last_call_id 0 is absent.", "§9", {"kind": "GOAWAY"})
    b.valid("connection_error", "CONNECTION_ERROR INVALID_ARGUMENT, call id 0.", "§8.1",
            {"kind": "CONNECTION_ERROR", "status_code": 3,
             "status_message": "envelope length is 0"})
    # ping_data uses all 64 bits: a reader that keeps it as a double (JavaScript numbers) would
    # echo another value. It is a string in the manifest, as proto JSON writes 64-bit integers.
    b.valid("ping", "PING with ping_data 0xfedcba9876543210, as a server's keepalive probe.",
            "§9.1", {"kind": "PING", "ping_data": str(0xFEDCBA9876543210)})
    b.valid("ping_ack", "The answer: PING with the ACK flag (2) and the same ping_data.", "§9.1",
            {"kind": "PING", "flags": 2, "ping_data": str(0xFEDCBA9876543210)})
    b.valid("ping_no_data", "PING whose ping_data is 0: the field is absent.", "§9.1",
            {"kind": "PING"})

    # --- Streaming (§11) --------------------------------------------------------------------------
    b.valid("stream_request_open",
            "REQUEST opening a streaming call: empty payload, a deadline and a 64 KiB initial "
            "receive window.", "§11, §11.2",
            {"kind": "REQUEST", "call_id": 9, "method": WATCH, "timeout_us": 5000000,
             "window_update": 65536})
    b.valid("stream_message", "STREAM_MESSAGE carrying one message.", "§11",
            {"kind": "STREAM_MESSAGE", "call_id": 9}, echo.SayRequest(text="first"))
    b.valid("stream_message_empty",
            "STREAM_MESSAGE carrying a 0-byte message: it still costs 4 bytes of credit.",
            "§11, §11.2", {"kind": "STREAM_MESSAGE", "call_id": 9}, echo.SayReply())
    b.valid("stream_message_attachment",
            "STREAM_MESSAGE with a message and an attachment (a file chunk, say).", "§11",
            {"kind": "STREAM_MESSAGE", "call_id": 9}, echo.BytesReply(size=4096),
            bytes(range(32)))
    b.valid("half_close", "STREAM_MESSAGE with END_OF_STREAM and no payload: the client's "
            "half-close.", "§11", {"kind": "STREAM_MESSAGE", "call_id": 9, "flags": 1})
    b.valid("window_update", "WINDOW_UPDATE returning 512 KiB of credit on call 9.", "§11.2",
            {"kind": "WINDOW_UPDATE", "call_id": 9, "window_update": 524288})
    b.valid("stream_response_ok", "RESPONSE OK ending a server-streaming call: no message.",
            "§11", {"kind": "RESPONSE", "call_id": 9})
    b.valid("stream_response_cancelled", "RESPONSE CANCELLED ending a stream early.", "§11",
            {"kind": "RESPONSE", "call_id": 9, "status_code": 1,
             "status_message": "handler gave up"})

    # --- Decoder corner cases that succeed --------------------------------------------------------
    known = b.envelope({"kind": "CANCEL", "call_id": 12}).SerializeToString()
    b.valid("unknown_envelope_field",
            "An envelope with an unknown field (number 100, varint 1): it parses and the field is "
            "ignored.", "§14", {"kind": "CANCEL", "call_id": 12},
            envelope_bytes=known + bytes([0xa0, 0x06, 0x01]), reencodes=False)
    b.valid("two_frames", "CANCEL followed by GOAWAY in one buffer: the first decode consumes "
            "only the first frame.", "§3", {"kind": "CANCEL", "call_id": 1}, extra=goaway)
    bytes_call = {"kind": "REQUEST", "call_id": 1, "method": BYTES}
    b.valid("body_at_limit", "A body of exactly max_body_bytes (64) is accepted.", "§6",
            bytes_call, echo.BytesRequest(), b.attachment_for_body(bytes_call, 64),
            limits=SMALL_LIMITS)
    b.valid("metadata_at_limit", "Metadata of exactly max_metadata_bytes (16) is accepted.",
            "§6", {"kind": "REQUEST", "call_id": 1, "method": SAY,
                   "metadata": [{"key": "k", "value": "v" * 15}]}, limits=METADATA_LIMITS)

    # --- Incomplete input -------------------------------------------------------------------------
    b.need_more("need_more_empty_input", "No bytes at all.", "§3", b"")
    b.need_more("need_more_partial_header", "Six valid header bytes.", "§6",
                request_say[:6])
    b.need_more("need_more_partial_body",
                "A complete header and part of the body: nothing is decoded yet.", "§3",
                request_say[:30])
    b.need_more("need_more_header_of_large_frame",
                "The header of a 1 MiB frame (within the limits) without its body.", "§6",
                header(1 << 20, 4))

    # --- Malformed (§8.1, in the table's order) ---------------------------------------------------
    b.error("bad_magic_http", "An HTTP/1.1 request.", "§8.1", b"GET / HTTP/1.1\r\n\r\n",
            INVALID_ARGUMENT, "bad magic: not a framerpc stream (first bytes GET )")
    b.error("bad_magic_http2", "The HTTP/2 client preface.", "§8.1, §12",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", INVALID_ARGUMENT,
            "bad magic: not a framerpc stream (first bytes PRI )")
    b.error("bad_magic_first_byte", "A single wrong first byte is enough.", "§6, §8.1", b"X",
            INVALID_ARGUMENT, "bad magic: not a framerpc stream (first bytes X)")
    b.error("bad_magic_third_byte", "\"FRX\": rejected at the third byte.", "§8.1", b"FRX",
            INVALID_ARGUMENT, "bad magic: not a framerpc stream (first bytes FRX)")
    b.error("bad_magic_tls", "A TLS ClientHello: non-printable bytes are \\xNN escaped.",
            "§8.1, §12", bytes.fromhex("1603010200010001fc0303"), INVALID_ARGUMENT,
            "bad magic: not a framerpc stream (first bytes \\x16\\x03\\x01\\x02)")
    b.error("bad_magic_escaping",
            "C escaping: \\n by name, \\x00 in hex, and a hex digit right after a \\xNN escape "
            "escaped too (absl::CHexEscape).", "§8.1", bytes.fromhex("0a003941") + b"rest",
            INVALID_ARGUMENT, "bad magic: not a framerpc stream (first bytes \\n\\x00\\x39\\x41)")
    b.error("bad_magic_quote", "Quotes and backslashes are escaped with a backslash.", "§8.1",
            b"'\"\\z", INVALID_ARGUMENT,
            "bad magic: not a framerpc stream (first bytes \\'\\\"\\\\z)")
    b.error("bad_version", "Version 2.", "§8.1, §14", b"FRPC\x02" + request_say[5:],
            UNIMPLEMENTED, "unsupported protocol version 2 (supported: 1)")
    b.error("bad_version_prefix", "Version 0, seen from the first five bytes alone.", "§8.1",
            b"FRPC\x00", UNIMPLEMENTED, "unsupported protocol version 0 (supported: 1)")
    b.error("bad_version_255", "Version 255 (the byte is unsigned).", "§8.1", b"FRPC\xff\0\0\0",
            UNIMPLEMENTED, "unsupported protocol version 255 (supported: 1)")
    b.error("reserved_byte_5", "Reserved byte 5 is not zero.", "§8.1, §14",
            request_say[:5] + b"\x01" + request_say[6:], INVALID_ARGUMENT,
            "reserved header byte 5 is not zero")
    b.error("reserved_byte_7", "Reserved byte 7 is not zero, seen before the lengths arrive.",
            "§8.1", b"FRPC\x01\x00\x00\x80", INVALID_ARGUMENT,
            "reserved header byte 7 is not zero")
    b.error("body_over_limit", "A header announcing a body of 64 MiB + 1: rejected from the "
            "header alone, before any of the body.", "§6, §8.1", header((64 << 20) + 1, 4),
            RESOURCE_EXHAUSTED, "frame body of 67108865 bytes exceeds the limit of 67108864")
    b.error("body_over_limit_max", "A body length of 2^32 - 1.", "§8.1",
            header(0xffffffff, 0xffffffff), RESOURCE_EXHAUSTED,
            "frame body of 4294967295 bytes exceeds the limit of 67108864")
    over = b.frame(bytes_call, b"", b.attachment_for_body(bytes_call, 65))[0]
    b.error("body_over_custom_limit", "A complete 65-byte body with max_body_bytes 64.",
            "§6, §8.1", over, RESOURCE_EXHAUSTED, "frame body of 65 bytes exceeds the limit of 64",
            limits=SMALL_LIMITS)
    b.error("envelope_length_zero", "Envelope length 0.", "§8.1",
            header(4, 0) + b"\x0a\x02hi", INVALID_ARGUMENT, "envelope length is 0")
    b.error("envelope_longer_than_body", "Envelope length 5 with body length 4.", "§8.1",
            header(4, 5) + cancel[16:], INVALID_ARGUMENT,
            "envelope length 5 exceeds body length 4")
    b.error("envelope_over_limit", "An envelope length of 64 KiB + 1, from the header alone.",
            "§6, §8.1", header(70000, 65537), RESOURCE_EXHAUSTED,
            "envelope of 65537 bytes exceeds the limit of 65536")
    b.error("order_body_limit_before_envelope_zero",
            "Both an oversized body and envelope length 0: the body limit is checked first.",
            "§8.1", header(100, 0), RESOURCE_EXHAUSTED,
            "frame body of 100 bytes exceeds the limit of 64", limits=SMALL_LIMITS)
    b.error("garbage_envelope_wire_type",
            "An envelope starting with tag 0x0f (wire type 7, which does not exist).", "§8.1",
            header(4, 4) + b"\x0f\x01\x02\x03", INVALID_ARGUMENT,
            "envelope is not a valid framerpc.Envelope")
    b.error("garbage_envelope_truncated",
            "An envelope whose method field claims 5 bytes but has 1.", "§8.1",
            header(5, 5) + b"\x08\x01\x1a\x05A", INVALID_ARGUMENT,
            "envelope is not a valid framerpc.Envelope")
    b.error("metadata_over_limit", "17 bytes of metadata with max_metadata_bytes 16.",
            "§6, §8.1", b.frame({"kind": "REQUEST", "call_id": 1, "method": SAY,
                                 "metadata": [{"key": "k", "value": "v" * 8},
                                              {"key": "kk", "value": "v" * 6}]})[0],
            RESOURCE_EXHAUSTED, "metadata of 17 bytes exceeds the limit of 16",
            limits=METADATA_LIMITS)
    env = b.envelope({"kind": "REQUEST", "call_id": 1, "method": BYTES,
                      "attachment_size": 10}).SerializeToString()
    b.error("attachment_larger_than_payload", "attachment_size 10 with a 4-byte payload.",
            "§5, §8.1", header(len(env) + 4, len(env)) + env + b"abcd", INVALID_ARGUMENT,
            "attachment size 10 exceeds payload size 4")
    env = b.envelope({"kind": "CANCEL", "call_id": 1, "attachment_size": 1}).SerializeToString()
    b.error("attachment_on_control_frame",
            "attachment_size is validated on every kind: a CANCEL with attachment_size 1 and no "
            "payload.", "§5", header(len(env), len(env)) + env, INVALID_ARGUMENT,
            "attachment size 1 exceeds payload size 0")
    env = b.envelope({"kind": "REQUEST", "call_id": 1, "method": SAY, "attachment_size": 99,
                      "metadata": [{"key": "k", "value": "v" * 16}]}).SerializeToString()
    b.error("order_metadata_before_attachment",
            "Metadata over the limit and an attachment larger than the payload: metadata first.",
            "§8.1", header(len(env), len(env)) + env, RESOURCE_EXHAUSTED,
            "metadata of 17 bytes exceeds the limit of 16", limits=METADATA_LIMITS)

    # --- What an encoder must refuse ------------------------------------------------------------
    b.encode_error("encode_empty_envelope", "An envelope with every field at its default "
                   "serializes to 0 bytes, which is invalid on the wire.", {},
                   INVALID_ARGUMENT, "envelope is empty (set its kind)")
    b.encode_error("encode_body_over_limit", "Envelope and attachment making 65 bytes of body "
                   "with max_body_bytes 64.", bytes_call, RESOURCE_EXHAUSTED,
                   "frame body of 65 bytes exceeds the limit of 64",
                   attachment=b.attachment_for_body(bytes_call, 65), limits=SMALL_LIMITS)
    long_method = {"kind": "REQUEST", "call_id": 1, "method": "/" + "m" * 66}
    long_size = len(b.envelope(long_method).SerializeToString())
    b.encode_error("encode_envelope_over_limit", "An envelope of %d bytes with "
                   "max_envelope_bytes 64 (and a body within max_body_bytes 1024)." % long_size,
                   long_method, RESOURCE_EXHAUSTED,
                   "envelope of %d bytes exceeds the limit of 64" % long_size,
                   limits={"max_body_bytes": 1024, "max_envelope_bytes": 64,
                           "max_metadata_bytes": 16})
    b.encode_error("encode_metadata_over_limit", "17 bytes of metadata with max_metadata_bytes "
                   "16.", {"kind": "REQUEST", "call_id": 1, "method": SAY,
                           "metadata": [{"key": "k", "value": "v" * 16}]},
                   RESOURCE_EXHAUSTED, "metadata of 17 bytes exceeds the limit of 16",
                   limits=METADATA_LIMITS)
    return b


def to_hex(data):
    lines = [" ".join("%02x" % c for c in data[i:i + 16]) for i in range(0, len(data), 16)]
    return "\n".join(lines) + "\n"


def render(b):
    manifest = collections.OrderedDict(
        format=1,
        description="framerpc shared test vectors (docs/protocol.md). Generated by "
                    "tests/vectors/gen_vectors.py; see tests/vectors/README.md.",
        vectors=b.vectors, encode_errors=b.encode_errors)
    outputs = collections.OrderedDict()
    outputs["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    for name, data in b.files.items():
        outputs["frames/" + name] = to_hex(data)
    return outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protoc", default="/usr/bin/protoc")
    parser.add_argument("--out", default=HERE, help="directory to write (or check) the files in")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing them")
    args = parser.parse_args()
    pb, echo = load_protos(args.protoc)
    outputs = render(build(pb, echo))

    frames_dir = os.path.join(args.out, "frames")
    expected_hex = {name for name in outputs if name.startswith("frames/")}
    present_hex = {"frames/" + n for n in os.listdir(frames_dir) if n.endswith(".hex")} \
        if os.path.isdir(frames_dir) else set()
    if args.check:
        stale = [name for name, text in outputs.items()
                 if not os.path.exists(os.path.join(args.out, name))
                 or open(os.path.join(args.out, name), encoding="utf-8").read() != text]
        stale += sorted(present_hex - expected_hex)
        if stale:
            print("out of date (rerun tests/vectors/gen_vectors.py): " + ", ".join(stale))
            return 1
        print("%d vector files up to date" % len(outputs))
        return 0
    os.makedirs(frames_dir, exist_ok=True)
    for name in sorted(present_hex - expected_hex):
        os.remove(os.path.join(args.out, name))
    for name, text in outputs.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
    print("wrote %d files to %s" % (len(outputs), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
