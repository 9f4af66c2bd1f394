#!/bin/sh
# Runs the Python client's tests with /usr/bin/python3:
#
#   clients/python/tests/run_tests.sh [unittest arguments, e.g. test_codec or -k Streaming]
#
# Under Bazel (sh_test) the generated modules come from //clients/python:py_gen; by hand they are
# generated here with protoc and our plugin. The interop tests need FRAMERPC_SERVER (the path of
# framerpc_server), which their Bazel target sets.
set -eu
if [ -n "${TEST_SRCDIR:-}" ]; then  # bazel test: $0 is the target's name, not this file
  root="$TEST_SRCDIR/${TEST_WORKSPACE:-framerpc}"
else
  root=$(cd "$(dirname "$0")/../../.." && pwd)
fi
python_dir="$root/clients/python"
here="$python_dir/tests"
gen="$python_dir/py_gen"
if [ ! -d "$gen" ]; then
  gen=$(mktemp -d "${TMPDIR:-/tmp}/frpcpy-gen.XXXXXX")
  trap 'rm -rf "$gen"' EXIT
  /usr/bin/protoc -I"$here" -I"$root" \
    --plugin=protoc-gen-frpcpy="$python_dir/protoc_gen_frpc_py.py" \
    --python_out="$gen" --frpcpy_out="$gen" stream_test.proto proto/echo.proto \
    services/command/command.proto services/file/file.proto
fi
if [ -z "${FRAMERPC_SERVER:-}" ]; then
  for candidate in "$root/server/framerpc_server" "$root/bazel-bin/server/framerpc_server"; do
    if [ -f "$candidate" ] && [ -x "$candidate" ]; then FRAMERPC_SERVER=$candidate; break; fi
  done
fi
if [ -z "${FRAMERPC_STREAM_SERVER:-}" ]; then
  for candidate in "$python_dir/stream_interop_server" \
      "$root/bazel-bin/clients/python/stream_interop_server"; do
    if [ -f "$candidate" ] && [ -x "$candidate" ]; then FRAMERPC_STREAM_SERVER=$candidate; break; fi
  done
fi
if [ -n "${FRAMERPC_STREAM_SERVER:-}" ]; then
  FRAMERPC_STREAM_SERVER=$(cd "$(dirname "$FRAMERPC_STREAM_SERVER")" && pwd)/$(basename "$FRAMERPC_STREAM_SERVER")
  export FRAMERPC_STREAM_SERVER
fi
if [ -n "${FRAMERPC_SERVER:-}" ]; then
  FRAMERPC_SERVER=$(cd "$(dirname "$FRAMERPC_SERVER")" && pwd)/$(basename "$FRAMERPC_SERVER")
  export FRAMERPC_SERVER
fi
export FRAMERPC_VECTORS="$root/tests/vectors"
cd "$here"
PYTHONPATH="$python_dir:$gen:$here" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest "$@"
