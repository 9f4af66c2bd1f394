from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ACK: FrameFlag
CANCEL: FrameKind
CONNECTION_ERROR: FrameKind
DESCRIPTOR: _descriptor.FileDescriptor
END_OF_STREAM: FrameFlag
FRAME_FLAG_NONE: FrameFlag
FRAME_KIND_UNSPECIFIED: FrameKind
GOAWAY: FrameKind
PING: FrameKind
REQUEST: FrameKind
RESPONSE: FrameKind
STREAM_MESSAGE: FrameKind
WINDOW_UPDATE: FrameKind

class Envelope(_message.Message):
    __slots__ = ["attachment_size", "call_id", "flags", "kind", "last_call_id", "metadata", "method", "ping_data", "status_code", "status_message", "timeout_us", "window_update"]
    ATTACHMENT_SIZE_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAST_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PING_DATA_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_US_FIELD_NUMBER: _ClassVar[int]
    WINDOW_UPDATE_FIELD_NUMBER: _ClassVar[int]
    attachment_size: int
    call_id: int
    flags: int
    kind: FrameKind
    last_call_id: int
    metadata: _containers.RepeatedCompositeFieldContainer[MetadataEntry]
    method: bytes
    ping_data: int
    status_code: int
    status_message: bytes
    timeout_us: int
    window_update: int
    def __init__(self, kind: _Optional[_Union[FrameKind, str]] = ..., call_id: _Optional[int] = ..., method: _Optional[bytes] = ..., timeout_us: _Optional[int] = ..., status_code: _Optional[int] = ..., status_message: _Optional[bytes] = ..., flags: _Optional[int] = ..., metadata: _Optional[_Iterable[_Union[MetadataEntry, _Mapping]]] = ..., attachment_size: _Optional[int] = ..., window_update: _Optional[int] = ..., last_call_id: _Optional[int] = ..., ping_data: _Optional[int] = ...) -> None: ...

class MetadataEntry(_message.Message):
    __slots__ = ["key", "value"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: bytes
    value: bytes
    def __init__(self, key: _Optional[bytes] = ..., value: _Optional[bytes] = ...) -> None: ...

class FrameKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class FrameFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
