"""TLS for the framerpc clients (docs/security.md): TlsOptions, the handshake, and the socket the
blocking client reads and writes through.

    channel = framerpc.Channel("10.0.0.5:7000", tls=framerpc.TlsOptions(
        ca_file="ca.pem", cert_file="client.pem", key_file="client.key"))

The connection offers ALPN "framerpc/1" and is refused unless the server selects it. A refused
handshake is RpcError UNAVAILABLE "TLS handshake with <target> failed: <cause>", the cause naming
it as the C++ client does ("... (unknown CA)", "... (name mismatch)"); a bad file or option is a
ValueError when the channel is made.
"""
from __future__ import annotations

import errno
import re
import socket
import ssl
import threading
import time
from typing import Optional

from .status import RpcError, StatusCode, UnsentError

ALPN = "framerpc/1"
_RAW_CHUNK = 64 * 1024
_WRITE_CHUNK = 256 * 1024  # plaintext encrypted and sent at a time (bounds the ciphertext held)
_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
# OpenSSL's X509_V_ERR_* codes, named as the C++ client names them.
_VERIFY_KINDS = {
    2: "unknown CA", 19: "unknown CA", 20: "unknown CA", 21: "unknown CA",
    9: "certificate not yet valid", 10: "expired certificate",
    62: "name mismatch", 64: "name mismatch",
}


class TlsOptions:
    """How a channel speaks TLS. With no argument: the system's CAs, and the target's host as the
    server name.

    - ca_file: PEM CAs the server's certificate must chain to (instead of the system's);
    - trusted_cert_file: trust this one certificate as it is (for tests; names are still checked);
    - cert_file, key_file: a client certificate and its key, for mutual TLS;
    - server_name: the name the server's certificate must carry (a DNS SAN, or an IP SAN for an
      address); default: the target's host. A Unix-socket target must give one;
    - insecure: no verification at all (anyone on the path can read and change everything; for
      trying things out);
    - min_version: "1.3" (the default) or "1.2";
    - context: an ssl.SSLContext of the caller's, used as it is (its ALPN is set to framerpc/1);
      the options above that make a context must then be left out.

    Immutable once made; one TlsOptions may serve any number of channels."""

    def __init__(self, *, ca_file: Optional[str] = None, trusted_cert_file: Optional[str] = None,
                 cert_file: Optional[str] = None, key_file: Optional[str] = None,
                 server_name: Optional[str] = None, insecure: bool = False,
                 min_version: str = "1.3", context: Optional[ssl.SSLContext] = None) -> None:
        if min_version not in _VERSIONS:
            raise ValueError("TLS min_version must be '1.2' or '1.3', not %r" % (min_version,))
        if (cert_file is None) != (key_file is None):
            raise ValueError("TLS: cert_file and key_file go together")
        if ca_file is not None and trusted_cert_file is not None:
            raise ValueError("TLS: give ca_file or trusted_cert_file, not both")
        if context is not None:
            if ca_file or trusted_cert_file or cert_file or insecure or min_version != "1.3":
                raise ValueError("TLS: with a context of your own, set CAs, certificates and "
                                 "versions in it")
            context.set_alpn_protocols([ALPN])
            self.context = context
        else:
            self.context = _make_context(ca_file, trusted_cert_file, cert_file, key_file,
                                         insecure, _VERSIONS[min_version])
        self.server_name = server_name
        self.insecure = insecure

    def named(self, server_name: str) -> TlsOptions:
        """These options with `server_name` when they name none (the balanced channel gives a
        dns: target's host, since its servers are reached by address)."""
        if self.server_name is not None:
            return self
        copy = TlsOptions.__new__(TlsOptions)
        copy.__dict__.update(self.__dict__)
        copy.server_name = server_name
        return copy

    def name_for(self, address) -> Optional[str]:
        """The server name to send and verify for a parsed target address."""
        if self.server_name is not None:
            return self.server_name
        if address.family == socket.AF_UNIX:
            if self.insecure or not self.context.check_hostname:
                return None
            raise ValueError("TLS to a Unix-socket target %s needs server_name" % address.text)
        return address.host


def _make_context(ca_file, trusted_cert_file, cert_file, key_file, insecure, min_version):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = min_version
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_file is not None or trusted_cert_file is not None:
        path = ca_file if ca_file is not None else trusted_cert_file
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as error:
            raise ValueError("TLS: cannot load %s %s: %s" % (
                "ca_file" if ca_file is not None else "trusted_cert_file", path,
                describe(error))) from None
        if trusted_cert_file is not None:
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    else:
        context.load_default_certs()
    if cert_file is not None:
        try:
            context.load_cert_chain(cert_file, key_file)
        except (OSError, ssl.SSLError) as error:
            raise ValueError("TLS: cannot load cert_file %s / key_file %s: %s"
                             % (cert_file, key_file, describe(error))) from None
    context.set_alpn_protocols([ALPN])
    return context


def describe(error: BaseException) -> str:
    """OpenSSL's words for `error`, without Python's "[SSL: CODE]" and "(_ssl.c:N)" wrapping; a
    certificate that failed verification is also named by its kind, as the C++ client does."""
    if isinstance(error, ssl.SSLCertVerificationError):
        kind = _VERIFY_KINDS.get(error.verify_code or 0)
        text = "certificate verify failed: %s" % error.verify_message
        return "%s (%s)" % (text, kind) if kind else text
    if isinstance(error, ssl.SSLError):
        text = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], str) \
            else str(error)
        text = re.sub(r"^\[[^\]]*\]\s*", "", text)
        return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def handshake_error(target: str, error: BaseException) -> RpcError:
    """The UNAVAILABLE error for a handshake with `target` that failed with `error`."""
    return UnsentError(StatusCode.UNAVAILABLE,
                       "TLS handshake with %s failed: %s" % (target, describe(error)))


def check_alpn(target: str, selected: Optional[str]) -> None:
    if selected != ALPN:
        raise UnsentError(StatusCode.UNAVAILABLE,
                          "TLS handshake with %s failed: the server did not select ALPN %s "
                          "(it selected %s)" % (target, ALPN, selected or "none"))


class TlsSocket:
    """A connected TCP or Unix socket with a client TLS session over it, for the blocking client:
    the socket calls _Connection makes (recv_into, sendall, shutdown, close, fileno), with TLS
    records on the wire. Built on ssl.SSLObject and memory BIOs, so that the session is only ever
    used under `_lock`, never by two threads at once (OpenSSL's rule), while one thread may block
    in a read of the raw socket and another in a write.

    Thread safety: one reader and any number of writers at a time (writers are serialised by
    `_send_lock`). Owns the raw socket."""

    def __init__(self, raw: socket.socket, options: TlsOptions, server_name: Optional[str]):
        self._raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = options.context.wrap_bio(self._incoming, self._outgoing,
                                             server_hostname=server_name)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._eof = False

    def fileno(self) -> int:
        return self._raw.fileno()

    def handshake(self, target: str, deadline: float) -> None:
        """Runs the handshake in blocking mode before `deadline` (time.monotonic()); raises
        socket.timeout, or RpcError UNAVAILABLE naming the cause."""
        try:
            while True:
                try:
                    self._tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    pass
                self._send_output()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout("timed out")
                self._raw.settimeout(remaining)
                data = self._raw.recv(_RAW_CHUNK)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
            self._send_output()  # the client's Finished
        except (ssl.SSLError, ssl.CertificateError) as error:
            raise handshake_error(target, error) from None
        except socket.timeout:
            raise
        except OSError as error:
            raise handshake_error(target, error) from None
        finally:
            self._raw.settimeout(None)
        check_alpn(target, self._tls.selected_alpn_protocol())

    def _send_output(self) -> None:
        data = self._outgoing.read()
        if data:
            self._raw.sendall(data)

    # -- reading -------------------------------------------------------------------------------

    def pending(self) -> bool:
        """True when a read would return data without the raw socket being readable."""
        with self._lock:
            return self._eof or self._tls.pending() > 0 or self._incoming.pending > 0

    def recv_into(self, view: memoryview, nbytes: int = 0, flags: int = 0) -> int:
        """Plaintext into `view`: at least one byte, or 0 at the end of the stream. With
        MSG_DONTWAIT, raises BlockingIOError when no whole record has arrived. A TLS alert or a
        bad record raises OSError "TLS read: <cause>"."""
        size = nbytes or len(view)
        while True:
            with self._lock:
                count = self._decrypt(view, size)
                answer = self._outgoing.pending > 0
            if answer:  # a reply the session owes (a KeyUpdate): sent if no writer is busy
                self._try_send_output()
            if count or self._eof:
                return count
            data = self._raw.recv(_RAW_CHUNK, flags)
            with self._lock:
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()

    def _decrypt(self, view, size):
        count = 0
        try:
            while count < size and not self._eof:
                got = self._tls.read(size - count, view[count:size])
                if not got:
                    self._eof = True
                count += got
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            self._eof = True  # close_notify, or the end of the stream without it
        except ssl.SSLError as error:
            if count:
                return count  # what arrived before the alert; the next read raises
            raise OSError(errno.EPROTO, "TLS read: %s" % describe(error)) from None
        return count

    # -- writing -------------------------------------------------------------------------------

    def sendall(self, data) -> None:
        view = memoryview(data).cast("B")
        with self._send_lock:
            for start in range(0, len(view), _WRITE_CHUNK):
                with self._lock:
                    try:
                        self._tls.write(view[start:start + _WRITE_CHUNK])
                    except ssl.SSLError as error:
                        raise OSError(errno.EPROTO, "TLS write: %s" % describe(error)) from None
                    out = self._outgoing.read()
                self._raw.sendall(out)
            with self._lock:
                out = self._outgoing.read()
            if out:
                self._raw.sendall(out)

    def _try_send_output(self):
        if not self._send_lock.acquire(blocking=False):
            return  # the writer sends what is queued after its own records
        try:
            with self._lock:
                out = self._outgoing.read()
            if out:
                self._raw.sendall(out)
        except OSError:
            pass  # the next read or write reports the loss
        finally:
            self._send_lock.release()

    # -- the end -------------------------------------------------------------------------------

    def shutdown(self, how: int) -> None:
        self._raw.shutdown(how)

    def close(self) -> None:
        self._raw.close()
