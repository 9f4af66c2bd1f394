"""The file service's checksums (docs/file_service.md, "Checksums"): one chosen per transfer,
XXH3-128 by default and SHA-256 on request.

    hasher = framerpc.checksum.new_hasher("xxh3")   # or "sha256"
    hasher.update(data); hasher.digest()             # 16 or 32 bytes

XXH3-128 needs python3-xxhash (Debian's, imported only when asked for): its xxh3_128 digest is
the canonical form the server sends (the high 64 bits first, big-endian), the bytes whose hex
xxh128sum prints. SHA-256 is hashlib's. The values are file.proto's ChecksumAlgorithm.
"""
import hashlib

XXH3 = "xxh3"
SHA256 = "sha256"
NAMES = (XXH3, SHA256)

# file.proto's ChecksumAlgorithm.
CHECKSUM_UNSPECIFIED = 0
CHECKSUM_SHA256 = 1
CHECKSUM_XXH3_128 = 2

_PROTO = {XXH3: CHECKSUM_XXH3_128, SHA256: CHECKSUM_SHA256}
_TITLES = {XXH3: "XXH3-128", SHA256: "SHA-256"}


def _check(name):
    if name not in _PROTO:
        raise ValueError("checksum must be xxh3 or sha256, not %r" % (name,))


def new_hasher(name):
    """A running hash (update, digest, hexdigest) in `name`'s algorithm."""
    _check(name)
    if name == SHA256:
        return hashlib.sha256()
    try:
        import xxhash  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise RuntimeError("XXH3-128 needs python3-xxhash (apt-get install python3-xxhash); "
                           "or use the sha256 checksum") from error
    return xxhash.xxh3_128()


def proto_value(name):
    """The ChecksumAlgorithm value that asks for `name`."""
    _check(name)
    return _PROTO[name]


def title(name):
    """"XXH3-128" or "SHA-256", as the server's messages name them."""
    _check(name)
    return _TITLES[name]


def answered(header_checksum, asked):
    """The algorithm of a download's trailer, from its header's echo: `asked`, or SHA-256 (in
    trailer.sha256) from a server older than the choice, which echoes nothing."""
    if header_checksum == CHECKSUM_UNSPECIFIED:
        return SHA256
    if header_checksum != proto_value(asked):
        raise RuntimeError("the server answered with checksum algorithm %d, not %s"
                           % (header_checksum, title(asked)))
    return asked


def trailer_digest(trailer, header_checksum):
    """The digest a download's trailer carries for its data, in the algorithm answered()
    returns for `header_checksum`."""
    if header_checksum == CHECKSUM_UNSPECIFIED:
        return trailer.sha256
    return trailer.checksum.digest
