"""Canonical status codes (docs/protocol.md §10) and the exception that carries them."""
from __future__ import annotations

import enum


class StatusCode(enum.IntEnum):
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def from_wire(cls, value: int) -> StatusCode:
        """A status_code from the wire: a value outside 0..16 reads as UNKNOWN (§8.3)."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


class RpcError(Exception):
    """A call ended with a non-OK status: `code` (a StatusCode) and the exact `message`."""

    code: StatusCode
    message: str

    def __init__(self, code: int, message: str) -> None:
        self.code = StatusCode(code)
        self.message = message
        super().__init__("%s: %s" % (self.code.name, message))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, RpcError) and self.code == other.code
                and self.message == other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return "RpcError(StatusCode.%s, %r)" % (self.code.name, self.message)


def fresh(error: RpcError) -> RpcError:
    """A new exception equal to `error`, to raise in its place. Raising one instance again and
    again would chain each raise's traceback onto it (keeping every earlier frame alive), and
    share it between the threads that raise it."""
    return type(error)(error.code, error.message)


class UnsentError(RpcError):
    """An UNAVAILABLE call that provably reached no handler (its connection could not be made, or
    the server's GOAWAY refused it): safe to send to another server whatever the method, as
    framerpc.balanced.Channel does."""


class FrameError(RpcError):
    """The frame codec rejected bytes or a frame: the stream is corrupt, or a limit is broken."""
