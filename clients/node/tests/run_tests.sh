#!/bin/sh
# Runs the Node client's tests with node's built-in test runner:
#
#   clients/node/tests/run_tests.sh codec client plugin interop    # tests/<name>.test.js
#
# The package's node_modules come from scripts/install-deps.sh (npm ci in clients/node). Under
# `bazel test` they are a declared input (@framerpc_node_modules, tools/npm_package.bzl): the
# package's files are copied from the runfiles into a temporary directory beside a link to that
# node_modules, so that modules are found through the declared files, not beside the source
# tree's package.json. (Not --preserve-symlinks: the examples link their generated code to the
# package, which would then load twice.) Stubs
# for proto/echo.proto and tests/test_service.proto are generated here, with protoc and
# protoc-gen-frpcjs. The interop tests need FRAMERPC_SERVER and FRAMERPC_INTEROP_SERVER (paths),
# which their Bazel target sets.
set -eu
if [ -n "${TEST_SRCDIR:-}" ]; then  # bazel test: $0 is the target's name, not this file
  root="$TEST_SRCDIR/${TEST_WORKSPACE:-framerpc}"
else
  root=$(cd "$(dirname "$0")/../../.." && pwd)
fi
node=$(command -v node || true)
if [ -z "$node" ]; then
  echo "run_tests.sh: node is not installed; run scripts/install-deps.sh" >&2
  exit 1
fi
tmp=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/frpcjs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ -n "${TEST_SRCDIR:-}" ]; then
  # As node_modules/framerpc, so that the generated code's require("framerpc") finds it.
  pkg="$tmp/node_modules/framerpc"
  mkdir -p "$pkg"
  for entry in lib bin tests scripts examples package.json package-lock.json README.md; do
    cp -RL "$root/clients/node/$entry" "$pkg/"
  done
  ln -s "$TEST_SRCDIR/framerpc_node_modules/node_modules" "$pkg/node_modules"
else
  pkg="$root/clients/node"
fi
if ! "$node" "$pkg/scripts/check-node-modules.js" "$pkg" clients/node; then
  exit 1
fi
gen="$tmp/gen"
mkdir -p "$gen"
if [ -z "${TEST_SRCDIR:-}" ]; then
  mkdir -p "$gen/node_modules"
  ln -s "$pkg" "$gen/node_modules/framerpc"  # the generated code requires "framerpc"
fi
protoc -I"$root" --plugin=protoc-gen-frpcjs="$pkg/bin/protoc-gen-frpcjs.js" --frpcjs_out="$gen" \
  proto/echo.proto clients/node/tests/test_service.proto services/command/command.proto \
  services/file/file.proto
if [ -z "${FRAMERPC_SERVER:-}" ]; then
  for candidate in "$root/server/framerpc_server" "$root/bazel-bin/server/framerpc_server"; do
    if [ -f "$candidate" ] && [ -x "$candidate" ]; then FRAMERPC_SERVER=$candidate; break; fi
  done
fi
if [ -z "${FRAMERPC_INTEROP_SERVER:-}" ]; then
  for candidate in "$root/clients/node/interop_server" "$root/bazel-bin/clients/node/interop_server"; do
    if [ -f "$candidate" ] && [ -x "$candidate" ]; then FRAMERPC_INTEROP_SERVER=$candidate; break; fi
  done
fi
for var in FRAMERPC_SERVER FRAMERPC_INTEROP_SERVER; do
  eval "value=\${$var:-}"
  if [ -n "$value" ]; then
    eval "export $var=\$(cd \"\$(dirname \"\$value\")\" && pwd)/\$(basename \"\$value\")"
  fi
done
export FRAMERPC_ROOT="$root" FRAMERPC_GEN="$gen" FRAMERPC_PROTOC_PLUGIN="$pkg/bin/protoc-gen-frpcjs.js"
files=""
for name in "$@"; do
  files="$files $pkg/tests/$name.test.js"
done
cd "$tmp"
# shellcheck disable=SC2086
exec "$node" --test --test-concurrency=1 --test-timeout="${FRAMERPC_TEST_TIMEOUT_MS:-60000}" $files
