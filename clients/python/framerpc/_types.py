"""Type aliases of the public API (PEP 484; the package ships py.typed)."""
from typing import Iterable, Mapping, Tuple, TypeVar, Union

from google.protobuf.message import Message

MetadataKey = Union[str, bytes]
MetadataValue = Union[str, bytes]
# A mapping, or (key, value) pairs when a key repeats.
Metadata = Union[Mapping[MetadataKey, MetadataValue], Iterable[Tuple[MetadataKey, MetadataValue]]]
BytesLike = Union[bytes, bytearray, memoryview]
# A response message class, and the type of what a call returns.
ResponseT = TypeVar("ResponseT", bound=Message)
