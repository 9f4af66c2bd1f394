"""framerpc: a Python client for the framerpc wire protocol (docs/protocol.md).

    import framerpc
    from proto import echo_pb2, echo_frpc      # protoc --python_out and --frpcpy_out

    with framerpc.Channel("127.0.0.1:7000") as channel:
        stub = echo_frpc.EchoServiceStub(channel)
        print(stub.Say(echo_pb2.SayRequest(text="hi"), timeout=1.0).text)

Blocking API here; the asyncio API is framerpc.aio. Only the standard library and python3-protobuf
are needed. See docs/clients.md.
"""
from ._core import INITIAL_WINDOW, MethodInfo, MethodKind
from .channel import Channel, ClientContext, ClientStream
from .codec import (DEFAULT_LIMITS, Frame, FrameDecoder, FrameLimits, decode_frame,
                    encode_frame)
from .status import FrameError, RpcError, StatusCode, UnsentError
from .tls import TlsOptions

__all__ = [
    "Channel", "ClientContext", "ClientStream", "DEFAULT_LIMITS", "Frame", "FrameDecoder",
    "FrameError", "FrameLimits", "INITIAL_WINDOW", "MethodInfo", "MethodKind", "RpcError", "StatusCode",
    "TlsOptions", "UnsentError", "decode_frame", "encode_frame",
]
