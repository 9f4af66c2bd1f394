"""An asyncio channel over several framerpc servers: framerpc.balanced.Channel for
framerpc.aio, with the same targets, policies and failover, and the same call methods as
framerpc.aio.Channel, so generated async stubs take it.

    async with framerpc.aio_balanced.Channel("ipv4:10.0.0.1:7000,10.0.0.2:7000",
                                             policy="round_robin") as channel:
        reply = await echo_frpc.EchoServiceAsyncStub(channel).Say(SayRequest(text="hi"))

Targets: "ipv4:a:p,b:p", "ipv6:[a]:p,[b]:p", "a:p,b:p", or "dns:///host:port" (resolved on the
first call, and again, at most once a second, after a failure). Policies: "pick_first" (the
default) and "round_robin". A call that ends UNAVAILABLE ejects its server for `eject_time`
seconds (doubling after each further failure, up to two minutes; a success re-admits it). A
call whose REQUEST was never written (its connection could not be made, or was lost before it was
written) is sent to the next server at once, whatever the method, as gRPC's transparent retry;
when no server is left it raises framerpc.UnsentError. Calls in flight on a server that dies
fail with UNAVAILABLE: they may have run.

Each server has a framerpc.aio.Channel of its own. As framerpc.aio.Channel, every method must be
called from the event loop the channel first ran on.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from typing import Dict, List, Optional, Type

from google.protobuf.message import Message

from ._core import MethodKind
from ._types import BytesLike, Metadata, ResponseT
from .aio import Channel as _EndpointChannel
from .aio import ClientStream
from .balanced import (_REFRESH_EVERY, _check_policy, _choose, _Endpoint, _endpoint_options,
                       _record, _resolve, parse_target)
from .channel import ClientContext, make_context
from .status import RpcError, StatusCode, UnsentError


class Channel:
    """An asyncio channel over the servers of `target` (see the module's docstring)."""

    def __init__(self, target: str, *, policy: str = "pick_first", eject_time: float = 1.0,
                 **channel_options: object) -> None:
        _check_policy(policy, eject_time)
        self.target = target
        self.policy = policy
        self.eject_time = eject_time
        self._kind, self._names = parse_target(target)
        self._options = _endpoint_options(self._kind, self._names, channel_options)
        self._endpoints: Dict[str, _Endpoint[_EndpointChannel]] = {}
        self._order: List[str] = []
        self._turn = itertools.count()
        self._resolved_at: Optional[float] = None
        self._closed = False
        if self._kind == "static":
            self._update(list(self._names))

    async def __aenter__(self) -> Channel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes every server's channel (their calls in flight fail with CANCELLED)."""
        self._closed = True
        endpoints = list(self._endpoints.values())
        self._endpoints.clear()
        self._order = []
        for endpoint in endpoints:
            await endpoint.channel.close()

    @property
    def endpoints(self) -> List[str]:
        return list(self._order)

    # -- endpoints -------------------------------------------------------------------------------

    def _update(self, addresses: List[str]) -> None:
        for address in addresses:
            if address not in self._endpoints:
                self._endpoints[address] = _Endpoint(
                    address, _EndpointChannel(address, **self._options))  # type: ignore[arg-type]
        self._order = addresses

    async def _refresh(self) -> None:
        """Resolves a dns: target (at once the first time, then at most once a second)."""
        now = time.monotonic()
        if self._kind != "dns" or (self._resolved_at is not None
                                   and now - self._resolved_at < _REFRESH_EVERY):
            return
        self._resolved_at = now
        try:
            addresses = await asyncio.get_running_loop().run_in_executor(
                None, _resolve, self._names[0])
        except OSError:
            return  # keep the endpoints we have
        if not self._closed:
            self._update(addresses)

    async def _pick(self, avoid: List[_Endpoint[_EndpointChannel]]) -> _Endpoint[_EndpointChannel]:
        if self._closed:
            raise RpcError(StatusCode.CANCELLED, "channel closed")
        if self._resolved_at is None:
            await self._refresh()
        endpoints = [self._endpoints[a] for a in self._order]
        if not endpoints:
            raise UnsentError(StatusCode.UNAVAILABLE, "no endpoint for %s" % self.target)
        return _choose(endpoints, avoid, self.policy, self._turn)

    async def _finished(self, endpoint: _Endpoint[_EndpointChannel],
                        error: Optional[RpcError]) -> None:
        if _record(endpoint, error, self.eject_time):
            await self._refresh()

    async def _each_attempt(self, context: ClientContext, start):
        """Awaits start(channel) on a picked server, again on the next while the REQUEST was
        never written (context._sent unset after UNAVAILABLE)."""
        tried: List[_Endpoint[_EndpointChannel]] = []
        while True:
            endpoint = await self._pick(tried)
            context._used = False  # an unsent attempt did not use it
            try:
                result = await start(endpoint.channel)
            except RpcError as error:
                await self._finished(endpoint, error)
                unsent = error.code == StatusCode.UNAVAILABLE and not context._sent.is_set()
                if not unsent or context.cancelled:
                    raise
                tried.append(endpoint)
                if not [a for a in self._order if self._endpoints[a] not in tried]:
                    raise UnsentError(error.code, error.message) from error
                continue
            await self._finished(endpoint, None)
            return result

    # -- calls (framerpc.aio.Channel's) ----------------------------------------------------------

    async def unary_call(self, method: str, request: Message, response_class: Type[ResponseT], *,
                         timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                         attachment: BytesLike = b"",
                         context: Optional[ClientContext] = None) -> ResponseT:
        context = make_context(context, timeout, metadata, attachment)

        async def start(channel: _EndpointChannel) -> ResponseT:
            return await channel.unary_call(method, request, response_class, context=context)
        return await self._each_attempt(context, start)

    async def stream_call(self, method: str, kind: MethodKind, response_class: Type[ResponseT], *,
                          request: Optional[Message] = None,
                          request_class: Optional[Type[Message]] = None,
                          timeout: Optional[float] = None, metadata: Optional[Metadata] = None,
                          attachment: BytesLike = b"", context: Optional[ClientContext] = None,
                          window: Optional[int] = None) -> ClientStream[ResponseT]:
        """Streams go to a picked server (again on the next while unsent); how they end does not
        eject it."""
        context = make_context(context, timeout, metadata, attachment)

        async def start(channel: _EndpointChannel) -> ClientStream[ResponseT]:
            return await channel.stream_call(method, kind, response_class, request=request,
                                             request_class=request_class, context=context,
                                             window=window)
        return await self._each_attempt(context, start)
