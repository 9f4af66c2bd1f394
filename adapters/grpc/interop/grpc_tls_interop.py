"""grpcio over TLS (issue 14.6): Debian's python3-grpcio with ssl_channel_credentials, against
framerpc_server's gRPC adapter port serving TLS with client certificates required.

Usage: PYTHONPATH=<dir of the generated stubs> grpc_tls_interop.py HOST:PORT PKI_DIR

PKI_DIR holds main-ca.pem, client.pem/.key (issued by main) and other-ca.pem (a CA the server
does not know). Checks: EchoService.Say with a client certificate; a bidirectional
CommandService.Exec of /bin/cat admitted by the client's identity; and the refusals: no client certificate, and a server checked against a CA that did not issue it, each
UNAVAILABLE. Prints "grpcio over TLS: all checks passed" and exits 0, or raises.
"""
import os
import sys

import grpc

from proto import echo_pb2, echo_pb2_grpc
from services.command import command_pb2, command_pb2_grpc

TIMEOUT = 20


def read(pki, name):
    with open(os.path.join(pki, name), "rb") as f:
        return f.read()


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def main():
    address, pki = sys.argv[1], sys.argv[2]
    mutual = grpc.ssl_channel_credentials(root_certificates=read(pki, "main-ca.pem"),
                                          private_key=read(pki, "client.key"),
                                          certificate_chain=read(pki, "client.pem"))
    # The server certificate names localhost and 127.0.0.1; grpcio checks the target's host.
    with grpc.secure_channel(address, mutual) as channel:
        reply = echo_pb2_grpc.EchoServiceStub(channel).Say(
            echo_pb2.SayRequest(text="grpcio over tls"), timeout=TIMEOUT)
        check(reply.text == "grpcio over tls", "Say replied %r" % reply.text)
        print("ok: EchoService.Say over mutual TLS")

        def requests():
            start = command_pb2.ExecStart(command=command_pb2.CommandSpec(argv=["/bin/cat"]),
                                          stream_stdin=True)
            yield command_pb2.ExecRequest(start=start)
            yield command_pb2.ExecRequest(stdin=b"through cat ")
            yield command_pb2.ExecRequest(stdin=b"over tls")
            yield command_pb2.ExecRequest(close_stdin=True)

        out, exit_code = b"", None
        for response in command_pb2_grpc.CommandServiceStub(channel).Exec(requests(),
                                                                          timeout=TIMEOUT):
            kind = response.WhichOneof("kind")
            if kind == "stdout":
                out += response.stdout
            elif kind == "exit":
                exit_code = response.exit.exit_code
        check((out, exit_code) == (b"through cat over tls", 0), "Exec gave %r, %r" % (out, exit_code))
        print("ok: CommandService.Exec over mutual TLS, admitted by the client's SPIFFE ID")

    refusals = [
        ("no client certificate",
         grpc.ssl_channel_credentials(root_certificates=read(pki, "main-ca.pem"))),
        ("a server certificate from an unknown CA",
         grpc.ssl_channel_credentials(root_certificates=read(pki, "other-ca.pem"),
                                      private_key=read(pki, "client.key"),
                                      certificate_chain=read(pki, "client.pem"))),
    ]
    for what, credentials in refusals:
        with grpc.secure_channel(address, credentials) as channel:
            try:
                echo_pb2_grpc.EchoServiceStub(channel).Say(echo_pb2.SayRequest(text="no"),
                                                           timeout=TIMEOUT)
            except grpc.RpcError as error:
                check(error.code() == grpc.StatusCode.UNAVAILABLE,
                      "%s: %s %r" % (what, error.code(), error.details()))
                print("ok: %s refused: UNAVAILABLE %r" % (what, error.details()))
                continue
            raise AssertionError("%s: the call succeeded" % what)
    print("grpcio over TLS: all checks passed")


if __name__ == "__main__":
    main()
