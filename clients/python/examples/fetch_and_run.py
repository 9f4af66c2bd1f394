#!/usr/bin/python3
"""Downloads a file from a framerpc server's file service and runs a command through its command
service, with the blocking Python client and the generated stubs.

  framerpc_server --listen=unix:/tmp/f.sock --file_root=/srv/files \\
      --enable_command_service --command_allow=/bin/cat
  echo hello | python3 clients/python/examples/fetch_and_run.py --address=unix:/tmp/f.sock \\
      --path=dir/file.bin --out=file.bin -- /bin/cat

Either part may be left out: --path/--out alone only downloads, `-- PROGRAM ARGS...` alone only
runs the command.

The download (server-streaming Download: a header, the data as raw attachments of messages that
set no field, a trailer with the checksum) is written to OUT.part as it arrives, checked against
the trailer's digest and renamed to OUT. The checksum is XXH3-128 (needs python3-xxhash) unless
--checksum=sha256; a server older than the choice sends SHA-256, which is then checked. The command (bidirectional Exec) gets this process's stdin,
streamed; its stdout and stderr come back as it produces them; the exit code is the command's
(128 + N for a signal).

--token_file=PATH sends the server's shared secret (authorization: Bearer <token>).

Needs clients/python and the generated modules on PYTHONPATH:

  protoc -I. --plugin=protoc-gen-frpcpy=clients/python/protoc_gen_frpc_py.py \\
      --python_out=GEN --frpcpy_out=GEN services/command/command.proto services/file/file.proto
  PYTHONPATH=clients/python:GEN python3 clients/python/examples/fetch_and_run.py ...
"""
import os
import sys
import threading

import framerpc
from framerpc import checksum
from services.command import command_frpc
from services.command.command_pb2 import CommandSpec, ExecRequest, ExecStart
from services.file import file_frpc
from services.file.file_pb2 import DownloadRequest

USAGE = ("usage: fetch_and_run.py --address=ADDRESS [--token_file=PATH] [--timeout_ms=N] "
         "[--path=REMOTE --out=LOCAL [--checksum=xxh3|sha256]] [-- PROGRAM [ARGS...]]")


class UsageError(Exception):
    pass


def parse(argv):
    options = {"address": "", "token_file": "", "timeout_ms": "0", "path": "", "out": "",
               "checksum": checksum.XXH3}
    command = []
    if "--" in argv:
        command = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    for arg in argv:
        key, _, value = arg[2:].partition("=")
        if not arg.startswith("--") or not _ or key not in options:
            raise UsageError("unknown argument %s\n%s" % (arg, USAGE))
        options[key] = value
    if not options["address"] or bool(options["path"]) != bool(options["out"]) or \
            not (options["path"] or command):
        raise UsageError(USAGE)
    if options["checksum"] not in checksum.NAMES:
        raise UsageError("--checksum must be xxh3 or sha256, not %r" % options["checksum"])
    options["timeout_ms"] = int(options["timeout_ms"])
    return options, command


def download(channel, metadata, path, out, asked):
    """Downloads `path` to `out`, verified by the checksum `asked` for; returns (bytes, the
    algorithm used, hex digest)."""
    partial = out + ".part"
    try:
        request = DownloadRequest(path=path, checksum=checksum.proto_value(asked))
        with open(partial, "wb") as f, \
                file_frpc.FileServiceStub(channel).Download(request, metadata=metadata) as stream:
            header = trailer = digest = None
            received = 0
            while True:
                item = stream.read_with_attachment()
                if item is None:
                    break
                message, attachment = item
                part = message.WhichOneof("part")
                if part == "header":
                    header = message.header
                    used = checksum.answered(header.checksum, asked)
                    digest = checksum.new_hasher(used)
                elif part == "trailer":
                    trailer = message.trailer
                else:
                    data = attachment or message.data
                    digest.update(data)
                    f.write(data)
                    received += len(data)
            stream.finish()  # raises the call's RpcError
        if header is None or trailer is None or received != header.length:
            raise RuntimeError("incomplete download: %d bytes" % received)
        if checksum.trailer_digest(trailer, header.checksum) != digest.digest():
            raise RuntimeError("%s mismatch" % checksum.title(used))
        os.replace(partial, out)
        return received, used, digest.hexdigest()
    except BaseException:
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        raise


def run_command(channel, metadata, argv, timeout_ms):
    """Runs argv with this process's stdin streamed to it; returns its exit code."""
    stream = command_frpc.CommandServiceStub(channel).Exec(metadata=metadata)
    with stream:
        stream.write(ExecRequest(start=ExecStart(
            command=CommandSpec(argv=argv, timeout_ms=timeout_ms), stream_stdin=True)))

        # The feeder writes and the reader half-closes: the lock keeps a message from following
        # the half-close.
        writing = threading.Lock()

        def feed():
            # Ends when stdin does, or once the call is half-closed or over (write() is False).
            stdin = sys.stdin.buffer
            while True:
                chunk = stdin.read1(65536)
                with writing:
                    if not stream.write(ExecRequest(stdin=chunk) if chunk else
                                        ExecRequest(close_stdin=True)) or not chunk:
                        return

        threading.Thread(target=feed, daemon=True).start()
        code = 0
        for response in stream:
            kind = response.WhichOneof("kind")
            if kind == "stdout":
                sys.stdout.buffer.write(response.stdout)
                sys.stdout.buffer.flush()
            elif kind == "stderr":
                sys.stderr.buffer.write(response.stderr)
                sys.stderr.buffer.flush()
            elif kind == "exit":
                exit_status = response.exit
                if exit_status.WhichOneof("how") == "signal":
                    code = 128 + exit_status.signal
                else:
                    code = exit_status.exit_code
                if exit_status.timed_out:
                    sys.stderr.write("fetch_and_run: the command timed out\n")
                # With stream_stdin the server reads until the half-close, due now at the latest.
                with writing:
                    stream.done_writing()
        stream.finish()
    return code


def main(argv):
    try:
        options, command = parse(argv)
    except UsageError as error:
        sys.stderr.write("fetch_and_run: %s\n" % error)
        return 2
    metadata = None
    if options["token_file"]:
        with open(options["token_file"], encoding="utf-8") as f:
            metadata = {"authorization": "Bearer " + f.read().strip()}
    try:
        with framerpc.Channel(options["address"]) as channel:
            if options["path"]:
                size, used, digest = download(channel, metadata, options["path"], options["out"],
                                              options["checksum"])
                print("%s: %d bytes, %s %s" % (options["out"], size, used, digest), flush=True)
            if command:
                return run_command(channel, metadata, command, options["timeout_ms"])
            return 0
    except framerpc.RpcError as error:
        sys.stderr.write("fetch_and_run: %s: %s\n" % (error.code.name, error.message))
    except (OSError, RuntimeError) as error:
        sys.stderr.write("fetch_and_run: %s\n" % error)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
