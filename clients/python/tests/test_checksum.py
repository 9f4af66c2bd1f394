"""framerpc.checksum against the shared golden vectors (tests/vectors/checksums.json, which the
C++ library is checked against too), whole and in uneven pieces; the names and proto values; the
algorithm a download header announces."""
import json
import os
import unittest
from types import SimpleNamespace

from framerpc import checksum

VECTORS = os.environ.get("FRAMERPC_VECTORS",
                         os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests",
                                      "vectors"))


def load():
    with open(os.path.join(VECTORS, "checksums.json"), encoding="utf-8") as f:
        return json.load(f)


def data_of(vector):
    if "text" in vector:
        return vector["text"].encode()
    return bytes(i % 251 for i in range(vector["size"]))


class ChecksumTest(unittest.TestCase):
    def test_golden_vectors(self):
        golden = load()
        self.assertEqual(golden["format"], 1)
        self.assertGreaterEqual(len(golden["vectors"]), 20)
        for vector in golden["vectors"]:
            data = data_of(vector)
            for name, key in ((checksum.XXH3, "xxh3_128"), (checksum.SHA256, "sha256")):
                with self.subTest(vector=vector["name"], algorithm=name):
                    whole = checksum.new_hasher(name)
                    whole.update(data)
                    self.assertEqual(whole.hexdigest(), vector[key])
                    pieces = checksum.new_hasher(name)
                    at, step = 0, 1
                    while at < len(data):
                        pieces.update(data[at:at + step])
                        at, step = at + step, step * 5 % 1031 + 1
                    self.assertEqual(pieces.digest().hex(), vector[key])

    def test_names_and_proto_values(self):
        self.assertEqual(checksum.proto_value("xxh3"), 2)
        self.assertEqual(checksum.proto_value("sha256"), 1)
        self.assertEqual(checksum.title("xxh3"), "XXH3-128")
        self.assertEqual(len(checksum.new_hasher("xxh3").digest()), 16)
        with self.assertRaisesRegex(ValueError, "checksum must be xxh3 or sha256, not 'md5'"):
            checksum.new_hasher("md5")

    def test_the_header_says_which_digest_the_trailer_carries(self):
        self.assertEqual(checksum.answered(2, "xxh3"), "xxh3")
        self.assertEqual(checksum.answered(0, "xxh3"), "sha256")  # a server from before
        with self.assertRaisesRegex(RuntimeError, "algorithm 1, not XXH3-128"):
            checksum.answered(1, "xxh3")
        trailer = SimpleNamespace(sha256=b"s", checksum=SimpleNamespace(digest=b"x"))
        self.assertEqual(checksum.trailer_digest(trailer, 2), b"x")
        self.assertEqual(checksum.trailer_digest(trailer, 1), b"x")
        self.assertEqual(checksum.trailer_digest(trailer, 0), b"s")


if __name__ == "__main__":
    unittest.main()
