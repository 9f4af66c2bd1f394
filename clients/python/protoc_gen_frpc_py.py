#!/usr/bin/python3
"""protoc-gen-frpcpy from the source tree (framerpc/protoc_gen.py; installed, the package's
console script protoc-gen-frpc-py):

    protoc --plugin=protoc-gen-frpcpy=clients/python/protoc_gen_frpc_py.py \
        --python_out=OUT --frpcpy_out=OUT -I. proto/echo.proto
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from framerpc.protoc_gen import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
