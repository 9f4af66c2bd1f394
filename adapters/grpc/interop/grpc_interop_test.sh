#!/usr/bin/env bash
# Real gRPC clients framerpc did not write, against the real framerpc_server with the gRPC
# adapter: Python (Debian's python3-grpcio, stubs from protoc and grpc_python_plugin) and Node
# (@grpc/grpc-js and @grpc/proto-loader from npm). Each calls EchoService.Say,
# CommandService.Exec and FileService.Download, plus error statuses and a deadline, on the
# adapter's own port (--grpc_listen) and on the framed port shared with gRPC (--grpc_same_port).
#
# Under bazel test the runfiles are the working directory. By hand, after
# `bazel build //adapters/grpc/interop:grpc_interop_test`:
#   cd bazel-bin/adapters/grpc/interop/grpc_interop_test.runfiles/framerpc &&
#     ../../grpc_interop_test
# Waits are on the server's ready file (bounded polling), never sleeps as synchronisation.
set -euo pipefail

source "$PWD/adapters/grpc/interop/interop_lib.sh"

# The Node client runs from a copy of the package beside a link to the npm packages.
npm_package_dir "$work/npm" grpc_interop.js
pkg="$work/npm"
export NODE_OPTIONS="--preserve-symlinks${NODE_OPTIONS:+ $NODE_OPTIONS}"

# The served tree: a file of 1 MiB + 12345 bytes (several data messages of --file_chunk_bytes,
# and a partial last one), deterministic content that is not a repeating block.
mkdir -p "$work/root/data"
"$python" - "$work/root/data/blob.bin" <<'EOF'
import hashlib, sys
out, block = bytearray(), b"framerpc grpc interop"
while len(out) < (1 << 20) + 12345:
    block = hashlib.sha256(block).digest()
    out += block
with open(sys.argv[1], "wb") as f:
    f.write(out[:(1 << 20) + 12345])
EOF
local_file="$work/root/data/blob.bin"
served_path="data/blob.bin"

start_server --listen=127.0.0.1:0 --grpc_listen=127.0.0.1:0 --grpc_same_port \
  --enable_command_service --command_allow=/bin/echo,/bin/cat,/usr/bin/seq --trust_local_peers \
  --file_root="$work/root" --file_chunk_bytes=65536 \
  --io_threads=2 --shutdown_grace=5s
framed=$(head -n 1 "$work/ready")
grpc=$(sed -n 's/^grpc://p' "$work/ready")
[ -n "$framed" ] && [ -n "$grpc" ] || fail "unexpected ready file: $(cat "$work/ready")"
echo "server: framed and gRPC on $framed, gRPC alone on $grpc"

for address in "$grpc" "$framed"; do
  echo "--- python grpcio -> $address"
  PYTHONPATH="$stubs" "$python" "$here/grpc_interop.py" "$address" "$served_path" "$local_file" ||
    fail "python client against $address"
  echo "--- node @grpc/grpc-js -> $address"
  "$node" "$pkg/grpc_interop.js" "$PWD" "$address" "$served_path" \
    "$local_file" || fail "node client against $address"
done

# Commands ended by a deadline are killed and reaped: the server is left with no children.
for _ in $(seq 200); do
  [ -z "$(pgrep -P "$server_pid" || true)" ] && break
  sleep 0.05
done
children=$(pgrep -a -P "$server_pid" || true)
[ -z "$children" ] || fail "commands still running under the server: $children"

kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[ "$rc" -eq 0 ] || fail "server exited with $rc: $(cat "$work/server.err")"
grep -q "framerpc_server: stopped" "$work/server.out" || fail "no graceful stop: $(cat "$work/server.out")"
echo "PASS: python and node gRPC clients through the adapter, on its own port and the shared one"
