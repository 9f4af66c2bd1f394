#!/bin/sh
# Runs the Python client's tests with /usr/bin/python3:
#
#   clients/python/tests/run_tests.sh [unittest arguments, e.g. test_codec or -k Streaming]
#
# Under Bazel (sh_test) the generated modules come from //clients/python:py_gen; by hand they are
# generated here with protoc and our plugin. The interop tests need FRAMERPC_SERVER (the path of
# framerpc_server), which their Bazel target sets.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python_dir=$(dirname "$here")
root=$(dirname "$(dirname "$python_dir")")
gen="$python_dir/py_gen"
if [ ! -d "$gen" ]; then
  gen=$(mktemp -d "${TMPDIR:-/tmp}/frpcpy-gen.XXXXXX")
  trap 'rm -rf "$gen"' EXIT
  /usr/bin/protoc -I"$here" -I"$root" \
    --plugin=protoc-gen-frpcpy="$python_dir/protoc_gen_frpc_py.py" \
    --python_out="$gen" --frpcpy_out="$gen" stream_test.proto proto/echo.proto
fi
if [ -n "${FRAMERPC_SERVER:-}" ]; then
  FRAMERPC_SERVER=$(cd "$(dirname "$FRAMERPC_SERVER")" && pwd)/$(basename "$FRAMERPC_SERVER")
  export FRAMERPC_SERVER
fi
export FRAMERPC_VECTORS="$root/tests/vectors"
cd "$here"
PYTHONPATH="$python_dir:$gen:$here" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest "$@"
