# Sourced by the gRPC interop tests (grpc_interop_test.sh, grpc_tls_interop_test.sh), from their
# runfiles: what both need before and around a real framerpc_server.
#
# Sets: server, stubs, here, python, node, modules (the npm packages, @grpc_interop_node_modules
# from tools/npm_package.bzl), work (a temporary directory removed at exit, with the server
# killed if still running). Functions: fail, npm_package_dir, start_server.

fail() {
  echo "FAIL: $*" >&2
  if [ -n "${work:-}" ] && [ -s "$work/server.err" ]; then
    echo "--- server stderr:" >&2
    cat "$work/server.err" >&2
  fi
  exit 1
}

server="$PWD/server/framerpc_server"
stubs="$PWD/adapters/grpc/interop/py"
here="$PWD/adapters/grpc/interop"
[ -x "$server" ] || fail "no $server (run from the test's runfiles)"

# The clients' prerequisites, each failing with what to install (never a silent skip).
python=/usr/bin/python3
"$python" -c 'import grpc, google.protobuf' 2>/dev/null ||
  fail "$python cannot import grpc: run scripts/install-deps.sh (python3-grpcio, python3-protobuf)"
node=$(command -v node || true)
[ -n "$node" ] || fail "node is not installed: run scripts/install-deps.sh"
modules="${TEST_SRCDIR:-$PWD/..}/grpc_interop_node_modules/node_modules"

work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/grpc_interop.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# npm_package_dir DIR [FILE...]: DIR holds the package files and FILEs (from $here) beside a link
# to the npm packages, which are checked against package-lock.json. Node must then run with
# --preserve-symlinks, so that every module is resolved inside the runfiles.
npm_package_dir() {
  local dir=$1
  shift
  mkdir -p "$dir"
  local file
  for file in package.json package-lock.json "$@"; do cp -L "$here/$file" "$dir/"; done
  ln -s "$modules" "$dir/node_modules"
  "$node" "$PWD/clients/node/scripts/check-node-modules.js" "$dir" adapters/grpc/interop ||
    fail "npm packages missing"
}

# start_server ARG...: runs framerpc_server with ARGs and --ready_file, in the background
# (server_pid), and waits up to 30 s for its ready file, renamed into place whole once every port
# is bound (bounded polling, not a sleep as synchronisation). Its lines: the --listen addresses,
# then udp:..., then grpc:HOST:PORT for --grpc_listen.
start_server() {
  "$server" "$@" --ready_file="$work/ready" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 600); do
    [ -f "$work/ready" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "server exited: $(cat "$work/server.err")"
    sleep 0.05
  done
  [ -f "$work/ready" ] || fail "no ready file after 30 s: $(cat "$work/server.err")"
}
