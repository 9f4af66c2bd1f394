#!/usr/bin/python3
"""Regenerates framerpc/envelope_pb2.py and its type stub envelope_pb2.pyi from
transport/envelope.proto with protoc --python_out and --pyi_out.

    /usr/bin/python3 clients/python/gen_envelope.py [--check] [--protoc PATH]

The files are committed so that the package imports with nothing but /usr/bin/python3 and
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
OUTPUTS = ("envelope_pb2.py", "envelope_pb2.pyi")


def generate(protoc):
    """{file name: text} of what protoc makes."""
    texts = {}
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([protoc, "-I" + REPO, "--python_out=" + out, "--pyi_out=" + out,
                        "transport/envelope.proto"], check=True)
        for name in OUTPUTS:
            with open(os.path.join(out, "transport", name), encoding="utf-8") as f:
                texts[name] = f.read()
    old = "'transport.envelope_pb2'"
    if old not in texts["envelope_pb2.py"]:
        raise SystemExit("gen_envelope: protoc output changed shape: no %s in it" % old)
    texts["envelope_pb2.py"] = texts["envelope_pb2.py"].replace(old, "'framerpc.envelope_pb2'")
    return texts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protoc", default="/usr/bin/protoc")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    texts = generate(args.protoc)
    for name, text in texts.items():
        target = os.path.join(HERE, "framerpc", name)
        if args.check:
            with open(target, encoding="utf-8") as f:
                if f.read() != text:
                    print("framerpc/%s is out of date: run clients/python/gen_envelope.py" % name)
                    return 1
            print("framerpc/%s is up to date" % name)
        else:
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
