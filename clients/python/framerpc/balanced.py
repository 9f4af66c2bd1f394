"""A blocking channel over several framerpc servers (docs/load_balancing.md), as the C++
BalancedChannel: the same call methods as framerpc.Channel, so generated stubs take it.

    with framerpc.balanced.Channel("ipv4:10.0.0.1:7000,10.0.0.2:7000",
                                   policy="round_robin") as channel:
        reply = echo_frpc.EchoServiceStub(channel).Say(echo_pb2.SayRequest(text="hi"))

Targets: "ipv4:a:p,b:p", "ipv6:[a]:p,[b]:p", "a:p,b:p", or "dns:///host:port" (every A and
AAAA record, resolved at start and again, at most once a second, after a failure). Policies:
"pick_first" (the default) and "round_robin". A call that ends UNAVAILABLE ejects its server for
`eject_time` seconds (doubling after each further failure, up to two minutes; a success
re-admits it). A call that never left the client (UnsentError: its connection could not be
made) is sent to the next server at once, whatever the method, as gRPC's transparent retry.
Each server has a framerpc.Channel of its own. Thread-safe, as framerpc.Channel.
"""
from __future__ import annotations

import itertools
import socket
import threading
import time
from typing import Dict, Generic, Iterator, List, Optional, Tuple, Type, TypeVar

from google.protobuf.message import Message

from ._core import MethodKind
from ._types import BytesLike, Metadata, ResponseT
from .channel import Channel as _EndpointChannel
from .channel import ClientContext, ClientStream
from .status import RpcError, StatusCode, UnsentError
from .tls import TlsOptions

_MAX_EJECT = 120.0
_REFRESH_EVERY = 1.0


def parse_target(target: str) -> Tuple[str, List[str]]:
    """("static", addresses) or ("dns", ["host:port"]). Raises ValueError naming the fault."""
    if target.startswith("dns:"):
        rest = target[len("dns:"):]
        if rest.startswith("//"):
            if not rest.startswith("///"):
                raise ValueError("target %r: a DNS authority is not supported" % target)
            rest = rest[3:]
        host, sep, port = rest.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("target %r: expected dns:///host:port" % target)
        return "dns", [host.strip("[]") + ":" + port]
    rest = target
    for scheme in ("ipv4:", "ipv6:"):
        if rest.startswith(scheme):
            rest = rest[len(scheme):]
    addresses = [a for a in rest.split(",")]
    if not addresses or any(not a or ":" not in a for a in addresses):
        raise ValueError("target %r names no address list" % target)
    return "static", addresses


def _resolve(host_port: str) -> List[str]:
    host, _, port = host_port.rpartition(":")
    found = set()
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM):
        if family == socket.AF_INET:
            found.add("%s:%d" % (sockaddr[0], sockaddr[1]))
        elif family == socket.AF_INET6:
            found.add("[%s]:%d" % (sockaddr[0], sockaddr[1]))
    return sorted(found)


_C = TypeVar("_C")


class _Endpoint(Generic[_C]):
    """One server of a balanced channel (blocking or asyncio), and its ejection state."""

    def __init__(self, address: str, channel: _C) -> None:
        self.address = address
        self.channel = channel
        self.ejected_until = 0.0
        self.backoff = 0.0


def _choose(endpoints: List[_Endpoint[_C]], avoid: List[_Endpoint[_C]], policy: str,
            turn: Iterator[int]) -> _Endpoint[_C]:
    """The endpoint for the next attempt: one not ejected and not in `avoid` if any, else one not
    in `avoid`, else any (`endpoints` is not empty)."""
    now = time.monotonic()
    ready = [e for e in endpoints if e.ejected_until <= now and e not in avoid]
    if not ready:
        ready = [e for e in endpoints if e not in avoid] or endpoints
    if policy == "round_robin":
        return ready[next(turn) % len(ready)]
    return ready[0]


def _record(endpoint: _Endpoint[_C], error: Optional[RpcError], eject_time: float) -> bool:
    """Ejects `endpoint` for a doubling backoff after UNAVAILABLE (True: ejected), re-admits it
    after a success, and leaves it as it is after any other error."""
    if error is not None and error.code == StatusCode.UNAVAILABLE:
        endpoint.backoff = min(endpoint.backoff * 2 or eject_time, _MAX_EJECT)
        endpoint.ejected_until = time.monotonic() + endpoint.backoff
        return True
    if error is None:
        endpoint.backoff = 0.0
        endpoint.ejected_until = 0.0
    return False


def _check_policy(policy: str, eject_time: float) -> None:
    if policy not in ("pick_first", "round_robin"):
        raise ValueError("unknown policy %r (pick_first or round_robin)" % policy)
    if eject_time <= 0:
        raise ValueError("eject_time must be positive")


def _endpoint_options(kind: str, names: List[str], options: Dict[str, object]) -> Dict[str, object]:
    """The options of each server's channel: over TLS, a dns:/// target's host name is what the
    servers' certificates are checked against, not the addresses it resolves to."""
    tls = options.get("tls")
    if kind == "dns" and isinstance(tls, TlsOptions):
        return dict(options, tls=tls.named(names[0].rpartition(":")[0]))
    return options


class Channel:
    """A blocking channel over the servers of `target` (see the module's docstring)."""

    def __init__(self, target: str, *, policy: str = "pick_first", eject_time: float = 1.0,
                 **channel_options: object) -> None:
        _check_policy(policy, eject_time)
        self.target = target
        self.policy = policy
        self.eject_time = eject_time
        self._kind, self._names = parse_target(target)
        self._options = _endpoint_options(self._kind, self._names, channel_options)
        self._lock = threading.Lock()
        self._endpoints: Dict[str, _Endpoint[_EndpointChannel]] = {}
        self._order: List[str] = []
        self._turn = itertools.count()
        self._resolved_at = 0.0
        self._closed = False
        self._refresh(force=True)

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            endpoints = list(self._endpoints.values())
            self._endpoints.clear()
            self._order = []
        for endpoint in endpoints:
            endpoint.channel.close()

    @property
    def endpoints(self) -> List[str]:
        with self._lock:
            return list(self._order)

    # -- endpoints -------------------------------------------------------------------------------

    def _refresh(self, force: bool = False) -> None:
        """Resolves a dns: target again (at most once a second unless forced)."""
        now = time.monotonic()
        if not force and (self._kind != "dns" or now - self._resolved_at < _REFRESH_EVERY):
            return
        self._resolved_at = now
        if self._kind == "dns":
            try:
                addresses = _resolve(self._names[0])
            except OSError:
                return  # keep the endpoints we have
        else:
            addresses = list(self._names)
        with self._lock:
            if self._closed:
                return
            for address in addresses:
                if address not in self._endpoints:
                    self._endpoints[address] = _Endpoint(
                        address, _EndpointChannel(address, **self._options))  # type: ignore[arg-type]
            self._order = addresses

    def _pick(self, avoid: List[_Endpoint[_EndpointChannel]]) -> _Endpoint[_EndpointChannel]:
        with self._lock:
            if self._closed:
                raise RpcError(StatusCode.CANCELLED, "channel closed")
            endpoints = [self._endpoints[a] for a in self._order]
            if not endpoints:
                raise UnsentError(StatusCode.UNAVAILABLE, "no endpoint for %s" % self.target)
            return _choose(endpoints, avoid, self.policy, self._turn)

    def _finished(self, endpoint: _Endpoint[_EndpointChannel], error: Optional[RpcError]) -> None:
        with self._lock:
            ejected = _record(endpoint, error, self.eject_time)
        if ejected:
            self._refresh()

    def _each_attempt(self, start):
        """Runs start(channel) on a picked server, again on the next for each UnsentError."""
        tried: List[_Endpoint[_EndpointChannel]] = []
        while True:
            endpoint = self._pick(tried)
            try:
                result = start(endpoint.channel)
            except UnsentError as error:
                self._finished(endpoint, error)
                tried.append(endpoint)
                with self._lock:
                    left = len([a for a in self._order if self._endpoints[a] not in tried])
                if left == 0:
                    raise
                continue
            except RpcError as error:
                self._finished(endpoint, error)
                raise
            self._finished(endpoint, None)
            return result

    # -- calls (framerpc.Channel's) --------------------------------------------------------------

    def unary_call(self, method: str, request: Message, response_class: Type[ResponseT], *,
                   timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                   attachment: BytesLike = b"",
                   context: Optional[ClientContext] = None) -> ResponseT:
        def start(channel: _EndpointChannel) -> ResponseT:
            if context is not None:
                context._used = False  # an unsent attempt did not use it
            return channel.unary_call(method, request, response_class, timeout=timeout,
                                      metadata=metadata, attachment=attachment, context=context)
        return self._each_attempt(start)

    def stream_call(self, method: str, kind: MethodKind, response_class: Type[ResponseT], *,
                    request: Optional[Message] = None,
                    request_class: Optional[Type[Message]] = None,
                    timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                    attachment: BytesLike = b"", context: Optional[ClientContext] = None,
                    window: Optional[int] = None) -> ClientStream[ResponseT]:
        """Streams are sent to a picked server (again on the next while unsent); how they end
        does not eject it."""
        def start(channel: _EndpointChannel) -> ClientStream[ResponseT]:
            if context is not None:
                context._used = False
            return channel.stream_call(method, kind, response_class, request=request,
                                       request_class=request_class, timeout=timeout,
                                       metadata=metadata, attachment=attachment,
                                       context=context, window=window)
        return self._each_attempt(start)
