"""The Python client against the real C++ framerpc_server (started here on port 0 and a Unix
socket): echo over both, attachments, errors, metadata, a deadline and a cancellation (made
deterministic by stopping the server with SIGSTOP), graceful shutdown, and golden vectors sent
raw. framerpc_server hosts only the echo service today; streaming interop waits for the C++
streaming transport (see docs/clients.md)."""
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

import framerpc
import framerpc.aio
from framerpc import RpcError, StatusCode
from framerpc.codec import FrameDecoder

from proto import echo_frpc
from proto.echo_pb2 import BytesReply, BytesRequest, SayReply, SayRequest

SERVER = os.environ.get("FRAMERPC_SERVER")
VECTORS = os.environ.get("FRAMERPC_VECTORS", "")


def start_server(workdir):
    """Starts framerpc_server; returns (process, tcp address, unix address). Its first stdout line,
    written once it serves, names the bound addresses."""
    with open(os.path.join(workdir, "stderr"), "w") as stderr:
        process = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0,unix:%s/s.sock" % workdir, "--io_threads=2",
             "--shutdown_grace=5s"],
            stdout=subprocess.PIPE, stderr=stderr, text=True)
    process.workdir = workdir
    line = process.stdout.readline()
    prefix = "framerpc_server: serving "
    if not line.startswith(prefix):
        process.kill()
        process.wait()
        raise AssertionError("server did not start: %r %s" % (line, server_stderr(process)))
    tcp, unix = line[len(prefix):].strip().split(", ")
    return process, tcp, unix


def server_stderr(process):
    with open(os.path.join(process.workdir, "stderr")) as f:
        return f.read()


def stop_server(process):
    process.send_signal(signal.SIGCONT)
    process.terminate()
    out, _ = process.communicate(timeout=30)
    return process.returncode, out, server_stderr(process)


@unittest.skipUnless(SERVER or os.environ.get("TEST_SRCDIR"),
                     "set FRAMERPC_SERVER to the path of framerpc_server")
class InteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not SERVER:
            raise AssertionError("FRAMERPC_SERVER is not set")
        # Unix socket paths are short; TEST_TMPDIR may not be.
        cls.workdir = tempfile.mkdtemp(prefix="frpc-interop-", dir="/tmp")
        cls.process, cls.tcp, cls.unix = start_server(cls.workdir)

    @classmethod
    def tearDownClass(cls):
        code, _, err = stop_server(cls.process)
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if code != 0:
            raise AssertionError("server exited with %d: %s" % (code, err))

    def setUp(self):
        self.channel = framerpc.Channel(self.tcp)
        self.stub = echo_frpc.EchoServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def stopped(self):
        """A context in which the server process is stopped (SIGSTOP), so that it answers
        nothing until the block ends."""
        process = self.process

        class Stopped:
            def __enter__(self):
                process.send_signal(signal.SIGSTOP)
                # kill() returns before every thread has stopped; waitpid(WUNTRACED) returns once
                # the whole process has.
                _, status = os.waitpid(process.pid, os.WUNTRACED)
                if not os.WIFSTOPPED(status):
                    raise AssertionError("server did not stop: status %#x" % status)

            def __exit__(self, *exc):
                process.send_signal(signal.SIGCONT)

        return Stopped()

    def test_say_over_tcp_and_unix(self):
        self.assertEqual(self.stub.Say(SayRequest(text="hello")).text, "hello")
        self.assertEqual(self.stub.Say(SayRequest(text="shout it", uppercase=True)).text,
                         "SHOUT IT")
        with framerpc.Channel(self.unix) as channel:
            reply = echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="über unix"))
        self.assertEqual(reply.text, "über unix")

    def test_bytes_attachment(self):
        data = random.Random(6).randbytes(3 << 20)
        context = framerpc.ClientContext(attachment=data, timeout=30)
        reply = self.stub.Bytes(BytesRequest(), context=context)
        self.assertEqual(reply.size, len(data))
        self.assertEqual(context.response_attachment, data)
        context = framerpc.ClientContext()
        self.assertEqual(self.stub.Bytes(BytesRequest(), context=context).size, 0)
        self.assertEqual(context.response_attachment, b"")

    def test_metadata_and_deadline_are_accepted(self):
        reply = self.stub.Say(SayRequest(text="md"), timeout=5,
                              metadata={"x-trace": "abc", b"bin": b"\x00\x01"})
        self.assertEqual(reply.text, "md")

    def test_errors(self):
        with self.assertRaises(RpcError) as caught:
            self.channel.unary_call("/framerpc.echo.EchoService/Shout", SayRequest(), SayReply)
        self.assertEqual(caught.exception, RpcError(
            StatusCode.UNIMPLEMENTED, "unknown method '/framerpc.echo.EchoService/Shout'"))
        with self.assertRaises(RpcError) as caught:  # raw bytes that are no SayRequest
            self.channel.unary_call("/framerpc.echo.EchoService/Say", b"\x0a\x05ab", SayReply)
        self.assertEqual(caught.exception, RpcError(
            StatusCode.INVALID_ARGUMENT, "request is not a valid framerpc.echo.SayRequest"))
        self.assertEqual(self.stub.Say(SayRequest(text="still fine")).text, "still fine")

    def test_many_threads(self):
        errors = []

        def worker(n):
            try:
                for i in range(25):
                    text = "%d-%d" % (n, i)
                    if self.stub.Say(SayRequest(text=text)).text != text:
                        errors.append(text)
            except RpcError as error:
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_deadline(self):
        self.stub.Say(SayRequest(text="warm up"))  # connected before the server stops
        with self.stopped():
            with self.assertRaises(RpcError) as caught:
                self.stub.Say(SayRequest(text="late"), timeout=0.3)
        self.assertEqual(caught.exception,
                         RpcError(StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"))
        # The server now reads the REQUEST and the client's CANCEL; whatever it answers for the
        # abandoned call is ignored, and the connection goes on.
        self.assertEqual(self.stub.Say(SayRequest(text="after")).text, "after")
        with self.assertRaises(RpcError) as caught:
            self.stub.Say(SayRequest(), timeout=0)
        self.assertEqual(caught.exception.message, "deadline exceeded before the call started")

    def test_cancellation(self):
        self.stub.Say(SayRequest(text="warm up"))
        context = framerpc.ClientContext()
        result = {}

        def call():
            try:
                result["reply"] = self.stub.Say(SayRequest(text="never"), context=context)
            except RpcError as error:
                result["error"] = error

        with self.stopped():
            thread = threading.Thread(target=call)
            thread.start()
            self.assertTrue(context._sent.wait(30))  # the REQUEST is on the wire
            context.cancel()
            thread.join()
        self.assertEqual(result, {"error": RpcError(StatusCode.CANCELLED,
                                                    "cancelled by the client")})
        self.assertEqual(self.stub.Say(SayRequest(text="after")).text, "after")

    def test_asyncio(self):
        async def main():
            async with framerpc.aio.Channel(self.tcp) as channel:
                stub = echo_frpc.EchoServiceAsyncStub(channel)
                replies = await asyncio.gather(*[stub.Say(SayRequest(text=str(i)))
                                                 for i in range(40)])
                self.assertEqual([r.text for r in replies], [str(i) for i in range(40)])
                context = framerpc.ClientContext(attachment=b"\x00" * 100000)
                self.assertEqual((await stub.Bytes(BytesRequest(), context=context)).size,
                                 100000)
                self.assertEqual(len(context.response_attachment), 100000)
                # Cancelling the awaiting task sends CANCEL to a stopped server.
                with self.stopped():
                    context = framerpc.ClientContext()
                    task = asyncio.ensure_future(stub.Say(SayRequest(), context=context))
                    await asyncio.get_running_loop().run_in_executor(None, context._sent.wait)
                    task.cancel()
                    with self.assertRaises(asyncio.CancelledError):
                        await task
                    with self.assertRaises(RpcError) as caught:
                        await stub.Say(SayRequest(), timeout=0.2)
                    self.assertEqual(caught.exception.code, StatusCode.DEADLINE_EXCEEDED)
                self.assertEqual((await stub.Say(SayRequest(text="ok"))).text, "ok")

        asyncio.run(main())

    def test_golden_vectors_against_the_server(self):
        """The §4 example REQUEST, sent byte for byte, gets exactly the §4 reply; a stream that
        starts with "GET " gets the CONNECTION_ERROR of the bad_magic_http vector."""
        with open(os.path.join(VECTORS, "manifest.json"), encoding="utf-8") as f:
            vectors = {v["name"]: v for v in json.load(f)["vectors"]}

        def read_hex(name):
            with open(os.path.join(VECTORS, vectors[name]["file"]), encoding="ascii") as f:
                return bytes.fromhex("".join(f.read().split()))

        def exchange(data):
            host, port = self.tcp.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                sock.sendall(data)
                decoder = FrameDecoder()
                while True:
                    chunk = sock.recv(65536)
                    self.assertTrue(chunk, "server closed without replying")
                    decoder.feed(chunk)
                    frame = decoder.next()
                    if frame is not None:
                        return frame, chunk

        frame, raw = exchange(read_hex("unary_request_say"))
        self.assertEqual(raw.hex(), read_hex("unary_response_say").hex())
        frame, _ = exchange(read_hex("bad_magic_http"))
        bad_magic = vectors["bad_magic_http"]
        self.assertEqual(frame.envelope.kind, framerpc.envelope_pb2.CONNECTION_ERROR)
        self.assertEqual(frame.envelope.status_code, bad_magic["error_code"])
        self.assertEqual(frame.envelope.status_message.decode(), bad_magic["error_message"])


@unittest.skipUnless(SERVER or os.environ.get("TEST_SRCDIR"), "set FRAMERPC_SERVER")
class ShutdownTest(unittest.TestCase):
    def test_calls_after_a_graceful_shutdown_open_a_new_connection(self):
        workdir = tempfile.mkdtemp(prefix="frpc-interop-", dir="/tmp")
        try:
            process, tcp, _ = start_server(workdir)
            with framerpc.Channel(tcp) as channel:
                stub = echo_frpc.EchoServiceStub(channel)
                self.assertEqual(stub.Say(SayRequest(text="before")).text, "before")
                connection = channel._current
                code, out, err = stop_server(process)  # SIGTERM: GOAWAY, then close
                self.assertEqual(code, 0, err)
                self.assertIn("stopped", out)
                # The channel has seen the GOAWAY and the end of the connection once its reader
                # thread is done; the next call must not reuse that connection.
                connection.reader.join(30)
                self.assertFalse(connection.reader.is_alive())
                with self.assertRaises(RpcError) as caught:
                    stub.Say(SayRequest(text="after"))
                self.assertEqual(caught.exception.code, StatusCode.UNAVAILABLE)
                self.assertTrue(caught.exception.message.startswith(
                    "connect to %s failed: " % tcp), caught.exception.message)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
