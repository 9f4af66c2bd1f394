#!/usr/bin/python3
"""Regenerates framerpc/envelope_pb2.py from proto/envelope.proto with protoc --python_out.

    /usr/bin/python3 clients/python/gen_envelope.py [--check] [--protoc PATH]

The file is committed so that the package imports with nothing but /usr/bin/python3 and
python3-protobuf; //clients/python:envelope_up_to_date_test runs this with --check. The only
change to protoc's output is the module name, which protoc derives from the .proto path.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGET = os.path.join(HERE, "framerpc", "envelope_pb2.py")


def generate(protoc):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([protoc, "-I" + REPO, "--python_out=" + out, "proto/envelope.proto"],
                       check=True)
        with open(os.path.join(out, "proto", "envelope_pb2.py"), encoding="utf-8") as f:
            text = f.read()
    old = "'proto.envelope_pb2'"
    if old not in text:
        raise SystemExit("gen_envelope: protoc output changed shape: no %s in it" % old)
    return text.replace(old, "'framerpc.envelope_pb2'")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protoc", default="/usr/bin/protoc")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = generate(args.protoc)
    if args.check:
        with open(TARGET, encoding="utf-8") as f:
            if f.read() != text:
                print("framerpc/envelope_pb2.py is out of date: run clients/python/gen_envelope.py")
                return 1
        print("framerpc/envelope_pb2.py is up to date")
        return 0
    with open(TARGET, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
