"""The Python client over TLS against the real framerpc_server with mutual TLS (issue 14): a unary
call and a bidirectional stream (Exec of /bin/cat, admitted by the client certificate's SPIFFE
ID) from the blocking and the asyncio client, over TCP and a Unix socket; and each refusal with
its exact error: an unknown CA, a server-name mismatch, mutual TLS without a client certificate,
a plaintext client on the TLS port. Certificates are made here with the openssl CLI."""
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

import framerpc
import framerpc.aio
import framerpc.aio_balanced
import framerpc.balanced
from framerpc import RpcError, StatusCode, TlsOptions

from proto import echo_frpc
from proto.echo_pb2 import SayRequest
from services.command import command_frpc
from services.command.command_pb2 import CommandSpec, ExecRequest, ExecStart

from test_interop import SERVER, cat_through_exec, start_server, stop_server

CLIENT_ID = "spiffe://example.org/ns/test/sa/client"


class Pki:
    """A CA "main" with a server certificate (localhost, 127.0.0.1) and a client certificate
    (CLIENT_ID), and a CA "other" that issued nothing the server knows; PEM files in `dir`."""

    def __init__(self, directory):
        self.dir = directory
        for name in ("main", "other"):
            self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-days", "2", "-subj", "/CN=%s CA" % name,
                      "-keyout", self.path(name + "-ca.key"), "-out", self.path(name + "-ca.pem"),
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign")
        self._leaf("main", "server", "DNS:localhost,IP:127.0.0.1")
        self._leaf("main", "named", "DNS:localhost")
        self._leaf("main", "client", "URI:" + CLIENT_ID)
        self._leaf("other", "stranger", "URI:spiffe://example.org/ns/test/sa/stranger")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _leaf(self, ca, name, san):
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-subj", "/CN=" + name, "-keyout", self.path(name + ".key"),
                  "-out", self.path(name + ".csr"))
        with open(self.path(name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        self._run("x509", "-req", "-in", self.path(name + ".csr"),
                  "-CA", self.path(ca + "-ca.pem"), "-CAkey", self.path(ca + "-ca.key"),
                  "-CAcreateserial", "-days", "1", "-extfile", self.path(name + ".ext"),
                  "-out", self.path(name + ".pem"))

    @staticmethod
    def _run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)


@unittest.skipUnless(SERVER, "set FRAMERPC_SERVER (run_tests.sh does)")
class TlsInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="frpc-tls-", dir="/tmp")
        cls.pki = Pki(cls.workdir)
        p = cls.pki.path
        cls.server, cls.tcp, cls.unix = start_server(cls.workdir, [
            "--tls_cert=" + p("server.pem"), "--tls_key=" + p("server.key"),
            "--tls_client_ca=" + p("main-ca.pem"), "--tls_client_auth=require",
            "--enable_command_service", "--command_allow=/bin/cat",
            "--command_allow_identities=" + CLIENT_ID])

    @classmethod
    def tearDownClass(cls):
        code, _, err = stop_server(cls.server)
        shutil.rmtree(cls.workdir)
        if code != 0:
            raise AssertionError("server exited %d: %s" % (code, err))

    def options(self, **overrides):
        p = self.pki.path
        args = dict(ca_file=p("main-ca.pem"), cert_file=p("client.pem"), key_file=p("client.key"))
        args.update(overrides)
        return TlsOptions(**{k: v for k, v in args.items() if v is not None})

    def targets(self):
        """(target, TlsOptions) pairs: TCP, checked against the IP SAN, and the Unix socket, which
        names the server."""
        return [(self.tcp, self.options()), (self.unix, self.options(server_name="localhost"))]

    # -- calls -----------------------------------------------------------------------------------

    def test_blocking_unary_and_stream(self):
        for target, options in self.targets():
            with self.subTest(target=target), framerpc.Channel(target, tls=options) as channel:
                reply = echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="over tls"),
                                                              timeout=10)
                self.assertEqual(reply.text, "over tls")
                data = os.urandom(300000)  # several TLS records each way
                self.assertEqual(self.blocking_cat(channel, [data[:100000], data[100000:]]),
                                 data)

    def blocking_cat(self, channel, chunks):
        stream = command_frpc.CommandServiceStub(channel).Exec(timeout=30)
        with stream:
            stream.write(ExecRequest(start=ExecStart(command=CommandSpec(argv=["/bin/cat"]),
                                                     stream_stdin=True)))
            for chunk in chunks:
                self.assertTrue(stream.write(ExecRequest(stdin=chunk)))
            stream.write(ExecRequest(close_stdin=True))
            out = b""
            for response in stream:
                kind = response.WhichOneof("kind")
                if kind == "stdout":
                    out += response.stdout
                elif kind == "exit":
                    self.assertEqual(response.exit.exit_code, 0)
                    stream.done_writing()  # the server ends the call after the half-close
            stream.finish()
        return out

    def test_deadline_and_cancel_while_reading_a_tls_connection(self):
        # The blocking reader polls the socket (and what the session holds) so that a deadline
        # or cancel() ends its wait; the server is stopped, so nothing arrives meanwhile.
        with framerpc.Channel(self.tcp, tls=self.options()) as channel:
            stub = echo_frpc.EchoServiceStub(channel)
            self.assertEqual(stub.Say(SayRequest(text="up"), timeout=10).text, "up")
            os.kill(self.server.pid, signal.SIGSTOP)
            # kill() returns before every thread has stopped; waitpid(WUNTRACED) once they have.
            _, status = os.waitpid(self.server.pid, os.WUNTRACED)
            self.assertTrue(os.WIFSTOPPED(status), "status %#x" % status)
            try:
                with self.assertRaises(RpcError) as caught:
                    stub.Say(SayRequest(text="late"), timeout=0.2)
                self.assertEqual(caught.exception.code, StatusCode.DEADLINE_EXCEEDED)
                context = framerpc.ClientContext()
                timer = threading.Timer(0.1, context.cancel)
                timer.start()
                with self.assertRaises(RpcError) as caught:
                    stub.Say(SayRequest(text="cancelled"), context=context)
                timer.join()
                self.assertEqual(caught.exception.code, StatusCode.CANCELLED)
            finally:
                os.kill(self.server.pid, signal.SIGCONT)
            # The same connection goes on.
            self.assertEqual(stub.Say(SayRequest(text="again"), timeout=10).text, "again")

    def test_asyncio_unary_and_stream(self):
        async def main(target, options):
            async with framerpc.aio.Channel(target, tls=options) as channel:
                reply = await echo_frpc.EchoServiceAsyncStub(channel).Say(
                    SayRequest(text="async tls"), timeout=10)
                out, _ = await cat_through_exec(
                    command_frpc.CommandServiceAsyncStub(channel), [b"async ", b"cat over tls"])
                return reply.text, out

        for target, options in self.targets():
            with self.subTest(target=target):
                self.assertEqual(asyncio.run(main(target, options)),
                                 ("async tls", b"async cat over tls"))

    def test_other_ways_to_trust_the_server(self):
        import ssl
        p = self.pki.path
        context = ssl.create_default_context(cafile=p("main-ca.pem"))
        context.load_cert_chain(p("client.pem"), p("client.key"))
        ways = {
            "a user's SSLContext": TlsOptions(context=context),
            "the server's certificate trusted as it is": self.options(
                ca_file=None, trusted_cert_file=p("server.pem")),
            "insecure": self.options(ca_file=p("other-ca.pem"), insecure=True,
                                     server_name="not.the.name"),
        }
        for what, options in ways.items():
            with self.subTest(what), framerpc.Channel(self.tcp, tls=options) as channel:
                reply = echo_frpc.EchoServiceStub(channel).Say(SayRequest(text=what), timeout=10)
                self.assertEqual(reply.text, what)
        # Trusting one certificate trusts no other, not even another of the same CA.
        self.assert_refused(
            self.tcp, self.options(ca_file=None, trusted_cert_file=p("client.pem")),
            "TLS handshake with %s failed: certificate verify failed: self-signed certificate in "
            "certificate chain (unknown CA)" % self.tcp)

    def test_balanced_dns_target_checks_the_name(self):
        # A server whose certificate names localhost only: reached by address it is refused, and
        # a balanced channel over dns:///localhost (blocking or asyncio) checks the name, not the
        # addresses it resolved.
        workdir = tempfile.mkdtemp(prefix="frpc-tls-named-", dir="/tmp")
        p = self.pki.path
        server, tcp, _ = start_server(workdir, ["--tls_cert=" + p("named.pem"),
                                                "--tls_key=" + p("named.key")])
        try:
            port = tcp.rpartition(":")[2]
            with framerpc.balanced.Channel("dns:///localhost:" + port,
                                           tls=self.options()) as channel:
                reply = echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="by name"),
                                                              timeout=10)
            self.assertEqual(reply.text, "by name")

            async def by_name():
                async with framerpc.aio_balanced.Channel("dns:///localhost:" + port,
                                                         tls=self.options()) as channel:
                    return (await echo_frpc.EchoServiceAsyncStub(channel).Say(
                        SayRequest(text="async by name"), timeout=10)).text
            self.assertEqual(asyncio.run(by_name()), "async by name")
            with framerpc.Channel(tcp, tls=self.options()) as channel:
                with self.assertRaises(RpcError) as caught:
                    echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="no"), timeout=10)
            self.assertEqual(caught.exception.message,
                             "TLS handshake with %s failed: certificate verify failed: IP address "
                             "mismatch, certificate is not valid for '127.0.0.1'. (name mismatch)"
                             % tcp)
        finally:
            code, _, err = stop_server(server)
            shutil.rmtree(workdir)
            self.assertEqual(code, 0, err)

    # -- refusals --------------------------------------------------------------------------------

    def assert_refused(self, target, options, message):
        """Both clients fail the call with UNAVAILABLE and exactly `message`."""
        with framerpc.Channel(target, tls=options) as channel:
            with self.assertRaises(RpcError) as caught:
                echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="no"), timeout=10)
        self.assertEqual((caught.exception.code, caught.exception.message),
                         (StatusCode.UNAVAILABLE, message), "blocking")

        async def main():
            async with framerpc.aio.Channel(target, tls=options) as channel:
                await echo_frpc.EchoServiceAsyncStub(channel).Say(SayRequest(text="no"),
                                                                  timeout=10)

        with self.assertRaises(RpcError) as caught:
            asyncio.run(main())
        self.assertEqual((caught.exception.code, caught.exception.message),
                         (StatusCode.UNAVAILABLE, message), "asyncio")

    def test_unknown_ca_is_refused(self):
        # The server sends its CA with its certificate (it has it as the client CA), so OpenSSL
        # finds a self-signed root it does not trust.
        self.assert_refused(
            self.tcp, self.options(ca_file=self.pki.path("other-ca.pem")),
            "TLS handshake with %s failed: certificate verify failed: self-signed certificate in "
            "certificate chain (unknown CA)" % self.tcp)

    def test_server_name_mismatch_is_refused(self):
        self.assert_refused(
            self.tcp, self.options(server_name="billing.example.org"),
            "TLS handshake with %s failed: certificate verify failed: Hostname mismatch, "
            "certificate is not valid for 'billing.example.org'. (name mismatch)" % self.tcp)

    def test_mutual_tls_without_a_client_certificate_is_refused(self):
        # TLS 1.3: the client's handshake is over before the server checks; the alert ends the
        # connection on its first read.
        self.assert_refused(
            self.tcp, self.options(cert_file=None, key_file=None),
            "connection to %s lost: TLS read: tlsv13 alert certificate required" % self.tcp)

    def test_client_certificate_from_another_ca_is_refused(self):
        p = self.pki.path
        self.assert_refused(
            self.tcp, self.options(cert_file=p("stranger.pem"), key_file=p("stranger.key")),
            "connection to %s lost: TLS read: tlsv1 alert unknown ca" % self.tcp)

    def test_plaintext_client_on_the_tls_port_is_told(self):
        with framerpc.Channel(self.tcp) as channel:
            with self.assertRaises(RpcError) as caught:
                echo_frpc.EchoServiceStub(channel).Say(SayRequest(text="clear"), timeout=10)
        self.assertEqual(caught.exception.code, StatusCode.FAILED_PRECONDITION)

    def test_bad_options_are_refused_when_the_channel_is_made(self):
        with self.assertRaisesRegex(ValueError, "needs server_name"):
            framerpc.Channel(self.unix, tls=TlsOptions(ca_file=self.pki.path("main-ca.pem")))
        with self.assertRaisesRegex(ValueError, "cannot load ca_file /no/such.pem"):
            TlsOptions(ca_file="/no/such.pem")
        with self.assertRaisesRegex(ValueError, "cert_file and key_file go together"):
            TlsOptions(cert_file=self.pki.path("client.pem"))


if __name__ == "__main__":
    unittest.main()
