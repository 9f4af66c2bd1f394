"""Channel targets: "host:port", "[v6]:port", "unix:/path" and "unix:@abstract-name", as in the C++
SocketAddress."""
import socket


class Address:
    """A parsed target. `family` is AF_UNIX, AF_INET or AF_INET6 (or AF_UNSPEC for a host name
    that is resolved at connect time); `host`/`port` or `path` say where."""

    __slots__ = ("text", "family", "host", "port", "path")

    def __init__(self, text, family, host=None, port=None, path=None):
        self.text = text
        self.family = family
        self.host = host
        self.port = port
        self.path = path

    def __repr__(self):
        return "Address(%r)" % self.text

    def sockaddrs(self):
        """[(family, sockaddr)] to try in order."""
        if self.family == socket.AF_UNIX:
            return [(socket.AF_UNIX, self.path)]
        if self.family != socket.AF_UNSPEC:
            return [(self.family, (self.host, self.port))]
        infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        return [(family, sockaddr) for family, _, _, _, sockaddr in infos]


def _bad(text, what):
    return ValueError("%s in address '%s'" % (what, text))


def parse_address(text):
    """Parses a target; raises ValueError with the reason for a malformed one."""
    if not isinstance(text, str):
        raise TypeError("address must be a str, not %s" % type(text).__name__)
    if text.startswith("unix:@"):
        # A Linux abstract socket: the name after a NUL byte, no file.
        name = text[6:]
        if not name or len(name.encode()) > 107:
            raise ValueError("abstract unix socket name must be 1 to 107 bytes: '%s'" % text)
        if "\0" in name:
            raise ValueError("unix socket address contains a NUL byte: '%s'" % text)
        return Address(text, socket.AF_UNIX, path="\0" + name)
    if text.startswith("unix:"):
        path = text[5:]
        if not path or len(path.encode()) > 107:
            raise ValueError("unix socket path must be 1 to 107 bytes: '%s'" % text)
        if "\0" in path:
            raise ValueError("unix socket address contains a NUL byte: '%s'" % text)
        return Address(text, socket.AF_UNIX, path=path)
    if text.startswith("udp:"):
        raise ValueError("udp: targets are not supported by the Python client (TCP and Unix "
                         "sockets only): '%s'" % text)
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError("unterminated '[' in address '%s'" % text)
        if text[close + 1:close + 2] != ":":
            raise ValueError("missing ':port' after ']' in '%s'" % text)
    colon = text.rfind(":")
    if colon < 0:
        raise ValueError("address '%s' is not host:port, [v6]:port or unix:/path" % text)
    host, port_text = text[:colon], text[colon + 1:]
    if not (port_text.isdigit() and port_text.isascii() and len(port_text) <= 5) or \
            int(port_text) > 65535:
        raise _bad(text, "bad port")
    port = int(port_text)
    if host.startswith("[") and host.endswith("]"):
        try:
            socket.inet_pton(socket.AF_INET6, host[1:-1])
        except OSError:
            raise _bad(text, "bad IPv6 address") from None
        return Address(text, socket.AF_INET6, host=host[1:-1], port=port)
    if not host:
        raise _bad(text, "missing host")
    if ":" in host:
        raise ValueError("IPv6 addresses need brackets: '[%s]:%d'" % (host, port))
    try:
        socket.inet_pton(socket.AF_INET, host)
        return Address(text, socket.AF_INET, host=host, port=port)
    except OSError:
        return Address(text, socket.AF_UNSPEC, host=host, port=port)  # a name: resolved later
