"""The Python client against the real C++ framerpc_server (started here on port 0 and a Unix
socket): echo over both, attachments, errors, metadata, a deadline and a cancellation (made
deterministic by stopping the server with SIGSTOP), graceful shutdown, and golden vectors sent
raw; and, on a server with the command and file services (loopback and Unix socket only, so no
token), Exec (arguments, stdin streamed to cat, exit codes, a refused program), a download checked
against the trailer's SHA-256 and the file on disk, uploads downloaded back, and the
examples/fetch_and_run.py example run as a user runs it."""
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

import xxhash

import framerpc
import framerpc.aio
from framerpc import RpcError, StatusCode, checksum
from framerpc.codec import FrameDecoder

from proto import echo_frpc
from proto.echo_pb2 import BytesReply, BytesRequest, SayReply, SayRequest
from services.command import command_frpc
from services.command.command_pb2 import CommandSpec, ExecRequest, ExecStart
from services.file import file_frpc
from services.file.file_pb2 import (DownloadRequest, FileKind, StatRequest, UploadHeader,
                                    UploadRequest)

SERVER = os.environ.get("FRAMERPC_SERVER")
VECTORS = os.environ.get("FRAMERPC_VECTORS", "")


def start_server(workdir, extra_args=()):
    """Starts framerpc_server; returns (process, tcp address, unix address). The last line of its
    start-up report, written once it serves, names the bound addresses."""
    with open(os.path.join(workdir, "stderr"), "w") as stderr:
        process = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0,unix:%s/s.sock" % workdir, "--io_threads=2",
             "--shutdown_grace=5s"] + list(extra_args),
            stdout=subprocess.PIPE, stderr=stderr, text=True)
    process.workdir = workdir
    line = read_serving_line(process)
    prefix = "framerpc_server: serving "
    if not line.startswith(prefix):
        process.kill()
        process.wait()
        raise AssertionError("server did not start: %r %s" % (line, server_stderr(process)))
    tcp, unix = line[len(prefix):].strip().split(", ")
    return process, tcp, unix


def read_serving_line(process):
    """Reads the server's start-up report (access lines, then the serving line); returns its last
    line, or the first unexpected one."""
    while True:
        line = process.stdout.readline()
        if not line.startswith("framerpc_server: ") or line.startswith("framerpc_server: serving "):
            return line


def server_stderr(process):
    with open(os.path.join(process.workdir, "stderr")) as f:
        return f.read()


def stop_server(process):
    process.send_signal(signal.SIGCONT)
    process.terminate()
    out, _ = process.communicate(timeout=30)
    return process.returncode, out, server_stderr(process)



async def cat_through_exec(stub, chunks):
    """Runs /bin/cat through an asyncio CommandService stub's Exec, writing `chunks` to its stdin;
    returns (its stdout, the exit codes the stream reported)."""
    stream = await stub.Exec(timeout=30)
    await stream.write(ExecRequest(start=ExecStart(
        command=CommandSpec(argv=["/bin/cat"]), stream_stdin=True)))
    for chunk in chunks:
        await stream.write(ExecRequest(stdin=chunk))
    await stream.write(ExecRequest(close_stdin=True))
    out, exit_codes = b"", []
    while True:
        response = await stream.read()
        if response is None:
            break
        if response.WhichOneof("kind") == "stdout":
            out += response.stdout
        elif response.WhichOneof("kind") == "exit":
            exit_codes.append(response.exit.exit_code)
            await stream.done_writing()
    await stream.finish()
    return out, exit_codes

class ServerTestCase(unittest.TestCase):
    """Runs one framerpc_server, with server_flags(), for all the tests of a class: its
    addresses are cls.tcp and cls.unix, and it must exit cleanly at the end."""

    WORKDIR_PREFIX = "frpc-interop-"

    @classmethod
    def server_flags(cls):
        return []

    @classmethod
    def setUpClass(cls):
        if not SERVER:
            raise AssertionError("FRAMERPC_SERVER is not set")
        # Unix socket paths are short; TEST_TMPDIR may not be.
        cls.workdir = tempfile.mkdtemp(prefix=cls.WORKDIR_PREFIX, dir="/tmp")
        cls.process, cls.tcp, cls.unix = start_server(cls.workdir, cls.server_flags())

    @classmethod
    def tearDownClass(cls):
        code, _, err = stop_server(cls.process)
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if code != 0:
            raise AssertionError("server exited with %d: %s" % (code, err))


@unittest.skipUnless(SERVER or os.environ.get("TEST_SRCDIR"),
                     "set FRAMERPC_SERVER to the path of framerpc_server")
class InteropTest(ServerTestCase):

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

    def test_say_over_an_abstract_unix_socket(self):
        # "unix:@name" is a Linux abstract socket on both sides: the server creates no file.
        name = "frpc-py-interop-%d" % os.getpid()
        workdir = tempfile.mkdtemp(prefix="frpc-abstract-", dir="/tmp")
        try:
            with open(os.path.join(workdir, "stderr"), "w") as stderr:
                process = subprocess.Popen(
                    [SERVER, "--listen=unix:@" + name, "--io_threads=1"],
                    stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=workdir)
            process.workdir = workdir
            try:
                self.assertEqual(read_serving_line(process).strip(),
                                 "framerpc_server: serving unix:@" + name)
                with framerpc.Channel("unix:@" + name) as channel:
                    reply = echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="abstract"))
                self.assertEqual(reply.text, "abstract")
                self.assertEqual(sorted(os.listdir(workdir)), ["stderr"])
            finally:
                code, _, err = stop_server(process)
            self.assertEqual(code, 0, err)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

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


def exec_command(stub, argv, stdin_chunks=None, timeout=30):
    """Runs argv through Exec; with stdin_chunks (a list of bytes), stream_stdin with those chunks
    then close_stdin. Returns (stdout, stderr, ExitStatus, number of output messages)."""
    stream = stub.Exec(timeout=timeout)
    with stream:
        start = ExecStart(command=CommandSpec(argv=argv), stream_stdin=stdin_chunks is not None)
        assert stream.write(ExecRequest(start=start))
        writer = None
        if stdin_chunks is None:
            stream.done_writing()
        else:
            # From a thread: cat's output comes back while its input goes in, and both are bounded
            # by windows and pipes, so writing everything before reading could block for ever.
            def write_stdin():
                for chunk in stdin_chunks:
                    if not stream.write(ExecRequest(stdin=chunk)):
                        return
                stream.write(ExecRequest(close_stdin=True))

            writer = threading.Thread(target=write_stdin)
            writer.start()
        out, err, exit_status, messages = [], [], None, 0
        for response in stream:
            kind = response.WhichOneof("kind")
            if exit_status is not None:
                raise AssertionError("%s after exit" % kind)
            messages += 1
            if kind == "stdout":
                out.append(response.stdout)
            elif kind == "stderr":
                err.append(response.stderr)
            else:
                exit_status = response.exit
                if writer is not None:
                    writer.join()  # close_stdin sent: cat has exited
                stream.done_writing()  # the server reads until the half-close
        if writer is not None:
            writer.join()
        stream.finish()
    return b"".join(out), b"".join(err), exit_status, messages


def download(stub, path, **kwargs):
    """Downloads path; returns (header, data, trailer, number of data messages)."""
    stream = stub.Download(DownloadRequest(path=path, **kwargs), timeout=60)
    with stream:
        header = trailer = None
        data = []
        while True:
            item = stream.read_with_attachment()
            if item is None:
                break
            message, attachment = item
            part = message.WhichOneof("part")
            if trailer is not None:
                raise AssertionError("a message after the trailer")
            if part == "header":
                if header is not None or data:
                    raise AssertionError("a second or late header")
                header = message.header
            elif part == "trailer":
                trailer = message.trailer
            else:
                if header is None or message.data or not attachment or \
                        len(attachment) > header.chunk_bytes:
                    raise AssertionError("bad data message: %r, %d bytes attached"
                                         % (message, len(attachment)))
                data.append(attachment)
        stream.finish()
    return header, b"".join(data), trailer, len(data)


def upload(stub, path, data, chunk=200000, header_sha256=b"", final_sha256=b"", overwrite=False,
           checksum=0, final_digest=b""):
    """Uploads data to path in attachments of `chunk` bytes; returns the UploadResponse."""
    stream = stub.Upload(timeout=60)
    with stream:
        assert stream.write(UploadRequest(header=UploadHeader(
            path=path, size=len(data), sha256=header_sha256, overwrite=overwrite,
            checksum=checksum)))
        for i in range(0, len(data), chunk):
            if not stream.write(UploadRequest(), attachment=data[i:i + chunk]):
                break  # the call has ended: finish() raises its error
        if final_sha256 or final_digest:
            stream.write(UploadRequest(sha256=final_sha256, digest=final_digest))
        return stream.finish()


@unittest.skipUnless(SERVER or os.environ.get("TEST_SRCDIR"), "set FRAMERPC_SERVER")
class ServicesTest(ServerTestCase):
    """framerpc_server with the command service (a few programs allowed) and a writable file
    service on a temporary root, served on loopback and a Unix socket only: no token."""

    ALLOW = "/bin/echo,/bin/cat,/usr/bin/seq"
    WORKDIR_PREFIX = "frpc-services-"

    @classmethod
    def server_flags(cls):
        cls.root = os.path.join(cls.workdir, "files")
        os.mkdir(cls.root)
        return ["--enable_command_service", "--command_allow=" + cls.ALLOW,
                "--file_root=" + cls.root, "--file_writable", "--trust_local_peers"]

    def setUp(self):
        self.channel = framerpc.Channel(self.unix)
        self.command = command_frpc.CommandServiceStub(self.channel)
        self.files = file_frpc.FileServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def local(self, name, data=None):
        """The path of name under the root; writes data there first when given."""
        path = os.path.join(self.root, name)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        return path

    def read_local(self, name):
        with open(self.local(name), "rb") as f:
            return f.read()

    # -- the command service ---------------------------------------------------------------------

    def test_exec_arguments_and_exit_codes(self):
        out, err, exit_status, _ = exec_command(self.command, ["/bin/echo", "one", "$(two)", "; three"])
        self.assertEqual((out, err), (b"one $(two) ; three\n", b""))
        self.assertEqual(exit_status.WhichOneof("how"), "exit_code")
        self.assertEqual(exit_status.exit_code, 0)
        self.assertFalse(exit_status.timed_out)
        out, _, exit_status, _ = exec_command(self.command, ["/usr/bin/seq", "100000"])
        self.assertEqual(out, b"".join(b"%d\n" % i for i in range(1, 100001)))
        self.assertEqual(exit_status.exit_code, 0)
        out, err, exit_status, _ = exec_command(self.command, ["/bin/cat", "/no/such/file"])
        self.assertEqual(out, b"")
        self.assertIn(b"/no/such/file", err)
        self.assertEqual((exit_status.WhichOneof("how"), exit_status.exit_code), ("exit_code", 1))

    def test_exec_streams_stdin_to_cat(self):
        data = random.Random(3).randbytes(1 << 20)
        chunks = [data[i:i + 50000] for i in range(0, len(data), 50000)]
        out, err, exit_status, messages = exec_command(self.command, ["/bin/cat"], chunks)
        self.assertEqual((len(out), err), (len(data), b""))
        self.assertEqual(out, data)
        self.assertEqual(exit_status.exit_code, 0)
        self.assertGreater(messages, 1)
        # Over TCP too, and with nothing on stdin.
        with framerpc.Channel(self.tcp) as channel:
            out, _, exit_status, _ = exec_command(command_frpc.CommandServiceStub(channel),
                                                  ["/bin/cat"], [])
        self.assertEqual((out, exit_status.exit_code), (b"", 0))

    def test_exec_refuses_programs_not_allowed(self):
        for argv in (["/bin/ls"], ["ls"], ["/bin/sh", "-c", "echo hi"]):
            with self.assertRaises(RpcError) as caught:
                exec_command(self.command, argv)
            self.assertEqual(caught.exception.code, StatusCode.PERMISSION_DENIED, argv)
        stream = self.command.Exec(timeout=30)
        stream.write(ExecRequest(stdin=b"no start"))
        stream.done_writing()
        with self.assertRaises(RpcError) as caught:
            list(stream)
        self.assertEqual(caught.exception.code, StatusCode.INVALID_ARGUMENT)

    def test_exec_asyncio(self):
        async def main():
            async with framerpc.aio.Channel(self.unix) as channel:
                return await cat_through_exec(command_frpc.CommandServiceAsyncStub(channel),
                                              [b"async ", b"cat"])

        out, exit_codes = asyncio.run(main())
        self.assertEqual(exit_codes, [0])
        self.assertEqual(out, b"async cat")

    # -- the file service ------------------------------------------------------------------------

    def test_download_checks_the_sha256(self):
        data = random.Random(4).randbytes((5 << 20) + 12345)
        self.local("download.bin", data)
        header, received, trailer, messages = download(self.files, "download.bin")
        self.assertEqual(header.stat.kind, FileKind.FILE_KIND_REGULAR)
        self.assertEqual((header.stat.size, header.offset, header.length), (len(data), 0, len(data)))
        self.assertEqual(received, data)
        self.assertEqual(received, self.read_local("download.bin"))
        self.assertEqual(trailer.sha256, hashlib.sha256(received).digest())
        self.assertEqual(trailer.sha256, hashlib.sha256(self.read_local("download.bin")).digest())
        self.assertGreater(messages, 1)
        # A range, with the whole file's hash from the start.
        header, received, trailer, _ = download(self.files, "download.bin", offset=1000,
                                                length=70000, sha256_from_start=True)
        self.assertEqual((header.offset, header.length), (1000, 70000))
        self.assertEqual(received, data[1000:71000])
        self.assertEqual(trailer.sha256, hashlib.sha256(data[1000:71000]).digest())
        self.assertEqual(trailer.file_sha256, hashlib.sha256(data[:71000]).digest())
        # An empty file: a header and a trailer.
        self.local("empty", b"")
        header, received, trailer, messages = download(self.files, "empty")
        self.assertEqual((header.length, received, messages), (0, b"", 0))
        self.assertEqual(trailer.sha256, hashlib.sha256(b"").digest())
        with self.assertRaises(RpcError) as caught:
            download(self.files, "no-such-file")
        self.assertEqual(caught.exception.code, StatusCode.NOT_FOUND)
        with self.assertRaises(RpcError) as caught:
            download(self.files, "../outside")
        self.assertEqual(caught.exception.code, StatusCode.INVALID_ARGUMENT)

    def test_upload_then_download_back(self):
        data = random.Random(5).randbytes((3 << 20) + 7)
        digest = hashlib.sha256(data).digest()
        response = upload(self.files, "up.bin", data, final_sha256=digest)
        self.assertEqual((response.size, response.sha256), (len(data), digest))
        self.assertEqual(self.read_local("up.bin"), data)
        _, received, trailer, _ = download(self.files, "up.bin")
        self.assertEqual(received, data)
        self.assertEqual(trailer.sha256, digest)
        stat = self.files.Stat(StatRequest(path="up.bin", want_sha256=True))
        self.assertEqual((stat.stat.size, stat.sha256), (len(data), digest))
        # Replacing it needs overwrite; the header's SHA-256 is checked too.
        other = data[::-1]
        with self.assertRaises(RpcError) as caught:
            upload(self.files, "up.bin", other)
        self.assertEqual(caught.exception.code, StatusCode.ALREADY_EXISTS)
        response = upload(self.files, "up.bin", other, chunk=1 << 20, overwrite=True,
                          header_sha256=hashlib.sha256(other).digest())
        self.assertEqual(response.size, len(other))
        self.assertEqual(download(self.files, "up.bin")[1], other)
        # A wrong SHA-256 leaves nothing behind.
        with self.assertRaises(RpcError) as caught:
            upload(self.files, "bad.bin", data, final_sha256=hashlib.sha256(b"x").digest())
        self.assertEqual(caught.exception.code, StatusCode.DATA_LOSS)
        self.assertFalse(os.path.exists(self.local("bad.bin")))
        self.assertFalse([n for n in os.listdir(self.root) if n.startswith(".")])

    def test_each_checksum_from_python(self):
        """XXH3-128 asked for by name comes back in `checksum`, computed here by python3-xxhash;
        SHA-256 by name comes in both fields; a wrong XXH3-128 digest is DATA_LOSS naming it."""
        data = random.Random(9).randbytes((2 << 20) + 99)
        self.local("choice.bin", data)
        header, received, trailer, _ = download(self.files, "choice.bin",
                                                checksum=checksum.CHECKSUM_XXH3_128)
        self.assertEqual(received, data)
        self.assertEqual(header.checksum, checksum.CHECKSUM_XXH3_128)
        self.assertEqual(trailer.checksum.algorithm, checksum.CHECKSUM_XXH3_128)
        self.assertEqual(trailer.checksum.digest, xxhash.xxh3_128(data).digest())
        self.assertEqual(trailer.sha256, b"")
        _, _, trailer, _ = download(self.files, "choice.bin", checksum=checksum.CHECKSUM_SHA256)
        self.assertEqual(trailer.checksum.digest, hashlib.sha256(data).digest())
        self.assertEqual(trailer.sha256, hashlib.sha256(data).digest())

        digest = xxhash.xxh3_128(data).digest()
        response = upload(self.files, "choice-up.bin", data, checksum=checksum.CHECKSUM_XXH3_128,
                          final_digest=digest)
        self.assertEqual((response.size, response.checksum.digest, response.sha256),
                         (len(data), digest, b""))
        self.assertEqual(self.read_local("choice-up.bin"), data)
        with self.assertRaises(RpcError) as caught:
            upload(self.files, "bad.bin", data, checksum=checksum.CHECKSUM_XXH3_128,
                   final_digest=xxhash.xxh3_128(b"x").digest())
        self.assertEqual(caught.exception.code, StatusCode.DATA_LOSS)
        self.assertIn("has XXH3-128 %s, not the expected %s" % (
            xxhash.xxh3_128(data).hexdigest(), xxhash.xxh3_128(b"x").hexdigest()),
            caught.exception.message)
        self.assertFalse(os.path.exists(self.local("bad.bin")))

    def test_upload_asyncio(self):
        data = random.Random(7).randbytes(300000)

        async def main():
            async with framerpc.aio.Channel(self.tcp) as channel:
                stub = file_frpc.FileServiceAsyncStub(channel)
                stream = await stub.Upload(timeout=30)
                await stream.write(UploadRequest(header=UploadHeader(path="async.bin",
                                                                     size=len(data))))
                await stream.write(UploadRequest(), attachment=data[:100000])
                await stream.write(UploadRequest(), attachment=data[100000:])
                return await stream.finish()

        response = asyncio.run(main())
        self.assertEqual((response.size, response.sha256),
                         (len(data), hashlib.sha256(data).digest()))
        self.assertEqual(download(self.files, "async.bin")[1], data)

    # -- the example -----------------------------------------------------------------------------

    def run_example(self, args, stdin=b""):
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                               "fetch_and_run.py")
        return subprocess.run([sys.executable, example] + args, input=stdin,
                              capture_output=True, timeout=60)

    def test_the_example_as_a_user_runs_it(self):
        data = random.Random(8).randbytes(2 << 20)
        self.local("example.bin", data)
        out = os.path.join(self.workdir, "example.out")
        done = self.run_example(["--address=" + self.unix, "--path=example.bin", "--out=" + out,
                                 "--", "/bin/cat"], b"piped through cat\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.decode(), "%s: %d bytes, xxh3 %s\npiped through cat\n"
                         % (out, len(data), xxhash.xxh3_128(data).hexdigest()))
        self.assertEqual(done.stderr, b"")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertFalse(os.path.exists(out + ".part"))
        # SHA-256 on request; an unknown checksum is a usage error.
        done = self.run_example(["--address=" + self.unix, "--path=example.bin", "--out=" + out,
                                 "--checksum=sha256"])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.decode(), "%s: %d bytes, sha256 %s\n"
                         % (out, len(data), hashlib.sha256(data).hexdigest()))
        done = self.run_example(["--address=" + self.unix, "--path=example.bin", "--out=" + out,
                                 "--checksum=md5"])
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"--checksum must be xxh3 or sha256, not 'md5'", done.stderr)
        # The command's exit code is the example's; a refused program and a missing file fail.
        done = self.run_example(["--address=" + self.tcp, "--", "/bin/cat", "/no/such/file"])
        self.assertEqual(done.returncode, 1)
        self.assertIn(b"/no/such/file", done.stderr)
        done = self.run_example(["--address=" + self.unix, "--", "/bin/ls"])
        self.assertEqual(done.returncode, 1)
        self.assertTrue(done.stderr.startswith(b"fetch_and_run: PERMISSION_DENIED: "),
                        done.stderr)
        missing = os.path.join(self.workdir, "missing.out")
        done = self.run_example(["--address=" + self.unix, "--path=missing", "--out=" + missing])
        self.assertEqual(done.returncode, 1)
        self.assertTrue(done.stderr.startswith(b"fetch_and_run: NOT_FOUND: "), done.stderr)
        self.assertFalse(os.path.exists(missing) or os.path.exists(missing + ".part"))
        done = self.run_example(["--address=" + self.unix])
        self.assertEqual(done.returncode, 2)


if __name__ == "__main__":
    unittest.main()
